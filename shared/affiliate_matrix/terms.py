"""Turn free-text terms ("$65 - $130 per sale", "120 days", "monthly via PayPal, $50 minimum")
into structured values. Unknown stays None or empty: nothing is guessed.

This is the spine's extractor; the sources issue grows it (numbers in words, more languages)
against a labelled corpus.
"""

import re
from decimal import Decimal

from affiliate_matrix.models import CommissionTerm, Money

_SYMBOLS = {"us$": "USD", "$": "USD", "a$": "AUD", "au$": "AUD", "c$": "CAD", "ca$": "CAD", "€": "EUR",
            "£": "GBP", "¥": "JPY", "₹": "INR", "r$": "BRL"}
_CODES = "USD|EUR|GBP|AUD|CAD|JPY|INR|BRL|CHF|SEK|NOK|DKK|PLN|NZD"
_SYMBOL = r"(?P<sym>US\$|AU?\$|CA?\$|R\$|\$|€|£|¥|₹)"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_DASH = r"\s*(?:-|–|—|to)\s*"
_PERCENT = re.compile(rf"(?P<upto>up to\s+)?(?P<a>{_NUMBER})\s*%?(?:{_DASH}(?P<b>{_NUMBER}))?\s*(?:%|percent)", re.I)
_FLAT = re.compile(rf"(?P<upto>up to\s+)?(?:{_SYMBOL}\s?(?P<a>{_NUMBER})(?:{_DASH}(?:US\$|AU?\$|CA?\$|R\$|\$|€|£|¥|₹)?\s?"
                   rf"(?P<b>{_NUMBER}))?|(?P<a2>{_NUMBER})\s?(?P<code>{_CODES})\b)", re.I)
_RECURRING = re.compile(r"recurring|renewal|rebill|every month|each month|lifetime commission", re.I)
_CLAUSES = re.compile(r"(?<!\d),|,(?!\d{3})|;|\band\b|\bplus\b", re.I)


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def commission(text: str | None) -> list[CommissionTerm]:
    terms = []
    for clause in _CLAUSES.split(text or ""):
        recurring = True if _RECURRING.search(clause) else None
        for m in _PERCENT.finditer(clause):
            low, high = _decimal(m["a"]), _decimal(m["b"]) if m["b"] else None
            if m["upto"]:
                low, high = None, high or low
            terms.append(CommissionTerm(type="percent", value_min=low, value_max=high, recurring=recurring))
        if _PERCENT.search(clause):
            continue
        for m in _FLAT.finditer(clause):
            amount = m["a"] or m["a2"]
            currency = _SYMBOLS[m["sym"].lower()] if m["sym"] else m["code"].upper()
            low, high = _decimal(amount), _decimal(m["b"]) if m["b"] else None
            if m["upto"]:
                low, high = None, high or low
            terms.append(CommissionTerm(type="flat", value_min=low, value_max=high, currency=currency,
                                        recurring=recurring))
    return terms


_DURATION = re.compile(r"(?P<n>\d+)\s*-?\s*(?P<unit>days?|months?|years?|hours?)\b", re.I)
_UNIT_DAYS = {"day": 1, "month": 30, "year": 365, "hour": 1 / 24}


def cookie_days(text: str | None) -> int | None:
    text = text or ""
    if re.search(r"\b(lifetime|permanent|forever|never expires)\b", text, re.I):
        return -1
    if re.search(r"\bsession\b", text, re.I):
        return 0
    m = _DURATION.search(text)
    if not m:
        return None
    return max(1, round(int(m["n"]) * _UNIT_DAYS[m["unit"].lower().rstrip("s")]))


_METHODS = {"paypal": r"paypal", "check": r"\b(?:check|cheque)s?\b", "bank_transfer": r"bank transfer|direct deposit",
            "payoneer": r"payoneer", "ach": r"\bach\b", "wire": r"\bwire", "store_credit": r"store credit",
            "crypto": r"crypto|bitcoin|usdt"}
_FREQUENCIES = [("net30", r"net[ -]?30"), ("net60", r"net[ -]?60"), ("biweekly", r"bi-?weekly|every two weeks"),
                ("weekly", r"\bweekly\b"), ("monthly", r"monthly|every month|once a month"),
                ("quarterly", r"quarterly"), ("on_request", r"on request|upon request")]
_MINIMUM = re.compile(rf"(?:{_SYMBOL}\s?(?P<a>{_NUMBER})\s*(?:minimum|min\b|threshold))|"
                      rf"(?:minimum|threshold|once you reach)[^$€£\d]{{0,25}}(?P<sym2>US\$|\$|€|£)\s?(?P<b>{_NUMBER})", re.I)


def payout_methods(text: str | None) -> list[str]:
    return sorted(name for name, pattern in _METHODS.items() if re.search(pattern, text or "", re.I))


def payout_frequency(text: str | None) -> str | None:
    return next((name for name, pattern in _FREQUENCIES if re.search(pattern, text or "", re.I)), None)


def min_payout(text: str | None) -> Money | None:
    m = _MINIMUM.search(text or "")
    if not m:
        return None
    symbol, amount = (m["sym"], m["a"]) if m["a"] else (m["sym2"], m["b"])
    return Money(amount=_decimal(amount), currency=_SYMBOLS[symbol.lower()])
