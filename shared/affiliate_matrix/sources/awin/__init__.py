"""Awin publisher API: the programmes a publisher has joined, then each programme's details
(KPIs and commission range). OAuth2 bearer token; about 20 calls a minute."""

from decimal import Decimal

from affiliate_matrix.codes import CURRENCIES
from affiliate_matrix.models import CommissionTerm
from affiliate_matrix.observability import get_logger
from affiliate_matrix.sources import ApiSource, ItemFailed, Listing, ParseError, amount, attempt, register, shaped

log = get_logger()

# Awin's membershipStatus in a programme's details (its relationship filter's words) in the shared contract words; its
# other words (suspended, rejected) say none. The listing asks for joined programmes only (relationship=joined), so one
# whose details say nothing is joined.
MEMBERSHIPS = {"joined": "joined", "pending": "pending", "notjoined": "not_joined"}


@register
class Awin(ApiSource):
    name = "awin"
    title = "Awin publisher API"
    network, network_title = "awin", "Awin"  # the network its listings name, as people name it
    base_url = "https://api.awin.com"
    credential_keys = ("api_token", "publisher_id")
    account_after = ("publishers",)  # /publishers/<publisher id>/programmes
    max_rate_per_s = 20 / 60
    # Awin answers 401 to a wrong token; a 403 can be its per-minute rate limit being hit (a public
    # client written against the live API waits and retries on it), so it is retried, not a refusal.
    throttle_statuses = (403,)

    def auth_headers(self, credentials):
        return {"Authorization": f"Bearer {credentials['api_token']}"}

    async def listings(self, api, credentials):
        publisher = credentials["publisher_id"]
        programmes = await api.get(f"/publishers/{publisher}/programmes", {"relationship": "joined"})
        for programme in shaped(programmes.data, list, f"{programmes.url}: the answer"):
            if not isinstance(programme, dict) or programme.get("id") is None:
                yield programmes, ParseError(f"{programmes.url}: a programme without an id: {str(programme)[:200]}")
                continue
            # A programme whose details cannot be had is skipped, that item's failure (an incomplete run, which
            # withdraws nothing): its terms and figures come only from its details, and a record without them would
            # say less than Awin does, so the last sync's word stands.
            details = await api.item("GET", f"/publishers/{publisher}/programmedetails",
                                     params={"advertiserId": programme["id"]})
            if isinstance(details, ItemFailed):
                yield programmes, details
                continue
            yield details, attempt(programme_listing, programme, details.data, details.url)


def programme_listing(programme: dict, details: dict, url: str) -> Listing:
    details = shaped(details, dict, f"{url}: the answer")
    info, kpi = details.get("programmeInfo") or {}, details.get("kpi") or {}
    display = programme.get("displayUrl") or ""
    region = programme.get("primaryRegion") or {}
    ranges = [_range(r, programme["id"]) for r in details.get("commissionRange") or []]
    currency = programme.get("currencyCode") or info.get("currencyCode")
    membership = info.get("membershipStatus")
    return Listing(
        record_key=str(programme["id"]),
        name=programme["name"],
        merchant_url=display if "://" in display else f"https://{display}" if display else None,
        description=info.get("description") or programme.get("description") or None,
        categories=[info["primarySector"]] if info.get("primarySector") else [],
        commission_text=_commission_text(ranges, currency),
        commission=_commission(ranges, currency),
        network=Awin.network,
        network_program_id=str(programme["id"]),
        join_url=programme.get("clickThroughUrl"),
        countries=[region["countryCode"]] if region.get("countryCode") else [],
        deeplink_domains=_valid_domains(info.get("validDomains") or programme.get("validDomains"), programme["id"]),
        # the account's relationship, its network listing's contract, never the program's status (as Impact's and CJ's)
        contract=MEMBERSHIPS.get(str(membership).strip().lower()) if membership is not None else "joined",
        extra={k: str(v) for k, v in {
            "membership_status": membership,
            "approval_rate": _share(kpi.get("approvalPercentage"), f"programme {programme['id']}: approvalPercentage"),
            "conversion_rate": _share(kpi.get("conversionRate"), f"programme {programme['id']}: conversionRate"),
            "validation_days": kpi.get("validationDays"), "average_payment_days": kpi.get("averagePaymentTime"),
            "deeplinks_allowed": info.get("deeplinkEnabled", programme.get("deeplinkEnabled")),
            **_epc(kpi.get("epc"), currency, programme["id"])}.items() if v is not None},
    )


def _valid_domains(given, programme_id) -> list[str]:
    """Awin's validDomains ([{"domain": "www.example.com"}, …], in the details' programmeInfo and the programme list
    alike): the hosts a deep link of the programme may point at."""
    domains = shaped(given or [], list, f"programme {programme_id}: validDomains")
    return [str(d["domain"])[:300] for d in domains if isinstance(d, dict) and d.get("domain")]


def _epc(epc, currency: str | None, programme_id) -> dict:
    """Awin's EPC (commission earned by publishers over clicks, one of the figures its Awin Index weighs over the
    previous 3 months) as the program's 3-month EPC, in the programme's currency: Awin's figures for a programme are
    in its currency, as its commission amounts. Where Awin names no currency, no EPC (no currency is assumed). One that
    is no amount (sources.amount) is dropped, logged naming the field: a statistic, not the offer, so the rest of the
    programme stands."""
    if epc is None or not currency:
        return {}
    try:
        return {"epc_90d": amount(epc, f"programme {programme_id}: epc"), "epc_currency": currency}
    except ParseError as exc:
        log.warning("awin.figure_dropped", field="epc", programme_id=str(programme_id)[:100], problem=str(exc))
        return {}


def _share(percent, what: str) -> float | None:
    return None if percent is None else round(float(amount(percent, what)) / 100, 4)


def _range(given, programme_id) -> tuple[str, Decimal | None, Decimal | None]:
    """One commission range: its kind ("percent" for Awin's "percentage", else an amount) and its bounds."""
    if not isinstance(given, dict):
        raise ParseError(f"programme {programme_id}: a commission range that is no object: {str(given)[:100]}")
    return ("percent" if given.get("type") == "percentage" else "flat",
            *(_bound(given.get(end), end, programme_id) for end in ("min", "max")))


def _bound(value, end: str, programme_id) -> Decimal | None:
    return None if value is None else amount(value, f"programme {programme_id}: a commission range's {end}")


def _commission(ranges: list[tuple], currency: str | None) -> list[CommissionTerm]:
    """Awin's commission range as terms, one per kind (percent, or an amount in the programme's currency): the
    figures as Awin states them, never read back from text. An amount in no known currency is no term."""
    bounds: dict[str, list[Decimal]] = {}
    for kind, low, high in ranges:
        if kind == "flat" and currency not in CURRENCIES:
            continue
        bounds.setdefault(kind, []).extend(v for v in (low, high) if v is not None)
    return [CommissionTerm(type=kind, value_min=min(values), value_max=max(values),
                           currency=currency if kind == "flat" else None) for kind, values in bounds.items() if values]


def _commission_text(ranges: list[tuple], currency: str | None) -> str | None:
    """Awin's commission range in words, for people ("3 - 8%", "2 - 5 GBP"). An amount is in the programme's
    currency; where Awin names none, the amount is said without one (no currency is assumed)."""
    parts = []
    for kind, low, high in ranges:
        span = " - ".join(f"{v:f}" for v in dict.fromkeys(v for v in (low, high) if v is not None))
        if span:
            parts.append(f"{span}%" if kind == "percent" else
                         f"{span} {currency}" if currency else f"{span} (an amount in a currency Awin does not name)")
    return ", ".join(parts) or None
