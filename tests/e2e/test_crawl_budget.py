"""A directory crawl asks for no more pages than the waits it is told to make (the host's pace, the retries'
Retry-After) fit in the scrape function's time limit: one killed at the limit stored nothing, and began again at the
same first pages next time. An API sync counts its waits the same way. Over real HTTP (the recorded-sources server) on
a fake clock: the waits are asked for, none is waited. (verify's: tests/e2e/test_verify.py.)"""

import json
import shutil
from functools import partial

import pytest
from typer.testing import CliRunner

from affiliate_matrix import pipeline
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.crawl import BudgetSpent, Fetched
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.polite import HostLimits
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sources import get_source
from tests.support.clock import FakeTime

# AffiliatePrograms.com's recorded site: three listing pages (two categories, one with a second page) and seven
# programs. At a request a second, an 11 s limit less its tenth fits robots.txt, /sitemap.xml (asked for as robots.txt
# names no sitemap; the site has none) and 7 pages: the listings and 4 programs. The next runs do not ask /sitemap.xml
# (noted absent: sitemaps.MAX_UNASKED) and fit a page more.
LIMIT_S, BUDGET, PROGRAMS = 11, 7, 7


@pytest.fixture
def site(monkeypatch):
    time = FakeTime()
    monkeypatch.setattr(pipeline, "Fetcher", partial(Fetcher, **time.options(HostLimits())))
    with recorded_sites("affiliateprograms") as urls:
        yield urls["affiliateprograms"], time


def programs_asked(pages: list) -> set[str]:
    return {page.url.rsplit("/p/", 1)[1].strip("/") for page in pages if "/p/" in page.url}


def test_a_crawl_stopped_at_its_page_budget_stores_its_batch_and_the_next_run_reaches_the_pages_it_left(tmp_path,
                                                                                                      site):
    url, time = site
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True, crawl_time_limit_s=LIMIT_S))
    save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=url, rate_limit_per_s=1))
    runs = []
    for _ in range(2):
        pages = []
        report = pipeline.scrape(rt, "ap", on_item=lambda item: pages.append(item) if isinstance(item, Fetched) else 0)
        runs.append((report, pages))
    (first, first_pages), (second, second_pages) = runs
    for (report, pages), budget in zip(runs, (BUDGET, BUDGET + 1)):  # the second asks no /sitemap.xml: a page more
        left = PROGRAMS - (budget - 3)
        assert len(pages) == budget and report.budget_spent == BudgetSpent(budget, left, out_of_time=True)
        assert report.incomplete == (f"stopped at its time budget after {budget} pages (the waits the host's pace and "
                                     "its answers' Retry-After asked for fit no more in the function's time limit) "
                                     f"with {left} left queued, asked for first next run")
        assert rt.store.get(report.batch_key).data.count(b"\n") + 1 == report.records > 0  # the batch is stored
    unreached = {"bluehost", "nordvpn", "surfshark", "semrush", "hostinger", "canva", "tiny-notes"} \
        - programs_asked(first_pages)
    assert len(unreached) == PROGRAMS - (BUDGET - 3) and unreached < programs_asked(second_pages)
    assert max(time.sleeps) < 1.1  # a page a second, on the fake clock


def test_amx_scrape_says_the_crawl_stopped_at_its_page_budget(tmp_path, site, monkeypatch):
    from affiliate_matrix.cli import app

    url, _ = site
    for name, value in {"DATA_DIR": str(tmp_path), "ALLOW_LOOPBACK_FETCH": "true",
                        "CRAWL_TIME_LIMIT_S": str(LIMIT_S)}.items():
        monkeypatch.setenv(f"AMX_{name}", value)
    monkeypatch.setenv("COLUMNS", "400")
    save_connection(Runtime("test", Settings(data_dir=tmp_path)).store,
                    Connection(id="ap", source="affiliateprograms", base_url=url, rate_limit_per_s=1))
    result = CliRunner().invoke(app, ["scrape", "ap"])
    assert f"stopped at its time budget after {BUDGET} pages" in result.output, (result.output, result.exception)
    assert f"with {PROGRAMS - (BUDGET - 3)} left queued, asked for first next run" in result.output


def test_a_crawl_whose_host_answers_retry_after_stops_asking_before_the_time_limit(tmp_path, monkeypatch):
    """The budget counted pages at the host's spacing, so waits the retries were told to make were never counted: under
    `Crawl-delay: 60`, each program's page answering 503 and 429 with `Retry-After: 60` before the page made 13 pages
    ask for some 30 minutes of waits, and the function was killed at 15 with its batch unwritten. Each request's
    spacing and each retry's wait are now charged before they are made: the run stops asking while the waits asked for
    are within the limit, stores its batch, and says it is incomplete."""
    time = FakeTime()
    monkeypatch.setattr(pipeline, "Fetcher", partial(Fetcher, **time.options(HostLimits())))
    site = tmp_path / "site"
    shutil.copytree(get_source("affiliateprograms").recorded_dir(), site)
    (site / "robots.txt").write_text("User-agent: *\nCrawl-delay: 60\n")
    slugs = ["bluehost", "nordvpn", "surfshark", "semrush", "hostinger", "canva", "tiny-notes"]
    # each program's page: 503, 503, then 429, each with Retry-After: 60, then the page (a route serves `times` uses)
    routes = [{"path": f"/p/{slug}/", "status": status, "headers": {"Retry-After": "60"}, "times": 1}
              for slug in slugs for status in (503, 503, 429)]
    (site / "routes.json").write_text(json.dumps(routes))
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True, crawl_time_limit_s=900))
    with recorded_sites("affiliateprograms", directories={"affiliateprograms": site}) as urls:
        # one request at a time: on the fake clock, a fetch in flight while another waits its minute would pass its
        # 60 s deadline
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=1, concurrency=1))
        report = pipeline.scrape(rt, "ap")
    assert sum(time.sleeps) <= 900, f"{sum(time.sleeps):.0f} s of waits asked for in a 900 s function"
    assert any(wait == 60 for wait in time.sleeps)  # Retry-After honoured
    # robots.txt (1 s), /sitemap.xml (60 s: robots.txt names no sitemap) and the 3 listings (180 s); each program's page
    # its spacing and 3 retries of 60 s (240 s: a retry's spacing is spent in its Retry-After), two of them (721 s); the
    # third's first retry would take the waits past 810 s: that page stays queued with the other 4
    assert report.budget_spent == BudgetSpent(5, 5, out_of_time=True) and not report.failures
    assert report.records == 2 and report.incomplete.startswith("stopped at its time budget after 5 pages")
    assert rt.store.get(report.batch_key).data.count(b"\n") + 1 == report.records  # the batch is stored


def test_a_sync_whose_api_answers_429_with_retry_after_stops_before_the_time_limit_and_keeps_what_it_read(tmp_path,
                                                                                                        monkeypatch):
    """A sync honoured each provider's Retry-After but counted no wait: a provider throttling with `Retry-After: 60`
    made a 100 s function ask for 3 minutes of waits, killed at its limit with nothing stored. Its requests' waits are
    now charged before they are made: the one that would pass the time budget is not made, and the sync ends with
    what it read, incomplete (withdrawing nothing), saying why."""
    from affiliate_matrix import sync as syncing
    from affiliate_matrix.events import RAW_BATCH_STORED
    from affiliate_matrix.sync import Api
    from tests.support.recorded_expected import EXPECTED

    time = FakeTime()
    monkeypatch.setattr(syncing, "Api", partial(Api, **time.options(HostLimits())))
    site = tmp_path / "site"
    shutil.copytree(get_source("cj").recorded_dir(), site)
    routes = json.loads((site / "routes.json").read_text())
    second_page = {**routes[1]["query"]}
    # the second page answers 429 with Retry-After: 60 to every attempt (a route serves `times` uses)
    routes.insert(0, {"path": "/v2/advertiser-lookup", "query": second_page, "status": 429, "times": 10,
                      "headers": {"Retry-After": "60"}})
    (site / "routes.json").write_text(json.dumps(routes))
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True, crawl_time_limit_s=100))
    announced = []
    rt.bus.subscribe(RAW_BATCH_STORED, lambda event: announced.append(event.data))
    rt.secrets.write("connections/cj", EXPECTED["cj"]["credentials"])
    with recorded_sites("cj", directories={"cj": site}) as urls:
        save_connection(rt.store, Connection(id="cj", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                             credentials_path="connections/cj"))
        report = pipeline.scrape(rt, "cj")
    assert sum(time.sleeps) <= 100, f"{sum(time.sleeps):.0f} s of waits asked for in a 100 s function"
    assert time.sleeps.count(60) == 1  # Retry-After honoured, once: the second would pass the 90 s budget
    (failure,) = report.failures
    assert failure.out_of_time and "not asked: its wait of 60 s would pass the run's 90 s of waits" in failure.reason
    assert report.records == 2  # the first page's advertisers, kept
    assert rt.store.get(report.batch_key).data.count(b"\n") + 1 == report.records
    assert report.incomplete == ("stopped at its time budget after 2 records (the waits the API's rate limit and its "
                                 "answers' Retry-After asked for fit no more in the function's time limit); what it "
                                 "read is kept")
    assert [event["complete"] for event in announced] == [False]  # an incomplete run withdraws nothing
