"""What a sitemap's <lastmod> is read as (sitemaps.last_modified): the latest instant it can mean, so that a page is
never taken as unchanged since its kept copy for a zone the sitemap left out, or a day of the month or year it names;
how a text sitemap is read; what a run's outcome says of the sitemaps it refused; and the sitemaps' notes in the HTTP
cache read back. (The crawl's reading of sitemaps over real HTTP: tests/e2e/test_sitemaps.py.)"""

import json
from datetime import UTC, datetime

import pytest

from affiliate_matrix.sitemaps import Refused, _entries, last_modified


@pytest.mark.parametrize(("lastmod", "read"), [
    ("2025-04-01T08:00:00Z", datetime(2025, 4, 1, 8, tzinfo=UTC)),
    ("2025-04-01T10:30:00+02:00", datetime(2025, 4, 1, 8, 30, tzinfo=UTC)),
    ("2025-04-01T08:00:00.25Z", datetime(2025, 4, 1, 8, 0, 0, 250_000, tzinfo=UTC)),
    ("2025-04-01T08:00", datetime(2025, 4, 1, 20, tzinfo=UTC)),  # no zone: at UTC−12, the latest it can be
    ("2025-04-01", datetime(2025, 4, 2, 12, tzinfo=UTC)),  # a date alone: its end, at UTC−12
    (" 2025-04-01 ", datetime(2025, 4, 2, 12, tzinfo=UTC)),
    # a month or a year alone: the end of its last day, at UTC−12 (a page of "2026-11" may have changed on the 30th)
    ("2026-11", datetime(2026, 12, 1, 12, tzinfo=UTC)),
    ("2026-12", datetime(2027, 1, 1, 12, tzinfo=UTC)),
    ("2024-02", datetime(2024, 3, 1, 12, tzinfo=UTC)),
    ("2026", datetime(2027, 1, 1, 12, tzinfo=UTC)),
])
def test_a_lastmod_is_read_as_the_latest_instant_it_can_mean(lastmod, read):
    assert last_modified(lastmod) == read


@pytest.mark.parametrize("lastmod", [None, "", "yesterday", "2025-13-01", "2025-13", "2025-00", "0000", "9999",
                                     "2025-4", "2025-W14", "20250401"])
def test_a_lastmod_not_read_is_none_so_the_page_is_asked(lastmod):
    assert last_modified(lastmod) is None


def test_a_lastmod_of_a_month_is_never_taken_as_before_a_copy_kept_within_it():
    """A copy kept on November 20th is not newer than a page changed in "2026-11": the change may be of the 30th."""
    assert last_modified("2026-11") > datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert last_modified("2026") > datetime(2026, 12, 31, 23, 59, tzinfo=UTC)


def test_a_text_sitemap_is_read_a_url_a_line():
    body = ("\ufeffhttps://x.test/p/a/\r\n\r\n  https://x.test/p/b/  \nhttps://x.test/über/\n").encode()
    assert list(_entries("https://x.test/sitemap.txt", body)) == [
        ("url", "https://x.test/p/a/", None), ("url", "https://x.test/p/b/", None),
        ("url", "https://x.test/über/", None)]


@pytest.mark.parametrize(("body", "refusal"), [
    (b"https://x.test/p/a/\n\xff\xfe\n", "https://x.test/sitemap.txt: a text sitemap not in UTF-8 (invalid start "
                                             "byte)"),
    (b"\x00\x01garbage\n", "https://x.test/sitemap.txt: not a sitemap (neither XML nor a text sitemap's URL a line: "
                            "it opens with '\\x00\\x01garbage')"),
])
def test_a_text_sitemap_not_in_utf8_or_of_no_urls_is_refused_naming_why(body, refusal):
    with pytest.raises(ValueError) as refused:
        list(_entries("https://x.test/sitemap.txt", body))
    assert str(refused.value) == refusal


def test_a_runs_record_says_the_first_refused_sitemaps_and_how_many_more_apart_from_its_errors():
    from affiliate_matrix.pipeline import ScrapeReport
    from affiliate_matrix.sources import get_source
    from affiliate_matrix.sync_requests import outcome

    source, refused = get_source("affiliateprograms")("https://x.test"), Refused()
    for number in range(5):
        refused.add(source, f"https://x.test/s{number}.xml", "on another host" if number else
                    "https://x.test/s0.xml: not XML read (syntax error)")
    said = outcome(ScrapeReport("ap", "batches/ap/x.jsonl", "e1", records=3, source="affiliateprograms",
                                sitemaps_refused=refused))
    assert said["status"] == "succeeded" and said["errors"] == []
    assert said["sitemaps_refused"] == [
        "sitemap https://x.test/s0.xml: not XML read (syntax error)", "sitemap https://x.test/s1.xml: on another host",
        "sitemap https://x.test/s2.xml: on another host",
        "sitemap: 2 more refused (each logged as sitemap.refused); the crawl went on without them"]
    assert outcome(ScrapeReport("ap", "batches/ap/x.jsonl", "e1", records=0))["status"] == "succeeded"


def test_a_sitemaps_url_naming_a_user_before_the_directorys_host_is_not_the_directorys():
    """`https://paypal.test@x.test/p/a/` is x.test's page to a client, another site's to a reader: the link walk follows
    no such link (Page.follow: not the page's origin), and a sitemap's entry or index named so is refused as well."""
    from affiliate_matrix.sitemaps import _on_host, _program_page
    from affiliate_matrix.sources import get_source

    source = get_source("affiliateprograms")("https://x.test")
    assert _program_page(source, "https://x.test/p/a/", source.base_url)
    for url in ("https://paypal.test@x.test/p/a/", "https://user:secret@x.test/p/a/", "https://@x.test/p/a/"):
        assert _program_page(source, url, source.base_url) is None
        assert not _on_host(url.replace("/p/a/", "/sitemap.xml"), source.base_url)


def test_a_refused_sitemaps_url_is_said_without_the_credentials_it_carries_as_a_failures_is():
    """A run's record is every read token's: a refused sitemap's signed link or user:password@ is redacted there, as in
    its errors (sources.requests_named_in)."""
    from affiliate_matrix.pipeline import ScrapeReport
    from affiliate_matrix.sources import get_source
    from affiliate_matrix.sync_requests import outcome

    source, refused = get_source("affiliateprograms")("https://x.test"), Refused()
    refused.add(source, "https://x.test/s.xml?signature=0123456789abcdef", "not XML read (syntax error)")
    refused.add(source, "https://user:hunter22@x.test/s.xml", "on another host than the directory's (x.test)")
    said = outcome(ScrapeReport("ap", "batches/ap/x.jsonl", "e1", records=3, source="affiliateprograms",
                                sitemaps_refused=refused))["sitemaps_refused"]
    assert said == ["sitemap https://x.test/s.xml?signature=[redacted]: not XML read (syntax error)",
                    "sitemap https://user:[redacted]@x.test/s.xml: on another host than the directory's (x.test)"]
    assert not any("0123456789abcdef" in line or "hunter22" in line for line in said)


def test_the_http_cache_reads_back_the_sitemaps_notes_and_refuses_a_count_that_is_none(tmp_path):
    """A page read unasked and /sitemap.xml noted absent count runs (`unasked`, a whole number): the cache read them as
    damaged (every note a text), so the next run fetched every page in full and asked every page again."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.fetch import http_cache
    from affiliate_matrix.runtime import Runtime

    rt = Runtime("test", Settings(data_dir=tmp_path))
    cache = {"http://a.test/p/1/": {"raw_key": "raw/a/x.html", "kept_in_run": "2026-12-01T00:00:00+00:00",
                                    "unasked": 3},
             "http://a.test/sitemap.xml": {"absent": "HTTP 404", "unasked": 2}}
    rt.store.put("http-cache/a.json", json.dumps(cache).encode(), content_type="application/json")
    assert http_cache(rt, "http-cache/a.json") == cache
    for count in ("3", -1, True, 2.5):
        damaged = {"http://a.test/sitemap.xml": {"absent": "HTTP 404", "unasked": count}}
        rt.store.put("http-cache/a.json", json.dumps(damaged).encode(), content_type="application/json")
        assert http_cache(rt, "http-cache/a.json") == {}
