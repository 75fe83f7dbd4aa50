"""On a detail page its selectors find nothing on, each directory plugin without real markup hands
over to the one generic reader: pages in layouts none of them was written for (constructed for
these tests, see tests/data/generic-pages/README.md) become records marked as the generic reader's."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from affiliate_matrix.crawl import records_of
from affiliate_matrix.connections import Connection
from affiliate_matrix.normalize import normalize
from affiliate_matrix.sources import Page, ParseError, get_source
from tests.support.counting import CountedPattern

PAGES = Path(__file__).resolve().parents[1] / "data" / "generic-pages"
# Each plugin's detail address for a slug, and the record key it takes from it.
PLUGINS = {
    "affiliateprograms": ("https://www.affiliateprograms.com/p/{slug}/", "{slug}"),
    "affiliationlist": ("https://affiliationlist.com/program/{slug}", "{slug}"),
    "affiliatesdirectory": ("http://affiliatesdirectory.com/program/9001/{slug}.html", "9001"),
}
EXPECTED = {
    "json-ld-only": {"name": "Tidewave Surf Co.", "merchant_url": "https://www.tidewave-surf.com/",
                     "description": "Surfboards and wetsuits, shipped across Europe.",
                     "categories": ["Sports", "Outdoors"], "countries": ["Portugal", "Spain"],
                     "commission_text": "8% per sale", "cookie_text": "30 days", "network": "Awin", "join_url": None},
    "definition-list": {"name": "Brightline CRM", "merchant_url": "https://brightlinecrm.com/",
                        "description": "CRM for small sales teams.", "categories": ["SaaS", "Marketing"],
                        "commission_text": "25% recurring for 24 months", "cookie_text": "60 days",
                        "payout_text": "Monthly via PayPal, $100 minimum", "network": "PartnerStack",
                        "join_url": "https://brightline.partnerstack.com/apply"},  # not the site's own "Join" link
    "label-lines": {"name": "PeakPass", "merchant_url": "https://www.peakpass.travel/",
                    "description": "PeakPass sells multi-resort ski passes.", "categories": ["Travel", "Sports"],
                    "commission_text": "$40 per pass sold", "cookie_text": "45 days",
                    "payout_text": "Net 30 by bank transfer"},
    "microdata": {"name": "Quillbot Pro", "merchant_url": "https://quillbot.example.com/",
                  "description": "Paraphrasing and grammar tool.", "categories": ["Software"],
                  "commission_text": "30% recurring", "cookie_text": "90 days"},
    "free-text": {"name": "Nimbus Notes", "description": "Nimbus Notes is a note-taking app for teams.",
                  "commission_text": "Refer a customer and earn 20% of every payment they make for a year.",
                  "cookie_text": "Referrals are tracked with a 30-day cookie.", "merchant_url": None},
}


def read(plugin: str, slug: str, html: str) -> list:
    url, _ = PLUGINS[plugin]
    page = Page(url.format(slug=slug), 200, html, "raw/generic/x.html")
    return records_of(get_source(plugin)(), Connection(id="c", source=plugin), page, "parse_program", datetime.now(UTC))


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
@pytest.mark.parametrize("shape", sorted(EXPECTED))
def test_a_page_in_an_unknown_layout_is_read_by_the_generic_reader(plugin, shape):
    (record,) = read(plugin, shape, (PAGES / f"{shape}.html").read_text())
    assert record.extracted_by == "generic" and record.record_key == PLUGINS[plugin][1].format(slug=shape)
    got = record.model_dump(mode="json")
    assert {field: got[field] for field in EXPECTED[shape]} == EXPECTED[shape]


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
def test_a_page_with_a_name_and_nothing_else_is_still_a_parse_error_naming_both_readers(plugin):
    with pytest.raises(ParseError, match=r"\(layout changed\?\); the generic reader found no program terms or links"):
        read(plugin, "old-program", (PAGES / "name-only.html").read_text())


def test_what_the_generic_reader_found_normalizes_like_any_record():
    (record,) = read("affiliationlist", "tidewave", (PAGES / "json-ld-only.html").read_text())
    program = normalize(record)
    assert (program.merchant_domain, program.countries, program.cookie_days) == ("tidewave-surf.com", ["ES", "PT"], 30)
    assert [n.network for n in program.networks] == ["awin"]


def test_hostile_structured_data_is_read_around_not_crashed_on():
    deep = "[" * 5000 + "]" * 5000  # deeper than json.loads can go
    wide = json.dumps({"@type": "Product", "name": "Wide", "additionalProperty": [{"name": f"p{i}", "value": i}
                                                                                 for i in range(20_000)]})
    html = (f'<script type="application/ld+json">{deep}</script><script type="application/ld+json">{wide}</script>'
            '<h1>Fallback Name</h1><p>Commission: 12% per sale</p><p>Website: http://[broken</p>'
            '<a href="http://shop.example.com:99999/">Visit website</a><a href="https://net.example/join">Join</a>')
    (record,) = read("affiliateprograms", "hostile", html)
    assert (record.name, record.commission_text) == ("Wide", "12% per sale")
    assert (record.merchant_url, str(record.join_url)) == (None, "https://net.example/join")  # bad links left out


def test_offer_texts_in_json_ld_are_bounded_as_the_page_lines_are(monkeypatch):
    """A JSON-LD offer's name and description went to the terms extractor whole, a line of the page only up to 500
    characters: an offer of 200,000 characters was read (twice: with the page, then alone) at each crawl."""
    import affiliate_matrix.terms as terms

    read_by_extractor = []
    extract = terms.extract
    monkeypatch.setattr(terms, "extract", lambda text: read_by_extractor.append(text) or extract(text))
    long_offer = "Earn 15% per sale. " + "Our partners love us. " * 10_000
    entity = {"@type": "Product", "name": "Longwind", "url": "https://longwind.example.com/",
              "offers": [{"@type": "Offer", "description": long_offer}, {"@type": "Offer", "name": "Cookie: 30 days"}]}
    html = f'<script type="application/ld+json">{json.dumps(entity)}</script><h1>Longwind</h1>'
    (record,) = read("affiliationlist", "longwind", html)
    assert record.cookie_text == "Cookie: 30 days" and record.commission_text is None
    assert read_by_extractor and all("Our partners love us." not in text for text in read_by_extractor)


def test_an_anchors_text_is_read_for_what_it_says_no_further_than_its_bound(monkeypatch):
    """The site's words ("site", "website", "store", "shop") were looked for after each "visit" or "official" of an
    anchor's text to its end: an anchor of 20,000 "visit " took 39 s. Counted, not timed: the text the anchors'
    patterns are handed."""
    from affiliate_matrix.sources import generic

    handed = []
    for name in ("_JOIN_TEXT", "_SITE_TEXT"):
        monkeypatch.setattr(generic, name, CountedPattern(getattr(generic, name), handed))
    html = ('<h1>Acme Hosting</h1><p>Commission: 30% per sale</p><a href="https://acme.example.com/">'
            + "visit " * 5_000 + '</a><a href="https://acme-shop.example.com/">Visit the official website</a>')
    (record,) = read("affiliateprograms", "acme", html)
    assert handed and max(handed) <= 200
    assert str(record.merchant_url) == "https://acme-shop.example.com/"  # an anchor saying so is still the site
