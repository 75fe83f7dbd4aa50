"""A deleted connection's runs left what they kept of it alone (its API answers, its HTTP cache) under its id: one
created again under the id replayed the old one's answers and sent its validators. Deleting a connection (DELETE
/connections/{id}, `amx connections delete`) removes them after it, and a delete cut short between is finished by
the same delete again. Raw pages (content-addressed, shared by the source's connections) stay. On the local store and
on a real S3 server (moto_server)."""

import pytest
from functions_framework import create_app
from typer.testing import CliRunner

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import load_settings
from affiliate_matrix.connections import Connection, answers_key, connection_key, http_cache_key, save_connection
from affiliate_matrix.runtime import Runtime
from tests.support.processes import ROOT


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])
def rt(request, tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    if request.param == "s3":
        request.getfixturevalue("on_s3")
    runtime = Runtime("test", load_settings(data_dir=tmp_path))  # the store the environment names
    assert runtime.settings.object_store == request.param
    return runtime


KEPT = (answers_key("ap"), http_cache_key("ap"))


def connection_with_leftovers(rt) -> tuple[str, str]:
    """Connection "ap" stored, with what its runs keep, a raw page of its source and another connection's cache; its
    ETag and the raw page's key."""
    etag = save_connection(rt.store, Connection(id="ap", source="affiliateprograms"), create=True)
    for key in (*KEPT, http_cache_key("other")):
        rt.store.put(key, b'{"answers": {}}', content_type="application/json")
    raw = rt.store.put_content_addressed("raw/affiliateprograms", b"<html>a page</html>", suffix=".html",
                                         content_type="text/html")
    return etag, raw


def left(rt) -> list[str]:
    return [key for key in KEPT if rt.store.head(key) is not None]


def test_deleted_over_the_api_its_answers_and_cache_go_and_a_delete_cut_short_is_finished_by_the_next(rt):
    client = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    etag, raw = connection_with_leftovers(rt)
    assert client.delete("/connections/ap", headers={**admin, "If-Match": '"stale"'}).status_code == 412
    assert left(rt) == list(KEPT)  # a refused delete loses nothing
    assert client.delete("/connections/ap", headers={**admin, "If-Match": f'"{etag}"'}).status_code == 202
    assert left(rt) == []
    assert rt.store.head(raw) is not None and rt.store.head(http_cache_key("other")) is not None

    connection_with_leftovers(rt)  # created again under the id, then a delete stopped after the connection went
    rt.store.delete(connection_key("ap"))
    assert client.delete("/connections/ap", headers={**admin, "If-Match": "*"}).status_code == 404
    assert left(rt) == [] and rt.store.head(http_cache_key("other")) is not None


def test_deleted_by_amx_its_answers_and_cache_go_and_a_delete_cut_short_is_finished_by_the_next(rt):
    from affiliate_matrix.cli import app

    _, raw = connection_with_leftovers(rt)
    result = CliRunner().invoke(app, ["connections", "delete", "ap"])
    assert result.exit_code == 0, result.output
    assert left(rt) == []
    assert rt.store.head(raw) is not None and rt.store.head(http_cache_key("other")) is not None

    connection_with_leftovers(rt)
    rt.store.delete(connection_key("ap"))
    result = CliRunner().invoke(app, ["connections", "delete", "ap"])
    assert result.exit_code != 0 and "ap" in result.output + str(result.exception)
    assert left(rt) == [] and rt.store.head(http_cache_key("other")) is not None


def test_what_a_connection_created_again_keeps_after_it_was_found_absent_is_the_new_ones(rt, monkeypatch):
    """The sweep deletes on the ETags read before it found the connection absent: a sync of one created again under
    the id meanwhile, which kept its first answers, keeps them."""
    from affiliate_matrix import connections

    connection_with_leftovers(rt)
    rt.store.delete(connection_key("ap"))
    head = rt.store.head

    def created_again_meanwhile(key):
        found = head(key)
        if key == connection_key("ap"):
            rt.store.put(answers_key("ap"), b'{"answers": {"new": {}}}', content_type="application/json")
        return found

    monkeypatch.setattr(rt.store, "head", created_again_meanwhile)
    connections.sweep_kept(rt.store, "ap")
    assert rt.store.get(answers_key("ap")).data == b'{"answers": {"new": {}}}'
    assert head(http_cache_key("ap")) is None


def test_a_connection_named_verify_keeps_no_cache_of_the_verify_job(rt):
    from affiliate_matrix.connections import sweep_kept
    from affiliate_matrix.verify import VALIDATORS_KEY

    rt.store.put(VALIDATORS_KEY, b"{}", content_type="application/json")
    save_connection(rt.store, Connection(id="verify", source="affiliateprograms"), create=True)
    assert http_cache_key("verify") != VALIDATORS_KEY
    rt.store.delete(connection_key("verify"))
    sweep_kept(rt.store, "verify")
    assert rt.store.head(VALIDATORS_KEY) is not None  # the verify job's cache is not the connection's
