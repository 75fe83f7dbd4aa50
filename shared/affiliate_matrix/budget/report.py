"""`amx budget report`: PNG figures and a text summary, and the same figures as documents in the
`budget` index for OpenSearch Dashboards.

    allocation.png   allocations over time, one band per campaign (a panel per currency)
    response.png     spend vs revenue per campaign with its fitted response curve and 80% band
    forecast.png     revenue history per campaign with its forecast and 80% band
    summary.txt      what the figures say, in words

Panels are framed in FRAME_COLOUR so a test can count them in the rendered image.
"""

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from affiliate_matrix.budget.campaigns import history, list_campaigns
from affiliate_matrix.budget.mirror import mirror
from affiliate_matrix.budget.curves import Histories, fit
from affiliate_matrix.budget.forecast import campaign_forecasts
from affiliate_matrix.budget.model_types import money_text
from affiliate_matrix.budget.models import MAX_HISTORY_DAYS, CampaignHistory
from affiliate_matrix.budget.run import RunResult, list_runs, load_run
from affiliate_matrix.documents import readable
from affiliate_matrix.files import whole_or_not_at_all
from affiliate_matrix.wording import counted

MAX_PANELS = 12       # campaigns shown per figure: the largest spenders
FRAME_COLOUR = "#1f3a5f"
HORIZON = 14


def _history(rt, campaign_id: str) -> list[dict]:
    """A campaign's last days; damaged metrics are logged and shown as no history, the other campaigns reported."""
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.observability import log_damaged

    try:
        return history(rt.store, campaign_id, days=MAX_HISTORY_DAYS)
    except DamagedData as exc:
        log_damaged(exc.where, str(exc))
        return []


@dataclass
class Report:
    files: list[Path]
    campaigns: int
    panels: dict[str, int]
    summary: str


def report(rt, out: Path, horizon: int = HORIZON) -> Report:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    campaigns = list_campaigns(rt.store)
    currency = {c.id: c.currency for c in campaigns}
    # The largest spenders, read one campaign at a time and only they kept (every campaign's history was held at once:
    # 20,000 campaigns of a year each, gigabytes); the last days a forecast reads (MAX_HISTORY_DAYS): a campaign's
    # whole history may be longer than its contract takes. nsmallest is sorted()[:n], ties in the campaigns' order.
    shown = heapq.nsmallest(MAX_PANELS, (CampaignHistory(id=c.id, history=_history(rt, c.id)) for c in campaigns),
                            key=lambda h: -sum(d["spend"] for d in h.history))
    out.mkdir(parents=True, exist_ok=True)
    plt.rcParams.update({"axes.edgecolor": FRAME_COLOUR, "axes.linewidth": 1.6, "font.size": 8})
    documents, lines = [], []

    allocations = allocations_over_time(rt)
    # a panel per currency: amounts in different currencies are never stacked (there are no exchange rates)
    figure, grid = plt.subplots(max(len(allocations), 1), 1, figsize=(9, 4 * max(len(allocations), 1)), squeeze=False)
    for (code, (days, ids, amounts, latest)), axes in zip(allocations.items(), grid.flat):
        if len(days) > 1:
            axes.stackplot(days, amounts, labels=ids)
        else:  # one run, a day's first: an area over one day has no width, and the panel showed nothing but its legend
            bottoms = np.concatenate(([0.0], np.cumsum(amounts[:, 0])[:-1]))
            for label, amount, bottom in zip(ids, amounts[:, 0], bottoms):
                axes.bar(days, [amount], bottom=bottom, label=label, width=0.8)
            axes.set_xticks(days, [str(day) for day in days])  # the day, not its hours
        axes.legend(loc="upper left", fontsize=6, ncol=4)
        axes.set_title(f"Daily allocation by campaign ({code})")
        runs = counted(len(days), "allocation run")
        lines.append(f"{runs}, {days[0]} to {days[-1]}; latest strategy "
                     f"{latest.strategy} in {code}: {latest.explanation}")
        if len(ids) < len(latest.allocations):
            lines.append(f"The {code} allocation panel shows the latest run's {MAX_PANELS} largest allocations and "
                         f"{ids[-1]} together.")
    if not allocations:
        axes = grid[0][0]
        axes.text(0.5, 0.5, "no allocation runs yet", ha="center", transform=axes.transAxes)
        axes.set_title("Daily allocation by campaign")
        lines.append("No allocation runs yet.")
    files = [_save(figure, out / "allocation.png")]

    posterior = fit(Histories.of(shown), fallback_scale=1.0) if shown else None
    figure, grid = _panels(plt, len(shown))
    for i, (campaign, axes) in enumerate(zip(shown, grid)):
        spend = np.array([d["spend"] for d in campaign.history])
        revenue = np.array([d["revenue"] for d in campaign.history])
        axes.scatter(spend, revenue, s=6, alpha=0.6)
        if posterior is not None and posterior.informed[i]:
            xs = np.linspace(0, max(spend.max(), 1.0) * 1.5, 60)
            row = _single(posterior, i, len(xs))
            mean, low, high = row.expected(xs)
            axes.plot(xs, mean, color="C1")
            axes.fill_between(xs, low, high, color="C1", alpha=0.2)
            documents += [{"id": f"curve:{campaign.id}:{k}", "kind": "curve", "campaign_id": campaign.id,
                           "currency": currency[campaign.id], "spend": float(x), "expected_revenue": float(m),
                           "expected_low": float(lo), "expected_high": float(hi), "at": datetime.now(UTC).isoformat()}
                          for k, (x, m, lo, hi) in enumerate(zip(xs[::6], mean[::6], low[::6], high[::6]))]
        axes.set_title(f"{campaign.id}: revenue vs spend")
    files.append(_save(figure, out / "response.png"))

    figure, grid = _panels(plt, len(shown))
    for campaign, axes, result in zip(shown, grid, campaign_forecasts(shown, horizon)):  # fitted together
        days = [d["date"] for d in campaign.history]
        axes.plot(days, [d["revenue"] for d in campaign.history], lw=1)
        if result.revenue:
            axes.plot([p.date for p in result.revenue], [p.value for p in result.revenue], color="C1")
            axes.fill_between([p.date for p in result.revenue], [p.low for p in result.revenue],
                              [p.high for p in result.revenue], color="C1", alpha=0.2)
            documents += [{"id": f"forecast:{campaign.id}:{p.date}", "kind": "forecast", "campaign_id": campaign.id,
                           "currency": currency[campaign.id], "date": p.date.isoformat(), "expected_revenue": p.value,
                           "expected_low": p.low, "expected_high": p.high, "at": datetime.now(UTC).isoformat()}
                          for p in result.revenue]
            total = sum(p.value for p in result.revenue)
            score = f", backtest MASE {result.backtest.mase:.2f}" if result.backtest else ""
            note = f" ({result.note})" if result.note else ""
            forecast = money_text(total, currency[campaign.id])  # as amx budget forecast writes it: to the cent
            lines.append(f"{campaign.id}: {result.model} forecasts {forecast} revenue over {counted(horizon, 'day')}"
                         f"{score}{note}.")
        else:
            lines.append(f"{campaign.id}: no forecast ({result.note}).")
        axes.set_title(f"{campaign.id}: revenue forecast")
        axes.tick_params(axis="x", labelrotation=30)
    files.append(_save(figure, out / "forecast.png"))

    lines += _programs_not_indexed(rt, campaigns)
    summary = "\n".join(lines) + "\n"
    with whole_or_not_at_all(out / "summary.txt") as partial:
        Path(partial).write_text(summary)
    files.append(out / "summary.txt")
    if documents:
        mirror(rt, documents)
    return Report(files, len(campaigns), {"allocation.png": max(len(allocations), 1), "response.png": len(shown),
                                          "forecast.png": len(shown)}, summary)


def _programs_not_indexed(rt, campaigns, most: int = 20) -> list[str]:
    """The summary's lines on the programs campaigns name that the index does not hold or holds damaged (kept as
    stored), the first `most` campaigns' of each named."""
    from affiliate_matrix.budget.campaigns import NOT_INDEXED, damaged_programs_said, programs_not_indexed
    from affiliate_matrix.errors import BackendUnavailable

    try:
        missing, damaged = programs_not_indexed(rt, campaigns)
    except BackendUnavailable as exc:
        return [f"The campaigns' programs were not checked: the programs index did not answer ({exc})."]
    lines = []
    for named, said in ((missing, lambda cid, programs: f"{cid} names programs {NOT_INDEXED}: "
                                                         f"{', '.join(p[:80] for p in programs)}"),
                        (damaged, damaged_programs_said)):
        lines += [f"{said(campaign_id, programs)}." for campaign_id, programs in list(named.items())[:most]]
        if len(named) > most:
            lines.append(f"… and {len(named) - most:,} more campaigns (`amx budget campaigns list` names them all).")
    return lines


def allocations_over_time(rt) -> dict:
    """For each currency of any readable run, the stored runs' allocations in it as (days, band labels, amounts per
    band and day, the result of the newest run with that currency); empty without a readable run. A currency's bands
    are a band per campaign of the newest run that has it, in its order; past MAX_PANELS campaigns, the MAX_PANELS
    largest of its allocations and one band for the others. A currency no longer allocated (its campaigns ended)
    keeps its panel, zero on the days after. Each run is read for its allocations only and dropped once its columns
    are filled (every run was held whole, inputs and all, and each amount looked up by a scan of its run's
    allocations: campaigns × runs × campaigns)."""
    # newest first, so the newest run with a currency fixes its bands; a damaged run: logged, left out
    loaded = readable(reversed(list_runs(rt.store)), lambda day: (day, load_run(rt.store, day, RunResult)))
    bands, columns, days = {}, {}, []
    for day, run in loaded:
        for part in run.parts:
            code = part.request.currency
            if code not in bands:
                bands[code] = _bands(part.result)
                columns[code] = [np.zeros(len(bands[code][1])) for _ in days]  # the newer days had none in it
        days.append(day)
        for code, (band, labels, other, _) in bands.items():
            column = np.zeros(len(labels))
            for part in run.parts:
                if part.request.currency != code:
                    continue
                for a in part.result.allocations:
                    i = band.get(a.campaign_id, other)
                    if i is not None:
                        column[i] += a.amount
            columns[code].append(column)
    return {code: (days[::-1], labels, np.array(columns[code][::-1]).T, latest)
            for code, (_, labels, _, latest) in bands.items()}


def _bands(latest) -> tuple[dict, list, int | None, object]:
    """A currency's bands from its newest run's result: campaign to band index, the labels, the index of the others'
    band (None when every campaign has its own), and that result."""
    ids = [a.campaign_id for a in latest.allocations]
    if len(ids) <= MAX_PANELS:
        return {cid: i for i, cid in enumerate(ids)}, ids, None, latest
    largest = sorted(latest.allocations, key=lambda a: -a.amount)[:MAX_PANELS]
    labels = [a.campaign_id for a in largest] + [f"{len(ids) - MAX_PANELS:,} others"]
    return {a.campaign_id: i for i, a in enumerate(largest)}, labels, MAX_PANELS, latest


def _panels(plt, count: int):
    columns = min(3, max(count, 1))
    rows = max(1, -(-count // columns))
    figure, grid = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    flat = list(grid.flat)
    for axes in flat[count:]:
        axes.remove()
    return figure, flat[:count]


def _single(posterior, i: int, width: int):
    """The posterior of campaign i repeated `width` times, to evaluate its curve at many spends at once."""
    from affiliate_matrix.budget.curves import Posterior

    pick = np.full(width, i)
    return Posterior(posterior.scale[pick], posterior.weights[pick], posterior.a[pick], posterior.a_se[pick],
                     posterior.informed[pick])


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    with whole_or_not_at_all(path) as partial:
        figure.savefig(partial, dpi=90, format="png")
    from matplotlib import pyplot as plt

    plt.close(figure)
    return path
