"""Impact's recorded campaigns through the index function and GET /programs: Semrush's regions are US, UK and
Worldwide, so it takes every country; Worldwide was dropped, which left US and GB, and country=FR did not find it."""

import json

import pytest

from affiliate_matrix.models import RawRecord
from affiliate_matrix.sources.impact import campaign_listing
from tests.support.indexing import BACKENDS, T1, Index, on_backend, record
from tests.support.processes import ROOT

RECORDED = ROOT / "shared" / "affiliate_matrix" / "sources" / "impact" / "recorded"


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return Index(tmp_path)


def impact_records() -> list[RawRecord]:
    campaigns = [c for page in ("campaigns-1.json", "campaigns-2.json")
                 for c in json.loads((RECORDED / page).read_text())["Campaigns"]]
    return [RawRecord(source="impact", connection_id="impact", url="https://api.impact.com/Campaigns", fetched_at=T1,
                      raw_key="raw/impact/campaigns.json", **vars(campaign_listing(c))) for c in campaigns]


def names(index: Index, query: str) -> list[str]:
    return sorted(item["name"] for item in index.get(f"/programs?{query}&limit=100")["items"])


def test_a_worldwide_campaign_is_found_in_every_country_and_counted_as_worldwide(index):
    index.batch(*impact_records())  # Semrush US, UK, Worldwide; Canva US, CANADA; NordVPN US, DE, LATAM
    assert names(index, "country=FR") == ["NordVPN", "Semrush"]  # NordVPN's LATAM: not restricted by what we read
    assert names(index, "country=CA") == ["Canva", "NordVPN", "Semrush"]
    assert names(index, "country=worldwide") == ["NordVPN", "Semrush"]
    assert index.get("/programs")["facets"]["countries"] == [
        {"value": "CA", "count": 3}, {"value": "US", "count": 3}, {"value": "worldwide", "count": 2}]
    semrush = next(p for p in index.programs() if p["name"] == "Semrush")
    assert semrush["countries"] == []
    assert [(c["source"], c["value"], c["evidence"]) for c in semrush["provenance"]["countries"]] == [
        ("impact", [], ["Worldwide"])]


def test_a_directory_naming_the_us_only_does_not_narrow_a_network_taking_every_country(index):
    index.batch(*impact_records())
    index.batch(record("dira", "Semrush", "https://www.semrush.com/", countries=["United States"]))
    assert "Semrush" in names(index, "country=FR")
    (semrush,) = [p for p in index.programs() if p["name"] == "Semrush"]
    assert semrush["countries"] == [] and sorted(c["source"] for c in semrush["provenance"]["countries"]) == [
        "dira", "impact"]
