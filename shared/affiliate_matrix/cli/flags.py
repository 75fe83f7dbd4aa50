"""`amx flags`: list, set and the schema of the feature flags."""

from typing import Annotated, Optional

import typer

from affiliate_matrix.cli.common import console, data_out, invalid, open_runtime
from affiliate_matrix.wording import NO_VALUE

flags_app = typer.Typer(help="Feature flags: boolean or percentage, with allow-lists.", no_args_is_help=True)


@flags_app.command("list")
def flags_list():
    """Every flag the code reads, and its setting."""
    from rich.markup import escape

    from affiliate_matrix.cli.views import fitted
    from affiliate_matrix.flag_config import load
    from affiliate_matrix.flags import KNOWN

    config, _ = load(open_runtime("flags").store)
    rows = []
    for name in sorted(set(KNOWN) | set(config.flags)):
        flag = config.flags.get(name)
        rows.append([escape(cell) for cell in (
            name, flag.kind if flag else NO_VALUE, "yes" if flag and flag.enabled else "no",
            f"{flag.percentage:g}%" if flag and flag.kind == "percentage" else "",
            ", ".join(flag.allow) if flag else "", KNOWN.get(name, "(not read by this code)"))])
    console.print(fitted(console, "", [("flag", 0), ("kind", 1), ("on", 0), ("percentage", 1), ("allow", 2),
                                       ("what it does", 3)], rows, whole=("flag",)))


@flags_app.command("schema")
def flags_schema():
    """The FeatureFlagConfig JSON Schema (committed as infra/flags/feature-flags.schema.json)."""
    import json

    from affiliate_matrix.flag_config import FeatureFlagConfig

    print(json.dumps(FeatureFlagConfig.model_json_schema(), indent=2, sort_keys=True), file=data_out(json=True))


def check_allowed(subject: str) -> None:
    """An allow-list names who a flag is evaluated for: a token's id or a connection's id (one pattern holds both: a
    token's id is 12 hex digits). Anything else matched no caller, and the flag was silently on for no one; a whole
    token pasted there was kept in the flags document and shown by `amx flags list`, so it is refused unechoed."""
    import re

    from affiliate_matrix.connections import CONNECTION_ID

    if subject.startswith("amx_"):
        raise invalid("--allow", "that is a whole token, which a flag never holds (the document is readable, and "
                                 "amx flags list shows it): give its id, the 12 characters after amx_ "
                                 "(amx tokens list)")
    if not re.fullmatch(CONNECTION_ID, subject):
        raise invalid("--allow", f"{subject[:80]!r} is no token id (amx tokens list) nor connection id (amx "
                                 "connections list): lower-case letters, digits and '-'")


@flags_app.command("set")
def flags_set(name: Annotated[str, typer.Argument(help="A flag's name (amx flags list).")],
              on: Annotated[Optional[bool], typer.Option("--on/--off", help="Turn it on or off.")] = None,
              percentage: Annotated[Optional[float], typer.Option(min=0, max=100, help="On for this share (makes it a percentage flag).")] = None,
              allow: Annotated[Optional[list[str]], typer.Option(help="A token or connection id it is always on for (repeatable; replaces the list).")] = None):
    """Change one flag; running functions see it at their next request that asks a flag."""
    from affiliate_matrix.flag_config import Flag, update
    from affiliate_matrix.flags import KNOWN

    if name not in KNOWN:
        raise invalid("name", f"{name!r} is not a flag the code reads: {', '.join(KNOWN)}")
    for subject in allow or ():
        check_allowed(subject)

    def change(flag):
        data = (flag or Flag(description=KNOWN[name])).model_dump()
        if on is not None:
            data["enabled"] = on
        if percentage is not None:
            data.update(kind="percentage", percentage=percentage)
        if allow is not None:
            data["allow"] = allow
        return Flag.model_validate(data)

    flag = update(open_runtime("flags").store, name, change).flags[name]
    share = f"{flag.percentage:g}%" if flag.kind == "percentage" else None
    # off, a percentage applies to no one ("off for 10%" read as on for a tenth): said as what --on would make it
    said = (f"on for {share}" if share else "on") if flag.enabled else (
        f"off (on for {share} once turned on: amx flags set {name} --on)" if share else "off")
    console.print(f"{name}: {said}" + (f", always for {', '.join(flag.allow)}" if flag.allow else ""))
