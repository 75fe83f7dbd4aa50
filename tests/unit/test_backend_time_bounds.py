"""A call to one of the cluster's own services ends within its time bound, every attempt and wait counted, whatever the
peer does: one that takes the request and never answers is given up at the bound, and one that trickles its answer a
byte at a time is cut there, though each byte comes well within any read's timeout. Each client's bound is set small
(or its deadline read on a clock the trickling server moves: a second a byte) so a test takes no longer than the bound;
the peer is a real server on loopback, holding its answer until the test ends."""

import itertools
from types import SimpleNamespace

import pytest

from affiliate_matrix import netguard
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable
from affiliate_matrix.search import SearchQuery
from affiliate_matrix.search import opensearch
from affiliate_matrix.secrets import vault
from affiliate_matrix.storage import s3
from tests.support.clock import ManualClock
from tests.support import loopback
from tests.support.loopback import Loopback


@pytest.fixture
def stalled():
    """A server that takes each request and never answers it (until the test ends)."""
    with loopback.stalled() as held:
        yield held


@pytest.fixture
def trickling(monkeypatch):
    """A server that answers each request with its headers, then a body of a gigabyte of spaces (as JSON may begin) a
    byte at a time, moving the deadlines' clock a second before each byte (so the client reads the clock past it): a
    byte a second as the deadline sees it, each one at once as a read's timeout does."""
    clock = ManualClock()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=clock))

    def spaces():
        for _ in itertools.count():
            clock.advance(1.0)
            yield b" "

    def trickle(request):
        return 200, {"Content-Type": "application/json", "Content-Length": str(2**30)}, spaces()

    with Loopback(trickle) as server:
        yield server


def search_index(tmp_path, server) -> opensearch.OpenSearchIndex:
    return opensearch.OpenSearchIndex.from_settings(Settings(data_dir=tmp_path, opensearch_url=server.url))


def test_a_search_on_a_node_that_never_answers_ends_at_the_call_s_bound(tmp_path, monkeypatch, stalled):
    """A node that took the request and never answered held a search for the client's 30 s read timeout, three times
    (retry_on_timeout): 90 s of a person waiting. The search ends at the call's bound, tried once: no time is left."""
    server, asked = stalled
    monkeypatch.setattr(opensearch, "CALL_TIMEOUT_S", 1.0)
    with pytest.raises(BackendUnavailable, match=r"^OpenSearch mapping of programs: the node did not answer in time") \
            as caught:
        search_index(tmp_path, server).search("programs", SearchQuery(text="hosting"))
    assert caught.value.cause == "the search index did not answer in time"
    assert asked.is_set() and len(server.requests) == 1


def test_a_search_on_a_node_trickling_its_answer_is_cut_at_the_call_s_bound(tmp_path, trickling):
    """A node answering a byte a second was never given up: each byte came within the read timeout."""
    with pytest.raises(BackendUnavailable, match=r"^OpenSearch mapping of programs: the node did not answer in time"):
        search_index(tmp_path, trickling).search("programs", SearchQuery(text="hosting"))
    assert len(trickling.requests) == 1


def secret_store(tmp_path, server) -> vault.VaultSecretStore:
    return vault.VaultSecretStore.from_settings(Settings(data_dir=tmp_path, vault_addr=server.url, vault_token="t"))


def test_a_secret_read_from_a_vault_that_never_answers_ends_at_the_request_s_bound(tmp_path, monkeypatch, stalled):
    """The request ends at its bound in all, tried once (hvac tries no request again), and the read fails closed."""
    server, asked = stalled
    monkeypatch.setattr(vault, "REQUEST_TIMEOUT_S", 1.0)
    with pytest.raises(BackendUnavailable, match=r"^secret 'sources/awin': Vault is unavailable and no copy read"):
        secret_store(tmp_path, server).read("sources/awin")
    assert asked.is_set() and [r.path for r in server.requests] == ["/v1/auth/token/lookup-self"]


def test_a_secret_read_from_a_vault_trickling_its_answer_is_cut_at_the_request_s_bound(tmp_path, trickling):
    """A Vault answering a byte a second was never given up: each byte came within the read timeout."""
    with pytest.raises(BackendUnavailable, match=r"^secret 'sources/awin': Vault is unavailable and no copy read") \
            as caught:
        secret_store(tmp_path, trickling).read("sources/awin")
    assert caught.value.cause == "the secret store is unavailable"
    assert [r.path for r in trickling.requests] == ["/v1/auth/token/lookup-self"]


def object_store(tmp_path, server) -> s3.S3ObjectStore:
    return s3.S3ObjectStore.from_settings(Settings(data_dir=tmp_path, s3_endpoint_url=server.url, s3_bucket="amx",
                                                   s3_access_key_id="key", s3_secret_access_key="secret"))


def test_an_object_read_from_an_s3_that_never_answers_ends_at_the_call_s_bound(tmp_path, monkeypatch, stalled):
    """botocore gave each of its 5 attempts a 20 s read timeout: ~100 s for an object a person waited on. The read
    ends at the call's bound, tried once: an attempt that ran out of the call's time is not tried again."""
    server, asked = stalled
    monkeypatch.setattr(s3, "CALL_TIMEOUT_S", 1.0)
    with pytest.raises(BackendUnavailable, match=r"^S3 get_object 'connections/c1.json': Read timeout") as caught:
        object_store(tmp_path, server).get("connections/c1.json")
    assert caught.value.cause == "the object store did not answer in time"
    assert asked.is_set() and [r.path for r in server.requests] == ["/amx/connections/c1.json"]


def test_an_object_read_from_an_s3_trickling_its_body_is_cut_at_the_call_s_bound(tmp_path, trickling):
    """An S3 sending an object's bytes one a second was never given up: each came within the read timeout."""
    with pytest.raises(BackendUnavailable, match=r"^S3 get_object 'connections/c1.json': Read timeout") as caught:
        object_store(tmp_path, trickling).get("connections/c1.json")
    assert caught.value.cause == "the object store did not answer in time"
    assert [r.path for r in trickling.requests] == ["/amx/connections/c1.json"]


def test_an_s3_call_waits_for_no_attempt_the_call_s_bound_would_not_leave_time_for(tmp_path, monkeypatch):
    """botocore waited before each of its 5 attempts whatever time was left: an S3 asking 5 s (x-amz-retry-after, in
    milliseconds) with 4 s of the call left was asked again past the bound. The call ends with that answer, not asked
    again. (The server moves the deadlines' clock 6 s as it answers.)"""
    clock = ManualClock()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=clock))

    def unavailable_for_5_s(request):
        clock.advance(6.0)
        return 503, {"Content-Type": "application/xml", "x-amz-retry-after": "5000"}, \
            b"<Error><Code>ServiceUnavailable</Code></Error>"

    with Loopback(unavailable_for_5_s) as server:
        with pytest.raises(BackendUnavailable, match=r"^S3 get_object 'connections/c1.json': ServiceUnavailable$"):
            object_store(tmp_path, server).get("connections/c1.json")
    assert len(server.requests) == 1
