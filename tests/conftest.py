import os
import time
import uuid

import pytest

from affiliate_matrix.config import Settings
from tests.support.processes import start_moto, start_openbao, start_opensearch, start_s3proxy

S3_KEY_ID, S3_SECRET = "test", "test"

# A terminal's size is each test's to set (monkeypatch.setenv("COLUMNS", …)): pytest-xdist's workers start with
# COLUMNS=80 and LINES=24 in their environment, and the CLI's rich console, built at import, would keep that size.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)


def pytest_terminal_summary(terminalreporter, config):
    """The tests run in random order (pytest-randomly): its seed, last and even under -q, replays a failure. Under
    pytest-xdist each worker takes the tests of that order as it frees up, so one process (-n 0) replays the order
    itself, not which worker ran what beside what."""
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and getattr(config.option, "randomly_reorganize", True):
        terminalreporter.write_line(f"random order (seed {seed}); replay it in one process with: "
                                    f"pytest -n 0 -p randomly --randomly-seed={seed}")


@pytest.fixture(autouse=True)
def event_issuer(monkeypatch):
    """Every function under test takes events from the test issuer (tests/support/events.py), routed
    as manifests/base routes them."""
    from tests.support.events import issuer
    from tests.support.processes import ROOT

    monkeypatch.setenv("AMX_EVENTS_OIDC_DISCOVERY_URL", issuer().discovery_url)
    monkeypatch.setenv("AMX_EVENTS_ROUTES", str(ROOT / "manifests" / "base"))
    return issuer()


@pytest.fixture(autouse=True)
def published_data_a_dry_run_takes(monkeypatch):
    """Each event the product publishes on the in-process bus in a test holds data a dry run of it takes
    (rules/event_data.py's models of each trigger's data, written beside the publishers): a publisher given a field, or
    a type, its model lacks fails the test that published it, not a user's dry run of a real event later. Events a test
    publishes itself (hand-made, hostile) are not checked."""
    import sys

    from affiliate_matrix.events.inprocess import InProcessBus
    from affiliate_matrix.rules.event_data import EVENT_DATA, data_problem

    problems, publish = [], InProcessBus.publish

    def checked(self, event):
        trigger = event.type.removeprefix("dev.affiliatematrix.")
        if (trigger in EVENT_DATA and isinstance(event.data, dict)
                and sys._getframe(1).f_globals.get("__name__", "").startswith("affiliate_matrix")
                and (problem := data_problem(trigger, event.data))):
            problems.append(f"{event.type}: {problem}")
        return publish(self, event)

    monkeypatch.setattr(InProcessBus, "publish", checked)
    yield
    assert not problems, problems


@pytest.fixture
def in_tokyo(monkeypatch):
    """The machine's zone nine hours east of UTC, where a time read in it is not the time read in UTC."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "JST-9")
        time.tzset()
        yield
    time.tzset()


@pytest.fixture(autouse=True)
def logging_as_found():
    """Each test leaves structlog as it found it: a CLI command run in process sets the level to warning, and a
    later test capturing info lines (structlog's capture_logs keeps the level filter) would see none; and it starts
    without a count of document.damaged lines that another test's request or runtime started in this context."""
    import structlog

    from affiliate_matrix import observability

    saved = structlog.get_config()
    observability._damaged_logged.set(None)
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3proxy(tmp_path_factory):
    server = start_s3proxy(tmp_path_factory.mktemp("s3proxy"), S3_KEY_ID, S3_SECRET)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def opensearch_node(tmp_path_factory):
    server = start_opensearch(tmp_path_factory.mktemp("opensearch"))
    yield server
    server.stop()


def fresh_bucket(url: str) -> Settings:
    """Settings for a new, empty bucket on the S3 server at `url`."""
    import boto3

    bucket = f"t-{uuid.uuid4().hex}"
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET)
    s3.create_bucket(Bucket=bucket)
    return Settings(object_store="s3", s3_endpoint_url=url, s3_bucket=bucket,
                    s3_access_key_id=S3_KEY_ID, s3_secret_access_key=S3_SECRET)


@pytest.fixture
def s3_settings(moto_server):
    """Settings for a fresh bucket on the moto_server process."""
    return fresh_bucket(moto_server.url)


@pytest.fixture
def on_s3(monkeypatch, s3_settings):
    """The environment naming a fresh moto_server bucket as the object store, for what reads its settings from it (the
    CLI, a Runtime); the bucket's settings."""
    for name, value in {"AMX_OBJECT_STORE": "s3", "AMX_S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
                        "AMX_S3_BUCKET": s3_settings.s3_bucket,
                        "AMX_S3_ACCESS_KEY_ID": s3_settings.s3_access_key_id.get_secret_value(),
                        "AMX_S3_SECRET_ACCESS_KEY": s3_settings.s3_secret_access_key.get_secret_value()}.items():
        monkeypatch.setenv(name, value)
    return s3_settings


VAULT_ROOT_TOKEN = "root-token-for-tests"


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    """A real OpenBao dev server (Vault's API), KV v2 at secret/, the root token VAULT_ROOT_TOKEN."""
    server = start_openbao(tmp_path_factory.mktemp("openbao"), VAULT_ROOT_TOKEN)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory):
    """etcd and a real kube-apiserver on loopback, with kubectl as admin (tests/support/kube.py)."""
    from tests.support.kube import LocalCluster

    cluster = LocalCluster(tmp_path_factory.mktemp("kube"))
    yield cluster
    cluster.stop()
