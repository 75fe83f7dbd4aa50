"""programs: the master index over HTTP. GET /programs (search, filters, facets, cursor pages),
GET /programs/{id} (one program with provenance), GET /changes (the change feed), GET /healthz."""

import re
from datetime import datetime
from functools import cache

from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.errors import InvalidInput, NotFoundError
from affiliate_matrix.handlers import json_response, serve
from affiliate_matrix.programs import PROGRAMS_INDEX, from_document
from affiliate_matrix.search import Range, SearchQuery, SortKey

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
    if request.path == "/changes":
        return json_response(changes(rt, request.args))
    match = _PROGRAM_PATH.match(request.path)
    if match:
        doc = rt.index.get(PROGRAMS_INDEX.name, match.group(1))
        if doc is None:
            raise NotFoundError(f"program {match.group(1)} not found")
        return json_response(from_document(doc).model_dump(mode="json"))
    raise NotFoundError(f"no route for {request.path}")


def check_parameters(args, known: set[str]) -> int:
    """Refuse unknown parameters by name; return the page size."""
    unknown = sorted(set(args) - known)
    if unknown:
        raise InvalidInput(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if len(args.get("cursor") or "") > 2000:
        raise InvalidInput("cursor is malformed: pass back next_cursor exactly as it was given")
    limit = args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise InvalidInput(f"limit must be a whole number from 1 to 100, got {limit!r}")
    return int(limit)


def search(rt, args) -> dict:
    limit = check_parameters(args, KNOWN)
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    if len(args.get("q") or "") > 500:
        raise InvalidInput("q is longer than 500 characters")
    query = SearchQuery(text=args.get("q"), size=limit, cursor=args.get("cursor"), sort=SORTS[sort],
                        filters={field: args.getlist(name) for name, field in FILTERS.items() if name in args},
                        facets=["categories", "networks", "commission_types"])
    result = rt.index.search(PROGRAMS_INDEX.name, query)
    return {
        "total": result.total,
        "items": [{k: v for k, v in hit.doc.items() if k != "program"} for hit in result.hits],
        "facets": {name: [{"value": v, "count": n} for v, n in buckets] for name, buckets in result.facets.items()},
        "next_cursor": result.next_cursor,
    }


CHANGES_KNOWN = {"since", "program_id", "field", "change", "limit", "cursor"}


def changes(rt, args) -> dict:
    """The change feed, newest first: GET /changes?since=ISO-8601&program_id=&field=&change="""
    limit = check_parameters(args, CHANGES_KNOWN)
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
    rt.index.ensure_index(DELTAS_INDEX)
    result = rt.index.search(DELTAS_INDEX.name, SearchQuery(
        filters=filters, ranges=ranges, size=limit, cursor=args.get("cursor"),
        sort=[SortKey(field="at", order="desc")]))
    return {"total": result.total, "items": [hit.doc["delta"] for hit in result.hits],
            "next_cursor": result.next_cursor}
