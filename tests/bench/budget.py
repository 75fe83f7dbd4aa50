"""Budget strategies in the seeded market simulator (shares of an exact oracle, mean over seeds),
the time `optimal` takes for 10,000 campaigns (with a 1,000-campaign run as the baseline for
scaling), the forecast backtest's MASE on the simulator's weekly-seasonal series, and the budget at
scale: the function's daily tick over thousands of campaigns with a year of metrics each in the
store, and the forecast per campaign, each beside a smaller size in the same run (near-linear growth
is a ratio near the sizes' ratio; a time per 1,000 campaigns near 1x).

BENCH_BUDGET_CAMPAIGNS="1000,20000" (the default) sets the tick's sizes, smaller while iterating;
BENCH_BUDGET_FORECAST_CAMPAIGNS="20,80" (the default) the forecast's, from standard input and from the store; it
takes 20,000 as well (about a minute each here; from standard input in requests of 5,000 campaigns: the input
`amx budget forecast` reads is at most 256 MiB)."""

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

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


TICK = """
import json, sys, time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from affiliate_matrix.handlers.budget import allocate_and_pace
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.config import Settings
rt = Runtime("bench", Settings())
reads = 0
get = rt.store.get
def counted(key, **bound):
    global reads
    reads += 1
    return get(key, **bound)
rt.store.get = counted
for day in sys.argv[1:]:  # the last tick is measured
    reads, started = 0, time.perf_counter()
    allocate_and_pace(rt, SimpleNamespace(time=datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)))
    seconds = time.perf_counter() - started
status = Path("/proc/self/status").read_text()  # VmHWM: this process's high-water mark, from its exec
peak = int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024
print(json.dumps({"s": seconds, "reads": reads, "rss": peak}))
"""


def store_campaigns(data: Path, n: int, days: int = 365) -> date:
    """n campaigns of the seeded market with `days` of metrics each, written to a local store; their last day."""
    from affiliate_matrix.budget.campaigns import Campaign, metrics_key, save_campaign
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("bench", Settings(data_dir=data))
    for c in budget_sim.campaigns_at_scale(n, days):
        save_campaign(rt.store, Campaign(id=c["id"], name=c["id"], channel="search", currency="USD"), create=True)
        rt.store.put(metrics_key(c["id"]), json.dumps({"campaign_id": c["id"], "currency": "USD",
                                                      "days": c["history"]}).encode(), content_type="application/json")
    return date.fromisoformat(c["history"][-1]["date"])


def tick_at_scale() -> None:
    """The budget function's daily tick (tomorrow's allocation, yesterday's pacing: handlers.budget.allocate_and_pace)
    over n campaigns with a year of daily metrics each (the run allocates on AMX_BUDGET_HISTORY_DAYS of them), in its
    own process: the second of two ticks, whose pacing checks the first's run; seconds, store reads, peak memory."""
    sizes = [int(n) for n in os.environ.get("BENCH_BUDGET_CAMPAIGNS", "1000,20000").split(",")]
    figures = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder) / ".amx"
            last = store_campaigns(data, n)
            env = {**os.environ, "AMX_DATA_DIR": str(data), "AMX_LOG_LEVEL": "warning",
                   "AMX_BUDGET_DAILY_TOTAL": f"{50 * n}.00"}
            days = [(last - timedelta(days=1)).isoformat(), (last + timedelta(days=1)).isoformat()]
            done = subprocess.run([sys.executable, "-c", TICK, *days], env=env, capture_output=True, text=True,
                                  check=True)
            figures[n] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"BENCH budget_tick_{n}_campaigns_s {figures[n]['s']:.2f} s")
        print(f"BENCH budget_tick_s_per_1k_campaigns_at_{n} {figures[n]['s'] / n * 1000:.2f} s")
        print(f"BENCH budget_tick_store_reads_per_campaign_at_{n} {figures[n]['reads'] / n:.2f} reads")
        print(f"BENCH budget_tick_{n}_campaigns_peak_rss_mb {figures[n]['rss']:.0f} MB")
    small, large = min(sizes), max(sizes)
    if large > small:
        print(f"BENCH budget_tick_s_per_1k_campaigns_ratio_{large}_over_{small} "
              f"{figures[large]['s'] / large / (figures[small]['s'] / small):.2f} x")


FORECAST_REQUEST = 5_000  # campaigns per request: a year of days is ~33 KB of JSON a campaign, an input <= 256 MiB


def forecast_at_scale() -> None:
    """`amx budget forecast`'s work for n campaigns with a year of daily history, 14 days ahead: from standard input
    (forecast_json) in requests of FORECAST_REQUEST campaigns (each seeded apart) when n is more, as a user with that
    many sends them; and `--from-store` (stored_forecast over the same campaigns written to a local store), which a
    user with that many runs instead: reading, checking and fitting them in one go."""
    from affiliate_matrix.budget.forecast import stored_forecast
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    sizes = [int(n) for n in os.environ.get("BENCH_BUDGET_FORECAST_CAMPAIGNS", "20,80").split(",")]
    seconds, cpu, stored = {}, {}, {}
    forecast_json(json.dumps({"horizon_days": 14, "campaigns": budget_sim.campaigns_at_scale(1, 365)}))  # imports
    for n in sizes:
        seconds[n] = cpu[n] = 0.0
        for k, first in enumerate(range(0, n, FORECAST_REQUEST)):
            size = min(FORECAST_REQUEST, n - first)
            text = json.dumps({"horizon_days": 14, "campaigns": budget_sim.campaigns_at_scale(size, 365, seed=1 + k)})
            started, used = time.perf_counter(), time.process_time()
            forecast_json(text)
            seconds[n] += time.perf_counter() - started
            cpu[n] += time.process_time() - used
        print(f"BENCH budget_forecast_{n}_campaigns_s {seconds[n]:.1f} s")
        print(f"BENCH budget_forecast_{n}_campaigns_cpu_s {cpu[n]:.1f} s")  # this process's CPU: the box is shared
        print(f"BENCH budget_forecast_s_per_1k_campaigns_at_{n} {seconds[n] / n * 1000:.2f} s")
        with tempfile.TemporaryDirectory() as folder:
            store_campaigns(Path(folder) / ".amx", n)
            rt = Runtime("bench", Settings(data_dir=Path(folder) / ".amx"))
            started, used = time.perf_counter(), time.process_time()  # the reader threads' CPU is the process's
            stored_forecast(rt, 14).model_dump_json()
            stored[n] = time.perf_counter() - started
            print(f"BENCH budget_forecast_from_store_{n}_campaigns_s {stored[n]:.1f} s")
            print(f"BENCH budget_forecast_from_store_{n}_campaigns_cpu_s {time.process_time() - used:.1f} s")
            print(f"BENCH budget_forecast_from_store_s_per_1k_campaigns_at_{n} {stored[n] / n * 1000:.2f} s")
    small, large = min(sizes), max(sizes)
    if large > small:
        print(f"BENCH budget_forecast_s_per_1k_campaigns_ratio_{large}_over_{small} "
              f"{seconds[large] / large / (seconds[small] / small):.2f} x")
        print(f"BENCH budget_forecast_from_store_s_per_1k_campaigns_ratio_{large}_over_{small} "
              f"{stored[large] / large / (stored[small] / small):.2f} x")


def run() -> None:
    shares()
    optimal_speed()
    forecast_quality()
    tick_at_scale()
    forecast_at_scale()
