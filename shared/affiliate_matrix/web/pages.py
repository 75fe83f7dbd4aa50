"""What each page of the index shows, gathered through the programs API's own functions (search,
program, changes, merchant view, export); render.py renders it."""

from werkzeug.datastructures import MultiDict

from affiliate_matrix.deltas import TRACKED
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers import programs as api
from affiliate_matrix.web.graph import layout, merchant_edges, search_edges
from affiliate_matrix.web.render import FACET_LABELS, url

FACET_PARAMETERS = {field: name for name, field in api.FILTERS.items()}  # "categories" -> "category"
HIDDEN_FIELDS = {"provenance", "id"}


def search_page(rt, args: MultiDict) -> dict:
    """One page of search results with facet counts, through the API's own search."""
    result = api.search(rt, args)
    state = {name: args.getlist(name) for name in api.FILTERS}
    facets = [{"field": field, "parameter": FACET_PARAMETERS[field], "label": FACET_LABELS.get(field, field),
               "values": [{**bucket, "checked": bucket["value"] in state[FACET_PARAMETERS[field]]}
                          for bucket in buckets]}
              for field, buckets in result["facets"].items() if field in FACET_PARAMETERS]
    export_args = MultiDict([(k, v) for k, v in args.items(multi=True) if k in api.export_params().model_fields])
    return {"args": args, "result": result, "facets": facets, "sort": args.get("sort", "relevance"),
            "export_args": export_args, "paged": "cursor" in args or "page" in args,
            "minimums": {name: args.get(name, "") for name in api.MINIMUMS}}


def program_page(rt, program_id: str) -> dict:
    program = api.program(rt, program_id)
    history = api.changes(rt, MultiDict({"program_id": program_id, "limit": "100"}))
    fields = [{"name": name, "value": value, "claims": program["provenance"].get(name, [])}
              for name, value in program.items() if name not in HIDDEN_FIELDS]
    return {"program": program, "fields": fields, "history": history}


def merchant_page(rt, key: str) -> dict:
    from affiliate_matrix.merchants import merchant_view

    if not api._MERCHANT_KEY.match(key):
        raise InvalidInput(f"merchant key {key[:80]!r} is not a domain or a name key")
    view = merchant_view(rt.index, key)
    disputed = {(program_id, field) for program_id, fields in view["conflicts"].items() for field in fields}
    return {"view": view, "disputed": disputed}


def changes_page(rt, args: MultiDict) -> dict:
    """The change feed; a bare date in `since` means that day's midnight UTC (what a date field sends)."""
    query = MultiDict(args)
    since = query.get("since", "")
    if len(since) == 10 and since[4] == "-" and since[7] == "-":
        query["since"] = since + "T00:00:00Z"
    return {"args": args, "feed": api.changes(rt, query), "tracked": TRACKED}


def graph_page(rt, args: MultiDict) -> dict:
    if "merchant" in args:
        edges = merchant_edges(merchant_page(rt, args["merchant"])["view"])
        return {"args": args, "graph": layout(edges, graph_link), "subject": f"merchant {args['merchant']}"}
    query = MultiDict([(k, v) for k, v in args.items(multi=True) if k in api.SEARCH_PARAMETERS])
    query.setdefault("limit", "50")
    return {"args": args, "graph": layout(search_edges(api.search(rt, query)["items"]), graph_link),
            "subject": f"search “{args.get('q', '')}”" if args.get("q") else "the first programs of the index"}


def graph_link(kind: str, name: str) -> str | None:
    if kind == "merchant":
        return f"/merchants/{name}"
    return url("/programs", **{kind: name})  # a network's or a source's programs
