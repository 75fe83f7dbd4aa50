"""Paging the explorer in a real browser (Debian's Chromium under Playwright, as test_web_browser.py): the Merchants
page's Next and Previous links, Previous all the way back to the first page from ten pages deep, and the Changes
page's Newer back to the newest from deeper than its address once kept."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.models import DeltaChange, FieldChange
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.browser import serious_violations, sign_in, web_server
from tests.support.factories import make_program

pytestmark = pytest.mark.slow

SHOPS = 12  # programs, each of its own merchant
CHANGES = 42  # changes, one a page: more pages than the Changes page's address once kept (25 to 40)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("paging")
    rt = Runtime("test", Settings(data_dir=data))
    for spec in (PROGRAMS_INDEX, DELTAS_INDEX):
        rt.index.ensure_index(spec)
    rt.index.bulk_upsert("programs", [to_document(make_program(f"Shop {i:02}", f"https://shop{i:02}.com",
                                                               commission_text=f"{i}% per sale"))
                                      for i in range(SHOPS)], refresh=True)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rt.index.bulk_upsert("deltas", [delta_document(
        DeltaChange(id=f"d_{n:03}", program_id="p_0000000000000001", change="updated", source="test",
                    at=start + timedelta(hours=n), fields=[FieldChange(field="cookie_days", old=n, new=n + 1)]),
        recorded_at=start + timedelta(days=n)) for n in range(CHANGES)], refresh=True)
    server = web_server(data)
    yield server.url, create_token(rt.secrets, "read")
    server.stop()


def pager(page):
    return page.get_by_role("navigation", name="Pages")


def merchants(page) -> list[str]:
    return page.locator("table.merchants tbody tr td:first-child a").all_inner_texts()


def programs(page) -> list[str]:
    return page.locator("table.programs tbody tr td:first-child a").all_inner_texts()


def test_the_merchants_page_pages_on_by_next_and_back_by_previous(page, served):
    """The Merchants page showed its first page of merchants and no way to the next: Next page and Previous page are
    links of its Pages navigation, as the programs list's are, and the page says which merchants it shows."""
    base, token = served
    sign_in(page, base, token)
    page.goto(f"{base}/merchants?limit=5")
    seen = [merchants(page)]
    assert page.get_by_role("status").inner_text() == "Merchants 1–5; more on the next page."
    for _ in range(2):
        with page.expect_navigation(url=re.compile(r"cursor=")):
            pager(page).get_by_role("link", name="Next page").click()
        seen.append(merchants(page))
    assert [len(names) for names in seen] == [5, 5, 2] and len(set(sum(seen, []))) == SHOPS
    assert page.get_by_role("status").inner_text() == "Merchants 11–12."
    assert pager(page).get_by_role("link", name="Next page").count() == 0
    assert serious_violations(page) == []
    for before in reversed(seen[:-1]):
        with page.expect_navigation():
            pager(page).get_by_role("link", name="Previous page").click()
        assert merchants(page) == before
    assert page.url.endswith("/merchants?limit=5") and pager(page).get_by_role("link").count() == 1  # Next only
    assert page.csp_violations == []


def test_previous_pages_back_to_the_first_page_from_ten_pages_deep(page, served):
    """Next carried at most five earlier pages, so a person ten pages into a list could page back only to its sixth:
    Previous now reaches the first page, each page as it was on the way."""
    base, token = served
    sign_in(page, base, token)
    page.goto(f"{base}/programs?sort=name&limit=1")
    seen = [programs(page)]
    for _ in range(9):
        with page.expect_navigation(url=re.compile(r"cursor=")):
            pager(page).get_by_role("link", name="Next page").click()
        seen.append(programs(page))
    assert sum(seen, []) == [f"Shop {i:02}" for i in range(10)]
    assert page.locator("#result-count").inner_text() == f"10 of {SHOPS} programs"
    for before in reversed(seen[:-1]):
        with page.expect_navigation():
            pager(page).get_by_role("link", name="Previous page").click()
        assert programs(page) == before
    assert page.url.endswith("/programs?sort=name&limit=1")
    assert page.locator("#result-count").inner_text() == f"1 of {SHOPS} programs"
    assert pager(page).get_by_role("link", name="Previous page").count() == 0
    assert page.get_by_text("further back than").count() == 0


def test_newer_pages_back_to_the_newest_change_from_deeper_than_the_address_once_kept(page, served):
    """The Changes page's Newer link kept the earlier pages in its address and dropped the oldest past 25 to 40 pages:
    from the last of 42 pages, Newer now reaches the newest change, each page as Older showed it."""
    base, token = served
    sign_in(page, base, token)
    page.goto(f"{base}/changes?limit=1")
    when = page.locator("table.changes tbody td[data-label=When] time")
    seen = [when.get_attribute("datetime")]
    for _ in range(CHANGES - 1):
        with page.expect_navigation(url=re.compile(r"cursor=")):
            pager(page).get_by_role("link", name="Older").click()
        seen.append(when.get_attribute("datetime"))
    assert len(set(seen)) == CHANGES and pager(page).get_by_role("link", name="Older").count() == 0
    for before in reversed(seen[:-1]):
        with page.expect_navigation():
            pager(page).get_by_role("link", name="Newer").click()
        assert when.get_attribute("datetime") == before
    assert pager(page).get_by_role("link", name="Newer").count() == 0
    assert "back=" not in page.url and page.csp_violations == []
