"""Sources are plugins. A directory source reads like a Scrapy spider: where to start, and
callbacks that turn a fetched page into listings or more pages to fetch. How to fetch politely
and where raw pages go is the crawler's business (crawl.py), never the plugin's.

A plugin is a module in this package that defines one `Source` subclass decorated with
`@register`; its recorded pages sit beside it in `<module>/recorded/`. Nothing else changes
when a source is added. (`generic.py` is no plugin: it is the page reader directory plugins hand
a detail page to when their selectors find nothing on it.)
"""

import importlib
import json
import pkgutil
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from affiliate_matrix.amounts import plain
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix import observability
from affiliate_matrix.observability import without_url_credentials
from affiliate_matrix.sources.parse_cost import MAX_NESTING_COST, MAX_REBUILT, nesting_cost, rebuilt_cost

_REGISTRY: dict[str, type["Source"]] = {}


class ParseError(Exception):
    """A page did not have the structure the plugin expects (a changed layout, a broken page)."""


# What Page.lines leaves out, and the tags that end a line of it.
SKIPPED_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "head", "select", "button"}
BLOCK_TAGS = {"p", "div", "li", "tr", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "main", "ul",
              "ol", "dl", "table", "br", "header", "aside", "blockquote", "pre", "form", "figure", "figcaption",
              "address", "body", "hr"}


@dataclass
class Listing:
    """What a plugin extracts about one program. The crawler adds where and when it came from and
    validates the whole once, as a RawRecord (models.py): data that does not fit one (no name, an
    address that is not http(s)) is the page's fault, a ParseError naming the field."""

    record_key: str
    name: str
    kind: Literal["program", "offer"] = "program"
    merchant_url: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    commission_text: str | None = None
    cookie_text: str | None = None
    payout_text: str | None = None
    network: str | None = None
    network_program_id: str | None = None
    join_url: str | None = None
    countries: list[str] = field(default_factory=list)
    deeplink_domains: list[str] = field(default_factory=list)  # the hosts the network lets deep links point at
    extra: dict[str, str] = field(default_factory=dict)
    # Terms an API states as data (CommissionTerm, with tiers): used as they are instead of reading
    # commission_text, which then keeps the API's words for people.
    commission: list = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # other names of the merchant (a parent company's, say)
    # The source's own words saying the program is over (a deactivated advertiser), as "Field: value"; None while it
    # lists the program as open (an account's relationship, pending or its contract expired, is no end of it).
    closed: str | None = None
    # The account's relationship with the program in the shared vocabulary (models.Contract: joined, pending,
    # not_joined, expired), mapped from the network's own words (kept in extra); None where it says none or an unknown.
    contract: str | None = None
    extracted_by: Literal["plugin", "generic"] = "plugin"  # the plugin's own reading, or the generic page reader's


_engines = threading.local()


def _engine():
    """One CSS selector engine per thread, shared by every page: selectolax otherwise builds a
    CSS parser for each document, which on a small page costs a fifth of parsing the page."""
    engine = getattr(_engines, "css", None)
    if engine is None:
        from selectolax.lexbor import LexborCSSSelector

        engine = _engines.css = LexborCSSSelector()
    return engine


def children(node, tag: str) -> list:
    """A node's child elements with this tag: for table cells and lists, where a selector query
    would cost more than the few children it looks at."""
    return [] if node is None else [child for child in node.iter() if child.tag == tag]


# The characters of a text read for terms (a page's, a commission cell's too long to keep whole): its first 50,000 (a
# long program page; a record's description holds 20,000). The extractor takes ~10 to 35 µs a character, so a 5 MB page
# of short lines took minutes, at every crawl.
MAX_TERMS_TEXT = 50_000


def terms_said(parts: list[str]) -> str | None:
    """Terms in words for people (an API's actions, offers or tiers; a directory's commission cell split at "; "),
    joined by "; " and, where they would not fit a record's commission text, those that fit and how many more (the
    structured terms carry every rate), or the first cut at a word with an ellipsis: a CJ advertiser of 20 actions with
    their item lists, or a Rakuten advertiser of many offers, said in more, was refused whole ('commission_text: String
    should have at most 2000 characters') and missing from the index. Every record's goes through crawl.record_of."""
    from affiliate_matrix.model_types import COMMISSION_TEXT_MAX

    text = "; ".join(parts)
    if len(text) <= COMMISSION_TEXT_MAX:
        return text or None
    room = COMMISSION_TEXT_MAX - 40  # for the note naming the rest
    kept, length = [], 0
    for part in parts:  # each said whole
        if length + len(part) > room:
            break
        kept.append(part)
        length += len(part) + 2
    if kept:
        said = "; ".join(kept)
    else:  # the first alone is too long: cut at a word where one ends near the room's end
        space = parts[0].rfind(" ", room // 2, room)
        said = parts[0][:space if space > 0 else room] + "…"
    rest = len(parts) - max(len(kept), 1)
    return said + (f"; … and {rest:,} more" if rest else "")


# The largest amount a source may state (a payout, a commission, a threshold): past it a figure is no real one, and
# Decimal cannot round it to 6 decimals within its 28 digits (1e30 raised a bare InvalidOperation)
MAX_AMOUNT = 10 ** 12


def amount(value, what: str) -> Decimal:
    """A number a source states (a JSON number, or one written in ASCII), as the models keep amounts: at most 6
    decimals, without trailing zeros (`plain`). A value that is no number (a word, a boolean, NaN: Python's JSON
    parser takes NaN and Infinity), infinite, negative or MAX_AMOUNT and past is a ParseError naming `what` (the
    field, and whose it is) and the value, cut short: that item's failure, never a plugin fault naming neither."""
    if isinstance(value, str):
        shown = repr(value[:50] + ("…" if len(value) > 50 else ""))
    else:  # a list or an object by its kind: its repr may be megabytes
        shown = repr(value) if isinstance(value, int | float | None) else _JSON_KINDS.get(type(value), "a value")
    number = None
    if isinstance(value, int | float | str) and not isinstance(value, bool) and str(value).isascii():
        try:
            number = Decimal(str(value).replace("_", "!"))  # "1_000" is a number to Decimal, to no API
        except InvalidOperation:
            pass
    if number is None or number.is_nan():
        raise ParseError(f"{what} is {shown}, not a number")
    if number.is_infinite() or not 0 <= number < MAX_AMOUNT:
        raise ParseError(f"{what} is {shown}, out of range (0 to {MAX_AMOUNT:,})")
    return plain(number if number.as_tuple().exponent >= -6 else number.quantize(Decimal("1e-6")))


def node_text(node) -> str | None:
    """A node's text with white space folded; None for no node or no text."""
    return " ".join(node.text(separator=" ", strip=True).split()) or None if node is not None else None


# What ElementTree raises for XML it cannot read: ParseError; LookupError for an encoding Python does not know, or
# a codec that is no text encoding (rot13); ValueError for one expat cannot use (multi-byte: Shift_JIS, UTF-7) or
# whose codec fails on expat's table of bytes (idna, punycode).
XML_FAULTS = (ET.ParseError, LookupError, ValueError)


class EntityDeclared(ValueError):
    """An XML document that declares an entity (parsed_xml, parsed_xml_events)."""


# XML is parsed by defusedxml's ElementTree, which refuses a document declaring an entity: the standard one expands
# every entity, and expat refuses only past a 100-fold amplification, so an entity of 250 bytes named in every 3 bytes
# of a 5 MB answer made 400 MB of text (ClickBank's 64 MB feed: gigabytes). No feed or answer we read declares one
# (ClickBank's names an external DTD, read as before: a DTD is not refused, an entity in it is).
def parsed_xml(what: str, document: bytes | str) -> ET.Element:
    """`document`'s root element; EntityDeclared naming `what` for an entity declared, XML_FAULTS for the rest."""
    from defusedxml import EntitiesForbidden
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(document)
    except EntitiesForbidden as exc:
        raise _entity_declared(what, exc) from None


def parsed_xml_events(what: str, stream, events: tuple[str, ...]):
    """ElementTree's iterparse of `stream`, read as it streams; an entity declared as parsed_xml."""
    from defusedxml import EntitiesForbidden
    from defusedxml.ElementTree import iterparse

    try:
        yield from iterparse(stream, events=events)
    except EntitiesForbidden as exc:
        raise _entity_declared(what, exc) from None


def _entity_declared(what: str, exc) -> EntityDeclared:
    return EntityDeclared(f"{what} declares an XML entity ({str(exc.name)[:50]!r}), which no answer of this source "
                          "does: refused unread, as what it expands to may be gigabytes")


def unreadable_xml(what: str, head: bytes, exc: Exception) -> ValueError:
    """The error for XML ElementTree could not read, naming the encoding its first bytes (`head`) declare: expat's
    own words ("multi-byte encodings are not supported") name neither."""
    from affiliate_matrix.polite import declared_xml_encoding

    if declared := declared_xml_encoding(head):
        said = f"its declared encoding {declared!r}"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        said = "UTF-16 (its byte order mark; it declares no encoding)"
    else:
        said = "UTF-8 (it declares no encoding)"
    return ValueError(f"{what} is not XML we can read in {said} ({str(exc)[:200]})")


# The longest link followed: a record's url is at most this long (pydantic's HttpUrl), and a page's links are queued
# and kept in the connection's HTTP cache, where one of megabytes (a 5 MB page may hold it) is owed no room.
MAX_URL = 2083


class Request(NamedTuple):
    """A page to fetch, and the plugin's callback that reads it (a tuple: cheap to make, a list page
    makes one per link)."""

    url: str
    callback: str = "parse"


@dataclass
class Page:
    url: str
    status: int
    text: str
    raw_key: str
    # The links `follow` did not follow, counted by why ("off_host", "too_long"): the crawl logs them once per page
    not_followed: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def tree(self):
        from selectolax.lexbor import LexborHTMLParser  # on the first page parsed: API sources never need it

        if nesting_cost(self.text) > MAX_NESTING_COST:
            raise ParseError(f"{self.url}: elements nested too deep to parse (deeper than any page shows; "
                             "parsing would take minutes)")
        if rebuilt_cost(self.text) > MAX_REBUILT:
            raise ParseError(f"{self.url}: too many formatting elements (<b>, <i>, <font>…) left open to parse "
                             "(each would be rebuilt again and again; parsing would take minutes)")
        return LexborHTMLParser(self.text)

    @cached_property
    def root(self):
        return self.tree.root  # selectolax builds a new node object per call

    @cached_property
    def lines(self) -> list[str]:
        """The page's visible text, a line per block (scripts, styles, navigation and footer left out);
        table cells and a definition's term stay on one line with their values. Read once, for the
        generic reader's several passes."""
        parts: list[str] = []
        stack = [self.css_first("body") or self.root]
        while stack:
            node = stack.pop()
            if node is None:  # the end of a block
                parts.append("\n")
                continue
            tag = node.tag
            if tag == "-text":
                parts.append(node.text_content or "")
                continue
            if tag is None or tag.startswith("-") or tag in SKIPPED_TAGS:
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n")
                stack.append(None)
            elif tag in ("td", "th", "dt"):
                parts.append(" ")
            stack.extend(reversed(list(node.iter(include_text=True))))
        lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
        return [line for line in lines if line]

    def css(self, selector: str, within=None) -> list:
        """Nodes matching a CSS selector in the page, or under a node of it."""
        return _engine().find(selector, self.root if within is None else within)

    def css_first(self, selector: str, within=None):
        found = _engine().find_first(selector, self.root if within is None else within)
        return found[0] if found else None

    def text_of(self, selector: str, within=None) -> str | None:
        return node_text(self.css_first(selector, within))

    @cached_property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def follow(self, href: str | None, callback: str = "parse") -> Request | None:
        """A request for a link on this page, kept on the same host (plugins never leave their site).
        None for an empty link (`<a href>`), or one not followed, counted in `not_followed`: "off_host" (another
        host or scheme: mailto:, javascript:, a social network), "too_long" (longer than MAX_URL)."""
        if not href:
            return None
        if href.startswith("/") and not href.startswith("//"):
            url = self.origin + href  # the common case, without urljoin's general machinery
        else:
            url = urljoin(self.url, href)
            if not url.startswith(self.origin + "/") and url != self.origin:
                return self._not_followed("off_host")
        url = url.split("#")[0]
        return Request(url, callback) if len(url) <= MAX_URL else self._not_followed("too_long")

    def _not_followed(self, why: str) -> None:
        self.not_followed[why] = self.not_followed.get(why, 0) + 1


class Source:
    """Base of every source plugin."""

    name: str
    title: str
    base_url: str
    start_paths: tuple[str, ...] = ("/",)
    # Whose word counts more when sources disagree on a field: network APIs (3) know their own
    # programs, merchant pages (2) know their own terms, directories (1) copy both.
    priority: int = 1
    # A directory's program pages, for the sitemaps its site names (sitemaps.py): the pattern their URLs' paths match
    # (searched, as its program callback checks its page's address) and that callback. None: a URL alone does not say
    # (a forum's threads, most of them no program), and its crawl reads no sitemap.
    program_pages: re.Pattern | None = None
    program_callback: str = "parse_program"

    def __init__(self, base_url: str | None = None):
        self.base_url = (base_url or type(self).base_url).rstrip("/")

    def start_requests(self) -> Iterator[Request]:
        for path in self.start_paths:
            yield Request(self.base_url + path)

    def parse(self, page: Page) -> Iterator["Listing | Request | None"]:
        raise NotImplementedError

    def run(self, callback: str, page: Page) -> list:
        """A callback's items for a page: a ParseError for a page it cannot read. Anything else a
        callback raises is a fault in the plugin, which the crawler records like a ParseError."""
        return [item for item in getattr(self, callback)(page) if item is not None]

    @classmethod
    def recorded_dir(cls) -> Path:
        return Path(importlib.import_module(cls.__module__).__file__).parent / "recorded"


class ApiSource(Source):
    """A network or aggregator API. `listings` reads like a directory plugin's callbacks: ask the API
    (through `api`, which handles auth, quota, retries and raw storage), yield what it said."""

    priority = 3
    credential_keys: tuple[str, ...] = ()  # what the connection's secret must hold
    max_rate_per_s: float = 1.0  # the API's documented quota caps the connection's rate limit
    raw_suffix: str = ".json"  # how a kept raw response is named (".xml", ".zip" for other formats)
    # The largest answer it takes, in bytes after decompression; None: the fetcher's cap (polite.MAX_BYTES,
    # 5 MB). Only a source whose real answers are known to come near that cap declares more, still bounded.
    max_response_bytes: int | None = None
    # How the provider answers: statuses that mean the credentials were refused (a 403 is often a
    # permission, a bot wall or a quota, so only a provider that says so lists it), and statuses it
    # uses for its rate limit besides 429, retried like a 429.
    refused_statuses: tuple[int, ...] = (401,)
    throttle_statuses: tuple[int, ...] = ()
    # Where its requests name the account (request_named): the path segment after one of these segments (Impact's
    # `/Mediapartners/<SID>/`), the value of a query parameter of these names (CJ's `requestor-cid`); lower-case.
    account_after: tuple[str, ...] = ()
    account_params: tuple[str, ...] = ()
    # A network's own API: the network its listings name (as the index keeps it) and its proper name (network_titles);
    # None for an aggregator's, whose listings name many
    network: str | None = None
    network_title: str | None = None

    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        return {}

    def decode(self, body: bytes):
        """A response body as the data `listings` reads: JSON here; an API that answers in another
        format overrides this. A body not in that format raises ValueError saying what is wrong."""
        try:
            return json.loads(body)
        except ValueError:
            raise ValueError("the response is not JSON") from None
        except RecursionError:  # arrays or objects nested past Python's recursion limit: no API answers so
            raise ValueError("the response is not JSON we read: nested too deep") from None

    async def listings(self, api, credentials: dict[str, str]):
        """Yield (response, Listing) pairs; the response is the raw evidence for the listing. Yield
        (response, attempt(read, item)) to read each item of a response on its own: an item the
        plugin cannot read (an exception in place of the Listing) is then a parse failure recorded
        beside the response, and the rest are read."""
        raise NotImplementedError
        yield


_JSON_KINDS = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


def shaped(value, kind: type, what: str):
    """`value` when it is of `kind` (dict or list): an API answer, or a part of it, of another shape (an error object, a
    null list) is a ParseError saying so, not a plugin fault deep in the plugin's reading."""
    if not isinstance(value, kind):
        raise ParseError(f"{what} is {_JSON_KINDS.get(type(value), type(value).__name__)}, not {_JSON_KINDS[kind]}")
    return value


class ItemFailed(Exception):
    """What a request for one item of a listing (a programme's details) got instead of an answer: an error status,
    no answer, a body it cannot decode (`Api.item`). Yielded in place of that item's listing, it is that item's
    failure, recorded with the request's URL and its raw answer, and the sync goes on to the next item."""

    def __init__(self, url: str, error: Exception, raw_key: str | None, unanswered: bool = False):
        """`unanswered`: the API gave no answer but a retry status after the retries, or none at all (a refused
        connection, a timeout); not an answer it means (a 404), one it cannot use (a redirect to a malformed Location,
        a body past the cap or not in its Content-Encoding) or a body the plugin cannot decode."""
        super().__init__(str(error))
        self.url, self.error, self.raw_key, self.unanswered = url, error, raw_key, unanswered
        self.stage = "parse" if isinstance(error, ParseError) else "fetch"


class PagedTotal:
    """The witness that a listing paged by page number held still while it was paged. A program removed from a page
    already read moves the next page's first one back onto it, unseen, and a run counted complete would withdraw it:
    the total the API counts on each page says the listing changed. A later page's total other than the first's is a
    ParseError (once), for the plugin to yield, so the run is incomplete and withdraws nothing; its listings stand, as
    the API gave them. (A removal and an addition between the same two requests leave the total as it was: that, no
    total can tell.)"""

    def __init__(self, item: str):
        self.item, self.first, self.told = item, None, False

    def changed(self, url: str, number: int, total: int) -> ParseError | None:
        if self.first is None:
            self.first = total
        elif total != self.first and not self.told:
            self.told = True
            return ParseError(f"{url}: the listing changed while it was paged (its total {self.first} on the first "
                              f"page, {total} on page {number}): an {self.item} may have moved onto a page already "
                              "read, unseen, so this run withdraws nothing")
        return None


def attempt(read, *args):
    """What read(*args) returns, or the exception it raised (for ApiSource.listings)."""
    try:
        return read(*args)
    except Exception as exc:  # noqa: BLE001 - any fault reading one item is that item's failure
        return exc


def register(cls: type[Source]) -> type[Source]:
    _REGISTRY[cls.name] = cls
    return cls


@cache
def _import_plugins() -> None:
    """Import every plugin module (each registers its source) once a process: listed again on every lookup (a
    priority for each claim merge weighs), the folder cost an index run of 3,000 programs a third of its time."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def all_sources() -> dict[str, type[Source]]:
    _import_plugins()
    return dict(sorted(_REGISTRY.items()))


@cache
def source_titles() -> dict[str, str]:
    """Each source plugin's title by its name, read once (a page or a table names a source in every row): the plugins
    are what this build registers, fixed while the process runs. The explorer (web.render.source_title) and the CLI
    (cli.views.source_named) name a source by it. Discovery, which finds programs on the web and is no plugin, is
    named too (merge.DISCOVERY: it was shown as its code, 'discovery', beside every other source's title)."""
    return {"discovery": "Discovery"} | {name: plugin.title for name, plugin in all_sources().items()}


def source_title(name: str) -> str:
    """A source as people read it (source_titles); one no plugin has (a removed one's, in a stored document) by its
    name."""
    return source_titles().get(name) or name


@cache
def network_titles() -> dict[str, str]:
    """The proper name of each network a plugin reads ('CJ' for cj), by the name the index keeps, as each network's API
    plugin declares it, and of the others the taxonomy recognises ('ShareASale': taxonomy.NETWORK_TITLES): the
    explorer and the CLI show a network so. Networks are an open set (a directory names any): any other has no entry,
    and is shown as the index keeps it."""
    from affiliate_matrix.taxonomy import NETWORK_TITLES

    return NETWORK_TITLES | {plugin.network: plugin.network_title for plugin in all_sources().values()
                             if getattr(plugin, "network", None)}


def network_shown(network, title: str | None = None) -> str:
    """A network as people read it, the one place its key becomes a name: its proper name where a plugin or the
    taxonomy names it ('CJ' for cj: network_titles), else its name as its source wrote it (`title`: a listing's,
    'MyAffiliateNet'), else the key the index keeps. Filters, facets' values and exports keep the key."""
    return network_titles().get(network) or title or network


class UnknownSource(InvalidInput, KeyError):
    """No source plugin has that name: a person's typo, or a connection stored while its plugin existed (removed or
    renamed since). Bad input (a 400 naming it, never a 500); a KeyError too, as a lookup by name raises."""

    __str__ = Exception.__str__  # the message as it is, not quoted as a KeyError's key


def get_source(name: str) -> type[Source]:
    sources = all_sources()
    if name not in sources:
        raise UnknownSource(f"unknown source {name!r}; known: {', '.join(sources)}")
    return sources[name]


ACCOUNT = "ACCOUNT"  # what a kept request names in place of the account's id


def request_named(source_name: str, url: str) -> str:
    """A request's URL as a record and a claim keep it, and every reader shows it: the account it names (the source's
    account_after and account_params) as ACCOUNT. The request named the agency's network account (Impact's SID, CJ's
    requestor id, Awin's publisher id) to every holder of a read token; by the URL's shape, not the credentials, so
    what was stored before reads the same way (`amx index migrate programs`). Any other URL is as it is. The raw
    answer, kept as it came, is never served."""
    _import_plugins()
    source = _REGISTRY.get(source_name)
    after, params = getattr(source, "account_after", ()), getattr(source, "account_params", ())
    if not after and not params:
        return url
    parts = urlsplit(url)
    segments = parts.path.split("/")
    path = "/".join(ACCOUNT if i and segments[i - 1].lower() in after else segment
                    for i, segment in enumerate(segments))
    pairs = parts.query.split("&") if parts.query else []
    query = "&".join(f"{name}={ACCOUNT}" if unquote_plus(name).lower() in params else pair
                     for pair in pairs for name in (pair.partition("=")[0],))
    return url if (path, query) == (parts.path, parts.query) else urlunsplit(parts._replace(path=path, query=query))


def requests_named_in(source_name: str, text: str) -> str:
    """A text (a failure's reason) with each request it quotes, whole or as a path, named as request_named names it,
    and without the credentials a URL can carry (observability.without_url_credentials: a next page's signed link)."""
    return without_url_credentials(re.sub(r"https?://[^\s'\"]+|(?<![\w.:/])/[^\s'\"]+",
                                          lambda url: request_named(source_name, url.group()), text))


observability.request_namer = requests_named_in  # every log line of a source's work names its requests so


def priority_of(source_name: str) -> int:
    source = all_sources().get(source_name)
    return source.priority if source else 1
