"""OfferVault: a directory of CPA offers across networks. No documented API: its Nuxt site reads
`GET /api/networks?site=offervault` and `POST /api/offers/search` as JSON, which this plugin reads
politely, network by network (an offer in the search answer does not name its network)."""

from decimal import Decimal

from affiliate_matrix.sources import ApiSource, Listing, ParseError, amount, attempt, register, shaped

MAX_PAGES = 500  # per network: the network's offerCount ends it first; this bounds a looping answer


@register
class OfferVault(ApiSource):
    name = "offervault"
    title = "OfferVault (CPA offers)"
    base_url = "https://offervault.com"
    priority = 1  # a directory of other networks' offers, not the network itself
    max_rate_per_s = 0.5
    refused_statuses = ()  # there are no credentials: a 401 or 403 is the site turning a client away

    def auth_headers(self, credentials):
        # Not authentication: the site's own front end names the site on every API call.
        return {"site-identifier": "offervault", "Accept": "application/json"}

    async def listings(self, api, credentials):
        networks = await api.get("/api/networks", {"site": "offervault"})
        for network in shaped(shaped(networks.data, dict, f"{networks.url}: the answer").get("networks", []), list,
                               f"{networks.url}: networks"):
            if not isinstance(network, dict) or network.get("id") is None:
                yield networks, ParseError(f"{networks.url}: a network without an id: {str(network)[:200]}")
                continue
            total = network.get("offerCount")
            if total == 0:
                continue
            read, ids = 0, set()
            for number in range(1, MAX_PAGES + 1):
                page = await api.post("/api/offers/search", search(network["id"], number))
                # the site leaves `offers` out past the last page
                offers = shaped(shaped(page.data, dict, f"{page.url}: the answer").get("offers") or [], list,
                                f"{page.url}: offers")
                named = {str(offer["id"]) for offer in offers if isinstance(offer, dict) and offer.get("id") is not None}
                if named and named <= ids:  # the same page again: its offerCount would be met only by MAX_PAGES
                    yield page, ParseError(f"{page.url}: network {network['id']}'s page {number} lists no offer not "
                                           f"read already (offerCount {total}, {read} read)")
                    break
                ids |= named
                for offer in offers:
                    yield page, attempt(offer_listing, offer, network)
                read += len(offers)
                if not offers or (isinstance(total, int) and read >= total):
                    break
            else:  # not the listing's end: a run stopping short must not pass for complete (it would withdraw the rest)
                yield page, ParseError(f"{page.url}: network {network['id']}: stopped after {MAX_PAGES} pages, "
                                       f"{read} of its {total} offers read")


def search(network_id, page: int) -> dict:
    """The body the site's own search sends, narrowed to one network."""
    return {"query": "", "page": page, "sortBy": "", "sortDesc": False, "networks": [network_id],
            "countries": [], "categories": [], "ppc": False, "mobile": False}


def offer_listing(offer: dict, network: dict) -> Listing:
    payout_type = (offer.get("payoutType") or "").strip()
    return Listing(
        record_key=str(offer["id"]),
        name=offer["title"],
        kind="offer",
        merchant_url=offer.get("previewUrl") or None,  # the landing page: the merchant's domain
        description=offer.get("description") or None,
        categories=[label for label in map(_label, offer.get("categories") or []) if label],
        commission_text=_payout(offer.get("usdAmount"), payout_type, f"offer {offer['id']}: usdAmount"),
        payout_text=_network_payout(network),
        network=network.get("name") or None,
        countries=[code for code in (c.get("code") if isinstance(c, dict) else c for c in offer.get("countries") or [])
                   if isinstance(code, str) and code],
        extra={key: str(value) for key, value in {
            "payout_type": payout_type, "created_at": offer.get("created_at"), "updated_at": offer.get("updated_at"),
            "network_id": network.get("id"),
            "offer_url": f"https://offervault.com/offer/{offer['id']}/{offer['slug']}" if offer.get("slug") else None,
        }.items() if value not in (None, "")},
    )


def _payout(given, payout_type: str, what: str) -> str | None:
    """'USD 18.50 per lead'; None without an amount. One that is no payout (a word, NaN or Infinity, which Python's
    JSON parser takes, negative, 1e30) fails the offer, naming it (`amount`): 'USD NaN per lead' is no commission."""
    if given in (None, ""):
        return None
    value = amount(given, what)
    # Cents at least, and every decimal the offer gives: a payout per click of USD 0.045 is not 0.04.
    shown = value.quantize(Decimal("0.01")) if value.as_tuple().exponent >= -2 else value
    return f"USD {shown:f} per {payout_type or 'action'}"


def _label(category) -> str | None:
    """A category as the site names it: a name, or an object with one."""
    if isinstance(category, dict):
        category = category.get("name") or category.get("title")
    return category.strip() if isinstance(category, str) else None


def _network_payout(network: dict) -> str | None:
    """How the network pays its affiliates, as text the terms extractor reads."""
    parts = []
    for label, key in (("Minimum payment", "minimumPayment"), ("Payment methods", "paymentMethods"),
                       ("Payment frequency", "paymentFrequencies")):
        value = network.get(key)
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")
        if text.strip():
            parts.append(f"{label}: {text.strip()}")
    return "; ".join(parts)[:2000] or None
