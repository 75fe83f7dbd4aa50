"""Rakuten Advertising: the publisher's active offers (commission tiers, return days), paged, then
each advertiser's details (site, description, where it ships). OAuth: the client id and secret are
exchanged for an hour-long bearer token at the start of every sync."""

import base64
from dataclasses import dataclass
from decimal import Decimal

from affiliate_matrix.models import MAX_THRESHOLD, CommissionTerm, CommissionTier
from affiliate_matrix.sources import (ApiSource, ItemFailed, Listing, PagedTotal, ParseError, amount, attempt, register,
                                      terms_said)

PAGE_SIZE = 200  # the Offers API's maximum `limit`
MAX_PAGES = 1000  # the Offers API's maximum `page`
# Flat amounts are in the advertiser's network currency (the offer names the network, not a currency).
NETWORK_CURRENCIES = {"united states": "USD", "united kingdom": "GBP", "canada": "CAD", "australia": "AUD",
                      1: "USD", 3: "GBP", 5: "CAD", 41: "AUD"}
PERCENT_TYPES, FLAT_TYPES = {"percentage", "percent"}, {"flat", "fixed", "amount"}


@dataclass
class Rate:
    kind: tuple[str, str | None]  # ("percent", None) or ("flat", currency)
    value: Decimal
    span: str | None  # what unlocks the tier, for a tiered commission
    label: str | None  # the commission's description


@dataclass
class Offer:
    advertiser_id: int
    advertiser_name: str
    advertiser_status: str | None
    network: str | int | None
    goid: int
    name: str
    return_days: int | None
    terms_url: str | None
    rates: list[list[Rate]]  # per commission, its tiers


@register
class Rakuten(ApiSource):
    name = "rakuten"
    title = "Rakuten Advertising API"
    network, network_title = "rakuten", "Rakuten Advertising"  # the network its listings name, as people name it
    base_url = "https://api.linksynergy.com"
    credential_keys = ("client_id", "client_secret", "sid")
    max_rate_per_s = 1.0  # no published figure; Rakuten answers 403 past its per-minute quota
    throttle_statuses = (403,)

    def auth_headers(self, credentials):
        return {"Accept": "application/json"}

    async def listings(self, api, credentials):
        auth = {"Authorization": f"Bearer {await _access_token(api, credentials)}"}
        # Offers sorted by advertiser arrive together, even across pages: an advertiser is complete,
        # and read, when the next one starts; so the first listing needs only the first page. An offer it
        # cannot read costs its advertiser (or itself, when it names none), not the sync.
        pending: list[tuple] = []  # (page, advertiser id, Offer or the exception reading it)
        done: set[int] = set()
        seen, totals = 0, PagedTotal("offer")
        for number in range(1, MAX_PAGES + 1):
            page = await api.request("GET", "/v1/offers", headers=auth, params={
                "offer_status": "active", "sort_by": "advertiser_id", "order_by": "asc", "limit": str(PAGE_SIZE),
                "page": str(number)})
            offers, total = read_offers(page.data, page.url)
            if moved := totals.changed(page.url, number, total):
                yield page, moved
            for advertiser_id, offer in offers:
                if advertiser_id is None:
                    yield page, offer
                    continue
                if advertiser_id in done:
                    raise ParseError(f"{page.url}: advertiser {advertiser_id}'s offers came again after "
                                     "another advertiser's; the answer is not sorted by advertiser")
                if pending and pending[0][1] != advertiser_id:
                    done.add(pending[0][1])
                    yield await _advertiser(api, auth, pending)
                    pending = []
                pending.append((page, advertiser_id, offer))
            seen += len(offers)
            if not offers or seen >= total:
                break
        else:  # not the listing's end: a run that stops short must not pass for complete (it would withdraw the rest)
            yield page, ParseError(f"{page.url}: stopped after {MAX_PAGES} pages, {seen} of the {total} offers read")
        if pending:
            yield await _advertiser(api, auth, pending)


async def _advertiser(api, auth: dict, found: list[tuple]) -> tuple:
    """One advertiser's listing: its details read, its offers' terms; the first offers page is the evidence. An
    offer of it that could not be read fails the advertiser (its terms would be read without that offer's)."""
    page, advertiser_id = found[0][0], found[0][1]
    failed = next((offer for _, _, offer in found if isinstance(offer, Exception)), None)
    if failed is not None:
        return page, failed
    # Details that cannot be had skip the advertiser, that item's failure (the run is then incomplete and withdraws
    # nothing): its site, which names its merchant, and where it ships are only there, so the last sync's word stands.
    details = await api.item("GET", f"/v2/advertisers/{advertiser_id}", headers=auth)
    if isinstance(details, ItemFailed):
        return page, details
    return page, attempt(listing, [offer for _, _, offer in found], details.data, details.url)


async def _access_token(api, credentials) -> str:
    """The token exchange: the client id and secret as Basic auth, the publisher's SID as scope. Its
    answer is a credential, so it is neither kept raw nor listed as evidence."""
    key = base64.b64encode(f"{credentials['client_id']}:{credentials['client_secret']}".encode()).decode()
    answer = await api.request("POST", "/token", secret=True, headers={"Authorization": f"Basic {key}"},
                               data={"grant_type": "password", "scope": credentials["sid"]})
    token = answer.data.get("access_token") if isinstance(answer.data, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise ParseError(f"{answer.url}: the token answer has no access_token")
    return token.strip()


def _field(mapping, key: str, kind: type | tuple, where: str, required: bool = True):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):  # no field read here is a boolean
        raise ParseError(f"{where}: {key} is {value!r}, not {getattr(kind, '__name__', kind)}")
    return value


def read_offers(data, url: str) -> tuple[list[tuple[int | None, Offer | Exception]], int]:
    """One page of the Offers API: each offer with its advertiser's id (None when it names none), the offer read
    or the exception reading it raised, and the total the API counts."""
    metadata = _field(data, "_metadata", dict, url)
    total = _field(metadata, "total", int, f"{url}: _metadata")
    offers = []
    for index, raw in enumerate(_field(data, "offers", list, url)):
        advertiser_id = attempt(_field, _dig(raw, "advertiser"), "id", int, "")
        offers.append((None if isinstance(advertiser_id, Exception) else advertiser_id,
                       attempt(_offer, raw, f"{url}: offers.{index}", url)))
    return offers, total


def _offer(raw, where: str, url: str) -> Offer:
    advertiser = _field(raw, "advertiser", dict, where)
    network = _field(advertiser, "network", (str, int), f"{where}.advertiser", required=False)
    goid = _field(raw, "goid", int, where)
    commissions = [commission for number, rule in enumerate(_list(raw, "offer_rules", where))
                   for commission in _list(rule, "commissions", f"{where}.offer_rules.{number}")]
    return Offer(
        advertiser_id=_field(advertiser, "id", int, f"{where}.advertiser"),
        advertiser_name=_field(advertiser, "name", str, f"{where}.advertiser"),
        advertiser_status=_field(advertiser, "status", str, f"{where}.advertiser", required=False),
        network=network,
        goid=goid,
        name=_field(raw, "name", str, where),
        return_days=_days(_field(raw, "return_days", int, where, required=False), where),
        terms_url=_field(raw, "terms_url", str, where, required=False),
        rates=[_rates(commission, network, f"{url}: offer {goid} commission {number}")
               for number, commission in enumerate(commissions)],
    )


def _days(days: int | None, where: str) -> int | None:
    if days is not None and not 0 <= days <= 36500:
        raise ParseError(f"{where}: return_days is {days}, not a number of days")
    return days


def _list(mapping, key: str, where: str) -> list[dict]:
    items = _field(mapping, key, list, where)
    if not all(isinstance(item, dict) for item in items):
        raise ParseError(f"{where}: {key} holds something other than objects")
    return items


def _rates(commission: dict, network, where: str) -> list[Rate]:
    """A commission's tiers: each tier's rate, and for a tiered commission what unlocks it."""
    kind = _kind(commission.get("commission_type"), network, where)
    label = commission.get("description") if isinstance(commission.get("description"), str) else None
    tiers = _list(commission, "tiers", where)
    if not tiers:
        raise ParseError(f"{where}: no tiers")
    rates = []
    for number, tier in enumerate(tiers):
        value = amount(tier.get("commission"), f"{where}: tier {number} commission")
        low = amount(tier.get("threshold", 0), f"{where}: tier {number} threshold")
        high = tier.get("upper_threshold")
        high = None if high is None else amount(high, f"{where}: tier {number} upper_threshold")
        span = f"{low:f} and above" if high is None else f"{low:f} to {high:f}"
        rates.append(Rate(kind, value, span if len(tiers) > 1 else None, label))
    return rates


def listing(offers: list[Offer], details, url: str) -> Listing:
    """One advertiser: its details, and the terms of all its active offers."""
    advertiser = _field(details, "advertiser", dict, url)
    first = offers[0]
    ships_to = _dig(advertiser, "policies", "international_capabilities", "ships_to")
    terms, described = _commission(offers)
    return_days = [o.return_days for o in offers if o.return_days is not None]
    deep_links = _dig(advertiser, "features", "deep_links")
    return Listing(
        record_key=str(first.advertiser_id),
        name=_field(advertiser, "name", str, url, required=False) or first.advertiser_name,
        merchant_url=_field(advertiser, "url", str, url, required=False) or None,
        description=_field(advertiser, "description", str, url, required=False) or None,
        commission_text=described,
        commission=terms,
        # The return window is Rakuten's cookie; with several active offers, the longest one counts.
        cookie_text=f"{max(return_days)} days" if return_days else None,
        network=Rakuten.network,
        network_program_id=str(first.advertiser_id),
        countries=[c for c in ships_to if isinstance(c, str)] if isinstance(ships_to, list) else [],  # ISO codes
        extra={k: v for k, v in {
            "advertiser_status": first.advertiser_status,
            "rakuten_network": str(first.network) if first.network is not None else None,
            "offers": ", ".join(f"{o.goid} {o.name}" for o in offers),
            "terms_url": first.terms_url,
            # features.deep_links says whether the advertiser allows deep links: its true or false as the other
            # networks' word (normalize reads the two, and refuses any other value with a log, the listing whole)
            "deeplinks_allowed": None if deep_links is None else str(deep_links).lower()[:20]}.items() if v},
    )


def _dig(mapping, *keys):
    """A nested value, or None where any level is missing or not an object."""
    for key in keys:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
    return mapping


def _threshold(offer_name: str, span: str) -> str:
    """A tier's threshold: its offer's name and its span, the name cut to fit MAX_THRESHOLD (an offer's name is the
    advertiser's words, of any length, and a threshold is shown wherever the term is)."""
    room = MAX_THRESHOLD - len(span) - 2
    name = offer_name if len(offer_name) <= room else offer_name[:max(room - 1, 0)] + "…"
    return f"{name}: {span}"[:MAX_THRESHOLD]


def _commission(offers: list[Offer]) -> tuple[list[CommissionTerm], str | None]:
    """Every tier of every offer's commissions as one range per kind of rate (percent, or an amount in
    the network's currency) with the tiers kept; and the offers' terms in words."""
    values: dict[tuple[str, str | None], list[Decimal]] = {}
    tiers: dict[tuple[str, str | None], list[CommissionTier]] = {}
    described = []
    for offer in offers:
        for rates in offer.rates:
            for rate in rates:
                values.setdefault(rate.kind, []).append(rate.value)
                if rate.span:
                    tiers.setdefault(rate.kind, []).append(
                        CommissionTier(threshold=_threshold(offer.name, rate.span), value=rate.value))
            label = f"{rates[0].label}: " if rates[0].label else ""
            described.append(f"{offer.name}: {label}" + ", ".join(
                _rate(rate.kind, rate.value) + (f" ({rate.span})" if rate.span else "") for rate in rates))
    terms = [CommissionTerm(type=kind, value_min=min(found), value_max=max(found), currency=currency,
                            tiers=tiers.get((kind, currency), []))
             for (kind, currency), found in values.items()]
    return terms, terms_said(described)


def _kind(commission_type, network, where: str) -> tuple[str, str | None]:
    name = commission_type.strip().lower() if isinstance(commission_type, str) else None
    if name in PERCENT_TYPES:
        return "percent", None
    if name in FLAT_TYPES:
        currency = NETWORK_CURRENCIES.get(network.strip().lower() if isinstance(network, str) else network)
        if currency is None:
            raise ParseError(f"{where}: a flat commission on network {network!r}, whose currency is unknown")
        return "flat", currency
    raise ParseError(f"{where}: commission_type {commission_type!r} is neither a percentage nor a flat amount")


def _rate(kind: tuple[str, str | None], value: Decimal) -> str:
    return f"{value.normalize():f}%" if kind[0] == "percent" else f"{kind[1]} {value.normalize():f}"
