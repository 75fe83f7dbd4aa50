"""Every source plugin's parsers, fed mutated versions of their own recorded pages (and junk),
raise nothing but ParseError: a broken page is a recorded parse error, never a crash."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affiliate_matrix.crawl import records_of
from affiliate_matrix.connections import Connection
from affiliate_matrix.models import RawRecord
from affiliate_matrix.sources import ApiSource, Listing, Page, ParseError, Request, Source, all_sources
from tests.support.hostile import mutate

PLUGINS = {name: source for name, source in all_sources().items()
           if source.__module__.startswith("affiliate_matrix.sources.")}  # the package's own, not test doubles
DIRECTORIES = {name: source for name, source in PLUGINS.items() if not issubclass(source, ApiSource)}
PAGES = [(name, path) for name, source in DIRECTORIES.items() for path in sorted(source.recorded_dir().rglob("*"))
         if path.suffix in (".html", ".rss", ".xml", ".json")]
# Each plugin's detail address, so that its detail callback (and the generic reader behind it) reads the page.
DETAIL_PATHS = {"affiliateprograms": "/p/fuzzed/", "affiliationlist": "/program/fuzzed",
                "affiliatesdirectory": "/program/1/fuzzed.html", "affiliatefix": "/threads/fuzzed.1/"}
GENERIC_PAGES = [(name, path) for name in ("affiliateprograms", "affiliationlist", "affiliatesdirectory")
                 for path in sorted((Path(__file__).resolve().parents[1] / "data" / "generic-pages").glob("*.html"))]


def run_every_callback(source_name: str, html: str) -> None:
    """As the crawler does: each callback, its listings made RawRecords."""
    source = PLUGINS[source_name]()
    connection = Connection(id="fuzz", source=source_name)
    callbacks = {name for name in dir(source) if name.startswith("parse") and name != "parse_page"}
    for callback in sorted(callbacks):
        page = Page(url=f"{source.base_url}{DETAIL_PATHS.get(source_name, '/p/fuzzed/')}", status=200, text=html,
                    raw_key="raw/fuzz/x.html")
        try:
            items = records_of(source, connection, page, callback, datetime.now(UTC))
            assert all(isinstance(item, (RawRecord, Request)) for item in items)
        except ParseError:
            pass


@pytest.mark.parametrize("source_name,path", PAGES, ids=[f"{n}:{p.parent.name}/{p.name}" for n, p in PAGES])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), cuts=st.integers(1, 12))
def test_mutated_recorded_pages_raise_only_parse_errors(source_name, path, seed, cuts):
    run_every_callback(source_name, mutate(path.read_text(), seed, cuts))


@pytest.mark.parametrize("source_name,path", GENERIC_PAGES, ids=[f"{n}:{p.name}" for n, p in GENERIC_PAGES])
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), cuts=st.integers(1, 12))
def test_mutated_pages_of_unknown_layouts_raise_only_parse_errors(source_name, path, seed, cuts):
    """The generic reader behind each detail callback, on broken JSON-LD, half lists and cut tables."""
    run_every_callback(source_name, mutate(path.read_text(), seed, cuts))


@settings(max_examples=150, deadline=None)
@given(html=st.text(max_size=3000))
def test_arbitrary_text_raises_only_parse_errors(html):
    for name in DIRECTORIES:
        run_every_callback(name, html)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_every_plugin_has_its_readme_and_recorded_pages(name):
    source, recorded = PLUGINS[name], PLUGINS[name].recorded_dir()
    assert (recorded.parent / "README.md").is_file(), f"{name}: describe the site's structure in README.md"
    if issubclass(source, ApiSource):
        assert (recorded / "routes.json").is_file(), f"{name}: record the API's responses with routes.json"
    else:
        assert len(list(recorded.rglob("*.html"))) >= 3, f"{name}: record list and detail pages"
        assert (recorded / "robots.txt").is_file(), f"{name}: record the site's robots.txt"


@pytest.mark.parametrize("fields,named", [({"name": ""}, "name"), ({"merchant_url": "javascript:alert(1)"}, "merchant_url"),
                                          ({"join_url": "/relative/join"}, "join_url"), ({"name": "x" * 301}, "name")])
def test_a_listing_that_does_not_fit_a_record_is_a_parse_error_naming_the_field(fields, named):
    class Careless(Source):
        name, base_url = "careless", "https://careless.example"

        def parse(self, page):
            yield Listing(**{"record_key": "k", "name": "Careless", **fields})

    page = Page(url="https://careless.example/p/k/", status=200, text="<p>", raw_key="raw/careless/x.html")
    with pytest.raises(ParseError, match=rf"careless.example/p/k/: {named}: "):
        records_of(Careless(), Connection(id="careless", source="careless"), page, "parse", datetime.now(UTC))


def test_a_feed_declaring_an_encoding_python_lacks_is_read_as_the_text_it_is():
    """Found by the fuzzer above: a mutated XML declaration (encoding="ut") raised LookupError. The feed's text is
    decoded already: its declaration names no encoding of that text, and is not used to read it."""
    from affiliate_matrix.sources import Page
    from affiliate_matrix.sources.affiliatefix import feed_items

    page = Page(url="http://x/forums/-/index.rss", status=200, text='<?xml version="1.0" encoding="ut"?><rss/>',
                raw_key="raw/x")
    with pytest.raises(ParseError, match="RSS without a channel"):
        feed_items(page)
