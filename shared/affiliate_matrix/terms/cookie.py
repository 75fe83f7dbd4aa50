"""The cookie: how long a referral is credited to the affiliate (the tracking, attribution or
referral window). -1 lifetime, 0 session only. A duration counts only where the text says it is
the cookie's; a refund period, a payout delay or a trial is not."""

import re

from affiliate_matrix.terms.text import (DURATION, OTHER_PROGRAMS, Doc, Pattern, before_example, clauses, duration_days,
                                        normalise)

# "Return Days: 30" labels a cookie (a network's column); a "return period" is for refunds.
COOKIE = Pattern(
    r"cookie(?![\s-]*(?:dropping|stuffing|policy|richtlinie|banner|consent|einwilligung|hinweis))|"
    r"\b(?:tracking|attribution|referral|conversion|verweil)[\s-]*(?:period|window|duration|time|days?|length|"
    r"dauer|zeitraum|fenster|frist)|^\W*return days\b|tracked for|track(?:s|ed)? (?:sales|purchases|referrals|visitors) for|"
    r"durée de (?:vie )?(?:du |des |de )?(?:cookie|suivi)|p[ée]riode de (?:suivi|r[ée]f[ée]rence)|"
    r"duraci[óo]n de (?:la )?(?:cookie|sesi[óo]n)|vida (?:[úu]til )?de (?:la |las )?cookie|sesi[óo]n de|"
    r"periodo de (?:seguimiento|atribuci[óo]n|referencia)|"
    r"looptijd|duração d[oa] (?:cookie|sess[ãa]o)|validade d[oa] cookie|janela de (?:atribui[çc][ãa]o|convers[ãa]o)|"
    r"per[íi]odo de (?:rastreamento|atribui[çc][ãa]o)|"
    r"cookie[\s-]?(?:laufzeit|dauer|lebensdauer|lifetime|life|duration|length|window|period|validity|days?)|"
    r"(?:days?|tage?|jours?|d[ií]as|dagen|dias|giorni)[\s-]+(?:tracking|attribution|referral)|tracking system|"
    r"durata del cookie|finestra di (?:attribuzione|tracciamento)|^\W*tracking\s*[:|]", re.I)
FOREVER = Pattern(
    r"\b(?:lifetime (?:cookies?|tracking|attribution|referrals?|link)|(?:cookies?|tracking|attribution)[^.]{0,40}?"
    r"(?:never expires?|do(?:es)? not expire|don't expire|remains? (?:active |valid )?(?:indefinitely|forever)|"
    r"indefinitely|forever|permanent(?:ly)?|for life|(?:for )?the lifetime|unlimited|no expiration|lebenslang|"
    r"unbegrenzt|unbefristet|"
    r"l[äa]uft nie ab|verf[äa]llt nie|à vie|illimit[ée]e?s?|n'expire(?:nt)? jamais|de por vida|ilimitad[ao]s?|"
    r"nunca (?:caduca|expira)|no caduca|onbeperkt|levenslang|verloopt nooit|vital[íi]ci[ao]s?)|"
    r"(?:never expires?|never expire|unlimited|lebenslange?|unbegrenzte?|illimit[ée]e?|ilimitad[ao]|vital[íi]ci[ao])"
    r"[^.]{0,15}?(?:cookies?|tracking))", re.I)
_SESSION = Pattern(r"\bsession[\s-]?(?:only|cookie)|\b(?:only|nur) (?:for )?(?:the|die)? ?(?:session|sitzung)|"
                      r"\bsession\b|\bsitzung\b", re.I)
# A duration about something else: money back, payout delay, validation, a trial, a default setting.
_OTHER_PERIOD = Pattern(
    r"refund|money[\s-]back|guarantee|return (?:policy|period)|trial|payout|paid|payment|\bnet\b|hold|pending|lock|"
    r"validat|approv|cancel|widerruf|r[üu]ckgabe|storn|zahlung|auszahl|gutschein|coupon|voucher|rembours|paiement|"
    r"reembols|devoluci|garant|pago|terugbetal|betaling|uitbetal|devolu[çc]|pagamento|by default|default|"
    r"standardm[äa]ßig|par d[ée]faut|por defecto|standaard|padr[ãa]o|credited|gutgeschrieben|confirm|best[äa]tig|"
    r"processed", re.I)
# A general description, not one program's window: "usually 30 days".
_HEDGE = Pattern(r"\b(?:usually|typically|often|in der regel|meistens|normalement|souvent|normalmente|a menudo|"
                    r"doorgaans|meestal|geralmente|di solito)\b", re.I)
# A window the text gives without naming the cookie: "commissions on purchases within 48 hours of the click",
# "Affiliates sind nur für 30 Tage ab dem Tag gültig, an dem der Link angeklickt wird".
_WITHIN = Pattern(r"\b(?:within|up to|in the next|over the next|in|innerhalb|binnen|dans les|dentro de|en los|"
                     r"nos pr[óo]ximos|em at[ée]|entro|passati|na|after)\s+(?:the\s+)?(?:first\s+)?\d", re.I)
# "für 30 Tage gültig": a span the referral is valid for (not "commission for 12 months", which recurs).
_FOR = Pattern(r"\b(?:for|f[üu]r|pendant|durante|gedurende|por)\s+(?:the\s+)?(?:first\s+)?\d", re.I)
_VALID = Pattern(r"valid|g[üu]ltig|valable|v[áa]lid|geldig|attribut|tracked|zugeordnet|registr", re.I)
# "within 30 days of clicking your link", "Sales are attributed for 60 days": a window by itself.
_OWN_WINDOW = Pattern(r"\d+\s*\S+\s+(?:of|from|after|since)\s+(?:the\s+)?(?:first\s+|last\s+|initial\s+)?"
                         r"(?:click|visit)|attribut|zugeordnet|attribu[ée]|atribu[íi]d|toegeschreven|"
                         r"nach dem (?:ersten )?klick|"
                         r"apr[èe]s le (?:premier )?clic|despu[ée]s del (?:primer )?clic|na de (?:eerste )?klik|"
                         r"ap[óo]s o (?:primeiro )?clique", re.I)
# "within 30 days after the click": a window counted from the click is the cookie's whatever else the sentence says.
_CLICK_WINDOW = Pattern(r"\d+\s*\S+\s+(?:of|from|after|since)\s+(?:the\s+|a\s+|your\s+)?(?:first\s+|last\s+|initial\s+)?"
                        r"(?:click|visit)", re.I)
_CREDIT = Pattern(r"commission|credit|attribut|tracked|valid|g[üu]ltig|provision|comisi[óo]n|comiss[ãa]o|commissie|"
                     r"provvigion|earn|receive|collect|verdien|erh[äa]lt|ganar|recib|receb|ontvang|touch", re.I)
_VISIT = Pattern(r"click|\blink|visit|customer|visitor|referral|sign[\s-]?up|subscri|klick|\bkunde|clic|enlace|"
                    r"cliente|klant|utente|acquist|compra|kauf|achat|aankoop|purchase", re.I)

_LABEL_UNIT = Pattern(r"^\W*(?:cookie|tracking|attribution|referral)[\w\s()-]{0,25}?\b(?:days?|tage|jours|d[ií]as|"
                      r"dagen|dias|giorni)\b[)\s]*[:|]\s*(?P<n>\d{1,4})(?![\d.,]|\s*(?:h|hours?|months?|weeks?)\b)", re.I)
# A cookie said of programs in general or of others ("Most programs offer a 30-day cookie", "a longer cookie
# (like 90 days)"), not this program's.
_GENERIC = Pattern(rf"{OTHER_PROGRAMS}|\b(?:typically|industry|commonly|on average|like|such as|branchen[üu]blich|"
                   r"g[ée]n[ée]ralement)\b", re.I)
_BARE_DAYS = Pattern(r"^\W*(?:cookie|tracking|attribution|referral)[\w\s-]{0,25}?(?:[:|]\s*|\s)(?P<n>\d{1,3})\W*$", re.I)


def context(doc: Doc, i: int) -> tuple[str, int]:
    """A unit's text, with the heading or question it answers when it is a bare value ('Cookie Duration' /
    '0 Days'), and the index of the first unit that text comes from."""
    unit, previous = doc.units[i], doc.units[i - 1] if i else None
    if previous is not None and unit.first_in_line and (previous.heading or previous.text.endswith("?")):
        return f"{previous.text} {unit.text}", i - 1
    return unit.text, i


def cookie_in(doc: Doc, topics: list[str | None] | None = None) -> tuple[int | None, str | None]:
    """The first duration the text says is the cookie's, with the verbatim text it came from; failing
    that, a window in which a click or a referral earns a commission."""
    for i, unit in enumerate(doc.units):
        text, first = context(doc, i)
        text = before_example(normalise(text), _HEDGE)
        in_section = topics is not None and topics[i] == "cookie"
        if not (COOKIE.search(text) or in_section) or (topics is not None and topics[i] == "example"):
            continue
        own = before_example(unit.norm, _HEDGE)
        days = _duration_in(own, text if COOKIE.search(text) else f"cookie {text}") if own.strip() else None
        if days is None and (bare := _BARE_DAYS.match(text)):  # "Cookie | 45": a cookie row's number is days
            days = int(bare["n"])
        if days is not None:
            return days, doc.span(first, i)
    for i, unit in enumerate(doc.units):
        text = before_example(unit.norm, _HEDGE)
        if topics is not None and topics[i] == "example":
            continue
        within, span = _WITHIN.search(text), _FOR.search(text)
        window = within if within and (_OWN_WINDOW.search(text) or (_CREDIT.search(text) and _VISIT.search(text))) \
            else span if span and _VALID.search(text) else None
        if window and (not _OTHER_PERIOD.search(text) or _CLICK_WINDOW.search(text)):
            match = DURATION.search(text, window.start())
            if match and match.start() - window.end() < 3:
                return duration_days(match), unit.raw
    return None, None


def _duration_in(text: str, context: str) -> int | None:
    labelled = _LABEL_UNIT.match(text)
    if labelled:  # "Cookie days: 30 (45 during promotions)": the label says the unit of the value after it
        return int(labelled["n"])
    for clause in clauses(text) if len(clauses(text)) > 1 else [text]:
        if _GENERIC.search(clause):
            continue
        clause_is_cookie = COOKIE.search(clause) or not COOKIE.search(text)
        for match in DURATION.finditer(clause):
            before = clause[max(0, match.start() - 40):match.start()]
            if _OTHER_PERIOD.search(before) and not COOKIE.search(before):
                continue
            if clause_is_cookie or not _OTHER_PERIOD.search(clause):
                return duration_days(match)
    if FOREVER.search(context):
        return -1
    if _SESSION.search(context):
        return 0
    return None


def cookie_days(text: str | None) -> int | None:
    """Cookie duration from text that is about the cookie (a directory's "Cookie" column)."""
    text = normalise(" ".join((text or "").split()))
    match = DURATION.search(text)
    if match:
        return duration_days(match)
    if FOREVER.search(text) or re.search(r"^\s*(?:lifetime|forever|unlimited|never expires)", text, re.I):
        return -1
    return 0 if _SESSION.search(text) else None
