"""The network plugins on answers their real servers sent, saved by other people in public code (each plugin's
`recorded/real/`, its README says where from and what was cut): measured on material they were not written from."""

from affiliate_matrix.sources import Listing, get_source
from affiliate_matrix.sources.cj import read_page


def real_answer(source: str, name: str) -> bytes:
    return (get_source(source).recorded_dir() / "real" / name).read_bytes()


def test_cj_reads_every_advertiser_of_a_real_advertiser_lookup_page():
    """A real joined-advertisers page (UK publisher, 6 of its 21 advertisers): item lists in percent and in pounds,
    `<default type="item-level">`, an empty parent category, and new advertisers whose EPCs are `New`."""
    listings, total = read_page(get_source("cj")().decode(real_answer("cj", "advertiser-lookup-uk-joined.xml")),
                                "https://advertiser-lookup.api.cj.com/v2/advertiser-lookup")
    assert total == 21 and all(isinstance(listing, Listing) for listing in listings), listings
    by_id = {listing.record_key: listing for listing in listings}
    assert list(by_id) == ["1515487", "1826327", "4044858", "4356401", "4703026", "4718153"]
    uk2 = by_id["1826327"]
    assert [(t.type, str(t.value_min), t.value_max and str(t.value_max), t.currency) for t in uk2.commission] == [
        ("percent", "3", "30", None), ("flat", "50", None, "GBP")]
    assert uk2.extra["epc_7d"] == "0.0888" and uk2.categories == ["Web Hosting/Servers"]
    toys = by_id["4044858"]
    assert toys.name == "Toys R Us & Babies R Us"
    # Its two hidden actions pay GBP 0.00: no offer beside the 3% sales rate, though the text still says them
    assert [(t.type, str(t.value_min), t.currency) for t in toys.commission] == [("percent", "3", None)]
    assert "Sale - Click & Collect (Hidden Action): GBP 0.00" in toys.commission_text
    assert by_id["4356401"].categories == ["Sports & Fitness"]  # the parent is blank: the child stands alone
    # A new advertiser: CJ writes `New` where the EPCs will be, as it does for the rank. No EPC yet, not a fault.
    new = by_id["4703026"]
    assert (new.name, new.closed, new.contract) == ("TM Lewin GLOBAL", None, "joined")
    assert "epc_7d" not in new.extra and "epc_90d" not in new.extra and "epc_currency" not in new.extra
    assert new.extra["network_rank"] == "New"
    assert [(t.type, str(t.value_min)) for t in by_id["4718153"].commission] == [("percent", "2"), ("flat", "8")]


def test_cj_says_deep_links_are_allowed_by_a_deeplink_among_an_advertisers_link_types():
    """Each advertiser of the real page lists DeepLink among its link types (beside OtherDeepLink and
    AutoMoneyDeepLink); the recorded page's second advertiser lists Text Link and Banner only, which says nothing
    about deep links (CJ lists what an advertiser has, not what it refuses)."""
    listings, _ = read_page(get_source("cj")().decode(real_answer("cj", "advertiser-lookup-uk-joined.xml")),
                            "https://advertiser-lookup.api.cj.com/v2/advertiser-lookup")
    assert [listing.extra.get("deeplinks_allowed") for listing in listings] == ["true"] * 6
    recorded = (get_source("cj").recorded_dir() / "advertisers-1.xml").read_bytes()
    listings, _ = read_page(get_source("cj")().decode(recorded), "https://advertiser-lookup.api.cj.com/v2/x")
    assert [(listing.record_key, listing.extra.get("deeplinks_allowed")) for listing in listings] == [
        ("1566745", "true"), ("4790321", None)]


def test_impacts_allows_deeplinking_reaches_the_program_as_yes_or_no_and_another_word_as_nothing():
    """The real campaign list's AllowsDeeplinking ("true"), and the same campaign saying "false", a JSON false, or a
    word that is neither: the plugin keeps the word, normalize reads the two and logs any other, the campaign whole."""
    import json

    from structlog.testing import capture_logs

    from affiliate_matrix.sources.impact import campaign_listing
    from tests.support.factories import make_program
    from tests.support.real_samples import real_sample

    campaign = json.loads(real_sample("impact", "campaigns.json").read_text())["Campaigns"][0]
    read = {}
    with capture_logs() as logs:
        for said in ("true", "false", False, "sometimes"):
            listing = campaign_listing({**campaign, "AllowsDeeplinking": said})
            read[said] = make_program(listing.name, campaign["CampaignUrl"], extra=listing.extra).deeplinks_allowed
    assert read == {"true": True, "false": False, False: False, "sometimes": None}
    assert [(e["event"], e["field"], e["value"]) for e in logs if e["log_level"] == "warning"] == [
        ("normalize.figure_refused", "deeplinks_allowed", "sometimes")]
