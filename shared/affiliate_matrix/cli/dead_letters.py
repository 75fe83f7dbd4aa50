"""`amx dead-letters`: the events parked in the object store (dead-letters/), each with why it was parked, and each
delivered again to the function it was for."""

from typing import Annotated, Optional

import typer

from affiliate_matrix.cli.common import console, errors, invalid, open_runtime, shown, stored_at

dead_letters_app = typer.Typer(help="Events that failed every delivery, parked in the object store (dead-letters/).",
                               no_args_is_help=True)


def why(record: dict) -> str:
    """Why a letter was parked: the subscriber's last answer (`reason`, as amx up's Broker and the cluster's say it),
    else the sink's refusal of an event that does not fit (`refused`). Letters the sink parked before it kept
    Knative's reason have neither."""
    said = record.get("reason") or record.get("refused")
    return str(said) if said else "not said (parked before letters kept why): the subscriber's logs, by its event id"


@dead_letters_app.command("list")
def dead_letters_list():
    """Every parked event, oldest first: where it is, when it was parked, its type and id, whom it was for, and why.
    Fix the cause, then `amx dead-letters replay LETTER`; the daily retention job deletes each
    AMX_RETENTION_DEAD_LETTERS_DAYS after it was parked."""
    import json

    from rich.markup import escape

    from affiliate_matrix.cli.views import fits, fitted, listed, utc_text
    from affiliate_matrix.errors import NotFoundError, ObjectTooLarge
    from affiliate_matrix.events import DEAD_LETTERS
    from affiliate_matrix.handlers.dead_letters import MAX_LETTER_BYTES
    from affiliate_matrix.wording import NO_VALUE, counted

    rt = open_runtime()
    rows = []
    for key in rt.store.list(DEAD_LETTERS):
        try:
            record = json.loads(rt.store.get(key, max_bytes=MAX_LETTER_BYTES).data)
        except NotFoundError:  # deleted since it was listed (the retention job)
            continue
        except ObjectTooLarge as exc:  # not read: no letter parked is so large
            record = {"reason": f"damaged: {exc.problem}"}
        except ValueError as exc:  # a letter cut short or written by hand: listed, not the end of the listing
            record = {"reason": f"damaged: not JSON ({exc})"}
        except RecursionError:
            record = {"reason": "damaged: JSON nested too deeply to read"}  # as replay says it
        record = record if isinstance(record, dict) else {"reason": "damaged: not a JSON object"}
        event = record.get("event") if isinstance(record.get("event"), dict) else {}
        rows.append([key.removeprefix(DEAD_LETTERS), utc_text(record.get("parked_at") or NO_VALUE),
                     str(event.get("type", NO_VALUE)), str(event.get("id", NO_VALUE)),
                     str(record.get("subscriber") or record.get("destination") or NO_VALUE), why(record)])
    days, where = rt.settings.retention_dead_letters_days, escape(stored_at(rt, DEAD_LETTERS.rstrip("/")))
    if not rows:
        console.print(f"no dead letters in {where}")
        return
    rows.sort(key=lambda row: row[1])
    title = (f"{counted(len(rows), 'dead letter')} in {where}, each deleted {days} days after it was parked "
             "(AMX_RETENTION_DEAD_LETTERS_DAYS)")
    columns = [("letter", 0), ("parked (UTC)", 0), ("type", 0), ("event id", 0), ("to", 0), ("why", 0)]
    rows = [[shown(cell) for cell in row] for row in rows]  # each cell as its sender wrote it
    # a letter's name (its folder and event id, hashed) is wider than most terminals: its fields one under another
    table = fitted(console, title, columns, rows, whole=("letter",))
    console.print(table if fits(console, table) else listed(title, [name for name, _ in columns], rows),
                  highlight=False)
    console.print("fix the cause, then `amx dead-letters replay LETTER` delivers it again (--all: every one); "
                  "`amx dead-letters delete LETTER` drops one never to be delivered", highlight=False)


SAID = ("dead_letter.replay_failed",)  # the log events `replay` says on its console itself


@dead_letters_app.command("replay")
def dead_letters_replay(
        letter: Annotated[Optional[str], typer.Argument(
            help="A letter as `amx dead-letters list` shows it: <folder>/<file>.json.", show_default=False)] = None,
        every: Annotated[bool, typer.Option("--all", help="Every parked letter, one after another.")] = False):
    """Deliver a parked event again, with its id, to the function it was for: that function's own work, run here on
    this machine's settings (its backends), once per event as every delivery is. Done, the letter is removed; failed
    again, it is kept with the new reason. The events the work publishes go to the Broker of the `amx up` running on
    this data dir (with that function's own token), else where AMX_EVENTS says."""
    from rich.markup import escape

    from affiliate_matrix.config import variable_set
    from affiliate_matrix.handlers.dead_letters import replay
    from affiliate_matrix.demo import ROOT
    from affiliate_matrix.errors import InvalidInput, NotFoundError
    from affiliate_matrix.events import DEAD_LETTERS
    from affiliate_matrix.handlers.events import routes
    from affiliate_matrix.localrun.runner import publisher_token, running_broker
    from affiliate_matrix.wording import counted

    if (letter is None) == (not every):
        raise invalid("letter", "give one letter, or --all for every one")
    rt = open_runtime(listed=SAID)
    # the routes the functions are deployed with (AMX_EVENTS_ROUTES), else this product's own, as `amx up` reads them
    plan = routes(rt.settings.events_routes if variable_set("events_routes") else ROOT / "manifests" / "base")
    data_dir = rt.settings.data_dir
    broker = running_broker(data_dir) if data_dir.is_dir() else None
    runtimes = {}  # each function's, made once

    def runtime_for(function: str):
        here = {} if broker is None else {"events": "http", "broker_url": broker,
                                          "broker_token_path": publisher_token(data_dir, function)}
        if function not in runtimes:
            runtimes[function] = open_runtime(function, listed=SAID, **here)
        return runtimes[function]

    letters = [letter] if letter is not None else [key.removeprefix(DEAD_LETTERS)
                                                   for key in rt.store.list(DEAD_LETTERS)]
    replayed_here = kept = 0
    for name in letters:
        try:
            done = replay(rt.store, plan, name, runtime_for)
        except NotFoundError:
            if letter is not None:
                raise
            continue  # deleted since it was listed (the retention job, another replay)
        except InvalidInput as exc:
            if letter is not None:
                raise
            kept += 1
            errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            continue
        what = f"{done.letter}: {done.event_type} event {done.event_id}"
        if done.failed:
            kept += 1
            failed = escape(done.failed)  # the work's words may quote the event's
            errors.print(f"[red]failed again:[/] {escape(what)} at {done.subscriber}: {failed}; the letter is kept "
                         "with that reason: fix the cause, then replay it again", highlight=False)
        else:
            replayed_here += 1
            console.print(f"replayed {escape(what)}: done by {done.subscriber}; the letter is removed", highlight=False)
    _say_unrouted(runtimes.values())
    if every:
        console.print(f"{counted(replayed_here, 'dead letter')} replayed, {kept} kept", highlight=False)
    if kept:
        raise typer.Exit(1)


@dead_letters_app.command("delete")
def dead_letters_delete(letter: Annotated[str, typer.Argument(
        help="A letter as `amx dead-letters list` shows it: <folder>/<file>.json.", show_default=False)]):
    """Delete a parked event that is not to be delivered (one that can never succeed, e.g. a tick dated ahead), after
    reading it with `amx dead-letters list`: it is gone for good."""
    from rich.markup import escape

    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.handlers.dead_letters import letter_key

    key = letter_key(letter)  # refused for any name but a letter's: never a path out of dead-letters/
    rt = open_runtime()
    if rt.store.head(key) is None:
        raise NotFoundError(f"no dead letter {letter}: `amx dead-letters list` shows them")
    rt.store.delete(key)
    console.print(f"deleted {escape(letter)}: the event it held is not delivered", highlight=False)


def _say_unrouted(runtimes) -> None:
    """The events the replayed work published that reached no function (the in-process bus, no `amx up` running):
    named, rather than left unsaid."""
    from collections import Counter

    from rich.markup import escape

    unrouted = Counter(event.type for rt in runtimes if rt.settings.events == "inprocess"
                       for event in rt.bus.published if not rt.bus.delivers(event.type))
    if unrouted:
        said = ", ".join(f"{kind.removeprefix('dev.affiliatematrix.')} ×{count}" for kind, count in unrouted.items())
        console.print(f"[yellow]note:[/] the events this work published reached no function here ({escape(said)}): "
                      "a command's events stay in its process (AMX_EVENTS=inprocess); replay while `amx up` runs on "
                      "this data dir to have them delivered", highlight=False)
