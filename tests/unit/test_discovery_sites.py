"""Discovery's candidates: one per site, where a site is what the index keys a merchant by."""

from affiliate_matrix.discovery import DiscoveryReport
from affiliate_matrix.discovery.providers import Result
from affiliate_matrix.discovery.run import dedupe


def _sites(*urls: str) -> list[str]:
    results = [Result(url=u, title="", snippet="", rank=i, provider="p", query="q") for i, u in enumerate(urls)]
    return [c.domain for c in dedupe(results, DiscoveryReport())]


def test_each_tenant_of_a_host_giving_merchants_subdomains_is_a_site_of_its_own():
    assert _sites("https://acme.myshopify.com/pages/affiliates", "https://zed.myshopify.com/pages/partners",
                  "https://www.acme.myshopify.com/other", "https://myshopify.com/") == \
        ["acme.myshopify.com", "zed.myshopify.com", "myshopify.com"]


def test_the_pages_and_subdomains_of_one_registrable_domain_are_one_site():
    assert _sites("https://shop.example.com/affiliates", "https://www.example.com/partners",
                  "https://blog.example.co.uk/refer") == ["example.com", "example.co.uk"]


def test_every_site_the_index_lists_is_known_however_many_candidates_a_run_has(tmp_path):
    """The index was asked once for the candidates' domains, a page of 1,000 programs: past that many listed sites (a
    run of many niches finds thousands), the rest were taken for new, fetched and judged again as discoveries."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.discovery.run import known_domains
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from affiliate_matrix.runtime import Runtime
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    domains = [f"shop{i:04d}.com" for i in range(1005)]
    template = to_document(make_program("Shop", "https://shop.com"))
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [{**template, "id": f"p_{i:016x}", "merchant_domain": domain}
                                               for i, domain in enumerate(domains)], refresh=True)
    assert known_domains(rt, [*domains, "new.com"]) == set(domains)


def test_a_run_asks_the_local_store_for_its_candidates_decisions_alone(tmp_path):
    """Every decision ever made (discovery/seen/, kept for good) was listed at each run, the folder walked whole for a
    run of three candidates; the local store is asked for each of the candidates' keys (a file each)."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.discovery.run import known_domains, remember, seen_key
    from affiliate_matrix.runtime import Runtime
    from tests.support.counting import CountingStore

    rt = Runtime("test", Settings(data_dir=tmp_path))
    for domain in [f"old{n}.com" for n in range(50)] + ["shop.com"]:
        remember(rt, domain, {"domain": domain, "outcome": "rejected"})
    rt.store = CountingStore(rt.store)
    assert known_domains(rt, ["shop.com", "new.com", "::1"]) == {"shop.com"}
    assert sorted(rt.store.asked) == sorted(("head", key) for key in (
        seen_key("shop.com"), seen_key("new.com"), seen_key("::1"), "discovery/seen/__1.json"))


def test_one_site_is_one_candidate_however_its_host_is_spelt():
    """A host was keyed as spelt where no public suffix names its site (a suffix newer than the list, a name such as
    `shop.example`): `shop.example.` and `shop.example` were two candidates, fetched and judged twice. A host is keyed
    as the fetch sends it (UTS #46: full-width letters and dots, upper case) and without the trailing dot of a fully
    qualified name, wherever it is keyed: the candidate, and the site's judged and review records."""
    from affiliate_matrix.discovery.run import review_key, seen_key, site_of

    spellings = ("ｓｈｏｐ.ｅｘａｍｐｌｅ", "SHOP.EXAMPLE", "shop.example.", "ｓｈｏｐ．ｅｘａｍｐｌｅ．", "shop.example")
    assert _sites(*(f"https://{host}/affiliates" for host in spellings)) == ["shop.example"]
    assert _sites("https://ｅｘａｍｐｌｅ.com/a", "https://WWW.EXAMPLE.COM./b", "https://example.com./c") == ["example.com"]
    assert {site_of(host) for host in (*spellings, "ＳＨＯＰ.ｅｘａｍｐｌｅ。")} == {"shop.example"}
    assert {site_of(host) for host in ("Ｅｘａｍｐｌｅ.COM.", "www.example.com", "shop.EXAMPLE.com.")} == {"example.com"}
    assert {seen_key(host) for host in spellings} == {"discovery/seen/shop.example.json"}
    assert review_key("Shop.Example.") == review_key("shop.example")


def test_a_page_of_a_network_a_directory_or_a_marketplace_is_no_merchants_candidate():
    """A network's page about a merchant's program (shareasale.com), a directory's listing of one (affiliateprograms.com)
    and a shop on a marketplace (etsy.com/shop/…) were judged as the host's own program: ShareASale indexed as a program
    with Petco's terms, Chewy's listing as a program of affiliateprograms.com, and the host then remembered as judged
    for every other merchant on it. They are left unjudged, each site named once with why; a tenant's own subdomain
    (acme.myshopify.com) is still a merchant's site."""
    results = [Result(url=u, title="", snippet="", rank=i, provider="p", query="q") for i, u in enumerate((
        "https://www.shareasale.com/shareasale.cfm?merchantID=12345", "https://www.affiliateprograms.com/p/chewy/",
        "https://www.etsy.com/shop/acme/affiliates", "https://ui.awin.com/merchant-profile/1234",
        "https://www.shareasale.com/shareasale.cfm?merchantID=777", "https://acme.myshopify.com/pages/affiliates",
        "https://pawsome.example/affiliate-program/"))]
    report = DiscoveryReport()
    assert [c.domain for c in dedupe(results, report)] == ["acme.myshopify.com", "pawsome.example"]
    assert [said.split(":")[0] for said in report.not_merchants] == [
        "shareasale.com", "affiliateprograms.com", "etsy.com", "awin.com"]
    assert "the site of a source the index reads (AffiliatePrograms.com)" in report.not_merchants[1]
    assert report.failures == []
