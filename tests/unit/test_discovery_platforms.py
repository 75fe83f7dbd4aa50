"""A merchant's own program page on affiliate-program software (Refersion, Tapfiliate, FirstPromoter, Rewardful: a
subdomain each, taptes.refersion.com; UpPromote: a path each, af.uppromote.com/astrofy/register). Such a page names
the merchant and links to its shop, a site that is not the page's: it was taken for a page about another site's
program, and in a run the merchant was the platform (refersion.com), its program keyed to the platform's domain and
the platform remembered as judged for every other merchant on it. Real pages of them are in
`tests/data/discovery-pages/` (`en-refersion-*`, `en-tapfiliate-*`, `it-uppromote-*`)."""

import pytest

from affiliate_matrix import taxonomy
from affiliate_matrix.discovery import DiscoveryReport
from affiliate_matrix.discovery.providers import Result
from affiliate_matrix.discovery.run import REVIEW, dedupe, record
from affiliate_matrix.discovery.validate import classify, why_rejected
from affiliate_matrix.normalize import merchant_domain
from tests.support.discovery_pages import judged

# each with the merchant its address names
REAL = {"en-refersion-taptes-application": "TAPTES",
        "en-refersion-simplelifenutrition-registration": "simplelifenutrition",
        "en-tapfiliate-digitalthink-tos": "digitalthink", "it-uppromote-astrofy-register": "ASTROFY"}


@pytest.mark.parametrize("page_id, merchant", REAL.items())
def test_a_real_merchants_page_on_affiliate_program_software_is_its_own_program(page_id, merchant):
    """Before, the two Refersion forms were rejected (0.3: a form's title, "Program Application", and its terms table)
    and the other two sent to review under the form's heading as their name."""
    page, verdict = judged(page_id)
    assert page["label"] == "program"
    assert verdict.confidence >= REVIEW and not verdict.against, verdict.evidence
    assert verdict.name == merchant
    assert any("on affiliate-program software" in line for line in verdict.evidence)


FORM = """<html><head><title>{title}</title></head><body><h1>{title}</h1><p>Join our affiliate program: 15% commission
on every sale, a 30-day cookie, monthly payouts by PayPal. Affiliates may not bid on the Astrofy brand.</p>
<a href="https://www.astrofy.com/">Back to the Astrofy shop</a>
<a href="https://www.astrofy.com/pages/affiliate-program">Astrofy affiliate program</a></body></html>"""


@pytest.mark.parametrize("url", ["https://af.uppromote.com/astrofy/register", "https://astrofy.refersion.com/",
                                 "https://astrofy.tapfiliate.com/programs/astrofy-affiliate-program/",
                                 "https://astrofy.firstpromoter.com/signup/34751",
                                 "https://astrofy.getrewardful.com/signup"])
@pytest.mark.parametrize("title", ["Astrofy Affiliate Program", "Program Application"])
def test_a_merchants_sign_up_page_on_a_platform_linking_to_its_shop_is_not_about_another_site(url, title):
    """Made-up HTML: the stored copies keep no links. Titled with its brand, the form's address on UpPromote and its
    link to the shop read as a page about Astrofy's program; titled as the form, the shop named again and again read as
    one too (the rule for a page without a subject)."""
    verdict = classify(FORM.format(title=title), url)
    assert not verdict.about_another_site and not verdict.against, verdict.evidence
    assert verdict.confidence >= REVIEW and verdict.merchant_url is None
    assert verdict.name.lower().startswith("astrofy")


def test_a_page_of_the_platforms_own_is_no_merchants():
    assert taxonomy.platform_merchant("https://support.refersion.com/en/articles/1-affiliates-faq") is None
    assert taxonomy.platform_merchant("https://uppromote.com/blog/health-and-wellness-affiliate-programs") is None
    assert taxonomy.platform_merchant("https://af.uppromote.com/") is None
    assert taxonomy.platform_merchant("https://www.refersion.com/") is None
    assert taxonomy.platform_merchant("https://taptes.refersion.com/") == "taptes"
    assert taxonomy.platform_merchant("https://af.uppromote.com/5c56ed/register") == "5c56ed"
    assert taxonomy.platform_merchant("https://[taptes.refersion.com/") is None  # no address: nobody's


def test_a_directory_profile_linking_to_the_merchants_page_on_a_platform_leads_to_it():
    """The platform's page is the merchant's program page whatever its link says ("Join program" names no program)."""
    page = ("<html><head><title>Taptes</title></head><body><h1>Taptes</h1><p>Taptes runs an affiliate program: 15% "
            'commission, a 3-day cookie. Our rating: 7/10.</p><a href="https://taptes.refersion.com/">Join program</a>'
            "</body></html>")
    verdict = classify(page, "https://www.affiliates-directory.com/websites/taptes")
    assert verdict.about_another_site and verdict.merchant_url == "https://taptes.refersion.com/"
    assert "it names the merchant's address, https://taptes.refersion.com/" in why_rejected(verdict)


def test_each_merchant_on_a_platform_is_a_candidate_of_its_own_and_the_platforms_pages_none():
    """A run took every merchant's page on refersion.com for one site's, judged one of them as refersion.com and then
    skipped the others as judged. A merchant named by a path (af.uppromote.com/astrofy) has no site to judge and
    remember: it is left unjudged, said why, as a shop on a marketplace is; so is a page of the platform's service
    (its help centre's about its merchants' programs). Its front host's pages are its own, judged as any site's."""
    urls = ["https://taptes.refersion.com/", "https://simplelifenutrition.refersion.com/affiliate/registration",
            "https://digitalthink.tapfiliate.com/programs/digitalthink-affiliate-program/tos/",
            "https://af.uppromote.com/astrofy/register", "https://support.refersion.com/en/articles/1-affiliates-faq",
            "https://uppromote.com/blog/health-and-wellness-affiliate-programs"]
    report = DiscoveryReport()
    candidates = dedupe([Result(url, "", "", rank, "searxng", "q") for rank, url in enumerate(urls)], report)
    assert [c.domain for c in candidates] == ["taptes.refersion.com", "simplelifenutrition.refersion.com",
                                              "digitalthink.tapfiliate.com", "uppromote.com"]  # its blog: its own
    assert report.not_merchants == [
        "uppromote.com: the program page of 'astrofy' on affiliate-program software, its merchant named by the "
        "address's path, not by a site of its own",
        "refersion.com: a page of a site many merchants share (a network's, a marketplace, a link shortener), no "
        "merchant's own"]


def test_a_merchants_record_from_its_page_on_a_platform_is_keyed_to_its_subdomain_not_the_platform():
    page = FORM.format(title="Program Application")
    verdict = classify(page, "https://astrofy.refersion.com/affiliate/registration")
    found = {"url": "https://astrofy.refersion.com/affiliate/registration", "domain": "astrofy.refersion.com",
             "confidence": verdict.confidence, "evidence": verdict.evidence, "query": "q", "provider": "searxng",
             "at": "2026-01-01T00:00:00+00:00"}
    kept = record(found, verdict, "raw/discovery/x.html")
    assert merchant_domain(kept.merchant_url) == "astrofy.refersion.com"
    # the platform's own pages on its front host are its own (its own program), on a service subdomain no merchant's
    assert merchant_domain("https://www.refersion.com/affiliate-program/") == "refersion.com"
    assert merchant_domain("https://uppromote.com/blog/x") == "uppromote.com"
    assert merchant_domain("https://support.refersion.com/en/articles/1") is None
