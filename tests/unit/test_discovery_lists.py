"""The discovery judge on pages listing many programs: a directory's category page, a comparison table, a page about
networks. Each has every word, link and term of a program many times over (they are the listed merchants'), and was
discovered at confidence 1.0 as the site's own program. A merchant's own page naming other programs or its networks
is still its program. Real pages of both kinds are in `tests/data/discovery-pages/` (the `en-` ones added with this)."""

import pytest

from affiliate_matrix.discovery.run import ACCEPT, REVIEW
from affiliate_matrix.discovery.validate import REASON_WIDTH, classify, why_rejected
from tests.support.discovery_pages import judged
LISTS = ["en-uppromote-health-wellness-comparison", "en-affiliationlist-faq", "en-affiliatesdirectory-faq",
         "en-affiliatesdirectory-submission-guidelines", "en-affiliboostbucks-hosting-comparison",
         "en-alltechbee-affiliate-networks-overview"]
# Merchants' own pages naming other programs ("Just like Amazon", "other affiliate programs", "merchant programs"), a
# network (ShareASale) or several commission rates (one per kind of publisher)
MERCHANTS_NAMING_OTHERS = ["en-ihealth-affiliate-faq", "en-moccah-affiliate-info", "en-awin-merchant-promotional-types",
                           "en-mydivorcepapers-affiliate-faq", "en-libertyclassroom-affiliate-program"]


@pytest.mark.parametrize("page_id", LISTS)
def test_a_real_directory_or_list_of_programs_is_not_taken_for_one(page_id):
    page, verdict = judged(page_id)
    assert page["label"] == "not_program"
    assert verdict.confidence == 0.0
    assert any(line.startswith("the page lists many programs (") for line in verdict.evidence), verdict.evidence


@pytest.mark.parametrize("page_id", MERCHANTS_NAMING_OTHERS)
def test_a_real_merchant_page_naming_other_programs_or_networks_is_not_taken_for_a_list(page_id):
    page, verdict = judged(page_id)
    assert page["label"] == "program"
    assert not any("lists many programs" in line for line in verdict.evidence), verdict.evidence
    assert verdict.confidence > 0


ROW = ('<tr><td><a href="https://www.{name}.com/affiliates">{title} affiliate program</a></td><td>{rate}%</td>'
       '<td>{days} days</td><td>{network}</td></tr>')
ROWS = [("petzone", "PetZone", 8, 30, "Awin"), ("barkbox", "BarkBox", 12, 14, "ShareASale"),
        ("chewbase", "ChewBase", 5, 45, "CJ"), ("vetsupply", "VetSupply", 10, 60, "Impact"),
        ("aquahome", "AquaHome", 15, 90, "in-house"), ("catnest", "CatNest", 7, 30, "Rakuten")]


def directory_page(rows: str) -> str:
    return ("<html><head><title>Pet Affiliate Programs | ProgramHub</title></head><body>"
            "<h1>Pet Affiliate Programs</h1><p>Affiliates earn commission on every sale; payouts monthly.</p>"
            f"<table>{rows}</table>"
            '<a href="/signup">Become a partner</a>'
            '<a href="https://www.awin1.com/cread.php?awinmid=1234">Join PetZone on Awin</a></body></html>')


def test_a_directory_category_page_scoring_full_marks_is_not_a_program():
    """The fault: 40 programs with commission and cookie columns read as one program at confidence 1.0 (program
    wording in the heading, the vocabulary, a network link, a sign-up link, terms read)."""
    rows = "".join(ROW.format(name=n, title=t, rate=r, days=d, network=w) for n, t, r, d, w in ROWS)
    verdict = classify(directory_page(rows), "https://programhub.example/category/pets")
    assert verdict.confidence == 0.0
    assert any(line.startswith("the page lists many programs (") for line in verdict.evidence), verdict.evidence


@pytest.mark.parametrize("row, reason", [
    # the figures alone (no names linked): rows of a commission and a cookie
    ('<tr><td>{title}</td><td>{rate}%</td><td>{days} days</td></tr>', "rows of a commission and a cookie"),
    # the links alone (no figures): other sites' program pages
    ('<li><a href="https://www.{name}.com/partners">{title} partners</a></li>', "links to 6 other sites' programs"),
])
def test_each_sign_of_a_list_is_enough_alone(row, reason):
    rows = "".join(row.format(name=n, title=t, rate=r, days=d) for n, t, r, d, _ in ROWS)
    verdict = classify(directory_page(rows), "https://programhub.example/category/pets")
    assert verdict.confidence == 0.0
    assert any(reason in line for line in verdict.evidence), verdict.evidence


def test_a_page_about_the_networks_a_publisher_works_with_is_not_a_program():
    page = ("<html><head><title>Networks we work with</title></head><body><h1>Our affiliate partners</h1>"
            "<p>We promote brands through Awin, CJ Affiliate, Impact, Rakuten Advertising, ShareASale and Partnerize, "
            "earning commission on each sale.</p>"
            '<a href="https://www.awin.com/">Awin</a><a href="https://www.shareasale.com/">ShareASale</a>'
            "</body></html>")
    verdict = classify(page, "https://dealblog.example/networks")
    assert verdict.confidence == 0.0
    assert any("networks named: awin, cj, impact, partnerize, rakuten, shareasale" in line for line in verdict.evidence)


def test_a_merchant_with_its_networks_and_its_own_rates_per_category_is_still_a_program():
    """A merchant naming the three networks its program runs on, linking to each, with a commission per product
    category and one cookie, asking for an application: none of it is a list ("impact" is no network there)."""
    page = ("<html><head><title>PetZone Affiliate Program</title></head><body><h1>PetZone Affiliate Program</h1>"
            "<p>Join our affiliate program on Awin, ShareASale or CJ Affiliate. Earn 10% on food, 8% on toys and 5% on "
            "accessories, with a 30-day cookie. Payouts monthly. We measure the impact of every partner.</p>"
            "<p>Submit your affiliate program application below.</p>"
            '<a href="https://ui.awin.com/merchant-profile/1234">Join on Awin</a>'
            '<a href="https://www.shareasale.com/join/?merchantID=5678">Join on ShareASale</a>'
            '<a href="https://www.cj.com/advertiser/9012">Join on CJ</a></body></html>')
    verdict = classify(page, "https://www.petzone.example/affiliates")
    assert verdict.confidence >= ACCEPT, verdict.evidence
    assert not any("lists many programs" in line for line in verdict.evidence)


def test_a_ranked_list_is_still_said_to_rank_programs():
    """The ranking heading is the surer reason and is the one given (a list is not named twice)."""
    rows = "".join(ROW.format(name=n, title=t, rate=r, days=d, network=w) for n, t, r, d, w in ROWS)
    page = directory_page(rows).replace("<h1>Pet Affiliate Programs</h1>", "<h1>10 Best Pet Affiliate Programs</h1>")
    verdict = classify(page, "https://programhub.example/best")
    assert verdict.confidence < REVIEW
    assert any(line.startswith("the title or heading ranks programs") for line in verdict.evidence)
    assert not any("lists many programs" in line for line in verdict.evidence)


@pytest.mark.parametrize("page_id", LISTS)
def test_a_rejected_real_list_gives_its_listing_as_the_reason_on_one_short_line(page_id):
    """amx discover run prints each rejected page with this line: the evidence against a program, cut at a word."""
    _, verdict = judged(page_id)
    why = why_rejected(verdict)
    assert why.startswith("the page lists many programs (") and "\n" not in why
    assert len(why) <= REASON_WIDTH and (why.endswith("not one") or why.endswith(" …")), why



@pytest.mark.parametrize("text, reason", [
    ("Fresh dog food, delivered.", "nothing on the page speaks of an affiliate program"),
    ("Read about any affiliate program you like.",
     "too little sign of a program (confidence 0.15): program wording in the text"),
])
def test_a_rejected_page_without_evidence_against_says_how_little_spoke_for_a_program(text, reason):
    page = f"<html><head><title>Dog food</title></head><body><h1>Dog food</h1><p>{text}</p></body></html>"
    verdict = classify(page, "https://dogfood.example/")
    assert verdict.confidence < REVIEW and not verdict.against
    assert why_rejected(verdict) == reason
