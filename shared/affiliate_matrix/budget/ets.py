"""Additive-error ETS fitted over many series at once: one numpy step per day over every series (a row each),
the smoothing parameters chosen per row by a grid then a pattern search on the sum of squared one-step errors
(the Gaussian likelihood with its variance concentrated out), the initial states then by least squares at those
parameters (the likelihood's own optimum for them: the errors are linear in the initial states), and the 80%
interval from the additive models' closed-form forecast variance (Hyndman et al., Forecasting with Exponential
Smoothing, 2008, ch. 6: class 1).

Every operation is elementwise per row and summed day by day, so a row's figures do not depend on the other rows
in its batch: a campaign forecast among 20,000 is the same campaign forecast alone.
"""

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

SEASON = 7
# statsmodels' bounds (ETSModel's defaults): smoothing in (1e-4, 1 - 1e-4), beta <= alpha, gamma <= 1 - alpha,
# phi in [0.8, 0.98]
LOW, HIGH = 1e-4, 1 - 1e-4
PHI = (0.8, 0.98)
# Pattern-search rounds from the grid's best, then from the least-squares states with steps a quarter as long:
# twice as many moved the mean backtest MASE by 0.003 (bench campaigns) and 0.005 (simulator).
ROUNDS, REFINE_ROUNDS = 6, 3
# The search compares candidates in single precision (twice the numbers per instruction and per byte moved); the
# fit it settles on is evaluated in double.
SEARCH = np.float32


@dataclass(frozen=True)
class Spec:
    trend: bool
    seasonal: bool

    @property
    def label(self) -> str:
        return f"ETS(A,{'Ad' if self.trend else 'N'},{'A' if self.seasonal else 'N'})"

    @property
    def states(self) -> int:
        """Free initial states: the level, the trend, and the season's days but one (they sum to zero: the level
        carries their mean)."""
        return 1 + self.trend + (SEASON - 1) * self.seasonal

    @property
    def parameters(self) -> int:
        """What AICc counts, as statsmodels does: smoothing parameters, damping, every initial state (the season's
        seven days) and the error variance."""
        return 1 + 2 * self.trend + self.seasonal + (1 + self.trend + SEASON * self.seasonal) + 1


SIMPLE, SEASONAL, DAMPED = Spec(False, False), Spec(False, True), Spec(True, True)


@dataclass
class Fit:
    """Per row: the point forecast and its interval for `horizon` days after the row's end, and AICc."""
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    aicc: np.ndarray


def _grid(spec: Spec) -> np.ndarray:
    """Starting points, one row each: alpha, beta (as a share of alpha), gamma (as a share of 1 - alpha), phi."""
    alphas = (0.1, 0.4) if spec.trend else (0.05, 0.2, 0.5) if spec.seasonal else (0.02, 0.1, 0.25, 0.5, 0.9)
    betas = (0.1,) if spec.trend else (0.0,)
    gammas = (0.05, 0.25) if spec.seasonal else (0.0,)
    phis = (0.9, 0.98) if spec.trend else (1.0,)
    return np.array([(a, b, g, p) for a in alphas for b in betas for g in gammas for p in phis])


def _params(spec: Spec, raw: np.ndarray) -> np.ndarray:
    """Searched coordinates (alpha, beta share, gamma share, phi) to the model's parameters, within the bounds."""
    alpha = np.clip(raw[..., 0], LOW, HIGH)
    beta = np.clip(raw[..., 1] * alpha, LOW, alpha) if spec.trend else np.zeros_like(alpha)
    gamma = np.clip(raw[..., 2] * (1 - alpha), LOW, 1 - alpha) if spec.seasonal else np.zeros_like(alpha)
    phi = np.clip(raw[..., 3], *PHI) if spec.trend else np.ones_like(alpha)
    return np.stack([alpha, beta, gamma, phi], axis=-1)


def _clip_raw(spec: Spec, raw: np.ndarray) -> np.ndarray:
    lo = np.array([LOW, LOW if spec.trend else 0, LOW if spec.seasonal else 0, PHI[0] if spec.trend else 1])
    hi = np.array([HIGH, 1.0 if spec.trend else 0, 1.0 if spec.seasonal else 0, PHI[1] if spec.trend else 1])
    return np.clip(raw, lo, hi)


def _observed(y: np.ndarray, days: int, dtype) -> np.ndarray:
    """The rows' days as the recursion reads them: days x rows (a day's values contiguous), zeros past the rows."""
    observed = np.zeros((days, y.shape[0]), dtype)
    observed[:y.shape[1]] = y.T[:days]
    return observed


def _run(observed: np.ndarray, ends: np.ndarray, params: np.ndarray, level, trend, season, horizon: int = 0,
         dtype=np.float64, reads: np.ndarray | None = None):
    """The ETS recursion over rows (last axis) and candidates (leading axes of params and states) on `observed`
    (_observed, at least the longest row's days plus `horizon`): the sum of squared one-step errors over each row's
    first `ends` days and, with a horizon, the point forecasts after it (the recursion with its errors set to zero).
    With `reads`, the last axis is of runs, each reading the observed row `reads` names (ends, params and states
    per run). Without a horizon, `ends` may give each row several ends (rows x ends): a sum at each, as a run on
    those days alone sums them. In place: the arrays are the loop's whole cost."""
    alpha, beta, gamma, phi = (params[..., i].astype(dtype) for i in range(4))
    shape = np.broadcast_shapes(alpha.shape, level.shape)
    level, trend = np.broadcast_to(level, shape).astype(dtype), np.broadcast_to(trend, shape).astype(dtype)
    season = np.broadcast_to(season, (*shape[:-1], SEASON, shape[-1])).astype(dtype)
    days = int(ends.max()) + horizon
    if horizon:  # past its end a row's errors are zero: its forecast
        inside = (np.arange(days)[:, None] < ends).astype(dtype)
    else:  # past its end a row runs on, unread: its sum is taken at its end
        ending = {int(end): np.nonzero(ends == end) for end in np.unique(ends)}  # (rows, ends' column) per end
        total = np.zeros((*shape, *ends.shape[1:]), dtype)
    has_trend, has_season = bool(np.any(beta)), bool(np.any(gamma))
    sse, damped, expected, error, scratch = (np.zeros(shape, dtype) for _ in range(5))
    base = np.zeros(shape, dtype) if has_trend else level  # level + damped trend
    path = np.zeros((days, *shape), dtype) if horizon else None
    day = None if reads is None else np.zeros(shape, dtype)  # taken a day at a time: the days x runs copy was slower
    with np.errstate(over="ignore", invalid="ignore"):  # a row run on past its end may diverge, unread
        for t in range(days):
            current = season[..., t % SEASON, :]
            if has_trend:
                np.multiply(phi, trend, out=damped)
                np.add(level, damped, out=base)
            np.add(base, current, out=expected)
            if reads is None:
                np.subtract(observed[t], expected, out=error)
            else:
                np.subtract(np.take(observed[t], reads, out=day), expected, out=error)
            if horizon:
                path[t] = expected
                error *= inside[t]
            np.multiply(error, error, out=scratch)
            sse += scratch
            if not horizon and t + 1 in ending:
                total[(..., *ending[t + 1])] = sse[..., ending[t + 1][0]]
            np.multiply(alpha, error, out=scratch)
            np.add(base, scratch, out=level)
            if has_trend:
                np.multiply(beta, error, out=scratch)
                np.add(damped, scratch, out=trend)
            if has_season:
                np.multiply(gamma, error, out=scratch)
                current += scratch
    if not horizon:
        return total, None
    rows = np.arange(len(ends))
    return sse, np.stack([path[ends + h, ..., rows] for h in range(horizon)], axis=-1)


def _heuristic_states(spec: Spec, y: np.ndarray):
    """Starting states for the parameter search (Hyndman et al. 2008, 2.6.1): the first week's mean, its days'
    deviations from it, the change to the second week's mean per day."""
    rows = y.shape[0]
    if not spec.seasonal:
        return y[:, 0].copy(), np.zeros(rows), np.zeros((SEASON, rows))
    first, second = y[:, :SEASON].mean(axis=1), y[:, SEASON:2 * SEASON].mean(axis=1)
    trend = (second - first) / SEASON if spec.trend else np.zeros(rows)
    return first, trend, (y[:, :SEASON] - first[:, None]).T.copy()


def grid_best(spec: Spec, y: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `y` and each of its `ends` (rows x ends, each past two weeks): the grid's best searched coordinates
    and their squared error on the row's first `ends` days from the heuristic states, where fit's search starts. One
    run over the row gives every end's: its errors up to a day do not depend on the days after, nor its starting
    states (its first two weeks') on the days after two weeks."""
    return _grid_best(spec, _observed(y, int(ends.max()), SEARCH), ends, _heuristic_states(spec, y))


def _grid_best(spec: Spec, observed: np.ndarray, ends: np.ndarray, states) -> tuple[np.ndarray, np.ndarray]:
    grid = _grid(spec)
    sse, _ = _run(observed, ends, _params(spec, grid)[:, None, :], *states, dtype=SEARCH)
    best = np.argmin(sse, axis=0)
    return grid[best], np.take_along_axis(sse, best[None], 0)[0]  # the best scored already: its sums, not run again


def _search(spec: Spec, observed: np.ndarray, ends: np.ndarray, states, start, rounds: int,
            step: float) -> np.ndarray:
    """Per row, the searched coordinates with the least squared error from the given initial states: from `start`,
    coordinates (scored here) or coordinates with their squared error (the grid's best), a pattern search (each free
    coordinate a step either way; a row's steps halve when no move improves it)."""
    rows = np.arange(len(ends))
    if isinstance(start, tuple):
        raw, score = start
    else:
        raw = start
        score, _ = _run(observed, ends, _params(spec, raw), *states, dtype=SEARCH)
    free = [i for i, on in enumerate((True, spec.trend, spec.seasonal, spec.trend)) if on]
    steps = np.tile(step * np.array([0.1, 0.1, 0.1, 0.04])[free], (len(ends), 1))
    for _ in range(rounds):
        moves = []
        for j, coordinate in enumerate(free):
            for sign in (-1, 1):
                moved = raw.copy()
                moved[:, coordinate] += sign * steps[:, j]
                moves.append(_clip_raw(spec, moved))
        moves = np.stack(moves)
        sse = _moves_sse(spec, observed, ends, states, raw, moves)
        pick = np.argmin(sse, axis=0)
        better = sse[pick, rows] < score
        raw = np.where(better[:, None], moves[pick, rows], raw)
        score = np.where(better, sse[pick, rows], score)
        steps = np.where(better[:, None], steps, steps / 2)
    return raw


def _moves_sse(spec: Spec, observed: np.ndarray, ends: np.ndarray, states, raw: np.ndarray,
               moves: np.ndarray) -> np.ndarray:
    """The squared error of each move (moves x rows), the recursion run only on the moves that are new: a move the
    bounds leave at its row's parameters scores what the row does, so it is no better; one with an earlier move's
    parameters scores what that one does, and argmin picks the earlier of equal scores. Both score inf, so the
    search picks what it would running them all. At the damped model's bounds (phi at 0.8 or 0.98, beta at alpha)
    that is about two moves in five."""
    params = _params(spec, moves)
    fresh = _fresh(_params(spec, raw), params)
    picked, row = np.nonzero(fresh)
    sse = np.full(fresh.shape, np.inf, SEARCH)
    if len(row):
        level, trend, season = states
        sse[picked, row], _ = _run(observed, ends[row], params[picked, row], level[row], trend[row], season[:, row],
                                   dtype=SEARCH, reads=row)
    return sse


def _fresh(current: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Per move and row: whether the move's parameters differ from the row's current ones and every earlier move's."""
    fresh = np.empty(params.shape[:2], bool)
    for m in range(len(params)):
        seen = np.all(params[m] == current, axis=-1)
        for earlier in params[:m]:
            seen |= np.all(params[m] == earlier, axis=-1)
        fresh[m] = ~seen
    return fresh


def _initial_states(spec: Spec, y: np.ndarray, ends: np.ndarray, params: np.ndarray):
    """The initial states minimising each row's squared error at its parameters: the errors are linear in them,
    so the recursion from no states plus one from each unit state gives a least-squares problem per row."""
    rows, k = len(ends), spec.states
    basis = np.eye(1 + k)[:, 1:]  # candidate 0 runs from zero states, candidate j from unit state j
    level = np.broadcast_to(basis[:, :1], (1 + k, rows)).copy()
    trend = (np.broadcast_to(basis[:, 1:2], (1 + k, rows)).copy() if spec.trend else np.zeros((1 + k, rows)))
    season = np.zeros((1 + k, SEASON, rows))
    if spec.seasonal:
        free = basis[:, 1 + spec.trend:]  # the season's first six days; the seventh is minus their sum
        season[:, :SEASON - 1, :] = free[:, :, None]
        season[:, SEASON - 1, :] = -free.sum(axis=1)[:, None]
    # errors(y, x0) = errors(y, 0) - M x0 for the unit runs' errors -M: accumulate the products of every pair of
    # runs' errors day by day (M'M and M'e0 are among them), with the rows the contiguous axis
    alpha, beta, gamma, phi = (params[:, i] for i in range(4))
    observed = _observed(y, int(ends.max()), np.float64)
    inside = (np.arange(len(observed))[:, None] < ends).astype(float)
    upper = [np.zeros((1 + k - i, rows)) for i in range(1 + k)]  # products[i, i:], the rest by symmetry
    scratch = [np.zeros((1 + k - i, rows)) for i in range(1 + k)]
    # In place, and without the terms a form lacks (its trend or season stays exactly zero, so adding it changed
    # nothing) or the mask while every row is inside (a product by one): the same sums in less work.
    damped, base, error, step = (np.zeros((1 + k, rows)) for _ in range(4))
    every_row_inside = int(ends.min())
    if not spec.trend:
        base = level
    for t in range(len(observed)):
        if spec.trend:
            np.multiply(phi, trend, out=damped)
            np.add(level, damped, out=base)
        if spec.seasonal:
            np.add(base, season[:, t % SEASON, :], out=error)
            np.negative(error, out=error)
        else:
            np.negative(base, out=error)
        error[0] += observed[t]  # the unit runs see y = 0
        if t >= every_row_inside:
            error *= inside[t]
        for i in range(1 + k):
            np.multiply(error[i], error[i:], out=scratch[i])
            upper[i] += scratch[i]
        np.multiply(alpha, error, out=step)
        np.add(base, step, out=level)
        if spec.trend:
            np.multiply(beta, error, out=step)
            np.add(damped, step, out=trend)
        if spec.seasonal:
            np.multiply(gamma, error, out=step)
            season[:, t % SEASON, :] += step
    products = np.zeros((1 + k, 1 + k, rows))
    for i in range(1 + k):
        products[i, i:] = products[i:, i] = upper[i]
    gram, cross = products[1:, 1:].transpose(2, 0, 1), -products[1:, 0].T
    ridge = 1e-9 * (np.trace(gram, axis1=1, axis2=2)[:, None, None] + 1) * np.eye(k)
    x0 = np.linalg.solve(gram + ridge, cross[:, :, None])[:, :, 0]
    level0 = x0[:, 0]
    trend0 = x0[:, 1] if spec.trend else np.zeros(rows)
    season0 = np.zeros((SEASON, rows))
    if spec.seasonal:
        free = x0[:, 1 + spec.trend:].T
        season0[:SEASON - 1] = free
        season0[SEASON - 1] = -free.sum(axis=0)
    return level0, trend0, season0


def fit(spec: Spec, y: np.ndarray, ends: np.ndarray, horizon: int, interval: float,
        grid: tuple[np.ndarray, np.ndarray] | None = None) -> Fit:
    """Fit `spec` to each row's first `ends` days of `y` (rows x days, zeros after a row's end) and forecast
    `horizon` days after its end with an `interval` prediction interval (from the normal quantile). `grid`: the
    rows' grid_best, when taken already."""
    # The search from rough starting states, then again (shorter steps) from the best states for what it found:
    # the states matter as much as the smoothing on a few weeks of history.
    observed = _observed(y, int(ends.max()), SEARCH)
    states = _heuristic_states(spec, y)
    raw = _search(spec, observed, ends, states, grid or _grid_best(spec, observed, ends, states), ROUNDS, 1.0)
    raw = _search(spec, observed, ends, _initial_states(spec, y, ends, _params(spec, raw)), raw, REFINE_ROUNDS, 0.25)
    params = _params(spec, raw)
    states = _initial_states(spec, y, ends, params)
    sse, mean = _run(_observed(y, int(ends.max()) + horizon, np.float64), ends, params, *states, horizon=horizon)
    n = ends.astype(float)
    sigma2 = sse / n  # the maximum-likelihood variance, as statsmodels' intervals use
    alpha, beta, gamma, phi = (params[:, i, None] for i in range(4))
    j = np.arange(1, horizon)[None, :]
    # c_j = alpha + beta (phi + ... + phi^j) + gamma [j a multiple of the season]
    damped_sum = phi * (1 - phi ** j) / np.where(phi == 1, 1, 1 - phi) if spec.trend else 0.0
    c = alpha + beta * damped_sum + gamma * (j % SEASON == 0)
    variance = sigma2[:, None] * np.concatenate([np.ones((len(n), 1)), 1 + np.cumsum(c * c, axis=1)], axis=1)
    width = NormalDist().inv_cdf(0.5 + interval / 2) * np.sqrt(variance)
    k = spec.parameters
    aicc = n * np.log(2 * np.pi * sigma2) + n + 2 * k + 2 * k * (k + 1) / np.maximum(n - k - 1, 1)
    return Fit(mean=mean, low=mean - width, high=mean + width, aicc=aicc)
