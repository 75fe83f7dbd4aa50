"""Event intake for the CloudEvent functions: an event id bound to every log line, at-most-once
work per (source, id) since Knative delivers at least once. Fatal errors are not retried: an event
that does not fit (its attributes, or data its work refuses) is answered 400 naming the problem, so
the Broker parks it as a dead letter; work on something that is gone, or on damaged stored data, is
logged and acknowledged."""

import json
import time
from collections.abc import Callable

from affiliate_matrix.errors import ConflictError, DamagedData, InvalidInput, NotFoundError
from affiliate_matrix.events import ACTION_PREFIX, Event
from affiliate_matrix.observability import bind_request, get_logger

log = get_logger()
MAX_EVENT_BYTES = 4 * 1024 * 1024


def event_of(cloud_event) -> Event:
    """The CloudEvent as our Event, or InvalidInput naming the attribute that does not fit."""
    from pydantic import ValidationError

    from affiliate_matrix.handlers import check_json

    try:
        event = Event.from_cloudevent(cloud_event)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidInput(f"event {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    check_json(event.data, "event data")
    return event


def receive(rt, cloud_event, work: Callable[[Event], None], traceparent: str | None = None) -> None:
    """Run event work once per (source, id): Knative delivers at least once. The trace continues from the
    event's traceparent extension, else the HTTP request's traceparent header."""
    from affiliate_matrix import telemetry

    event = event_of(cloud_event)
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
    except (InvalidInput, NotFoundError, DamagedData) as exc:
        log.error("event.rejected", error=str(exc))  # fatal: do not make Knative retry
        telemetry.EVENTS.labels(function, event.type, "rejected").inc()
        if isinstance(exc, InvalidInput):
            raise  # the event's own data is wrong: answered 400 naming it, and the Broker parks it
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

    def refused(message: str):
        return json_response({"error": {"code": "invalid_event", "message": message}}, 400)

    if (request.content_length or 0) > MAX_EVENT_BYTES:
        return refused(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    raw = request.stream.read(MAX_EVENT_BYTES + 1)
    if len(raw) > MAX_EVENT_BYTES:
        return refused(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    try:
        cloud_event = from_http(dict(request.headers), raw)
    except RecursionError:
        return refused("the event is nested too deeply")
    except Exception as exc:  # the SDK raises several unrelated types for a malformed event
        return refused(str(exc)[:500])
    try:
        if request.path == "/dead-letters":  # the Broker's dead-letter sink: keep it for a person to look at
            park(rt, event_of(cloud_event), cloud_event.get("knativeerrordest"))
            return "", 204, {}
        receive(rt, cloud_event, work, request.headers.get("traceparent"))
    except InvalidInput as exc:  # the event itself does not fit (its work's own refusals are acknowledged)
        log.error("event.invalid", error=str(exc))
        return refused(str(exc))
    return "", 204, {}


def park(rt, event: Event, destination: str | None) -> None:
    import hashlib

    key = f"dead-letters/{event.type}/{hashlib.sha256(event.id.encode()).hexdigest()[:32]}.json"  # ids are free text
    rt.store.put(key, json.dumps({"event": event.model_dump(mode="json"), "destination": destination}).encode(),
                 content_type="application/json")
    log.error("event.dead_lettered", event_id=event.id, type=event.type, destination=destination)
