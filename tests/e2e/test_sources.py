"""Every source plugin scrapes its recorded site over real HTTP (the recorded-sources server) into
exactly the records a person checked by hand, field by field; the page in a changed layout is a
parse error stored beside its raw copy."""

import json

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.pipeline import scrape
from affiliate_matrix.runtime import Runtime
from tests.support.recorded_expected import EXPECTED

@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_recorded_site_scrapes_into_the_hand_checked_records(tmp_path, source):
    expected = EXPECTED[source]
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    records = []
    if "credentials" in expected:
        rt.secrets.write("connections/c", expected["credentials"])
    with recorded_sites(source) as urls:
        save_connection(rt.store, Connection(id="c", source=source, base_url=urls[source], rate_limit_per_s=50,
                                             credentials_path="connections/c" if "credentials" in expected else None))
        report = scrape(rt, "c", on_item=lambda item: records.append(item) if hasattr(item, "record_key") else None)
    assert report.pages == expected["pages"]
    by_key = {r.record_key: r.model_dump(mode="json") for r in records}
    assert set(by_key) == set(expected["records"])
    for key, fields in expected["records"].items():
        for field, value in fields.items():
            assert by_key[key][field] == value, f"{source} {key} {field}"
    assert sorted(f.url.removeprefix(urls[source]) for f in report.failures if f.stage == "parse") == expected["parse_errors"]
    assert [f for f in report.failures if f.stage != "parse"] == []
    for failure in report.failures:
        error = json.loads(rt.store.get(f"errors/{failure.raw_key.removeprefix('raw/')}.json").data)
        assert error["raw_key"] == failure.raw_key and "layout changed?" in error["error"]


def scraped_and_indexed(tmp_path, source: str) -> Runtime:
    from affiliate_matrix.events import RAW_BATCH_STORED
    from affiliate_matrix.pipeline import index_batch

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_batch(rt, e.data["batch_key"]))
    with recorded_sites(source) as urls:
        save_connection(rt.store, Connection(id="c", source=source, base_url=urls[source], rate_limit_per_s=50))
        scrape(rt, "c")
    return rt


def test_a_forum_announcement_yields_its_terms_through_normalization(tmp_path):
    from affiliate_matrix.program_index import from_document
    from affiliate_matrix.search import SearchQuery

    rt = scraped_and_indexed(tmp_path, "affiliatefix")
    hit = rt.index.search("programs", SearchQuery(text="mailflow")).hits[0]
    program = from_document(hit.doc)
    assert program.merchant_domain == "mailflow.io" and [n.network for n in program.networks] == ["partnerstack"]
    assert [(t.type, int(t.value_min), t.recurring) for t in program.commission] == [("percent", 30, True)]
    assert program.cookie_days == 60 and program.payout.methods == ["payoneer", "paypal"]
    assert program.payout.minimum.amount == 50 and program.restrictions == ["coupon_sites", "ppc_brand_bidding"]
    assert program.categories == ["b2b_saas"]


def test_refused_credentials_end_the_sync_with_a_clear_failure_and_no_secret(tmp_path, capsys):
    from affiliate_matrix.observability import configure_logging

    configure_logging("sync", fmt="json")
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True, log_format="json"))
    rt.secrets.write("connections/c", {"api_token": "wrong-token-value-xyz", "publisher_id": "123456"})
    with recorded_sites("awin") as urls:
        save_connection(rt.store, Connection(id="c", source="awin", base_url=urls["awin"], rate_limit_per_s=50,
                                             credentials_path="connections/c"))
        report = scrape(rt, "c")
    (failure,) = report.failures
    assert report.records == 0 and "HTTP 401, the connection's credentials were refused" in failure.reason
    logged = capsys.readouterr()
    assert "wrong-token-value-xyz" not in failure.reason + logged.out + logged.err


@pytest.mark.parametrize("secret,path,problem", [
    ({"api_token": "t"}, "connections/c", "lacks publisher_id"),
    (None, None, r"needs credentials \(api_token, publisher_id\) but has no credentials_path"),
])
def test_missing_credentials_are_named(tmp_path, secret, path, problem):
    from affiliate_matrix.errors import InvalidInput

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    if secret:
        rt.secrets.write("connections/c", secret)
    save_connection(rt.store, Connection(id="c", source="awin", base_url="http://127.0.0.1:9", credentials_path=path))
    with pytest.raises(InvalidInput, match=problem):
        scrape(rt, "c")


def test_offers_are_indexed_as_offers(tmp_path):
    from affiliate_matrix.search import SearchQuery

    rt = scraped_and_indexed(tmp_path, "offervault")
    result = rt.index.search("programs", SearchQuery(filters={"kind": ["offer"]}, facets=["networks"]))
    assert result.total == 3 and dict(result.facets["networks"]) == {"maxbounty": 2, "clickdealer": 1}


def test_one_merchant_on_three_recorded_sources_appears_once_side_by_side(tmp_path):
    from affiliate_matrix.events import RAW_BATCH_STORED
    from affiliate_matrix.merchants import merchant_view
    from affiliate_matrix.pipeline import index_batch

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_batch(rt, e.data["batch_key"]))
    with recorded_sites("affiliateprograms", "awin", "impact") as urls:
        for source in ("affiliateprograms", "awin", "impact"):
            credentials = EXPECTED[source].get("credentials")
            if credentials:
                rt.secrets.write(f"connections/{source}", credentials)
            save_connection(rt.store, Connection(id=source, source=source, base_url=urls[source], rate_limit_per_s=50,
                                                 credentials_path=f"connections/{source}" if credentials else None))
            scrape(rt, source)
    view = merchant_view(rt.index, "semrush.com")
    rows = {r["source"]: r for r in view["rows"]}
    assert len(view["rows"]) == 3 and set(rows) == {"affiliateprograms", "awin", "impact"}
    assert len({r["program_id"] for r in view["rows"]}) == 1  # one program, three sources
    assert rows["awin"]["best"] == ["commission_flat"]  # the only EUR amount
    assert "cookie_days" in rows["affiliateprograms"]["best"] and rows["affiliateprograms"]["cookie_days"] == 120
    assert rows["awin"]["network"] == "awin" and rows["impact"]["network"] == "impact"
    assert "commission" in next(iter(view["conflicts"].values()))  # $200 + $10 vs 200 EUR vs $200


# A French announcement, its apostrophe (’) a byte of windows-1252 that UTF-8 writes in three: read as UTF-8 bytes under
# its declaration, it became "dâ€™affiliation", and the thread was taken for chatter
FRENCH_FEED = """<?xml version="1.0" encoding="windows-1252"?>
<rss version="2.0"><channel><title>Forum</title><item>
<title>Lancement du programme d’affiliation Mailflow</title>
<link>https://www.affiliatefix.com/threads/mailflow-30-recurring-commission-for-12-months.187342/</link>
<description>Bonjour à tous, voici Mailflow.</description>
</item></channel></rss>""".encode("cp1252")


@pytest.mark.parametrize("replay", [False, True])
def test_a_feed_in_the_encoding_it_declares_is_read_in_it_live_and_in_replay(tmp_path, replay):
    import shutil

    from affiliate_matrix.sources import get_source

    site = tmp_path / "site"
    shutil.copytree(get_source("affiliatefix").recorded_dir() / "threads", site / "threads")
    (site / "feed.rss").write_bytes(FRENCH_FEED)
    (site / "routes.json").write_text(json.dumps([
        {"path": path, "file": "feed.rss", "headers": {"Content-Type": "application/rss+xml; charset=windows-1252"}}
        for path in get_source("affiliatefix").start_paths]))
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", allow_loopback_fetch=True))
    with recorded_sites("affiliatefix", directories={"affiliatefix": site}) as urls:
        save_connection(rt.store, Connection(id="c", source="affiliatefix", base_url=urls["affiliatefix"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "c")
    if replay:  # the feed parsed again from its stored copy, with no network
        report = scrape(rt, "c", replay=True)
    assert (report.records, report.failures) == (1, [])  # its thread followed, read
