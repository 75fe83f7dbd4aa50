"""A sitemap is read as it streams (sitemaps._entries): each element let go as it ends, so what a 5 MB one holds at
once is a few elements, however it is shaped."""

import tracemalloc

import pytest

from affiliate_matrix.sitemaps import _entries

EMPTY = 128_000  # <a/> elements: 512 KB of a sitemap (one of 5 MB, MAX_BYTES, holds ten times as many)


@pytest.mark.parametrize("body", [
    b"<urlset>" + b"<a/>" * EMPTY + b"</urlset>",  # in the root: only its <url> entries were let go
    b"<urlset><url><loc>http://x.test/p/a/</loc>" + b"<a/>" * EMPTY + b"</url></urlset>",  # in one entry
    b"<urlset><url><loc>http://x.test/p/a/" + b"<a/>" * EMPTY + b"</loc></url></urlset>",  # in an entry's child
], ids=["root", "entry", "child"])
def test_a_sitemap_of_many_empty_elements_is_not_held_as_a_tree(body):
    """Held whole, the elements took twenty times the bytes read (a 5 MB sitemap, some 110 MB)."""
    tracemalloc.start()
    try:
        entries = list(_entries("http://x.test/sitemap.xml", body))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(entries) <= 1 and peak < 8 * len(body), f"{peak:,} bytes at most for {len(body):,} read"


def test_an_entrys_children_are_read_as_before_and_its_grandchildren_are_not():
    body = (b'<urlset xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"><url><loc>http://x.test/p/a/</loc>'
            b"<image:image><image:loc>http://x.test/a.png</image:loc></image:image><lastmod>2025-01-01</lastmod></url>"
            b"<url><lastmod>2025-01-02</lastmod></url><url><loc> http://x.test/p/b/ </loc></url></urlset>")
    assert list(_entries("u", body)) == [("url", "http://x.test/p/a/", "2025-01-01"),
                                         ("url", "http://x.test/p/b/", None)]
