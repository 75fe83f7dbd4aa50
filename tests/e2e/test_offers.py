"""Several offers of one merchant from one source: OfferVault's recorded answers list two offers of Keto Burn (one
landing domain) on two pages, each with its own payout and countries. They are one program that keeps what each
offer says, lists both offers, and loses only its share when OfferVault stops listing one; a run that failed the
page of one keeps it. Synced over real HTTP, indexed as the index function does, read through the programs API, on both
search backends."""

import json
import shutil

import pytest

from affiliate_matrix.events import RAW_BATCH_STORED, Event
from affiliate_matrix.sources import get_source
from tests.support.indexing import BACKENDS, on_backend
from tests.support.syncing import Synced

US, UK = "5f0c2a9e8b1d4c0017e3a1b2", "5f0c2b118b1d4c0017e3a6d5"  # Keto Burn's offers: page 1, page 2


@pytest.fixture(params=BACKENDS)
def synced(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return Synced(tmp_path)


def offervault_without(folder, offer_id: str):
    """OfferVault's recorded answers no longer listing one offer (its network's offerCount counts it out)."""
    shutil.copytree(get_source("offervault").recorded_dir(), folder)
    for page in folder.glob("search-*.json"):
        answer = json.loads(page.read_text())
        kept = [offer for offer in answer["offers"] if offer["id"] != offer_id]
        if len(kept) < len(answer["offers"]):
            network = int(page.name.split("-")[1])
            page.write_text(json.dumps({**answer, "offers": kept}))
    networks = json.loads((folder / "networks.json").read_text())
    for listed in networks["networks"]:
        if listed["id"] == network:
            listed["offerCount"] -= 1
    (folder / "networks.json").write_text(json.dumps(networks))
    return folder


def offervault_failing(folder, page: str):
    """OfferVault's recorded answers with one search page answering 400: a run that cannot read it is incomplete."""
    shutil.copytree(get_source("offervault").recorded_dir(), folder)
    routes = json.loads((folder / "routes.json").read_text())
    (failing,) = [route for route in routes if route["file"] == page]
    failing["status"] = 400
    (folder / "routes.json").write_text(json.dumps(routes))
    return folder


def offers_of(program: dict) -> list[str]:
    return [record["record_key"] for record in program["records"]]


def test_two_offers_of_one_merchant_are_one_program_keeping_both_payouts_and_countries(synced):
    (report,) = synced.sync("offervault")
    assert report.incomplete is None and report.records == 4
    keto = synced.named("Keto Burn - US")  # the name of the offer first by OfferVault's id
    assert offers_of(keto) == [US, UK]
    assert [r["url"] for r in keto["records"]] == [
        f"https://offervault.com/offer/{US}/keto-burn-us", f"https://offervault.com/offer/{UK}/keto-burn-uk-cc-submit"]
    # both payouts: one flat USD range, as the terms extractor merges two flat amounts of one currency
    assert keto["commission"] == [{"type": "flat", "value_min": "32", "value_max": "45", "currency": "USD",
                                   "recurring": None, "tiers": []}]
    assert keto["commission_text"] == "USD 32.00 per CPA; USD 45.00 per CC Submit"
    assert keto["countries"] == ["GB", "IE", "US"] and keto["aliases"] == ["Keto Burn - UK - CC Submit"]
    (claim,) = keto["provenance"]["commission"]
    assert claim["source"] == "offervault" and claim["value"] == keto["commission"]
    assert [c["source"] for c in keto["provenance"]["records"]] == ["offervault"]
    assert synced.get("/programs?q=keto&limit=10")["total"] == 1


def test_an_offer_no_longer_listed_takes_only_its_own_terms_with_it(synced, tmp_path):
    synced.sync("offervault")
    both = synced.named("Keto Burn - US")
    (report,) = synced.sync("offervault", directories={"offervault": offervault_without(tmp_path / "no-uk", UK)})
    assert report.incomplete is None and report.records == 3
    us = synced.named("Keto Burn - US")
    assert us["id"] == both["id"] and us["status"] == "active" and offers_of(us) == [US]
    assert us["commission"] == [{"type": "flat", "value_min": "32", "value_max": None, "currency": "USD",
                                 "recurring": None, "tiers": []}]
    assert us["commission_text"] == "USD 32.00 per CPA" and us["countries"] == ["US"]
    (change, *_) = [c for c in synced.get("/changes?limit=100")["items"] if c["program_id"] == us["id"]]
    assert change["change"] == "updated" and change["source"] == "offervault"
    assert {f["field"] for f in change["fields"]} == {"commission", "commission_text", "countries", "records"}
    (records,) = [f for f in change["fields"] if f["field"] == "records"]  # the offer that left, by OfferVault's id
    assert [r["record_key"] for r in records["old"]] == [US, UK] and [r["record_key"] for r in records["new"]] == [US]
    synced.sync("offervault")  # listed again: both offers' terms are back
    again = synced.named("Keto Burn - US")
    assert offers_of(again) == [US, UK] and again["commission"] == both["commission"]
    assert again["countries"] == both["countries"]


def test_a_run_that_failed_the_page_of_one_offer_keeps_that_offer(synced, tmp_path):
    synced.sync("offervault")
    both = synced.named("Keto Burn - US")
    changes = synced.get("/changes?limit=100")["items"]
    # Page 2 of MaxBounty's offers (the UK offer's) fails: the run lists the US offer alone, and says it is incomplete
    (report,) = synced.sync("offervault", failing=True,
                            directories={"offervault": offervault_failing(tmp_path / "failing", "search-12-2.json")})
    assert report.incomplete == "1 request or item failed" and report.records == 1  # the sync stops there
    kept = synced.named("Keto Burn - US")
    assert offers_of(kept) == [US, UK]
    shown = ("name", "aliases", "commission", "commission_text", "countries", "categories", "payout", "status")
    assert {f: kept[f] for f in shown} == {f: both[f] for f in shown}
    assert synced.get("/changes?limit=100")["items"] == changes  # nothing removed, nothing changed
    # the same batch indexed again (a redelivered event) changes nothing either
    synced.rt.bus.publish(Event.make(RAW_BATCH_STORED, "/scrape/offervault", {
        "batch_key": report.batch_key, "connection_id": "offervault", "complete": False}, key="again"))
    assert synced.named("Keto Burn - US") == kept
    # a complete run no longer listing the UK offer takes it, as before
    synced.sync("offervault", directories={"offervault": offervault_without(tmp_path / "no-uk", UK)})
    us = synced.named("Keto Burn - US")
    assert offers_of(us) == [US] and us["countries"] == ["US"] and us["commission_text"] == "USD 32.00 per CPA"
