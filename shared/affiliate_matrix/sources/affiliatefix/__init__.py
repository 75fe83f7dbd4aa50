"""AffiliateFix: a XenForo forum. A forum's RSS feed lists its threads; each thread's first
post is the program's announcement, in free text (the terms extractor reads it later)."""

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from affiliate_matrix.sources import Listing, Page, ParseError, Source, node_text, register
from affiliate_matrix.taxonomy import NETWORK_HOSTS

_THREAD = re.compile(r"/threads/([a-z0-9-]+)\.(\d+)/?$")
_TITLE_NOISE = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+|\s+(?:affiliate|partner)\s+program(?:me)?\b.*$", re.I)


@register
class AffiliateFix(Source):
    name = "affiliatefix"
    title = "AffiliateFix (forum)"
    base_url = "https://www.affiliatefix.com"
    start_paths = ("/forums/affiliate-program-announcements.54/index.rss",)

    def parse(self, page: Page):
        """The forum's RSS feed: one request per thread."""
        try:
            channel = ET.fromstring(page.text.encode()).find("channel")
        except ET.ParseError as exc:
            raise ParseError(f"{page.url}: not an RSS feed ({exc})") from None
        if channel is None:
            raise ParseError(f"{page.url}: RSS without a channel")
        for item in channel.iterfind("item"):
            link = (item.findtext("link") or "").strip()
            if _THREAD.search(urlsplit(link).path):
                yield page.follow(urlsplit(link).path, "parse_thread")

    def parse_thread(self, page: Page):
        """A thread: its title names the program; the first post has the link and the terms."""
        match = _THREAD.search(urlsplit(page.url).path)
        title = page.text_of("h1.p-title-value")
        first_post = page.css_first("article.message--post")
        post = page.css_first("div.bbWrapper", within=first_post) if first_post is not None else None
        if not match or not title or post is None:
            raise ParseError(f"{page.url}: no h1.p-title-value or first post div.bbWrapper (layout changed?)")
        links = [a.attributes.get("href") or "" for a in page.css("a.link--external[href]", within=post)]
        join = next((href for href in links if _is_network_link(href)), None)
        site = next((href for href in links if href.startswith("http") and not _is_network_link(href)), None)
        prefix = page.text_of("h1.p-title-value span.label")
        name = _TITLE_NOISE.sub("", title.removeprefix(prefix or "").strip()).split(" - ")[0].split(" – ")[0]
        text = node_text(post) or ""
        yield Listing(record_key=match.group(2), name=name.strip(" :|-") or title, merchant_url=site,
                      description=text[:20_000], categories=[prefix] if prefix else [], join_url=join,
                      extra={"author": first_post.attributes.get("data-author") or ""})


def _is_network_link(href: str) -> bool:
    host = (urlsplit(href).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in NETWORK_HOSTS)
