"""The change feed as a reader polling it reads it: batches indexed by the index function on raw.batch.stored events
(tests/support/indexing.py's Index), read back through GET /changes, resuming `since` the newest
recorded_at read. When a delta is recorded is the deltas module's clock, a test's own here (no sleeps)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

import affiliate_matrix.deltas as deltas
from affiliate_matrix.deltas import DELTAS_INDEX, diff
from affiliate_matrix.search import IndexSpec
from tests.support.indexing import BACKENDS, T1, T2, Index, on_backend, record
from tests.support.clock import ManualWallClock
from tests.support.factories import make_program

RECORDED = T2 + timedelta(days=3)  # the indexing code's clock: after every observation of these tests


@pytest.fixture
def clock(monkeypatch):
    clock = ManualWallClock(RECORDED)
    monkeypatch.setattr(deltas, "clock", clock)
    return clock


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path, monkeypatch):
    """On each backend (the feed's order, its `since` and the migration are the search port's)."""
    on_backend(request, tmp_path, monkeypatch)
    return Index(tmp_path)


def poll(index: Index, since: str | None = None) -> list[dict]:
    return index.get("/changes?limit=100" + (f"&since={quote(since)}" if since else ""))["items"]


def test_a_batch_observed_earlier_but_indexed_after_a_poll_is_in_the_next_poll(index, clock):
    """The feed was ordered by, and `since` filtered on, when a change was observed (at, the pages' fetch time): a
    batch fetched before another but indexed after a reader's poll (a long crawl, a redelivered event) had changes
    dated before the newest one the reader had read, and a reader polling since that newest at never saw them."""
    index.batch(record("dira", "Acme Shoes", "https://acmeshoes.com/", at=T2, commission_text="10% per sale"))
    first = poll(index)
    assert len(first) == 1
    newest = first[0]["recorded_at"]

    clock.advance(timedelta(minutes=5))  # a slow crawl's batch, fetched a day before, lands after the poll
    index.batch(record("dirb", "Zed Tools", "https://zedtools.com/", at=T1, commission_text="$40 per sale"))
    late = [item for item in poll(index, newest) if item["id"] not in {i["id"] for i in first}]
    assert len(late) == 1 and late[0]["program_id"] != first[0]["program_id"]
    assert late[0]["at"] < first[0]["at"] and late[0]["recorded_at"] > newest
    assert [item["id"] for item in poll(index)][0] == late[0]["id"]  # newest recorded first, whatever its at


def test_the_feed_is_ordered_by_when_each_change_was_recorded_then_id(index, clock):
    index.batch(record("dira", "Acme Shoes", "https://acmeshoes.com/", at=T1, commission_text="10% per sale"),
                record("dira", "Bravo Books", "https://bravobooks.com/", at=T1, commission_text="5% per sale"))
    clock.advance(timedelta(seconds=1))
    index.batch(record("dirb", "Zed Tools", "https://zedtools.com/", at=T1 - timedelta(days=9),
                       commission_text="$40 per sale"))
    items = poll(index)
    assert [item["recorded_at"] for item in items] == sorted((item["recorded_at"] for item in items), reverse=True)
    assert items[0]["at"] < items[1]["at"]  # the late batch first: it was recorded last
    assert items[1]["recorded_at"] == items[2]["recorded_at"] and items[1]["id"] > items[2]["id"]


def test_a_rerun_of_a_batch_adds_nothing_new_by_id(index, clock):
    """A redelivered event (or a replay) indexes the same batch again: the feed holds the same deltas by id."""
    key = index.batch(record("dira", "Acme Shoes", "https://acmeshoes.com/", at=T1, commission_text="10% per sale"))
    before = poll(index)
    clock.advance(timedelta(minutes=5))
    index.again(key)
    after = poll(index)
    assert {item["id"] for item in after} == {item["id"] for item in before}
    assert {item["id"] for item in poll(index, before[0]["recorded_at"])} <= {item["id"] for item in before}


def test_a_migrated_v1_deltas_index_keeps_every_delta_readable(index, clock):
    """`amx index migrate deltas` copies a v1 index's deltas (written before deltas carried recorded_at) into v2
    with recorded_at = at, so the feed serves, orders and filters every one of them."""
    from affiliate_matrix.cli import app

    v1 = IndexSpec("deltas", 1, {k: v for k, v in DELTAS_INDEX.fields.items() if k != "recorded_at"})
    changes = [diff(None, make_program(name, f"https://{name.lower()}.com"),
                    at=T1 + timedelta(hours=hour), source="dira") for hour, name in enumerate(["Alpha", "Bravo"])]
    index.rt.index.ensure_index(v1)
    written = [{k: v for k, v in deltas.to_document(d).items() if k != "recorded_at"} for d in changes]
    assert index.rt.index.bulk_upsert("deltas", written, refresh=True).errors == []

    result = CliRunner().invoke(app, ["index", "migrate", "deltas"])
    assert result.exit_code == 0, result.output
    assert index.rt.index.status("deltas").current == DELTAS_INDEX.version

    items = poll(index)
    assert [item["id"] for item in items] == [changes[1].id, changes[0].id]
    assert [item["recorded_at"] for item in items] == [item["at"] for item in items]
    assert [item["id"] for item in poll(index, items[0]["at"])] == [changes[1].id]

    clock.advance(timedelta(minutes=1))  # a delta recorded since the migration is the newest
    index.batch(record("dirb", "Zed Tools", "https://zedtools.com/", at=T1, commission_text="$40 per sale"))
    assert [item["program_id"] for item in poll(index, items[0]["recorded_at"])][0] not in {
        c.program_id for c in changes}


def test_a_damaged_delta_is_named_and_the_feed_answers(index):
    """A delta of the index whose stored change is not an object (or not of a change's shape) made GET /changes a 500
    (an uncaught TypeError: not even a JSON error) for every page it was on. Now the page answers, the damaged one left
    out and named by its id as a list of stored documents names one (errors, X-Damaged-Items), and `amx changes`
    names it below its table."""
    from affiliate_matrix.cli import app
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    good = diff(None, make_program("Shop", "https://shop.com"), at=T1, source="test")
    rt = index.rt
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    when = {"at": T2.isoformat(), "recorded_at": T2.isoformat(), "program_id": good.program_id}
    assert rt.index.bulk_upsert(DELTAS_INDEX.name, [
        deltas.to_document(good, recorded_at=T1), {"id": "d_list", "delta": ["not", "a change"], **when},
        {"id": "d_shape", "delta": {**good.model_dump(mode="json"), "id": "d_shape", "change": "exploded"}, **when},
    ], refresh=True).errors == []
    for query in ("", f"?program_id={good.program_id}"):
        answer = index.api.get(f"/changes{query}", headers=index.auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert [item["id"] for item in answer.json["items"]] == [good.id], answer.json
        assert answer.headers["X-Damaged-Items"] == "2"
        assert sorted(bad["key"] for bad in answer.json["errors"]) == ["d_list", "d_shape"], answer.json
        assert "exploded" not in answer.get_data(as_text=True)
    listed = CliRunner().invoke(app, ["changes"], env={"AMX_DATA_DIR": str(rt.settings.data_dir), "COLUMNS": "200"})
    assert listed.exit_code == 0 and "d_list" in listed.output and "d_shape" in listed.output, listed.output
    assert "3 changes, newest recorded first" in listed.output and "--limit" not in listed.output  # none cut by it
