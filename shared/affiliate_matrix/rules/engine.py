"""Rule evaluation: event rules on each incoming event, schedule rules on the cron tick.

Per event the context is built once and every matching rule's compiled condition runs against
it. A rule that holds fires unless it is cooling down; its action goes out as a CloudEvent whose
id derives from (rule, trigger, cool-down window), so a duplicate delivery dispatches nothing
new. A rule that raises counts a failure; after FAILURES_TO_DISABLE consecutive ones it is disabled
with the reason recorded, and the other rules carry on. An evaluation that does not raise (holding or
not) ends the run of failures: the count goes back to none, so failures weeks apart never add up.
An event carries the rules whose actions led to it (its rule chain): a rule that holds on an event whose chain names it
already (rules setting each other off, A → B → A) or is MAX_RULE_HOPS long is stopped, recorded as a loop, not fired.
A rule whose condition needs a value the event's program, delta, key or budget does not have (conditions.NoValue)
decides nothing on it: it neither fires nor fails, and its state is not touched (counted, logged at debug; a dry run
says it).
"""

import hashlib
import threading
import weakref
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import takewhile

from affiliate_matrix.codes import CATEGORY_LABELS
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.events import ACTION_PREFIX, MAX_RULE_HOPS, PROGRAM_DELTA, Event
from affiliate_matrix.observability import get_logger
from affiliate_matrix.observability.telemetry import RULE_ACTIVATIONS
from affiliate_matrix.rules.conditions import NoValue, check_numbers, compile_condition, context_of
from affiliate_matrix.rules.model import EVENT_PREFIX, SECRET_PARAMS, Rule
from affiliate_matrix.rules.state import FAILURES_TO_DISABLE, without_failures
from affiliate_matrix.rules.store import (activation_key, current_rules, disable_rule, load_state, record_activation,
                                           update_state)

log = get_logger()
SCHEDULE_STATE = "_schedule"
CATCH_UP_COUNTED = timedelta(days=1)  # how far back a late ping counts the ticks it catches up (minutely: 1,440)
# store -> {rule id: the ETag of its state when this process read it with no failures} (see recovered)
_clean: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_clean_lock = threading.Lock()
_compiled_condition = lru_cache(maxsize=1024)(compile_condition)  # conditions outlive many events; edits make new ones


def compiled(rule: Rule):
    return _compiled_condition(rule.condition)


def on_event(rt, event: Event) -> list[dict]:
    short = event.type.removeprefix(EVENT_PREFIX)
    rules, states = current_rules(rt.store)
    rules = [r for r in rules if r.enabled and r.trigger.event == short]
    if not rules:
        return []
    values, inputs = context_values(rt, event, needs_stats=any("stats" in r.condition for r in rules))
    return evaluate(rt, rules, context_of(values), trigger_id=event.id, at=event.time, inputs=inputs, states=states,
                    chain=event.rulechain)


def on_schedule(rt, now: datetime) -> list[dict]:
    """Schedule rules, each once at its latest tick since the ticks done (the last ping's time) up to `now` (the
    ping's): ticks of pings missed (an outage, a ping lost while the function scaled to zero) are caught up once, not
    one by one, coalesced into the latest at which the rule holds (latest_holding), which says how many it stands for
    (and the log). Ticks are counted at most
    a day back (CATCH_UP_COUNTED); a rule with none in that day catches up its latest tick before it. They count as
    done only once every activation is stored: a process stopped between evaluates the latest again, under the same
    trigger id (`rule@tick`), so the same activation and action (their ids derive from it) replace themselves rather
    than adding up."""
    from cronsim import CronSim, CronSimError

    from affiliate_matrix.model_types import cron_problem

    state, _ = load_state(rt.store, SCHEDULE_STATE)
    done = state.get("done_until") or state.get("last_tick")  # last_tick: the ping time kept before done_until
    since = datetime.fromisoformat(done) if done else now - timedelta(minutes=5)
    earliest = now - CATCH_UP_COUNTED
    fired = []
    rules, states = current_rules(rt.store)
    for rule in (r for r in rules if r.enabled and r.trigger.schedule):
        try:
            ticks = list(takewhile(lambda t: t <= now, CronSim(rule.trigger.schedule, max(since, earliest))))
            if not ticks and since < earliest:  # none in the day counted: its latest before that, if not done yet
                before = next(CronSim(rule.trigger.schedule, earliest + timedelta(seconds=1), reverse=True), None)
                ticks = [before] if before is not None and before > since else []
        # stored past `checked`, which judges schedules: this rule fails, not the tick (ValueError: cronsim's int() of
        # a number of over 4,300 digits), said as a write of it is refused
        except (CronSimError, ValueError) as exc:
            said = InvalidInput(f"trigger.schedule: {cron_problem(rule.trigger.schedule) or exc}")
            fired.append(failed(rt, rule, said, f"{rule.trigger.key}@{now.isoformat()}", now, {}))
            continue
        if not ticks:
            continue
        values, inputs = context_values(rt, None, needs_stats="stats" in rule.condition, now=ticks[-1])
        tick = latest_holding(rule, ticks, values)
        values["now"] = tick.isoformat()
        fired += evaluate(rt, [rule], context_of(values), at=tick, inputs=inputs, states=states,
                          trigger_id=f"{rule.trigger.key}@{tick.isoformat()}",
                          detail=coalesced_note(rule, since, earliest, [t for t in ticks if t != tick] + [tick]))
    if since < now:  # a ping delivered late (older than the ticks done) has nothing to mark
        update_state(rt.store, SCHEDULE_STATE, lambda state: ticks_done(state, now))
    return fired


def latest_holding(rule: Rule, ticks: list[datetime], values: dict) -> datetime:
    """The tick coalesced ticks fire at: the latest at which the rule's condition holds, else the latest. Judged at the
    latest alone, a condition on the time (valid until a date, a weekday, an hour) that held at a missed tick was never
    met. Only a condition naming `now` can differ between ticks (the other values are the latest tick's)."""
    if len(ticks) == 1 or "now" not in rule.condition:
        return ticks[-1]
    for tick in reversed(ticks):
        if next(decide([rule], context_of(values | {"now": tick.isoformat()})))[1] is True:
            return tick
    return ticks[-1]


def ticks_done(state: dict, now: datetime) -> dict:
    """The schedule's state once every tick up to `now` is done (a ping delivered late moves nothing back)."""
    done = max(now, datetime.fromisoformat(state["done_until"])) if state.get("done_until") else now
    return {k: v for k, v in state.items() if k not in ("last_tick", "previous")} | {"done_until": done.isoformat()}


def coalesced_note(rule: Rule, since: datetime, earliest: datetime, ticks: list[datetime]) -> str:
    """What a rule's firing at its latest tick (ticks[-1]) stands for besides it (logged), as its activation says it;
    "" when it stands for itself alone."""
    missed, parts = ticks[:-1], []
    if missed:
        parts.append(f"caught up: {len(missed)} missed ticks, {missed[0].isoformat()} to {missed[-1].isoformat()}, "
                     "coalesced into this one")
    if since < earliest:
        parts.append(f"any from {since.isoformat()} to {earliest.isoformat()} (more than a day back) not counted")
    if not parts:
        return ""
    log.warning("rule.ticks_coalesced", rule_id=rule.id, schedule=rule.trigger.schedule, coalesced=len(missed),
                first=missed[0].isoformat() if missed else None, fired_at=ticks[-1].isoformat(),
                since=since.isoformat(), more_than_a_day_back=since < earliest)
    return "; ".join(parts)


def evaluate(rt, rules: list[Rule], context, *, trigger_id: str, at: datetime, inputs: dict,
             states: dict[str, str] | None = None, detail: str = "", chain: tuple[str, ...] = ()) -> list[dict]:
    """`states`: the ETag of each rule's state as listed with the rules for this event (current_rules); without
    it, a rule that does not hold has its state read to end a run of failures. `detail`: said in each activation.
    `chain`: the rules whose actions led to this event (its rule chain), none for a schedule's tick."""
    unread = {rule.id: why for rule in rules if (why := unreadable(rule, inputs))}
    activations = [not_evaluated(rt, rule, unread[rule.id], trigger_id, at, inputs) for rule in rules
                   if rule.id in unread]
    for rule, outcome in decide([rule for rule in rules if rule.id not in unread], context):
        if isinstance(outcome, NoValue):
            no_value(rule, outcome, inputs)
        elif isinstance(outcome, Exception):
            activations.append(failed(rt, rule, outcome, trigger_id, at, inputs, detail))
        elif outcome and (why := chain_stop(chain, rule.id)):
            activations.append(stopped(rt, rule, trigger_id, at, inputs, chain, why))
            recovered(rt, rule, states)
        elif outcome:
            activations.append(fire(rt, rule, trigger_id, at, inputs, detail, chain))  # its state write ends failures
        else:
            recovered(rt, rule, states)
    return activations


def chain_stop(chain: tuple[str, ...], rule_id: str) -> str:
    """Why a rule that holds may not act on an event its chain of rules led to, or "" when it may: it is in the chain
    (its action would set the chain off again, without end), or the chain is MAX_RULE_HOPS rules long already."""
    if rule_id in chain:
        return "stopped as a loop: " + " → ".join((*chain, rule_id))
    if len(chain) >= MAX_RULE_HOPS:
        return f"stopped at the hop limit: the actions of {len(chain)} rules led to this event: " + " → ".join(chain)
    return ""


def stopped(rt, rule: Rule, trigger_id: str, at: datetime, inputs: dict, chain: tuple[str, ...], why: str) -> dict:
    """A rule held but its chain stops it: recorded and logged, nothing dispatched. Its state is not touched (no
    cool-down starts, no failure counts): the chain comes in the event, so a forged one stops this rule on this
    event and nothing more."""
    activation = {"id": activation_id(f"{rule.id}|{trigger_id}|loop"), "rule_id": rule.id, "trigger": rule.trigger.key,
                  "event_id": trigger_id, "decision": "loop", "action": rule.action.type, "action_event_id": "",
                  "outcome": "stopped", "detail": why, "inputs": inputs | {"rule_chain": list(chain)},
                  "at": at.isoformat()}
    record_activation(rt, activation)
    RULE_ACTIVATIONS.labels(rule.id, "loop").inc()
    log.warning("rule.loop_stopped", rule_id=rule.id, rule_chain=list(chain), reason=why)
    return activation


def unreadable(rule: Rule, inputs: dict) -> str:
    """Why the rule cannot be evaluated on this event, or "": it reads the event's program, which the index holds
    damaged (event_values). Evaluated, it would have no value of the program, as if the index did not hold it."""
    damaged = inputs.get("program_damaged")
    if not damaged or "program" not in compiled(rule).variables():
        return ""
    return f"not evaluated: its condition reads the program, and {damaged}"


def not_evaluated(rt, rule: Rule, why: str, trigger_id: str, at: datetime, inputs: dict) -> dict:
    """A rule the event's data could not be read for: recorded (decision error, outcome not_evaluated) and logged,
    nothing dispatched. Its state is not touched: no failure counts against the rule, the data is at fault, and the
    event's other rules are evaluated."""
    activation = {"id": activation_id(f"{rule.id}|{trigger_id}|error"), "rule_id": rule.id,
                  "trigger": rule.trigger.key, "event_id": trigger_id, "decision": "error", "action": rule.action.type,
                  "action_event_id": "", "outcome": "not_evaluated", "detail": why[:500], "inputs": inputs,
                  "at": at.isoformat()}
    record_activation(rt, activation)
    RULE_ACTIVATIONS.labels(rule.id, "error").inc()
    log.warning("rule.not_evaluated", rule_id=rule.id, reason=why[:500])
    return activation


def no_value(rule: Rule, outcome: NoValue, inputs: dict) -> None:
    """A rule whose condition needs a value the event's data does not have: no decision, so nothing is recorded, as
    for a rule that does not hold (a batch of programs lacking an EPC would fill the activations with them), and no
    failure counts; counted and logged at debug. The dry run says why (no_value_said)."""
    RULE_ACTIVATIONS.labels(rule.id, "no_value").inc()
    log.debug("rule.no_value", rule_id=rule.id, fields=outcome.fields, event_id=inputs.get("event_id"),
              program_id=inputs.get("program_id"))


def no_value_said(outcome: NoValue, inputs: dict) -> str:
    """Why a rule was not evaluated for want of values, naming them and whose they are: `not evaluated: no value for
    program.epc_7d: program p_… (Name) has none`."""
    whose = []
    for part in dict.fromkeys(field.partition(".")[0] for field in outcome.fields):
        if part == "program":
            program_id = str(inputs.get("program_id") or "")[:80]
            whose.append(f"program {program_id} ({inputs['program_name']}) has none" if "program_name" in inputs
                         else f"program {program_id} is not in the index" if program_id
                         else "the delta names no program")
        elif part == "delta":
            delta_id = str(inputs.get("delta_id") or "")[:80]
            whose.append(f"delta {delta_id} has none" if delta_id else "the delta has none")
        else:
            whose.append(f"the {str(inputs.get('event_type', '')).removeprefix(EVENT_PREFIX)} event gives none")
    return f"not evaluated: no value for {', '.join(outcome.fields)}: {'; '.join(whose)}"


def recovered(rt, rule: Rule, states: dict[str, str] | None = None) -> None:
    """A rule evaluated without raising: its failures were consecutive no longer. Written (conditionally) only when
    there is a count to end. Its state is read only when this event's listing (`states`) shows it changed since
    this process read it with no failures, so an event's non-holding rules add no read each; a rule with no state
    has no failures. A failure counted by any process changes the state, so the next success reads and ends it."""
    if states is not None:
        if (listed := states.get(rule.id)) is None:  # no state, so no failures
            return
        with _clean_lock:
            if _clean.get(rt.store, {}).get(rule.id) == listed:
                return
    state, etag = load_state(rt.store, rule.id)
    if state.get("failures", 0):
        update_state(rt.store, rule.id, without_failures)
    elif etag is not None:
        with _clean_lock:
            _clean.setdefault(rt.store, {})[rule.id] = etag


def decide(rules: list[Rule], context):
    """(rule, True | False | the exception it raised) for each rule: the pure part, no I/O."""
    for rule in rules:
        try:
            yield rule, compiled(rule).execute(context) is True
        except Exception as exc:  # a bad rule must never take the others down
            yield rule, exc


def action_key(rule: Rule, trigger_id: str, at: datetime) -> str:
    window = int(at.timestamp() // rule.cooldown_s) if rule.cooldown_s else 0
    return f"{rule.id}|{trigger_id}|{window}"


def fire(rt, rule: Rule, trigger_id: str, at: datetime, inputs: dict, detail: str = "",
         chain: tuple[str, ...] = ()) -> dict:
    """The rule's action as an event, carrying the rule chain on with this rule at its end."""
    key = action_key(rule, trigger_id, at)
    inputs = inputs | {"rule_chain": list(chain)} if chain else inputs
    outcome = {}

    def claim(state):
        last = state.get("last_fired_at")
        # any two firings stay a cool-down apart, whichever order their events arrive in
        cooling = rule.cooldown_s > 0 and last is not None and state.get("last_key") != key and \
            abs((at - datetime.fromisoformat(last)).total_seconds()) < rule.cooldown_s
        outcome["cooling"] = cooling
        if cooling or (last is not None and at < datetime.fromisoformat(last)):
            return without_failures(state)  # a late event fires, but the cool-down counts from the latest firing
        return {**without_failures(state), "last_fired_at": at.isoformat(), "last_key": key}

    update_state(rt.store, rule.id, claim)
    action = Event.make(ACTION_PREFIX + rule.action.type, "/triggers", {
        "rule_id": rule.id, "params": {k: v for k, v in rule.action.params.items() if k not in SECRET_PARAMS},
        "trigger": trigger_id, "inputs": inputs,
        "activation_id": activation_id(key), "activation_key": activation_key(activation_id(key), at)},
        key=key, subject=rule.id, rulechain=(*chain, rule.id))
    activation = {"id": activation_id(key), "rule_id": rule.id, "trigger": rule.trigger.key, "event_id": trigger_id,
                  "decision": "cooldown" if outcome["cooling"] else "fired", "action": rule.action.type,
                  "action_event_id": action.id, "outcome": "skipped" if outcome["cooling"] else "dispatched",
                  "detail": detail, "inputs": inputs, "at": at.isoformat()}
    record_activation(rt, activation)
    RULE_ACTIVATIONS.labels(rule.id, activation["decision"]).inc()
    log.info("rule.activation", rule_id=rule.id, decision=activation["decision"], action=rule.action.type,
             action_event_id=action.id)
    if not outcome["cooling"]:
        rt.bus.publish(action)
    return activation


def failed(rt, rule: Rule, exc: Exception, trigger_id: str, at: datetime, inputs: dict, detail: str = "") -> dict:
    reason = f"{type(exc).__name__}: {exc}"[:500]
    # Failures count for the condition that raised (rules are evaluated as this event's listing read them): a condition
    # fixed meanwhile starts again from none, and is never disabled for the old one's failures.
    failing = hashlib.sha256(rule.condition.encode()).hexdigest()[:16]

    def counted(s: dict) -> dict:
        """One more failure, unless this trigger's was counted already: an event delivered again (its work failed
        elsewhere) or a schedule's tick evaluated again (its ping stopped before marking it done) is one failure."""
        same = s.get("failing_condition", failing) == failing
        by = [t for t in s.get("failed_by") or [] if isinstance(t, str)] if same else []
        if trigger_id in by:
            return {**s, "last_error": reason}
        return {**s, "failures": (s.get("failures", 0) if same else 0) + 1, "failing_condition": failing,
                "failed_by": (by + [trigger_id])[-FAILURES_TO_DISABLE:], "last_error": reason}

    state = update_state(rt.store, rule.id, counted)
    disabled = state["failures"] >= FAILURES_TO_DISABLE and disable_rule(
        rt.store, rule.id, f"raised {state['failures']} times; last: {reason}", condition=rule.condition) is not None
    activation = {"id": activation_id(f"{rule.id}|{trigger_id}|error"), "rule_id": rule.id, "trigger": rule.trigger.key,
                  "event_id": trigger_id, "decision": "error", "action": rule.action.type, "action_event_id": "",
                  "outcome": "disabled" if disabled else "failed", "detail": "; ".join(filter(None, (reason, detail))),
                  "inputs": inputs, "at": at.isoformat()}
    record_activation(rt, activation)
    RULE_ACTIVATIONS.labels(rule.id, "error").inc()
    log.warning("rule.failed", rule_id=rule.id, error=reason, failures=state["failures"], disabled=disabled)
    return activation


def activation_id(key: str) -> str:
    return "a_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def context_values(rt, event: Event | None, *, needs_stats: bool, now: datetime | None = None) -> tuple[dict, dict]:
    """The context parts an event fills in, and a small summary of them for the activation log. `now` is the
    event's time (a schedule's tick): no wall clock decides, so a rule valid until a date holds for the events
    before it however late they are delivered, and a dry run of an event says what its delivery would."""
    now = now or (event.time if event is not None else datetime.now(UTC))
    values: dict = {"now": now.isoformat()}
    inputs: dict = {}
    if event is not None:
        try:
            event_values(rt, event, values, inputs)
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # event data can have any shape
            raise InvalidInput(f"event data does not fit a {event.type} event: {type(exc).__name__}: {exc}"[:500]) \
                from None
    if needs_stats:
        values["stats"] = index_stats(rt)
    return values, inputs


def event_values(rt, event: Event, values: dict, inputs: dict) -> None:
    """What the event puts in the context (event, and delta/program, key or budget) and the activation's inputs."""
    check_numbers(event.data, "event.data")  # all of it goes into the context, as event.data
    values["event"] = {"id": event.id, "type": event.type, "source": event.source, "subject": event.subject or "",
                       "time": event.time.isoformat(), "data": event.data}
    inputs |= {"event_id": event.id, "event_type": event.type}
    data = event.data
    if event.type == PROGRAM_DELTA:
        values["delta"] = delta_values(data)
        inputs |= {"delta_id": data.get("id", ""), "program_id": data.get("program_id", "")}
        damaged: list[dict] = []
        program = program_values(rt, data.get("program_id"), damaged)
        if damaged:  # no program in the context: a rule reading it is not evaluated (unreadable), the others are
            inputs["program_damaged"] = damaged[0]["error"]
        values["program"] = program or {}  # none held: no value for any of its fields (NoValue)
        if program:
            # the program's id now, where the delta names an id that moved; a commission the delta does not say (a new
            # program's old one) is null, "—" in the text a notify sends (actions.render): a 0 there read as a real rate;
            # its categories in the words the explorer and the CLI show them in ("B2B SaaS", not b2b_saas)
            inputs |= {"program_id": program["id"], "program_name": program["name"],
                       "categories": ", ".join(CATEGORY_LABELS.get(code, code) for code in program["categories"]),
                       "commission_old": values["delta"].get("commission_percent_old"),
                       "commission_new": values["delta"].get("commission_percent_new")}
    elif event.type.startswith(EVENT_PREFIX + "key."):
        values["key"] = {"path": str(data.get("path", "")), "status": event.type.rsplit(".", 1)[-1],
                         "failures": len(data.get("failed", []) or [])}  # the connections it names as failed
        if data.get("days") is not None:  # key.expiring's alone: no other event's key is days from expiring
            values["key"]["expires_in_days"] = int(data["days"])
        inputs["key_path"] = values["key"]["path"]
    elif event.type.startswith(EVENT_PREFIX + "budget."):
        values["budget"] = {k: data[k] for k in ("campaign_id", "day", "direction", "strategy") if k in data} | \
            {k: float(data[k]) for k in ("allocated", "spent", "deviation", "tolerance") if k in data}
        inputs |= {k: data[k] for k in ("campaign_id", "day") if k in data}


def delta_values(data: dict) -> dict:
    """The delta as a rule sees it; a commission or cookie it does not say (a new program's old one, a delta not
    changing it, terms with no percent) absent, never 0."""
    changes = {f.get("field"): f for f in data.get("fields", []) if isinstance(f, dict)}

    def percent(terms) -> float | None:
        values = [float(value) for t in terms or [] if isinstance(t, dict) and t.get("type") == "percent"
                  and (value := t["value_max"] if t.get("value_max") is not None else t.get("value_min")) is not None]
        return max(values, default=None)

    commission = changes.get("commission", {})
    cookie = changes.get("cookie_days", {})
    said = {"commission_percent_old": percent(commission.get("old")),
            "commission_percent_new": percent(commission.get("new")),
            "cookie_days_old": cookie_length(cookie.get("old")), "cookie_days_new": cookie_length(cookie.get("new"))}
    return {"id": data.get("id", ""), "change": data.get("change", ""), "fields": sorted(k for k in changes if k),
            "source": data.get("source", ""), "at": str(data.get("at", ""))} | \
        {name: value for name, value in said.items() if value is not None}


def cookie_length(days) -> int | None:
    """A cookie's length as conditions compare it, as the search counts it (program_index.cookie_length): read as -1,
    `cookie_days >= 30` missed a lifetime cookie and a cookie made lifetime was a shorter one; none as None."""
    from affiliate_matrix.program_index import cookie_length as length

    return None if (held := length(days)) is None else int(held)


def program_values(rt, program_id, damaged: list[dict] | None = None) -> dict | None:
    """The program as a rule sees it; one whose id moved (moves.py) as it is now, under its id now: a delta recorded
    before a migration or an import moved it, delivered (again) or dry-run after, is of the program it moved to. Read
    through from_document, as every reader of a program, its fields derived as indexing derives the document's
    (to_document): the document's own summary fields, read as they were, put one of the wrong shape (a hand edit)
    before the rule. One not of a program's shape is None, logged and added to `damaged` (programs_of)."""
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.program_index import PROGRAMS_INDEX, programs_of, to_document

    try:
        doc = rt.index.get(PROGRAMS_INDEX.name, program_id) if isinstance(program_id, str) else None
    except NotFoundError:  # no index yet
        doc = None
    if doc is None and isinstance(program_id, str):
        from affiliate_matrix.moves import moved_to

        doc = moved_to(rt.index, [program_id]).get(program_id)
    program = next(programs_of([doc], damaged), None) if doc is not None else None
    if program is None:
        return None
    summary = to_document(program)  # every field present, those a program lacks None: absent here (NoValue)
    text = {name: summary[name] for name in ("name", "merchant_domain", "status", "kind",
                                             "commission_flat_currency", "epc_currency", "epc_90d_currency")}
    amounts = {name: None if summary[name] is None else float(summary[name])
               for name in ("commission_percent_max", "commission_flat_max", "quality_score", "epc_7d", "epc_90d")}
    said = {**text, **amounts, "cookie_days": cookie_length(summary["cookie_days"])}
    return {"id": summary["id"], **{name: value for name, value in said.items() if value is not None},
            "categories": summary["categories"], "networks": summary["networks"],
            "countries": countries_taken(summary), "worldwide": summary["worldwide"]}


def countries_taken(doc: dict) -> list[str]:
    """The countries a program takes, as a rule means `"US" in program.countries`: those it names and does not
    exclude, every country when it names none (a source's Worldwide: its stored list is empty, which matched no
    country); the index's open_countries, WORLDWIDE spelt out."""
    from affiliate_matrix.codes import COUNTRIES
    from affiliate_matrix.program_index import WORLDWIDE

    taken = doc.get("open_countries") or doc.get("countries") or [WORLDWIDE]
    return sorted(COUNTRIES) if WORLDWIDE in taken else list(taken)


def index_stats(rt) -> dict:
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.search import SearchQuery

    rt.index.ensure_index(PROGRAMS_INDEX)
    result = rt.index.search(PROGRAMS_INDEX.name, SearchQuery(facets=["status"], size=0))
    counts = dict(result.facets.get("status", []))
    return {"programs": result.total, "active": counts.get("active", 0), "discovered": counts.get("discovered", 0),
            "closed_suspected": counts.get("closed_suspected", 0)}
