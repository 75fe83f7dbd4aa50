"""`amx search`, `show`, `changes`, `compare` and `amx terms`: reading the master index."""

from typing import Annotated, Optional

import typer

from rich.markup import escape

from affiliate_matrix.cli.common import (EpcWindowOption, as_option, console, data_out, invalid, open_runtime,
                                        stored_at, with_search_options)
from affiliate_matrix.wording import NO_VALUE

commands = typer.Typer()  # top-level commands
# where a listing goes on past those shown, as the API's cursor: `amx search` and `amx changes` page alike
CursorOption = Annotated[Optional[str], typer.Option(help=(
    "Where the listing goes on past those shown: the --cursor it printed, given with its other options, as the API's "
    "cursor."))]
terms_app = typer.Typer(help="The terms extractor.", no_args_is_help=True)


@commands.command()
@with_search_options
def search(
    # each word its own argument, as a shell splits `amx search web hosting` (one quoted argument reads the same)
    text: Annotated[Optional[list[str]], typer.Argument(help=(
        "Words to search for: plain words, as the API takes them (query syntax, as * ? ~ = < > ; --, a - before a "
        "word, OR and NOT between words, is refused)."))] = None,
    *,  # the search options here (with_search_options)
    sort: Annotated[str, typer.Option(help="relevance, commission, cookie, epc, last_changed or name (as the API's sort).")] = "relevance",
    epc_window: EpcWindowOption = "7d",
    limit: Annotated[int, typer.Option(min=1, help="Programs to show, at most one API page.")] = 20,
    cursor: CursorOption = None,
    **options,  # the search options' values, by the API's parameter names, as search_query reads them
):
    """Search the master index: the API's search, its filters and bounds as options (--country DE
    --min-commission-percent 20 --min-cookie-days 30); --cursor pages to the programs after those shown."""
    from affiliate_matrix.cli.views import print_search, search_query, search_text
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.program_index import EPC_WINDOWS, MAX_PAGE_SIZE, SORTS

    if limit > MAX_PAGE_SIZE:
        raise invalid("--limit", f"{limit} is more than a page ({MAX_PAGE_SIZE})")
    if sort not in SORTS:
        raise invalid("--sort", f"{sort!r} is not one of {', '.join(SORTS)}")
    if epc_window not in EPC_WINDOWS:
        raise invalid("--epc-window", f"{epc_window!r} is not one of {', '.join(EPC_WINDOWS)}")
    words = search_text(" ".join(text) if text else None, "text")
    query = search_query(words, options, sort=sort, epc_window=epc_window)
    try:  # a cursor refused in the API's words, named by the option typed (as_option), as amx changes does
        print_search(console, open_runtime(), query, limit, cursor)
    except InvalidInput as exc:
        raise as_option(exc, {"cursor": "--cursor"}) from None


@commands.command()
def show(program_id: Annotated[str, typer.Argument(help="A program's id, p_… (amx search lists them).")]):
    """One program with the provenance of each field."""
    from affiliate_matrix.cli.views import commission_summary, fitted, source_named, value_text
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.handlers.programs import merchants_like
    from affiliate_matrix.merge import holds
    from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, in_lower_case, is_program_id
    from affiliate_matrix.wording import field_label, utc_said

    program_id = program_id.strip()  # as pasted from a line, a space or a newline beside it
    if program_id[:2].lower() == "p_" and not is_program_id(program_id):  # the form said, as the API says it
        raise invalid("program_id", f"{program_id[:40]!r} is not a program's id: an id is p_ and 16 hex digits, as "
                                    f"amx search lists them{in_lower_case(program_id)}")
    rt = open_runtime()
    rt.index.ensure_index(PROGRAMS_INDEX)
    doc = rt.index.get(PROGRAMS_INDEX.name, program_id)
    if doc is None:  # its id moved (a migration or an import gave it another): shown under its id now
        from affiliate_matrix.moves import moved_to

        doc = moved_to(rt.index, [program_id]).get(program_id)
    if doc is None:  # a name or an address for an id: what show takes, and the merchants the words may mean
        from affiliate_matrix.cli.views import empty_index

        hint = empty_index(rt.index) if program_id.startswith("p_") else (
            ": amx show takes a program's id, p_… (amx search <words> lists them)"
            + merchants_like(rt.index, program_id, lead="; amx compare takes a merchant's key: "))
        raise NotFoundError(f"program {program_id[:80]!r} is not in the index{hint}")
    program = from_document(doc)
    if program.id != program_id:
        console.print(f"[yellow]{escape(program_id[:80])} moved to {program.id}[/]", highlight=False)
    domain = escape(program.merchant_domain or "no domain")  # the sources' text, shown as written (views.py)
    console.print(f"[bold]{escape(program.name)}[/] ({program.id}) — {domain}, quality {program.quality_score:.2f}")
    # its status and freshness, as the explorer's program page heads it: a status no source claims (amx verify's, a
    # withdrawal's) is in no row of the provenance below
    seen = [f"first seen {utc_said(program.first_seen_at)}", f"last seen {utc_said(program.last_seen_at)}",
            f"last verified {utc_said(program.last_verified_at)}" if program.last_verified_at else "never verified",
            *([f"last changed {utc_said(program.last_changed_at)}"] if program.last_changed_at else [])]
    console.print(f"{value_text('status', program.status)} {value_text('kind', program.kind).lower()}, "
                  + ", ".join(seen), highlight=False)
    if program.aliases:  # the other names it is known by (Impact's advertiser, the campaign's parent company), which
        console.print(f"also known as: {escape(', '.join(program.aliases))}", highlight=False)  # no claim holds
    console.print(f"commission: {escape(commission_summary(program))}  [dim]{escape(program.commission_text or '')}[/]")
    # each source's claim as it said it (✓ where the program holds it: merge.holds); then the pages they were read from,
    # once each, as lines: whole at any width, to be pasted (the raw copy where it is, as amx scrape names it: its
    # object-store key alone opened nothing)
    rows = [[escape(field_label(name)), escape(value_text(name, claim.value)),
             escape(source_named(claim.source, claim.connection_id)), "✓" if holds(program, name, claim) else ""]
            for name, claims in sorted(program.provenance.items()) for claim in claims]
    console.print(fitted(console, "provenance: each source's claim, ✓ where the program holds what it said",
                         [("field", 0), ("said", 0), ("source", 0), ("held", 0)], rows, whole=("field",)))
    pages = {(c.source, c.url, c.raw_key, c.fetched_at) for claims in program.provenance.values() for c in claims}
    for source, url, raw_key, fetched_at in sorted(pages):
        console.print(f"{escape(source_named(source))}: {escape(url)} fetched {utc_said(fetched_at)}, raw copy "
                      f"{escape(stored_at(rt, raw_key))}", soft_wrap=True, highlight=False)


# `amx changes`' options by the API parameter each sends (GET /changes'), to name the one typed in the API's refusal
CHANGES_OPTIONS = {"since": "--since", "program_id": "--program", "field": "--field", "change": "--change",
                   "limit": "--limit", "cursor": "--cursor"}


@commands.command()
def changes(
    since: Annotated[Optional[str], typer.Option(help=(
        "Changes recorded since a day (2026-12-01, from its midnight UTC) or a time with its zone "
        "(2026-12-01T12:00:00Z), as the API's since."))] = None,
    program: Annotated[Optional[list[str]], typer.Option(help="A program's id, p_… (repeatable).")] = None,
    field: Annotated[Optional[list[str]], typer.Option(help=(
        "A field the feed names: commission, cookie_days, status, … (repeatable)."))] = None,
    change: Annotated[Optional[list[str]], typer.Option(help=(
        "created, updated or removed, or as shown (\"Updated\") (repeatable)."))] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Changes to show, at most 100.")] = 20,
    cursor: CursorOption = None,
):
    """What changed in the index, newest recorded first: the change feed (GET /changes), each field's old and new;
    --cursor pages to older changes."""
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.cli.views import (changed_fields, fitted, print_damaged, source_named, typed_codes,
                                           utc_text, value_text)
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.handlers import programs as api
    from affiliate_matrix.program_index import PROGRAMS_INDEX, program_names

    args = MultiDict([("limit", str(limit)), *([("since", since)] if since is not None else []),
                      *([("cursor", cursor)] if cursor is not None else []),
                      *(("program_id", p) for p in program or []), *(("field", f) for f in field or []),
                      *(("change", c) for c in typed_codes("change", change))])
    rt = open_runtime()
    for spec in (PROGRAMS_INDEX, DELTAS_INDEX):  # (a fresh data dir has neither yet)
        rt.index.ensure_index(spec)
    try:  # checked as the API checks it, in a 400's words, named by the option typed (as_option), not the parameter
        feed = api.changes(rt, args)
    except InvalidInput as exc:
        raise as_option(exc, CHANGES_OPTIONS) from None
    damaged_programs: list[dict] = []  # a change of one listed, its name not known (—), the program named below
    names = program_names(rt.index, [item["program_id"] for item in feed["items"]], damaged_programs)
    rows = [[escape(cell) for cell in (
        utc_text(item["recorded_at"], minutes=True), value_text("change", item["change"]),
        f"{names.get(item['program_id']) or NO_VALUE} ({item['program_id']})",
        "\n".join(changed_fields(item["fields"])) or NO_VALUE, source_named(item["source"]))] for item in feed["items"]]
    if not rows:  # a table of headers alone said nothing
        console.print("no change recorded" + (" matching these options" if len(args) > 1 else
                                              ": a scrape, a sync or an import that changes a program records one"))
        print_damaged(console, feed.get("errors", []))
        return
    # (total counts the changes left out as damaged too, named below: they are not what --limit cut)
    cut = len(rows) + len(feed.get("errors", [])) < feed["total"]
    shown = f", {len(rows)} shown from --cursor" if cursor else f", the first {len(rows)} shown (--limit)" if cut else ""
    title = f"{feed['total']} change{'' if feed['total'] == 1 else 's'}, newest recorded first{shown}"
    # (the program's name wraps, its id a word fitted never folds: the whole cell kept on one line took a long name's
    # width from the fields, folded a line a word)
    console.print(fitted(console, title, [("recorded (UTC)", 0), ("change", 1), ("program", 0), ("fields", 0),
                                          ("source", 2)], rows))
    if feed["next_cursor"]:  # the changes past --limit could not be reached: 100 at most, --since only narrowed them
        console.print(f"older changes: the same command with --cursor {feed['next_cursor']}", soft_wrap=True)
    print_damaged(console, feed.get("errors", []))  # a damaged delta, left out of the feed
    print_damaged(console, damaged_programs)


@commands.command()
def compare(merchant_key: Annotated[str, typer.Argument(
        help="A merchant's key: its domain (bluehost.com), else its name's words; a name or an address that is no key "
             "names the merchants matching it: their keys, matching programs and networks.")]):
    """One merchant's programs and offers across networks and directories, a row per source's connection (two
    accounts of one network are two rows), best terms starred, each account's contract and each network's own EPCs."""
    from affiliate_matrix.cli.common import errors
    from affiliate_matrix.cli.views import (cookie_text, disagreements, fitted, listed_terms, print_damaged,
                                           source_named, value_text)
    from affiliate_matrix.wording import field_label
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.handlers.programs import merchants_like
    from affiliate_matrix.merchants import merchant_view
    from affiliate_matrix.program_index import programs_of

    from pydantic import ValidationError

    from affiliate_matrix.handlers.program_params import MerchantKey

    try:  # folded as the API and the explorer fold it: BLUEHOST.COM and full-width ｂｌｕｅｈｏｓｔ．ｃｏｍ are bluehost.com
        key = MerchantKey(merchant_key=merchant_key).merchant_key
    except ValidationError:  # no key's shape (a name with spaces, an address): none found, the merchants it may mean
        key = merchant_key
    index = open_runtime().index
    damaged: list[dict] = []  # a program of the merchant not of its shape: left out, named on standard error
    try:
        view = merchant_view(index, key, readable=lambda docs: list(programs_of(docs, damaged)))
    except NotFoundError:
        from affiliate_matrix.cli.views import empty_index

        from affiliate_matrix.handlers.program_params import KEYS_NAMED_BY, MERCHANT_KEY_IS

        # what a key is, as GET /merchants/{key} says it, and the merchants the words may mean; in an empty index,
        # what fills it
        raise NotFoundError(f"no program for merchant {merchant_key[:80]!r}" + (
            empty_index(index) or f": {MERCHANT_KEY_IS}, {KEYS_NAMED_BY}{merchants_like(index, merchant_key)}")) \
            from None
    finally:  # (none of them read: merchant_view's DamagedData, exit 2)
        print_damaged(errors, damaged)
    rows = []
    for row in view["rows"]:
        star = "★ " if {"commission_percent", "commission_flat"} & set(row["best"]) else ""
        rows.append([escape(cell) for cell in (
            source_named(row["source"], row["connection_id"]), value_text("kind", row["kind"]),
            row["network_title"] or NO_VALUE,  # as the merchant page names it (merchants.shown_networks)
            value_text("contract", row["contract"]), star + listed_terms(row),
            ("★ " if "cookie_days" in row["best"] else "") + cookie_text(row["cookie_days"]),
            value_text("payout", row["payout"]),  # methods, frequency and minimum, as the demo's compare shows it
            value_text("epc_7d", row["epc_7d"]), value_text("epc_90d", row["epc_90d"]), row["join_url"] or NO_VALUE)])
    # a narrow terminal drops the columns of least use first, rather than cutting every cell, a figure too, to "…"
    # (its fields' columns named as the explorer names the fields: wording.FIELD_LABELS)
    console.print(fitted(console, escape(f"{view['merchant']} ({view['domain'] or view['merchant_key']})"),
                         [("Source", 0), (field_label("kind"), 4), ("Network", 2), ("Contract", 1),
                          *((field_label(name), drop) for name, drop in (
                              ("commission", 0), ("cookie_days", 0), ("payout", 3), ("epc_7d", 1), ("epc_90d", 1))),
                          ("Join link", 5)], rows))
    for line in disagreements(view):
        console.print(line)


@terms_app.command("extract")
def terms_extract(
    path: Annotated[str, typer.Argument(help="A text file, or - for standard input.")] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
):
    """Structured terms (commission, cookie, payout, restrictions) from free text."""
    import json
    import sys

    from affiliate_matrix.terms import extract

    limit = 1_000_000
    try:
        if path == "-":
            text = sys.stdin.read(limit + 1)
        else:
            with open(path, errors="replace") as file:  # the limit + 1 characters, never the whole file
                text = file.read(limit + 1)
    except OSError as exc:
        raise invalid("path", f"cannot read {path}: {exc.strerror}") from None
    if len(text) > limit:
        raise invalid("path", f"the text is longer than {limit:,} characters")
    terms = extract(text).as_json()
    if as_json:
        print(json.dumps(terms), file=data_out(json=True))
        return
    console.print(terms_table(terms))


def terms_table(terms: dict):
    """Each field the extractor reads, its value in a few words (— when not found) and the sentences it came from."""
    from rich.markup import escape

    from affiliate_matrix.cli.views import cookie_text, fitted, value_text
    from affiliate_matrix.codes import WORDS
    from affiliate_matrix.wording import field_label, terms_summary

    minimum, frequency = terms["min_payout"], terms["payout_frequency"]
    # fields and codes in the explorer's words (PayPal, Net 30), as amx show says a program's; --json keeps the codes
    values = {"cookie_days": cookie_text(terms["cookie_days"]), "commission": terms_summary(terms["commission"]),
              "payout_methods": value_text("payout_methods", terms["payout_methods"]),
              "payout_frequency": WORDS["payout_frequency"].get(frequency, frequency) if frequency else NO_VALUE,
              "min_payout": f"{minimum['amount']:g} {minimum['currency'] or ''}".strip() if minimum else NO_VALUE,
              "restrictions": value_text("restrictions", terms["restrictions"])}
    rows = [[field_label(field), escape(value),
             escape(" ".join(f"“{quote}”" for quote in terms["evidence"].get(field, [])))]
            for field, value in values.items()]
    return fitted(console, "", [("field", 0), ("value", 0), ("from", 1)], rows, whole=("field",))
