"""Daily revenue and conversions forecasts per campaign with prediction intervals, from additive-error ETS
(exponential smoothing state-space models, budget/ets.py: fitted over all campaigns at once), and a rolling-origin
backtest scored by MASE against a seasonal-naive forecast.

Two weeks of history or more: additive weekly seasonality, with or without a damped trend (the
lower AICc wins); three days to two weeks: simple exponential smoothing, its band at least a new day's interval
from the days as a sample; less: no forecast. Without a backtest (under about four weeks) the note says so, as it
says of a backtest worse than seasonal naive (MASE above 1). Days missing from a history count as days without
activity (zero), so a forecast reads the last MAX_HISTORY_DAYS days of the calendar only (a history spanning
centuries was a series as long, minutes to fit), and the note says when older days were left out. A forecast that would run past 9999-12-31 is none.
"""

from datetime import date, timedelta
from functools import cache
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

import numpy as np
from pydantic import TypeAdapter

from affiliate_matrix.budget import ets
from affiliate_matrix.budget.ets import DAMPED, SEASON, SEASONAL, SIMPLE, Spec
from affiliate_matrix.budget.models import (
    MAX_HISTORY_DAYS, Backtest, CampaignForecast, ForecastPoint, ForecastRequest, ForecastResult,
)
from affiliate_matrix.errors import DamagedData, InvalidInput
from affiliate_matrix.wording import counted

INTERVAL = 0.8
# A backtest's MASE above 1, in a marketer's words: the model missed past days by more than the week before's figures
# (seasonal naive, the MASE's scale) would have
WORSE_THAN_NAIVE = ("on past days it missed by more than repeating each weekday's figure from the week before would "
                    "(backtest MASE above 1): treat it with care")
MIN_DAYS = 3
BACKTEST_ORIGINS = 4
BATCH = 4_096  # series fitted together: the recursion's arrays stay in cache, its Python steps few


def forecast(request: ForecastRequest) -> ForecastResult:
    return ForecastResult(horizon_days=request.horizon_days, interval=INTERVAL, forecasts=campaign_forecasts(
        request.campaigns, request.horizon_days, [c.currency or request.currency for c in request.campaigns]))


def campaign_forecasts(campaigns, horizon: int, currencies: list[str | None] | None = None) -> list[CampaignForecast]:
    """The forecast of each campaign of a request, with the currency of its revenue (None: unnamed)."""
    return series_forecasts([c.id for c in campaigns], [daily_series(c.history) for c in campaigns], horizon,
                            currencies or [None] * len(campaigns))


def series_forecasts(ids: list[str], series: list["Series"], horizon: int,
                     currencies: list[str | None]) -> list[CampaignForecast]:
    """The forecast of each campaign (its id, its daily_series, its currency), fitted together."""
    results: list[CampaignForecast | None] = [None] * len(ids)
    fitted = []
    for i, (campaign_id, (start, revenue, *_)) in enumerate(zip(ids, series)):
        if len(revenue) < MIN_DAYS:
            had = counted(len(revenue), "day") if len(revenue) else "no day"  # not "0 day(s)"
            results[i] = CampaignForecast(campaign_id=campaign_id, currency=currencies[i], model=None, revenue=[],
                                          conversions=[], note=f"{had} of history; a forecast needs {MIN_DAYS}")
        elif (date.max - start).days - len(revenue) + 1 < horizon:
            last = start + timedelta(days=len(revenue) - 1)
            results[i] = CampaignForecast(campaign_id=campaign_id, currency=currencies[i], model=None, revenue=[],
                                          conversions=[],
                                          note=f"a forecast of {counted(horizon, 'day')} after {last} would run "
                                               f"past {date.max}")
        else:
            fitted.append(i)
    # A campaign whose days never report conversions has no conversions forecast: its missing counts read as zeros
    # made one of exactly 0, band 0-0.
    reported = [i for i in fitted if series[i].reported]
    revenue = dict(zip(fitted, predict_many([series[i].revenue for i in fitted], horizon)))
    conversions = dict(zip(reported, predict_many([series[i].conversions for i in reported], horizon)))
    scores = dict(zip(fitted, backtests([series[i].revenue for i in fitted], [revenue[i][0] for i in fitted],
                                        min(horizon, SEASON))))
    for i in fitted:
        start, y, _, _, oldest = series[i]
        first = start + timedelta(days=len(y))
        notes = []
        if oldest < start:
            notes.append(f"read from {start}: only the last {MAX_HISTORY_DAYS:,} days of its history count")
        needed = 3 * SEASON + min(horizon, SEASON)
        if scores[i] is None and len(y) < needed:
            notes.append(f"{counted(len(y), 'day')} of history: no backtest (it needs {needed}), so the model's "
                         "accuracy is unmeasured")
        elif scores[i] is None:
            notes.append("no backtest: the revenue repeats exactly week on week, so there is no error to scale by")
        elif scores[i].mase > 1:  # said wherever the forecast is (its note: the API, amx budget forecast, the report)
            notes.append(WORSE_THAN_NAIVE)
        if i not in conversions:
            notes.append("no day reports conversions, so none are forecast")
        results[i] = CampaignForecast(
            campaign_id=ids[i], currency=currencies[i], model=revenue[i][0].label,
            revenue=points(first, *revenue[i][1:]),
            conversions=points(first, *conversions[i][1:]) if i in conversions else [],
            backtest=scores[i], note="; ".join(notes) or None)
    return results


class Series(NamedTuple):
    """A campaign's days as a forecast reads them: daily revenue and conversions from `start` (the calendar's last
    MAX_HISTORY_DAYS days, missing days zero), whether any day reports conversions, and its oldest day."""
    start: date | None
    revenue: np.ndarray
    conversions: np.ndarray
    reported: bool
    oldest: date | None


def daily_series(history) -> Series:
    """The Series of a history of days (unique dates, in any order), built with array operations: a Python step per
    day was a third of the forecast's CPU outside the fits."""
    if not history:
        return Series(None, np.zeros(0), np.zeros(0), False, None)
    n = len(history)  # map() over C functions: a generator's Python step per day cost twice as much
    ordinals = np.fromiter(map(date.toordinal, map(itemgetter("date"), history)), np.int64, n)
    revenue = np.fromiter(map(itemgetter("revenue"), history), float, n)
    conversions = np.fromiter(map(dict.get, history, repeat("conversions"), repeat(0.0)), float, n)
    keep = ordinals > ordinals.max() - MAX_HISTORY_DAYS  # the calendar's last MAX_HISTORY_DAYS days
    first = int(ordinals[keep].min())
    offsets = ordinals[keep] - first
    series = np.zeros((2, int(offsets.max()) + 1))
    series[0, offsets], series[1, offsets] = revenue[keep], conversions[keep]
    return Series(date.fromordinal(first), series[0], series[1], any("conversions" in d for d in history),
                  date.fromordinal(int(ordinals.min())))


def predict_many(series: list[np.ndarray], horizon: int) -> list[tuple[Spec, np.ndarray, np.ndarray, np.ndarray]]:
    """Per series (three days or more): the ETS form chosen, its mean and interval bounds `horizon` days on,
    clipped at zero. Seasonal when there are two full weeks, the damped trend only if AICc says so; a constant
    series (no error to model) stays at its last week's level."""
    out = [None] * len(series)
    by_spec: dict[Spec, list[int]] = {SIMPLE: [], SEASONAL: []}
    for i, y in enumerate(series):
        if np.ptp(y) == 0:
            level = np.full(horizon, float(y[-SEASON:].mean()))
            out[i] = (SIMPLE, level, level, level)
        else:
            by_spec[SIMPLE if len(y) < 2 * SEASON else SEASONAL].append(i)
    from scipy.stats import t

    for i, fit in zip(by_spec[SIMPLE], fit_many(SIMPLE, [series[i] for i in by_spec[SIMPLE]], None, horizon)):
        y = series[i]
        # Under two weeks ETS's error, estimated from as many residuals, made the band narrower than the days' own
        # spread (300, 310, 305: 299.8-310.2 for a week). At least a new day's interval from the days taken as a
        # sample (Student's t, n - 1 degrees of freedom).
        mean, low, high = fit[:3]
        width = t.ppf(0.5 + INTERVAL / 2, len(y) - 1) * y.std(ddof=1) * np.sqrt(1 + 1 / len(y))
        out[i] = (SIMPLE, *clipped(mean, np.minimum(low, mean - width), np.maximum(high, mean + width)))
    seasonal = [series[i] for i in by_spec[SEASONAL]]
    for i, plain, damped in zip(by_spec[SEASONAL], fit_many(SEASONAL, seasonal, None, horizon),
                                fit_many(DAMPED, seasonal, None, horizon)):
        spec, fit = (DAMPED, damped) if damped[3] < plain[3] else (SEASONAL, plain)
        out[i] = (spec, *clipped(*fit[:3]))
    return out


def clipped(mean, low, high):
    return np.maximum(mean, 0), np.maximum(low, 0), np.maximum(high, 0)


def fit_many(spec: Spec, series: list[np.ndarray], ends: list[int] | None, horizon: int,
             grids: list[tuple[np.ndarray, float]] | None = None):
    """(mean, low, high, AICc) per series fitted on its first `ends` days (all of them by default) and forecast
    `horizon` days on; in batches of similar lengths. `grids`: each series' ets.grid_best at its end, if taken."""
    ends = [len(y) for y in series] if ends is None else ends
    out = [None] * len(series)
    order = sorted(range(len(series)), key=lambda i: ends[i])
    for batch in (order[k:k + BATCH] for k in range(0, len(order), BATCH)):
        width = max(ends[i] for i in batch)
        y = np.zeros((len(batch), width))
        for row, i in enumerate(batch):
            y[row, :ends[i]] = series[i][:ends[i]]
        grid = None if grids is None else (np.array([grids[i][0] for i in batch]),
                                           np.array([grids[i][1] for i in batch], ets.SEARCH))
        fit = ets.fit(spec, y, np.array([ends[i] for i in batch]), horizon, INTERVAL, grid)
        for row, i in enumerate(batch):
            out[i] = (fit.mean[row], fit.low[row], fit.high[row], fit.aicc[row])
    return out


@cache
def points_adapter() -> TypeAdapter:
    return TypeAdapter(list[ForecastPoint])


def points(first: date, mean, low, high) -> list[ForecastPoint]:
    # A campaign's points built in one call of pydantic's validator: a validation per point was a tenth of the work
    # outside the fits, and model_construct per point (Python setting each field) twice one call for them all.
    return points_adapter().validate_python([
        {"date": first + timedelta(days=i), "value": round(m, 2), "low": round(lo, 2), "high": round(hi, 2)}
        for i, (m, lo, hi) in enumerate(zip(mean.tolist(), low.tolist(), high.tolist()))])


def seasonal_naive(train: np.ndarray, horizon: int) -> np.ndarray:
    return np.array([train[len(train) - SEASON + (h % SEASON)] for h in range(horizon)])


def backtests(series: list[np.ndarray], specs: list[Spec], horizon: int) -> list[Backtest | None]:
    """Per series, refit its form at up to four origins a week apart and score the next `horizon` days by MASE
    (scaled by the in-sample seasonal-naive error), for the model and for seasonal naive itself."""
    rows: dict[Spec, list[tuple[int, int, float]]] = {SEASONAL: [], DAMPED: []}  # (series, origin, scale)
    for i, (y, spec) in enumerate(zip(series, specs)):
        for origin in (len(y) - horizon - SEASON * k for k in range(BACKTEST_ORIGINS)):
            scale = np.abs(y[SEASON:origin] - y[:origin - SEASON]).mean() if origin >= 3 * SEASON else 0.0
            if scale > 0 and spec in rows:  # a constant series is SIMPLE, and its every origin's scale 0
                rows[spec].append((i, origin, scale))
    model_scores, naive_scores = [[] for _ in series], [[] for _ in series]
    for spec, scored in rows.items():
        fits = fit_many(spec, [series[i] for i, _, _ in scored], [origin for _, origin, _ in scored], horizon,
                        origin_grids(spec, series, [(i, origin) for i, origin, _ in scored]))
        for (i, origin, scale), fit in zip(scored, fits):
            train, actual = series[i][:origin], series[i][origin:origin + horizon]
            model_scores[i].append(np.abs(actual - np.maximum(fit[0], 0)).mean() / scale)
            naive_scores[i].append(np.abs(actual - seasonal_naive(train, horizon)).mean() / scale)
    return [Backtest(mase=round(float(np.mean(model)), 4), seasonal_naive_mase=round(float(np.mean(naive)), 4),
                     origins=len(model), horizon_days=horizon) if model else None
            for model, naive in zip(model_scores, naive_scores)]


def origin_grids(spec: Spec, series: list[np.ndarray], origins: list[tuple[int, int]]):
    """ets.grid_best per (series, origin), one run over each series for all its origins: a run per origin was ~6% of
    the recursion's work on a year of days, the same first days run four times."""
    by_series: dict[int, list[int]] = {}
    for i, origin in origins:
        by_series.setdefault(i, []).append(origin)
    found = {}
    order = sorted(by_series, key=lambda i: max(by_series[i]))
    for batch in (order[k:k + BATCH] for k in range(0, len(order), BATCH)):
        ends = np.array([(by_series[i] * BACKTEST_ORIGINS)[:BACKTEST_ORIGINS] for i in batch])  # repeats if fewer
        y = np.zeros((len(batch), int(ends.max())))
        for row, (i, days) in enumerate(zip(batch, ends.max(axis=1))):
            y[row, :days] = series[i][:days]
        raw, score = ets.grid_best(spec, y, ends)
        for row, i in enumerate(batch):
            for k, origin in enumerate(by_series[i]):
                found[i, origin] = raw[row, k], score[row, k]
    return [found[i, origin] for i, origin in origins]


STORE_CHUNK = 4_096  # stored campaigns read and fitted together: their series held at once, not every campaign's


def stored_forecast(rt, horizon: int, campaign_ids: list[str] | None = None) -> ForecastResult:
    """The forecast of the stored campaigns (those named, in that order; else every one, by id) from their stored
    days as the daily run reads them: several reads at a time, each campaign's days checked once (read_days), then
    held as arrays only. A campaign named that does not exist is a NotFoundError; one whose metrics are damaged is
    logged and gets no forecast, its note naming the damage, the others forecast."""
    from affiliate_matrix.budget.campaigns import list_campaigns, load_campaign
    from affiliate_matrix.documents import together

    if not 1 <= horizon <= 366:
        raise InvalidInput(f"horizon: {horizon} is not between 1 and 366 days")
    if campaign_ids is None:
        currency_of = {c.id: c.currency for c in list_campaigns(rt.store)}
    else:
        currency_of = {c.id: c.currency for c, _ in together(lambda cid: load_campaign(rt.store, cid), campaign_ids)}
    ids = list(currency_of)
    forecasts = []
    for chunk in (ids[k:k + STORE_CHUNK] for k in range(0, len(ids), STORE_CHUNK)):
        read = list(together(lambda cid: stored_series(rt, cid), chunk))
        damaged = {i: s for i, s in enumerate(read) if isinstance(s, DamagedData)}
        fitted = [i for i in range(len(chunk)) if i not in damaged]
        results = dict(zip(fitted, series_forecasts([chunk[i] for i in fitted], [read[i] for i in fitted], horizon,
                                                    [currency_of[chunk[i]] for i in fitted])))
        forecasts += [results[i] if i in results else CampaignForecast(
            campaign_id=chunk[i], currency=currency_of[chunk[i]], model=None, revenue=[], conversions=[],
            note=f"no forecast: {damaged[i]}") for i in range(len(chunk))]
    return ForecastResult(horizon_days=horizon, interval=INTERVAL, forecasts=forecasts)


def stored_series(rt, campaign_id: str) -> "Series | DamagedData":
    """The campaign's stored days (the last MAX_HISTORY_DAYS) as a Series, or the DamagedData of its metrics, logged."""
    from affiliate_matrix.budget.campaigns import read_days, validated_days
    from affiliate_matrix.observability import log_damaged

    try:
        checked, written = read_days(rt.store, campaign_id)
        return daily_series(validated_days(campaign_id, written, days=MAX_HISTORY_DAYS, checked=checked))
    except DamagedData as exc:
        log_damaged(exc.where, str(exc))
        return exc
