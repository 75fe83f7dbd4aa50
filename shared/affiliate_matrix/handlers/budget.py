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
from affiliate_matrix.handlers import body_of, json_response, serve
from affiliate_matrix.handlers.events import receive
from affiliate_matrix.observability import get_logger

log = get_logger()
MAX_BODY = 4 * 1024 * 1024
_METRICS = re.compile(r"^/campaigns/([A-Za-z0-9][A-Za-z0-9._:-]{0,99})/metrics$")


def handle(rt, request):
    if request.headers.get("ce-id") or request.mimetype == "application/cloudevents+json":
        from cloudevents.http import from_http

        try:
            event = from_http(dict(request.headers), request.get_data())
        except Exception as exc:  # the SDK raises several unrelated types for a malformed event
            return json_response({"error": {"code": "invalid_event", "message": str(exc)}}, 400)
        on_event(rt, event)
        return "", 204, {}
    return serve(request, lambda r: route(rt, r))


def on_event(rt, cloud_event) -> None:
    from affiliate_matrix.budget.run import check_pacing, run_allocation

    def work(event):
        today = event.time.date()
        run_allocation(rt, today + timedelta(days=1))
        check_pacing(rt, today - timedelta(days=1))

    receive(rt, cloud_event, work)


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
