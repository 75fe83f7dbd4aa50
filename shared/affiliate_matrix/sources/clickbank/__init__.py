"""ClickBank: the marketplace feed, one zipped XML file ClickBank rebuilds once a day, with every
vendor in the marketplace by category: gravity, average and initial $/sale, commission %, rebill
figures and popularity rank. Public: no credentials. Read once a day at most."""

import io
import re
import zipfile
import zlib
from decimal import Decimal

from affiliate_matrix.models import CommissionTerm
from affiliate_matrix.sources import (XML_FAULTS, ApiSource, EntityDeclared, Listing, ParseError, attempt,
                                      parsed_xml_events, plain, register, unreadable_xml)

FEED_PATH = "/feeds/marketplace_feed_v2.xml.zip"
# How big the feed is: ~4.3 MB zipped, ~23.5 MB of XML (see the README for where that comes from), already
# close to the fetcher's 5 MB cap, so ClickBank declares its own bounds. 32 MB of zip is ~7x the feed and
# would hold even today's XML stored uncompressed; 64 MB of XML is ~2.7x it. Past either, the feed is refused.
MAX_FEED_BYTES = 32 * 1024 * 1024  # the download, after any Content-Encoding
MAX_XML_BYTES = 64 * 1024 * 1024  # the unzipped feed; a bigger one is refused, never inflated further
# The archive holds the feed's one XML file: zipfile reads its whole central directory, an object each entry, before a
# name can be looked at (400,000 empty entries, 19 MB of zip, cost ~200 MB). Past a few entries, or the directory they
# take (its own entry is under 100 bytes; zipfile reads the directory by its size, whatever count is stated), it is
# refused before it is read.
MAX_ENTRIES = 16
MAX_DIRECTORY_BYTES = 64 * 1024
# Sites read from one feed: a real site is ~600 bytes of XML (a title, a description, a dozen figures), so the 64 MB
# cap holds ~100,000 of them; '<Site/>' is 7 bytes, and 9 million of those (a 92 KB zip) were held as 3.2 GB of dicts.
MAX_SITES = 250_000
# ClickBank's documented affiliate cookie: the last HopLink clicked counts for 60 days.
COOKIE_TEXT = "60 days"
_NUMBER = re.compile(r"^[0-9]{1,12}(?:\.[0-9]{1,12})?$")
# What a damaged archive or document raises (LookupError: an XML encoding Python does not know).
_ARCHIVE_FAULTS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


class _NotTheFeed(ValueError):
    """Readable XML that is not the feed (another root, too many sites, too large)."""


@register
class ClickBank(ApiSource):
    name = "clickbank"
    title = "ClickBank marketplace feed"
    network, network_title = "clickbank", "ClickBank"  # the network its listings name, as people name it
    base_url = "https://accounts.clickbank.com"
    max_rate_per_s = 0.1  # one file; the feed changes once a day
    raw_suffix = ".zip"
    max_response_bytes = MAX_FEED_BYTES

    def decode(self, body):
        return read_feed(body)

    async def listings(self, api, credentials):
        feed = await api.get(FEED_PATH)
        for site in feed.data:
            yield feed, attempt(listing, site, feed.url)  # a vendor it cannot read costs that vendor, not the feed


class _Capped:
    """A stream that refuses to give more than `limit` bytes: the archive's own size claims are not trusted."""

    def __init__(self, stream, limit: int):
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(self.left + 1 if size is None or size < 0 else min(size, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise _NotTheFeed(f"the feed unzips to more than {MAX_XML_BYTES} bytes")
        return data


def read_feed(body: bytes) -> list[dict]:
    """The feed's sites, each a dict of its elements' text plus `categories` (the category path).
    The zip is read where it lies (a BytesIO over bytes shares them, no copy); the XML is inflated and
    parsed in chunks, never held whole: a site is read, kept as a dict and cleared, so memory follows the
    sites, not the file. Raises ValueError for a body that is not the zipped feed."""
    try:
        archive_bytes = io.BytesIO(body)
        _bounded_directory(archive_bytes)
        with zipfile.ZipFile(archive_bytes) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".xml")]
            if len(names) != 1:
                raise ValueError(f"the archive holds {len(names)} .xml files, not the one feed")
            with archive.open(names[0]) as stream:
                head = stream.peek(300)[:300]
                try:  # an entity declared is refused as it is read, before any site (parsed_xml_events)
                    return _sites(_Capped(stream, MAX_XML_BYTES))
                except XML_FAULTS as exc:
                    if not isinstance(exc, _NotTheFeed | EntityDeclared):
                        raise unreadable_xml("the feed", head, exc) from None
                    raise
    except _ARCHIVE_FAULTS as exc:
        raise ValueError(f"the response is not the zipped XML feed ({type(exc).__name__}: {exc})") from None


def _bounded_directory(archive_bytes) -> None:
    """_NotTheFeed when the archive's end record states more entries, or a larger central directory, than the feed's
    one file could have. The record as ZipFile reads it (its zip64 record too): zipfile's own reader, private, of the
    Python the project pins (3.11)."""
    end = zipfile._EndRecData(archive_bytes)
    if end is None:  # no zip: ZipFile says so
        return
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_ENTRIES:
        raise _NotTheFeed(f"the archive states {entries} entries, not the feed's one file (at most {MAX_ENTRIES})")
    if size > MAX_DIRECTORY_BYTES:
        raise _NotTheFeed(f"the archive's directory is {size} bytes, more than {MAX_ENTRIES} entries take (at most "
                          f"{MAX_DIRECTORY_BYTES})")


# Category names kept for one vendor listed again and again (a real one has two categories, each under a parent):
# a feed listing one vendor under a million categories would otherwise be read name by name against all the others.
MAX_CATEGORY_NAMES = 20
# How deep categories nest (a real feed: a category and its subcategories, two deep). Each site is given the names of
# every category above it, so a feed nesting 20,000 deep (a 2 KB zip) made each site a list of 20,000 names.
MAX_CATEGORY_DEPTH = 10
# ClickBank's own list of the newest vendors, beside the subject categories: where a vendor sits, not what it is about.
NOT_A_SUBJECT = "New Products"


def _sites(stream) -> list[dict]:
    """Each vendor once, with every category path it is listed under: the feed lists a vendor under its main
    category, its subcategories and "New Products", each time with the same figures."""
    sites, path, root, by_id = [], [], None, {}
    for event, element in parsed_xml_events("the feed", stream, ("start", "end")):
        if root is None:
            root = element
            if element.tag != "Catalog":
                raise _NotTheFeed(f"the feed's root element is <{element.tag}>, not <Catalog>")
        if event == "start":
            if element.tag == "Category":
                if len(path) == MAX_CATEGORY_DEPTH:
                    raise _NotTheFeed(f"the feed's categories are nested more than {MAX_CATEGORY_DEPTH} deep")
                path.append(None)
            continue
        if element.tag == "Name" and path and path[-1] is None:
            path[-1] = " ".join((element.text or "").split()) or None
        elif element.tag == "Site":
            site = {child.tag: " ".join((child.text or "").split()) for child in element}
            names = [name for name in path if name and name != NOT_A_SUBJECT]
            element.clear()
            first = by_id.get(site.get("Id")) if site.get("Id") else None
            if first is not None:  # listed again under another category: one vendor, its categories together
                kept = first["categories"]  # a vendor has two categories and their parents: a few names, bounded
                kept += [name for name in names if name not in kept][:MAX_CATEGORY_NAMES - len(kept)]
                continue
            if len(sites) == MAX_SITES:
                raise _NotTheFeed(f"the feed lists more than {MAX_SITES} sites")
            sites.append({**site, "categories": names})
            if site.get("Id"):
                by_id[site["Id"]] = sites[-1]
        elif element.tag == "Category":
            path.pop()
            element.clear()
    return sites


def _number(site: dict, field: str, where: str) -> Decimal | None:
    value = site.get(field) or None
    if value is None:
        return None
    if not _NUMBER.match(value):
        raise ParseError(f"{where}: {field} is {value!r}, not a number")
    number = Decimal(value)
    return plain(number if number.as_tuple().exponent >= -6 else number.quantize(Decimal("1e-6")))


def listing(site: dict, url: str) -> Listing:
    """One vendor: its % per sale (and per rebill, for recurring products) as commission, its gravity
    and $/sale figures kept beside them."""
    vendor = site.get("Id") or ""
    if not re.fullmatch(r"[A-Za-z0-9]{1,40}", vendor):
        raise ParseError(f"{url}: a site's Id is {vendor!r}, not a vendor nickname")
    where = f"{url}: site {vendor}"
    figures = {field: _number(site, field, where) for field in (
        "Gravity", "PopularityRank", "Commission", "PercentPerSale", "PercentPerRebill", "AverageEarningsPerSale",
        "InitialEarningsPerSale", "TotalRebillAmt", "Referred")}
    recurring = {"true": True, "false": False}.get(site.get("HasRecurringProducts", "").lower())
    if recurring is None:
        raise ParseError(f"{where}: HasRecurringProducts is {site.get('HasRecurringProducts')!r}, not true or false")
    per_sale, per_rebill = figures["Commission"], figures["PercentPerRebill"] if recurring else None
    if per_sale is None:
        raise ParseError(f"{where}: no Commission (% per sale)")
    terms = [CommissionTerm(type="percent", value_min=per_sale, value_max=per_sale)]
    if per_rebill:
        terms.append(CommissionTerm(type="percent", value_min=per_rebill, value_max=per_rebill, recurring=True))
    # The $/sale figures as the feed gives them; one it leaves empty is said nowhere, never as $0.
    average, initial, rebills = (figures[f] for f in ("AverageEarningsPerSale", "InitialEarningsPerSale", "TotalRebillAmt"))
    text = f"{per_sale:f}% per sale"
    if average is not None:
        text += f"; average ${average:f}/sale" + (f" (initial ${initial:f})" if initial is not None else "")
    elif initial is not None:
        text += f"; initial ${initial:f}/sale"
    if per_rebill:
        text += f"; {per_rebill:f}% per rebill" + (f", average rebill total ${rebills:f}" if rebills is not None else "")
    extra = {name: f"{figures[field]:f}" for name, field in (
        ("gravity", "Gravity"), ("popularity_rank", "PopularityRank"), ("percent_per_sale", "PercentPerSale"),
        ("percent_per_rebill", "PercentPerRebill"), ("average_earnings_per_sale", "AverageEarningsPerSale"),
        ("initial_earnings_per_sale", "InitialEarningsPerSale"), ("average_rebill_total", "TotalRebillAmt"),
        ("referred_percent", "Referred")) if figures[field] is not None}
    extra |= {"has_recurring_products": str(recurring).lower(), "currency": "USD"}
    if site.get("ActivateDate"):
        extra["activate_date"] = site["ActivateDate"]
    return Listing(
        record_key=vendor,
        name=site.get("Title") or "",
        description=site.get("Description") or None,
        categories=site["categories"],
        commission_text=text,
        commission=terms,
        cookie_text=COOKIE_TEXT,
        network=ClickBank.network,
        network_program_id=vendor,
        extra=extra,
    )
