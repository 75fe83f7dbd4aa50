"""The pay named as the subject of a figure: "the reward is 20%", "Deze bonus bedraagt momenteel 0,25%", "O prêmio
será de R$ 80,00", "Your affiliate fee equals 30%". The noun a figure is said of decides whether it is the
affiliate's pay, whatever else its clause names; `commission` takes such a figure with no other cue."""

import re

from affiliate_matrix.terms.text import Pattern

# "up to": before the figure here, and the upper bound of commission's ranges.
UPTO = (r"\b(?:up to|bis zu|jusqu['’](?:à|a)|hasta(?: un)?|(?:oplopen )?tot(?: wel| maximaal)?|at[ée]|"
        r"max(?:imal|imum|\.)?)")
# What pays the affiliate, as nouns; the copulas that say a figure is it; adverbs that may stand between ("Deze bonus
# bedraagt momenteel 0,25%"). A threshold or a total before the noun ("the minimum payout is $50") makes the figure
# `_SUBJECT_NOT_PAY`'s.
_PAY_NOUN = (r"(?:rewards?|bonus(?:es)?|b[ôo]nus|bono|bonifica\w*|pr[äa]mie|prime|premio|pr[êe]mio|r[ée]compense|"
             r"recompensa|beloning|credit|cr[ée]dit[oa]?|comm?iss?i?ons?|provision|provisie|commissie|comisi[óo]n|"
             r"comiss[ãa]o|provvigione|verg[üu]tung|vergoeding|r[ée]mun[ée]ration|remunera(?:ci[óo]n|[çc][ãa]o)|"
             r"(?:affiliate|referral|partner|referrer) fees?|payouts?|earnings|verdienst|gains|ganhos|ganancias|"
             r"guadagno)")
_COPULA = (r"(?:is|are|will be|(?:is |will be )?equal to|equals|amounts? to|betr[äa]gt|betragen|liegt bei|"
           r"est(?: de)?|sera(?: de)?|s'[ée]l[èe]ve [àa]|es(?: de)?|ser[áa](?: de)?|asciende a|bedraagt|"
           r"ist|[ée] de|é|corresponde a|[èe](?: del?| pari al?)?|sar[àa](?: del?| pari al?)?|ammonta a)")
_ADVERB = (r"(?:currently|now|always|then|momenteel|nu|altijd|derzeit|aktuell|zurzeit|jeweils|actuellement|"
           r"toujours|actualmente|atualmente|attualmente|sempre|siempre)")
_SUBJECT_HEAD = (rf"\b{_PAY_NOUN}\s+(?:{_ADVERB}\s+)?{_COPULA}\s+(?:{_ADVERB}\s+)?"
                 rf"(?:(?:of|to|at|de|del|di|van|um|a|à|el|la|il|o|le|l')\s*)?(?:{UPTO}\s*)?")
# The figure right after the head: `before` ends where the figure starts.
_SAID_OF = Pattern(rf"{_SUBJECT_HEAD}(?:[$€£]|r\$|bs\.?)?\s?$", re.I)
# Not the pay's subject: a threshold, a total or an average said before it in the clause ("The minimum required
# commission for a payout is $100", "L'importo minimo del bonus è di 5 EUR"), or a noun that is a preposition's
# complement ("at the time of a payout is $20").
_SUBJECT_NOT_PAY = Pattern(r"minimum|\bmin\b|threshold|total|insgesamt|gesamt\w*|mindest\w*|seuil|m[íi]nim[oa]|"
                           r"umbral|drempel|minimale?|soglia|average|durchschnitt\w*|moyen\w*|\bmedio|gemiddeld\w*|"
                           r"m[ée]di[oa]|massim[oa]|maxim\w*|m[áa]xim[oa]|h[öo]chst\w*|"
                           r"\b(?:for|of|per|from|für|pour|para|voor|van)\s+(?:(?:a|an|the|la|le|el|het|de|der|die|"
                           r"das|un|une|uma|um|il|lo|your)\s+)?$", re.I)


# The referrer's reward with an amount as its complement: "the referral bonus of $50", "der Empfehler erhält eine Prämie
# in Höhe von 50 Euro", "une prime de parrainage de 25 €", "el padrino recibe un bono de 20 €". The reward must be said
# to be the referrer's, by its noun or by the referrer named before it (or among those who get it, "jeweils"): a bonus
# of a sum whoever gets it ("the platform offers a bonus of R$ 10" to the friend who joins) is not. Amounts only: "a
# bonus of 100%" is a casino's deposit match.
_REWARD_OF = Pattern(r"(?P<referral>\b(?:referral|referrer|refer-a-friend)\s+)?\b(?:rewards?|\w*bonus|b[ôo]nus|bono|"
                     r"\w*pr[äa]mie|prime|premio|pr[êe]mio|r[ée]compense|recompensa|\w*beloning|"
                     r"(?:referral|referrer|finder['’]s) fee)"
                     r"(?P<whose>\s+(?:de|di|por|per|voor) (?:parrainage|referidos?|indica[çc][ãa]o|presentazione|"
                     r"verwijzing|aanbreng\w*))?\s+(?:of|von|in h[öo]he von|im wert von|de|d['’]|d['’]un montant de|"
                     rf"d['’]une valeur de|por valor de|no valor de|van|ter waarde van|di|del valore di|da)\s*"
                     rf"(?:{UPTO}\s*)?(?:[$€£]|r\$|bs\.?)?\s?$", re.I)
_REFERRERS = Pattern(r"\b(?:referrers?|referring|empfehler\w*|empfehlungsgeber\w*|werber\w*|parrains?|marraines?|"
                     r"padrin[oh]o?s?|madrinas?|madrinhas?|referentes?|indicador\w*|verwijzers?|aanbrengers?|"
                     r"both|each of you|jeweils|beide[n]?|ambos|ambas|tous (?:les )?deux|allebei|entrambi)\b", re.I)
# Not the referrer's: a sum reached ("a cumulative reward of $100"), a bonus for joining or depositing.
_NOT_THE_REFERRERS = Pattern(r"(?:welcome|sign[\s-]?up|joining|deposit|willkommens|start|bienvenue|bienvenida|"
                             r"boas[\s-]vindas|welkoms|benvenuto|dep[óo]sito|einzahlung|cumulative|accumulated|"
                             r"kumuliert\w*|cumul[ée]e?|acumulad[oa])\W*(?:\w+\W+){0,1}$", re.I)


def reward_of(before: str) -> bool:
    """Whether an amount is said as the referrer's reward's complement ("the referral bonus of $50"), and not as a
    threshold's, a total's or a bonus for joining. `before`: the clause up to the amount."""
    before = before[-80:]
    noun = _REWARD_OF.search(before)
    if not noun or subject_not_pay(before[:noun.start()]) or _NOT_THE_REFERRERS.search(before[:noun.start()]):
        return False
    return bool(noun["referral"] or noun["whose"] or _REFERRERS.search(before[:noun.end()]))


def said_of_pay(before: str) -> bool:
    """Whether a figure is said of the affiliate's pay as its subject ("the reward is 20%"), and not of a threshold
    or a total of it ("the minimum payout is $50"). `before`: the clause up to the figure."""
    before = before[-80:]
    subject = _SAID_OF.search(before)
    return bool(subject) and not subject_not_pay(before[:subject.start()])


def subject_not_pay(before: str) -> bool:
    """Whether the clause before a noun of pay makes it a threshold's, a total's or an average's, or a preposition's
    complement ("the minimum", "for a")."""
    return bool(_SUBJECT_NOT_PAY.search(before))
