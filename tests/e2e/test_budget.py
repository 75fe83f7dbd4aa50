"""Budgeting end to end: campaigns, CSV import, performance over HTTP, the daily run through the
budget function (CloudEvents over HTTP to a receiver standing in for the Broker), pacing alerts,
the PNG report, and the mirror in the budget index (SQLite here, the real OpenSearch node below)."""

import hashlib
import json
from datetime import date, timedelta

import numpy as np
import pytest
from functions_framework import create_app
from structlog.testing import capture_logs

from affiliate_matrix.budget.campaigns import (Campaign, history, import_csv, metrics_key, record_days,
                                               save_campaign, sweep_days)
from affiliate_matrix.budget.report import FRAME_COLOUR, report
from affiliate_matrix.budget.run import Pacing, check_pacing, load_run, run_allocation
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, ConfigError, ImportIncomplete, InvalidInput
from affiliate_matrix.events import BUDGET_ALLOCATED, BUDGET_PACING, Event
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from affiliate_matrix.storage.local import LocalObjectStore
from tests.support.events import budget_tick, deliver
from tests.support.processes import ROOT, amx_in
from tests.support.receiver import Receiver

START = date(2026, 10, 1)


def csv_for(days: int, campaigns=("search-1", "social-1", "email-1"), currency: str = "USD") -> str:
    rng = np.random.default_rng(1)
    lines = ["campaign_id,date,spend,clicks,conversions,revenue,currency"]
    for i in range(days):
        for n, cid in enumerate(campaigns):
            spend = float(rng.uniform(20, 200))
            revenue = (600 + 300 * n) * -np.expm1(-spend / (40 + 40 * n)) * float(rng.lognormal(0, 0.1))
            lines.append(f"{cid},{START + timedelta(days=i)},{spend:.2f},{int(spend)},{int(revenue / 50)},"
                         f"{revenue:.2f},{currency}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def rt(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    runtime = Runtime("test", Settings(data_dir=tmp_path, budget_daily_total="500.00"))
    for cid, channel in (("search-1", "search"), ("social-1", "social"), ("email-1", "email")):
        save_campaign(runtime.store, Campaign(id=cid, name=cid, channel=channel, currency="USD",
                                              min_budget="20.00" if cid == "email-1" else None), create=True)
    return runtime


def test_csv_import_is_all_or_nothing_with_errors_named_by_line(rt):
    bad = csv_for(3) + ("search-1,2026-10-09,abc,1,1,5,USD\n"
                        "nobody,2026-10-09,1,1,1,5,USD\n"
                        "social-1,2026-10-09,1,1,1,5,EUR\n"
                        "email-1,2026-10-01,1,1,1,5,USD\n"
                        "email-1,2026-10-10,1,1\n")
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, bad.encode())
    message = str(refused.value)
    assert "line 11: spend: 'abc' is not a number" in message
    assert "line 12: campaign_id: there is no campaign 'nobody' (add it first)" in message
    assert "line 13: currency: 'EUR' is not campaign social-1's USD" in message
    assert "line 14: email-1 2026-10-01 already given on line 4" in message
    assert "line 15: expected 7 columns" in message
    assert list(rt.store.list("budget/metrics/")) == []  # nothing half-imported
    with pytest.raises(InvalidInput, match="line 1: the header must be"):
        import_csv(rt, b"campaign,date\nx,2026-01-01\n")
    assert import_csv(rt, csv_for(3).encode()).written == {"search-1": 3, "social-1": 3, "email-1": 3}
    # a re-import of a corrected day replaces it rather than adding a second row
    import_csv(rt, b"campaign_id,date,spend,clicks,conversions,revenue,currency\nsearch-1,2026-10-02,1.00,,,9.50,USD\n")
    rows = history(rt.store, "search-1")
    assert len(rows) == 3 and rows[1]["revenue"] == 9.5 and rows[1]["spend"] == 1.0 and rows[1].get("clicks", 0) == 0


def test_a_date_not_written_yyyy_mm_dd_is_refused_naming_its_line(rt):
    """The import took any date its parser could read: `2026-01-05T00:00` (a time of midnight), `1767571200` (digits
    as a Unix time: 2026-01-05), and refused others with the parser's words (`20260105`: "Datetimes provided to dates
    should have zero time"). A date is YYYY-MM-DD, exactly; cells may be padded with blanks, as every cell may."""
    header = "campaign_id,date,spend,clicks,conversions,revenue,currency\n"
    loose = ["2026-1-5", "2026-01-05T00:00", "20260105", "1767571200", "2026-01-05Z", "05/01/2026", "2026-02-30"]
    data = header + "".join(f"search-1,{day},1,1,1,5,USD\n" for day in loose)
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, data.encode())
    said = str(refused.value)
    for line, day in enumerate(loose, start=2):
        assert f"line {line}: date: {day!r} is not a date (YYYY-MM-DD, e.g. 2026-01-05)" in said
    assert list(rt.store.list("budget/metrics/")) == []
    assert import_csv(rt, (header + "search-1, 2026-01-05 ,1,1,1,5,USD\n").encode()).written == {"search-1": 1}
    assert [d["date"] for d in history(rt.store, "search-1")] == [date(2026, 1, 5)]


def test_an_import_refused_for_a_later_campaign_writes_no_campaign(rt, tmp_path):
    """`amx budget import` checked every line, then wrote campaign by campaign, each write checking its days against
    the campaign's stored ones (the window a campaign keeps): a later campaign's refusal left the earlier ones
    written, with the whole import reported refused. Every campaign's days are now checked against its stored ones
    first; a refusal writes nothing and names the line."""
    import_csv(rt, b"campaign_id,date,spend,clicks,conversions,revenue,currency\nsocial-1,2026-10-01,5,1,1,9,USD\n")
    stored = {key: rt.store.get(key).data for key in rt.store.list("budget/metrics/")}
    data = csv_for(3, campaigns=("search-1", "email-1")) + "social-1,2020-01-01,5,1,1,9,USD\n"
    (tmp_path / "days.csv").write_text(data)
    imported = amx_in(1 << 30, tmp_path, "budget", "import", str(tmp_path / "days.csv"))
    assert imported.returncode == 2, imported.stderr
    assert {key: rt.store.get(key).data for key in rt.store.list("budget/metrics/")} == stored  # none written
    assert ("line 8: campaign social-1: days: 2020-01-01 is more than 1,100 days before the newest day, 2026-10-01"
            in " ".join(imported.stderr.split()))
    assert rt.index.search("budget", SearchQuery(size=10)).total == 1  # nor mirrored: social-1's one day


def test_a_csv_cell_over_the_csv_modules_limit_is_an_error_of_its_line(rt):
    """csv.Error (the module's field limit, process-wide) raised out of the import: a traceback."""
    import csv

    spend = "1" * (csv.field_size_limit() + 1)
    data = f"{csv_for(1)}search-1,2026-10-09,{spend},1,1,5,USD\n".encode()
    with pytest.raises(InvalidInput, match="line 5: field larger than field limit"):
        import_csv(rt, data)
    assert list(rt.store.list("budget/metrics/")) == []


def test_the_import_command_reads_no_further_than_the_csv_limit(tmp_path):
    """`amx budget import` read its file whole before the size check: /dev/zero took memory until the process
    died. It reads MAX_CSV_BYTES + 1 bytes and names the file and the limit."""
    from affiliate_matrix.budget.campaigns import MAX_CSV_BYTES

    imported = amx_in(1 << 30, tmp_path, "budget", "import", "/dev/zero")
    assert imported.returncode == 2 and f"/dev/zero: larger than {MAX_CSV_BYTES:,} bytes" in imported.stderr, \
        imported.stderr[-2000:]


def budget_app():
    return create_app("handle", str(ROOT / "functions" / "budget" / "main.py")).test_client()


def test_the_budget_function_runs_daily_records_metrics_and_alerts_on_pacing(rt, tmp_path, monkeypatch):
    from affiliate_matrix.auth import create_token

    import_csv(rt, csv_for(20).encode())
    broker = Receiver()
    monkeypatch.setenv("AMX_EVENTS", "http")
    monkeypatch.setenv("AMX_BROKER_URL", broker.url)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    app = budget_app()
    tick = budget_tick(date(2026, 10, 21))
    assert deliver(app, tick, "budget", binary=True).status_code == 204
    assert deliver(app, tick, "budget", binary=True).status_code == 204  # redelivered: done once
    run = load_run(rt.store, date(2026, 10, 22))
    assert round(sum(a.amount for a in run.allocations), 2) == 500.0 and run.parts[0].result.strategy == "optimal"
    assert len(run.parts[0].request.campaigns[0].history) == 20
    allocated = [e for e in broker.json_bodies() if e["type"] == BUDGET_ALLOCATED]
    assert len(allocated) == 1 and allocated[0]["data"]["day"] == "2026-10-22"

    # the day is spent: search-1 overspends by half, the others report on target
    amounts = {a.campaign_id: a.amount for a in run.allocations}
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    for cid, factor in (("search-1", 1.5), ("social-1", 1.0), ("email-1", 0.95)):
        reply = app.post(f"/campaigns/{cid}/metrics", headers=admin, json={"days": [
            {"date": "2026-10-22", "spend": round(amounts[cid] * factor, 2), "clicks": 10, "conversions": 2,
             "revenue": 300.0, "currency": "USD"}]})
        assert reply.status_code == 200 and reply.json == {"campaign_id": cid, "days_written": 1, "dropped": None}
    assert deliver(app, budget_tick(date(2026, 10, 23)), "budget", binary=True).status_code == 204
    pacing = [e for e in broker.json_bodies() if e["type"] == BUDGET_PACING]
    assert [(e["data"]["campaign_id"], e["data"]["direction"]) for e in pacing] == [("search-1", "over")]
    assert pacing[0]["data"]["deviation"] == pytest.approx(0.5, abs=0.01)
    broker.close()


@pytest.mark.parametrize("days", [12, 40])
def test_the_daily_tick_reads_each_campaigns_metrics_once_whatever_their_length(rt, monkeypatch, days):
    """The tick read every campaign's metrics twice, once for tomorrow's allocation and again for yesterday's pacing
    (and parsed the whole stored run, every campaign's inputs, to find yesterday's allocations): 20,000 campaigns
    were 40,000 metrics GETs a day. The pacing takes yesterday's spend from the allocation's read. Counted through
    the budget function's HTTP tick, with a stored run for yesterday to pace."""
    from collections import Counter

    from affiliate_matrix.storage.local import LocalObjectStore

    import_csv(rt, csv_for(days).encode())
    yesterday = START + timedelta(days=days - 1)
    run_allocation(rt, yesterday)
    reads = Counter()
    get = LocalObjectStore.get

    def counted(self, key, **bound):
        reads[key] += 1
        return get(self, key, **bound)

    monkeypatch.setattr(LocalObjectStore, "get", counted)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    tick = budget_tick(yesterday + timedelta(days=1))
    assert deliver(budget_app(), tick, "budget", binary=True).status_code == 204
    assert load_run(rt.store, yesterday + timedelta(days=2)).parts[0].request.campaigns[0].history[-1]["date"] == yesterday
    metrics = {key: n for key, n in reads.items() if key.startswith("budget/metrics/")}
    assert metrics == {f"budget/metrics/{cid}.json": 1 for cid in ("search-1", "social-1", "email-1")}


def test_the_daily_tick_reads_the_campaigns_several_at_a_time(rt, monkeypatch):
    """The tick read each campaign's document, then each one's metrics, one GET after another: on S3 a GET is a round
    trip, so 20,000 campaigns were 40,000 round trips in a row, minutes of waiting a day. It reads them several at a
    time: here every read of a campaign or its metrics waits until all three campaigns' are under way (a barrier
    whose timeout only bounds a failure: one read at a time never gets past it)."""
    import threading

    from affiliate_matrix.storage.local import LocalObjectStore

    import_csv(rt, csv_for(10).encode())
    barriers = {prefix: threading.Barrier(3, timeout=5) for prefix in ("budget/campaigns/", "budget/metrics/")}
    get = LocalObjectStore.get

    def together(self, key, **bound):
        prefix = next((p for p in barriers if key.startswith(p)), None)
        if prefix is not None:
            barriers[prefix].wait()
        return get(self, key, **bound)

    monkeypatch.setattr(LocalObjectStore, "get", together)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    assert deliver(budget_app(), budget_tick(date(2026, 10, 11)), "budget", binary=True).status_code == 204
    monkeypatch.setattr(LocalObjectStore, "get", get)
    run = load_run(rt.store, date(2026, 10, 12))
    assert [len(c.history) for c in run.parts[0].request.campaigns] == [10, 10, 10]


def test_a_store_that_fails_ends_the_ticks_reads_at_once(rt, monkeypatch):
    """The tick reads campaigns several at a time; when one read fails (the store unavailable) the reads not yet begun
    are dropped, not made, each to wait out its retries before the tick could answer (27 here, 20,000 in all), and
    those under way are not waited for. Here the first campaign's read fails and those under way wait until the tick
    has answered: no other read begins."""
    import threading

    from affiliate_matrix.documents import READERS
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.storage.local import LocalObjectStore

    for i in range(3 * READERS):
        save_campaign(rt.store, Campaign(id=f"more-{i:02d}", name="m", channel="email", currency="USD"), create=True)
    answered, started = threading.Event(), []
    get = LocalObjectStore.get

    def failing(self, key, **bound):
        if not key.startswith("budget/campaigns/"):
            return get(self, key, **bound)
        started.append(key)
        if key.endswith("/email-1.json"):  # the first in the listing's order
            raise BackendUnavailable("the object store is unavailable")
        answered.wait(timeout=10)
        return get(self, key, **bound)

    monkeypatch.setattr(LocalObjectStore, "get", failing)
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    reply = deliver(budget_app(), budget_tick(date(2026, 10, 11)), "budget", binary=True)
    answered.set()
    assert reply.status_code == 503
    assert 1 <= len(started) <= READERS + 1  # the failed read's thread may have begun one more


def test_amx_budget_campaigns_list_reads_the_campaigns_metrics_several_at_a_time(rt, monkeypatch):
    """`amx budget campaigns list` read each campaign's metrics (its days' count) one GET after another, where the
    tick reads them several at a time (documents.together): every read of a campaign's metrics here waits until all
    three are under way (a barrier whose timeout only bounds a failure: one read at a time never gets past it)."""
    import threading

    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.storage.local import LocalObjectStore

    import_csv(rt, csv_for(10).encode())
    barrier, get = threading.Barrier(3, timeout=5), LocalObjectStore.get

    def together(self, key, **bound):
        if key.startswith("budget/metrics/"):
            barrier.wait()
        return get(self, key, **bound)

    monkeypatch.setattr(LocalObjectStore, "get", together)
    listed = CliRunner().invoke(app, ["budget", "campaigns", "list"])
    monkeypatch.setattr(LocalObjectStore, "get", get)
    assert listed.exit_code == 0, listed.output
    assert [line.split()[1] for line in listed.output.splitlines() if "-1 " in line] == ["email-1", "search-1",
                                                                                          "social-1"]


@pytest.mark.parametrize("path,body,status,fragment", [
    ("/campaigns/search-1/metrics", {"days": [{"date": "2026-10-40", "spend": 1, "revenue": 1}]}, 400, "days.0.date"),
    ("/campaigns/search-1/metrics", {"days": [{"date": "1767571200", "spend": 1, "revenue": 1}]}, 400,
     "days[0].date: '1767571200' is not a date (YYYY-MM-DD"),
    ("/campaigns/search-1/metrics", {"days": [{"date": "2026-10-01", "spend": 1, "revenue": 1, "currency": "EUR"}]},
     400, "not the campaign's currency USD"),
    ("/campaigns/search-1/metrics", {"days": []}, 400, "days: List should have at least 1 item"),
    ("/campaigns/search-1/metrics", {"rows": []}, 400, "days: Field required"),
    ("/campaigns/nobody/metrics", {"days": [{"date": "2026-10-01", "spend": 1, "revenue": 1}]}, 404,
     "there is no campaign 'nobody'"),
    ("/campaigns/..%2F..%2Fetc/metrics", {"days": []}, 404, "no route"),
])
def test_metrics_intake_refuses_bad_input(rt, path, body, status, fragment):
    from affiliate_matrix.auth import create_token

    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    reply = budget_app().post(path, headers=admin, json=body)
    assert reply.status_code == status and fragment in reply.json["error"]["message"]
    assert budget_app().post("/campaigns/search-1/metrics", json={"days": []}).status_code == 401
    huge = budget_app().post("/campaigns/search-1/metrics", headers=admin, data=b"[" * (5 * 1024 * 1024))
    assert huge.status_code == 413 and "larger than" in huge.json["error"]["message"]


def test_a_campaign_whose_min_budget_is_above_its_max_is_refused_when_written(rt):
    """It was stored (201), and every allocation run after it raised ValidationError: a 500 to POST /allocations,
    and the daily cron event redelivered until it was dropped, with no allocation for anyone."""
    from affiliate_matrix.auth import create_token

    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    reply = budget_app().post("/campaigns", headers=admin, json={
        "id": "upside-down", "name": "x", "channel": "search", "currency": "USD", "min_budget": "50.00",
        "max_budget": "10.00"})
    assert reply.status_code == 400 and "min_budget 50.00 is above max_budget 10.00" in reply.json["error"]["message"]
    assert budget_app().get("/campaigns/upside-down", headers=admin).status_code == 404


def test_a_run_whose_campaigns_ask_more_than_the_total_is_refused_naming_it(rt, monkeypatch):
    """The active campaigns' min_budget adding up past AMX_BUDGET_DAILY_TOTAL raised ValidationError out of the
    run: a 500 to POST /allocations (and a redelivered cron event) instead of the reason."""
    from affiliate_matrix.auth import create_token

    for cid in ("search-1", "social-1"):
        save_campaign(rt.store, Campaign(id=f"big-{cid}", name=cid, channel="search", currency="USD",
                                         min_budget="300.00"), create=True)
    with pytest.raises(InvalidInput, match="min_budget add up to 620.00, above total_budget 500.00"):
        run_allocation(rt, date(2026, 10, 11))
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    reply = budget_app().post("/allocations", headers=admin, json={"day": "2026-10-11"})
    assert reply.status_code == 400 and "above total_budget" in reply.json["error"]["message"]


def test_the_run_refuses_without_a_total_and_is_stored_once_per_day(rt, tmp_path):
    """A missing AMX_BUDGET_DAILY_TOTAL was answered over HTTP as a 400, the caller's fault, though it is the server's
    setting: it is a 503 naming the variable, as the product answers other settings missing."""
    from affiliate_matrix.auth import create_token

    import_csv(rt, csv_for(10).encode())
    with pytest.raises(ConfigError, match="AMX_BUDGET_DAILY_TOTAL: not set") as refused:
        run_allocation(Runtime("test", Settings(data_dir=tmp_path)), date(2026, 10, 11))
    assert "USD=500.00,EUR=300.00" in str(refused.value)  # how to set it, for whoever meets it first
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    reply = budget_app().post("/allocations", headers=admin, json={"day": "2026-10-11"})  # (the process's settings)
    assert (reply.status_code, reply.json["error"]["code"]) == (503, "unavailable"), reply.text
    assert reply.json["error"]["message"].startswith("AMX_BUDGET_DAILY_TOTAL: not set: the run does not know what "
                                                     "to share out"), reply.text
    assert "Retry-After" not in reply.headers  # only setting it cures it
    first = run_allocation(rt, date(2026, 10, 11))
    again = run_allocation(rt, date(2026, 10, 11))
    assert again == first
    assert check_pacing(rt, date(2026, 10, 11)) == Pacing(alerts=[], judged=[])  # no spend reported for that day yet
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["allocation"]}, size=10))
    assert docs.total == 3 and {h.doc["run_id"] for h in docs.hits} == {"2026-10-11"}


def pause(rt, campaign_id: str) -> None:
    from affiliate_matrix.budget.campaigns import load_campaign

    campaign, etag = load_campaign(rt.store, campaign_id)
    save_campaign(rt.store, campaign.model_copy(update={"active": False}), if_match=etag)


def spend(rt, campaign_id: str, day: date, amount: float) -> None:
    from affiliate_matrix.budget.campaigns import load_campaign, parse_days, record_days

    campaign, _ = load_campaign(rt.store, campaign_id)
    record_days(rt, campaign, parse_days([{"date": day.isoformat(), "spend": amount, "clicks": 1, "conversions": 0,
                                           "revenue": 0.0}], "USD"))


def paced(rt, day: date, through_the_tick: bool) -> Pacing:
    """`day`'s pacing as the CLI's check judges it (it lists the campaigns itself), or as the next day's tick does
    (from the allocation's listing and reads)."""
    from affiliate_matrix.budget.run import Spent

    if not through_the_tick:
        return check_pacing(rt, day)
    spent = Spent(day)
    run_allocation(rt, day + timedelta(days=1), spent)
    return check_pacing(rt, day, spent)


@pytest.mark.parametrize("through_the_tick", [False, True])
def test_a_paused_campaign_that_keeps_spending_is_paced(rt, through_the_tick):
    """A campaign paused before a day's run was left out of the run, and so out of that day's pacing: when its ads
    kept spending (pausing here stops no ad), nothing said so. Every campaign outside the run that spent is now
    `over`, allocated nothing; one that spent nothing is not named. Both ways in: the CLI's check lists the campaigns
    itself, the daily tick takes the allocation's listing."""
    import_csv(rt, csv_for(10).encode())
    day = START + timedelta(days=10)
    pause(rt, "social-1")
    run_allocation(rt, day)
    assert {a.campaign_id for a in load_run(rt.store, day).allocations} == {"search-1", "email-1"}
    spend(rt, "social-1", day, 42.5)
    pacing = paced(rt, day, through_the_tick)
    assert [(a["campaign_id"], a["spent"], a["allocated"], a["direction"], a["in_run"]) for a in pacing.alerts] == [
        ("social-1", 42.5, 0.0, "over", False)]
    assert pacing.judged == ["social-1"]  # the one campaign that reported spend on the day


@pytest.mark.parametrize("through_the_tick", [False, True])
def test_a_campaign_whose_days_are_damaged_is_left_out_of_the_pacing(rt, through_the_tick):
    """A campaign's metrics holding a date twice are damaged (the README: left out of the run, its pacing and the
    report), yet the pacing read its spend from them all the same, the first row of the date whichever was right:
    a budget.pacing `over` on 400.00 for a day that also says 10.00. Now it is logged and not paced, both ways in."""
    import json

    import_csv(rt, csv_for(10).encode())
    day = START + timedelta(days=10)
    run_allocation(rt, day)
    rows = json.loads(rt.store.get(metrics_key("search-1")).data)
    twice = {"date": day.isoformat(), "spend": 400.0, "revenue": 0.0}
    rows["days"] += [twice, {**twice, "spend": 10.0}]
    rt.store.put(metrics_key("search-1"), json.dumps(rows).encode(), content_type="application/json")
    spend(rt, "email-1", day, next(a.amount for a in load_run(rt.store, day).allocations if a.campaign_id == "email-1"))
    with capture_logs() as logs:
        pacing = paced(rt, day, through_the_tick)
    assert pacing == Pacing(alerts=[], judged=["email-1"])  # the damaged one not judged; email-1 judged, on pace
    assert any(entry["event"] == "document.damaged" and entry["key"] == metrics_key("search-1") for entry in logs)


def test_a_day_already_run_is_run_again_when_asked_as_its_next_revision(rt, monkeypatch):
    """A stored day could not be run again: a campaign paused or a bound fixed after the run kept the day's old
    allocations (a run is stored once per day, which a redelivered cron event needs). Asked to replace it, the day
    is run again and stored as revision 2; the allocations it no longer makes leave the budget index, and its
    budget.allocated has an id of its own (consumers dedup by id). Over HTTP and from the library alike."""
    from affiliate_matrix.auth import create_token

    import_csv(rt, csv_for(10).encode())
    day = START + timedelta(days=10)
    first = run_allocation(rt, day)
    assert first.revision == 1 and run_allocation(rt, day) == first  # asked again without replace: the stored run
    pause(rt, "email-1")
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    reply = budget_app().post("/allocations", headers=admin, json={"day": str(day), "replace": True})
    assert reply.status_code == 200, reply.json
    assert reply.json["revision"] == 2 and reply.json["superseded"] == ["email-1"]
    second = load_run(rt.store, day)
    assert second.revision == 2 and {a.campaign_id for a in second.allocations} == {"search-1", "social-1"}
    assert round(sum(a.amount for a in second.allocations), 2) == 500.0
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["allocation"]}, size=10))
    assert sorted(h.doc["campaign_id"] for h in docs.hits) == ["search-1", "social-1"]
    third = run_allocation(rt, day, replace=True)  # email-1 still out: still superseded, still out of the index
    assert third.revision == 3 and third.superseded == ["email-1"]
    assert budget_app().post("/allocations", headers=admin, json={"day": str(day), "replace": "yes"}).status_code == 400


def test_pacing_judged_against_a_replacement_is_announced_under_an_id_of_its_own(rt):
    """A pacing alert's id was its campaign and day alone: judged again against the day's replacement (an amount of
    its own), the alert came out under the id of the one judged against the first run, and consumers that drop an id
    they have seen (our own receivers do) dropped it."""
    import_csv(rt, csv_for(10).encode())
    day = START + timedelta(days=10)
    run_allocation(rt, day)
    spend(rt, "search-1", day, 9000.0)
    paced = []
    rt.bus.subscribe(BUDGET_PACING, paced.append)
    check_pacing(rt, day)
    check_pacing(rt, day)  # judged again against the same run (a redelivery): the same event
    pause(rt, "email-1")
    replaced = run_allocation(rt, day, replace=True)
    check_pacing(rt, day)
    ids = [e.id for e in paced if e.data["campaign_id"] == "search-1"]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    assert paced[-1].data["allocated"] == next(a.amount for a in replaced.allocations if a.campaign_id == "search-1")


def test_a_replacement_that_loses_to_another_is_refused_and_stores_nothing(rt, monkeypatch):
    """Two replacements of one day at once: the one storing second would have overwritten the first unseen. It is
    stored only over the run it read (If-Match), so the second is told to ask again."""
    from affiliate_matrix.budget import run as budget_run
    from affiliate_matrix.errors import ConflictError

    import_csv(rt, csv_for(10).encode())
    day = START + timedelta(days=10)
    run_allocation(rt, day)
    read = budget_run.stored_run

    def raced(store, day):
        found = read(store, day)
        monkeypatch.setattr(budget_run, "stored_run", read)
        run_allocation(rt, day, replace=True)  # another replacement stores first
        return found

    monkeypatch.setattr(budget_run, "stored_run", raced)
    with pytest.raises(ConflictError, match="ask again"):
        run_allocation(rt, day, replace=True)
    assert load_run(rt.store, day).revision == 2


def count_frames(path) -> int:
    """Panels in a rendered PNG: connected rings of the panel frame colour."""
    from matplotlib import image
    from scipy import ndimage

    pixels = image.imread(path)[..., :3]
    frame = np.array([int(FRAME_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    mask = np.abs(pixels - frame).max(axis=2) < 0.08
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return int((sizes > 200).sum())


def test_report_renders_the_expected_panels_and_mirrors_documents(rt, tmp_path):
    import_csv(rt, csv_for(28).encode())
    for offset in range(3):
        run_allocation(rt, date(2026, 10, 29) + timedelta(days=offset))
    result = report(rt, tmp_path / "report", horizon=7)
    assert result.panels == {"allocation.png": 1, "response.png": 3, "forecast.png": 3}
    for name, panels in result.panels.items():
        assert count_frames(tmp_path / "report" / name) == panels
    assert "3 allocation runs, 2026-10-29 to 2026-10-31" in result.summary
    forecasts = rt.index.search("budget", SearchQuery(filters={"kind": ["forecast"]}, size=100))
    assert forecasts.total == 21
    assert rt.index.search("budget", SearchQuery(filters={"kind": ["curve"]}, size=1)).total == 30


def test_the_reports_allocation_panel_shows_a_first_run(rt, tmp_path):
    """After a newcomer's first `amx budget run` the report's allocation panel was empty but for its legend: one run
    is one day, and an area over one day has no width. A single run is drawn as a stacked bar on its day."""
    from matplotlib import image

    import_csv(rt, csv_for(14).encode())
    run_allocation(rt, date(2026, 10, 15))
    report(rt, tmp_path / "report", horizon=7)
    pixels = image.imread(tmp_path / "report" / "allocation.png")[..., :3]
    first_band = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's first colour, the first campaign's
    assert (np.abs(pixels - first_band).max(axis=2) < 0.05).sum() > 5_000  # (its legend's patch: about 60 pixels)


def test_the_report_reads_each_run_for_its_allocations_only_and_bands_the_largest(rt, tmp_path, monkeypatch):
    """The report held every stored run whole, each with its inputs (every campaign's days), looked each amount up by
    a scan of its run's allocations (campaigns × runs × campaigns: a year of runs of 20,000 campaigns never ended)
    and drew a band and a legend entry per campaign. It reads a run's allocations only, one run at a time, and past
    MAX_PANELS campaigns draws the latest run's largest and one band for the others."""
    from affiliate_matrix.budget.report import MAX_PANELS
    from affiliate_matrix.budget.run import AllocationRun

    extra = [f"extra-{i}" for i in range(MAX_PANELS + 3)]
    for cid in extra:
        save_campaign(rt.store, Campaign(id=cid, name=cid, channel="display", currency="USD"), create=True)
    import_csv(rt, csv_for(14, campaigns=("search-1", "social-1", "email-1", *extra)).encode())
    for offset in range(3):
        run_allocation(rt, date(2026, 10, 15) + timedelta(days=offset))
    whole = []
    validate = AllocationRun.model_validate_json
    monkeypatch.setattr(AllocationRun, "model_validate_json", lambda data: whole.append(1) or validate(data))
    result = report(rt, tmp_path / "report", horizon=7)
    assert whole == []
    assert "3 allocation runs, 2026-10-15 to 2026-10-17" in result.summary
    assert f"the latest run's {MAX_PANELS} largest allocations and 6 others together" in result.summary
    assert count_frames(tmp_path / "report" / "allocation.png") == 1


def test_a_campaign_with_more_history_than_a_forecast_reads_still_gets_its_report(rt, tmp_path):
    """The report gave each campaign its whole history, which the forecast's contract bounds (MAX_HISTORY_DAYS):
    after three years of days the report failed with a ValidationError. It reads the last MAX_HISTORY_DAYS."""
    from affiliate_matrix.budget.models import MAX_HISTORY_DAYS

    import_csv(rt, csv_for(MAX_HISTORY_DAYS + 30, campaigns=("search-1",)).encode())
    result = report(rt, tmp_path / "report", horizon=7)
    assert result.campaigns == 3 and result.panels["forecast.png"] >= 1


@pytest.mark.slow
def test_the_budget_index_on_opensearch(opensearch_node, tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path, search="opensearch", opensearch_url=opensearch_node.url,
                        index_prefix=f"b{tmp_path.name[-8:].lower().replace('_', '')}",
                        budget_daily_total="USD=300.00,EUR=120.00")
    runtime = Runtime("test", settings)
    save_campaign(runtime.store, Campaign(id="s1", name="s1", channel="search", currency="USD"), create=True)
    save_campaign(runtime.store, Campaign(id="s2", name="s2", channel="content", currency="USD"), create=True)
    save_campaign(runtime.store, Campaign(id="e1", name="e1", channel="search", currency="EUR"), create=True)
    import_csv(runtime, csv_for(14, campaigns=("s1", "s2")).encode())
    import_csv(runtime, csv_for(14, campaigns=("e1",), currency="EUR").encode())
    with capture_logs() as logs:
        run_allocation(runtime, date(2026, 10, 15))
    assert [entry for entry in logs if entry["event"] == "budget.mirror_refused"] == []  # v2's strict mapping takes it
    days = runtime.index.search("budget", SearchQuery(filters={"kind": ["day"], "channel": ["content"]}, size=50))
    assert days.total == 14 and all(h.doc["campaign_id"] == "s2" for h in days.hits)
    for currency, total in (("USD", 300.0), ("EUR", 120.0)):  # the dashboards' split: one currency's amounts apart
        allocations = runtime.index.search("budget", SearchQuery(filters={"kind": ["allocation"], "currency": [currency]},
                                                                 size=10))
        assert round(sum(h.doc["amount"] for h in allocations.hits), 2) == total


def test_a_budget_index_still_at_v1_is_named_in_the_log_until_migrated(rt):
    """Budget v2 adds `currency`; an index still at v1 (an existing deployment before `amx index migrate budget`)
    refuses the documents that carry it. The run was mirrored with the index's per-document refusals dropped unseen:
    they are logged, naming the migration, and the migration brings the day's allocations in."""
    from affiliate_matrix.budget.mirror import BUDGET_INDEX
    from affiliate_matrix.search import IndexSpec

    v1 = {name: kind for name, kind in BUDGET_INDEX.fields.items() if name != "currency"}
    rt.index.ensure_index(IndexSpec("budget", 1, v1))
    day = START + timedelta(days=3)
    with capture_logs() as logs:
        run_allocation(rt, day)
    refused = [entry for entry in logs if entry["event"] == "budget.mirror_refused"]
    # in the words every refusal before a migration has (search.migrate_first)
    assert refused and refused[0]["hint"] == \
        "budget is at v1 but this code needs v2: run `amx index migrate budget` first"
    rt.index.migrate(BUDGET_INDEX)
    run_allocation(rt, day)  # the stored run, mirrored again (as a redelivered tick does)
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["allocation"], "currency": ["USD"]}, size=10))
    assert docs.total == 3


def test_a_report_cut_short_leaves_the_files_it_did_not_finish_as_they_were(rt, tmp_path, monkeypatch):
    """A report stopped while writing a figure (a full disk, Ctrl-C) left that PNG cut short where the last report's
    was. Each file is written beside its place and renamed onto it once whole: the last one stays, nothing is left
    beside it."""
    from matplotlib.figure import Figure

    folder = tmp_path / "report"
    report(rt, folder, horizon=7)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    savefig = Figure.savefig

    def disk_full_on_the_second(self, fname, **kwargs):
        if "response" in str(fname):
            with open(fname, "wb") as file:
                file.write(b"\x89PNG cut")
            raise OSError(28, "No space left on device", str(fname))
        return savefig(self, fname, **kwargs)

    monkeypatch.setattr(Figure, "savefig", disk_full_on_the_second)
    with pytest.raises(OSError, match="No space left"):
        report(rt, folder, horizon=7)
    assert {path.name: path.read_bytes() for path in folder.iterdir()}["response.png"] == before["response.png"]
    assert sorted(path.name for path in folder.iterdir()) == sorted(before)


def stored_request(rt, horizon: int, ids=("email-1", "search-1", "social-1")) -> str:
    """`amx budget forecast`'s standard input for the stored campaigns' days (each in USD, the request's currency)."""
    import json

    return json.dumps({"horizon_days": horizon, "currency": "USD", "campaigns": [
        {"id": cid, "history": [{**d, "date": d["date"].isoformat()} for d in history(rt.store, cid)]} for cid in ids]})


def test_the_forecast_from_the_store_is_the_forecast_of_the_same_campaigns_sent_as_json(rt, tmp_path, monkeypatch):
    """A user with more campaigns than one input holds (256 MiB, ~7,500 campaigns of a year) split them by hand.
    `--from-store` forecasts the stored campaigns' days, in chunks of campaigns, each one's figures its JSON
    forecast's exactly; `--campaign` picks some, in the order given."""
    from affiliate_matrix.budget import forecast as forecasting
    from affiliate_matrix.budget.contract import forecast_json

    import_csv(rt, (csv_for(40) + "".join(f"email-1,{START + timedelta(days=d)},1,1,,5,USD\n"
                                          for d in range(40, 45))).encode())  # days without conversions too
    save_campaign(rt.store, Campaign(id="video-1", name="v", channel="video", currency="USD"), create=True)  # no days
    expected = forecast_json(stored_request(rt, 9, ("email-1", "search-1", "social-1", "video-1")))
    monkeypatch.setattr(forecasting, "STORE_CHUNK", 2)
    assert forecasting.stored_forecast(rt, 9).model_dump_json() == expected
    shown = amx_in(1 << 31, tmp_path, "budget", "forecast", "--from-store", "--json", "--campaign", "social-1",
                   "--campaign", "email-1", "--horizon", "5")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == forecast_json(stored_request(rt, 5, ("social-1", "email-1")))
    text = amx_in(1 << 31, tmp_path, "budget", "forecast", "--from-store")
    assert text.returncode == 0 and "search-1: " in text.stdout and "video-1: no day of history" in text.stdout
    for key in rt.store.list("budget/campaigns/"):
        rt.store.delete(key)
    assert "no campaigns are stored" in amx_in(1 << 31, tmp_path, "budget", "forecast", "--from-store").stdout


def test_a_damaged_campaigns_metrics_are_named_and_left_out_of_the_forecast_from_the_store(rt, capsys):
    from affiliate_matrix.budget.contract import forecast_json
    from affiliate_matrix.budget.forecast import stored_forecast

    import_csv(rt, csv_for(30).encode())
    rt.store.put("budget/metrics/social-1.json", b'{"days": [{"date": "2026-11-01", "spend": "lots"}]}',
                 content_type="application/json")
    forecasts = {f.campaign_id: f for f in stored_forecast(rt, 7).forecasts}
    assert forecasts["social-1"].model is None and forecasts["social-1"].revenue == []
    assert "budget/metrics/social-1.json is damaged (a day's spend" in forecasts["social-1"].note
    assert [f.model_dump_json() for f in (forecasts["email-1"], forecasts["search-1"])] == [
        f.model_dump_json() for f in forecasts_of(forecast_json(stored_request(rt, 7, ("email-1", "search-1"))))]
    logged = capsys.readouterr().err
    assert "document.damaged" in logged and "budget/metrics/social-1.json" in logged


def forecasts_of(text: str):
    from affiliate_matrix.budget.models import ForecastResult

    return ForecastResult.model_validate_json(text).forecasts


@pytest.mark.parametrize("args, fragment", [
    (["--campaign", "search-1"], "'--campaign': only with --from-store"),
    (["--horizon", "7"], "'--horizon': only with --from-store"),
    (["--from-store", "--horizon", "0"], "'--horizon': 0 is not between 1 and 366 days"),
    (["--from-store", "--horizon", "367"], "'--horizon': 367 is not between 1 and 366 days"),
    (["--from-store", "--campaign", "no such!"], "'no such!' is not a campaign id"),
    (["--from-store", "--campaign", "search-1", "--campaign", "search-1"], "'search-1' is given twice"),
    (["--from-store", "--campaign", "nobody"], "nobody"),
])
def test_the_forecast_from_the_store_refuses_bad_options_naming_them(rt, tmp_path, args, fragment):
    refused = amx_in(1 << 31, tmp_path, "budget", "forecast", *args)
    assert refused.returncode != 0 and refused.stdout == ""
    assert fragment in " ".join(refused.stderr.split()), refused.stderr


# A budget CSV import is never left half-written without the user knowing: the file, once checked, is stored as one
# journal (budget/imports/<sha256>.json), written campaign by campaign, then the journal removed. A write that fails
# midway names the campaigns written and not, and the same file imported again finishes it; a campaign changed under
# the import (deleted, its currency, its window) is named and the others are written; the daily run reports an import
# left unfinished. Each failure is made at the store, by a real change to a stored object between the import's check
# and its writes.

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


def days_of(rt) -> dict[str, int]:
    return {cid: len(history(rt.store, cid)) for cid in CAMPAIGNS}


def journals(rt) -> list[str]:
    return list(rt.store.list("budget/imports/"))


def test_a_write_failing_midway_names_the_campaigns_and_the_same_file_again_finishes_it(rt, monkeypatch):
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
    assert import_csv(rt, data).written == {"social-1": 5, "email-1": 5, "search-1": 5}  # search-1: written before
    assert days_of(rt) == {"search-1": 5, "social-1": 5, "email-1": 5} and journals(rt) == []


def test_an_import_stopped_dead_is_reported_by_the_daily_run_until_it_is_finished(rt, monkeypatch, capsys):
    """A process killed midway (nothing after the failure runs) leaves its journal: the run says so, in its log, in
    the stored run and in `amx budget run`'s output, and the same file again finishes the import."""
    from affiliate_matrix.cli import main

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
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    monkeypatch.setattr("sys.argv", ["amx", "budget", "run", "--day", str(START + timedelta(days=22))])
    with pytest.raises(SystemExit):
        main()
    said = "".join(capsys.readouterr().out.split())  # rich wraps the long key anywhere
    assert f"importsnotfinishedwhenthedayswereread({journal[0]})" in said
    import_csv(rt, data)
    assert days_of(rt) == {cid: 20 for cid in CAMPAIGNS} and journals(rt) == []
    assert run_allocation(rt, START + timedelta(days=21)).pending_imports == []


def test_an_import_begun_while_the_run_reads_the_days_is_reported_by_that_run(rt, monkeypatch):
    """The run listed the unfinished imports before it read the campaigns' days, so an import begun in between (its
    journal stored, its first campaign written) and still under way when the reads were done left the run with part
    of its days and no word of it (no budget.import_pending, no pending_imports to run the day again for)."""
    from affiliate_matrix.budget import run as budget_run

    class Killed(BaseException):
        pass

    def killed(store):
        raise Killed

    data = csv_for(20).encode()
    read, begun = budget_run.read_days, []

    def import_begins(store, campaign_id):
        if not begun:  # the first read: the import starts, writes search-1 and is still under way (killed here)
            begun.append(campaign_id)
            before_the_write_of(monkeypatch, metrics_key("social-1"), killed)
            with pytest.raises(Killed):
                import_csv(rt, data)
        return read(store, campaign_id)

    monkeypatch.setattr(budget_run, "read_days", import_begins)
    with capture_logs() as logs:
        run = run_allocation(rt, START + timedelta(days=20))
    assert begun and run.pending_imports == journals(rt) == [f"budget/imports/{hashlib.sha256(data).hexdigest()}.json"]
    assert [entry["journals"] for entry in logs if entry["event"] == "budget.import_pending"] == [journals(rt)]


@pytest.mark.parametrize("when, message", [
    ("search-1", "campaign email-1 was deleted while the file was imported"),  # before its turn
    ("email-1", "campaign email-1 was deleted while its days were written"),  # between its read and its write
])
def test_a_campaign_deleted_midway_is_named_and_the_others_are_written(rt, monkeypatch, when, message):
    """Before: email-1, deleted after the check, got its days written all the same (a campaign added again under its
    id inherited them), and nobody was told."""
    def deleted(store):
        store.delete("budget/campaigns/email-1.json")
        sweep_days(store, "email-1")

    before_the_write_of(monkeypatch, metrics_key(when), deleted)
    with pytest.raises(InvalidInput) as refused:
        import_csv(rt, csv_for(4).encode())
    said = str(refused.value)
    assert f"{message}: its 4 days were not written" in said
    assert "written: search-1, social-1" in said
    assert days_of(rt) == {"search-1": 4, "social-1": 4, "email-1": 0}
    assert rt.store.head(metrics_key("email-1")) is None and journals(rt) == []


def test_a_window_moved_under_the_import_refuses_that_campaign_only(rt, monkeypatch):
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


def test_a_currency_changed_under_the_import_is_refused_not_written_in_the_old_one(rt, monkeypatch):
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


def test_the_command_names_the_campaigns_and_how_to_finish(rt, tmp_path, monkeypatch, capsys):
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
    assert "imported 9 days for 3 campaigns" in " ".join(capsys.readouterr().out.split())
    assert days_of(rt) == {cid: 3 for cid in CAMPAIGNS} and journals(rt) == []


@pytest.mark.parametrize("journal", [b'{"campaigns": {"search-1"',  # cut short
                                     b'{"campaigns": {"search-1": {}}, "written": []}'])  # a campaign without currency
def test_a_damaged_journal_is_named_with_what_to_do(rt, journal):
    from affiliate_matrix.budget.campaigns import import_key
    from affiliate_matrix.errors import DamagedData

    data = csv_for(2).encode()
    rt.store.put(import_key(data), journal, content_type="application/json")
    with pytest.raises(DamagedData, match=r"budget/imports/[0-9a-f]{64}\.json is damaged .*: delete it and import the "
                                          r"file again"):
        import_csv(rt, data)
    assert days_of(rt) == {cid: 0 for cid in CAMPAIGNS}
    rt.store.delete(import_key(data))
    assert import_csv(rt, data).written == {cid: 2 for cid in CAMPAIGNS}


def test_a_journal_stored_before_imports_read_their_file_again_is_finished_from_the_file(rt):
    """A journal stored before 2026-12 held the file's days by campaign (read back whole, they took the file's memory
    many times over); one stored since names the campaigns and their currency, and the same file again is read for
    their days. An unfinished import of either kind is finished by the same file, the campaigns written not again."""
    from affiliate_matrix.budget.campaigns import import_key

    data = csv_for(4).encode()
    old = {"campaigns": {cid: {"currency": "USD", "days": [{"date": "2000-01-01", "spend": 1.0, "revenue": 1.0}]}
                         for cid in CAMPAIGNS}, "written": ["search-1"]}  # days unlike the file's: not the ones written
    rt.store.put(import_key(data), json.dumps(old).encode(), content_type="application/json")
    assert import_csv(rt, data).written == {cid: 4 for cid in CAMPAIGNS}
    assert days_of(rt) == {"search-1": 0, "social-1": 4, "email-1": 4} and journals(rt) == []
    assert [day["date"] for day in history(rt.store, "email-1")] == [START + timedelta(days=i) for i in range(4)]


def test_days_posted_for_a_campaign_deleted_meanwhile_are_not_left_behind(rt, monkeypatch):
    """POST /campaigns/{id}/metrics read the campaign, then wrote its days: a DELETE in between left them stored
    under a campaign that no longer existed (one added again under its id inherited them), and answered 200."""
    from affiliate_matrix.auth import create_token

    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}

    def deleted(store):
        store.delete("budget/campaigns/email-1.json")

    before_the_write_of(monkeypatch, metrics_key("email-1"), deleted)
    reply = budget_app().post("/campaigns/email-1/metrics", headers=admin,
                              json={"days": [{"date": "2026-10-01", "spend": 1, "revenue": 2}]})
    assert reply.status_code == 404, reply.json
    assert "campaign email-1 was deleted while its days were written" in reply.json["error"]["message"]
    assert rt.store.head(metrics_key("email-1")) is None


def test_an_unfinished_import_is_listed_and_can_be_given_up(rt, tmp_path, monkeypatch, capsys):
    """Before: giving up an import stopped midway meant finding and deleting its journal in the object store by hand
    (in S3 too), and every daily run reported it until then."""
    from affiliate_matrix.cli import main

    path = tmp_path / "perf.csv"
    path.write_text(csv_for(3))
    data = path.read_bytes()
    import_id = hashlib.sha256(data).hexdigest()
    before_the_write_of(monkeypatch, metrics_key("social-1"), unavailable)
    monkeypatch.setenv("AMX_DATA_DIR", str(rt.settings.data_dir))

    def amx(*args: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.argv", ["amx", "budget", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        said = capsys.readouterr()
        return exited.value.code, " ".join((said.out + said.err).split())

    code, said = amx("import", str(path))
    assert code == 2 and "give it up: `amx budget imports list`, then `amx budget imports abandon ID`" in said
    code, said = amx("imports", "list")
    assert code == 0 and import_id[:16] in said
    assert "search-1" in said and "social-1, email-1" in said  # written; not written
    code, said = amx("imports", "abandon", "xyz")
    assert code == 2 and "'xyz' is not an import's id" in said
    code, said = amx("imports", "abandon", import_id[:8])
    assert code == 0 and f"gave up import {import_id}" in said
    assert "days written and kept: search-1; not written: social-1, email-1" in said
    assert journals(rt) == [] and days_of(rt) == {"search-1": 3, "social-1": 0, "email-1": 0}
    assert run_allocation(rt, START + timedelta(days=4)).pending_imports == []
    code, said = amx("imports", "abandon", import_id[:8])
    assert code != 0 and f"no unfinished import {import_id[:8]}" in said
    code, said = amx("imports", "list")
    assert code == 0 and "no import is unfinished" in said
    monkeypatch.undo()  # the store writes again: the same file is a new import, checked and written whole
    assert import_csv(rt, data).written == {cid: 3 for cid in CAMPAIGNS}


def test_giving_up_names_an_import_by_a_prefix_only_when_one_import_has_it(rt):
    from affiliate_matrix.budget.campaigns import IMPORTS, abandon_import, unfinished_imports

    journal = b'{"campaigns": {"search-1": {"currency": "USD"}}, "written": []}'
    for import_id in ("ab12cd34" + "0" * 56, "ab12cd34" + "1" * 56):
        rt.store.put(f"{IMPORTS}{import_id}.json", journal, content_type="application/json")
    rt.store.put(f"{IMPORTS}{'f' * 64}.json", b'{"campaigns": ', content_type="application/json")
    with pytest.raises(InvalidInput, match="ab12cd34 names 2 imports"):
        abandon_import(rt.store, "ab12cd34")
    assert [(u.id[:9], u.written, u.not_written) for u in unfinished_imports(rt.store)] == [
        ("ab12cd340", [], ["search-1"]), ("ab12cd341", [], ["search-1"]), ("fffffffff", None, None)]
    assert abandon_import(rt.store, "ab12cd341").id == "ab12cd34" + "1" * 56
    assert abandon_import(rt.store, "f" * 64).written is None  # damaged: given up all the same
    assert [u.id[:9] for u in unfinished_imports(rt.store)] == ["ab12cd340"]


# Campaigns in several currencies: AMX_BUDGET_DAILY_TOTAL gives a total per currency (USD=500.00,EUR=300.00), and each
# currency's active campaigns are allocated from its own total. Before, a run refused the whole day while any active
# campaign was in a currency other than AMX_BUDGET_CURRENCY: a marketer with USD and EUR campaigns could not run the
# budget at all without pausing one currency's campaigns.

TOTALS = "USD=500.00,EUR=300.00"
EURO = ("search-de", "social-de")


def in_currencies(rt, totals: str = TOTALS) -> Runtime:
    """`rt`'s store with two EUR campaigns beside its three USD ones, all with 10 days, under `totals`."""
    for cid in EURO:
        save_campaign(rt.store, Campaign(id=cid, name=cid, channel="search", currency="EUR"), create=True)
    import_csv(rt, csv_for(10).encode())
    import_csv(rt, csv_for(10, campaigns=EURO, currency="EUR").encode())
    return Runtime("test", Settings(data_dir=rt.settings.data_dir, budget_daily_total=totals))


def by_currency(run) -> dict[str, tuple[str, float, set[str]]]:
    return {part.request.currency: (str(part.request.total_budget), round(sum(a.amount for a in part.result.allocations), 2),
                                    {a.campaign_id for a in part.result.allocations}) for part in run.parts}


def test_two_currencies_are_allocated_in_one_day_each_from_its_own_total_and_paced_in_it(rt, tmp_path, monkeypatch,
                                                                                         capsys):
    from affiliate_matrix.cli import main

    multi = in_currencies(rt, TOTALS + ",GBP=100.00")
    announced, paced = [], []
    multi.bus.subscribe(BUDGET_ALLOCATED, announced.append)
    multi.bus.subscribe(BUDGET_PACING, paced.append)
    day = START + timedelta(days=10)
    with capture_logs() as logs:
        run = run_allocation(multi, day)
    assert by_currency(run) == {"USD": ("500.00", 500.0, {"search-1", "social-1", "email-1"}),
                                "EUR": ("300.00", 300.0, set(EURO))}
    assert run.skipped == ["GBP"]  # a total with no active campaign: said, not refused
    assert [entry["currencies"] for entry in logs if entry["event"] == "budget.currency_skipped"] == [["GBP"]]
    assert load_run(multi.store, day) == run  # one document for the day, both currencies in it
    assert [(e.data["currency"], e.data["total_budget"], e.data["campaigns"]) for e in announced] == [
        ("USD", "500.00", 3), ("EUR", "300.00", 2)]
    assert len({e.id for e in announced}) == 2
    docs = multi.index.search("budget", SearchQuery(filters={"kind": ["allocation"]}, size=10))
    assert {h.doc["campaign_id"]: h.doc["currency"] for h in docs.hits} == {
        "search-1": "USD", "social-1": "USD", "email-1": "USD", "search-de": "EUR", "social-de": "EUR"}
    amounts = {a.campaign_id: a.amount for a in run.allocations}
    for cid, currency in (("search-1", "USD"), ("search-de", "EUR")):  # each overspends by half, in its currency
        import_csv(multi, f"campaign_id,date,spend,clicks,conversions,revenue,currency\n"
                          f"{cid},{day},{amounts[cid] * 1.5:.2f},1,1,9.00,{currency}\n".encode())
    alerts = check_pacing(multi, day).alerts
    assert sorted((a["campaign_id"], a["currency"], a["allocated"], a["direction"]) for a in alerts) == [
        ("search-1", "USD", amounts["search-1"], "over"), ("search-de", "EUR", amounts["search-de"], "over")]
    assert sorted(e.data["currency"] for e in paced) == ["EUR", "USD"]
    pacing = multi.index.search("budget", SearchQuery(filters={"kind": ["pacing"], "currency": ["EUR"]}, size=10))
    assert [h.doc["campaign_id"] for h in pacing.hits] == ["search-de"]
    result = report(multi, tmp_path / "report", horizon=7)  # a panel per currency: nothing stacked across them
    assert result.panels["allocation.png"] == count_frames(tmp_path / "report" / "allocation.png") == 2
    assert "latest strategy optimal in USD" in result.summary and "latest strategy optimal in EUR" in result.summary
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", TOTALS + ",GBP=100.00")
    monkeypatch.setattr("sys.argv", ["amx", "budget", "run", "--day", str(day)])
    with pytest.raises(SystemExit):
        main()
    said = capsys.readouterr().out
    assert f"search-de: {amounts['search-de']:,.2f} EUR" in said and f"email-1: {amounts['email-1']:,.2f} USD" in said
    assert "no active campaign in GBP: that total is not allocated" in said


def test_a_currency_no_longer_allocated_keeps_its_panel_in_the_report(rt, tmp_path):
    """The report drew only the latest run's currencies: once a marketer's EUR campaigns ended, the EUR allocations of
    every earlier day vanished from the figure. Each currency of any run has its panel, banded by its newest run."""
    multi = in_currencies(rt)
    day = START + timedelta(days=10)
    run_allocation(multi, day)
    for cid in EURO:
        pause(multi, cid)
    later = run_allocation(multi, day + timedelta(days=1))
    assert set(by_currency(later)) == {"USD"}
    from affiliate_matrix.budget.report import allocations_over_time

    drawn = allocations_over_time(multi)
    assert list(drawn) == ["USD", "EUR"]
    days, labels, amounts, _ = drawn["EUR"]
    assert days == [day, day + timedelta(days=1)] and labels == list(EURO)
    assert round(amounts[:, 0].sum(), 2) == 300.0 and amounts[:, 1].sum() == 0  # nothing in EUR on the later day
    result = report(multi, tmp_path / "report", horizon=7)
    assert result.panels["allocation.png"] == count_frames(tmp_path / "report" / "allocation.png") == 2
    assert "latest strategy optimal in EUR" in result.summary


def test_a_campaign_in_a_currency_with_no_total_is_refused_naming_it_and_nothing_is_stored(rt, monkeypatch, capsys):
    from affiliate_matrix.cli import main

    multi = in_currencies(rt, "USD=500.00,GBP=50.00")
    day = START + timedelta(days=10)
    with pytest.raises(InvalidInput) as refused:
        run_allocation(multi, day)
    assert ("campaigns search-de (EUR), social-de (EUR) are in a currency with no daily total: AMX_BUDGET_DAILY_TOTAL "
            "has one for USD, GBP only") in str(refused.value)
    assert list(multi.store.list("budget/runs/")) == []
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")  # a lone amount: in AMX_BUDGET_CURRENCY, USD
    monkeypatch.setattr("sys.argv", ["amx", "budget", "run", "--day", str(day)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "has one for USD only" in " ".join(capsys.readouterr().err.split())
    assert list(multi.store.list("budget/runs/")) == []


def test_a_lone_amount_is_allocated_as_before_and_announced_under_the_days_id(rt):
    import_csv(rt, csv_for(10).encode())
    announced = []
    rt.bus.subscribe(BUDGET_ALLOCATED, announced.append)
    day = START + timedelta(days=10)
    run = run_allocation(rt, day)
    assert by_currency(run) == {"USD": ("500.00", 500.0, {"search-1", "social-1", "email-1"})} and run.skipped == []
    assert [e.id for e in announced] == [Event.make(BUDGET_ALLOCATED, "/budget", {}, key=day.isoformat()).id]


def old_layout_run(day: date) -> dict:
    """A run as stored before runs had a part per currency: one currency, `request` and `result` at its top."""
    return {"day": day.isoformat(), "created_at": "2026-10-10T06:00:00Z", "metric": "revenue", "revision": 1,
            "superseded": [], "pending_imports": [],
            "request": {"total_budget": "500.00", "currency": "USD", "strategy": "equal", "seed": 20261011,
                        "campaigns": [{"id": cid, "min_budget": None, "max_budget": None, "history": []}
                                      for cid in ("search-1", "social-1")]},
            "result": {"strategy": "equal", "explanation": "The budget is split equally.", "allocations": [
                {"campaign_id": "search-1", "amount": 250.0}, {"campaign_id": "social-1", "amount": 250.0}]}}


def test_a_run_stored_in_the_old_layout_is_read_by_pacing_the_report_and_get(rt, tmp_path, monkeypatch, capsys):
    import json

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.cli import main

    day = START + timedelta(days=10)
    rt.store.put(f"budget/runs/{day}.json", json.dumps(old_layout_run(day)).encode(), content_type="application/json")
    spend(rt, "search-1", day, 400.0)
    alerts = check_pacing(rt, day).alerts
    assert [(a["campaign_id"], a["currency"], a["allocated"], a["spent"]) for a in alerts] == [
        ("search-1", "USD", 250.0, 400.0)]
    monkeypatch.setattr("sys.argv", ["amx", "budget", "pacing", "--day", str(day)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert "search-1: spent 400.00 of 250.00 USD (+60%, over)" in capsys.readouterr().out
    result = report(rt, tmp_path / "report", horizon=7)
    assert "1 allocation run, 2026-10-11 to 2026-10-11; latest strategy equal in USD" in result.summary
    assert result.panels["allocation.png"] == 1
    read = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    got = budget_app().get(f"/allocations/{day}", headers=read)
    assert got.status_code == 200, got.json
    assert [(p["request"]["currency"], [a["amount"] for a in p["result"]["allocations"]]) for p in got.json["parts"]] == [
        ("USD", [250.0, 250.0])]
    assert got.json["skipped"] == [] and "result" not in got.json


def test_a_day_of_two_currencies_is_replaced_whole_as_its_next_revision(rt, tmp_path):
    multi = in_currencies(rt)
    announced = []
    multi.bus.subscribe(BUDGET_ALLOCATED, announced.append)
    day = START + timedelta(days=10)
    first = run_allocation(multi, day)
    pause(multi, "social-de")
    second = run_allocation(multi, day, replace=True)
    assert second.revision == 2 and second.superseded == ["social-de"]
    assert by_currency(second) == {"USD": ("500.00", 500.0, {"search-1", "social-1", "email-1"}),
                                   "EUR": ("300.00", 300.0, {"search-de"})}
    assert load_run(multi.store, day) == second
    ids = [e.id for e in announced]
    assert len(set(ids)) == 4 and ids[2:] == [Event.make(BUDGET_ALLOCATED, "/budget", {}, key=f"{day}#2|{code}").id
                                              for code in ("USD", "EUR")]
    docs = multi.index.search("budget", SearchQuery(filters={"kind": ["allocation"], "currency": ["EUR"]}, size=10))
    assert [h.doc["campaign_id"] for h in docs.hits] == ["search-de"]
    pause(multi, "search-de")  # the EUR total now has no active campaign: that part goes, the USD part stays
    third = run_allocation(multi, day, replace=True)
    assert third.revision == 3 and third.skipped == ["EUR"] and sorted(third.superseded) == ["search-de", "social-de"]
    assert list(by_currency(third)) == ["USD"] and first.revision == 1
    result = report(multi, tmp_path / "report", horizon=7)
    assert result.panels["allocation.png"] == 1
