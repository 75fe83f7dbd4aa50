"""Syncs requested over HTTP: a record per request in the object store, moved along by the
function that runs it (queued → running → succeeded | failed), and the connection's last_sync. A connection marked
unhealthy (its credentials refused or revoked) is not synced unless a person asks for that one connection: its sync
is recorded as skipped, saying why."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import Field

from affiliate_matrix.connections import (INCOMPLETE, SITEMAPS_REFUSED, Connection, SyncResult, skip_reason,
                                          stored_connections, update_connection)
from affiliate_matrix.documents import load_document, rewritten, stored_json
from affiliate_matrix.errors import NOT_RETRIED, BackendUnavailable, ConflictError, NotFoundError
from affiliate_matrix.events import SCRAPE_REQUESTED, SYNC_REQUESTED, Event
from affiliate_matrix.model_types import Document, UtcDatetime
from affiliate_matrix.observability import get_logger

log = get_logger()
SYNC_ID = r"^s_[0-9a-f]{32}$"


class Sync(Document):
    id: str = Field(pattern=SYNC_ID)
    connection_id: str
    status: Literal["queued", "running", "succeeded", "failed", "skipped"] = "queued"
    requested_at: UtcDatetime
    published_at: UtcDatetime | None = Field(None, description="When its request was handed to the event broker; null "
                                                               "while it may not have been.")
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    pages: int = 0
    records: int = 0
    errors: list[str] = []
    incomplete: str | None = Field(None, description=INCOMPLETE)
    sitemaps_refused: list[str] = Field([], description=SITEMAPS_REFUSED)
    replay: bool = Field(False, description="A replay: the connection's stored pages, or its API's stored answers, "
                                            "parsed again, with no network (POST /connections/{id}/replay).")


def sync_key(sync_id: str) -> str:
    return f"syncs/{sync_id}.json"


def connection_class(connection: Connection) -> str:
    """directory (crawled by the scrape function) or api (read by the sync function)."""
    from affiliate_matrix.sources import ApiSource, get_source

    return "api" if issubclass(get_source(connection.source), ApiSource) else "directory"


_SCHEDULED = uuid.UUID("5d0c2a4e-8f1b-4c3e-9a57-2b6f0e1d7c93")  # namespace of scheduled syncs' ids


def request_sync(rt, connection: Connection, *, explicit: bool = False, tick: datetime | None = None,
                 replay: bool = False) -> Sync:
    """A sync record and its request event: scrape.requested for a directory, sync.requested for an API,
    so the Broker routes each to its function. An unhealthy connection's sync, unless `explicit` (a person asked
    for this one connection), is recorded as skipped, saying why, in its record and the connection's last_sync,
    and nothing is requested: its provider is not called with credentials it refused.
    With `tick` (a scheduled tick's time), the sync's id is derived from the connection and the tick and its record
    written create-only: the tick delivered again finds that record and returns it, requesting it again only when
    its publish had failed (failed, never started: see unpublished) or never happened (still queued with no
    published_at: a process stopped between the record and the publish, or before noting it). One published is not
    published again, however often the tick is delivered. Its event's id is derived from the sync's, so the consumer
    runs one sync however often the Broker delivers it (handlers/events.receive): no connection is synced twice for a
    tick. A request nothing here would deliver (`undelivered`) is recorded skipped too, saying what runs it. With
    `replay`, the run parses what is stored again and asks no provider, so an unhealthy connection's is run too."""
    now = datetime.now(UTC)
    sync_id = uuid.uuid5(_SCHEDULED, f"{connection.id}@{tick.astimezone(UTC).isoformat()}") if tick else uuid.uuid4()
    sync = Sync(id=f"s_{sync_id.hex}", connection_id=connection.id, requested_at=now, replay=replay)
    unhealthy = None if explicit or replay else skip_reason(connection)
    kind = None if unhealthy else SYNC_REQUESTED if connection_class(connection) == "api" else SCRAPE_REQUESTED
    skipped = unhealthy or undelivered(rt, kind, connection, replay)
    if skipped is not None:
        sync = sync.model_copy(update={"status": "skipped", "finished_at": now, "errors": [skipped]})
    try:
        etag = rt.store.put(sync_key(sync.id), stored_json(sync), content_type="application/json",
                            if_none_match=True)
    except ConflictError:  # only a derived id meets its own record: this tick delivered again
        stored, etag = load_sync_record(rt, sync.id)
        never_published = stored.status == "queued" and stored.published_at is None
        publish_failed = stored.status == "failed" and stored.started_at is None
        if not (never_published or publish_failed):
            log.info("sync.already_requested", connection_id=connection.id, sync_id=sync.id, status=stored.status)
            return stored
        if never_published and skipped is None:  # its publish never came: published below
            sync = stored
        else:  # requested again, or skipped now (the connection marked unhealthy since)
            sync = rewritten(sync, stored)  # what a newer build stored in the record is kept
            try:
                etag = rt.store.put(sync_key(sync.id), stored_json(sync),
                                    content_type="application/json", if_match=etag)
            except ConflictError:  # another delivery of the tick requested it again meanwhile
                return load_sync(rt, sync.id)
        log.info("sync.requested_again", connection_id=connection.id, sync_id=sync.id, status=stored.status)
    if skipped is not None:
        if unhealthy:  # the connection's own state; a sync nothing here runs is none of its runs
            record_last_sync(rt, connection.id, SyncResult(status="skipped", finished_at=now, errors=[skipped]))
        log.warning("sync.skipped", connection_id=connection.id, reason=skipped)
        return sync
    try:
        rt.bus.publish(Event.make(kind, "/connections", {"connection_id": connection.id, "sync_id": sync.id}
                                  | ({"replay": True} if replay else {}), key=sync.id, subject=connection.id))
    except Exception as exc:
        unpublished(rt, sync, exc)
        raise
    published = sync.model_copy(update={"published_at": datetime.now(UTC)})
    try:  # so that the tick delivered again does not publish it again
        rt.store.put(sync_key(sync.id), stored_json(published), content_type="application/json",
                     if_match=etag)
    except ConflictError:  # its run has moved it on already, which says as much
        return sync
    return published


def undelivered(rt, kind: str, connection: Connection, replay: bool = False) -> str | None:
    """Why a sync requested here would never run (None: it will): on the embedded event bus (AMX_EVENTS=inprocess) a
    function served alone has nothing that takes the request (a Broker, as `amx up` runs one, routes it to the scrape
    or sync function); its record said queued for good. What does run it, in words."""
    if rt.bus.delivers(kind):
        return None
    return ("not run: nothing here runs it (the embedded event bus, AMX_EVENTS=inprocess, with this function served "
            f"alone, delivers no sync request): run it here with `amx {'replay' if replay else 'scrape'} "
            f"{connection.id}`, or serve every "
            "function with `amx up`, whose Broker takes requests")


def unpublished(rt, sync: Sync, exc: Exception) -> None:
    """The request of `sync`, its record written, could not be published: the record, which nothing will move on,
    says failed and why, unless the event was taken after all and its run has moved the record on. Raised
    for the caller: the broker's failure or refusal as a 503 naming it and the failed record; a misconfigured bus
    as itself (a 503 too); anything else as itself."""
    why = f"its request was not published, so nothing runs it; ask again: {str(exc)[:300] or type(exc).__name__}"
    log.error("sync.request_unpublished", connection_id=sync.connection_id, sync_id=sync.id, error=why)
    update_sync(rt, sync.id, if_queued=True, status="failed", finished_at=datetime.now(UTC), errors=[why])
    if isinstance(exc, BackendUnavailable):
        raise BackendUnavailable(str(exc), cause=f"the event broker did not take the request of sync {sync.id}, "
                                                 "which is recorded failed",
                                 retry_after=getattr(exc, "retry_after", 5)) from exc


def request_due(rt, kind: str, tick: datetime, every_minutes: int) -> list[Sync]:
    """Request every enabled connection of a class whose own schedule had a tick in the last period (an unhealthy
    one's sync is recorded as skipped: see request_sync), once per `tick` (the ping's event time) however often
    it is delivered. A connection whose request fails (the broker down) is logged and the others are requested all
    the same; then the tick fails with the first failure a delivery again may cure (else the first), so that Knative
    delivers it again for those: the others find their records and are not synced again (request_sync)."""
    from cronsim import CronSim, CronSimError

    from affiliate_matrix.model_types import cron_problem
    from affiliate_matrix.sources import UnknownSource

    requested, failures = [], []
    for connection, _ in stored_connections(rt.store):
        if not connection.enabled:
            continue
        try:
            if connection_class(connection) != kind:
                continue
        except UnknownSource as exc:  # stored while its plugin existed (removed or renamed since): it waits, not the rest
            log.warning("sync.source_unknown", connection_id=connection.id, error=str(exc)[:300])
            continue
        try:
            due = next(CronSim(connection.schedule, tick - timedelta(minutes=every_minutes))) <= tick
        # stored before the API checked schedules: this connection waits, not the rest (ValueError: cronsim's int() of
        # a number of over 4,300 digits, the schedule logged cut short)
        except (CronSimError, ValueError) as exc:
            log.warning("sync.schedule_invalid", connection_id=connection.id, schedule=connection.schedule[:100],
                        error=(cron_problem(connection.schedule) or str(exc))[:300])  # the product's words
            continue
        if not due:
            continue
        try:
            requested.append(request_sync(rt, connection, tick=tick))
        except Exception as exc:  # noqa: BLE001 - raised below, once every due connection was asked for
            log.error("sync.request_failed", connection_id=connection.id, tick=tick.isoformat(),
                      error=f"{type(exc).__name__}: {str(exc)[:300]}")
            failures.append(exc)
    if failures:
        raise next((exc for exc in failures if not isinstance(exc, NOT_RETRIED)), failures[0])
    return requested


def load_sync(rt, sync_id: str) -> Sync:
    return load_sync_record(rt, sync_id)[0]


# A sync's record is the server's: none is created by hand
DAMAGED_SYNC = ("restore an earlier version of the object, or delete it (POST /connections/{id}/sync, or amx scrape, "
                "requests another sync)")


def load_sync_record(rt, sync_id: str) -> tuple[Sync, str]:
    return load_document(rt.store, sync_key(sync_id), Sync, f"sync {sync_id}", DAMAGED_SYNC)


def update_sync(rt, sync_id: str, *, if_queued: bool = False, **changes) -> Sync | None:
    """Apply `changes` to the sync's record. if_queued: only while it is queued, with a conditional write (None when
    its run had moved it on)."""
    sync, etag = load_sync_record(rt, sync_id)
    if if_queued and sync.status != "queued":
        return None
    sync = sync.model_copy(update=changes)
    try:
        rt.store.put(sync_key(sync_id), stored_json(sync), content_type="application/json",
                     if_match=etag if if_queued else None)
    except ConflictError:
        return None  # only a conditional write conflicts: its run moved it on meanwhile
    if sync.status in ("succeeded", "failed"):
        record_last_sync(rt, sync.connection_id, SyncResult(
            status=sync.status, started_at=sync.started_at, finished_at=sync.finished_at, pages=sync.pages,
            records=sync.records, errors=sync.errors, incomplete=sync.incomplete,
            sitemaps_refused=sync.sitemaps_refused))
    return sync


def outcome(report) -> dict:
    """A finished run's word (a pipeline.ScrapeReport), as its sync's record and the connection's last_sync say it
    (to every read token: each request its failures quote named without the account, sources.requests_named_in):
    failed when it read no record and something failed. A failure for a host found at no address to connect to
    (Failure.unreached) is said as the connection test says it, one way whether the name did not resolve or resolves
    to a non-public address (an admin could map internal names by the difference), and whole so after what failed: the
    words around the reason told the two apart too (a page not fetched for want of its robots.txt, the address policy
    named). The reason goes to the log (sync.name_unreached) and to `amx scrape`'s own lines. The sitemaps its crawl
    refused are said apart from its failures, the first few and how many more: the crawl went on without them."""
    from affiliate_matrix.netguard import unreached_said
    from affiliate_matrix.sources import requests_named_in

    return {"status": "failed" if report.records == 0 and report.failures else "succeeded", "pages": report.pages,
            "records": report.records, "incomplete": report.incomplete,
            "errors": [requests_named_in(report.source, f"{f.stage} {f.url}: "
                                                        f"{unreached_said(f.unreached) if f.unreached else f.why}")
                       for f in report.failures],
            "sitemaps_refused": sitemaps_refused_said(report.source, report.sitemaps_refused)}


def sitemaps_refused_said(source_name: str, refused) -> list[str]:
    """A crawl's refused sitemaps (sitemaps.Refused) as a run's record says them: "sitemap <url>: <why>" each of the
    first few, each URL named as a failure's is (requests_named_in: a signed link's or a user:password@'s secret is no
    read token's), then how many more."""
    from affiliate_matrix.sources import requests_named_in

    more = refused.count - len(refused.first)
    return [requests_named_in(source_name, f"sitemap {said}") for said in refused.first] + (
        [f"sitemap: {more:,} more refused (each logged as sitemap.refused); the crawl went on without them"]
        if more else [])


def run_error(rt, connection_id: str, exc: Exception) -> str:
    """What ended a run with no report (an error it raised) as its sync's record, the connection's last_sync and
    sync.failed say it, to every read token: each request it quotes named without the account, by the connection's
    source, as `outcome` names a report's. A connection that cannot be read was not run: no request was made."""
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.errors import AmxError
    from affiliate_matrix.sources import requests_named_in

    try:
        source = load_connection(rt.store, connection_id)[0].source
    except AmxError:
        return str(exc)
    return requests_named_in(source, str(exc))


def record_run(rt, connection_id: str, started_at: datetime, report=None, error: str | None = None) -> None:
    """A run no sync record follows (amx scrape) in the connection's last_sync, as a requested sync's end is recorded:
    its report's outcome, or failed with the `error` that ended it. A connection deleted meanwhile has none to keep."""
    result = outcome(report) if report is not None else {"status": "failed", "errors": [error]}
    try:
        record_last_sync(rt, connection_id, SyncResult(started_at=started_at, finished_at=datetime.now(UTC), **result))
    except NotFoundError:
        log.info("sync.run_not_recorded", connection_id=connection_id, reason="the connection was deleted")


def record_last_sync(rt, connection_id: str, result: SyncResult) -> None:
    result = result.model_copy(update={"errors": result.errors[:20]})  # the sync's record keeps them all
    update_connection(rt.store, connection_id, lambda connection: {"last_sync": result}, "last_sync")
