"""CJ (Commission Junction) Advertiser Lookup: the advertisers a publisher has joined, each with its
default program terms (actions and their commission), 7-day and 3-month EPC, primary category and
network rank. XML, paged by page number (at most 100 records a page); a personal access token as
bearer; 25 calls a minute."""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from affiliate_matrix import taxonomy
from affiliate_matrix.codes import CURRENCIES
from affiliate_matrix.models import CommissionTerm
from affiliate_matrix.sources import (XML_FAULTS, ApiSource, EntityDeclared, Listing, PagedTotal, ParseError, attempt,
                                      parsed_xml, plain, register, terms_said, unreadable_xml)

PAGE_SIZE = 100  # the API's maximum records per page
MAX_PAGES = 1000  # the API's own total ends paging; this bounds an answer that never does
_NUMBER = r"[0-9]{1,12}(?:\.[0-9]{1,6})?"  # what the models keep (18 digits, 6 decimals)
_PERCENT = re.compile(rf"^({_NUMBER})\s*%$")
_AMOUNT = re.compile(rf"^([A-Z]{{3}})\s*({_NUMBER})$")
_COUNT = re.compile(r"[0-9]{1,18}")  # a count or an id: ASCII digits, as many as a 64-bit integer holds
# relationship-status (the publisher's with the advertiser) in the shared vocabulary of an account's relationship
# (models.Contract); any other word is kept in extra only, not guessed at.
RELATIONSHIPS = {"joined": "joined", "pending": "pending", "notjoined": "not_joined"}


@register
class CJ(ApiSource):
    name = "cj"
    title = "CJ Advertiser Lookup API"
    network, network_title = "cj", "CJ"  # the network its listings name, as people name it
    base_url = "https://advertiser-lookup.api.cj.com"
    credential_keys = ("api_token", "requestor_cid")
    account_params = ("requestor-cid",)  # the requestor (publisher) id, in every request
    max_rate_per_s = 25 / 60
    raw_suffix = ".xml"

    def auth_headers(self, credentials):
        return {"Authorization": f"Bearer {credentials['api_token']}", "Accept": "application/xml"}

    def decode(self, body):
        return xml_root(body)

    async def listings(self, api, credentials):
        query = {"requestor-cid": credentials["requestor_cid"], "advertiser-ids": "joined",
                 "records-per-page": str(PAGE_SIZE)}
        seen, ids, totals = 0, set(), PagedTotal("advertiser")
        for number in range(1, MAX_PAGES + 1):
            page = await api.get("/v2/advertiser-lookup", {**query, "page-number": str(number)})
            advertisers, total = read_page(page.data, page.url)
            if moved := totals.changed(page.url, number, total):
                yield page, moved
            readable = {listing.record_key for listing in advertisers if isinstance(listing, Listing)}
            if readable and readable <= ids:  # the same page again: the total would be met only by MAX_PAGES
                raise ParseError(f"{page.url}: page {number} lists no advertiser not read already "
                                 f"(total-matched {total}, {seen} read)")
            ids |= readable
            for listing in advertisers:
                yield page, listing
            seen += len(advertisers)
            if not advertisers or seen >= total:
                return
        # Not the listing's end: a run that stops short must not pass for complete (it would withdraw the rest)
        yield page, ParseError(f"{page.url}: stopped after {MAX_PAGES} pages, {seen} of the {total} advertisers read")


def xml_root(body: bytes) -> ET.Element:
    """An XML document's root. An answer declaring an entity is refused unread (parsed_xml). What it cannot read is a
    ValueError naming the encoding the answer declares (the sync's parse failure)."""
    try:
        return parsed_xml("the response", body)
    except EntityDeclared:
        raise
    except XML_FAULTS as exc:
        raise unreadable_xml("the response", body, exc) from None


def read_page(root: ET.Element, url: str) -> tuple[list[Listing | Exception], int]:
    """One page of `<cj-api><advertisers total-matched=…>`: its listings (or what reading each raised) and the
    total CJ matched."""
    if root.tag != "cj-api":
        raise ParseError(f"{url}: the root element is <{root.tag}>, not <cj-api>")
    if (message := root.findtext("error-message")) is not None:
        raise ParseError(f"{url}: CJ answered with an error: {message.strip()[:200]}")
    advertisers = root.find("advertisers")
    if advertisers is None:
        raise ParseError(f"{url}: no <advertisers> element")
    total = advertisers.get("total-matched", "")
    if not _COUNT.fullmatch(total):  # ASCII digits: str.isdigit() also takes '²', and 5,000 digits, which int() refuses
        raise ParseError(f"{url}: advertisers total-matched is {total[:20]!r}, not a count")
    # Each advertiser read on its own: one it cannot read is that advertiser's failure, not the page's.
    return [attempt(_listing, a, url) for a in advertisers.findall("advertiser")], int(total)


def _text(element: ET.Element, path: str) -> str | None:
    return " ".join((element.findtext(path) or "").split()) or None


def _listing(advertiser: ET.Element, url: str) -> Listing:
    advertiser_id = _text(advertiser, "advertiser-id")
    if not advertiser_id or not _COUNT.fullmatch(advertiser_id):
        raise ParseError(f"{url}: an advertiser's advertiser-id is {advertiser_id!r}, not a CID")
    where = f"{url}: advertiser {advertiser_id}"
    program_url = _text(advertiser, "program-url")
    terms, text = _commission(advertiser.findall("actions/action"), where)
    extra = {key: value for key, value in {
        "relationship_status": _text(advertiser, "relationship-status"),
        "account_status": _text(advertiser, "account-status"),
        "network_rank": _text(advertiser, "network-rank"),  # a number, or "New" for a new program
        "performance_incentives": _text(advertiser, "performance-incentives"),
        "mobile_tracking_certified": _text(advertiser, "mobile-tracking-certified"),
        "cookieless_tracking_enabled": _text(advertiser, "cookieless-tracking-enabled"),
        "language": _text(advertiser, "language"),
        "epc_7d": _epc(_text(advertiser, "seven-day-epc"), where, "seven-day-epc"),
        "epc_90d": _epc(_text(advertiser, "three-month-epc"), where, "three-month-epc"),
        # a DeepLink among the advertiser's link types says deep links are allowed; its absence says nothing (CJ lists
        # the kinds of link the advertiser has, not those it refuses)
        "deeplinks_allowed": "true" if "deeplink" in {(t.text or "").strip().lower()
                                                      for t in advertiser.findall("link-types/link-type")} else None,
    }.items() if value is not None}
    if "epc_7d" in extra or "epc_90d" in extra:
        extra["epc_currency"] = "USD"  # CJ: "currently defaults to USD"
    return Listing(
        record_key=advertiser_id,
        name=_text(advertiser, "advertiser-name") or "",
        merchant_url=program_url if program_url is None or "://" in program_url else f"https://{program_url}",
        categories=_categories(_text(advertiser, "primary-category/parent"),
                               _text(advertiser, "primary-category/child")),
        commission_text=text,
        commission=terms,
        network=CJ.network,
        network_program_id=advertiser_id,
        extra=extra,
        # CJ shows whether a joined advertiser is in good standing (active) or deactivated: any other account status
        # says its program is over. The relationship (joined, pending, not joined) is the publisher's, never that: the
        # account's fact, its network listing's contract.
        closed=f"account-status: {status}" if (status := _text(advertiser, "account-status"))
        and status.lower() != "active" else None,
        contract=RELATIONSHIPS.get((extra.get("relationship_status") or "").lower()),
    )


def _categories(parent: str | None, child: str | None) -> list[str]:
    """CJ's primary category is a broad parent and a child within it ("Computer & Electronics", "Web Hosting/Servers"):
    the child, the more specific, when it is one of ours; the parent only when it is not (both put a web host in
    electronics beside hosting)."""
    if child and taxonomy.category(child) != "other":
        return [child]
    return [parent] if parent else [child] if child else []


def _epc(value: str | None, where: str, field: str) -> str | None:
    """CJ's EPC, earnings per one hundred clicks (CJ's own definition), as earnings per click, the program's EPC
    (45.12 → 0.4512); None where CJ has none: "N/A", or "New" for a new advertiser (as its network-rank says)."""
    if value is None or value.upper() in ("N/A", "NEW"):
        return None
    if not re.fullmatch(_NUMBER, value):
        raise ParseError(f"{where}: {field} is {value!r}, not an amount")
    return f"{plain((Decimal(value) / 100).quantize(Decimal('1e-6'))):f}"


def _commission(actions: list[ET.Element], where: str) -> tuple[list[CommissionTerm], str | None]:
    """Every action's default rate and item-list rates but zeroes: one range per kind of rate (percent, or an
    amount in each currency), and the rates verbatim for people ("Online Sale: 10.00% (Gift Sets: 4.00%)")."""
    ranges: dict[tuple[str, str | None], list[Decimal]] = {}
    described = []
    for action in actions:
        commission = action.find("commission")
        rates = [] if commission is None else [
            (item.get("name") if item.tag == "itemlist" else None, " ".join((item.text or "").split()))
            for item in commission if item.tag in ("default", "itemlist")]
        for _, rate in rates:
            kind, value = _rate(rate, where)
            # A rate of zero pays nothing: no offer (a real answer's hidden actions are GBP 0.00 beside the 3% sales
            # rate, which made a flat GBP 0 offer); the verbatim text below still shows it
            if kind is not None and value:
                ranges.setdefault(kind, []).append(value)
        default = next((rate for label, rate in rates if label is None), None)
        lists = ", ".join(f"{label}: {rate}" for label, rate in rates if label is not None)
        described.append(f"{_text(action, 'name') or 'Action'}: {default or 'see item lists'}"
                         + (f" ({lists})" if lists else ""))
    terms = [CommissionTerm(type=kind, value_min=min(values), value_max=max(values), currency=currency)
             for (kind, currency), values in ranges.items()]
    return terms, terms_said(described)


def _rate(rate: str, where: str) -> tuple[tuple[str, str | None] | None, Decimal | None]:
    """("10.00%") → percent 10; ("USD 65.00") → 65 in USD; an empty rate is no rate."""
    if not rate:
        return None, None
    if match := _PERCENT.match(rate):
        return ("percent", None), plain(Decimal(match[1]))
    if (match := _AMOUNT.match(rate)) and match[1] in CURRENCIES:
        return ("flat", match[1]), plain(Decimal(match[2]))
    raise ParseError(f"{where}: commission {rate!r} is neither a percentage nor an amount with a currency")
