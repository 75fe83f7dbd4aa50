"""What changed: field-level differences between what the index held and what a run produced.

A delta's id is derived from the program, the change and the observation time, so re-running
the same batch records nothing new, and an event delivered twice names the same delta.

A delta's document also carries `recorded_at`, when it was written to the index (the indexing code's clock at the
write, `clock`): the change feed is ordered by it and `since` filters on it, so a batch indexed late (a long crawl,
a redelivered event, a replay) is found by a reader polling `since` the newest `recorded_at` it has read, however
early its changes were observed (`at`). Writing the same delta again (same id, a re-run) moves its `recorded_at`:
the feed is at-least-once, and a reader deduplicates by id.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from affiliate_matrix.search import IndexSpec
from affiliate_matrix.wording import ending_in_z

if TYPE_CHECKING:  # the models load on first use: reading the change feed never needs them
    from affiliate_matrix.models import DeltaChange, Program

# The fields whose changes users act on; provenance, quality and timestamps are bookkeeping.
TRACKED = ("name", "kind", "merchant_domain", "status", "categories", "networks", "commission", "commission_text",
           "cookie_days", "payout", "countries", "excluded_countries", "restrictions", "epc_7d", "epc_90d",
           "approval_rate", "terms_url", "records")


def _tracked(program: "Program") -> dict:
    """The tracked fields' values as the feed shows them. A source record is its source and the source's own id: a
    program gaining or losing one is a change (a source lists it now, an offer was dropped), while the batch it was
    last read from and the page it was read on move with every run (an API's page number) and are bookkeeping."""
    values = program.model_dump(mode="json", include=set(TRACKED) - {"records"})
    values["records"] = [{"source": source, "record_key": key}
                         for source, key in sorted({(r.source, r.record_key) for r in program.records})]
    return values


def clock() -> datetime:
    """When a delta is recorded: the indexing code's clock at the write, a record of when and never a decision.
    Tests set it to a clock of their own (tests/support/clock.py: ManualWallClock)."""
    return datetime.now(UTC)


def _recorded_when_observed(doc: dict) -> dict:
    """A v1 document, written before deltas carried when they were recorded: its observation time stands in, the
    order the v1 feed had (a v1 document is older than any written since, which the deploying code records now)."""
    return {**doc, "recorded_at": doc.get("recorded_at") or doc["at"]}


# v2: recorded_at, when the delta was written (the feed's order and `since`); `amx index migrate deltas` fills it
# with `at` for the documents v1 holds.
DELTAS_INDEX = IndexSpec("deltas", 2, {
    "id": "keyword",
    "program_id": "keyword",
    "change": "keyword",
    "fields": "keyword",
    "at": "date",
    "recorded_at": "date",
    "source": "keyword",
    "delta": "stored",
}, upgrade=_recorded_when_observed)


def diff(old: "Program | None", new: "Program", *, at: datetime, source: str) -> "DeltaChange | None":
    from affiliate_matrix.models import DeltaChange, FieldChange

    new_values = _tracked(new)
    if old is None:
        changes = [FieldChange(field=f, new=new_values[f]) for f in TRACKED if _stated(new_values[f])]
        change = "created"
    else:
        old_values = _tracked(old)
        if not old.records:  # indexed before programs listed their records: gaining them at a sighting is no change
            old_values["records"] = new_values["records"]
        changes = [FieldChange(field=f, old=old_values[f], new=new_values[f]) for f in TRACKED
                   if old_values[f] != new_values[f]]
        change = "removed" if new.status == "removed" and old.status != "removed" else "updated"
        if not changes:
            return None
    return DeltaChange(id=DeltaChange.make_id(new.id, change, changes, at), program_id=new.id, change=change,
                       fields=changes, at=at, source=source)


def _stated(value) -> bool:
    """What a program just created says of a field: a value, not none, an empty list or an object of nothing (a
    payout with no method, frequency or minimum, a program's default, was a created change's "payout — → —")."""
    if isinstance(value, dict):
        return any(map(_stated, value.values()))
    return value not in (None, [])


def to_document(delta: "DeltaChange", recorded_at: datetime | None = None) -> dict:
    """The delta's document, recorded at `recorded_at` (by default `clock()`, now)."""
    recorded_at = recorded_at or clock()
    return {"id": delta.id, "program_id": delta.program_id, "change": delta.change,
            "fields": [f.field for f in delta.fields], "at": delta.at.isoformat(),
            "recorded_at": recorded_at.isoformat(), "source": delta.source, "delta": delta.model_dump(mode="json")}


def feed_item(doc: dict) -> dict:
    """A delta of the change feed as its document holds it, with when it was recorded (a v1 document not yet
    migrated has none: its observation time stands in, as the migration writes it)."""
    recorded_at = datetime.fromisoformat(doc.get("recorded_at") or doc["at"]).astimezone(UTC)
    return {**doc["delta"], "recorded_at": ending_in_z(recorded_at.isoformat())}  # as the delta's `at`
