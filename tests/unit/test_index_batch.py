"""Indexing a batch (pipeline.index_batch) stopped part-way, run again, and with a record it cannot index."""

import json

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.events import PROGRAM_DELTA
from affiliate_matrix.pipeline import index_batch
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.factories import make_record

NAMES = ["Semrush", "Bluehost", "Canva Pro", "Tiny Notes"]


def _runtime(path):
    rt = Runtime("test", Settings(data_dir=path))
    sent = []
    rt.bus.subscribe(PROGRAM_DELTA, lambda event: sent.append(event.data["id"]))
    return rt, sent


def _batch(rt, commission="$200 per sale"):
    records = [make_record(name, f"https://{name.split()[0].lower()}.com/", commission_text=commission)
               for name in NAMES]
    return rt.store.put_content_addressed("batches/test", "\n".join(r.model_dump_json() for r in records).encode(),
                                          suffix=".jsonl")


class StopsAtWrite:
    """The index, but its Nth bulk write raises, as a process killed there would stop: a real SQLite index
    cannot be made to stop between two of a batch's writes on cue, so this stands in for the kill."""

    def __init__(self, index, n):
        self.index, self.n = index, n

    def bulk_upsert(self, *args, **kwargs):
        self._count()
        return self.index.bulk_upsert(*args, **kwargs)

    def write_if_unchanged(self, *args, **kwargs):  # the programs' write
        self._count()
        return self.index.write_if_unchanged(*args, **kwargs)

    def _count(self):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt("stopped")

    def __getattr__(self, name):
        return getattr(self.index, name)


@pytest.mark.parametrize("stop_at", [1, 2, "send"])
@pytest.mark.parametrize("second", [False, True], ids=["created", "updated"])
def test_a_run_stopped_at_any_write_then_run_again_records_and_sends_every_delta_once(tmp_path, stop_at, second):
    """The programs were written before their deltas: a run stopped between the two left the programs current, so
    the re-run found no change and the deltas (the feed of what changed, and their events) were lost for good.
    The deltas are now recorded first, with the list of those to announce kept beside the batch until sent."""
    whole, whole_sent = _runtime(tmp_path / "whole")
    rt, sent = _runtime(tmp_path / "stopped")
    for runtime in (whole, rt) if second else ():  # the programs indexed already: this batch updates them
        index_batch(runtime, _batch(runtime, "$100 per sale"))
    whole_sent.clear(), sent.clear()
    expected = {d.id for d in index_batch(whole, _batch(whole)).deltas}
    assert len(expected) == len(NAMES) and set(whole_sent) == expected

    real, publish = rt.index, rt.bus.publish
    if stop_at == "send":  # stopped after both writes, as the first event is sent
        rt.bus.publish = lambda event: (_ for _ in ()).throw(KeyboardInterrupt("stopped"))
    else:
        rt.__dict__["index"] = StopsAtWrite(real, stop_at)
    with pytest.raises(KeyboardInterrupt):
        index_batch(rt, _batch(rt))
    rt.__dict__["index"], rt.bus.publish = real, publish
    index_batch(rt, _batch(rt))  # the event redelivered
    feed = rt.index.search("deltas", SearchQuery(size=100)).hits
    changed = [h.id for h in feed if h.doc["change"] == ("updated" if second else "created")]
    assert sorted(changed) == sorted(expected)
    assert sorted(sent) == sorted(expected)  # each announced once
    assert list(rt.store.list("pending/")) == []
    assert index_batch(rt, _batch(rt)).deltas == []


def test_a_record_that_fails_to_index_is_a_recorded_error_and_the_rest_are_indexed(tmp_path, monkeypatch):
    """One record whose normalizing or indexing raised failed its whole batch, every time the event was redelivered:
    no program of the batch was indexed. It is now an error naming the record, recorded beside the batch."""
    import affiliate_matrix.pipeline as pipeline

    real_normalize, real_document = pipeline.normalize, pipeline.to_document

    # Stubs: no record known today makes these raise; a parser or merge fault tomorrow would.
    def normalize(record, batch_key=None):
        if record.name == "Tiny Notes":
            raise ValueError("a fault in normalize")
        return real_normalize(record, batch_key)

    def to_document(program):
        if program.name == "Bluehost":
            raise ValueError("a fault in indexing")
        return real_document(program)

    monkeypatch.setattr(pipeline, "normalize", normalize)
    monkeypatch.setattr(pipeline, "to_document", to_document)
    rt, sent = _runtime(tmp_path)
    batch_key = _batch(rt)
    report = index_batch(rt, batch_key)
    assert report.created == 2 and len(sent) == 2
    assert {h.doc["name"] for h in rt.index.search("programs", SearchQuery()).hits} == {"Semrush", "Canva Pro"}
    errors = dict(report.errors)
    assert "a fault in normalize" in errors["test/tiny-notes"]
    (bluehost,) = [reason for doc_id, reason in report.errors if "test/bluehost" in reason]
    assert "a fault in indexing" in bluehost
    (error_key,) = rt.store.list("errors/index/")
    recorded = json.loads(rt.store.get(error_key).data)
    assert recorded["batch_key"] == batch_key and len(recorded["errors"]) == 2


def test_a_delta_event_carries_when_its_delta_was_recorded_as_the_change_feed_shows_it(tmp_path):
    """program.delta events carried the delta without recorded_at, so a consumer of the events could not resume
    the change feed as a reader of GET /changes does (since the newest recorded_at read). An event's data is the
    delta as the feed holds it."""
    from affiliate_matrix.deltas import feed_item

    rt = Runtime("test", Settings(data_dir=tmp_path))
    events = []
    rt.bus.subscribe(PROGRAM_DELTA, lambda event: events.append(event.data))
    index_batch(rt, _batch(rt))
    feed = {h.id: feed_item(h.doc) for h in rt.index.search("deltas", SearchQuery(size=100)).hits}
    assert len(events) == len(NAMES) and all(event["recorded_at"] for event in events)
    assert {event["id"]: event for event in events} == feed


def test_a_batch_reads_its_programs_as_indexed_in_one_request(tmp_path, monkeypatch):
    """Each program of a batch was read from the index by its own get: on OpenSearch a round trip per program."""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    rt, _ = _runtime(tmp_path)
    index_batch(rt, _batch(rt, "$100 per sale"))
    gets = []
    monkeypatch.setattr(SqliteSearchIndex, "get", lambda self, name, doc_id: gets.append(doc_id))
    report = index_batch(rt, _batch(rt))
    assert gets == [] and report.updated == len(NAMES) and report.created == 0


def test_a_rerun_that_only_sees_its_programs_again_counts_them_unchanged_and_records_no_change(tmp_path):
    """Every program of a rerun was counted updated (the demo's rerun: "0 created, 34 updated"): its last_seen_at
    moves with every run. Updated now counts a change the feed records; a program only seen again is unchanged."""
    from datetime import timedelta

    from tests.support.factories import NOW

    def run(days: int, commission: str) -> str:
        records = [make_record(name, f"https://{name.split()[0].lower()}.com/", commission_text=commission)
                   .model_copy(update={"fetched_at": NOW + timedelta(days=days)}) for name in NAMES]
        return rt.store.put_content_addressed("batches/test", "\n".join(r.model_dump_json() for r in records).encode(),
                                              suffix=".jsonl")

    rt, sent = _runtime(tmp_path)
    index_batch(rt, run(0, "$200 per sale"))
    sent.clear()
    report = index_batch(rt, run(1, "$200 per sale"))
    assert (report.created, report.updated, report.unchanged, report.deltas, sent) == (0, 0, len(NAMES), [], [])
    seen = {h.doc["name"]: h.doc["last_seen_at"] for h in rt.index.search("programs", SearchQuery(size=10)).hits}
    assert set(seen.values()) == {(NOW + timedelta(days=1)).isoformat()}, seen  # written all the same
    changed = index_batch(rt, run(2, "$300 per sale"))
    assert (changed.updated, changed.unchanged, len(changed.deltas)) == (len(NAMES), 0, len(NAMES))
    assert len(sent) == len(NAMES)  # a change is announced, as before


def _run_of_cj(rt, at, *names):
    """A batch of CJ's connection `cj` (an API: its complete runs withdraw what they no longer list), as scrape
    stores it, the connection stored."""
    from datetime import timedelta

    from affiliate_matrix.connections import Connection, connection_key, save_connection
    from affiliate_matrix.models import RawRecord
    from tests.support.factories import NOW

    if rt.store.head(connection_key("cj")) is None:
        save_connection(rt.store, Connection(id="cj", source="cj"), create=True)
    records = [RawRecord(source="cj", connection_id="cj", record_key=name.lower(), url=f"https://cj.example/{name}",
                         fetched_at=NOW + timedelta(hours=at), raw_key=f"raw/cj/{name}", name=name,
                         merchant_url=f"https://{name.lower()}.com/", commission_text=f"{10 + at}%")
               for name in names]
    return rt.store.put_content_addressed("batches/cj", "\n".join(r.model_dump_json() for r in records).encode(),
                                          suffix=".jsonl")


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "incomplete"])
def test_an_older_run_indexed_after_a_complete_run_brings_back_nothing_it_withdrew(tmp_path, complete):
    """A complete run that no longer lists a program withdraws the connection's claims on it; but nothing recorded
    that the connection had seen the program gone, so a run older than it indexed afterwards (its event retried
    after the next sync's was indexed: the first attempt met an index answering 503) listed it again: back to
    active with the old run's terms, and a change in the feed that did not happen (closed_suspected to active)."""
    rt, sent = _runtime(tmp_path)
    first, second = _run_of_cj(rt, 0, "Acme", "Beta"), _run_of_cj(rt, 1, "Beta")
    index_batch(rt, first, "cj")
    index_batch(rt, second, "cj")
    programs = {h.doc["name"]: h.doc for h in rt.index.search("programs", SearchQuery(size=10)).hits}
    assert programs["Acme"]["status"] == "closed_suspected"
    sent.clear()
    report = index_batch(rt, first, "cj" if complete else None)  # delivered again, late
    assert report.deltas == [] and sent == [] and report.skipped and "cj" in report.skipped
    again = {h.doc["name"]: h.doc for h in rt.index.search("programs", SearchQuery(size=10)).hits}
    assert again == programs
    assert index_batch(rt, second, "cj").deltas == []  # the complete run itself, again: nothing skipped, no change


def test_indexing_a_batch_reads_the_source_plugins_folder_once_not_once_per_claim(tmp_path, monkeypatch):
    """Every lookup of a source (its priority, for each claim merge weighs; whether each record is a plugin's) listed
    the plugins' folder again: of 45 s indexing an update of 3,000 programs, 16 s went to listing that folder."""
    import pkgutil

    from affiliate_matrix import sources

    sources.all_sources()  # (imported by then in any process that indexes)
    rt, _ = _runtime(tmp_path)
    index_batch(rt, _batch(rt, "$100 per sale"))
    listed = []
    real = pkgutil.iter_modules
    monkeypatch.setattr(pkgutil, "iter_modules", lambda *args, **kwargs: listed.append(args) or real(*args, **kwargs))
    assert index_batch(rt, _batch(rt)).updated == len(NAMES)
    assert listed == []
