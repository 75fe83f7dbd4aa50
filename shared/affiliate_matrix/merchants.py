"""One merchant across every network and directory: a row per source that lists it (its own
claims: commission parsed and verbatim, cookie, payout, network and join link), the best terms
per column marked, and the fields where sources disagree flagged."""

import json

from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document
from affiliate_matrix.search import MAX_PAGE, SearchQuery

COMPARED = ("commission", "commission_text", "cookie_days", "payout", "networks", "countries")
REPORTED = ("epc_7d", "approval_rate")  # a network's own figures: a row shows its own source's, none else


def _best_value(terms: list[dict], kind: str) -> float | None:
    values = [float(t["value_max"] if t.get("value_max") is not None else t["value_min"])
              for t in terms or [] if t.get("type") == kind and (t.get("value_max") or t.get("value_min")) is not None]
    return max(values) if values else None


def _cookie_rank(days) -> float:
    return float("inf") if days == -1 else -1 if days is None else float(days)


def _flat_by_currency(terms: list[dict]) -> dict[str, float]:
    best: dict[str, float] = {}
    for t in terms or []:
        value = t.get("value_max") if t.get("value_max") is not None else t.get("value_min")
        if t.get("type") == "flat" and value is not None:
            best[t["currency"]] = max(best.get(t["currency"], 0.0), float(value))
    return best


def _mark_best(rows: list[dict]) -> None:
    """Best percent, best flat amount within each currency (no exchange rates are assumed), longest cookie."""
    def mark(column, scores):
        top = max((s for s in scores if s is not None), default=None)
        for score, row in zip(scores, rows):
            if top is not None and score == top and column not in row["best"]:
                row["best"].append(column)

    mark("commission_percent", [_best_value(r["commission"], "percent") for r in rows])
    for currency in {c for r in rows for c in _flat_by_currency(r["commission"])}:
        mark("commission_flat", [_flat_by_currency(r["commission"]).get(currency) for r in rows])
    mark("cookie_days", [_cookie_rank(r["cookie_days"]) if r["cookie_days"] is not None else None for r in rows])


def merchant_view(index, merchant_key: str) -> dict:
    hits = index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"merchant_key": [merchant_key]}, size=100)).hits
    if not hits:
        raise NotFoundError(f"no program for merchant {merchant_key!r}")
    rows, conflicts = [], {}
    for program in (from_document(h.doc) for h in hits):
        claims: dict[str, dict] = {}
        for field in COMPARED + REPORTED:
            for claim in program.provenance.get(field, []):
                row = claims.setdefault(claim.source, {"source": claim.source, "url": claim.url,
                                                       "fetched_at": claim.fetched_at.isoformat()})
                row[field] = claim.value
        for row in claims.values():
            networks = row.get("networks") or []
            rows.append({
                "program_id": program.id, "kind": program.kind, "name": program.name, "source": row["source"],
                "url": row["url"], "seen_at": row["fetched_at"], "commission": row.get("commission") or [],
                "commission_text": row.get("commission_text"), "cookie_days": row.get("cookie_days"),
                "payout": row.get("payout"), "network": networks[0]["network"] if networks else None,
                "join_url": networks[0].get("join_url") if networks else None, "countries": row.get("countries") or [],
                "epc_7d": row.get("epc_7d"),
                "approval_rate": float(row["approval_rate"]) if row.get("approval_rate") is not None else None,
                "last_verified_at": program.last_verified_at.isoformat() if program.last_verified_at else None,
                "restrictions": program.restrictions, "best": []})
        for field in ("commission", "cookie_days", "payout"):
            said = {c.source: json.dumps(c.value, sort_keys=True) for c in program.provenance.get(field, [])}
            if len(set(said.values())) > 1:
                conflicts.setdefault(program.id, {})[field] = {s: json.loads(v) for s, v in said.items()}
    _mark_best(rows)
    first = from_document(hits[0].doc)
    return {"merchant_key": merchant_key, "merchant": first.merchant or first.name,
            "domain": first.merchant_domain, "rows": rows, "conflicts": conflicts}


# Programs find_merchants reads at most (a page at a time, MAX_PAGE each): the merchants and their counts are those of
# the most relevant this many, and the answer says how many matched in all.
MERCHANT_SCAN = 10_000


def find_merchants(index, text: str | None, limit: int = 20) -> dict:
    """Merchants whose programs match `text` (its last word as the start of a word too: "host" finds Hostinger),
    in the order of their most relevant program, each with how many matching programs it has and on which networks.

    Every match is read, a page at a time up to MERCHANT_SCAN, and only the first `limit` merchants are kept:
    `more` says there are others, `programs_counted` of `programs_matched` what the counts are over."""
    query = SearchQuery(text=text, prefix=True, size=MAX_PAGE)
    merchants: dict[str, dict] = {}
    more, counted = False, 0
    while True:
        result = index.search(PROGRAMS_INDEX.name, query)
        for hit in result.hits:
            entry = merchants.get(hit.doc["merchant_key"])
            if entry is None and len(merchants) >= limit:
                more = True
                continue
            if entry is None:
                entry = merchants[hit.doc["merchant_key"]] = {
                    "merchant_key": hit.doc["merchant_key"], "merchant": hit.doc.get("merchant") or hit.doc["name"],
                    "domain": hit.doc.get("merchant_domain"), "programs": 0, "networks": set()}
            entry["programs"] += 1
            entry["networks"].update(hit.doc.get("networks") or [])
        counted += len(result.hits)
        if result.next_cursor is None or counted >= MERCHANT_SCAN:
            break
        query = query.model_copy(update={"cursor": result.next_cursor})
    return {"items": [{**m, "networks": sorted(m["networks"])} for m in merchants.values()], "more": more,
            "programs_matched": result.total, "programs_counted": counted}
