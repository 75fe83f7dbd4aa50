"""The triggers function fed hostile rules and events through its real entry points (its HTTP stack, signed
CloudEvents as the Broker delivers them): decisions judged by the event, a bad rule costing only itself."""

import json

import pytest

from tests.support.apps import function_client
from tests.support.events import deliver_event
from tests.support.rules import add_webhook_key, relay_rule

KEY_EXPIRING = "dev.affiliatematrix.key.expiring"
ROTATION_FAILED = "dev.affiliatematrix.key.rotation.failed"
# A rule valid until a date, said in its condition: judged by the event's time, never by the clock of the machine
# that happens to evaluate it (a redelivery hours later, a dry run, a backlog drained the next day).
UNTIL = 'timestamp(now) < timestamp("2026-06-01T00:00:00Z")'
FROM = 'timestamp(now) >= timestamp("2100-01-01T00:00:00Z")'


@pytest.mark.parametrize("condition,time,holds", [
    (UNTIL, "2026-05-31T23:00:00+00:00", True), (UNTIL, "2026-06-01T01:00:00+00:00", False),
    (FROM, "2100-01-01T01:00:00+00:00", True), (FROM, "2099-12-31T23:00:00+00:00", False)])
def test_a_rule_valid_within_dates_is_judged_by_the_events_time_not_the_wall_clock(env, condition, time, holds):
    """`now` was the wall clock for event rules (engine.context_values), so whether a rule valid until June held
    depended on when the triggers function got the event, and a dry run of an event at a given time said what the
    wall clock said."""
    triggers = function_client("triggers")
    rule = {"id": "dated", "trigger": {"event": "key.expiring"}, "condition": condition,
            "action": {"type": "alert", "params": {"text": "key {key_path} expiring"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/dated/test", headers=env["read"],
                            json={"type": KEY_EXPIRING, "time": time, "data": {"path": "connections/awin", "days": 7}})
    assert verdict.status_code == 200 and verdict.json["holds"] is holds
    delivered = deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin", "days": 7}, time=time)
    assert delivered.status_code == 204
    decisions = [a["decision"] for a in triggers.get("/activations", headers=env["read"]).json["items"]]
    assert decisions == (["fired"] if holds else [])


def test_a_rule_edited_while_its_old_condition_fails_is_not_disabled_for_the_old_ones_failures(env, tmp_path):
    """The engine evaluates the rules it read (an event in flight while the rule is edited); a failure counted on the rule's id and the
    third disabled whatever was stored by then, so a condition fixed by PUT while the old one was still failing in
    flight was disabled for the old one's error, and the fixed one's first failure disabled it (the count carried
    over). Failures now count for the condition that raised, and a rule is disabled only as it was evaluated."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.conditions import context_of
    from affiliate_matrix.rules.engine import evaluate
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import load_rule, load_state
    from affiliate_matrix.runtime import Runtime

    triggers = function_client("triggers")
    fragile = {"id": "fragile", "trigger": {"event": "key.expiring"}, "condition": "1 / (key.failures - 1) == 1",
               "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=fragile, headers=env["admin"]).status_code == 201
    for n in range(2):  # one failed connection: division by zero, counted twice (the trial's sample has none)
        assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin", "failed": ["awin"]},
                             id=f"e{n}").status_code == 204
    etag = triggers.get("/rules/fragile", headers=env["admin"]).headers["ETag"]
    fixed = {**fragile, "condition": "key.failures != 1 && 1 / (key.failures - 1) == 1"}
    assert triggers.put("/rules/fragile", json=fixed, headers={**env["admin"], "If-Match": etag}).status_code == 200

    rt = Runtime("test", Settings(data_dir=tmp_path))
    old = Rule.model_validate(fragile)  # what a worker read before the edit, failing a third time
    at = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    [activation] = evaluate(rt, [old], context_of({"key": {"failures": 1}}), trigger_id="e2", at=at, inputs={})
    assert activation["decision"] == "error" and activation["outcome"] == "failed"
    stored, _ = load_rule(rt.store, "fragile")
    assert stored.enabled and stored.condition == fixed["condition"]
    broken = Rule.model_validate({**fixed, "condition": "1 / (key.failures - 1) == 1 && true"})  # another condition's first
    [activation] = evaluate(rt, [broken], context_of({"key": {"failures": 1}}), trigger_id="e3", at=at, inputs={})
    assert activation["outcome"] == "failed" and load_state(rt.store, "fragile")[0]["failures"] == 1


@pytest.mark.parametrize("params,message", [
    ({"niche": ""}, "action.params.niche: it is blank: its dorks would search for no niche at all"),
    ({"niche": "pets" * 2_500}, "action.params.niche: 10,000 characters, over the 100 a niche may have"),
    ({"niche": True}, "action.params.niche: a niche of 1 to 100 characters"),
    ({"niche": "shoes site:evil.example"}, "action.params.niche: ':' at character 11 makes the word before it a "
                                           "search operator"),
    ({"niche": "-inurl:affiliate"}, "action.params.niche: '-' at character 1 excludes the word after it"),
    ({"niche": "pets", "language": "xx"}, "action.params.language: no dork templates for 'xx'"),
    ({"niche": "pets", "language": 7}, "action.params.language: no dork templates for 7"),
])
def test_a_discover_action_is_held_to_what_post_discover_takes_when_the_rule_is_written(env, params, message):
    """POST /discover takes niches of 1-100 characters and languages with dork templates; a rule's discover action
    was stored with any niche (empty, 10 KB, true) or language, and each firing ran a discovery on it: dorks of
    10 KB sent to the providers (each query counted against the day's quota), or a run failing on 'xx'."""
    triggers = function_client("triggers")
    rule = {"id": "find-more", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "discover", "params": params}}
    reply = triggers.post("/rules", json=rule, headers=env["admin"])
    assert reply.status_code == 400 and message in reply.json["error"]["message"]
    assert triggers.get("/rules/find-more", headers=env["read"]).status_code == 404
    for language in ("de", "pt"):  # Portuguese, as Dutch and Italian, has dork templates now
        good = {**rule, "id": f"find-{language}",
                "action": {"type": "discover", "params": {"niche": "web hosting", "language": language}}}
        assert triggers.post("/rules", json=good, headers=env["admin"]).status_code == 201


@pytest.mark.parametrize("damage", [b'{"last_fired_at": "2026-11-22T0', b"[" * 100_000, b'["not", "a", "state"]',
                                    b'{"last_fired_at": 5, "failures": "x"}', b'{"failures": -5}'])
def test_a_damaged_rule_state_costs_neither_the_other_rules_nor_the_event(env, tmp_path, damage, capsys):
    """A rule's state (rules/state/<id>.json: its last firing, its failures) that no longer parses raised out of the
    engine at that rule's firing: the event failed (a 500, redelivered until dropped) and every rule after it missed
    the event, for good. A damaged state is named in the log and the rule goes on from a fresh one."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    triggers = function_client("triggers")
    for rule_id in ("first", "second"):
        rule = {"id": rule_id, "trigger": {"event": "key.expiring"}, "condition": "true",
                "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
        assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("rules/state/first.json", damage, content_type="application/json")
    reply = deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin"})
    assert reply.status_code == 204
    items = triggers.get("/activations", headers=env["read"]).json["items"]
    assert sorted((a["rule_id"], a["decision"]) for a in items) == [("first", "fired"), ("second", "fired")]
    logged = capsys.readouterr().err
    assert "document.damaged" in logged and "rules/state/first.json" in logged and "Traceback" not in logged


def test_the_rules_damaged_reads_log_no_more_lines_than_an_event_may(env, tmp_path):
    """A rule's state and an action's activation record, read damaged, were logged document.damaged directly, past the
    bound an event keeps (observability.log_damaged): an event over many rules with damaged states wrote a line for
    each. Now they count with every other damaged read of the event: the first MAX_DAMAGED_LOGGED, then one line."""
    from structlog.testing import capture_logs

    from affiliate_matrix.config import Settings
    from affiliate_matrix.observability import MAX_DAMAGED_LOGGED, bind_request, log_damaged
    from affiliate_matrix.rules.actions import record_outcome
    from affiliate_matrix.runtime import Runtime

    def damaged_lines(logs) -> list[str]:
        return [line["event"] for line in logs if line["event"].startswith("document.damaged")]

    triggers = function_client("triggers")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    for n in range(MAX_DAMAGED_LOGGED + 1):
        rule = {"id": f"r{n}", "trigger": {"event": "key.expiring"}, "condition": "true",
                "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
        assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
        rt.store.put(f"rules/state/r{n}.json", b"{", content_type="application/json")
    with capture_logs() as logs:
        assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin"}).status_code == 204
    assert damaged_lines(logs) == ["document.damaged"] * MAX_DAMAGED_LOGGED + ["document.damaged_more"]
    # an action's damaged activation record, read by an event that met as many damaged documents already
    key = "activations/2026-11-22/a_000000000000000000000000.json"
    rt.store.put(key, b"{", content_type="application/json")
    with capture_logs() as logs:
        bind_request()
        for n in range(MAX_DAMAGED_LOGGED):
            log_damaged(f"other/{n}.json", "damaged")
        record_outcome(rt, key, "done", "alert written")
    assert damaged_lines(logs) == ["document.damaged"] * MAX_DAMAGED_LOGGED + ["document.damaged_more"]


@pytest.mark.parametrize("damage", [b'{"id": "a_000000000000000000000000", "rule_id": "r", "decis', b"[" * 100_000,
                                    b'["an", "activation"]'])
def test_an_action_whose_activation_record_is_damaged_is_done_once_and_names_it(env, tmp_path, damage, capsys):
    """The outcome of an action is written onto its activation record, which was read with json.loads: a damaged one
    raised after the action was done (the alert written, the webhook posted), a 500, so the Broker redelivered the
    action and it was done again, and again. The damage is named in the log and the action's outcome left unrecorded."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    key = "activations/2026-11-22/a_000000000000000000000000.json"
    Runtime("test", Settings(data_dir=tmp_path)).store.put(key, damage, content_type="application/json")
    triggers = function_client("triggers")
    reply = deliver_event(triggers, "triggers", "dev.affiliatematrix.action.alert", {
        "rule_id": "r", "params": {"text": "x"}, "activation_id": "a_000000000000000000000000", "activation_key": key})
    assert reply.status_code == 204
    logged = capsys.readouterr().err
    assert "document.damaged" in logged and key in logged and "Traceback" not in logged


@pytest.mark.parametrize("between", [[], ["a"], ["a", "b"]], ids=["holds-not", "fails", "fires"])
def test_a_rules_failures_count_only_while_consecutive(env, tmp_path, between):
    """A rule is disabled after three consecutive failures (rules/store.py, engine.py), but an evaluation that did not
    raise never reset the count, so three failures weeks apart, healthy evaluations between them, disabled a healthy
    rule. An evaluation that does not raise, holding (fired) or not, ends the run; a healthy rule's state is not
    written for it."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.store import load_state
    from affiliate_matrix.runtime import Runtime

    triggers = function_client("triggers")
    rule = {"id": "fragile", "trigger": {"event": "key.expiring"}, "condition": "1 / (key.failures - 1) == 1",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin"}, id="ok").status_code == 204
    assert store.head("rules/state/fragile.json") is None  # healthy and not holding: nothing written
    failing = {"path": "connections/awin", "failed": ["awin"]}  # 1 / 0
    for n in range(2):
        assert deliver_event(triggers, "triggers", KEY_EXPIRING, failing, id=f"f{n}").status_code == 204
    assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin", "failed": between},
                         id="between").status_code == 204
    assert deliver_event(triggers, "triggers", KEY_EXPIRING, failing, id="f2").status_code == 204
    enabled = triggers.get("/rules/fragile", headers=env["read"]).json["enabled"]
    failures = load_state(store, "fragile")[0]["failures"]
    assert (enabled, failures) == ((False, 3) if between == ["a"] else (True, 1))


@pytest.mark.parametrize("healthy", [False, True], ids=["unhealthy", "healthy"])
def test_a_resync_actions_outcome_says_the_sync_was_skipped_and_why(env, tmp_path, healthy):
    """The resync action requests a sync as the schedule does, so an unhealthy connection's (its credentials refused)
    is recorded as skipped and nothing is requested (sync_requests.request_sync); the action's outcome still said
    "sync ... requested", done. It now says skipped, with the reason, in the activation like any outcome."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.events import ACTION_PREFIX, SYNC_REQUESTED
    from affiliate_matrix.rules.actions import execute
    from affiliate_matrix.rules.conditions import context_of
    from affiliate_matrix.rules.engine import evaluate
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.bus.subscribe(SYNC_REQUESTED, lambda event: None)  # the Broker: takes the request (rt.bus.published)
    save_connection(rt.store, Connection(id="awin", source="awin", healthy=healthy,
                                         health_reason=None if healthy else "credentials refused (HTTP 401)"))
    rule = Rule.model_validate({"id": "again", "trigger": {"event": "key.expiring"}, "condition": "true",
                                "action": {"type": "resync", "params": {"connection_id": "awin"}}, "cooldown_s": 0})
    at = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    [fired] = evaluate(rt, [rule], context_of({}), trigger_id="e1", at=at, inputs={})
    [action] = [e for e in rt.bus.published if e.type == ACTION_PREFIX + "resync"]
    execute(rt, action)
    items = function_client("triggers").get("/activations", headers=env["read"]).json["items"]
    [activation] = [a for a in items if a["id"] == fired["id"]]
    requested = [e for e in rt.bus.published if e.type == SYNC_REQUESTED]
    if healthy:
        assert activation["outcome"] == "done" and activation["detail"].endswith(" requested") and requested
    else:
        assert activation["outcome"] == "skipped" and not requested
        assert "skipped: credentials refused (HTTP 401)" in activation["detail"]
        assert "requested" not in activation["detail"]


@pytest.mark.parametrize("kind", ["key.expiring", KEY_EXPIRING])
def test_a_dry_run_takes_the_trigger_as_a_rule_names_it(env, kind):
    """A rule says `trigger: {event: key.expiring}`; a dry run of an event typed so answered holds: false and
    triggered_by_this_event: false, with no word that the type wanted the dev.affiliatematrix. prefix."""
    triggers = function_client("triggers")
    rule = {"id": "spelled", "trigger": {"event": "key.expiring"}, "condition": "key.expires_in_days < 10",
            "action": {"type": "alert"}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/spelled/test", headers=env["read"], json={"type": kind, "data": {"days": 7}})
    assert verdict.status_code == 200, verdict.json
    assert verdict.json["holds"] is True and verdict.json["triggered_by_this_event"] is True


def test_a_dry_run_of_an_event_no_rule_can_be_triggered_by_names_the_ones_it_can(env):
    triggers = function_client("triggers")
    rule = {"id": "spelled", "trigger": {"event": "key.expiring"}, "condition": "true", "action": {"type": "alert"}}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    answer = triggers.post("/rules/spelled/test", headers=env["read"], json={"type": "key.expired", "data": {}})
    assert answer.status_code == 400
    assert "event.type: 'key.expired' triggers no rule; give one of program.delta, key.expiring" in \
        answer.json["error"]["message"]


def test_the_activations_of_one_rule_are_found_however_many_other_rules_fired_since(env, tmp_path):
    """GET /activations?rule_id= read the newest 500 activations of every rule and kept the rule's among them: a
    rule whose firings were older than the last 500 of the others (a busy rule beside a quiet one) was answered
    with none, as if it had never fired."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    one_rules_activations(env, Runtime("test", Settings(data_dir=tmp_path)))


@pytest.mark.parametrize("rule_id", ["Busy", "busy%00", "../busy"])
def test_activations_asked_for_a_rule_id_no_rule_can_have_are_refused_naming_it(env, rule_id):
    """A rule id no rule can have (a capital, a NUL, a path) was looked up and answered with no activations, as if
    the rule had never fired, where the change feed refuses a program id no program can have."""
    answer = function_client("triggers").get(f"/activations?rule_id={rule_id}", headers=env["read"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "is not a rule id: lower-case letters, digits and '-'" in answer.json["error"]["message"]


@pytest.mark.slow
def test_the_activations_of_one_rule_are_found_on_opensearch(env, monkeypatch, opensearch_node):
    import uuid

    from affiliate_matrix.runtime import Runtime

    for name, value in {"AMX_SEARCH": "opensearch", "AMX_OPENSEARCH_URL": opensearch_node.url,
                        "AMX_INDEX_PREFIX": f"a{uuid.uuid4().hex[:8]}"}.items():
        monkeypatch.setenv(name, value)
    one_rules_activations(env, Runtime("test"))


@pytest.mark.slow
@pytest.mark.parametrize("program_id", ["..", "."])
def test_a_delta_naming_a_dot_segment_for_its_program_is_judged_on_opensearch_not_a_500(env, monkeypatch,
                                                                                       opensearch_node, program_id):
    """The engine reads the delta's program from the index by the id the event names: httpx made a GET of document
    '..' one of the index itself (no _source: a KeyError), a 500 Knative redelivered until it parked the event."""
    import uuid

    for name, value in {"AMX_SEARCH": "opensearch", "AMX_OPENSEARCH_URL": opensearch_node.url,
                        "AMX_INDEX_PREFIX": f"a{uuid.uuid4().hex[:8]}"}.items():
        monkeypatch.setenv(name, value)
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.runtime import Runtime

    Runtime("test").index.ensure_index(PROGRAMS_INDEX)  # no index at all was NotFoundError: no program, judged so
    triggers = function_client("triggers")
    rule = {"id": "any", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    delta = {"id": "d1", "program_id": program_id, "change": "updated", "fields": []}
    answer = deliver_event(triggers, "triggers", "dev.affiliatematrix.program.delta", delta)
    assert answer.status_code == 204, answer.get_data(as_text=True)[:300]
    fired = triggers.get("/activations?rule_id=any", headers=env["read"]).json["items"]
    assert [(a["decision"], a["inputs"]["program_id"]) for a in fired] == [("fired", program_id)]


def one_rules_activations(env, rt):
    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX

    rt.index.ensure_index(ACTIVATIONS_INDEX)

    def activation(rule_id: str, n: int, minute: int) -> dict:
        return {"id": f"a_{rule_id}_{n}", "rule_id": rule_id, "trigger": "key.expiring", "event_id": f"e{n}",
                "decision": "fired", "action": "alert", "action_event_id": "x", "outcome": "done", "detail": "",
                "inputs": {}, "at": f"2026-11-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00+00:00"}

    quiet = [activation("quiet", n, n) for n in range(2)]
    busy = [activation("busy", n, 10 + n) for n in range(501)]  # all newer than the quiet rule's
    rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, quiet + busy, refresh=True)
    triggers = function_client("triggers")
    items = triggers.get("/activations?rule_id=quiet", headers=env["read"]).json["items"]
    assert [a["id"] for a in items] == ["a_quiet_1", "a_quiet_0"]
    items = triggers.get("/activations?rule_id=busy&limit=3", headers=env["read"]).json["items"]
    assert [a["id"] for a in items] == ["a_busy_500", "a_busy_499", "a_busy_498"]


def test_a_dry_run_of_a_schedule_rule_says_no_event_dispatches_it(env):
    """A schedule rule fires on its ticks, never on an event; a dry run of one against an event answered
    triggered_by_this_event: false beside would_dispatch naming its action, as if the event would set it off."""
    triggers = function_client("triggers")
    rule = {"id": "daily", "trigger": {"schedule": "0 6 * * *"}, "condition": "stats.programs >= 0",
            "action": {"type": "alert", "params": {"text": "x"}}}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/daily/test", headers=env["read"], json={"type": KEY_EXPIRING, "data": {}})
    assert verdict.status_code == 200, verdict.json
    assert verdict.json["holds"] is True and verdict.json["triggered_by_this_event"] is False
    assert verdict.json["would_dispatch"] is None


PACING = {"campaign_id": "c1", "day": "2026-11-21", "allocated": 0.0, "spent": 12.0, "currency": "USD",
          "tolerance": 0.2, "direction": "over", "in_run": False}  # nothing allocated: over, by no ratio


@pytest.mark.parametrize("trigger,condition,data,lacking", [
    ("key.rotated", "key.expires_in_days < 7", {"path": "connections/awin", "version": 2},
     "no value for key.expires_in_days: the key.rotated event gives none"),
    ("key.expiring", "key.expires_in_days < 7", {"path": "connections/awin", "days": 3}, None),
    ("budget.pacing", "budget.deviation > 0.5", PACING, "no value for budget.deviation: the budget.pacing event gives "
                                                        "none"),
    ("budget.pacing", "budget.deviation > 0.5", {**PACING, "allocated": 10.0, "deviation": 0.2}, False),
    ("budget.allocated", "budget.spent > 100.0", {"day": "2026-11-21", "strategy": "optimal"},
     "no value for budget.spent: the budget.allocated event gives none"),
])
def test_a_key_or_budget_value_the_event_does_not_carry_decides_nothing(env, trigger, condition, data, lacking):
    """A key event without days read key.expires_in_days as 0, so `key.expires_in_days < 7` held on every rotation;
    a budget event's missing figures read 0.0 (a pacing alert with nothing allocated has no deviation). Absent now:
    the rule is not evaluated, and the dry run says which value the event lacks."""
    triggers = function_client("triggers")
    rule = {"id": "figures", "trigger": {"event": trigger}, "condition": condition,
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/figures/test", headers=env["read"], json={"type": trigger, "data": data}).json
    if isinstance(lacking, str):
        assert (verdict["holds"], verdict["error"], verdict["no_value"]) == (None, None, f"not evaluated: {lacking}")
    else:
        assert (verdict["holds"], verdict["no_value"]) == (lacking is None, None), verdict


HUGE = int("9" * 400)  # a JSON number no float holds: the CEL library cannot take it into a context


def test_event_data_holding_a_number_too_large_for_a_condition_is_a_400_not_a_500(env):
    """Event data goes into the conditions' context whole (event.data); an integer past a double's range (JSON has no
    limit) made the CEL library refuse the whole context with a ValueError, out of the engine: a 500 to a dry run
    sent by a read token, and to an event (Knative redelivered it for half an hour, every rule of its type missing
    it). It is refused as the event's data, naming the problem."""
    triggers = function_client("triggers")
    rule = {"id": "any", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    data = {"path": "connections/awin", "days": 7, "extra": {"n": [HUGE]}}
    # a dry run's data is what the product writes (no `extra`), its days an integer, of any length in JSON
    trial = {"type": KEY_EXPIRING, "data": {"path": "connections/awin", "days": HUGE}}
    verdict = triggers.post("/rules/any/test", headers=env["read"], json=trial)
    assert verdict.status_code == 400, verdict.json
    assert "event.data.days: a number too large" in verdict.json["error"]["message"]
    delivered = deliver_event(triggers, "triggers", KEY_EXPIRING, data)
    assert delivered.status_code == 400 and "a number too large" in delivered.json["error"]["message"]
    assert deliver_event(triggers, "triggers", KEY_EXPIRING, {**data, "extra": {}}, id="e2").status_code == 204


@pytest.mark.parametrize("url", ["https://[::1/services/T0/B0/SECRET", "https://[zz]/services/T0/B0/SECRET",
                                 "https://hooks.slack.com]/services/T0/B0/SECRET"])
def test_a_webhook_address_python_cannot_split_is_neither_a_500_nor_shown_to_a_read_token(env, tmp_path, url):
    """A notify rule's webhook address is its credential, shown to a read token as its host alone; the host was found
    with urlsplit, which raises on a malformed bracket (an address the rule's own check let through): GET /rules, GET
    /rules/{id} and a dry run answered a read token 500, for every rule, because of one. Such an address, which the
    notify action could never post to, is refused when a rule is written; one stored before is shown with no host."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule
    from affiliate_matrix.runtime import Runtime

    triggers = function_client("triggers")
    rule = {"id": "ping-me", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "notify", "params": {"webhook_url": url}}, "cooldown_s": 0}
    refused = triggers.post("/rules", json=rule, headers=env["admin"])
    assert refused.status_code == 400 and "SECRET" not in refused.get_data(as_text=True)
    assert "action.params.webhook_url: not an http(s) URL with a valid host" in refused.json["error"]["message"]
    save_rule(Runtime("test", Settings(data_dir=tmp_path)).store, Rule.model_validate(rule), create=True)
    listed = triggers.get("/rules", headers=env["read"])
    one = triggers.get("/rules/ping-me", headers=env["read"])
    verdict = triggers.post("/rules/ping-me/test", headers=env["read"], json={"type": KEY_EXPIRING, "data": {}})
    for answer in (listed, one, verdict):
        assert answer.status_code == 200, answer.get_data()[:200]
        assert "SECRET" not in answer.get_data(as_text=True)
    assert one.json["action"]["params"]["webhook_url"] == "https://…"
    assert triggers.get("/rules/ping-me", headers=env["admin"]).json["action"]["params"]["webhook_url"] == url


def test_a_rebuild_replays_every_connection_a_damaged_one_aside(env, tmp_path, monkeypatch, capsys):
    """A rebuild_index action re-parses every directory connection's pages; it read the connections one by one with
    load_connection, so a damaged one (truncated, hand-edited) raised out of the action: the connections after it
    were not replayed and the activation said only the damage. Damaged data is named and the rest keeps working,
    as the scheduled syncs read the same list."""
    from affiliate_matrix import pipeline
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.rules.actions import rebuild_index
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    with recorded_sites("affiliatefix") as urls:  # each connection's pages fetched once, for the rebuild to replay
        for connection_id in ("a-first", "c-last"):
            save_connection(rt.store, Connection(id=connection_id, source="affiliatefix", base_url=urls["affiliatefix"],
                                                 rate_limit_per_s=50))
            fetched = pipeline.scrape(rt, connection_id).records
    rt.store.put("connections/b-damaged.json", b'{"id": "b-damaged", "sour', content_type="application/json")
    replayed, scrape = [], pipeline.scrape
    monkeypatch.setattr(pipeline, "scrape", lambda rt_, connection_id, replay: replayed.append(connection_id)
                        or scrape(rt_, connection_id, replay=replay))
    outcome = rebuild_index(rt, {}, {})
    assert replayed == ["a-first", "c-last"] and fetched > 0
    assert outcome.startswith(f"replayed a-first ({fetched} records), c-last ({fetched} records)")
    assert "connections/b-damaged.json" in outcome and "connections/b-damaged.json" in capsys.readouterr().err


def test_a_trigger_delivered_again_after_its_action_was_done_keeps_the_actions_outcome(env, tmp_path):
    """An event is delivered again when any of its work failed (another rule's state write lost a race, the index
    answered 503): a rule that fired the first time fires again under the same ids, and its action, done meanwhile,
    is skipped as a duplicate where the Broker routes it. The engine wrote the activation again all the same, as
    'dispatched', over the outcome the action had recorded: GET /activations said the action was never done."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.actions import execute
    from affiliate_matrix.rules.conditions import context_of
    from affiliate_matrix.rules.engine import evaluate
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rule = Rule.model_validate({"id": "loud", "trigger": {"event": "key.expiring"}, "condition": "true",
                                "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 3600})
    at = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    [fired] = evaluate(rt, [rule], context_of({}), trigger_id="e1", at=at, inputs={})
    [action] = [e for e in rt.bus.published if e.type == "dev.affiliatematrix.action.alert"]
    execute(rt, action)
    [again] = evaluate(rt, [rule], context_of({}), trigger_id="e1", at=at, inputs={})  # the event delivered again
    assert again["id"] == fired["id"]
    items = function_client("triggers").get("/activations", headers=env["read"]).json["items"]
    assert [(a["id"], a["decision"], a["outcome"]) for a in items] == [(fired["id"], "fired", "done")]


@pytest.mark.parametrize("chain, stopped", [
    ("other", None),
    ("other,chained", "stopped as a loop: other → chained → chained"),
    (",".join(f"r{n}" for n in range(8)), "stopped at the hop limit: the actions of 8 rules led to this event: "
                                         + " → ".join(f"r{n}" for n in range(8))),
])
def test_a_dry_run_says_when_the_events_rule_chain_would_stop_the_rule(env, chain, stopped):
    """A dry run took no amxrulechain (the body refused it as an unknown field, and a CloudEvent file given to `amx
    rules test` too), so it said "would dispatch" for an event whose chain stops the rule: a rule in the chain, or
    after 8 rules. It says what the delivery records as a `loop` activation, and that nothing is dispatched."""
    triggers = function_client("triggers")
    rule = {"id": "chained", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/chained/test", headers=env["read"],
                            json={"type": KEY_EXPIRING, "data": {"days": 7}, "amxrulechain": chain})
    assert verdict.status_code == 200, verdict.json
    assert verdict.json["holds"] is True and verdict.json["stopped_by_chain"] == stopped
    assert (verdict.json["would_dispatch"] is None) is (stopped is not None)
    assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"days": 7}, amxrulechain=chain).status_code == 204
    [activation] = triggers.get("/activations", headers=env["read"]).json["items"]
    assert activation["decision"] == ("fired" if stopped is None else "loop")
    assert activation["detail"] == (stopped or activation["detail"])


def test_a_dry_run_refuses_a_rule_chain_no_engine_made_naming_it(env):
    triggers = function_client("triggers")
    rule = {"id": "chained", "trigger": {"event": "key.expiring"}, "condition": "true", "action": {"type": "alert"}}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/chained/test", headers=env["read"],
                            json={"type": KEY_EXPIRING, "data": {}, "amxrulechain": "a,a"})
    assert verdict.status_code == 400
    assert "event.amxrulechain: the amxrulechain attribute names a rule twice" in verdict.json["error"]["message"]


def test_a_rule_description_with_a_bidi_override_is_refused_naming_it(env):
    """Shown by `amx rules list` and GET /rules, a right-to-left override showed the description reversed."""
    rule = {"id": "r-bidi", "description": "raise\u202ealert", "trigger": {"event": "program.delta"},
            "condition": "true", "action": {"type": "alert", "params": {"text": "x"}}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400 and "description: holds U+202E" in answer.get_json()["error"]["message"]
    written = function_client("triggers").post("/rules", json={**rule, "description": "raise\n\tan alert"},
                                               headers=env["admin"])  # a description of lines is one
    assert written.status_code == 201, written.get_data(as_text=True)


@pytest.mark.parametrize("condition,said", [
    ('program.name == "Acme\u202e" || true', "U+202E"),  # the rest of the line shown reversed (Trojan Source)
    ('program.name == "Ac\u200bme"', "U+200B"),  # reads as "Acme", never matches it
    ('program.name == "A\x1b[2J"', "U+001B"),  # amx rules list's terminal cleared
    ('program.name == "Acme"\r&& true', "U+000D"),
])
def test_a_condition_that_would_show_other_than_written_is_refused_naming_the_character(env, condition, said):
    """Shown by amx rules list and show, GET /rules and the Rules page as written, a condition was stored holding a
    bidi override, an invisible character or a terminal control inside its string literals (which CEL takes): read
    as one test, it ran another. Its lines and their indentation are its own."""
    rule = {"id": "r-shown", "trigger": {"event": "program.delta"}, "condition": condition,
            "action": {"type": "alert", "params": {"text": "x"}}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert f"condition: holds {said}" in answer.get_json()["error"]["message"]
    lines = {**rule, "condition": 'program.name == "Acme"\n\t&& program.status == "active"'}
    written = function_client("triggers").post("/rules", json=lines, headers=env["admin"])
    assert written.status_code == 201, written.get_data(as_text=True)


@pytest.mark.parametrize("schedule", ["0 6 * *\n*", "0\t6 * * *"])
def test_a_schedule_whose_fields_are_apart_by_a_control_character_is_refused_naming_it(env, schedule):
    """Cron takes any whitespace between fields, so a line break or a tab was stored in the schedule, and in the
    trigger its activations name (`schedule:0 6 * *` and a new line), breaking the lines that show them."""
    rule = {"id": "r-daily", "trigger": {"schedule": schedule}, "condition": "true",
            "action": {"type": "alert", "params": {}}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "trigger.schedule: holds U+00" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("schedule,said", [
    ("0\u30006 * * *", "U+3000 (IDEOGRAPHIC SPACE) at character 2"),
    ("0 6 * * \u017fun", "U+017F (LATIN SMALL LETTER LONG S) at character 9")])
def test_a_schedule_holding_a_character_outside_ascii_is_refused_naming_it_and_where(env, schedule, said):
    """Cron splits fields at any whitespace and upper-cases its names, so a full-width space was taken as a space and
    'ſun' as SUN: the rule was stored and fired as on `0 6 * * *` (on Sundays), not as its schedule reads."""
    rule = {"id": "r-daily", "trigger": {"schedule": schedule}, "condition": "true",
            "action": {"type": "alert", "params": {}}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["message"] == (
        f"trigger.schedule: holds {said}: a cron expression is ASCII, its fields apart by spaces, its names (MON, JAN) "
        "in ASCII letters")


def test_a_schedule_holding_a_number_of_thousands_of_digits_is_refused_by_its_length_not_a_500(env):
    """The cron library reads a field's number with int(), which raises ValueError past 4,300 digits: POST /rules
    answered 500. A rule's schedule is now held to the length a connection's is (model_types.SCHEDULE_MAX)."""
    rule = {"id": "r-daily", "trigger": {"schedule": "0 " + "1" * 5000 + " * * *"}, "condition": "true",
            "action": {"type": "alert", "params": {}}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"]["message"] == ("trigger.schedule: 5,008 characters, more than the 500 any cron "
                                                     "expression needs")


@pytest.mark.parametrize("schedule,said", [
    ("61 * * * *", "its minute field '61' is wrong: a minute is 0 to 59"),
    ("0 6,25 * * *", "its hour field '6,25' is wrong at '25': an hour is 0 to 23"),
    ("*/0 * * * *", "its minute field '*/0' is wrong: a step (/n) is 1 or more"),
    ("0 9-5 * * *", "its hour field '9-5' is wrong: a range runs from low to high (5-9)"),
    ("0 6 * 13 *", "its month field '13' is wrong: a month is 1 to 12, or JAN to DEC"),
    ("0 6 * * Monday", "its day-of-week field 'Monday' is wrong: a day-of-week is 0 to 7 (0 and 7 are Sunday), or "
                       "SUN to SAT"),
    ("0 3 31 2 *", "its day-of-month field '31' names a day its month field '2' never has"),
])
def test_a_schedule_cron_cannot_read_is_refused_naming_its_field_and_what_is_wrong(env, tmp_path, schedule, said):
    """A five-field schedule the cron library refused was said in its words ("Bad minute"), naming neither the part
    that is wrong nor what the field takes: in the product's words, by POST /rules and amx rules add alike."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    told = f"trigger.schedule: {schedule!r}: {said}"
    rule = {"id": "r-daily", "trigger": {"schedule": schedule}, "condition": "true", "action": {"type": "alert"}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400 and answer.json["error"]["message"] == told, answer.json
    written = tmp_path / "rule.json"
    written.write_text(json.dumps(rule))
    added = CliRunner().invoke(app, ["rules", "add", str(written)])  # its error printed by main()
    assert added.exit_code != 0 and str(added.exception) == told, (added.output, added.exception)


@pytest.mark.parametrize("schedule,said", [
    ("*/" + "9" * 5000 + " * * * *", "its minute field '*/9999999999999999999999999999999999999…' is wrong: a minute is "
                                     "0 to 59"),
    ("*/" + "0" * 5000 + " * * * *", "its minute field '*/0000000000000000000000000000000000000…' is wrong: a step (/n) "
                                     "is 1 or more"),
])
def test_a_stored_schedule_of_any_length_is_said_short_and_never_raises(schedule, said):
    """A schedule stored past the API's 500-character bound (a restore, a hand edit) is said when its ticks or a dry
    run read it: a step of over 4,300 digits raised ValueError from int() there, and the part was quoted whole."""
    from affiliate_matrix.model_types import cron_problem

    assert cron_problem(schedule) == said


@pytest.mark.parametrize("params,said", [
    ({"text": "commission up\u202e"}, "action.params.text: holds U+202E"),
    ({"text": "a\x00b"}, "action.params.text: holds U+0000"),
    ({"severity": "\x1b[31mcritical"}, "action.params.severity: holds U+001B"),
    ({"severity": "critical\nforged line"}, "action.params.severity: holds U+000A"),
    ({"severity": "x" * 40_000}, "action.params.severity: 40,000 characters; at most 100"),
])
def test_an_alerts_text_or_severity_that_would_show_other_than_written_or_never_store_is_refused(env, params, said):
    """What an alert records and a notify posts was taken as written, where the rule's description beside it was held
    to show as written: a bidi override reversed the alert's text, a line break in its severity forged a line. A
    severity is a keyword of the alerts index, which OpenSearch refuses past 32,766 bytes: such a rule's every alert
    failed there (and only there)."""
    rule = {"id": "r-alert", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": params}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400 and said in answer.get_json()["error"]["message"], answer.get_data(as_text=True)
    lines = {"text": "{program_name}:\n\tcommission up", "severity": "critical"}
    assert function_client("triggers").post("/rules", json={**rule, "action": {"type": "alert", "params": lines}},
                                            headers=env["admin"]).status_code == 201


@pytest.mark.parametrize("trigger,text,named", [
    ({"event": "program.delta"}, "{progam_name} raised its commission", "{progam_name} (did you mean 'program_name'?)"),
    ({"event": "key.expiring"}, "{program_name}'s key expires", "{program_name}"),
    ({"schedule": "0 6 * * *"}, "daily: {event_type}", "{event_type}")])
def test_a_text_naming_a_placeholder_its_trigger_does_not_fill_is_refused_when_the_rule_is_written(
        env, trigger, text, named):
    """A notify or alert text's {placeholder} was filled from the activation's inputs, and one they do not hold (a
    typo, a program's name on a key event) was sent as nothing, every firing: "  raised its commission". The rule is
    refused when it is written, naming the placeholder and those its trigger fills."""
    triggers = function_client("triggers")
    rule = {"id": "typo", "trigger": trigger, "condition": "true", "action": {"type": "alert", "params": {"text": text}}}
    refused = triggers.post("/rules", json=rule, headers=env["admin"])
    assert refused.status_code == 400, refused.json
    said = refused.json["error"]["message"]
    assert said.startswith("action.params.text: ") and named in said and "{rule_id}" in said, said


@pytest.mark.parametrize("kind,data", [
    ("program.delta", {"id": "d1", "program_id": "p_1", "change": "updated", "fields": []}),
    ("key.expiring", {"path": "connections/awin", "days": 7}), ("key.rotated", {"path": "connections/awin"}),
    ("budget.pacing", {"campaign_id": "c1", "day": "2026-11-22", "allocated": 10.0, "spent": 20.0}),
    ("budget.allocated", {"day": "2026-11-22", "strategy": "equal", "total_budget": "300.00", "currency": "USD"}),
    ("sync.failed", {"connection_id": "awin"}), ("raw.batch.stored", {"batch_key": "batches/x.jsonl"})])
def test_every_input_an_event_fills_is_a_placeholder_its_rules_may_name(env, kind, data):
    """The placeholders a rule's text may name (rules.model.placeholders) are those the engine fills: each input a dry
    run shows is one, so a rule naming it is not refused."""
    from affiliate_matrix.rules.model import Trigger, placeholders

    triggers = function_client("triggers")
    rule = {"id": "every", "trigger": {"event": kind}, "condition": "true", "action": {"type": "alert"}}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/every/test", headers=env["read"], json={"type": kind, "data": data})
    assert verdict.status_code == 200, verdict.json
    assert set(verdict.json["inputs"]) <= set(placeholders(Trigger(event=kind))), verdict.json["inputs"]


@pytest.mark.parametrize("url,kind", [("http://10.0.0.5/services/T0/B0/SECRET", "private or special-purpose"),
                                      ("http://169.254.169.254/latest/SECRET", "link-local"),
                                      ("https://[::ffff:192.168.1.9]/SECRET",
                                       "an IPv6 address carrying a private or special-purpose IPv4 one"),
                                      # IPv4 written as one number or in hex, which browsers and the resolver read as
                                      # the address (169.254.169.254, 10.0.0.5): were stored as host names
                                      ("http://2852039166/latest/SECRET", "link-local"),
                                      ("http://0xa.0.0.5/SECRET", "private or special-purpose")])
def test_a_webhook_at_a_non_public_address_is_refused_when_the_rule_is_written(env, url, kind):
    """A notify rule posting to a private, link-local or other non-public address written as such was stored, and every
    firing then failed at the address guard ("webhook not posted"). It is refused when the rule is written, naming the
    kind of address and not the URL (a credential). A loopback one is stored: AMX_ALLOW_LOOPBACK_FETCH, where the
    action runs, may let it post."""
    triggers = function_client("triggers")
    rule = {"id": "inside", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "notify", "params": {"webhook_url": url}}}
    refused = triggers.post("/rules", json=rule, headers=env["admin"])
    assert refused.status_code == 400 and "SECRET" not in refused.get_data(as_text=True)
    assert refused.json["error"]["message"].startswith("action.params.webhook_url: ") and \
        f"({kind})" in refused.json["error"]["message"], refused.json
    loopback = {**rule, "action": {"type": "notify", "params": {"webhook_url": "http://127.0.0.1:9000/hook"}}}
    assert triggers.post("/rules", json=loopback, headers=env["admin"]).status_code == 201


@pytest.mark.parametrize("url", ["https://amx:s3cr3t@hooks.example.com/services/T0/B0/x",
                                 "https://s3cr3t@hooks.example.com/services/T0/B0/x"])
def test_a_webhook_url_with_credentials_is_refused_when_the_rule_is_written(env, tmp_path, url):
    """user:password@ in a webhook's URL was stored in the rule and sent as Basic auth: a password kept outside the
    secret store, shown whole to every admin token. It is refused naming the fix, without repeating it; a rule stored
    with one before still loads, its read token shown the host alone."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule
    from affiliate_matrix.runtime import Runtime

    triggers = function_client("triggers")
    rule = {"id": "with-password", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "notify", "params": {"webhook_url": url}}}
    refused = triggers.post("/rules", json=rule, headers=env["admin"])
    assert refused.status_code == 400 and "s3cr3t" not in refused.get_data(as_text=True)
    assert refused.json["error"]["message"].startswith("action.params.webhook_url: holds credentials (user:password@)")
    assert "name it in action.params.auth_key" in refused.json["error"]["message"]
    save_rule(Runtime("test", Settings(data_dir=tmp_path)).store, Rule.model_validate(rule), create=True)
    for answer in (triggers.get("/rules", headers=env["read"]), triggers.get("/rules/with-password", headers=env["read"])):
        assert answer.status_code == 200 and "s3cr3t" not in answer.get_data(as_text=True)
    assert triggers.get("/rules/with-password", headers=env["read"]).json["action"]["params"]["webhook_url"] == \
        "https://hooks.example.com/…"


@pytest.mark.parametrize("url, shown", [
    ("https://amx:s3cr3t@hooks.example.com/services/T0/B0/x", "https://amx:[redacted]@hooks.example.com/services/T0/B0/x"),
    ("https://s3cr3t@hooks.example.com/x?a=b", "https://[redacted]@hooks.example.com/x?a=b"),
    ("https://hooks.example.com/x?a=b@c", "https://hooks.example.com/x?a=b@c")])  # an @ past the host: no credentials
def test_a_rule_stored_with_credentials_in_its_webhook_url_shows_them_to_no_one_and_is_named_to_change(
        env, tmp_path, monkeypatch, url, shown):
    """A rule stored before user:password@ was refused still posts with them (test_rules), but an admin token saw the
    password whole (GET /rules, GET /rules/{id}, a dry run's would_dispatch), and nothing said the rule needed a change.
    Every answer shows the URL without them; the dry run's warnings, amx rules list and amx rules show say what to do."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("COLUMNS", "400")
    triggers = function_client("triggers")
    rule = {"id": "with-password", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "notify", "params": {"webhook_url": url}}}
    save_rule(Runtime("test", Settings(data_dir=tmp_path)).store, Rule.model_validate(rule), create=True)
    listed = triggers.get("/rules", headers=env["admin"])
    one = triggers.get("/rules/with-password", headers=env["admin"])
    trial = triggers.post("/rules/with-password/test", headers=env["admin"],
                          json={"type": KEY_EXPIRING, "data": {"path": "connections/awin", "days": 7}})
    for answer in (listed, one, trial):
        assert answer.status_code == 200 and "s3cr3t" not in answer.get_data(as_text=True), answer.json
    assert listed.json["items"][0]["action"]["params"]["webhook_url"] == shown
    assert one.json["action"]["params"]["webhook_url"] == shown
    assert trial.json["would_dispatch"]["params"]["webhook_url"] == shown
    outputs = [CliRunner().invoke(app, ["rules", *args]) for args in (["list"], ["show", "with-password"])]
    if "@c" in url:
        assert trial.json["warnings"] == [] and not any("needs a change" in o.output for o in outputs)
        return
    [warning] = trial.json["warnings"]
    assert warning.startswith("action.params.webhook_url holds credentials") and "auth_key" in warning
    # written back as shown: refused for what it held, not for the [redacted] in it
    back = triggers.put("/rules/with-password", json=one.json, headers={**env["admin"], "If-Match": one.headers["ETag"]})
    assert back.status_code == 400 and "holds credentials" in back.json["error"]["message"], back.json
    for output in outputs:
        assert output.exit_code == 0 and "s3cr3t" not in output.output, output.output
        assert "needs a change" in output.output and "webhook_url holds credentials" in output.output, output.output


@pytest.mark.parametrize("params, told", [
    ({"auth_key": "connections/awin"}, "is not a webhook's key: a key's path under webhooks/"),  # a source's key
    ({"auth_key": "api-tokens/t1"}, "is not a webhook's key"),
    ({"auth_key": "webhooks/../x"}, "is not a webhook's key"),
    ({"auth_key": "webhooks/relay", "auth_header": "X Relay Token"}, "'X Relay Token' is not a header's name"),
    ({"auth_key": "webhooks/relay", "auth_header": "X-Token:"}, "is not a header's name"),
    ({"auth_key": "webhooks/relay", "auth_header": "content-type"}, "content-type is set by the notify action"),
    ({"auth_key": "webhooks/relay", "auth_header": "Host"}, "Host is set by the notify action"),
    ({"auth_header": "Authorization"}, "auth_header: names the header an auth_key's value is sent in"),
    ({"auth_key": "webhooks/absent"}, "auth_key: no key is stored at 'webhooks/absent' (amx keys add webhooks/absent "
                                      "--rotation manual --field value --for-url URL); add it first, or write the rule "
                                      "disabled"),
    ({"auth_key": "webhooks/other"}, "the key at 'webhooks/other' holds no field 'value'"),
])
def test_a_notify_webhook_key_is_held_to_what_can_be_sent_when_the_rule_is_written(env, tmp_path, params, told):
    """A notify may send a secret header (auth_header, Authorization by default) holding a key of the secret store
    (auth_key, under webhooks/): a source's key, a header no request can carry or one the action sets itself, and an
    enabled rule's key that is not there to send, are refused when the rule is written, by POST and amx rules add."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    add_webhook_key(Runtime("test", Settings(data_dir=tmp_path)), "webhooks/other", {"token": "t0k3n-0ther"})
    triggers = function_client("triggers")
    refused = triggers.post("/rules", json=relay_rule(**params), headers=env["admin"])
    assert refused.status_code == 400 and told in refused.json["error"]["message"], refused.json
    assert "t0k3n" not in refused.get_data(as_text=True)
    written = tmp_path / "rule.json"
    written.write_text(json.dumps(relay_rule(**params)))
    added = CliRunner().invoke(app, ["rules", "add", str(written)])  # its error printed by main()
    assert added.exit_code != 0 and told in str(added.exception), added.output


def test_a_notify_webhook_key_may_come_after_a_disabled_rule_and_a_dry_run_names_it_without_its_value(env, tmp_path):
    """A rule written disabled may come before its key (nothing sends it until it is enabled, which checks it); a dry
    run says which header the post would carry and from which key, never the value, and warns while the key is not
    there. Read tokens see the key's path and header's name: they are names, not the credential."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    triggers = function_client("triggers")
    rule = relay_rule(auth_key="webhooks/relay", auth_header="X-Relay-Token")
    assert triggers.post("/rules", json={**rule, "enabled": False}, headers=env["admin"]).status_code == 201
    trial_event = {"type": KEY_EXPIRING, "data": {"path": "connections/awin", "days": 7}}
    etag = triggers.get("/rules/relay", headers=env["admin"]).headers["ETag"]
    enabled = triggers.put("/rules/relay", json=rule, headers={**env["admin"], "If-Match": etag})
    assert enabled.status_code == 400 and "no key is stored at 'webhooks/relay'" in enabled.json["error"]["message"]
    listed = CliRunner().invoke(app, ["rules", "list"])  # from the keys' records: none yet
    assert "rule relay needs a change: action.params.auth_key: no key is registered at 'webhooks/relay' (amx keys " \
        "add webhooks/relay" in " ".join(listed.output.split()), listed.output
    add_webhook_key(Runtime("test", Settings(data_dir=tmp_path)), "webhooks/relay")
    assert triggers.put("/rules/relay", json=rule, headers={**env["admin"], "If-Match": etag}).status_code == 200
    trial = triggers.post("/rules/relay/test", headers=env["read"], json=trial_event)
    assert trial.status_code == 200 and trial.json["warnings"] == [], trial.json
    assert trial.json["webhook_auth"] == "X-Relay-Token: the value of the key at webhooks/relay (its field value), " \
                                        "not shown"
    assert trial.json["would_dispatch"]["params"]["auth_key"] == "webhooks/relay"
    Runtime("test", Settings(data_dir=tmp_path)).secrets.destroy("webhooks/relay", [1])
    [warning] = triggers.post("/rules/relay/test", headers=env["read"], json=trial_event).json["warnings"]
    assert warning.startswith("action.params.auth_key: no key is stored at 'webhooks/relay'") and \
        warning.endswith("a firing would be refused, disabling the rule")
    for answer in (trial, triggers.get("/rules", headers=env["admin"])):
        assert "t0k3n" not in answer.get_data(as_text=True)
    schemas = triggers.get("/openapi.json").json["components"]["schemas"]  # the API's document says them
    assert "auth_key (a key's path under webhooks/" in schemas["Action"]["properties"]["params"]["description"]
    assert {"webhook_auth", "warnings"} <= set(schemas["Verdict"]["properties"])


@pytest.mark.parametrize("rule_id", ["Règle-1", "gaming up", "-up", "a" * 64])
def test_a_rule_id_is_refused_in_words_not_as_a_pattern(env, rule_id):
    """A rule id with a capital, an accent or a space was refused as "id: String should match pattern
    '^[a-z0-9][a-z0-9-]{0,62}$'", a regular expression for a newcomer to decode."""
    triggers = function_client("triggers")
    rule = {"id": rule_id, "trigger": {"event": "program.delta"}, "condition": "true", "action": {"type": "alert"}}
    refused = triggers.post("/rules", json=rule, headers=env["admin"])
    said = refused.json["error"]["message"]
    assert refused.status_code == 400 and "pattern" not in said, said
    assert said.startswith(f"id: '{rule_id[:20]}") and "lower-case letters, digits and '-'" in said, said


def test_a_dry_run_shows_the_message_the_action_would_send(env):
    """A dry run said "would dispatch notify" with the rule's text as written ("{program_nam} raised …"), so what a
    firing would send, placeholders filled and escaped, was seen only once it was sent. It is in the verdict."""
    triggers = function_client("triggers")
    rule = {"id": "said", "trigger": {"event": "key.expiring"}, "condition": "true", "action": {
        "type": "notify", "params": {"webhook_url": "https://hooks.slack.com/services/T0/B0/x",
                                     "text": "{key_path} expires in a week (<!here>)"}}}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/said/test", headers=env["read"],
                            json={"type": KEY_EXPIRING, "data": {"path": "connections/<a&b>", "days": 7}})
    assert verdict.status_code == 200 and verdict.json["would_dispatch"] is not None, verdict.json
    assert verdict.json["message"] == "connections/&lt;a&amp;b&gt; expires in a week (<!here>)", verdict.json
    quiet = triggers.post("/rules/said/test", headers=env["read"], json={"type": "program.delta", "data": {}})
    assert quiet.json["message"] is None, quiet.json


@pytest.mark.parametrize("action, said", [
    ({"type": "resync", "params": {"connection_id": "../../x"}}, "action.params.connection_id: '../../x' is not a "
                                                                  "connection id"),
    ({"type": "rebuild_index", "params": {"connection_id": "Awin"}}, "action.params.connection_id: 'Awin' is not a "
                                                                      "connection id"),
    ({"type": "rotate_key", "params": {"path": "../secrets"}}, "action.params.path: '../secrets' is not a key's path"),
    ({"type": "rotate_key", "params": {"path": "connections/" + "a" * 300}}, "is not a key's path"),
])
def test_an_action_naming_what_no_connection_or_key_can_be_is_refused_when_the_rule_is_written(env, action, said):
    """A resync of connection '../../x' or a rotation of key '../secrets' was stored, and failed at every firing (the
    store refused the key it made of it): what an action names is judged when the rule is written, as a webhook's
    address is. Whether such a connection or key exists yet is left to the firing: a rule may come first."""
    triggers = function_client("triggers")
    rule = {"id": "named", "trigger": {"event": "key.expiring"}, "condition": "true", "action": action,
            "cooldown_s": 600}
    refused = triggers.post("/rules", json=rule, headers=env["admin"])
    assert refused.status_code == 400 and said in refused.json["error"]["message"], refused.json
    fine = {"resync": {"connection_id": "awin"}, "rebuild_index": {"connection_id": "awin"},
            "rotate_key": {"path": "connections/awin"}}[action["type"]]
    written = triggers.post("/rules", json={**rule, "action": {"type": action["type"], "params": fine}},
                            headers=env["admin"])
    assert written.status_code == 201, written.json


def test_a_rules_disabled_reason_past_its_limit_is_refused_and_a_stored_one_still_reads(env, tmp_path, monkeypatch):
    """A reason of any length was stored and shown in every listing (a 10 MB one in every GET /rules)."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.model import MAX_REASON, Rule
    from affiliate_matrix.rules.store import save_rule
    from affiliate_matrix.runtime import Runtime

    rule = {"id": "r-why", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, "enabled": False}
    client = function_client("triggers")
    answer = client.post("/rules", json={**rule, "disabled_reason": "w" * (MAX_REASON + 1)}, headers=env["admin"])
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == "disabled_reason: 501 characters; at most 500 are kept"
    written = client.post("/rules", json={**rule, "disabled_reason": "w" * MAX_REASON}, headers=env["admin"])
    assert written.status_code == 201, written.get_data(as_text=True)

    refused = CliRunner().invoke(app, ["rules", "disable", "r-why", "--reason", "w" * (MAX_REASON + 1)])
    assert str(refused.exception) == "disabled_reason: 501 characters; at most 500 are kept"  # amx's main says it

    # stored before the limit: read and shown as it is
    save_rule(Runtime("test", Settings(data_dir=tmp_path)).store,
              Rule.model_validate({**rule, "id": "r-old", "disabled_reason": "o" * 10_000}))
    listed = {r["id"]: r for r in client.get("/rules", headers=env["read"]).json["items"]}
    assert listed["r-old"]["disabled_reason"] == "o" * 10_000 and listed["r-why"]["disabled_reason"] == "w" * MAX_REASON


def test_a_condition_reading_the_event_in_a_comprehension_over_a_large_event_fails_that_activation_at_once(env):
    """The CEL library copies a variable whole at each read, so a condition reading event inside a comprehension
    over event.data copies the event once per element: the cost bound judged when the rule is written passed it,
    and an event of a few MB (well within MAX_EVENT_BYTES) held a worker for minutes, or took every byte of memory
    (`.map(e, event.data.text + …)`). It is now judged on the event before it runs: over the bound, the activation
    fails naming why, as does a dry run, and a small event is evaluated as before."""
    triggers = function_client("triggers")
    rule = {"id": "copies", "trigger": {"event": "key.rotation.failed"},
            "condition": "event.data.failed.exists(e, e == event.data.path)",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    small = {"path": "connections/awin", "failed": ["x", "connections/awin"]}
    large = {"path": "connections/awin", "failed": ["x"] * 8_000}
    verdict = triggers.post("/rules/copies/test", headers=env["read"], json={"type": ROTATION_FAILED, "data": large})
    assert verdict.status_code == 200 and verdict.json["holds"] is None
    assert "reads event up to 8,001 times" in verdict.json["error"]
    assert deliver_event(triggers, "triggers", ROTATION_FAILED, large, id="large").status_code == 204
    assert deliver_event(triggers, "triggers", ROTATION_FAILED, small, id="small").status_code == 204
    items = triggers.get("/activations", headers=env["read"]).json["items"]
    assert sorted((a["event_id"], a["decision"]) for a in items) == [("large", "error"), ("small", "fired")]
    [failed] = [a for a in items if a["decision"] == "error"]
    assert "over the limit of 50,000,000" in failed["detail"]


def test_a_rule_sending_a_webhook_key_to_another_origin_is_refused_when_written(env, tmp_path):
    """Any admin writes rules, and an admin token never reads the secret store: a rule naming the production webhook's
    key with a webhook_url of its writer's host was stored, and its firings sent the key there. A webhook's key names
    the origins it was added for; a rule sending it elsewhere is refused when written, enabled or not, new or edited
    (its key unchanged), by the API and amx rules add, naming the key and its origins, never the value."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.keys import revoke
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_webhook_key(rt, "webhooks/relay")
    triggers = function_client("triggers")
    told = ("action.params.auth_key: the key at 'webhooks/relay' is sent only to https://relay.example.com, not to "
            "https://attacker.example")
    for url in ("https://attacker.example/hook", "http://relay.example.com/hook", "https://relay.example.com:8443/h"):
        for enabled in (True, False):
            rule = {**relay_rule(auth_key="webhooks/relay"), "enabled": enabled}
            rule["action"]["params"]["webhook_url"] = url
            refused = triggers.post("/rules", json=rule, headers=env["admin"])
            assert refused.status_code == 400 and "is sent only to https://relay.example.com, not to" in \
                refused.json["error"]["message"], refused.json
            assert "t0k3n" not in refused.get_data(as_text=True)
    rule = relay_rule(auth_key="webhooks/relay")
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201  # its own origin
    one = triggers.get("/rules/relay", headers=env["admin"])
    moved = {**one.json, "action": {**one.json["action"], "params": {**one.json["action"]["params"],
                                                                     "webhook_url": "https://attacker.example/x"}}}
    edited = triggers.put("/rules/relay", json=moved, headers={**env["admin"], "If-Match": one.headers["ETag"]})
    assert edited.status_code == 400 and edited.json["error"]["message"].startswith(told), edited.json
    written = tmp_path / "rule.json"
    written.write_text(json.dumps({**moved, "id": "relay-cli"}))
    added = CliRunner().invoke(app, ["rules", "add", str(written)])
    assert added.exit_code != 0 and str(added.exception).startswith(told), added.output
    def listed() -> str:  # amx rules list, read as words (rich wraps its lines)
        result = CliRunner().invoke(app, ["rules", "list"])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    assert "needs a change" not in listed()
    # revoked, then added again for another webhook: the rule stored before is named by amx rules list (from the key's
    # record, no secret read: it named nothing) and a dry run as a firing would refuse it
    revoke(rt, "webhooks/relay")
    assert "rule relay needs a change: action.params.auth_key: the key at 'webhooks/relay' was revoked at " in listed()
    add_webhook_key(rt, "webhooks/relay", url="https://other.example.com")
    trial = triggers.post("/rules/relay/test", headers=env["read"],
                          json={"type": KEY_EXPIRING, "data": {"path": "connections/awin", "days": 7}})
    [warning] = trial.json["warnings"]
    sent_elsewhere = ("action.params.auth_key: the key at 'webhooks/relay' is sent only to https://other.example.com, "
                      "not to https://relay.example.com")
    assert warning.startswith(sent_elsewhere) and warning.endswith("a firing would be refused, disabling the rule"), \
        warning
    assert f"rule relay needs a change: {sent_elsewhere}" in listed() and "t0k3n" not in listed()


def test_get_rules_says_what_a_rule_needs_changed_as_amx_rules_list_and_show_do(env, tmp_path):
    """GET /rules and GET /rules/{id} said nothing of a notify whose key a firing would refuse (disabling the rule),
    where amx rules list and show and the dry run named it: each rule read has its `warnings`, a listing's from the
    key's record alone (no secret read, as amx rules list), one rule's with its key read (as amx rules show). Written
    back whole as read, the rule is taken, its warnings not stored."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.keys import revoke
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_webhook_key(rt, "webhooks/relay")
    triggers = function_client("triggers")
    assert triggers.post("/rules", json=relay_rule(auth_key="webhooks/relay"), headers=env["admin"]).status_code == 201
    one = triggers.get("/rules/relay", headers=env["read"])
    assert one.json["warnings"] == [] and triggers.get("/rules", headers=env["read"]).json["items"][0]["warnings"] == []
    rule = triggers.get("/rules/relay", headers=env["admin"])
    back = triggers.put("/rules/relay", json=rule.json, headers={**env["admin"], "If-Match": rule.headers["ETag"]})
    assert back.status_code == 200, back.json
    assert "warnings" not in json.loads(rt.store.get("rules/relay.json").data)
    rt.secrets.destroy("webhooks/relay", [1])  # its secret gone, its record standing: seen by a read of the rule alone
    assert triggers.get("/rules", headers=env["read"]).json["items"][0]["warnings"] == []
    [warning] = triggers.get("/rules/relay", headers=env["read"]).json["warnings"]
    assert warning.startswith("action.params.auth_key: no key is stored at 'webhooks/relay'") and \
        warning.endswith("a firing would be refused, disabling the rule"), warning
    revoke(rt, "webhooks/relay")
    [listed] = triggers.get("/rules", headers=env["read"]).json["items"][0]["warnings"]
    [shown] = triggers.get("/rules/relay", headers=env["read"]).json["warnings"]
    assert listed == shown and listed.startswith("action.params.auth_key: the key at 'webhooks/relay' was revoked at ")
    printed = " ".join(CliRunner().invoke(app, ["rules", "list"]).output.split())
    assert f"rule relay needs a change: {listed}" in printed, printed
    document = triggers.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    assert "warnings" in schemas["RuleRead"]["properties"] and not any(
        "warnings" in schemas[body]["properties"] for body in ("RuleInput", "RuleReplacement"))
    assert schemas["RuleList"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/RuleRead"}
    assert document["paths"]["/rules/{rule_id}"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/RuleRead"}


def test_get_rules_says_each_rules_state_as_the_rules_page_shows_it(env, tmp_path):
    """The Rules page showed a rule's state (its last firing, its failures in a row, a damaged one named) from the
    store, where GET /rules and GET /rules/{id} said none of it: a client of the API could not tell a rule failing
    towards its disabling from a quiet one. Each rule read has its `state`, to the page's role (a read token); it is
    the server's, so a rule written back whole as read is taken, its state neither stored in it nor changed."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    triggers = function_client("triggers")
    rule = {"id": "expiring", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    fresh = {"last_fired_at": None, "failures": 0, "last_error": None, "damaged": None}
    assert triggers.get("/rules/expiring", headers=env["read"]).json["state"] == fresh
    assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin"}).status_code == 204
    [fired] = triggers.get("/activations", headers=env["read"]).json["items"]
    state = triggers.get("/rules/expiring", headers=env["read"]).json["state"]
    assert state == {**fresh, "last_fired_at": state["last_fired_at"]} and state["last_fired_at"].endswith("Z")
    assert state["last_fired_at"][:19] == fired["at"][:19]
    rt.store.put("rules/state/expiring.json", json.dumps({
        "last_fired_at": "2026-12-01T10:00:00+00:00", "failures": 2, "last_error": "EvalError: no such key 'stats'"
    }).encode(), content_type="application/json")
    failing = {"last_fired_at": "2026-12-01T10:00:00Z", "failures": 2, "last_error": "EvalError: no such key 'stats'",
               "damaged": None}
    assert triggers.get("/rules", headers=env["read"]).json["items"][0]["state"] == failing
    read = triggers.get("/rules/expiring", headers=env["admin"])
    assert read.json["state"] == failing
    back = triggers.put("/rules/expiring", json={**read.json, "state": {**failing, "failures": 0}},
                        headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert back.status_code == 200 and back.json["state"] == failing, back.json
    assert "state" not in json.loads(rt.store.get("rules/expiring.json").data)
    copied = tmp_path / "rule.json"  # and by amx rules add
    copied.write_text(json.dumps({**read.json, "id": "expiring-copy"}))
    added = CliRunner().invoke(app, ["rules", "add", str(copied)])
    assert added.exit_code == 0, (added.output, added.exception)
    assert "state" not in json.loads(rt.store.get("rules/expiring-copy.json").data)
    rt.store.put("rules/state/expiring.json", b'{"failures": -5}', content_type="application/json")
    listed = {rule["id"]: rule for rule in triggers.get("/rules", headers=env["read"]).json["items"]}["expiring"]
    assert listed["state"] == {**fresh, "damaged": {
        "key": "rules/state/expiring.json",
        "error": "not a rule's state (its last_fired_at a time, its failures a count of 0 or more)"}}
    schemas = triggers.get("/openapi.json").json["components"]["schemas"]
    assert schemas["RuleRead"]["properties"]["state"]["$ref"] == "#/components/schemas/RuleState"
    assert set(schemas["RuleState"]["properties"]) == set(fresh)
    assert not any("state" in schemas[body]["properties"] for body in ("RuleInput", "RuleReplacement"))


@pytest.mark.parametrize("revoked", [False, True])
def test_a_listing_of_rules_sharing_a_key_reads_its_record_once(env, tmp_path, monkeypatch, revoked):
    """GET /rules and amx rules list read a notify's key record for each rule naming it (and a revoked one's twice):
    100 rules sharing one key, 100 reads of one record a listing. Each distinct key is read once a listing, and every
    rule still named by what its record says."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.keys import revoke
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule
    from affiliate_matrix.runtime import Runtime
    from affiliate_matrix.storage.local import LocalObjectStore

    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_webhook_key(rt, "webhooks/relay")
    for number in range(100):
        save_rule(rt.store, Rule.model_validate({**relay_rule(auth_key="webhooks/relay"), "id": f"relay-{number}"}))
    if revoked:
        revoke(rt, "webhooks/relay")
    reads, get = [], LocalObjectStore.get
    monkeypatch.setattr(LocalObjectStore, "get",
                        lambda store, key, **bound: reads.append(key) or get(store, key, **bound))
    items = function_client("triggers").get("/rules", headers=env["read"]).json["items"]
    assert reads.count("keys/records/webhooks/relay.json") == 1 and len(items) == 100
    assert all(bool(item["warnings"]) is revoked for item in items)
    reads.clear()
    printed = CliRunner().invoke(app, ["rules", "list"]).output
    assert reads.count("keys/records/webhooks/relay.json") == 1
    assert printed.count("needs a change") == (100 if revoked else 0), printed


def test_amx_keys_add_takes_a_webhook_keys_origins_and_refuses_one_without(env, tmp_path, monkeypatch):
    """amx keys add webhooks/NAME without --for-url is refused before the value is asked for: the key would have gone
    to any host a rule names. With it, the URL's origin alone is kept (its path may be the webhook's secret)."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.config import Settings
    from affiliate_matrix.keys import load_record
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("COLUMNS", "400")
    add = ["keys", "add", "webhooks/relay", "--rotation", "manual", "--field", "value"]
    refused = CliRunner().invoke(app, add, input="Bearer t0k3n-relay\n")
    assert refused.exit_code != 0 and "name each with --for-url URL" in str(refused.exception), refused.output
    bad = CliRunner().invoke(app, [*add, "--for-url", "ftp://relay.example.com"], input="Bearer t0k3n-relay\n")
    assert bad.exit_code == 2 and "--for-url" in bad.output, bad.output
    stored = CliRunner().invoke(app, [*add, "--for-url", "https://Relay.Example.com/services/s3cr3t-path",
                                      "--for-url", "https://relay.example.com:8443"], input="Bearer t0k3n-relay\n")
    assert stored.exit_code == 0, stored.output
    assert "sent only to https://relay.example.com, https://relay.example.com:8443" in stored.output
    rt = Runtime("test", Settings(data_dir=tmp_path))
    assert load_record(rt, "webhooks/relay")[0].origins == ["https://relay.example.com",
                                                            "https://relay.example.com:8443"]
    assert "s3cr3t-path" not in json.dumps(rt.secrets.metadata("webhooks/relay").custom_metadata)


def test_a_rule_written_is_answered_with_its_warnings_as_a_read_of_it(env, tmp_path):
    """POST /rules and PUT /rules/{id} answered the plain rule, without the `warnings` both GETs carry: a rule written
    with a revoked key said nothing of it until it was read. A write answers the rule as a read of it alone does, its
    key read: here a rule written disabled until its key is there (an enabled one is refused)."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.keys import revoke
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_webhook_key(rt, "webhooks/relay")
    revoke(rt, "webhooks/relay")
    triggers = function_client("triggers")
    created = triggers.post("/rules", json={**relay_rule(auth_key="webhooks/relay"), "enabled": False},
                            headers=env["admin"])
    assert created.status_code == 201, created.json
    [warning] = created.json["warnings"]
    assert warning.startswith("action.params.auth_key: the key at 'webhooks/relay' was revoked at "), warning
    read = triggers.get("/rules/relay", headers=env["admin"])
    assert created.json == read.json and created.headers["ETag"] == read.headers["ETag"]
    replaced = triggers.put("/rules/relay", json={**read.json, "description": "again"},
                            headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert replaced.status_code == 200 and replaced.json["warnings"] == [warning], replaced.json
    assert replaced.json == triggers.get("/rules/relay", headers=env["admin"]).json
    assert "warnings" not in json.loads(rt.store.get("rules/relay.json").data)
    paths = triggers.get("/openapi.json").json["paths"]
    for method, path, status in (("post", "/rules", "201"), ("put", "/rules/{rule_id}", "200")):
        assert paths[path][method]["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/RuleRead"}, (method, path)


@pytest.mark.parametrize("trigger", [{"schedule": "0 9 * * *", "timezone": "Europe/Berlin"},
                                     {"schedule": "CRON_TZ=Europe/Berlin 0 9 * * *"},
                                     {"schedule": "0 9 * * * Europe/Berlin"}])
def test_a_schedule_written_with_a_time_zone_is_refused_saying_it_is_in_utc(env, trigger):
    """A schedule given a zone as other crons take it (beside it, Kubernetes' CRON_TZ=, after it) was refused as
    "trigger.timezone: Extra inputs are not permitted" or "not a five-field cron expression": nothing said the schedule
    is read in UTC, so what to write instead."""
    rule = {"id": "r-daily", "trigger": trigger, "condition": "true", "action": {"type": "alert", "params": {}}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "a schedule is in UTC and takes no time zone: write its hour in UTC" in answer.get_json()["error"]["message"]


def test_a_rule_with_a_misspelt_field_is_refused_naming_it_beside_the_field_it_lacks(env, tmp_path):
    """A rule writing `triger:` was refused "trigger: Field required", by POST /rules and amx rules add alike, and
    nothing named the `triger` it had: the unknown field is named after it, with the field it is close to."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    told = "trigger: Field required; unknown field(s): triger (triger: did you mean trigger?)"
    rule = {"id": "r-typo", "triger": {"event": "program.delta"}, "condition": "true", "action": {"type": "alert"}}
    answer = function_client("triggers").post("/rules", json=rule, headers=env["admin"])
    assert answer.status_code == 400 and answer.json["error"]["message"] == told, answer.json
    written = tmp_path / "rule.json"
    written.write_text(json.dumps(rule))
    added = CliRunner().invoke(app, ["rules", "add", str(written)])
    assert added.exit_code != 0 and str(added.exception) == told, (added.output, added.exception)
