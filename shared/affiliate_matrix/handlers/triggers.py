"""triggers: evaluates schedule rules on its cron PingSource, event rules on every event the
Broker routes to it (program.delta, key.*, sync.failed, budget.*), and performs the notify and
alert actions routed back to it."""

from datetime import UTC

from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.handlers import json_response
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.rules.engine import on_event, on_schedule

PING = "dev.knative.sources.ping"


def handle(rt, request):
    return http_or_event(rt, request, route, lambda event: evaluate(rt, event))


def evaluate(rt, event) -> None:
    if event.type == PING:
        on_schedule(rt, event.time.astimezone(UTC))
    else:
        on_event(rt, event)


def route(rt, request):
    if request.path == "/healthz":
        return json_response({"status": "ok"})
    raise NotFoundError(f"no route for {request.path}")
