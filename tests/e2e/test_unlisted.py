"""A program its source stops listing does not stay active for good: a complete sync of a connection that no longer
lists a program withdraws that connection's claims (its network, commission, EPC, …), and a program no source lists
any more is closed_suspected, once in the change feed, until a source lists it again under the same id. A sync that
failed part-way withdraws nothing; another source, or another connection of the same source, still listing the
program keeps it active with its own values; a deleted connection's claims are withdrawn by the index function on
its connection.deleted event. CJ's recorded answers, synced over real HTTP, read through the programs API, on both
search backends."""

import importlib

import pytest
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from tests.support.indexing import BACKENDS, on_backend
from tests.support.processes import ROOT
from tests.support.syncing import Synced, cj_answering


@pytest.fixture(params=BACKENDS)
def synced(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")  # as Synced's runtime: the recorded sites are on this machine
    return Synced(tmp_path)


def sources_of(program: dict) -> set[str]:
    return {claim["source"] for claims in program["provenance"].values() for claim in claims}


def test_a_program_cj_stops_listing_is_closed_once_in_the_feed_and_restored_under_its_id(synced, tmp_path):
    synced.sync("cj")
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and [n["network"] for n in lumen["networks"]] == ["cj"]
    without = cj_answering(tmp_path / "without", {"Lumen Skincare": None})
    (report,) = synced.sync("cj", directories={"cj": without})
    assert report.incomplete is None and report.records == 2
    gone = synced.named("Lumen Skincare")
    assert gone["id"] == lumen["id"] and gone["status"] == "closed_suspected"
    assert gone["networks"] == [] and gone["commission"] == [] and gone["epc_7d"] is None
    assert sources_of(gone) == set()  # no claim of CJ's stands
    assert synced.listed("closed_suspected") == ["Lumen Skincare"]
    assert synced.named("NordVPN")["status"] == "active" and synced.named("Bluehost")["status"] == "active"
    synced.sync("cj", directories={"cj": without})  # the same listing again: no second change
    assert synced.status_changes(lumen["id"]) == [["active", "closed_suspected"], [None, "active"]]
    synced.sync("cj")  # listed again
    back = synced.named("Lumen Skincare")
    assert back["id"] == lumen["id"] and back["status"] == "active"
    assert back["networks"] == lumen["networks"] and back["commission"] == lumen["commission"]
    assert synced.status_changes(lumen["id"]) == [["closed_suspected", "active"], ["active", "closed_suspected"],
                                                  [None, "active"]]


def test_a_program_discovery_found_first_is_closed_once_cj_stops_listing_it(synced, tmp_path):
    """A dork search found Lumen Skincare's page before CJ listed it: that page is evidence it existed, not that the
    program is open, so CJ no longer listing it closes it, its discovery claims kept."""
    from datetime import UTC, datetime

    from affiliate_matrix.models import RawRecord
    from affiliate_matrix.pipeline import index_batch

    found = RawRecord(source="discovery", connection_id="discovery", record_key="lumenskincare.com",
                      url="https://www.lumenskincare.com/affiliates", fetched_at=datetime(2026, 1, 5, tzinfo=UTC),
                      raw_key="raw/discovery/ab/abc.html", name="Lumen Skincare",
                      merchant_url="https://www.lumenskincare.com/",
                      extra={"confidence": "0.8", "evidence": "program wording", "query": "q", "provider": "brave"})
    index_batch(synced.rt, synced.rt.store.put_content_addressed(
        "batches/discovery", found.model_dump_json().encode(), suffix=".jsonl"))
    assert synced.named("Lumen Skincare")["status"] == "discovered"
    synced.sync("cj")
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and sources_of(lumen) == {"cj", "discovery"}
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "without", {"Lumen Skincare": None})})
    gone = synced.named("Lumen Skincare")
    assert (gone["id"], gone["status"], sources_of(gone)) == (lumen["id"], "closed_suspected", {"discovery"})


def test_a_sync_that_failed_part_way_withdraws_nothing(synced, tmp_path):
    synced.sync("cj")
    before = {name: synced.named(name) for name in ("Lumen Skincare", "NordVPN")}
    # Page 1 no longer lists Lumen Skincare, page 2 (NordVPN's) fails: neither is known to be gone
    (report,) = synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", {"Lumen Skincare": None},
                                                                 failing_page=2)}, failing=True)
    assert report.failures and report.incomplete == "1 request or item failed"
    for name, program in before.items():
        after = synced.named(name)
        assert (after["status"], after["networks"], after["commission"]) == (
            "active", program["networks"], program["commission"]), name
    assert synced.listed("closed_suspected") == []


@pytest.mark.parametrize("failing_page,dropped,incomplete", [
    (1, {}, "1 request or item failed"),  # every page failed: its first, whose total says how many there are
    (None, {"Lumen Skincare": None, "NordVPN": None, "Bluehost": None}, "it listed nothing"),  # an empty listing
])
def test_a_sync_that_read_nothing_withdraws_nothing(synced, tmp_path, failing_page, dropped, incomplete):
    """A run that read no program, because it failed or because the account answered with an empty listing, says
    so (`incomplete`) and withdraws nothing: its batch is empty, and an empty listing is taken for a fault, not for
    every program of the source closing at once. Its programs stay active, with their terms, and the feed is quiet."""
    synced.sync("cj")
    before = {name: synced.named(name) for name in ("Bluehost", "Lumen Skincare", "NordVPN")}
    changes = synced.get("/changes?limit=100")["items"]
    (report,) = synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", dropped,
                                                                 failing_page=failing_page)}, failing=True)
    assert (report.records, report.incomplete) == (0, incomplete), report
    for name, program in before.items():
        after = synced.named(name)
        assert (after["status"], after["networks"], after["commission"]) == (
            "active", program["networks"], program["commission"]), name
    assert synced.listed("closed_suspected") == [] and synced.get("/changes?limit=100")["items"] == changes


def test_another_source_still_listing_it_keeps_it_active_with_its_own_values(synced, tmp_path):
    synced.sync("cj", "rakuten")
    both = synced.named("Bluehost")
    assert sorted(n["network"] for n in both["networks"]) == ["cj", "rakuten"]
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", {"Bluehost": None})})
    bluehost = synced.named("Bluehost")
    assert bluehost["id"] == both["id"] and bluehost["status"] == "active"
    assert [n["network"] for n in bluehost["networks"]] == ["rakuten"] and sources_of(bluehost) == {"rakuten"}
    assert bluehost["commission"] == both["provenance"]["commission"][
        [c["source"] for c in both["provenance"]["commission"]].index("rakuten")]["value"]
    assert synced.status_changes(both["id"]) == [[None, "active"]]


@pytest.fixture
def held(synced, monkeypatch):
    """The events the functions under test publish (the connections function's), held for the test to deliver: the
    index function's work is then done by the test, as the Broker would have it done, once or again."""
    from affiliate_matrix import runtime
    from affiliate_matrix.events.inprocess import InProcessBus

    bus = InProcessBus()
    monkeypatch.setattr(runtime, "open_event_bus", lambda settings: bus)
    return bus.published


def deleted_events(held) -> list:
    from affiliate_matrix.events import CONNECTION_DELETED

    return [event for event in held if event.type == CONNECTION_DELETED]


def delivered(synced, event) -> None:
    """The event as the index function takes it."""
    from affiliate_matrix.handlers.index import index_event

    index_event(synced.rt, event)


def claimants(program: dict) -> set[tuple[str, str | None]]:
    return {(claim["source"], claim.get("connection_id")) for claims in program["provenance"].values()
            for claim in claims}


def test_a_deleted_connection_withdraws_its_claims_through_an_event(synced, held):
    """The request answers 202 without withdrawing (36 s at 20,000 programs was the request's before); the index
    function withdraws when the event reaches it, and a redelivered event changes nothing more."""
    synced.sync("cj", "rakuten")
    assert synced.named("NordVPN")["epc_7d"] is not None  # CJ's figure
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    read = connections.get("/connections/cj", headers=admin)
    etag, generation = read.headers["ETag"], read.get_json()["generation"]
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": '"stale"'}).status_code == 412
    assert deleted_events(held) == []  # not deleted: nothing asked
    answer = connections.delete("/connections/cj", headers={**admin, "If-Match": etag})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    (event,) = deleted_events(held)
    assert answer.get_json()["withdrawal"] == "queued" and answer.get_json()["event_id"] == event.id
    assert event.data == {"connection_id": "cj", "source": "cj", "etag": etag.strip('"'),  # the version deleted
                          "generation": generation}
    assert connections.get("/connections/cj", headers=admin).status_code == 404
    assert synced.named("NordVPN")["status"] == "active"  # not withdrawn in the request
    delivered(synced, event)
    nord = synced.named("NordVPN")  # only CJ listed it
    assert (nord["status"], nord["networks"], sources_of(nord)) == ("closed_suspected", [], set())
    assert (nord["epc_7d"], nord["commission"]) == (None, [])
    assert synced.status_changes(nord["id"]) == [["active", "closed_suspected"], [None, "active"]]
    for name in ("Bluehost", "Lumen Skincare"):  # Rakuten lists them still
        program = synced.named(name)
        assert (program["status"], [n["network"] for n in program["networks"]], sources_of(program)) == (
            "active", ["rakuten"], {"rakuten"}), name
    programs, changes = synced.get("/programs?limit=100"), synced.get("/changes?limit=100")
    delivered(synced, event)  # again: Knative delivers at least once
    assert (synced.get("/programs?limit=100"), synced.get("/changes?limit=100")) == (programs, changes)


def test_a_withdrawal_whose_write_failed_is_done_by_the_events_redelivery_nothing_half_written(synced, held,
                                                                                                monkeypatch):
    from affiliate_matrix.errors import BackendUnavailable

    synced.sync("cj")
    lumen = synced.named("Lumen Skincare")["id"]
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    etag = connections.get("/connections/cj", headers=admin).headers["ETag"]
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": etag}).status_code == 202
    (event,) = deleted_events(held)
    write = synced.rt.index.write_if_unchanged  # the programs' write

    def refusing_lumen(name, docs, **kwargs):
        result = write(name, [(d, version) for d, version in docs if d["id"] != lumen], **kwargs)
        result.errors.append((lumen, "refused by the test"))
        return result

    monkeypatch.setattr(synced.rt.index, "write_if_unchanged", refusing_lumen)
    with pytest.raises(BackendUnavailable):  # answered 503: the Broker delivers it again
        delivered(synced, event)
    assert synced.named("Lumen Skincare")["status"] == "active"
    assert synced.status_changes(lumen) == [[None, "active"]]  # its delta not left behind in the feed
    assert synced.listed("closed_suspected") == ["Bluehost", "NordVPN"]
    monkeypatch.setattr(synced.rt.index, "write_if_unchanged", write)
    delivered(synced, event)
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
    for item in synced.get("/programs?limit=100")["items"]:
        assert synced.status_changes(item["id"]) == [["active", "closed_suspected"], [None, "active"]], item["name"]


def test_a_delete_that_lost_to_an_edit_withdraws_nothing(synced, held, monkeypatch):
    """An edit landing between the If-Match check and the delete: the client is answered 412, and the event already
    published changes nothing when it arrives (it withdrew the claims of a connection that stays)."""
    from structlog.testing import capture_logs

    from affiliate_matrix.connections import load_connection, save_connection
    from affiliate_matrix.handlers import connections as handler

    synced.sync("cj")
    announce = handler.announce_deletion

    def edited_meanwhile(rt, connection, etag):
        event = announce(rt, connection, etag)
        save_connection(rt.store, connection.model_copy(update={"schedule": "0 4 * * *"}), if_match=etag)
        return event

    monkeypatch.setattr(handler, "announce_deletion", edited_meanwhile)
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    etag = connections.get("/connections/cj", headers=admin).headers["ETag"]
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": etag}).status_code == 412
    (event,) = deleted_events(held)
    programs, changes = synced.get("/programs?limit=100"), synced.get("/changes?limit=100")
    with capture_logs() as logs:
        delivered(synced, event)
    assert (synced.get("/programs?limit=100"), synced.get("/changes?limit=100")) == (programs, changes)
    assert synced.listed("closed_suspected") == [] and load_connection(synced.rt.store, "cj")[0].schedule == "0 4 * * *"
    (skipped,) = [line for line in logs if line["event"] == "connection.withdrawal_skipped"]
    assert skipped["connection_id"] == "cj" and skipped["deleted_etag"] == etag.strip('"')


def test_a_deletion_event_taken_before_its_delete_is_done_is_retried_until_it_is(synced):
    from affiliate_matrix.connections import connection_key, deletion_event, load_connection
    from affiliate_matrix.errors import BackendUnavailable

    synced.sync("cj")
    connection, etag = load_connection(synced.rt.store, "cj")
    event = deletion_event(connection, etag)
    with pytest.raises(BackendUnavailable, match="still under way"):  # answered 503: the Broker delivers it again
        delivered(synced, event)
    assert synced.listed("closed_suspected") == []
    synced.rt.store.delete(connection_key("cj"), if_match=etag)
    delivered(synced, event)
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
    assert list(synced.rt.store.list("pending/deletions/")) == []


def test_a_deletion_event_naming_no_etag_withdraws_at_once_as_before(synced):
    """Events published before they named the ETag deleted: nothing tells a delete under way from a lost one."""
    from affiliate_matrix.connections import deletion_event, load_connection

    synced.sync("cj")
    event = deletion_event(*load_connection(synced.rt.store, "cj"))
    event = event.model_copy(update={"data": {"connection_id": "cj", "source": "cj"}})
    delivered(synced, event)
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


def test_amx_connections_delete_of_a_connection_edited_meanwhile_deletes_and_withdraws_nothing(synced, monkeypatch):
    from typer.testing import CliRunner

    from affiliate_matrix import connections
    from affiliate_matrix.cli import app

    synced.sync("cj")
    load = connections.load_connection

    def edited_after_the_read(store, connection_id):
        connection, etag = load(store, connection_id)
        connections.save_connection(store, connection.model_copy(update={"schedule": "0 4 * * *"}), if_match=etag)
        return connection, etag

    monkeypatch.setattr(connections, "load_connection", edited_after_the_read)
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert "changed while it was being deleted" in str(result.exception), result.output
    assert load(synced.rt.store, "cj")[0].schedule == "0 4 * * *"
    assert synced.listed("closed_suspected") == []


def test_a_batch_of_a_run_its_connection_was_deleted_during_adds_no_claims_back(synced):
    """A sync still running when its connection is deleted stores its batch after the deletion's withdrawal: indexed
    then, it put the deleted connection's claims back and the programs active again."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.pipeline import index_announced

    (run,) = synced.sync("cj")
    assert CliRunner().invoke(app, ["connections", "delete", "cj"]).exit_code == 0
    programs, changes = synced.get("/programs?limit=100"), synced.get("/changes?limit=100")
    report = index_announced(synced.rt, {"batch_key": run.batch_key, "connection_id": "cj", "complete": True})
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
    assert (synced.get("/programs?limit=100"), synced.get("/changes?limit=100")) == (programs, changes)
    assert (report.created, report.updated, report.deltas) == (0, 0, [])
    assert "3 records of connection cj, deleted since the run" in report.skipped


def test_a_connection_deleted_and_created_again_before_its_event_is_taken_loses_the_old_ones_claims(
        synced, held, tmp_path):
    """Created again under its id before the index function took the deletion's event, the connection looked edited
    (another ETag): the deleted one's claims stayed, for good under a directory crawl. The new one's stand."""
    synced.sync("cj")
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    read = connections.get("/connections/cj", headers=admin)
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": read.headers["ETag"]}).status_code == 202
    (event,) = deleted_events(held)
    created = connections.post("/connections", headers=admin, json={
        k: v for k, v in read.get_json().items() if k in ("id", "source", "base_url", "credentials_path")})
    assert created.status_code == 201 and created.get_json()["generation"] != read.get_json()["generation"]
    # The new one's first sync reads page 1 (Lumen Skincare, Bluehost) and fails on page 2: it withdraws nothing
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", {}, failing_page=2)}, failing=True)
    delivered(synced, event)
    assert synced.listed("closed_suspected") == ["NordVPN"]  # only the deleted one listed it
    for name in ("Bluehost", "Lumen Skincare"):
        program = synced.named(name)
        assert program["status"] == "active" and {claim["generation"] for claims in program["provenance"].values()
                                                   for claim in claims} == {created.get_json()["generation"]}, name


def test_a_batch_of_a_run_begun_before_its_connection_was_created_again_is_not_the_new_ones(synced):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.pipeline import index_announced

    (run,) = synced.sync("cj")
    assert CliRunner().invoke(app, ["connections", "delete", "cj"]).exit_code == 0
    save_connection(synced.rt.store, Connection(id="cj", source="cj"), create=True)
    programs, changes = synced.get("/programs?limit=100"), synced.get("/changes?limit=100")
    report = index_announced(synced.rt, {"batch_key": run.batch_key, "connection_id": "cj", "complete": True})
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
    assert (synced.get("/programs?limit=100"), synced.get("/changes?limit=100")) == (programs, changes)
    assert (report.created, report.updated, report.deltas) == (0, 0, [])
    assert "3 records of connection cj, deleted and created again since the run" in report.skipped


def test_a_connection_deleted_while_its_batch_is_written_does_not_get_its_claims_back(synced, monkeypatch):
    """Deleted, and its claims withdrawn, between index_batch's check that the connection is stored and its writes:
    the batch's claims were written over the withdrawal, for good."""
    from affiliate_matrix import pipeline
    from affiliate_matrix.connections import connection_key, deletion_event, load_connection
    from affiliate_matrix.pipeline import index_announced

    (run,) = synced.sync("cj")
    resolved = pipeline.resolved

    def deleted_meanwhile(rt, programs):
        connection, etag = load_connection(rt.store, "cj")
        event = deletion_event(connection, etag)
        rt.store.delete(connection_key("cj"), if_match=etag)
        delivered(synced, event)
        assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
        return resolved(rt, programs)

    monkeypatch.setattr(pipeline, "resolved", deleted_meanwhile)
    index_announced(synced.rt, {"batch_key": run.batch_key, "connection_id": "cj", "complete": False})
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
    for item in synced.get("/programs?limit=100")["items"]:
        assert sources_of(synced.named(item["name"])) == set(), item["name"]


def test_a_delete_whose_process_stopped_before_deleting_is_dropped_not_parked(synced):
    """DELETE publishes its event, then deletes: a process stopped between the two left an event retried until it
    was parked as a dead letter, though nothing was wrong. A later delivery finding the connection as it was makes
    that delete impossible (the connection written again) and drops the event, logged."""
    from structlog.testing import capture_logs

    from affiliate_matrix.connections import connection_key, deletion_event, load_connection
    from affiliate_matrix.errors import BackendUnavailable, ConflictError

    synced.sync("cj")
    connection, etag = load_connection(synced.rt.store, "cj")
    event = deletion_event(connection, etag)
    programs, changes = synced.get("/programs?limit=100"), synced.get("/changes?limit=100")
    with pytest.raises(BackendUnavailable, match="still under way"):  # the first delivery: it may be a moment behind
        delivered(synced, event)
    with capture_logs() as logs:
        delivered(synced, event)  # a later one: dropped, not retried into a dead letter
    (dropped,) = [line for line in logs if line["event"] == "connection.deletion_dropped"]
    assert dropped["log_level"] == "info" and dropped["deleted_etag"] == etag
    kept, now = load_connection(synced.rt.store, "cj")
    assert kept == connection.model_copy(update={"fenced": etag}) and now != etag  # as a client sees it: unchanged
    with pytest.raises(ConflictError):  # the delete, had its process been running still, can no longer come
        synced.rt.store.delete(connection_key("cj"), if_match=etag)
    delivered(synced, event)  # redelivered again: the connection changed since, nothing withdrawn
    assert (synced.get("/programs?limit=100"), synced.get("/changes?limit=100")) == (programs, changes)
    assert list(synced.rt.store.list("pending/deletions/")) == []


def test_a_fenced_delete_leaves_the_connection_as_a_client_sees_it(synced, held):
    """The fence of a delete whose process stopped before deleting counted the connection's version one more: a client
    saw an edit nobody made. It changes the stored ETag only; a write on the ETag fenced is a 412 that says so."""
    from affiliate_matrix.connections import deletion_event, load_connection
    from affiliate_matrix.errors import BackendUnavailable

    synced.sync("cj")
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    before = connections.get("/connections/cj", headers=admin)
    event = deletion_event(*load_connection(synced.rt.store, "cj"))
    with pytest.raises(BackendUnavailable, match="still under way"):
        delivered(synced, event)
    delivered(synced, event)  # fenced: the delete announced can no longer come
    after = connections.get("/connections/cj", headers=admin)
    assert after.get_json() == before.get_json() and after.headers["ETag"] != before.headers["ETag"]
    stale = connections.patch("/connections/cj", headers={**admin, "If-Match": before.headers["ETag"]},
                              json={"schedule": "0 4 * * *"})
    assert stale.status_code == 412 and "to fence off a delete" in stale.get_json()["error"]["message"]
    assert connections.patch("/connections/cj", headers={**admin, "If-Match": after.headers["ETag"]},
                             json={"schedule": "0 4 * * *"}).get_json()["version"] == before.get_json()["version"] + 1
    assert load_connection(synced.rt.store, "cj")[0].fenced == before.headers["ETag"].strip('"')  # kept by an edit


def test_two_copies_of_a_deletion_event_taken_at_once_do_not_fail_its_delete(synced, held, monkeypatch):
    """Two copies of one connection.deleted event taken at the same instant, before the delete they announce (at least
    once delivery): the second found the first's mark and took the delete for one whose process had stopped, fencing
    it off, and the client, deleting as it should, was answered 412. The delete, finding the connection written again
    with its fields unchanged, announces itself again on its new ETag and is done."""
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.handlers import connections as handler

    synced.sync("cj")
    announce = handler.announce_deletion

    def taken_twice_at_once(rt, connection, etag):
        event = announce(rt, connection, etag)
        if len(deleted_events(held)) == 1:  # the first announcement's copies: both before the delete
            with pytest.raises(BackendUnavailable, match="still under way"):
                delivered(synced, event)  # the first copy leaves its mark
            delivered(synced, event)  # the second finds it: fenced, dropped
        return event

    monkeypatch.setattr(handler, "announce_deletion", taken_twice_at_once)
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    etag = connections.get("/connections/cj", headers=admin).headers["ETag"]
    answer = connections.delete("/connections/cj", headers={**admin, "If-Match": etag})
    assert answer.status_code == 202, answer.get_json()
    first, again = deleted_events(held)
    assert answer.get_json()["event_id"] == again.id and again.data["etag"] != first.data["etag"]
    assert connections.get("/connections/cj", headers=admin).status_code == 404
    for event in (first, again):  # the first copy's redelivery, then the event announcing the delete done
        delivered(synced, event)
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]
    assert list(synced.rt.store.list("pending/deletions/")) == []


def test_amx_connections_delete_with_a_broker_is_not_failed_by_two_copies_of_its_event_taken_at_once(synced,
                                                                                                     monkeypatch):
    """`amx connections delete` with a Broker announces, then deletes, as DELETE /connections/{id} does: two copies of
    its event taken at once fenced its delete off, and it said the connection changed while it was being deleted."""
    from typer.testing import CliRunner

    from affiliate_matrix import runtime
    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.errors import BackendUnavailable, NotFoundError

    class Broker:
        def __init__(self):
            self.sent = []

        def publish(self, event):
            self.sent.append(event)
            if len(self.sent) == 1:  # the first announcement's two copies, both taken before the delete
                with pytest.raises(BackendUnavailable, match="still under way"):
                    delivered(synced, event)
                delivered(synced, event)

    broker = Broker()
    synced.sync("cj")
    monkeypatch.setattr(runtime, "open_event_bus", lambda settings: broker)
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert result.exit_code == 0, result.output + str(result.exception)
    with pytest.raises(NotFoundError):
        load_connection(synced.rt.store, "cj")
    for event in broker.sent:
        delivered(synced, event)
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


def test_amx_connections_delete_withdraws_its_claims(synced):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    synced.sync("cj")
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert result.exit_code == 0, result.output
    assert "3 programs changed" in result.output
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


def test_amx_connections_delete_keeps_a_connection_whose_claims_could_not_be_withdrawn(synced, monkeypatch):
    from typer.testing import CliRunner

    from affiliate_matrix import pipeline
    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.errors import BackendUnavailable

    def unavailable(*args, **kwargs):
        raise BackendUnavailable("the index is down")

    synced.sync("cj")
    monkeypatch.setattr(pipeline, "withdrawn_from", unavailable)
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert result.exit_code == 1 and "the index is down" in result.output, result.output
    assert load_connection(synced.rt.store, "cj")[0].id == "cj"  # kept, to delete again
    assert synced.listed("closed_suspected") == []


def test_two_connections_of_one_source_withdraw_their_own_claims(synced, tmp_path):
    """Two CJ accounts list Lumen Skincare: the one that stops listing it withdraws its claims, the other's keep it
    active; once both stopped, it is closed_suspected (the claims were the source's: neither withdrew anything)."""
    synced.sync("cj")
    synced.sync("cj", connection="cj-agency")
    both = synced.named("Lumen Skincare")
    assert claimants(both) == {("cj", "cj"), ("cj", "cj-agency")}
    (report,) = synced.sync("cj", connection="cj-agency",
                            directories={"cj": cj_answering(tmp_path / "agency", {"Lumen Skincare": None})})
    assert report.incomplete is None
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and claimants(lumen) == {("cj", "cj")}
    assert (lumen["networks"], lumen["commission"]) == (both["networks"], both["commission"])
    assert synced.named("NordVPN")["status"] == "active"  # listed by both still
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "main", {"Lumen Skincare": None})})
    gone = synced.named("Lumen Skincare")
    assert (gone["status"], gone["networks"], claimants(gone)) == ("closed_suspected", [], set())
    assert synced.status_changes(both["id"]) == [["active", "closed_suspected"], [None, "active"]]


def test_two_connections_of_a_source_whose_claims_all_name_them_log_nothing_kept(synced):
    """index.source_claims_kept was logged on every complete run of a source read by two connections, though it
    kept nothing: every claim named its connection."""
    from structlog.testing import capture_logs

    synced.sync("cj")
    with capture_logs() as logs:
        synced.sync("cj", connection="cj-agency")
        synced.sync("cj")
    assert [line for line in logs if line["event"] == "index.source_claims_kept"] == []


def test_deleting_one_of_two_connections_of_a_source_withdraws_its_claims_only(synced):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    synced.sync("cj")
    synced.sync("cj", connection="cj-agency")
    shown = CliRunner().invoke(app, ["show", synced.named("NordVPN")["id"]], env={"COLUMNS": "400"})
    # amx show names the account a claim came through
    assert "CJ Advertiser Lookup API (cj-agency)" in shown.output, shown.output
    result = CliRunner().invoke(app, ["connections", "delete", "cj-agency"])
    assert result.exit_code == 0, result.output
    for item in synced.get("/programs?limit=100")["items"]:
        program = synced.get(f"/programs/{item['id']}")
        assert (program["status"], claimants(program)) == ("active", {("cj", "cj")}), program["name"]


def test_claims_naming_no_connection_stay_while_another_connection_reads_the_source(synced, tmp_path):
    """Claims indexed before claims named their connection are the source's: a connection's complete run withdraws
    them only when no other connection reads the source (the other may list the program)."""
    from structlog.testing import capture_logs

    from affiliate_matrix.connections import Connection, connection_key, save_connection

    synced_as_before_claims_named_connections(synced)
    save_connection(synced.rt.store, Connection(id="cj-agency", source="cj", credentials_path="connections/cj"))
    with capture_logs() as logs:
        synced.sync("cj", directories={"cj": cj_answering(tmp_path / "one", {"Lumen Skincare": None})})
    (kept,) = [line for line in logs if line["event"] == "index.source_claims_kept"]
    assert (kept["source"], kept["claimants"], kept["programs"]) == ("cj", ["cj"], 1)  # Lumen Skincare's
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and claimants(lumen) == {("cj", None)}
    assert claimants(synced.named("NordVPN")) == {("cj", "cj")}  # listed again: its claims name the connection now
    synced.rt.store.delete(connection_key("cj-agency"))
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "two", {"Lumen Skincare": None})})
    assert synced.named("Lumen Skincare")["status"] == "closed_suspected"


@pytest.mark.parametrize("source", ["cj", "impact", "rakuten", "offervault"])
def test_a_sync_its_page_limit_stopped_is_incomplete(tmp_path, monkeypatch, source):
    """The recorded listings span two pages: a limit of one stops the run short of the listing's end."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(importlib.import_module(f"affiliate_matrix.sources.{source}"), "MAX_PAGES", 1)
    (report,) = Synced(tmp_path).sync(source, failing=True)
    assert report.records and report.incomplete
    assert any("stopped after 1 pages" in failure.reason for failure in report.failures), report.failures


def test_a_deleted_connections_changes_are_announced_as_the_change_feed_shows_them(synced):
    """Each program.delta event's data is a GET /changes item, recorded_at included, so a consumer of the events
    resumes as a reader of the feed does: a deletion's withdrawals were announced without it."""
    from datetime import UTC, datetime

    from affiliate_matrix.events import PROGRAM_DELTA
    from affiliate_matrix.pipeline import withdraw_connection

    synced.sync("cj")
    announced = []
    synced.rt.bus.subscribe(PROGRAM_DELTA, lambda event: announced.append(event.data))
    deltas = withdraw_connection(synced.rt, "cj", "cj", datetime.now(UTC))
    assert deltas and [item["id"] for item in announced] == [delta.id for delta in deltas]
    assert all(item.get("recorded_at") for item in announced)


def damaged(synced, connection_id: str, **fields) -> str:
    """The stored connection rewritten with `fields` (values this version refuses: as stored under looser rules) or,
    with none, cut short; its ETag."""
    import json

    from affiliate_matrix.connections import connection_key

    data = synced.rt.store.get(connection_key(connection_id)).data
    data = json.dumps({**json.loads(data), **fields}).encode() if fields else data[:len(data) // 2]
    return synced.rt.store.put(connection_key(connection_id), data, content_type="application/json")


def test_amx_connections_delete_deletes_a_damaged_connection_and_withdraws_its_claims(synced):
    """A connection stored with a rate limit now out of range reads as damaged: `amx connections delete` refused it
    (naming the damage and saying to delete it), and the API's delete withdrew nothing. Its source and generation
    still read, so its claims are withdrawn as a healthy one's are."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import connection_key

    synced.sync("cj")
    damaged(synced, "cj", rate_limit_per_s=0.001)
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "deleted connection cj; 3 programs changed" in " ".join(result.output.split())
    assert synced.rt.store.head(connection_key("cj")) is None
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


def test_amx_connections_delete_of_a_connection_damaged_past_its_source_deletes_it_withdrawing_nothing(synced):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import connection_key

    synced.sync("cj")
    damaged(synced, "cj")
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "names no source whose claims to withdraw" in " ".join(result.output.split())
    assert synced.rt.store.head(connection_key("cj")) is None
    assert synced.listed("closed_suspected") == []


def test_the_api_delete_of_a_damaged_connection_withdraws_its_claims(synced, held):
    synced.sync("cj", "rakuten")
    from affiliate_matrix.connections import load_connection

    generation = load_connection(synced.rt.store, "cj")[0].generation
    etag = damaged(synced, "cj", rate_limit_per_s=0.001)
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    answer = connections.delete("/connections/cj", headers={**admin, "If-Match": f'"{etag}"'})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    (event,) = deleted_events(held)
    assert answer.get_json()["withdrawal"] == "queued" and answer.get_json()["event_id"] == event.id
    assert (event.data["source"], event.data["etag"], event.data["generation"]) == ("cj", etag, generation)
    delivered(synced, event)
    assert synced.listed("closed_suspected") == ["NordVPN"]  # only CJ listed it; Rakuten lists the others still


def test_a_damaged_connections_delete_whose_process_stopped_is_fenced_and_its_delete_again_withdraws(synced):
    """A damaged connection's delete is announced (its source and generation read). Were its process stopped before
    deleting, a later delivery met the damage where it fences and the event was rejected unfenced, so the delete asked
    again would be the same event (its id derived from the ETag), taken as done already: its claims kept for good. It
    is fenced as stored instead, and the delete asked again withdraws them."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.connections import connection_key, deletion_event, salvaged
    from affiliate_matrix.errors import BackendUnavailable, ConflictError

    synced.sync("cj")
    etag = damaged(synced, "cj", rate_limit_per_s=0.001)
    event = deletion_event(salvaged(synced.rt.store.get(connection_key("cj")).data, "cj"), etag)
    with pytest.raises(BackendUnavailable, match="still under way"):
        delivered(synced, event)
    delivered(synced, event)  # a later delivery: the delete never came
    assert synced.rt.store.head(connection_key("cj")) not in (None, etag)  # written again: that delete cannot come
    with pytest.raises(ConflictError):
        synced.rt.store.delete(connection_key("cj"), if_match=etag)
    assert synced.listed("closed_suspected") == []
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])  # asked again: another event, withdrawn
    assert result.exit_code == 0, (result.output, result.exception)
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


@pytest.mark.parametrize("other_source,closed", [("rakuten", True), ("cj", False)])
def test_a_damaged_connection_of_another_source_keeps_no_claims_naming_no_connection(synced, tmp_path, other_source,
                                                                                     closed):
    """Claims naming no connection stay while another connection may read the source: any damaged connection was
    taken for one, so one of another source (its source still read) kept them for good. One of the source keeps them."""
    import json

    from affiliate_matrix.connections import Connection, connection_key, save_connection

    synced_as_before_claims_named_connections(synced)
    save_connection(synced.rt.store, Connection(id="other", source=other_source))
    stored = json.loads(synced.rt.store.get(connection_key("other")).data)
    synced.rt.store.put(connection_key("other"), json.dumps({**stored, "rate_limit_per_s": 0.001}).encode())
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "one", {"Lumen Skincare": None})})
    assert (synced.named("Lumen Skincare")["status"] == "closed_suspected") is closed


def synced_as_before_claims_named_connections(synced) -> None:
    """cj synced, its claims then rewritten as a version before claims named their connection wrote them."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document

    synced.sync("cj")
    index = synced.rt.index
    old = []
    for item in synced.get("/programs?limit=100")["items"]:
        program = from_document(index.get(PROGRAMS_INDEX.name, item["id"]))
        old.append(to_document(program.model_copy(update={"provenance": {
            field: [claim.model_copy(update={"connection_id": None}) for claim in claims]
            for field, claims in program.provenance.items()}})))
    index.bulk_upsert(PROGRAMS_INDEX.name, old, refresh=True)
