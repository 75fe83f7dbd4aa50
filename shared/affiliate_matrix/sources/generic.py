"""The generic page reader: what a program's detail page says when the plugin's own selectors find
nothing on it (a layout the plugin has never seen). Shared by the directory plugins.

It reads what pages of any layout tend to carry, most trusted first: schema.org JSON-LD and
microdata; label/value pairs in tables, definition lists and "Label: value" lines; then the terms
extractor reads the page's text for terms no label names. A page that gives no name, or nothing a
program page states (a term, the merchant's site, a join link), is not read: it stays a ParseError.
"""

import functools
import json
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from affiliate_matrix.model_types import cut
from affiliate_matrix.sources import MAX_TERMS_TEXT, Listing, Page, ParseError, node_text

# A label as pages write it (lower case, no colon) → the Listing field it fills.
LABELS = {
    **dict.fromkeys(("commission", "commissions", "commission rate", "commission rates", "commission structure",
                     "revenue share", "rev share", "revshare", "affiliate commission", "earnings", "payout amount"),
                    "commission_text"),
    **dict.fromkeys(("cookie", "cookie duration", "cookie length", "cookie life", "cookie lifetime", "cookie window",
                     "cookie days", "cookie period", "tracking period", "referral period", "attribution window"),
                    "cookie_text"),
    **dict.fromkeys(("payout", "payouts", "payment", "payments", "payment terms", "payout terms", "payment method",
                     "payment methods", "payout method", "payout methods", "minimum payout", "payout threshold",
                     "payment frequency", "payout frequency", "payout schedule"), "payout_text"),
    **dict.fromkeys(("network", "affiliate network", "tracking platform", "platform", "affiliate platform"), "network"),
    **dict.fromkeys(("category", "categories", "niche", "niches", "vertical", "verticals", "industry", "sector"),
                    "categories"),
    **dict.fromkeys(("website", "web site", "site", "homepage", "url", "merchant website", "official website",
                     "official site"), "merchant_url"),
    **dict.fromkeys(("join", "sign up", "signup", "apply", "join url", "join program", "affiliate signup",
                     "signup url", "sign up url", "application"), "join_url"),
    **dict.fromkeys(("countries", "country", "geo", "geos", "regions", "region", "markets", "locations"), "countries"),
    **dict.fromkeys(("description", "about", "overview", "summary"), "description"),
    **dict.fromkeys(("name", "program", "program name", "merchant", "brand", "company", "advertiser"), "name"),
}
# schema.org types a program's page describes it as; the page itself, the site, breadcrumbs and the like are not it.
PROGRAM_TYPES = {"Product", "Service", "Organization", "Corporation", "Brand", "LocalBusiness", "OnlineBusiness",
                 "OnlineStore", "Store", "SoftwareApplication", "WebApplication", "MobileApplication",
                 "ProfessionalService", "FinancialProduct"}
_LINE_PAIR = re.compile(r"^([A-Za-z][A-Za-z &/'()-]{0,40}?)\s*[:：]\s*(\S.*)$")
_SPLIT = re.compile(r"\s*(?:,|;|\||\s>\s|/)\s*")
_TITLE_PARTS = re.compile(r"\s+[|–—-]\s+|\s+::\s+")
_PROGRAM_SUFFIX = re.compile(r"\s+(?:affiliate|partner|referral|ambassador)s?\s+program(?:me)?s?\b.*$", re.I)
_JOIN_TEXT = re.compile(r"\b(join|sign[\s-]?up|apply|become an? (?:affiliate|partner)|register as)\b", re.I)
_SITE_TEXT = re.compile(r"\b(visit|official)\b.*\b(site|website|store|shop)\b|^website$", re.I)
MAX_JSON_NODES = 5000
# The characters of an anchor's text read for what it says it is ("Join now", "Visit the official website"): the site's
# words are looked for after each "visit" or "official" to the text's end, so a hostile page's anchor of 20,000
# "visit " took 39 s to read
MAX_ANCHOR_TEXT = 200
MAX_TERMS_LINE = 500  # a text longer than this (a page's line, a JSON-LD offer's) is not read for terms
# A page's text (its lines up to MAX_TERMS_LINE) is read for terms up to MAX_TERMS_TEXT characters


def read(page: Page, record_key: str, why: str) -> Listing:
    """The program a detail page describes, read without the plugin's selectors. `why` says what the
    plugin's selectors missed; a page this reader cannot read either is a ParseError saying both."""
    fields: dict = {}
    for source in (_structured(page), _pairs(page)):
        for field, value in source.items():
            fields.setdefault(field, value)
    lines = page.lines
    _terms_from_text(fields, lines)
    _links(page, fields)
    fields.setdefault("name", _heading_name(page))
    fields.setdefault("description", _description(page, lines))
    name = _clean_name(fields.get("name") or "")
    evidence = [f for f in ("commission_text", "cookie_text", "payout_text", "merchant_url", "join_url") if fields.get(f)]
    if not name or not evidence:
        raise ParseError(f"{why}; the generic reader found {'no program name' if not name else 'no program terms or links'}"
                         " either")
    return Listing(
        record_key=record_key, name=name, extracted_by="generic",
        merchant_url=fields.get("merchant_url"), join_url=fields.get("join_url"),
        description=fields.get("description"),
        categories=_split(fields.get("categories")), countries=_split(fields.get("countries")),
        # cut where every record's texts are (crawl.record_of), their terms read whole first
        commission_text=fields.get("commission_text"), cookie_text=fields.get("cookie_text"),
        payout_text=fields.get("payout_text"),
        network=cut(fields.get("network"), "name"),
    )


# --- schema.org: JSON-LD, then microdata ---------------------------------------------------------


def _structured(page: Page) -> dict:
    fields: dict = {}
    for entity in _json_ld_entities(page):
        if _is_program(entity, page):
            _entity_fields(entity, page, fields)
            break
    for scope in page.css("[itemscope][itemtype]"):
        if (scope.attributes.get("itemtype") or "").rstrip("/").rsplit("/", 1)[-1] in PROGRAM_TYPES:
            _microdata_fields(scope, page, fields)
            break
    return fields


def json_ld_blocks(page: Page) -> Iterator[object]:
    """Each JSON-LD block of a page as read, in document order; a broken one (not JSON, nested past what Python's
    reader recurses into) left out: the others may still be fine."""
    for script in page.css('script[type="application/ld+json"]'):
        try:
            yield json.loads(script.text(deep=True) or "null")
        except (ValueError, RecursionError):
            continue


def _json_ld_entities(page: Page) -> list[dict]:
    """Every JSON-LD object with a @type, in document order (nested ones too: @graph, mainEntity, about)."""
    found, budget = [], MAX_JSON_NODES
    for block in json_ld_blocks(page):
        stack = [block]
        while stack and budget > 0:
            budget -= 1
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                if "@type" in node:
                    found.append(node)
                stack.extend(reversed([v for v in node.values() if isinstance(v, (dict, list))]))
    return found


def _types(entity: dict) -> set[str]:
    kinds = entity.get("@type")
    return {str(k).rsplit("/", 1)[-1] for k in (kinds if isinstance(kinds, list) else [kinds])}


def _is_program(entity: dict, page: Page) -> bool:
    if not (_types(entity) & PROGRAM_TYPES) or not _text(entity.get("name")):
        return False
    url = _text(entity.get("url"))
    try:
        own = bool(url) and _same_site(urljoin(page.url, url), page)
    except ValueError:  # a malformed address: not the directory's own
        own = False
    return not own  # at the directory's own address, it is the directory describing itself


def _entity_fields(entity: dict, page: Page, fields: dict) -> None:
    fields["name"] = _text(entity.get("name"))
    url = _offsite_url(page, _text(entity.get("url")))
    for field, value in (("merchant_url", url), ("description", _text(entity.get("description"))),
                         ("categories", _text(entity.get("category"))), ("countries", _text(entity.get("areaServed")))):
        if value:
            fields[field] = value
    properties = entity.get("additionalProperty")
    for prop in properties if isinstance(properties, list) else [properties]:
        if isinstance(prop, dict):
            value = " ".join(t for t in (_text(prop.get("value")), _text(prop.get("unitText"))) if t)
            _set_pair(fields, _text(prop.get("name")), value, None, page)
    offers = entity.get("offers")
    texts = [" ".join(t for t in (_text(o.get("name")), _text(o.get("description"))) if t)
             for o in (offers if isinstance(offers, list) else [offers]) if isinstance(o, dict)]
    if any(texts):
        fields["_offer_text"] = [t for t in texts if t]


def _microdata_fields(scope, page: Page, fields: dict) -> None:
    def prop(name):
        node = page.css_first(f'[itemprop="{name}"]', within=scope)
        if node is None:
            return None
        return node.attributes.get("content") or node.attributes.get("href") or node_text(node)

    for field, name in (("name", "name"), ("description", "description"), ("categories", "category")):
        value = prop(name)
        if value:
            fields.setdefault(field, value)
    url = _offsite_url(page, prop("url"))
    if url:
        fields.setdefault("merchant_url", url)
    for node in page.css('[itemprop="additionalProperty"]', within=scope):
        label, value = page.css_first('[itemprop="name"]', within=node), page.css_first('[itemprop="value"]', within=node)
        if label is not None and value is not None:
            _set_pair(fields, node_text(label), value.attributes.get("content") or node_text(value), value, page)


# --- label/value pairs: tables, definition lists, "Label: value" lines ----------------------------


def _pairs(page: Page) -> dict:
    fields: dict = {}
    for row in page.css("tr"):
        cells = [c for c in row.iter() if c.tag in ("th", "td")]
        if len(cells) == 2:
            _set_pair(fields, node_text(cells[0]), node_text(cells[1]), cells[1], page)
    for dl in page.css("dl"):
        label = None
        for node in dl.iter():
            if node.tag == "dt":
                label = node_text(node)
            elif node.tag == "dd" and label:
                _set_pair(fields, label, node_text(node), node, page)
                label = None
    for line in page.lines:
        match = _LINE_PAIR.match(line)
        if match:
            _set_pair(fields, match.group(1), match.group(2), None, page)
    return fields


def _set_pair(fields: dict, label: str | None, value: str | None, node, page: Page) -> None:
    """A label/value pair into the field the label names (the first pair for a field wins)."""
    field = LABELS.get(" ".join((label or "").lower().rstrip(":：").split()))
    if not field or not value or field in fields:
        return
    if field in ("merchant_url", "join_url"):
        anchor = page.css_first("a[href]", within=node) if node is not None else None
        href = anchor.attributes.get("href") if anchor is not None else None
        value = _offsite_url(page, href or (value if "://" in value else _as_url(value)))
        if not value:
            return
    fields[field] = value


# --- the page's text, read by the terms extractor ------------------------------------------------


def _terms_from_text(fields: dict, lines: list[str]) -> None:
    """Terms no label named, from the first line where the terms extractor finds each; the line is
    kept verbatim as the term's text."""
    from affiliate_matrix.terms import extract

    wanted = {"commission_text": lambda t: t.commission, "cookie_text": lambda t: t.cookie_days is not None,
              "payout_text": lambda t: t.payout_methods or t.payout_frequency or t.min_payout}
    wanted = {field: test for field, test in wanted.items() if not fields.get(field)}
    candidates, size = [], 0
    for line in fields.pop("_offer_text", []) + lines:
        if len(line) <= MAX_TERMS_LINE:
            size += len(line) + 1
            if size > MAX_TERMS_TEXT:
                break
            candidates.append(line)
    if not wanted or not candidates:
        return
    whole = extract(" ".join(candidates))  # once over the whole text: most pages need no line-by-line look
    wanted = {field: test for field, test in wanted.items() if test(whole)}
    for line in candidates:
        if not wanted:
            return
        found = extract(line)
        for field, test in list(wanted.items()):
            if test(found):
                fields[field] = line
                del wanted[field]


# --- name, description, links ---------------------------------------------------------------------


def _heading_name(page: Page) -> str | None:
    meta = page.css_first('meta[property="og:title"]')
    for candidate in (page.text_of("h1"), meta.attributes.get("content") if meta is not None else None,
                      page.text_of("title")):
        if candidate and _clean_name(candidate):
            return candidate
    return None


def _clean_name(text: str) -> str | None:
    name = _PROGRAM_SUFFIX.sub("", _TITLE_PARTS.split(" ".join(text.split()))[0]).strip(" :|-–—")
    return name if 0 < len(name) <= 200 else None


def _description(page: Page, lines: list[str]) -> str | None:
    meta = page.css_first('meta[name="description"]') or page.css_first('meta[property="og:description"]')
    if meta is not None and (meta.attributes.get("content") or "").strip():
        return " ".join(meta.attributes["content"].split())
    for paragraph in page.css("main p, article p, body p"):
        text = node_text(paragraph)
        if text and not _LINE_PAIR.match(text):
            return text
    return None


def _links(page: Page, fields: dict) -> None:
    """The merchant's site and the join link from anchors that say so, when no label gave them."""
    from affiliate_matrix.taxonomy import NETWORK_HOSTS

    for anchor in page.css("a[href]"):
        if fields.get("merchant_url") and fields.get("join_url"):
            return
        url = _offsite_url(page, anchor.attributes.get("href"))
        if not url:
            continue
        text = (node_text(anchor) or "")[:MAX_ANCHOR_TEXT]
        host = (urlsplit(url).hostname or "").lower()
        if not fields.get("join_url") and (_JOIN_TEXT.search(text) or any(
                host == h or host.endswith("." + h) for h in NETWORK_HOSTS)):
            fields["join_url"] = url
        elif not fields.get("merchant_url") and _SITE_TEXT.search(text):
            fields["merchant_url"] = url


# --- small helpers --------------------------------------------------------------------------------


def _text(value, depth: int = 0) -> str | None:
    """A JSON-LD value as text: a string, a number, the name of an object, a list's items joined."""
    if depth > 3:
        return None
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v, depth + 1) for v in value[:50]) if t) or None
    if isinstance(value, dict):
        return _text(value.get("name"), depth + 1)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return " ".join(str(value).split()) or None
    return None


def _same_site(url: str, page: Page) -> bool:
    try:
        return (urlsplit(url).hostname or "").lower() == (urlsplit(page.url).hostname or "").lower()
    except ValueError:  # not an address at all ("http://[")
        return False


def _offsite_url(page: Page, href: str | None) -> str | None:
    """An absolute http(s) address on another site than the directory's (its own links are its
    pages, not the merchant's), else None."""
    if not href or any(c.isspace() for c in href.strip()):
        return None
    try:
        url = urljoin(page.url, href.strip())
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # a malformed address ("http://[") is no link
        return None
    if parts.scheme not in ("http", "https") or not hostname or _same_site(url, page) or not _valid_url(url):
        return None
    return url


@functools.cache
def _url_adapter():
    from pydantic import HttpUrl, TypeAdapter

    return TypeAdapter(HttpUrl)


def _valid_url(url: str) -> bool:
    """What a record accepts as an address (a port out of range, say, it does not): a link a
    record would refuse is left out, rather than costing the page."""
    from pydantic import ValidationError

    try:
        _url_adapter().validate_python(url)
        return True
    except ValidationError:
        return False


def _as_url(text: str) -> str | None:
    """A bare domain written as text ("www.example.com") as an address."""
    text = text.strip()
    return f"https://{text}" if re.fullmatch(r"[\w-]+(\.[\w-]+)+(/\S*)?", text) else None


def _split(text: str | None) -> list[str]:
    return [part for part in _SPLIT.split(text or "") if part][:20]
