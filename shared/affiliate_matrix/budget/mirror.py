"""The budget index the dashboards read: campaigns' days, allocations (run.py), pacing alerts (run.py: `amount`
allocated, `spend` spent) and the report's curves and forecasts, mirrored from the object store (which stays the
truth). Apart from campaigns.py so reading campaigns does not load the
search port."""

from collections.abc import Iterable
from itertools import islice

from affiliate_matrix.search import IndexSpec, migrate_first

# v2 adds `currency` (a campaign's, on its days, allocations and pacing alerts): campaigns in several currencies
# share the index, and a dashboard adds amounts up within one currency only. v1's documents are copied as they are.
BUDGET_INDEX = IndexSpec("budget", 2, {
    "id": "keyword", "kind": "keyword", "campaign_id": "keyword", "channel": "keyword", "currency": "keyword",
    "date": "date",
    "spend": "number", "clicks": "number", "conversions": "number", "revenue": "number", "roas": "number",
    "amount": "number", "expected_revenue": "number", "expected_low": "number", "expected_high": "number",
    "strategy": "keyword", "run_id": "keyword", "at": "date",
})


MIRROR_BATCH = 1_000  # documents a bulk request: an import's million days in one took ~600 bytes each at once


def mirror(rt, documents: Iterable[dict]) -> None:
    """Documents written to the budget index, MIRROR_BATCH at a time; those it refuses are logged (the store stays the
    truth; one refused for a field the live index lacks, `currency` on v1, names the migration)."""
    rt.index.ensure_index(BUDGET_INDEX)
    refused, first = 0, None
    documents = iter(documents)
    while batch := list(islice(documents, MIRROR_BATCH)):
        errors = rt.index.bulk_upsert(BUDGET_INDEX.name, batch, refresh=True).errors
        refused, first = refused + len(errors), first if first is not None or not errors else errors[0]
    if refused:
        from affiliate_matrix.observability import get_logger

        live = rt.index.status(BUDGET_INDEX.name).current  # behind the code (v1 has no currency): named
        behind = {"hint": migrate_first(BUDGET_INDEX.name, live, BUDGET_INDEX.version)} \
            if live < BUDGET_INDEX.version else {}
        get_logger().error("budget.mirror_refused", documents=refused, first=str(first)[:300], **behind)


def mirror_days(rt, campaign, days: dict[str, dict]) -> None:
    """A campaign's days, by ISO date."""
    mirror(rt, ({
        "id": f"day:{campaign.id}:{day}", "kind": "day", "campaign_id": campaign.id,
        "channel": campaign.channel, "currency": campaign.currency, "date": day, "spend": row["spend"],
        "clicks": row.get("clicks", 0), "conversions": row.get("conversions", 0), "revenue": row["revenue"],
        "roas": roas(row["revenue"], row["spend"]),
    } for day, row in days.items()))


def roas(revenue: float, spend: float) -> float | None:
    """Revenue over spend; None without spend, or past a float's range (10 over a spend of 5e-324: inf, which JSON and
    OpenSearch have no number for)."""
    ratio = revenue / spend if spend else None
    return ratio if ratio is None or ratio < float("inf") else None
