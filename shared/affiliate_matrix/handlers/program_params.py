"""The programs API's parameters as pydantic models: a search's (SearchParams), the export's, the change feed's, the
merchants', one program's, one merchant's. None is built by a start: each route names its model through a function in
programs.py and builds it on its first use; a search's query string is checked by search_params.py's fast path first,
which leaves any value it does not plainly accept to SearchParams, so the answers and the 400s are the model's."""

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import (AfterValidator, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema,
                      WrapValidator, create_model)

from affiliate_matrix.codes import (CATEGORIES, COMMISSION_TYPES, COUNTRIES, CURRENCIES, DEEPLINKS, KINDS,
                                   PAYOUT_METHODS, STATUSES, typed_country, typed_currency)
from affiliate_matrix.deltas import TRACKED
from affiliate_matrix.errors import CURSOR_PASSED_BACK, InvalidInput
from affiliate_matrix.handlers.program_shapes import (_MERCHANT_KEY, CURSOR_MAX_LENGTH, MERCHANT_KEY_MAX,
                                                     WORDS_MAX_LENGTH, plain_words, without_controls)
from affiliate_matrix.handlers.routes import Shape, decimal, refuse, whole
from affiliate_matrix.handlers.shapes import IsoTime
from affiliate_matrix.program_index import (BOUNDS, EPC_WINDOWS, FILTERS, MAX_FLAT_CURRENCIES, MAX_PAGE_SIZE,
                                            PROGRAM_ID, RESULT_WINDOW, SORTS, WORLDWIDE, in_lower_case,
                                            is_program_id)
from affiliate_matrix.search import MAX_WORDS, PREFIX_MIN
from affiliate_matrix.wording import quoted


def _at_most(length: int, said: str):
    """A text parameter of at most `length` characters, one longer refused in the words of the routes' other refusals
    (`said`: what it must be, formatted with the name, its length and the limit): pydantic's were "String should have
    at most 2000 characters"."""
    def check(value, info):
        if isinstance(value, str) and len(value) > length:
            raise refuse(said.format(name=info.field_name, given=f"{len(value):,}", limit=f"{length:,}"))
        return value
    return BeforeValidator(check)


Words = Annotated[str | None, Field(max_length=WORDS_MAX_LENGTH, description=(
    f"Words to find, at most {MAX_WORDS} (every word must match; one or two typos allowed by word length; the last "
    f"word (of {PREFIX_MIN} letters or more) also matches the start of a word: host finds Hostinger, below the whole "
    "word). "
    "Query syntax (*, ?, ~, =, --, <, >, ;) is refused with a 400; a colon is read as punctuation.")),
    _at_most(WORDS_MAX_LENGTH, "{name} is {given} characters, past the {limit} searched: search for fewer words"),
    AfterValidator(plain_words)]
Cursor = Annotated[str | None, Field(max_length=CURSOR_MAX_LENGTH, description="next_cursor from the previous page, "
                                                                               "passed back unchanged."),
                   _at_most(CURSOR_MAX_LENGTH, "{name} is longer than any next_cursor ({given} characters; one is at "
                                               "most {limit}): " + CURSOR_PASSED_BACK)]
PageSize = whole(1, MAX_PAGE_SIZE)
Minimum = decimal(0) | None
# What a search and an export are filtered by; each model is made from these fields
# directly, so a start defines no model of the filters alone.
Sort = Annotated[Literal[tuple(SORTS)], Field(description=(
    "commission: the best percentage rate first, highest first; then the programs paying flat amounts only, "
    "each currency apart (in currency-code order) and highest first within it: there are no exchange rates, "
    "so $100 is never ranked against ¥5000, nor a rate against an amount (a tie between rates is broken the "
    "same way). With flat_currency, the flat amounts are those in a currency asked for: a program ranks by its "
    "highest flat term in it (one paying $10 or €80 ranks as €80 with flat_currency=EUR), each currency asked "
    "apart (in code order). epc: earnings per click (over 7 days, or 3 months with epc_window=90d), an amount, "
    "so likewise each currency apart (in currency-code order) and highest first within it; programs with no EPC "
    "last."))]
SAID = {"country": ("A country the program takes (ISO 3166 alpha-2, as DE): it names it, or it names no country "
                    "at all (a source listing none restricts none, so the program is open to every country). The "
                    "countries facet counts the same way: each country's count is what country= of it finds. After "
                    "its (at most 20) countries, the facet's `worldwide` value counts the programs open to every "
                    "country, which country=worldwide lists."),
        "status": ("Without it a search lists open programs only (active, discovered), leaving closed_suspected "
                   "and removed ones out, and its status facet counts every status; an export has every program. "
                   "Ask for closed ones by name (status=closed_suspected), or for all (status=active&status="
                   "discovered&status=closed_suspected&status=removed)."),
        "flat_currency": (f"A currency the program pays flat amounts in (any of them: every one is listed); at most "
                          f"{MAX_FLAT_CURRENCIES} at once (sort=commission ranks by each apart)."),
        "min_commission_flat": (
            "A program with a flat term of at least this much in a currency asked for by flat_currency, whichever "
            "of its terms that is (never ¥5000 with a minimum meant in dollars). Needs flat_currency: without it "
            "the request is refused with a 400, since there are no exchange rates to compare amounts in different "
            "currencies."),
        "epc_currency": "The currency of the program's earnings per click (epc_7d, or epc_90d with epc_window=90d).",
        # each filter is repeatable, its values alternatives; the facet named is what it filters and counts
        "category": "A category of the program (the categories facet's values).",
        "network": ("A network the program runs on (its networks, the networks facet's values: awin, cj, impact), "
                    "read as the index names networks: CJ, cj.com and Commission Junction are cj. Not the directory "
                    "that listed it: that is source."),
        "source": ("A directory or network that listed the program (its sources: affiliateprograms, cj), read "
                   "lower-case."),
        "kind": "program, or offer (a network's CPA offer, as OfferVault lists them).",
        "commission_type": "A commission the program pays: percent, or flat amounts (the commission_types facet).",
        "payout_method": "A way the program pays its affiliates (the payout_methods facet's values).",
        "min_commission_percent": "The lowest commission rate, in percent (30 for 30%), of the program's best rate.",
        "min_cookie_days": "The shortest cookie, in days; a lifetime cookie meets any minimum.",
        "max_payment_days": ("The longest the program takes to pay a commission on average, in days, as its network "
                             "reports it (Awin's averagePaymentTime): max_payment_days=30 lists those paying within 30 "
                             "days on average. A program whose networks report no figure is not listed."),
        "deeplinks": ("What the program's networks say of deep links (links to any page of the merchant's site): "
                      "allowed (Impact's AllowsDeeplinking, Awin's deeplinkEnabled, a DeepLink among CJ's link "
                      "types) or not_allowed; a program none says it of is in neither (the deeplinks facet's "
                      "values)."),
        "min_epc": ("The program's earnings per click (over 7 days, or 3 months with epc_window=90d), in a currency "
                    "asked for by epc_currency (epc_currency=USD&min_epc=1.5: at least $1.50 a click, never ¥150). "
                    "Needs epc_currency: without it the request is refused with a 400, since there are no exchange "
                    "rates to compare amounts in different currencies.")}
EpcWindow = Annotated[Literal[tuple(EPC_WINDOWS)], Field(description=(
    "Which earnings per click epc_currency, min_epc, sort=epc and the epc_currency facet read: 7d, over 7 days "
    "(epc_7d), or 90d, over 3 months (epc_90d: the only one Awin reports; CJ reports both). Each is an amount in its "
    "own currency."))]
def _given(value: str, info) -> str:
    """A filter's value that is not blank: `network=` (a form's empty field) was read by the index as the value "",
    which no program has, so the search found nothing, as if no program were on that network. Nor holding a control
    character: `network=c%00j` was read as cj, the NUL dropped unseen (program_shapes.without_controls, as q)."""
    if not value.strip():
        raise refuse(f"{info.field_name} has a blank value: give one, or leave {info.field_name} out")
    return without_controls(value, info.field_name)


def _code(codes: frozenset, form: str, *others: str, typed=None):
    """A filter's value that must be a code as the index holds it (its capitals): `flat_currency=usd` found no
    program, silently, where a minimum beside it was a 400; `typed` reads a code as typed (codes.typed_currency);
    `others` are taken as they are (`worldwide`, never WORLDWIDE)."""
    def check(value: str, info) -> str:
        if value in others:
            return value
        code = typed(value) if typed else value
        if code not in codes:  # named as given (uk, not UK: no code either way), a long one cut where it says so
            raise refuse(f"{info.field_name} {quoted(value)} is not {form}")
        return code
    return Annotated[str, AfterValidator(check)]


def _network(value: str, info) -> str:
    """A network as the index names it (taxonomy.network_name, as indexing names it): `network=CJ`, `network=ＣＪ` or
    `network=CJ.com` found nothing, silently, where the index holds cj."""
    from affiliate_matrix.taxonomy import network_name

    if not (named := network_name(value)):
        raise refuse(f"{info.field_name} {value[:40]!r} names no network (as awin, cj, impact)")
    return named


def _source(value: str, info) -> str:
    """A source as the index names it (a plugin's name, lower-case ASCII: `source=AWIN` or full-width `ａｗｉｎ` is
    awin); a value that cannot be one is refused, naming the sources there are."""
    from affiliate_matrix.sources import all_sources

    named = unicodedata.normalize("NFKC", value).strip().lower()
    if not re.fullmatch(r"[a-z0-9_]{1,40}", named):
        raise refuse(f"{info.field_name} {value[:40]!r} is no source's name (as {', '.join(all_sources())})")
    return named


_CURRENCY = _code(CURRENCIES, "a currency code (ISO 4217, as EUR)", typed=typed_currency)
# the filters whose every value is known: another is a 400 naming them (it would find nothing)
CHOICES = {"status": Literal[STATUSES], "category": Literal[CATEGORIES], "kind": Literal[KINDS],
           "commission_type": Literal[COMMISSION_TYPES], "payout_method": Literal[PAYOUT_METHODS],
           "flat_currency": _CURRENCY, "epc_currency": _CURRENCY, "deeplinks": Literal[DEEPLINKS],
           "network": Annotated[str, AfterValidator(_given), AfterValidator(_network)],
           "source": Annotated[str, AfterValidator(_given), AfterValidator(_source)],
           "country": _code(COUNTRIES, f"a country code (ISO 3166 alpha-2, as DE) or {WORLDWIDE}", WORLDWIDE,
                            typed=typed_country)}
MAX_LISTED = {"flat_currency": MAX_FLAT_CURRENCIES}  # a filter's values at once, where they cost more than a term each
FILTER_FIELDS = dict(q=(Words, None), sort=(Sort, "relevance"), epc_window=(EpcWindow, "7d"),
                     **{name: (list[CHOICES.get(name, Annotated[str, AfterValidator(_given)])] | None,
                               Field(None, description=SAID.get(name), max_length=MAX_LISTED.get(name)))
                        for name in FILTERS},
                     **{name: (Minimum, Field(None, description=SAID.get(name))) for name in BOUNDS})


class _Paging(Shape):
    """SearchParams' check of its paging (its fields are added below, after the filters')."""

    def model_post_init(self, _):
        if self.page is not None and self.cursor is not None:
            raise InvalidInput("use either page or cursor, not both")
        if self.page is not None and self.page * self.limit > RESULT_WINDOW:
            raise InvalidInput(f"page must be a whole number from 1 to {RESULT_WINDOW // self.limit} at limit "
                               f"{self.limit}: page x limit is at most {RESULT_WINDOW}; use the cursor beyond")


SearchParams = create_model(  # other names are refused by `parameters`, by name, before a model sees them
    "SearchParams", __base__=_Paging, **FILTER_FIELDS, limit=(PageSize, 20),
    page=(whole(1, RESULT_WINDOW) | None, Field(None, description=f"page x limit is at most {RESULT_WINDOW}; "
                                                                  "a cursor pages further")),
    cursor=(Cursor, None))



ExportParams = create_model(
    "ExportParams", __base__=Shape, **FILTER_FIELDS, format=(Literal["csv", "jsonl", "parquet"], "jsonl"),
    excel=(bool, Field(False, description=(
        "CSV for Excel (format=csv only): begins with a byte order mark, without which Excel reads UTF-8 as the "
        "locale's code page, and a cell longer than the 32,767 characters Excel keeps is cut to fit, ending in a "
        "note saying so (Excel would cut it without a word). Such a file does not import those programs back: "
        "jsonl and parquet carry every cell whole."))))


def _day_or_time(value, info):
    """A bare day ("2026-12-01", what a date field sends) as its midnight UTC, or a time with its zone, each as the
    index port's one rule reads a date (search.iso_time); anything else ("yesterday", a time without its zone, a
    number) refused naming the parameter and the forms it takes, in words a person reads on the Changes page too."""
    from affiliate_matrix.search import iso_time

    if not isinstance(value, str):
        return value
    text = f"{value}T00:00:00Z" if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) else value
    try:
        zoned = iso_time(text).tzinfo is not None
    except ValueError:
        zoned = False
    if not zoned:
        # a zone's + sent unescaped in a URL arrives as a space (a time with an offset, +02:00, written as it is)
        plus = re.search(r"[0-9] [0-9]{2}:?[0-9]{2}$", value)
        raise refuse(f"{info.field_name} must be an ISO 8601 date (2026-12-01, from its midnight UTC) or a time with "
                     f"its zone (2026-12-01T12:00:00Z), not {value[:40]!r}" + (
                         ": a + in a query string is read as a space, so send the zone's + as %2B (+00:00 as "
                         "%2B00:00), or the time in UTC with Z" if plus else ""))
    return text


def _program_id(value, info):
    """A program's id as the index gives it (p_ and 16 hex digits); another is refused in words, not as the pattern."""
    if isinstance(value, str) and not is_program_id(value):
        raise refuse(f"{info.field_name} must be a program's id, p_ and 16 hex digits as amx search and the API list "
                     f"them, not {value[:40]!r}{in_lower_case(value)}")
    return value


# the pattern for the OpenAPI document; the validator, run first, refuses in words
ProgramIdText = Annotated[str, Field(pattern=f"^{PROGRAM_ID}$"), BeforeValidator(_program_id)]
# The ids a listing takes at once (GET /changes, GET /activations), each widened by a query of the moved ids per hop
# (moves.moved_into). The explorer's program page and the CLI send one program's (a few with --program repeated); a
# merchant's programs across its networks and directories, the most a view gathers, are a few dozen.
MAX_PROGRAM_IDS = 50
ProgramIds = Annotated[list[ProgramIdText], Field(max_length=MAX_PROGRAM_IDS)]


class ChangesParams(Shape):
    model_config = ConfigDict(extra="forbid")
    # a bare day first becomes its midnight UTC (the last Before validator runs first), then IsoTime reads it; the
    # document declares both forms (IsoTime's own schema is a date-time alone)
    since: Annotated[IsoTime, BeforeValidator(_day_or_time), WithJsonSchema({"anyOf": [
        {"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]})] | None = Field(
        None, description=(
        "Only changes recorded at or after this time (recorded_at, not at: a batch indexed late is found by a "
        "reader polling since the newest recorded_at it read), a day from its midnight UTC. At least once: "
        "deduplicate by id."))
    # a program id or a field no delta can name is a mistake (a typo found nothing and looked like no change): a 400
    program_id: ProgramIds | None = Field(None, description=(
        f"Only these programs' changes (at most {MAX_PROGRAM_IDS}), with those recorded under an id that moved into "
        "one of them since."))
    field: list[Literal[TRACKED]] | None = Field(None, description="Only changes to one of these fields.")
    change: list[Literal["created", "updated", "removed"]] | None = Field(None, description=(
        "Only these kinds of change."))
    limit: PageSize = 20
    cursor: Cursor = None


class MerchantsParams(Shape):
    model_config = ConfigDict(extra="forbid")
    q: Words = None
    limit: PageSize = 20
    cursor: Cursor = None  # the merchants after a page's, as every listing pages


class ProgramId(Shape):
    program_id: ProgramIdText


def folded_key(key):
    """A merchant key folded as resolution folds the names and domains it builds keys from (resolve.folded_name):
    full-width 'ｈｏｓｔｉｎｇ．ｃｏｍ', 'Hosting.com' and a decomposed 'cafe\u0301-shop' are the keys hosting.com and
    cafe-shop, not a 404; and without the optional marks no key holds (search.unwritten: 'كِتاب' is the key 'كتاب').
    Not a key holding a control character: unwritten dropped a bidi override unseen ('hosting.com' and U+202E was
    hosting.com's view), a link mangled (program_shapes.without_controls, as a search's parameters)."""
    from affiliate_matrix.resolve import folded_name
    from affiliate_matrix.search import unwritten

    return unwritten(folded_name(without_controls(key, "the merchant key"))) if isinstance(key, str) else key


def _merchant_key_words(key, pattern_checked):
    """A folded key the pattern refuses ('blue host', '-x'), said in words, not as the pattern: the pattern itself is
    checked by pydantic's engine (its \\w takes a name's marks, Python's re does not), so its refusal is reworded."""
    try:
        return pattern_checked(key)
    except ValidationError as exc:
        if exc.errors(include_url=False)[0]["type"] != "string_pattern_mismatch":
            raise
        raise refuse(f"the merchant key {key[:80]!r} is no merchant's: {A_MERCHANT_KEY_IS}") from None


# what a merchant key is, said where one is refused and where none matched (GET /merchants/bluehost: a name for a key),
# with what lists the keys (the explorer's merchant page names its Merchants page there: web.pages.merchant_page)
# (amx compare: with what lists the keys to a command's user, KEYS_NAMED_BY)
KEYS_LISTED_BY = "as GET /merchants lists them"
KEYS_NAMED_BY = "as amx compare names them given a merchant's name"
MERCHANT_KEY_IS = "a key is a merchant's domain (bluehost.com), or its name's words joined by '-' (acme-shop)"
A_MERCHANT_KEY_IS = f"{MERCHANT_KEY_IS}, {KEYS_LISTED_BY}"


class MerchantKey(Shape):
    merchant_key: Annotated[Annotated[str, Field(pattern=_MERCHANT_KEY, max_length=MERCHANT_KEY_MAX)],
                            WrapValidator(_merchant_key_words), BeforeValidator(folded_key)]
