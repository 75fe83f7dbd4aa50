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
