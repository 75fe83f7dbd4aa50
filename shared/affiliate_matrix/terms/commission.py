"""Commission: what the affiliate earns. Every percentage and amount is a candidate; its clause says
whether it is the affiliate's (a commission word, "per sale", a commission section) or something
else (a customer discount, a conversion rate, a threshold, a price, an example's result). What is
left merges into one entry per distinct offer: one percent range, one flat range per currency, a
recurring rate apart from a one-time one."""

import re
from decimal import Decimal

from affiliate_matrix.models import CommissionTerm
from affiliate_matrix.terms.cookie import COOKIE, HYPOTHETICAL
from affiliate_matrix.terms.text import MONEY, NUMBER, Doc, clauses, currency_of, money_values, normalise, number

CUE = re.compile(
    r"commissions?|commissie|comisi[óo]n(?:es)?|comiss(?:[ãa]o|[õo]es)|provision(?:en)?|provisie|verg[üu]tung|"
    r"vergoeding|r[ée]mun[ée]ration|remuneraci[óo]n|remunera[çc][ãa]o|revenue[\s-]?share|rev[\s-]?share|"
    r"revenue split|profit[\s-]share|umsatzbeteiligung|bount(?:y|ies)|\bcp[alsoi]\b|payouts? (?:per|of|for)|"
    r"\bearn|\bverdien|\bgagne[zr]?\b|\bgana[rs]?\b|ganar[áa]s|\bganh[ae]r?\b|ganhe\b|we pay|pay(?:s)? you|"
    r"you(?:'ll| will)? (?:get|receive)|\breceive|erh[äa]ltst|erhalten sie|bekommst|recevez|recevrez|"
    r"recibir[áa]s?|recibe|ontvang|receb[ae]|\brewards?\b|belohn|"
    r"\bper (?:sale|order|referral|lead|sign[\s-]?up|customer|conversion|install|subscriber|account|purchase|booking)|"
    r"\bfor (?:each|every)\b|\bpro (?:verkauf|sale|bestellung|lead|neukunde|vermittlung|abschluss)|\bje (?:verkauf|sale)|"
    r"f[üu]r jede[nrs]?\b|par (?:vente|commande|lead|inscription|client)|pour chaque|por (?:cada|venta|pedido|registro)|"
    r"per (?:verkoop|bestelling|aanmelding|klant)|voor (?:elke|iedere)|por (?:venda|cadastro)|"
    r"of (?:each|every|the|all|all the)? ?(?:sales?|orders?|purchases?|payments?|subscriptions?|net|revenue|"
    r"the (?:order|sale))\b|des (?:umsatzes|warenkorb|netto)|vom (?:umsatz|netto)|du (?:chiffre|montant)|"
    r"del (?:importe|valor|total)|van de (?:omzet|orderwaarde)|do valor|sobre (?:as |o )?(?:vendas?|valor)", re.I)
_DISCOUNT_AFTER = re.compile(r"^\s*(?:off\b|discount|rabatt|nachlass|erm[äa]ßigung|skonto|de (?:r[ée]duction|remise|"
                             r"descuento|desconto)|r[ée]duction|remise|descuento|korting|desconto|sconto)", re.I)
_DISCOUNT_BEFORE = re.compile(r"(?:discount|save|saving|spar(?:en|t)?|rabatt|nachlass|gutschein|coupon|voucher|"
                              r"promo|r[ée]duction|remise|descuento|cup[óo]n|korting|desconto|cupom|off)\b[^%]{0,25}$",
                              re.I)
# A percentage of something that is not the affiliate's pay.
_NOT_PAY = re.compile(
    r"conversion|\bctr\b|approval|storno|cancell?ation rate|return rate|refund rate|churn|\bvat\b|mwst|\bust\b|"
    r"\btva\b|\biva\b|\bbtw\b|\btax\b|steuer|growth|increase|\bmore\b|satisf|interest|\bapr\b|\bfees?\b|geb[üu]hr|"
    r"\bfrais\b|tarifa|\bkosten\b|of (?:our |all )?(?:affiliates|publishers|partners|customers|users|visitors|"
    r"traffic|people)|average|on average|durchschnitt|en moyenne|promedio|gemiddeld|m[ée]dia|top affiliates|"
    r"market share|margin|marge|margen", re.I)
# An amount that is a threshold, a price or a balance, not a reward.
_NOT_REWARD = re.compile(
    r"minimum|\bmin\b|threshold|reach|balance|at least|accumulat|qualify|mindest|auszahlungsgrenze|schwelle|"
    r"\bab\b|erreich|seuil|[àa] partir d|d[èe]s que|m[íi]nimo|umbral|drempel|minimaal|vanaf|limite|"
    r"price|cost|\bplans?\b|order value|orders? (?:over|above|of)|spend|bestellwert|warenkorb|preis|prix|precio|"
    r"prijs|pre[çc]o|valor do pedido|/\s?(?:mo|month|year|yr|jahr|monat)\b|per (?:month|year)|a month|"
    r"gesammelt|collected|earned|have earned|sammelt|saldo|guthaben|cr[ée]dit", re.I)
_FLAT_CUE = re.compile(
    r"\bper\b|\bfor (?:each|every)\b|\bpro\b|\bje\b|f[üu]r jede|\bpar\b|pour chaque|por cada|\bpor\b|voor (?:elke|iedere)|"
    r"bount(?:y|ies)|\bcp[alsoi]\b|fixed|flat|fest(?:betrag|provision)|fixum|pauschal|fixe|forfait|fij[ao]|vast|fix[ao]|"
    r"bonus|pr[äa]mie|prime|premio|pr[eê]mio", re.I)
RECURRING = re.compile(
    r"recurr|every (?:renewal|month|payment|rebill|billing)|renewals?|rebills?|for (?:the )?(?:first )?\d+ (?:months|years)|"
    r"lifetime(?! cookie)|for (?:the )?life(?:time)?|as long as|each month (?:they|the customer|your)|"
    r"wiederkehrend|dauerhaft|lebenslang|jede[nr]? (?:monat|verl[äa]ngerung)|solange|gesamte laufzeit|"
    r"r[ée]currente?s?|[àa] vie|chaque (?:mois|renouvellement)|tant que|recurrentes?|de por vida|cada (?:renovaci[óo]n|mes)|"
    r"mientras|terugkerend|levenslang|elke (?:maand|verlenging)|zolang|recorrentes?|vital[íi]ci[ao]|"
    r"cada renova[çc][ãa]o|enquanto", re.I)
ONE_TIME = re.compile(
    r"one[\s-]?time|one[\s-]?off|first (?:payment|month|purchase|order|invoice|sale|subscription)|initial (?:payment|purchase)|"
    r"einmalig|erste[nrm]? (?:monat|zahlung|bestellung)|im ersten monat|unique|premi(?:er|[èe]re) (?:mois|paiement|commande)|"
    r"[úu]nic[ao]|primer (?:pago|mes)|eenmalig|eerste (?:maand|betaling|bestelling)|primeir[ao] (?:m[êe]s|pagamento|compra)",
    re.I)
_UPTO = r"\b(?:up to|bis zu|jusqu'(?:à|a)|hasta(?: un)?|tot (?:wel )?|at[ée]|max(?:imal|imum|\.)?)"
PERCENT = re.compile(rf"(?P<upto>{_UPTO}\s+)?(?P<a>{NUMBER})(?:\s*%?\s*(?:-|–|—|to|bis|à|tot|até)\s*(?P<b>{NUMBER})|"
                     rf"\s+(?:and|und|et|en|y|e|a)\s+(?P<b2>{NUMBER}))?\s*%", re.I)


def commission_in(doc: Doc, topics: list[str | None]) -> tuple[list[CommissionTerm], list[str]]:
    """The text's commission entries, merged per offer, and the verbatim units they came from."""
    found: list[tuple[str, str | None, bool, Decimal | None, Decimal | None, bool | None]] = []
    evidence: list[str] = []
    for i, unit in enumerate(doc.units):
        heading = doc.units[i - 1].text if i and unit.first_in_line and doc.units[i - 1].heading else ""
        text = normalise(unit.text)
        if topics[i] == "example" or HYPOTHETICAL.search(text):
            continue
        in_section = topics[i] == "commission" or bool(CUE.search(heading))
        terms = _candidates(text, in_section)
        if terms:
            found += terms
            evidence.append(doc.span(i - 1, i) if heading and not CUE.search(text) else unit.raw)
    return _merged(found), evidence


def _candidates(text: str, in_section: bool) -> list[tuple]:
    found = []
    parts = clauses(text)
    sentence_cue = bool(CUE.search(text)) or in_section
    for clause in parts:
        cookie = COOKIE.search(clause)  # "£15 per sale with a 30 day cookie": only what comes before it
        clause = clause[:cookie.start()] if cookie and cookie.start() > 0 else clause
        cue = CUE.search(clause)
        if not (cue or (sentence_cue and (len(parts) == 1 or in_section))):
            continue
        recurring = True if RECURRING.search(clause) else False if ONE_TIME.search(clause) else None
        if recurring is None and len(parts) > 1 and sum(bool(PERCENT.search(p) or MONEY.search(p)) for p in parts) == 1:
            recurring = True if RECURRING.search(text) else False if ONE_TIME.search(text) else None
        percents = list(PERCENT.finditer(clause))
        for match in percents:
            if _DISCOUNT_AFTER.search(clause[match.end():]) or _DISCOUNT_BEFORE.search(clause[:match.start()]):
                continue
            if _NOT_PAY.search(clause) and not cue:
                continue
            low, high = number(match["a"]), number(match["b"] or match["b2"] or "") if match["b"] or match["b2"] else None
            if low is None or low > 100 or (high is not None and high > 100):
                continue
            if high is not None and high <= low:  # "40% and 20%": two rates, not a range
                found.append(("percent", None, False, high, None, recurring))
                high = None
            found.append(("percent", None, bool(match["upto"]), low, high, recurring))
        if percents:
            continue
        for match in MONEY.finditer(clause):
            before = clause[max(0, match.start() - 40):match.start()]
            if _NOT_REWARD.search(before) or _NOT_REWARD.search(clause[match.end():match.end() + 20]):
                continue
            if not (_FLAT_CUE.search(clause) or in_section) or _DISCOUNT_AFTER.search(clause[match.end():]):
                continue
            currency = currency_of(match)
            low, high = money_values(match)
            if currency is None or low is None or (high is not None and high <= low):
                continue
            found.append(("flat", currency, bool(match["upto"]), low, high, recurring))
    return found


def _merged(found: list[tuple]) -> list[CommissionTerm]:
    """One entry per kind of offer: percent, flat per currency, each recurring or not."""
    groups: dict[tuple, list[tuple]] = {}
    for kind, currency, upto, low, high, recurring in found:
        groups.setdefault((kind, currency, recurring is True), []).append((upto, low, high, recurring))
    merged = []
    for (kind, currency, recurring), values in groups.items():
        lows = [low for upto, low, _, _ in values if not upto]
        highs = [v for upto, low, high, _ in values for v in ((low, high) if not upto else (high or low,)) if v is not None]
        low, high = (min(lows) if lows else None), max(highs)
        if low is not None and high <= low:
            high = None
        said = {r for *_, r in values}
        merged.append(CommissionTerm(type=kind, value_min=low, value_max=high, currency=currency,
                                     recurring=True if recurring else (False if said == {False} else None)))
    return merged


def commission(text: str | None) -> list[CommissionTerm]:
    """Commission terms from text that is about commission (a directory's "Commission" column)."""
    return _merged([c for clause in clauses(normalise(" ".join((text or "").split())))
                    for c in _candidates(clause, True)])
