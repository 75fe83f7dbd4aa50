"""keys: the cron run of rotation and expiry checks."""

from affiliate_matrix.handlers.events import receive
from affiliate_matrix.keys import run_checks
from affiliate_matrix.observability import get_logger

log = get_logger()


def on_event(rt, cloud_event) -> None:
    receive(rt, cloud_event, lambda event: log.info("keys.checked", **run_checks(rt)))
