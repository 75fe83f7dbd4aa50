"""keys: the cron run of rotation and expiry checks. A run where a rotation failed (and was put
back) answers with an error, so the failure shows in the function's error figures and alerts."""

from affiliate_matrix.handlers.events import health, http_or_event
from affiliate_matrix.observability import get_logger

log = get_logger()


def handle(rt, request):
    return http_or_event(rt, request, health, lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    checked(rt)


def checked(rt) -> None:
    from affiliate_matrix.keys import RotationFailed, run_checks  # the cron run only

    outcome = run_checks(rt)
    log.info("keys.checked", **outcome)
    if outcome["failed"]:
        raise RotationFailed(f"{len(outcome['failed'])} rotation(s) failed: " + " | ".join(outcome["failed"]))
