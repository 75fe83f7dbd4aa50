"""OpenSearch behind TLS signed by a cluster's own CA: trusted through AMX_OPENSEARCH_CA_FILE, and otherwise a start
error naming that setting (not "cannot reach", which would send an operator looking at the network); S3 and Vault
likewise through their clients' own variables, AWS_CA_BUNDLE and VAULT_CACERT. The backend is a real TLS server on
loopback answering each one's first call; the certificates are made per test."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import ConfigError
from affiliate_matrix.search.opensearch import OpenSearchIndex
from affiliate_matrix.storage.s3 import S3ObjectStore
from tests.support.loopback import Loopback
from tests.support.tls import certificate

INFO = json.dumps({"name": "node", "cluster_name": "c", "version": {"distribution": "opensearch", "number": "2.19.1"},
                   "tagline": "The OpenSearch Project: https://opensearch.org/"}).encode()


# Vault's answer to a token's lookup: a token that never expires
LOOKUP = json.dumps({"data": {"ttl": 0}}).encode()


@pytest.fixture
def node(tmp_path: Path):
    """One TLS server for every backend: OpenSearch's info call, S3's bucket check, Vault's token lookup."""
    tls, ca_file = certificate(tmp_path, "localhost")
    answer = lambda request: (200, {"Content-Type": "application/json"}, LOOKUP if request.path.startswith("/v1/") else INFO)
    with Loopback(answer, tls=tls) as server:
        yield server, f"https://localhost:{server.port}", ca_file


def test_a_node_signed_by_the_named_ca_is_trusted(tmp_path, node):
    server, url, ca_file = node
    OpenSearchIndex.from_settings(Settings(data_dir=tmp_path, opensearch_url=url, opensearch_ca_file=ca_file)).check()
    assert [r.path for r in server.requests] == ["/"]  # the info call came over TLS


def test_a_node_signed_by_another_ca_is_a_start_error_naming_the_setting(tmp_path, node):
    server, url, _ = node
    other = tmp_path / "other"
    other.mkdir()
    _, other_ca = certificate(other, "localhost")
    for ca_file in (None, other_ca):  # the public CAs only, or a CA that did not sign it
        index = OpenSearchIndex.from_settings(Settings(data_dir=tmp_path, opensearch_url=url, opensearch_ca_file=ca_file))
        with pytest.raises(ConfigError, match="AMX_OPENSEARCH_CA_FILE: .*certificate we do not trust") as caught:
            index.check()
        # the TLS library's reason (the other CA has the same name as the signer: its signature is what fails)
        assert re.search(r"\((unable to get local issuer certificate|certificate signature failure)\)", str(caught.value))
        assert caught.value.retry_after is None, "waiting does not make a certificate trusted"
    assert server.requests == []


def test_a_certificate_for_another_host_is_named_as_such(tmp_path):
    tls, ca_file = certificate(tmp_path, "opensearch.search.svc")
    with Loopback(lambda request: (200, {}, INFO), tls=tls) as server:
        index = OpenSearchIndex.from_settings(Settings(data_dir=tmp_path, opensearch_url=f"https://localhost:{server.port}",
                                                       opensearch_ca_file=ca_file))
        with pytest.raises(ConfigError, match="AMX_OPENSEARCH_CA_FILE: .*Hostname mismatch.*'localhost'"):
            index.check()


@pytest.mark.parametrize("url,ca,problem", [
    ("http://localhost:9200", "ca.pem", "not an https:// address"),
    ("https://localhost:9200", "missing.pem", "is not a file"),
    ("https://localhost:9200", "ca.pem", "holds no PEM certificate we can read")])
def test_a_ca_file_that_cannot_protect_is_refused_at_start(tmp_path, url, ca, problem):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match=f"AMX_OPENSEARCH_CA_FILE: .*{problem}"):
        OpenSearchIndex.from_settings(Settings(data_dir=tmp_path, opensearch_url=url, opensearch_ca_file=tmp_path / ca))


def test_s3_behind_a_clusters_ca_is_trusted_through_aws_ca_bundle(tmp_path, node, monkeypatch):
    server, url, ca_file = node
    settings = Settings(data_dir=tmp_path, object_store="s3", s3_endpoint_url=url, s3_access_key_id="AKIAEXAMPLE",
                        s3_secret_access_key="secret")
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    with pytest.raises(ConfigError, match="AWS_CA_BUNDLE: S3 at https://localhost:.* certificate we do not trust") as caught:
        S3ObjectStore.from_settings(settings).check()
    assert caught.value.retry_after is None and server.requests == []
    monkeypatch.setenv("AWS_CA_BUNDLE", ca_file)  # boto3's own variable, read when its client is made
    S3ObjectStore.from_settings(settings).check()
    assert [(r.method, r.path) for r in server.requests] == [("HEAD", "/affiliate-matrix")]


VAULT_CHECK = """
import sys
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import ConfigError
from affiliate_matrix.secrets.vault import VaultSecretStore
try:
    VaultSecretStore.from_settings(Settings(data_dir=sys.argv[2], vault_addr=sys.argv[1], vault_token="t")).check()
    print("trusted")
except ConfigError as exc:
    print(exc, exc.retry_after)
"""


def test_vault_behind_a_clusters_ca_is_trusted_through_vault_cacert(tmp_path, node):
    """In its own process: hvac reads VAULT_CACERT when it is imported."""
    server, url, ca_file = node

    def check(**env) -> str:
        environment = {k: v for k, v in os.environ.items() if k not in ("VAULT_CACERT", "VAULT_CAPATH")}
        return subprocess.run([sys.executable, "-c", VAULT_CHECK, url, str(tmp_path)], env={**environment, **env},
                              capture_output=True, text=True, check=True).stdout.strip()

    refused = check()
    assert refused.startswith("VAULT_CACERT: token lookup: Vault has a certificate we do not trust") and \
        refused.endswith(" None"), refused  # no Retry-After: waiting does not make a certificate trusted
    assert server.requests == []
    assert check(VAULT_CACERT=ca_file) == "trusted"
    assert [r.path for r in server.requests] == ["/v1/auth/token/lookup-self"]
