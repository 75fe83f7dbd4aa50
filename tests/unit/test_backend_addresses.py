"""A backend that cannot be reached at start is named by its address, never with the user:password@ its setting may
carry (the start's error line is printed and logged). Each backend is pointed at a closed loopback port."""

from pathlib import Path

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import ConfigError, without_credentials
from affiliate_matrix.search.opensearch import OpenSearchIndex
from affiliate_matrix.secrets.vault import VaultSecretStore
from affiliate_matrix.storage.s3 import S3ObjectStore
from tests.support.processes import free_port


def test_an_address_is_shown_without_its_credentials_and_otherwise_unchanged():
    assert without_credentials("http://admin:hunter2@node:9200/x", "http://admin:hunter2@node:9200") == "http://node:9200/x"
    assert without_credentials("at http://node:9200", "http://node:9200") == "at http://node:9200"
    assert without_credentials("https://u%40x:p%3Aw@h/", "https://u%40x:p%3Aw@h/") == "https://h/"


@pytest.mark.parametrize("backend", ["opensearch", "vault", "s3"])
def test_a_backend_that_cannot_be_reached_is_named_without_its_credentials(tmp_path: Path, backend):
    address = f"http://admin:hunter2@127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path, opensearch_url=address, vault_addr=address, vault_token="t",
                        s3_endpoint_url=address, s3_access_key_id="AKIAEXAMPLE", s3_secret_access_key="secret")
    port = {"opensearch": OpenSearchIndex, "vault": VaultSecretStore, "s3": S3ObjectStore}[backend].from_settings(settings)
    with pytest.raises(ConfigError) as caught:
        port.check()
    assert "cannot reach" in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert "hunter2" not in str(caught.value) and "admin" not in str(caught.value)
    assert caught.value.retry_after, "nothing answering may be a server not up yet: its 503 says when to retry"
