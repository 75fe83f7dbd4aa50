"""Turn free-text affiliate terms into structured ones: commission, cookie, payout, restrictions.

"earn 30% recurring for 12 months", "90-day cookie", "paid monthly via PayPal once you reach
$50", "no PPC bidding on our brand". Unknown stays None or empty: nothing is guessed. English,
German, French and Spanish phrasings; numbers in words; ranges; "up to"; several currencies.

`extract(text)` reads a whole text and looks for each field only where the text talks about
it (a cookie sentence, a payout sentence, a prohibition). The single-field helpers
(`commission`, `cookie_days`, …) read a value a directory already labelled (its "Cookie" column).
"""

import re
from decimal import Decimal

from pydantic import BaseModel

from affiliate_matrix.models import CommissionTerm, Money

# --- normalising the text ------------------------------------------------------------------

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, "hundred"], key=len, reverse=True))
_NUMBER_WORDS = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:and\s+)?(?:{_NUMBER_WORD}))*\b", re.I)
_PERCENT_WORDS = re.compile(r"\s*\b(?:per\s?cent|percent|pct|prozent|pour\s?cent|por\s?ciento)\b", re.I)
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}(?!\d))")
_CURRENCY_WORDS = re.compile(r"(\d)\s*(dollars?|bucks|euros?|pounds?)\b", re.I)
_CURRENCY_WORD_CODES = {"dollar": "USD", "buck": "USD", "euro": "EUR", "pound": "GBP"}


def _words_to_number(match: re.Match) -> str:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", match.group(0).lower()):
        if word == "and":
            continue
        if word == "hundred":
            current = max(current, 1) * 100
        else:
            current += _UNITS.get(word, 0) + _TENS.get(word, 0)
    return str(total + current)


def normalise(text: str) -> str:
    text = " ".join((text or "").split())
    text = _NUMBER_WORDS.sub(_words_to_number, text)
    text = _PERCENT_WORDS.sub("%", text)
    text = _DECIMAL_COMMA.sub(".", text)
    return _CURRENCY_WORDS.sub(lambda m: f"{m.group(1)} {_CURRENCY_WORD_CODES[m.group(2).lower().rstrip('s')]}", text)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<!\d)[.!?;]+(?!\d)\s*", text) if s.strip()]


def clauses(sentence: str) -> list[str]:
    return [c for c in re.split(r"(?<!\d),(?!\d{3})|\s+(?:and|plus|then|und|et|y)\s+", sentence, flags=re.I)
            if c.strip()]


# --- money and commission --------------------------------------------------------------------

_SYMBOLS = {"us$": "USD", "$": "USD", "a$": "AUD", "au$": "AUD", "c$": "CAD", "ca$": "CAD", "€": "EUR",
            "£": "GBP", "¥": "JPY", "₹": "INR", "r$": "BRL"}
_CODES = "USD|EUR|GBP|AUD|CAD|JPY|INR|BRL|CHF|SEK|NOK|DKK|PLN|NZD"
_SYMBOL = r"US\$|AU?\$|CA?\$|R\$|\$|€|£|¥|₹"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_DASH = r"\s*(?:-|–|—|to|bis|à|a)\s*"
_PERCENT = re.compile(rf"(?P<upto>up to\s+|bis zu\s+|jusqu'à\s+|hasta\s+(?:un\s+)?)?(?P<a>{_NUMBER})\s*%?"
                      rf"(?:{_DASH}(?P<b>{_NUMBER}))?\s*%", re.I)
_FLAT = re.compile(rf"(?P<upto>up to\s+|bis zu\s+|jusqu'à\s+|hasta\s+)?(?:(?P<sym>{_SYMBOL})\s?(?P<a>{_NUMBER})"
                   rf"(?:{_DASH}(?:{_SYMBOL})?\s?(?P<b>{_NUMBER}))?|(?P<a2>{_NUMBER})\s?(?:(?P<code>{_CODES})\b|"
                   rf"(?P<sym2>€|£)))", re.I)
_RECURRING = re.compile(r"recurring|renewal|rebill|lifetime|forever|every month|each month|wiederkehrend|"
                        r"récurrent|recurrente", re.I)
_DISCOUNT = re.compile(r"%\s*off\b|\b(?:save|discount|rabatt|descuento|réduction)\b", re.I)
_PAYOUT_CONTEXT = re.compile(r"minimum|\bmin\b|threshold|once you reach|reaches|balance|withdraw|payout|auszahlung|"
                             r"\bab\s+\d|paiement|pago|paid\b|payments?\b|pay out", re.I)


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _currency(match: re.Match) -> str:
    symbol = match.group("sym") or match.group("sym2")
    return _SYMBOLS[symbol.lower()] if symbol else match.group("code").upper()


def _term(kind: str, match: re.Match, amount: str, currency: str | None, recurring) -> CommissionTerm:
    low, high = _decimal(amount), _decimal(match.group("b")) if match.group("b") else None
    if match.group("upto"):
        low, high = None, high or low
    return CommissionTerm(type=kind, value_min=low, value_max=high, currency=currency, recurring=recurring)


def _commission_in(clause: str) -> list[CommissionTerm]:
    recurring = True if _RECURRING.search(clause) else None
    percents = list(_PERCENT.finditer(clause))
    if percents:
        return [_term("percent", m, m.group("a"), None, recurring) for m in percents]
    return [_term("flat", m, m.group("a") or m.group("a2"), _currency(m), recurring) for m in _FLAT.finditer(clause)]


def commission(text: str | None) -> list[CommissionTerm]:
    """Commission terms from text that is about commission (a directory's "Commission" column)."""
    return [t for sentence in sentences(normalise(text or "")) for clause in clauses(sentence)
            for t in _commission_in(clause)]


# --- cookie ------------------------------------------------------------------------------------

_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<unit>days?|tage?n?|jours?|d[ií]as|months?|monate?n?|mois|meses|"
                       r"years?|jahre?n?|ans?|años|hours?|stunden|heures|horas)\b", re.I)
_UNIT_DAYS = {"d": 1, "t": 1, "j": 1, "m": 30, "y": 365, "a": 365, "h": 1 / 24, "s": 1 / 24}
_COOKIE_CONTEXT = re.compile(r"cookie|tracking|attribution|referral (?:period|window)|laufzeit|durée|duración", re.I)
_FOREVER = re.compile(r"\b(?:lifetime|permanent|forever|never expires|unbegrenzt|illimitée?|de por vida)\b", re.I)
_SESSION = re.compile(r"\bsession\b", re.I)


def _unit_days(unit: str) -> float:
    unit = unit.lower()
    if unit.startswith(("mo", "me", "mois")):
        return 30
    if unit.startswith(("h", "st")):
        return 1 / 24
    return _UNIT_DAYS.get(unit[0], 1)


def cookie_days(text: str | None) -> int | None:
    """Cookie duration from text that is about the cookie (-1 lifetime, 0 session only)."""
    text = normalise(text or "")
    if _FOREVER.search(text):
        return -1
    if _SESSION.search(text):
        return 0
    m = _DURATION.search(text)
    return max(1, round(float(m["n"]) * _unit_days(m["unit"]))) if m else None


def _cookie_in(text: str) -> int | None:
    for sentence in sentences(text):
        if not _COOKIE_CONTEXT.search(sentence):
            continue
        cookie_clauses = [c for c in clauses(sentence) if _COOKIE_CONTEXT.search(c)]
        for part in (*cookie_clauses, sentence):
            days = cookie_days(part)
            if days is not None:
                return days
    return None


# --- payout ------------------------------------------------------------------------------------

_METHODS = {"paypal": r"paypal", "payoneer": r"payoneer", "ach": r"\bach\b",
            "bank_transfer": r"bank ?transfer|direct deposit|banküberweisung|überweisung|virement|transferencia|\bsepa\b",
            "wire": r"\bwire\b", "store_credit": r"store credit|guthaben", "crypto": r"crypto|bitcoin|\bbtc\b|usdt|ethereum",
            "check": r"\b(?:by|via|or|and)\s+che(?:ck|que)s?\b|\bche(?:ck|que)s?\s+(?:or|and|payments?)\b|\bcheque"}
_FREQUENCIES = [("net30", r"\bnet[ -]?30\b"), ("net60", r"\bnet[ -]?60\b"),
                ("biweekly", r"bi-?weekly|every (?:two|2) weeks|fortnight"),
                ("weekly", r"\bweekly\b|wöchentlich|hebdomadaire|semanal"),
                ("quarterly", r"quarterly|vierteljährlich|trimestriel|trimestral"),
                ("monthly", r"monthly|every month|each month|once a month|monatlich|mensuel|mensual"),
                ("on_request", r"on request|upon request|on demand|auf anfrage|sur demande|a petición")]
def _money(tag: str) -> str:
    return (rf"(?:(?P<sym{tag}>{_SYMBOL})\s?(?P<a{tag}>{_NUMBER})|"
            rf"(?P<b{tag}>{_NUMBER})\s?(?:(?P<code{tag}>{_CODES})\b|(?P<symb{tag}>€|£)))")


_MINIMUM = re.compile(rf"(?:minimum|\bmin\b|threshold|reach(?:es)?|balance of|\bab\b|à partir de|mínimo)"
                      rf"[^.;\d€$£]{{0,30}}{_money('1')}|{_money('2')}\s*(?:minimum|min\b|threshold)", re.I)


def payout_methods(text: str | None) -> list[str]:
    return sorted(name for name, pattern in _METHODS.items() if re.search(pattern, text or "", re.I))


def payout_frequency(text: str | None) -> str | None:
    return next((name for name, pattern in _FREQUENCIES if re.search(pattern, text or "", re.I)), None)


def min_payout(text: str | None) -> Money | None:
    m = _MINIMUM.search(normalise(text or ""))
    if not m:
        return None
    groups = {k.rstrip("12"): v for k, v in m.groupdict().items() if v}
    amount = groups.get("a") or groups.get("b")
    symbol = groups.get("sym") or groups.get("symb")
    return Money(amount=_decimal(amount), currency=_SYMBOLS[symbol.lower()] if symbol else groups["code"].upper())


# --- restrictions -------------------------------------------------------------------------------

_RESTRICTIONS = {
    "ppc_brand_bidding": r"\bppc\b|trademark bidding|brand (?:keyword|term|name)s?\b.*\b(?:bid|ppc|ads|campaign)|"
                         r"bid(?:ding)? on (?:our )?(?:brand|trademark)|paid search",
    "coupon_sites": r"coupon|voucher|deal (?:and \w+ )?(?:code )?sites|gutschein",
    "incentivized": r"incentiv|cashback|reward sites",
    "email_spam": r"\bspam|unsolicited",
    "adult": r"\badult\b",
    "trademark_domains": r"domains? (?:containing|with|including) (?:our )?(?:trademark|brand)|typosquat",
    "social_ads": r"social (?:media )?ads|paid social|facebook ads|instagram ads|tiktok ads",
}
_PROHIBITION = re.compile(r"\bno\b|not (?:be )?(?:allowed|permitted|accepted)|prohibited|forbidden|may not|must not|"
                          r"\bdo not\b|don't|cannot|can't|excluded|rejected|banned|neither|\bnor\b|prior approval|"
                          r"nicht (?:erlaubt|gestattet)|interdit|prohibido|no se permite", re.I)


def restrictions(text: str | None) -> list[str]:
    found = set()
    for sentence in sentences(text or ""):
        if _PROHIBITION.search(sentence):
            found |= {name for name, pattern in _RESTRICTIONS.items() if re.search(pattern, sentence, re.I)}
    return sorted(found)


# --- everything at once -------------------------------------------------------------------------


class Terms(BaseModel):
    cookie_days: int | None = None
    commission: list[CommissionTerm] = []
    payout_methods: list[str] = []
    payout_frequency: str | None = None
    min_payout: Money | None = None
    restrictions: list[str] = []

    def as_json(self) -> dict:
        def number(value):
            return None if value is None else (int(value) if value == int(value) else float(value))

        return {
            "cookie_days": self.cookie_days,
            "commission": [{"type": t.type, "value_min": number(t.value_min), "value_max": number(t.value_max),
                            "currency": t.currency, "recurring": t.recurring} for t in self.commission],
            "payout_methods": self.payout_methods,
            "payout_frequency": self.payout_frequency,
            "min_payout": {"amount": number(self.min_payout.amount), "currency": self.min_payout.currency}
            if self.min_payout else None,
            "restrictions": self.restrictions,
        }


def extract(text: str | None) -> Terms:
    """Every term a free text states, each looked for only where the text talks about it."""
    text = normalise(text or "")
    found = Terms(cookie_days=_cookie_in(text), payout_methods=payout_methods(text), restrictions=restrictions(text))
    for sentence in sentences(text):
        if _PAYOUT_CONTEXT.search(sentence) or _FREQUENCIES[0][1] in sentence:
            found.payout_frequency = found.payout_frequency or payout_frequency(sentence)
            found.min_payout = found.min_payout or min_payout(sentence)
        for clause in clauses(sentence):
            if _DISCOUNT.search(clause) or _MINIMUM.search(clause):
                continue
            cookie = _COOKIE_CONTEXT.search(clause)  # "£15 per sale with a 30 day cookie": only what comes first
            found.commission += _commission_in(clause[:cookie.start()] if cookie else clause)
    if found.payout_frequency is None:  # net terms are payout terms wherever they stand
        found.payout_frequency = next((n for n, p in _FREQUENCIES[:2] if re.search(p, text, re.I)), None)
    return found
