"""CloudEvents' HTTP modes as an attacker with a route's token sends them, each through a function's own HTTP stack:
a version other than 1.0, a batch, a request both binary and structured, a method other than POST. Each was worked
on (or answered as no event) before; each is refused naming what is wrong, and no work is done for it."""

import json

import pytest

from tests.support.apps import function_client as client
from tests.support.events import deliver_event, token_for

TIME = "2026-11-22T06:00:00Z"


def refused(response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert fragment in response.get_json()["error"]["message"], response.get_json()


def binary_headers(**changed) -> dict:
    """A PingSource's tick to verify in binary mode, signed by its route."""
    return {"ce-id": "b1", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": "dev.knative.sources.ping",
            "ce-time": TIME, "Content-Type": "application/json", "Authorization": f"Bearer {token_for('verify')}",
            **changed}


def structured_event(**changed) -> dict:
    return {"specversion": "1.0", "id": "s1", "source": "/cron/verify", "type": "dev.knative.sources.ping",
            "time": TIME, "datacontenttype": "application/json", "data": {}, **changed}


def nothing_done(admin_env) -> None:
    assert not list(admin_env["rt"].store.list("events/done/"))


@pytest.mark.parametrize("specversion,fragment", [
    # 0.3 was taken and read by 0.3's rules (datacontentencoding, schemaurl), which no sender here follows
    ("0.3", "event specversion '0.3': only CloudEvents 1.0 events are taken"),
    ("1.0 ", "event specversion '1.0 ': only CloudEvents 1.0 events are taken"),
    # the SDK's word for a number was "Found invalid specversion 1.0", naming the very version it wanted
    (1.0, "event specversion 1.0 (a number): only CloudEvents 1.0 events are taken"),
    ("2.0", "event specversion '2.0': only CloudEvents 1.0 events are taken"),
    ({"v": 1}, 'event specversion {"v": 1} (an object): only CloudEvents 1.0'),
    (None, "event specversion missing: only CloudEvents 1.0 events are taken"),
])
def test_a_structured_event_of_another_specversion_is_refused_naming_it(admin_env, specversion, fragment):
    refused(deliver_event(client("verify"), "verify", "dev.knative.sources.ping", {}, specversion=specversion), 400,
            fragment)
    nothing_done(admin_env)


def test_a_binary_event_of_another_specversion_is_refused_naming_it(admin_env):
    refused(client("verify").post("/", data=b"{}", headers=binary_headers(**{"ce-specversion": "0.3"})), 400,
            "event specversion '0.3': only CloudEvents 1.0 events are taken")
    nothing_done(admin_env)


@pytest.mark.parametrize("function", ["verify", "index", "triggers"])
def test_a_batch_of_events_is_refused_as_one_not_answered_as_no_route(admin_env, function):
    """A batch (application/cloudevents-batch+json) was no event to the intake: an event-only function answered 404
    "no route for /", the triggers function took it for an API request. Knative sends one event per request."""
    answer = client(function).post("/", data=json.dumps([structured_event()]), headers={
        "Content-Type": "application/cloudevents-batch+json", "Authorization": f"Bearer {token_for(function)}"})
    refused(answer, 400, "a batch of CloudEvents (application/cloudevents-batch+json) is not taken: send each event "
                         "in a request of its own")
    nothing_done(admin_env)


@pytest.mark.parametrize("body,kind", [([{"specversion": "1.0"}], "a list"), ("x", "a string"), (5, "a number")])
def test_a_structured_event_that_is_no_json_object_is_refused_without_echoing_it(admin_env, body, kind):
    """The SDK's refusal quoted the body whole ("The following deserialized data has no 'get' method: [...]")."""
    answer = client("verify").post("/", data=json.dumps(body), headers={
        "Content-Type": "application/cloudevents+json", "Authorization": f"Bearer {token_for('verify')}"})
    refused(answer, 400, f"a structured CloudEvent is a JSON object, not {kind}")
    assert "specversion" not in answer.get_json()["error"]["message"]


def test_an_event_both_binary_and_structured_is_refused(admin_env):
    """ce- headers and a structured body: the SDK read the headers as the event and the envelope as its data, where a
    reader going by the Content-Type (Knative's Go SDK) reads the envelope: two events."""
    answer = client("verify").post("/", data=json.dumps(structured_event()), headers=binary_headers(**{
        "Content-Type": "application/cloudevents+json"}))
    refused(answer, 400, "the event is sent both in binary mode (ce- headers) and structured "
                         "(Content-Type application/cloudevents+json)")
    nothing_done(admin_env)


@pytest.mark.parametrize("media_type", ["application/cloudevents", "application/cloudevents+xml",
                                        "application/cloudevents+protobuf", "Application/CloudEvents+CBOR; x=1"])
def test_a_structured_event_in_a_format_other_than_json_is_refused_naming_it(admin_env, media_type):
    """The SDK read any application/cloudevents… body as CloudEvents' JSON format and worked the event, where a reader
    going by the Content-Type (Knative's Go SDK, amx up's broker) reads no JSON event from it."""
    answer = client("verify").post("/", data=json.dumps(structured_event()), headers={
        "Content-Type": media_type, "Authorization": f"Bearer {token_for('verify')}"})
    refused(answer, 400, f"a structured CloudEvent is sent as application/cloudevents+json (CloudEvents' JSON "
                         f"format), not {media_type.partition(';')[0].lower()}")
    nothing_done(admin_env)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_event_is_taken_only_when_posted(admin_env, method):
    """An event sent with GET, PUT or DELETE was worked on as one POSTed; CloudEvents' HTTP binding and Knative POST."""
    answer = client("verify").open("/", method=method, data=b"{}", headers=binary_headers())
    refused(answer, 405, f"method {method} is not allowed here; use POST")
    assert answer.headers["Allow"] == "POST"
    nothing_done(admin_env)


def test_a_binary_event_with_an_empty_ce_id_is_refused_naming_the_id(admin_env):
    """An empty ce-id made the request no event: answered 404 "no route for /"."""
    refused(client("verify").post("/", data=b"{}", headers=binary_headers(**{"ce-id": ""})), 400, "event id")
    nothing_done(admin_env)


def test_a_binary_and_a_structured_event_of_1_0_are_still_taken(admin_env):
    assert client("verify").post("/", data=b"{}", headers=binary_headers()).status_code == 204
    assert deliver_event(client("verify"), "verify", "dev.knative.sources.ping", {}).status_code == 204


def test_an_event_with_some_binary_headers_only_is_refused(admin_env):
    """ce-id and ce-specversion without ce-source and ce-type: the SDK read the body as a structured event (whatever
    its Content-Type), a reader going by the ce- headers (Knative's Go SDK) a binary one missing two attributes."""
    headers = {name: value for name, value in binary_headers().items() if name not in ("ce-source", "ce-type")}
    refused(client("verify").post("/", data=json.dumps(structured_event()), headers=headers), 400,
            "the event gives ce-id, ce-specversion but not ce-source, ce-type: a binary event gives all four headers")
    nothing_done(admin_env)


@pytest.mark.parametrize("encode,fragment", [
    (lambda text: text.encode("utf-16"), "the event is not UTF-8 (byte 0): JSON is sent in UTF-8"),
    (lambda text: text.encode("utf-32-le"), "the event is not UTF-8"),
    (lambda text: b"\xef\xbb\xbf" + text.encode(), "the event starts with a byte order mark: JSON is sent in UTF-8"),
])
@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_an_event_in_json_other_than_utf_8_is_refused(admin_env, encode, fragment, mode):
    """Python's json reads bytes in UTF-16 or UTF-32, and UTF-8 after a byte order mark, as JSON; JSON between systems
    is UTF-8 without one (RFC 8259), and Knative's Go SDK reads none of them: the event was worked on all the same."""
    if mode == "structured":
        headers = {"Content-Type": "application/cloudevents+json", "Authorization": f"Bearer {token_for('verify')}"}
        answer = client("verify").post("/", data=encode(json.dumps(structured_event())), headers=headers)
    else:
        answer = client("verify").post("/", data=encode(json.dumps({"n": 1})), headers=binary_headers())
    refused(answer, 400, fragment)
    nothing_done(admin_env)


@pytest.mark.parametrize("header", ["ce-id", "ce-source", "ce-subject"])
def test_a_binary_event_giving_an_attribute_header_twice_is_refused(admin_env, header):
    """The WSGI server joins a header given twice into one value, with a comma: the event was worked on as id "b1, b2"
    (or from source "/cron/verify, /x"), where a reader taking the first (Go's Header.Get, Knative's) read another."""
    from werkzeug.datastructures import Headers

    headers = Headers(list(binary_headers(**{"ce-subject": "s1"}).items()))
    headers.add(header, "x2")
    refused(client("verify").post("/", data=b"{}", headers=headers), 400,
            f"event attribute {header[3:]}: its {header} header is given twice (joined by a comma)")
    nothing_done(admin_env)
