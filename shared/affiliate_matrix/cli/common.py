"""What the commands share: the consoles, the runtime a command works in, and indexing here."""

import inspect
from contextlib import contextmanager
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from affiliate_matrix.wording import counted


class ShownConsole(Console):
    """Where every command writes: each string it is given (a line, a table's cell or title, a rule) has each control
    a terminal acts on as its escape (observability.controls_escaped: ESC as \\x1b; a line feed and a tab kept), before
    Rich reads its markup and measures it. Rich leaves ESC and the C1 controls, and what a site, an API, a file or the
    store said (a program's, a connection's or a rule's name, a change, an error) may hold one, which would recolour,
    clear or retitle the terminal. Rich's own styling is written after, and kept."""

    def render_str(self, text: str, **options):
        from affiliate_matrix.observability import controls_escaped

        return super().render_str(controls_escaped(text), **options)


console = ShownConsole()
errors = ShownConsole(stderr=True, soft_wrap=True)


class _ShownAtTerminal:
    """A text stream writing to `stream` each control a terminal acts on as its escape, as ShownConsole shows it (as
    JSON escapes it where the text is JSON: `in_json`)."""

    def __init__(self, stream, in_json: bool):
        self.stream, self.in_json = stream, in_json

    def write(self, text: str) -> int:
        from affiliate_matrix.observability import controls_escaped

        return self.stream.write(controls_escaped(text, in_json=self.in_json))

    def flush(self) -> None:
        self.stream.flush()


def data_out(stream=None, *, json: bool = False):
    """Standard output (or the text `stream` --out opened: /dev/tty, /dev/stdout) for what a command writes for a
    program to read (JSON, CSV, a token), which `print(…, file=)` and an export write to: to a file or a pipe as it is,
    byte for byte; at a terminal with each control a terminal acts on as its escape, as the console shows every other
    line (ShownConsole). JSON escapes the C0 controls (ESC as
    \\u001b), but written as UTF-8 (Pydantic's, an export's lines) it leaves DEL, the C1 controls (CSI, OSC as one
    character) and the bidi ones raw, and a CSV leaves them all: a program's name, a page's text, anyone's to write,
    would recolour, clear or retitle the terminal. `json`: what is written is JSON (or JSON Lines), its controls
    escaped as JSON escapes them (\\u009b, not \\x9b), so that what the screen shows, copied, still parses."""
    import sys

    stream = sys.stdout if stream is None else stream
    return _ShownAtTerminal(stream, json) if stream.isatty() else stream


def shown(said: str) -> str:
    """Text for a console line, escaped as the console escapes it (its Rich markup, and each control a terminal acts
    on: ShownConsole), for text measured before it is printed (a table's cells, fitted to the terminal by their
    length). Text printed as it is needs only its markup escaped."""
    from affiliate_matrix.observability import controls_escaped

    return escape(controls_escaped(said))


def invalid(param: str, message: str) -> typer.BadParameter:
    """A command's own usage error about one of its options or arguments (`param`: --limit, or the argument's name,
    path), named as Click's own refusals name theirs, quoted: "Invalid value for '--limit': …"."""
    return typer.BadParameter(message, param_hint=f"'{param}'")


@contextmanager
def ids_listed(kind: str, command: str):
    """A `kind` of document's id no document has ("there is no connection 'x'") said with the `command` that lists
    the ids (documents.listed_by), as every command taking one says it: around its body (`with`) or the command
    (a decorator); the documents module read only when it runs (every command's start would pay it)."""
    from affiliate_matrix.documents import listed_by

    with listed_by(kind, command):
        yield


def as_option(refusal: Exception, options: dict[str, str]) -> Exception:
    """The API's refusal (InvalidInput) of one of its parameters, said as the usage error of the option the command
    took it from (`options`: each parameter's option), in Click's words: "Invalid value for '--program': must be a
    program's id…", the parameter (or the option, where the check was told it) its first word, taken off. A refusal
    naming none of them is returned as it is. What to do with a cursor refused is said in a command's words: the API
    asks its caller to pass next_cursor back, a command prints its --cursor for the person to give."""
    from affiliate_matrix.errors import CURSOR_OF_ITS_QUERY, CURSOR_PASSED_BACK

    named, _, said = str(refusal).partition(" ")
    said = (said.replace(CURSOR_PASSED_BACK, CURSOR_AS_PRINTED).replace("any next_cursor", "any cursor printed")
            .replace(CURSOR_OF_ITS_QUERY, CURSOR_WITH_ITS_OPTIONS))
    return next((invalid(option, said) for parameter, option in options.items()
                 if named.rstrip(":") in (parameter, option)), refusal)


CURSOR_AS_PRINTED = "give --cursor as the last listing printed it, with the same other options"
CURSOR_WITH_ITS_OPTIONS = "give the other options as the command that printed it had them (--limit aside)"


# A search's filters and bounds, the options `amx search` and `amx export programs` both take (with_search_options),
# each by the API's parameter name (program_index.FILTERS, BOUNDS; tests/unit/test_cli_filters.py fails on one missing
# here); views.search_query makes the API's query of them, so their checks and errors are the API's.
def _filter(said: str):
    return Annotated[Optional[list[str]], typer.Option(help=f"{said} (repeatable).")]


def _bound(said: str):  # a number as typed: the API's check refuses one that is none (-1, soon), in its words
    return Annotated[Optional[str], typer.Option(metavar="<number>", help=said)]


SEARCH_OPTIONS = {  # in the order --help lists them
    "category": _filter("Category, by its code or its name as shown (hosting_domains, or \"Hosting & domains\")"),
    "network": _filter("A network the program runs on, as awin, cj or impact (CJ.com and Commission Junction are cj)"),
    "country": _filter("A country the program takes, ISO 3166 alpha-2 (DE) or its name as shown (Germany): one "
                       "naming no country takes every one; worldwide lists those"),
    "status": _filter("Status: active, discovered, closed_suspected or removed, or as shown (\"Possibly closed\"). "
                      "Without it a search lists the open ones (active, discovered) and an export every program, as "
                      "the API's"),
    "kind": _filter("program or offer"),
    "commission_type": _filter("percent or flat"),
    "payout_method": _filter("paypal, check, bank_transfer, payoneer, ach, wire, store_credit, crypto or other, or as "
                             "shown (\"Bank transfer\")"),
    "source": _filter("A directory or network that listed the program, as affiliateprograms or cj, or as shown "
                      "(\"CJ Advertiser Lookup API\")"),
    "flat_currency": _filter("A currency the program pays flat amounts in, ISO 4217 (EUR): --min-commission-flat's "
                             "currency"),
    "epc_currency": _filter("The currency of the program's earnings per click (--epc-window's): --min-epc's currency"),
    "deeplinks": _filter("allowed or not_allowed, or as shown (\"Not allowed\"): what the program's networks say of "
                         "deep links"),
    "min_commission_percent": _bound("Programs whose best rate is at least this many percent (20 for 20%)."),
    "min_commission_flat": _bound("Programs with a flat term of at least this much in a --flat-currency, which it "
                                  "needs (there are no exchange rates)."),
    "min_cookie_days": _bound("Programs whose cookie lasts at least this many days; a lifetime cookie meets any."),
    "min_epc": _bound("Programs earning at least this much per click (over --epc-window) in an --epc-currency, which "
                      "it needs (there are no exchange rates)."),
    "max_payment_days": _bound("Programs paying within this many days on average, as their network reports it "
                               "(Awin's average payment time); one with no figure is not listed."),
}
EpcWindowOption = Annotated[str, typer.Option(help=(
    "The EPC --epc-currency and --min-epc read (and --sort epc ranks by): 7d (over 7 days) or 90d (over 3 "
    "months, the only one Awin reports), as the API's epc_window."))]


def with_search_options(command):
    """`command` taking the search options (SEARCH_OPTIONS) in its **options, each None where not given. Typer reads
    a command's options from its signature (inspect.signature): the command's __signature__ names them where its bare
    * stands, so --help lists them there, after the options declared before the * and before those after it."""
    *declared, options = inspect.signature(command).parameters.values()
    if options.kind is not inspect.Parameter.VAR_KEYWORD:
        raise TypeError(f"{command.__name__} takes no **options for the search options")
    at = next((i for i, p in enumerate(declared) if p.kind is inspect.Parameter.KEYWORD_ONLY), len(declared))
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
              for name, annotation in SEARCH_OPTIONS.items()]
    command.__signature__ = inspect.Signature(declared[:at] + shared + declared[at:])
    return command


def open_runtime(function: str = "cli", *, listed: tuple[str, ...] = (), **overrides):
    """The command's runtime. `listed`: the log events (warnings, errors) the command lists on its console itself,
    not printed there a second time as log lines unless AMX_LOG_LEVEL asks for the logs."""
    from affiliate_matrix.config import load_settings
    from affiliate_matrix.observability import shown_by_command
    from affiliate_matrix.runtime import Runtime

    rt = Runtime(function, load_settings(**quiet_logs(overrides)))
    if not logs_asked():
        shown_by_command(listed)
    return rt


def shown_path(path) -> str:
    """Relative to where the command runs when it can be, so it is short and can be pasted."""
    from pathlib import Path

    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def stored_at(rt, key: str) -> str:
    """Where an object-store key lives: a path under the data directory, or the S3 object."""
    if rt.settings.object_store == "s3":
        return f"s3://{rt.settings.s3_bucket}/{key}"
    return shown_path(rt.store.path_of(key))


def index_here(rt) -> list:
    """Index each batch this command stores, and withdraw the claims of a connection it deletes, in this process
    (through the in-process bus; with a Broker, the index function does it). The list it returns gets the report of
    each batch indexed here, for the command to say what was indexed."""
    from affiliate_matrix.events import CONNECTION_DELETED, RAW_BATCH_STORED
    from affiliate_matrix.pipeline import index_announced, withdraw_announced

    indexed: list = []
    if hasattr(rt.bus, "subscribe"):
        rt.bus.subscribe(RAW_BATCH_STORED, lambda event: indexed.append(index_announced(rt, event.data)))
        rt.bus.subscribe(CONNECTION_DELETED, lambda event: withdraw_announced(rt, event))
    return indexed


def print_indexed(indexed: list) -> None:
    """What the batches indexed here did to the index, and what of them was left out, and why."""
    for report in indexed:
        console.print(f"indexed: {counted(report.created, 'new program')}, {report.updated} updated, "
                      f"{report.unchanged} unchanged; {counted(len(report.deltas), 'change')}")
        if report.skipped:
            console.print(f"  [yellow]not indexed:[/] {escape(report.skipped)}")
        for name, reason in report.errors:
            console.print(f"  [yellow]not indexed:[/] {escape(f'{name}: {reason}')}")


def say_rules_not_run(rt) -> None:
    """Program changes this command announced on the in-process bus reach no rule: the triggers function evaluates
    them where a Broker delivers events (a cluster, `amx up`'s functions). Said, naming the rules that wait for such
    changes, rather than leaving a rule that should have fired silent."""
    from affiliate_matrix.events import PROGRAM_DELTA

    if rt.bus.delivers(PROGRAM_DELTA) or not any(e.type == PROGRAM_DELTA for e in rt.bus.published):
        return
    from affiliate_matrix.rules.store import list_rules

    waiting = [rule.id for rule in list_rules(rt.store) if rule.enabled and rule.trigger.event == "program.delta"]
    if waiting:
        console.print(f"[yellow]note:[/] rules waiting for program changes were not run on these: "
                      f"{escape(', '.join(waiting))}. A command's events stay in its process here "
                      "(AMX_EVENTS=inprocess); the triggers function runs rules on the changes of `amx up`'s functions "
                      f"(a sync asked of its connections API) or a cluster's. `amx rules test {escape(waiting[0])} "
                      "--program p_…` tries a rule on a program's latest change.")


def fail_if_undelivered(rt) -> None:
    """Work this command handed to the in-process bus (indexing) that failed every attempt fails the command; program
    changes no rule saw are said (say_rules_not_run)."""
    say_rules_not_run(rt)
    dead = getattr(rt.bus, "dead_letters", [])
    for event, reason in dead:
        what = event.data.get("batch_key", event.id) if isinstance(event.data, dict) else event.id
        errors.print(f"[red]error:[/] {event.type.removeprefix('dev.affiliatematrix.')} {escape(str(what))}: failed "
                     f"{rt.bus.attempts} times, last: {escape(reason)}", highlight=False, markup=True)
    if dead:
        raise typer.Exit(1)


def read_limited(path: str, limit: int) -> bytes:
    """A file's bytes (standard input's for -), reading at most limit + 1 of them: a longer one (or /dev/zero, a
    pipe that never ends) is refused naming it and the limit, at the cost of limit + 1 bytes. OSError is the
    caller's to name."""
    import sys

    from affiliate_matrix.errors import InvalidInput

    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{'standard input' if path == '-' else path}: larger than {limit:,} bytes, the limit")
    return data


def open_limited(path: str, limit: int):
    """A file to read bytes from, able to seek (standard input's for -): a regular file as it is, anything else (a
    pipe, a device) copied into a temporary file first, a chunk at a time, at most limit + 1 bytes; one longer is
    refused naming it and the limit. The caller closes it; OSError is the caller's to name."""
    import os
    import stat
    import sys
    import tempfile

    from affiliate_matrix.errors import InvalidInput

    refused = InvalidInput(f"{'standard input' if path == '-' else path}: larger than {limit:,} bytes, the limit")
    source = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 - returned open, or closed below
    if source is not sys.stdin.buffer and stat.S_ISREG(os.fstat(source.fileno()).st_mode):
        if os.fstat(source.fileno()).st_size > limit:
            source.close()
            raise refused
        return source
    copy = tempfile.TemporaryFile()
    try:
        while copy.tell() <= limit and (chunk := source.read(min(1024 * 1024, limit + 1 - copy.tell()))):
            copy.write(chunk)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if copy.tell() > limit:
        copy.close()
        raise refused
    copy.seek(0)
    return copy


def logs_asked() -> bool:
    """Whether the logs are asked for (AMX_LOG_LEVEL set, as every setting is: an empty one is not): then they are
    written whole, for whatever collects them."""
    from affiliate_matrix.config import variable_set

    return variable_set("log_level")


def quiet_logs(overrides: dict, level: str = "warning") -> dict:
    """At a terminal, the command (or the demo) prints its own outcome: logs show `level` and above unless
    AMX_LOG_LEVEL says otherwise."""
    return overrides if logs_asked() else {"log_level": level, **overrides}
