"""What changed: field-level differences between what the index held and what a run produced.

A delta's id is derived from the program, the change and the observation time, so re-running
the same batch records nothing new, and an event delivered twice names the same delta.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from affiliate_matrix.search import IndexSpec

if TYPE_CHECKING:  # the models load on first use: reading the change feed never needs them
    from affiliate_matrix.models import DeltaChange, Program

# The fields whose changes users act on; provenance, quality and timestamps are bookkeeping.
TRACKED = ("name", "kind", "merchant_domain", "status", "categories", "networks", "commission", "commission_text",
           "cookie_days", "payout", "countries", "excluded_countries", "restrictions", "epc_7d", "epc_90d",
           "approval_rate", "terms_url")

DELTAS_INDEX = IndexSpec("deltas", 1, {
    "id": "keyword",
    "program_id": "keyword",
    "change": "keyword",
    "fields": "keyword",
    "at": "date",
    "source": "keyword",
    "delta": "stored",
})


def diff(old: "Program | None", new: "Program", *, at: datetime, source: str) -> "DeltaChange | None":
    from affiliate_matrix.models import DeltaChange, FieldChange

    new_values = new.model_dump(mode="json", include=set(TRACKED))
    if old is None:
        changes = [FieldChange(field=f, new=new_values[f]) for f in TRACKED if new_values[f] not in (None, [], {})]
        change = "created"
    else:
        old_values = old.model_dump(mode="json", include=set(TRACKED))
        changes = [FieldChange(field=f, old=old_values[f], new=new_values[f]) for f in TRACKED
                   if old_values[f] != new_values[f]]
        change = "removed" if new.status == "removed" and old.status != "removed" else "updated"
        if not changes:
            return None
    return DeltaChange(id=DeltaChange.make_id(new.id, change, changes, at), program_id=new.id, change=change,
                       fields=changes, at=at, source=source)


def to_document(delta: "DeltaChange") -> dict:
    return {"id": delta.id, "program_id": delta.program_id, "change": delta.change,
            "fields": [f.field for f in delta.fields], "at": delta.at.isoformat(), "source": delta.source,
            "delta": delta.model_dump(mode="json")}
