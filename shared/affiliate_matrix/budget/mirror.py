"""The budget index the dashboards read: campaigns' days, allocations (run.py), pacing alerts (run.py: `amount`
allocated, `spend` spent) and the report's curves and forecasts, mirrored from the object store (which stays the
truth). Apart from campaigns.py so reading campaigns does not load the
search port."""

from affiliate_matrix.search import IndexSpec

BUDGET_INDEX = IndexSpec("budget", 1, {
    "id": "keyword", "kind": "keyword", "campaign_id": "keyword", "channel": "keyword", "date": "date",
    "spend": "number", "clicks": "number", "conversions": "number", "revenue": "number", "roas": "number",
    "amount": "number", "expected_revenue": "number", "expected_low": "number", "expected_high": "number",
    "strategy": "keyword", "run_id": "keyword", "at": "date",
})


def mirror_days(rt, campaign, rows: list[dict]) -> None:
    rt.index.ensure_index(BUDGET_INDEX)
    rt.index.bulk_upsert(BUDGET_INDEX.name, [{
        "id": f"day:{campaign.id}:{row['date']}", "kind": "day", "campaign_id": campaign.id,
        "channel": campaign.channel, "date": row["date"], "spend": row["spend"], "clicks": row.get("clicks", 0),
        "conversions": row.get("conversions", 0), "revenue": row["revenue"],
        "roas": row["revenue"] / row["spend"] if row["spend"] else None,
    } for row in rows], refresh=True)
