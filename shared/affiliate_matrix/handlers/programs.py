"""programs: the master index over HTTP. GET /programs (search, filters, facets, cursor pages),
GET /programs/{id} (one program with provenance), GET /healthz."""

import re
from functools import cache

from affiliate_matrix.errors import InvalidInput, NotFoundError
from affiliate_matrix.handlers import json_response, serve
from affiliate_matrix.programs import PROGRAMS_INDEX, from_document
from affiliate_matrix.search import SearchQuery, SortKey

FILTERS = {"category": "categories", "network": "networks", "country": "countries", "status": "status",
           "kind": "kind", "commission_type": "commission_types", "payout_method": "payout_methods"}
SORTS = {"relevance": [], "commission": [SortKey(field="commission_percent_max", order="desc"),
                                         SortKey(field="commission_flat_max", order="desc")],
         "cookie": [SortKey(field="cookie_days", order="desc")], "name": [SortKey(field="name")],
         "last_seen": [SortKey(field="last_seen_at", order="desc")]}
KNOWN = {"q", "limit", "cursor", "sort", *FILTERS}
_PROGRAM_PATH = re.compile(r"^/programs/(p_[0-9a-f]{16})$")


def handle(rt, request):
    _ensure_index(rt)
    return serve(request, lambda r: route(rt, r))


@cache
def _ensure_index(rt) -> None:
    """Before the first run the index does not exist yet: that is an empty index, not an error."""
    rt.index.ensure_index(PROGRAMS_INDEX)


def route(rt, request):
    if request.method != "GET":
        raise InvalidInput(f"method {request.method} is not supported here; use GET")
    if request.path == "/healthz":
        return json_response({"status": "ok"})
    if request.path == "/programs":
        return json_response(search(rt, request.args))
    match = _PROGRAM_PATH.match(request.path)
    if match:
        doc = rt.index.get(PROGRAMS_INDEX.name, match.group(1))
        if doc is None:
            raise NotFoundError(f"program {match.group(1)} not found")
        return json_response(from_document(doc).model_dump(mode="json"))
    raise NotFoundError(f"no route for {request.path}")


def search(rt, args) -> dict:
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise InvalidInput(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN))}")
    limit = args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise InvalidInput(f"limit must be a whole number from 1 to 100, got {limit!r}")
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    if len(args.get("q") or "") > 500:
        raise InvalidInput("q is longer than 500 characters")
    if len(args.get("cursor") or "") > 2000:
        raise InvalidInput("cursor is malformed: pass back next_cursor exactly as it was given")
    query = SearchQuery(text=args.get("q"), size=int(limit), cursor=args.get("cursor"), sort=SORTS[sort],
                        filters={field: args.getlist(name) for name, field in FILTERS.items() if name in args},
                        facets=["categories", "networks", "commission_types"])
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    return {
        "total": result.total,
        "items": [{k: v for k, v in hit.doc.items() if k != "program"} for hit in result.hits],
        "facets": {name: [{"value": v, "count": n} for v, n in buckets] for name, buckets in result.facets.items()},
        "next_cursor": result.next_cursor,
    }
