"""The programs index: its spec (fields and how they are searched), the document a Program
becomes in it, and its search vocabulary (the names a search may filter, bound and sort by, and the
fields they stand for). The full Program rides along as a stored field, so a read needs no second store."""

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from affiliate_matrix.errors import DamagedData, InvalidInput
from affiliate_matrix.search import IndexSpec, Range, SearchQuery, SortKey

if TYPE_CHECKING:  # the models load on first use: a search request never needs them
    from affiliate_matrix.models import Program

Text, Keyword, Number, Date = "text", "keyword", "number", "date"  # how the index searches a field
PROGRAM_ID = r"p_[0-9a-f]{16}"  # a program's id, as make_id gives it (models.Program)


def is_program_id(value) -> bool:
    """Whether `value` has a program id's shape (p_ and 16 hex digits)."""
    return isinstance(value, str) and re.fullmatch(PROGRAM_ID, value) is not None


def in_lower_case(value: str) -> str:
    """What to add to the refusal of an id that is a program's in lower case alone (P_91916E0DD2956D64): that ids are
    lower case, the id so. It is refused, not folded, by the API, the explorer and the CLI alike (an id is the index's
    key as make_id writes it: one folded would be a second spelling of every id in every link)."""
    folded = value.lower()
    return f" (an id is in lower case: {folded})" if folded != value and is_program_id(folded) else ""



# A program's searchable fields (SUMMARY_DOC): how the index searches each, its type and, for a field a document may
# lack, its default. The API's model of them (ProgramSummary, handlers/program_page.py) is made from this by the first
# use of the API's document or of its tests, not by a start: defining a model of 31 fields cost every start ~5 M
# instructions.
SUMMARY = {
    "id": (Keyword, str),
    "name": (Text, str),
    "merchant": (Text, str | None),
    "description": (Text, str | None),
    "merchant_key": (Keyword, str),
    "merchant_domain": (Keyword, str | None),
    "kind": (Keyword, str),
    "status": (Keyword, str),
    "categories": (Keyword, list[str]),
    "networks": (Keyword, list[str]),
    "countries": (Keyword, list[str]),
    "commission_types": (Keyword, list[str]),
    "commission_percent_max": (Number, float | None),
    # A program may pay flat amounts in several currencies, and there are no exchange rates: the document's flat
    # amount is the highest one in the currency of the first flat term the program states (its headline offer),
    # commission_flat_currency; commission_flat_currencies lists every currency it pays flat amounts in, by the figure
    # shown or by any source's (said_terms).
    "commission_flat_max": (Number, float | None),
    # None with commission_flat_max, and on a document that a migration to v4 copied before migrations upgraded
    # documents (see _as_indexed_now), until its program is indexed again
    "commission_flat_currency": (Keyword, str | None, None),
    "commission_flat_currencies": (Keyword, list[str]),
    "cookie_days": (Number, int | None),
    "payout_methods": (Keyword, list[str]),
    "quality_score": (Number, float),
    "epc_7d": (Number, float | None),  # earnings per click over 7 days, an amount in epc_currency
    "epc_currency": (Keyword, str | None),
    # over 3 months (Awin's only EPC; CJ's steadier one), in its own currency: the two may come from two sources. None
    # on a document of v10 or before, until `amx index migrate programs` (added in v11)
    "epc_90d": (Number, float | None, None),
    "epc_90d_currency": (Keyword, str | None, None),
    # how many days the merchant takes to pay on average (Awin's averagePaymentTime), what max_payment_days bounds; and
    # whether its networks allow deep links, as a word (deeplink_word: allowed, not_allowed), what deeplinks= filters
    # and counts. None on a document of v20 or before, until `amx index migrate programs` (added in v21)
    "average_payment_days": (Number, float | None, None),
    "deeplinks": (Keyword, str | None, None),
    "first_seen_at": (Date, datetime),
    "last_seen_at": (Date, datetime),
    "last_changed_at": (Date, datetime | None),
    "last_verified_at": (Date, datetime | None),
    "sources": (Keyword, list[str]),
}
SUMMARY_DOC = """The one list of a program's searchable fields: the index's fields and their types, and each
item of a search's answer (the full Program rides beside it in the index, as `program`)."""  # its model's


def _as_indexed_now(doc: dict) -> dict:
    """A document of an older version of the index as indexing its program today would write it: every
    field is derived again from the stored program, so one a version added is filled, not missing (as_written_now)."""
    return to_document(as_written_now(from_document(doc)))


def _merged(docs: list[dict]) -> dict:
    """Documents a migration lands on one id as one (v16: कोमल keyed 'क-मल' and कोमल keyed 'कमल' by v15 are one key now;
    v17: كِتاب and كتاب): the programs merged as the index merges two sightings of one program (merge.merge: each
    claimant's latest claims kept, every list's union), the least recently seen first, so whichever the copy met first
    the program is the same. Refusing would leave the index at the old version, which the code indexes no batch into,
    until someone chose by hand which program to drop."""
    from functools import reduce

    from affiliate_matrix.merge import merge

    programs = sorted(map(from_document, docs), key=lambda p: (p.last_seen_at, p.model_dump_json()))
    return to_document(reduce(merge, programs))


def as_written_now(program):
    """A program stored by older code as today's writes it, what a migration does to a stored document and an import to
    a file exported before: each claim's and record's request named without the account (v15), and keyed by its name's
    words with their marks (v16), its optional marks and joiners dropped (v17: normalize.keyed_by_words_now; its id
    follows its key)."""
    from affiliate_matrix.normalize import keyed_by_words_now

    return keyed_by_words_now(accounts_unnamed(program))


def accounts_unnamed(program):
    """The program with each claim's and record's request named without the account (sources.request_named)."""
    from affiliate_matrix.sources import request_named

    for kept in [claim for claims in program.provenance.values() for claim in claims] + program.records:
        kept.url = request_named(kept.source, kept.url)
    for claim in program.provenance.get("records", []):  # its value: the records it claims, each with its url
        if isinstance(claim.value, list):  # None in a claim of v2, before claims kept their value
            claim.value = [{**record, "url": request_named(record["source"], record["url"])} for record in claim.value]
    return program


# v6: the fields of v5; on OpenSearch its text is split into words of letters and digits (search/opensearch.py), as
# on SQLite, so "Booking.com" and "Macy's" are found by their words: the v5 index holds them whole.
# v7: the fields of v6; on SQLite full-width letters and digits and the Latin letters OpenSearch's asciifolding spells
# in ASCII (ø, æ, ß, ﬁ, …) are written folded, as a query's words now are: a v6 file holds them as they came.
# v8: adds cookie_length_days, domain_words and category_words (BESIDE): a lifetime cookie meets min_cookie_days and
# ranks first by cookie, and a program is found by its domain and by the words of its categories.
# v9: the fields of v8; a text field's whole value (<field>.raw: the exact match, sort=name) folded as its words are
# (search.folded: accents off, full-width letters in ASCII), so q=cafe ranks "Café" first as q=cafe ranks "Cafe".
# Fields the index holds beside the summary, which an answer's items leave out: the full program; the cookie's
# length with a lifetime cookie (cookie_days -1) as LIFETIME_DAYS, longer than any stated one (what min_cookie_days
# bounds and sort=cookie ranks: by cookie_days, -1, a lifetime cookie met no minimum and ranked below a session's);
# the merchant's domain and its categories as text, so q=bluehost.com finds Bluehost and q=vpn finds NordVPN (of
# vpn_security): merchant_domain and categories are keywords no word of a query matched.
# v10: adds open_countries, worldwide and flat_amounts (BESIDE): country=DE finds a program that names no country (open
# to every one), and flat_currency=EUR&min_commission_flat=40 compares the amount of every flat term in EUR, not only
# the first term's currency.
# Beside those: the countries a program takes (open_countries: those it names, or WORLDWIDE when it names none, what a
# country filter matches) and whether it takes every one (worldwide: what the country facet adds to each country's
# count); every flat term as one number, its currency and amount together (flat_amounts, see flat_key).
# v11: adds epc_90d and epc_90d_currency (ProgramSummary): epc_window=90d filters, bounds and sorts by the 3-month EPC,
# so an Awin programme (which reports no other) is found and ranked by EPC.
# v12: no whole value (<field>.raw) on the embedded index for a text longer than search.RAW_IGNORE_ABOVE, as OpenSearch
# has none: a name that long sorted by its first 256 characters there and last on OpenSearch.
# v13: commission_flat_currencies and flat_amounts hold every source's flat figure (said_terms), not only the shown
# one's: flat_currency=EUR finds a program a source says pays €50 whose $55 won the vote; and match_keys (BESIDE):
# every site a program holds and every network program it is listed as, so resolution finds the indexed program a
# listing of the same merchant joins whatever the listing's name (see match_keys).
# v14: the fields of v13; text is searched in Unicode's compatibility form (search.narrowed: NFKC) on both indexes, so
# "hosting" finds "𝐇𝐨𝐬𝐭𝐢𝐧𝐠" and "ｶﾀｶﾅ" "カタカナ", and OpenSearch no longer splits "résumé" written with combining
# accents: on OpenSearch the narrowed text and whole values are indexed beside the document (opensearch.FOLDED).
# v15: the fields of v14; a claim's and a record's url, where it is a network API's request, names no account (its
# account id as ACCOUNT, sources.request_named): v14 documents name the agency's Impact SID, CJ requestor id and Awin
# publisher id to every reader until `amx index migrate programs` writes them again.
# v15 also: a word is a run of letters, marks and digits on both indexes, so "हिन्दी" is one word, not
# "ह", "न" and "द" (its vowel signs and virama cut it), and the joiners and other invisible characters written inside
# a word (ZWNJ, ZWJ, the soft hyphen) are dropped from what is searched rather than splitting it (search.narrowed).
# v16: the fields of v15; a program keyed by its name (none of its sites known) is keyed by the name's words with their
# marks (search.word_runs), as its id is: a v15 document of a name in another script whose marks split its words (कोमल
# as 'क-मल') is moved to its new key and id by `amx index migrate programs` (normalize.keyed_by_words_now).
# v17: the fields of v16; a word is written without its optional marks (Arabic harakat and tatweel, Hebrew niqqud and
# cantillation) and the joiners inside it (search.unwritten), in what both indexes search and in a name's key: a v16
# program keyed 'كِتاب' or 'کتاب-فروشی' moves to 'كتاب' or 'کتابفروشی', merged with one keyed so (_merged).
# v18: the fields of v17; a run of a script written without spaces (Thai, Lao, Khmer, Myanmar, Chinese, Japanese) is
# searched as its overlapping pairs of characters on both indexes (search.paired), so "楽天" and "市場" find "楽天市場"
# and "ไทย" "ภาษาไทย": v17 documents hold each run as one word until `amx index migrate programs` writes them again.
# v19: the fields of v18; a run's last character is written after its pairs (search.paired), so every character of a run
# begins a term and "楽" alone finds "楽天市場" (search.lone): v18 documents lack it until the migration writes them again.
# v20: the fields of v19; a zero-width space is dropped from a word as the other invisible characters are
# (search.unwritten), no longer a break: sources' text holds none (models.clean_text), so the migration writes the same
# words again, under the version a query without the break is searched by.
# v21: adds average_payment_days and deeplinks (ProgramSummary): max_payment_days=30 lists the programs paid within 30
# days on average, deeplinks=allowed those whose networks allow deep links (a facet too).
# v22: the fields of v21; category_words holds each category's names in shoppers' languages besides its key
# (taxonomy.CATEGORY_NAMES: "Schuhe" and "chaussures" find apparel programs), and the index is stemmed
# (IndexSpec.stemmed: "hosts" finds "hosting", search.document_stems): `amx index migrate programs` writes both.
BESIDE = {"program": "stored", "cookie_length_days": Number, "domain_words": Text, "category_words": Text,
          "open_countries": Keyword, "worldwide": "bool", "flat_amounts": Number, "match_keys": Keyword}
PROGRAMS_INDEX = IndexSpec("programs", 22, {**{name: kind for name, (kind, *_) in SUMMARY.items()}, **BESIDE},
                           upgrade=_as_indexed_now, combine=_merged, stemmed=True)

WORLDWIDE = "worldwide"  # open_countries of a program that names no country: a source listing none restricts none
WORLDWIDE_SHOWN = "Open to every country"  # how the explorer's country facet and the CLI's --country say it
# Programs a search lists unless it asks for a status: those open to join (closed_suspected and removed are over).
OPEN_STATUSES = ["active", "discovered"]
FLAT_SPAN = 10**9  # flat_key: an amount is below this (a larger one counts as FLAT_SPAN - 1: past any minimum asked)


def flat_key(currency: str, amount: float) -> float:
    """A flat term's currency and amount as one number, so that one range finds a term in that currency of at least
    an amount: the currency's three letters as a number (base 26) times FLAT_SPAN, plus the amount. Under 2**44,
    where a double still tells amounts a thousandth apart."""
    if not re.fullmatch("[A-Z]{3}", currency):
        raise InvalidInput(f"flat_currency {currency[:20]!r} is not a currency code (ISO 4217, as EUR)")
    a, b, c = (ord(letter) - ord("A") for letter in currency)
    return ((a * 26 + b) * 26 + c) * FLAT_SPAN + min(float(amount), FLAT_SPAN - 1)


def flat_minimum(currencies: list[str], minimum: float) -> list[Range]:
    """The flat_amounts ranges of a program with a flat term of at least `minimum` in one of the currencies."""
    return [Range(gte=flat_key(c, minimum), lte=flat_key(c, FLAT_SPAN - 1)) for c in dict.fromkeys(currencies)]


# What a search of the index offers, for the API, the web pages and the CLI alike.
FILTERS = {"category": "categories", "network": "networks", "country": "countries", "status": "status",
           "kind": "kind", "commission_type": "commission_types", "payout_method": "payout_methods",
           "source": "sources", "flat_currency": "commission_flat_currencies",
           "epc_currency": "epc_currency", "deeplinks": "deeplinks"}  # parameter -> field
MINIMUMS = {"min_commission_percent": "commission_percent_max", "min_commission_flat": "commission_flat_max",
            "min_cookie_days": "cookie_length_days", "min_epc": "epc_7d"}
# A maximum: a program with no figure is in none (it is not known to pay within 30 days), as it meets no minimum.
MAXIMUMS = {"max_payment_days": "average_payment_days"}
BOUNDS = {**MINIMUMS, **MAXIMUMS}  # every parameter bounding a number, what a form's number fields send
# A minimum that is an amount needs the currency it is in (no exchange rates), the filter named here (query_of refuses
# it alone): flat_currency=USD&min_commission_flat=40 lists a program with a flat term of at least $40, whichever term
# that is (flat_minimum), never one for its ¥5000; flat_currency alone lists every program paying USD. An EPC has one
# currency, so epc_currency=USD&min_epc=1.5 is "at least $1.50 a click" (the filter does it), never ¥150.
CURRENCY_OF = {"min_commission_flat": "flat_currency", "min_epc": "epc_currency"}  # minimum -> its currency filter
# commission: the best percentage first; then, by flat amount, each currency apart (in code order: there are no
# exchange rates, so $100 and ¥5000 are never compared, nor a rate with an amount). With flat_currency, by the highest
# flat term in a currency asked for (commission_sort). epc (earnings per click, an amount) likewise: each currency
# apart, in code order.
# Both adapters sort by these keys, missing values last, then by id.
SORTS = {"relevance": [], "commission": [SortKey(field="commission_percent_max", order="desc"),
                                         SortKey(field="commission_flat_currency"),
                                         SortKey(field="commission_flat_max", order="desc")],
         "cookie": [SortKey(field="cookie_length_days", order="desc")], "epc": [SortKey(field="epc_currency"),
                                                                      SortKey(field="epc_7d", order="desc")],
         "last_changed": [SortKey(field="last_changed_at", order="desc")], "name": [SortKey(field="name")]}
EXACT = ["name", "merchant", "domain_words"]  # a program named as asked (or its domain) ranks first by relevance
FACETS = ["status", "categories", "networks", "countries", "commission_types", "payout_methods",
          "commission_flat_currencies", "epc_currency", "deeplinks"]
FACET_SIZE = 20  # values of each facet in an answer
# The flat currencies a search takes at once: sort=commission ranks by each apart, a sort key (on OpenSearch a script
# run on every matching program) each; as many as the currency facet lists, which a person ticks
MAX_FLAT_CURRENCIES = FACET_SIZE
SEARCHED_AS = {"countries": "open_countries"}  # a field whose filter and facet are another's (filtering, facets_of)
# The EPC a search's epc_currency, min_epc, sort=epc and EPC currencies facet read (epc_window): over 7 days (the
# vocabulary above names its fields) or over 3 months, each an amount in its own currency.
EPC_WINDOWS = {"7d": {}, "90d": {"epc_7d": "epc_90d", "epc_currency": "epc_90d_currency"}}
LIFETIME_DAYS = 3651  # a lifetime cookie's length: past models.MAX_COOKIE_DAYS, the longest cookie stated
MAX_PAGE_SIZE = 100  # programs in one page of an answer
RESULT_WINDOW = 10_000  # how deep page-number paging reaches (page x limit); a cursor goes further


def searched(field: str, epc_window: str = "7d") -> str:
    """The index field a search reads for a field of the vocabulary: country= matches open_countries, and with
    epc_window=90d the EPC fields are the 3-month EPC's."""
    return EPC_WINDOWS[epc_window].get(field, SEARCHED_AS.get(field, field))


def filtered_field(name: str, epc_window: str = "7d") -> str:
    """The index field a filter parameter (FILTERS) matches: country= matches open_countries."""
    return searched(FILTERS[name], epc_window)


def faceted(name: str) -> bool:
    """Whether a filter parameter (FILTERS) matches a field the search counts as a facet (facets_asked)."""
    return FILTERS[name] in FACETS


def within_maximums(maximums: dict[str, float | None]) -> dict[str, Range]:
    """A search's maximums by parameter name (MAXIMUMS) as the index's ranges: at most each value."""
    return {MAXIMUMS[name]: Range(lte=value) for name, value in maximums.items() if value is not None}


def deeplink_word(allowed: bool | None) -> str | None:
    """Program.deeplinks_allowed as the index holds it and deeplinks= names it (codes.DEEPLINKS)."""
    return None if allowed is None else "allowed" if allowed else "not_allowed"


def epc_windowed(sort: list[SortKey], epc_window: str) -> list[SortKey]:
    """A sort (SORTS) with the EPC fields of epc_window's EPC: sort=epc by the 3-month EPC with epc_window=90d."""
    return [key.replaced(field=searched(key.field, epc_window)) for key in sort]


def filtering(chosen: dict[str, list], open_only: bool = True, apart: bool = False,
              epc_window: str = "7d") -> dict[str, dict[str, list]]:
    """A search's filters by parameter name (FILTERS) as the index's filters and post filters (SearchQuery's): a
    country is met by a program that names it or names none (WORLDWIDE: open to every country), and with no status
    asked a search lists only open programs (OPEN_STATUSES; status= asks for closed ones), an export (not open_only)
    every one. That default is a post filter, so the status facet counts every status in the same search: the closed
    programs a person may ask for are shown with their counts. Apart (the web explorer's), every filter of a faceted
    field is a post filter too: the same hits, and each facet counted without its own filter, what ticking one more
    of its values would add (values of one filter are alternatives), in the same search. epc_currency is the
    currency of epc_window's EPC."""
    filters = {filtered_field(name, epc_window): values for name, values in chosen.items()}
    if "open_countries" in filters:
        filters["open_countries"] = [*filters["open_countries"], WORLDWIDE]
    post_filters = {"status": OPEN_STATUSES} if open_only and "status" not in chosen else {}
    if apart:
        post_filters |= {filtered_field(name, epc_window): filters.pop(filtered_field(name, epc_window))
                         for name in chosen if faceted(name)}
    return {"filters": filters, "post_filters": post_filters}


def facets_asked(epc_window: str = "7d") -> dict:
    """How a search counts an answer's facets (FACETS, see facets_of), as SearchQuery's facets and facet_size: a value
    more than an answer shows, for open_countries' WORLDWIDE, which is no country. The EPC currencies are those of
    epc_window's EPC, what epc_currency= of each finds."""
    return {"facets": [searched(name, epc_window) for name in FACETS] + ["worldwide"], "facet_size": FACET_SIZE + 1}


def facets_of(counted: dict[str, list], epc_window: str = "7d") -> dict[str, list]:
    """An answer's facets from the index's counts of facets_asked, FACET_SIZE values each. Each country's count is what
    country= of it finds, the programs naming it and those open to every country; then, when there are any, WORLDWIDE
    counts the latter (what country=worldwide finds), past the FACET_SIZE countries and never in place of one."""
    everywhere = dict(counted.get("worldwide", [])).get(True, 0)
    facets = {name: counted[searched(name, epc_window)][:FACET_SIZE] for name in FACETS
              if searched(name, epc_window) in counted}
    if "countries" in facets:
        countries = [(c, n + everywhere) for c, n in counted["open_countries"] if c != WORLDWIDE][:FACET_SIZE]
        facets["countries"] = countries + ([(WORLDWIDE, everywhere)] if everywhere else [])
    return facets


def commission_sort(currencies: list[str] | None) -> list[SortKey]:
    """sort=commission (SORTS); with flat currencies asked, the flat amount that ranks a program is its highest flat
    term in each of them (in code order), not the first term's: one paying $10 or €80 ranks as €80 in euros."""
    if not currencies:
        return SORTS["commission"]
    return [SORTS["commission"][0], *(SortKey(field="flat_amounts", order="desc", within=Range(
        gte=flat_key(c, 0), lte=flat_key(c, FLAT_SPAN - 1))) for c in sorted(set(currencies)))]


def open_countries(program: "Program") -> list[str]:
    """The countries a program takes: those it names and does not exclude; naming none, every one it does not exclude,
    WORLDWIDE when it excludes none either."""
    excluded = set(program.excluded_countries)
    if program.countries:
        return sorted(set(program.countries) - excluded)
    if excluded:
        from affiliate_matrix.codes import COUNTRIES

        return sorted(COUNTRIES - excluded)
    return [WORLDWIDE]


def cookie_length(days: int | None) -> int | None:
    """A cookie's length as it is bounded, sorted and compared: a lifetime cookie (cookie_days -1) as LIFETIME_DAYS."""
    return LIFETIME_DAYS if days == -1 else days


def said_terms(program: "Program") -> list:
    """The commission terms shown and those every source says now (its current claims, an outvoted figure too): a
    program a directory says pays €50 pays in euros, though two others' $55 is the figure shown, so flat_currency=EUR
    and min_commission_flat find it by that figure (commission_flat_currencies, flat_amounts)."""
    from affiliate_matrix.models import CommissionTerm

    claimed = [term for claim in program.provenance.get("commission", []) for term in claim.value or []]
    return [*program.commission, *map(CommissionTerm.model_validate, claimed)]


def to_document(program: "Program") -> dict:
    def top(tier):
        return tier.value_max if tier.value_max is not None else tier.value_min

    def best(kind, currency=None):
        """The highest tier of `kind` (of flat ones, in `currency` only: there are no exchange rates)."""
        tiers = [t for t in program.commission if t.type == kind and t.currency == currency]
        return max(tiers, key=top) if tiers else None

    currencies = [t.currency for t in program.commission if t.type == "flat"]
    percent, flat = best("percent"), best("flat", currencies[0]) if currencies else None  # the first stated
    said = [t for t in said_terms(program) if t.type == "flat"]
    from affiliate_matrix.taxonomy import category_words

    return {
        "id": program.id,
        "name": program.name,
        "merchant": program.merchant,
        "description": program.description,
        "merchant_key": program.merchant_key,
        "merchant_domain": program.merchant_domain,
        "domain_words": program.merchant_domain,
        "category_words": category_words(program.categories),  # keys and their names in shoppers' languages (v22)
        "kind": program.kind,
        "status": program.status,
        "categories": program.categories,
        "networks": sorted({n.network for n in program.networks}),
        "countries": program.countries,
        "open_countries": open_countries(program),
        "worldwide": not program.countries and not program.excluded_countries,
        "commission_types": sorted({t.type for t in program.commission}),
        "commission_percent_max": float(top(percent)) if percent else None,
        "commission_flat_max": float(top(flat)) if flat else None,
        "commission_flat_currency": flat.currency if flat else None,
        "commission_flat_currencies": sorted({t.currency for t in said}),
        "flat_amounts": sorted({flat_key(t.currency, top(t)) for t in said}),
        "cookie_days": program.cookie_days,
        "cookie_length_days": cookie_length(program.cookie_days),
        "payout_methods": program.payout.methods,
        "quality_score": program.quality_score,
        "epc_7d": float(program.epc_7d.amount) if program.epc_7d else None,
        "epc_currency": program.epc_7d.currency if program.epc_7d else None,
        "epc_90d": float(program.epc_90d.amount) if program.epc_90d else None,
        "epc_90d_currency": program.epc_90d.currency if program.epc_90d else None,
        "average_payment_days": float(program.average_payment_days) if program.average_payment_days is not None
        else None,
        "deeplinks": deeplink_word(program.deeplinks_allowed),
        "first_seen_at": program.first_seen_at.isoformat(),
        "last_seen_at": program.last_seen_at.isoformat(),
        "last_changed_at": program.last_changed_at.isoformat() if program.last_changed_at else None,
        "last_verified_at": program.last_verified_at.isoformat() if program.last_verified_at else None,
        "sources": sorted({claim.source for claims in program.provenance.values() for claim in claims}),
        "match_keys": match_keys(program),
        "program": program.model_dump(mode="json"),
    }


MAX_MATCH_KEY = 300  # a longer key (a network program id of kilobytes) is no real one; OpenSearch refuses a term > 32 KB


def match_keys(program: "Program") -> list[str]:
    """The keys a listing of the same merchant finds the program by in the index, whatever its name: each site it holds
    (`d:<registrable domain>`) and each network program it is listed as (`i:<network>:<program id>`), resolution's
    decisive evidence (resolve.match_strength)."""
    sites = {program.merchant_domain, *program.domains} - {None}
    keys = {f"d:{site}" for site in sites} | {f"i:{listed}" for listed in network_programs(program)}
    return sorted(key for key in keys if len(key) <= MAX_MATCH_KEY)


def network_programs(program: "Program") -> tuple[str, ...]:
    """Each network program the program is listed as, `<network>:<program id>` (awin:1234), in its listings' order:
    the one spelling of resolution's network ids (pipeline.candidate) and of the `i:` match keys the index holds."""
    return tuple(f"{n.network}:{n.program_id}" for n in program.networks if n.program_id)


# What to do about a program of the index not of its shape: indexing refuses to merge a sighting into it (the records
# are kept in errors/index/ for a replay), so it stays as it is until someone deletes it
DAMAGED_PROGRAM = "delete it from the index, then index its sources again"


def from_document(doc: dict) -> "Program":
    """The Program a document of the index holds; DamagedData naming its id where it holds none (a hand edit, a build
    that checked less): a program that is no object, a field of the wrong shape. Raised as pydantic's or Python's own
    errors, each caller met a raw AttributeError, TypeError or ValidationError."""
    from pydantic import ValidationError

    from affiliate_matrix.models import MAX_COOKIE_DAYS, Program

    stored = doc.get("program") if isinstance(doc, dict) else None
    if not isinstance(stored, dict):
        raise DamagedData(damaged_name(doc), "its program is not an object", DAMAGED_PROGRAM)
    cookie = stored.get("cookie_days")
    if isinstance(cookie, int) and cookie > MAX_COOKIE_DAYS:  # stored before the bound: read as not known
        stored = {**stored, "cookie_days": None}
    try:
        return Program.model_validate(stored)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"]))[:200]  # a key may be hostile: named, cut, never its value
        raise DamagedData(damaged_name(doc), f"{where}: {first['msg'].removeprefix('Value error, ')}" if where
                          else first["msg"], DAMAGED_PROGRAM) from None


def summary_field(doc: dict, name: str, fits: Callable[[object], bool]):
    """Summary field `name` of a document of the index as it holds it or, where that is not of its shape (`fits`: a
    hand edit, an older build's writing, which the index's mapping took: a keyword field takes a list), as indexing
    derives it from the document's program (to_document), the truth the summary is made from. DamagedData naming it
    (from_document) when its program is damaged too."""
    value = doc.get(name)
    return value if fits(value) else to_document(from_document(doc))[name]


def damaged_name(doc) -> str:
    return f"program {str(doc.get('id') if isinstance(doc, dict) else None)[:100]}"


def programs_of(docs: Iterable[dict], damaged: list[dict] | None = None) -> Iterator["Program"]:
    """The Programs of documents of the index, one not of a Program's shape left out: logged by its id (never its
    content; log_damaged) and added to `damaged` as {"key", "error"}, every one, as a list's reader
    leaves a damaged document out (documents.readable, handlers/routes.of_shape)."""
    for read in programs_read(docs):
        if not isinstance(read, DamagedData):
            yield read
        elif damaged is not None:
            damaged.append({"key": read.where.removeprefix("program "), "error": str(read)})


def programs_read(docs: Iterable[dict]) -> Iterator["Program | DamagedData"]:
    """For each document of the index, in order, its Program or the DamagedData naming it (from_document), a damaged
    one logged by its id (observability.log_damaged: a bounded number of lines a request)."""
    from affiliate_matrix.observability import log_damaged

    for doc in docs:
        try:
            read = from_document(doc)
        except DamagedData as exc:
            read = exc
            log_damaged(exc.where.removeprefix("program "), str(exc))
        yield read


# How many programs a network, first seen first, network_titles_of reads for the titles of a page's networks (most
# programs on a network title it), TITLES_READ at most in the first search: one search however many networks a facet
# holds (up to 20), small where they are few. A network none of those titles (its programs all first seen after
# another network's many) is asked for alone, TITLES_EACH of its own (20 networks at most); one no program titles
# (indexed before titles were kept) keeps its key.
TITLES_EACH, TITLES_READ = 5, 100


def networks_named(index, text: str | None) -> list[str]:
    """The networks of the index that a search's words name, the whole of them or one word ('ClickBank', 'cj
    hosting'): networks are a filter, not words a program holds, so such a search finds nothing where the filter
    finds them. For a search that found nothing to say so (amx search, the explorer); one facet count, no more."""
    from affiliate_matrix.search import SearchQuery
    from affiliate_matrix.taxonomy import network_name

    named = [network_name(said) for said in (text or "", *(text or "").split())]
    if not any(named):
        return []
    held = index.search(PROGRAMS_INDEX.name, SearchQuery(facets=["networks"], facet_size=200, size=0)).facets
    indexed = {value for value, _ in held.get("networks", [])}
    return [network for network in dict.fromkeys(named) if network in indexed]


def network_titles_of(index, networks: Iterable[str]) -> dict[str, str]:
    """The name each of `networks` that neither a plugin nor the taxonomy names was written as (a listing's title:
    'MyAffiliateNet' for myaffiliatenet), as the program first seen titling it holds it, for a facet or a list that
    names networks by the index's key alone. One search for all of those, none when every one is named, then one for
    each the first left untitled; a network no program titles is absent, shown as its key. The listings are read as
    stored, not as whole programs: a name to show, where a damaged one's is skipped."""
    from affiliate_matrix.sources import network_titles

    unnamed = [network for network in dict.fromkeys(networks)
               if isinstance(network, str) and network not in network_titles()]
    titles: dict[str, str] = {}
    if unnamed:
        _titles_read(index, unnamed, min(TITLES_EACH * len(unnamed), TITLES_READ), titles)
    left = [network for network in unnamed if network not in titles] if len(unnamed) > 1 else []
    for network in left[:TITLES_READ // TITLES_EACH]:  # no more programs read than the first search may
        _titles_read(index, [network], TITLES_EACH, titles)
    return titles


def _titles_read(index, networks: list[str], size: int, titles: dict[str, str]) -> None:
    """Into `titles`, the first title of each of `networks` that the `size` programs listed on them first seen hold."""
    from affiliate_matrix.taxonomy import MAX_NETWORK_TITLE

    found = index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"networks": networks}, size=size,
                                                          sort=[SortKey("first_seen_at"), SortKey("id")]))
    wanted = set(networks)
    for hit in found.hits:
        stored = hit.doc.get("program") if isinstance(hit.doc, dict) else None  # the program as stored (from_document)
        listings = stored.get("networks") if isinstance(stored, dict) else None
        for listing in listings if isinstance(listings, list) else []:
            if isinstance(listing, dict) and listing.get("network") in wanted and isinstance(listing.get("title"), str) \
                    and listing["title"]:
                titles.setdefault(listing["network"], listing["title"][:MAX_NETWORK_TITLE])


def program_names(index, program_ids: Iterable[str], damaged: list[dict]) -> dict[str, str]:
    """The names of the programs of `program_ids` the programs index holds, by id (a change names its program by id:
    the change feed's page and `amx changes` show its name); one not of its shape has none here, its id added to
    `damaged` (programs_of), so its name is shown as not known and the damage named as a list names it."""
    docs = index.get_many(PROGRAMS_INDEX.name, list(dict.fromkeys(program_ids)))
    return {program.id: program.name for program in programs_of(docs.values(), damaged)}
