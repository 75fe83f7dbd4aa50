"""A seeded market for the budget strategies: campaigns with hidden response curves (concave and
S-shaped Hill), weekly seasonality and noise, run day by day through the allocate JSON contract.

The oracle knows the curves and allocates exactly by dynamic programming over a budget grid
(S-shaped curves defeat greedy methods). Shares compare expected revenue of what each strategy
spent, so the noise of one day does not decide a comparison.
"""

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from affiliate_matrix.budget.contract import allocate_json

WEEKLY = np.array([1.0, 1.05, 1.08, 1.04, 0.98, 0.9, 0.95])  # Monday … Sunday


@dataclass
class Campaign:
    id: str
    a: float          # revenue at saturation, per day
    half: float       # spend giving half (Hill) or 63% (exponential) of it
    k: float          # Hill exponent; 0 = exponential saturation
    history: list = field(default_factory=list)

    def revenue(self, spend):
        u = np.maximum(np.asarray(spend, float), 0) / self.half
        if self.k == 0:
            return self.a * -np.expm1(-u)
        return self.a * u ** self.k / (1 + u ** self.k)


@dataclass
class Market:
    campaigns: list[Campaign]
    total: float
    noise: float
    rng: np.random.Generator
    day: date = date(2026, 1, 5)

    @classmethod
    def seeded(cls, seed: int, n: int = 6, noise: float = 0.12) -> "Market":
        rng = np.random.default_rng(seed)
        campaigns = []
        for i in range(n):
            s_shaped = i % 2 == 1
            campaigns.append(Campaign(
                id=f"c{i}", a=float(rng.uniform(400, 1500)), half=float(rng.uniform(40, 160)),
                k=float(rng.uniform(2.0, 3.5)) if s_shaped else 0.0))
        total = round(0.9 * sum(c.half for c in campaigns), 2)
        return cls(campaigns, total, noise, rng)

    def observe(self, spends: list[float]) -> None:
        """Spend one day: revenue with seasonality and noise lands in each campaign's history."""
        season = WEEKLY[self.day.weekday()]
        for campaign, spend in zip(self.campaigns, spends):
            revenue = float(campaign.revenue(spend)) * season * float(self.rng.lognormal(0, self.noise))
            clicks = round(spend / 0.8)
            campaign.history.append({"date": self.day.isoformat(), "spend": round(spend, 2), "clicks": clicks,
                                     "conversions": round(revenue / 60.0), "revenue": round(revenue, 2)})
        self.day += timedelta(days=1)

    def warm_up(self, days: int) -> None:
        """Random splits of the budget, as a marketer testing campaigns would do first."""
        for _ in range(days):
            self.observe(list(self.rng.dirichlet(np.ones(len(self.campaigns))) * self.total))

    def request(self, strategy: str, seed: int | None = None, window: int | None = None) -> dict:
        return {"total_budget": self.total, "currency": "USD", "strategy": strategy, "seed": seed,
                "campaigns": [{"id": c.id, "min_budget": None, "max_budget": None,
                               "history": c.history[-window:] if window else c.history} for c in self.campaigns]}

    def expected(self, spends) -> float:
        return float(sum(c.revenue(s) for c, s in zip(self.campaigns, spends)))

    def oracle(self, units: int = 600) -> float:
        """Exact best expected revenue for the total, by dynamic programming over `units` budget steps."""
        step = self.total / units
        grid = np.arange(units + 1) * step
        used, spent = np.meshgrid(np.arange(units + 1), np.arange(units + 1), indexing="ij")
        best = np.zeros(units + 1)
        for campaign in self.campaigns:
            gain = campaign.revenue(grid)
            # best[u] over the campaigns so far = max over v ≤ u of best_before[u - v] + gain[v]
            best = np.where(spent <= used, best[np.maximum(used - spent, 0)] + gain[spent], -np.inf).max(axis=1)
        return float(best[-1])


def naive_roas_split(market: Market) -> list[float]:
    """The baseline a busy marketer uses: share the budget by each campaign's ROAS over the last week."""
    roas = []
    for c in market.campaigns:
        week = c.history[-7:]
        spend = sum(d["spend"] for d in week)
        roas.append(sum(d["revenue"] for d in week) / spend if spend else 0.0)
    roas = np.array(roas)
    return list(market.total * roas / roas.sum()) if roas.sum() else [market.total / len(roas)] * len(roas)


def run(strategy: str, *, seed: int, days: int = 40, warm_up: int = 10, n: int = 6) -> float:
    """Share of the oracle's expected revenue that `strategy` earns over `days` after the warm-up."""
    market = Market.seeded(seed, n=n)
    market.warm_up(warm_up)
    oracle = market.oracle()
    earned = 0.0
    for day in range(days):
        if strategy == "naive_roas":
            spends = naive_roas_split(market)
        else:
            result = json.loads(allocate_json(json.dumps(market.request(strategy, seed=seed * 1000 + day))))
            spends = [a["amount"] for a in result["allocations"]]
            assert abs(sum(spends) - market.total) < 0.005
        earned += market.expected(spends)
        market.observe(spends)
    return earned / (oracle * days)


def campaigns_at_scale(n: int, days: int = 365, seed: int = 1) -> list[dict]:
    """`n` campaigns of the seeded market with `days` of daily history each, as the warm-up spends them (random
    splits of the total, weekly seasonality, noise), drawn for every campaign at once: the budget at scale (an
    agency's thousands of campaigns with a year each) without a Python step per campaign and day. The campaigns'
    ids, curves and total are Market.seeded's; the days' draws are made in another order, so they are not the
    warm-up's own figures."""
    market = Market.seeded(seed, n=n)
    rng = np.random.default_rng(seed)
    a = np.array([c.a for c in market.campaigns])
    half = np.array([c.half for c in market.campaigns])
    k = np.array([c.k for c in market.campaigns])
    spend = rng.dirichlet(np.ones(n), size=days) * market.total                      # (days, n)
    u = spend / half
    with np.errstate(divide="ignore"):
        curve = np.where(k == 0, -np.expm1(-u), u ** k / (1 + u ** k))
    weekday = np.array([(market.day + timedelta(days=d)).weekday() for d in range(days)])
    revenue = a * curve * WEEKLY[weekday][:, None] * rng.lognormal(0, market.noise, (days, n))
    spend, revenue = spend.round(2), revenue.round(2)
    dates = [(market.day + timedelta(days=d)).isoformat() for d in range(days)]
    return [{"id": c.id, "min_budget": None, "max_budget": None, "history": [
        {"date": dates[d], "spend": float(spend[d, i]), "clicks": round(float(spend[d, i]) / 0.8),
         "conversions": round(float(revenue[d, i]) / 60.0), "revenue": float(revenue[d, i])} for d in range(days)]}
        for i, c in enumerate(market.campaigns)]
