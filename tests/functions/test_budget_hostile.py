"""The budget function and `amx budget` fed hostile numbers through their real entry points (the function's HTTP
stack, the CLI's JSON contract): each refused naming the field, or computed right, and nothing half-written."""

import json

import pytest

from affiliate_matrix.budget.contract import allocate_json
from tests.support.apps import function_client
from tests.support.budget import budget_index_down

CAMPAIGN = {"id": "search-1", "name": "Brand search", "channel": "search", "currency": "USD"}


@pytest.mark.parametrize("written,stored", [("-0", "0.00"), ("-0.00", "0.00"), (-0.0, "0.00"), ("-0E+5", "0.00"),
                                            ("0E-10", "0.00"), ("1E+3", "1000.00"), ("12.50", "12.50"), (12.5, "12.50"),
                                            (250, "250.00")])
def test_a_budget_bound_is_stored_in_its_plain_form_never_as_minus_zero(env, written, stored):
    """A min_budget of -0 (or -0.00, -0E+5) passed ge=0 and was stored, shown and echoed as written ('-0'), and
    '0E-10' and '1E+3' as such: a decimal entering the budget models is now its plain form, to the cent (as money_text
    writes it), however it was typed (250 was '250', 12.5 '12.5')."""
    budget = function_client("budget")
    made = budget.post("/campaigns", json={**CAMPAIGN, "min_budget": written, "max_budget": written},
                       headers=env["admin"])
    assert made.status_code == 201, made.json
    assert made.json["min_budget"] == made.json["max_budget"] == stored
    read = budget.get("/campaigns/search-1", headers=env["read"]).json
    assert read["min_budget"] == read["max_budget"] == stored


def test_a_total_of_minus_zero_allocates_nothing_and_says_zero():
    request = {"total_budget": "-0", "currency": "USD", "strategy": "equal", "campaigns": [{"id": "a", "min_budget": "-0"}]}
    body = json.loads(allocate_json(json.dumps(request)))
    assert body["allocations"] == [{"campaign_id": "a", "amount": 0.0, "expected_revenue": None,
                                    "expected_revenue_low": None, "expected_revenue_high": None}]
    refused = {**request, "campaigns": [{"id": "a", "min_budget": "5"}]}
    with pytest.raises(Exception, match=r"above total_budget 0.00$"):
        allocate_json(json.dumps(refused))


def test_a_run_stopped_after_it_was_stored_is_mirrored_and_announced_by_the_next_call(env, tmp_path):
    """The run is stored create-only, then mirrored to the budget index, then announced (budget.allocated). A run
    stopped after the store (the index unreachable: a 503, and the cron event redelivered) found the stored run on
    the next call and returned it, so the dashboards never got that day's allocations and no budget.allocated
    went out, for good."""
    from datetime import date

    from affiliate_matrix.budget.campaigns import Campaign, save_campaign
    from affiliate_matrix.budget.run import run_allocation
    from affiliate_matrix.config import Settings
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.events import BUDGET_ALLOCATED
    from affiliate_matrix.runtime import Runtime
    from affiliate_matrix.search import SearchQuery

    rt = Runtime("test", Settings(data_dir=tmp_path, budget_daily_total="300.00"))
    for cid in ("search-1", "social-1"):
        save_campaign(rt.store, Campaign(id=cid, name=cid, channel="search", currency="USD"), create=True)
    announced = []
    rt.bus.subscribe(BUDGET_ALLOCATED, announced.append)
    with budget_index_down(rt), pytest.raises(BackendUnavailable):
        run_allocation(rt, date(2026, 11, 12))
    again = run_allocation(rt, date(2026, 11, 12))
    docs = rt.index.search("budget", SearchQuery(filters={"kind": ["allocation"]}, size=10))
    assert {h.doc["campaign_id"] for h in docs.hits} == {"search-1", "social-1"}
    assert sum(h.doc["amount"] for h in docs.hits) == pytest.approx(300.0)
    assert [e.data["day"] for e in announced] == ["2026-11-12"]
    run_allocation(rt, date(2026, 11, 12))  # a third call: the same documents, the same event (one id)
    assert len({e.id for e in announced}) == 1 and again.allocations


@pytest.mark.parametrize("strategy", ["optimal", "exploratory"])
def test_a_campaign_spending_a_subnormal_amount_gets_an_expected_revenue_and_no_numpy_warning(strategy):
    """A day's spend of 5e-324 is valid input (a count from 0 up). A campaign's curves are scaled to its largest
    spend, and half-saturation points of 5e-324 times 0.125 to 16 underflowed to 0: spend / 0 was nan, its
    expected revenue null (an informed campaign's, beside an amount), and numpy's 'divide by zero' warnings went
    to the log (the CLI's stderr) at every run. The scale is at least a cent, the least an allocation moves."""
    import warnings

    history = [{"date": f"2026-01-0{d}", "spend": 5e-324, "revenue": 5e-324} for d in range(1, 6)]
    request = {"total_budget": "0", "currency": "USD", "strategy": strategy, "seed": 1, "campaigns": [
        {"id": "a", "history": history}, {"id": "b", "history": [{**d, "spend": 1e-308} for d in history]}]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = json.loads(allocate_json(json.dumps(request)))
    assert [(a["amount"], a["expected_revenue"]) for a in body["allocations"]] == [(0.0, 0.0), (0.0, 0.0)]


def test_yesterdays_pacing_is_checked_when_tomorrows_allocation_is_refused(env, tmp_path, monkeypatch):
    """The daily tick allocates tomorrow, then checks yesterday's pacing. An allocation refused (every campaign
    made inactive, AMX_BUDGET_DAILY_TOTAL taken away, min_budgets past the total) answered 400 before the pacing
    was looked at, so a campaign that overspent yesterday by half raised no budget.pacing. The pacing is checked
    whatever the allocation's outcome, and the tick still answers the allocation's refusal."""
    from datetime import date

    from affiliate_matrix.budget.campaigns import Campaign, load_campaign, save_campaign
    from affiliate_matrix.budget.run import run_allocation
    from affiliate_matrix.config import Settings
    from affiliate_matrix.events import BUDGET_PACING
    from affiliate_matrix.runtime import Runtime
    from tests.support.events import budget_tick, deliver
    from tests.support.receiver import Receiver

    rt = Runtime("test", Settings(data_dir=tmp_path, budget_daily_total="300.00"))
    save_campaign(rt.store, Campaign(id="search-1", name="s", channel="search", currency="USD"), create=True)
    run_allocation(rt, date(2026, 10, 22))
    broker = Receiver()
    try:
        monkeypatch.setenv("AMX_EVENTS", "http")
        monkeypatch.setenv("AMX_BROKER_URL", broker.url)
        budget = function_client("budget")
        spent = budget.post("/campaigns/search-1/metrics", headers=env["admin"], json={"days": [
            {"date": "2026-10-22", "spend": 450.0, "revenue": 10.0}]})
        assert spent.status_code == 200
        campaign, etag = load_campaign(rt.store, "search-1")
        save_campaign(rt.store, campaign.model_copy(update={"active": False}), if_match=etag)
        reply = deliver(budget, budget_tick(date(2026, 10, 23)), "budget", binary=True)
        assert reply.status_code == 400 and "no active campaigns" in reply.json["error"]["message"]
        pacing = [e for e in broker.json_bodies() if e["type"] == BUDGET_PACING]
        assert [(e["data"]["campaign_id"], e["data"]["direction"]) for e in pacing] == [("search-1", "over")]
    finally:
        broker.close()


@pytest.mark.parametrize("damage", [b'{"campaign_id": "search-1", "days": [{"date": "2026-1', b"[" * 100_000,
                                    b'{"days": 5}', b'{"days": [{"date": "2026-11-01", "spend": "lots"}]}',
                                    b'{"days": [{"date": "2026-11-01", "spend": 1, "revenue": 2}, '
                                    b'{"date": "2026-11-01", "spend": 3, "revenue": 4}]}'])
def test_a_campaigns_damaged_metrics_cost_that_campaign_not_the_run(env, tmp_path, damage, capsys):
    """budget/metrics/<id>.json was read with json.loads and indexed as it came: one campaign's metrics truncated,
    nested too deep or of another shape raised out of the daily run (a 500 to POST /allocations, the cron tick
    redelivered until dropped) with no allocation for anyone. The damage is named in the log and the run goes on
    with that campaign's history left out (the README: the budget run skips a damaged document). A date stored twice
    (never written so: a later row for a date replaces it) refused the whole run, a 400 naming that campaign."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    budget = function_client("budget")
    for cid in ("search-1", "social-1"):
        assert budget.post("/campaigns", json={**CAMPAIGN, "id": cid}, headers=env["admin"]).status_code == 201
    days = [{"date": f"2026-11-{d:02d}", "spend": 50.0 + d, "revenue": 200.0 + 3 * d} for d in range(1, 11)]
    assert budget.post("/campaigns/social-1/metrics", json={"days": days}, headers=env["admin"]).status_code == 200
    Runtime("test", Settings(data_dir=tmp_path)).store.put("budget/metrics/search-1.json", damage,
                                                           content_type="application/json")
    run = budget.post("/allocations", json={"day": "2026-11-12"}, headers=env["admin"])
    assert run.status_code == 201, run.json
    assert round(sum(a["amount"] for a in run.json["parts"][0]["result"]["allocations"]), 2) == 300.0
    histories = {c["id"]: c["history"] for c in run.json["parts"][0]["request"]["campaigns"]}
    assert histories["search-1"] == [] and len(histories["social-1"]) == 10
    logged = capsys.readouterr().err
    assert "document.damaged" in logged and "budget/metrics/search-1.json" in logged and "Traceback" not in logged


@pytest.mark.parametrize("damage", [b'{"day": "2026-10-22", "created_at": "2026-10-21T06:00', b"[" * 100_000,
                                    b'{"day": "2026-10-22"}'])
def test_a_damaged_stored_run_is_named_and_costs_only_its_days_pacing(env, tmp_path, damage, capsys):
    """budget/runs/<day>.json was read with pydantic's ValidationError left to fly: one damaged run raised out of
    the daily tick's pacing check (a 500, the tick redelivered until dropped), and a GET of it was a 500 with a
    traceback. The tick allocates tomorrow and skips the damaged day's pacing, naming it; reading it alone is
    the documented 500 damaged_data naming its key."""
    from datetime import date

    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime
    from tests.support.events import budget_tick, deliver

    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    Runtime("test", Settings(data_dir=tmp_path)).store.put("budget/runs/2026-10-22.json", damage,
                                                           content_type="application/json")
    assert deliver(budget, budget_tick(date(2026, 10, 23)), "budget", binary=True).status_code == 204
    assert budget.get("/allocations/2026-10-24", headers=env["read"]).status_code == 200
    one = budget.get("/allocations/2026-10-22", headers=env["read"])
    assert one.status_code == 500 and one.json["error"]["code"] == "damaged_data"
    assert "budget/runs/2026-10-22.json" in one.json["error"]["message"]
    logged = capsys.readouterr().err
    assert "document.damaged" in logged and "budget/runs/2026-10-22.json" in logged and "Traceback" not in logged


def test_a_campaign_keeps_a_bounded_window_of_days_and_refuses_one_far_past_the_others(env, tmp_path):
    """A campaign's metrics were unbounded: a million stored days cost a 48 MB GET at every run, and one day dated
    9999-01-01 left every other day out of its forecast (which reads the calendar's last MAX_HISTORY_DAYS from the
    newest). A campaign keeps the last MAX_STORED_DAYS from its newest day, older ones dropped on write (a long
    import's too: tests/e2e/test_budget.py); a write of days all outside that window, of days falling apart by more
    than it, or one so far after the stored days that none would be kept, is refused naming the limit."""
    from datetime import date, timedelta

    from affiliate_matrix.budget.campaigns import MAX_STORED_DAYS
    from affiliate_matrix.budget.models import MAX_HISTORY_DAYS
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    assert MAX_STORED_DAYS == MAX_HISTORY_DAYS
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    first = date(2012, 1, 1)
    stored = [{"date": (first + timedelta(days=i)).isoformat(), "spend": 10.0, "revenue": 30.0} for i in range(5_000)]
    store.put("budget/metrics/search-1.json", json.dumps({"days": stored}).encode(), content_type="application/json")
    newest = first + timedelta(days=5_000)
    day = {"date": newest.isoformat(), "spend": 10.0, "revenue": 30.0}
    assert budget.post("/campaigns/search-1/metrics", json={"days": [day]}, headers=env["admin"]).status_code == 200
    kept = [d["date"] for d in json.loads(store.get("budget/metrics/search-1.json").data)["days"]]
    assert len(kept) == MAX_STORED_DAYS and kept[-1] == newest.isoformat()
    assert kept[0] == (newest - timedelta(days=MAX_STORED_DAYS - 1)).isoformat()

    before = store.get("budget/metrics/search-1.json").data
    far = budget.post("/campaigns/search-1/metrics", json={"days": [{**day, "date": "9999-01-01"}]},
                      headers=env["admin"])
    assert far.status_code == 400 and "9999-01-01 is more than 1,100 days after every stored day" in \
        far.json["error"]["message"]
    late = budget.post("/campaigns/search-1/metrics", json={"days": [{**day, "date": "2012-01-02"}]},
                       headers=env["admin"])
    assert late.status_code == 400 and "2012-01-02 is more than 1,100 days before the newest day" in \
        late.json["error"]["message"]
    mixed = budget.post("/campaigns/search-1/metrics", json={"days": [{**day, "date": "2100-01-01"},
                                                                        {**day, "date": "2100-01-02"}]},
                        headers=env["admin"])
    assert mixed.status_code == 400 and "2100-01-02 is more than 1,100 days after" in mixed.json["error"]["message"]
    assert store.get("budget/metrics/search-1.json").data == before
    oldest = late.json["error"]["message"].partition("the days from ")[2][:10]  # as it says, that one is taken
    assert oldest == kept[0] and budget.post("/campaigns/search-1/metrics", json={"days": [{**day, "date": oldest}]},
                                             headers=env["admin"]).json["dropped"] is None
    assert budget.post("/campaigns", json={**CAMPAIGN, "id": "fresh"}, headers=env["admin"]).status_code == 201
    fresh = budget.post("/campaigns/fresh/metrics", json={"days": [{**day, "date": "2026-11-01"},
                                                                     {**day, "date": "9999-01-01"}]},
                        headers=env["admin"])
    assert fresh.status_code == 400 and "2026-11-01 is more than 1,100 days before the next day written, 9999-01-01" in \
        fresh.json["error"]["message"]
    assert store.head("budget/metrics/fresh.json") is None


def test_a_metrics_post_carries_at_most_the_days_a_campaign_keeps_and_merges_them_with_the_stored_ones(env, tmp_path):
    """A POST of 48,000 days took ~6 s (each day mirrored to the budget index) to keep 1,100 of them. A POST carries
    at most MAX_STORED_DAYS days (its OpenAPI says so), more refused naming the bound and what to do, nothing
    written; one of that many over stored days replaces those of its dates, keeps the stored ones it leaves out
    within the window, drops those before it, and mirrors every day it carries."""
    from datetime import date, timedelta

    from affiliate_matrix.budget.campaigns import MAX_STORED_DAYS
    from affiliate_matrix.budget.mirror import BUDGET_INDEX
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    first = date(2020, 1, 1)

    def days(numbers, spend):
        return [{"date": (first + timedelta(days=n)).isoformat(), "spend": spend, "revenue": 30.0} for n in numbers]

    assert budget.post("/campaigns/search-1/metrics", json={"days": days(range(300), 10.0)},
                       headers=env["admin"]).status_code == 200
    before = rt.store.get("budget/metrics/search-1.json").data
    over = budget.post("/campaigns/search-1/metrics", json={"days": days(range(100, 100 + MAX_STORED_DAYS + 1), 20.0)},
                       headers=env["admin"])
    assert over.status_code == 400 and over.json["error"]["message"].startswith(
        "days: 1,101 in one POST, at most 1,100: a campaign keeps the last 1,100 days from its newest")
    assert "post it oldest first, each POST's newest day at most 1,099 days after" in over.json["error"]["message"]
    assert rt.store.get("budget/metrics/search-1.json").data == before
    # the first that is no day ends the reading: each of 500,000 numbers (1.5 MB) was refused in turn, ~6 s
    from pydantic import ValidationError

    from affiliate_matrix.handlers.budget import metrics_models

    with pytest.raises(ValidationError) as refused:
        metrics_models()[1].model_validate_json(json.dumps({"days": [1] * 500_000}), strict=True)
    assert refused.value.error_count() == 1
    schema = budget.get("/openapi.json", headers=env["read"]).json["components"]["schemas"]["PostedMetrics"]
    assert schema["properties"]["days"]["maxItems"] == MAX_STORED_DAYS

    # days 150..1299 but for 160..209: 1,100 days, the newest 1299, so the campaign keeps 200..1299
    posted = [n for n in range(150, 1300) if not 160 <= n < 210]
    assert len(posted) == MAX_STORED_DAYS
    written = budget.post("/campaigns/search-1/metrics", json={"days": days(posted, 20.0)}, headers=env["admin"])
    assert written.status_code == 200 and written.json == {  # the stored 0..149 and the posted 150..159 dropped
        "campaign_id": "search-1", "days_written": MAX_STORED_DAYS,
        "dropped": {"days": 200, "first": first.isoformat(), "last": (first + timedelta(days=199)).isoformat()}}
    kept = budget.get("/campaigns/search-1/metrics", headers=env["read"]).json["days"]
    assert [d["date"] for d in kept] == [(first + timedelta(days=n)).isoformat() for n in range(200, 1300)]
    assert {d["spend"] for d in kept[:10]} == {10.0} and {d["spend"] for d in kept[10:]} == {20.0}
    mirrored = rt.index.get_many(BUDGET_INDEX.name, [f"day:search-1:{d['date']}" for d in days(posted, 0)])
    assert len(mirrored) == MAX_STORED_DAYS and mirrored[f"day:search-1:{first + timedelta(days=150)}"]["spend"] == 20.0


def _days(first, count: int, skip: int = 0) -> list[dict]:
    """`count` days one after another from `first` + `skip` days."""
    from datetime import timedelta

    return [{"date": (first + timedelta(days=skip + n)).isoformat(), "spend": 10.0, "revenue": 30.0}
            for n in range(count)]


def test_a_backfill_refused_as_one_post_is_written_as_its_refusal_says(env, tmp_path):
    """A POST of more than 1,100 days said "post them in several POSTs of at most 1,100", and the second such POST,
    oldest first, was refused (its newest day 1,100 days after every stored day): the advice could not be followed. The
    refusal gives the size that works, oldest first, and following it writes the whole history: the campaign keeps its
    newest 1,100 days, the dashboards' index every day; so does the one CSV it names."""
    import re
    from datetime import date

    from affiliate_matrix.budget.campaigns import import_csv, load_days
    from affiliate_matrix.budget.mirror import BUDGET_INDEX
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    first, history = date(2018, 1, 1), 3_000
    whole = budget.post("/campaigns/search-1/metrics", json={"days": _days(first, history)}, headers=env["admin"])
    assert whole.status_code == 400
    said = whole.json["error"]["message"]
    assert "a campaign keeps the last 1,100 days from its newest" in said and "`amx budget import`" in said
    size = int(re.search(r"POSTs of (?:at most )?([\d,]+)", said)[1].replace(",", ""))  # the old words: at most 1,100
    for skip in range(0, history, size):  # oldest first, as it says
        part = budget.post("/campaigns/search-1/metrics", json={"days": _days(first, min(size, history - skip), skip)},
                           headers=env["admin"])
        assert part.status_code == 200, part.json
    kept = [row["date"] for row in load_days(rt.store, "search-1")[0]]
    assert kept == [day["date"] for day in _days(first, 1_100, history - 1_100)]
    every = [f"day:search-1:{day['date']}" for day in _days(first, history)]
    assert len(rt.index.get_many(BUDGET_INDEX.name, every)) == history

    assert budget.post("/campaigns", json={**CAMPAIGN, "id": "fresh"}, headers=env["admin"]).status_code == 201
    rows = "".join(f"fresh,{day['date']},10.00,,,30.00,USD\n" for day in _days(first, history))
    assert import_csv(rt, f"campaign_id,date,spend,clicks,conversions,revenue,currency\n{rows}".encode()).written == {
        "fresh": history}
    assert len(load_days(rt.store, "fresh")[0]) == 1_100


def _dates(first, dropped: dict) -> list[str]:
    """Every day a write's answer says it dropped, of a history of consecutive days from `first`."""
    from datetime import date, timedelta

    start = (date.fromisoformat(dropped["first"]) - first).days
    return [(first + timedelta(days=start + n)).isoformat() for n in range(dropped["days"])]


def test_a_backfill_written_as_the_refusal_says_names_every_day_it_drops(env, tmp_path):
    """POSTs of 1,099 days oldest first (as a refusal of more says) passed and each silently dropped the days the
    previous ones had stored: the campaign kept its newest 1,100 and no answer said the others were gone. Each answer
    now names the days its write dropped (stored ones or its own), so the answers together name every day not kept."""
    import re
    from datetime import date

    from affiliate_matrix.budget.campaigns import load_days
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    first, history = date(2018, 1, 1), 3_000
    said = budget.post("/campaigns/search-1/metrics", json={"days": _days(first, history)},
                       headers=env["admin"]).json["error"]["message"]
    size = int(re.search(r"POSTs of ([\d,]+)", said)[1].replace(",", ""))
    dropped, answers = [], []
    for skip in range(0, history, size):  # oldest first, as it says
        part = budget.post("/campaigns/search-1/metrics", json={"days": _days(first, min(size, history - skip), skip)},
                           headers=env["admin"])
        assert part.status_code == 200, part.json
        answers.append(part.json["dropped"])
        dropped += _dates(first, part.json["dropped"]) if part.json["dropped"] else []
    assert answers[:2] == [None, {"days": 1_098, "first": "2018-01-01", "last": "2021-01-02"}]  # README's example
    kept = [row["date"] for row in load_days(Runtime("test", Settings(data_dir=tmp_path)).store, "search-1")[0]]
    assert dropped + kept == [day["date"] for day in _days(first, history)]  # each day dropped once, said once


def test_a_whole_history_imported_after_a_first_post_names_the_days_it_drops(env, tmp_path, monkeypatch, capsys):
    """A campaign's newest days posted first, then its whole history imported as one CSV (as a refusal says): the
    import passed, kept the newest 1,100 days and said only how many it imported, its older days dropped unsaid.
    `amx budget import` now names, per campaign, the days its write dropped; so does an import stopped midway, for the
    campaigns it wrote."""
    from datetime import date

    from affiliate_matrix.budget.campaigns import Dropped, import_csv, load_days, metrics_key
    from affiliate_matrix.cli import main
    from affiliate_matrix.config import Settings
    from affiliate_matrix.errors import BackendUnavailable, ImportIncomplete
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    budget = function_client("budget")
    for cid in ("search-1", "search-2"):
        assert budget.post("/campaigns", json={**CAMPAIGN, "id": cid}, headers=env["admin"]).status_code == 201
    first, history = date(2018, 1, 1), 3_000
    newest = budget.post("/campaigns/search-1/metrics", json={"days": _days(first, 1_000, history - 1_000)},
                         headers=env["admin"])
    assert newest.status_code == 200 and newest.json["dropped"] is None
    rows = "".join(f"{cid},{day['date']},10.00,,,30.00,USD\n" for cid in ("search-1", "search-2")
                   for day in _days(first, history))
    path = tmp_path / "days.csv"
    path.write_text(f"campaign_id,date,spend,clicks,conversions,revenue,currency\n{rows}")
    gone = Dropped(history - 1_100, first.isoformat(), _days(first, 1, history - 1_101)[0]["date"])

    put = rt.store.put  # search-2's write fails: the import stops after search-1's, and says what it dropped
    monkeypatch.setattr(rt.store, "put", lambda key, *a, **kw: (_ for _ in ()).throw(BackendUnavailable("down"))
                        if key == metrics_key("search-2") else put(key, *a, **kw))
    with pytest.raises(ImportIncomplete) as stopped:
        import_csv(rt, path.read_bytes())
    assert "written: search-1 (3,000 days; 1,900 days dropped, 2018-01-01 to 2023-03-15)" in str(stopped.value)
    monkeypatch.undo()
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    assert import_csv(rt, path.read_bytes()).dropped == {"search-2": gone}  # search-1's were said when it was written

    path.write_text(f"campaign_id,date,spend,clicks,conversions,revenue,currency\n{rows}".replace("10.00", "11.00"))
    monkeypatch.setattr("sys.argv", ["amx", "budget", "import", str(path)])
    with pytest.raises(SystemExit) as exited:
        main()
    said = " ".join(capsys.readouterr().out.split())
    assert exited.value.code == 0, said
    assert gone == Dropped(1_900, "2018-01-01", "2023-03-15")
    assert ("imported 6,000 days for 2 campaigns dropped, each campaign keeping the last 1,100 days from its "
            "newest (the budget index keeps them for the dashboards): search-1: 1,900 days dropped, 2018-01-01 to "
            "2023-03-15 search-2: 1,900 days dropped, 2018-01-01 to 2023-03-15") in said
    assert [row["date"] for row in load_days(rt.store, "search-1")[0]] == [
        day["date"] for day in _days(first, 1_100, history - 1_100)]


def test_a_metrics_body_of_far_more_days_than_a_post_carries_is_refused_unread(env):
    """A POST of 80,000 valid days (3.5 MB, under the 4 MiB the route took) was read and parsed, ~1 s, before their
    count was refused. The route's body limit is sized from the bound (1,100 days of at most 512 bytes): such a body
    is a 413 from the limit, which names the bound, and never parsed; 1,100 days of the longest entries, indented,
    are still taken."""
    from datetime import date

    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    body = json.dumps({"days": [{"date": "2020-01-01", "spend": 1, "revenue": 1}] * 80_000}, separators=(",", ":"))
    assert len(body) < 4 * 1024 * 1024
    refused = budget.post("/campaigns/search-1/metrics", data=body, content_type="application/json",
                          headers=env["admin"])
    assert refused.status_code == 413 and refused.json["error"]["code"] == "content_too_large"
    said = refused.json["error"]["message"]
    assert "the days of one POST, at most 1,100: a campaign keeps the last 1,100 days from its newest" in said
    assert "post it oldest first" in said
    documented = budget.get("/openapi.json", headers=env["read"]).json["paths"]["/campaigns/{campaign_id}/metrics"]
    assert "at most 1,100" in documented["post"]["responses"]["413"]["description"]

    longest = {"date": "2026-01-05", "spend": 0.30000000000000004, "clicks": 1000000000000,
               "conversions": 999999999999, "revenue": 123456789012.34, "currency": "USD"}
    days = [{**longest, "date": day["date"]} for day in _days(date(2020, 1, 1), 1_100)]
    taken = budget.post("/campaigns/search-1/metrics", data=json.dumps({"days": days}, indent=4),
                        content_type="application/json", headers=env["admin"])
    assert taken.status_code == 200 and taken.json["days_written"] == 1_100, taken.json


def test_a_post_past_every_stored_day_is_refused_saying_what_to_send_first(env):
    """Oldest first, a second POST of 1,100 days would push out every stored day and is refused: it said so, and not
    what to send instead. It names the last day that may be sent first; sending the days up to it, then the rest,
    writes them all."""
    import re
    from datetime import date

    budget = function_client("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    first = date(2018, 1, 1)
    assert budget.post("/campaigns/search-1/metrics", json={"days": _days(first, 1_100)},
                       headers=env["admin"]).status_code == 200
    second = budget.post("/campaigns/search-1/metrics", json={"days": _days(first, 1_100, 1_100)},
                         headers=env["admin"])
    assert second.status_code == 400
    said = second.json["error"]["message"]
    assert "is more than 1,100 days after every stored day (the newest 2021-01-04)" in said
    up_to = date.fromisoformat(re.search(r"send the days up to (\d{4}-\d\d-\d\d) first", said)[1])
    assert up_to == date(2024, 1, 8)  # 1,099 days after 2021-01-04
    gap = (up_to - first).days + 1 - 1_100
    for part in (_days(first, gap, 1_100), _days(first, 1_100 - gap, 1_100 + gap)):  # up to it, then the rest
        written = budget.post("/campaigns/search-1/metrics", json={"days": part}, headers=env["admin"])
        assert written.status_code == 200, written.json
    newest = budget.get("/campaigns/search-1/metrics", headers=env["read"]).json["days"][-1]["date"]
    assert newest == _days(first, 1, 2_199)[0]["date"]


def test_a_day_of_two_currencies_is_run_and_read_over_http_a_part_per_currency(env, monkeypatch):
    """The budget function refused the whole day while an active campaign was in a currency other than
    AMX_BUDGET_CURRENCY. With a total per currency, POST /allocations runs both and GET /allocations/{day} answers
    the day's one run: a part per currency, each from its own total; a total with no campaign is said."""
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "USD=300.00,EUR=120.00,JPY=5000")
    budget = function_client("budget")
    for cid, currency in (("search-1", "USD"), ("search-2", "USD"), ("search-de", "EUR")):
        made = budget.post("/campaigns", json={**CAMPAIGN, "id": cid, "currency": currency}, headers=env["admin"])
        assert made.status_code == 201, made.json
    run = budget.post("/allocations", json={"day": "2026-11-12"}, headers=env["admin"])
    assert run.status_code == 201, run.json
    got = budget.get("/allocations/2026-11-12", headers=env["read"])
    assert got.status_code == 200 and got.json == run.json
    assert [(p["request"]["currency"], p["request"]["total_budget"],
             round(sum(a["amount"] for a in p["result"]["allocations"]), 2)) for p in got.json["parts"]] == [
        ("USD", "300.00", 300.0), ("EUR", "120.00", 120.0)]
    assert got.json["skipped"] == ["JPY"]


@pytest.mark.parametrize("forged, named", [
    ("USD=300.00,XXX=1.00", "'XXX=1.00': 'XXX' is not an ISO-4217 currency code"),  # ISO's "no currency"
    ("USD=300.00,US$=1", "'US$=1': 'US$' is not an ISO-4217 currency code"),
    ("USD=300.00,\u0395UR=1", "'\u0395UR=1': '\u0395UR' is not an ISO-4217 currency code"),  # a Greek capital Epsilon
    ("USD=300.00,EUR=1e400", "'EUR=1e400': Input should be less than or equal to 1E+12"),
    ("USD=300.00,EUR=NaN", "'EUR=NaN'"),
    ("USD=300.00,EUR=300.00,USD=0", "'USD=0': USD is given twice"),
    ("USD==300", "'USD==300'"),
])
def test_a_forged_currency_or_amount_in_the_daily_total_is_refused_naming_the_entry(env, monkeypatch, tmp_path, capsys,
                                                                                    forged, named):
    """The function does not start (as with any bad setting): one line naming the setting and the entry, and no run."""
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", forged)
    with pytest.raises(SystemExit) as exited:
        function_client("budget")
    said = capsys.readouterr().err
    assert exited.value.code == 2 and said.startswith("budget: configuration error: AMX_BUDGET_DAILY_TOTAL: ")
    assert named in said and "Traceback" not in said
    assert list(tmp_path.rglob("runs")) == []


@pytest.mark.parametrize("name,shown", [("Spring\u202eelas", "U+202E"), ("Acme\u200b", "U+200B"), ("nul\x00", "U+0000"),
                                        ("two\nlines", "U+000A"), ("\ufeffAcme", "U+FEFF")])
def test_a_campaign_name_that_would_show_other_than_written_is_refused_naming_the_character(env, name, shown):
    """A right-to-left override showed the name reversed in `amx budget campaigns list` and the reports, a zero-width
    space made two campaigns of one name, a line break split the CLI's table: each was stored as sent."""
    budget = function_client("budget")
    answer = budget.post("/campaigns", json={"id": "c-spring", "name": name, "channel": "email", "currency": "USD"},
                         headers=env["admin"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert f"name: holds {shown}" in answer.get_json()["error"]["message"]
    assert budget.get("/campaigns/c-spring", headers=env["admin"]).status_code == 404
    written = budget.post("/campaigns", json={"id": "c-spring", "name": "Spring sale", "channel": "email",
                                              "currency": "USD"}, headers=env["admin"])
    assert written.status_code == 201
    sent_back = {k: v for k, v in written.get_json().items() if k != "created_at"}  # set by the server
    renamed = budget.put("/campaigns/c-spring", json={**sent_back, "name": name},
                         headers={**env["admin"], "If-Match": written.headers["ETag"]})
    assert renamed.status_code == 400 and f"name: holds {shown}" in renamed.get_json()["error"]["message"]


def test_a_run_reading_many_damaged_documents_logs_a_bounded_number_of_lines(env, tmp_path):
    """documents.readable (the campaigns' list) and the budget's readers of a campaign's days logged document.damaged
    for every damaged document they met, past the bound a request keeps (observability.log_damaged): a run over a
    store of many damaged campaigns and metrics wrote a line for each. Now the first MAX_DAMAGED_LOGGED of the
    request, then one line saying the rest are not logged."""
    from structlog.testing import capture_logs

    from affiliate_matrix.budget.campaigns import campaign_key, metrics_key
    from affiliate_matrix.config import Settings
    from affiliate_matrix.observability import MAX_DAMAGED_LOGGED
    from affiliate_matrix.runtime import Runtime

    budget = function_client("budget")
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    for n in range(MAX_DAMAGED_LOGGED):
        assert budget.post("/campaigns", json={**CAMPAIGN, "id": f"search-{n}"}, headers=env["admin"]).status_code == 201
        store.put(metrics_key(f"search-{n}"), b"{", content_type="application/json")  # a campaign's days damaged
        store.put(campaign_key(f"gone-{n}"), b"{", content_type="application/json")  # a campaign itself damaged
    with capture_logs() as logs:
        run = budget.post("/allocations", json={"day": "2026-11-12"}, headers=env["admin"])
    assert run.status_code == 201, run.json
    events = [line["event"] for line in logs if line["event"].startswith("document.damaged")]
    assert events == ["document.damaged"] * MAX_DAMAGED_LOGGED + ["document.damaged_more"], events
