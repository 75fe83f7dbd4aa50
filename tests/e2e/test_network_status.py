"""A program its network says is over (CJ's deactivated advertiser): synced over real HTTP from the real sample or the
recorded answers, indexed, and read back through the programs API as a user reads it: its status, the claim behind it,
the status filter and the change feed. An account's own relationship with it (Impact's expired contract, CJ's pending
or not joined) is no end of the program, and another source still listing it as open keeps it active."""

import json

import pytest

from tests.support.real_samples import api_site, real_sample
from tests.support.syncing import IMPACT_AUTH, Synced, cj_answering, impact_real_sample


@pytest.fixture
def synced(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    return Synced(tmp_path / "data")


def test_an_impact_contract_that_expired_is_the_accounts_fact_not_the_end_of_the_program(synced, tmp_path):
    """Impact's ContractStatus is the partner account's contract with the campaign: `Expired` made the program
    closed_suspected for everyone who reads the index, though only this account's contract had ended. The program
    stays as its sources list it (active); the contract is the account's, on its network listing and its row of the
    merchant view."""
    site = impact_real_sample(tmp_path / "site")
    synced.sync("impact", directories={"impact": site})
    sunny, wine = synced.named("SunnySports"), synced.named("Wine Express")
    assert (sunny["status"], wine["status"]) == ("active", "active")
    assert "status" not in sunny["provenance"]
    assert [(n["network"], n["contract"], n["join_url"]) for n in sunny["networks"]] == [("impact", "expired", None)]
    assert [(n["network"], n["contract"]) for n in wine["networks"]] == [("impact", "joined")]
    rows = synced.get(f"/merchants/{sunny['merchant_key']}")["rows"]
    assert [(r["connection_id"], r["contract"]) for r in rows] == [("impact", "expired")]
    assert synced.listed("closed_suspected") == []
    synced.sync("impact", directories={"impact": site})  # the same answer again: nothing changes
    assert synced.status_changes(sunny["id"]) == [[None, "active"]]  # its creation, once
    assert synced.named("SunnySports")["status"] == "active"


def test_each_impact_accounts_contract_is_its_own(synced, tmp_path):
    """Two accounts of one network are two claimants: one's expired contract is shown on its row, the other's active
    one (with its tracking link) on its own, and the program's one Impact listing is the one a partner can join by."""
    sample = json.loads(real_sample("impact", "campaigns.json").read_text())
    link = "https://sunnysports.example/c/1/2/3"
    for campaign in sample["Campaigns"]:
        if campaign["CampaignName"] == "SunnySports":
            campaign |= {"ContractStatus": "Active", "TrackingLink": link}
    (tmp_path / "active").mkdir()
    (tmp_path / "active" / "campaigns.json").write_text(json.dumps(sample))
    active = api_site(tmp_path / "active", [{"path": "/Mediapartners/IRtestSID/Campaigns",
                                             "query": {"PageSize": "100"},
                                             "file": tmp_path / "active" / "campaigns.json", "auth": IMPACT_AUTH}])
    synced.sync("impact", directories={"impact": impact_real_sample(tmp_path / "expired")}, connection="impact-a")
    synced.sync("impact", directories={"impact": active}, connection="impact-b")
    sunny = synced.named("SunnySports")
    assert sunny["status"] == "active"
    rows = synced.get(f"/merchants/{sunny['merchant_key']}")["rows"]
    assert sorted((r["connection_id"], r["contract"]) for r in rows) == [("impact-a", "expired"),
                                                                         ("impact-b", "joined")]
    assert [(n["contract"], n["join_url"]) for n in sunny["networks"]] == [("joined", link)]


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
def test_a_pending_or_not_joined_relationship_is_the_accounts_fact_not_the_programs_end(synced, tmp_path, relationship):
    synced.sync("cj", directories={"cj": cj_answering(tmp_path / "site",
                                                      {"Lumen Skincare": {"relationship-status": relationship}})})
    lumen = synced.named("Lumen Skincare")
    assert lumen["status"] == "active" and "status" not in lumen["provenance"]
    assert synced.listed("closed_suspected") == []
    # the account's relationship, in the words every network's rows share, on its listing and merchant-view row
    contract = {"pending": "pending", "notjoined": "not_joined"}[relationship]
    assert [(n["network"], n["contract"]) for n in lumen["networks"]] == [("cj", contract)]
    rows = synced.get(f"/merchants/{lumen['merchant_key']}")["rows"]
    assert [(r["connection_id"], r["contract"]) for r in rows] == [("cj", contract)]
    assert [n["contract"] for n in synced.named("Bluehost")["networks"]] == ["joined"]  # the recorded answer's


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
