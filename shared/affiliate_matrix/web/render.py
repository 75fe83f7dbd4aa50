"""The Jinja2 environment (autoescape on) every page renders with, signing in included, and the filters
and helpers its templates use. Apart from what the index's pages show (pages.py, through the programs
API's code), so the sign-in page, a browser's first request, loads none of that API."""

import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from affiliate_matrix.characters import BIDI_CONTROLS, C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS, characters
from affiliate_matrix.wording import (FIELD_LABELS, NO_VALUE, RATES, amount_text, cookie_text, cooldown_text,
                                      listing_text, payout_text, rate_text, records_text, schedule_words, terms_summary,
                                      yes_no)

FACET_LABELS = {"status": "Status", "categories": "Category", "networks": "Network", "countries": "Country",
                "commission_types": "Commission type", "payout_methods": "Payout method",
                "commission_flat_currencies": "Flat commission currency", "kind": "Kind", "sources": "Listed by",
                "epc_currency": "EPC currency", "deeplinks": "Deep links"}
SORT_LABELS = {"relevance": "Relevance", "commission": "Commission", "cookie": "Cookie length", "epc": "EPC",
               "last_changed": "Last changed", "name": "Name"}
MINIMUM_LABELS = {"min_commission_percent": "Minimum commission (%)", "min_commission_flat": "Minimum flat commission",
                  "min_cookie_days": "Minimum cookie (days)", "min_epc": "Minimum EPC"}
MAXIMUM_LABELS = {"max_payment_days": "Pays within (days, on average)"}
EPC_WINDOW_LABELS = {"7d": "7 days", "90d": "3 months"}  # the EPC (epc_window) the sort, minimum and facet read
CHANGE_TYPES = ("created", "updated", "removed")
# Jinja compiles a template to Python on its first render: most of the work of the web function's first request
# after a cold start (the sign-in page). The image compiles every template at build time into this directory
# (compile_templates), as compileall does the modules (a `__pycache__`: git and the image's context leave it out).
# Jinja takes a compiled template only while its source's checksum matches; the environment's options are not in
# that checksum, so a change to them wants the directory emptied. Where it is absent, templates compile in memory.
COMPILED = Path(__file__).parent / "templates" / "__pycache__"


@cache
def environment():
    from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

    class Compiled(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket):
            try:
                super().dump_bytecode(bucket)
            except OSError:  # the image's read-only package: a template missing from it stays compiled in memory
                pass

    compiled = Compiled(str(COMPILED)) if COMPILED.is_dir() else None
    env = Environment(loader=PackageLoader("affiliate_matrix.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, bytecode_cache=compiled)
    env.filters.update(show=show, terms=terms_summary, payout=payout, cookie=cookie_text, field=field, number=number,
                       amount=amount_text, when=when, words=words, source=source_title, network=network_title,
                       schedule_said=schedule_words, cooldown=cooldown_text)
    env.tests["web_address"] = web_address
    env.globals.update(url=url, claimant_name=claimant_name, SORT_LABELS=SORT_LABELS, FACET_LABELS=FACET_LABELS,
                       MINIMUM_LABELS=MINIMUM_LABELS, MAXIMUM_LABELS=MAXIMUM_LABELS,
                       EPC_WINDOW_LABELS=EPC_WINDOW_LABELS, CHANGE_TYPES=CHANGE_TYPES, FIELD_LABELS=FIELD_LABELS,
                       NO_VALUE=NO_VALUE)
    return env


def claimant_name(source: str, connection_id: str | None) -> str:
    """merge.claimant_name, its source by its title, imported when a page names a claimant: merge builds the
    domain's models, which the sign-in page (the web function's first request) has no use for."""
    from affiliate_matrix.merge import claimant_name as named

    return named(source, connection_id, source_title(source))


def source_title(name) -> str:
    """A source as people read it wherever a page shows one, its plugin's title ('CJ Advertiser Lookup API' for cj),
    the URLs and filters keeping its name; one no plugin has (a removed one's, in a stored document) as it is."""
    from affiliate_matrix.sources import source_title  # (only the index's pages show one: not for signing in)

    return source_title(name) if isinstance(name, str) else show(name)


def network_title(value, title: str | dict | None = None) -> str:
    """A network as people read it wherever a page shows one (sources.network_shown): its proper name where a plugin
    reads it ('CJ' for cj), any other (an open set: a directory names any) as its source wrote it where `title` says
    so (a listing's, or for a list of keys each one's: program_index.network_titles_of), else as the index keeps it;
    a list of them joined. The URLs and filters keep the index's key."""
    from affiliate_matrix.sources import network_shown  # (only the index's pages show one: not for signing in)

    if isinstance(value, list):
        return show([network_title(name, title.get(name) if isinstance(title, dict) else None) for name in value])
    return network_shown(value, title if isinstance(title, str) else None) if isinstance(value, str) else show(value)


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def compile_templates() -> None:
    """Compile every template into COMPILED (the image's build step; the cold-start bench's too)."""
    COMPILED.mkdir(exist_ok=True)
    environment.cache_clear()
    for name in environment().list_templates(extensions=["html"]):
        environment().get_template(name)


def encode(params) -> str:
    items = params.items(multi=True) if isinstance(params, MultiDict) else params.items()
    return urlencode([(k, v) for k, v in items if v not in (None, "")])


def url(path: str, params=None, **changes) -> str:
    """`path` with the query `params`, some replaced (a None removes one)."""
    merged = MultiDict(params or {})
    for name, value in changes.items():
        merged.poplist(name)
        if value is not None:
            merged.setlist(name, value if isinstance(value, list) else [value])
    query = encode(merged)
    return f"{path}?{query}" if query else path


def once(args, name: str) -> str | None:
    """The value of a parameter given at most once; given twice, InvalidInput naming it, as the API refuses it
    (routes.parameters): which of the two a proxy, a cache and we would read differs, so neither is guessed."""
    from affiliate_matrix.errors import InvalidInput

    values = args.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"{name} is given more than once; give it once")
    return values[0] if values else None


def filled(args) -> MultiDict:
    """The query without blank values: an empty form field means no filter, not an empty one."""
    return MultiDict([(k, v.strip()) for k, v in args.items(multi=True) if v.strip()])


# A path on this site: one "/", then no second "/" or "\\" (a browser reads "\\" as "/"), and no control
# character or space anywhere (a browser drops tabs and line breaks: "/\t/host" is "//host"; a line break
# in a Location header is refused by Werkzeug; a bidi override shows the address reordered): the C0 ones here, every
# one by _NOT_IN_A_PATH, the classes a search's parameter refuses too (program_shapes.CONTROL_CHARACTERS), composed
# here from affiliate_matrix.characters: the API's module brought the search code into a sign-in's first request. No
# page of this site has one in its path or query.
_LOCAL_PATH = r"/(?![/\\])[^\x00-\x20\x7f\\]{0,1998}"  # compiled by re when a sign-in first follows one
_NOT_IN_A_PATH = characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS, BIDI_CONTROLS)


def local_path(candidate: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site ('//host', '/\\host', '/<tab>/host')."""
    if candidate and re.fullmatch(_LOCAL_PATH, candidate) and _NOT_IN_A_PATH.isdisjoint(candidate):
        return candidate
    return "/programs"


def web_address(value) -> bool:
    """Only http(s) addresses become links: a source's `javascript:` or `data:` URL stays text."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def show(value) -> str:
    """A field's value as text: nothing as a dash, lists joined, objects as compact JSON."""
    if value is None or value == [] or value == {}:
        return NO_VALUE
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return str(value)


def field(value, name: str) -> str:
    """A program field's value as the pages show it wherever it appears (the program's own, each source's claim,
    a change's old and new), in the words people use rather than the stored shape."""
    if name == "commission":
        return terms_summary(value)
    if name == "payout":
        return payout(value)
    if name == "cookie_days":
        return cookie_text(value)
    if name == "networks" and isinstance(value, list):  # each by name, program id and the account's contract
        return ", ".join(listing_text(n, network_title) for n in value if isinstance(n, dict)) or NO_VALUE
    if name.endswith("_at"):  # a time (first_seen_at, last_verified_at, …)
        return when(value)
    if name == "countries" and value == []:  # names no country: restricts none (a source's Worldwide)
        return "every country"
    from affiliate_matrix.codes import VOCABULARY_OF  # (the fields holding codes, shown in words)

    if name in VOCABULARY_OF:  # a closed vocabulary's code, or a list of them
        codes = value if isinstance(value, list) else [] if value is None else [value]
        return ", ".join(words(code, VOCABULARY_OF[name]) for code in codes) or NO_VALUE
    if name in RATES and value not in (None, "") and not isinstance(value, bool):
        try:
            return rate_text(value)
        except ArithmeticError:  # no number (a damaged document's): shown as it is
            return show(value)
    if name == "records" and isinstance(value, list):
        return records_text(value, source_title)
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:  # an amount: an EPC, a minimum
        return amount_text(value["amount"], value["currency"])
    if isinstance(value, bool):  # a network's yes or no (deeplinks_allowed)
        return yes_no(value)
    return show(value)


def words(code, vocabulary: str) -> str:
    """A closed vocabulary's code as people read it (codes.WORDS): 'Home & garden' for the category home_garden,
    'Bank transfer' for the payout method bank_transfer; one it does not know (a stored document's, damaged) as it is."""
    from affiliate_matrix.codes import WORDS  # (only the index's pages show one: not for signing in)

    return WORDS[vocabulary].get(code, str(code)) if isinstance(code, str) else show(code)


def when(value) -> str:
    """A time as people read it wherever a page shows one, to the minute in UTC: '2026-12-01 10:00 UTC' for the
    index's 2026-12-01T10:00:00.123456Z (the API answers ISO 8601, as a page's <time datetime> keeps it). Text that
    is no time (a damaged document's) is shown as it is."""
    if value is None:
        return NO_VALUE
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError):  # no time, or one whose UTC instant no datetime holds
        return str(value)


def number(value) -> str:
    """A figure the index holds as a float, as written: 36.0 is 36, 0.4512 stays 0.4512 (never 1e-05)."""
    if not isinstance(value, float) or not math.isfinite(value):
        return str(value)
    return format(Decimal(repr(value)).normalize(), "f")


def payout(value) -> str:
    """Payout terms as a line, as the CLI says them (wording.payout_text): 'PayPal, Wire transfer; Net 30; minimum 50
    USD'."""
    return payout_text(value) if value else NO_VALUE
