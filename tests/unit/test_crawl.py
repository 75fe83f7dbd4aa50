"""The crawl loop against a real local server (FaultServer): what a hostile directory page can make it hold."""

import tracemalloc

from affiliate_matrix.connections import Connection
from affiliate_matrix.crawl import Fetched, crawl
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.sources import Source
from affiliate_matrix.storage.local import LocalObjectStore
from tests.support.fault_server import FaultServer

LINKS_PER_PAGE = 20_000  # what one 5 MB page of <a href> can hold is more: 100,000 and up


class Sprawling(Source):
    """A directory whose every page links LINKS_PER_PAGE more pages (a hostile or broken site)."""

    name, title = "sprawling", "Sprawling"
    start_paths = ("/page/0",)

    def parse(self, page):
        first = int(page.url.rsplit("/", 1)[1]) * LINKS_PER_PAGE + 1
        for number in range(first, first + LINKS_PER_PAGE):
            yield page.follow(f"/page/{number}")


def test_links_past_the_page_budget_are_not_held(tmp_path):
    """Only the first max_pages distinct URLs are ever fetched; before, every link of every page was queued
    anyway (10 pages here: 200,000 requests, ~30 MB, and a page of 5 MB holds 100,000 links)."""
    server = FaultServer()
    try:
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=1000)
        outcomes = crawl(Sprawling(server.url), Connection(id="sprawling", source="sprawling"), fetcher,
                         LocalObjectStore(tmp_path), max_pages=10)
        next(outcomes)  # the first page fetched and parsed: one page's links are made before measuring
        tracemalloc.start()
        try:
            fetched = 1 + sum(isinstance(outcome, Fetched) for outcome in outcomes)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        server.close()
    assert fetched == 10 and len(server.hits) == 11  # robots.txt, and /page/0 to /page/9: the budget, in order
    assert sorted(server.hits) == sorted(["/robots.txt", *(f"/page/{n}" for n in range(10))])
    assert peak < 12 * 1024 * 1024, f"{peak} bytes held for a 10-page crawl"
