"""A program its network says is over (Impact's expired contract, CJ's deactivated advertiser): synced over real HTTP
from the real sample or the recorded answers, indexed, and read back through the programs API as a user reads it:
its status, the claim behind it, the status filter and the change feed. A relationship only pending or not joined
is no end of the program, and another source still listing it as open keeps it active."""

import pytest

from tests.support.syncing import Synced, cj_answering, impact_real_sample


@pytest.fixture
def synced(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    return Synced(tmp_path / "data")


def test_an_impact_campaign_whose_contract_expired_is_shown_closed_once_in_the_feed(synced, tmp_path):
    site = impact_real_sample(tmp_path / "site")
    synced.sync("impact", directories={"impact": site})
    sunny, wine = synced.named("SunnySports"), synced.named("Wine Express")
    assert (sunny["status"], wine["status"]) == ("closed_suspected", "active")
    (claim,) = sunny["provenance"]["status"]  # the network's own word, credited to it
    assert (claim["source"], claim["value"], claim["evidence"]) == ("impact", "closed_suspected",
                                                                    ["ContractStatus: Expired"])
    assert "status" not in wine["provenance"]
    assert synced.listed("active") == ["Wine Express"] and synced.listed("closed_suspected") == ["SunnySports"]
    synced.sync("impact", directories={"impact": site})  # the same answer again: no second change
    assert synced.status_changes(sunny["id"]) == [[None, "closed_suspected"]]
    assert synced.named("SunnySports")["status"] == "closed_suspected"


def test_a_deactivated_cj_advertiser_is_closed_until_cj_says_it_is_active_again(synced, tmp_path):
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site", {"NordVPN": {"account-status": "Deactivated"}})})
    nord = synced.named("NordVPN")
    assert nord["status"] == "closed_suspected"
    assert [(c["source"], c["evidence"]) for c in nord["provenance"]["status"]] == [("cj", ["account-status: Deactivated"])]
    assert synced.listed("closed_suspected") == ["NordVPN"]
    synced.sync("cj")  # the recorded answer: NordVPN's account is active
    nord = synced.named("NordVPN")
    assert nord["status"] == "active" and "status" not in nord["provenance"]
    assert synced.status_changes(nord["id"]) == [["closed_suspected", "active"], [None, "closed_suspected"]]


@pytest.mark.parametrize("relationship", ["pending", "notjoined"])
def test_a_relationship_only_pending_or_not_joined_is_no_end_of_the_program(synced, tmp_path, relationship):
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site",
                                                      {"Lumen Skincare": {"relationship-status": relationship}})})
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and "status" not in lumen["provenance"]
    assert synced.listed("closed_suspected") == []


@pytest.mark.parametrize("order", ["cj first", "rakuten first"])
def test_another_network_still_listing_the_program_keeps_it_active(synced, tmp_path, order):
    cj = cj_answering(tmp_path / "site", {"Bluehost": {"account-status": "Deactivated"}})
    for source in (["cj", "rakuten"] if order == "cj first" else ["rakuten", "cj"]):
        synced.sync(source, directories={"cj": cj} if source == "cj" else None)
    bluehost = synced.named("Bluehost")
    assert sorted(n["network"] for n in bluehost["networks"]) == ["cj", "rakuten"]
    assert bluehost["status"] == "active"  # Rakuten lists it as open: not silenced by CJ's word
    assert [c["source"] for c in bluehost["provenance"]["status"]] == ["cj"]  # CJ's word is kept, credited
    assert "Bluehost" in synced.listed("active")
