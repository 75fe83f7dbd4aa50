"""Does the analysis' cache warm-up help? Over 100k programs in the embedded index: after an index
generation change, the p95 latency of the top queries through the programs API when each is
first asked cold, against when the warm list was replayed first. Printed as warm/cold."""

import statistics
import tempfile
import time
from pathlib import Path

from functions_framework import create_app

from affiliate_matrix.analytics import analyze
from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import PROGRAMS_INDEX
from affiliate_matrix.query_log import flush_all
from affiliate_matrix.runtime import Runtime
from tests.bench.search import documents
from tests.support.processes import ROOT

MIX = (["/programs?category=travel"] * 8 + ["/programs?category=software&network=awin"] * 4 +
       ["/programs?q=hosting"] * 4 + ["/programs?network=impact&sort=commission"] * 3 +
       ["/programs?q=vpn&min_cookie_days=60&sort=epc"] * 2 + ["/programs?category=finance&sort=cookie"] * 2)
ROUNDS = 5


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(round(0.95 * (len(ordered) - 1)))]


def run() -> None:
    import os

    from affiliate_matrix.handlers import programs as handler

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        rt = Runtime("bench", Settings(data_dir=data))
        rt.index.ensure_index(PROGRAMS_INDEX)
        docs = documents(100_000)
        for start in range(0, len(docs), 5_000):
            rt.index.bulk_upsert(PROGRAMS_INDEX.name, docs[start:start + 5_000])
        rt.index.refresh(PROGRAMS_INDEX.name)
        os.environ.update(AMX_DATA_DIR=str(data), AMX_LOG_LEVEL="warning")
        client = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()
        for name in ("AMX_DATA_DIR", "AMX_LOG_LEVEL"):
            os.environ.pop(name)
        auth = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
        for query in MIX * 3:  # the traffic the analysis learns from
            client.get(query, headers=auth)
        flush_all()
        top = [q["query"] for q in analyze(rt).top_queries]

        def bump() -> str:
            rt.index.bulk_upsert(PROGRAMS_INDEX.name, [docs[0]], refresh=True)
            return rt.index.generation(PROGRAMS_INDEX.name)

        def timed(queries) -> list[float]:
            out = []
            for query in queries:
                started = time.perf_counter()
                assert client.get(query, headers=auth).status_code == 200
                out.append((time.perf_counter() - started) * 1000)
            return out

        cold, warm = [], []
        for _ in range(ROUNDS):
            handler.answers.claim_warm_up(bump())  # as if this generation had been warmed already: nothing is replayed
            cold.append(p95(timed(top)))
            generation = bump()
            handler.warm_after(_runtime_of(client), generation)
            deadline = time.monotonic() + 120
            while not all(handler.etag_of(generation, q.split("?")[0], _args(q)) in handler.answers for q in top):
                if time.monotonic() > deadline:
                    raise RuntimeError("the warm-up did not finish")
                time.sleep(0.01)
            warm.append(p95(timed(top)))
    print(f"BENCH warm_cache_p95_cold_ms {statistics.median(cold):.1f} ms")
    print(f"BENCH warm_cache_p95_warm_ms {statistics.median(warm):.1f} ms")
    print(f"BENCH warm_cache_p95_ratio {statistics.median(warm) / statistics.median(cold):.3f} ratio")


def _args(query: str):
    from urllib.parse import parse_qsl, urlsplit

    from werkzeug.datastructures import MultiDict

    return MultiDict(parse_qsl(urlsplit(query).query, keep_blank_values=True))


def _runtime_of(client):
    import sys

    return next(m.rt for m in list(sys.modules.values())
                if getattr(getattr(m, "rt", None), "function", None) == "programs")
