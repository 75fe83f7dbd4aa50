"""The retention job: each time-stamped index keeps documents for its window, no longer."""

from datetime import UTC, datetime, timedelta

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import ConfigError
from affiliate_matrix.observability.figures import METRICS_INDEX, metric
from affiliate_matrix.retention import apply, windows
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.indexing import BACKENDS, on_backend

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_old_documents_go_and_recent_ones_stay(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="metrics=30,deltas=400"))
    rt.index.ensure_index(METRICS_INDEX)
    docs = [metric("m", i, {"n": str(i)}, NOW - timedelta(days=i), f"d{i}") for i in range(60)]
    rt.index.bulk_upsert(METRICS_INDEX.name, docs, refresh=True)
    # 30 days old and older go; no deltas index yet; the local store leaves no tombstones
    assert apply(rt, NOW) == {"metrics": 30, "deltas": 0, "dead_letters": 0, "discovery_seen": 0, "deletion_marks": 0,
                              "tombstones": 0}
    kept = rt.index.search(METRICS_INDEX.name, SearchQuery(size=100)).hits
    assert sorted(int(h.doc["value"]) for h in kept) == list(range(30))


def test_an_unknown_index_is_a_configuration_error():
    with pytest.raises(ConfigError, match="no retention for programs"):
        windows("programs=30")


@pytest.mark.parametrize("setting,problem", [("deltas=400,metrics=0", "metrics=0"),
                                             ("metrics=99999999999", "metrics=99999999999")])
def test_a_window_of_no_days_or_past_any_date_is_a_configuration_error_that_deletes_nothing(tmp_path, setting,
                                                                                          problem):
    """`metrics=0` (which many tools read as "keep for ever") deleted every metric, every day, and `deltas=0` the
    whole change feed; a window past any date was an OverflowError out of the daily job. Both are now a
    configuration error naming the window, before anything is deleted."""
    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days=setting))
    rt.index.ensure_index(METRICS_INDEX)
    rt.index.bulk_upsert(METRICS_INDEX.name, [metric("m", 1, {}, NOW - timedelta(days=1), "d1")], refresh=True)
    with pytest.raises(ConfigError, match=problem):
        apply(rt, NOW)
    assert rt.index.search(METRICS_INDEX.name, SearchQuery()).total == 1


@pytest.mark.parametrize("setting", ["0", "90", "deltas=400;metrics=30", "deltas: 400"])
def test_a_retention_setting_not_of_windows_per_index_is_refused_in_words(setting, monkeypatch):
    """`AMX_RETENTION_DAYS=90` (one number, as the other two retention settings take) or `0` was refused as the
    pattern's own riddle: "String should match pattern '^([a-z]+=\\d+)(,[a-z]+=\\d+)*$'"."""
    from affiliate_matrix.config import load_settings

    monkeypatch.setenv("AMX_RETENTION_DAYS", setting)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value) == (
        "AMX_RETENTION_DAYS: a window per index, as index=days, comma-separated (deltas=400,metrics=400,activations=90,"
        f"queries=30); an index not named keeps its documents (got {setting!r})")


def test_dead_letters_are_kept_for_their_window_from_when_they_were_parked(tmp_path):
    """Dead letters (dead-letters/<type>/, an event each, up to 4 MB) were kept for good, the bucket's to grow without
    bound. The retention job removes those parked more than AMX_RETENTION_DEAD_LETTERS_DAYS (30) ago, by the date
    the store recorded for each; other documents as old stay."""
    import os

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="queries=30"))
    assert rt.settings.retention_dead_letters_days == 30
    ages = {"dead-letters/dev.affiliatematrix.program.delta/old.json": 31,
            "dead-letters/dev.affiliatematrix.program.delta/recent.json": 29,
            "rules/old.json": 400}
    for key, days in ages.items():
        rt.store.put(key, b"{}", content_type="application/json")
        parked = (NOW - timedelta(days=days)).timestamp()
        os.utime(rt.store.root / key, (parked, parked))
    assert apply(rt, NOW)["dead_letters"] == 1
    assert list(rt.store.list("dead-letters/")) == ["dead-letters/dev.affiliatematrix.program.delta/recent.json"]
    assert rt.store.head("rules/old.json") is not None
    shorter = Runtime("test", Settings(data_dir=tmp_path, retention_days="queries=30", retention_dead_letters_days=7))
    assert apply(shorter, NOW)["dead_letters"] == 1 and list(rt.store.list("dead-letters/")) == []


def test_discovery_forgets_a_judged_site_after_its_window_and_judges_it_again(tmp_path):
    """Discovery's decisions (discovery/seen/, a site each) were kept for good: the store grew with every site a
    search ever returned, and a site without a program when judged was skipped for ever. The retention job forgets
    those judged more than AMX_RETENTION_DISCOVERY_SEEN_DAYS (180) ago, by the date the store recorded; a later run
    then judges the site again. The review list, for people, stays."""
    import json
    import os

    from affiliate_matrix.discovery.run import judged_domains, review_key, seen_key

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="queries=30"))
    assert rt.settings.retention_discovery_seen_days == 180
    ages = {seen_key("old-shop.example"): 181, seen_key("new-shop.example"): 179, review_key("old-shop.example"): 400}
    for key, days in ages.items():
        rt.store.put(key, json.dumps({"domain": key.rpartition("/")[2].removesuffix(".json")}).encode(),
                     content_type="application/json")
        judged = (NOW - timedelta(days=days)).timestamp()
        os.utime(rt.store.root / key, (judged, judged))
    assert judged_domains(rt, ["old-shop.example", "new-shop.example"]) == {"old-shop.example", "new-shop.example"}
    assert apply(rt, NOW)["discovery_seen"] == 1
    assert judged_domains(rt, ["old-shop.example", "new-shop.example"]) == {"new-shop.example"}
    assert rt.store.head(review_key("old-shop.example")) is not None


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path, monkeypatch):
    """The search port each index's retention runs on (the retention job's delete_before and the index's version)."""
    on_backend(request, tmp_path, monkeypatch)


def test_deltas_are_kept_for_their_window_from_when_they_were_recorded(tmp_path, backend):
    """The change feed is ordered and resumed by recorded_at; retention went by `at`, so a batch observed long ago
    and recorded just now (a replay, a late crawl) was deleted before a reader had polled it."""
    from affiliate_matrix import deltas
    from affiliate_matrix.models import DeltaChange

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="deltas=30"))
    rt.index.ensure_index(deltas.DELTAS_INDEX)

    def doc(name, observed_days, recorded_days):
        at = NOW - timedelta(days=observed_days)
        delta = DeltaChange(id=name, program_id="p", change="created", at=at, source="awin")
        return deltas.to_document(delta, recorded_at=NOW - timedelta(days=recorded_days))

    docs = [doc("late", 400, 1), doc("old", 40, 31), doc("recent", 2, 2)]
    rt.index.bulk_upsert(deltas.DELTAS_INDEX.name, docs, refresh=True)
    assert apply(rt, NOW)["deltas"] == 1
    kept = rt.index.search(deltas.DELTAS_INDEX.name, SearchQuery(size=10)).hits
    assert sorted(h.doc["id"] for h in kept) == ["late", "recent"]


def test_deltas_not_yet_migrated_to_v2_go_by_when_they_were_observed(tmp_path, backend):
    """Deltas v1 has no recorded_at (`amx index migrate deltas` fills it with `at`): until migrated, retention dates
    them by `at` rather than failing the whole job (every other index's retention and the dead letters with it)."""
    from affiliate_matrix.search import IndexSpec

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="deltas=30,metrics=30"))
    rt.index.ensure_index(IndexSpec("deltas", 1, {"id": "keyword", "at": "date", "delta": "stored"}))
    rt.index.ensure_index(METRICS_INDEX)
    rt.index.bulk_upsert("deltas", [{"id": f"d{i}", "at": (NOW - timedelta(days=i)).isoformat(), "delta": {}}
                                    for i in (1, 40)], refresh=True)
    rt.index.bulk_upsert(METRICS_INDEX.name, [metric("m", 1, {}, NOW - timedelta(days=40), "old")], refresh=True)
    assert apply(rt, NOW) == {"deltas": 1, "metrics": 1, "dead_letters": 0, "discovery_seen": 0, "deletion_marks": 0,
                              "tombstones": 0}


def test_deletion_marks_go_once_their_connection_is_no_longer_stored_as_it_was_marked(tmp_path):
    """The first delivery of a connection.deleted event to find the connection still stored as it was deleted leaves
    a mark (pending/deletions/), which a later delivery removes: an event parked as a dead letter for another reason
    left its mark for good. Retention removes the marks of connections no longer stored with the ETag marked (deleted,
    or written since: edited, or fenced); the mark of one still stored so is kept (its event may yet be re-posted)."""
    from affiliate_matrix.connections import (DELETION_MARKS, Connection, connection_key, deletion_event,
                                              deletion_mark, load_connection, save_connection)
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.pipeline import withdraw_announced

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="queries=30"))
    etags = {}
    for connection_id in ("deleted", "edited", "waiting"):
        save_connection(rt.store, Connection(id=connection_id, source="cj"), create=True)
        connection, etags[connection_id] = load_connection(rt.store, connection_id)
        with pytest.raises(BackendUnavailable, match="still under way"):  # the first delivery leaves its mark
            withdraw_announced(rt, deletion_event(connection, etags[connection_id]))
    rt.store.delete(connection_key("deleted"), if_match=etags["deleted"])
    edited, _ = load_connection(rt.store, "edited")
    save_connection(rt.store, edited.model_copy(update={"version": 1}), if_match=etags["edited"])
    assert len(list(rt.store.list(DELETION_MARKS))) == 3
    assert apply(rt, NOW)["deletion_marks"] == 2
    assert list(rt.store.list(DELETION_MARKS)) == [deletion_mark("waiting", etags["waiting"])]
    assert apply(rt, NOW)["deletion_marks"] == 0


def test_activation_records_go_with_the_activations_window(tmp_path):
    """Each rule firing writes a record to the store (activations/<day>/, rules/activations/ before), which nothing
    removed: the bucket's to grow with every firing for good. They go by the activations index's window."""
    import os

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="activations=90"))
    ages = {"activations/2026-08-01/a_old.json": 91, "activations/2026-11-20/a_recent.json": 2,
            "rules/activations/a_older.json": 200, "rules/r1.json": 400}
    for key, days in ages.items():
        rt.store.put(key, b"{}", content_type="application/json")
        written = (NOW - timedelta(days=days)).timestamp()
        os.utime(rt.store.root / key, (written, written))
    assert apply(rt, NOW)["activation_records"] == 2
    assert sorted(rt.store.list("")) == ["activations/2026-11-20/a_recent.json", "rules/r1.json"]
    assert "activation_records" not in apply(Runtime("test", Settings(data_dir=tmp_path, retention_days="queries=30")),
                                             NOW)  # no activations window set: kept


def test_a_tick_dated_after_the_stores_own_time_is_refused_and_deletes_nothing(tmp_path):
    """The tick's time dates the run: a tick dated 2100 (from whoever may tick the index function) deleted every
    document of every window. One dated after the store's own time of a record it writes is refused now."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.events import Event
    from affiliate_matrix.handlers.index import index_event
    from affiliate_matrix.localrun.plan import PING_TYPE

    rt = Runtime("test", Settings(data_dir=tmp_path, retention_days="metrics=30"))
    rt.index.ensure_index(METRICS_INDEX)
    docs = [metric("m", i, {"n": str(i)}, NOW - timedelta(days=i), f"d{i}") for i in range(60)]
    rt.index.bulk_upsert(METRICS_INDEX.name, docs, refresh=True)
    tick = Event.make(PING_TYPE, "/cron/retention", {"task": "retention"})
    with pytest.raises(InvalidInput, match="the retention tick is dated 2100-01-01T00:00:00[+]00:00, after the object "
                                           "store's own time"):
        index_event(rt, tick.model_copy(update={"time": datetime(2100, 1, 1, tzinfo=UTC)}))
    assert rt.index.search(METRICS_INDEX.name, SearchQuery(size=0)).total == 60
    index_event(rt, tick.model_copy(update={"time": NOW}))  # a tick of its time: runs
    assert rt.index.search(METRICS_INDEX.name, SearchQuery(size=0)).total == 30


def test_amx_retention_runs_the_job_by_hand_dated_by_the_object_stores_own_time(tmp_path, monkeypatch):
    """On the embedded defaults no daily tick comes without `amx up`: dead letters, metrics and the rest grew for good.
    `amx retention` runs the job, dated by when the store wrote its record (a file's time here), no machine's clock."""
    import os
    import time

    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_RETENTION_DAYS", "metrics=30")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    stored_now = datetime.fromtimestamp(time.time(), UTC)  # what the store's files are dated by
    rt.index.ensure_index(METRICS_INDEX)
    rt.index.bulk_upsert(METRICS_INDEX.name, [metric("m", i, {}, stored_now - timedelta(days=20 * i), f"d{i}")
                                              for i in range(3)], refresh=True)  # 0, 20 and 40 days old
    for key, days in {"dead-letters/t/old.json": 31, "dead-letters/t/recent.json": 29}.items():
        rt.store.put(key, b"{}", content_type="application/json")
        parked = (stored_now - timedelta(days=days)).timestamp()
        os.utime(rt.store.root / key, (parked, parked))
    result = CliRunner().invoke(app, ["retention"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "(the object store's time): deleted 1 metric, 1 dead letter, 0 discovery decisions" in result.output, \
        result.output
    # what each keeps, and that an index no window names keeps its documents for ever (AMX_RETENTION_DAYS=metrics=30)
    said = " ".join(result.output.split())
    assert "kept: metrics 30 days, dead letters 30 days, discovery decisions 180 days; for ever (not in " \
           "AMX_RETENTION_DAYS): changes, activations, logged queries" in said, said
    assert list(rt.store.list("dead-letters/")) == ["dead-letters/t/recent.json"]
    assert rt.index.search(METRICS_INDEX.name, SearchQuery()).total == 2
