"""Event work runs once per (source, id) (handlers/events.receive): Knative delivers at least once and retries, so
two deliveries of one event can arrive together. The first claims the event in the object store with a
create-only write; a delivery finding it claimed is answered 409 (Knative retries it later) and does no work; a
delivery that fails lets go of its claim so a retry can do the work. The intake runs on the local directory and (slow)
on S3, where letting go of a claim leaves a tombstone the next claim is made over."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import ConflictError
from affiliate_matrix.events import RAW_BATCH_STORED, Event
from affiliate_matrix.handlers.events import body_digest, receive
from affiliate_matrix.runtime import Runtime
from tests.conftest import fresh_bucket
from tests.support.counting import CountingStore

WAIT_S = 30  # only how long a broken test waits before failing; nothing here waits on a clock


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])
def rt(request, tmp_path):
    if request.param == "local":
        return Runtime("index", Settings(data_dir=tmp_path))
    return Runtime("index", fresh_bucket(request.getfixturevalue("moto_server").url))


def records(rt) -> dict[str, bytes]:
    """The events' records in the store (claims and done alike), by key."""
    return {key: rt.store.get(key).data for key in rt.store.list("events/")}


def event() -> Event:
    return Event.make(RAW_BATCH_STORED, "/scrape/ap", {"batch_key": "batches/ap/x.jsonl"}, key="batch-1")


def deliver(rt, event: Event, work) -> None:
    receive(rt, event, event.to_cloudevent(), work)


def test_two_concurrent_deliveries_of_one_event_do_its_work_once(rt):
    started, finish, calls = threading.Event(), threading.Event(), []

    def work(e):
        calls.append(e.id)
        if len(calls) == 1:  # the first delivery's work is under way while the second arrives
            started.set()
            assert finish.wait(WAIT_S)

    first_failed = []
    first = threading.Thread(target=lambda: _run(lambda: deliver(rt, event(), work), first_failed))
    first.start()
    try:
        assert started.wait(WAIT_S)
        with pytest.raises(ConflictError, match="another delivery"):  # a 409: Knative delivers it again later
            deliver(rt, event(), work)
    finally:
        finish.set()
        first.join(WAIT_S)
    assert first_failed == [] and calls == [event().id]
    deliver(rt, event(), work)  # delivered again once the work is done: skipped
    assert calls == [event().id]
    assert [json.loads(data)["id"] for data in records(rt).values()] == [event().id]  # one record: done


def _run(call, failures: list) -> None:
    try:
        call()
    except Exception as exc:
        failures.append(exc)


def test_a_failed_delivery_lets_a_retry_do_the_work(rt):
    calls = []

    def work(e):
        calls.append(e.id)
        if len(calls) == 1:
            raise OSError("the disk is full")

    with pytest.raises(OSError):
        deliver(rt, event(), work)
    assert records(rt) == {}  # the claim let go of
    deliver(rt, event(), work)  # Knative's retry
    deliver(rt, event(), work)  # and one more: done already
    assert len(calls) == 2 and len(records(rt)) == 1


def test_a_claim_left_by_a_delivery_killed_mid_work_is_taken_over_once_its_lease_is_over(rt):
    """A process killed hard (OOM) lets go of nothing: its claim stands for as long as any work may run, then a
    retry takes it over."""
    from affiliate_matrix.handlers.events import CLAIM_LEASE, claim_key

    calls = []
    key = claim_key(event(), rt.function)
    stale = (datetime.now(UTC) - CLAIM_LEASE - timedelta(minutes=1)).isoformat()
    rt.store.put(key, f'{{"claimed_at": "{stale}"}}'.encode(), if_none_match=True)
    deliver(rt, event(), lambda e: calls.append(e.id))
    deliver(rt, event(), lambda e: calls.append(e.id))  # done: skipped
    assert calls == [event().id] and "claimed_at" not in json.loads(rt.store.get(key).data)

    fresh = datetime.now(UTC).isoformat()
    other = Event.make(RAW_BATCH_STORED, "/scrape/ap", {"batch_key": "batches/ap/y.jsonl"}, key="batch-2")
    rt.store.put(claim_key(other, rt.function), f'{{"claimed_at": "{fresh}"}}'.encode(), if_none_match=True)
    with pytest.raises(ConflictError):  # a claim within its lease: another delivery is at work
        deliver(rt, other, lambda e: calls.append(e.id))
    assert calls == [event().id]


def test_two_events_whose_source_and_id_join_alike_are_each_done_once(rt):
    """('/x', 'a|b') and ('/x|a', 'b') joined by '|' are one string: the first one's done marker passed the second
    one's work over as a duplicate. Each pair has a marker of its own now."""
    first = Event(id="a|b", source="/x", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    second = Event(id="b", source="/x|a", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    calls = []
    for delivered in (first, second, first, second):
        deliver(rt, delivered, lambda e: calls.append((e.source, e.id)))
    assert calls == [("/x", "a|b"), ("/x|a", "b")]


def test_a_done_marker_written_before_is_still_found(rt):
    """Markers written before they named their function are read (every event type then went to one function, so
    such a marker is the reader's own): for a pair without '|', the joined digest; for one with '|', the
    length-prefixed digest, or the joined one if it holds that very pair. So are the markers named by their function,
    which the claim is one with now."""
    from affiliate_matrix.handlers.events import claim_key

    plain = Event(id="e1", source="/scrape/ap", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    rt.store.put("events/done/" + Event.make("marker", "x", {}, key="/scrape/ap|e1").id, plain.model_dump_json().encode())
    piped = Event(id="a|b", source="/x", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    joined = "events/done/" + Event.make("marker", "x", {}, key="/x|a|b").id
    assert claim_key(piped, rt.function) != joined
    rt.store.put(joined, piped.model_dump_json().encode(), content_type="application/json")
    prefixed = Event(id="c|d", source="/y", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    rt.store.put("events/done/" + Event.make("marker", "x", {}, key="2:/y|c|d").id, b"{}")
    named = Event(id="e2", source="/scrape/ap", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    rt.store.put(claim_key(named, rt.function), named.model_dump_json().encode(), content_type="application/json",
                 if_none_match=True)  # the marker as the code before wrote it, beside its claim
    calls = []
    for delivered in (plain, piped, prefixed, named):
        deliver(rt, delivered, calls.append)
    assert json.loads(rt.store.get(claim_key(plain, rt.function)).data)["id"] == "e1"  # its record says done now
    other = Event(id="b", source="/x|a", type=RAW_BATCH_STORED, time=datetime.now(UTC), data={})
    deliver(rt, other, calls.append)  # the same joined digest, but that marker is not its
    assert [e.id for e in calls] == ["b"]


def test_an_event_routed_to_two_functions_is_worked_once_by_each(tmp_path):
    """raw.batch.stored goes to index and to triggers. The done marker was the event's, not the function's: the
    first function to finish made the other skip it, so a batch the triggers function saw first was never indexed
    (`amx up` waited for its programs for good)."""
    index, triggers = (Runtime(name, Settings(data_dir=tmp_path)) for name in ("index", "triggers"))
    calls = []
    for rt_of in (triggers, index, triggers, index):
        deliver(rt_of, event(), lambda e, name=rt_of.function: calls.append(name))
    assert calls == ["triggers", "index"]


def test_an_event_costs_the_store_three_requests_and_a_repeat_two(rt):
    """A claim was a create-only write under events/claims/, with the done marker beside it under events/done/, so a
    delivery looked for the marker (two HEADs: the marker, and the one named before markers named their function)
    before claiming and again after (a delivery letting go of its claim meanwhile may have finished), then wrote the
    marker and deleted the claim: 7 requests (on S3 the delete is a put as well: a tombstone). The claim and the
    marker are one record now: created, then overwritten by the done event; 3 requests with the look for the older
    marker, which only a created claim needs. A repeat finds the record: the failed create and a read."""
    store = CountingStore(rt.store)
    rt.__dict__["store"] = store  # Runtime.store is a cached_property
    calls = []
    deliver(rt, event(), lambda e: calls.append(e.id))
    assert [operation for operation, _ in store.asked] == ["put", "head", "put"] and calls == [event().id]
    store.counted()
    deliver(rt, event(), lambda e: calls.append(e.id))
    assert [operation for operation, _ in store.asked] == ["put", "get"] and calls == [event().id]


def test_a_damaged_record_is_taken_over_as_a_claim_and_the_work_done(rt):
    """A record that is not JSON (no write of ours leaves one: puts are whole) does not say the work was done: it is
    taken over as a claim as old as can be, so the work is done rather than lost."""
    from affiliate_matrix.handlers.events import claim_key

    rt.store.put(claim_key(event(), rt.function), b"\x00not json", if_none_match=True)
    calls = []
    deliver(rt, event(), lambda e: calls.append(e.id))
    assert calls == [event().id]


def test_an_id_published_again_with_another_body_is_worked_not_skipped_as_a_duplicate(rt):
    """Ids are derived from the work (Event.make's key), and a re-run can publish one again with other data: the
    record, keyed by (function, source, id) alone, passed the second body over as a duplicate, so its work was lost
    unsaid. The same body (whatever its time) is a redelivery, skipped; another body is worked, once, and logged
    naming both bodies' digests."""
    from structlog.testing import capture_logs

    first = event()
    second = first.model_copy(update={"data": {"batch_key": "batches/ap/other.jsonl"}})
    later = first.model_copy(update={"time": first.time + timedelta(hours=1)})  # published again, the same body
    calls = []
    with capture_logs() as logs:
        for delivered in (first, second, later, second, first):
            deliver(rt, delivered, lambda e: calls.append(e.data["batch_key"]))
    assert calls == ["batches/ap/x.jsonl", "batches/ap/other.jsonl"]
    reused = [entry for entry in logs if entry["event"] == "event.id_reused"]
    assert reused and {(entry["earlier_body"], entry["body"]) for entry in reused} == {
        (body_digest(first), body_digest(second))}, logs
    assert body_digest(first) != body_digest(second) and body_digest(first) == body_digest(later)
