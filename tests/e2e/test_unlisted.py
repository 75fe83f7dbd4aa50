"""A program its source stops listing does not stay active for good: a complete sync of a connection that no longer
lists a program withdraws that source's claims (its network, commission, EPC, …), and a program no source lists any
more is closed_suspected, once in the change feed, until a source lists it again under the same id. A sync that
failed part-way withdraws nothing; another source still listing the program keeps it active with its own values;
a deleted connection withdraws its claims. CJ's recorded answers, synced over real HTTP, read through the programs
API, on both search backends."""

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


def test_a_sync_that_failed_part_way_withdraws_nothing(synced, tmp_path):
    synced.sync("cj")
    before = {name: synced.named(name) for name in ("Lumen Skincare", "NordVPN")}
    # Page 1 no longer lists Lumen Skincare, page 2 (NordVPN's) fails: neither is known to be gone
    (report,) = synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", {"Lumen Skincare": None},
                                                                 failing_page=2)}, failing=True)
    assert report.failures and report.incomplete == "1 requests or items failed"
    for name, program in before.items():
        after = synced.named(name)
        assert (after["status"], after["networks"], after["commission"]) == (
            "active", program["networks"], program["commission"]), name
    assert synced.listed("closed_suspected") == []


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


def test_a_deleted_connection_withdraws_its_claims(synced):
    synced.sync("cj", "rakuten")
    assert synced.named("NordVPN")["epc_7d"] is not None  # CJ's figure
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    etag = connections.get("/connections/cj", headers=admin).headers["ETag"]
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": '"stale"'}).status_code == 412
    assert synced.named("NordVPN")["status"] == "active"  # not deleted: nothing withdrawn
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": etag}).status_code == 204
    nord = synced.named("NordVPN")  # only CJ listed it
    assert (nord["status"], nord["networks"], sources_of(nord)) == ("closed_suspected", [], set())
    assert (nord["epc_7d"], nord["commission"]) == (None, [])
    assert synced.status_changes(nord["id"]) == [["active", "closed_suspected"], [None, "active"]]
    for name in ("Bluehost", "Lumen Skincare"):  # Rakuten lists them still
        program = synced.named(name)
        assert (program["status"], [n["network"] for n in program["networks"]], sources_of(program)) == (
            "active", ["rakuten"], {"rakuten"}), name


def test_a_connection_whose_claims_could_not_be_withdrawn_is_kept_to_delete_again(synced, monkeypatch):
    from affiliate_matrix import pipeline
    from affiliate_matrix.errors import BackendUnavailable

    synced.sync("cj")
    admin = {"Authorization": f"Bearer {create_token(synced.rt.secrets, 'admin')}"}
    connections = create_app("handle", str(ROOT / "functions" / "connections" / "main.py")).test_client()
    etag = connections.get("/connections/cj", headers=admin).headers["ETag"]

    def unavailable(*args):
        raise BackendUnavailable("the index is down")

    withdrawn_from = pipeline.withdrawn_from
    monkeypatch.setattr(pipeline, "withdrawn_from", unavailable)
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": etag}).status_code == 503
    monkeypatch.setattr(pipeline, "withdrawn_from", withdrawn_from)
    assert connections.get("/connections/cj", headers=admin).headers["ETag"] == etag  # kept, unchanged
    assert connections.delete("/connections/cj", headers={**admin, "If-Match": etag}).status_code == 204
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


def test_amx_connections_delete_withdraws_its_claims(synced):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    synced.sync("cj")
    result = CliRunner().invoke(app, ["connections", "delete", "cj"])
    assert result.exit_code == 0, result.output
    assert "3 programs changed" in result.output
    assert synced.listed("closed_suspected") == ["Bluehost", "Lumen Skincare", "NordVPN"]


def test_another_connection_of_the_source_keeps_the_claims_it_may_list(synced, tmp_path):
    synced.sync("cj")
    from affiliate_matrix.connections import Connection, save_connection

    save_connection(synced.rt.store, Connection(id="cj-agency", source="cj", credentials_path="connections/cj"))
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", {"Lumen Skincare": None})})
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and sources_of(lumen) == {"cj"}


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
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.events import PROGRAM_DELTA
    from affiliate_matrix.pipeline import withdraw_connection

    synced.sync("cj")
    announced = []
    synced.rt.bus.subscribe(PROGRAM_DELTA, lambda event: announced.append(event.data))
    deltas = withdraw_connection(synced.rt, load_connection(synced.rt.store, "cj")[0])
    assert deltas and [item["id"] for item in announced] == [delta.id for delta in deltas]
    assert all(item.get("recorded_at") for item in announced)
