"""Whether a commission repeats: said beside its figure (`recurring_at`: "30% recurring", "for 12 months", "one-time")
or anywhere the text speaks of the offer (`RECURRING`)."""

import bisect
import re

from affiliate_matrix.terms.text import Pattern

# A figure's clause is read at most this far either side of it, so that a hostile unit of thousands of figures
# costs its length, not its length squared (no real clause comes near it).
REACH = 200

# A commission that repeats. "As long as", "solange", "tant que" … count only with the customer or the
# subscription they are about; on their own they are everywhere in terms.
_WHILE_CUSTOMER = (r"(?:as long as|while|solange|tant que|mientras|zolang|enquanto)\s+(?:\w+\s+){0,3}?"
                   r"(?:customers?|clients?|referrals?|users?|subscri\w*|accounts?|members?|kund\w*|abonn\w*|"
                   r"cliente?s?|klant\w*|usu[áa]rio\w*|assinat\w*|utilisateur\w*|usuario\w*)")
STRONG_RECURRING = Pattern(
    r"recurr|wiederkehrend|r[ée]current|recurrente|terugkerend|recorrente|lifetime (?:commissions?|revenue|earnings|"
    r"of (?:the|your) (?:customer|client|account|referral))|for (?:the )?life(?:time)? of|for life\b|lebenslang|"
    r"auf lebenszeit|a vita\b|per tutta la vita|[àa] vie|de por vida|levenslang|vital[íi]ci|renewals?|"
    r"verl[äa]ngerung|renouvellement|renovaci[óo]n|verlenging|renova[çc]",
    re.I)
RECURRING = Pattern(
    rf"{STRONG_RECURRING.pattern}|{_WHILE_CUSTOMER}|every (?:renewal|payment|rebill|billing)|"
    r"each (?:payment|renewal)|all (?:of )?(?:their|the customer's) (?:future )?payments|rebills?|"
    r"subsequent (?:payments|fees|renewals|months|invoices|billing)|future (?:subscription )?payments|continue to earn|"
    r"for (?:up to )?(?:the )?(?:first |following |next |subsequent )?\d+ (?:months|years)|"
    r"(?:during|over) (?:the )?(?:period of |first )?\d+ "
    r"(?:months?|years?)|each month (?:they|the customer|your)|every month (?:they|the customer|your)|"
    r"jede[nrs]? (?:verl[äa]ngerung|zahlung)|gesamte laufzeit|f[üu]r \d+ monate|"
    r"chaque (?:renouvellement|paiement)|tout r[èe]glement|dans les \d+ (?:mois|ans)|pendant \d+ (?:mois|ans)|"
    r"cada (?:renovaci[óo]n|pago)|durante (?:\d+|los primeros \d+) (?:meses|a[ñn]os)|"
    r"elke (?:verlenging|betaling)|gedurende \d+ (?:maanden|jaar)|"
    r"toda a vida|para sempre|\bforever\b|f[üu]r immer|pour toujours|para siempre|voor altijd|"
    r"cada (?:renova[çc][ãa]o|pagamento)|durante \d+ meses", re.I)
_RENEWAL = (r"(?:recurr|wiederk|r[ée]curr|terugk|recorr|renewals?|verl[äa]ngerung|renouvellement|renovaci[óo]n|"
            r"verlenging|renova[çc])")
# "Renewals are not commissionable", "(excluding renewals)": the text says the commission does not recur.
NOT_RECURRING = Pattern(rf"\b(?:no|not|non|kein\w*|pas de|sin|geen|sem|n[ãa]o|exclud\w*|except|ohne|hors|zonder|"
                         rf"ausgenommen|ausgeschlossen)\b\W+(?:\w+\W+){{0,2}}?{_RENEWAL}|"
                         rf"{_RENEWAL}\w*\W+(?:\w+\W+){{0,2}}?(?:not|excluded|exclu\w*|ausgeschlossen|no)\b", re.I)
ONE_TIME = Pattern(
    r"one[\s-]?time|one[\s-]?off|(?:first|1st) (?:payment|month|purchase|order|invoice|sale|subscription)|"
    r"initial (?:payment|purchase|subscription)|einmalig|erste[nrm]? (?:monat|zahlung|bestellung)|im ersten monat|"
    r"unique|premi(?:er|[èe]re) (?:mois|paiement|commande)|[úu]nic[ao]|primer (?:pago|mes)|eenmalig|"
    r"eerste (?:maand|betaling|bestelling)|primeir[ao] (?:m[êe]s|pagamento|compra)", re.I)


def recurring_at(clause: str, match: re.Match, figures: tuple[list[int], list[int]], single: bool) -> bool | None:
    """Whether the rate repeats, from what follows it up to the next figure ("30% one-time 10% recurring"),
    else what precedes it, else (when it is the clause's only figure) the whole clause. `figures`: where every
    figure of the clause starts, and where each ends (both ascending: figures do not overlap)."""
    starts, ends = figures
    later = bisect.bisect_left(starts, match.end())
    following = starts[later] if later < len(starts) else len(clause)
    earlier = bisect.bisect_right(ends, match.start())
    preceding = ends[earlier - 1] if earlier else 0
    for part in (clause[match.end():min(following, match.end() + REACH)],
                 clause[max(preceding, match.start() - REACH):match.start()], clause if single else ""):
        if RECURRING.search(part) and not NOT_RECURRING.search(part):
            return True
        if ONE_TIME.search(part):
            return False
    return None

