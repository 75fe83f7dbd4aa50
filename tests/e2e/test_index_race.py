"""Two index runs at once (every connection syncs at 03:00) touching one program: both runs' claims stay on it.

Each run is its own Runtime on one data directory, as two function instances on one index are. Run A is held
right after it reads the programs its batch touches (threading.Event, no sleeps) while run B indexes its batch whole;
then A goes on. A wrote its merge of the program as it read it, and B's claims were gone from the program while the
change feed still showed B's change.
"""

import threading
import uuid
from datetime import timedelta

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.merge import claimant
from affiliate_matrix.pipeline import index_batch, withdraw_connection
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.factories import make_record
from tests.support.interleave import interleaved


@pytest.fixture(params=["sqlite", pytest.param("opensearch", marks=pytest.mark.slow)])
def settings(request, tmp_path) -> Settings:
    """One store and one index for every Runtime of a test, as function instances share them."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path)
    node = request.getfixturevalue("opensearch_node")
    return Settings(data_dir=tmp_path, search="opensearch", opensearch_url=node.url,
                    index_prefix=f"t{uuid.uuid4().hex[:10]}")


def _batch(rt, connection_id, commission, later=timedelta(0)):
    record = make_record("Semrush", "https://semrush.com/", commission_text=commission)
    record = record.model_copy(update={"connection_id": connection_id, "record_key": f"semrush-{connection_id}",
                                       "fetched_at": record.fetched_at + later})
    return rt.store.put_content_addressed("batches/test", record.model_dump_json().encode(), suffix=".jsonl")


def _held_after_its_read(rt, read_done: threading.Event, go_on: threading.Event) -> None:
    """Run A's index: its first read of the programs signals `read_done`, then waits for `go_on`."""
    index, held = rt.index, []

    def holding(method):
        def read(name, *args, **kwargs):
            found = method(name, *args, **kwargs)
            if name == PROGRAMS_INDEX.name and not held:
                held.append(True)
                read_done.set()
                assert go_on.wait(60), "run B did not finish"
            return found
        return read

    for method in ("get_many", "get_versioned"):  # (whichever the index run reads its programs with)
        if hasattr(index, method):
            setattr(index, method, holding(getattr(index, method)))


def _interleaved(held_rt, held, meanwhile):
    """`held` (a run on `held_rt`, in a thread) up to just after its read of the programs, then `meanwhile` whole on
    this thread, then the rest of `held`: what each returned."""
    return interleaved(lambda read_done, go_on: _held_after_its_read(held_rt, read_done, go_on), held, meanwhile)


def _claimants(rt) -> set:
    (hit,) = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=10)).hits
    return {claimant(c) for c in from_document(hit.doc).provenance["name"]}


def test_two_index_runs_at_once_keep_both_runs_claims_on_a_program(settings):
    run_a, run_b = (Runtime("test", settings) for _ in range(2))
    first = _batch(run_a, "c0", "$100 per sale")
    index_batch(run_a, first)  # the program both runs touch, indexed before
    batch_a, batch_b = _batch(run_a, "c1", "$150 per sale"), _batch(run_b, "c2", "$200 per sale")
    # the whole of run B, while A holds what it read
    report_a, report_b = _interleaved(run_a, lambda: index_batch(run_a, batch_a), lambda: index_batch(run_b, batch_b))
    assert report_b.errors == [] and report_a.errors == []
    assert _claimants(run_a) == {("test", "c0"), ("test", "c1"), ("test", "c2")}
    # the feed shows each run's change, and the program is as the feed's last change left it
    feed = run_a.index.search("deltas", SearchQuery(size=100)).hits
    assert {h.doc["program_id"] for h in feed} == {h.id for h in run_a.index.search(
        PROGRAMS_INDEX.name, SearchQuery(size=10)).hits}
    assert {d.id for d in report_b.deltas} <= {h.id for h in feed}
    assert {d.id for d in report_a.deltas} <= {h.id for h in feed}


def test_a_program_changed_at_every_round_fails_the_run_for_redelivery_with_nothing_half_written(settings):
    """Past WRITE_ROUNDS conflicts the event fails (503) to be delivered again: no delta of an unwritten change stays
    in the feed or in the pending list, and the redelivery, the other runs done, writes it."""
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.pipeline import WRITE_ROUNDS

    rt = Runtime("test", settings)
    index_batch(rt, _batch(rt, "c0", "$100 per sale"))
    batch = _batch(rt, "c1", "$150 per sale")
    index, writes = rt.index, []
    real_write = index.write_if_unchanged

    def another_run_first(name, docs, **options):  # another run changes each program just before this one writes
        docs = list(docs)
        writes.append(len(docs))
        changed = [index.get(name, doc["id"]) for doc, _ in docs]
        for doc in changed:  # (a field an index run keeps as it finds it)
            doc["program"] = {**doc["program"], "misses": len(writes)}
        assert index.bulk_upsert(name, changed, refresh=True).errors == []
        return real_write(name, docs, **options)

    index.write_if_unchanged = another_run_first
    feed_before = {h.id for h in index.search("deltas", SearchQuery(size=100)).hits}
    with pytest.raises(BackendUnavailable):
        index_batch(rt, batch)
    assert len(writes) == WRITE_ROUNDS
    assert {h.id for h in index.search("deltas", SearchQuery(size=100)).hits} == feed_before
    assert list(rt.store.list("pending/")) == []
    index.write_if_unchanged = real_write
    report = index_batch(rt, batch)  # the event delivered again
    assert report.errors == [] and _claimants(rt) == {("test", "c0"), ("test", "c1")}


def test_a_withdrawal_beside_an_index_run_keeps_the_runs_claims(settings):
    """A connection deleted while another connection's run indexes the same program: the withdrawal wrote the program
    as it read it, less the deleted connection's claims, and the run's new terms were gone."""
    withdrawing, run = (Runtime("test", settings) for _ in range(2))
    for connection_id in ("c1", "c2"):
        index_batch(run, _batch(run, connection_id, "$100 per sale"))
    newer = _batch(run, "c2", "$300 per sale", later=timedelta(hours=1))
    at = newer_at(run)
    # c2's run, while the withdrawal holds what it read
    withdrawn, meanwhile = _interleaved(withdrawing, lambda: withdraw_connection(withdrawing, "c1", "test", at),
                                        lambda: index_batch(run, newer))
    assert meanwhile.errors == []
    assert _claimants(run) == {("test", "c2")}
    (hit,) = run.index.search(PROGRAMS_INDEX.name, SearchQuery(size=10)).hits
    assert hit.doc["program"]["commission_text"] == "$300 per sale"


def newer_at(rt):
    """When the deletion is: after every sighting so far (the withdrawal's `at`)."""
    (hit,) = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=10)).hits
    return from_document(hit.doc).last_seen_at + timedelta(minutes=1)


def test_a_run_that_finds_the_program_created_meanwhile_reports_it_updated(settings):
    """Two runs at once each list a program new to the index: the one re-merging after the other created it updated
    it, and says so (its report counted from its first read, where the program was absent, said created)."""
    run_a, run_b = (Runtime("test", settings) for _ in range(2))
    batch_a, batch_b = _batch(run_a, "c1", "$150 per sale"), _batch(run_b, "c2", "$200 per sale")
    # run B creates the program A read absent
    report_a, report_b = _interleaved(run_a, lambda: index_batch(run_a, batch_a), lambda: index_batch(run_b, batch_b))
    assert (report_b.created, report_b.updated) == (1, 0)
    assert (report_a.created, report_a.updated, report_a.unchanged) == (0, 1, 0)
    assert _claimants(run_a) == {("test", "c1"), ("test", "c2")}


def _offers_batch(rt, keys, later):
    """One run of connection c1 listing offers `keys` of one merchant (Semrush)."""
    lines = []
    for key in keys:
        record = make_record("Semrush", "https://semrush.com/", commission_text=f"${key[-1]}00 per sale")
        lines.append(record.model_copy(update={"connection_id": "c1", "record_key": key,
                                               "fetched_at": record.fetched_at + later}).model_dump_json())
    return rt.store.put_content_addressed("batches/test", "\n".join(lines).encode(), suffix=".jsonl")


def test_a_re_merge_keeps_the_unreached_offers_of_the_program_as_read_again(settings, monkeypatch):
    """Two incomplete runs of one API connection at once: the later run, re-merging after the earlier wrote a newer
    sighting (offers k1 k3, k2 kept), kept the offers it did not reach from its first read (k2), and k3 was gone."""
    monkeypatch.setattr("affiliate_matrix.pipeline.runs_complete", lambda source: True)  # (the test source as an API)
    run_a, run_b = (Runtime("test", settings) for _ in range(2))
    index_batch(run_a, _offers_batch(run_a, ["k1", "k2"], timedelta(0)))
    batch_a = _offers_batch(run_a, ["k1"], timedelta(hours=2))
    batch_b = _offers_batch(run_b, ["k1", "k3"], timedelta(hours=1))
    report_a, report_b = _interleaved(run_a, lambda: index_batch(run_a, batch_a), lambda: index_batch(run_b, batch_b))
    assert report_a.errors == [] and report_b.errors == []
    (hit,) = run_a.index.search(PROGRAMS_INDEX.name, SearchQuery(size=10)).hits
    assert [record.record_key for record in from_document(hit.doc).records] == ["k1", "k2", "k3"]


def test_an_import_beside_an_index_run_is_kept_and_the_run_merges_onto_it(settings, tmp_path):
    """`amx import programs` writes whole programs by id and reads none first, so it cannot write over a run's change
    it did not see: a run that read the program before the import wrote it re-merges onto the imported program."""
    from affiliate_matrix.exchange import import_programs
    from tests.support.factories import make_program

    run = Runtime("test", settings)
    index_batch(run, _batch(run, "c0", "$100 per sale"))
    imported = make_program("Semrush", "https://semrush.com/", commission_text="$999 per sale")
    (tmp_path / "programs.jsonl").write_text(imported.model_dump_json() + "\n")
    batch, importer = _batch(run, "c1", "$150 per sale"), Runtime("test", settings)
    report, imports = _interleaved(run, lambda: index_batch(run, batch),
                                   lambda: import_programs(importer, tmp_path / "programs.jsonl", "jsonl"))
    assert imports.written == 1
    assert report.errors == []
    assert _claimants(run) == {("test", "c"), ("test", "c1")}  # the import's program (c0 gone with it), the run's
