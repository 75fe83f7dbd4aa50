"""The S3 object store's check at a function's start, as the search index's: an S3 that answers overloaded or not
ready (a 503 SlowDown, a 500) is BackendUnavailable, so the function starts and answers 503 with Retry-After; it
was a ConfigError ('bucket ... is not usable (503)'), and the function exited as misconfigured. Refused
credentials or a missing bucket stay a ConfigError with no retry_after; nothing answering at the address is one
worth retrying."""

import pytest
from botocore.config import Config

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, ConfigError
from affiliate_matrix.storage.s3 import S3ObjectStore
from tests.support.overloaded import OverloadedNode
from tests.support.processes import free_port


def store_at(url: str) -> S3ObjectStore:
    import boto3

    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret",  # one attempt: botocore's own retries wait between tries
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3,
                                        read_timeout=5, s3={"addressing_style": "path"}))
    return S3ObjectStore(client, "amx", url)


@pytest.mark.parametrize("status", [503, 500])
def test_an_s3_overloaded_at_start_is_unavailable_not_misconfigured(status):
    node = OverloadedNode(status, at_start=True)
    try:
        with pytest.raises(BackendUnavailable) as caught:
            store_at(node.url()).check()
    finally:
        node.stop()
    assert f"(it answered HTTP {status})" in caught.value.cause and caught.value.retry_after > 0


@pytest.mark.parametrize("status,setting", [(403, "AMX_S3_BUCKET"), (404, "AMX_S3_BUCKET")])
def test_an_s3_refusing_the_credentials_or_without_the_bucket_is_misconfigured(status, setting):
    node = OverloadedNode(status, at_start=True)
    try:
        with pytest.raises(ConfigError, match=setting) as caught:
            store_at(node.url()).check()
    finally:
        node.stop()
    assert caught.value.retry_after is None


def test_an_s3_unreachable_at_start_is_a_config_error_worth_retrying(tmp_path):
    settings = Settings(data_dir=tmp_path, s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
                        s3_access_key_id="AKIAEXAMPLE", s3_secret_access_key="secret")
    store = S3ObjectStore.from_settings(settings)
    store.client = store_at(settings.s3_endpoint_url).client
    with pytest.raises(ConfigError, match="AMX_S3_ENDPOINT_URL") as caught:
        store.check()
    assert caught.value.retry_after and caught.value.retry_after > 0


def test_an_s3_without_credentials_at_start_names_them_not_the_address(tmp_path, monkeypatch):
    """In a cluster the runbook deploys, nothing gave the functions S3 keys: boto3 found none, and the start said
    `AMX_S3_ENDPOINT_URL: cannot reach S3 at …: Unable to locate credentials`, to be retried, naming the wrong setting."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = Settings(data_dir=tmp_path, s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ConfigError, match="AMX_S3_ACCESS_KEY_ID.*AMX_S3_SECRET_ACCESS_KEY") as caught:
        S3ObjectStore.from_settings(settings).check()
    assert caught.value.retry_after is None and "cannot reach" not in str(caught.value)
