"""The data of each event a rule can be triggered by, as the product writes it, which a dry run's event is held to
(`data_problem`): a field the product never writes (misspelt, or a figure the rule reads elsewhere:
`commission_percent_new` is the context's `delta`, not the event's) was tried as absent ("the delta has none"), and a
value of another type failed as a Python error (`ValueError: invalid literal for int()`). Each is refused naming the
field and what it must be. A field left out is absent, as in a delivery of such data: a dry run may give only what its
condition reads.

A program.delta's data is a DeltaChange (models.py) as the change feed holds it (deltas.feed_item, with its
`recorded_at`): each changed field one the index tracks (deltas.TRACKED), its old and new values of that field of a
Program (None where it had none). The others' are written as dicts where they are published (named beside each)."""

import json
from datetime import date, datetime
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ValidationError, create_model

from affiliate_matrix.model_types import Model


class KeyExpiring(Model):  # keys.py, run_checks
    path: str
    days: int
    expires_at: datetime
    rotation: str


class KeyRotated(Model):  # keys.py, _rotated
    path: str
    version: int


class KeyRotationFailed(Model):  # keys.py, _publish_failure
    path: str
    version: int | None
    reason: str
    failed: list[str]
    old_key_live: bool | None


class KeyRevoked(Model):  # keys.py, revoke
    path: str
    connections: list[str]


class SyncFailed(Model):  # handlers/scrape.py, announce_failure
    connection_id: str
    sync_id: str | None
    errors: list[str]


class BudgetPacing(Model):  # budget/run.py, check_pacing's alert
    campaign_id: str
    day: date
    allocated: float
    spent: float
    currency: str
    tolerance: float
    in_run: bool
    deviation: float  # not where nothing was allocated
    direction: Literal["over", "under"]


class BudgetAllocated(Model):  # budget/run.py, announce
    day: date
    strategy: str
    total_budget: str  # a decimal amount, as text
    currency: str
    campaigns: int
    run: str
    revision: int


class RawBatchStored(Model):  # pipeline.py, scrape; discovery/run.py
    batch_key: str
    connection_id: str
    records: int
    failures: int
    complete: bool  # a scrape's alone
    run: str | None = None  # an API sync's (sync.RUN), or the sync a replay read the answers of


def _delta():
    from affiliate_matrix.models import DeltaChange

    return create_model("DeltaData", __base__=DeltaChange, recorded_at=(datetime, ...))


EVENT_DATA = {"program.delta": _delta, "key.expiring": KeyExpiring, "key.rotated": KeyRotated,
              "key.rotation.failed": KeyRotationFailed, "key.revoked": KeyRevoked, "sync.failed": SyncFailed,
              "budget.pacing": BudgetPacing, "budget.allocated": BudgetAllocated, "raw.batch.stored": RawBatchStored}


@cache
def _given(trigger: str) -> type[BaseModel]:
    """The trigger's data model with every field optional (absent when left out), its type and bounds as they are."""
    model = EVENT_DATA[trigger]
    model = model if isinstance(model, type) else model()
    return create_model(f"{model.__name__}Given", __base__=Model, **{
        name: (_typed(info), None) for name, info in model.model_fields.items()})


def _typed(info):
    """A model field's type with its bounds (ge, le, max_length), without its default."""
    return Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation


@cache
def _changed_value(field: str):
    """The TypeAdapter of a tracked field's old or new value: the Program's field (a source record as the feed
    lists it, its source and its id there), or None where it had none."""
    from pydantic import TypeAdapter

    from affiliate_matrix.models import Program

    if field == "records":
        return TypeAdapter(list[create_model("ListedRecord", __base__=Model, source=(str, ...),
                                             record_key=(str, ...))] | None)
    return TypeAdapter(_typed(Program.model_fields[field]) | None)


def data_problem(trigger: str, data: dict) -> str | None:
    """What is wrong with a `trigger` event's data (program.delta, key.expiring, …) as the product writes it, naming
    the field and what it must be; None when nothing is."""
    from affiliate_matrix.deltas import TRACKED

    model = _given(trigger)
    if unknown := sorted(set(data) - set(model.model_fields)):
        return (f"data.{unknown[0][:80]}: not in a {trigger} event's data, which holds "
                f"{', '.join(model.model_fields)}" + (" (a changed field's old and new values are in fields, as "
                                                       "{field, old, new})" if trigger == "program.delta" else ""))
    if problem := _wrong(model, data, "data"):
        return problem
    for at, change in enumerate(data.get("fields") or []):
        if change["field"] not in TRACKED:
            return (f"data.fields.{at}.field: {change['field'][:80]!r} is no field a program.delta changes: one of "
                    f"{', '.join(TRACKED)}")
        for side in ("old", "new"):
            if problem := _wrong(_changed_value(change["field"]), change.get(side), f"data.fields.{at}.{side}"):
                return problem
    return None


def _wrong(model, value, where: str) -> str | None:
    """The first thing wrong with `value` as JSON types it (strict, in JSON mode: "7" is no number; a date, a time or
    an amount is read from its text, as the API reads a body), named from `where`."""
    text = json.dumps(value)
    try:
        if isinstance(model, type):
            model.model_validate_json(text, strict=True)
        else:
            model.validate_json(text, strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        # a union's branch (list[...], function-after[...]) is no place in the data
        loc = [str(part) for part in first["loc"] if not str(part).endswith("]")]
        return f"{'.'.join([where, *loc])[:200]}: {first['msg'].removeprefix('Value error, ')}"
    return None
