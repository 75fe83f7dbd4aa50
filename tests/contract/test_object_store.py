"""One contract, two adapters: the local directory, and S3 on two real servers (moto_server, and
s3proxy on a local directory), each in its own process."""

import hashlib
import os
import threading

import pytest

from affiliate_matrix.config import Settings, load_settings
from affiliate_matrix.errors import ConfigError, ConflictError, NotFoundError
from affiliate_matrix.storage import open_object_store
from tests.conftest import fresh_bucket

S3_SERVERS = ["moto_server", "s3proxy"]  # session fixtures in tests/conftest.py
# s3proxy checks a write's condition and then writes (jclouds has no conditional put), so two racing
# conditional writers can both win there; its conditions hold only for writers one after another.
NOT_ATOMIC = {"s3-s3proxy"}


def skip_unless_conditions_are_atomic(request):
    if request.node.callspec.params["store"] in NOT_ATOMIC:
        pytest.skip("s3proxy's conditional writes are not atomic (check, then write); racing writers run on the others")


@pytest.fixture(params=["local", *(pytest.param(f"s3-{s}", marks=pytest.mark.slow) for s in S3_SERVERS)])
def store(request, tmp_path):
    if request.param == "local":
        return open_object_store(Settings(data_dir=tmp_path))
    server = request.getfixturevalue(request.param.removeprefix("s3-"))
    store = open_object_store(fresh_bucket(server.url))
    store.check()
    return store


def test_put_get_roundtrip_with_etag_and_content_type(store):
    etag = store.put("docs/a.json", b'{"a": 1}', content_type="application/json")
    got = store.get("docs/a.json")
    assert (got.data, got.etag, got.content_type) == (b'{"a": 1}', etag, "application/json")
    assert store.head("docs/a.json") == etag


def test_missing_object_raises_not_found_and_head_is_none(store):
    with pytest.raises(NotFoundError, match="nope/x"):
        store.get("nope/x")
    assert store.head("nope/x") is None


def test_list_is_sorted_and_prefix_filtered(store):
    for key in ["raw/b/2", "raw/a/1", "cfg/x", "raw/a/0"]:
        store.put(key, key.encode())
    assert list(store.list("raw/")) == ["raw/a/0", "raw/a/1", "raw/b/2"]


def test_delete_is_idempotent(store):
    store.put("k", b"v")
    store.delete("k")
    store.delete("k")
    assert store.head("k") is None


def test_if_none_match_creates_once(store):
    store.put("once", b"first", if_none_match=True)
    with pytest.raises(ConflictError):
        store.put("once", b"second", if_none_match=True)
    assert store.get("once").data == b"first"


def test_if_match_with_stale_etag_conflicts_and_keeps_the_winner(store):
    etag = store.put("doc", b"v1")
    store.put("doc", b"v2-by-a", if_match=etag)
    with pytest.raises(ConflictError):
        store.put("doc", b"v2-by-b", if_match=etag)
    assert store.get("doc").data == b"v2-by-a"


def test_two_concurrent_writers_one_wins(store, request):
    skip_unless_conditions_are_atomic(request)
    etag = store.put("race", b"v0")
    outcomes, barrier = [], threading.Barrier(2)

    def writer(name):
        barrier.wait()
        try:
            store.put("race", name.encode(), if_match=etag)
            outcomes.append(("won", name))
        except ConflictError:
            outcomes.append(("lost", name))

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o for o, _ in outcomes) == ["lost", "won"]
    winner = next(n for o, n in outcomes if o == "won")
    assert store.get("race").data == winner.encode()


def test_content_addressed_put_is_stable_and_written_once(store):
    key1 = store.put_content_addressed("raw/pages", b"<html>same</html>", suffix=".html")
    key2 = store.put_content_addressed("raw/pages", b"<html>same</html>", suffix=".html")
    other = store.put_content_addressed("raw/pages", b"<html>other</html>", suffix=".html")
    assert key1 == key2 != other
    assert list(store.list("raw/pages/")) == sorted([key1, other])
    assert store.get(key1).data == b"<html>same</html>"


def test_large_object_roundtrip(store):
    data = os.urandom(9 * 1024 * 1024)  # past boto3's 8 MB multipart threshold, should the adapter ever use it
    etag = store.put("big/blob", data)
    got = store.get("big/blob")
    assert hashlib.sha256(got.data).digest() == hashlib.sha256(data).digest() and got.etag == etag
    assert list(store.list("big/")) == ["big/blob"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "sp ace", ""])
def test_traversal_and_odd_keys_are_refused(store, key):
    with pytest.raises(ValueError, match="object key"):
        store.put(key, b"x")


@pytest.mark.slow
@pytest.mark.parametrize("server", S3_SERVERS)
def test_wrong_bucket_fails_at_startup_naming_the_setting(request, server):
    url = request.getfixturevalue(server).url
    settings = Settings(object_store="s3", s3_endpoint_url=url, s3_bucket="no-such-bucket",
                        s3_access_key_id="test", s3_secret_access_key="test")
    with pytest.raises(ConfigError, match="AMX_S3_BUCKET.*no-such-bucket.*does not exist"):
        open_object_store(settings).check()


def test_unreachable_s3_fails_naming_the_endpoint_setting():
    settings = Settings(object_store="s3", s3_endpoint_url="http://127.0.0.1:9", s3_bucket="b",
                        s3_access_key_id="test", s3_secret_access_key="test")
    with pytest.raises(ConfigError, match="AMX_S3_ENDPOINT_URL"):
        open_object_store(settings).check()


def test_unknown_backend_is_a_config_error_naming_the_setting(monkeypatch):
    monkeypatch.setenv("AMX_OBJECT_STORE", "ftp")
    with pytest.raises(ConfigError, match="AMX_OBJECT_STORE.*'ftp'"):
        load_settings()
