"""AffiliatesDirectory.com: an older directory. Category pages list programs in a table (paid
"priority listings" repeat a program at the top); each program has a details table."""

import re

from affiliate_matrix.sources import Listing, Page, ParseError, Source, children, generic, node_text, register

_PROGRAM = re.compile(r"/program/(\d+)/")


@register
class AffiliatesDirectory(Source):
    name = "affiliatesdirectory"
    title = "AffiliatesDirectory.com"
    base_url = "http://affiliatesdirectory.com"
    start_paths = ("/categories/computers-internet/",)
    program_pages = _PROGRAM

    def parse(self, page: Page):
        """A category page: a table of programs (priority listings first) and a Next link."""
        links = page.css("table.listing tr.program td.name a[href]")
        if not links:
            raise ParseError(f"{page.url}: no table.listing rows with a td.name link (layout changed?)")
        for link in links:
            yield page.follow(link.attributes.get("href"), "parse_program")
        for link in page.css("div.pages a[href]"):
            if link.text(strip=True).lower().startswith("next"):
                yield page.follow(link.attributes.get("href"))

    def parse_program(self, page: Page):
        """A program page: the name and a two-column details table. On a layout without the name
        heading, the generic reader reads what it can."""
        match = _PROGRAM.search(page.url)
        if not match:
            raise ParseError(f"{page.url}: not a /program/<id>/ address")
        name = page.text_of("div#program h2")
        if not name:
            yield generic.read(page, match.group(1), f"{page.url}: no div#program h2 (layout changed?)")
            return
        details = {}
        for row in page.css("div#program table.details tr"):
            cells = children(row, "td")
            if len(cells) == 2:
                details[cells[0].text(strip=True).rstrip(":").lower()] = cells[1]

        def link(label):
            anchors = [a for a in children(details.get(label), "a") if "href" in a.attributes]
            return anchors[0].attributes.get("href") if anchors else None

        yield Listing(record_key=match.group(1), name=name, description=page.text_of("div#program p.description"),
                      merchant_url=link("website"), join_url=link("signup"),
                      categories=[c for c in (node_text(details.get("category")) or "").split(" > ") if c],
                      commission_text=node_text(details.get("commission")), cookie_text=node_text(details.get("cookie")),
                      payout_text=node_text(details.get("payout")))
