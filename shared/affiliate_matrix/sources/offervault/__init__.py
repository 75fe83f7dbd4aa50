"""OfferVault: a directory of CPA offers across networks. No documented API: its Nuxt site reads
`POST /api/offers/search` as JSON, which this plugin reads politely, page by page."""

from affiliate_matrix.sources import ApiSource, Listing, register


@register
class OfferVault(ApiSource):
    name = "offervault"
    title = "OfferVault (CPA offers)"
    base_url = "https://offervault.com"
    priority = 1  # a directory of other networks' offers, not the network itself
    max_rate_per_s = 0.5

    async def listings(self, api, credentials):
        for number in range(1, 201):  # the site's own page count ends it; this bounds a looping answer
            page = await api.post("/api/offers/search", {"page": number, "limit": 50, "sort": "updated"})
            for offer in page.data.get("offers", []):
                payout = offer.get("payout") or {}
                network = offer.get("network") or {}
                yield page, Listing(
                    record_key=str(offer["id"]),
                    name=offer["name"],
                    kind="offer",
                    merchant_url=offer.get("preview_url") or None,
                    categories=offer.get("categories", []),
                    commission_text=f"{payout['currency']} {payout['amount']} per {payout.get('model', 'action')}"
                    if payout.get("amount") else None,
                    network=network.get("name"),
                    network_program_id=str(offer.get("network_offer_id") or "") or None,
                    countries=offer.get("countries", []),
                    extra={"updated": offer.get("updated_at", "")},
                )
            if number >= int(page.data.get("pages") or 1):
                return
