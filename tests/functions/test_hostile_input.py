"""The reproductions of an attacker-style review, each through a function's own HTTP stack: every one
answered a 5xx (or crashed) before, and must answer a 4xx naming the problem."""

import base64
import json

import pytest

from tests.support.events import deliver_event
from tests.support.apps import function_client


client = function_client


def refused(response, status: int, fragment: str) -> None:
    body = response.get_json()
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert fragment in body["error"]["message"], body


@pytest.mark.parametrize("route,query,fragment", [
    ("/programs", "limit=%C2%B2", "limit must be a whole number"),     # '²': str.isdigit() said yes, int() no
    ("/programs", "page=%E2%81%B5", "page must be a whole number"),    # '⁵'
    ("/programs", "limit=%D9%A1%D9%A2", "limit must be a whole number"),  # Arabic-Indic '١٢', which int() takes
    ("/changes", "limit=%C2%B2", "limit must be a whole number"),
    ("/merchants", "limit=%EF%BC%95", "limit must be a whole number"),  # full-width '５'
])
def test_unicode_digits_are_refused(admin_env, route, query, fragment):
    refused(client("programs").get(f"{route}?{query}", headers=admin_env["admin"]), 400, fragment)


def test_unicode_digits_are_refused_by_the_activations_route(admin_env):
    refused(client("triggers").get("/activations?limit=%D9%A1%D9%A2", headers=admin_env["admin"]), 400,
            "limit must be a whole number")


def _programs(rt, count: int):
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert("programs", [to_document(make_program(f"Shop {i}", f"https://shop{i}.com"))
                                      for i in range(count)], refresh=True)


def forged(cursor: str, after) -> str:
    """The same query's cursor (its fingerprint kept, so only the position is forged)."""
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    text = json.dumps({"q": data["q"], "a": after}) if not isinstance(after, str) else after.replace("Q", data["q"])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", [
    [2**70, "p_0000000000000000"],            # OverflowError in SQLite before
    [{"x": 1}, "p_0000000000000000"],         # ProgrammingError before
    [[1, 2], "p_0000000000000000"],
    ["Shop", "p_0000000000000000", None, None, None, None, None, None, None, None, None],
    ['{"q":"Q","a":["\\ud800","p_0"]}'],      # a lone surrogate: no backend can bind it
    ['{"q":"Q","a":[NaN,"p_0"]}'],
    ['{"q":"Q","a":["x","p_0"],"extra":1}'],
])
def test_forged_cursors_are_refused(admin_env, after):
    _programs(admin_env["rt"], 5)
    app = client("programs")
    first = app.get("/programs?limit=2&sort=name", headers=admin_env["admin"]).get_json()
    assert first["next_cursor"]
    answer = app.get(f"/programs?limit=2&sort=name&cursor={forged(first['next_cursor'], after)}", headers=admin_env["admin"])
    refused(answer, 400, "cursor is malformed")
    assert app.get(f"/programs?limit=2&sort=name&cursor={first['next_cursor']}", headers=admin_env["admin"]).status_code == 200


@pytest.mark.parametrize("function,path", [("connections", "/connections"), ("triggers", "/rules"),
                                           ("budget", "/campaigns"), ("discover", "/discover"),
                                           ("triggers", "/rules/r1/test")])
def test_json_nested_a_thousand_deep_is_refused(admin_env, function, path):
    deep = '{"id": ' + "[" * 1000 + "]" * 1000 + "}"
    answer = client(function).post(path, data=deep, headers={**admin_env["admin"], "Content-Type": "application/json"})
    assert answer.status_code in (400, 404)  # /rules/r1/test: no such rule, but never a 500
    if answer.status_code == 400:
        assert "nested more than 32 levels" in answer.get_json()["error"]["message"]


def test_a_lone_surrogate_in_a_body_is_refused(admin_env):
    body = '{"id": "ok", "name": "\\ud800", "channel": "email", "currency": "USD"}'
    refused(client("budget").post("/campaigns", data=body, headers={**admin_env["admin"], "Content-Type": "application/json"}),
            400, "not Unicode text")


@pytest.mark.parametrize("attributes,fragment", [
    ({"type": "Bad Type!"}, "event type"),
    ({"type": "dev.affiliatematrix..x"}, "event type"),   # '..': types name dead-letter folders
    ({"id": "x" * 300}, "event id"),
    ({"subject": "s" * 300}, "event subject"),
    ({"time": "0001-01-01T00:00:00Z"}, "event time"),     # a day back from it overflows
    ({"time": "9999-12-31T23:59:59Z"}, "event time"),     # a day on from it overflows
    ({"time": "9999-12-31T23:59:59-14:00"}, "event time"),  # in UTC, the year 10000: an OverflowError (500) before
    ({"time": "0001-01-01T00:00:00+14:00"}, "event time"),  # in UTC, the year 0
    ({"time": "1764900000"}, "event time: Value error, time '1764900000' is not an RFC 3339"),  # was a Unix time
    ({"time": 1764900000.5}, "is not an RFC 3339 timestamp"),
    ({"time": None}, "the event names no time"),  # the SDK gave it the time it came: work dated by the clock
    # no control character (CloudEvents' String type has none), nor a bidi or invisible one: logged, parked and
    # filled into alert text, a line break forged another line there
    ({"id": 'e-1\n{"forged": "line"}'}, "event id: holds U+000A"),
    ({"source": "/index\r\nX"}, "event source: holds U+000D"),
    ({"subject": "\u202egnp.exe"}, "event subject: holds U+202E"),
    # a look-alike of an id or source (full-width letters, another normal form of an accent) is another event to the
    # de-duplication, yet shows as the one done: every sender's ids and sources are ASCII (digests, UUIDs, paths)
    ({"id": "\uff45-1"}, "event id: holds U+FF45, where an event's id is ASCII"),
    ({"id": "e\u0301-1"}, "event id: holds U+0301, where an event's id is ASCII"),
    ({"source": "/cron/\u0432erify"}, "event source: holds U+0432, where an event's source is ASCII"),
])
def test_cloudevents_that_do_not_fit_are_refused_naming_the_attribute(admin_env, attributes, fragment):
    for function in ("triggers", "budget", "index"):
        given = {"type": "dev.knative.sources.ping", **attributes}
        refused(deliver_event(client(function), function, given.pop("type"), {}, **given), 400, fragment)


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_past_the_years_a_datetime_holds_in_utc_is_refused_naming_it(admin_env, since):
    """Each is a valid time in its own zone, and in UTC a year datetime cannot hold: a 500 before."""
    refused(client("programs").get("/changes", query_string={"since": since}, headers=admin_env["admin"]), 400,
            f"since: {since!r} is outside the years 1 to 9999 in UTC")


def test_a_structured_event_with_more_attributes_than_a_binary_one_can_carry_is_refused_before_parsing(admin_env):
    """The CloudEvents SDK copies the extensions it holds at each attribute it sets: 100,000 extension attributes
    (1.5 MB, under the 4 MB cap) took 45 s of CPU, 270,000 about 5 minutes, redelivered on the timeout. A binary
    event carries at most gunicorn's 100 header fields; a structured one is held to as many attributes."""
    extensions = {f"e{n}": "v" for n in range(1000)}
    refused(deliver_event(client("verify"), "verify", "dev.knative.sources.ping", {}, **extensions), 400,
            "more than 100 attributes")
    assert not list(admin_env["rt"].store.list("events/done/"))  # no work done for it


def test_a_binary_event_with_more_attributes_than_gunicorn_lets_through_is_refused(admin_env):
    from tests.support.events import token_for

    headers = {"ce-id": "b1", "ce-source": "/cron/verify", "ce-specversion": "1.0",
               "ce-type": "dev.knative.sources.ping", "Authorization": f"Bearer {token_for('verify')}",
               **{f"ce-e{n}": "v" for n in range(1000)}}
    refused(client("verify").post("/", data=b"", headers=headers), 400, "more than 100 attributes")
    assert not list(admin_env["rt"].store.list("events/done/"))


def test_a_binary_event_naming_no_time_is_refused_not_dated_by_the_clock(admin_env):
    """The CloudEvents SDK gives an event with no ce-time the time it arrives: a tick's work (which day the budget
    allocates, which syncs are due) was dated by this machine's clock, and a replay of it by another day's."""
    from tests.support.events import token_for

    headers = {"ce-id": "b2", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": "dev.knative.sources.ping",
               "Content-Type": "application/json", "Authorization": f"Bearer {token_for('verify')}"}
    refused(client("verify").post("/", data=b"{}", headers=headers), 400, "the event names no time")
    assert not list(admin_env["rt"].store.list("events/done/"))


@pytest.mark.parametrize("traceparent", [5, True, {"trace": "x"}, ["00-x"]])
def test_a_traceparent_extension_that_is_not_text_starts_a_new_trace_as_a_malformed_one_does(admin_env, traceparent):
    """A structured event's extensions may be any JSON; the tracing extension's was read as text, so an object, a list
    or a number raised AttributeError: a 500 with a traceback, and Knative redelivered it until it was dropped. A
    number or a boolean (CloudEvents types) starts a new trace; an object or a list, of no CloudEvents type, is
    refused naming it (events23)."""
    answer = deliver_event(client("verify"), "verify", "dev.knative.sources.ping", {}, traceparent=traceparent)
    if isinstance(traceparent, (dict, list)):
        refused(answer, 400, "event attribute traceparent: an extension's value is a string, an integer or a boolean")
        return
    assert answer.status_code == 204, answer.get_data(as_text=True)[:300]
    assert list(admin_env["rt"].store.list("events/done/"))  # the work was done, once


@pytest.mark.parametrize("function,type,data,fragment", [
    ("index", "dev.affiliatematrix.raw.batch.stored", {"batch_key": "../../etc/passwd"}, "batch_key"),
    ("index", "dev.affiliatematrix.raw.batch.stored", {"batch_key": "batches/x/../../../y.jsonl"}, "batch_key"),
    ("scrape", "dev.affiliatematrix.scrape.requested", {"connection_id": "../connections/x"}, "connection_id"),
    ("scrape", "dev.affiliatematrix.scrape.requested", {"connection_id": "ap", "sync_id": "../../x"}, "sync_id"),
    # "$" matches before a final line break: each of these passed its check, and the connection's key then
    # raised ValueError (a 500, redelivered), or the batch's key was looked for in the store
    ("index", "dev.affiliatematrix.raw.batch.stored", {"batch_key": f"batches/x/00/{'0' * 64}.jsonl\n"}, "batch_key"),
    # a complete run withdraws what its connection no longer lists: the connection must be one
    ("index", "dev.affiliatematrix.raw.batch.stored", {"batch_key": f"batches/x/00/{'0' * 64}.jsonl", "complete": True,
                                                       "connection_id": "../connections/x"}, "connection_id"),
    # the sync a batch is of: a replay of the complete run noted is not judged older than it
    ("index", "dev.affiliatematrix.raw.batch.stored", {"batch_key": f"batches/x/00/{'0' * 64}.jsonl",
                                                       "run": f"r_{'0' * 32}\n"}, "run"),
    # a deleted connection's claims are withdrawn: the connection and its source must be ones
    ("index", "dev.affiliatematrix.connection.deleted", {"connection_id": "../x", "source": "cj"}, "connection_id"),
    ("index", "dev.affiliatematrix.connection.deleted", {"connection_id": "cj", "source": ["cj"]}, "source"),
    ("index", "dev.affiliatematrix.connection.deleted", {"connection_id": "cj", "source": "cj", "etag": ["x"]},
     "etag"),
    ("index", "dev.affiliatematrix.connection.deleted", {"connection_id": "cj", "source": "cj", "etag": "x",
                                                         "generation": f"g_{'0' * 32}\n"}, "generation"),
    ("scrape", "dev.affiliatematrix.scrape.requested", {"connection_id": "ap\n"}, "connection_id"),
    ("scrape", "dev.affiliatematrix.scrape.requested", {"connection_id": "ap", "sync_id": f"s_{'0' * 32}\n"},
     "sync_id"),
    ("sync", "dev.knative.sources.ping", {"class": "api", "every_minutes": 1e300}, "every_minutes"),
    ("discover", "dev.knative.sources.ping", {"niches": ["pets"], "languages": [{"a": 1}]}, "languages"),
    ("triggers", "dev.affiliatematrix.action.alert", {"params": "not an object"}, "params"),
])
def test_keys_and_values_from_event_data_are_checked_before_the_store(admin_env, function, type, data, fragment):
    before = sorted(admin_env["rt"].store.list())
    refused(deliver_event(client(function), function, type, data), 400, fragment)
    assert sorted(admin_env["rt"].store.list()) == before  # nothing written, nowhere


def test_a_requested_sync_naming_another_connections_sync_is_refused_and_writes_nothing(admin_env):
    """A scrape.requested event names its connection and the sync record that follows its run. One naming connection
    a with connection b's sync ran a and wrote a's outcome into b's sync record, and into b's last_sync, which every
    read token reads as b's run. The sync must be the connection's own."""
    from datetime import UTC, datetime

    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.sync_requests import Sync, sync_key

    rt = admin_env["rt"]
    save_connection(rt.store, Connection(id="b", source="affiliateprograms"))
    theirs = Sync(id=f"s_{'b' * 32}", connection_id="b", requested_at=datetime(2026, 11, 22, tzinfo=UTC))
    rt.store.put(sync_key(theirs.id), theirs.model_dump_json().encode(), content_type="application/json")
    before = {key: rt.store.get(key).data for key in rt.store.list()}
    answer = deliver_event(client("scrape"), "scrape", "dev.affiliatematrix.scrape.requested",
                           {"connection_id": "a", "sync_id": theirs.id})
    refused(answer, 400, f"sync {theirs.id} follows connection 'b', not 'a'")
    assert {key: rt.store.get(key).data for key in rt.store.list()} == before  # nothing written, nowhere


def test_an_activation_key_from_event_data_cannot_point_elsewhere(admin_env):
    """The action's outcome goes only to a key fire() writes; a traversal in the event is ignored."""
    target = "rules/activations/../../connections/x.json"
    answer = deliver_event(client("triggers"), "triggers", "dev.affiliatematrix.action.alert",
                           {"params": {"text": "hi"}, "activation_key": target, "rule_id": "r"})
    assert answer.status_code == 204
    assert not [k for k in admin_env["rt"].store.list() if k.startswith("connections/")]


def test_an_action_naming_another_rules_activation_leaves_it_as_it_was(admin_env):
    """An action's event names its rule and the activation its outcome goes to. One naming rule r2 and r1's activation
    ran and wrote its outcome over r1's ("done", another action's detail): r1's history then showed an outcome it never
    had. Refused before the action runs, nothing written."""
    rt = admin_env["rt"]
    key = f"rules/activations/2026-11-22/a_{'1' * 24}.json"
    theirs = {"id": f"a_{'1' * 24}", "rule_id": "r1", "action": "alert", "outcome": "dispatched"}
    rt.store.put(key, json.dumps(theirs).encode(), content_type="application/json")
    before = sorted(rt.store.list())
    answer = deliver_event(client("triggers"), "triggers", "dev.affiliatematrix.action.alert",
                           {"params": {"text": "hi"}, "activation_key": key, "rule_id": "r2"})
    refused(answer, 400, f"activation {key} belongs to rule 'r1', not 'r2': the action is not run")
    assert json.loads(rt.store.get(key).data) == theirs and sorted(rt.store.list()) == before


def test_an_activation_key_with_a_line_break_after_it_is_ignored(admin_env):
    """The key's pattern must hold for all of it ("$" also matches before a final line break)."""
    rt = admin_env["rt"]
    key = f"rules/activations/2026-11-22/a_{'0' * 24}.json"
    rt.store.put(key, b'{"id": "a_000000000000000000000000", "rule_id": "r"}', content_type="application/json")
    answer = deliver_event(client("triggers"), "triggers", "dev.affiliatematrix.action.alert",
                           {"params": {"text": "hi"}, "activation_key": key + "\n", "rule_id": "r"})
    assert answer.status_code == 204
    assert "outcome" not in json.loads(rt.store.get(key).data)


def test_a_rule_dry_run_with_data_of_the_wrong_shape_is_refused(admin_env):
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule

    save_rule(admin_env["rt"].store, Rule.model_validate({
        "id": "r1", "trigger": {"event": "program.delta"}, "condition": "delta.commission_percent_new > 1.0",
        "action": {"type": "alert", "params": {"text": "x"}}}), create=True)
    answer = client("triggers").post("/rules/r1/test", json={"type": "dev.affiliatematrix.program.delta",
                                                             "data": {"fields": 7}}, headers=admin_env["admin"])
    refused(answer, 400, "event.data.fields: Input should be a valid array")  # the field named (rules/event_data.py)


@pytest.mark.parametrize("data,kind", [([1, 2], "a list"), ("batches/x", "a string"), (7, "a number")])
def test_event_data_that_is_not_an_object_is_refused_naming_that_not_a_missing_field(admin_env, data, kind):
    """Before, data of any other shape was taken as {}, and refused for a field it lacks (or, for work that
    needs none, done on nothing)."""
    refused(deliver_event(client("index"), "index", "dev.affiliatematrix.raw.batch.stored", data), 400,
            f"event data must be a JSON object, not {kind}")


@pytest.mark.parametrize("content_type,body,kind", [
    ("application/octet-stream", b"\x00\xff", "bytes"),
    ("text/plain", b"connection_id=ap", "bytes"),  # the SDK keeps a body that is not JSON as sent
])
def test_binary_mode_data_that_is_not_json_is_refused_naming_its_content_type(admin_env, content_type, body, kind):
    from tests.support.events import token_for

    headers = {"ce-id": "b1", "ce-source": "/cron/sync", "ce-specversion": "1.0", "ce-type": "dev.knative.sources.ping",
               "ce-time": "2026-11-22T06:00:00Z", "Content-Type": content_type,
               "Authorization": f"Bearer {token_for('sync')}"}
    refused(client("sync").post("/", data=body, headers=headers), 400,
            f"event data must be a JSON object, not {kind} ({content_type})")
    assert not list(admin_env["rt"].store.list("events/done/"))


@pytest.mark.parametrize("mode,content_type", [
    ("binary", "text/plain"), ("binary", "application/xml; charset=utf-8"), ("structured", "text/plain"),
    ("structured", "application/x-www-form-urlencoded"), ("structured", 5)])
def test_event_data_declared_in_a_content_type_other_than_json_is_refused_naming_it(admin_env, mode, content_type):
    """The CloudEvents SDK reads a binary event's body as JSON whatever its Content-Type says, and a structured event's
    data whatever its datacontenttype says: JSON declared as text or XML was worked on as a JSON object, where a reader
    going by what the event declares (a Broker's filter, a dead-letter viewer, a log) read other data. Every sender
    here declares application/json (Event.to_cloudevent, the PingSources' contentType)."""
    from tests.support.events import token_for

    data = {"class": "api"}
    if mode == "binary":
        headers = {"ce-id": "b1", "ce-source": "/cron/sync", "ce-specversion": "1.0",
                   "ce-type": "dev.knative.sources.ping", "ce-time": "2026-11-22T06:00:00Z",
                   "Content-Type": content_type, "Authorization": f"Bearer {token_for('sync')}"}
        answer = client("sync").post("/", data=json.dumps(data), headers=headers)
    else:
        answer = deliver_event(client("sync"), "sync", "dev.knative.sources.ping", data, datacontenttype=content_type)
    refused(answer, 400, f"event data must be JSON, declared as application/json, not {str(content_type)!r}")
    assert not list(admin_env["rt"].store.list())  # nothing claimed, no sync requested


def test_a_binary_event_naming_its_datacontenttype_apart_from_its_content_type_is_refused(admin_env):
    """In binary mode the data's content type is the Content-Type header; the SDK took a ce-datacontenttype header
    over it, so JSON sent as text/plain was read as declared application/json, and a reader going by the Content-Type
    (which CloudEvents' HTTP binding says it is) read other data."""
    from tests.support.events import token_for

    headers = {"ce-id": "b1", "ce-source": "/cron/sync", "ce-specversion": "1.0", "ce-type": "dev.knative.sources.ping",
               "ce-time": "2026-11-22T06:00:00Z", "Content-Type": "text/plain",
               "ce-datacontenttype": "application/json", "Authorization": f"Bearer {token_for('sync')}"}
    refused(client("sync").post("/", data=json.dumps({"class": "api"}), headers=headers), 400,
            "a binary event's datacontenttype is its Content-Type header, not a ce-datacontenttype header")
    assert not list(admin_env["rt"].store.list())


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON",
                                          "application/vnd.example+json"])
def test_event_data_declared_as_json_is_taken(admin_env, content_type):
    answer = deliver_event(client("verify"), "verify", "dev.knative.sources.ping", {}, datacontenttype=content_type)
    assert answer.status_code == 204, answer.get_data(as_text=True)[:300]


def test_a_binary_event_with_no_body_is_taken_as_no_data(admin_env):
    """A PingSource without data sends no body: that is an empty object, not a refusal."""
    from tests.support.events import token_for

    headers = {"ce-id": "p1", "ce-source": "/cron/verify", "ce-specversion": "1.0", "ce-type": "dev.knative.sources.ping",
               "ce-time": "2026-11-22T06:00:00Z", "Authorization": f"Bearer {token_for('verify')}"}
    assert client("verify").post("/", data=b"", headers=headers).status_code == 204


@pytest.mark.parametrize("mode", ["structured", "binary", "data_base64"])
def test_a_key_given_twice_in_an_events_data_is_refused_as_in_a_body(admin_env, mode):
    """An event's JSON was read by the CloudEvents SDK alone, which takes the last of two same-named keys: a reader
    taking the first (a proxy, a log) saw another event than the work did. Refused as in a request body, in every
    form the SDK reads as JSON (a binary event's body whatever its Content-Type says, a data_base64 once decoded)."""
    from tests.support.events import token_for

    data = f'{{"batch_key": "batches/a/00/{"0" * 64}.jsonl", "batch_key": "batches/b/00/{"1" * 64}.jsonl"}}'
    token = "Bearer " + token_for("index", {"type": "dev.affiliatematrix.raw.batch.stored"})
    if mode == "binary":
        headers = {"ce-id": "b1", "ce-source": "/scrape/x", "ce-specversion": "1.0",
                   "ce-type": "dev.affiliatematrix.raw.batch.stored", "Content-Type": "text/plain",
                   "Authorization": token}
        answer = client("index").post("/", data=data, headers=headers)
    elif mode == "data_base64":
        event = {"specversion": "1.0", "id": "b2", "source": "/scrape/x", "type": "dev.affiliatematrix.raw.batch.stored",
                 "datacontenttype": "application/json", "data_base64": base64.b64encode(data.encode()).decode()}
        answer = client("index").post("/", data=json.dumps(event), headers={
            "Content-Type": "application/cloudevents+json", "Authorization": token})
    else:
        answer = deliver_event(client("index"), "index", "dev.affiliatematrix.raw.batch.stored", raw_data=data)
    refused(answer, 400, "gives the key 'batch_key' twice")
    assert not list(admin_env["rt"].store.list("events/done/"))  # no work done for it


@pytest.mark.parametrize("data_base64", ["!!!", "e30=!!", "e3\n0="], ids=["no-digit", "junk-after", "line-break"])
def test_an_events_data_base64_that_is_not_base64_is_refused(admin_env, data_base64):
    """The SDK decodes data_base64 dropping what is no base64 digit: "!!!" was an event with no data, "e30=!!" one of
    {}, and the work ran on it, where a reader decoding base64 as RFC 4648 has it (Knative's Go SDK) refuses the
    event."""
    from tests.support.events import token_for

    event = {"specversion": "1.0", "id": "b64", "source": "/cron/verify", "type": "dev.knative.sources.ping",
             "time": "2026-11-22T06:00:00Z", "datacontenttype": "application/json", "data_base64": data_base64}
    answer = client("verify").post("/", data=json.dumps(event), headers={
        "Content-Type": "application/cloudevents+json", "Authorization": f"Bearer {token_for('verify')}"})
    refused(answer, 400, "event data_base64 is not base64")
    assert not list(admin_env["rt"].store.list("events/done/"))  # no work done for it


def test_an_event_attribute_given_twice_is_refused(admin_env):
    """A structured event naming its type twice: the SDK routed and ran it by the last, a Broker reading the first
    would have filtered it by another."""
    answer = deliver_event(client("verify"), "verify", "dev.knative.sources.ping",
                           raw_data='{}, "type": "dev.affiliatematrix.program.delta"')
    refused(answer, 400, "gives the key 'type' twice")


@pytest.mark.parametrize("attributes,fragment", [
    # the SDK lowercases a structured event's names: TYPE overrode type, so the work ran another type than a reader
    # going by "type" (a Broker's filter) routed
    ({"TYPE": "dev.affiliatematrix.program.delta"}, "event attribute 'TYPE': an attribute's name is lower-case"),
    ({"Bad Name!": "v"}, "event attribute 'Bad Name!': an attribute's name is lower-case"),
    ({"rule_chain": "x"}, "event attribute 'rule_chain': an attribute's name is lower-case"),
    # both forms of data: the SDK took data_base64's over data's, another reader data's
    ({"data_base64": "eyJjbGFzcyI6ICJhcGkifQ=="}, "the event gives both data and data_base64"),
])
def test_a_structured_event_whose_members_readers_would_read_apart_is_refused(admin_env, attributes, fragment):
    refused(deliver_event(client("verify"), "verify", "dev.knative.sources.ping", {}, **attributes), 400, fragment)
    assert not list(admin_env["rt"].store.list("events/done/"))


def test_a_binary_event_attribute_header_that_is_no_attribute_name_is_refused(admin_env):
    from tests.support.events import token_for

    headers = {"ce-id": "b1", "ce-source": "/cron/verify", "ce-specversion": "1.0",
               "ce-type": "dev.knative.sources.ping", "ce-time": "2026-11-22T06:00:00Z", "ce-rule-chain": "x",
               "Authorization": f"Bearer {token_for('verify')}"}
    refused(client("verify").post("/", data=b"", headers=headers), 400,
            "event attribute 'rule-chain': an attribute's name is lower-case")


def test_an_integer_of_ten_thousand_digits_in_an_event_is_refused_in_our_words(admin_env):
    """Python's refusal of it went out as the 400's message, with its advice to call sys.set_int_max_str_digits()."""
    answer = deliver_event(client("verify"), "verify", "dev.knative.sources.ping", raw_data=f'{{"n": {"9" * 10_000}}}')
    refused(answer, 400, "a number too long: 10,000 digits")
    assert "set_int_max_str_digits" not in answer.get_json()["error"]["message"]


def test_a_key_given_twice_in_a_body_is_refused(admin_env):
    """JSON parsers disagree on which of two same-named keys counts (Python's takes the last): a proxy that
    checked the first must not see one document while the function stores another."""
    body = '{"id": "Bad Id!", "source": "affiliateprograms", "id": "twice"}'
    answer = client("connections").post("/connections", data=body, headers={**admin_env["admin"],
                                                                             "Content-Type": "application/json"})
    refused(answer, 400, "the body gives the key 'id' twice")
    nested = '{"id": "r2", "trigger": {"event": "program.delta", "event": "sync.failed"}, "condition": "true", ' \
             '"action": {"type": "alert", "params": {"text": "x"}}}'
    refused(client("triggers").post("/rules", data=nested, headers={**admin_env["admin"],
                                                                  "Content-Type": "application/json"}),
            400, "the body gives the key 'event' twice")
    assert not [k for k in admin_env["rt"].store.list() if k.startswith(("connections/", "rules/"))]


@pytest.mark.parametrize("function,path,name", [
    ("programs", "/programs?limit=1&limit=100", "limit"),
    ("programs", "/programs?q=shop&q=other", "q"),
    ("programs", "/programs?sort=name&sort=commission", "sort"),
    ("programs", "/programs/export?format=csv&format=jsonl", "format"),
    ("programs", "/changes?limit=1&limit=2", "limit"),
    ("triggers", "/activations?limit=1&limit=2", "limit"),
])
def test_a_single_valued_parameter_given_twice_is_refused(admin_env, function, path, name):
    """Which of the two counts differs between a proxy, a cache and us; a list parameter may repeat."""
    refused(client(function).get(path, headers=admin_env["admin"]), 400, f"{name} is given more than once")


@pytest.mark.parametrize("function,path,status", [
    ("programs", "/favicon.ico", 404), ("programs", "/robots.txt", 404), ("programs", "/programs/p_0%0A", 400),
    ("connections", "/connections/ap%0A", 400), ("triggers", "/rules/r1%0A", 400), ("budget", "/favicon.ico", 404),
    ("discover", "/robots.txt", 404), ("index", "/favicon.ico", 404),
])
def test_a_path_the_framework_answers_itself_gets_the_apis_json_error(admin_env, function, path, status):
    """functions-framework answers /favicon.ico and /robots.txt itself, and Werkzeug's routing a path holding a line
    break, before the function is called: Flask's HTML page, not the JSON error every other answer is, with no
    request id."""
    answer = client(function).get(path, headers=admin_env["admin"])
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"]["request_id"] == answer.headers["X-Request-Id"]


def test_a_list_parameter_may_repeat(admin_env):
    _programs(admin_env["rt"], 2)
    answer = client("programs").get("/programs?category=beauty&category=pets", headers=admin_env["admin"])
    assert answer.status_code == 200 and answer.get_json()["total"] == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/xml", "text/json-ish"])
def test_a_body_declared_as_something_else_than_json_is_refused(admin_env, content_type):
    """text/plain is what a page of another site may send without asking (no CORS preflight): a body the
    sender did not call JSON is not read as JSON, and nothing is written."""
    body = '{"id": "plain", "source": "affiliateprograms"}'
    answer = client("connections").post("/connections", data=body, headers={**admin_env["admin"],
                                                                             "Content-Type": content_type})
    refused(answer, 415, "send the body as Content-Type: application/json")
    assert not [k for k in admin_env["rt"].store.list() if k.startswith("connections/")]
    for doc_id, json_type in (("a", "application/json; charset=utf-8"), ("b", "application/merge-patch+json")):
        created = client("connections").post("/connections", data=body.replace("plain", doc_id),
                                             headers={**admin_env["admin"], "Content-Type": json_type})
        assert created.status_code == 201, created.get_data(as_text=True)



@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_a_body_is_refused_not_stored_as_null(admin_env, constant):
    """Python's JSON parser takes NaN and Infinity, which JSON has not: a rule's alert severity of NaN was answered
    201 with NaN in its body (no JSON to a client), stored as null, and every read of the rule was then a 500
    (damaged) until it was deleted."""
    rule = ('{"id": "r1", "trigger": {"event": "key.expiring"}, "condition": "true", '
            f'"action": {{"type": "alert", "params": {{"severity": {constant}}}}}}}')
    refused(client("triggers").post("/rules", data=rule, headers={**admin_env["admin"],
                                                                 "Content-Type": "application/json"}),
            400, f"the body holds {constant}, which is no JSON number")
    assert not [k for k in admin_env["rt"].store.list() if k.startswith("rules/")]


@pytest.mark.parametrize("number", ["1e999", "-1e400", "1" * 400 + ".0"])
def test_a_number_past_a_doubles_range_is_refused_naming_it_not_as_infinity(admin_env, number):
    """Python reads it as infinity, which was refused as 'Infinity, which is no JSON number': a word the body never
    held, though it holds a number JSON's grammar takes."""
    rule = ('{"id": "r1", "trigger": {"event": "key.expiring"}, "condition": "true", '
            f'"action": {{"type": "alert", "params": {{"severity": {number}}}}}}}')
    refused(client("triggers").post("/rules", data=rule, headers={**admin_env["admin"],
                                                                 "Content-Type": "application/json"}),
            400, f"the body holds the number {number[:40]}, past ±1.8e308")
    answer = deliver_event(client("verify"), "verify", "dev.knative.sources.ping", raw_data=f'{{"n": {number}}}')
    refused(answer, 400, f"holds the number {number[:40]}, past ±1.8e308")


def test_nan_in_event_data_is_refused_naming_it(admin_env):
    answer = deliver_event(client("verify"), "verify", "dev.knative.sources.ping", raw_data='{"n": NaN}')
    refused(answer, 400, "event data holds NaN, which is no JSON number")


@pytest.mark.parametrize("function,path,name", [
    ("programs", "/programs?network=c%FFj", "network"),  # not UTF-8: read as the text "c%FFj"
    ("programs", "/programs?q=host%ED%A0%80", "q"),  # a lone surrogate in UTF-8's form
    ("programs", "/merchants?q=%C3", "q"),  # a sequence cut short
    ("programs", "/changes?since=2026-12-01&field=%E9", "field"),  # Latin-1 'é'
    ("triggers", "/activations?rule_id=r%FF", "rule_id"),
    ("connections", "/connections?x%FF=1", "x%FF"),  # a name too, shown as sent
])
def test_a_query_value_that_is_not_utf8_is_refused_naming_its_parameter_not_searched_as_its_escapes(
        admin_env, function, path, name):
    """Werkzeug reads a percent-escape that is not UTF-8 as its own text: `network=c%FFj` searched for the network
    'c%FFj', which no program has, and answered an empty result, as if the client had asked for that; others were
    refused quoting an escape the client never wrote as text."""
    refused(client(function).get(path, headers=admin_env["admin"]), 400, f"{name!r} is not UTF-8")


@pytest.mark.parametrize("function,path,status", [
    ("programs", "/programs?q=shop", 200), ("programs", "/programs/export?format=csv", 200),
    ("programs", "/programs/%3Cscript%3E", 400), ("programs", "/openapi.json", 200), ("programs", "/healthz", 200),
    ("programs", "/metrics", 200), ("programs", "/favicon.ico", 404), ("triggers", "/rules/%3Cb%3E", 400),
    ("budget", "/nowhere", 404),
])
def test_every_api_answer_is_sent_with_nosniff(admin_env, function, path, status):
    """An error echoes what was asked ('<script>' in a path) and an export holds scraped names and descriptions:
    without X-Content-Type-Options: nosniff, a browser that sniffs may read such an answer as HTML and run it."""
    answer = client(function).get(path, headers=admin_env["admin"])
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert answer.headers.get("X-Content-Type-Options") == "nosniff"


def test_a_commission_sort_over_every_currency_is_refused_naming_the_bound(admin_env):
    """sort=commission ranks by each flat currency asked apart, a sort key each, a script run on every matching program
    on OpenSearch: one request naming all 163 currencies cost the index 165 sort keys per program. At most as many
    as the currency facet lists (20) are taken, at once, as a person ticks them."""
    from affiliate_matrix.codes import CURRENCIES

    api = client("programs")
    currencies = sorted(CURRENCIES)
    for path in ("/programs?sort=commission", "/programs/export?format=csv"):
        many = "&".join(f"flat_currency={c}" for c in currencies[:21])
        refused(api.get(f"{path}&{many}", headers=admin_env["admin"]), 400, "flat_currency: at most 20 at once, got 21")
    twenty = "&".join(f"flat_currency={c}" for c in currencies[:20])
    assert api.get(f"/programs?sort=commission&{twenty}", headers=admin_env["admin"]).status_code == 200
