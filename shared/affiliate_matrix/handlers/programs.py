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
import re
import threading
import time
from datetime import datetime
from functools import cache

from affiliate_matrix import flags
from affiliate_matrix.auth import authorize
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.errors import InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import json_response, serve, whole_number
from affiliate_matrix.handlers.answer_cache import AnswerCache
from affiliate_matrix.program_index import FACETS, FILTERS, MINIMUMS, PROGRAMS_INDEX, SORTS, from_document
from affiliate_matrix.search import Range, SearchQuery, SortKey

SEARCH_PARAMETERS = {"q", "limit", "page", "cursor", "sort", *FILTERS, *MINIMUMS}
EXPORT_PARAMETERS = {"q", "sort", "format", *FILTERS, *MINIMUMS}
CHANGES_PARAMETERS = {"since", "program_id", "field", "change", "limit", "cursor"}
_PROGRAM_PATH = re.compile(r"^/programs/(p_[0-9a-f]{16})$")
_MERCHANT_KEY = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")
# Query-language syntax has no place in a name search; brand punctuation (& + ' " . - ( )) does.
_SYNTAX = re.compile(r"[\x00-\x1f*?^~{}\[\]\\;=<>|]|\w:|--|/\*|\*/")
answers = AnswerCache(size=512)  # answers by ETag, shared by the request threads and the warm-up thread


def handle(rt, request):
    _ensure_indexes(rt)
    return serve(request, lambda r: route(rt, r), rt.flags)


@cache
def _ensure_indexes(rt) -> None:
    """Before the first run the indexes do not exist yet: that is an empty index, not an error."""
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)


def route(rt, request):
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    if request.path == "/openapi.json":
        from affiliate_matrix.handlers.openapi import programs_openapi

        return json_response(programs_openapi())
    authorize(rt, request.headers.get("Authorization"))
    if request.path == "/programs":
        started = time.perf_counter()
        body, headers = cached_body(rt, request, PROGRAMS_INDEX.name, lambda: search(rt, request.args))
        total = None if body is None else body["total"]
        recorder(rt).record(request.path, request.args, (time.perf_counter() - started) * 1000, total, 200)
        return respond(body, headers)
    if request.path == "/programs/export":
        return export(rt, request.args)
    if request.path == "/changes":
        return cached(rt, request, DELTAS_INDEX.name, lambda: changes(rt, request.args))
    match = _PROGRAM_PATH.match(request.path)
    if match:
        return cached(rt, request, PROGRAMS_INDEX.name, lambda: program(rt, match.group(1)))
    if request.path == "/merchants":
        return cached(rt, request, PROGRAMS_INDEX.name, lambda: merchants(rt, request.args))
    if request.path.startswith("/merchants/"):
        key = request.path.removeprefix("/merchants/")
        if not _MERCHANT_KEY.match(key):
            raise InvalidInput(f"merchant key {key[:80]!r} is not a domain or a name key")
        from affiliate_matrix.merchants import merchant_view

        return cached(rt, request, PROGRAMS_INDEX.name, lambda: merchant_view(rt.index, key))
    raise NotFoundError(f"no route for {request.path}")


def etag_of(generation: str, path: str, args) -> str:
    on = ",".join(name for name in flags.KNOWN if flags.current().on(name))  # a flag can change the answer
    basis = f"{generation}|{path}|{sorted(args.items(multi=True))}|{on}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def cached(rt, request, index_name: str, answer):
    """Answer from the cache while the index generation is unchanged; 304 when the client has it."""
    return respond(*cached_body(rt, request, index_name, answer))


def cached_body(rt, request, index_name: str, answer) -> tuple[dict | None, dict]:
    """The answer's body (None when the client's copy is current) and its caching headers."""
    generation = rt.index.generation(index_name)
    if index_name == PROGRAMS_INDEX.name:
        warm_after(rt, generation)
    etag = etag_of(generation, request.path, request.args)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=30"}
    if etag in (request.headers.get("If-None-Match") or ""):
        return None, headers
    body = answers.get(etag)
    if body is None:
        body = answer()
        answers.put(etag, body)
    return body, headers


def respond(body: dict | None, headers: dict):
    return ("", 304, headers) if body is None else json_response(body, headers=headers)


def warm_after(rt, generation: str) -> None:
    """Once per index generation, replay the analysis' warm list into the cache, off the request path."""
    if not answers.claim_warm_up(generation):
        return

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
                answers.put(etag_of(generation, parts.path, args), search(rt, args))
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


def check_parameters(args, known: set[str]) -> int:
    """Refuse unknown parameters by name; return the page size."""
    unknown = sorted(set(args) - known)
    if unknown:
        raise InvalidInput(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if len(args.get("cursor") or "") > 2000:
        raise InvalidInput("cursor is malformed: pass back next_cursor exactly as it was given")
    return whole_number(args, "limit", 20, 1, 100)


def search(rt, args) -> dict:
    limit = check_parameters(args, SEARCH_PARAMETERS)
    page = whole_number(args, "page", 1, 1, 10_000 // limit)
    if "page" in args and "cursor" in args:
        raise InvalidInput("use either page or cursor, not both")
    query = query_of(args).model_copy(update={"size": limit, "offset": (page - 1) * limit,
                                              "cursor": args.get("cursor"), "facets": FACETS})
    if not query.text and "sort" not in args and flags.current().on("quality_ranking"):
        query = query.model_copy(update={"sort": [SortKey(field="quality_score", order="desc")]})
    snapshot = facet_snapshot(rt, args) if not query.text and not query.ranges else None
    if snapshot is not None:  # the analysis counted these facets for this generation already
        query = query.model_copy(update={"facets": []})
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    facets = snapshot if snapshot is not None else {name: [[v, n] for v, n in buckets]
                                                    for name, buckets in result.facets.items()}
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


def query_of(args) -> SearchQuery:
    """The words, filters, minimums and sort of a search (paging is the caller's)."""
    if len(args.get("q") or "") > 500:
        raise InvalidInput("q is longer than 500 characters")
    syntax = _SYNTAX.search(args.get("q") or "")
    if syntax:
        raise InvalidInput(f"q contains query syntax ({syntax.group()!r}); search for plain words")
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    ranges = {}
    for name, field in MINIMUMS.items():
        if name in args:
            try:
                ranges[field] = Range(gte=float(args[name]))
            except ValueError:
                raise InvalidInput(f"{name} must be a number, got {args[name]!r}") from None
    return SearchQuery(text=args.get("q"), sort=SORTS[sort], ranges=ranges,
                       filters={field: args.getlist(name) for name, field in FILTERS.items() if name in args})


def export(rt, args):
    """The whole index, or a search's result, streamed in the asked format."""
    from affiliate_matrix.exchange import MEDIA_TYPES, check_format, csv_chunks, jsonl_chunks, programs, write_parquet

    unknown = sorted(set(args) - EXPORT_PARAMETERS)
    if unknown:
        raise InvalidInput(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(EXPORT_PARAMETERS))}")
    fmt = args.get("format", "jsonl")
    check_format(fmt)
    items = programs(rt.index, query_of(args))
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
    """Merchants whose programs match q, each with how many programs and on which networks."""
    from affiliate_matrix.merchants import find_merchants

    limit = check_parameters(args, {"q", "limit"})
    if len(args.get("q") or "") > 500:
        raise InvalidInput("q is longer than 500 characters")
    syntax = _SYNTAX.search(args.get("q") or "")
    if syntax:
        raise InvalidInput(f"q contains query syntax ({syntax.group()!r}); search for plain words")
    return {"items": find_merchants(rt.index, args.get("q"), limit)}


def changes(rt, args) -> dict:
    """The change feed, newest first."""
    limit = check_parameters(args, CHANGES_PARAMETERS)
    ranges = {}
    if "since" in args:
        try:
            since = datetime.fromisoformat(args["since"].replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"since must be an ISO-8601 timestamp, got {args['since']!r}") from None
        if since.tzinfo is None:
            raise InvalidInput("since needs a timezone, e.g. 2026-11-21T00:00:00Z")
        ranges["at"] = Range(gte=since.isoformat())
    filters = {f: args.getlist(name) for name, f in (("program_id", "program_id"), ("field", "fields"),
                                                      ("change", "change")) if name in args}
    result = rt.index.search(DELTAS_INDEX.name, SearchQuery(
        filters=filters, ranges=ranges, size=limit, cursor=args.get("cursor"),
        sort=[SortKey(field="at", order="desc")]))
    return {"total": result.total, "items": [hit.doc["delta"] for hit in result.hits],
            "next_cursor": result.next_cursor}
