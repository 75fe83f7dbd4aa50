"""Payout: how often (frequency) and from what balance (minimum) the affiliate is paid, each read only where
the text talks about paying the affiliate (how: methods.py)."""

import re

from affiliate_matrix.models import Money
from affiliate_matrix.terms.text import MONEY, OTHER_PROGRAMS, Doc, Pattern, before_example, currency_of, money_values, normalise

CUE = Pattern(
    r"pay[\s-]?outs?|\bpaid\b|\bpayments?\b|\bpay (?:you|out|affiliates|commissions?)|\bwe pay\b|"
    r"\bpays? (?:on|every|each|at)\b|withdraw|remit|disburse|pagament[oi]|liquidazion|versament[oi]|prelievo|"
    r"auszahl|ausgezahlt|ausbezahlt|[üu]berwiesen|ausgesch[üu]ttet|\bzahlung|paiements?|versements?|\bpay[ée]e?s?\b|"
    r"\bvers[ée]e?s\b|\bpagos?\b|pagamos|pagad[oa]s?|retir(?:o|ar)|uitbetal|uitbetaald|betaling|betaald|"
    r"pagamentos?|\bsaques?\b|\bsacar\b|\bsettle|abrechnung|r[èe]glement|liquidaci|afrekening", re.I)
FREQUENCIES = [
    ("net30", r"\bnet[\s-]?30\b|30 days after the end of|30 giorni (?:data )?fine mese|30 gg\.? d\.?f\.?m|"
              r"\b30 (?:days|tage|tagen|jours|d[íi]as|dagen|dias) (?:\w+ ){0,3}?(?:end of|ende|fin|final|einde|fim|"
              r"cierre|monatsende)|end of the (?:next|following) (?:calendar )?month|"
              r"end of the calendar month following|ende des folgemonats|30 tage nach monatsende|fin du mois suivant|"
              r"30 jours fin de mois|final del mes siguiente|einde van de volgende maand|final do m[êe]s seguinte"),
    ("net60", r"\bnet[\s-]?60\b|60 days after the end of|"
              r"\b60 (?:days|tage|tagen|jours|d[íi]as|dagen|dias) (?:\w+ ){0,3}?(?:end of|ende|fin|final|einde|fim|"
              r"cierre|monatsende)"),
    ("biweekly", r"bi-?weekly|quindicinal\w*|due volte al mese|ogni due settimane|every (?:two|2) weeks|fortnight|twice (?:a|per|each) month|twice monthly|semi-?monthly|"
                 r"(?<!between )(?<!between the )\b\d+(?:st|nd|rd|th)? and (?:the )?\d+(?:st|nd|rd|th)? (?:day )?of "
                 r"(?:each|every|the) month|"
                 r"zweimal (?:im|pro) monat|deux fois par mois|dos veces al mes|twee keer per maand|"
                 r"duas vezes por m[êe]s|"
                 r"alle (?:zwei|2) wochen|zweiw[öo]chentlich|14-?t[äa]gig|toutes les deux semaines|bimensuel|quincenal|"
                 r"cada (?:dos|2) semanas|tweewekelijks|om de (?:twee|2) weken|quinzenal|a cada (?:duas|2) semanas"),
    ("weekly", r"\bweekly\b|settimanal\w*|ogni settimana|every week|once a week|(?:every|each) (?:monday|tuesday|wednesday|thursday|friday)|"
               r"jeden (?:montag|dienstag|mittwoch|donnerstag|freitag)|chaque (?:lundi|mardi|mercredi|jeudi|vendredi)|"
               r"cada (?:lunes|martes|mi[ée]rcoles|jueves|viernes)|elke (?:maandag|dinsdag|woensdag|donderdag|vrijdag)|"
               r"toda (?:segunda|ter[çc]a|quarta|quinta|sexta)|w[öo]chentlich|jede woche|hebdomadaire|chaque semaine|"
               r"semanal|cada semana|wekelijks|elke week|toda semana"),
    ("quarterly", r"quarterly|trimestral\w*|ogni trimestre|every (?:three|3) months|viertelj[äa]hrlich|quartalsweise|trimestri|elk kwartaal|"
                  r"per kwartaal|(?:each|every|per|end of (?:the |each |every )?)quarter\b|chaque trimestre|cada trimestre|"
                  r"jedes quartal|pro quartal"),
    ("monthly", r"\bmonthly\b|mensil\w*|ogni mese|every month|each month|once a month|(?:each|every|the following|the next) "
                r"calendar month|(?:the|in the|at the) (?:month after|following month|next month)|month following|"
                r"(?:beginning|start|first week|last (?:calendar )?day|end) of (?:the |each |every )?(?:next |"
                r"following )?"
                r"month|(?:\d+(?:st|nd|rd|th)?|first|last) (?:day |week |business day |working day )?of (?:the |each |"
                r"every )?"
                r"(?:following |next |calendar )?month|every 30 days|monatserst|monatsanfang|monatsende|"
                r"(?:anfang|ende) (?:des|jedes) (?:folge)?monats|begin van de (?:\(?nieuwe\)? |volgende )?maand|"
                r"einde van de maand|d[ée]but (?:de|du) (?:chaque |mois)|principio de (?:cada )?mes|in[íi]cio (?:de|"
                r"do) m[êe]s|"
                r"monthly cycle|todo dia \d+|dia \d+ de cada m[êe]s|el d[íi]a \d+ de cada mes|le \d+ de chaque mois|"
                r"am \d+\.? (?:eines|jedes) monats|op de \d+e van (?:elke|iedere) maand|(?:paid|payouts?|"
                r"uitbetaling\w*|auszahlung\w*|paiements?|pagos?|pagamentos?)\W+(?:\w+\W+){0,3}?"
                r"(?:per|par|pro|por) (?:month|maand|mois|monat|mes|m[êe]s)\b|monatlich|jeden monat|einmal im monat|"
                r"folgemonat|mensuel|chaque mois|tous les mois|"
                r"une fois par mois|mensual|cada mes|todos los meses|una vez al mes|maandelijks|elke maand|"
                r"iedere maand|"
                r"mensal|todo m[êe]s|todos os meses|cada m[êe]s|uma vez por m[êe]s"),
    ("on_request", r"on request|upon request|on demand|request (?:a |your |the )?(?:payout|withdrawal|payment|funds)|"
                   r"may be requested|can be requested|withdrawal request|"
                   r"withdraw\w*\W+(?:\w+\W+){0,3}?(?:at any time|anytime|whenever)|whenever you (?:want|like)|"
                   r"auszahlung (?:beantragen|anfordern)|(?:beantragen|anfordern) (?:sie |du )?(?:eine |"
                   r"die )?auszahlung|"
                   r"auszahlung[^.]{0,40}(?:beantragen|anfordern)|auf anfrage|auf wunsch|sur demande|"
                   r"demander (?:un |le |votre )?(?:paiement|versement|retrait)|a petici[óo]n|bajo petici[óo]n|"
                   r"a solicitud|solicitar (?:el |un |tu )?(?:pago|retiro)|op aanvraag|op verzoek|"
                   r"(?:uitbetaling|betaling) aanvragen|sob (?:pedido|solicita[çc][ãa]o)|"
                   r"solicitar (?:o )?(?:pagamento|saque)"),
]
_FREQUENCY_PATTERNS = [(name, Pattern(pattern, re.I)) for name, pattern in FREQUENCIES]
# What is not the payout's schedule: "rather than weekly", "the first monthly payment", "monthly plans".
_NOT_THE_SCHEDULE = Pattern(
    r"(?:rather than|instead of|statt|anstatt|plut[ôo]t que|en lugar de|in plaats van|em vez de)\s+\S+|"
    r"(?:first|every|each|the) monthly|\bmonthly (?:plans?|subscriptions?|fees?|billing|prices?|recurring)|"
    r"monthly payments? (?:your|of|made by|from) (?:the )?(?:referr|customer|client)|"
    r"(?:renews?|renewal|subscri\w*|billed|charged|plans?)\W+(?:\w+\W+){0,4}?(?:every|each) (?:month|week|year)|"
    r"(?:options|op[çc][õo]es|opciones|optionen|choose between|w[äa]hlen sie)\b.*|"
    r"\b(?:monthly|weekly|quarterly|daily) (?:reports?|statements?|newsletters?|updates?|bonus(?:es)?|contests?|"
    r"promotions?|sales|traffic|visitors|performance|stats|statistics)\b|"
    rf"{OTHER_PROGRAMS}[^,;.]*", re.I)
_HEDGE = Pattern(r"\b(?:g[ée]n[ée]ralement|generally|in general|im allgemeinen|en general|em geral|"
                    r"over het algemeen|usually|typically|normalement|normalmente|in der regel)\b", re.I)
# "over $100" is a threshold only where what is over it is the affiliate's balance ("once your earnings exceed
# $50"), not an order, a partner's sales or a fee's condition.
_BALANCE = (r"balances?|earnings|earned|\bowe[sd]?\b|\bdue\b|commissions?|account|total|amount|payouts?|payments?|"
            r"guthaben|provisionen|"
            r"verdienst|solde|gains|saldo|ganancias|comisiones|tegoed|verdiensten|commissies|ganhos|comiss[õo]es")
_COMPARED = (r"greater than|more than|exceeds?|above|\bover\b|below|less than|under|[üu]ber|unter|moins de|plus de|"
             r"sup[ée]rieur|menos de|m[áa]s de|superior|minder dan|meer dan|abaixo|acima")
_MINIMUM = Pattern(
    r"minimum|\bmin\b\.?|threshold|once (?:you|your)|reach|at least|accumulate|qualify for|\bneeds?\b|"
    r"(?:as soon as|when) (?:you|your)|"
    r"balances? (?:of|exceeds?|over|above)|grens|"
    rf"(?:{_BALANCE})\W+(?:\w+\W+){{0,5}}?(?:{_COMPARED})|"
    r"mindest|auszahlungsgrenze|schwelle|\bab\b|erreich|seuil|[àa] partir d|\bd[èe]s\b|m[íi]nim[oa]|umbral|drempel|"
    r"minimaal|vanaf|limite|valor m[íi]nimo|soglia|raggiung|minimo|a partire da|bereik|zodra|sobald|alcan[cçz]|atingi|atinja", re.I)
# Words that name a payout threshold by themselves ("The minimum threshold is $50").
_THRESHOLD = Pattern(r"threshold|soglia|importo minimo|minimum (?:balance|amount|payout|payment)|mindest(?:betrag|auszahlung|summe|guthaben)|"
                        r"auszahlungsgrenze|seuil|montant minimum|umbral|m[íi]nimo (?:para|de) (?:cobr|pag|retir|"
                        r"saque)|"
                        r"drempel|minimale? (?:uitbetaling|bedrag)|uitbetalingsgrens|valor m[íi]nimo|saque m[íi]nimo|"
                        r"minimum (?:withdrawal|cash[\s-]?out)|retiro m[íi]nimo", re.I)
# "$50 minimum", "50 € oder mehr"
_OR_MORE = Pattern(r"\s*(?:minimum|min\b|threshold|or (?:more|higher|above)|(?:und|oder) mehr|ou plus|o m[áa]s|"
                   r"of meer|ou mais)", re.I)
_NOT_MINIMUM = Pattern(r"(?<!in )\border|\bfees?\b|charge|\bcosts?\b|geb[üu]hr|frais|tarifa|kosten|taxa|\buntil\b|"
                       r"\bper (?:sale|transaction|order|lead)|for every|"
                          r"bestell|commande|pedido|bestelling|compra|purchase|cancel|k[üu]ndig|r[ée]siliation",
                          re.I)


def _payout_units(doc: Doc, topics: list[str | None], amounts: bool = False):
    """Units that talk about paying the affiliate (a payout word, or a payout section). An example's
    amounts are nobody's terms, but the way it says money is paid usually is the program's."""
    for i, unit in enumerate(doc.units):
        text = before_example(unit.norm)
        if not text.strip() or (amounts and topics[i] == "example"):
            continue
        if topics[i] == "payout" or CUE.search(text) or (amounts and _THRESHOLD.search(text)):
            yield i, unit, text


def payout_frequency_in(doc: Doc, topics: list[str | None]) -> tuple[str | None, str | None]:
    """The first schedule said of a payout; a payment run ("paid on the 15th of every month") wins over
    the request that starts it ("request a withdrawal")."""
    requested = None
    for i, unit, text in _payout_units(doc, topics):
        if _HEDGE.search(text):
            continue
        frequency = _frequency_of(text, short=len(text.split()) <= 8 and topics[i] == "payout")
        if frequency == "on_request":
            requested = requested or (None if unit.heading else (frequency, unit.raw))
        elif frequency:
            return frequency, unit.raw
    if requested:
        return requested
    for unit in doc.units:  # net terms are payout terms wherever they stand
        net = re.search(FREQUENCIES[0][1] + "|" + FREQUENCIES[1][1], unit.text, re.I)
        if net:
            return ("net60" if "60" in net.group(0) else "net30"), unit.raw
    return None, None


# A schedule in the clause of a rate is how often the commission recurs ("paid 20% every month for each
# active subscriber"), not when the affiliate is paid.
_RATE_CLAUSE = Pattern(r"\d\s*%", re.I)


def _clause_at(text: str, at: int, reach: int = 300) -> str:
    """The clause around `at`, at most `reach` characters either side (a text without commas stays linear)."""
    low, high = max(0, at - reach), min(len(text), at + reach)
    start = max(max(text.rfind(mark, low, at) for mark in (",", ";", ":", "(")) + 1, low)
    ends = [e for e in (text.find(mark, at, high) for mark in (",", ";", ")")) if e >= 0]
    return text[start:min(ends, default=high)]


def _frequency_of(text: str, short: bool = True) -> str | None:
    """A schedule said next to a payout word ("monthly reports" beside "payments" elsewhere in a long
    sentence is not one); a bare value under a payout heading needs none."""
    text = _NOT_THE_SCHEDULE.sub("", text)
    said: list[tuple[int, int, str]] = []
    taken = bytearray(len(text))  # a specific schedule's words are not also a general one's ("paid twice per month")
    for name, pattern in _FREQUENCY_PATTERNS:
        for match in pattern.finditer(text):
            if any(taken[match.start():match.end()]) or \
                    _RATE_CLAUSE.search(_clause_at(text, match.start())):
                continue
            if short and name != "on_request" or CUE.search(text[max(0, match.start() - 100):match.end() + 60]):
                said.append((match.start(), len(said), name))
                taken[match.start():match.end()] = b"\x01" * (match.end() - match.start())
    # The schedule said first is the rule, a later one its exception ("monthly, weekly for partners over
    # $1,000"); net terms are what a payment run is ("monthly, net 30" is net30).
    nets = [name for _, _, name in said if name in ("net30", "net60")]
    return nets[0] if nets else min(said)[2] if said else None


def min_payout_in(doc: Doc, topics: list[str | None]) -> tuple[Money | None, str | None]:
    for i, unit, text in _payout_units(doc, topics, amounts=True):
        heading = doc.units[i - 1].text if i and unit.first_in_line and doc.units[i - 1].heading else ""
        if _NOT_MINIMUM.search(heading):
            continue
        minimum = _minimum(text, bool(_MINIMUM.search(heading)), doc.dollar)
        if minimum:
            return minimum, doc.span(i - 1, i) if heading and not _MINIMUM.search(text) else unit.raw
    return None, None


def _minimum(text: str, headed: bool, dollar: str = "USD") -> Money | None:
    for match in MONEY.finditer(text):
        before = text[max(0, match.start() - 60):match.start()]
        after = text[match.end():match.end() + 25]
        if not (headed or _MINIMUM.search(before) or _OR_MORE.match(after)):
            continue
        if _NOT_MINIMUM.search(before[-30:] + after):
            continue
        currency, (amount, _) = currency_of(match, dollar), money_values(match)
        if currency and amount is not None:
            return Money(amount=amount, currency=currency)
    return None


def payout_frequency(text: str | None) -> str | None:
    return _frequency_of(text or "")


def min_payout(text: str | None) -> Money | None:
    """The minimum payout from text that is about payouts (a directory's "Payout" column)."""
    return _minimum(normalise(" ".join((text or "").split())), False)
