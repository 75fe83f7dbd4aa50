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


def test_a_region_we_cannot_bound_restricts_nothing_a_fixed_one_is_its_members():
    records = impact_records(RECORDED / "campaigns-2.json")
    with capture_logs() as logs:
        nordvpn = normalize(records["NordVPN"])  # US, DE, LATAM: Brazil is taken too, and we cannot say what is not
    assert nordvpn.countries == [] and nordvpn.provenance["countries"][0].evidence == ["LATAM"]
    assert nordvpn.countries_unread == [] and not [e for e in logs if e["log_level"] == "warning"]  # read, not unread
    eu = make_program("A", "https://a.com", countries=["EU", "uk"])
    assert "FR" in eu.countries and "GB" in eu.countries and len(eu.countries) == 28
    assert make_program("A", "https://a.com", countries=["DACH"]).countries == ["AT", "CH", "DE"]
    assert make_program("A", "https://a.com", countries=[" Global "]).countries == []


@pytest.mark.parametrize("labels,codes,everywhere,unread", [
    (["USA", "uk", "Deutschland"], ["DE", "GB", "US"], [], []),
    (["U.S.", "Worldwide"], ["US"], ["Worldwide"], []),
    (["European Union"], sorted(taxonomy.REGIONS["eu"]), [], []),
    (["Europe", "APAC", "Atlantis"], [], ["Europe", "APAC"], ["Atlantis"]),
    ([], [], [], []),
])
def test_country_labels_as_codes_and_the_labels_that_bound_no_list(labels, codes, everywhere, unread):
    assert taxonomy.countries(labels) == (codes, everywhere, unread)


@pytest.mark.parametrize("label,code", [
    ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Côte d'Ivoire", "CI"), ("Cote d’Ivoire", "CI"), ("Ivory Coast", "CI"),
    ("Korea, Republic of", "KR"), ("South Korea", "KR"), ("Türkiye", "TR"), ("Turkey", "TR"),
    ("United States of America", "US"), ("U.S.", "US"), ("Deutschland", "DE"), ("Brasil", "BR"), ("España", "ES"),
    ("USA", "US"), ("DEU", "DE"), ("gbr", "GB"), ("UK", "GB"), ("CANADA", "CA"), ("Russia", "RU"),
    ("Russian Federation", "RU"), ("Holland", "NL"), ("Schweiz", "CH"), ("Czechia", "CZ"), ("fr", "FR"),
])
def test_a_country_as_real_sources_write_it_is_its_iso_code(label, code):
    """Only ~60 hand-written names were read: "Viet Nam", "Korea, Republic of", "DEU" widened a program to every
    country."""
    assert taxonomy.country_code(label) == code
    assert make_program("A", "https://a.com", countries=[label, "US"]).countries == sorted({code, "US"})


def test_a_name_iso_writes_with_a_comma_is_read_whole_where_a_list_was_split_at_it():
    """A directory's "US, Korea, Democratic People's Republic of" is split at its commas (generic._split): "Korea"
    alone read as South Korea and the rest was unread."""
    from affiliate_matrix.sources.generic import _split

    labels = _split("US, Korea, Democratic People's Republic of, Virgin Islands, U.S., Iran")
    assert taxonomy.countries(labels) == (["IR", "KP", "US", "VI"], [], [])
    assert taxonomy.countries(["Korea", "Republic of"]) == (["KR"], [], [])
    assert taxonomy.countries(["US", "UK"]) == (["GB", "US"], [], [])  # two names, not one


def test_an_unreadable_country_beside_readable_ones_is_kept_as_unread_not_widened_nor_guessed():
    """US and "Frnace" took every country (country=DE found it); now it takes the US, keeps "Frnace" on the program as
    unread, logged; a program naming no country we can read takes every one, so country=FR still finds it."""
    with capture_logs() as logs:
        program = make_program("A", "https://a.com", countries=["US", "Frnace"])
    assert program.countries == ["US"] and program.countries_unread == ["Frnace"]
    assert "countries" in program.provenance and program.provenance["countries"][0].value == ["US"]
    assert [(e["event"], e["label"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.country_unread", "Frnace")]
    alone = make_program("A", "https://a.com", countries=["Frnace"])
    assert alone.countries == [] and alone.countries_unread == ["Frnace"]
    assert alone.provenance["countries"][0].value == [] and alone.provenance["countries"][0].evidence == ["Frnace"]
    assert open_countries(alone) == [WORLDWIDE] and open_countries(program) == ["US"]


def test_unread_countries_are_the_union_of_the_sources_claims_and_go_when_withdrawn():
    first = normalize(make_record("Acme", "https://acme.com/", countries=["US", "Frnace"]))
    other = normalize(make_record("Acme", "https://acme.com/", countries=["Atlantis"]).model_copy(
        update={"source": "other", "connection_id": "o"}))
    both = merge(first, other)
    assert both.countries == [] and both.countries_unread == ["Atlantis", "Frnace"]  # other's Atlantis: every country
    fixed = normalize(make_record("Acme", "https://acme.com/", countries=["US", "France"]).model_copy(
        update={"fetched_at": NOW + timedelta(hours=1)}))
    assert merge(first, fixed).countries == ["FR", "US"] and merge(first, fixed).countries_unread == []


def test_the_real_samples_country_texts_are_read():
    """The real payloads' country texts: Impact's ShippingRegions ("US") and Awin's primaryRegion (a countryCode
    beside its name, "United Kingdom"): both read, the name as well as the code, nothing unread."""
    impact = json.loads(real_sample("impact", "campaigns.json").read_text())["Campaigns"]
    awin = json.loads(real_sample("awin", "programmes.json").read_text())
    labels = [r for c in impact for r in c["ShippingRegions"]]
    regions = [p["primaryRegion"] for p in awin]
    assert labels and regions
    assert taxonomy.countries(labels) == (["US"], [], [])
    for region in regions:
        assert taxonomy.country_code(region["name"]) == region["countryCode"] == "GB"


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
    assert field(["GB", "US"], "countries") == "United Kingdom, United States" and field([], "categories") == "—"


def test_a_hostile_list_of_labels_keeps_a_bounded_claim_and_log():
    labels = ["Worldwide"] * 1000 + [f"Region {n}" for n in range(1000)]
    with capture_logs() as logs:
        program = make_program("A", "https://a.com", countries=labels)
    (claim,) = program.provenance["countries"]
    assert program.countries == [] and claim.evidence[:2] == ["Worldwide", "Region 0"] and len(claim.evidence) == 20
    assert len([e for e in logs if e["event"] == "normalize.country_unread"]) == 20  # Worldwide is read, not logged
    assert program.countries_unread == [f"Region {n}" for n in range(20)]


def test_a_source_saying_every_country_completes_the_countries_as_one_naming_them_does():
    """Completeness counted a program naming no country as missing its countries, so a network's Worldwide lowered the
    quality score (its sort) below the same program's narrowed to the countries it named."""
    world = make_program("A", "https://a.com", countries=["US", "Worldwide"])
    named = make_program("A", "https://a.com", countries=["US"])
    assert world.quality_score == named.quality_score > make_program("A", "https://a.com").quality_score


def test_no_word_for_every_country_or_a_region_reads_as_one_country():
    """ISO names and their translations are many: none may take a region's or Worldwide's meaning (a pycountry
    update adding "Asia" as some country's name in one language would narrow every APAC program to it)."""
    words = taxonomy.WORLDWIDE_LABELS | taxonomy.UNBOUNDED_REGIONS | set(taxonomy.REGIONS)
    assert {word: taxonomy.country_code(word) for word in words if taxonomy.country_code(word)} == {}
