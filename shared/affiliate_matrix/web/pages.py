"""What each page shows, gathered through the programs API's own functions (search, program,
changes, merchant view, export), and the Jinja2 environment (autoescape on) that renders it."""

import json
from functools import cache
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from affiliate_matrix.deltas import TRACKED
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers import programs as api
from affiliate_matrix.web.graph import layout, merchant_edges, search_edges

FACET_PARAMETERS = {field: name for name, field in api.FILTERS.items()}  # "categories" -> "category"
FACET_LABELS = {"categories": "Category", "networks": "Network", "countries": "Country",
                "commission_types": "Commission type", "payout_methods": "Payout method",
                "commission_flat_currency": "Flat commission currency"}
SORT_LABELS = {"relevance": "Relevance", "commission": "Commission", "cookie": "Cookie length", "epc": "EPC (7 days)",
               "last_changed": "Last changed", "name": "Name"}
MINIMUM_LABELS = {"min_commission_percent": "Minimum commission (%)", "min_commission_flat": "Minimum flat commission",
                  "min_cookie_days": "Minimum cookie (days)"}
CHANGE_TYPES = ("created", "updated", "removed")
HIDDEN_FIELDS = {"provenance", "id"}


@cache
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("affiliate_matrix.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(show=show, terms=terms, payout=payout)
    env.tests["web_address"] = web_address
    env.globals.update(url=url, SORT_LABELS=SORT_LABELS, FACET_LABELS=FACET_LABELS, MINIMUM_LABELS=MINIMUM_LABELS,
                       CHANGE_TYPES=CHANGE_TYPES, TRACKED=TRACKED)
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


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


def filled(args) -> MultiDict:
    """The query without blank values: an empty form field means no filter, not an empty one."""
    return MultiDict([(k, v.strip()) for k, v in args.items(multi=True) if v.strip()])


def local_path(candidate: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site ('//host', '/\\host')."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")) and len(candidate) < 2000:
        return candidate
    return "/programs"


def web_address(value) -> bool:
    """Only http(s) addresses become links: a source's `javascript:` or `data:` URL stays text."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def show(value) -> str:
    """A field's value as text: nothing as a dash, lists joined, objects as compact JSON."""
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return str(value)


def payout(value) -> str:
    """Payout terms as a line: 'paypal, wire; monthly; minimum USD 50'."""
    if not value:
        return "—"
    minimum = value.get("minimum")
    parts = [", ".join(value.get("methods") or []), value.get("frequency") or "",
             f"minimum {minimum['currency']} {minimum['amount']}" if minimum else ""]
    return "; ".join(p for p in parts if p) or "—"


def terms(commission) -> str:
    """Parsed commission terms as people write them: '10–20%', 'USD 50', 'up to 30% recurring'."""
    out = []
    for term in commission or []:
        low, high = term.get("value_min"), term.get("value_max")
        amount = f"{low}–{high}" if low is not None and high is not None and low != high else \
            f"up to {high}" if low is None else str(low)
        text = f"{amount}%" if term.get("type") == "percent" else f"{term.get('currency')} {amount}"
        if term.get("recurring"):
            text += " recurring"
        if term.get("tiers"):
            text += " (tiers: " + "; ".join(f"{t['threshold']}: {t['value']}" for t in term["tiers"]) + ")"
        out.append(text)
    return ", ".join(out) or "—"


def search_page(rt, args: MultiDict) -> dict:
    """One page of search results with facet counts, through the API's own search."""
    result = api.search(rt, args)
    state = {name: args.getlist(name) for name in api.FILTERS}
    facets = [{"field": field, "parameter": FACET_PARAMETERS[field], "label": FACET_LABELS.get(field, field),
               "values": [{**bucket, "checked": bucket["value"] in state[FACET_PARAMETERS[field]]}
                          for bucket in buckets]}
              for field, buckets in result["facets"].items() if field in FACET_PARAMETERS]
    export_args = MultiDict([(k, v) for k, v in args.items(multi=True) if k in api.EXPORT_PARAMETERS])
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
    return {"args": args, "feed": api.changes(rt, query)}


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
