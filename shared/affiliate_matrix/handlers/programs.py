"""programs: the master index over HTTP.

GET /programs            search, filters, facets, sort, cursor or page pagination
GET /programs/{id}       one program with the provenance of every field
GET /programs/export     the index or a search's result, streamed: format=csv|jsonl|parquet, excel=true for a
                         CSV Excel reads (a HEAD asks the search's first page, so it answers a GET's status and
                         headers, and builds no file)
GET /changes             the change feed
GET /merchants?q=        merchants, with their programs' networks
GET /merchants/{key}     one merchant across every network and directory, side by side
GET /openapi.json, GET /healthz   (no token needed)

Every other route needs a bearer token with the read role. Responses carry an ETag derived
from the index generation and the request, so an unchanged answer is a 304; hot queries are
served from an in-process cache that the next index generation invalidates.
"""

import hashlib
import itertools
import threading
import time
from functools import cache

from affiliate_matrix import flags, query_log
from affiliate_matrix.deltas import DELTAS_INDEX, feed_item
from affiliate_matrix.errors import InvalidInput, NotFoundError
from affiliate_matrix.handlers import serve
from affiliate_matrix.handlers.program_shapes import (
    change_item, changes_answer, merchant_answer, merchants_answer, program_answer, program_page,
)
from affiliate_matrix.handlers.answer_cache import AnswerCache
from affiliate_matrix.handlers.preconditions import if_none_match
from affiliate_matrix.handlers.routes import Api, Route, counted, of_shape, parameters
from affiliate_matrix.handlers.search_params import SearchParameters
from affiliate_matrix.runtime import after_answer
from affiliate_matrix.program_index import (BESIDE, BOUNDS, CURRENCY_OF, EXACT, FILTERS, LIFETIME_DAYS, MAXIMUMS,
                                            MINIMUMS, PROGRAMS_INDEX, SORTS, commission_sort, epc_windowed, faceted,
                                            facets_asked, facets_of, filtering, flat_minimum, from_document,
                                            is_program_id, searched, within_maximums)
from affiliate_matrix.search import Range, SearchQuery, SortKey

answers = AnswerCache(size=512)  # answers by ETag, shared by the request threads and the warm-up thread


def handle(rt, request):
    return serve(rt, request, lambda r: _routed(rt, r))


def _routed(rt, request):
    """The indexes made sure of inside serve: a backend that fails there (overloaded, unreachable) is answered as
    any request's failure is (a 503 with Retry-After), and /healthz does not wait on it."""
    _ensure_indexes(rt)
    return api().route(rt, request)


@cache
def api() -> Api:
    """The table, built on the first request."""
    return Api("Affiliate Matrix programs API", [
        # A search's answer is checked against its model by the tests (tests/support/indexing.py, the schema's), not
        # by each request: building the page's model cost a cold start's first search ~6 M instructions. Its items,
        # the index's summary fields, are each checked (summaries): a document edited by hand is one of the index's.
        Route("GET", "/programs", search_route, program_page, SearchParameters, summary="Search programs",
              checked=False, statuses=(304,), headers=("ETag", "X-Damaged-Items")),
        Route("GET", "/programs/export", lambda call: export_with(call.rt, call.params, call.request.method == "HEAD"),
              params=export_params, headers=("Content-Disposition", "X-Damaged-Items"),
              summary="The index, or a search's result, streamed as a file (a HEAD answers a GET's status and "
                      "headers from the search's first page, and builds no file)",
              media={"text/csv": {"type": "string"}, "application/x-ndjson": {"type": "string"},
                     "application/vnd.apache.parquet": {"type": "string", "format": "binary"}}),
        Route("GET", "/programs/{program_id}", program_route, program_answer, program_id_params,
              summary="One program with per-field provenance; a permanent redirect (308, Location) to the program's "
                      "id now when its id moved (a migration or an import gave it another)",
              statuses=(304, 308), headers=("ETag",)),
        Route("GET", "/changes", changes_route, changes_answer, changes_params,
              summary="What changed, newest first (a program's changes under the ids it had before its id moved too)",
              statuses=(304,), headers=("ETag", "X-Damaged-Items")),
        Route("GET", "/merchants", merchants_route, merchants_answer, merchants_params,
              summary="Merchants whose programs match q", statuses=(304,), headers=("ETag", "X-Damaged-Items")),
        Route("GET", "/merchants/{merchant_key}", merchant_route, merchant_answer, merchant_key_params,
              summary="One merchant's programs and offers side by side, per source", statuses=(304,),
              headers=("ETag", "X-Damaged-Items")),
    ])


# The parameters of the routes a first search does not use (program_params.py), each built by its route's first use.
def export_params():
    from affiliate_matrix.handlers.program_params import ExportParams

    return ExportParams


def changes_params():
    from affiliate_matrix.handlers.program_params import ChangesParams

    return ChangesParams


def merchants_params():
    from affiliate_matrix.handlers.program_params import MerchantsParams

    return MerchantsParams


def program_id_params():
    from affiliate_matrix.handlers.program_params import ProgramId

    return ProgramId


def merchant_key_params():
    from affiliate_matrix.handlers.program_params import MerchantKey

    return MerchantKey


@cache
def _ensure_indexes(rt) -> None:
    """Before the first run the indexes do not exist yet: that is an empty index, not an error."""
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)


def search_route(call):
    started = time.perf_counter()
    body, headers = cached_body(call.rt, call.request, PROGRAMS_INDEX.name,
                                lambda: search_with(call.rt, call.params, call.request.args),
                                ("quality_ranking",) if quality_ranking_applies(call.params) else ())
    total = None if body is None else body["total"]
    recorder(call.rt).record(call.request.path, call.request.args, (time.perf_counter() - started) * 1000, total, 200)
    return respond(body, counted(body, headers))  # a damaged program left out: named in the body, counted in a header


def changes_route(call):
    body, headers = cached_body(call.rt, call.request, DELTAS_INDEX.name, lambda: changes_with(call.rt, call.params),
                                with_moves=bool(call.params.program_id))
    return respond(body, counted(body, headers))  # a damaged delta left out: named in the body, counted in a header


def merchants_route(call):
    from affiliate_matrix.merchants import merchants_after

    body, headers = cached_body(call.rt, call.request, PROGRAMS_INDEX.name, lambda: merchants_with(
        call.rt, call.params, merchants_after(call.params.cursor, call.params.q)))
    return respond(body, counted(body, headers))


def merchant_route(call):
    body, headers = cached_body(call.rt, call.request, PROGRAMS_INDEX.name,
                                lambda: merchant_of(call.rt, call.params.merchant_key))
    return respond(body, counted(body, headers))


def merchant_of(rt, merchant_key: str) -> dict:
    """One merchant's view (merchants.merchant_view), a program of it not of a Program's shape left out and named."""
    from affiliate_matrix.merchants import merchant_view
    from affiliate_matrix.models import Program

    damaged: list[dict] = []
    try:
        view = merchant_view(rt.index, merchant_key,
                             readable=lambda docs: of_shape(docs, Program, "program", damaged, made=from_document))
    except NotFoundError as exc:  # a name given for a key ('bluehost'): what a key is, and the merchants it may mean
        from affiliate_matrix.handlers.program_params import A_MERCHANT_KEY_IS

        like = merchants_like(rt.index, merchant_key, lead="; the merchants its words match: ")
        raise NotFoundError(f"{exc}: {A_MERCHANT_KEY_IS}{like}") from None
    return with_errors(view, damaged)


MERCHANTS_HINTED = 5  # the merchants a hint names at most (amx compare, amx show, GET /merchants/{key})


def merchants_like(index, typed: str, lead: str = "; try: ") -> str:
    """The merchants whose programs match what was typed for a merchant's key (its name, "Bluehost", or a URL,
    "https://www.bluehost.com/"), as "; try: KEY (NAME: N matching programs, on NETWORKS), …", so a user finds the key
    compare takes, and which of two alike merchants it means, in what the names search found (its counts and
    networks, as the Merchants page shows them). `lead`: what comes before the keys (`amx show` says what they are
    for)."""
    from urllib.parse import urlsplit

    from affiliate_matrix.merchants import find_merchants
    from affiliate_matrix.wording import counted as so_many  # (routes.counted counts an answer's items)

    words = urlsplit(typed).hostname or typed if "://" in typed else typed
    if not words.strip():  # the names search lists every merchant for no words: none matches a blank
        return ""
    try:
        found = find_merchants(index, words.removeprefix("www."), limit=MERCHANTS_HINTED,
                               readable=lambda docs: summaries(docs, []))  # a hint: a damaged one unsaid
    except (InvalidInput, ValueError):  # no words to search for, too many, a text longer than a search takes
        return ""
    hinted = [f"{m['merchant_key']} ({m['merchant']}: {so_many(m['programs'], 'matching program')}"
              + (f", on {', '.join(m['network_titles'].values())})" if m["networks"] else ")")
              for m in found["items"]]
    more = f", and more (the first {MERCHANTS_HINTED} named)" if found["more"] else ""
    return lead + ", ".join(hinted) + more if hinted else ""


def with_errors(body: dict, damaged: list[dict]) -> dict:
    """An answer with what it left out as damaged named in `errors`, each document once, however often it was read."""
    once = list({bad["key"]: bad for bad in damaged}.values())
    return {**body, "errors": once} if once else body


def program_route(call):
    try:
        return _cached(call, PROGRAMS_INDEX, lambda: program(call.rt, call.params.program_id))
    except NotFoundError:
        return moved_program(call.rt, call.request, call.params.program_id)


def moved_program(rt, request, program_id: str) -> tuple:
    """The permanent redirect (308) of a program the index does not hold to its id now, when its id moved (moves.py),
    with the same query string: a bookmark or a link to the old id finds it. Its 404 when it did not. The Location is
    this API's own path, to an id of a program's shape: never another site."""
    from affiliate_matrix.moves import moved_to

    now = moved_to(rt.index, [program_id]).get(program_id, {}).get("id")
    if not is_program_id(now):
        raise not_indexed(program_id)
    query = request.query_string.decode("latin-1")
    return "", 308, {"Location": f"{request.script_root}/programs/{now}" + (f"?{query}" if query else "")}


def _cached(call, index, answer, with_moves: bool = False):
    return cached(call.rt, call.request, index.name, answer, with_moves)


# What the code answers a request with, beside the index's generation: a new one when the code answers the same request
# otherwise, so a client's copy from before is not a 304 (q's last word began to match the start of words: 0 programs
# for q=host was kept by its ETag while the index was unchanged).
ANSWERS_FORM = "prefix"


def etag_of(generation: str, path: str, args, flagged: tuple[str, ...] = ()) -> str:
    """`flagged`: the flags that can change the answer; only those are read (a request to the store), each time."""
    on = ",".join(name for name in flagged if flags.current().on(name))
    basis = f"{generation}|{path}|{sorted(args.items(multi=True))}|{on}|{ANSWERS_FORM}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def cached(rt, request, index_name: str, answer, with_moves: bool = False):
    """Answer from the cache while the index generation is unchanged; 304 when the client has it."""
    return respond(*cached_body(rt, request, index_name, answer, with_moves=with_moves))


def cached_body(rt, request, index_name: str, answer, flagged: tuple[str, ...] = (),
                with_moves: bool = False) -> tuple[dict | None, dict]:
    """The answer's body (None when the client's copy is current) and its caching headers; `flagged`: the flags that
    can change the answer; `with_moves`: an answer that reads the records of moved ids (moves.py), whose generation
    it is kept under too."""
    generation = rt.index.generation(index_name)
    if with_moves:
        from affiliate_matrix.moves import moves_generation

        generation = f"{generation}|{moves_generation(rt.index)}"
    if index_name == PROGRAMS_INDEX.name:
        warm_after(rt, generation)
    etag = etag_of(generation, request.path, request.args, flagged)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=30"}
    condition = if_none_match(request)
    if condition is not None and condition.weakly_matches(etag[1:-1]):  # etag_of's is quoted
        return None, headers
    body = answers.get(etag)
    if body is None:
        body = answer()  # NotFoundError (404) when what the address names does not exist
        answers.put(etag, body)
    if condition is not None and condition.any:  # If-None-Match: * and it exists
        return None, headers
    return body, headers


def respond(body: dict | None, headers: dict):
    """What the dispatcher sends: the answer (checked against its model there), or a 304."""
    return ("", 304, headers) if body is None else (body, 200, headers)


def warm_after(rt, generation: str) -> None:
    """Once per index generation, replay the analysis' warm list into the cache, off the request path."""
    if not answers.claim_warm_up(generation):
        return
    import structlog

    from affiliate_matrix.observability import bind_request

    logged_as = structlog.contextvars.get_contextvars()  # the request's: a thread of its own starts with no context

    def warm():
        from urllib.parse import parse_qsl, urlsplit

        from werkzeug.datastructures import MultiDict

        bind_request(**logged_as)  # its lines name the request it follows, counted on their own (log_damaged)
        flags.bind(dict, None)  # the answer a caller with no flag on would get
        for query in query_log.warm_list(rt.store):
            parts = urlsplit(query)
            if parts.path != "/programs":
                continue
            args = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
            try:  # no flag on: whichever can change the answer, the ETag names none
                answers.put(etag_of(generation, parts.path, args), search(rt, args))
            except Exception:  # a stale entry (a parameter since renamed) must not stop the others
                continue

    # Started once the answer is sent: the first request after a cold start does not share the GIL with it.
    after_answer(threading.Thread(target=warm, daemon=True).start)


@cache
def recorder(rt):
    from affiliate_matrix.handlers.search_params import as_searched

    return query_log.Recorder(rt.index, as_searched)


def program(rt, program_id: str) -> dict:
    doc = rt.index.get(PROGRAMS_INDEX.name, program_id)
    if doc is None:
        raise not_indexed(program_id)
    # a stored program not of its shape (a hand edit) was an uncaught AttributeError or ValidationError: a 500, no JSON;
    # from_document's DamagedData names it (damaged_data)
    return from_document(doc).model_dump(mode="json")


def not_indexed(program_id: str) -> NotFoundError:
    """The 404 of a program the index does not hold (the web's too, for an id no program can have)."""
    return NotFoundError(f"no program {program_id[:80]} in the index")


SEARCH_PARAMETERS = set(SearchParameters.model_fields)


def search(rt, args, apart: bool = False, terms: bool = False) -> dict:
    """A search from a query string (the web pages and the cache warmer call this); apart, each facet is counted
    without its own filter (filtering), as the web explorer shows them; with `terms`, each item has its program's
    commission terms too (`commission`), which the explorer's list says as the CLI's does (wording.terms_summary)."""
    return search_with(rt, parameters(SearchParameters, args, {}), args, apart, terms)


def quality_ranking_applies(params) -> bool:
    """Whether the quality_ranking flag orders the search: one without words or a sort of its own."""
    return not params.q and "sort" not in params.model_fields_set


def search_query(params, apart: bool = False) -> SearchQuery:
    """The query a search's parameters ask of the index, paging and facets included (its cursor's fingerprint too)."""
    query = query_of(params, apart=apart).replaced(size=params.limit, offset=((params.page or 1) - 1) * params.limit,
                                                   cursor=params.cursor, **facets_asked(params.epc_window))
    if quality_ranking_applies(params) and flags.current().on("quality_ranking"):
        query = query.replaced(sort=[SortKey(field="quality_score", order="desc")])
    return query


def search_with(rt, params, args, apart: bool = False, terms: bool = False, query: SearchQuery | None = None,
                view_gone: bool = False) -> dict:
    """One page of the search `params` ask; `query`: its search_query(params, apart), where the caller built it
    already (the programs page, which checks its earlier pages' cursors against it); `view_gone`: with whether its
    cursor's view was gone (SearchResult.view_gone), which the programs page says."""
    query = query if query is not None else search_query(params, apart)
    # the analysis' snapshots count each facet under every filter: not apart from its own
    counted_apart = apart and any(faceted(name) for name in FILTERS if getattr(params, name))
    snapshot = facet_snapshot(rt, args) if not query.text and not query.ranges and not counted_apart else None
    if snapshot is not None:  # the analysis counted these facets for this generation already
        query = query.replaced(facets=[])
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    if snapshot is None:
        facets = {name: [[v, n] for v, n in buckets]
                  for name, buckets in facets_of(result.facets, params.epc_window).items()}
    else:
        facets = snapshot
    damaged: list[dict] = []
    docs = [hit.doc for hit in result.hits]
    items = summaries(docs, damaged)
    if terms:  # a summary holds a commission's highest figures only: "USD 130 flat" of terms of 65 to 130 USD
        commission = {doc.get("id"): (doc.get("program") or {}).get("commission") for doc in docs}
        items = [{**item, "commission": commission.get(item["id"])} for item in items]
    return with_errors({
        "total": result.total,
        "items": items,
        "facets": {name: [{"value": v, "count": n} for v, n in buckets] for name, buckets in facets.items()},
        "next_cursor": result.next_cursor,
        **({"view_gone": result.view_gone} if view_gone else {}),
    }, damaged)


def summaries(docs: list[dict], damaged: list[dict]) -> list[dict]:
    """A search's items: the summary fields of the programs found, those of a document not of its shape (a hand edit)
    left out and named in `damaged` (routes.of_shape), as the other lists leave one out. Its model is built by the
    first search that finds a program, not by a start or a search of an empty index (program_page.py)."""
    if not docs:
        return []
    from affiliate_matrix.handlers.program_page import ProgramSummary

    return of_shape(docs, ProgramSummary, "program", damaged,
                    made=lambda doc: {k: v for k, v in doc.items() if k not in BESIDE})


def facet_snapshot(rt, args) -> dict | None:
    from affiliate_matrix import analytics
    from affiliate_matrix.handlers.search_params import as_searched

    key = analytics.filter_set(query_log.query_of("/programs", args, as_searched))
    if key is None:
        return None
    return analytics.facet_snapshot(rt.store, rt.index.generation(PROGRAMS_INDEX.name), key)


def query_of(params, open_only: bool = True, apart: bool = False) -> SearchQuery:
    """The words, filters, minimums, maximums and sort of a search (paging is the caller's): filters as filtering makes
    them (open programs only unless a status is asked, or not open_only; apart, each of a faceted field a post filter),
    a flat minimum met by a flat term in one of the currencies asked (flat_minimum; amounts in different currencies are
    not comparable, so a minimum that is an amount without its currency is refused: CURRENCY_OF), sort=commission with
    them ranked by the flat terms in them (commission_sort); epc_currency, min_epc and sort=epc of epc_window's EPC.
    The last word also matches the start of words (prefix: q=host finds Hostinger), as a page's search is typed and
    the merchants search matches; its export lists what the search shows."""
    priced_minimums(params)
    chosen = {name: getattr(params, name) for name in FILTERS if getattr(params, name) is not None}
    minimums = {searched(field, params.epc_window): getattr(params, name) for name, field in MINIMUMS.items()
                if getattr(params, name) is not None}
    if "cookie_length_days" in minimums:  # a minimum past every stated cookie is still met by a lifetime one
        minimums["cookie_length_days"] = min(minimums["cookie_length_days"], LIFETIME_DAYS)
    ranges = {field: Range(gte=minimum) for field, minimum in minimums.items()}
    ranges |= within_maximums({name: getattr(params, name) for name in MAXIMUMS})
    if params.min_commission_flat is not None:
        ranges["flat_amounts"] = flat_minimum(params.flat_currency, ranges.pop("commission_flat_max").gte)
    sort = commission_sort(params.flat_currency) if params.sort == "commission" else SORTS[params.sort]
    return SearchQuery(text=params.q, sort=epc_windowed(sort, params.epc_window), exact=EXACT, prefix=True,
                       ranges=ranges, paged=True, **filtering(chosen, open_only, apart, params.epc_window))


def priced_minimums(params, named=lambda name: name, example: str = "{currency}=USD&{minimum}=...") -> None:
    """A minimum that is an amount given without its currency (CURRENCY_OF) refused: amounts in different currencies
    are not comparable. `named` and `example` say the parameters as the asker writes them (by default a query
    string's; a command's options, formatted with the minimum's `value` too)."""
    for minimum, currency in CURRENCY_OF.items():
        if (value := getattr(params, minimum)) is not None and not getattr(params, currency):
            from decimal import Decimal

            digits = format(Decimal(repr(value)).normalize(), "f")  # as typed: 40 and 0.000001, not 40.0 and 1e-06
            shown = example.format(minimum=named(minimum), currency=named(currency), value=digits)
            raise InvalidInput(f"{named(minimum)} needs {named(currency)} (as {shown}): amounts in different "
                               "currencies are not comparable, there are no exchange rates")


def export(rt, args, head: bool = False):
    """The whole index, or a search's result, streamed (the web pages call this with their query string)."""
    return export_with(rt, parameters(export_params(), args, {}), head)


def export_with(rt, params, head: bool = False):
    """The whole index, or a search's result, streamed in the asked format. A HEAD asks the first page only (a
    query the index refuses is its 400 too) and builds nothing: a Parquet file is written whole before it is sent."""
    from affiliate_matrix.exchange import (MEDIA_TYPES, LeftOut, csv_chunks, jsonl_chunks, left_out_line, programs,
                                           write_parquet)

    fmt = params.format
    if params.excel and fmt != "csv":
        raise InvalidInput(f"excel is for format=csv, not {fmt}")
    damaged = LeftOut()  # a program not of its shape: left out, named after the others (exchange.left_out_line)
    items = programs(rt.index, query_of(params, open_only=False), damaged)  # with no status, the whole index
    headers = {"Content-Type": MEDIA_TYPES[fmt],
               "Content-Disposition": f'attachment; filename="programs.{fmt}"'}
    if head:
        return b"", 200, headers
    if fmt == "parquet":  # Parquet's footer comes last: spool to disk, then stream the file
        import tempfile

        spool = tempfile.TemporaryFile()
        write_parquet(items, spool)
        spool.seek(0)
        if damaged.count:  # written whole before its headers: counted in one
            headers = {**headers, "X-Damaged-Items": str(damaged.count)}

        def chunks():
            with spool:
                while block := spool.read(1 << 16):
                    yield block

        return chunks(), 200, headers

    def left_out():  # once the programs are read: what was left out, named on the file's last line
        if damaged.count:
            yield left_out_line(fmt, damaged)

    chunks = csv_chunks(items, cut_for_excel=params.excel) if fmt == "csv" else jsonl_chunks(items)
    return itertools.chain(["\ufeff"] if params.excel else [], chunks, left_out()), 200, headers


def merchants(rt, args) -> dict:
    from affiliate_matrix.merchants import merchants_after

    params = parameters(merchants_params(), args, {})
    return merchants_with(rt, params, merchants_after(params.cursor, params.q))


def merchants_with(rt, params, after: int) -> dict:
    """Merchants whose programs match q, each with how many programs and on which networks: those past the first
    `after`, which its cursor says (merchants.merchants_after, read once by the caller, who may need it too)."""
    from affiliate_matrix.merchants import find_merchants

    damaged: list[dict] = []  # a program not of its summary's shape: left out of the counts and named
    found = find_merchants(rt.index, params.q, params.limit, readable=lambda docs: summaries(docs, damaged),
                           after=after)
    return with_errors(found, damaged)


def changes(rt, args) -> dict:
    return changes_with(rt, parameters(changes_params(), args, {}))


def changes_with(rt, params) -> dict:
    """One page of the change feed its parameters ask."""
    return changes_of(rt, changes_query(rt, params))


def changes_query(rt, params) -> SearchQuery:
    """The change feed's search, newest first by when each change was recorded (deltas.py): a reader polling `since` the
    newest recorded_at it read finds a batch indexed after its poll, however early that batch was observed."""
    ranges = {"recorded_at": Range(gte=params.since.isoformat())} if params.since else {}
    filters = {f: getattr(params, name) for name, f in (("program_id", "program_id"), ("field", "fields"),
                                                         ("change", "change")) if getattr(params, name) is not None}
    if params.program_id:  # a program's changes recorded before its id moved are its history too
        from affiliate_matrix.moves import moved_into

        filters["program_id"] = [*params.program_id, *moved_into(rt.index, params.program_id)]
    return SearchQuery(filters=filters, ranges=ranges, size=params.limit, cursor=params.cursor,
                       sort=[SortKey(field="recorded_at", order="desc"), SortKey(field="id", order="desc")])


def changes_of(rt, query: SearchQuery) -> dict:
    """One page of the change feed (changes_query)."""
    result = rt.index.search(DELTAS_INDEX.name, query)
    damaged: list[dict] = []
    items = of_shape([hit.doc for hit in result.hits], change_item(), "delta", damaged, made=feed_item)
    return {"total": result.total, "items": items, "next_cursor": result.next_cursor,
            "previous_cursor": result.previous_cursor, **({"errors": damaged} if damaged else {})}
