"""triggers: evaluates schedule rules on its cron PingSource, event rules on every event the
Broker routes to it (program.delta, key.*, sync.failed, budget.*), and performs the notify and
alert actions routed back to it. Over HTTP it manages the rules:

GET /rules, POST /rules, GET|PUT|DELETE /rules/{id} (ETag / If-Match), POST /rules/{id}/test
(dry-run against a given event; nothing is dispatched), GET /activations (newest first).
Reads need a read token, writes an admin token.
"""

from datetime import UTC, datetime

from affiliate_matrix.auth import authorize
from affiliate_matrix.errors import InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import body_of, json_response, whole_number
from affiliate_matrix.handlers.documents import Collection, load, route as documents_route
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.rules.model import Rule, checked

PING = "dev.knative.sources.ping"
RULES = Collection("rule", "/rules", "rules/", Rule, check=checked)  # judged when written, trusted when read


def handle(rt, request):
    return http_or_event(rt, request, route, lambda event: evaluate(rt, event))


def evaluate(rt, event) -> None:
    from affiliate_matrix.rules.engine import on_event, on_schedule  # the engine and its CEL: events only

    if event.type == PING:
        on_schedule(rt, event.time.astimezone(UTC))
    else:
        on_event(rt, event)


def route(rt, request):
    path, method = request.path, request.method
    if path == "/openapi.json":
        from affiliate_matrix.handlers.openapi import triggers_openapi

        return json_response(triggers_openapi())
    writes = method not in ("GET", "HEAD") and not path.endswith("/test")
    authorize(rt, request.headers.get("Authorization"), "admin" if writes else "read")
    if path.startswith("/rules/") and path.endswith("/test"):
        if method != "POST":
            raise MethodNotAllowed(method, ("POST",))
        rule_id = RULES.one(path.removesuffix("/test"))
        if rule_id is None:
            raise NotFoundError(f"no route for {path}")
        return dry_run(rt, load(rt, RULES, rule_id)[0], body_of(request))
    if path == "/activations":
        if method != "GET":
            raise MethodNotAllowed(method, ("GET",))
        return json_response({"items": activations_for(rt, request)})
    answer = documents_route(rt, request, RULES)
    if answer is None:
        raise NotFoundError(f"no route for {path}")
    return answer


def dry_run(rt, rule: Rule, body: dict):
    """The context the rule would see for this event and what it would decide; nothing is dispatched."""
    from pydantic import ValidationError

    from affiliate_matrix.events import Event
    from affiliate_matrix.rules.conditions import context_of
    from affiliate_matrix.rules.engine import compiled, context_values

    try:
        event = Event.model_validate({"id": "dry-run", "source": "/rules/test", "time": datetime.now(UTC), **body})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidInput(f"event.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    values, inputs = context_values(rt, event, needs_stats="stats" in rule.condition)
    try:
        holds, error = compiled(rule).execute(context_of(values)) is True, None
    except Exception as exc:  # what the engine would count as a failure
        holds, error = None, f"{type(exc).__name__}: {exc}"
    wrong_trigger = rule.trigger.event is not None and event.type != "dev.affiliatematrix." + rule.trigger.event
    return json_response({"rule_id": rule.id, "holds": holds, "error": error, "inputs": inputs,
                          "triggered_by_this_event": not wrong_trigger and rule.trigger.event is not None,
                          "would_dispatch": rule.action.model_dump(mode="json") if holds and not wrong_trigger
                          and rule.enabled else None})


def activations_for(rt, request) -> list[dict]:
    from affiliate_matrix.rules.store import activations

    unknown = set(request.args) - {"limit", "rule_id"}
    if unknown:
        raise InvalidInput(f"unknown parameter(s): {', '.join(sorted(unknown))[:200]}")
    limit = whole_number(request.args, "limit", 50, 1, 500)
    rule_id = request.args.get("rule_id")
    rows = activations(rt, limit=500 if rule_id else limit)
    return [row for row in rows if rule_id in (None, row["rule_id"])][:limit]
