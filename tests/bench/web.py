"""Server time of a programs search page in the web function (session check, search, facets,
render) over the demo's embedded index, filled by the pipeline from the recorded directory pages:
each request through functions-framework's WSGI app in this process, so no network or browser
time is counted."""

import re
import statistics
import tempfile
import time
from pathlib import Path

ROUNDS = 60
PAGES = ["/programs", "/programs?q=hostng", "/programs?q=vpn&sort=commission", "/programs?category=software",
         "/programs?network=impact&sort=cookie", "/programs?min_commission_percent=20&sort=name&limit=2"]


def run() -> None:
    import os

    from functions_framework import create_app

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.runtime import Runtime
    from tests.support.slice import run_slice
    from tests.support.processes import ROOT

    with tempfile.TemporaryDirectory() as folder:
        rt = Runtime("bench", Settings(data_dir=Path(folder), allow_loopback_fetch=True))
        with recorded_sites("affiliateprograms") as urls:
            run_slice(rt, urls["affiliateprograms"])
        os.environ["AMX_DATA_DIR"] = folder
        try:
            client = create_app("handle", str(ROOT / "functions/web/main.py")).test_client()
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
            signed = client.post("/signin", data={"token": create_token(rt.secrets, "read"), "csrf": csrf})
            assert signed.status_code == 303, signed.status_code
            for path in PAGES:  # warm-up: templates compiled, vocabulary loaded
                assert client.get(path).status_code == 200, path
            ms = []
            for _ in range(ROUNDS):
                for path in PAGES:
                    started = time.perf_counter()
                    client.get(path)
                    ms.append((time.perf_counter() - started) * 1000)
        finally:
            os.environ.pop("AMX_DATA_DIR")
    print(f"BENCH web_search_p50_ms {statistics.median(ms):.1f} ms")
    print(f"BENCH web_search_p95_ms {statistics.quantiles(ms, n=20)[-1]:.1f} ms")
