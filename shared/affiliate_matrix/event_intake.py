"""An incoming CloudEvent, read and checked as every function reads it (read_event): by the functions' intake
(handlers.events, which then checks who sent it, where it is routed and runs its work) and by amx up's Broker at its
ingress (localrun.router), so the Broker queues no event that every function would refuse, and refuses it in the
functions' words. Apart from the event model (events, which only an event imports): the functions' routing reads how
a request is sent (sent_as_event) at every request, and a function's start imports none of the model."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from affiliate_matrix.errors import InvalidInput

if TYPE_CHECKING:
    from affiliate_matrix.events import Event

STRUCTURED = "application/cloudevents"  # the media types of a structured event (+json) and of a batch (-batch+json)
STRUCTURED_JSON = "application/cloudevents+json"  # CloudEvents' JSON format: the one every sender here uses
BATCH = "application/cloudevents-batch+json"
BINARY_REQUIRED = ("ce-id", "ce-source", "ce-specversion", "ce-type")  # what makes the SDK read an event as binary


def media_type(headers: Mapping[str, str]) -> str:
    """The request's Content-Type without its parameters, lower-cased (as werkzeug's request.mimetype)."""
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    return content_type.partition(";")[0].strip().lower()


def sent_as_event(headers: Mapping[str, str]) -> bool:
    """Whether a request is sent as a CloudEvent: any ce- attribute header the SDK reads a binary event by (an empty
    ce-id too: it was answered as an HTTP request, 404), or a CloudEvents media type (a batch too, refused by the
    intake naming it, where it was answered as an HTTP request)."""
    names = {name.lower() for name in headers.keys()}
    return any(name in names for name in BINARY_REQUIRED) or media_type(headers).startswith(STRUCTURED)


class ShapeRefused(InvalidInput):
    """An event refused for its shape alone: every reader reads the one event from it (its source, id, type and
    body), unlike one refused for what two readers read apart (a key given twice, a request both binary and
    structured), where the Broker may have routed another event than the one we read. A redelivery of one whose work
    is done already is acknowledged as done (handlers.events _done_already): a check added between a delivery and its
    redelivery (a rollout) must not park work that was done."""


def event_of(cloud_event) -> Event:
    """The CloudEvent as our Event, or InvalidInput naming the attribute that does not fit."""
    from pydantic import ValidationError

    from affiliate_matrix.events import DATA_KINDS, Event
    from affiliate_matrix.json_input import check_json, json_media_type

    data, declared = cloud_event.data, cloud_event.get("datacontenttype")
    if data not in (None, b"", "") and not isinstance(data, dict):  # no body (a PingSource without data) is no data
        kind = next((name for types, name in DATA_KINDS if isinstance(data, types)), type(data).__name__)
        raise InvalidInput(f"event data must be a JSON object, not {kind} "
                           f"({str(declared or 'no datacontenttype')[:100]})")
    # The SDK reads JSON whatever the event declares (a binary event's Content-Type, a structured one's
    # datacontenttype): data declared otherwise is refused, as a reader going by the declaration reads other data.
    # None declared is JSON, as CloudEvents' JSON format says.
    if data and declared is not None and not (isinstance(declared, str) and json_media_type(declared)):
        raise InvalidInput(f"event data must be JSON, declared as application/json, not {str(declared)[:100]!r}")
    if declared is not None and not isinstance(declared, str):  # a structured event's may be any JSON; with no data too
        kind = next((name for types, name in DATA_KINDS if isinstance(declared, types)), type(declared).__name__)
        raise InvalidInput(f"event datacontenttype must be a media type (a string), not {kind}")
    try:
        event = Event.from_cloudevent(cloud_event)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidInput(f"event {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    check_json(event.data, "event data")
    return event


def read_event(headers: Mapping[str, str], raw: bytes, parking: bool = False) -> tuple[Any, Event | InvalidInput]:
    """The CloudEvent the SDK reads from a request (its headers, its body) and the Event it is, or why every function
    refuses it. InvalidInput raised for what is refused outright, no CloudEvent read: a request not sent as one, what
    check_body refuses, what the SDK cannot read, and what check_body finds unfit but for its shape alone (ShapeRefused)
    unless `parking` (the Broker's dead letters: each is parked as it came, with why). Returned with the CloudEvent:
    a refusal for the event's shape alone (ShapeRefused, event_of's), which a function acknowledges for a redelivery of
    work it did (handlers.events _done_already), and every refusal when `parking`."""
    if not sent_as_event(headers):
        raise InvalidInput(f"not a CloudEvent: send one in binary mode (the {', '.join(BINARY_REQUIRED)} headers) or "
                           f"structured (Content-Type {STRUCTURED_JSON})")
    unfit = check_body(headers, raw)
    if unfit is not None and not parking and not isinstance(unfit, ShapeRefused):
        raise unfit
    from cloudevents.http import from_http

    try:
        cloud_event = from_http(headers, raw)
    except RecursionError:
        raise InvalidInput("the event is nested too deeply") from None
    except Exception as exc:  # the SDK raises several unrelated types for a malformed event
        if unfit is not None:
            raise unfit from None
        raise InvalidInput(f"not a CloudEvent: {str(exc)[:500]}") from None
    if unfit is not None:  # its JSON, refused before the SDK read it
        return cloud_event, unfit
    try:
        return cloud_event, event_of(cloud_event)
    except InvalidInput as exc:
        return cloud_event, exc


def check_body(headers: Mapping[str, str], raw: bytes) -> InvalidInput | None:
    """Before the CloudEvents SDK reads the event: InvalidInput raised for more than MAX_EVENT_ATTRIBUTES attributes,
    counted as the SDK will read them (binary: the ce- headers; structured: the members of the JSON object), and
    returned for JSON a request body is refused for (handlers.body_of: a key given twice, which parsers read
    differently, or an integer past Python's digits, whose error told the sender to call
    sys.set_int_max_str_digits()), or for what two readers would read as two events (an attribute's name that is not
    one, both data and data_base64, a binary event's ce-datacontenttype). The SDK reads as JSON a binary event's body
    whatever its Content-Type says, and a structured event's data_base64 once decoded, so those are checked too."""
    from cloudevents.sdk.converters.binary import is_binary

    from affiliate_matrix.events import DATA_KINDS, MAX_EVENT_ATTRIBUTES, attributes_refused, read_apart

    binary = is_binary(headers)
    lowered = {name.lower(): value for name, value in headers.items()}
    sent_type = media_type(headers)
    if sent_type == BATCH:  # Knative sends one event per request; the SDK reads no batch
        raise InvalidInput(f"a batch of CloudEvents ({BATCH}) is not taken: send each event in a request of its own")
    document, unfit = _json_of(raw)
    if not binary and document is not None and not isinstance(document, dict):  # the SDK's refusal quoted it whole
        kind = next((name for types, name in DATA_KINDS if isinstance(document, types)), type(document).__name__)
        raise InvalidInput(f"a structured CloudEvent is a JSON object, not {kind}")
    if not binary and unfit is None and isinstance(document, dict) and isinstance(document.get("data_base64"), str):
        try:
            _, unfit = _json_of(base64.b64decode(document["data_base64"], validate=True))
        except ValueError:  # the SDK drops what is no base64 digit ("!!!" read as no data), Knative's Go SDK refuses it
            unfit = InvalidInput("event data_base64 is not base64 (RFC 4648: its 64 digits, padded with =, no line "
                                 "breaks)")
    # the attributes as the SDK reads them: none where the body is no JSON object (the SDK names that)
    attributes = {name[3:].lower(): value for name, value in headers.items() if name.lower().startswith("ce-")} \
        if binary else document if isinstance(document, dict) else None
    if (count := len(attributes or ())) > MAX_EVENT_ATTRIBUTES:
        raise InvalidInput(f"the event has {count} attributes: more than {MAX_EVENT_ATTRIBUTES} attributes are refused")
    if unfit is None and attributes is not None and (apart := read_apart(attributes, structured=not binary)):
        unfit = InvalidInput(apart)
    # Two readers read one request as two events: the SDK reads ce- headers (all of BINARY_REQUIRED) as a binary event
    # and a structured body then as its data, a reader going by the Content-Type (Knative's Go SDK) reads the body as
    # the event; with some of those headers only, the SDK reads the body as the event, the Go SDK a binary one.
    if unfit is None and binary and sent_type.startswith(STRUCTURED):
        unfit = InvalidInput(f"the event is sent both in binary mode (ce- headers) and structured (Content-Type "
                             f"{sent_type[:100]}): send one of the two")
    # The SDK reads any application/cloudevents… body as the JSON format; a reader going by the Content-Type (Knative's
    # Go SDK, amx up's broker) reads no JSON event from one declared +xml, +protobuf or with no format
    if unfit is None and not binary and sent_type.startswith(STRUCTURED) and sent_type != STRUCTURED_JSON:
        unfit = InvalidInput(f"a structured CloudEvent is sent as {STRUCTURED_JSON} (CloudEvents' JSON format), not "
                             f"{sent_type[:100]}")
    if unfit is None and not binary and (given := [name for name in BINARY_REQUIRED if name in lowered]):
        missing = ", ".join(name for name in BINARY_REQUIRED if name not in lowered)
        unfit = InvalidInput(f"the event gives {', '.join(given)} but not {missing}: a binary event gives all four "
                             "headers, a structured one none")
    # A header given twice reaches us joined by a comma (WSGI), where a reader taking the first (Go's Header.Get) reads
    # another id: no sender's id, source or subject holds one (a type, time or specversion with one is refused anyway)
    if unfit is None and binary and (twice := next((name for name in ("ce-id", "ce-source", "ce-subject")
                                                    if "," in lowered.get(name, "")), None)):
        unfit = InvalidInput(f"event attribute {twice[3:]}: its {twice} header is given twice (joined by a comma), or "
                             "holds a comma, which no sender's does")
    # The SDK takes such a header over the Content-Type, which CloudEvents' HTTP binding says declares the data
    if unfit is None and binary and any(name.lower() == "ce-datacontenttype" for name in headers):
        unfit = InvalidInput("a binary event's datacontenttype is its Content-Type header, not a ce-datacontenttype "
                             "header: send the data's type as the Content-Type alone")
    # Last, what refuses the event for its shape alone (ShapeRefused), once nothing two readers read apart is found:
    # one done before such a check was added is acknowledged (handlers.events take_event).
    if unfit is None and attributes is not None and (refused := attributes_refused(attributes)):
        unfit = ShapeRefused(refused)
    return unfit


def _json_of(raw: bytes) -> tuple[object, InvalidInput | None]:
    """(the JSON in `raw`, None), read as a request body is; (it as json reads it, or None, and why it is refused);
    (None, None) for what is not JSON (the SDK names what is wrong with it, or keeps it as data that is no object)."""
    from affiliate_matrix.json_input import _finite_number, _once_each, _whole_number, json_text

    try:
        try:
            text = json_text(raw, "the event")
        except InvalidInput as exc:  # refused when the SDK would read it as JSON all the same (UTF-16, a BOM)
            json.loads(raw)
            return None, exc
        try:
            return json.loads(text, object_pairs_hook=_once_each, parse_int=_whole_number,
                              parse_float=_finite_number), None
        except InvalidInput as exc:
            try:
                return json.loads(text), exc
            except ValueError:
                return None, exc
    except RecursionError:
        raise InvalidInput("the event is nested too deeply") from None
    except ValueError:
        return None, None
