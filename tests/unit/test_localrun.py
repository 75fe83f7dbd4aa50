"""The local Broker: Triggers' attribute filters, retries with backoff, the dead letters it parks in the store."""

import gzip
import json
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from affiliate_matrix.events import MAX_EVENT_BYTES
from affiliate_matrix.localrun.issuer import LocalIssuer
from affiliate_matrix.localrun.plan import Route, exact, read_plan
from affiliate_matrix.localrun.router import Router
from affiliate_matrix.storage.local import LocalObjectStore
from tests.support.processes import ROOT
from tests.support.receiver import Receiver
from tests.support.wait import wait_until


def event(**attributes) -> dict:
    return {"specversion": "1.0", "id": "e1", "source": "/x", "type": "t.a", "time": "2026-01-05T06:00:00Z", "data": {},
            **attributes}


def test_the_plan_is_the_manifests_wiring():
    plan = read_plan(ROOT / "manifests" / "base")
    assert sorted(plan.functions) == sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists())
    delta = next(r for r in plan.routes if r.name == "delta-to-triggers")
    assert delta.filters == (exact(type="dev.affiliatematrix.program.delta"),) and delta.subscriber == "triggers"
    assert delta.retry == 10 and delta.backoff_s == 2.0 and delta.exponential
    assert delta.timeout_s == 120.0  # the triggers Service's timeoutSeconds: no second delivery while one works
    assert {p.sink for p in plan.pings} >= {"scrape", "sync", "budget", "triggers", "keys", "verify", "discover"}


def test_filters_on_type_and_source_retries_and_dead_letters(tmp_path):
    ok, flaky, down = Receiver(statuses=[200] * 5), Receiver(statuses=[503, 503, 200]), Receiver(statuses=[500] * 10)
    routes = [Route("by-type", (exact(type="t.a"),), "ok", 0, 0.01, True),
              Route("by-source", (exact(source="/only", type="t.a"),), "flaky", 3, 0.01, True),
              Route("never", (exact(type="t.b"),), "down", 1, 0.01, False)]
    store = LocalObjectStore(tmp_path / "objects")
    router = Router(routes, {"ok": ok.url, "flaky": flaky.url, "down": down.url}, store)
    router.publish(event())
    router.publish(event(id="e2", source="/only"))
    router.publish(event(id="e3", type="t.b"))
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.events import dead_letter_name

    parked_key = f"dead-letters/never/{dead_letter_name(event(id='e3', type='t.b'))}.json"

    def settled():  # every delivery has reached its end: delivered, or retried out and parked
        try:
            parked = json.loads(store.get(parked_key).data)
        except NotFoundError:  # not there yet (a put is whole or absent)
            return None
        return len(ok.requests) >= 2 and len(flaky.requests) >= 3 and parked

    parked = wait_until(settled, "the three deliveries to end")
    # Once all have ended (delivered, or parked after their retries), nothing is outstanding at the ingress.
    status = wait_until(lambda: (lambda s: s if s["outstanding"] == 0 else None)(httpx.get(router.url).json()),
                        "the Broker to count every delivery done")
    assert status == {"outstanding": 0, "delivered": 3}  # e1 and e2 to ok, e2 to flaky; e3 parked
    # Deliveries run on several workers, so like a real Broker the router promises no order.
    assert sorted(json.loads(r.body)["id"] for r in ok.requests) == ["e1", "e2"]  # type only: both
    assert [json.loads(r.body)["id"] for r in flaky.requests] == ["e2"] * 3  # two 503s, then delivered
    assert len(down.requests) == 2  # one try and one retry, then parked
    assert parked["reason"] == "HTTP 500" and parked["event"]["id"] == "e3"
    router.close()
    for receiver in (ok, flaky, down):
        receiver.close()


def test_dead_letters_of_one_id_from_two_sources_are_both_kept(tmp_path):
    """The dead-letter folder named a parked event by its id alone, but CloudEvents ids are unique per source
    only: an event of another source with the same id overwrote the first one's file, and it was lost. The
    name is of the source and the id now."""
    from affiliate_matrix.localrun.router import Delivery

    down = Receiver(statuses=[500] * 10)
    store = LocalObjectStore(tmp_path / "objects")
    router = Router([Route("never", (exact(type="t.a"),), "down", 0, 0.01, False)], {"down": down.url}, store)
    for source in ("/scrape/a", "/scrape/b"):
        router._deliver(Delivery(router.routes[0], event(id="same-id", source=source)))  # on this thread
    keys = list(store.list("dead-letters/never/"))
    assert sorted(json.loads(store.get(key).data)["event"]["source"] for key in keys) == ["/scrape/a", "/scrape/b"]
    assert all(key.startswith("dead-letters/never/same-id.") for key in keys)
    router.close()
    down.close()


def test_a_letter_parked_when_its_function_did_not_answer_says_which_and_where(tmp_path):
    """A function stopped (or restarting) when its last retry came: the letter said "ConnectError" alone, not whom
    the Broker could not reach nor where."""
    from affiliate_matrix.localrun.router import Delivery

    with socket.socket() as closed:  # a port nothing listens on once closed
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    store = LocalObjectStore(tmp_path / "objects")
    router = Router([Route("to-budget", (exact(type="t.a"),), "budget", 0, 0.01, False)], {"budget": url}, store)
    router._deliver(Delivery(router.routes[0], event()))  # on this thread: no retry left, parked
    [key] = store.list("dead-letters/to-budget/")
    reason = json.loads(store.get(key).data)["reason"]
    assert reason.startswith(f"ConnectError: no answer from budget at {url}"), reason
    router.close()


def test_each_delivery_carries_the_senders_token_for_its_subscriber(tmp_path):
    """What `amx up`'s Broker sends verifies as a Knative delivery: the subscriber's audience, the
    Trigger's (or PingSource's) service account, the local issuer's key."""
    from affiliate_matrix.events.identity import Issuer, audience, verify
    from affiliate_matrix.localrun.router import Delivery
    from affiliate_matrix.localrun.runner import LocalRuntime

    runtime = LocalRuntime(ROOT, tmp_path / ".amx", port_base=0)
    try:
        issuer = Issuer(runtime.issuer.discovery_url)
        delta = next(r for r in runtime.plan.routes if r.name == "delta-to-triggers")
        header = runtime.sign(Delivery(delta, event(type="dev.affiliatematrix.program.delta")))["Authorization"]
        claims = verify(header, issuer, audience("affiliate-matrix", "triggers"), "affiliate-matrix")
        assert claims["sub"] == "system:serviceaccount:affiliate-matrix:delta-to-triggers-oidc-eventing.knative.dev-trigger"
        fired = []
        runtime.router.submit = fired.append  # the tick's delivery as the cron clock makes it, not sent anywhere
        verify_daily = next(p for p in runtime.plan.pings if p.name == "verify-daily")
        runtime.fire(verify_daily, datetime(2026, 11, 22, tzinfo=UTC))
        header = runtime.sign(fired[0])["Authorization"]
        claims = verify(header, issuer, audience("affiliate-matrix", "verify"), "affiliate-matrix")
        assert claims["sub"] == f"system:serviceaccount:affiliate-matrix:{verify_daily.sender}"
        assert verify_daily.sender == "verify-daily-oidc-sources.knative.dev-pingsource"
        receiver = Receiver()
        router = Router([Route("r", (exact(type="t.a"),), "ok", 0, 0.01, True)], {"ok": receiver.url},
                        LocalObjectStore(tmp_path / "objects"), sign=lambda delivery: {"Authorization": "Bearer signed"})
        router._deliver(Delivery(router.routes[0], event()))  # one delivery, on this thread
        assert receiver.requests[0].headers["authorization"] == "Bearer signed"
        router.close()
        receiver.close()
    finally:
        runtime.router.close()


def test_amx_ups_dead_letters_are_kept_for_the_retention_window_as_the_clusters_are(tmp_path):
    """`amx up`'s Broker wrote what it could not deliver to .amx/dead-letters/, a folder no retention reached, so
    they were kept for good while the cluster's (dead-letters/ in the store) go after AMX_RETENTION_DEAD_LETTERS_DAYS.
    It parks them in the functions' object store now, under dead-letters/<trigger>/, and the retention job removes
    them by the same rule."""
    import os
    from datetime import timedelta

    from affiliate_matrix.config import Settings
    from affiliate_matrix.localrun.router import Delivery
    from affiliate_matrix.localrun.runner import LocalRuntime
    from affiliate_matrix.retention import apply
    from affiliate_matrix.runtime import Runtime

    now = datetime(2026, 11, 22, tzinfo=UTC)
    runtime = LocalRuntime(ROOT, tmp_path / ".amx", port_base=0)
    try:
        delta = next(r for r in runtime.plan.routes if r.name == "delta-to-triggers")
        # its last retry refused (nothing listens at the triggers function's port here): parked, on this thread
        runtime.router.urls["triggers"] = "http://127.0.0.1:9/"
        runtime.router._deliver(Delivery(delta, event(type="dev.affiliatematrix.program.delta"), attempt=delta.retry))
    finally:
        runtime.router.close()
    rt = Runtime("index", Settings(data_dir=tmp_path / ".amx"))
    (key,) = rt.store.list("dead-letters/")
    assert key.startswith("dead-letters/delta-to-triggers/e1.") and json.loads(rt.store.get(key).data)["event"]["id"] == "e1"
    parked = (now - timedelta(days=29)).timestamp()
    os.utime(rt.store.root / key, (parked, parked))
    assert apply(rt, now)["dead_letters"] == 0  # within its 30 days
    parked = (now - timedelta(days=31)).timestamp()
    os.utime(rt.store.root / key, (parked, parked))
    assert apply(rt, now)["dead_letters"] == 1 and list(rt.store.list("dead-letters/")) == []


def trigger_manifest(tmp_path, spec: str) -> Path:
    (tmp_path / "triggers.yaml").write_text(f"""
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: t1}}
spec:
  broker: default
  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: scrape}}}}
{spec}""")
    return tmp_path


def test_a_triggers_newer_filters_route_only_what_they_pass(tmp_path):
    """`spec.filters` (the Subscriptions API form) is read, and overrides `spec.filter` as Knative has it: before,
    a Trigger using it was read as having no filter, and every event type was taken as routed to its subscriber."""
    plan = read_plan(trigger_manifest(tmp_path, """  filter: {attributes: {type: t.ignored}}
  filters:
    - prefix: {type: dev.amx.}
    - any: [{exact: {source: /a}}, {suffix: {source: /b}}]
    - not: {exact: {type: dev.amx.secret}}
"""))
    routed = lambda **attributes: plan.senders("scrape", attributes) != set()  # noqa: E731
    assert routed(type="dev.amx.scrape", source="/a") and routed(type="dev.amx.scrape", source="/x/b")
    assert not routed(type="t.ignored", source="/a")  # filters override filter
    assert not routed(type="other.scrape", source="/a") and not routed(type="dev.amx.scrape", source="/c")
    assert not routed(type="dev.amx.secret", source="/a") and not routed(source="/a")  # no type passes no prefix


@pytest.mark.parametrize("filters, named", [
    ("- cesql: \"type = 'x'\"", "'cesql' filter dialect is not read here"),
    ("- exact: {type: a}\n      prefix: {type: b}", "names one dialect"),
    ("- exact: {}", "exact takes CloudEvent attributes"),
    ("- all: {exact: {type: a}}", "all takes a list"),
    ("- " + "not: {" * 30 + "exact: {type: a}" + "}" * 30, "nested more than 20 deep"),
])
def test_a_filter_not_read_here_is_refused_by_name(tmp_path, filters, named):
    with pytest.raises(ValueError, match=named):
        read_plan(trigger_manifest(tmp_path, "  filters:\n    " + filters + "\n"))


@pytest.mark.parametrize("headers,body,problem", [
    ({"Content-Type": "application/cloudevents+json"}, b"[1, 2]", "a structured CloudEvent is a JSON object"),
    ({"Content-Type": "application/cloudevents+json"}, b"{not json",
     "not a CloudEvent: Failed to read specversion from both headers and data"),  # the functions' words for it
    ({"Content-Type": "application/cloudevents+json", "Content-Length": "-5"}, b"",
     "Content-Length '-5' is not a number of bytes"),
    # a RecursionError, which the handler did not catch: no answer, a traceback on amx up's terminal
    ({"Content-Type": "application/cloudevents+json"}, b"[" * 100_000, "nested too deeply"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0"}, b"[" * 100_000, "nested too deeply"),
    # a specversion every function refuses was queued, delivered and parked; named as the functions name it
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "0.3"}, b"{}",
     "event specversion '0.3': only CloudEvents 1.0 events are taken"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(specversion=1.0)).encode(),
     "event specversion 1.0 (a number): only CloudEvents 1.0 events are taken"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(specversion=None)).encode(),
     "event specversion missing: only CloudEvents 1.0 events are taken"),
    # what every function refuses for its attributes was queued, delivered and parked too (events.attributes_refused)
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(time=None)).encode(),
     "the event names no time (its time attribute, RFC 3339)"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0"}, b"{}",
     "the event names no time (its time attribute, RFC 3339)"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(amxnote={"a": 1})).encode(),
     "event attribute amxnote: an extension's value is a string, an integer or a boolean (CloudEvents), not an object"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(amxnote=1.5)).encode(),
     "event attribute amxnote: an extension's value is a string, an integer or a boolean (CloudEvents), not a number "
     "with a fraction"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(amxnote=2**31)).encode(),
     "event attribute amxnote: 2147483648 is past a CloudEvents Integer (32 bits)"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0", "ce-time": "2026-01-05T06:00:00Z",
      "ce-amxnote": "x" * 2049}, b"{}",
     "event attribute amxnote: 2049 characters, more than the 2048 an extension's value may hold"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(amxnote="a\u0000b")).encode(),
     "event attribute amxnote: holds U+0000"),
    # what two readers read as two events, refused by the functions (events.read_apart), was queued and parked: a name
    # the SDK lower-cases over another attribute, one no CloudEvents attribute has, both forms of data
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(TYPE="t.b")).encode(),
     "event attribute 'TYPE': an attribute's name is lower-case letters and digits (CloudEvents)"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0", "ce-time": "2026-01-05T06:00:00Z",
      "ce-rule-chain": "r1"}, b"{}",
     "event attribute 'rule-chain': an attribute's name is lower-case letters and digits (CloudEvents)"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(data_base64="e30=")).encode(),
     "the event gives both data and data_base64: CloudEvents gives one"),
    # what the functions' event model (event_intake.event_of) refuses was queued, delivered to every Trigger, refused by
    # each function and parked: an id or source showing other than it is, a type, time or rule chain of no event, data
    # that is no JSON object, or declared as another type than JSON
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(id="a\nb")).encode(),
     "event id: holds U+000A, a control, bidi or invisible character"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(id="\uff451")).encode(),
     "event id: holds U+FF45, where an event's id is ASCII"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(source="/x\u202e")).encode(),
     "event source: holds U+202E, a control, bidi or invisible character"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(source="/caf\u00e9")).encode(),
     "event source: holds U+00E9, where an event's source is ASCII"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(type="t..a")).encode(),
     "event type: String should match pattern"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(time="1764900000")).encode(),
     "event time: Value error, time '1764900000' is not an RFC 3339 timestamp"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(time="0001-01-01T00:00:00Z")).encode(),
     "is not between the years 1970 and 9000"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(amxrulechain="NOT A RULE")).encode(),
     "event rulechain: Value error, the amxrulechain attribute holds 'NOT A RULE', not a rule id"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(data=[1, 2])).encode(),
     "event data must be a JSON object, not a list"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0", "ce-time": "2026-01-05T06:00:00Z",
      "Content-Type": "text/plain"}, b'{"a": 1}', "event data must be JSON, declared as application/json, not 'text/plain'"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event(datacontenttype=5)).encode(),
     "event datacontenttype must be a media type (a string), not a number"),
    # what the functions refuse before their event model reads it (event_intake.check_body): more attributes than they
    # take, a key given twice, a batch, a request sent both ways or in part, a header given twice, a ce-datacontenttype
    ({"Content-Type": "application/cloudevents+json"},
     json.dumps(event(**{f"x{i}": "v" for i in range(100)})).encode(),
     "the event has 106 attributes: more than 100 attributes are refused"),
    ({"Content-Type": "application/cloudevents+json"}, json.dumps(event())[:-1].encode() + b', "id": "e2"}',
     "the body gives the key 'id' twice"),
    ({"Content-Type": "application/cloudevents-batch+json"}, json.dumps([event()]).encode(),
     "a batch of CloudEvents (application/cloudevents-batch+json) is not taken"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0", "ce-time": "2026-01-05T06:00:00Z",
      "Content-Type": "application/cloudevents+json"}, json.dumps(event()).encode(),
     "the event is sent both in binary mode (ce- headers) and structured"),
    ({"Content-Type": "application/cloudevents+json", "ce-id": "e1"}, json.dumps(event()).encode(),
     "the event gives ce-id but not ce-source, ce-specversion, ce-type"),
    ({"Content-Type": "application/cloudevents+xml"}, json.dumps(event()).encode(),
     "a structured CloudEvent is sent as application/cloudevents+json (CloudEvents' JSON format), not "
     "application/cloudevents+xml"),
    ([("ce-id", "1"), ("ce-id", "2"), ("ce-source", "/x"), ("ce-type", "t.a"), ("ce-specversion", "1.0"),
      ("ce-time", "2026-01-05T06:00:00Z")], b"{}", "its ce-id header is given twice (joined by a comma)"),
    ({"ce-id": "1", "ce-source": "/x", "ce-type": "t.a", "ce-specversion": "1.0", "ce-time": "2026-01-05T06:00:00Z",
      "ce-datacontenttype": "application/json"}, b"{}", "a binary event's datacontenttype is its Content-Type header"),
])
def test_the_local_broker_refuses_what_is_no_cloudevent_with_a_400_naming_it(tmp_path, headers, body, problem):
    """amx up's Broker: a JSON list raised AttributeError in its handler (no answer)."""
    status, _, refusal = refused_at_ingress(tmp_path, headers, body)
    assert status == 400 and refusal["code"] == "invalid_request" and problem in refusal["message"], refusal


def test_the_local_broker_answers_an_event_past_the_functions_limit_413_in_their_words(tmp_path):
    """A Content-Length of any size was read whole; then it was refused 400, where the functions answer 413."""
    status, _, refusal = refused_at_ingress(tmp_path, {"Content-Type": "application/cloudevents+json",
                                                       "Content-Length": str(MAX_EVENT_BYTES + 1)}, b"")
    assert (status, refusal["code"]) == (413, "content_too_large")
    assert refusal["message"] == f"the event is larger than {MAX_EVENT_BYTES} bytes: send at most that"


def test_the_local_broker_refuses_an_event_in_a_content_coding_415_as_the_functions_do(tmp_path):
    """Its coded bytes were read as the event: refused 400 as no CloudEvent, where a function answers 415 naming the
    coding."""
    coded = gzip.compress(json.dumps(event()).encode())
    status, _, refusal = refused_at_ingress(tmp_path, {"Content-Type": "application/cloudevents+json",
                                                       "Content-Encoding": "gzip"}, coded)
    assert (status, refusal["code"]) == (415, "unsupported_media_type")
    assert refusal["message"] == ("the event is sent with Content-Encoding 'gzip', which is not decoded here: send it "
                                  "uncompressed, without a Content-Encoding")


@pytest.mark.parametrize("sent_id,taken", [("req-1.a:b_c", True), ("a b", False), (None, False)])
def test_the_local_broker_refuses_in_the_functions_error_shape_with_a_request_id_as_they_take_or_make_one(
        tmp_path, sent_id, taken):
    """Its refusals were plain text, where a function answers the JSON error shape (handlers.error_response): status,
    code, message and the request's id, the sender's X-Request-Id when it is a sane token, else one made for it."""
    sent = {"Content-Type": "application/cloudevents+json", **({"X-Request-Id": sent_id} if sent_id else {})}
    status, headers, refusal = refused_at_ingress(tmp_path, sent, json.dumps(event(type="T.A")).encode())
    assert status == 400 and headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert refusal.keys() == {"code", "message", "request_id"} and refusal["code"] == "invalid_request"
    assert refusal["message"].startswith("event type: String should match pattern")
    assert headers["x-request-id"] == refusal["request_id"]
    assert (refusal["request_id"] == sent_id) is taken and re.fullmatch(r"[\w.:-]{1,128}", refusal["request_id"])


def refused_at_ingress(tmp_path, headers: dict | list[tuple[str, str]], body: bytes) -> tuple[int, dict, dict]:
    """amx up's Broker's answer to a POST it refuses: its status, its headers (by lower-cased names) and its error (the
    functions' JSON shape)."""
    head, _, payload = ingress_answer(tmp_path, headers, body).partition("\r\n\r\n")
    status_line, *fields = head.split("\r\n")
    answered = {name.lower(): value for name, _, value in (field.partition(": ") for field in fields)}
    return int(status_line.split()[1]), answered, json.loads(payload)["error"]


def ingress_answer(tmp_path, headers: dict | list[tuple[str, str]], body: bytes) -> str:
    """What amx up's Broker answers a POST of these headers (a list of pairs: one given twice) and body, as the bytes
    it sends."""
    router = Router([], {}, tmp_path / "dead", admit=lambda authorization, event: None)  # parsing, not who sends
    pairs = list(headers.items() if isinstance(headers, dict) else headers)
    try:
        with socket.create_connection(("127.0.0.1", router.server.server_address[1]), timeout=10) as conn:
            lines = ["POST / HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in pairs]
            if "Content-Length" not in dict(pairs):
                lines.append(f"Content-Length: {len(body)}")
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            answer = b""
            while chunk := conn.recv(65536):  # the server closes the connection after its answer
                answer += chunk
            return answer.decode(errors="replace")
    finally:
        router.close()


def post(url: str, cloud_event: dict, token: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/cloudevents+json", **({"Authorization": f"Bearer {token}"} if token else {})}
    return httpx.post(url, content=json.dumps(cloud_event), headers=headers, timeout=10)


def test_amx_ups_broker_takes_an_event_only_from_a_sender_its_eventpolicies_let_publish_it(tmp_path):
    """Before, the ingress took any POST on loopback, from any process of the machine, and delivered it with the
    Trigger's own token: a user of the machine could publish `connection.deleted` or `keys.rotate` past every check
    the functions make. Now it is Knative's Broker with EventPolicies: a token of the namespace's issuer for the
    Broker (401 otherwise), from a sender manifests/base lets publish that type (403 otherwise)."""
    from affiliate_matrix.events.identity import broker_audience, subject
    from affiliate_matrix.localrun.runner import LocalRuntime

    runtime = LocalRuntime(ROOT, tmp_path / ".amx", port_base=0)
    published = []
    runtime.router.publish = published.append  # what the ingress takes, not delivered anywhere
    delta = event(type="dev.affiliatematrix.program.delta")
    index_token = Path(runtime.functions["index"].env["AMX_BROKER_TOKEN_PATH"]).read_text()  # the function's own
    try:
        unsigned = post(runtime.router.url, delta, None)
        # as a function answers a 401 (errors.refusal): the scheme to authenticate with (it said none)
        assert unsigned.status_code == 401 and unsigned.headers["WWW-Authenticate"].startswith("Bearer ")
        assert unsigned.json()["error"]["code"] == "unauthorized"
        assert post(runtime.router.url, delta, "not.a.jwt").status_code == 401
        forged = LocalIssuer(tmp_path / "other").token(broker_audience("affiliate-matrix"),
                                                              subject("affiliate-matrix", "fn-index"))
        assert post(runtime.router.url, delta, forged).status_code == 401  # signed by a key the issuer never published
        # a Trigger's delivery token, replayed to the Broker: for the function's audience, not the Broker's
        trigger = next(r for r in runtime.plan.routes if r.name == "delta-to-triggers")
        from affiliate_matrix.localrun.router import Delivery
        replayed = runtime.sign(Delivery(trigger, delta))["Authorization"].split()[1]
        answer = post(runtime.router.url, delta, replayed)
        assert answer.status_code == 401 and "eventing.knative.dev/broker/affiliate-matrix/default" in answer.text
        web_token = Path(runtime.functions["web"].env["AMX_BROKER_TOKEN_PATH"]).read_text()
        answer = post(runtime.router.url, delta, web_token)  # a real account, but no policy lets it publish this
        assert answer.status_code == 403 and "fn-web may not publish dev.affiliatematrix.program.delta" in answer.text
        answer = post(runtime.router.url, event(type="dev.affiliatematrix.connection.deleted"), index_token)
        assert answer.status_code == 403  # index's policy lets it publish deltas only
        assert published == []
        assert post(runtime.router.url, delta, index_token).status_code == 202
        assert [e["type"] for e in published] == ["dev.affiliatematrix.program.delta"]
        assert oct(Path(runtime.functions["index"].env["AMX_BROKER_TOKEN_PATH"]).stat().st_mode & 0o777) == "0o600"
    finally:
        runtime.router.close()


def test_amx_ups_broker_whose_issuer_keys_cannot_be_read_answers_503_not_a_dropped_connection(tmp_path):
    """The issuer's discovery document gone (its folder cleaned while amx up runs): the token cannot be checked, and
    the ingress dropped the connection with no answer. It answers as a function does: 503, and when to try again."""
    from affiliate_matrix.localrun.runner import LocalRuntime

    runtime = LocalRuntime(ROOT, tmp_path / ".amx", port_base=0)
    token = Path(runtime.functions["index"].env["AMX_BROKER_TOKEN_PATH"]).read_text()
    (runtime.issuer.folder / "openid-configuration.json").unlink()
    try:
        answer = post(runtime.router.url, event(type="dev.affiliatematrix.program.delta"), token)
    finally:
        runtime.router.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"].isdigit()
    assert answer.json()["error"]["code"] == "unavailable"


def test_a_broker_started_without_a_publisher_check_takes_nothing(tmp_path):
    router = Router([], {}, tmp_path / "dead")
    try:
        answer = post(router.url, event(), "anything")
    finally:
        router.close()
    assert answer.status_code == 403 and "takes no published events" in answer.text


def policy_manifest(tmp_path: Path, policies: str) -> Path:
    (tmp_path / "broker.yaml").write_text("""apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default}
spec: {}
""")
    (tmp_path / "eventpolicies.yaml").write_text(policies)
    return tmp_path


def test_a_sender_is_held_to_the_first_eventpolicy_naming_it_as_knative_holds_it(tmp_path):
    plan = read_plan(policy_manifest(tmp_path, """apiVersion: eventing.knative.dev/v1alpha1
kind: EventPolicy
metadata: {name: first}
spec:
  to: [{ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}]
  from: [{sub: "system:serviceaccount:ns:fn-a"}, {sub: "system:serviceaccount:ns:team-*"}]
  filters: [{any: [{exact: {type: t.one}}]}]
---
apiVersion: eventing.knative.dev/v1alpha1
kind: EventPolicy
metadata: {name: second}
spec:
  to: [{ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}]
  from: [{sub: "system:serviceaccount:ns:fn-a"}]
  filters: [{exact: {type: t.two}}]
---
apiVersion: eventing.knative.dev/v1alpha1
kind: EventPolicy
metadata: {name: elsewhere}
spec:
  to: [{ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: other}}]
  from: [{sub: "system:serviceaccount:ns:fn-b"}]
"""))
    assert [p.name for p in plan.publishers] == ["first", "second"]
    assert plan.may_publish("system:serviceaccount:ns:fn-a", {"type": "t.one"})
    assert not plan.may_publish("system:serviceaccount:ns:fn-a", {"type": "t.two"})  # the first policy decides
    assert plan.may_publish("system:serviceaccount:ns:team-x", {"type": "t.one"})   # a trailing * is a prefix
    assert not plan.may_publish("system:serviceaccount:ns:teamx", {"type": "t.one"})
    assert not plan.may_publish("system:serviceaccount:ns:fn-b", {"type": "t.one"})  # its policy is another Broker's


def test_a_trigger_with_a_delivery_of_its_own_takes_nothing_of_the_brokers_as_knative_has_it(tmp_path):
    """Knative takes a Trigger's delivery whole, its own or else the Broker's (knative/eventing
    pkg/reconciler/broker/trigger/trigger.go): the plan merged the Broker's under each Trigger's field by field, so it
    had the sink take dead letters of Triggers whose delivery names none, which a cluster never sends it as theirs."""
    (tmp_path / "broker.yaml").write_text("""apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default}
spec:
  delivery: {retry: 5, backoffDelay: PT7S, deadLetterSink: {ref: {kind: Service, name: sink}}}
""")
    (tmp_path / "triggers.yaml").write_text("""apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: own}
spec:
  filter: {attributes: {type: t.a}}
  subscriber: {ref: {kind: Service, name: fn}}
  delivery: {retry: 2, timeout: PT30S}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: brokers}
spec:
  filter: {attributes: {type: t.b}}
  subscriber: {ref: {kind: Service, name: fn}}
""")
    routes = {r.name: r for r in read_plan(tmp_path).routes}
    assert (routes["own"].retry, routes["own"].backoff_s, routes["own"].dead_letter_sink) == (2, 1.0, None)
    assert (routes["brokers"].retry, routes["brokers"].backoff_s, routes["brokers"].dead_letter_sink) == (5, 7.0, "sink")
    assert read_plan(tmp_path).dead_letter_senders("sink") == {routes["brokers"].sender}


@pytest.mark.parametrize("sender, named", [
    ("[{ref: {apiVersion: v1, kind: ServiceAccount, name: x}}]", "only `from: [{sub: ...}]` is read"),
    ("[]", "only `from: [{sub: ...}]` is read"),
])
def test_an_eventpolicy_naming_its_senders_otherwise_is_refused_by_name(tmp_path, sender, named):
    with pytest.raises(ValueError, match=re.escape("EventPolicy p: " + named)):
        read_plan(policy_manifest(tmp_path, f"""apiVersion: eventing.knative.dev/v1alpha1
kind: EventPolicy
metadata: {{name: p}}
spec:
  to: [{{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}}}]
  from: {sender}
"""))


def test_amx_up_asked_to_stop_while_its_functions_start_stops_them_at_once(tmp_path, monkeypatch):
    """SIGTERM sets `stopping`, which only a started run's supervision read: an `amx up` whose functions had not all
    answered yet (stopped by `amx up --detach` done waiting, or `amx down`) went on waiting for them up to its own
    120 s. It stops them at once, as a started run stops."""
    import subprocess

    from affiliate_matrix.localrun.runner import Function, LocalRuntime

    def start(self):  # a function that never answers
        self.process = subprocess.Popen(["sleep", "600"], start_new_session=True)

    monkeypatch.setattr(Function, "start", start)
    monkeypatch.setattr(Function, "ready", lambda self: False)
    runtime = LocalRuntime(ROOT, tmp_path / ".amx", port_base=0)
    runtime.stopping.set()  # its SIGTERM handler's doing
    try:
        runtime.run(ready_file=tmp_path / ".amx" / "up.json")
    finally:
        runtime.stop()  # (again: returns at once when it has stopped)
    assert all(function.process.poll() is not None for function in runtime.functions.values())
    assert not (tmp_path / ".amx" / "up.json").exists()


def test_the_local_broker_logs_an_id_it_took_escaped_never_as_sent(tmp_path):
    """amx up's Broker took an id the functions refuse (a line feed, a character outside ASCII: their event model's
    check) and logged it as sent, where its console printed an invisible character as it is: another id to a reader.
    Its ingress refuses such an id now, as the functions do; what it routes is logged escaped all the same."""
    from structlog.testing import capture_logs

    router = Router([], {}, tmp_path / "dead")
    try:
        with capture_logs() as lines:
            router.publish(event(id="a\u200bb\nc", type="t.\u202eb"))  # routed nowhere: router.unrouted names it
    finally:
        router.close()
    assert [(line["event_id"], line["type"]) for line in lines if line["event"] == "router.unrouted"] == [
        ("a\\u200bb\\nc", "t.\\u202eb")]


def test_amx_ups_broker_answers_an_unexpected_fault_500_naming_nothing_and_logs_it_with_the_request_id(tmp_path):
    """A fault its ingress did not foresee (here, its publisher check raising what it never raises on purpose) dropped
    the connection with no answer, and socketserver printed the traceback on amx up's console. It answers as a
    function's error does: 500 in the JSON error shape, its words generic (the fault's may quote what it read), and one
    log line with the request's id and the fault's type."""
    from structlog.contextvars import merge_contextvars
    from structlog.testing import capture_logs

    def admit(authorization, cloud_event):
        if cloud_event is not None:
            raise RuntimeError("an error quoting s3cr3t")

    router = Router([], {}, tmp_path / "dead", admit=admit)
    try:
        with capture_logs(processors=[merge_contextvars]) as logs:
            answer = httpx.post(router.url, content=json.dumps(event()), timeout=10,
                                headers={"Content-Type": "application/cloudevents+json", "X-Request-Id": "req-9"})
    finally:
        router.close()
    assert answer.status_code == 500 and answer.headers["Connection"] == "close"
    assert answer.json() == {"error": {"code": "internal_error", "message": "the event could not be taken: an "
                                       "unexpected fault, logged with this request's id", "request_id": "req-9"}}
    assert [(line["event"], line["request_id"], line["error"]) for line in logs] == [
        ("router.failed", "req-9", "RuntimeError")]
    assert logs[0]["at"].startswith("unit/test_localrun.py:") and "s3cr3t" not in str(logs)
    assert " < localrun/router.py:" in logs[0]["at"]  # the frames it passed, innermost first, for whoever debugs it


BINARY_HEAD = ("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nce-id: 1\r\nce-source: /x\r\nce-type: t.a\r\n"
               "ce-specversion: 1.0\r\nce-time: 2026-01-05T06:00:00Z\r\nContent-Type: application/json\r\n")


def test_amx_ups_broker_refuses_an_event_sent_in_chunks_naming_it_not_taking_it_without_its_data(tmp_path):
    """The ingress read as much of a body as its Content-Length said, 0 where there was none: a binary event sent with
    Transfer-Encoding: chunked (what Go's client does with a body of unknown length) was taken, 202, and delivered
    with no data, its data lost, and the chunks were then read as the connection's next request. It is refused (the
    functions read chunks; Knative's Broker does too), naming how to send it, and nothing is published."""
    published = []
    router = Router([], {}, tmp_path / "dead", admit=lambda authorization, event: None)
    router.publish = published.append
    data = b'{"connection_id": "c1"}'
    try:
        with socket.create_connection(("127.0.0.1", router.server.server_address[1]), timeout=10) as conn:
            conn.sendall(BINARY_HEAD.encode() + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                         % (len(data), data))
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    finally:
        router.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"\r\nConnection: close" in head, answer
    assert json.loads(body)["error"]["message"] == ("the event is sent with Transfer-Encoding 'chunked', which this "
                                                    "Broker does not read: send it with Content-Length")
    assert published == []


def test_amx_ups_broker_answers_a_body_that_stops_coming_408_and_lets_go_of_an_idle_connection(tmp_path):
    """Its ingress read with no bound: a client that sent part of its body (or nothing at all) held the thread serving
    it for as long as it kept the connection open, one thread each. Each read now waits `read_timeout_s` at most (the
    functions' AMX_REQUEST_READ_TIMEOUT_S; a short one here): a body is answered 408 as a function answers it, and
    a connection that sends nothing is closed."""
    router = Router([], {}, tmp_path / "dead", admit=lambda authorization, event: None, read_timeout_s=0.2)
    port = router.server.server_address[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled, \
                socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
            stalled.sendall(BINARY_HEAD.encode() + b'Content-Length: 100\r\n\r\n{"connection_id"')
            answer = b""
            while chunk := stalled.recv(65536):
                answer += chunk
            assert idle.recv(1) == b""  # closed by the ingress, unanswered: no request came
    finally:
        router.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and b"\r\nConnection: close" in head, answer
    assert json.loads(body)["error"] == {**json.loads(body)["error"], "code": "request_timeout",
                                         "message": "nothing more of the request came for 0.2 s: send it again"}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_amx_ups_broker_refuses_another_method_405_in_the_functions_shape(tmp_path, method):
    """An event PUT (or any method but POST and GET) got http.server's HTML 501; Knative's broker ingress answers
    405, and the Broker now does, in the functions' error shape, naming POST."""
    router = Router([], {}, tmp_path / "dead")
    try:
        answer = httpx.request(method, router.url, content=json.dumps(event()), timeout=10)
    finally:
        router.close()
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, POST", answer.text
    assert answer.json()["error"]["code"] == "method_not_allowed" and "POST it" in answer.json()["error"]["message"]
    assert router.delivered == 0


def test_amx_up_whose_function_exits_at_start_says_which_and_why_at_once(tmp_path, monkeypatch):
    """A function that stops at start (a missing bucket: `connections: configuration error: AMX_S3_BUCKET: …`) was
    waited for until amx up's 120 s were out, then "not ready" was all it said, the reason in that function's log."""
    import subprocess

    from affiliate_matrix.errors import AmxError
    from affiliate_matrix.localrun import runner
    from affiliate_matrix.localrun.runner import Function, LocalRuntime

    said = "configuration error: AMX_S3_BUCKET: bucket 'amx' does not exist"

    def start(self):  # connections stops at once, saying why in its log; the others never answer
        log_file = open(self.logs / f"{self.name}.log", "ab")
        argv = ["sh", "-c", f'echo "{self.name}: {said}" >&2; exit 2'] if self.name == "connections" else ["sleep", "600"]
        self.process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)

    monkeypatch.setattr(Function, "start", start)
    monkeypatch.setattr(Function, "ready", lambda self: False)
    monkeypatch.setattr(runner, "READY_S", 60, raising=False)  # bounds a failure only
    runtime = LocalRuntime(ROOT, tmp_path / ".amx", port_base=0)
    try:
        with pytest.raises(AmxError) as refused:
            runtime.run(ready_file=tmp_path / ".amx" / "up.json")
    finally:
        runtime.stop()
    assert str(refused.value) == (f"connections exited with 2 before it answered: connections: {said}; all it said: "
                                  f"{tmp_path / '.amx' / 'logs' / 'connections.log'}")
    assert all(function.process.poll() is not None for function in runtime.functions.values())
