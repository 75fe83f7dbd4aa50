"""A directory crawl asks for no more pages than the host's pace fits in the scrape function's time limit: one killed
at the limit stored nothing, and began again at the same first pages next time. Over real HTTP (the recorded-sources
server) on a fake clock: the waits are asked for, none is waited."""

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
from tests.support.clock import FakeTime

# AffiliatePrograms.com's recorded site: three listing pages (two categories, one with a second page) and seven
# programs. At a page a second, an 8 s limit less its tenth fits 7 pages: the listings and 4 programs.
LIMIT_S, BUDGET, PROGRAMS = 8, 7, 7


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
    left = PROGRAMS - (BUDGET - 3)
    for report, pages in runs:
        assert len(pages) == BUDGET and report.budget_spent == BudgetSpent(BUDGET, left)
        assert report.incomplete == (f"stopped at its page budget of {BUDGET} pages (what the host's pace fits in the "
                                     f"function's time limit) with {left} left queued, asked for first next run")
        assert rt.store.get(report.batch_key).data.count(b"\n") + 1 == report.records > 0  # the batch is stored
    unreached = {"bluehost", "nordvpn", "surfshark", "semrush", "hostinger", "canva", "tiny-notes"} \
        - programs_asked(first_pages)
    assert len(unreached) == left and unreached < programs_asked(second_pages)
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
    assert f"stopped at its page budget of {BUDGET} pages" in result.output, (result.output, result.exception)
    assert f"with {PROGRAMS - (BUDGET - 3)} left queued, asked for first next run" in result.output
