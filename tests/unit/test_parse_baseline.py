"""The parse bench compares each directory plugin with a BeautifulSoup + lxml version of it. This
keeps that comparison honest as plugins change: every directory has a baseline, and each baseline
extracts exactly its plugin's fields from every recorded page."""

import pytest

from affiliate_matrix.sources import ApiSource, all_sources
from tests.bench import sources as bench


def test_every_directory_plugin_has_a_baseline():
    directories = {name for name, source in all_sources().items()  # the packaged ones: other tests register doubles
                   if source.__module__.startswith("affiliate_matrix.sources.") and not issubclass(source, ApiSource)}
    assert set(bench.DIRECTORIES) == directories


def test_each_baseline_extracts_what_its_plugin_does():
    pages = [page for name in bench.DIRECTORIES for page in bench.recorded_pages(name)]
    assert {name for name, *_ in pages} == set(bench.DIRECTORIES)
    assert {callback for _, callback, *_ in pages} == {"parse", "parse_program", "parse_thread"}
    bench.check_same_fields(pages)


def test_a_baseline_that_reads_a_field_differently_is_caught(monkeypatch):
    patterns, baseline = bench.DIRECTORIES["affiliationlist"]

    def wrong(callback, url, html):
        return [dict(item, cookie_text=None) if isinstance(item, dict) else item for item in baseline(callback, url, html)]

    monkeypatch.setitem(bench.DIRECTORIES, "affiliationlist", (patterns, wrong))
    with pytest.raises(AssertionError, match="disagrees with the plugin"):
        bench.check_same_fields(bench.recorded_pages("affiliationlist"))
