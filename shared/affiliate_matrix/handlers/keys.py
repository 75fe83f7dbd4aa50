"""keys: the cron run of rotation and expiry checks."""

from affiliate_matrix.handlers.events import health, http_or_event
from affiliate_matrix.keys import run_checks
from affiliate_matrix.observability import get_logger

log = get_logger()


def handle(rt, request):
    return http_or_event(rt, request, health, lambda event: log.info("keys.checked", **run_checks(rt)))
