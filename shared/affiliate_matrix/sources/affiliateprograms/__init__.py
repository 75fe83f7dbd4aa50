"""AffiliatePrograms.com: category listings, then one detail page per program (/p/<slug>/)."""

import re

from affiliate_matrix.sources import Listing, Page, ParseError, Source, children, generic, node_text, register

_SLUG = re.compile(r"/p/([a-z0-9-]+)/?$")
_SUFFIX = re.compile(r"\s+affiliate program$", re.I)


@register
class AffiliateProgramsCom(Source):
    name = "affiliateprograms"
    title = "AffiliatePrograms.com"
    base_url = "https://www.affiliateprograms.com"
    start_paths = ("/categories/software/", "/categories/hosting/")
    program_pages = _SLUG

    def parse(self, page: Page):
        """A category page: program cards, and the next page of the category."""
        links = page.css("div.program-listing h3 a[href]")
        if not links:
            raise ParseError(f"{page.url}: no div.program-listing cards (layout changed?)")
        for link in links:
            yield page.follow(link.attributes.get("href"), "parse_program")
        next_link = page.css_first("nav.pagination a[rel=next][href]")
        if next_link is not None:
            yield page.follow(next_link.attributes["href"])

    def parse_program(self, page: Page):
        """A program's detail page: its name, a label/value details table, and the join link. On a
        layout without the name heading, the generic reader reads what it can."""
        match = _SLUG.search(page.url)
        if not match:
            raise ParseError(f"{page.url}: not a /p/<slug>/ address")
        name = page.text_of("h1.program-name")
        if not name:
            yield generic.read(page, match.group(1), f"{page.url}: no h1.program-name (layout changed?)")
            return
        details = {}
        for row in page.css("table.program-details tr"):
            cells = {node.tag: node for node in row.iter()}  # children directly: no selector per row
            if "th" in cells and "td" in cells:
                details[cells["th"].text(strip=True).rstrip(":").lower()] = cells["td"]
        website_links = children(details.get("website"), "a")
        join = page.css_first("a.join-program[href]")
        yield Listing(
            record_key=match.group(1),
            name=_SUFFIX.sub("", name),
            merchant_url=website_links[0].attributes.get("href") if website_links else None,
            description=page.text_of("div.program-description"),
            categories=[a.text(strip=True) for a in children(details.get("category"), "a")],
            commission_text=node_text(details.get("commission")),
            cookie_text=node_text(details.get("cookie duration")),
            payout_text=node_text(details.get("payment terms")),
            network=node_text(details.get("network")),
            join_url=join.attributes["href"] if join is not None else None,
        )
