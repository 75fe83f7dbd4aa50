"""The programs index: its spec (fields and how they are searched), the document a Program
becomes in it, and its search vocabulary (the names a search may filter, bound and sort by, and the
fields they stand for). The full Program rides along as a stored field, so a read needs no second store."""

from typing import TYPE_CHECKING

from affiliate_matrix.search import IndexSpec, SortKey

if TYPE_CHECKING:  # the models load on first use: a search request never needs them
    from affiliate_matrix.models import Program

PROGRAMS_INDEX = IndexSpec("programs", 3, {
    "id": "keyword",
    "name": "text",
    "merchant": "text",
    "description": "text",
    "merchant_key": "keyword",
    "merchant_domain": "keyword",
    "kind": "keyword",
    "status": "keyword",
    "categories": "keyword",
    "networks": "keyword",
    "countries": "keyword",
    "commission_types": "keyword",
    "commission_percent_max": "number",
    "commission_flat_max": "number",
    "cookie_days": "number",
    "payout_methods": "keyword",
    "quality_score": "number",
    "epc_7d": "number",
    "first_seen_at": "date",
    "last_seen_at": "date",
    "last_changed_at": "date",
    "last_verified_at": "date",
    "sources": "keyword",
    "program": "stored",
})


# A search's parameter -> the field it filters on (any of the values), or bounds from below.
FILTERS = {"category": "categories", "network": "networks", "country": "countries", "status": "status",
           "kind": "kind", "commission_type": "commission_types", "payout_method": "payout_methods",
           "source": "sources"}
MINIMUMS = {"min_commission_percent": "commission_percent_max", "min_commission_flat": "commission_flat_max",
            "min_cookie_days": "cookie_days"}
SORTS = {"relevance": [], "commission": [SortKey(field="commission_percent_max", order="desc"),
                                         SortKey(field="commission_flat_max", order="desc")],
         "cookie": [SortKey(field="cookie_days", order="desc")], "epc": [SortKey(field="epc_7d", order="desc")],
         "last_changed": [SortKey(field="last_changed_at", order="desc")], "name": [SortKey(field="name")]}
FACETS = ["categories", "networks", "countries", "commission_types", "payout_methods"]


def to_document(program: "Program") -> dict:
    def best(kind):
        values = [t.value_max if t.value_max is not None else t.value_min for t in program.commission if t.type == kind]
        return float(max(values)) if values else None

    return {
        "id": program.id,
        "name": program.name,
        "merchant": program.merchant,
        "description": program.description,
        "merchant_key": program.merchant_key,
        "merchant_domain": program.merchant_domain,
        "kind": program.kind,
        "status": program.status,
        "categories": program.categories,
        "networks": sorted({n.network for n in program.networks}),
        "countries": program.countries,
        "commission_types": sorted({t.type for t in program.commission}),
        "commission_percent_max": best("percent"),
        "commission_flat_max": best("flat"),
        "cookie_days": program.cookie_days,
        "payout_methods": program.payout.methods,
        "quality_score": program.quality_score,
        "epc_7d": float(program.epc_7d.amount) if program.epc_7d else None,
        "first_seen_at": program.first_seen_at.isoformat(),
        "last_seen_at": program.last_seen_at.isoformat(),
        "last_changed_at": program.last_changed_at.isoformat() if program.last_changed_at else None,
        "last_verified_at": program.last_verified_at.isoformat() if program.last_verified_at else None,
        "sources": sorted({claim.source for claims in program.provenance.values() for claim in claims}),
        "program": program.model_dump(mode="json"),
    }


def from_document(doc: dict) -> "Program":
    from affiliate_matrix.models import Program

    return Program.model_validate(doc["program"])
