"""Allocation strategies behind one interface: `allocate(request) -> AllocateResult`.

Every strategy respects each campaign's min/max and spends the total to the cent (unless every
campaign is at its max). Weight strategies (equal, proportional, pareto) scale target weights
into the bounds; curve strategies (optimal, exploratory) maximise expected revenue over
response curves by equalising marginal return: for a price λ each campaign takes the spend
that maximises revenue − λ·spend (exact on any curve, concave or S-shaped, up to the grid),
and λ is bisected until the spends add up to the total.
"""

from decimal import Decimal

import numpy as np

from affiliate_matrix.budget.curves import Histories, Posterior, fit, shape_values
from affiliate_matrix.budget.model_types import cents_per_unit
from affiliate_matrix.budget.models import AllocateRequest, AllocateResult, Allocation, Metric
from affiliate_matrix.wording import counted

GRID = 129            # spend points per campaign for the λ search
PARETO_SHARE = 0.8    # the top performers producing this share of value get this share of budget
PRIOR_DAYS = 7.0      # smoothing: pseudo-days of pooled performance added to every campaign
GREEDY_STEPS = 64     # chunks for placing what the grid leaves over
MIN_WEIGHT = 1e-15    # the least weight relative to the largest: of a total up to 1e12, under a cent


def allocate(request: AllocateRequest, metric: Metric = "revenue") -> AllocateResult:
    total = float(request.total_budget)
    lo = np.array([float(c.min_budget or 0) for c in request.campaigns])
    hi = np.array([float(c.max_budget) if c.max_budget is not None else np.inf for c in request.campaigns])
    history = Histories.of(request.campaigns)
    posterior = None
    if request.strategy in ("optimal", "exploratory"):
        posterior = fit(history, fallback_scale=total / len(lo) if total else 1.0)
    if posterior is not None and not posterior.informed.any():
        amounts = fill(np.ones(len(lo)), lo, hi, total)
        explanation = ("No campaign has 3 days of spend to fit a response curve on yet, so the budget is split "
                       "equally within the bounds; allocations will follow the curves once there is history.")
    elif request.strategy == "optimal":
        a, k, half = posterior.best()
        amounts, price = maximise(a, k, half, lo, hi, total)
        explanation = explain_curves(posterior, price, "the most probable response curve of each campaign",
                                     request.currency)
    elif request.strategy == "exploratory":
        a, k, half = posterior.sample(np.random.default_rng(request.seed))
        amounts, price = maximise(a, k, half, lo, hi, total)
        explanation = explain_curves(posterior, price, "one response curve per campaign drawn from its posterior "
                                     "(Thompson sampling), so uncertain campaigns get tried and the share "
                                     "they get shrinks as evidence grows", request.currency)
    else:
        value = smoothed(history, metric)
        weights, explanation = {"equal": equal, "proportional": proportional, "pareto": pareto}[request.strategy](
            value, metric)
        amounts = fill(weights, lo, hi, total)
    cents = to_cents(amounts, request)
    expected = posterior.expected(cents / 100.0) if posterior is not None and posterior.informed.any() else None
    allocations = []
    for i, campaign in enumerate(request.campaigns):
        row = Allocation(campaign_id=campaign.id, amount=int(cents[i]) / 100)
        if expected is not None and posterior.informed[i]:
            row.expected_revenue, row.expected_revenue_low, row.expected_revenue_high = (
                round(float(v[i]), 2) for v in expected)
        allocations.append(row)
    if int(cents.sum()) < round(total * 100):
        explanation += " Every campaign is at its max_budget, so part of the total is left unallocated."
    return AllocateResult(strategy=request.strategy, allocations=allocations, explanation=explanation)


# --- weight strategies -------------------------------------------------------------------------

def smoothed(history: Histories, metric: Metric) -> np.ndarray:
    """Each campaign's metric shrunk toward the pooled figure, so a campaign with two lucky days
    does not take the budget and one with no history gets the pooled value."""
    days = history.days.astype(float)
    spend = (history.spend * history.mask).sum(axis=1)
    revenue = (history.revenue * history.mask).sum(axis=1)
    if metric == "roas":
        # The pooled ROAS times the prior's spend is the prior's revenue, computed as such: the pooled ROAS alone
        # (revenue over a total spend of 5e-324) was inf, and so every campaign's value (nan where it had none).
        # Every figure is at most 1e12 a day, so with the spend floored at 1e-9 the values stay finite.
        prior_spend = PRIOR_DAYS * (spend.sum() / max(days.sum(), 1.0))
        prior_revenue = PRIOR_DAYS * (revenue.sum() / max(days.sum(), 1.0)) if spend.sum() > 0 else 0.0
        return (revenue + prior_revenue) / np.maximum(spend + prior_spend, 1e-9)
    totals = revenue if metric == "revenue" else (history.conversions * history.mask).sum(axis=1)
    pooled = totals.sum() / max(days.sum(), 1.0)
    return (totals + PRIOR_DAYS * pooled) / (days + PRIOR_DAYS)


def equal(value: np.ndarray, metric: Metric) -> tuple[np.ndarray, str]:
    return np.ones(len(value)), "The budget is split equally, within each campaign's bounds."


def proportional(value: np.ndarray, metric: Metric) -> tuple[np.ndarray, str]:
    if value.sum() <= 0:
        return np.ones(len(value)), f"No campaign has any {metric} yet, so the budget is split equally."
    return value, (f"The budget follows each campaign's {metric} per day, smoothed toward the pooled figure "
                   f"with {PRIOR_DAYS:g} pseudo-days so little history counts for little.")


def pareto(value: np.ndarray, metric: Metric) -> tuple[np.ndarray, str]:
    if value.sum() <= 0:
        return np.ones(len(value)), f"No campaign has any {metric} yet, so the budget is split equally."
    order = np.argsort(-value, kind="stable")
    cumulative = np.cumsum(value[order]) / value.sum()
    top = order[: int(np.searchsorted(cumulative, PARETO_SHARE - 1e-12)) + 1]
    weights = np.zeros(len(value))
    rest = len(value) - len(top)
    weights[top] = (PARETO_SHARE if rest else 1.0) * value[top] / value[top].sum()
    if rest:
        weights[np.setdiff1d(np.arange(len(value)), top)] = (1 - PARETO_SHARE) / rest
    return weights, (f"{len(top)} of {len(value)} campaigns produce {PARETO_SHARE:.0%} of the {metric}; they share "
                     f"{PARETO_SHARE:.0%} of the budget by {metric} and the rest share the remainder equally.")


def fill(weights: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """amounts = clip(t · weights, lo, hi) with t found so they add up to the total (water filling)."""
    if np.isfinite(hi).all() and hi.sum() <= total:
        return hi.copy()
    # an infinite weight (ROAS over a spend of 5e-324) as the largest float, one that is not a number as none
    weights = np.nan_to_num(weights, nan=0.0, posinf=np.finfo(float).max, neginf=0.0)
    weights = np.where(weights > 0, weights, 0.0)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    # The largest weight scaled to 1 and none below MIN_WEIGHT of it (a share under a cent of the largest total),
    # so t stays far inside the float range: weights near 1e-300 doubled it to inf, every campaign got its max.
    weights = weights / weights.max()
    weights = np.where(weights > 0, np.maximum(weights, MIN_WEIGHT), 0.0)
    low, high = 0.0, 1.0
    while np.minimum(np.maximum(high * weights, lo), hi).sum() < total:
        high *= 2.0
    for _ in range(100):
        mid = (low + high) / 2
        if np.minimum(np.maximum(mid * weights, lo), hi).sum() < total:
            low = mid
        else:
            high = mid
    return np.minimum(np.maximum(high * weights, lo), hi)


# --- curve strategies --------------------------------------------------------------------------

def maximise(a, k, half, lo, hi, total) -> tuple[np.ndarray, float]:
    """Spends within [lo, hi] adding up to the total that maximise Σ a·shape(spend); returns them
    and the marginal return λ at the optimum."""
    def revenue(x):
        return a * shape_values(x, k, half)

    room = total - lo.sum()
    useful = lo + np.minimum(hi - lo, np.minimum(room, 60.0 * half))  # beyond 60 half-saturations nothing is left
    steps = np.linspace(0.0, 1.0, GRID) ** 2                           # fine near lo, where curves bend
    grid = lo[:, None] + (useful - lo)[:, None] * steps[None, :]
    values = a[:, None] * shape_values(grid, k[:, None], half[:, None])

    def demand(price):
        pick = (values - price * grid).argmax(axis=1)
        return grid[np.arange(len(pick)), pick]

    chords = (values[:, 1:] - values[:, :1]) / np.maximum(grid[:, 1:] - grid[:, :1], 1e-12)
    low, high = 0.0, float(chords.max(initial=0.0)) * 1.01 + 1e-12
    spend_low = demand(low)
    if spend_low.sum() <= total:                     # every curve is flat before the money runs out
        return fill_rest(spend_low, lo, hi, total), 0.0
    for _ in range(60):
        mid = (low + high) / 2
        if demand(mid).sum() > total:
            low = mid
        else:
            high = mid
    under = greedy(demand(high), total, lo, hi, revenue, add=True)
    over = greedy(demand(low), total, lo, hi, revenue, add=False)
    best = under if revenue(under).sum() >= revenue(over).sum() else over
    return fill_rest(best, lo, hi, total), high


def greedy(x, total, lo, hi, revenue, *, add: bool) -> np.ndarray:
    """Close the gap to the total in small chunks, each where it gains most (or costs least)."""
    x = x.copy()
    gap = total - x.sum() if add else x.sum() - total
    if gap <= 0:
        return x
    chunk = gap / GREEDY_STEPS
    for _ in range(GREEDY_STEPS):
        if add:
            step = np.minimum(chunk, hi - x)
            gain = revenue(x + step) - revenue(x)
            i = int(np.argmax(np.where(step > 0, gain / np.maximum(step, 1e-12), -np.inf)))
            x[i] += step[i]
        else:
            step = np.minimum(chunk, x - lo)
            loss = revenue(x) - revenue(x - step)
            i = int(np.argmin(np.where(step > 0, loss / np.maximum(step, 1e-12), np.inf)))
            x[i] -= step[i]
    return x


def fill_rest(x, lo, hi, total) -> np.ndarray:
    """Whatever is still short of the total goes equally to campaigns with room left."""
    short = total - x.sum()
    if short <= 1e-9:
        return x
    return x + fill(np.ones(len(x)), np.zeros(len(x)), hi - x, short)


def explain_curves(posterior: Posterior, price: float, curves: str, currency: str) -> str:
    """`price`: the marginal return maximise found, 0 when every curve is flat before the total runs out."""
    unproven = int((~posterior.informed).sum())
    if price > 0:
        shown = f"{price:.2f}" if price >= 0.005 else "less than 0.01"
        text = (f"Spends maximise expected revenue under {curves}: each campaign gets budget until its next "
                f"{currency} of spend returns {shown} {currency} of revenue, the same for all (equal marginal "
                f"return), and S-shaped campaigns get either enough to clear their threshold or their minimum.")
    else:
        text = (f"Spends maximise expected revenue under {curves}: within their bounds the campaigns' curves have no "
                f"use for the whole total, so each gets the spend its curve still turns into revenue, and the rest "
                f"is shared equally within the bounds.")
    if unproven:
        text += (f" {counted(unproven, 'campaign')} with under 3 days of spend {'is' if unproven == 1 else 'are'} "
                 "treated as a typical campaign.")
    return text


# --- to the cent ---------------------------------------------------------------------------------

def to_cents(amounts: np.ndarray, request: AllocateRequest) -> np.ndarray:
    """Integer cents within the bounds adding up to the total: floor, then hand out the remaining
    cents by largest remainder to campaigns with room (taken back by smallest remainder when over). In a currency
    without cents (JPY) the same in whole units, returned as cents (its amounts and bounds are whole: models.py)."""
    step = cents_per_unit(request.currency)
    return to_units(amounts, request, 100 // step) * step


def to_units(amounts: np.ndarray, request: AllocateRequest, per_unit: int) -> np.ndarray:
    total = int(request.total_budget * per_unit)
    lo = np.array([int((c.min_budget or Decimal(0)) * per_unit) for c in request.campaigns], dtype=np.int64)
    hi = np.array([min(int(c.max_budget * per_unit), total) if c.max_budget is not None else total
                   for c in request.campaigns], dtype=np.int64)
    raw = np.minimum(np.maximum(np.nan_to_num(amounts * float(per_unit), nan=0.0), lo), hi)
    cents = np.minimum(np.maximum(np.floor(raw).astype(np.int64), lo), hi)
    short = min(total, int(hi.sum())) - int(cents.sum())
    if short == 0:
        return cents
    room = hi - cents if short > 0 else cents - lo
    # As many whole rounds of a cent to each campaign with room as fit (the highest level k at which
    # sum(min(room, k)) is within the shortfall: a bisection, not a pass per cent), then one cent more to the
    # rest of the shortfall's campaigns in order of their remainder. Each pass handed out one cent per campaign,
    # so amounts far from the total took a pass per cent they were off by.
    need = abs(short)
    low, high = 0, int(room.max())
    while low < high:
        mid = (low + high + 1) // 2
        if int(np.minimum(room, mid).sum()) <= need:
            low = mid
        else:
            high = mid - 1
    given = np.minimum(room, low)
    left = need - int(given.sum())
    order = np.argsort(-(raw - cents) if short > 0 else raw - cents, kind="stable")
    order = order[room[order] > low][:left]
    given[order] += 1
    return cents + given if short > 0 else cents - given
