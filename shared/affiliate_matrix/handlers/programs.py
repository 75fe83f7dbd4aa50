"""programs: the master index over HTTP.

GET /programs            search, filters, facets, sort, cursor or page pagination
GET /programs/{id}       one program with the provenance of every field
GET /programs/export     the index or a search's result, streamed: format=csv|jsonl|parquet
GET /changes             the change feed
GET /merchants?q=        merchants, with their programs' networks
GET /merchants/{key}     one merchant across every network and directory, side by side
GET /openapi.json, GET /healthz   (no token needed)

Every other route needs a bearer token with the read role. Responses carry an ETag derived
from the index generation and the request, so an unchanged answer is a 304; hot queries are
served from an in-process cache that the next index generation invalidates.
"""

import hashlib
import threading
import time
from contextvars import ContextVar
from collections import OrderedDict
from functools import cache

from affiliate_matrix import flags
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.handlers import serve
from affiliate_matrix.handlers.program_shapes import (  # noqa: F401 (_MERCHANT_KEY: the web pages check it)
    _MERCHANT_KEY, ChangesParams, ExportParams, MerchantKey, Merchants, MerchantsParams, MerchantView, ProgramId,
    ProgramPage, SearchParams, changes_answer, program_answer,
)
from affiliate_matrix.handlers.routes import Api, Route, parameters
from affiliate_matrix.programs import FACETS, FILTERS, MINIMUMS, PROGRAMS_INDEX, SORTS, from_document
from affiliate_matrix.search import Range, SearchQuery, SortKey

CACHE_SECONDS, CACHE_SIZE = 300, 512  # keys carry the index generation, so an answer is never stale
_answers: OrderedDict[str, tuple[float, str, dict]] = OrderedDict()  # etag -> (until, etag, body)
_warmed: str | None = None  # the index generation the warm list was last replayed for
_total: ContextVar[int | None] = ContextVar("total", default=None)


def handle(rt, request):
    _ensure_indexes(rt)
    return serve(request, lambda r: api().route(rt, r), rt.flags)


@cache
def api() -> Api:
    """The table, built on the first request."""
    cached_ok = dict(statuses=(304,), headers=("ETag",))
    return Api("Affiliate Matrix programs API", [
        Route("GET", "/programs", search_route, ProgramPage, SearchParams, summary="Search programs", **cached_ok),
        Route("GET", "/programs/export", lambda call: export_with(call.rt, call.params), params=ExportParams,
              summary="The index, or a search's result, streamed as a file", headers=("Content-Disposition",),
              media={"text/csv": {"type": "string"}, "application/x-ndjson": {"type": "string"},
                     "application/vnd.apache.parquet": {"type": "string", "format": "binary"}}),
        Route("GET", "/programs/{program_id}", lambda call: _cached(call, PROGRAMS_INDEX, lambda: program(
            call.rt, call.params.program_id)), program_answer, ProgramId, summary="One program with per-field "
              "provenance", **cached_ok),
        Route("GET", "/changes", lambda call: _cached(call, DELTAS_INDEX, lambda: changes_with(call.rt, call.params)),
              changes_answer, ChangesParams, summary="What changed, newest first", **cached_ok),
        Route("GET", "/merchants", lambda call: _cached(call, PROGRAMS_INDEX, lambda: merchants_with(
            call.rt, call.params)), Merchants, MerchantsParams, summary="Merchants whose programs match q", **cached_ok),
        Route("GET", "/merchants/{merchant_key}", merchant_route, MerchantView, MerchantKey,
              summary="One merchant's programs and offers side by side, per source", **cached_ok),
    ])


@cache
def _ensure_indexes(rt) -> None:
    """Before the first run the indexes do not exist yet: that is an empty index, not an error."""
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)


def search_route(call):
    started = time.perf_counter()
    answer = _cached(call, PROGRAMS_INDEX, lambda: search_with(call.rt, call.params, call.request.args))
    recorder(call.rt).record(call.request.path, call.request.args, (time.perf_counter() - started) * 1000,
                             _total.get(), 200)
    return answer


def merchant_route(call):
    from affiliate_matrix.merchants import merchant_view

    return _cached(call, PROGRAMS_INDEX, lambda: merchant_view(call.rt.index, call.params.merchant_key))


def _cached(call, index, answer):
    return cached(call.rt, call.request, index.name, answer)


def etag_of(generation: str, path: str, args) -> str:
    on = ",".join(name for name in flags.KNOWN if flags.current().on(name))  # a flag can change the answer
    basis = f"{generation}|{path}|{sorted(args.items(multi=True))}|{on}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def remember(etag: str, body: dict) -> None:
    _answers[etag] = (time.monotonic() + CACHE_SECONDS, etag, body)
    while len(_answers) > CACHE_SIZE:
        _answers.popitem(last=False)


def cached(rt, request, index_name: str, answer):
    """Answer from the cache while the index generation is unchanged; 304 when the client has it."""
    generation = rt.index.generation(index_name)
    if index_name == PROGRAMS_INDEX.name:
        warm_after(rt, generation)
    etag = etag_of(generation, request.path, request.args)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=30"}
    if etag in (request.headers.get("If-None-Match") or ""):
        return "", 304, headers
    hit = _answers.get(etag)
    if hit is not None and hit[0] > time.monotonic():
        _answers.move_to_end(etag)
        if "total" in hit[2]:
            _total.set(hit[2]["total"])
        return hit[2], 200, headers
    body = answer()
    remember(etag, body)
    return body, 200, headers


def warm_after(rt, generation: str) -> None:
    """Once per index generation, replay the analysis' warm list into the cache, off the request path."""
    global _warmed
    if _warmed == generation:
        return
    _warmed = generation

    def warm():
        from urllib.parse import parse_qsl, urlsplit

        from werkzeug.datastructures import MultiDict

        from affiliate_matrix.analytics import warm_list

        flags.bind({}, None)  # the answer a caller with no flag on would get
        for query in warm_list(rt.store):
            parts = urlsplit(query)
            if parts.path != "/programs":
                continue
            args = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
            try:
                remember(etag_of(generation, parts.path, args), search(rt, args))
            except Exception:  # a stale entry (a parameter since renamed) must not stop the others
                continue

    threading.Thread(target=warm, daemon=True).start()


@cache
def recorder(rt):
    from affiliate_matrix.analytics import Recorder

    return Recorder(rt.index)


def program(rt, program_id: str) -> dict:
    doc = rt.index.get(PROGRAMS_INDEX.name, program_id)
    if doc is None:
        raise NotFoundError(f"program {program_id} not found")
    return from_document(doc).model_dump(mode="json")


SEARCH_PARAMETERS = set(SearchParams.model_fields)
EXPORT_PARAMETERS = set(ExportParams.model_fields)


def search(rt, args) -> dict:
    """A search from a query string (the web pages and the cache warmer call this)."""
    return search_with(rt, parameters(SearchParams, args, {}), args)


def search_with(rt, params: SearchParams, args) -> dict:
    query = query_of(params).model_copy(update={
        "size": params.limit, "offset": ((params.page or 1) - 1) * params.limit, "cursor": params.cursor,
        "facets": FACETS})
    if not query.text and "sort" not in params.model_fields_set and flags.current().on("quality_ranking"):
        query = query.model_copy(update={"sort": [SortKey(field="quality_score", order="desc")]})
    snapshot = facet_snapshot(rt, args) if not query.text and not query.ranges else None
    if snapshot is not None:  # the analysis counted these facets for this generation already
        query = query.model_copy(update={"facets": []})
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    facets = snapshot if snapshot is not None else {name: [[v, n] for v, n in buckets]
                                                    for name, buckets in result.facets.items()}
    _total.set(result.total)
    return {
        "total": result.total,
        "items": [{k: v for k, v in hit.doc.items() if k != "program"} for hit in result.hits],
        "facets": {name: [{"value": v, "count": n} for v, n in buckets] for name, buckets in facets.items()},
        "next_cursor": result.next_cursor,
    }


def facet_snapshot(rt, args) -> dict | None:
    from affiliate_matrix import analytics

    key = analytics.filter_set(analytics.query_of("/programs", args))
    if key is None:
        return None
    return analytics.facet_snapshot(rt.store, rt.index.generation(PROGRAMS_INDEX.name), key)


def query_of(params) -> SearchQuery:
    """The words, filters, minimums and sort of a search (paging is the caller's)."""
    return SearchQuery(text=params.q, sort=SORTS[params.sort],
                       ranges={field: Range(gte=getattr(params, name)) for name, field in MINIMUMS.items()
                               if getattr(params, name) is not None},
                       filters={field: getattr(params, name) for name, field in FILTERS.items()
                                if getattr(params, name) is not None})


def export(rt, args):
    """The whole index, or a search's result, streamed (the web pages call this with their query string)."""
    return export_with(rt, parameters(ExportParams, args, {}))


def export_with(rt, params: ExportParams):
    """The whole index, or a search's result, streamed in the asked format."""
    from affiliate_matrix.exchange import MEDIA_TYPES, csv_chunks, jsonl_chunks, programs, write_parquet

    fmt = params.format
    items = programs(rt.index, query_of(params))
    headers = {"Content-Type": MEDIA_TYPES[fmt],
               "Content-Disposition": f'attachment; filename="programs.{fmt}"'}
    if fmt == "parquet":  # Parquet's footer comes last: spool to disk, then stream the file
        import tempfile

        spool = tempfile.TemporaryFile()
        write_parquet(items, spool)
        spool.seek(0)

        def chunks():
            with spool:
                while block := spool.read(1 << 16):
                    yield block

        return chunks(), 200, headers
    return (csv_chunks if fmt == "csv" else jsonl_chunks)(items), 200, headers


def merchants(rt, args) -> dict:
    return merchants_with(rt, parameters(MerchantsParams, args, {}))


def merchants_with(rt, params: MerchantsParams) -> dict:
    """Merchants whose programs match q, each with how many programs and on which networks."""
    from affiliate_matrix.merchants import find_merchants

    return {"items": find_merchants(rt.index, params.q, params.limit)}


def changes(rt, args) -> dict:
    return changes_with(rt, parameters(ChangesParams, args, {}))


def changes_with(rt, params: ChangesParams) -> dict:
    """The change feed, newest first."""
    ranges = {"at": Range(gte=params.since.isoformat())} if params.since else {}
    filters = {f: getattr(params, name) for name, f in (("program_id", "program_id"), ("field", "fields"),
                                                         ("change", "change")) if getattr(params, name) is not None}
    result = rt.index.search(DELTAS_INDEX.name, SearchQuery(
        filters=filters, ranges=ranges, size=params.limit, cursor=params.cursor,
        sort=[SortKey(field="at", order="desc")]))
    return {"total": result.total, "items": [hit.doc["delta"] for hit in result.hits],
            "next_cursor": result.next_cursor}
