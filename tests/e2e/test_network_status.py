"""A program its network says is over (Impact's expired contract, CJ's deactivated advertiser): synced over real HTTP
from the real sample or the recorded answers, indexed, and read back through the programs API as a user reads it:
its status, the claim behind it, the status filter and the change feed. A relationship only pending or not joined
is no end of the program, and another source still listing it as open keeps it active."""

import pytest
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.pipeline import index_batch, scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sources import get_source
from tests.support.processes import ROOT
from tests.support.real_samples import api_site, real_sample
from tests.support.recorded_expected import EXPECTED

IMPACT_AUTH = {"Authorization": "Basic SVJ0ZXN0U0lEOnRlc3QtaW1wYWN0LXRva2Vu", "Accept": "application/json"}
CJ_AUTH = {"Authorization": "Bearer test-cj-token"}


class Synced:
    """A data directory the sources are synced into (and indexed on each stored batch), read through the programs
    API."""

    def __init__(self, path):
        self.rt = Runtime("test", Settings(data_dir=path, allow_loopback_fetch=True))
        self.rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_batch(self.rt, e.data["batch_key"]))
        self.auth = {"Authorization": f"Bearer {create_token(self.rt.secrets, 'read')}"}
        self.api = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()

    def sync(self, *sources: str, directories=None) -> None:
        with recorded_sites(*sources, directories=directories) as urls:
            for source in sources:
                self.rt.secrets.write(f"connections/{source}", EXPECTED[source]["credentials"])
                save_connection(self.rt.store, Connection(id=source, source=source, base_url=urls[source],
                                                          rate_limit_per_s=50, credentials_path=f"connections/{source}"))
                report = scrape(self.rt, source)
                assert report.failures == [], report.failures

    def get(self, path: str) -> dict:
        answer = self.api.get(path, headers=self.auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()

    def named(self, name: str) -> dict:
        (item,) = [i for i in self.get("/programs?limit=100")["items"] if i["name"] == name]
        return self.get(f"/programs/{item['id']}")

    def listed(self, status: str) -> list[str]:
        return sorted(i["name"] for i in self.get(f"/programs?limit=100&status={status}")["items"])

    def status_changes(self, program_id: str) -> list:
        return [[f["old"], f["new"]] for c in self.get("/changes?limit=100")["items"] if c["program_id"] == program_id
                for f in c["fields"] if f["field"] == "status"]


@pytest.fixture
def synced(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    return Synced(tmp_path / "data")


def impact_real_sample(folder):
    return api_site(folder, [{"path": "/Mediapartners/IRtestSID/Campaigns", "query": {"PageSize": "100"},
                              "file": real_sample("impact", "campaigns.json"), "auth": IMPACT_AUTH}])


def cj_answering(folder, changes: dict[str, dict[str, str]]):
    """CJ's recorded answers with some advertisers' fields changed: {advertiser name: {element: text}}."""
    recorded = get_source("cj").recorded_dir()
    folder.mkdir()
    for page in ("advertisers-1.xml", "advertisers-2.xml"):
        text = (recorded / page).read_text()
        for name, fields in changes.items():
            start = text.find(f"<advertiser-name>{name}</advertiser-name>")
            if start < 0:
                continue
            begin, end = text.rfind("<advertiser>", 0, start), text.find("</advertiser>", start)
            block = text[begin:end]
            for element, value in fields.items():
                old = block[block.index(f"<{element}>"):block.index(f"</{element}>")]
                block = block.replace(old, f"<{element}>{value}")
            text = text[:begin] + block + text[end:]
        (folder / page).write_text(text)
    (folder / "routes.json").write_bytes((recorded / "routes.json").read_bytes())
    return folder


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
