"""Stored JSON state read through the one reader (storage.read_json): a damaged document is the caller's to
judge, never an exception out of the read."""

from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.storage import read_json

DEEP = b"[" * 100_000  # JSON nested past the parser's depth: RecursionError, not ValueError


def test_a_document_nested_past_the_parsers_depth_is_damaged_not_an_exception(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path))
    etag = rt.store.put("state/deep.json", DEEP, content_type="application/json")
    value, found_etag, problem = read_json(rt.store, "state/deep.json", lambda v: isinstance(v, dict), "an object")
    assert value is None and found_etag == etag and "nested" in problem
