"""`amx keys`: source API keys in the secret store. A key's values are read from standard input or
a hidden prompt, never from the command line, where `ps`, /proc and shell history would show them."""

from typing import Annotated, Optional

import typer
from rich.markup import escape

from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, DELETE_AND_C1_CONTROLS, INVISIBLE_FORMAT,
                                         LINE_SEPARATORS, characters)
from affiliate_matrix.cli.common import as_option, console, errors, invalid, open_runtime
from affiliate_matrix.wording import NO_VALUE

keys_app = typer.Typer(help="API keys in the secret store (Vault, or secrets.json in AMX_DATA_DIR locally): the "
                            "sources' (connections/), rule webhooks' (webhooks/) and search providers' (discovery/); "
                            "add, status, rotate, revoke.", no_args_is_help=True)
STDIN_LIMIT = 64 * 1024
KEY_PATH = ("Where the key is kept in the secret store: connections/NAME for a connection's, webhooks/NAME for a rule "
            "webhook's auth_key, discovery/google or discovery/brave for a search provider's (amx keys status lists "
            "them).")
# A terminal's line discipline (Linux's N_TTY, canonical mode) hands a read at most 4,095 characters of a line and
# drops the rest with no word: a value that long, read at a hidden prompt, may have been cut.
TERMINAL_LINE = 4095
# What no key holds, pasted with one all the same (from a web page, an editor, a chat): a line break (LF, or U+2028 as
# a line break) or another control, a bidi control, an invisible character. A header cannot carry the first, and the
# provider refuses the rest as a key it never issued.
_NOT_IN_A_KEY = characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS, BIDI_CONTROLS, INVISIBLE_FORMAT)


def secret_fields(names: list[str], every: list[str] = ()) -> dict[str, str]:
    """The values of the named fields: a hidden prompt for each at a terminal; otherwise standard input,
    one line per field in the order named, or a JSON object (all its fields when none are named). With none named, a
    prompt or lines give `every` field (a stored key's, when its values are replaced). Each is
    UTF-8 text: a lone surrogate, or bytes standard input could not decode, would be stored as a key no
    request header can carry."""
    values = _read_fields(names, list(every))
    for name, value in values.items():
        try:
            name.encode(), value.encode()
        except UnicodeEncodeError:
            raise invalid("--field", f"{name.encode(errors='replace').decode()[:100]}: the value is not UTF-8 "
                                     "text") from None
        if problem := _unsendable(value):  # found at the first sync before, as a request that could not be sent
            raise invalid("--field", f"{name[:100]}: the value {problem}")
    return values


def _unsendable(value: str) -> str | None:
    """Why no request could carry the value (in a header, where keys go) as the provider's key, or None. Whitespace at
    either end is a copy's (HTTP drops it from a header, so a request refuses to send it), never a provider's key."""
    if not value.strip():
        return "is empty"
    if value != value.strip():
        return "begins or ends with whitespace"
    if not _NOT_IN_A_KEY.isdisjoint(value):
        found = next(character for character in value if character in _NOT_IN_A_KEY)
        return f"holds U+{ord(found):04X}, a line break or a control, bidi or invisible character, never part of a key"
    return None


def _each_once(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object's fields, each given once: of two, Python's parser kept the last without a word."""
    fields = dict(pairs)
    if len(fields) < len(pairs):
        twice = next(name for name, _ in pairs if sum(1 for other, _ in pairs if other == name) > 1)
        raise typer.BadParameter(f"standard input gives the field {twice[:100]!r} twice")
    return fields


def _no_constant(name: str):
    raise typer.BadParameter(f"standard input: {name} is not a value a key can hold")


def _read_fields(names: list[str], every: list[str]) -> dict[str, str]:
    import json
    import sys

    refused = [n for n in names if "=" in n]
    if refused:
        raise invalid("--field", f"{refused[0].split('=')[0]}=…: name the field only; its value is read from "
                                 "standard input or a prompt, never from the command line")
    if sys.stdin.isatty():
        names = names or every
        if not names:
            raise invalid("--field", "name the fields to store, e.g. --field api_token")
        from getpass import getpass

        values = {name: getpass(f"{name}: ") for name in names}
        cut = [name for name, value in values.items() if len(value) >= TERMINAL_LINE]
        if cut:
            raise invalid("--field", f"{cut[0]}: a terminal takes at most {TERMINAL_LINE:,} characters a line, so a "
                                     "value this long may have been cut; give it on standard input instead (one line "
                                     "per field, or a JSON object), which takes it whole")
        return values
    text = sys.stdin.read(STDIN_LIMIT + 1)
    if len(text) > STDIN_LIMIT:
        raise typer.BadParameter(f"standard input is longer than {STDIN_LIMIT:,} characters")
    if text.lstrip().startswith("{"):
        try:
            # numbers kept as written: 1.50 stays "1.50", and a long id is no int() past its 4,300 digits
            data = json.loads(text, parse_int=str, parse_float=str, parse_constant=_no_constant,
                              object_pairs_hook=_each_once)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"standard input is not a JSON object: {exc.msg}") from None
        except RecursionError:
            raise typer.BadParameter("standard input is not a JSON object of fields: nested too deeply") from None
        if not all(isinstance(v, str) for v in data.values()):  # a number is read as its text
            raise typer.BadParameter("standard input: every field's value must be a string or a number")
        missing = [n for n in names if n not in data]
        if missing:
            raise invalid("--field", f"standard input has no field {missing[0]!r}")
        if unnamed := [k for k in data if names and k not in names]:  # dropped unsaid before; a line too many is not
            more = f" and {len(unnamed) - 5} more" if len(unnamed) > 5 else ""
            raise invalid("--field", f"standard input gives {', '.join(repr(k[:100]) for k in unnamed[:5])}{more}, "
                                     f"not named with --field ({', '.join(names)}): name each field to store, or leave "
                                     "it out of the object")
        return data
    names = names or every
    if not names:
        raise invalid("--field", "give a JSON object on standard input, or name the fields with --field")
    lines = text.splitlines()
    if len(lines) != len(names):  # an empty line is a value, refused naming its field
        raise typer.BadParameter(f"standard input has {len(lines)} line(s) for {len(names)} field(s) "
                                 f"({', '.join(names)}): one line per field, in that order")
    return dict(zip(names, lines))


# a key's record's fields by the option (or argument) of `amx keys add` each is typed as
RECORD_OPTIONS = {"path": "path", "rotation": "--rotation", "owner_source": "--source", "generated_fields": "--generate",
                  "lifetime_days": "--lifetime-days", "origins": "--for-url"}


@keys_app.command("add")
def keys_add(
    path: Annotated[str, typer.Argument(help=KEY_PATH)],
    rotation: Annotated[str, typer.Option(help="generate, provider or manual.")],
    field: Annotated[list[str], typer.Option(help="A field to store (repeatable); its value comes from standard "
                                                  "input (one line each, or a JSON object) or a hidden prompt. None "
                                                  "named with --source: the fields that source reads.")] = [],
    generate: Annotated[list[str], typer.Option(help="A field we mint on rotation (repeatable).")] = [],
    source: Annotated[Optional[str], typer.Option(
        help="The source plugin that owns the key (amx sources list).")] = None,
    lifetime_days: Annotated[int, typer.Option(min=1, max=3650, help=(
        "Days until it expires (warned of 7, 3 and 1 days before; a generated key is rotated within 7 instead), "
        "counted again from each rotation."))] = 90,
    for_url: Annotated[list[str], typer.Option(help=(
        "A webhook's key (webhooks/NAME, required there): the webhook URL it may be sent to (repeatable). Its origin "
        "alone is kept (scheme, host, port): a notify rule naming the key posts it there and nowhere else."))] = [],
):
    """Store a key in the secret store (create-only) and register how it rotates."""
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers.routes import problem
    from affiliate_matrix.keys import (KeyRecord, add_key, check_addable, check_folder, check_origins,
                                       check_rotation, origin)
    from affiliate_matrix.sources import get_source

    # a key its source cannot use is refused here, not at its connection's first sync or test (there, in words that
    # tell no one which secrets exist: "refused, or missing or incomplete")
    needs = getattr(get_source(source), "credential_keys", ()) if source is not None else ()  # a directory: none
    if source is not None and not needs:
        raise InvalidInput(f"source {source!r} reads no credentials: its connections need no key")
    try:
        origins = list(dict.fromkeys(origin(url) for url in for_url))
    except InvalidInput as exc:
        raise invalid("--for-url", str(exc)) from None
    try:
        record = KeyRecord(path=path, rotation=rotation, owner_source=source, generated_fields=generate,
                           lifetime_days=lifetime_days, created_at=datetime.now(UTC), origins=origins)
    except ValidationError as exc:  # named by the option typed, as a usage error (it said "rotation: …" bare)
        raise as_option(problem(exc, query=True), RECORD_OPTIONS) from None
    check_folder(path)  # before the values are asked for
    check_rotation(record)
    check_origins(record)
    rt = open_runtime("keys")
    check_addable(rt, path)
    data = secret_fields(field, list(needs))  # none named: the fields its source reads, asked for in turn
    if not data:
        raise invalid("--field", "no fields to store" + (f": a key of source {source!r} holds {', '.join(needs)}"
                                                        if needs else ""))
    if lacking := [name for name in needs if not data.get(name)]:
        raise InvalidInput(f"a key of source {source!r} holds {', '.join(needs)}: this one lacks {', '.join(lacking)} "
                           "(give each a value: as a key of the JSON object on standard input, or with --field "
                           "NAME for each, its value a line of standard input or typed at the prompt)")
    add_key(rt, record, data)
    sent_to = f"; sent only to {', '.join(record.origins)}" if record.origins else ""
    console.print(f"stored {path} ({', '.join(sorted(data))}); rotation {rotation}{sent_to}")


@keys_app.command("status")
def keys_status():
    """Every registered key: version, expiry, rotation, usage and failures today."""
    from datetime import UTC, datetime

    from affiliate_matrix.cli.views import fitted, utc_text
    from affiliate_matrix.errors import AmxError, NotFoundError
    from affiliate_matrix.keys import records, usage

    rt = open_runtime("keys")
    now = datetime.now(UTC)
    today = now.date().isoformat()
    rows, problems = [], []
    registered = list(records(rt, problems))
    if not registered and not problems:  # an empty table's headers said nothing
        console.print("no keys registered (amx keys add registers one; see amx keys add --help)")
        return
    for record in registered:
        try:
            version = str(rt.secrets.metadata(record.path).current_version)
        except AmxError as exc:  # in words, and why below the table (it showed "NotFoundError" and exited 0)
            version = "[red]missing[/]" if isinstance(exc, NotFoundError) else "[red]unreadable[/]"
            problems.append(f"{record.path}: {exc}")
        # days to the expiry date shown beside it (a timedelta's days were a day short of it until that very hour)
        # a revoked key expires no more (it read "revoked … 90 days left", as if still valid that long)
        expires = None if record.revoked_at else record.expires_at
        left = (expires.date() - now.date()).days if expires else None
        used = usage(rt, record.path)
        rows.append([record.path, record.rotation, "revoked" if record.revoked_at else version,
                     expires.date().isoformat() if expires else NO_VALUE,
                     NO_VALUE if left is None else (f"[red]{left}[/]" if left <= 7 else str(left)),
                     utc_text(used["last_used_at"]) if "last_used_at" in used else NO_VALUE,
                     str(used["uses"].get(today, 0)), str(used["failures"].get(today, 0))])
    # the path is what rotate and revoke take: never folded; a narrow terminal drops the usage columns first
    console.print(fitted(console, "", [("path", 0), ("rotation", 2), ("version", 0), ("expires (UTC)", 0),
                                       ("days left", 3), ("last used (UTC)", 4), ("uses today", 5),
                                       ("failures today", 1)], rows, whole=("path",)))
    # where each webhook's key may be sent (amx keys add --for-url), for an audit of where keys go: below the table,
    # whole, as a line each (a column of URLs would crowd out the usage at 80 columns)
    for record in registered:
        if record.origins:
            console.print(escape(f"{record.path}: sent only to {', '.join(record.origins)}"), highlight=False)
    for problem in problems:
        errors.print(escape(problem), highlight=False)
    if problems:
        raise typer.Exit(1)


@keys_app.command("rotate")
def keys_rotate(path: Annotated[str, typer.Argument(help=KEY_PATH)],
                field: Annotated[list[str], typer.Option(help="A manual key's field to replace (repeatable; every "
                                                              "field by default); its new value is read as keys add "
                                                              "reads it.")] = []):
    """Rotate now: new version, verified with every dependent connection, old version retired; any failure
    puts the old key back and exits 2. A manual key's new values (from the provider) are read as keys add reads them."""
    from affiliate_matrix.connection_test import REASON_LOGGED
    from affiliate_matrix.keys import load_record, rotate, rotation_said

    rt = open_runtime("keys", listed=("key.rotation_failed", *REASON_LOGGED))  # its error says what failed, and why
    record, _ = load_record(rt, path)
    given = None
    if record.rotation == "manual" and not record.revoked_at:
        given = secret_fields(field, every=list(rt.secrets.read(path).data))
    elif field:
        raise invalid("--field", f"{path} rotates by {record.rotation}: only a manual key's values are given")
    rotated = rotate(rt, path, given=given)
    console.print(escape(rotation_said(path, rotated)))


@keys_app.command("revoke")
def keys_revoke(path: Annotated[str, typer.Argument(help=KEY_PATH)]):
    """Destroy a compromised key's versions and mark every dependent connection unhealthy."""
    from affiliate_matrix.keys import revoke

    flagged = revoke(open_runtime("keys", listed=("key.revoked",)), path)  # said below, with its connections
    console.print(f"{path}: revoked; unhealthy now: {', '.join(flagged) or 'no connection'}")
