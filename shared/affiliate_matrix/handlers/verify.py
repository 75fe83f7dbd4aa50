"""verify: the cron run of re-verification, then the freshness figures."""

from datetime import UTC, datetime

from affiliate_matrix.handlers.events import health, http_or_event
from affiliate_matrix.observability import get_logger

log = get_logger()


def handle(rt, request):
    return http_or_event(rt, request, health, lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    verify_and_measure(rt)


def verify_and_measure(rt) -> None:
    from affiliate_matrix.verify import emit_freshness, freshness, verify  # the fetcher: the cron run only

    report = verify(rt)
    now = datetime.now(UTC)
    emit_freshness(rt, freshness(rt, now), now)
    log.info("verify.done", checked=report.checked, verified=report.verified, missed=report.missed,
             changes=len(report.deltas))
