"""Each plugin with a real payload of its source (../shared/real-samples/, see its README) reads it
over real HTTP, through the recorded-sites server, into the records a person checked by hand:
Impact's live campaign list, Awin's documented examples, a real XenForo 2 forum feed."""

import re

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.pipeline import scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sources import Page, Request
from tests.support.real_samples import api_site, real_sample

IMPACT_AUTH = {"Authorization": "Basic SVJ0ZXN0U0lEOnRlc3QtaW1wYWN0LXRva2Vu", "Accept": "application/json"}
AWIN_AUTH = {"Authorization": "Bearer test-awin-token"}


def scraped(tmp_path, source: str, routes: list[dict], credentials: dict | None = None):
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True))
    if credentials:
        rt.secrets.write("connections/c", credentials)
    records = []
    site = api_site(tmp_path / "site", routes)
    with recorded_sites(source, directories={source: site}) as urls:
        save_connection(rt.store, Connection(id="c", source=source, base_url=urls[source], rate_limit_per_s=50,
                                             credentials_path="connections/c" if credentials else None))
        report = scrape(rt, "c", on_item=lambda item: records.append(item) if hasattr(item, "record_key") else None)
    return report, {r.record_key: r.model_dump(mode="json") for r in records}


def test_impact_reads_a_live_campaign_list_campaign_first_parent_company_as_alias(tmp_path):
    report, records = scraped(tmp_path, "impact", [
        {"path": "/Mediapartners/IRtestSID/Campaigns", "query": {"PageSize": "100"},
         "file": real_sample("impact", "campaigns.json"), "auth": IMPACT_AUTH}],
        {"account_sid": "IRtestSID", "auth_token": "test-impact-token"})
    assert (report.pages, report.failures) == (1, [])
    sunny, wine = records["11630"], records["2181"]
    assert (sunny["name"], sunny["merchant_url"], sunny["aliases"]) == ("SunnySports", "http://sunnysports.com/", ["Adorama"])
    assert sunny["countries"] == ["US"] and sunny["join_url"] is None  # an expired contract has no tracking link
    assert sunny["extra"] == {"contract_status": "Expired", "advertiser_id": "28763",
                              "advertiser_url": "http://www.adorama.com", "deeplinks_allowed": "true"}
    assert sunny["description"].startswith("We offer easy and professional shopping")
    assert (wine["name"], wine["merchant_url"], wine["aliases"]) == ("Wine Express", "http://www.wineexpress.com/", [])
    assert wine["join_url"] == "https://wineexpress.vneoga.net/c/%7BMediaPartnerId%7D/88200/2181"
    assert (wine["network"], wine["network_program_id"]) == ("impact", "2181")


@pytest.mark.parametrize("details,expected", [
    ("programmedetails.json", {
        "commission_text": "0 - 50 GBP", "description": "Advertiser programme description.",
        "commission": [{"type": "flat", "value_min": "0", "value_max": "50", "currency": "GBP", "recurring": None,
                        "tiers": []}],
        "extra": {"approval_rate": "0.7019", "conversion_rate": "0.0209", "validation_days": "9", "epc_90d": "0.47",
                  "epc_currency": "GBP",
                  "average_payment_days": "44", "membership_status": "joined", "deeplinks_allowed": "true"},
        "contract": "joined"}),  # membershipStatus, the account's relationship: its network listing's contract
    ("programmedetails-mixed-range.json", {  # the details hold only the commission range
        "commission_text": "2 - 11%, 1.5 - 18 GBP", "description": "Awin programme description.", "extra": {},
        "contract": "joined",  # listed by relationship=joined, its details silent on it
        "commission": [  # one term per kind, the figures as Awin states them (not read back from the text)
            {"type": "percent", "value_min": "2", "value_max": "11", "currency": None, "recurring": None, "tiers": []},
            {"type": "flat", "value_min": "1.5", "value_max": "18", "currency": "GBP", "recurring": None, "tiers": []}]}),
])
def test_awin_reads_its_documented_examples(tmp_path, details, expected):
    report, records = scraped(tmp_path, "awin", [
        {"path": "/publishers/123456/programmes", "query": {"relationship": "joined"},
         "file": real_sample("awin", "programmes.json"), "auth": AWIN_AUTH},
        {"path": "/publishers/123456/programmedetails", "query": {"advertiserId": "3"},
         "file": real_sample("awin", details), "auth": AWIN_AUTH}],
        {"api_token": "test-awin-token", "publisher_id": "123456"})
    assert (report.pages, report.failures) == (2, [])
    (record,) = records.values()
    assert {k: record[k] for k in ("record_key", "name", "merchant_url", "join_url", "countries", "network")} == {
        "record_key": "3", "name": "Affiliate Window", "merchant_url": "http://www.affiliatewindow.com/",
        "join_url": "http://www.awin1.com/awclick.php?mid=3&id=267235", "countries": ["GB"], "network": "awin"}
    assert {k: record[k] for k in expected} == expected


def test_awins_epc_is_the_programs_3_month_epc_in_the_programmes_currency(tmp_path):
    """Awin's `kpi.epc` (0.47 in its documented example of a GBP programme) is what the program holds as EPC,
    as CJ's are: searchable, sortable and compared in its currency."""
    from affiliate_matrix.models import RawRecord
    from affiliate_matrix.normalize import normalize

    _, records = scraped(tmp_path, "awin", [
        {"path": "/publishers/123456/programmes", "query": {"relationship": "joined"},
         "file": real_sample("awin", "programmes.json"), "auth": AWIN_AUTH},
        {"path": "/publishers/123456/programmedetails", "query": {"advertiserId": "3"},
         "file": real_sample("awin", "programmedetails.json"), "auth": AWIN_AUTH}],
        {"api_token": "test-awin-token", "publisher_id": "123456"})
    program = normalize(RawRecord.model_validate(records["3"]))
    assert (str(program.epc_90d.amount), program.epc_90d.currency, program.epc_7d) == ("0.47", "GBP", None)
    assert [c.source for c in program.provenance["epc_90d"]] == ["awin"]


def test_affiliatefix_starts_from_real_feed_addresses_and_reads_a_real_xenforo_feed(tmp_path):
    """Served at AffiliateFix's four feed addresses, a real XenForo 2 feed (of a game forum) is read
    without a failure, and none of its threads (news, tournaments) is taken for a program."""
    from affiliate_matrix.sources.affiliatefix import AffiliateFix

    feed = real_sample("affiliatefix", "xf2-forum-feed.rss")
    routes = [{"path": path, "file": feed, "headers": {"Content-Type": "application/rss+xml; charset=utf-8"}}
              for path in AffiliateFix.start_paths]
    report, records = scraped(tmp_path, "affiliatefix", routes)
    assert (report.pages, report.records, report.failures) == (4, 0, [])


def test_a_real_feed_item_that_announces_a_program_is_followed_to_its_thread():
    from affiliate_matrix.sources.affiliatefix import AffiliateFix, feed_items

    text = real_sample("affiliatefix", "xf2-forum-feed.rss").read_text()
    page = Page("https://www.affiliatefix.com/forums/-/index.rss", 200, text, "raw/x")
    items = feed_items(page)
    assert len(items) == 20 and all(re.fullmatch(r"/threads/[a-z0-9-]+\.\d+/", i.path) for i in items)
    assert "Hello everyone!" in items[0].excerpt and "<" not in items[0].excerpt  # the first post, as text
    # The same real feed, one item retitled as an announcement: that thread, and only it, is followed.
    announced = text.replace("<title>Bed Wars Doubles Tournament Results</title>",
                             "<title>Acme Partner Program - 30% recurring commission</title>", 1)
    requests = AffiliateFix().run("parse", Page(page.url, 200, announced, "raw/x"))
    assert requests == [Request("https://www.affiliatefix.com/threads/bed-wars-doubles-tournament-results.4876572/",
                                "parse_thread")]


def test_a_connection_test_on_a_real_feed_says_it_holds_nothing_the_plugin_takes(tmp_path):
    """`amx connections test` of AffiliateFix served a real XenForo feed (20 threads, none announcing a program) said
    "read: ok — …: 0 item(s) read", as if the feed were empty; it says what the plugin found on it."""
    from affiliate_matrix.connection_test import check

    feed = real_sample("affiliatefix", "xf2-forum-feed.rss")
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True))
    site = api_site(tmp_path / "site", [{"path": "/forums/-/index.rss", "file": feed,
                                         "headers": {"Content-Type": "application/rss+xml; charset=utf-8"}}])
    with recorded_sites("affiliatefix", directories={"affiliatefix": site}) as urls:
        result = check(rt, Connection(id="c", source="affiliatefix", base_url=urls["affiliatefix"],
                                      rate_limit_per_s=50))
    read = {c["name"]: c for c in result["checks"]}["read"]
    assert read["ok"] is True and read["detail"].endswith(
        "/forums/-/index.rss: read, with no listing on it and no link the plugin follows"), read
