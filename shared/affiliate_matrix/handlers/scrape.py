"""scrape and sync: on a cron PingSource event (or a sync requested over HTTP) whose data names
the connection, collect its listings (a directory is crawled, an API is read) and announce the
batch. A requested sync's record follows along: running, then succeeded or failed."""

from datetime import UTC, datetime

from affiliate_matrix.errors import AmxError, InvalidInput
from affiliate_matrix.handlers.events import receive
from affiliate_matrix.pipeline import scrape


def on_event(rt, cloud_event) -> None:
    def work(event):
        connection_id, sync_id = event.data.get("connection_id"), event.data.get("sync_id")
        if not isinstance(connection_id, str):
            raise InvalidInput("event data needs a string connection_id")
        if not isinstance(sync_id, str):
            report = scrape(rt, connection_id)
            if report.records == 0 and report.failures:
                announce_failure(rt, connection_id, None, [f"{f.stage} {f.url}: {f.reason}" for f in report.failures])
            return
        from affiliate_matrix.syncs import update_sync

        update_sync(rt, sync_id, status="running", started_at=datetime.now(UTC))
        try:
            report = scrape(rt, connection_id)
        except AmxError as exc:
            update_sync(rt, sync_id, status="failed", finished_at=datetime.now(UTC), errors=[str(exc)])
            announce_failure(rt, connection_id, sync_id, [str(exc)])
            raise
        failed = report.records == 0 and report.failures
        errors = [f"{f.stage} {f.url}: {f.reason}" for f in report.failures]
        update_sync(rt, sync_id, status="failed" if failed else "succeeded", finished_at=datetime.now(UTC),
                    pages=report.pages, records=report.records, errors=errors)
        if failed:
            announce_failure(rt, connection_id, sync_id, errors)

    receive(rt, cloud_event, work)


def announce_failure(rt, connection_id: str, sync_id: str | None, errors: list[str]) -> None:
    """sync.failed, for the rules that act on it."""
    from affiliate_matrix.events import SYNC_FAILED, Event

    rt.bus.publish(Event.make(SYNC_FAILED, "/sync", {"connection_id": connection_id, "sync_id": sync_id,
                                                      "errors": errors[:20]},
                              key=f"{connection_id}|{sync_id or datetime.now(UTC).isoformat()}", subject=connection_id))
