"""`amx rules`: add, list, dry-run, disable, enable and delete rules."""

from typing import Annotated

import typer
from rich.markup import escape  # a condition's [..] and an event's text are shown as written, not read as markup

from affiliate_matrix.cli.common import as_option, console, ids_listed, invalid, open_runtime, read_limited
from affiliate_matrix.errors import AmxError

rules_app = typer.Typer(help="Rules: a trigger, a CEL condition, an action, a cool-down.", no_args_is_help=True)
def checked_rule_id(rule_id: str) -> str:
    """A rule id as typed, held to what an id is before any store is read (`../x` reached the object store's key
    check, a traceback, in disable, enable and delete)."""
    from affiliate_matrix.rules.model import _rule_id

    try:
        return _rule_id(rule_id)
    except ValueError as exc:
        raise invalid("rule_id", str(exc)) from None


RULE_ID = Annotated[str, typer.Argument(help="A rule's id (amx rules list).",  # its help said only "[required]"
                                        callback=checked_rule_id)]


def rule_listed():
    """A rule id no rule has (rules.store.no_rule, in words for any caller) said with what lists the ids."""
    return ids_listed("rule", "amx rules list")


@rules_app.command("add")
def rules_add(path: Annotated[str, typer.Argument(help="A rule document, YAML or JSON (- for standard input).")],
              replace: Annotated[bool, typer.Option(help="Replace a rule with the same id.")] = False):
    """Check a rule (its CEL condition against the documented context) and store it."""
    from affiliate_matrix.documents import rewritten
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.rules.model import NotARule, checked, parse_rule
    from affiliate_matrix.rules.store import load_rule, save_rule

    try:  # no further than the limit, and refused past it: cut short, a file's end (enabled: false) was lost unsaid
        text = read_limited(path, 1_000_000).decode("utf-8")
    except OSError as exc:
        raise invalid("path", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise invalid("path", f"{path} is not UTF-8 (byte {exc.start + 1})") from None
    from pydantic import ValidationError

    from affiliate_matrix.wording import error_said, unknown_beside

    try:
        rule = checked(parse_rule(text))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "rule"
        # as POST /rules says it
        raise InvalidInput(f"{where}: {error_said(first)}{unknown_beside(exc.errors(include_url=False))}") from None
    except NotARule as exc:  # text of no document (its YAML, an alias, a key twice): the file's, by its line
        raise invalid("path", f"{'standard input' if path == '-' else path}: {exc}") from None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    rt = open_runtime("triggers")
    store = rt.store
    from affiliate_matrix.handlers.triggers import check_stored, enabled_again

    check_stored(rt, rule)  # as POST and PUT /rules: a notify's auth_key is there to send
    etag = None
    if replace:
        try:
            read, etag = load_rule(store, rule.id)
            rule = rewritten(rule, read)  # with what a newer build stored in it
        except AmxError:
            etag = None
        if etag is not None:
            enabled_again(rt, read, rule)  # as a PUT of it: enabled again, its run of failures starts afresh
        save_rule(store, rule, if_match=etag, create=etag is None)
    else:
        try:
            save_rule(store, rule, create=True)
        except AmxError:
            raise InvalidInput(f"rule {rule.id!r} exists; --replace to replace it") from None
    console.print(f"{'replaced' if etag else 'added'} rule {rule.id}: "  # in amx rules list's words
                  f"{escape(trigger_text(rule.trigger.event, rule.trigger.schedule))} if {escape(rule.condition)} → "
                  f"{action_text(rule.action.type)}")


@rules_app.command("list")
def rules_list():
    """Every rule: its trigger, condition, action, cool-down and whether it is enabled (and why not)."""
    from affiliate_matrix.cli.views import fitted, print_damaged
    from affiliate_matrix.rules.needed import needed_changes
    from affiliate_matrix.rules.store import list_rules
    from affiliate_matrix.wording import cooldown_text

    damaged: list[dict] = []
    rt = open_runtime("triggers")
    rules = list_rules(rt.store, damaged)
    rows = [list(map(escape, (rule.id, trigger_text(rule.trigger.event, rule.trigger.schedule), rule.condition,
                              action_text(rule.action.type), cooldown_text(rule.cooldown_s),
                              "yes" if rule.enabled else f"no ({why_disabled(rule.disabled_reason)})")))
            for rule in rules]
    if not rows and not damaged:  # a table of headers alone said nothing
        console.print("no rules (amx rules add FILE adds one)")
        return
    # the id whole (amx rules test takes it) and the condition wrapped, never cut to "…"
    console.print(fitted(console, "", [("id", 0), ("trigger", 1), ("condition", 0), ("action", 0), ("cool-down", 2),
                                       ("enabled", 0)], rows, whole=("id",)))
    listing: dict = {}  # each key's record read once for all the rules naming it
    for rule in rules:  # stored before a check that refuses it now: still run, to be changed
        # a notify's key as its record says (no secret read here; amx rules show reads the key too)
        for warning in needed_changes(rt, rule, listing=listing):
            console.print(f"[yellow]rule {rule.id} needs a change:[/] {escape(warning)}", highlight=False)
    print_damaged(console, damaged)  # amx rules delete takes one


@rules_app.command("show")
def rules_show(rule_id: RULE_ID,
               activations: Annotated[int, typer.Option(min=1, max=500, help="How many of its newest activations.")] = 5,
               program: Annotated[list[str] | None, typer.Option(help=(
                   "Only its activations of this program, by its id (p_…), with those recorded under an id that moved "
                   "into it, as the API's program_id (repeatable)."))] = None):
    """One rule whole (its description and its action's parameters, a webhook as its host) and what it did last."""
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.cli.views import print_damaged, utc_text, value_text
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers.routes import parameters
    from affiliate_matrix.handlers.triggers import activations_for, shapes, shown_to
    from affiliate_matrix.rules.needed import needed_changes
    from affiliate_matrix.rules.state import FAILURES_TO_DISABLE, shown_state
    from affiliate_matrix.rules.store import load_rule
    from affiliate_matrix.wording import cooldown_text

    try:  # checked as GET /activations checks its query (program ids, how many)
        asked = parameters(shapes().ActivationsParams, MultiDict(
            [("rule_id", rule_id), ("limit", str(activations)), *(("program_id", p) for p in program or [])]), {})
    except InvalidInput as exc:
        raise as_option(exc, PROGRAM_OPTION) from None
    rt = open_runtime("triggers")
    with rule_listed():
        stored = load_rule(rt.store, rule_id)[0]
    rule = stored.model_dump(mode="json")
    action = shown_to(rule, "read")["action"]  # on a screen as to a read token: the webhook's address is a credential
    enabled = "enabled" if rule["enabled"] else f"disabled ({why_disabled(rule['disabled_reason'])})"
    state = shown_state(rt.store, rule_id)  # as GET /rules/{id} and the Rules page show it
    fired = f"last fired {utc_text(state['last_fired_at'])} UTC" if state["last_fired_at"] else "never fired"
    failed = (f"; failed {state['failures']} time{'' if state['failures'] == 1 else 's'} in a row (disabled at "
              f"{FAILURES_TO_DISABLE})" + (f", the last: {state['last_error']}" if state["last_error"] else "")
              if state["failures"] else "")
    lines = [f"rule {rule['id']}: {enabled}",
             *([f"description: {rule['description']}"] if rule["description"] else []),
             f"trigger: {trigger_text(rule['trigger']['event'], rule['trigger']['schedule'])}",
             f"condition: {rule['condition']}",
             f"action: {action_text(action['type'])}{params_text(action['params'])}",
             f"cool-down: {cooldown_text(rule['cooldown_s'])}",
             "state: " + ("unreadable, started afresh at its next evaluation" if state["damaged"] else fired + failed),
             *(f"needs a change: {warning}" for warning in needed_changes(rt, stored))]
    answer, damaged = activations_for(rt, asked)  # the API's read: a program's under the ids that moved into it too
    done = answer["items"]
    of = f" of {', '.join(program)}" if program else ""
    # (its time as every table shows one, in UTC to the second: the stored ISO time, microseconds and all, read as noise)
    # (its detail after a dash: in brackets, one's own brackets read "done (shown by amx demo (no webhook posted))")
    lines += [f"activations{of}, newest first:", *(
        f"  {utc_text(a['at'])} UTC {a['decision']}" + (f" → {value_text('action', a['action'])}" if a.get("action")
                                                        else "") + f": {a['outcome']}"
        + (f" — {a['detail']}" if a.get("detail") else "") for a in done)] if done else [f"no activation{of} yet"]
    for line in lines:
        console.print(escape(line), highlight=False)
    print_damaged(console, [state["damaged"]] if state["damaged"] else [])
    print_damaged(console, damaged)


PROGRAM_OPTION = {"program_id": "--program"}  # the API's parameter as amx rules show and test take it

# A dry run's action on a screen as to a read token, as amx rules show shows it: a webhook's address is a credential
# (whoever has a Slack webhook's URL posts to its channel), and it was printed whole, to be pasted into a ticket.
SHOWN_AS = "read"


@rules_app.command("test")
def rules_test(ctx: typer.Context, rule_id: RULE_ID,
               event: Annotated[str | None, typer.Option(
                   metavar="FILE",  # its JSON given here was read as a file's name ("No such file or directory")
                   help="A file holding a CloudEvent as JSON (type and data; id, source, time and amxrulechain if you "
                        "like; or the CloudEvent whole, structured, with its specversion), or - for standard "
                        "input.")] = None,
               program: Annotated[str | None, typer.Option(help="A program of the index, by its id (p_…): the rule "
                                                                "tried on its latest change.")] = None,
               tick: Annotated[str | None, typer.Option(
                   metavar="TIME", help="A tick of a schedule rule, in ISO 8601 UTC (2026-12-07T06:00:00Z): the rule "
                                        "tried as its tick at that time evaluates it.")] = None):
    """Dry-run a rule against an event, a program of the index or a tick of its schedule: the context it sees and
    whether it would fire. Nothing is dispatched."""
    from pydantic import ValidationError

    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers.routes import problem, strictly
    from affiliate_matrix.handlers.rule_shapes import TrialEvent
    from affiliate_matrix.handlers.triggers import dry_run, program_event, tick_run, tick_time, trial
    from affiliate_matrix.rules.store import load_rule

    if [event, program, tick].count(None) != 2:
        ctx.fail("give one of --event FILE, --program ID or --tick TIME")  # a usage error of none or several
    try:  # before any store is opened, as the other options' checks
        at = tick_time(tick) if tick is not None else None
    except InvalidInput as exc:
        raise invalid("--tick", str(exc)) from None
    rt = open_runtime("triggers")
    with rule_listed():
        rule, _ = load_rule(rt.store, rule_id)
    if at is not None:
        try:
            verdict = tick_run(rt, rule, at, SHOWN_AS)
        except InvalidInput as exc:
            raise invalid("--tick", str(exc)) from None
        from affiliate_matrix.wording import ending_in_z

        console.print(f"tick: {ending_in_z(at.isoformat())}, {escape(trigger_text(None, rule.trigger.schedule))}")
    elif program is not None:
        from affiliate_matrix.handlers.program_params import ProgramId

        try:
            ProgramId(program_id=program)  # the id as the API's address takes it
        except ValidationError as exc:
            raise as_option(problem(exc), PROGRAM_OPTION) from None
        verdict = dry_run(rt, rule, program_event(rt, program), SHOWN_AS)
    else:
        body = trial_event(event)
        try:
            strictly(TrialEvent, body)  # the body POST /rules/{id}/test takes; what it leaves out is filled in as there
        except ValidationError as exc:
            raise invalid("--event", str(problem(exc))) from None
        try:
            verdict = trial(rt, rule, {k: v for k, v in body.items() if v is not None}, SHOWN_AS)
        except InvalidInput as exc:
            raise invalid("--event", str(exc)) from None
    print_verdict(rule, verdict)


def trial_event(path: str) -> dict:
    """The --event file as the body POST /rules/{id}/test takes (an Event as the product writes it too)."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.events import MAX_EVENT_BYTES, RULE_CHAIN
    from affiliate_matrix.json_input import json_document

    try:
        body = json_document(read_limited(path, MAX_EVENT_BYTES), "the file")  # as the route reads it
    except (OSError, InvalidInput) as exc:
        said = f"cannot read {path}: {exc.strerror}" if isinstance(exc, OSError) else exc  # as amx rules add says it
        given = " (it takes a file holding the event, or - for standard input, not its JSON)" \
            if path.lstrip().startswith("{") else ""
        raise invalid("--event", f"{said}{given}") from None
    if isinstance(body, dict) and isinstance(body.get("rulechain"), list):  # an Event as the product writes it
        body[RULE_CHAIN] = ",".join(map(str, body.pop("rulechain")))
    return body


def print_verdict(rule, verdict: dict) -> None:
    """A dry run's verdict in words."""
    import json

    from affiliate_matrix.events import RULE_CHAIN

    for warning in verdict["warnings"]:  # of the rule, whatever the event
        console.print(f"[yellow]needs a change:[/] {escape(warning)}", highlight=False)
    if not verdict["triggered_by_this_event"]:  # its trigger in amx rules list's words
        trigger = trigger_text(rule.trigger.event, rule.trigger.schedule)
        said = (f"triggered by {trigger}, not by {verdict['inputs']['event_type']}" if rule.trigger.event else
                f"triggered {trigger}, by no event (--tick TIME tries it at a tick)")
        console.print(f"rule {rule.id}: {escape(said)}: no action")
        return
    if verdict["program_missing"]:
        console.print(f"[yellow]{escape(verdict['program_missing'])}[/]")
    if verdict["error"]:
        console.print(f"[red]the condition raises:[/] {escape(verdict['error'])}")
        raise SystemExit(1)
    if verdict["program_damaged"]:  # as its delivery: the rule not evaluated
        console.print(f"[red]{escape(verdict['program_damaged'])}[/]")
        raise SystemExit(1)
    holds, stopped, dispatched = verdict["holds"], verdict["stopped_by_chain"], verdict["would_dispatch"]
    if verdict["inputs"]:  # a tick's are none: its time is said instead (rules_test)
        console.print(f"inputs: {escape(json.dumps(verdict['inputs'], ensure_ascii=False))}")
    if verdict["no_value"]:  # as its delivery: no decision, and nothing wrong with the rule
        console.print(f"{escape(rule.condition)} → [bold]not evaluated[/], no action: "
                      f"{escape(verdict['no_value'].removeprefix('not evaluated: '))}", highlight=False)
        return
    console.print(f"{escape(rule.condition)} → [bold]{str(holds).lower()}[/]: " + escape(
        f"no action: {stopped} (the event's {RULE_CHAIN})" if stopped
        else f"would dispatch {dispatched['type']}{params_text(dispatched['params'])}" if dispatched
        else f"no action: the rule is disabled ({why_disabled(rule.disabled_reason)})" if holds else "no action"))
    if verdict["message"] is not None:
        console.print(f"message: {escape(verdict['message'])}", highlight=False)
    if verdict["webhook_auth"] is not None:
        console.print(f"header: {escape(verdict['webhook_auth'])}", highlight=False)


def trigger_text(event: str | None, schedule: str | None) -> str:
    """A rule's trigger as the Rules page says it, with what a rule document names it by: 'A program changed
    (program.delta)', 'on a schedule: every day at 03:00 UTC (0 3 * * *)'."""
    from affiliate_matrix.cli.views import value_text
    from affiliate_matrix.wording import schedule_words

    if event is not None:
        return f"{value_text('trigger', event)} ({event})"
    said = schedule_words(schedule)
    return f"on a schedule: {said} ({schedule})" if said else f"on the schedule {schedule} (UTC)"


def action_text(action: str) -> str:
    """A rule's action as the Rules page says it, with what a rule document names it by: 'Post to a webhook
    (notify)'."""
    from affiliate_matrix.cli.views import value_text

    return f"{value_text('action', action)} ({action})"


def params_text(params: dict) -> str:
    """An action's parameters as the Rules page says them, each by its name in words, after '; ': '; Text: x;
    Webhook: https://hooks.slack.com/…' ('' for none). They were the document's JSON, {"webhook_url": …}."""
    import json

    from affiliate_matrix.codes import WORDS

    return "".join(f"; {WORDS['rule_param'].get(name, name)}: {value if isinstance(value, str) else json.dumps(value)}"
                   for name, value in sorted(params.items()))


def why_disabled(reason: str | None) -> str:
    """A disabled rule's reason as said (one written disabled may have none: it said "None")."""
    return reason or "no reason given"


@rules_app.command("disable")
def rules_disable(rule_id: RULE_ID, reason: Annotated[str | None, typer.Option(
        help="Why, for the record (none: 'disabled by hand', and a disabled rule keeps its own).")] = None):
    """Disable a rule (it stays stored, with the reason); `amx rules enable` enables it again."""
    from affiliate_matrix.rules.model import check_reason
    from affiliate_matrix.rules.store import disable_rule, load_rule, no_rule

    store = open_runtime("triggers").store
    with rule_listed():
        if reason is None:  # the reason a disabled rule has (a person's, the error that disabled it) is kept, not lost
            rule = load_rule(store, rule_id)[0]
            if not rule.enabled:
                console.print(escape(f"rule {rule_id} was disabled already ({why_disabled(rule.disabled_reason)})"))
                return
        reason = "disabled by hand" if reason is None else reason
        check_reason(reason)
        if disable_rule(store, rule_id, reason) is None:
            raise no_rule(rule_id)
    console.print(f"disabled rule {rule_id}")


@rules_app.command("enable")
def rules_enable(rule_id: RULE_ID, webhook_restored: Annotated[bool, typer.Option(
        "--webhook-restored", help="Its webhook's receiver, which refused it for good, was mended since (a Slack "
                                   "channel unarchived): use the same webhook again.")] = False):
    """Enable a disabled rule, its reason cleared and its run of failures started afresh; refused, naming what to
    change first, while it could not act (its webhook the demo's placeholder or refused for good by its receiver, its
    key missing): enabled, it would be disabled again at its next firing."""
    from affiliate_matrix.handlers.triggers import enable

    rt = open_runtime("triggers")
    with rule_listed():
        if enable(rt, rule_id, webhook_restored) is None:
            console.print(f"rule {rule_id} was enabled already")
            return
    console.print(f"enabled rule {rule_id}")


@rules_app.command("delete")
def rules_delete(rule_id: RULE_ID):
    """Delete a rule and its state (its cool-down and failures): one added again under its id starts afresh."""
    from affiliate_matrix.rules.store import delete_rule

    with rule_listed():
        delete_rule(open_runtime("triggers").store, rule_id)
    console.print(f"deleted rule {rule_id}")
