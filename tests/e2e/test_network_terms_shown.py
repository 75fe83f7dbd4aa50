"""What the networks' real payloads say about paying and linking reaches the user: Awin's averagePaymentTime and
validDomains (its documented programme details) and Impact's DeeplinkDomains (a live campaign list), synced over real
HTTP, indexed, and read back through the programs API, `amx show` and the explorer's program page, each claim
credited to its source."""

import re

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app as cli
from tests.support.apps import signed_in_web
from tests.support.real_samples import api_site, real_sample
from tests.support.syncing import Synced, impact_real_sample

AWIN_AUTH = {"Authorization": "Bearer test-awin-token"}


@pytest.fixture
def synced(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "400")  # amx show's table one line a row
    synced = Synced(tmp_path / "data")
    awin = api_site(tmp_path / "awin", [
        {"path": "/publishers/123456/programmes", "query": {"relationship": "joined"},
         "file": real_sample("awin", "programmes.json"), "auth": AWIN_AUTH},
        {"path": "/publishers/123456/programmedetails", "query": {"advertiserId": "3"},
         "file": real_sample("awin", "programmedetails.json"), "auth": AWIN_AUTH}])
    synced.sync("awin", "impact", directories={"awin": awin, "impact": impact_real_sample(tmp_path / "impact")})
    return synced


def claimed(program: dict, field: str) -> list[tuple[str, object]]:
    return [(claim["source"], claim["value"]) for claim in program["provenance"].get(field, [])]


def test_the_programs_api_holds_how_fast_a_program_pays_and_where_its_deep_links_may_go(synced):
    awin, sunny = synced.named("Affiliate Window"), synced.named("SunnySports")
    assert awin["average_payment_days"] == "44"  # Awin's kpi.averagePaymentTime, days
    assert awin["deeplink_domains"] == ["www.anotherexample.com", "www.example.com", "www.exampledomain1.com"]
    assert claimed(awin, "average_payment_days") == [("awin", "44")]
    assert claimed(awin, "deeplink_domains") == [("awin", awin["deeplink_domains"])]
    # Impact's own words, a wildcard host kept as it is: any subdomain of sunnysports.com
    assert sunny["deeplink_domains"] == ["*.sunnysports.com", "sunnysports.com"]
    assert claimed(sunny, "deeplink_domains") == [("impact", ["*.sunnysports.com", "sunnysports.com"])]
    assert sunny["average_payment_days"] is None and "average_payment_days" not in sunny["provenance"]
    # Impact's AllowsDeeplinking and Awin's deeplinkEnabled, each the string "true"
    assert (awin["deeplinks_allowed"], sunny["deeplinks_allowed"]) == (True, True)
    assert claimed(awin, "deeplinks_allowed") == [("awin", True)]
    assert claimed(sunny, "deeplinks_allowed") == [("impact", True)]
    # where a link may go is no site of the merchant: resolution's domains are its own
    assert synced.named("Wine Express")["domains"] == ["wineexpress.com"]


def test_amx_show_prints_each_claim_of_them_by_its_source(synced):
    """Each claim by its source, and ✓ where the program holds it: both networks' yes to deep links is held. Each field
    and the yes in the program page's words (they were deeplinks_allowed and yes)."""
    rows = set()
    for name in ("Affiliate Window", "SunnySports"):
        shown = CliRunner().invoke(cli, ["show", synced.named(name)["id"]])
        assert shown.exit_code == 0, (shown.output, shown.exception)
        rows |= {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in shown.output.splitlines()}
    assert ("Average payment days", "44", "Awin publisher API (awin)", "✓") in rows, rows
    assert ("Deep link domains", "www.anotherexample.com, www.example.com, www.exampledomain1.com",
            "Awin publisher API (awin)", "✓") in rows, rows
    assert ("Deep link domains", "*.sunnysports.com, sunnysports.com", "Impact partner API (impact)", "✓") in rows, rows
    assert ("Deep links allowed", "Yes", "Impact partner API (impact)", "✓") in rows, rows
    assert ("Deep links allowed", "Yes", "Awin publisher API (awin)", "✓") in rows, rows


def test_the_program_page_shows_them_in_words_beside_each_sources_claim(synced):
    web = signed_in_web(synced.rt.secrets)
    fields = {}
    for name in ("Affiliate Window", "SunnySports"):
        page = web.get(f"/programs/{synced.named(name)['id']}").text
        fields[name] = {label: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for label, value in re.findall(
            r'<th scope="row" data-label="Field">([^<]+)</th>\s*<td data-label="Value">(.*?)</td>', page, re.S)}
    assert fields["Affiliate Window"]["Average payment days"] == "44"
    assert fields["Affiliate Window"]["Deep link domains"] == (
        "www.anotherexample.com, www.example.com, www.exampledomain1.com")
    assert fields["SunnySports"]["Deep link domains"] == "*.sunnysports.com, sunnysports.com"
    assert fields["SunnySports"]["Deep links allowed"] == fields["Affiliate Window"]["Deep links allowed"] == "Yes"
