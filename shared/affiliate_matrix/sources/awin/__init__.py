"""Awin publisher API: the programmes a publisher has joined, then each programme's details
(KPIs and commission range). OAuth2 bearer token; about 20 calls a minute."""

from affiliate_matrix.sources import ApiSource, Listing, ParseError, attempt, register


@register
class Awin(ApiSource):
    name = "awin"
    title = "Awin publisher API"
    base_url = "https://api.awin.com"
    credential_keys = ("api_token", "publisher_id")
    max_rate_per_s = 20 / 60
    # Awin answers 401 to a wrong token; a 403 can be its per-minute rate limit being hit (a public
    # client written against the live API waits and retries on it), so it is retried, not a refusal.
    throttle_statuses = (403,)

    def auth_headers(self, credentials):
        return {"Authorization": f"Bearer {credentials['api_token']}"}

    async def listings(self, api, credentials):
        publisher = credentials["publisher_id"]
        programmes = await api.get(f"/publishers/{publisher}/programmes", {"relationship": "joined"})
        for programme in programmes.data:
            if not isinstance(programme, dict) or programme.get("id") is None:
                yield programmes, ParseError(f"{programmes.url}: a programme without an id: {str(programme)[:200]}")
                continue
            details = await api.get(f"/publishers/{publisher}/programmedetails", {"advertiserId": programme["id"]})
            yield details, attempt(programme_listing, programme, details.data)


def programme_listing(programme: dict, details: dict) -> Listing:
    info, kpi = details.get("programmeInfo") or {}, details.get("kpi") or {}
    display = programme.get("displayUrl") or ""
    region = programme.get("primaryRegion") or {}
    return Listing(
        record_key=str(programme["id"]),
        name=programme["name"],
        merchant_url=display if "://" in display else f"https://{display}" if display else None,
        description=info.get("description") or programme.get("description") or None,
        categories=[info["primarySector"]] if info.get("primarySector") else [],
        commission_text=_commission_text(details.get("commissionRange") or [],
                                         programme.get("currencyCode") or info.get("currencyCode")),
        network="awin",
        network_program_id=str(programme["id"]),
        join_url=programme.get("clickThroughUrl"),
        countries=[region["countryCode"]] if region.get("countryCode") else [],
        extra={k: str(v) for k, v in {
            "approval_rate": _share(kpi.get("approvalPercentage")),
            "conversion_rate": _share(kpi.get("conversionRate")),
            "validation_days": kpi.get("validationDays"), "epc": kpi.get("epc"),
            "average_payment_days": kpi.get("averagePaymentTime")}.items() if v is not None},
    )


def _share(percent) -> float | None:
    return None if percent is None else round(float(percent) / 100, 4)


def _commission_text(ranges: list[dict], currency: str | None) -> str | None:
    """Awin's commission range as text the terms extractor reads ("3 - 8%", "2 - 5 GBP"). An amount is in the
    programme's currency; where Awin names none, the amount is said without one (no currency is assumed)."""
    parts = []
    for r in ranges:
        low, high = r.get("min"), r.get("max")
        span = f"{low:g}" if low == high or high is None else f"{low:g} - {high:g}"
        parts.append(f"{span}%" if r.get("type") == "percentage" else
                     f"{span} {currency}" if currency else f"{span} (an amount in a currency Awin does not name)")
    return ", ".join(parts) or None
