"""The budget used as a marketer would, from the README alone: faults an audit found (2026-12-04), each held here.
Campaigns in a local store, the budget function through its HTTP app, the CLI through typer's runner."""

import json
from datetime import date, timedelta

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.budget.campaigns import Campaign, import_csv, save_campaign
from affiliate_matrix.budget.contract import forecast_json
from affiliate_matrix.budget.run import AllocationRun, check_pacing, run_key
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client
from tests.support.budget import budget_index_down

DAY = date(2026, 11, 10)


@pytest.fixture
def rt(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    runtime = Runtime("test", Settings(data_dir=tmp_path, budget_daily_total="500.00"))
    for cid, currency in (("search-us", "USD"), ("social-de", "EUR")):
        save_campaign(runtime.store, Campaign(id=cid, name=cid, channel="search", currency=currency), create=True)
    return runtime


def admin(rt) -> dict:
    return {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}


def days_csv(cid: str, currency: str, count: int, spend: float = 100.0) -> bytes:
    rows = ["campaign_id,date,spend,clicks,conversions,revenue,currency"]
    rows += [f"{cid},{DAY - timedelta(days=count - i)},{spend:.2f},10,2,{300 + 7 * (i % 3):.2f},{currency}"
             for i in range(count)]
    return ("\n".join(rows) + "\n").encode()


def test_spend_on_a_campaign_allocated_nothing_is_a_pacing_alert(rt):
    """The pacing skipped every campaign whose allocation was 0 (an S-curve left below its threshold, a pareto tail):
    one that spent 400.00 of nothing raised no `budget.pacing`, though it is the largest overspend there is."""
    from affiliate_matrix.budget.models import AllocateRequest, AllocateResult, Allocation

    run = AllocationRun(day=DAY, created_at="2026-11-09T06:00:00Z", metric="revenue",
                        request=AllocateRequest(total_budget="500.00", currency="USD", strategy="optimal",
                                                campaigns=[{"id": "search-us"}]),
                        result=AllocateResult(strategy="optimal", explanation="", allocations=[
                            Allocation(campaign_id="search-us", amount=0.0)]))
    rt.store.put(run_key(DAY), run.model_dump_json().encode(), content_type="application/json")
    import_csv(rt, b"campaign_id,date,spend,clicks,conversions,revenue,currency\n"
                   b"search-us,2026-11-10,400.00,10,2,300.00,USD\n")
    alerts = check_pacing(rt, DAY).alerts
    assert [(a["campaign_id"], a["allocated"], a["spent"], a["direction"]) for a in alerts] == [
        ("search-us", 0.0, 400.0, "over")]
    assert "deviation" not in alerts[0]  # no ratio of nothing; a rule reads budget.direction


def test_pacing_alerts_reach_the_budget_dashboard(rt):
    """The dashboard "Budget allocation and pacing" had no pacing: the alerts went out as events only, nothing of
    them in the `budget` index it reads (whose docstring said pacing was mirrored)."""
    from affiliate_matrix.budget.run import run_allocation
    from affiliate_matrix.search import SearchQuery
    from tests.support.processes import ROOT

    import_csv(rt, days_csv("search-us", "USD", 10))
    rt.store.delete("budget/campaigns/social-de.json")  # in EUR: the USD run would refuse it
    allocated = run_allocation(rt, DAY).allocations[0].amount
    import_csv(rt, f"campaign_id,date,spend,clicks,conversions,revenue,currency\n"
                   f"search-us,{DAY},{allocated * 2:.2f},10,2,300.00,USD\n".encode())
    assert len(check_pacing(rt, DAY).alerts) == 1
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["pacing"]}, size=10))
    assert [(h.doc["campaign_id"], h.doc["date"], h.doc["amount"], h.doc["spend"]) for h in docs.hits] == [
        ("search-us", DAY.isoformat(), allocated, round(allocated * 2, 2))]
    saved = {obj["id"]: obj for obj in map(json.loads, (ROOT / "infra/dashboards/budget.ndjson").read_text().splitlines())}
    panel = json.loads(saved["amx-budget-pacing"]["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert panel["query"]["query"] == 'kind:"pacing"'
    assert "amx-budget-pacing" in [ref["id"] for ref in saved["amx-dashboard-budget"]["references"]]


@pytest.mark.parametrize("days, said", [(5, "5 days"), (1, "1 day")])  # it said "5 day(s)"
def test_a_campaigns_currency_cannot_change_under_its_stored_days(rt, days, said):
    """PUT changed a campaign's currency from USD to EUR over its stored USD days: the run then allocated
    euros on dollar revenue, and the metrics answered the days as EUR."""
    import_csv(rt, days_csv("search-us", "USD", days))
    app, headers = function_client("budget"), admin(rt)
    read = app.get("/campaigns/search-us", headers=headers)
    body = {"name": "search-us", "channel": "search", "currency": "EUR"}
    reply = app.put("/campaigns/search-us", json=body,
                      headers={**headers, "If-Match": read.headers["ETag"]})
    assert reply.status_code == 400, reply.json
    assert "currency" in reply.json["error"]["message"] and f"{said} stored in USD" in reply.json["error"]["message"]
    assert app.get("/campaigns/search-us/metrics", headers=headers).json["currency"] == "USD"
    # the same currency, or any change before days are stored, is a plain edit
    again = app.put("/campaigns/search-us", json={**body, "name": "Brand search", "currency": "USD"},
                      headers={**headers, "If-Match": read.headers["ETag"]})
    assert again.status_code == 200, again.json
    fresh = app.get("/campaigns/social-de", headers=headers)
    assert app.put("/campaigns/social-de", json={**body, "currency": "GBP"},
                     headers={**headers, "If-Match": fresh.headers["ETag"]}).status_code == 200


def test_a_deleted_campaigns_days_go_with_it(rt):
    """DELETE /campaigns/{id} left budget/metrics/<id>.json behind: a campaign added again under the id, in another
    currency, inherited the old campaign's days (USD days allocated and forecast as EUR)."""
    import_csv(rt, days_csv("search-us", "USD", 5))
    app, headers = function_client("budget"), admin(rt)
    read = app.get("/campaigns/search-us", headers=headers)
    assert app.delete("/campaigns/search-us", headers={**headers, "If-Match": read.headers["ETag"]}).status_code == 204
    added = app.post("/campaigns", headers=headers, json={"id": "search-us", "name": "x", "channel": "search",
                                                          "currency": "EUR"})
    assert added.status_code == 201, added.json
    metrics = app.get("/campaigns/search-us/metrics", headers=headers).json
    assert metrics == {"campaign_id": "search-us", "currency": "EUR", "days": []}


def campaign_delete_failing(monkeypatch, fail):
    """`fail(store, key)` raises in place of the store's delete of search-us's campaign (the other deletes are made)."""
    from affiliate_matrix.storage.local import LocalObjectStore

    delete = LocalObjectStore.delete

    def failing(store, key, **kwargs):
        if key == "budget/campaigns/search-us.json":
            fail(store, key)
        return delete(store, key, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "delete", failing)


def edited_meanwhile(store, key):
    save_campaign(store, Campaign(id="search-us", name="renamed", channel="search", currency="USD"),
                  if_match=store.head(key))


def store_down(store, key):
    from affiliate_matrix.errors import BackendUnavailable

    raise BackendUnavailable(f"DELETE {key}: 503 Slow Down")


@pytest.mark.parametrize("fail, status", [(edited_meanwhile, 412), (store_down, 503)])
def test_a_campaign_delete_refused_or_failing_keeps_its_days(rt, monkeypatch, fail, status):
    """DELETE /campaigns/{id} deleted the campaign's days, then the campaign on the ETag read: when that delete was
    refused (the campaign edited since it was read: 412) or failed (the store down), the campaign stayed, its days
    gone. The campaign goes first, its days after it."""
    import_csv(rt, days_csv("search-us", "USD", 5))
    app, headers = function_client("budget"), admin(rt)
    read = app.get("/campaigns/search-us", headers=headers)
    campaign_delete_failing(monkeypatch, fail)
    reply = app.delete("/campaigns/search-us", headers={**headers, "If-Match": read.headers["ETag"]})
    assert reply.status_code == status, reply.json
    assert app.get("/campaigns/search-us", headers=headers).status_code == 200
    assert len(app.get("/campaigns/search-us/metrics", headers=headers).json["days"]) == 5


def test_a_campaign_delete_cut_short_before_its_days_is_finished_by_its_retry(rt, monkeypatch):
    """The campaign deleted and its days' delete failing (the store down between): the days are left without a
    campaign; the delete asked again (a 404: the campaign is gone) removes them, and so would adding the campaign
    again."""
    from affiliate_matrix.budget.campaigns import metrics_key
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.storage.local import LocalObjectStore

    import_csv(rt, days_csv("search-us", "USD", 5))
    app, headers = function_client("budget"), admin(rt)
    read = app.get("/campaigns/search-us", headers=headers)
    delete = LocalObjectStore.delete

    def days_unavailable(store, key, **kwargs):
        if key == metrics_key("search-us"):
            raise BackendUnavailable(f"DELETE {key}: 503 Slow Down")
        return delete(store, key, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "delete", days_unavailable)
    cut_short = app.delete("/campaigns/search-us", headers={**headers, "If-Match": read.headers["ETag"]})
    assert cut_short.status_code == 503, cut_short.json
    assert rt.store.head(metrics_key("search-us")) is not None  # left behind, without its campaign
    monkeypatch.setattr(LocalObjectStore, "delete", delete)
    retried = app.delete("/campaigns/search-us", headers={**headers, "If-Match": read.headers["ETag"]})
    assert retried.status_code == 404 and rt.store.head(metrics_key("search-us")) is None
    # left behind again, then the campaign added again under its id (in another currency): it starts without them
    rt.store.put(metrics_key("search-us"), json.dumps({"campaign_id": "search-us", "currency": "EUR", "days": [
        {"date": "2026-11-01", "spend": 1.0, "revenue": 2.0}]}).encode())
    added = app.post("/campaigns", headers=headers, json={"id": "search-us", "name": "x", "channel": "search",
                                                          "currency": "USD"})
    assert added.status_code == 201, added.json
    assert app.get("/campaigns/search-us/metrics", headers=headers).json["days"] == []


def test_campaigns_past_the_limit_are_refused_naming_it(rt, monkeypatch):
    """Nothing bounded how many campaigns a caller could add (millions), and every daily run reads them all. One more
    than AMX_BUDGET_MAX_CAMPAIGNS is refused, over HTTP and from the CLI; an edit is no more, and a delete makes
    room."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as cli

    monkeypatch.setenv("AMX_BUDGET_MAX_CAMPAIGNS", "3")
    api, headers = function_client("budget"), admin(rt)
    body = {"name": "x", "channel": "search", "currency": "USD"}
    assert api.post("/campaigns", headers=headers, json={**body, "id": "third"}).status_code == 201
    refused = api.post("/campaigns", headers=headers, json={**body, "id": "fourth"})
    assert refused.status_code == 409, refused.json
    assert "3 campaigns are stored, the limit (AMX_BUDGET_MAX_CAMPAIGNS=3)" in refused.json["error"]["message"]
    added = CliRunner().invoke(cli, ["budget", "campaigns", "add", "fourth", "--name", "x", "--channel", "search",
                                     "--currency", "USD"])
    assert added.exit_code != 0 and "AMX_BUDGET_MAX_CAMPAIGNS=3" in str(added.exception), added.output
    assert api.get("/campaigns/fourth", headers=headers).status_code == 404
    read = api.get("/campaigns/third", headers=headers)
    edited = api.put("/campaigns/third", headers={**headers, "If-Match": read.headers["ETag"]},
                     json={**body, "name": "renamed"})
    assert edited.status_code == 200, edited.json
    edited = api.get("/campaigns/third", headers=headers)
    assert api.delete("/campaigns/third", headers={**headers, "If-Match": edited.headers["ETag"]}).status_code == 204
    assert api.post("/campaigns", headers=headers, json={**body, "id": "fourth"}).status_code == 201


def paused_at_its_first_put(monkeypatch, key_prefix: str):
    """The thread given to `pause(thread)` stops before its first write of a key under `key_prefix`: `at` is set
    once it is there, and it writes once `go` is set. Other threads write as ever."""
    import threading

    from affiliate_matrix.storage.local import LocalObjectStore

    put, at, go, held = LocalObjectStore.put, threading.Event(), threading.Event(), []

    def paused(store, key, data, **kwargs):
        if threading.current_thread() in held and key.startswith(key_prefix) and not at.is_set():
            at.set()
            assert go.wait(60), "never let go"
        return put(store, key, data, **kwargs)

    monkeypatch.setattr(LocalObjectStore, "put", paused)
    return held.append, at, go


def in_thread(call, pause):
    """call() in a thread of its own, held by `pause`; the thread and a list that gets its result."""
    import threading

    result: list = []
    thread = threading.Thread(target=lambda: result.append(call()))
    pause(thread)
    thread.start()
    return thread, result


def test_a_currency_change_racing_the_first_days_written_loses_to_them(rt, monkeypatch):
    """A PUT changing a campaign's currency read its days (none), and days written before its write of the campaign
    were left in USD under a EUR campaign. The first days written fix its currency on the campaign's ETag: the PUT,
    on the ETag it read, is refused (412), and asked again, refused naming the days' currency."""
    app, headers = function_client("budget"), admin(rt)
    read = app.get("/campaigns/search-us", headers=headers)
    pause, at, go = paused_at_its_first_put(monkeypatch, "budget/campaigns/")
    change, result = in_thread(lambda: function_client("budget").put(
        "/campaigns/search-us", json={"name": "search-us", "channel": "search", "currency": "EUR"},
        headers={**headers, "If-Match": read.headers["ETag"]}), pause)
    assert at.wait(60)  # the PUT has checked the days (none) and is about to write the campaign
    written = app.post("/campaigns/search-us/metrics", headers=headers,
                       json={"days": [{"date": "2026-11-01", "spend": 10, "revenue": 30}]})
    go.set()
    change.join()
    assert written.status_code == 200, written.json
    assert result[0].status_code == 412, result[0].json
    again = app.get("/campaigns/search-us", headers=headers)
    assert again.json["currency"] == "USD" and "days_currency" not in again.json
    retried = app.put("/campaigns/search-us", json={"name": "search-us", "channel": "search", "currency": "EUR"},
                      headers={**headers, "If-Match": again.headers["ETag"]})
    assert retried.status_code == 400 and "so its currency stays USD" in retried.json["error"]["message"]
    assert app.get("/campaigns/search-us/metrics", headers=headers).json["currency"] == "USD"


def test_days_written_while_the_currency_changes_lose_to_it(rt, monkeypatch):
    """The other order: days read the campaign (USD), its currency changed to EUR, then the days were written, in
    USD under a EUR campaign. They are refused (409) and nothing is written."""
    app, headers = function_client("budget"), admin(rt)
    pause, at, go = paused_at_its_first_put(monkeypatch, "budget/")
    days, result = in_thread(lambda: function_client("budget").post(
        "/campaigns/search-us/metrics", headers=headers,
        json={"days": [{"date": "2026-11-01", "spend": 10, "revenue": 30}]}), pause)
    assert at.wait(60)  # the days are checked against the campaign as it was (USD), and about to be written
    read = app.get("/campaigns/search-us", headers=headers)
    changed = app.put("/campaigns/search-us", json={"name": "search-us", "channel": "search", "currency": "EUR"},
                      headers={**headers, "If-Match": read.headers["ETag"]})
    go.set()
    days.join()
    assert changed.status_code == 200, changed.json
    assert result[0].status_code == 409, result[0].json
    assert "its currency changed to EUR while its days in USD were being written" in result[0].json["error"]["message"]
    assert app.get("/campaigns/search-us/metrics", headers=headers).json == {
        "campaign_id": "search-us", "currency": "EUR", "days": []}


def test_a_forecast_on_a_few_days_says_it_is_untested_and_its_band_is_not_narrower_than_the_days_spread():
    """Three days of 300, 310 and 305 gave an 80% band of 299.77-310.23 for every one of the next seven days (the
    spread of the three days themselves is 300-310) and nothing said no backtest was possible."""
    history = [{"date": f"2026-11-0{i + 1}", "spend": 100, "revenue": r} for i, r in enumerate((300, 310, 305))]
    out = json.loads(forecast_json(json.dumps({"horizon_days": 7, "campaigns": [{"id": "new", "history": history}]})))
    row = out["forecasts"][0]
    assert row["backtest"] is None and "3 days of history" in row["note"] and "no backtest" in row["note"]
    first = row["revenue"][0]
    # a new day's 80% prediction interval from three days (Student's t, 2 degrees of freedom): ± 10.9 around the
    # forecast (near 305)
    assert abs(first["value"] - 305) < 1
    assert first["value"] - first["low"] >= 10.85 and first["high"] - first["value"] >= 10.85


def test_amounts_are_shown_with_their_currency(rt, tmp_path):
    """A portfolio in dollars and euros: `amx budget campaigns list` had no currency column, and the report's summary
    said "forecasts 2,129 revenue" for a dollar campaign and a euro one alike."""
    from typer.testing import CliRunner

    from affiliate_matrix.budget.report import report
    from affiliate_matrix.cli import app

    import_csv(rt, days_csv("search-us", "USD", 10) + days_csv("social-de", "EUR", 10).split(b"\n", 1)[1])
    listed = CliRunner().invoke(app, ["budget", "campaigns", "list"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[1]: line for line in listed.output.splitlines() if "-us " in line or "-de " in line}
    assert " USD " in rows["search-us"] and " EUR " in rows["social-de"]
    summary = report(rt, tmp_path / "report", horizon=7).summary
    assert "search-us: ETS(A,N,N) forecasts" in summary and "USD revenue over 7 days" in summary
    assert "EUR revenue over 7 days" in summary


def test_a_budget_in_a_currency_without_cents_is_shared_in_whole_units():
    """¥50,000 over seven campaigns, three capped at ¥90: four got ¥12,432.50 each, half a yen that cannot be spent
    (JPY, like KRW or CLP, has no minor unit); a total or a bound in fractions of a yen is refused naming the field."""
    from affiliate_matrix.budget.contract import allocate_json
    from affiliate_matrix.errors import InvalidInput

    campaigns = [{"id": f"jp-{i}", "max_budget": "90" if i % 3 == 0 else None} for i in range(7)]
    for strategy in ("equal", "proportional", "pareto", "exploratory", "optimal"):
        result = json.loads(allocate_json(json.dumps({"total_budget": "50000", "currency": "JPY", "strategy": strategy,
                                                      "seed": 1, "campaigns": campaigns})))
        amounts = [row["amount"] for row in result["allocations"]]
        assert all(amount == int(amount) for amount in amounts) and sum(amounts) == 50000, (strategy, amounts)
    with pytest.raises(InvalidInput, match=r"total_budget: JPY has no minor unit: 50000.50 is not a whole amount"):
        allocate_json(json.dumps({"total_budget": "50000.50", "currency": "JPY", "strategy": "equal",
                                  "campaigns": campaigns}))
    with pytest.raises(InvalidInput, match=r"campaigns.1.max_budget: JPY has no minor unit: 90.50"):
        allocate_json(json.dumps({"total_budget": "50000", "currency": "JPY", "strategy": "equal",
                                  "campaigns": [{"id": "a"}, {"id": "b", "max_budget": "90.50"}]}))
    with pytest.raises(ValueError, match="min_budget: JPY has no minor unit"):
        Campaign(id="jp", name="jp", channel="search", currency="JPY", min_budget="10.50")


def test_a_campaign_is_paused_and_resumed_from_the_cli_and_a_paused_one_gets_nothing(rt):
    """The README said nothing of pausing and `amx budget campaigns` had only add and list: a marketer could not
    keep a paused campaign out of the run short of writing its JSON over HTTP (`active: false`)."""
    from typer.testing import CliRunner

    from affiliate_matrix.budget.campaigns import load_campaign
    from affiliate_matrix.budget.run import run_allocation
    from affiliate_matrix.cli import app

    save_campaign(rt.store, Campaign(id="display-us", name="d", channel="display", currency="USD"), create=True)
    paused = CliRunner().invoke(app, ["budget", "campaigns", "pause", "display-us"])
    assert paused.exit_code == 0 and "paused campaign display-us" in paused.output, paused.output
    assert load_campaign(rt.store, "display-us")[0].active is False
    save_campaign(rt.store, load_campaign(rt.store, "social-de")[0].model_copy(update={"active": False}),
                  if_match=load_campaign(rt.store, "social-de")[1])
    run = run_allocation(rt, DAY)
    assert [a.campaign_id for a in run.allocations] == ["search-us"]
    resumed = CliRunner().invoke(app, ["budget", "campaigns", "resume", "display-us"])
    assert resumed.exit_code == 0 and load_campaign(rt.store, "display-us")[0].active is True
    missing = CliRunner().invoke(app, ["budget", "campaigns", "pause", "nobody"])
    assert missing.exit_code != 0 and "there is no campaign 'nobody'" in missing.output + str(missing.exception)
    dotted = CliRunner().invoke(app, ["budget", "campaigns", "pause", "../x"])
    assert dotted.exit_code == 2 and "'../x' is not a campaign id" in dotted.output, dotted.output


def test_a_campaign_that_never_reports_conversions_gets_no_conversions_forecast():
    """A network reporting no conversions (the CSV's column empty, as the README allows) read as zero a day: the
    forecast was exactly 0 conversions, band 0-0, certain of what nobody measured."""
    history = [{"date": f"2026-11-{d:02d}", "spend": 100, "revenue": 300 + (d * 37 % 11) * 10} for d in range(1, 30)]
    row = json.loads(forecast_json(json.dumps({"horizon_days": 3, "campaigns": [{"id": "x", "history": history}]})))[
        "forecasts"][0]
    assert row["revenue"] and row["conversions"] == [] and "no day reports conversions" in row["note"]
    history[-1]["conversions"] = 4
    row = json.loads(forecast_json(json.dumps({"horizon_days": 3, "campaigns": [{"id": "x", "history": history}]})))[
        "forecasts"][0]
    assert len(row["conversions"]) == 3


def test_a_date_twice_in_a_requests_history_is_named():
    """`campaign c: a date appears twice in its history` left a marketer searching a year of rows for which one."""
    from affiliate_matrix.budget.contract import allocate_json
    from affiliate_matrix.errors import InvalidInput

    history = [{"date": f"2026-11-{d:02d}", "spend": 1, "revenue": 2} for d in (1, 2, 3, 2)]
    with pytest.raises(InvalidInput, match=r"campaigns.0: campaign c: 2026-11-02 appears twice in its history"):
        allocate_json(json.dumps({"total_budget": "10", "currency": "USD", "strategy": "equal",
                                  "campaigns": [{"id": "c", "history": history}]}))


def test_a_day_already_run_is_its_stored_run_whatever_the_campaigns_are_now(rt, monkeypatch):
    """A day with a stored run was allocated again on every ask, and its stored run returned only if that new
    allocation could be made: a campaign added since in a currency with no total (or every campaign paused, or
    min_budgets raised past the total) refused it. The cron event redelivered to finish a run stopped after it was
    stored (the budget index down) was answered 400 and parked: that day never reached the dashboards and no
    budget.allocated went out; POST /allocations and `amx budget run --day D` said "nothing is stored for that day"
    of a day that had a run."""
    from affiliate_matrix.budget.run import run_allocation
    from affiliate_matrix.errors import BackendUnavailable, InvalidInput
    from affiliate_matrix.events import BUDGET_ALLOCATED
    from affiliate_matrix.search import SearchQuery

    rt.store.delete("budget/campaigns/social-de.json")  # in EUR: the USD total would refuse it
    import_csv(rt, days_csv("search-us", "USD", 10))
    announced = []
    rt.bus.subscribe(BUDGET_ALLOCATED, announced.append)
    with budget_index_down(rt), pytest.raises(BackendUnavailable):
        run_allocation(rt, DAY)  # stored, neither mirrored nor announced
    save_campaign(rt.store, Campaign(id="social-gb", name="x", channel="social", currency="GBP"), create=True)
    stored = run_allocation(rt, DAY)  # the redelivery finishes it
    assert [a.campaign_id for a in stored.allocations] == ["search-us"] and stored.revision == 1
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["allocation"]}, size=10))
    assert [(h.doc["campaign_id"], h.doc["amount"]) for h in docs.hits] == [("search-us", 500.0)]
    assert [e.data["day"] for e in announced] == [DAY.isoformat()]
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    reply = function_client("budget").post("/allocations", headers=admin(rt), json={"day": DAY.isoformat()})
    assert reply.status_code == 200, reply.json
    assert reply.json["parts"][0]["result"]["allocations"][0]["amount"] == 500.0
    with pytest.raises(InvalidInput, match=r"social-gb \(GBP\)"):  # a day not run yet is refused, as before
        run_allocation(rt, DAY + timedelta(days=1))
    with pytest.raises(InvalidInput, match=r"social-gb \(GBP\)"):  # and so is a replacement
        run_allocation(rt, DAY, replace=True)


def test_a_csv_header_naming_a_column_twice_is_refused_naming_it(rt):
    """A header with every column and one of them twice (an export's gross and net both headed `revenue`) passed the
    check for exactly those columns, and each row's later cell silently replaced the earlier: 999.00 of revenue
    stored as 5.00."""
    from affiliate_matrix.errors import InvalidInput

    data = (b"campaign_id,date,spend,clicks,conversions,revenue,currency,revenue\n"
            b"search-us,2026-11-01,10.00,1,1,999.00,USD,5.00\n")
    with pytest.raises(InvalidInput, match=r"^line 1: the header must be campaign_id,date,spend,clicks,conversions,"
                                           r"revenue,currency; revenue twice$"):
        import_csv(rt, data)
    assert list(rt.store.list("budget/metrics/")) == []


def test_a_campaign_replaced_over_http_keeps_when_it_was_created(rt):
    """`created_at` is the server's (refused in a body), and PUT /campaigns/{id} set it afresh: pausing a campaign
    over HTTP dated its creation to the pause."""
    app, headers = function_client("budget"), admin(rt)
    read = app.get("/campaigns/search-us", headers=headers)
    reply = app.put("/campaigns/search-us", json={"name": "Brand search", "channel": "search", "currency": "USD",
                                                  "active": False}, headers={**headers, "If-Match": read.headers["ETag"]})
    assert reply.status_code == 200, reply.json
    assert reply.json["active"] is False and reply.json["created_at"] == read.json["created_at"]
    assert app.get("/campaigns/search-us", headers=headers).json["created_at"] == read.json["created_at"]


def test_a_campaign_capped_at_zero_is_listed_with_its_cap(rt):
    """`amx budget campaigns list` showed a max_budget of 0.00 (a campaign given nothing) as "–", the mark of no
    bound at all, and a min_budget of 0.00 likewise."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    save_campaign(rt.store, Campaign(id="stopped-us", name="x", channel="search", currency="USD", min_budget="0.00",
                                     max_budget="0.00"), create=True)
    listed = CliRunner().invoke(app, ["budget", "campaigns", "list"])
    assert listed.exit_code == 0, listed.output
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in listed.output.splitlines() if "-us " in line]
    bounds = {row[0]: row[4:6] for row in cells}  # id, name, channel, currency, min, max, …
    assert bounds == {"search-us": ["—", "—"], "stopped-us": ["0.00", "0.00"]}


@pytest.mark.parametrize("row", [{"spend": 1, "revenue": 2}, {"date": 20261101, "spend": 1, "revenue": 2},
                                 {"date": ["2026-11-01"], "spend": 1, "revenue": 2}])
def test_days_written_over_stored_days_with_no_date_name_the_damage(rt, row):
    """A stored day with no date, or one that is not text (the metrics hand-edited), made every write of the
    campaign's days a KeyError or TypeError: POST /campaigns/{id}/metrics answered 500 with a traceback and no
    words, and an import stopped midway at that campaign ("the import stopped at campaign search-us ('date')"), the
    campaigns before it written. Now it is the damage named, as a read names it, and the import writes nothing."""
    from affiliate_matrix.budget.campaigns import metrics_key
    from affiliate_matrix.errors import DamagedData

    damaged = json.dumps({"campaign_id": "search-us", "currency": "USD", "days": [row]}).encode()
    rt.store.put(metrics_key("search-us"), damaged, content_type="application/json")
    reply = function_client("budget").post("/campaigns/search-us/metrics", headers=admin(rt), json={
        "days": [{"date": "2026-11-02", "spend": 1, "revenue": 2}]})
    assert reply.status_code == 500 and reply.json["error"]["code"] == "damaged_data", reply.json
    assert "budget/metrics/search-us.json is damaged" in reply.json["error"]["message"]
    with pytest.raises(DamagedData, match="budget/metrics/search-us.json is damaged"):
        import_csv(rt, days_csv("social-de", "EUR", 3) + days_csv("search-us", "USD", 3).split(b"\n", 1)[1])
    assert rt.store.get(metrics_key("search-us")).data == damaged
    assert list(rt.store.list("budget/metrics/")) == [metrics_key("search-us")]  # social-de: not written either
    assert list(rt.store.list("budget/imports/")) == []


def test_a_signalling_nan_in_a_csv_cell_is_named_by_its_column(rt):
    """`sNaN` is a number to Decimal and none to float: the line's error said "cannot convert signaling NaN to float"
    without naming the column, where `NaN` and `abc` name theirs."""
    from affiliate_matrix.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"line 2: revenue: 'sNaN' is not a number in ASCII digits, as 1234\.50$"):
        import_csv(rt, b"campaign_id,date,spend,clicks,conversions,revenue,currency\n"
                       b"search-us,2026-11-01,10.00,1,1,sNaN,USD\n")


def test_a_file_set_aside_beside_the_stored_runs_is_no_run(rt, tmp_path):
    """A damaged run moved aside beside the others (`budget/runs/2026-11-10.json.bak`, as the damage's remedy has an
    operator do) was read as a day: date.fromisoformat's ValueError made GET /allocations a 500 with no words and
    stopped `amx budget report`. Only `<day>.json` is a day's run."""
    from affiliate_matrix.budget.report import report
    from affiliate_matrix.budget.run import run_allocation

    rt.store.delete("budget/campaigns/social-de.json")  # in EUR: the USD total would refuse it
    import_csv(rt, days_csv("search-us", "USD", 10))
    run_allocation(rt, DAY)
    for aside in ("budget/runs/2026-11-10.json.bak", "budget/runs/notes.txt", "budget/runs/20261111.json"):
        rt.store.put(aside, rt.store.get(run_key(DAY)).data, content_type="application/json")
    reply = function_client("budget").get("/allocations", headers=admin(rt))
    assert reply.status_code == 200, reply.status_code
    assert reply.json == {"items": [{"day": DAY.isoformat(), "href": f"/allocations/{DAY}"}]}
    assert "1 allocation run, 2026-11-10 to 2026-11-10" in report(rt, tmp_path / "report", horizon=7).summary


def test_a_file_set_aside_beside_the_campaigns_is_no_campaign(rt):
    """A campaign's document copied aside beside the others (`budget/campaigns/search-us.json.bak`) was read as a
    campaign `search-us.json.bak`, which does not exist: its NotFoundError stopped the daily run for every campaign,
    `amx budget campaigns list`, the report and the forecast, while GET /campaigns (which reads `<id>.json` only)
    listed them all."""
    from affiliate_matrix.budget.campaigns import list_campaigns
    from affiliate_matrix.budget.run import run_allocation

    rt.store.delete("budget/campaigns/social-de.json")  # in EUR: the USD total would refuse it
    for aside in ("budget/campaigns/search-us.json.bak", "budget/campaigns/notes.txt", "budget/campaigns/old/x.json"):
        rt.store.put(aside, rt.store.get("budget/campaigns/search-us.json").data, content_type="application/json")
    assert [c.id for c in list_campaigns(rt.store)] == ["search-us"]
    assert [a.campaign_id for a in run_allocation(rt, DAY).allocations] == ["search-us"]


def test_a_file_set_aside_beside_the_import_journals_is_no_import(rt):
    """A journal copied aside (`budget/imports/<sha-256>.json.bak`) was an unfinished import for good: every run
    reported it, and `amx budget imports abandon` refused its id (not hex), so only a hand in the bucket ended it."""
    from affiliate_matrix.budget.campaigns import pending_imports, unfinished_imports

    journal = "budget/imports/" + "ab" * 32 + ".json"
    rt.store.put(journal, b'{"campaigns": {}, "written": []}', content_type="application/json")
    rt.store.put(journal + ".bak", b'{"campaigns": {}, "written": []}', content_type="application/json")
    assert pending_imports(rt.store) == [journal]
    assert [found.id for found in unfinished_imports(rt.store)] == ["ab" * 32]


def test_a_csv_import_builds_no_validator_per_line(rt, monkeypatch):
    """Each line's campaign_id was checked by a pydantic TypeAdapter built for that line (0.12 ms of the line's
    0.17): a 50 MiB file, the largest taken, spent about two of its three minutes' check building them."""
    from pydantic import TypeAdapter

    from affiliate_matrix.budget import campaigns

    built = []

    def counted(*args, **kwargs):
        built.append(args)
        return TypeAdapter(*args, **kwargs)

    monkeypatch.setattr(campaigns, "TypeAdapter", counted)
    campaigns.day_adapter.cache_clear(), campaigns.days_adapter.cache_clear()
    try:
        assert import_csv(rt, days_csv("search-us", "USD", 50)).written == {"search-us": 50}
    finally:
        campaigns.day_adapter.cache_clear(), campaigns.days_adapter.cache_clear()
    assert len(built) <= 3  # the day's and the days' validators, once each


def test_a_days_roas_past_a_floats_range_is_mirrored_as_none(rt):
    """A day's spend of 5e-324 is valid (a count from 0 up), and its revenue over it is past a float's range: the
    day's document in the `budget` index carried `roas: inf` (JSON has no such number: OpenSearch refuses the
    document, the embedded index kept it and the dashboard's average ROAS became inf). A ROAS that is no number
    is none, as on a day of no spend."""
    import math

    from affiliate_matrix.search import SearchQuery

    reply = function_client("budget").post("/campaigns/search-us/metrics", headers=admin(rt), json={"days": [
        {"date": "2026-11-01", "spend": 5e-324, "revenue": 10}, {"date": "2026-11-02", "spend": 0, "revenue": 10},
        {"date": "2026-11-03", "spend": 4, "revenue": 10}]})
    assert reply.status_code == 200, reply.json
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["day"]}, size=10))
    roas = {h.doc["date"]: h.doc["roas"] for h in docs.hits}
    assert roas == {"2026-11-01": None, "2026-11-02": None, "2026-11-03": 2.5}, roas
    assert all(value is None or math.isfinite(value) for value in roas.values())
