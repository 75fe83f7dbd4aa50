"""triggers: evaluates schedule rules on its cron PingSource, event rules on every event the
Broker routes to it (program.delta, key.*, sync.failed, budget.*), and performs the notify and
alert actions routed back to it. Over HTTP it manages the rules:

GET /rules, POST /rules, GET|PUT|DELETE /rules/{id} (ETag / If-Match), POST /rules/{id}/enable, POST /rules/{id}/test
(dry-run against a given event; nothing is dispatched), POST /rules/{id}/test/programs/{program_id} (the same
against a program of the index), POST /rules/{id}/test/tick (a schedule rule at a tick of its schedule), GET
/activations (newest first; by rule_id, by program_id).
Reads need a read token, writes an admin token.
"""

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.documents import Collection, load, with_etag
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.handlers.routes import Api, Route, dispatcher, listing, of_shape
from affiliate_matrix.rules.model import Rule, checked, trigger_type
from affiliate_matrix.rules.state import shown_state

PING = "dev.knative.sources.ping"


def shown_to(rule: dict, role: str) -> dict:
    """A webhook's address is its credential (whoever has it posts to the channel): a read token sees its host.
    An admin token, which writes rules back whole, sees all of it but credentials in it (user:password@, stored
    before they were refused): those are no one's to read back, and a rule written with them is refused."""
    params = rule.get("action", {}).get("params") or {}
    if "webhook_url" not in params:
        return rule
    url = str(params["webhook_url"])
    scheme, _, rest = url.partition("://")
    end = min((at for at in map(rest.find, "/?#") if at >= 0), default=len(rest))  # the authority ends (urlsplit)
    userinfo, at, host = rest[:end].rpartition("@")
    if role == "admin":
        if not at:
            return rule
        user, colon, _ = userinfo.partition(":")
        shown = f"{scheme}://{user + ':' if colon else ''}[redacted]@{host}{rest[end:]}"
    else:
        try:
            host = urlsplit(url).netloc.rpartition("@")[2]
        except ValueError:  # a bracket it cannot read, in a rule stored before `checked` refused such addresses
            host = ""
        shown = f"{scheme}://{host + '/' if host else ''}…"  # the scheme: http or https (Action)
    return {**rule, "action": {**rule["action"], "params": {**params, "webhook_url": shown}}}


def check_stored(rt, rule: Rule, webhook_restored: bool = False) -> None:
    """What a rule written (new, replaced or enabled) must agree with to act: a notify's auth_key held to the secret
    store (actions.auth_key_problem), and, enabled, a webhook that is no placeholder (model.placeholder_problem) nor
    one its receiver refused for good (state.webhook_gone_problem), unless a person enabling it says the receiver was
    mended (`webhook_restored`, enable): enabled so, it would be disabled again at its first firing."""
    from affiliate_matrix.rules.actions import auth_key_problem
    from affiliate_matrix.rules.model import placeholder_problem
    from affiliate_matrix.rules.state import webhook_gone_problem

    if problem := (rule.enabled and (placeholder_problem(rule)
                                     or (not webhook_restored and webhook_gone_problem(rt.store, rule)))) \
            or auth_key_problem(rt, rule):
        raise InvalidInput(problem)


def enable(rt, rule_id: str, webhook_restored: bool = False) -> Rule | None:
    """`amx rules enable` and POST /rules/{id}/enable: the disabled rule enabled (store.enable_rule), refused while
    it could not act (check_stored); None when it was enabled already. `webhook_restored`: the person says the
    receiver that refused its webhook for good was mended (a Slack channel unarchived), clearing that record."""
    from affiliate_matrix.rules.store import enable_rule

    return enable_rule(rt.store, rule_id, lambda rule: check_stored(rt, rule, webhook_restored),
                       webhook_restored=webhook_restored)


def enabled_answer(rt, rule_id: str, webhook_restored: bool, role: str):
    """POST /rules/{id}/enable's answer: the rule as a read answers it, enabled now or already."""
    enable(rt, rule_id, webhook_restored)
    return with_etag(*load(rt, RULES, rule_id), shown=RULES.shown_to(role), rt=rt, collection=RULES)


def enabled_again(rt, before: Rule, after: Rule) -> None:
    """A disabled rule written enabled (a PUT of it, `amx rules add --replace`) starts its run of failures afresh, as
    `amx rules enable` does (store.restart_failures): before the rule is written, so that a write failing after it
    leaves a disabled rule with no failures (enabling it does as much), not an enabled one with its old run."""
    if after.enabled and not before.enabled:
        from affiliate_matrix.rules.store import restart_failures

        restart_failures(rt.store, after.id)


def forget_state(rt, rule_id: str) -> None:
    from affiliate_matrix.rules.store import forget_state  # the engine's store: not for a start

    forget_state(rt.store, rule_id)


def warnings(rt, rule: Rule, listing: dict | None) -> list[str]:
    """What a rule read needs changed, as `amx rules show` says it of one (its key read) and `amx rules list` of each
    in a listing (its key's record alone, read once for the listing's rules: no secret read)."""
    from affiliate_matrix.rules.needed import needed_changes

    return needed_changes(rt, rule, listing=listing)


RULES = Collection("rule", "/rules", "rules/", Rule, check=checked,  # judged when written, trusted when read
                   check_stored=check_stored, replacing=enabled_again, shown=shown_to, swept=forget_state,
                   warnings=warnings,
                   warnings_said="What the rule needs changed though it still runs, as `amx rules list` and `show` "
                                 "say it: a webhook_url with user:password@ (stored before it was refused: still "
                                 "posted with them), or that its receiver refused for good (enabling the rule with it "
                                 "is refused), a notify's auth_key a firing would refuse, disabling the rule "
                                 "(revoked, unregistered, added for another origin than the webhook_url's; read alone, "
                                 "a key whose secret is gone or lacks its field too). Not part of the rule: a body "
                                 "sending it back is taken without it.",
                   state=lambda rt, rule_id: shown_state(rt.store, rule_id), state_shape=lambda: shapes().RuleState)


def handle(rt, request):
    return http_or_event(rt, request, dispatcher(api), lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    evaluate(rt, event)


def evaluate(rt, event) -> None:
    from affiliate_matrix.rules.engine import on_event, on_schedule  # the engine and its CEL: events only

    if event.type == PING:
        on_schedule(rt, event.time.astimezone(UTC))
    else:
        on_event(rt, event)


def shapes():
    """The bodies and answers of the dry run and the activations, built by the first route that needs them
    (GET /rules, the first request after a cold start, does not)."""
    from affiliate_matrix.handlers import rule_shapes

    return rule_shapes


@cache
def api() -> Api:
    return Api("Affiliate Matrix rules API", [
        *RULES.routes(),
        Route("POST", "/rules/{rule_id}/enable", lambda call: enabled_answer(
                  call.rt, call.params.rule_id, call.body.get("webhook_restored", False), call.role),
              lambda: RULES.read, lambda: RULES.address, lambda: shapes().Enabling, role="admin", headers=("ETag",),
              summary="Enable a disabled rule (amx rules enable), its reason cleared and its run of failures started "
                      "afresh; refused, naming what to change first, while it could not act"),
        Route("POST", "/rules/{rule_id}/test", lambda call: trial(
                  call.rt, load(call.rt, RULES, call.params.rule_id)[0],
                  {k: v for k, v in call.body.items() if v is not None}, call.role),
              lambda: shapes().Verdict, lambda: RULES.address, lambda: shapes().TrialEvent,
              summary="Dry-run the rule against an event; nothing is dispatched"),
        Route("POST", "/rules/{rule_id}/test/programs/{program_id}", lambda call: dry_run(
                  call.rt, load(call.rt, RULES, call.params.rule_id)[0], program_event(call.rt, call.params.program_id),
                  call.role),
              lambda: shapes().Verdict, lambda: shapes().RuleProgram,
              summary="Dry-run the rule against a program of the index: its latest change, as its delivery would be "
                      "evaluated; nothing is dispatched"),
        Route("POST", "/rules/{rule_id}/test/tick", lambda call: tick_trial(
                  call.rt, load(call.rt, RULES, call.params.rule_id)[0], call.body["tick"], call.role),
              lambda: shapes().Verdict, lambda: RULES.address, lambda: shapes().TickTrial,
              summary="Dry-run a schedule rule at a tick of its schedule, as that tick evaluates it; nothing is "
                      "dispatched"),
        Route("GET", "/activations", lambda call: listing(*activations_for(call.rt, call.params)),
              lambda: shapes().Activations, lambda: shapes().ActivationsParams, headers=("X-Damaged-Items",),
              summary="What the rules did, newest first (a program's under the ids it had before its id moved too)"),
    ])


def trial(rt, rule: Rule, body: dict, role: str):
    """A dry run of an event a person gives (POST /rules/{id}/test, `amx rules test --event`), its data held to what
    the product writes for its type (rules.event_data), not tried as if a field it never writes were absent."""
    from affiliate_matrix.rules.event_data import data_problem
    from affiliate_matrix.rules.model import EVENT_PREFIX

    if isinstance(body.get("data"), dict) and (problem := data_problem(
            trigger_type(str(body["type"])).removeprefix(EVENT_PREFIX), body["data"])):
        raise InvalidInput(f"event.{problem}")
    return dry_run(rt, rule, body, role)


def dry_run(rt, rule: Rule, body: dict, role: str):
    """The context the rule would see for this event and what it would decide; nothing is dispatched."""
    from pydantic import ValidationError

    from affiliate_matrix.events import RULE_CHAIN, Event
    from affiliate_matrix.rules.engine import context_values

    # the event's own attributes: not a structured CloudEvent's specversion, datacontenttype or extensions
    attributes = {k: v for k, v in body.items() if k in ("id", "source", "subject", "time", "data")}
    try:
        event = Event.model_validate({"id": "dry-run", "source": "/rules/test", "time": datetime.now(UTC), **attributes,
                                      "type": trigger_type(body["type"]), "rulechain": body.get(RULE_CHAIN, "")})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])).replace("rulechain", RULE_CHAIN, 1)
        raise InvalidInput(f"event.{where}: {first['msg'].removeprefix('Value error, ')}") from None
    values, inputs = context_values(rt, event, needs_stats="stats" in rule.condition)
    # a schedule rule fires on its ticks: no event triggers it
    triggered = rule.trigger.event is not None and event.type == "dev.affiliatematrix." + rule.trigger.event
    return {**judged(rt, rule, values, inputs, role, triggered, event.rulechain),
            "program_missing": program_missing(event, values, inputs)}


# RFC 3339's date-time, its seconds and zone left for tick_time to name when missing (compiled by re on first use:
# not by every start)
_RFC3339_LIKE = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})?"


def tick_time(text: str) -> datetime:
    """A tick's time as `amx rules test --tick` and POST /rules/{id}/test/tick take it: ISO 8601 (RFC 3339) in UTC, Z
    or +00:00, as the API writes one; another zone, or none, is refused rather than read as some zone the tick is not
    in (a schedule is in UTC). Python reads more forms than RFC 3339 (a week date, no dashes, a space for T): those
    are refused as no time, not read as some time the writer may not have meant."""
    try:
        if not re.fullmatch(_RFC3339_LIKE, text.strip()):
            raise ValueError
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text[:80]!r} is not an ISO 8601 time (2026-12-07T06:00:00Z)") from None
    if at.utcoffset() is None:
        raise InvalidInput(f"{text[:80]!r} gives no zone: a schedule is in UTC, so end it in Z ({at.isoformat()}Z)")
    if at.utcoffset():
        raise InvalidInput(f"{text[:80]!r} is not in UTC: a schedule is, so give the time in UTC "
                           f"({at.astimezone(UTC).replace(tzinfo=None).isoformat()}Z)")
    return at.astimezone(UTC)


def tick_trial(rt, rule: Rule, text: str, role: str):
    """POST /rules/{id}/test/tick: the rule tried at the tick `text` names (tick_time, tick_run), a refusal naming the
    body's field."""
    try:
        return tick_run(rt, rule, tick_time(text), role)
    except InvalidInput as exc:
        raise InvalidInput(f"tick: {exc}") from None


def tick_run(rt, rule: Rule, tick: datetime, role: str):
    """What a schedule rule would decide at its tick `tick` (a time in UTC), as the tick's ping evaluates it
    (engine.on_schedule: the context a tick builds, `now` the tick, never the clock); nothing is dispatched. An event
    rule, or a time that is none of its ticks (the ticks before and after it named), is refused."""
    from cronsim import CronSim

    from affiliate_matrix.model_types import cron_problem
    from affiliate_matrix.rules.engine import context_values
    from affiliate_matrix.wording import ending_in_z

    schedule = rule.trigger.schedule
    if schedule is None:
        raise InvalidInput(f"rule {rule.id} is triggered by an event ({rule.trigger.event}), not on a schedule: it has "
                           "no tick")
    if problem := cron_problem(schedule):  # stored past `checked` (a restore, a hand edit): said as its ticks say it
        raise InvalidInput(f"rule {rule.id}'s trigger.schedule {schedule[:100]!r} cannot be read, so it has no tick: "
                           f"{problem[:300]}")

    def nearest(start, reverse: bool = False) -> datetime | None:
        try:
            return next(CronSim(schedule, start(), reverse=reverse), None)
        except OverflowError:  # none within the years a datetime holds (1 to 9999)
            return None

    if nearest(lambda: tick - timedelta(seconds=1)) != tick:  # its first tick from `tick` on
        # those either side of it (a tick a fraction of a second before it was the first from a second before it)
        before, after = nearest(lambda: tick, reverse=True), nearest(lambda: tick)
        near = " and ".join(ending_in_z(t.isoformat()) for t in (before, after) if t is not None)
        raise InvalidInput(f"{ending_in_z(tick.isoformat())} is no tick of the schedule {schedule} (UTC)"
                           + (f"; its ticks nearest are {near}" if near else ""))
    values, inputs = context_values(rt, None, needs_stats="stats" in rule.condition, now=tick)
    return {**judged(rt, rule, values, inputs, role, True, ()), "program_missing": None}


def judged(rt, rule: Rule, values: dict, inputs: dict, role: str, triggered: bool, chain: tuple[str, ...]) -> dict:
    """A dry run's verdict: what the rule decides on the context (`values`, the activation's `inputs`) as its
    evaluation would, and what it would dispatch were it `triggered`, with the event's rule `chain`."""
    from affiliate_matrix.rules.conditions import NoValue, context_of
    from affiliate_matrix.rules.engine import chain_stop, compiled, no_value_said, unreadable
    from affiliate_matrix.rules.needed import needed_changes

    lacking = None
    if damaged := unreadable(rule, inputs):  # as a delivery: not evaluated, named
        holds, error = None, None
    else:
        try:
            holds, error = compiled(rule).execute(context_of(values)) is True, None
        except NoValue as exc:  # as a delivery: no decision, no failure
            holds, error, lacking = None, None, no_value_said(exc, inputs)
        except Exception as exc:  # what the engine would count as a failure
            holds, error = None, f"{type(exc).__name__}: {exc}"
    stopped = chain_stop(chain, rule.id) if holds and triggered and rule.enabled else ""  # as evaluate's
    dispatched = bool(holds and triggered and rule.enabled and not stopped)
    said, auth = None, None
    if dispatched and rule.action.type in ("notify", "alert"):
        from affiliate_matrix.rules.actions import message

        said = message(rule.action.type, rule.action.params, {"rule_id": rule.id, "inputs": inputs})
    if dispatched and "auth_key" in rule.action.params:
        from affiliate_matrix.rules.model import DEFAULT_AUTH_HEADER, WEBHOOK_KEY_FIELD

        params = rule.action.params
        auth = (f"{params.get('auth_header') or DEFAULT_AUTH_HEADER}: the value of the key at {params['auth_key']} "
                f"(its field {WEBHOOK_KEY_FIELD}), not shown")
    return {"rule_id": rule.id, "holds": holds, "error": error, "inputs": inputs, "triggered_by_this_event": triggered,
            "stopped_by_chain": stopped or None,
            "would_dispatch": shown_to({"action": rule.action.model_dump(mode="json")}, role)["action"]
            if dispatched else None, "message": said, "webhook_auth": auth, "program_damaged": damaged or None,
            "no_value": lacking, "warnings": needed_changes(rt, rule)}


def program_missing(event, values: dict, inputs: dict) -> str | None:
    """What a dry run says of a program.delta event whose program the index does not hold: the condition has no value
    of it, as its delivery would not, which reads as the rule being wrong unless said. (One it holds damaged is said
    as program_damaged.)"""
    from affiliate_matrix.events import PROGRAM_DELTA

    if event.type != PROGRAM_DELTA or values.get("program") or "program_damaged" in inputs:
        return None
    program_id = event.data.get("program_id")
    said = "the condition has no value of the program, as its delivery would not (a rule needing one is not evaluated)"
    if not isinstance(program_id, str) or not program_id:
        return f"the delta names no program_id: {said}"
    return f"program {program_id[:80]} is not in the index: {said}"


def program_event(rt, program_id: str) -> dict:
    """A dry run's event for a program of the index (one named by an id that moved: the program under its id now,
    moves.py): the program.delta its latest recorded change was delivered as (the change feed's item, as the index
    function publishes it), or one with no change when none is recorded. NotFoundError naming a program the index
    does not hold."""
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.handlers.programs import changes_params, changes_with
    from affiliate_matrix.moves import moved_to
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    try:
        held = rt.index.get(PROGRAMS_INDEX.name, program_id) is not None
    except NotFoundError:  # no index yet
        held = False
    if not held and (now := moved_to(rt.index, [program_id]).get(program_id)) is not None:
        program_id, held = now["id"], True
    if not held:
        raise NotFoundError(f"program {program_id} is not in the index")
    try:
        latest = changes_with(rt, changes_params()(program_id=[program_id], limit=1))["items"]
    except NotFoundError:  # no change recorded yet
        latest = []
    delta = latest[0] if latest else {"program_id": program_id, "change": "", "fields": []}
    return {"type": "program.delta", "source": "/rules/test", "subject": program_id, "data": delta}


def activations_for(rt, params) -> tuple[dict, list[dict]]:
    """The activations asked for (ActivationsParams: the API's query, `amx rules show`'s options) as the answer's
    `items`, and those of them not of an activation's shape (damaged: of_shape), left out."""
    from affiliate_matrix.rules.store import activations

    program_ids = params.program_id
    if program_ids:  # what a program's rules did before its id moved is its history too, as its changes are
        from affiliate_matrix.moves import moved_into

        program_ids = [*program_ids, *moved_into(rt.index, program_ids)]
    damaged: list[dict] = []
    found = activations(rt, limit=params.limit, rule_id=params.rule_id, program_ids=program_ids)
    return {"items": of_shape(found, shapes().Activation, "activation", damaged)}, damaged
