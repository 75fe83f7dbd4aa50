"""budget: the daily cron run (a CloudEvent from a PingSource) and performance intake over HTTP.

A CloudEvent (binary or structured mode) allocates tomorrow's budget and checks yesterday's
pacing, both relative to the event's time. Over HTTP:
POST /campaigns/{id}/metrics with {"days": [{"date", "spend", "clicks", "conversions", "revenue",
"currency"?}]} (admin token) records days; a date already recorded is replaced.
"""

import re
from datetime import timedelta

from affiliate_matrix.auth import authorize
from affiliate_matrix.errors import InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import body_of, json_response
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.observability import get_logger

log = get_logger()
MAX_BODY = 4 * 1024 * 1024
_METRICS = re.compile(r"^/campaigns/([A-Za-z0-9][A-Za-z0-9._:-]{0,99})/metrics$")


def handle(rt, request):
    return http_or_event(rt, request, route, lambda event: allocate_and_pace(rt, event))


def allocate_and_pace(rt, event) -> None:
    from affiliate_matrix.budget.run import check_pacing, run_allocation

    today = event.time.date()
    run_allocation(rt, today + timedelta(days=1))
    check_pacing(rt, today - timedelta(days=1))


def route(rt, request):
    if request.path == "/healthz":
        return json_response({"status": "ok"})
    match = _METRICS.match(request.path)
    if not match:
        raise NotFoundError(f"no route for {request.path}")
    if request.method != "POST":
        raise MethodNotAllowed(request.method, ("POST",))
    authorize(rt.secrets, request.headers.get("Authorization"), "admin")
    from affiliate_matrix.budget.campaigns import load_campaign, parse_days, record_days

    campaign, _ = load_campaign(rt.store, match.group(1))
    body = body_of(request, MAX_BODY)
    if set(body) != {"days"}:
        raise InvalidInput('the body must be {"days": [...]}')
    written = record_days(rt, campaign, parse_days(body["days"], campaign.currency))
    return json_response({"campaign_id": campaign.id, "days_written": written})
