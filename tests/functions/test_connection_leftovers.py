"""A deleted connection's runs left what they kept of it alone (its API answers, its HTTP cache) under its id: one
created again under the id replayed the old one's answers and sent its validators. Deleting a connection (DELETE
/connections/{id}, `amx connections delete`) removes them after it, and a delete cut short between is finished by
the same delete again. Raw pages (content-addressed, shared by the source's connections) stay. On the local store and
on a real S3 server (moto_server)."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from functions_framework import create_app
from structlog.testing import capture_logs
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


def deleted_meanwhile(connection_id: str):
    """Deletes the connection as `amx connections delete` does (its kept state swept), as a run of it still goes on."""
    from affiliate_matrix.cli import app

    result = CliRunner().invoke(app, ["connections", "delete", connection_id])
    assert result.exit_code == 0, result.output


def loopback(rt, monkeypatch) -> Runtime:
    """The fixture's runtime where syncs may fetch from the recorded sites (on loopback)."""
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    return Runtime("test", load_settings(data_dir=rt.settings.data_dir))


def put_meanwhile(store, monkeypatch, key: str, meanwhile) -> None:
    """`meanwhile()` runs just before the first put of `key` (a run's, past its check that its connection is stored),
    as another process would between that check and the put."""
    put, waiting = store.put, [meanwhile]

    def first_after(put_key, *args, **kwargs):
        if put_key == key and waiting:
            waiting.pop()()
        return put(put_key, *args, **kwargs)

    monkeypatch.setattr(store, "put", first_after)


@pytest.fixture
def dropped(monkeypatch):
    """The reasons of the writes of kept state dropped (connections.write_kept) as they are logged, whatever the CLI
    (deleting a connection) configures logging to since."""
    import structlog
    from structlog.testing import LogCapture

    from affiliate_matrix import connections

    logged = LogCapture()
    monkeypatch.setattr(connections, "log", structlog.wrap_logger(None, processors=[logged]))
    return lambda: [line["reason"] for line in logged.entries if line["event"] == "kept.dropped"]


def test_a_sync_running_at_its_connections_delete_keeps_no_answers_and_the_one_created_again_keeps_its_own(
        rt, monkeypatch, dropped):
    """The sync ends after the delete swept its connection's answers: it keeps none (logged, saying why), so the
    connection created again under the id has none to replay until its own sync keeps them."""
    from affiliate_matrix import sync as syncing
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.pipeline import scrape

    rt, keep = loopback(rt, monkeypatch), syncing.keep_answers
    rt.secrets.write("connections/cj", RECORDED_CREDENTIALS["cj"])

    def deleted_first(store, connection, *args, **kwargs):
        deleted_meanwhile(connection.id)
        keep(store, connection, *args, **kwargs)

    with recorded_sites("cj") as urls:
        connection = Connection(id="cj", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                credentials_path="connections/cj")
        save_connection(rt.store, connection, create=True)
        monkeypatch.setattr(syncing, "keep_answers", deleted_first)
        synced = scrape(rt, "cj")
        monkeypatch.setattr(syncing, "keep_answers", keep)
        assert rt.store.head(connection_key("cj")) is None and rt.store.head(answers_key("cj")) is None
        assert dropped() == ["connection 'cj' is not stored (deleted while this run went on): api-answers/cj.json "
                             "would be kept for no connection"]
        save_connection(rt.store, connection, create=True)  # created again: another generation
        with pytest.raises(InvalidInput, match=r"^cj has no API answers kept to replay .*a replay reads that sync's "
                                               r"answers$"):
            scrape(rt, "cj", replay=True)
        again = scrape(rt, "cj")
    assert again.run != synced.run and again.records == synced.records
    replayed = scrape(rt, "cj", replay=True)  # its own answers, with no network
    assert replayed.run == again.run and replayed.records == again.records and not replayed.failures


def test_answers_a_sync_keeps_as_its_connection_is_deleted_are_never_replayed_by_the_one_created_again(
        rt, monkeypatch):
    """Deleted between the sync's check that its connection is stored and its write, where no answers were kept to
    write over (nor to sweep): the answers land, kept for the deleted generation, and the connection created again
    under the id reads them as none, saying why; its own sync's answers replace them."""
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.pipeline import scrape

    rt = loopback(rt, monkeypatch)
    rt.secrets.write("connections/cj", RECORDED_CREDENTIALS["cj"])
    with recorded_sites("cj") as urls:
        connection = Connection(id="cj", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                credentials_path="connections/cj")
        save_connection(rt.store, connection, create=True)
        put_meanwhile(rt.store, monkeypatch, answers_key("cj"), lambda: deleted_meanwhile("cj"))
        synced = scrape(rt, "cj")
        assert rt.store.head(connection_key("cj")) is None and rt.store.head(answers_key("cj")) is not None
        save_connection(rt.store, connection, create=True)  # created again: another generation
        with pytest.raises(InvalidInput) as refused:
            scrape(rt, "cj", replay=True)
        assert str(refused.value).startswith(
            "cj has no API answers kept to replay (syncs keep them since 2026-12-07): amx scrape cj syncs it, and a "
            "replay reads that sync's answers (api-answers/cj.json was kept for generation g_"), refused.value
        assert str(refused.value).endswith(": for a connection deleted under its id)")
        again = scrape(rt, "cj")
    assert again.run != synced.run and again.records == synced.records
    replayed = scrape(rt, "cj", replay=True)
    assert replayed.run == again.run and replayed.records == again.records and not replayed.failures


def test_a_sync_ending_after_its_connection_was_created_again_and_synced_leaves_the_new_ones_answers(
        rt, monkeypatch, dropped):
    """Deleted while it synced, created again under the id, and synced (it kept its answers): the first sync's
    answers, written after, would have replaced them (their replay refused, as another generation's). Whether the
    first sync ends before the new connection's write is checked or after (its write then fails its condition, and is
    checked again), the new one's answers stay."""
    from affiliate_matrix import sync as syncing
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.pipeline import scrape

    rt, keep = loopback(rt, monkeypatch), syncing.keep_answers
    rt.secrets.write("connections/cj", RECORDED_CREDENTIALS["cj"])
    with recorded_sites("cj") as urls:
        connection = Connection(id="cj", source="cj", base_url=urls["cj"], rate_limit_per_s=50,
                                credentials_path="connections/cj")
        save_connection(rt.store, connection, create=True)
        scrape(rt, "cj")  # answers kept before: the late write is If-Match on them
        new = []

        def created_again_and_synced():  # as another process would: the late sync's event loop is running
            deleted_meanwhile("cj")
            save_connection(rt.store, connection, create=True)
            with ThreadPoolExecutor(1) as elsewhere:
                new.append(elsewhere.submit(scrape, rt, "cj").result())

        def before_its_check(store, connection, *args, **kwargs):
            monkeypatch.setattr(syncing, "keep_answers", keep)
            created_again_and_synced()
            keep(store, connection, *args, **kwargs)

        for tries, meanwhile in enumerate(("before its check", "between its check and its write"), start=1):
            if meanwhile == "before its check":
                monkeypatch.setattr(syncing, "keep_answers", before_its_check)
            else:
                put_meanwhile(rt.store, monkeypatch, answers_key("cj"), created_again_and_synced)
            late = scrape(rt, "cj")
            *_, ours = new
            assert json.loads(rt.store.get(answers_key("cj")).data)["run"] == ours.run != late.run, meanwhile
            *_, why = dropped()
            assert len(dropped()) == tries
            assert why.startswith("connection 'cj' was deleted while this run (of generation g_") and why.endswith(
                "api-answers/cj.json is the new one's"), why
            replayed = scrape(rt, "cj", replay=True)  # the new one's own answers
            assert replayed.run == ours.run and replayed.records == ours.records and not replayed.failures


def test_a_crawl_running_at_its_connections_delete_keeps_no_cache_and_the_one_created_again_keeps_its_own(
        rt, monkeypatch, dropped):
    """The crawl ends after the delete swept its connection's HTTP cache: it keeps none, so the connection created
    again under the id replays none of its pages and its crawl sends none of its validators (every page fetched in
    full, none answered 304), then keeps its own, which its next crawl sends."""
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.pipeline import scrape

    rt = loopback(rt, monkeypatch)
    with recorded_sites("affiliateprograms") as urls:
        connection = Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                rate_limit_per_s=50)
        save_connection(rt.store, connection, create=True)
        first = scrape(rt, "ap",
                           on_item=lambda item: rt.store.head(connection_key("ap")) and deleted_meanwhile("ap"))
        assert rt.store.head(connection_key("ap")) is None and rt.store.head(http_cache_key("ap")) is None
        assert dropped() == ["connection 'ap' is not stored (deleted while this run went on): http-cache/ap.json "
                             "would be kept for no connection"]
        save_connection(rt.store, connection, create=True)  # created again: another generation
        assert scrape(rt, "ap", replay=True).records == 0  # none of the deleted one's pages
        fresh = scrape(rt, "ap")
        cached = scrape(rt, "ap")
    assert first.pages == fresh.pages == cached.pages > 0
    assert fresh.not_modified == 0 and fresh.records == first.records
    assert cached.not_modified == cached.pages  # its own validators, kept by its crawl, are sent


def test_a_crawl_ending_after_its_connection_was_created_again_and_crawled_leaves_the_new_ones_cache(
        rt, monkeypatch, dropped):
    """Deleted while it crawled, created again under the id, and crawled (it kept its cache): the first crawl's cache,
    written after, would have replaced it, and the new one's next crawl fetched every page in full. It stays."""
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.pipeline import scrape

    rt = loopback(rt, monkeypatch)
    with recorded_sites("affiliateprograms") as urls:
        connection = Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                rate_limit_per_s=50)
        save_connection(rt.store, connection, create=True)
        new = []

        def created_again_and_crawled(item):
            if not new:
                deleted_meanwhile("ap")
                save_connection(rt.store, connection, create=True)
                new.append(scrape(rt, "ap"))

        scrape(rt, "ap", on_item=created_again_and_crawled)
        assert [why.endswith("http-cache/ap.json is the new one's") for why in dropped()] == [True]
        cached = scrape(rt, "ap")
    assert new[0].pages == cached.pages == cached.not_modified > 0  # the new one's validators, kept by its crawl


def kept_by(rt, connection: Connection, text: str) -> bool:
    from affiliate_matrix.connections import write_kept

    return write_kept(rt.store, connection, http_cache_key(connection.id), lambda: text.encode())


def test_of_two_runs_of_one_connection_writing_at_once_the_later_writes_last(rt, monkeypatch, dropped):
    """A run whose write fails its condition because another run of the connection's generation wrote meanwhile (two
    overlapping) writes again over that one's: each is the connection's own, and it ended last."""
    from affiliate_matrix.connections import created

    connection = created(Connection(id="ap", source="affiliateprograms"))
    save_connection(rt.store, connection, create=True)
    assert kept_by(rt, connection, '"before"')
    put_meanwhile(rt.store, monkeypatch, http_cache_key("ap"), lambda: kept_by(rt, connection, '"earlier"'))
    assert kept_by(rt, connection, '"later"')
    assert rt.store.get(http_cache_key("ap")).data == b'"later"' and dropped() == []
    assert kept_by(rt, connection, '"after"') and rt.store.get(http_cache_key("ap")).data == b'"after"'


def test_a_run_whose_connection_is_deleted_between_its_check_and_its_write_writes_nothing_over_the_sweep(
        rt, monkeypatch, dropped):
    """The delete swept what the run's write was conditional on: the write fails, and is checked again."""
    from affiliate_matrix.connections import created, sweep_kept

    connection = created(Connection(id="ap", source="affiliateprograms"))
    save_connection(rt.store, connection, create=True)
    assert kept_by(rt, connection, '"before"')

    def deleted():
        rt.store.delete(connection_key("ap"))
        sweep_kept(rt.store, "ap")

    put_meanwhile(rt.store, monkeypatch, http_cache_key("ap"), deleted)
    assert not kept_by(rt, connection, '"late"')
    assert rt.store.head(http_cache_key("ap")) is None
    assert dropped() == ["connection 'ap' is not stored (deleted while this run went on): http-cache/ap.json would "
                         "be kept for no connection"]


def test_what_runs_kept_before_it_named_a_generation_is_only_a_connection_of_none_s(rt):
    """Answers and a cache kept naming no generation (before kept state named one) may be those of a connection
    deleted under the id: read as its own by a connection created before connections had generations (its runs keep
    none either), never by one that has a generation."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.fetch import http_cache
    from affiliate_matrix.sync import StoredAnswers

    cache = {"http://a.example/": {"etag": '"v1"', "last_modified": None}}
    rt.store.put(answers_key("ap"), b'{"answers": {}, "run": null}', content_type="application/json")
    rt.store.put(http_cache_key("ap"), json.dumps(cache).encode(), content_type="application/json")
    old, new = Connection(id="ap", source="awin"), Connection(id="ap", source="awin", generation="g_" + "0" * 32)
    with capture_logs() as logs:
        assert StoredAnswers(rt.store, old).answers == {}
        assert http_cache(rt, http_cache_key("ap"), connection=old) == cache
    assert logs == []
    with capture_logs() as logs:
        with pytest.raises(InvalidInput, match=r"^ap has no API answers kept to replay .*\(api-answers/ap\.json names "
                                               r"no generation \(kept before it named one\), and connection 'ap' is "):
            StoredAnswers(rt.store, new)
        assert http_cache(rt, http_cache_key("ap"), connection=new) == {}
    assert [(line["event"], line["key"]) for line in logs] == [("kept.another_generation", answers_key("ap")),
                                                               ("kept.another_generation", http_cache_key("ap"))]
