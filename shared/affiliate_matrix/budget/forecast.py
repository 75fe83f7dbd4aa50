"""Daily revenue and conversions forecasts per campaign with prediction intervals, from statsmodels'
ETS (exponential smoothing state-space models), and a rolling-origin backtest scored by MASE
against a seasonal-naive forecast.

Two weeks of history or more: additive weekly seasonality, with or without a damped trend (the
lower AICc wins); three days to two weeks: simple exponential smoothing, its band at least a new day's interval
from the days as a sample; less: no forecast. Without a backtest (under about four weeks) the note says so.
Days missing from a history count as days without activity (zero), so a forecast reads the last
MAX_HISTORY_DAYS days of the calendar only (a history spanning centuries was a series as long, minutes to
fit), and the note says when older days were left out. A forecast that would run past 9999-12-31 is none.
"""

import warnings
from datetime import date, timedelta

import numpy as np

from affiliate_matrix.budget.models import (
    MAX_HISTORY_DAYS, Backtest, CampaignForecast, ForecastPoint, ForecastRequest, ForecastResult,
)

SEASON = 7
INTERVAL = 0.8
MIN_DAYS = 3
BACKTEST_ORIGINS = 4


def forecast(request: ForecastRequest) -> ForecastResult:
    return ForecastResult(horizon_days=request.horizon_days, interval=INTERVAL,
                          forecasts=[campaign_forecast(c, request.horizon_days) for c in request.campaigns])


def campaign_forecast(campaign, horizon: int) -> CampaignForecast:
    start, revenue, conversions = daily_series(campaign.history)
    if len(revenue) < MIN_DAYS:
        return CampaignForecast(campaign_id=campaign.id, model=None, revenue=[], conversions=[],
                                note=f"{len(revenue)} day(s) of history; a forecast needs {MIN_DAYS}")
    last = start + timedelta(days=len(revenue) - 1)
    if (date.max - last).days < horizon:
        return CampaignForecast(campaign_id=campaign.id, model=None, revenue=[], conversions=[],
                                note=f"a forecast of {horizon} days after {last} would run past {date.max}")
    spec, fitted = choose(revenue)
    first = last + timedelta(days=1)
    scored = backtest(revenue, spec, min(horizon, SEASON))
    notes = []
    if min(d["date"] for d in campaign.history) < start:
        notes.append(f"read from {start}: only the last {MAX_HISTORY_DAYS:,} days of its history count")
    needed = 3 * SEASON + min(horizon, SEASON)
    if scored is None and len(revenue) < needed:
        notes.append(f"{len(revenue)} days of history: no backtest (it needs {needed}), so the model's accuracy is "
                     f"unmeasured")
    elif scored is None:
        notes.append("no backtest: the revenue repeats exactly week on week, so there is no error to scale by")
    # A campaign whose days never report conversions has no conversions forecast: its missing counts read as zeros
    # made one of exactly 0, band 0-0.
    reported = any("conversions" in d for d in campaign.history)
    if not reported:
        notes.append("no day reports conversions, so none are forecast")
    return CampaignForecast(
        campaign_id=campaign.id, model=label(spec),
        revenue=points(first, *predict(revenue, fitted, horizon)),
        conversions=points(first, *predict(conversions, choose(conversions)[1], horizon)) if reported else [],
        backtest=scored, note="; ".join(notes) or None)


def daily_series(history) -> tuple[date | None, np.ndarray, np.ndarray]:
    if not history:
        return None, np.zeros(0), np.zeros(0)
    days = sorted(history, key=lambda d: d["date"])
    oldest = days[-1]["date"].toordinal() - MAX_HISTORY_DAYS + 1  # the calendar's last MAX_HISTORY_DAYS days
    days = [d for d in days if d["date"].toordinal() >= oldest]
    start = days[0]["date"]
    length = (days[-1]["date"] - start).days + 1
    revenue, conversions = np.zeros(length), np.zeros(length)
    for d in days:
        offset = (d["date"] - start).days
        revenue[offset], conversions[offset] = d["revenue"], d.get("conversions", 0.0)
    return start, revenue, conversions


def choose(y: np.ndarray) -> tuple[dict, object]:
    """The ETS form for a series and its fit: seasonal when there are two full weeks, the damped trend
    only if AICc says so."""
    simple = {"trend": None, "seasonal": None}
    if len(y) < 2 * SEASON:
        return simple, fit(y, simple)
    candidates = [{"trend": None, "seasonal": "add"}, {"trend": "add", "damped_trend": True, "seasonal": "add"}]
    scored = [(fitted.aicc, i, spec, fitted) for i, spec in enumerate(candidates)
              if (fitted := fit(y, spec)) is not None]
    if not scored:
        return simple, None
    _, _, spec, fitted = min(scored, key=lambda row: row[:2])
    return spec, fitted


def label(spec: dict) -> str:
    trend = "Ad" if spec.get("damped_trend") else "A" if spec["trend"] else "N"
    return f"ETS(A,{trend},{'A' if spec['seasonal'] else 'N'})"


def fit(y: np.ndarray, spec: dict):
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if np.ptp(y) == 0:
        return None  # a constant series has no error to model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from the optimiser; the result is still usable
        try:
            return ETSModel(pd.Series(y), error="add", seasonal_periods=SEASON if spec["seasonal"] else None,
                            **spec).fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            return None


def predict(y: np.ndarray, fitted, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and interval bounds, clipped at zero; a series ETS cannot fit (constant) stays at its last week's level."""
    if fitted is None:
        level = np.full(horizon, float(y[-SEASON:].mean()))
        return level, level, level
    frame = fitted.get_prediction(start=len(y), end=len(y) + horizon - 1).summary_frame(alpha=1 - INTERVAL)
    mean, low, high = frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()
    if len(y) < 2 * SEASON:
        # Under two weeks ETS's error, estimated from as many residuals, made the band narrower than the days' own
        # spread (300, 310, 305: 299.8-310.2 for a week). At least a new day's interval from the days taken as a
        # sample (Student's t, n - 1 degrees of freedom).
        from scipy.stats import t

        width = t.ppf(0.5 + INTERVAL / 2, len(y) - 1) * y.std(ddof=1) * np.sqrt(1 + 1 / len(y))
        low, high = np.minimum(low, mean - width), np.maximum(high, mean + width)
    return np.maximum(mean, 0), np.maximum(low, 0), np.maximum(high, 0)


def points(first: date, mean, low, high) -> list[ForecastPoint]:
    return [ForecastPoint(date=first + timedelta(days=i), value=round(float(m), 2), low=round(float(lo), 2),
                          high=round(float(hi), 2)) for i, (m, lo, hi) in enumerate(zip(mean, low, high))]


def seasonal_naive(train: np.ndarray, horizon: int) -> np.ndarray:
    return np.array([train[len(train) - SEASON + (h % SEASON)] for h in range(horizon)])


def backtest(y: np.ndarray, spec: dict, horizon: int) -> Backtest | None:
    """Refit at up to four origins a week apart and score the next `horizon` days by MASE (scaled by the
    in-sample seasonal-naive error), for the model and for seasonal naive itself."""
    origins = [o for o in (len(y) - horizon - SEASON * i for i in range(BACKTEST_ORIGINS)) if o >= 3 * SEASON]
    model_scores, naive_scores = [], []
    for origin in origins:
        train, actual = y[:origin], y[origin:origin + horizon]
        scale = np.abs(train[SEASON:] - train[:-SEASON]).mean()
        if scale == 0:
            continue
        mean, _, _ = predict(train, fit(train, spec), horizon)
        model_scores.append(np.abs(actual - mean).mean() / scale)
        naive_scores.append(np.abs(actual - seasonal_naive(train, horizon)).mean() / scale)
    if not model_scores:
        return None
    return Backtest(mase=round(float(np.mean(model_scores)), 4), seasonal_naive_mase=round(float(np.mean(naive_scores)), 4),
                    origins=len(model_scores), horizon_days=horizon)
