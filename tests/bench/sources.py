"""Directory parsing speed (the plugins on their recorded pages, CPU time per core) and fetching
throughput at the configured politeness against a local server with 20 ms of simulated latency."""

import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from affiliate_matrix.config import Settings
from affiliate_matrix.crawl import crawl
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.connections import Connection
from affiliate_matrix.sources import Page, ParseError, get_source
from affiliate_matrix.sources.affiliateprograms import AffiliateProgramsCom
from affiliate_matrix.runtime import open_object_store


def recorded_pages(name: str) -> list[tuple[str, str, str, str]]:
    """(source, callback, url, html) for each recorded page of a directory that parses: a changed
    layout or a page missing its fields is an error on purpose, and not a page parsed."""
    source = get_source(name)
    plugin, root = source(), source.recorded_dir()
    pages = []
    for pattern, callback in DIRECTORIES[name]:
        for path in sorted(root.glob(pattern)):
            url = f"{source.base_url}/{path.relative_to(root).as_posix().removesuffix('index.html')}"
            html = path.read_text(errors="replace")
            try:
                items = plugin.run(callback, Page(url, 200, html, "raw/x"))
            except ParseError:
                continue
            if any(getattr(item, "extracted_by", "plugin") == "generic" for item in items):
                continue  # read by the generic page reader: not the plugin's selectors at work
            pages.append((name, callback, url, html))
    return pages


def with_site_chrome(html: str) -> str:
    """The page inside the navigation, sidebar and footer a real directory page carries (~25 KB)."""
    nav = "".join(f'<li class="menu-item"><a href="/categories/c{i}/">Category {i}</a></li>' for i in range(80))
    side = "".join(f'<li><a href="/p/popular-{i}/"><img src="/img/{i}.png" alt="P{i}"> Popular {i}</a></li>'
                   for i in range(60))
    foot = "".join(f'<a href="/page/{i}/">Footer link {i}</a> ' for i in range(60))
    script = "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>" * 20
    chrome_top = f'<nav class="main-nav"><ul>{nav}</ul></nav><aside class="sidebar"><ul>{side}</ul></aside>'
    html = html.replace("<body>", f"<body>{script}{chrome_top}", 1)
    return html.replace("</body>", f'<footer class="site-footer">{foot}</footer></body>', 1)


# Each directory plugin's recorded pages: a glob under recorded/ and the callback that reads them.
DIRECTORIES = {
    "affiliateprograms": (("categories/**/index.html", "parse"), ("p/*/index.html", "parse_program")),
    "affiliationlist": (("category/**/index.html", "parse"), ("program/*/index.html", "parse_program")),
    "affiliatesdirectory": (("categories/**/index.html", "parse"), ("program/*/*.html", "parse_program")),
    "affiliatefix": (("forums/*/index.rss", "parse"), ("threads/*/index.html", "parse_thread")),
}
PLUGINS = {name: get_source(name)() for name in DIRECTORIES}


def parse(name: str, callback: str, url: str, html: str) -> list:
    return PLUGINS[name].run(callback, Page(url, 200, html, "raw/x"))


def pages_per_second(pages, rounds: int = 20) -> float:
    started = time.process_time()  # CPU time of this process: pages per second per core
    for _ in range(rounds):
        for page in pages:
            parse(*page)
    return rounds * len(pages) / (time.process_time() - started)


def median_pages_per_second(pages, repeats: int = 7) -> float:
    """The median of a few measurements: a slow moment of the machine spoils one, not the figure."""
    return statistics.median(pages_per_second(pages) for _ in range(repeats))


def fetch_throughput(rate_limit: float = 10.0, concurrency: int = 4, pages: int = 60) -> tuple[float, int]:
    """Pages per second crawled, and how many 1-second windows held more requests than the limit."""
    stamps: list[float] = []
    lock = threading.Lock()
    listing = "".join(f'<div class="program-listing"><h3><a href="/p/p{i}/">P{i}</a></h3></div>' for i in range(pages))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            with lock:
                stamps.append(time.monotonic())
            time.sleep(0.020)  # simulated network latency
            if self.path == "/robots.txt":
                body = b"User-agent: *\nAllow: /\n"
            elif self.path.startswith("/p/"):
                slug = self.path.strip("/").split("/")[-1]
                body = (f'<h1 class="program-name">{slug} Affiliate Program</h1>'
                        '<table class="program-details"><tr><th>Cookie Duration:</th><td>30 days</td></tr></table>').encode()
            else:
                body = listing.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_object_store(Settings(data_dir=Path(tmp)))
            connection = Connection(id="bench", source="affiliateprograms", base_url=url,
                                    rate_limit_per_s=rate_limit, concurrency=concurrency)
            fetcher = Fetcher("AffiliateMatrixBot/bench", allow_loopback=True, rate_limit_per_s=rate_limit,
                              concurrency=concurrency)
            source = AffiliateProgramsCom(url)
            source.start_paths = ("/categories/all/",)
            started = time.monotonic()
            fetched = sum(1 for item in crawl(source, connection, fetcher, store) if type(item).__name__ == "Fetched")
            seconds = time.monotonic() - started
    finally:
        server.shutdown()
    violations = sum(1 for i, t in enumerate(stamps) if sum(1 for u in stamps[i:] if u - t < 1.0) > rate_limit)
    return fetched / seconds, violations


def run() -> None:
    pages = [page for name in DIRECTORIES for page in recorded_pages(name)]
    print(f"BENCH parse_pages_per_s_per_core {median_pages_per_second(pages):.0f} pages/s")
    for name in DIRECTORIES:
        print(f"BENCH parse_pages_per_s_per_core_{name} {median_pages_per_second(recorded_pages(name), 3):.0f} pages/s")
    full = [(name, c, u, with_site_chrome(h)) for name, c, u, h in pages]
    print(f"BENCH parse_pages_per_s_per_core_full_pages {median_pages_per_second(full, 3):.0f} pages/s")
    rate, violations = fetch_throughput()
    print(f"BENCH fetch_pages_per_s {rate:.1f} pages/s")
    print(f"BENCH fetch_rate_limit_violations {violations} windows")
