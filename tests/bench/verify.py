"""A simulated week of re-verification: 10,000 programs on five hosts (local servers, 2% of pages
gone), one verify run per simulated day with a per-host budget. Prints the share of active
programs verified within 7 days and how many one-second windows broke a host's rate limit."""

import re
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from affiliate_matrix.config import Settings
from affiliate_matrix.models import RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.verify import freshness, verify

HOSTS, PROGRAMS, RATE, BUDGET = 5, 10_000, 40.0, 450


def host_server(stamps: list[float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            stamps.append(time.monotonic())
            number = re.search(r"/p/(\d+)/", self.path)
            gone = number is not None and int(number.group(1)) % 50 == 0  # 2% of programs closed
            body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else b"<h1>program</h1>"
            self.send_response(404 if gone else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run() -> None:
    stamps = [[] for _ in range(HOSTS)]
    servers = [host_server(s) for s in stamps]
    start = datetime.now(UTC) - timedelta(days=30)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = Runtime("bench", Settings(data_dir=Path(tmp), allow_loopback_fetch=True, log_level="warning"))
            rt.index.ensure_index(PROGRAMS_INDEX)
            documents = []
            for i in range(PROGRAMS):
                port = servers[i % HOSTS].server_address[1]
                record = RawRecord(source="bench", connection_id="bench", record_key=str(i),
                                   url=f"http://127.0.0.1:{port}/p/{i}/", fetched_at=start, raw_key="raw/bench/x",
                                   name=f"Program {i}", merchant_url=f"https://merchant{i}.com/")
                documents.append(to_document(normalize(record)))
            rt.index.bulk_upsert(PROGRAMS_INDEX.name, documents, refresh=True)
            today = datetime.now(UTC)
            for day in range(7):
                verify(rt, today + timedelta(days=day), budget_per_host=BUDGET, rate_limit_per_s=RATE,
                       suspect_after=2)
            share = freshness(rt, today + timedelta(days=7))["sources"]["all"]["within_7d"]
    finally:
        for server in servers:
            server.shutdown()
    violations = sum(1 for host in stamps for i, t in enumerate(host)
                     if sum(1 for u in host[i:i + int(RATE) + 2] if u - t < 1.0) > RATE)
    print(f"BENCH verified_within_7d_share {share:.4f} ratio")
    print(f"BENCH verify_rate_limit_violations {violations} windows")
