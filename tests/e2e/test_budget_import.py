"""A budget CSV import is never left half-written without the user knowing: the file, once checked, is stored as one
journal (budget/imports/<sha256>.json), written campaign by campaign, then the journal removed. A write that fails
midway names the campaigns written and not, and the same file imported again finishes it; a campaign changed
under the import (deleted, its currency, its window) is named and the others are written; the daily run reports an
import left unfinished. Each failure is made at the store, by a real change to a stored object between the import's
check and its writes."""

import hashlib
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.budget.campaigns import (Campaign, delete_days, history, import_csv, metrics_key, record_days,
                                               save_campaign)
from affiliate_matrix.budget.run import run_allocation
from affiliate_matrix.errors import BackendUnavailable, ImportIncomplete, InvalidInput
from affiliate_matrix.storage.local import LocalObjectStore
from tests.e2e.test_budget import START, csv_for, rt  # noqa: F401 - rt: the fixture

CAMPAIGNS = ("search-1", "social-1", "email-1")


def before_the_write_of(monkeypatch, key: str, change) -> None:
    """`change(store)` is done once, right before the first write of `key` (the import's check is over by then):
    another writer's work in between, or, when it raises, that write failing."""
    put, done = LocalObjectStore.put, []

    def put_after_change(store, written_key, data, **kwargs):
        if written_key == key and not done:
            done.append(key)
            change(store)
        return put(store, written_key, data, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "put", put_after_change)


def unavailable(store):
    raise BackendUnavailable("PUT budget/metrics/social-1.json: 503 Slow Down")


def days_of(rt) -> dict[str, int]:  # noqa: F811 - rt: the fixture
    return {cid: len(history(rt.store, cid)) for cid in CAMPAIGNS}


def journals(rt) -> list[str]:  # noqa: F811
    return list(rt.store.list("budget/imports/"))


def test_a_write_failing_midway_names_the_campaigns_and_the_same_file_again_finishes_it(rt, monkeypatch):  # noqa: F811
    """Before: search-1 was written, social-1's write failed, email-1 was never written, and the user was told only
    the store's error."""
    data = csv_for(5).encode()
    before_the_write_of(monkeypatch, metrics_key("social-1"), unavailable)
    with pytest.raises(ImportIncomplete) as stopped:
        import_csv(rt, data)
    said = str(stopped.value)
    assert "503 Slow Down" in said
    assert "written: search-1 (5 days)" in said and "not written: social-1, email-1" in said
    assert "to finish it, import the same file again" in said
    assert days_of(rt) == {"search-1": 5, "social-1": 0, "email-1": 0}
    assert journals(rt) == [f"budget/imports/{hashlib.sha256(data).hexdigest()}.json"]
    assert import_csv(rt, data) == {"social-1": 5, "email-1": 5, "search-1": 5}  # search-1: written before
    assert days_of(rt) == {"search-1": 5, "social-1": 5, "email-1": 5} and journals(rt) == []


def test_an_import_stopped_dead_is_reported_by_the_daily_run_until_it_is_finished(rt, monkeypatch):  # noqa: F811
    """A process killed midway (nothing after the failure runs) leaves its journal: the run says so, in its log and
    in the stored run, and the same file again finishes the import."""

    class Killed(BaseException):
        pass

    def killed(store):
        raise Killed

    data = csv_for(20).encode()
    before_the_write_of(monkeypatch, metrics_key("email-1"), killed)
    with pytest.raises(Killed):
        import_csv(rt, data)
    journal = journals(rt)
    assert len(journal) == 1
    with capture_logs() as logs:
        run = run_allocation(rt, START + timedelta(days=20))
    assert run.pending_imports == journal
    assert [entry["journals"] for entry in logs if entry["event"] == "budget.import_pending"] == [journal]
    import_csv(rt, data)
    assert days_of(rt) == {cid: 20 for cid in CAMPAIGNS} and journals(rt) == []
    assert run_allocation(rt, START + timedelta(days=21)).pending_imports == []


def test_a_campaign_deleted_midway_is_named_and_the_others_are_written(rt, monkeypatch):  # noqa: F811
    """Before: email-1, deleted after the check, got its days written all the same (a campaign added again under its
    id inherited them), and nobody was told."""
    def deleted(store):
        store.delete("budget/campaigns/email-1.json")
        delete_days(store, "email-1")

    before_the_write_of(monkeypatch, metrics_key("search-1"), deleted)
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, csv_for(4).encode())
    said = str(refused.value)
    assert "campaign email-1 was deleted while the file was imported: its 4 days were not written" in said
    assert "written: search-1, social-1" in said
    assert days_of(rt) == {"search-1": 4, "social-1": 4, "email-1": 0}
    assert rt.store.head(metrics_key("email-1")) is None and journals(rt) == []


def test_a_window_moved_under_the_import_refuses_that_campaign_only(rt, monkeypatch):  # noqa: F811
    """Before: social-1's refusal (its newest day moved years on by another write) stopped the import with search-1
    written and email-1 not."""
    def moved(store):
        record_days(rt, Campaign(id="social-1", name="social-1", channel="social", currency="USD"),
                    [{"date": START + timedelta(days=4000), "spend": 1.0, "revenue": 2.0}])

    before_the_write_of(monkeypatch, metrics_key("search-1"), moved)
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, csv_for(3).encode())
    said = " ".join(str(refused.value).split())
    assert "campaign social-1: days: " in said and "its 3 days were not written" in said
    assert "written: search-1, email-1" in said
    assert days_of(rt) == {"search-1": 3, "social-1": 1, "email-1": 3} and journals(rt) == []


def test_a_currency_changed_under_the_import_is_refused_not_written_in_the_old_one(rt, monkeypatch):  # noqa: F811
    """Before: email-1 (no days yet) changed to EUR after the check, and its days were written as USD under a EUR
    campaign: the run then allocated dollars as euros."""
    def changed(store):
        save_campaign(store, Campaign(id="email-1", name="email-1", channel="email", currency="EUR"))

    before_the_write_of(monkeypatch, metrics_key("search-1"), changed)
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, csv_for(2).encode())
    said = str(refused.value)
    assert "campaign email-1: currency: its days are in USD, and the campaign is now in EUR" in said
    assert days_of(rt) == {"search-1": 2, "social-1": 2, "email-1": 0}


def test_the_command_names_the_campaigns_and_how_to_finish(rt, tmp_path, monkeypatch, capsys):  # noqa: F811
    from affiliate_matrix.cli import main

    path = tmp_path / "days.csv"
    path.write_text(csv_for(3))
    before_the_write_of(monkeypatch, metrics_key("social-1"), unavailable)
    monkeypatch.setattr("sys.argv", ["amx", "budget", "import", str(path)])
    with pytest.raises(SystemExit) as exited:
        main()
    said = " ".join(capsys.readouterr().err.split())
    assert exited.value.code == 2
    assert "written: search-1 (3 days)" in said and "not written: social-1, email-1" in said
    assert f"amx budget import {path}" in said
    journal = journals(rt)[0]
    monkeypatch.setattr("sys.argv", ["amx", "budget", "forecast", "--from-store", "--json"])
    with pytest.raises(SystemExit):
        main()
    said = capsys.readouterr()
    assert f"imports not finished ({journal})" in " ".join(said.err.split()) and said.out.startswith("{")
    monkeypatch.undo()
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.argv", ["amx", "budget", "import", str(path)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert "imported 9 day(s) for 3 campaign(s)" in " ".join(capsys.readouterr().out.split())
    assert days_of(rt) == {cid: 3 for cid in CAMPAIGNS} and journals(rt) == []
