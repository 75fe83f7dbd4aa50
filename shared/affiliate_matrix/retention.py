"""Document retention for the time-stamped indices (deltas, metrics, activations, queries): the
index function's daily cron deletes what is older than AMX_RETENTION_DAYS allows. OpenSearch's
ISM acts on whole indices, and these are one index per version, so document age is enforced
here; ISM (terraform/opensearch.tf) retires the versions a migration replaced.

The same run removes the object store's tombstones (what a conditional delete leaves on S3) older than the
shortest of those windows, by the date the store recorded for each: a tombstone only makes the delete it
records one atomic step, so any age past that is enough, and the shortest window is the job's own horizon.

And it removes the dead letters (dead-letters/, an event each, up to 4 MB) parked more than
AMX_RETENTION_DEAD_LETTERS_DAYS ago, by the date the store recorded for each (its last write): kept forever,
they were the bucket's to grow without bound. A month is time enough to fix the cause and re-post them.

And it removes the rules' activation records in the store (activations/<day>/, one per decision to act, which an
action in flight reads to record its outcome; rules/activations/ where they were kept before) dated before the
activations index's window, by the date the store recorded for each: kept forever, they grew with every firing.

And it removes the marks of connection deletes (pending/deletions/) whose connection is no longer stored as it was
marked, by what the store holds (connections.sweep_deletion_marks): an event parked before its next delivery
removed its mark left it for good.

The daily tick dates the run (apply_tick), so a redelivery deletes what the first delivery did; a tick dated after
the store's own time is refused."""

from datetime import datetime, timedelta

from affiliate_matrix.connections import sweep_deletion_marks
from affiliate_matrix.discovery import SEEN
from affiliate_matrix.errors import ConfigError, InvalidInput, NotFoundError
from affiliate_matrix.events import DEAD_LETTERS
from affiliate_matrix.observability import get_logger
from affiliate_matrix.storage import CLOCK_LEEWAY

log = get_logger()
# Deltas go by when they were recorded, not observed: the change feed is ordered and resumed by recorded_at, so a
# batch observed long ago and recorded just now stays for a whole window, time for its readers to poll it.
TIME_FIELDS = {"deltas": "recorded_at", "metrics": "at", "activations": "at", "queries": "at"}
# An index whose time field came with a version, still on the version before (`amx index migrate` not run yet): the
# field its documents are dated by there. Deltas v1 has no recorded_at; its migration fills it with `at`.
BEFORE = {"deltas": (2, "at")}
ACTIVATION_RECORDS = ("activations/", "rules/activations/")  # rules.store.activation_key's; where they were before


# Each tick writes it, for the store to date: its time is the store's clock (S3's LastModified), not this machine's
TICK_RECORD = "retention/tick.json"
MAX_DAYS = 36_500  # a hundred years: past it, a window reaches before any date (an OverflowError, not a window)


def windows(setting: str) -> dict[str, int]:
    days = {name: int(value) for name, value in (part.split("=", 1) for part in setting.split(",") if part)}
    unknown = set(days) - set(TIME_FIELDS)
    if unknown:
        raise ConfigError("AMX_RETENTION_DAYS", f"no retention for {', '.join(sorted(unknown))}; "
                                                f"it applies to {', '.join(TIME_FIELDS)}")
    # 0 is no "keep for ever": it would delete every document of the index each day
    if wrong := [f"{name}={value}" for name, value in days.items() if not 1 <= value <= MAX_DAYS]:
        raise ConfigError("AMX_RETENTION_DAYS", f"{', '.join(wrong)}: a window is 1 to {MAX_DAYS:,} days "
                                                "(0 would delete every document each day)")
    return days


def apply_tick(rt, tick_time: datetime) -> dict[str, int]:
    """The run a retention tick asks for, dated by the tick. Whoever may tick the index function (its PingSource's
    account) could date one in 2100, and every time-stamped document, dead letter and record would be deleted: a tick
    dated after the store's own time of a record written now (past CLOCK_LEEWAY) is refused, nothing deleted. A real
    tick is sent at its time and arrives after it, a redelivery later still, so none is. Refused rather than run as of
    the store's time: the operator sees the forged tick (logged, parked), and no run is dated by a clock."""
    stored = _store_time(rt, {"tick": tick_time.isoformat()})
    if stored is None or tick_time > stored + CLOCK_LEEWAY:
        raise InvalidInput(f"the retention tick is dated {tick_time.isoformat()}, after the object store's own time "
                           f"({stored.isoformat() if stored else 'unknown'}): a tick dated ahead would delete what its "
                           "windows keep; refused, nothing deleted")
    return apply(rt, tick_time)


def apply_by_hand(rt) -> tuple[datetime, dict[str, int]]:
    """A run asked for by a person (`amx retention`, where no daily tick comes: the embedded defaults without `amx
    up`), dated by the object store's own time of the tick record written now, as a tick is judged: no machine's
    clock decides what is deleted. The time it was dated by, and what it deleted."""
    stored = _store_time(rt, {"by_hand": True})
    if stored is None:  # written just now: a store that cannot say when is not one this run can be dated by
        raise ConfigError("AMX_S3_ENDPOINT_URL", f"the object store does not say when it wrote {TICK_RECORD}")
    return stored, apply(rt, stored)


def _store_time(rt, record: dict) -> datetime | None:
    """The object store's own time now: when it says it wrote the run's record (TICK_RECORD), written here."""
    return rt.store.time_now(TICK_RECORD, record)


def apply(rt, now: datetime) -> dict[str, int]:
    """Delete what each window no longer keeps as of `now` (a tick's time, or the store's: never this machine's)."""
    deleted, kept = {}, windows(rt.settings.retention_days)
    for name, days in kept.items():
        try:
            field = TIME_FIELDS[name]
            if name in BEFORE and rt.index.status(name).current < BEFORE[name][0]:
                field = BEFORE[name][1]
            deleted[name] = rt.index.delete_before(name, field, (now - timedelta(days=days)).isoformat())
        except NotFoundError:
            deleted[name] = 0  # the index does not exist yet
    parked_before = now - timedelta(days=rt.settings.retention_dead_letters_days)
    deleted["dead_letters"] = rt.store.remove_before(DEAD_LETTERS, parked_before)
    if "activations" in kept:  # the records go with the index documents they mirror
        recorded_before = now - timedelta(days=kept["activations"])
        deleted["activation_records"] = sum(rt.store.remove_before(prefix, recorded_before)
                                            for prefix in ACTIVATION_RECORDS)
    deleted["discovery_seen"] = rt.store.remove_before(
        SEEN, now - timedelta(days=rt.settings.retention_discovery_seen_days))
    deleted["deletion_marks"] = sweep_deletion_marks(rt.store)
    deleted["tombstones"] = rt.store.remove_tombstones(now - timedelta(days=min(kept.values()))) if kept else 0
    log.info("retention.done", **{f"deleted_{k}": v for k, v in deleted.items()})
    return deleted
