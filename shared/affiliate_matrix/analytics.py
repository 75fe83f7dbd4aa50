"""Query analytics for the programs API, and what the analysis does about them.

Every /programs request is recorded in the `queries` index (query_log.py). The analysis (the index
function's hourly cron, or `amx analytics report`) names the most frequent and the slowest shapes and acts on
what it safely can: the top queries become the warm list the programs function replays into
its cache after each index generation, the most common filter sets get facet snapshots for the
current generation, and mapping changes are proposed as a migration plan — never applied.
"""

import json
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache, cached

from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.query_log import QUERIES_INDEX, WARM_KEY
from affiliate_matrix.search import SearchQuery

SNAPSHOTS_KEY = "analytics/facet-snapshots.json"
WARM_TOP, SNAPSHOT_TOP = 50, 10


@dataclass
class Report:
    since: datetime
    queries: int = 0
    frequent_shapes: list[dict] = field(default_factory=list)
    slowest_shapes: list[dict] = field(default_factory=list)
    top_queries: list[dict] = field(default_factory=list)
    warmed: int = 0
    snapshots: int = 0
    proposals: list[dict] = field(default_factory=list)

    def text(self) -> str:
        from affiliate_matrix.wording import counted

        lines = [f"{counted(self.queries, 'query', 'queries')} since {self.since:%Y-%m-%d %H:%M} UTC", "",
                 "Most frequent shapes:"]
        lines += [f"  {s['count']:>6}  p95 {s['p95_ms']:>7.1f} ms  {s['shape']}" for s in self.frequent_shapes]
        lines += ["", "Slowest shapes (p95):"]
        lines += [f"  {s['p95_ms']:>7.1f} ms  {s['count']:>6}x  {s['shape']}" for s in self.slowest_shapes]
        lines += ["", "Top queries:"] + [f"  {q['count']:>6}  {q['query']}" for q in self.top_queries[:10]]
        lines += ["", f"Acted: {counted(self.warmed, 'query', 'queries')} on the warm list, "
                      f"{counted(self.snapshots, 'facet snapshot')}."]
        lines += ["", "Proposed mapping changes (a plan for `amx index migrate`, not applied):"]
        lines += [f"  - {p['field']}: {p['change']} — {p['why']}" for p in self.proposals] or ["  none"]
        return "\n".join(lines)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] if ordered else 0.0


def recorded(rt, since: datetime, limit: int = 200_000) -> list[dict]:
    rt.index.ensure_index(QUERIES_INDEX)
    from affiliate_matrix.search import Range

    query, rows = SearchQuery(ranges={"at": Range(gte=since.isoformat())}, size=1000), []
    while len(rows) < limit:
        result = rt.index.search(QUERIES_INDEX.name, query)
        rows += [hit.doc for hit in result.hits]
        if not result.next_cursor:
            break
        query = query.replaced(cursor=result.next_cursor)
    return rows


def analyze(rt, days: int = 7, act: bool = True, since: datetime | None = None) -> Report:
    since = since or datetime.now(UTC) - timedelta(days=days)
    rows = [r for r in recorded(rt, since) if r.get("status") == 200 and r.get("path") == "/programs"]
    report = Report(since=since, queries=len(rows))
    by_shape: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_shape[row["shape"]].append(row["latency_ms"])
    shapes = [{"shape": s, "count": len(v), "p95_ms": p95(v)} for s, v in by_shape.items()]
    report.frequent_shapes = sorted(shapes, key=lambda s: (-s["count"], s["shape"]))[:10]
    report.slowest_shapes = sorted(shapes, key=lambda s: (-s["p95_ms"], s["shape"]))[:10]
    counts = Counter(row["query"] for row in rows)
    report.top_queries = [{"query": q, "count": n} for q, n in counts.most_common(WARM_TOP)]
    report.proposals = proposals(rows)
    if act:
        rt.store.put(WARM_KEY, json.dumps({"at": datetime.now(UTC).isoformat(),
                                           "queries": [q["query"] for q in report.top_queries]}).encode(),
                     content_type="application/json")
        report.warmed = len(report.top_queries)
        report.snapshots = snapshot_facets(rt, rows)
    return report


def filter_set(query: str) -> str | None:
    """The filters of a replayable query when it has no words and no minimums: the facet snapshot key. It is
    URL-encoded, blank values kept, so one filter set has one key: a value holding '&' or '=' is not read as
    more filters, and an empty value (which matches nothing) is not dropped to leave another set's key."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    items = parse_qsl(urlsplit(query).query, keep_blank_values=True)
    if any(k == "q" and v or k.startswith("min_") for k, v in items):
        return None
    return urlencode(sorted((k, v) for k, v in items if k not in ("q", "sort")))


def snapshot_facets(rt, rows: list[dict]) -> int:
    """Facet counts of the most common filter sets, for the index generation they were computed on."""
    from urllib.parse import parse_qsl

    from affiliate_matrix.program_index import PROGRAMS_INDEX, facets_asked, facets_of, filtering

    sets = Counter(fs for row in rows if (fs := filter_set(row["query"])) is not None)
    snapshots = {}
    generation = rt.index.generation(PROGRAMS_INDEX.name)
    for key, _ in sets.most_common(SNAPSHOT_TOP):
        filters = defaultdict(list)
        for name, value in parse_qsl(key, keep_blank_values=True):
            filters[name].append(value)
        (window,) = filters.pop("epc_window", ["7d"])  # which EPC's currencies the filter and the facet are
        query = SearchQuery(**filtering(filters, epc_window=window), **facets_asked(window), size=0)
        counted = facets_of(rt.index.search(PROGRAMS_INDEX.name, query).facets, window)
        snapshots[key] = {name: [[v, n] for v, n in buckets] for name, buckets in counted.items()}
    rt.store.put(SNAPSHOTS_KEY, json.dumps({"generation": generation, "snapshots": snapshots}).encode(),
                 content_type="application/json")
    return len(snapshots)


def proposals(rows: list[dict]) -> list[dict]:
    """Mapping changes worth a migration, from how the index is queried."""
    from affiliate_matrix.program_index import FILTERS, filtered_field

    out, total = [], max(len(rows), 1)
    usage = Counter(f for row in rows for f in row.get("filters", []))
    for name, n in usage.most_common():
        if name in FILTERS and n / total >= 0.2:
            out.append({"field": filtered_field(name), "change": "eager_global_ordinals: true",
                        "why": f"filtered on in {n / total:.0%} of queries; ordinals built at refresh, not at query time"})
    sorts = Counter(row.get("sort") for row in rows)
    if sorts.get("name", 0) / total >= 0.1:
        out.append({"field": "name", "change": "a normalized keyword sub-field for sorting",
                    "why": f"{sorts['name'] / total:.0%} of queries sort by name"})
    return out


SNAPSHOT_CACHE_S = 30.0


@cached(TTLCache(maxsize=8, ttl=SNAPSHOT_CACHE_S), key=id, lock=threading.Lock())
def snapshots(store) -> dict | None:
    """The analysis' facet snapshots as stored, read again at most every SNAPSHOT_CACHE_S."""
    try:
        return json.loads(store.get(SNAPSHOTS_KEY).data)
    except NotFoundError:
        return None


def facet_snapshot(store, generation: str, key: str) -> dict | None:
    """The snapshot for a filter set, if it was counted on this generation."""
    data = snapshots(store)
    return data["snapshots"].get(key) if data and data.get("generation") == generation else None
