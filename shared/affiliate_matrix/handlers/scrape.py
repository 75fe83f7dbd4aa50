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
            scrape(rt, connection_id)
            return
        from affiliate_matrix.syncs import update_sync

        update_sync(rt, sync_id, status="running", started_at=datetime.now(UTC))
        try:
            report = scrape(rt, connection_id)
        except AmxError as exc:
            update_sync(rt, sync_id, status="failed", finished_at=datetime.now(UTC), errors=[str(exc)])
            raise
        failed = report.records == 0 and report.failures
        update_sync(rt, sync_id, status="failed" if failed else "succeeded", finished_at=datetime.now(UTC),
                    pages=report.pages, records=report.records,
                    errors=[f"{f.stage} {f.url}: {f.reason}" for f in report.failures])

    receive(rt, cloud_event, work)
