"""connections.write_kept as a store or a document misbehaves: a HEAD that lies about the record, a connection
document damaged. What a run keeps is never written over another's on a lie, nor kept for a connection that cannot
be read: the write is dropped, logged."""

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.connections import (Connection, connection_key, http_cache_key, load_connection, save_connection,
                                         write_kept)
from affiliate_matrix.storage.local import LocalObjectStore

KEY = http_cache_key("ap")


@pytest.fixture
def store(tmp_path):
    store = LocalObjectStore(tmp_path)
    save_connection(store, Connection(id="ap", source="affiliateprograms"), create=True)
    store.put(KEY, b'{"theirs": true}', content_type="application/json")
    return store


@pytest.mark.parametrize("lie", [None, '"not-its-etag"'], ids=["absent", "another-etag"])
def test_a_head_that_lies_about_the_record_writes_nothing_over_it(store, monkeypatch, lie):
    connection = load_connection(store, "ap")[0]
    monkeypatch.setattr(store, "head", lambda key: lie if key == KEY else LocalObjectStore.head(store, key))
    with capture_logs() as logs:
        assert write_kept(store, connection, KEY, lambda: b'{"mine": true}') is False
    assert store.get(KEY).data == b'{"theirs": true}'
    assert [line["event"] for line in logs] == ["kept.dropped"], logs


def test_a_damaged_connection_document_keeps_nothing(store):
    connection = load_connection(store, "ap")[0]
    store.put(connection_key("ap"), b'{"id": "ap", "source": ', content_type="application/json")
    with capture_logs() as logs:
        assert write_kept(store, connection, KEY, lambda: b'{"mine": true}') is False
    assert store.get(KEY).data == b'{"theirs": true}'
    assert "cannot be read" in logs[-1]["reason"], logs
