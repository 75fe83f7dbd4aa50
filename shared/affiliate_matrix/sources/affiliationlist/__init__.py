"""AffiliationList: programs by category; each program page lists its key terms as a <dl>."""

import re

from affiliate_matrix.sources import Listing, Page, ParseError, Source, generic, node_text, register

_PROGRAM = re.compile(r"/program/([a-z0-9-]+)/?$")


@register
class AffiliationList(Source):
    name = "affiliationlist"
    title = "AffiliationList"
    base_url = "https://affiliationlist.com"
    start_paths = ("/category/saas", "/category/finance")
    program_pages = _PROGRAM

    def parse(self, page: Page):
        """A category page: program cards and the next page."""
        cards = page.css("a.program-card[href]")
        if not cards and page.css_first("p.empty-category") is None:
            raise ParseError(f"{page.url}: no a.program-card links (layout changed?)")
        for card in cards:
            yield page.follow(card.attributes.get("href"), "parse_program")
        next_link = page.css_first("a[rel=next][href]")
        if next_link is not None:
            yield page.follow(next_link.attributes.get("href"))

    def parse_program(self, page: Page):
        """A program page: the name, a description and a <dl class="key-terms"> of terms. On a layout
        without them, the generic reader reads what it can."""
        match = _PROGRAM.search(page.url)
        if not match:
            raise ParseError(f"{page.url}: not a /program/<slug> address")
        name = page.text_of("main h1")
        terms = page.css_first("dl.key-terms")
        if not name or terms is None:
            yield generic.read(page, match.group(1), f"{page.url}: no main h1 or dl.key-terms (layout changed?)")
            return
        values, label = {}, None
        for node in terms.iter():
            if node.tag == "dt":
                label = node.text(strip=True).rstrip(":").lower()
            elif node.tag == "dd" and label:
                values[label] = node_text(node) or ""
        website = page.css_first("a.visit-website[href]")
        join = page.css_first("a.join-program[href]")
        yield Listing(
            record_key=match.group(1), name=name, description=page.text_of("div.program-description"),
            merchant_url=website.attributes.get("href") if website is not None else None,
            categories=[c.strip() for c in values.get("category", "").split(",") if c.strip()],
            commission_text=values.get("commission rate"), cookie_text=values.get("cookie duration"),
            payout_text=" ".join(v for k, v in values.items() if k.startswith("payout")) or None,
            network=values.get("network"), join_url=join.attributes.get("href") if join is not None else None,
        )
