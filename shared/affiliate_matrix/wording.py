"""How stored values read to people, the same in the CLI, the demo and the web explorer (and a time to the API's
clients, ending_in_z)."""

from datetime import UTC
from decimal import Decimal

# A term says it recurs, says it does not ("one-time"), or does not say: three claims, read as three (merge's vote
# tells them apart too).
RECURRENCE = {True: " recurring", False: " one-time", None: ""}


RATES = ("approval_rate", "conversion_rate")  # Program fields that are fractions (0.873: 87.3% of sales approved)


# How a time in UTC reads to a person, to the second or the minute: every CLI table (cli/views.utc_text) and stored
# text a person reads (utc_said)
TO_THE_SECOND, TO_THE_MINUTE = "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"


def utc_said(when) -> str:
    """An aware time in stored text a person reads (a connection's health reason) as the CLI shows every time:
    '2026-12-06 08:00:00 UTC', not ISO's '2026-12-06T08:00:00+00:00'."""
    return f"{when.astimezone(UTC):{TO_THE_SECOND}} UTC"


def ending_in_z(iso: str) -> str:
    """A time in UTC as the API writes it (as the models' dumps write one), ending in Z, where isoformat, which stored
    times are written with, ends it in +00:00; other text is returned as it is."""
    return iso[:-6] + "Z" if iso.endswith("+00:00") else iso


def rate_text(fraction) -> str:
    """A share kept as a fraction, in percent as the networks show it, wherever it is shown: 0.873 is 87.3%."""
    percent = f"{Decimal(str(fraction)) * 100:f}"
    return (percent.rstrip("0").rstrip(".") if "." in percent else percent) + "%"


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)  # 10, not 10.0; a damaged claim as it is


def terms_summary(terms) -> str:
    """Commission terms (models, or their JSON form as the index and a source's claim hold them) as people write
    them: '10–20%', '50 USD', 'up to 30% recurring', each tier with what unlocks it ('5% at first sale'): two terms
    that differ only in their tiers are two sides of a disagreement, and read as two."""
    parts = []
    for term in terms or []:
        term = term if isinstance(term, dict) else term.model_dump(mode="json")
        unit = "%" if term.get("type") == "percent" else f" {term.get('currency')}"
        low, high = term.get("value_min"), term.get("value_max")
        if low is None:
            value = f"up to {_number(high)}"
        elif high is None or high == low:
            value = _number(low)
        else:
            value = f"{_number(low)}–{_number(high)}"
        tiers = ", ".join(f"{_number(tier.get('value'))}{unit} at {tier.get('threshold')}"
                          for tier in term.get("tiers") or [])
        parts.append(f"{value}{unit}" + RECURRENCE.get(term.get("recurring"), "") + (f" (tiers: {tiers})" if tiers else ""))
    return ", ".join(parts) or "—"
