"""index: on a "raw batch stored" event, index the batch into the master index; on a "connection deleted" event,
withdraw the claims of the connection's generation deleted; on its hourly cron, run the query analysis
(analytics.py)."""

import re

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.events import health, http_or_event
from affiliate_matrix.observability import get_logger

log = get_logger()
# compiled by re (its cache) when an event first needs them: not by a start
BATCH_KEY = r"batches/[a-z0-9_-]{1,40}/[0-9a-f]{2}/[0-9a-f]{64}\.jsonl"
SOURCE = r"[a-z0-9_]{1,40}"


def handle(rt, request):
    return http_or_event(rt, request, health, lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    index_event(rt, event)


def index_event(rt, event) -> None:
    if event.type == "dev.knative.sources.ping" and event.data.get("task") == "analytics":
        from affiliate_matrix.analytics import analyze

        report = analyze(rt)
        log.info("analytics.done", queries=report.queries, warmed=report.warmed, snapshots=report.snapshots,
                 proposals=len(report.proposals))
        return
    if event.type == "dev.knative.sources.ping" and event.data.get("task") == "retention":
        from affiliate_matrix.retention import apply_tick

        apply_tick(rt, event.time)
        return
    from affiliate_matrix.connections import CONNECTION_ID, GENERATION  # the pipeline below imports them anyway
    from affiliate_matrix.events import CONNECTION_DELETED  # imported with the event model already

    if event.type == CONNECTION_DELETED:
        connection_id, source = event.data.get("connection_id"), event.data.get("source")
        if not (isinstance(connection_id, str) and re.fullmatch(CONNECTION_ID, connection_id)):
            raise InvalidInput("a connection.deleted event needs its connection_id: a connection's id ([a-z0-9-], "
                               "up to 63)")
        if not (isinstance(source, str) and re.fullmatch(SOURCE, source)):
            raise InvalidInput("a connection.deleted event needs the connection's source: [a-z0-9_], up to 40")
        etag = event.data.get("etag")  # None: an event published before events named the ETag deleted
        if etag is not None and not (isinstance(etag, str) and 0 < len(etag) <= 200):
            raise InvalidInput("a connection.deleted event's etag must be the ETag deleted: a string, up to 200")
        generation = event.data.get("generation")  # None: an event published before events named the generation
        if generation is not None and not (isinstance(generation, str) and re.fullmatch(GENERATION, generation)):
            raise InvalidInput("a connection.deleted event's generation must be the connection's generation deleted: "
                               "g_ and 32 hex digits")
        from affiliate_matrix.pipeline import withdraw_announced

        withdraw_announced(rt, event)  # as of the event's time: the same on a redelivery
        return
    batch_key = event.data.get("batch_key")
    if not isinstance(batch_key, str) or not re.fullmatch(BATCH_KEY, batch_key):
        raise InvalidInput("event data needs a batch_key: batches/<source>/<xx>/<sha-256>.jsonl, as scrape stores them")
    complete = event.data.get("complete") is True
    connection_id = event.data.get("connection_id")
    if complete and not (isinstance(connection_id, str) and re.fullmatch(CONNECTION_ID, connection_id)):
        raise InvalidInput("a complete run's event needs its connection_id: a connection's id ([a-z0-9-], up to 63)")
    from affiliate_matrix.sync import RUN  # (imported by the pipeline below anyway)

    if (run := event.data.get("run")) is not None and not (isinstance(run, str) and re.fullmatch(RUN, run)):
        raise InvalidInput("a raw batch's event's run must be the API sync it is of: r_ and 32 hex digits, or none")
    from affiliate_matrix.pipeline import index_announced  # resolution (rapidfuzz) and the terms extractor

    index_announced(rt, event.data)
