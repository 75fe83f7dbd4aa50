"""What an operator sees of an event refused (one log line naming it and why, never its data or a token), and what
a redelivery of an event whose work was done meets when a check added since would refuse it: acknowledged as done,
not parked. Each through a function's own HTTP stack."""

import base64
import gzip
import json

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.events.identity import audience, subject
from affiliate_matrix.observability import context_processors
from tests.support.apps import function_client as client
from tests.support.events import NAMESPACE, deliver_event, issuer, token_for

PING = "dev.knative.sources.ping"
SECRET_DATA = "s3cr3t-data-value"


def lines_of(name: str, lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["event"] == name]


def test_an_event_refused_for_its_shape_is_logged_once_naming_it_and_why_but_not_its_data(admin_env):
    verify = client("verify")  # made first: making it configures the logging a capture replaces
    with capture_logs(processors=context_processors()) as lines:
        answer = deliver_event(verify, "verify", PING, {"note": SECRET_DATA}, id="r1", specversion="0.3")
    assert answer.status_code == 400
    (refusal,) = lines_of("event.refused", lines)
    assert refusal["function"] == "verify" and refusal["event_id"] == "r1" and refusal["event_type"] == PING
    assert refusal["event_source"] == "/tests" and refusal["sender"].startswith("system:serviceaccount:")
    assert refusal["reason"] == answer.get_json()["error"]["message"]
    assert "event specversion '0.3'" in refusal["reason"]
    assert SECRET_DATA not in repr(lines)


def test_an_event_its_work_refuses_is_logged_once(admin_env):
    """The work's refusal was logged as event.rejected by the intake's receive; it is one event.refused now."""
    index = client("index")
    with capture_logs(processors=context_processors()) as lines:
        answer = deliver_event(index, "index", RAW_BATCH_STORED, {}, id="r2")
    assert answer.status_code == 400
    (refusal,) = lines_of("event.refused", lines)
    assert refusal["event_id"] == "r2" and "batch_key" in refusal["reason"]
    assert not lines_of("event.rejected", lines)


def test_an_event_refused_before_it_is_read_names_the_id_its_headers_give(admin_env):
    headers = {"ce-id": "b\x1b[2J", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": PING,
               "ce-time": "2026-11-22T06:00:00Z", "Content-Type": "application/json",
               "Authorization": f"Bearer {token_for('verify')}"}
    verify = client("verify")
    with capture_logs(processors=context_processors()) as lines:
        answer = verify.post("/", data=b'{"a": 1, "a": 2}', headers=headers)
    assert answer.status_code == 400
    (refusal,) = lines_of("event.refused", lines)
    assert refusal["event_id"] == "b\\x1b[2J" and "twice" in refusal["reason"]  # escaped, as it was not checked


@pytest.mark.parametrize("sent,logged", [
    ("a\u200bb", "a\\u200bb"),        # invisible: the console printed it as it is, shown as the id "ab"
    ("ｅ1", "\\uff451"),              # full-width: shown as the id "e1"
    ("x\ny", "x\\ny"),                # a line feed: printed quoted, not escaped
    ("a\\b\u202e", "a\\\\b\\u202e"),  # a backslash doubled where the rest is escaped: one reading
])
def test_the_id_of_an_event_refused_is_logged_escaped_never_as_sent(admin_env, sent, logged):
    """An event's id is logged before it is checked (event.refused names the event refused): JSON lines escaped what
    it held, the console printed a line feed quoted and an invisible or full-width character as it is, so the line
    named another id than the one sent. It is logged with every character but printable ASCII escaped
    (observability.escaped_for_log), on the console too; the event is refused naming the character."""
    from affiliate_matrix.observability import escape_controls

    verify = client("verify")
    with capture_logs(processors=context_processors()) as lines:
        answer = deliver_event(verify, "verify", PING, {}, id=sent)
    assert answer.status_code == 400 and "event id: holds U+" in answer.get_json()["error"]["message"]
    (refusal,) = lines_of("event.refused", lines)
    assert refusal["event_id"] == logged and escape_controls(None, None, dict(refusal))["event_id"] == logged


@pytest.mark.parametrize("authorization", ["Bearer not.a.jwt-secret-part", "Bearer "])
def test_an_event_refused_for_its_token_is_logged_with_why_but_never_the_token(admin_env, authorization):
    forged = issuer().token(audience(NAMESPACE, "programs"), subject(NAMESPACE, "verify"))  # another audience
    verify = client("verify")
    for sent in (authorization, f"Bearer {forged}"):
        with capture_logs(processors=context_processors()) as lines:
            answer = verify.post("/", data=b"{}", headers={
                "ce-id": "t1", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": PING,
                "ce-time": "2026-11-22T06:00:00Z", "Content-Type": "application/json", "Authorization": sent})
        assert answer.status_code == 401
        (refusal,) = lines_of("event.unauthenticated", lines)
        assert refusal["reason"] == answer.get_json()["error"]["message"]
        token = sent.partition(" ")[2]
        assert not token or (token not in repr(lines) and token.split(".")[-1] not in repr(lines))


@pytest.mark.parametrize("change", [
    pytest.param({"time": None}, id="no-time"),  # refused by check_body since audit21
    pytest.param({"datacontenttype": 5}, id="datacontenttype-a-number"),  # refused by event_of since events22
    pytest.param({"amxrulechain": "NOT A RULE"}, id="bad-rule-chain"),  # refused by the event model
])
def test_a_redelivery_of_an_event_done_is_acknowledged_though_a_check_added_since_refuses_it(admin_env, change):
    """Knative redelivers what it did not see acknowledged; a rollout between the delivery and its redelivery added
    a check the redelivery fails. Its work was done: it is acknowledged as done, not parked. A new event of that
    shape, or the same id with another body, is refused as before."""
    verify = client("verify")
    assert deliver_event(verify, "verify", PING, {}, id="d1").status_code == 204
    done = set(admin_env["rt"].store.list("events/done/"))
    with capture_logs(processors=context_processors()) as lines:
        again = deliver_event(verify, "verify", PING, {}, id="d1", **change)
    assert again.status_code == 204, again.get_data(as_text=True)
    assert lines_of("event.duplicate_skipped", lines) and not lines_of("event.refused", lines)
    assert set(admin_env["rt"].store.list("events/done/")) == done  # nothing claimed, nothing worked
    assert deliver_event(verify, "verify", PING, {}, id="d2", **change).status_code == 400
    assert deliver_event(verify, "verify", PING, {"other": 1}, id="d1", **change).status_code == 400


def test_a_redelivery_of_an_event_done_is_refused_from_any_sender_but_its_route(admin_env):
    verify = client("verify")
    assert deliver_event(verify, "verify", PING, {}, id="d3").status_code == 204
    envelope = {"specversion": "1.0", "id": "d3", "source": "/tests", "type": PING, "time": None, "data": {}}
    other = issuer().token(audience(NAMESPACE, "verify"), subject(NAMESPACE, "fn-web"))  # a namespace's pod's
    answer = verify.post("/", data=json.dumps(envelope), headers={
        "Content-Type": "application/cloudevents+json", "Authorization": f"Bearer {other}"})
    assert answer.status_code == 400 and "names no time" in answer.get_json()["error"]["message"]


def test_a_redelivery_refused_for_what_two_readers_read_apart_is_refused_though_done(admin_env):
    """A key given twice: the Broker may have routed another event than the one read here, so none is acknowledged."""
    verify = client("verify")
    assert deliver_event(verify, "verify", PING, {}, id="d4").status_code == 204
    body = json.dumps({"specversion": "1.0", "id": "d4", "source": "/tests", "type": PING,
                       "time": "2026-11-22T06:00:00Z", "data": {}})[:-1] + ', "id": "d4"}'
    answer = verify.post("/", data=body, headers={"Content-Type": "application/cloudevents+json",
                                                  "Authorization": f"Bearer {token_for('verify')}"})
    assert answer.status_code == 400


def test_an_event_with_no_data_and_a_datacontenttype_that_is_no_text_is_refused(admin_env):
    answer = deliver_event(client("verify"), "verify", PING, {}, datacontenttype=5)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == "event datacontenttype must be a media type (a string), not a number"


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_an_event_in_a_content_encoding_is_refused_naming_it(admin_env, coding):
    """Its bytes were read as they came: gzip's are no JSON, and the SDK's error was all the sender learnt."""
    body = gzip.compress(json.dumps({"specversion": "1.0", "id": "z1", "source": "/cron/verify", "type": PING,
                                     "time": "2026-11-22T06:00:00Z", "data": {}}).encode())
    verify = client("verify")
    with capture_logs(processors=context_processors()) as lines:
        answer = verify.post("/", data=body, headers={
            "Content-Type": "application/cloudevents+json", "Content-Encoding": coding,
            "Authorization": f"Bearer {token_for('verify')}"})
    assert answer.status_code == 415
    assert f"Content-Encoding {coding!r}, which is not decoded here" in answer.get_json()["error"]["message"]
    assert lines_of("event.refused", lines)


def test_a_request_body_in_a_content_encoding_is_refused_naming_it(admin_env):
    body = gzip.compress(b'{"id": "zipped", "source": "affiliateprograms"}')
    answer = client("connections").post("/connections", data=body, headers={
        **admin_env["admin"], "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert answer.status_code == 415
    assert "Content-Encoding 'gzip', which is not decoded here" in answer.get_json()["error"]["message"]
    plain = client("connections").post("/connections", data=b'{"id": "plain", "source": "affiliateprograms"}',
                                       headers={**admin_env["admin"], "Content-Type": "application/json",
                                                "Content-Encoding": "identity"})
    assert plain.status_code != 415, plain.get_data(as_text=True)


@pytest.mark.parametrize("extension,refused", [
    ({"amxnote": {"an": "object"}}, "event attribute amxnote: an extension's value is a string, an integer or a "
                                    "boolean (CloudEvents), not an object"),
    ({"amxnote": [1]}, "event attribute amxnote: an extension's value is a string, an integer or a boolean "
                       "(CloudEvents), not a list"),
    ({"amxnote": 1.5}, "not a number with a fraction"),
    ({"amxnote": 2**40}, "event attribute amxnote: 1099511627776 is past a CloudEvents Integer (32 bits)"),
    ({"amxnote": "x" * 2049}, "event attribute amxnote: 2049 characters, more than the 2048"),
    ({"amxnote": "a\ud800b"}, "event attribute amxnote holds a string that is not Unicode text"),
    ({"amxnote": "a\x1b[2Jb"}, "event attribute amxnote: holds U+001B"),
    ({"traceparent": "a\u202eb"}, "event attribute traceparent: holds U+202E"),
])
def test_an_extension_attribute_of_no_cloudevents_type_or_too_long_is_refused_naming_it(admin_env, extension,
                                                                                         refused):
    """Extension attributes were taken whatever they held (an object, 3 MB of text, a lone surrogate, an escape
    sequence) and kept: a dead letter holds them all. CloudEvents' are strings, integers and booleans."""
    answer = deliver_event(client("verify"), "verify", PING, {}, id="x1", **extension)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert refused in answer.get_json()["error"]["message"]


def test_an_extension_header_of_a_binary_event_too_long_is_refused_naming_it(admin_env):
    headers = {"ce-id": "x2", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": PING,
               "ce-time": "2026-11-22T06:00:00Z", "Content-Type": "application/json",
               "Authorization": f"Bearer {token_for('verify')}"}
    verify = client("verify")
    answer = verify.post("/", data=b"{}", headers={**headers, "ce-amxnote": "x" * 3000})
    assert answer.status_code == 400
    assert "event attribute amxnote: 3000 characters" in answer.get_json()["error"]["message"]
    assert verify.post("/", data=b"{}", headers={**headers, "ce-amxnote": "x" * 2048,
                                                  "ce-knativebrokerttl": "255"}).status_code == 204


def test_the_extensions_knative_and_our_senders_set_are_taken(admin_env):
    """traceparent (55 characters), a rule chain, Knative's arrival time, TTL and, on a dead letter, its error
    extensions (knativeerrordata: the base64 of at most 1,024 bytes of the answer refusing it) and an integer."""
    answer = deliver_event(client("verify"), "verify", PING, {}, id="x3",
                           traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01", amxrulechain="r1,r2",
                           knativearrivaltime="2026-11-22T06:00:00.5Z", knativebrokerttl=255, amxflag=True,
                           knativeerrordata=base64.b64encode(b"\xff" * 1024).decode(), amxnothing=None)
    assert answer.status_code == 204, answer.get_data(as_text=True)


def test_a_redelivery_done_under_a_marker_older_than_named_markers_is_acknowledged(admin_env):
    """A done marker written before markers named their function (the event's JSON under the digest of its source
    and id) is read by a delivery as done, but was not by the look for work done that a redelivery refused for its
    shape gets: one done then and refused now (naming no time) was parked."""
    from affiliate_matrix.events import Event

    store = admin_env["rt"].store
    done = Event(id="d5", source="/tests", type=PING, time="2026-11-22T06:00:00Z", data={})
    marker = "events/done/" + Event.make("marker", "x", {}, key="/tests|d5").id  # the code before wrote it
    store.put(marker, done.model_dump_json().encode())
    verify = client("verify")
    with capture_logs(processors=context_processors()) as lines:
        again = deliver_event(verify, "verify", PING, {}, id="d5", time=None)
    assert again.status_code == 204, again.get_data(as_text=True)
    assert lines_of("event.duplicate_skipped", lines)
    assert deliver_event(verify, "verify", PING, {"other": 1}, id="d5", time=None).status_code == 400
    # a pair holding '|': under the joined digest, which another pair joins to as well, or the length-prefixed one
    piped = Event(id="a|b", source="/tests", type=PING, time="2026-11-22T06:00:00Z", data={})
    store.put("events/done/" + Event.make("marker", "x", {}, key="/tests|a|b").id, piped.model_dump_json().encode())
    assert deliver_event(verify, "verify", PING, {}, id="a|b", time=None).status_code == 204
    assert deliver_event(verify, "verify", PING, {}, id="b", source="/tests|a", time=None).status_code == 400
    prefixed = Event(id="c|d", source="/tests", type=PING, time="2026-11-22T06:00:00Z", data={})
    marker = "events/done/" + Event.make("marker", "x", {}, key="6:/tests|c|d").id
    store.put(marker, prefixed.model_dump_json().encode())
    assert deliver_event(verify, "verify", PING, {}, id="c|d", time=None).status_code == 204


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_event_past_its_limit_is_answered_413_in_the_error_shape(admin_env, chunked):
    """An event larger than MAX_EVENT_BYTES was answered 400 invalid_request, where every other body past its route's
    limit is 413 content_too_large: it is that too, whether its Content-Length says so or it is read (chunked) no
    further than the limit."""
    import io

    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from affiliate_matrix.events import MAX_EVENT_BYTES

    body = b" " * MAX_EVENT_BYTES + b"{}"
    headers = {"ce-id": "big1", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": PING,
               "ce-time": "2026-11-22T06:00:00Z", "Content-Type": "application/json",
               "Authorization": f"Bearer {token_for('verify')}"}
    request = EnvironBuilder(path="/", method="POST", headers=headers, input_stream=io.BytesIO(body)).get_environ()
    if chunked:  # no length declared (the test client would declare one): read to its end, as gunicorn's chunks are
        del request["CONTENT_LENGTH"]
        request["wsgi.input_terminated"] = True
    answer, status, answer_headers = run_wsgi_app(client("verify").application, request)
    assert status.startswith("413") and json.loads(b"".join(answer)) == {"error": {
        "code": "content_too_large", "message": f"the event is larger than {MAX_EVENT_BYTES} bytes: send at most that",
        "request_id": answer_headers["X-Request-Id"]}}
    assert not list(admin_env["rt"].store.list("events/done/"))
