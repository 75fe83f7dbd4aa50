"""Directory parsing speed (selectolax plugin vs BeautifulSoup + lxml extracting the same fields
from the same recorded pages, in the same run) and fetching throughput at the configured
politeness against a local server with 20 ms of simulated latency."""

import re
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from affiliate_matrix.config import Settings
from affiliate_matrix.crawl import crawl
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.models import Connection
from affiliate_matrix.sources import Page, ParseError, get_source
from affiliate_matrix.sources.affiliateprograms import AffiliateProgramsCom
from affiliate_matrix.runtime import open_object_store

ROUNDS = 300


def recorded_pages(name: str) -> list[tuple[str, str, str, str]]:
    """(source, callback, url, html) for each recorded page of a directory that parses: a changed
    layout or a page missing its fields is an error on purpose, and not a page parsed."""
    source = get_source(name)
    plugin, root = source(), source.recorded_dir()
    pages = []
    for pattern, callback in DIRECTORIES[name][0]:
        for path in sorted(root.glob(pattern)):
            url = f"{source.base_url}/{path.relative_to(root).as_posix().removesuffix('index.html')}"
            html = path.read_text(errors="replace")
            try:
                items = plugin.run(callback, Page(url, 200, html, "raw/x"))
            except ParseError:
                continue
            if any(getattr(item, "extracted_by", "plugin") == "generic" for item in items):
                continue  # read by the generic reader, which no baseline copies: not the selectors' work
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


def _soup(html: str, features: str = "lxml"):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, features)


def _text(node) -> str | None:
    return " ".join(node.get_text(" ", strip=True).split()) or None if node is not None else None


def _follow(url: str, hrefs) -> list[str]:
    return [urljoin(url, href).split("#")[0] for href in hrefs if href]


def bs4_affiliateprograms(callback: str, url: str, html: str) -> list:
    soup = _soup(html)
    if callback == "parse":
        nxt = soup.select_one("nav.pagination a[rel=next][href]")
        return _follow(url, [a["href"] for a in soup.select("div.program-listing h3 a[href]")] + ([nxt["href"]] if nxt else []))
    details = {row.th.get_text(strip=True).rstrip(":").lower(): row.td for row in soup.select("table.program-details tr")
               if row.th and row.td}
    website = details["website"].find("a", recursive=False) if "website" in details else None
    join = soup.select_one("a.join-program[href]")
    return [{"record_key": re.search(r"/p/([a-z0-9-]+)/?$", url).group(1),
             "name": re.sub(r"\s+affiliate program$", "", _text(soup.select_one("h1.program-name")), flags=re.I),
             "merchant_url": website.get("href") if website else None,
             "description": _text(soup.select_one("div.program-description")),
             "categories": [a.get_text(strip=True) for a in details["category"].find_all("a", recursive=False)]
             if "category" in details else [],
             "commission_text": _text(details.get("commission")), "cookie_text": _text(details.get("cookie duration")),
             "payout_text": _text(details.get("payment terms")), "network": _text(details.get("network")),
             "join_url": join["href"] if join else None}]


def bs4_affiliationlist(callback: str, url: str, html: str) -> list:
    soup = _soup(html)
    if callback == "parse":
        nxt = soup.select_one("a[rel=next][href]")
        return _follow(url, [a["href"] for a in soup.select("a.program-card[href]")] + ([nxt["href"]] if nxt else []))
    values, label = {}, None
    for node in soup.select_one("dl.key-terms").find_all(["dt", "dd"], recursive=False):
        if node.name == "dt":
            label = node.get_text(strip=True).rstrip(":").lower()
        elif label:
            values[label] = _text(node) or ""
    website, join = soup.select_one("a.visit-website[href]"), soup.select_one("a.join-program[href]")
    return [{"record_key": re.search(r"/program/([a-z0-9-]+)/?$", url).group(1), "name": _text(soup.select_one("main h1")),
             "description": _text(soup.select_one("div.program-description")),
             "merchant_url": website["href"] if website else None,
             "categories": [c.strip() for c in values.get("category", "").split(",") if c.strip()],
             "commission_text": values.get("commission rate"), "cookie_text": values.get("cookie duration"),
             "payout_text": " ".join(v for k, v in values.items() if k.startswith("payout")) or None,
             "network": values.get("network"), "join_url": join["href"] if join else None}]


def bs4_affiliatesdirectory(callback: str, url: str, html: str) -> list:
    soup = _soup(html)
    if callback == "parse":
        links = soup.select("table.listing tr.program td.name a[href]")
        pages = [a for a in soup.select("div.pages a[href]") if a.get_text(strip=True).lower().startswith("next")]
        return _follow(url, [a["href"] for a in links + pages])
    details = {}
    for row in soup.select("div#program table.details tr"):
        cells = row.find_all("td", recursive=False)
        if len(cells) == 2:
            details[cells[0].get_text(strip=True).rstrip(":").lower()] = cells[1]

    def link(label):
        anchors = details[label].find_all("a", href=True, recursive=False) if label in details else []
        return anchors[0]["href"] if anchors else None

    return [{"record_key": re.search(r"/program/(\d+)/", url).group(1), "name": _text(soup.select_one("div#program h2")),
             "description": _text(soup.select_one("div#program p.description")),
             "merchant_url": link("website"), "join_url": link("signup"),
             "categories": [c for c in (_text(details.get("category")) or "").split(" > ") if c],
             "commission_text": _text(details.get("commission")), "cookie_text": _text(details.get("cookie")),
             "payout_text": _text(details.get("payout"))}]


def bs4_affiliatefix(callback: str, url: str, html: str) -> list:
    from affiliate_matrix.sources.affiliatefix import (_THREAD, _TITLE_NOISE, FeedItem, _is_network_link,
                                                       announces_program, excerpt_text)

    if callback == "parse":  # the forum's RSS feed, read by lxml's XML parser; the same announcement test
        items = [FeedItem(_text(item.title) or "", urlsplit(item.link.get_text(strip=True)).path,
                          excerpt_text(item.find("encoded").get_text() if item.find("encoded") else ""))
                 for item in _soup(html, "xml").select("channel > item") if item.link]
        return _follow(url, [i.path for i in items if _THREAD.search(i.path) and announces_program(i)])
    soup = _soup(html)
    title, post = _text(soup.select_one("h1.p-title-value")), soup.select_one("article.message--post div.bbWrapper")
    links = [a.get("href") or "" for a in post.select("a.link--external[href]")]
    prefix = _text(soup.select_one("h1.p-title-value span.label"))
    name = _TITLE_NOISE.sub("", title.removeprefix(prefix or "").strip()).split(" - ")[0].split(" – ")[0]
    return [{"record_key": _THREAD.search(urlsplit(url).path).group(2), "name": name.strip(" :|-") or title,
             "merchant_url": next((h for h in links if h.startswith("http") and not _is_network_link(h)), None),
             "join_url": next((h for h in links if _is_network_link(h)), None),
             "description": (_text(post) or "")[:20_000], "categories": [prefix] if prefix else [],
             "extra": {"author": soup.select_one("article.message--post").get("data-author") or ""}}]


# Each directory plugin: its recorded pages (a glob under recorded/ and the callback that reads
# them), and the same fields extracted with BeautifulSoup and lxml, the baseline.
DIRECTORIES = {
    "affiliateprograms": ((("categories/**/index.html", "parse"), ("p/*/index.html", "parse_program")),
                          bs4_affiliateprograms),
    "affiliationlist": ((("category/**/index.html", "parse"), ("program/*/index.html", "parse_program")),
                        bs4_affiliationlist),
    "affiliatesdirectory": ((("categories/**/index.html", "parse"), ("program/*/*.html", "parse_program")),
                            bs4_affiliatesdirectory),
    "affiliatefix": ((("forums/*/index.rss", "parse"), ("threads/*/index.html", "parse_thread")), bs4_affiliatefix),
}
PLUGINS = {name: get_source(name)() for name in DIRECTORIES}


def ours(name: str, callback: str, url: str, html: str) -> list:
    return PLUGINS[name].run(callback, Page(url, 200, html, "raw/x"))


def baseline(name: str, callback: str, url: str, html: str) -> list:
    return DIRECTORIES[name][1](callback, url, html)


def check_same_fields(pages) -> None:
    """The baseline must extract what the plugin does, or the ratio compares different work."""
    for page in pages:
        theirs = baseline(*page)
        mine = [item.url if hasattr(item, "url") else {k: getattr(item, k) for k in theirs[0]} for item in ours(*page)]
        if mine != theirs:
            raise AssertionError(f"the BeautifulSoup baseline disagrees with the plugin on {page[2]}:\n{mine}\n{theirs}")


def pages_per_second(parse, pages, rounds: int = ROUNDS) -> float:
    started = time.process_time()  # CPU time of this process: pages per second per core
    for _ in range(rounds):
        for page in pages:
            parse(*page)
    return rounds * len(pages) / (time.process_time() - started)


def speedup(ours, baseline, pages, rounds: int = 15) -> tuple[float, float, float]:
    """Both parsers in alternation, a ratio per round, the median: a slow moment of the machine
    lands on both sides of a ratio instead of on one whole measurement."""
    pairs = [(pages_per_second(ours, pages, 20), pages_per_second(baseline, pages, 2)) for _ in range(rounds)]
    return (statistics.median(o for o, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(o / b for o, b in pairs))


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
    check_same_fields(pages)
    mine, theirs, ratio = speedup(ours, baseline, pages)
    print(f"BENCH parse_pages_per_s_per_core {mine:.0f} pages/s")
    print(f"BENCH parse_pages_per_s_per_core_bs4_lxml {theirs:.0f} pages/s")
    print(f"BENCH parse_speedup_vs_bs4_lxml {ratio:.1f} x")
    for name in DIRECTORIES:
        print(f"BENCH parse_speedup_vs_bs4_lxml_{name} {speedup(ours, baseline, recorded_pages(name), rounds=5)[2]:.1f} x")
    full = [(name, c, u, with_site_chrome(h)) for name, c, u, h in pages]
    print(f"BENCH parse_speedup_vs_bs4_lxml_full_pages {speedup(ours, baseline, full, rounds=5)[2]:.1f} x")
    rate, violations = fetch_throughput()
    print(f"BENCH fetch_pages_per_s {rate:.1f} pages/s")
    print(f"BENCH fetch_rate_limit_violations {violations} windows")
