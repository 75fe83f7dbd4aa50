"""The programs function's side of the query analytics (analytics.py): every /programs request is recorded by
its shape (which filters, sort and minimums, whether it has words), its replayable query (path and
parameters, never the token), latency and hits, buffered and bulk-written to the `queries` index; and
the analysis' warm list is read back. Apart from the analysis so that a first search loads only this."""

import atexit
import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.observability import without_token_secrets
from affiliate_matrix.search import IndexSpec

QUERIES_INDEX = IndexSpec("queries", 1, {
    "id": "keyword", "at": "date", "path": "keyword", "shape": "keyword", "query": "keyword", "filters": "keyword",
    "sort": "keyword", "has_text": "bool", "latency_ms": "number", "hits": "number", "status": "number",
})
PAGING = {"cursor", "page", "limit"}
WARM_KEY = "analytics/warm.json"  # the queries the analysis found most frequent, which the programs function replays


def shape_of(args) -> str:
    """What kind of query it is, without its values: words or not, which filters, minimums and sort."""
    parts = ["text" if args.get("q") else "no-text"]
    parts += sorted(f"{k}" for k in args if k not in PAGING | {"q", "sort"})
    parts.append(f"sort={args.get('sort', 'relevance')}")
    return " ".join(parts)


def as_typed(name: str, values: list[str]) -> list[str]:
    return values


def query_of(path: str, args, as_searched=as_typed) -> str:
    """The query to replay: path and parameters in a stable order, without paging, each filter's values as the search
    reads them (`as_searched`, given by the HTTP layer that checks them: search_params.as_searched, so `network=CJ`
    and `network=ＣＪ` are `network=cj`): one search is one query in the log and one facet snapshot (its key,
    analytics.filter_set), however it was typed. A token's secret in a value is kept as `…`."""
    items = sorted((k, without_token_secrets(v)) for k, values in args.lists() if k not in PAGING
                   for v in as_searched(k, values))
    return path + ("?" + urlencode(items) if items else "")


_recorders: list = []


def flush_all() -> None:
    """Write every buffered record now (at exit, and for tests that read what was recorded)."""
    for recorder in _recorders:
        recorder.flush()


class Recorder:
    """Buffers query records and bulk-writes them every FLUSH_S seconds or FLUSH_N records."""

    FLUSH_S, FLUSH_N = 5.0, 200

    def __init__(self, index, as_searched=as_typed):
        self.index, self.buffer, self.lock = index, [], threading.Lock()
        self.as_searched = as_searched
        self.flushed_at = time.monotonic()
        atexit.register(self.flush)
        _recorders.append(self)

    def record(self, path: str, args, latency_ms: float, hits: int | None, status: int) -> None:
        at = datetime.now(UTC)
        doc = {"path": path, "shape": shape_of(args), "query": query_of(path, args, self.as_searched),
               "filters": sorted(k for k in args if k not in PAGING | {"q", "sort"}), "sort": args.get("sort", "relevance"),
               "has_text": bool(args.get("q")), "latency_ms": round(latency_ms, 2), "hits": hits, "status": status,
               "at": at.isoformat()}
        doc["id"] = "q_" + hashlib.sha256(f"{at.isoformat()}|{doc['query']}|{id(doc)}".encode()).hexdigest()[:24]
        with self.lock:
            self.buffer.append(doc)
            due = len(self.buffer) >= self.FLUSH_N or time.monotonic() - self.flushed_at > self.FLUSH_S
        if due:
            threading.Thread(target=self.flush, daemon=True).start()

    def flush(self) -> None:
        with self.lock:
            batch, self.buffer, self.flushed_at = self.buffer, [], time.monotonic()
        if batch:
            try:
                self.index.ensure_index(QUERIES_INDEX)
                self.index.bulk_upsert(QUERIES_INDEX.name, batch)
            except Exception:  # analytics are best effort: a lost batch must not fail a search
                pass


def warm_list(store) -> list[str]:
    try:
        return json.loads(store.get(WARM_KEY).data)["queries"]
    except NotFoundError:
        return []
