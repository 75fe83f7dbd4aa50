"""A search's query string checked without building its model at a start (program_params.SearchParams: ~30 fields,
which cost a cold start's first search ~17 M instructions to define and build). Values that are plainly right, as
nearly all are (ASCII words, a sort, codes from the closed lists, page numbers and minimums in digits), become the
search's parameters here; a query string with any other value is checked by the model, which gives the same
parameters or refuses with its own message. So the answers and the 400s are the model's, and the model writes the
OpenAPI document (tests/unit/test_search_params.py holds the fast path to it)."""

from functools import cache
from types import SimpleNamespace

from pydantic import ValidationError

from affiliate_matrix.errors import InvalidInput

from affiliate_matrix.handlers.program_shapes import CURSOR_MAX_LENGTH, WORDS_MAX_LENGTH, plain_words
from affiliate_matrix.handlers.routes import problem
from affiliate_matrix.program_index import (BOUNDS, EPC_WINDOWS, FILTERS, MAX_FLAT_CURRENCIES, MAX_PAGE_SIZE,
                                            RESULT_WINDOW, SORTS, WORLDWIDE)

DEFAULTS = {"q": None, "sort": "relevance", "epc_window": "7d", **dict.fromkeys(FILTERS), **dict.fromkeys(BOUNDS),
            "limit": 20, "page": None, "cursor": None}  # SearchParams' fields, in its order, with its defaults


@cache
def closed() -> dict[str, frozenset]:
    """The filters whose values this takes when each is one of a closed list, as the model's CHOICES take them; the
    others (network, source) are named by values the model normalises (ＣＪ is cj), so they are left to it. Made by the
    first search with a filter: the lists cost a start ~0.6 M instructions."""
    from affiliate_matrix.codes import (CATEGORIES, COMMISSION_TYPES, COUNTRIES, CURRENCIES, DEEPLINKS, KINDS,
                                        PAYOUT_METHODS, STATUSES)

    return {"status": frozenset(STATUSES), "category": frozenset(CATEGORIES), "kind": frozenset(KINDS),
            "commission_type": frozenset(COMMISSION_TYPES), "payout_method": frozenset(PAYOUT_METHODS),
            "flat_currency": CURRENCIES, "epc_currency": CURRENCIES, "country": COUNTRIES | {WORLDWIDE},
            "deeplinks": frozenset(DEEPLINKS)}


def _whole(value: str, low: int, high: int) -> int | None:
    """A whole number in ASCII digits within [low, high] (routes.whole's rule), else None."""
    return int(value) if value.isdigit() and len(value) <= 30 and low <= int(value) <= high else None


def _plain(name: str, value: str):
    """The value of a single-valued parameter as SearchParams gives it, or None where the model must judge it."""
    if name == "q":
        try:
            return plain_words(value) if len(value) <= WORDS_MAX_LENGTH else None
        except ValueError:  # query syntax, no words or too many: the model's message says which
            return None
    if name == "cursor":
        return value if len(value) <= CURSOR_MAX_LENGTH else None
    if name == "sort":
        return value if value in SORTS else None
    if name == "epc_window":
        return value if value in EPC_WINDOWS else None
    if name == "limit":
        return _whole(value, 1, MAX_PAGE_SIZE)
    if name == "page":
        return _whole(value, 1, RESULT_WINDOW)
    whole, point, fraction = value.partition(".")  # a bound: digits, or digits with a decimal part ("2.5")
    if whole.isdigit() and len(value) <= 30 and (not point or fraction.isdigit()):
        return float(value)
    return None


def fast(values: dict):
    """The search's parameters from query-string values (a str, or a list of them for a filter) when every value is
    plainly right, else None (the model judges them)."""
    if not all(isinstance(v, str) and v.isascii() for value in values.values()
               for v in (value if isinstance(value, list) else [value])):
        return None
    checked = {}
    for name, value in values.items():
        if name in FILTERS:
            allowed = closed().get(name)
            if allowed is None or not isinstance(value, list) or not allowed.issuperset(value) or (
                    name == "flat_currency" and len(value) > MAX_FLAT_CURRENCIES):  # the model's bound (MAX_LISTED)
                return None
            checked[name] = value
        elif name in DEFAULTS and isinstance(value, str) and (plain := _plain(name, value)) is not None:
            checked[name] = plain
        else:
            return None
    params = SimpleNamespace(**{**DEFAULTS, **checked}, model_fields_set=set(checked))
    if params.page is not None and (params.cursor is not None or params.page * params.limit > RESULT_WINDOW):
        return None  # the model's own check of its paging refuses it
    return params


class SearchParameters:
    """What the search route checks its query string with (routes.parameters): its fields (list-valued filters) as
    SearchParams', values checked by `fast` or else by the model; in the OpenAPI document, the model itself."""

    model_fields = dict.fromkeys(DEFAULTS, SimpleNamespace(annotation=str | None)) | dict.fromkeys(
        FILTERS, SimpleNamespace(annotation=list[str] | None))

    @staticmethod
    def model_validate(values: dict):
        params = fast(values)
        return params if params is not None else model().model_validate(values)

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):  # the document's schema: the model's
        return handler(model())


def model():
    from affiliate_matrix.handlers.program_params import SearchParams

    return SearchParams


def checked_filter(name: str, values: list[str]) -> list[str]:
    """A filter's values checked and read as the API's search checks and reads them (the web pages' ticked
    boxes and the query log's keys are; the CLI's options are checked with the whole search, cli.views.search_query):
    InvalidInput naming it."""
    params = fast({name: values})
    if params is None:
        try:
            params = model().model_validate({name: values})
        except ValidationError as exc:
            raise problem(exc, query=True) from None
    return getattr(params, name)


def as_searched(name: str, values: list[str]) -> list[str]:
    """A query parameter's values as the search reads them, for the query log's and the facet snapshots' key
    (query_log.query_of): a filter's checked (checked_filter), as typed when the search refuses them (it did too: the
    query is logged as asked) or the parameter is no filter."""
    if name not in FILTERS:
        return values
    try:
        return checked_filter(name, values)
    except InvalidInput:
        return values
