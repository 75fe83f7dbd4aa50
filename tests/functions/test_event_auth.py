"""Events are taken only from their sender as Knative Eventing identifies it: an OIDC token for
the receiving function, signed by the issuer the function trusts (here the test issuer,
tests/support/events.py), only of a type the manifests route to that function, and only from the
service account of the route that sends it there."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from functions_framework import create_app

from affiliate_matrix.config import Settings
from affiliate_matrix.events import ACTION_PREFIX, PROGRAM_DELTA, RAW_BATCH_STORED, Event
from affiliate_matrix.events.identity import MAX_TOKEN_LIFETIME_S, audience, subject
from affiliate_matrix.localrun.issuer import LocalIssuer
from affiliate_matrix.runtime import Runtime
from tests.support.events import NAMESPACE, attributes_of, deliver, issuer, plan, signed_event, token_for
from tests.support.processes import ROOT

# Every function that takes events, with one event the manifests route to it.
ROUTED = {
    "budget": Event.make("dev.knative.sources.ping", "/cron/budget", {}),
    "connections": Event.make(ACTION_PREFIX + "resync", "/triggers", {"params": {"connection_id": "nope"}}),
    "discover": Event.make(ACTION_PREFIX + "discover", "/triggers", {"params": {"niche": "pets"}}),
    "index": Event.make(RAW_BATCH_STORED, "/scrape/x", {"batch_key": "batches/none/00/" + "0" * 64 + ".jsonl"}),
    "keys": Event.make(ACTION_PREFIX + "rotate_key", "/x", {"params": {"path": "connections/demo"}}),
    "scrape": Event.make("dev.knative.sources.ping", "/cron/scrape", {"connection_id": "nope"}),
    "sync": Event.make("dev.knative.sources.ping", "/cron/sync", {"connection_id": "nope"}),
    "triggers": Event.make(PROGRAM_DELTA, "/index", {"program_id": "p_0000000000000000"}),
    "verify": Event.make("dev.knative.sources.ping", "/cron/verify", {}),
}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    return tmp_path


def app(name):
    return create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()


def now() -> int:
    return int(time.time())


def claims(function: str, **changes) -> dict:
    return {"iss": issuer().name, "aud": [audience(NAMESPACE, function)], "sub": subject(NAMESPACE, "t"),
            "iat": now(), "exp": now() + 600, **changes}


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


def hs256_with_the_public_key(function: str) -> str:
    """The classic confusion: HMAC keyed with the RSA public key every sender can read."""
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer().kid}
    signing_input = unsigned(header, claims(function)).rsplit(".", 1)[0]
    signature = hmac.new(issuer().public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def forged_signature(function: str) -> str:
    """Signed by another key that claims the trusted key's id."""
    impostor = LocalIssuer(issuer().folder.parent / f"impostor-{function}", name=issuer().name)
    return impostor.sign(claims(function), headers={"kid": issuer().kid})


@pytest.mark.parametrize("function", sorted(ROUTED))
@pytest.mark.parametrize("authorization", [
    pytest.param(lambda f: "", id="unsigned"),
    pytest.param(lambda f: f"Bearer {forged_signature(f)}", id="forged-signature"),
    pytest.param(lambda f: f"Bearer {token_for('programs')}", id="wrong-audience"),
])
def test_each_event_function_refuses_an_event_without_its_token(data_dir, function, authorization):
    headers, body = signed_event(ROUTED[function], function, authorization=authorization(function))
    reply = app(function).post("/", headers=headers, data=body)
    assert reply.status_code == 401, reply.get_data(as_text=True)
    assert reply.json["error"]["code"] == "unauthorized" and reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert not list(Runtime("test", Settings(data_dir=data_dir)).store.list("events/done/"))  # no work was done


def another_routes_sender(function: str) -> str:
    """A route's own service account that does not send ROUTED[function] to `function`: one sending another
    type there when there is one (index, triggers: a Trigger's account used for a type another routes), else
    any other route's (a PingSource's or a Trigger's, sending to another function)."""
    own = plan().senders(function, attributes_of(ROUTED[function]))
    sends = [(route.subscriber, route.sender) for route in plan().routes] + [(p.sink, p.sender) for p in plan().pings]
    return min((to != function, sender) for to, sender in sends if sender not in own)[1]


@pytest.mark.parametrize("function", sorted(ROUTED))
@pytest.mark.parametrize("account", [
    pytest.param(lambda f: "fn-web", id="web-function"),  # any pod of the namespace can ask TokenRequest for this
    pytest.param(lambda f: "default", id="default-account"),
    pytest.param(another_routes_sender, id="another-route"),
])
def test_each_event_function_refuses_a_token_for_it_from_any_account_but_the_routes(data_dir, function, account):
    """Signed by the cluster, for this function's audience, from the namespace: all true of a token any pod of
    the namespace can request (TokenRequest) for itself. Only the route's own service account may deliver."""
    sender = subject(NAMESPACE, account(function))
    headers, body = signed_event(ROUTED[function], function, authorization="Bearer " + issuer().token(
        audience(NAMESPACE, function), sender))
    reply = app(function).post("/", headers=headers, data=body)
    assert reply.status_code == 403, reply.get_data(as_text=True)
    assert reply.json["error"]["message"] == f"{ROUTED[function].type} events to {function} are not sent by {sender}"
    assert not list(Runtime("test", Settings(data_dir=data_dir)).store.list("events/done/"))  # no work was done
    own = deliver(app(function), ROUTED[function], function)  # its route's token: past the checks, to the work
    assert own.status_code not in (401, 403), own.get_data(as_text=True)


def test_the_refusal_names_the_sender_and_type_in_the_log_but_never_the_token(data_dir):
    from structlog.testing import capture_logs

    from affiliate_matrix.observability import context_processors

    token = issuer().token(audience(NAMESPACE, "keys"), subject(NAMESPACE, "fn-web"))
    headers, body = signed_event(ROUTED["keys"], "keys", authorization=f"Bearer {token}")
    keys = app("keys")
    with capture_logs(processors=context_processors()) as lines:
        assert keys.post("/", headers=headers, data=body).status_code == 403
    (refusal,) = [line for line in lines if line["event"] == "event.wrong_sender"]
    assert refusal["sender"] == subject(NAMESPACE, "fn-web") and refusal["event_type"] == ROUTED["keys"].type
    assert token not in repr(lines) and token.split(".")[2] not in repr(lines)


@pytest.mark.parametrize("token,message", [
    (lambda: issuer().token(audience(NAMESPACE, "index"), subject(NAMESPACE, "t"), lifetime_s=-120), "expired"),
    (lambda: issuer().token(audience(NAMESPACE, "index"), subject(NAMESPACE, "t"), lifetime_s=MAX_TOKEN_LIFETIME_S + 1),
     f"longer than the {MAX_TOKEN_LIFETIME_S} s"),
    (lambda: issuer().sign(claims("index", iss="https://kubernetes.default.svc")), "another issuer"),
    (lambda: issuer().sign(claims("index", sub="system:serviceaccount:elsewhere:t")), "namespace affiliate-matrix"),
    (lambda: issuer().sign({k: v for k, v in claims("index").items() if k != "exp"}), "exp"),
    (lambda: unsigned({"alg": "none", "typ": "JWT", "kid": issuer().kid}, claims("index")), "not signed with RS256"),
    (lambda: hs256_with_the_public_key("index"), "not signed with RS256"),
    (lambda: unsigned({"alg": "RS256", "typ": "JWT"}, claims("index")), "names no signing key"),
    (lambda: "not.a.jwt", "not a JWT"),
])
def test_a_token_that_is_not_the_brokers_is_refused_with_the_reason(data_dir, token, message):
    headers, body = signed_event(ROUTED["index"], "index", authorization=f"Bearer {token()}")
    reply = app("index").post("/", headers=headers, data=body)
    assert reply.status_code == 401 and message in reply.json["error"]["message"], reply.json


def test_a_token_naming_a_key_the_issuer_does_not_publish_is_refused_once_the_keys_are_fetched_again(data_dir,
                                                                                                     monkeypatch):
    """An unknown key id refetches the issuer's keys (at most once per interval): a key the refetch does not hold is
    a 401. Another unknown key id before the next refetch is due is a 503 with Retry-After, not a 401: it may be a
    key rotated in moments ago, and a 401 would lose the event for good."""
    from affiliate_matrix.events import identity

    monkeypatch.setattr(identity, "_issuers", {})  # a key cache of this test's own: its first unknown key refetches
    replies = []
    for kid in ("no-such-key", "another-made-up-key"):
        headers, body = signed_event(ROUTED["index"], "index",
                                     authorization=f"Bearer {issuer().sign(claims('index'), headers={'kid': kid})}")
        replies.append(app("index").post("/", headers=headers, data=body))
    assert replies[0].status_code == 401 and "does not publish" in replies[0].json["error"]["message"]
    assert replies[1].status_code == 503 and int(replies[1].headers["Retry-After"]) > 0


def test_the_unauthenticated_rotate_key_curl_is_refused_and_rotates_nothing(data_dir):
    """The issue's reproduction: a binary CloudEvent with ce-* headers and no credentials."""
    from affiliate_matrix.keys import KeyRecord, add_key

    rt = Runtime("test", Settings(data_dir=data_dir))
    at = datetime.now(UTC)
    add_key(rt, KeyRecord(path="connections/x", rotation="generate", generated_fields=["api_token"], created_at=at,
                          expires_at=at + timedelta(days=90)), {"api_token": "old-value"})
    reply = app("keys").post("/", data=b'{"params":{"path":"connections/x"}}', headers={
        "ce-id": "1", "ce-source": "/x", "ce-specversion": "1.0", "ce-type": "dev.affiliatematrix.action.rotate_key",
        "Content-Type": "application/json"})
    assert reply.status_code == 401
    current = rt.secrets.read("connections/x")
    assert current.version == 1 and current.data["api_token"] == "old-value"


def test_an_action_runs_only_at_the_function_its_type_is_routed_to(data_dir):
    from affiliate_matrix.keys import KeyRecord, add_key

    rt = Runtime("test", Settings(data_dir=data_dir))
    at = datetime.now(UTC)
    add_key(rt, KeyRecord(path="connections/demo", rotation="generate", generated_fields=["api_token"], created_at=at,
                          expires_at=at + timedelta(days=90)), {"api_token": "old-value"})
    rotate = ROUTED["keys"]
    refused = deliver(app("triggers"), rotate, "triggers")  # a valid token, but Triggers route rotate_key to keys
    assert refused.status_code == 403 and "not routed to triggers" in refused.json["error"]["message"]
    assert rt.secrets.read("connections/demo").version == 1
    assert deliver(app("keys"), ROUTED["triggers"], "keys").status_code == 403  # program.delta goes to triggers
    assert deliver(app("keys"), rotate, "keys").status_code == 204
    assert rt.secrets.read("connections/demo").version == 2


def test_dead_letters_are_taken_only_by_the_brokers_dead_letter_sink_and_only_signed(data_dir):
    event = Event.make(PROGRAM_DELTA, "/index", {"x": 1})
    rt = Runtime("test", Settings(data_dir=data_dir))
    headers, body = signed_event(event, "triggers", authorization="")
    assert app("triggers").post("/dead-letters", headers=headers, data=body).status_code == 401
    assert deliver(app("index"), event, "index", path="/dead-letters").status_code == 404  # not the sink
    assert not list(rt.store.list("dead-letters/"))
    assert deliver(app("triggers"), event, "triggers", path="/dead-letters").status_code == 204
    assert len(list(rt.store.list("dead-letters/"))) == 1


@pytest.mark.parametrize("account", [
    "fn-web", "fn-triggers",  # accounts of the namespace, the sink's own among them
    "verify-daily-oidc-sources.knative.dev-pingsource",  # a PingSource's: Knative parks no dead letter for one
])
def test_dead_letters_are_taken_only_from_the_triggers_the_broker_parks_them_for(data_dir, account):
    """Knative's Broker sends a Trigger's dead letters with that Trigger's identity (filter_handler.go
    handleDispatchToDLSRequest): every Trigger here parks with the Broker's sink, and no one else may."""
    event = Event.make(PROGRAM_DELTA, "/index", {"x": 1})
    rt = Runtime("test", Settings(data_dir=data_dir))
    sender = subject(NAMESPACE, account)
    headers, body = signed_event(event, "triggers", authorization="Bearer " + issuer().token(
        audience(NAMESPACE, "triggers"), sender))
    reply = app("triggers").post("/dead-letters", headers=headers, data=body)
    assert reply.status_code == 403, reply.get_data(as_text=True)
    message = f"dead letters of {PROGRAM_DELTA} events to triggers are not sent by {sender}"
    assert reply.json["error"]["message"] == message
    assert not list(rt.store.list("dead-letters/"))
    for route in plan().routes:  # the Trigger whose delivery failed sends its dead letter, whatever its type
        trigger = "Bearer " + token_for("triggers", service_account=route.sender)
        headers, body = signed_event(event, "triggers", authorization=trigger)
        assert app("triggers").post("/dead-letters", headers=headers, data=body).status_code == 204


MALFORMED = b'{"batch_key": '  # cut short: no JSON
# refused for its shape alone, its identity read: what is looked up as maybe done already (_done_already)
UNFIT = {"specversion": "1.0", "id": "e-1", "source": "/scrape/x", "type": RAW_BATCH_STORED, "subject": "s\x00",
         "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"batch_key": "x"}}


@pytest.mark.parametrize("sent,status", [
    pytest.param(lambda: (signed_event(ROUTED["index"], "index", authorization="")[0], MALFORMED), 401,
                 id="no-token"),
    pytest.param(lambda: ({**signed_event(ROUTED["index"], "index")[0], "Authorization": "Bearer not.a.jwt"},
                          MALFORMED), 401, id="bad-token"),
    pytest.param(lambda: (signed_event(ROUTED["index"], "index")[0], MALFORMED), 400, id="malformed"),
    pytest.param(lambda: signed_event(UNFIT, "index"), 400, id="unfit"),
])
def test_an_events_own_fault_is_answered_as_such_while_the_manifests_cannot_be_read(data_dir, monkeypatch, sent,
                                                                                     status):
    """The manifests (AMX_EVENTS_ROUTES) were read before the event was: while they could not be, a malformed event
    was answered 503, so Knative redelivered it until its retries ran out, where a 400 has the Broker park it at
    once. Only the route lookup needs them: a well-formed, signed event is still a 503, redelivered once they are."""
    monkeypatch.setenv("AMX_EVENTS_ROUTES", str(data_dir / "no-manifests"))
    headers, body = sent()
    reply = app("index").post("/", headers=headers, data=body)
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.json["error"]["code"] == {401: "unauthorized", 400: "invalid_request"}[status]
    headers, body = signed_event(ROUTED["index"], "index")
    assert app("index").post("/", headers=headers, data=body).status_code == 503  # its route is looked up there
    monkeypatch.setenv("AMX_EVENTS_ROUTES", str(ROOT / "manifests" / "base"))
    assert app("index").post("/", headers=headers, data=body).status_code == 204


def test_without_an_issuer_configured_every_event_is_refused(data_dir, monkeypatch):
    monkeypatch.delenv("AMX_EVENTS_OIDC_DISCOVERY_URL")
    reply = deliver(app("index"), ROUTED["index"], "index")
    assert reply.status_code == 401 and "AMX_EVENTS_OIDC_DISCOVERY_URL" in reply.json["error"]["message"]


def test_a_signed_routed_event_still_works_and_http_routes_keep_their_bearer_tokens(data_dir):
    budget = app("budget")
    assert budget.get("/campaigns", headers={"Authorization": f"Bearer {token_for('budget')}"}).status_code == 401
    assert deliver(app("index"), ROUTED["index"], "index").status_code == 204  # acknowledged (no such batch)


def test_log_lines_of_an_event_then_a_request_on_one_worker_thread_keep_apart(data_dir):
    """Through the real HTTP stack, as a server thread serves one delivery and then one request."""
    from concurrent.futures import ThreadPoolExecutor

    from structlog.testing import capture_logs

    from affiliate_matrix.observability import context_processors

    triggers = app("triggers")  # binds the function name, on this (the main) thread
    event = ROUTED["triggers"]
    with capture_logs(processors=context_processors()) as lines, ThreadPoolExecutor(max_workers=1) as worker:
        assert worker.submit(deliver, triggers, event, "triggers").result().status_code == 204
        assert worker.submit(triggers.get, "/rules").result().status_code == 401
    assert lines and {line["function"] for line in lines} == {"triggers"}
    first = [line for line in lines if line.get("path") == "/"]
    second = [line for line in lines if line.get("path") == "/rules"]
    assert first and second and len(first) + len(second) == len(lines)
    assert {line["event_id"] for line in first} == {event.id} and len({line["request_id"] for line in first}) == 1
    assert not any("event_id" in line or "event_type" in line for line in second)
    assert {line["request_id"] for line in second}.isdisjoint(line["request_id"] for line in first)


def test_the_resync_action_is_performed_by_connections_where_its_trigger_routes_it(data_dir):
    """Before, connections took no events at all, so every resync a rule dispatched was lost."""
    from affiliate_matrix.connections import Connection, save_connection

    rt = Runtime("test", Settings(data_dir=data_dir))
    save_connection(rt.store, Connection(id="awin", source="awin"))
    resync = Event.make(ACTION_PREFIX + "resync", "/triggers", {"rule_id": "r", "params": {"connection_id": "awin"}})
    assert deliver(app("connections"), resync, "connections").status_code == 204
    (sync,) = [key for key in rt.store.list("syncs/")]
    assert json.loads(rt.store.get(sync).data)["connection_id"] == "awin"
    assert deliver(app("scrape"), resync, "scrape").status_code == 403  # not where resync is routed


def signed_for_triggers(event: dict) -> tuple[dict, bytes]:
    """A structured event signed as the Broker's route to the triggers function sends it."""
    route = next(route for route in plan().routes if route.subscriber == "triggers")
    return signed_event(event, "triggers", authorization="Bearer " + token_for("triggers",
                                                                               service_account=route.sender))


@pytest.mark.parametrize("unfit,refused", [
    ({"data": ["a", "list"]}, "event data must be a JSON object, not a list"),
    ({"id": "x" * 300}, "event id: String should have at most 200 characters"),
    ({"type": "dev..affiliatematrix"}, "event type: String should match pattern"),
    ({"time": "0999-01-01T00:00:00Z"}, "time 0999-01-01T00:00:00+00:00 is not between the years 1970 and 9000"),
    ({"subject": "s\x00"}, "event subject: holds U+0000"),
    ({"subject": "a\u2028b"}, "event subject: holds U+2028"),  # taken before controls19: a letter re-posted
    ({"specversion": "0.3"}, "event specversion '0.3': only CloudEvents 1.0 events are taken"),
    ({"amxnote": {"an": "object"}}, "event attribute amxnote: an extension's value is a string"),
])
def test_an_event_refused_for_its_shape_is_still_parked_as_a_dead_letter(data_dir, unfit, refused):
    """A function answers 400 to an event that does not fit (its data, its attributes), so that the Broker parks it
    with the dead-letter sink; the sink read the dead letter with the same checks and refused it too, so the Broker
    dropped it: the events the checks exist to set aside for a person were the ones lost. The sink parks such an
    event as it came (under dead-letters/unfit/), with why it was refused."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = {"specversion": "1.0", "id": "e-1", "source": "/index", "type": PROGRAM_DELTA,
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"x": 1},
             "knativeerrordest": "http://triggers.amx.svc.cluster.local/", **unfit}
    headers, body = signed_for_triggers(event)
    reply = app("triggers").post("/dead-letters", headers=headers, data=body)
    assert reply.status_code == 204, reply.get_data(as_text=True)
    [key] = rt.store.list("dead-letters/")
    assert key.startswith("dead-letters/unfit/")
    letter = json.loads(rt.store.get(key).data)
    assert refused in letter["refused"] and letter["event"]["id"] == event["id"]
    assert letter["event"]["data"] == event["data"] and letter["destination"] == event["knativeerrordest"]


def test_a_letter_re_posted_and_refused_now_stays_parked_by_amx_ups_broker_with_the_functions_reason(data_dir):
    """An event a function took when it was parked (a subject holding U+2028, before the check that refuses it) is
    refused when re-posted once its cause is fixed: `amx up`'s Broker parked it again, over its letter, as "HTTP 400"
    alone, why in no file or log line. Its letter names the function's reason now (the cluster's sink parks it under
    dead-letters/unfit/ with why: above)."""
    from affiliate_matrix.localrun.router import Delivery, Router
    from tests.support.loopback import Loopback

    triggers = app("triggers")

    def over_http(request):  # the triggers function, answering as it does over HTTP
        reply = triggers.post(request.path, headers=request.headers, data=request.body)
        return reply.status_code, {"Content-Type": reply.content_type}, reply.get_data()

    route = next(route for route in plan().routes if route.name == "delta-to-triggers")
    event = {"specversion": "1.0", "id": "e-1", "source": "/index", "type": PROGRAM_DELTA, "subject": "a\u2028b",
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"x": 1}}
    store = Runtime("test", Settings(data_dir=data_dir)).store
    with Loopback(over_http) as function:
        router = Router([route], {"triggers": function.url + "/"}, store, sign=lambda delivery: {
            "Authorization": "Bearer " + token_for("triggers", service_account=delivery.route.sender)})
        router._deliver(Delivery(route, event))  # one delivery, on this thread
        router.close()
    [key] = store.list("dead-letters/")
    letter = json.loads(store.get(key).data)
    assert key.startswith(f"dead-letters/{route.name}/") and letter["event"] == event
    assert letter["reason"].startswith("HTTP 400: event subject: holds U+2028"), letter["reason"]


def test_a_dead_letter_with_knatives_error_extensions_is_parked_under_its_type(data_dir):
    """What Knative's dispatcher adds to a dead letter (filter_handler.go, the Kafka broker alike): the destination,
    the status (an integer) and the base64 of at most 1,024 bytes of the answer, within an extension's bounds."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = {"specversion": "1.0", "id": "e-1", "source": "/index", "type": PROGRAM_DELTA,
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"x": 1},
             "knativeerrordest": "http://triggers.amx.svc.cluster.local/", "knativeerrorcode": 500,
             "knativeerrordata": base64.b64encode(b"\xff" * 1024).decode(),
             "knativearrivaltime": "2026-11-22T06:00:01Z"}
    headers, body = signed_for_triggers(event)
    assert app("triggers").post("/dead-letters", headers=headers, data=body).status_code == 204
    [key] = rt.store.list("dead-letters/")
    assert key.startswith(f"dead-letters/{PROGRAM_DELTA}/")


@pytest.mark.parametrize("answer,reason", [
    (json.dumps({"error": {"code": "unavailable", "message": "the search index is busy", "request_id": "r1"}}),
     "HTTP 503: the search index is busy"),
    ('{"error": {"code": "unavailable", "mess', 'HTTP 503: {"error": {"code": "unavailable", "mess'),  # cut at 1 KiB
])
def test_a_dead_letter_keeps_why_knatives_broker_parked_it(data_dir, answer, reason):
    """Knative's Broker sends why it gave up on an event (the subscriber's status and the start of its answer, in
    knativeerrorcode and knativeerrordata); the sink kept neither, so a letter parked in the cluster said nothing of
    why (amx up's says it: `reason`). It is kept as amx up's Broker words it."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = {"specversion": "1.0", "id": "e-1", "source": "/index", "type": PROGRAM_DELTA,
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"x": 1},
             "knativeerrordest": "http://triggers.amx.svc.cluster.local/", "knativeerrorcode": 503,
             "knativeerrordata": base64.b64encode(answer.encode()).decode()}
    headers, body = signed_for_triggers(event)
    assert app("triggers").post("/dead-letters", headers=headers, data=body).status_code == 204
    [key] = rt.store.list("dead-letters/")
    assert json.loads(rt.store.get(key).data)["reason"] == reason


@pytest.mark.parametrize("extra,refused", [
    ({"ce-id": "e-2"}, "the event gives ce-id but not ce-source"),
    ({"ce-id": "e-2", "ce-source": "/index", "ce-specversion": "1.0", "ce-type": PROGRAM_DELTA,
      "ce-time": "2026-11-22T06:00:00Z"}, "sent both in binary mode"),
])
def test_a_dead_letter_in_mixed_modes_is_parked_with_why(data_dir, extra, refused):
    """A function refuses an event sent both ways (two readers read two events): the sink parks it as it came, with
    why, as it must whatever Knative sends it (refused, the Broker would drop it)."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = {"specversion": "1.0", "id": "e-1", "source": "/index", "type": PROGRAM_DELTA,
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"x": 1}}
    headers, body = signed_for_triggers(event)
    reply = app("triggers").post("/dead-letters", headers={**headers, **extra}, data=body)
    assert reply.status_code == 204, reply.get_data(as_text=True)
    [key] = rt.store.list("dead-letters/")
    letter = json.loads(rt.store.get(key).data)
    assert key.startswith("dead-letters/unfit/") and refused in letter["refused"]
    assert letter["event"]["id"] == "e-1"  # the event the SDK reads, by the Content-Type: the body's


def test_an_event_refused_for_a_key_given_twice_is_parked_as_a_dead_letter_with_why(data_dir):
    """A key given twice is refused before the CloudEvents SDK reads the event (as in a request body); the
    dead-letter sink, which gets the Broker's copy of the very event refused, parks it as it came, with why."""
    rt = Runtime("test", Settings(data_dir=data_dir))
    event = {"specversion": "1.0", "id": "e-1", "source": "/index", "type": PROGRAM_DELTA,
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data": {"x": 1}}
    headers, body = signed_for_triggers(event)
    body = body.replace(b'{"x": 1}', b'{"x": 1, "x": 2}')
    reply = app("triggers").post("/dead-letters", headers=headers, data=body)
    assert reply.status_code == 204, reply.get_data(as_text=True)
    [key] = rt.store.list("dead-letters/")
    letter = json.loads(rt.store.get(key).data)
    assert key.startswith("dead-letters/unfit/") and "gives the key 'x' twice" in letter["refused"]
    assert letter["event"]["id"] == "e-1"
