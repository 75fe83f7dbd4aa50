"""An account's relationship with a program in the one vocabulary every network's rows share (models.Contract), read
from each network's recorded answers with its own words changed: a word the network is known to use is mapped, any
other is no relationship said (kept verbatim in extra only), never passed through as a new word."""

import json

import pytest

from affiliate_matrix.sources import get_source
from affiliate_matrix.sources.awin import programme_listing
from affiliate_matrix.sources.cj import read_page
from affiliate_matrix.sources.impact import campaign_listing


@pytest.mark.parametrize("word, contract", [("joined", "joined"), ("pending", "pending"), ("NotJoined", "not_joined"),
                                            ("declined", None), ("", None)])
def test_cjs_relationship_status_in_the_shared_words(word, contract):
    cj = get_source("cj")
    page = (cj.recorded_dir() / "advertisers-1.xml").read_text()
    page = page.replace("<relationship-status>joined</relationship-status>",
                        f"<relationship-status>{word}</relationship-status>", 1)
    listings, _ = read_page(cj().decode(page.encode()), "https://api.example/cj")
    assert [listing.contract for listing in listings] == [contract, "joined"]
    assert listings[0].extra.get("relationship_status") == (word or None)


@pytest.mark.parametrize("word, contract", [("Active", "joined"), ("EXPIRED", "expired"), ("Declined", None),
                                            ({"Status": "Active"}, None), (None, None)])
def test_impacts_contract_status_in_the_shared_words(word, contract):
    impact = get_source("impact")
    [campaign, *_] = json.loads((impact.recorded_dir() / "campaigns-1.json").read_text())["Campaigns"]
    listing = campaign_listing({**campaign, "ContractStatus": word})
    assert listing.contract == contract


@pytest.mark.parametrize("word, contract", [("joined", "joined"), ("pending", "pending"), ("notJoined", "not_joined"),
                                            ("suspended", None), ({"status": "joined"}, None)])
def test_awins_membership_status_in_the_shared_words(word, contract):
    """Awin's programme details say the publisher's membership (`membershipStatus`, "joined" in Awin's documented
    example): it was dropped, so a joined Awin programme showed no contract where Impact's and CJ's did."""
    awin = get_source("awin")
    [programme] = [p for p in json.loads((awin.recorded_dir() / "programmes.json").read_text()) if p["id"] == 1001]
    details = json.loads((awin.recorded_dir() / "details-1001.json").read_text())
    details["programmeInfo"] = {**details.get("programmeInfo", {}), "membershipStatus": word}
    listing = programme_listing(programme, details, "https://api.example/awin")
    assert listing.contract == contract
    assert listing.extra["membership_status"] == str(word)


def test_an_awin_programme_whose_details_say_no_membership_is_joined():
    """The sync lists the joined programmes only (relationship=joined): details without a membershipStatus (the
    documented commission-range example) leave it joined."""
    awin = get_source("awin")
    [programme] = [p for p in json.loads((awin.recorded_dir() / "programmes.json").read_text()) if p["id"] == 1001]
    listing = programme_listing(programme, {"commissionRange": []}, "https://api.example/awin")
    assert (listing.contract, "membership_status" in listing.extra) == ("joined", False)
