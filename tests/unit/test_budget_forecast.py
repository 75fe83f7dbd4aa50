"""Forecasts: ETS with prediction intervals, a rolling-origin backtest against seasonal naive, and
the `amx budget allocate|forecast --json` commands as scripts drive them."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from affiliate_matrix.budget.contract import forecast_json
from affiliate_matrix.errors import InvalidInput
from tests.support import budget_sim
from tests.support.processes import BIN


def simulated_series(seed: int, days: int = 70) -> dict:
    """A market run under the optimal strategy after a week of warm-up: revenue with weekly seasonality
    and noise (the warm-up's random spends are left out, as they would flatter the MASE scale)."""
    market = budget_sim.Market.seeded(seed)
    market.warm_up(7)
    for day in range(days):
        result = json.loads(budget_sim.allocate_json(json.dumps(market.request("optimal", seed=day))))
        market.observe([a["amount"] for a in result["allocations"]])
    return market.request("optimal", window=days)


def test_backtest_beats_seasonal_naive_on_weekly_series():
    """Over three simulated markets: one market's campaigns are a handful of series, on which seasonal naive can
    come near (its series follow the optimal strategy's allocations, so they move with the allocator)."""
    scored = []
    for seed in (4, 5, 6):
        request = simulated_series(seed=seed)
        result = json.loads(forecast_json(json.dumps({"campaigns": request["campaigns"], "horizon_days": 14})))
        scored += [f["backtest"] for f in result["forecasts"] if f["backtest"]]  # unfunded campaigns are all zeros
    assert len(scored) >= 12 and all(b["origins"] == 4 and b["horizon_days"] == 7 for b in scored)
    assert np.mean([b["mase"] for b in scored]) < 1.0
    assert np.mean([b["mase"] for b in scored]) < np.mean([b["seasonal_naive_mase"] for b in scored])


def test_forecast_days_follow_the_history_with_bands_around_the_mean():
    request = simulated_series(seed=2, days=28)
    result = json.loads(forecast_json(json.dumps({"campaigns": request["campaigns"][:1], "horizon_days": 10})))
    forecast = result["forecasts"][0]
    last = date.fromisoformat(request["campaigns"][0]["history"][-1]["date"])
    assert [p["date"] for p in forecast["revenue"]] == [(last + timedelta(days=i)).isoformat() for i in range(1, 11)]
    assert forecast["model"].startswith("ETS(A,") and forecast["model"].endswith(",A)")
    for point in forecast["revenue"] + forecast["conversions"]:
        assert 0 <= point["low"] <= point["value"] <= point["high"]
    assert any(p["high"] - p["low"] > 0 for p in forecast["revenue"])


def test_short_and_missing_histories():
    start = date(2026, 3, 1)
    rows = [{"date": (start + timedelta(days=i)).isoformat(), "spend": 10, "revenue": 50 + i} for i in (0, 1, 4, 5, 6)]
    result = json.loads(forecast_json(json.dumps({"horizon_days": 3, "campaigns": [
        {"id": "gappy", "history": rows}, {"id": "two", "history": rows[:2]}, {"id": "none", "history": []},
        {"id": "flat", "history": [{**r, "revenue": 0} for r in rows]}]})))
    gappy, two, none, flat = result["forecasts"]
    assert gappy["model"] == "ETS(A,N,N)" and len(gappy["revenue"]) == 3 and gappy["backtest"] is None
    assert gappy["revenue"][0]["date"] == "2026-03-08"  # days 3 and 4 were missing and count as zero
    assert two["revenue"] == [] and "2 days of history" in two["note"]
    assert none["revenue"] == [] and none["model"] is None
    assert none["note"] == "no day of history; a forecast needs 3", none  # it said "0 day(s) of history"
    assert [p["value"] for p in flat["revenue"]] == [0, 0, 0]


def test_horizon_is_checked():
    with pytest.raises(InvalidInput, match="horizon_days: Input should be less than or equal to 366"):
        forecast_json(json.dumps({"horizon_days": 1000, "campaigns": [{"id": "a"}]}))


def amx(*args, stdin: str):
    return subprocess.run([str(BIN / "amx"), "budget", *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_the_commands_keep_the_contract():
    request = simulated_series(seed=1, days=14)
    request["campaigns"][0].update(min_budget=50, max_budget=80)
    allocated = amx("allocate", "--json", stdin=json.dumps(request))
    assert allocated.returncode == 0, allocated.stderr
    body = json.loads(allocated.stdout)
    assert set(body) == {"strategy", "allocations", "explanation"}
    assert set(body["allocations"][0]) == {"campaign_id", "amount", "expected_revenue", "expected_revenue_low",
                                           "expected_revenue_high"}
    assert round(sum(a["amount"] for a in body["allocations"]) * 100) == round(request["total_budget"] * 100)
    assert 50 <= body["allocations"][0]["amount"] <= 80
    forecast = amx("forecast", "--json", stdin=json.dumps({**request, "horizon_days": 7}))
    assert forecast.returncode == 0, forecast.stderr
    assert [len(f["revenue"]) for f in json.loads(forecast.stdout)["forecasts"]] == [7] * 6


def test_the_commands_refuse_bad_input_with_a_message_and_a_non_zero_exit():
    refused = amx("allocate", "--json", stdin='{"total_budget": 10, "currency": "USD", "strategy": "equal", '
                                              '"campaigns": [{"id": "a", "min_budget": 20}]}')
    assert refused.returncode == 2 and refused.stdout == ""
    assert "min_budget add up to 20.00, above total_budget 10.00" in refused.stderr
    assert amx("forecast", "--json", stdin="{").returncode == 2


def test_a_history_spanning_centuries_is_read_over_its_last_days_only():
    """Days missing from a history count as zeros, so three days in 0001 and 2026 made a 740,000-day series: a
    100-year span took 33 s to fit for one campaign (20,000 may come in one request). A forecast reads the last
    MAX_HISTORY_DAYS days of the calendar, and says so."""
    from affiliate_matrix.budget.forecast import daily_series
    from affiliate_matrix.budget.models import MAX_HISTORY_DAYS, CampaignHistory

    def day(on: date, revenue: float) -> dict:
        return {"date": on.isoformat(), "spend": 1.0, "revenue": revenue}

    recent = [day(date(2026, 1, 1) + timedelta(days=i), 10.0 + i % 7) for i in range(21)]
    history = [day(date(1, 1, 1), 5.0), day(date(1, 1, 2), 6.0), *recent]
    start, revenue = daily_series(CampaignHistory(id="c1", history=history).history)[:2]
    assert start == date(2026, 1, 1) and len(revenue) == 21  # the days within MAX_HISTORY_DAYS of the last
    spread = [day(date(2020, 1, 1) + timedelta(days=i * 100), 1.0) for i in range(30)]  # 2,900 days
    start, revenue = daily_series(CampaignHistory(id="c1", history=spread).history)[:2]
    assert len(revenue) <= MAX_HISTORY_DAYS and start == date(2020, 1, 1) + timedelta(days=1900)
    assert daily_series(CampaignHistory(id="c1", history=[day(date(1, 1, 2), 1.0)]).history)[0] == date(1, 1, 2)
    result = json.loads(forecast_json(json.dumps({"campaigns": [{"id": "c1", "history": history}], "horizon_days": 7})))
    forecast = result["forecasts"][0]
    assert forecast["revenue"][0]["date"] == "2026-01-22" and "last 1,100 days" in forecast["note"]


def test_a_forecast_that_would_run_past_the_calendar_is_none_with_a_note():
    """A history ending in December 9999 raised OverflowError out of the forecast (amx budget forecast, the report)."""
    history = [{"date": (date(9999, 12, 1) + timedelta(days=i)).isoformat(), "spend": 1, "revenue": 5}
               for i in range(25)]
    request = {"campaigns": [{"id": "c1", "history": history}], "horizon_days": 14}
    forecast = json.loads(forecast_json(json.dumps(request)))["forecasts"][0]
    assert forecast["model"] is None and forecast["revenue"] == [] and "past 9999-12-31" in forecast["note"]
    result = json.loads(forecast_json(json.dumps({"campaigns": [{"id": "c1", "history": history}], "horizon_days": 6})))
    assert result["forecasts"][0]["revenue"][-1]["date"] == "9999-12-31"


@pytest.mark.parametrize("given, expected", [(None, "1"), ("4", "4")])
def test_the_budget_code_runs_blas_on_one_thread_unless_told_otherwise(given, expected):
    """Set before numpy loads (it reads the variable once), so checked in a process of its own."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given:
        env["OPENBLAS_NUM_THREADS"] = given
    shown = subprocess.run([sys.executable, "-c", "import os, affiliate_matrix.budget.forecast, numpy; "
                            "print(os.environ['OPENBLAS_NUM_THREADS'])"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert shown == expected


def with_days(campaign: dict, days: int) -> dict:
    return {**campaign, "history": campaign["history"][:days]}


def test_campaigns_are_fitted_together_not_one_at_a_time(monkeypatch):
    """20,000 campaigns took 6-8 hours: statsmodels fitted each campaign's series on its own (eight fits a campaign,
    each ~47 optimiser iterations). The fits now run over all the campaigns at once: at most one batched fit per
    form for revenue, for conversions and for the backtest, however many campaigns come."""
    from affiliate_matrix.budget import ets

    calls = []
    real = ets.fit
    monkeypatch.setattr(ets, "fit", lambda spec, y, *rest: calls.append(len(y)) or real(spec, y, *rest))
    for n in (2, 40):
        calls.clear()
        request = {"horizon_days": 7, "campaigns": budget_sim.campaigns_at_scale(n, 45)}
        result = json.loads(forecast_json(json.dumps(request)))
        assert all(len(f["revenue"]) == 7 and f["backtest"] for f in result["forecasts"])
        assert len(calls) <= 6 and max(calls) >= n  # the rows of a fit are campaigns (or their backtest origins)


def test_a_campaign_forecast_among_many_is_its_forecast_alone():
    """Every campaign's series is a row of the same arrays, fitted in batches of similar lengths: a row's figures do
    not depend on the others."""
    lengths = (2, 3, 8, 13, 14, 20, 27, 28, 35, 41, 60, 60)
    campaigns = [with_days(c, days) for c, days in zip(budget_sim.campaigns_at_scale(len(lengths), 60), lengths)]
    campaigns[-1]["history"] = [{**d, "revenue": 40.0} for d in campaigns[-1]["history"]]  # constant: no error
    together = json.loads(forecast_json(json.dumps({"horizon_days": 10, "campaigns": campaigns})))["forecasts"]
    alone = [json.loads(forecast_json(json.dumps({"horizon_days": 10, "campaigns": [c]})))["forecasts"][0]
             for c in campaigns]
    assert together == alone
    assert [f["model"] is not None for f in together] == [days >= 3 for days in lengths]


@pytest.mark.parametrize("days, models", [(2, {None}), (3, {"ETS(A,N,N)"}), (13, {"ETS(A,N,N)"}),
                                          (14, {"ETS(A,N,A)", "ETS(A,Ad,A)"}), (90, {"ETS(A,N,A)", "ETS(A,Ad,A)"})])
def test_the_model_follows_the_days_of_history(days, models):
    campaign = with_days(budget_sim.campaigns_at_scale(1, 90, seed=3)[0], days)
    forecast = json.loads(forecast_json(json.dumps({"horizon_days": 5, "campaigns": [campaign]})))["forecasts"][0]
    assert forecast["model"] in models
    assert len(forecast["revenue"]) == (5 if days >= 3 else 0)


def test_the_80_percent_band_covers_about_80_percent_of_the_days_that_follow():
    """The bands come from ETS's closed-form forecast variance: over 40 campaigns' next 14 days (560 days not seen
    by the fit), the share inside the band is near 80% (statsmodels' bands covered 82% of such days in the bench's
    campaigns)."""
    full = budget_sim.campaigns_at_scale(40, 154, seed=5)
    request = {"horizon_days": 14, "campaigns": [with_days(c, 140) for c in full]}
    inside = []
    for campaign, forecast in zip(full, json.loads(forecast_json(json.dumps(request)))["forecasts"]):
        actual = [d["revenue"] for d in campaign["history"][140:]]
        inside += [p["low"] <= a <= p["high"] for p, a in zip(forecast["revenue"], actual)]
    assert len(inside) == 560 and 0.72 <= np.mean(inside) <= 0.88


def test_the_search_skipping_repeated_moves_fits_what_running_every_move_fits(monkeypatch):
    """The pattern search runs the recursion only on moves whose parameters are new for their row (about two in
    five of the damped model's moves sit at a bound, at the row's own parameters or an earlier move's): each form's
    fit is that of running every move, as the search did before, on rows of several lengths."""
    from affiliate_matrix.budget import ets

    y = np.array([[d["revenue"] for d in c["history"]] for c in budget_sim.campaigns_at_scale(60, 120, seed=7)])
    ends = np.resize([120, 90, 61, 35, 20], len(y))
    y[np.arange(y.shape[1]) >= ends[:, None]] = 0
    skipped = []
    real = ets._fresh
    monkeypatch.setattr(ets, "_fresh", lambda *args: skipped.append(~real(*args)) or real(*args))
    skipping = {spec: ets.fit(spec, y, ends, 14, 0.8) for spec in (ets.SIMPLE, ets.SEASONAL, ets.DAMPED)}
    assert np.mean(np.concatenate([s.ravel() for s in skipped])) > 0.1  # the shortcut is taken
    monkeypatch.setattr(ets, "_fresh", lambda current, params: np.ones(params.shape[:2], bool))
    for spec, fit in skipping.items():
        every = ets.fit(spec, y, ends, 14, 0.8)
        for got, expected in zip((fit.mean, fit.low, fit.high, fit.aicc), (every.mean, every.low, every.high,
                                                                             every.aicc)):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("spec", ["SIMPLE", "SEASONAL", "DAMPED"])
def test_the_initial_states_are_the_least_squares_states(spec):
    """The initial states come from sums of products accumulated over every row at once; they are those a least
    squares over one row's errors gives, the errors computed day by day from each unit state (rows of several
    lengths: each row's sums stop at its end)."""
    from affiliate_matrix.budget import ets

    spec = getattr(ets, spec)
    y = np.array([[d["revenue"] for d in c["history"]] for c in budget_sim.campaigns_at_scale(4, 50, seed=2)])
    ends = np.array([50, 43, 36, 29])
    y[np.arange(50) >= ends[:, None]] = 0
    params = ets._params(spec, np.array([[0.3, 0.5, 0.2, 0.9], [0.05, 0.2, 0.6, 0.85], [0.7, 0.9, 0.1, 0.97],
                                          [0.2, 0.1, 0.3, 0.8]]))
    level0, trend0, season0 = ets._initial_states(spec, y, ends, params)

    def errors(row, level, trend, season):
        alpha, beta, gamma, phi = params[row]
        season, out = list(season), []
        for t in range(ends[row]):
            damped = phi * trend
            error = y[row, t] - (level + damped + season[t % 7])
            out.append(error)
            level, trend = level + damped + alpha * error, damped + beta * error
            season[t % 7] += gamma * error
        return np.array(out)

    for row in range(4):
        units = [(1, 0, [0] * 7)] + [(0, 1, [0] * 7)] * spec.trend + [
            (0, 0, [1 if d == j else -1 if d == 6 else 0 for d in range(7)]) for j in range(6 * spec.seasonal)]
        y_row = y[row].copy()
        y[row] = 0
        design = np.stack([errors(row, *unit) for unit in units], axis=1)  # errors(y, x) = errors(y, 0) + design x
        y[row] = y_row
        x0 = np.linalg.lstsq(design, -errors(row, 0, 0, [0] * 7), rcond=None)[0]
        got = [level0[row]] + [trend0[row]] * spec.trend + list(season0[:6, row]) * spec.seasonal
        assert np.allclose(got, x0, rtol=1e-6, atol=1e-6 * np.abs(y[row]).max())


@pytest.mark.parametrize("spec", ["SEASONAL", "DAMPED"])
def test_the_backtests_origins_share_one_grid_run_and_fit_what_a_grid_each_fits(spec, monkeypatch):
    """The backtest refits a campaign at up to four origins a week apart, each from the grid's best: one run over
    the campaign's days gives each origin's (its first days' errors do not depend on the days after), the same
    coordinates and squared errors as a grid run on each origin's days alone, so the same fits."""
    from affiliate_matrix.budget import ets, forecast

    spec = getattr(ets, spec)
    y = np.array([[d["revenue"] for d in c["history"]] for c in budget_sim.campaigns_at_scale(30, 120, seed=4)])
    ends = np.resize([[120, 113, 106, 99], [90, 83, 76, 69], [35, 28, 21, 21]], (len(y), 4))
    raw, score = ets.grid_best(spec, y, ends)
    for k in range(4):
        alone = np.where(np.arange(y.shape[1]) < ends[:, k, None], y, 0)
        alone_raw, alone_score = ets.grid_best(spec, alone, ends[:, k])
        np.testing.assert_array_equal(raw[:, k], alone_raw)
        np.testing.assert_array_equal(score[:, k], alone_score)
        shared, own = ets.fit(spec, alone, ends[:, k], 7, 0.8, (raw[:, k], score[:, k])), ets.fit(
            spec, alone, ends[:, k], 7, 0.8)
        for got, expected in zip((shared.mean, shared.low, shared.high, shared.aicc),
                                 (own.mean, own.low, own.high, own.aicc)):
            np.testing.assert_array_equal(got, expected)
    grids = []
    real = ets.fit
    monkeypatch.setattr(ets, "fit", lambda *args: grids.append(args[5:]) or real(*args))
    series = list(y)
    scores = forecast.backtests(series, [spec] * len(series), 7)
    assert all(s.origins == 4 for s in scores) and grids and all(grid for grid in grids)  # every backtest fit shares


def test_a_forecast_that_backtested_worse_than_the_week_before_says_so_wherever_it_is_shown(tmp_path):
    """`amx budget forecast` printed "backtest MASE 8.79" and nothing else: a marketer is not told that above 1 the
    model missed past days by more than repeating the week before would. Its note says it, so the API's answer, the
    command's line and the report's summary, which each show the note, do."""
    from affiliate_matrix.budget.forecast import WORSE_THAN_NAIVE

    pattern = [100, 120, 130, 125, 140, 90, 80]  # a steady week, whose revenue doubles in the last one
    history = [{"date": str(date(2026, 1, 5) + timedelta(days=d)), "spend": 50.0, "clicks": 100, "conversions": 5,
                "revenue": pattern[d % 7] * (2 if d >= 42 else 1) + [3, -2, 5, -4, 1, 0, -3, 2, 4][d % 9]}
               for d in range(49)]
    steady = [{**day, "revenue": pattern[d % 7] + [3, -2, 5, -4, 1, 0, -3, 2, 4][d % 9]}
              for d, day in enumerate(history)]
    request = {"campaigns": [{"id": "jumped", "history": history}, {"id": "steady", "history": steady}],
               "horizon_days": 7}
    jumped, held = json.loads(forecast_json(json.dumps(request)))["forecasts"]
    assert jumped["backtest"]["mase"] > 1 and jumped["note"] == WORSE_THAN_NAIVE, jumped
    assert held["backtest"]["mase"] <= 1 and held["note"] is None, held
    shown = amx("forecast", stdin=json.dumps(request))
    said = " ".join(shown.stdout.split())
    assert shown.returncode == 0 and (f"backtest MASE {jumped['backtest']['mase']:.2f} (on past days it missed by more "
                                      "than repeating each weekday's figure from the week before would (backtest MASE "
                                      "above 1): treat it with care)") in said, said
    assert said.count("treat it with care") == 1, said


def test_a_strategy_that_is_none_is_quoted():
    """`amx budget allocate` given "strategy": "optimial" said which strategies there are, not what it was given."""
    request = {"total_budget": 10, "currency": "USD", "strategy": "optimial", "campaigns": [{"id": "a"}]}
    refused = amx("allocate", stdin=json.dumps(request))
    assert refused.returncode == 2 and refused.stderr == (
        "error: strategy: Input should be 'equal', 'proportional', 'pareto', 'exploratory' or 'optimal', got "
        "'optimial'\n"), refused.stderr
    pasted = amx("allocate", stdin=json.dumps({**request, "strategy": "sk_live_" + "x" * 40}))  # not echoed
    assert "sk_live" not in pasted.stderr and pasted.stderr.endswith("got text of 48 characters\n"), pasted.stderr
