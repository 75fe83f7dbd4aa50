"""scrape and sync: a cron PingSource tick for a class of connections (directories for scrape, APIs
for sync) requests each connection whose own schedule is due; a request (from that fan-out or
over the connections API) names one connection, whose listings are collected (a directory is
crawled, an API is read) and the batch announced. A requested sync's record follows along:
running, then succeeded or failed; a failure is announced as sync.failed."""

import re
from datetime import UTC, datetime

from affiliate_matrix.errors import AmxError, InvalidInput
from affiliate_matrix.handlers.events import health, http_or_event


def handle(rt, request):
    return http_or_event(rt, request, health, lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    collect(rt, event)


def collect(rt, event) -> None:
    """A cron tick for a class of connections requests each one that is due; a request names one connection."""
    if "connection_id" not in event.data and event.data.get("class") in ("directory", "api"):
        from affiliate_matrix.sync_requests import request_due

        every = event.data.get("every_minutes", 15)
        if type(every) is not int or not 1 <= every <= 1440:
            raise InvalidInput("every_minutes must be a whole number of minutes from 1 to 1440")
        request_due(rt, event.data["class"], event.time, every)
        return
    from affiliate_matrix.connections import CONNECTION_ID
    from affiliate_matrix.sync_requests import SYNC_ID, load_sync, outcome, run_error, update_sync

    connection_id, sync_id = event.data.get("connection_id"), event.data.get("sync_id")
    if not isinstance(connection_id, str) or not re.fullmatch(CONNECTION_ID, connection_id):
        raise InvalidInput("event data needs a connection_id: a connection's id ([a-z0-9-], up to 63)")
    if sync_id is not None and (not isinstance(sync_id, str) or not re.fullmatch(SYNC_ID, sync_id)):
        raise InvalidInput("sync_id, when given, is a sync's id (s_ and 32 hex digits)")
    replay = event.data.get("replay", False)  # POST /connections/{id}/replay: what is stored parsed again
    if type(replay) is not bool:
        raise InvalidInput("replay, when given, is true or false")
    from affiliate_matrix.pipeline import scrape  # the crawler, resolution and the terms extractor: not for a tick

    if sync_id is not None and (followed := load_sync(rt, sync_id).connection_id) != connection_id:
        # its run's outcome would be written as the other connection's (its record, its last_sync)
        raise InvalidInput(f"sync {sync_id} follows connection {followed!r}, not {connection_id!r}")
    if sync_id is None:
        ended = outcome(scrape(rt, connection_id, replay=replay))
        if ended["status"] == "failed":
            announce_failure(rt, event, connection_id, None, ended["errors"])
        return

    update_sync(rt, sync_id, status="running", started_at=datetime.now(UTC))
    try:
        report = scrape(rt, connection_id, replay=replay)
    except AmxError as exc:
        error = run_error(rt, connection_id, exc)
        update_sync(rt, sync_id, status="failed", finished_at=datetime.now(UTC), errors=[error])
        announce_failure(rt, event, connection_id, sync_id, [error])
        raise
    _log_unreached(connection_id, sync_id, report)
    ended = outcome(report)
    update_sync(rt, sync_id, finished_at=datetime.now(UTC), **ended)
    if ended["status"] == "failed":
        announce_failure(rt, event, connection_id, sync_id, ended["errors"])


def _log_unreached(connection_id: str, sync_id: str, report) -> None:
    """The reasons of the run's failures for a host found at no address to connect to, which its sync's errors say
    one way (sync_requests.outcome)."""
    if reasons := [failure.reason for failure in report.failures if failure.unreached]:
        from affiliate_matrix.observability import get_logger

        get_logger().warning("sync.name_unreached", connection_id=connection_id, sync_id=sync_id,
                             reason="; ".join(reasons))


def announce_failure(rt, cause, connection_id: str, sync_id: str | None, errors: list[str]) -> None:
    """sync.failed, for the rules that act on it. Its id is derived from the sync, else from the event that asked for
    the run (`cause`): a run done again for that event (delivered again after a failure past the announcement) announces
    the same failure, which the rules take once, where an id from the clock was another failure to act on."""
    from affiliate_matrix.events import SYNC_FAILED, Event

    rt.bus.publish(Event.make(SYNC_FAILED, "/sync", {"connection_id": connection_id, "sync_id": sync_id,
                                                      "errors": errors[:20]},
                              key=f"{connection_id}|{sync_id or f'{len(cause.source)}:{cause.source}|{cause.id}'}",
                              subject=connection_id))
