"""Rules that set each other off: rule A's action publishes an event rule B acts on, whose action publishes one A
acts on. Every event an action's work leads to carries the rules of its chain (the `amxrulechain` CloudEvent
extension), so the first rule to come round again is stopped, recorded as a loop naming the chain, and a long chain
with no cycle stops at the hop limit. Run for real: a key rotated, its `key.rotated` firing a rebuild of a
connection's index, the rebuilt batch's `raw.batch.stored` firing a key rotation; through the in-process bus
(the embedded defaults) and through each function's HTTP event entry point as the Broker delivers to it."""

from datetime import UTC, datetime

import pytest
from functions_framework import create_app
from structlog.testing import capture_logs

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.events import ACTION_PREFIX, KEY_ROTATED, Event
from affiliate_matrix.keys import KeyRecord, add_key, rotate
from affiliate_matrix.rules.actions import execute
from affiliate_matrix.rules.engine import on_event
from affiliate_matrix.rules.model import EVENT_PREFIX, EVENT_TRIGGERS, Rule, checked
from affiliate_matrix.rules.store import activations, save_rule
from affiliate_matrix.runtime import Runtime
from tests.support.events import deliver, plan
from tests.support.processes import ROOT
from tests.support.receiver import Receiver

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LIMIT = 40  # deliveries: a loop the chain does not stop goes on past it


class Runaway(BaseException):
    """Out of the in-process bus's retries (it catches Exception): the rules went round without end."""


def rebuild_on_rotation(rule_id: str, key: str) -> Rule:
    """key.rotated of `key` → rebuild the index of connection `site` (its stored pages: a raw.batch.stored)."""
    return Rule(id=rule_id, trigger={"event": "key.rotated"}, condition=f'event.data.path == "{key}"',
                action={"type": "rebuild_index", "params": {"connection_id": "site"}}, cooldown_s=0)


def rotate_on_batch(rule_id: str, key: str) -> Rule:
    """raw.batch.stored of connection `site` → rotate `key` (a key.rotated)."""
    return Rule(id=rule_id, trigger={"event": "raw.batch.stored"}, condition='event.data.connection_id == "site"',
                action={"type": "rotate_key", "params": {"path": key}}, cooldown_s=0)


def rotate_on_rotation(rule_id: str, key: str, then: str) -> Rule:
    """key.rotated of `key` → rotate `then` (its own trigger: checked wants a cool-down)."""
    return Rule(id=rule_id, trigger={"event": "key.rotated"}, condition=f'event.data.path == "{key}"',
                action={"type": "rotate_key", "params": {"path": then}}, cooldown_s=600)


# A → B → A, and A → B → C → A: the rules as written, in order
TWO = [rebuild_on_rotation("a-rebuild", "connections/one"), rotate_on_batch("b-rotate", "connections/one")]
THREE = [rebuild_on_rotation("a-rebuild", "connections/one"), rotate_on_batch("b-rotate", "connections/two"),
         rotate_on_rotation("c-rotate", "connections/two", "connections/one")]


def setting_up(rt, rules: list[Rule]) -> None:
    save_connection(rt.store, Connection(id="site", source="affiliateprograms",
                                         base_url="https://www.affiliateprograms.com/"))
    for path in ("connections/one", "connections/two"):
        add_key(rt, KeyRecord(path=path, rotation="generate", generated_fields=["token"], created_at=T0),
                {"token": "t" * 32})
    for rule in rules:
        save_rule(rt.store, checked(rule), create=True)


def stopped_as_a_loop(rt, rules: list[Rule]) -> None:
    """Each rule fired once, then the first one, come round again, was stopped, naming the chain."""
    log = activations(rt, limit=100)
    first = rules[0].id
    assert sorted((a["rule_id"], a["decision"], a["outcome"]) for a in log) == sorted(
        [(r.id, "fired", "done") for r in rules] + [(first, "loop", "stopped")])
    [loop] = [a for a in log if a["decision"] == "loop"]
    chain = " → ".join([r.id for r in rules] + [first])
    assert loop["detail"] == f"stopped as a loop: {chain}"
    assert loop["inputs"]["rule_chain"] == [r.id for r in rules]
    assert loop["action_event_id"] == ""


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """The embedded defaults: every event in this process, the triggers engine and the actions subscribed to them
    as the Broker's Triggers route them."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    deliveries = []

    def counted(event):
        deliveries.append(event)
        if len(deliveries) > LIMIT:
            raise Runaway(f"{len(deliveries)} events and counting")

    for trigger in EVENT_TRIGGERS:
        rt.bus.subscribe(EVENT_PREFIX + trigger, counted)
        rt.bus.subscribe(EVENT_PREFIX + trigger, lambda event: on_event(rt, event))
    for action in ("rebuild_index", "rotate_key"):
        rt.bus.subscribe(ACTION_PREFIX + action, lambda event: execute(rt, event))
    rt.deliveries = deliveries
    return rt


@pytest.mark.parametrize("rules", [TWO, THREE], ids=["a-b-a", "a-b-c-a"])
def test_rules_setting_each_other_off_stop_when_the_chain_comes_round_in_process(embedded, rules):
    setting_up(embedded, rules)
    with capture_logs() as logs:
        rotate(embedded, "connections/one")  # a person rotates the key: the chain starts from no rule
    stopped_as_a_loop(embedded, rules)
    # a rule's rotation says what verified the new key: here nothing depends on the keys, and it says so
    rotations = [a["detail"] for a in activations(embedded, limit=100)
                 if a["decision"] == "fired" and a["rule_id"].endswith("-rotate")]
    assert rotations and all(detail.startswith(("connections/one: now version ", "connections/two: now version "))
                             and detail.endswith(", no connection depends on it, so none verified the new key")
                             for detail in rotations), rotations
    [stop] = [line for line in logs if line["event"] == "rule.loop_stopped"]
    assert stop["rule_id"] == rules[0].id and stop["rule_chain"] == [r.id for r in rules]
    assert not embedded.bus.dead_letters
    chained = [e.rulechain for e in embedded.bus.published if e.type.startswith(EVENT_PREFIX)]
    assert max(map(len, chained)) == len(rules)  # every event the actions led to carried its chain


@pytest.mark.parametrize("rules", [TWO, THREE], ids=["a-b-a", "a-b-c-a"])
def test_rules_setting_each_other_off_stop_when_their_actions_publish_from_a_worker_thread(embedded, rules):
    """A worker thread starts in an empty context: an action whose work ran in a pool published events with no rule
    chain, so the rules went round without end. The pools of an event's work (threads.ContextPool: the crawl's
    fetches, verify's checks, the reads several at a time) run each task in a copy of the context it came from."""
    from affiliate_matrix.threads import ContextPool

    def in_a_worker(event):
        with ContextPool(max_workers=1) as pool:
            pool.submit(execute, embedded, event).result()

    for action in ("rebuild_index", "rotate_key"):
        embedded.bus.handlers[ACTION_PREFIX + action] = [in_a_worker]
    setting_up(embedded, rules)
    rotate(embedded, "connections/one")
    stopped_as_a_loop(embedded, rules)
    assert not embedded.bus.dead_letters


@pytest.fixture
def functions(tmp_path, monkeypatch):
    """Each function behind its own HTTP event entry point (functions-framework, OIDC-signed deliveries), the
    Broker a local receiver whose events are delivered as the manifests' Triggers route them."""
    broker = Receiver()
    for name, value in {"AMX_DATA_DIR": str(tmp_path), "AMX_EVENTS": "http", "AMX_BROKER_URL": broker.url}.items():
        monkeypatch.setenv(name, value)
    apps: dict = {}

    def app(function):
        if function not in apps:
            apps[function] = create_app("handle", str(ROOT / "functions" / function / "main.py")).test_client()
        return apps[function]

    def pump() -> int:
        """Deliver what the broker was sent (and what that leads to) as the Triggers route it; how many."""
        done = 0
        while done < len(broker.requests):
            event = broker.json_bodies()[done]
            done += 1
            if done > LIMIT:
                raise Runaway(f"{done} events and counting")
            for route in plan().routes:
                if route.matches(event):
                    answer = deliver(app(route.subscriber), event, route.subscriber)
                    assert answer.status_code == 204, (route.subscriber, event["type"], answer.get_data(as_text=True))
        return done

    yield Runtime("test", Settings(data_dir=tmp_path, events="http", broker_url=broker.url)), pump, broker
    broker.close()


@pytest.mark.parametrize("rules", [TWO, THREE], ids=["a-b-a", "a-b-c-a"])
def test_rules_setting_each_other_off_stop_when_the_chain_comes_round_over_http(functions, rules):
    rt, pump, broker = functions
    setting_up(rt, rules)
    rotate(rt, "connections/one")
    pump()
    stopped_as_a_loop(rt, rules)
    sent = broker.json_bodies()
    assert sent[0]["type"] == KEY_ROTATED and "amxrulechain" not in sent[0]  # a person's rotation: no chain
    assert {e.get("amxrulechain") for e in sent} == {None} | {",".join(r.id for r in rules[:n])
                                                              for n in range(1, len(rules) + 1)}


def test_a_long_chain_with_no_cycle_stops_at_the_hop_limit(tmp_path):
    """Events that MAX_RULE_HOPS rules' actions led to set off no further rule: the next is stopped, naming them."""
    from affiliate_matrix.events import MAX_RULE_HOPS

    rt = Runtime("test", Settings(data_dir=tmp_path))
    save_rule(rt.store, checked(rotate_on_rotation("next-rule", "connections/one", "connections/two")), create=True)
    chain = tuple(f"rule-{n}" for n in range(MAX_RULE_HOPS))
    event = Event.make(KEY_ROTATED, "/keys", {"path": "connections/one", "version": 2}, key="k", rulechain=chain)
    with capture_logs() as logs:
        [stopped] = on_event(rt, event)
    assert (stopped["decision"], stopped["outcome"]) == ("loop", "stopped")
    assert stopped["detail"] == (f"stopped at the hop limit: the actions of {MAX_RULE_HOPS} rules led to this event: "
                                 + " → ".join(chain))
    assert [line["rule_chain"] for line in logs if line["event"] == "rule.loop_stopped"] == [list(chain)]
    shorter = Event.make(KEY_ROTATED, "/keys", {"path": "connections/one", "version": 3}, key="k2", rulechain=chain[1:])
    [fired] = on_event(rt, shorter)
    assert fired["decision"] == "fired" and fired["inputs"]["rule_chain"] == list(chain[1:])


@pytest.mark.parametrize("chain,refusal", [
    (",".join(f"rule-{n}" for n in range(9)), "the amxrulechain attribute names 9 rules, more than 8"),
    ("a-rebuild,Not A Rule", "the amxrulechain attribute holds 'Not A Rule', not a rule id"),
    ("a-rebuild,,b-rotate", "the amxrulechain attribute holds '', not a rule id"),
    ("b-rotate,b-rotate", "the amxrulechain attribute names a rule twice"),
    ("r" * 600, "the amxrulechain attribute is 600 characters, longer than 8 rule ids"),
    (7, "Input should be a valid tuple"),
])
def test_a_chain_no_engine_made_is_refused_naming_it(functions, chain, refusal):
    """The attribute comes from outside too: bounded, and of the form the engine writes, or the event is answered 400
    (the Broker parks it as a dead letter) with why; a malformed one is never read as no chain."""
    from tests.support.events import deliver_event

    rt, _, broker = functions
    setting_up(rt, TWO)
    client = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    answer = deliver_event(client, "triggers", KEY_ROTATED, {"path": "connections/one", "version": 2}, amxrulechain=chain)
    assert answer.status_code == 400 and refusal in answer.get_data(as_text=True), answer.get_data(as_text=True)
    assert activations(rt) == [] and broker.requests == []


@pytest.mark.parametrize("binary", [False, True], ids=["structured", "binary"])
def test_a_forged_chain_stops_its_rules_on_that_event_and_nothing_more(functions, binary):
    """An event naming a rule in its chain stops that rule on that event, recorded as a loop for all to see; its state
    is untouched (no cool-down started, no failure counted), so the next event without the forgery fires it."""
    from affiliate_matrix.rules.store import load_state

    rt, _, broker = functions
    setting_up(rt, TWO)
    client = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    forged = Event.make(KEY_ROTATED, "/keys", {"path": "connections/one", "version": 2}, key="v2", rulechain=("a-rebuild",))
    assert deliver(client, forged, "triggers", binary=binary).status_code == 204
    [loop] = activations(rt)
    assert (loop["rule_id"], loop["decision"], loop["detail"]) == ("a-rebuild", "loop",
                                                                  "stopped as a loop: a-rebuild → a-rebuild")
    assert broker.requests == [] and load_state(rt.store, "a-rebuild")[1] is None  # no state written
    read = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    shown = client.get("/activations?rule_id=a-rebuild", headers=read)
    assert shown.status_code == 200 and [a["decision"] for a in shown.json["items"]] == ["loop"]
    genuine = Event.make(KEY_ROTATED, "/keys", {"path": "connections/one", "version": 3}, key="v3")
    assert deliver(client, genuine, "triggers", binary=binary).status_code == 204
    assert [e["type"] for e in broker.json_bodies()] == [ACTION_PREFIX + "rebuild_index"]
    assert broker.json_bodies()[0]["amxrulechain"] == "a-rebuild"
