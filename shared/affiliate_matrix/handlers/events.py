"""Event intake for the CloudEvent functions: an event id bound to every log line, at-most-once
work per (source, id) since Knative delivers at least once, and fatal errors acknowledged."""

import json
import time
from collections.abc import Callable

from affiliate_matrix.errors import ConflictError, InvalidInput, NotFoundError
from affiliate_matrix.events import ACTION_PREFIX, Event
from affiliate_matrix.observability import bind_request, get_logger

log = get_logger()


def receive(rt, cloud_event, work: Callable[[Event], None], traceparent: str | None = None) -> None:
    """Run event work once per (source, id): Knative delivers at least once. The trace continues from the
    event's traceparent extension, else the HTTP request's traceparent header."""
    from affiliate_matrix import telemetry

    event = Event.from_cloudevent(cloud_event)
    bind_request(event.id, event_type=event.type, event_source=event.source)
    telemetry.start_span(cloud_event.get("traceparent") or traceparent)
    function = rt.function
    marker = "events/done/" + Event.make("marker", "x", {}, key=f"{event.source}|{event.id}").id
    if rt.store.head(marker) is not None:
        log.info("event.duplicate_skipped")
        telemetry.EVENTS.labels(function, event.type, "duplicate").inc()
        return
    if event.type.startswith(ACTION_PREFIX):  # a rule's action, routed here by its type
        from affiliate_matrix.rules.actions import execute

        work = lambda e: execute(rt, e)  # noqa: E731
    started = time.perf_counter()
    try:
        work(event)
        log.info("event.done", ms=round((time.perf_counter() - started) * 1000, 1))
        telemetry.EVENTS.labels(function, event.type, "done").inc()
    except (InvalidInput, NotFoundError) as exc:
        log.error("event.rejected", error=str(exc))  # fatal: acknowledge, do not make Knative retry
        telemetry.EVENTS.labels(function, event.type, "rejected").inc()
    except Exception:
        telemetry.EVENTS.labels(function, event.type, "failed").inc()
        telemetry.ERRORS.labels(function, "event").inc()
        raise
    finally:
        telemetry.EVENT_LATENCY.labels(function).observe(time.perf_counter() - started)
    try:
        rt.store.put(marker, event.model_dump_json().encode(), content_type="application/json", if_none_match=True)
    except ConflictError:
        pass  # a concurrent delivery finished the same work


def health(rt, request):
    """The HTTP routes of an event-only function: none beyond /healthz and /metrics, which serve answers."""
    from affiliate_matrix.errors import NotFoundError

    raise NotFoundError(f"no route for {request.path}")


def http_or_event(rt, request, route: Callable, work: Callable[[Event], None]):
    """For functions that take both: a CloudEvent (binary or structured, e.g. from a PingSource) goes
    through `receive`; anything else is an HTTP request for `route`."""
    from affiliate_matrix.handlers import json_response, serve

    if not (request.headers.get("ce-id") or request.mimetype == "application/cloudevents+json"):
        return serve(request, lambda r: route(rt, r), rt.flags)
    from cloudevents.http import from_http

    try:
        cloud_event = from_http(dict(request.headers), request.get_data())
    except Exception as exc:  # the SDK raises several unrelated types for a malformed event
        return json_response({"error": {"code": "invalid_event", "message": str(exc)}}, 400)
    if request.path == "/dead-letters":  # the Broker's dead-letter sink: keep it for a person to look at
        park(rt, Event.from_cloudevent(cloud_event), cloud_event.get("knativeerrordest"))
        return "", 204, {}
    receive(rt, cloud_event, work, request.headers.get("traceparent"))
    return "", 204, {}


def park(rt, event: Event, destination: str | None) -> None:
    import hashlib

    key = f"dead-letters/{event.type}/{hashlib.sha256(event.id.encode()).hexdigest()[:32]}.json"  # ids are free text
    rt.store.put(key, json.dumps({"event": event.model_dump(mode="json"), "destination": destination}).encode(),
                 content_type="application/json")
    log.error("event.dead_lettered", event_id=event.id, type=event.type, destination=destination)
