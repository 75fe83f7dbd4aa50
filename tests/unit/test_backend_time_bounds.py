"""A call to one of the cluster's own services ends within its time bound, every attempt and wait counted, whatever the
peer does: one that takes the request and never answers is given up at the bound, and one that trickles its answer a
byte at a time is cut there, though each byte comes well within any read's timeout. Each client's bound is set small
(or its deadline read on a clock the trickling server moves: a second a byte) so a test takes no longer than the bound;
the peer is a real server on loopback, holding its answer until the test ends."""

import itertools
import json
from types import SimpleNamespace

import pytest

from affiliate_matrix import netguard
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable
from affiliate_matrix.search import IndexSpec, SearchQuery
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
    """A server that answers each request with its headers, then a body of a MiB of spaces (as JSON may begin; within
    what a read takes, so the body is read, not refused on its length) a byte at a time, moving the deadlines' clock a
    second before each byte (so the client reads the clock past it): a byte a second as the deadline sees it, each one
    at once as a read's timeout does."""
    clock = ManualClock()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=clock))

    def spaces():
        for _ in itertools.count():
            clock.advance(1.0)
            yield b" "

    def trickle(request):
        return 200, {"Content-Type": "application/json", "Content-Length": str(2**20)}, spaces()

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


class _Waits:
    """The deadlines' clock, moved only by the waits slept on it (each recorded) and by the server."""

    def __init__(self, monkeypatch):
        self.clock, self.slept = ManualClock(), []
        monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=self.clock, sleep=self.sleep))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)


def _bulk_node(answers):
    """A node holding the "things" index (its mapping), answering its n-th bulk request with answers[n](ids sent)."""
    spec = IndexSpec("things", 1, {"id": "keyword"})

    def answer(request):
        if request.path.endswith("/_mapping"):
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"amx-things-v1": {"mappings": {"_meta": {"spec": spec.to_json()}}}}).encode()
        status, items = answers[sum(r.path == "/_bulk" for r in server.requests) - 1](_ids_sent(request))
        return status, {"Content-Type": "application/json"}, json.dumps(items).encode()

    server = Loopback(answer)  # (answer counts the requests it has taken)
    return server


def _ids_sent(request) -> list[str]:
    return [line["index"]["_id"] for line in map(json.loads, request.body.decode().splitlines()) if "index" in line]


def _items(statuses: dict[str, int]) -> tuple[int, dict]:
    return 200, {"took": 1, "errors": any(s >= 300 for s in statuses.values()), "items": [
        {"index": {"_index": "amx-things-v1", "_id": i, "status": s,
                   **({"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}} if s == 429
                      else {})}} for i, s in statuses.items()]}


def _too_many(ids):
    return 429, {"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}, "status": 429}


def test_a_bulk_answered_429_waits_within_the_chunk_s_bound_and_ends_there_with_a_503(tmp_path, monkeypatch):
    """A bulk chunk's attempt is bounded (30 s), but opensearch-py's helper waited 0.5, 1, 2 and 4 s between its
    attempts after a 429 outside any bound: a chunk a node kept refusing held its caller 7.5 s past it. The waits
    count against the chunk's bound now: one that would end past it is not waited, and the write ends with the node's
    429 as BackendUnavailable (a 503), not asked again. (The node moves the deadlines' clock 9 s as it answers.)"""
    waits = _Waits(monkeypatch)

    def slow_429(ids):
        waits.clock.advance(9.0)
        return _too_many(ids)

    with _bulk_node([slow_429] * 5) as server:
        with pytest.raises(BackendUnavailable, match=r"^OpenSearch bulk into amx-things: 2 writes answered 429$") \
                as caught:
            search_index(tmp_path, server).bulk_upsert("things", [{"id": "a"}, {"id": "b"}])
    assert caught.value.cause == "the search index is overloaded (it answered HTTP 429)"
    # 9 s, a wait of 0.5 s, 9 s, 1 s, 9 s: 28.5 s of the 30, which leave no time for a wait of 2 s nor a fourth attempt
    assert waits.slept == [0.5, 1.0]
    assert [r.path for r in server.requests].count("/_bulk") == 3


def test_a_bulk_sends_again_only_the_documents_answered_429_after_a_wait(tmp_path, monkeypatch):
    """What the helper did within the bound: a chunk refused whole and then a document refused alone are sent again
    (that one alone), after 0.5 s then 1 s, and every document is written."""
    waits = _Waits(monkeypatch)
    answers = [_too_many, lambda ids: _items({"a": 201, "b": 429}), lambda ids: _items(dict.fromkeys(ids, 201))]
    with _bulk_node(answers) as server:
        result = search_index(tmp_path, server).bulk_upsert("things", [{"id": "a"}, {"id": "b"}])
    assert (result.indexed, result.errors) == (2, [])
    assert waits.slept == [0.5, 1.0]
    assert [_ids_sent(r) for r in server.requests if r.path == "/_bulk"] == [["a", "b"], ["a", "b"], ["b"]]


def test_a_bulk_goes_in_chunks_of_500_documents_or_10_mib_with_each_documents_result_in_its_order(tmp_path):
    """The chunks opensearch-py's helper made, from the client's own bulk call: 500 documents at most, and no more than
    10 MiB of request (a chunk is never empty: one larger document goes alone); each document's answer is its own."""
    def answered(ids):
        return _items({i: 400 if i == "doc-0700" else 201 for i in ids})

    docs = [{"id": f"doc-{n:04d}"} for n in range(1001)]
    with _bulk_node([answered] * 3) as server:
        result = search_index(tmp_path, server).bulk_upsert("things", docs)
    assert [len(_ids_sent(r)) for r in server.requests if r.path == "/_bulk"] == [500, 500, 1]
    assert [_ids_sent(r) for r in server.requests if r.path == "/_bulk"][1][0] == "doc-0500"
    assert (result.indexed, [doc_id for doc_id, _ in result.errors]) == (1000, ["doc-0700"])

    mib = "x" * (4 * 1024 * 1024)  # three of these pass 10 MiB; two do not
    actions = [{"_index": "amx-things-v1", "_id": f"big-{n}", "_source": {"id": f"big-{n}", "pad": mib}}
               for n in range(3)]
    chunks = list(opensearch._chunks(actions, opensearch.OpenSearch().transport.serializer))
    assert [[action["_id"] for action, _ in chunk] for chunk in chunks] == [["big-0", "big-1"], ["big-2"]]


def test_an_index_created_by_ensure_index_is_given_a_batch_call_s_time(tmp_path, monkeypatch):
    """Creating an index and its alias is a change to the cluster's state, slow on a busy node: a migration gave it
    BATCH_TIMEOUT_S, ensure_index the 10 s of a search, which a node under load overran (a suite on a busy machine
    failed at 'ensure programs'). Both give it the batch's time, the reads around it a search's."""
    bounds = []
    real_deadline = opensearch.deadline

    def recorded(seconds):
        bounds.append(seconds)
        return real_deadline(seconds)

    monkeypatch.setattr(opensearch, "deadline", recorded)

    def node(request):
        absent = request.method == "HEAD"  # neither the alias nor the index exists yet
        return (404 if absent else 200), {"Content-Type": "application/json"}, b"" if absent else \
            json.dumps({"acknowledged": True}).encode()

    with Loopback(node) as server:
        index = search_index(tmp_path, server)
        bounds.clear()
        index.ensure_index(IndexSpec("programs", 1, {"id": "keyword"}))
        calls = [(r.method, r.path.rsplit("/", 1)[-1] if r.method == "HEAD" else r.path) for r in server.requests]
    timed = dict(zip(calls[-len(bounds):], bounds))
    assert [bound for (method, _), bound in timed.items() if method == "HEAD"] == [opensearch.CALL_TIMEOUT_S] * 2
    assert [bound for (method, _), bound in timed.items() if method in ("PUT", "POST")] == \
        [opensearch.BATCH_TIMEOUT_S] * 2, timed


def test_an_object_read_from_an_s3_nothing_answers_at_names_the_object_store_to_the_caller(tmp_path):
    """An S3 refusing connections (stopped, restarting) was answered "a backend is unavailable; retry later", where an
    OpenSearch so is "the search index is unreachable": the caller was not told which store to look at."""
    from tests.support.processes import free_port

    closed = SimpleNamespace(url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(BackendUnavailable, match=r"^S3 get_object 'connections/c1.json': Could not connect") as caught:
        object_store(tmp_path, closed).get("connections/c1.json")
    assert caught.value.cause == "the object store is unreachable"
