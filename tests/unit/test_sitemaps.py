"""What a sitemap's <lastmod> is read as (sitemaps.last_modified): the latest instant it can mean, so that a page is
never taken as unchanged since its kept copy for a zone the sitemap left out. (The crawl's reading of sitemaps over
real HTTP: tests/e2e/test_sitemaps.py.)"""

from datetime import UTC, datetime

import pytest

from affiliate_matrix.sitemaps import last_modified


@pytest.mark.parametrize(("lastmod", "read"), [
    ("2025-04-01T08:00:00Z", datetime(2025, 4, 1, 8, tzinfo=UTC)),
    ("2025-04-01T10:30:00+02:00", datetime(2025, 4, 1, 8, 30, tzinfo=UTC)),
    ("2025-04-01T08:00:00.25Z", datetime(2025, 4, 1, 8, 0, 0, 250_000, tzinfo=UTC)),
    ("2025-04-01T08:00", datetime(2025, 4, 1, 20, tzinfo=UTC)),  # no zone: at UTC−12, the latest it can be
    ("2025-04-01", datetime(2025, 4, 2, 12, tzinfo=UTC)),  # a date alone: its end, at UTC−12
    (" 2025-04-01 ", datetime(2025, 4, 2, 12, tzinfo=UTC)),
])
def test_a_lastmod_is_read_as_the_latest_instant_it_can_mean(lastmod, read):
    assert last_modified(lastmod) == read


@pytest.mark.parametrize("lastmod", [None, "", "yesterday", "2025-13-01", "2025-04"])
def test_a_lastmod_not_read_is_none_so_the_page_is_asked(lastmod):
    assert last_modified(lastmod) is None
