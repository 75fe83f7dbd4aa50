"""Diminishing-returns response curves, revenue(spend) = a · shape(spend / (s · scale)), fitted for
every campaign at once.

Shapes are Hill curves u^k / (1 + u^k) — concave for k = 1, S-shaped above — and exponential
saturation 1 - e^-u, the two families Robyn and PyMC-Marketing use, on a grid of half-saturation
points s scaled to each campaign's own spend. For a fixed shape the best amplitude `a` is a
closed-form least squares, so a fit is a few array operations over (campaigns × shapes × days);
the fit errors give a posterior over shapes (flat prior, Gaussian noise) that carries the
uncertainty into expected revenue and into Thompson sampling.
"""

from dataclasses import dataclass

import numpy as np

HILL_K = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
EXPONENTIAL = 0.0  # k = 0 marks the exponential family
S_MULTIPLES = 2.0 ** np.linspace(-3, 4, 15)
MIN_SCALE = 0.01  # the least spend scale of a campaign's curves: a cent
SHAPES = np.array([(k, s) for k in (EXPONENTIAL, *HILL_K) for s in S_MULTIPLES])  # (J, 2)


def shape_values(x: np.ndarray, k: np.ndarray, half: np.ndarray) -> np.ndarray:
    """shape(x) for per-row k and half-saturation spend (broadcast over the last axis of x)."""
    u = np.maximum(x, 0.0) / half
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        hill = np.where(u > 0, 1.0 / (1.0 + u ** -np.where(k > 0, k, 1.0)), 0.0)
    return np.where(k > 0, hill, -np.expm1(-u))


@dataclass
class Histories:
    """Padded per-campaign arrays (campaigns × days); `mask` marks real days."""

    spend: np.ndarray
    revenue: np.ndarray
    conversions: np.ndarray
    mask: np.ndarray

    @classmethod
    def of(cls, campaigns) -> "Histories":
        n, width = len(campaigns), max((len(c.history) for c in campaigns), default=0) or 1
        spend, revenue, conversions = (np.zeros((n, width)) for _ in range(3))
        mask = np.zeros((n, width), dtype=bool)
        for i, campaign in enumerate(campaigns):
            rows = campaign.history
            if rows:
                m = len(rows)
                spend[i, :m] = [d["spend"] for d in rows]
                revenue[i, :m] = [d["revenue"] for d in rows]
                conversions[i, :m] = [d.get("conversions", 0.0) for d in rows]
                mask[i, :m] = True
        return cls(spend, revenue, conversions, mask)

    @property
    def days(self) -> np.ndarray:
        return self.mask.sum(axis=1)


@dataclass
class Posterior:
    """Per campaign: spend scale, and per shape its weight, amplitude and the amplitude's standard error."""

    scale: np.ndarray      # (N,)
    weights: np.ndarray    # (N, J)
    a: np.ndarray          # (N, J)
    a_se: np.ndarray       # (N, J)
    informed: np.ndarray   # (N,) bool: fitted from the campaign's own data

    def best(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The most probable curve per campaign, as (a, k, half)."""
        j = self.weights.argmax(axis=1)
        rows = np.arange(len(j))
        return self.a[rows, j], SHAPES[j, 0], SHAPES[j, 1] * self.scale

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One curve per campaign drawn from the posterior (Thompson sampling)."""
        cumulative = self.weights.cumsum(axis=1)
        j = (cumulative < rng.random((len(cumulative), 1)) * cumulative[:, -1:]).sum(axis=1)
        j = np.minimum(j, self.weights.shape[1] - 1)
        rows = np.arange(len(j))
        a = np.maximum(rng.normal(self.a[rows, j], self.a_se[rows, j]), 0.0)
        return a, SHAPES[j, 0], SHAPES[j, 1] * self.scale

    def expected(self, x: np.ndarray, z: float = 1.2816) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected revenue at spend x per campaign with an 80% band (mixture over shapes)."""
        values = shape_values(x[:, None], SHAPES[None, :, 0], SHAPES[None, :, 1] * self.scale[:, None])
        means = self.a * values
        mean = (self.weights * means).sum(axis=1)
        variance = (self.weights * ((self.a_se * values) ** 2 + (means - mean[:, None]) ** 2)).sum(axis=1)
        spread = z * np.sqrt(variance)
        return mean, np.maximum(mean - spread, 0.0), mean + spread


def fit(history: Histories, fallback_scale: float) -> Posterior:
    """Fit every campaign; one with fewer than 3 days of spend borrows the pooled posterior of the others."""
    spend = np.where(history.mask, history.spend, 0.0)
    revenue = np.where(history.mask, history.revenue, 0.0)
    active = history.mask & (spend > 0)
    n_days = active.sum(axis=1)
    # The grid of half-saturation points is scaled to a campaign's typical day (the median of the days it spent),
    # not its largest: one day's spend spike at 30x set the whole grid above where its curve bends, so the fit could
    # not find the curve its other days traced, and its allocation moved by a third.
    spent = np.where(active, spend, np.nan)
    spent[n_days == 0] = 0.0  # no day spent: the fallback below (and no all-NaN row for nanmedian to warn of)
    scale = np.where(n_days > 0, np.nanmedian(spent, axis=1), fallback_scale)
    # At least a cent, the least an allocation moves: a campaign spending 5e-324 a day (valid input) had half-saturation
    # points underflowing to 0, so its curves were spend / 0 (nan expected revenue, numpy's warnings in the log).
    scale = np.maximum(np.where(scale > 0, scale, fallback_scale), MIN_SCALE)
    n, shapes = len(scale), len(SHAPES)
    sse, a, bb = (np.empty((n, shapes)) for _ in range(3))
    yy = (revenue * history.mask).__pow__(2).sum(axis=1)
    powered = {}  # x^k once per exponent: a Hill basis is then x^k / (x^k + half^k), one division per shape
    for j, (k, s) in enumerate(SHAPES):
        half = (s * scale)[:, None]
        if k == EXPONENTIAL:
            basis = -np.expm1(-spend / half)
        else:
            if k not in powered:
                powered[k] = spend ** k
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                basis = np.nan_to_num(1.0 / (1.0 + half ** k / powered[k]))  # x = 0 gives 0, x = inf gives 1
        basis *= history.mask
        bb[:, j] = np.einsum("ij,ij->i", basis, basis)
        by = np.einsum("ij,ij->i", basis, revenue)
        a[:, j] = np.where(bb[:, j] > 0, np.maximum(by, 0.0) / np.maximum(bb[:, j], 1e-300), 0.0)
        sse[:, j] = np.maximum(yy - 2 * a[:, j] * by + a[:, j] ** 2 * bb[:, j], 0.0)
    days = history.mask.sum(axis=1)
    level = np.where(days > 0, revenue.sum(axis=1) / np.maximum(days, 1), 0.0)
    sigma2 = np.maximum(sse.min(axis=1) / np.maximum(days - 2, 1), (0.02 * level) ** 2 + 1e-9)
    log_w = -(sse - sse.min(axis=1, keepdims=True)) / (2 * sigma2[:, None])
    weights = np.exp(log_w)
    weights /= weights.sum(axis=1, keepdims=True)
    a_se = np.sqrt(sigma2[:, None] / np.maximum(bb, 1e-12))
    informed = n_days >= 3
    if informed.any() and not informed.all():
        # Empirical Bayes: an unproven campaign is expected to behave like a typical proven one,
        # with the spread of the proven ones as its uncertainty.
        pooled_w = weights[informed].mean(axis=0)
        pooled_a = np.median(a[informed], axis=0)
        pooled_se = np.maximum(a[informed].std(axis=0), 0.5 * pooled_a) + np.median(a_se[informed], axis=0)
        weights[~informed], a[~informed], a_se[~informed] = pooled_w, pooled_a, pooled_se
        scale[~informed] = np.median(scale[informed])
    return Posterior(scale, weights, a, np.minimum(a_se, 1e12), informed)
