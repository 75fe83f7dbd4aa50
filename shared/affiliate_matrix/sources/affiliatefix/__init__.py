"""AffiliateFix: a XenForo 2 forum. Its RSS feeds list threads from every forum (`/forums/-/index.rss`)
and from the forums where programs are talked about; a thread whose title or first-post excerpt
announces a program is followed, and its first post is read (the terms extractor reads its text
later). Other threads (questions, news, chat) are left alone."""

import re
import xml.etree.ElementTree as ET
from html import unescape
from typing import NamedTuple
from urllib.parse import urlsplit

from affiliate_matrix.sources import (XML_FAULTS, Listing, Page, ParseError, Source, node_text, refuse_entities,
                                      register)
from affiliate_matrix.taxonomy import NETWORK_HOSTS

_THREAD = re.compile(r"/threads/([a-z0-9-]+)\.(\d+)/?$")
_TITLE_NOISE = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+|\s+(?:affiliate|partner)\s+program(?:me)?\b.*$", re.I)
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_TAG = re.compile(r"<[^>]*>")
_DIGIT = re.compile(r"\d")
MAX_TITLE = 300  # characters of a feed item's title read (a record's name holds 300)


class FeedItem(NamedTuple):
    title: str
    path: str  # /threads/<slug>.<id>/
    excerpt: str  # the first post's opening, as text


@register
class AffiliateFix(Source):
    name = "affiliatefix"
    title = "AffiliateFix (forum)"
    base_url = "https://www.affiliatefix.com"
    # Feed addresses seen in public feed lists: every forum, then the general and the iGaming forums.
    start_paths = ("/forums/-/index.rss", "/forums/affiliate-marketing-forum.2/index.rss",
                   "/forums/igaming.54/index.rss", "/forums/casino-affiliates.89/index.rss")

    def parse(self, page: Page):
        """A forum's RSS feed: one request per thread that announces a program."""
        for item in feed_items(page):
            if announces_program(item):
                yield page.follow(item.path, "parse_thread")

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


def feed_items(page: Page) -> list[FeedItem]:
    """The threads a XenForo feed lists. Its links name the forum's own host, which a recorded copy
    of the site does not have: the thread's path is what identifies it."""
    # The text, not bytes: it is the body already decoded (in the charset the response named), and its declaration
    # names the encoding of those bytes, not of this text. Encoded again (as UTF-8) under a declaration naming another
    # encoding, a windows-1252 feed's "d’affiliation" read as "dâ€™affiliation"; a text is read as it is.
    try:
        refuse_entities("the feed", page.text)
        channel = ET.fromstring(page.text).find("channel")
    except XML_FAULTS as exc:
        raise ParseError(f"{page.url}: not an RSS feed ({exc})") from None
    if channel is None:
        raise ParseError(f"{page.url}: RSS without a channel")
    items = []
    for item in channel.iterfind("item"):
        path = _path((item.findtext("link") or "").strip())
        if _THREAD.search(path):
            # A title is read up to a name's length (XenForo's own titles stop at 150): the terms extractor reads it
            items.append(FeedItem(" ".join((item.findtext("title") or "").split())[:MAX_TITLE], path,
                                  excerpt_text(item.findtext(_CONTENT) or item.findtext("description") or "")))
    return items


def excerpt_text(html: str) -> str:
    """A feed item's excerpt as plain words (its opening: enough to spot program wording)."""
    return " ".join(unescape(_TAG.sub(" ", html[:2000])).split())[:500]


def announces_program(item: FeedItem) -> bool:
    """A thread announcing a program names one ("… affiliate program", "partner program") or states
    a commission in its title ("Mailflow - 30% recurring commission"); a question is not one."""
    if item.title.rstrip().endswith("?"):
        return False
    if _names_program(item.title) or _names_program(item.excerpt):
        return True
    if not _DIGIT.search(item.title):  # no figure, no commission
        return False
    from affiliate_matrix.terms import extract

    return bool(extract(item.title).commission)


def _names_program(text: str) -> bool:
    from affiliate_matrix.discovery.validate import PROGRAM_WORDS

    lowered = text.lower()  # the words all hold one of these: most chatter is ruled out without the regex
    return ("progra" in lowered or "affiliat" in lowered) and PROGRAM_WORDS.search(text) is not None


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # a malformed link ("http://[") leads nowhere
        return ""


def _is_network_link(href: str) -> bool:
    try:
        host = (urlsplit(href).hostname or "").lower()
    except ValueError:
        return False
    return any(host == h or host.endswith("." + h) for h in NETWORK_HOSTS)
