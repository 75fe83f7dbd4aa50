"""Event intake for the CloudEvent functions: an event id bound to every log line, at-most-once
work per (source, id) since Knative delivers at least once, and fatal errors acknowledged."""

from collections.abc import Callable

from affiliate_matrix.errors import ConflictError, InvalidInput, NotFoundError
from affiliate_matrix.events import Event
from affiliate_matrix.observability import bind_request, get_logger

log = get_logger()


def receive(rt, cloud_event, work: Callable[[Event], None]) -> None:
    """Run event work once per (source, id): Knative delivers at least once."""
    event = Event.from_cloudevent(cloud_event)
    bind_request(event.id, event_type=event.type, event_source=event.source)
    marker = "events/done/" + Event.make("marker", "x", {}, key=f"{event.source}|{event.id}").id
    if rt.store.head(marker) is not None:
        log.info("event.duplicate_skipped")
        return
    try:
        work(event)
    except (InvalidInput, NotFoundError) as exc:
        log.error("event.rejected", error=str(exc))  # fatal: acknowledge, do not make Knative retry
    try:
        rt.store.put(marker, event.model_dump_json().encode(), content_type="application/json", if_none_match=True)
    except ConflictError:
        pass  # a concurrent delivery finished the same work
