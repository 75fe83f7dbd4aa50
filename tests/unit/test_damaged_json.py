"""Stored JSON state read through the one reader (storage.read_json): a damaged document is the caller's to
judge, never an exception out of the read; the connection's HTTP cache (fetch.http_cache) and an index run's
pending deltas (pipeline.pending_deltas) are read by it."""

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.storage import read_json

DEEP = b"[" * 100_000  # JSON nested past the parser's depth: RecursionError, not ValueError


def test_a_document_nested_past_the_parsers_depth_is_damaged_not_an_exception(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path))
    etag = rt.store.put("state/deep.json", DEEP, content_type="application/json")
    value, found_etag, problem = read_json(rt.store, "state/deep.json", lambda v: isinstance(v, dict), "an object")
    assert value is None and found_etag == etag and "nested" in problem


@pytest.mark.parametrize("data,problem", [
    (b'{"http://x/": {"etag": "\\"v1", ', "Expecting"),  # cut short
    (b'["http://x/"]', "not a mapping of URLs to their validators"),
    (b'{"http://x/": {"etag": 1}}', "not a mapping of URLs to their validators"),
    (b'{"generation": 5, "pages": {}}', "not a mapping of URLs to their validators"),  # as a connection's crawl

    (b'{"generation": null, "pages": {"http://x/": {"etag": 1}}}', "not a mapping of URLs to their validators"),
    (DEEP, "nested"),
])
def test_a_damaged_http_cache_is_logged_and_read_as_empty(tmp_path, data, problem):
    """It is only a cache: damaged in any way, it is logged naming it and the crawl fetches every page in full.
    Nested past the parser's depth it raised RecursionError out of the crawl (its reader was its own)."""
    from affiliate_matrix.pipeline import http_cache

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("http-cache/ap.json", data, content_type="application/json")
    with capture_logs() as logs:
        assert http_cache(rt, "http-cache/ap.json") == {}
    (line,) = [line for line in logs if line["event"] == "http_cache.damaged"]
    assert line["key"] == "http-cache/ap.json" and problem in line["problem"]


def test_a_sound_http_cache_is_read_as_it_is(tmp_path):
    from affiliate_matrix.pipeline import http_cache

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("http-cache/ap.json", b'{"http://x/": {"etag": "\\"v1\\"", "last_modified": null}}')
    assert http_cache(rt, "http-cache/ap.json") == {"http://x/": {"etag": '"v1"', "last_modified": None}}
    assert http_cache(rt, "http-cache/none.json") == {}


@pytest.mark.parametrize("data,problem", [
    (b'[{"id": "d1", ', "Expecting"),  # cut short
    (b'{"d1": {}}', "not a list of deltas"),
    (b'[{"id": "d1"}]', "validation error"),
    (b'[1]', "validation error"),
    (DEEP, "nested"),
])
def test_a_damaged_pending_list_is_logged_and_read_as_none(tmp_path, data, problem):
    """Only a resend is lost (the deltas are in the feed): damaged in any way, the list an index run keeps beside its
    batch is logged naming it. Nested past the parser's depth it raised RecursionError out of the index run (its
    reader was its own)."""
    from affiliate_matrix.pipeline import pending_deltas

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put("pending/index/b.json", data, content_type="application/json")
    with capture_logs() as logs:
        assert pending_deltas(rt, "pending/index/b.json") == {}
    (line,) = [line for line in logs if line["event"] == "index.pending_damaged"]
    assert line["key"] == "pending/index/b.json" and problem in line["problem"]


def test_a_sound_pending_list_is_read_as_it_is(tmp_path):
    from datetime import UTC, datetime

    from affiliate_matrix.models import DeltaChange
    from affiliate_matrix.pipeline import pending_deltas

    rt = Runtime("test", Settings(data_dir=tmp_path))
    assert pending_deltas(rt, "pending/index/none.json") == {}
    delta = DeltaChange(id="d1", program_id=f"p_{'0' * 16}", change="created", at=datetime(2026, 12, 3, tzinfo=UTC),
                        source="ap")
    rt.store.put("pending/index/b.json", f"[{delta.model_dump_json()}]".encode())
    assert pending_deltas(rt, "pending/index/b.json") == {"d1": delta}
