"""What a source's country labels claim: the countries it names (a region with fixed members as those), or, when it
says the program takes every country (Impact's "Worldwide") or names a region we cannot bound (LATAM), no restriction.
Before, both were dropped: US, UK and Worldwide became US and GB, and `country=FR` did not find the program."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from affiliate_matrix import taxonomy
from affiliate_matrix.merge import combined, merge
from affiliate_matrix.models import RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import WORLDWIDE, open_countries, to_document
from affiliate_matrix.sources.impact import campaign_listing
from tests.support.factories import NOW, make_program, make_record
from tests.support.processes import ROOT
from tests.support.real_samples import real_sample

RECORDED = ROOT / "shared" / "affiliate_matrix" / "sources" / "impact" / "recorded"


def impact_records(path: Path, at=NOW) -> dict[str, RawRecord]:
    """The campaigns of an Impact answer as the sync records them, by name."""
    campaigns = json.loads(path.read_text())["Campaigns"]
    return {c["CampaignName"]: RawRecord(source="impact", connection_id="impact", url="https://api.impact.com/x",
                                         fetched_at=at, raw_key="raw/impact/x.json", **vars(campaign_listing(c)))
            for c in campaigns}


def test_impacts_worldwide_takes_every_country_and_its_listed_countries_stay_what_they_say():
    records = impact_records(RECORDED / "campaigns-1.json")
    assert records["Semrush"].countries == ["US", "UK", "Worldwide"]  # the raw record keeps Impact's words
    semrush, canva = normalize(records["Semrush"]), normalize(records["Canva"])
    assert semrush.countries == []  # names no restriction: every country
    (claim,) = semrush.provenance["countries"]
    assert (claim.source, claim.value, claim.evidence) == ("impact", [], ["Worldwide"])
    assert open_countries(semrush) == [WORLDWIDE] and to_document(semrush)["worldwide"] is True
    assert canva.countries == ["CA", "US"] and to_document(canva)["worldwide"] is False


def test_the_real_samples_us_only_campaigns_stay_us_only():
    for program in map(normalize, impact_records(real_sample("impact", "campaigns.json")).values()):
        assert program.countries == ["US"] and to_document(program)["worldwide"] is False


def test_a_region_we_cannot_bound_restricts_nothing_and_is_logged_a_fixed_one_is_its_members():
    records = impact_records(RECORDED / "campaigns-2.json")
    with capture_logs() as logs:
        nordvpn = normalize(records["NordVPN"])  # US, DE, LATAM: Brazil is taken too, and we cannot say what is not
    assert nordvpn.countries == [] and nordvpn.provenance["countries"][0].evidence == ["LATAM"]
    assert [(e["event"], e["label"], e["source"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.country_unread", "LATAM", "impact")]
    eu = make_program("A", "https://a.com", countries=["EU", "uk"])
    assert "FR" in eu.countries and "GB" in eu.countries and len(eu.countries) == 28
    assert make_program("A", "https://a.com", countries=["DACH"]).countries == ["AT", "CH", "DE"]
    assert make_program("A", "https://a.com", countries=[" Global "]).countries == []


@pytest.mark.parametrize("labels,named,unbounded", [
    (["USA", "uk", "Deutschland"], ["DE", "GB", "US"], []),
    (["U.S.", "Worldwide"], ["US"], ["Worldwide"]),
    (["European Union"], sorted(taxonomy.REGIONS["eu"]), []),
    (["Europe", "APAC", "Atlantis"], [], ["Europe", "APAC", "Atlantis"]),
    ([], [], []),
])
def test_country_labels_as_codes_and_the_labels_that_bound_no_list(labels, named, unbounded):
    assert taxonomy.countries(labels) == (named, unbounded)


def test_one_source_taking_every_country_and_another_naming_us_take_every_country_until_it_withdraws():
    directory = make_record("Semrush", "https://www.semrush.com/", countries=["USA"])
    impact = impact_records(RECORDED / "campaigns-1.json", NOW + timedelta(hours=1))["Semrush"]
    both = merge(normalize(directory), normalize(impact))
    assert both.countries == [] and sorted(c.source for c in both.provenance["countries"]) == ["impact", "test"]
    assert merge(normalize(impact), normalize(directory)).countries == []  # in either order
    later = impact.model_copy(update={"fetched_at": NOW + timedelta(hours=2), "countries": ["US", "UK"]})
    assert merge(both, normalize(later)).countries == ["GB", "US"]  # Impact now names two: so does the program


def test_an_offer_taking_every_country_makes_its_program_take_every_country():
    us = normalize(make_record("Acme", "https://acme.com/", countries=["US"]))
    world = normalize(make_record("Acme 2", "https://acme.com/", countries=["Worldwide"]).model_copy(
        update={"record_key": "acme-2"}))
    for offers in ([us, world], [world, us]):
        one = combined(offers)
        assert one.countries == [] and [c.value for c in one.provenance["countries"]] == [[]]
        assert one.provenance["countries"][0].evidence == ["Worldwide"]


def test_pages_show_a_program_naming_no_country_as_taking_every_country():
    """A source's every-country claim (no list) showed as a dash on the program page, as if it said nothing."""
    from affiliate_matrix.web.render import field

    assert field([], "countries") == "every country"
    assert field(["GB", "US"], "countries") == "GB, US" and field([], "categories") == "—"


def test_a_hostile_list_of_labels_keeps_a_bounded_claim_and_log():
    labels = ["Worldwide"] * 1000 + [f"Region {n}" for n in range(1000)]
    with capture_logs() as logs:
        program = make_program("A", "https://a.com", countries=labels)
    (claim,) = program.provenance["countries"]
    assert program.countries == [] and claim.evidence[:2] == ["Worldwide", "Region 0"] and len(claim.evidence) == 20
    assert len([e for e in logs if e["event"] == "normalize.country_unread"]) == 19  # Worldwide is read, not logged


def test_a_source_saying_every_country_completes_the_countries_as_one_naming_them_does():
    """Completeness counted a program naming no country as missing its countries, so a network's Worldwide lowered the
    quality score (its sort) below the same program's narrowed to the countries it named."""
    world = make_program("A", "https://a.com", countries=["US", "Worldwide"])
    named = make_program("A", "https://a.com", countries=["US"])
    assert world.quality_score == named.quality_score > make_program("A", "https://a.com").quality_score
