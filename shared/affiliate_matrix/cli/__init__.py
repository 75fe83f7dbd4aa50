"""`amx`: the human interface, one module per command group. Each command imports what it needs when it runs."""

import inspect

import typer
from rich.markup import escape

from affiliate_matrix.cli import budget, collect, connections, exchange, flags, index, local, rules, search
from affiliate_matrix.cli.common import errors
from affiliate_matrix.cli.dead_letters import dead_letters_app
from affiliate_matrix.cli.keys import keys_app
from affiliate_matrix.cli.tokens import tokens_app
from affiliate_matrix.errors import AmxError

app = typer.Typer(help="Affiliate Matrix: find, track and fund affiliate programs.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
for commands in (local.commands, search.commands, collect.commands):  # top-level commands: no group name
    app.add_typer(commands)
for group, name in ((connections.sources_app, "sources"), (connections.connections_app, "connections"),
                    (keys_app, "keys"), (search.terms_app, "terms"), (tokens_app, "tokens"), (index.index_app, "index"),
                    (budget.budget_app, "budget"), (collect.discover_app, "discover"), (rules.rules_app, "rules"),
                    (exchange.export_app, "export"), (exchange.import_app, "import"), (flags.flags_app, "flags"),
                    (index.analytics_app, "analytics"), (dead_letters_app, "dead-letters")):
    app.add_typer(group, name=name)


def one_line_summaries(typer_app: typer.Typer) -> None:
    """A group's list of commands shows each command's first paragraph: Rich keeps the docstring's line breaks there
    (it reflows them on the command's own --help), which broke lines mid-sentence; joined here, it wraps to the
    terminal."""
    for info in typer_app.registered_commands:
        if not info.short_help:
            text = info.help or inspect.getdoc(info.callback) or ""
            info.short_help = " ".join(text.split("\n\n")[0].split())
    for group in typer_app.registered_groups:
        one_line_summaries(group.typer_instance)


one_line_summaries(app)


def flags_without_a_type() -> None:
    """Typer 0.29 shows each option's type beside it in --help, and a flag's too: `--json <bool>`, even its own
    `--help <bool>`, as if the flag took a value. Not how the flags are declared (Typer's own --help has it) and no
    setting turns it off, so a flag's type is left out here; an option taking a value keeps its type (`<int>`)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self, ctx):
        return None if self.is_bool_flag and self.metavar is None else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich


flags_without_a_type()


def one_value_a_type() -> None:
    """Typer 0.29 shows a repeatable option's type as a list, `--country <list[str]>`, and `text... <list[str]>`, as
    if it took a list in one value: it takes one value each time it is given (its help says "repeatable"; an
    argument's "..." says so), so its type is its one value's (`<str>`)."""
    from typer.core import _TyperParameter

    shown = _TyperParameter.display_type

    def display_type(self, ctx):
        said = shown(self, ctx)
        return f"<{said[6:-2]}>" if said.startswith("<list[") and said.endswith("]>") else said

    _TyperParameter.display_type = display_type


one_value_a_type()


def usage_errors_name_their_command() -> None:
    """Click's parser raises an option given no value (`amx search --limit`) with no context, so its error pointed at
    `amx --help`: the command whose arguments were being parsed is set on it here, as on Click's other usage errors."""
    from typer.core import TyperCommand

    parse = TyperCommand.parse_args

    def parse_args(self, ctx, args):
        try:
            return parse(self, ctx, args)
        except typer.TyperException as exc:
            if getattr(exc, "ctx", False) is None:
                exc.ctx = ctx
            raise

    TyperCommand.parse_args = parse_args


usage_errors_name_their_command()


# A command a reader of the API (or the explorer) looks for under its name there, and where it is here
ELSEWHERE = {
    ("amx connections", "sync"): "amx scrape CONNECTION syncs one here, as POST /connections/{id}/sync asks",
    ("amx connections", "replay"): "amx replay CONNECTION parses its stored pages again, as POST "
                                   "/connections/{id}/replay asks",
    ("amx", "programs"): "amx search lists programs (GET /programs), amx show ID shows one",
    ("amx", "merchants"): "amx compare MERCHANT shows one merchant across its sources (GET /merchants/{key})",
}


def elsewhere(said: str, ctx) -> str:
    """Click's "No such command 'sync'" with where that command lives (in place of Click's guess at a near name):
    `amx connections sync` was refused pointing at `amx connections --help`, which does not name `amx scrape`."""
    import re

    found = re.match(r"No such command '([^']+)'", said)
    where = ELSEWHERE.get((ctx.command_path, found[1])) if found and ctx is not None else None
    if ctx is not None and ctx.command_path == "amx search" and re.match(r"No such option: -[^-]", said):
        # `amx search hosting -bluehost`, a web search's way to leave a word out: Click took "-b" for an option
        return (f"{said} (a word beginning with '-' is read as an option here, and a search leaves no word out: "
                "search for the words to find)")
    return f"{found[0]}: {where}" if where else said


def main():
    from pydantic import ValidationError

    from affiliate_matrix.errors import ConflictError

    try:
        # Not standalone (Click's standalone_mode): Click's errors come here, not printed as Typer's usage box of
        # five lines; a typer.Exit's code is returned
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # Click's (Typer's copy): a usage error (exit 2) holds its command's context
        if type(exc).__name__ != "NoArgsIsHelpError":  # (`amx` or a group alone: its help is printed already)
            ctx = getattr(exc, "ctx", None)
            # a bad value of no option (standard input's): Click's "Invalid value: " before it named nothing
            said = exc.format_message().removesuffix(".").removeprefix("Invalid value: ")
            if exc.exit_code == 2:
                said = f"{elsewhere(said, ctx)}; see {ctx.command_path if ctx is not None else 'amx'} --help"
            errors.print(f"[red]error:[/] {escape(said)}", highlight=False)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:  # end of input at a prompt
        errors.print("[red]aborted[/]", highlight=False)
        raise SystemExit(1) from None
    except ConflictError as exc:
        errors.print(f"[red]conflict:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(2) from None
    except (AmxError, KeyError) as exc:
        errors.print(f"[red]error:[/] {escape(str(exc.args[0] if isinstance(exc, KeyError) else exc))}",
                     highlight=False, markup=True)
        raise SystemExit(2) from None
    except ValidationError as exc:  # a model's refusal, said as the API's (InvalidInput, above): "error: field: …"
        from affiliate_matrix.wording import unknown_beside

        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or exc.title.lower()  # a check across fields names no field
        said = first["msg"].removeprefix("Value error, ") + unknown_beside(exc.errors(include_url=False))
        errors.print(f"[red]error:[/] {escape(where)}: {escape(said)}", highlight=False)
        raise SystemExit(2) from None
    except OSError as exc:  # the system refused a file or folder the command was given or writes: named, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        errors.print(f"[red]error:[/] {escape(where + (exc.strerror or str(exc)))}", highlight=False)
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)  # a command's value is no exit code: Exit's is
