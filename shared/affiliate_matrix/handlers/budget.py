"""budget: the daily cron run (a CloudEvent from a PingSource) allocates tomorrow and checks
yesterday's pacing, both relative to the event's time. Over HTTP:

GET /campaigns, POST /campaigns, GET|PUT|DELETE /campaigns/{id} (ETag / If-Match);
GET /campaigns/{id}/metrics (its days), POST /campaigns/{id}/metrics {"days": [...]} (a date
already recorded is replaced); GET /allocations (the days with a run), GET /allocations/{day}
(the run: inputs, strategy, allocations, explanation), POST /allocations {"day": "YYYY-MM-DD"}
(run it now; 201, or 200 with the stored run when that day has one).
Reads need a read token, writes an admin token.
"""

import re
from datetime import date, timedelta

from affiliate_matrix.auth import authorize
from affiliate_matrix.budget import CAMPAIGN_ID
from affiliate_matrix.errors import InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import body_of, json_response
from affiliate_matrix.handlers.documents import Collection, route as documents_route
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.observability import get_logger

log = get_logger()
MAX_BODY = 4 * 1024 * 1024
_METRICS = re.compile(rf"^/campaigns/({CAMPAIGN_ID})/metrics$")
_RUN = re.compile(r"^/allocations/(\d{4}-\d{2}-\d{2})$")


def campaigns():
    from affiliate_matrix.budget.campaigns import Campaign

    return Collection("campaign", "/campaigns", "budget/campaigns/", Campaign, id_pattern=CAMPAIGN_ID,
                      read_only=frozenset({"created_at"}))


def handle(rt, request):
    return http_or_event(rt, request, route, lambda event: allocate_and_pace(rt, event))


def allocate_and_pace(rt, event) -> None:
    from affiliate_matrix.budget.run import check_pacing, run_allocation

    today = event.time.date()
    run_allocation(rt, today + timedelta(days=1))
    check_pacing(rt, today - timedelta(days=1))


def route(rt, request):
    path, method = request.path, request.method
    if path == "/openapi.json":
        from affiliate_matrix.handlers.openapi import budget_openapi

        return json_response(budget_openapi())
    authorize(rt, request.headers.get("Authorization"), "read" if method in ("GET", "HEAD") else "admin")
    if match := _METRICS.match(path):
        return metrics(rt, request, match.group(1))
    if path == "/allocations" or _RUN.match(path):
        return allocations(rt, request)
    answer = documents_route(rt, request, campaigns())
    if answer is None:
        raise NotFoundError(f"no route for {path}")
    return answer


def metrics(rt, request, campaign_id: str):
    from affiliate_matrix.budget.campaigns import history, load_campaign, parse_days, record_days

    campaign, _ = load_campaign(rt.store, campaign_id)
    if request.method == "GET":
        return json_response({"campaign_id": campaign.id, "currency": campaign.currency,
                              "days": [{**d, "date": d["date"].isoformat()} for d in history(rt.store, campaign.id)]})
    if request.method != "POST":
        raise MethodNotAllowed(request.method, ("GET", "POST"))
    body = body_of(request, MAX_BODY)
    if set(body) != {"days"}:
        raise InvalidInput('the body must be {"days": [...]}')
    written = record_days(rt, campaign, parse_days(body["days"], campaign.currency))
    return json_response({"campaign_id": campaign.id, "days_written": written})


def allocations(rt, request):
    from affiliate_matrix.budget.run import list_runs, load_run, run_allocation, run_key

    if match := _RUN.match(request.path):
        if request.method != "GET":
            raise MethodNotAllowed(request.method, ("GET",))
        return json_response(load_run(rt.store, _day(match.group(1), "day")).model_dump(mode="json"))
    if request.method == "GET":
        return json_response({"items": [{"day": day.isoformat(), "href": f"/allocations/{day}"}
                                        for day in list_runs(rt.store)]})
    if request.method != "POST":
        raise MethodNotAllowed(request.method, ("GET", "POST"))
    body = body_of(request)
    if set(body) != {"day"} or not isinstance(body["day"], str):
        raise InvalidInput('the body must be {"day": "YYYY-MM-DD"}')
    day = _day(body["day"], "day")
    existed = rt.store.head(run_key(day)) is not None
    run = run_allocation(rt, day)
    return json_response(run.model_dump(mode="json"), 200 if existed else 201,
                         {"Location": f"/allocations/{day}"})


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None
