"""Budget strategies in the seeded market simulator (shares of an exact oracle, mean over seeds),
the time `optimal` takes for 10,000 campaigns (with a 1,000-campaign run as the baseline for
scaling), and the forecast backtest's MASE on the simulator's weekly-seasonal series."""

import json
import time

import numpy as np

from affiliate_matrix.budget.allocate import allocate
from affiliate_matrix.budget.contract import forecast_json
from affiliate_matrix.budget.models import AllocateRequest
from tests.support import budget_sim

SEEDS = range(1, 11)


def shares() -> None:
    for strategy in ("optimal", "exploratory", "equal", "naive_roas"):
        share = np.mean([budget_sim.run(strategy, seed=seed) for seed in SEEDS])
        print(f"BENCH budget_{strategy}_share_of_oracle {share:.4f} ratio")


def campaigns_text(n: int) -> str:
    rng = np.random.default_rng(0)
    campaigns = []
    for i in range(n):
        spend = rng.uniform(5, 150, 30)
        revenue = rng.uniform(100, 1000) * -np.expm1(-spend / rng.uniform(20, 100)) * rng.lognormal(0, .15, 30)
        campaigns.append({"id": f"c{i}", "history": [
            {"date": f"2026-01-{d + 1:02d}", "spend": round(float(spend[d]), 2), "clicks": 0, "conversions": 0,
             "revenue": round(float(revenue[d]), 2)} for d in range(30)]})
    return json.dumps({"total_budget": 50.0 * n, "currency": "USD", "strategy": "optimal", "campaigns": campaigns})


def optimal_speed() -> None:
    timings = {}
    for n in (1_000, 10_000):
        text = campaigns_text(n)
        started = time.perf_counter()
        request = AllocateRequest.model_validate_json(text)
        parsed = time.perf_counter()
        allocate(request)
        timings[n] = (parsed - started, time.perf_counter() - parsed)
    parse, solve = timings[10_000]
    print(f"BENCH budget_optimal_10k_s {solve:.3f} s")
    print(f"BENCH budget_optimal_10k_with_parsing_s {parse + solve:.3f} s")
    print(f"BENCH budget_optimal_time_ratio_10k_over_1k {solve / timings[1_000][1]:.1f} x")


def forecast_quality() -> None:
    scores, naive = [], []
    for seed in (1, 2, 3):
        market = budget_sim.Market.seeded(seed)
        market.warm_up(7)
        for day in range(63):
            result = json.loads(budget_sim.allocate_json(json.dumps(market.request("optimal", seed=day))))
            market.observe([a["amount"] for a in result["allocations"]])
        # the steady weeks only: the warm-up's random spends would inflate the MASE scale and flatter every model
        request = {"campaigns": market.request("optimal", window=63)["campaigns"], "horizon_days": 7}
        for row in json.loads(forecast_json(json.dumps(request)))["forecasts"]:
            if row["backtest"] is None:  # a campaign the strategy left unfunded: all zeros, nothing to score
                continue
            scores.append(row["backtest"]["mase"])
            naive.append(row["backtest"]["seasonal_naive_mase"])
    print(f"BENCH forecast_series_scored {len(scores)} series")
    print(f"BENCH forecast_mase {np.mean(scores):.3f} ratio")
    print(f"BENCH forecast_seasonal_naive_mase {np.mean(naive):.3f} ratio")


def run() -> None:
    shares()
    optimal_speed()
    forecast_quality()
