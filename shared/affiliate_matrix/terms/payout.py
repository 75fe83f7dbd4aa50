"""Payout: from what balance (minimum) the affiliate is paid, read only where the text talks about paying the
affiliate (how: methods.py; how often: schedule.py)."""

import re

from affiliate_matrix.models import Money
from affiliate_matrix.terms.text import MONEY, Doc, Pattern, before_example, currency_of, money_values, normalise

CUE = Pattern(
    r"pay[\s-]?outs?|\bpaid\b|\bpayments?\b|\bpay (?:you|out|affiliates|commissions?)|\bwe pay\b|"
    r"\bpays? (?:on|every|each|at)\b|withdraw|remit|disburse|pagament[oi]|liquidazion|versament[oi]|prelievo|"
    r"auszahl|ausgezahlt|ausbezahlt|[üu]berwiesen|ausgesch[üu]ttet|\bzahlung|paiements?|versements?|\bpay[ée]e?s?\b|"
    r"\bvers[ée]e?s\b|\bpagos?\b|pagamos|pagad[oa]s?|retir(?:o|ar)|uitbetal|uitbetaald|betaling|betaald|"
    r"pagamentos?|\bsaques?\b|\bsacar\b|\bsettle|abrechnung|r[èe]glement|liquidaci|afrekening", re.I)
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


def min_payout(text: str | None) -> Money | None:
    """The minimum payout from text that is about payouts (a directory's "Payout" column)."""
    return _minimum(normalise(" ".join((text or "").split())), False)
