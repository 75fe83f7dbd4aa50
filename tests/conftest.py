import uuid

import pytest

from affiliate_matrix.config import Settings
from tests.support.processes import start_moto, start_opensearch


@pytest.fixture(autouse=True)
def event_issuer(monkeypatch):
    """Every function under test takes events from the test issuer (tests/support/events.py), routed
    as manifests/base routes them."""
    from tests.support.events import issuer
    from tests.support.processes import ROOT

    monkeypatch.setenv("AMX_EVENTS_OIDC_DISCOVERY_URL", issuer().discovery_url)
    monkeypatch.setenv("AMX_EVENTS_ROUTES", str(ROOT / "manifests" / "base"))
    return issuer()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def opensearch_node(tmp_path_factory):
    server = start_opensearch(tmp_path_factory.mktemp("opensearch"))
    yield server
    server.stop()


@pytest.fixture
def s3_settings(moto_server, request):
    """Settings for a fresh bucket on the moto_server process."""
    import boto3

    bucket = f"t-{uuid.uuid4().hex}"
    s3 = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket=bucket)
    return Settings(object_store="s3", s3_endpoint_url=moto_server.url, s3_bucket=bucket,
                    s3_access_key_id="test", s3_secret_access_key="test")


VAULT_ROOT_TOKEN = "root-token-for-tests"
VAULT_ROLE, VAULT_JWT = "fn-scrape", "eyJhbGciOiJSUzI1NiJ9.service-account-jwt-for-tests"


@pytest.fixture(scope="session")
def vault_api(tmp_path_factory):
    """The in-repo Vault-API server (no real Vault can run here), with short-lived login tokens."""
    from tests.support.processes import start_vault_api

    server = start_vault_api(tmp_path_factory.mktemp("vault"), VAULT_ROOT_TOKEN, {VAULT_ROLE: VAULT_JWT}, token_ttl=2)
    yield server
    server.stop()
