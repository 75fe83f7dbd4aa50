"""Whether a commission repeats: said beside its figure (`recurring_at`: "30% recurring", "for 12 months", "one-time"),
or said of the referred customer anywhere the text speaks of the offer (`customer_stays`: the customer stays the
affiliate's for life, or the pay goes on with their later business)."""

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
# "Recurring customers" are repeat buyers and "a recurring discount" is the customer's: neither says the pay repeats.
# A renewal that is one ("your next renewal", "your renewal", where a credit is applied) is no recurrence either.
_NOT_OF_PAY = (r"(?!\w*\s+(?:customers?|clients?|buyers?|shoppers?|visitors?|users?|donors?|discounts?|kunden|"
               r"k[äa]ufer|rabatt\w*|clientes?|compradores?|klanten|korting|descuentos?|descontos?|remises?|"
               r"r[ée]ductions?|sconto|clienti))")
STRONG_RECURRING = Pattern(
    rf"(?:recurr|wiederkehrend|r[ée]current|recurrente|terugkerend|recorrente){_NOT_OF_PAY}|"
    r"(?<!\bnext )(?:renewals|(?<!\byour )renewal|verl[äa]ngerung|renouvellement|renovaci[óo]n|verlenging|renova[çc])|"
    r"lifetime (?:commissions?|revenue|earnings|of (?:the|your) (?:customer|client|account|referral|player|user|"
    r"member|subscriber))|"
    r"for (?:the )?life(?:time)? of|for life(?:time)?\b(?! (?:access|support|warranty|licen[cs]e|updates?|guarantee|"
    r"membership|deal|plan))|lebenslang|"
    r"auf lebenszeit|a vita\b|per tutta la vita|[àa] vie|de por vida|levenslang|vital[íi]ci", re.I)
RECURRING = Pattern(
    rf"{STRONG_RECURRING.pattern}|{_WHILE_CUSTOMER}|every (?:renewal|payment|rebill|billing)|"
    r"each (?:payment|renewal)|all (?:of )?(?:their|the customer's) (?:future )?payments|rebills?|"
    r"subsequent (?:payments|fees|renewals|months|invoices|billing)|future (?:subscription )?payments|continue to earn|"
    r"for (?:up to )?(?:the )?(?:first |following |next |subsequent )?\d+ (?:months|years)|"
    # "with over 10 years of experience" is the merchant's age, not the pay's run
    r"(?:during|over) (?:the )?(?:period of |first )?\d+ "
    r"(?:months?|years?)\b(?! (?:of (?:experience|business|history|expertise|operation)|in business))|"
    r"each month (?:they|the customer|your)|every month (?:they|the customer|your)|"
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
    # `normalise` writes "one" as "1" before any field reads the text: "one-time" arrives as "1-time"
    r"\b(?:one|1)[\s-]?(?:time|off)\b|(?:first|1st)(?:[\s-]time)? "
    r"(?:payment|month|purchase|order|invoice|sale|subscription|transaction)|"
    r"initial (?:payment|purchase|subscription|transaction)|einmalig|erste[nrm]? (?:monat|zahlung|bestellung)|"
    r"im ersten monat|"
    # French "unique" only after the pay: "une commission unique"; a "unique referral link" or "code unique" is no
    # one-time pay
    r"(?:commission|paiement|prime|versement|bonus|montant|r[ée]mun[ée]ration|forfait)s?\s+uniques?\b|"
    r"premi(?:er|[èe]re) (?:mois|paiement|commande)|[úu]nic[ao]|primer (?:pago|mes)|eenmalig|"
    r"eerste (?:maand|betaling|bestelling)|primeir[ao] (?:m[êe]s|pagamento|compra)", re.I)


# Said of the commission, the pay is once: renewals excluded, or a first payment "only" ("Payout applies to the
# initial transaction only", "only on the first payment"; not "unlike programs that only pay a one-time fee").
_ONLY = (r"(?:only|solely|exclusively|nur|ausschlie(?:ß|ss)lich|uniquement|seulement|solo|s[óo]lo|[úu]nicamente|"
         r"apenas|somente|alleen|enkel|soltanto)")
_ONCE_ONLY = Pattern(rf"(?:{ONE_TIME.pattern})\W+(?:\w+\W+){{0,2}}?{_ONLY}\b|\b{_ONLY}\W+(?:(?:on|for|to|the|their|a|"
                     rf"auf|f[üu]r|die|den|sur|pour|la|le|en|el|para|na|no|op|de|di|sul|sulla|il)\W+){{0,3}}"
                     rf"(?:{ONE_TIME.pattern})", re.I)


def denies_recurrence(sentence: str) -> bool:
    """Whether `sentence` says the commission does not repeat, and says no recurrence of its own beside the denial
    ("10% of all fees as long as the account stays active (domain renewals are not part of the program)")."""
    denial = NOT_RECURRING.search(sentence) or _ONCE_ONLY.search(sentence)
    rest = sentence[:denial.start()] + " " + sentence[denial.end():] if denial else ""
    return bool(denial) and not (RECURRING.search(rest) or customer_stays(rest))


_ALSO = Pattern(r"\b(?:also|too|as well|likewise|auch|ebenfalls|aussi|[ée]galement|tambi[ée]n|igualmente|ook|"
                r"anche)\b", re.I)


def extends_to_renewals(clause: str) -> bool:
    """Whether `clause` extends what was said before it to renewals ("this also applies to renewals")."""
    return bool(_ALSO.search(clause) and STRONG_RECURRING.search(clause) and not NOT_RECURRING.search(clause))


# A sum said right after its figure to be paid per customer kept and per month ("£2 per referred member per month",
# "$3 per active seat per month"): paid again each month the customer stays. Only right after the figure, so that a
# price said so elsewhere in the clause ("plans from $9 per user per month") makes no rate recurring.
_PER_CUSTOMER_MONTHLY = Pattern(r"^\s*per (?:\w+\s+)?(?:members?|users?|subscribers?|clients?|customers?|accounts?|"
                                r"referrals?|seats?|licen[cs]es?)\W+(?:per|a|each|every) month\b", re.I)


def recurring_at(clause: str, match: re.Match, figures: tuple[list[int], list[int]], single: bool) -> bool | None:
    """Whether the rate repeats, from what follows it up to the next figure ("30% one-time 10% recurring"),
    else what precedes it, else (when it is the clause's only figure) the whole clause. `figures`: where every
    figure of the clause starts, and where each ends (both ascending: figures do not overlap)."""
    starts, ends = figures
    later = bisect.bisect_left(starts, match.end())
    following = starts[later] if later < len(starts) else len(clause)
    earlier = bisect.bisect_right(ends, match.start())
    preceding = ends[earlier - 1] if earlier else 0
    if _PER_CUSTOMER_MONTHLY.match(clause[match.end():match.end() + 60]):
        return True
    for part in (clause[match.end():min(following, match.end() + REACH)],
                 clause[max(preceding, match.start() - REACH):match.start()], clause if single else ""):
        if RECURRING.search(part) and not NOT_RECURRING.search(part):
            return True
        if ONE_TIME.search(part):
            return False
    return None


# The referred customer stays the affiliate's: a customer the affiliate brought, or one bound to them, and a
# lifetime said of that bond ("new customers you acquire will be linked to your account for a lifetime", "they will
# remain your customer forever", "Kunden bleiben Ihnen lebenslang zugeordnet", "le client vous reste attribué à vie").
# Each later purchase of theirs pays, so the commission repeats. Three notions (the customer, the lifetime, the
# affiliate or the pay: "Provisionssätze gelten für den Lebenszeitwert des Kunden") must meet in one sentence;
# "lifetime" as an adjective counts only before a customer or the pay ("lifetime access", "lifetime warranty" are the
# product's).
_CUSTOMER = (r"(?:customers?|clients?|referrals?|users?|members?|buyers?|players?|kund\w*|client[ei]|cliente?s?|klant\w*|"
             r"usu[áa]ri\w*|utilisateurs?|filleuls?|indicad\w*|referid\w*|geworben\w*|patrocinad\w*|acquirent\w*)")
_FOR_LIFE = (r"(?:for (?:a |their |the |your )?life(?:time)?\b(?! (?:access|support|warranty|licen[cs]e|updates?|"
             r"guarantee|membership|deal|plan))|lifetime (?=customer|client|referral|commission|earning|revenue)|"
             r"forever|for ever\b|lebenslang\w*|auf lebenszeit|lebenszeitwert|f[üu]r immer|"
             r"[àa] vie\b|pour toujours|de por vida|para siempre|vital[íi]ci\w*|para sempre|"
             r"levenslang|voor altijd|a vita\b|per sempre)")
# A lifetime of a loss is a ban, not a bond: "fake users get your account closed for life", "exclu à vie".
_LOSS = Pattern(r"\b(?:ban\w*|suspend\w*|clos\w*|terminat\w*|forfeit\w*|los[et]\w*|remov\w*|exclu\w*|block\w*|"
                r"gesperrt|sperr\w*|verl[io]er\w*|ausgeschlossen|perd\w*|bann\w*|suspendu\w*|pierde\w*|"
                r"bloquead\w*|suspendid\w*|expuls\w*|verliest|verloren|geblokkeerd|uitgesloten|bloccat\w*|"
                r"sospes\w*|escluso)", re.I)
_AFFILIATE_SIDE = (r"(?:\byou\b|\byour|\byours\b|affiliates?|partners?|dealers?|referrers?|referred|acquired|"
                   r"comm?iss?i?on\w*|provision\w*|provisie\w*|comisi[óo]n\w*|comiss[ãa]o|comiss[õo]es|"
                   r"provvigion\w*|"
                   r"\bihnen\b|\bdir\b|\bdein\w*|\bihr(?:e|em|en)?\b|geworben|vermittelt|empfohlen|zugeordnet|"
                   r"\bvous\b|\bvotre\b|\bvos\b|parrain\w*|rattach\w*|attribu[ée]\w*|"
                   r"\btus?\b|\bte\b|\bti\b|usted|referid\w*|vinculad\w*|asociad\w*|"
                   r"voc[êe]|\bseus?\b|\bsuas?\b|indicad\w*|"
                   r"\bjij\b|\bjou\b|\bjouw\b|\buw\b|aangebracht|geworven|gekoppeld|"
                   r"\btuoi?\b|\bvoi\b|segnalat\w*|legat[oi]|associat[oi])")
_CUSTOMER_KEPT = Pattern(rf"{_CUSTOMER}\W+(?:\w+\W+){{0,8}}?{_FOR_LIFE}|"
                         rf"{_FOR_LIFE}\W+(?:\w+\W+){{0,4}}?{_CUSTOMER}", re.I)
_AFFILIATE = Pattern(_AFFILIATE_SIDE, re.I)
# How the affiliate's bringing a customer is said: "the customers you refer", "people you invited".
_YOU_REFER = r"(?:who |that )?you (?:have )?(?:referred|refer|introduced|introduce|brought|bring|invited|invite)\b"
# The pay goes on with the referred customer's later business: "you will continue to receive commissions", "for the
# first 3 orders", "every transaction of the referred user", "Erst- und Folgegeschäfte", "cada vez que tu referido
# gane". Not any "each sale" or "every order": those are the affiliate's sales, each paid once.
_LATER_BUSINESS = Pattern(
    r"continu\w* to (?:receive|earn|get|be paid)|keep (?:earning|receiving) (?:commission|\d|a |on )|"
    r"for (?:the|their) (?:first|next) \d+ (?:orders|purchases|transactions|payments|sales|bookings)|"
    r"(?:every|each|all (?:of )?(?:the )?)\s?(?:their|his|her|the referred \w+'s|your referrals'?|"
    r"(?:the )?referred \w+'s) (?:future |later |subsequent )?(?:orders|purchases|transactions?|payments?|trades?|"
    r"fees)|(?:every|each|all|any) (?:the )?(?:future |later |subsequent )?(?:orders?|purchases?|transactions?|"
    r"payments?|trades?|fees?) (?:\w+ ){0,5}?(?:of|by|from) (?:the |a |an |your |their )?(?:referee|referred \w+|"
    r"referrals?|invited \w+|friends?|(?:users?|customers?|clients?|members?|persons?|people|players?) (?:(?:who|that) "
    rf"(?:registered|signed up|joined)|{_YOU_REFER}))\b|"
    # The pay said to include renewals, or the first sale (so the later ones too): "This includes fees for automatic
    # subscription renewals", "30% on any service we provide to any client you refer, that includes the initial sale".
    r"(?<!\bnot )(?<!n['’]t )\b(?:includ\w*|einschlie(?:ß|ss)lich|inklusive|y compris|inclu[iíy]\w*|inclusief|"
    r"met inbegrip van|inclus[oiae]|compres[oiae]) (?:\w+ ){0,4}?(?:renewals|verl[äa]ngerungen|renouvellements|"
    r"renovaciones|renova[çc][õo]es|verlengingen|rinnovi|(?:the|der|des|la|a|de|il) (?:initial|first|erste\w*|"
    r"premi[èe]re|primer[ao]?|eerste|prima) (?:sale|purchase|order|payment|kauf\w*|bestellung|zahlung|vente|commande|"
    r"venta|compra|pago|venda|pagamento|verkoop|aankoop|bestelling|vendita|acquisto|ordine))\b|"
    r"folge(?:gesch[äa]ft|bestellung|auftr[äa]g|k[äa]uf)\w*|(?:alle|jede) (?:zuk[üu]nftigen?|weiteren?|"
    r"folgenden?) (?:bestellung|k[äa]uf|zahlung|umsatz)\w*|"
    r"continue\w* (?:[àa] )?(?:percevoir|recevoir|toucher|gagner)|(?:toutes|chacune de) (?:ses|leurs) "
    r"(?:futures? |prochaines? )?(?:commandes|achats|transactions|factures)|"
    r"seguir[áa]s? (?:recibiendo|ganando|cobrando)|cada vez que (?:tu|su) (?:\w+ ){1,2}(?:gane|compre|pague|renueve)|"
    r"(?:todas|cada una de) (?:sus|las) (?:futuras |pr[óo]ximas )?(?:compras|transacciones|operaciones) "
    r"(?:de (?:tus?|sus?|los) )?(?:referid|invitad|amig|client)|"
    r"continuar[áa]s? (?:a )?(?:receber|ganhar)|cada (?:taxa|transa[çc][ãa]o|compra|opera[çc][ãa]o) (?:\w+ ){0,4}"
    r"(?:indicad|referid|convidad)\w*|todas as (?:futuras )?(?:compras|transa[çc][õo]es) (?:d[oa]s? )?(?:indicad|"
    r"referid|convidad|client)\w*|"
    r"blijf\w* (?:\w+ )?(?:ontvangen|verdienen)|(?:alle|elke) (?:toekomstige |volgende )?(?:bestellingen|aankopen|"
    r"transacties|bestelling|aankoop|transactie) van (?:je |jouw |uw |de )?"
    r"(?:aangebracht|doorverwez|geworven|klant)\w*|"
    r"continuer[àa]i? a (?:ricevere|guadagnare)|(?:tutti|ciascuno de)i? (?:i )?(?:suoi|loro) (?:futuri |successivi )?"
    r"(?:ordini|acquisti)", re.I)


# The pay is a share of each payment the referred customer makes: a payment, a fee, an invoice or a transaction, each
# or every or any of them ("any time we receive a payment from someone they refer", "every successful payment from the
# customers you have introduced", "any subscription payments that they make", "cada taxa de saque paga por usuários
# indicados", "mensalidades pagas pelos lojistas", "por cada transação feita por eles"). A payment repeats where an
# order or a sale need not: those stay the affiliate's sales, each paid once.
_EACH = (r"(?:\bevery|\beach|\bany|\ball|whenever|\bcada|\btod[oa]s|\bchaque|\btoute?s|\bjede[nrs]?|\balle|\belke|"
         r"\bogni|\btutt[ei])")
_PAYMENT = (r"(?:payments?|fees?|invoices?|transactions?|trades?|pagos?|pagamentos?|taxas?|tarifas?|transa[cç]\w*|"
            r"faturas?|facturas?|paiements?|factures?|frais|zahlung\w*|rechnung\w*|geb[üu]hr\w*|transaktion\w*|"
            r"betaling\w*|facturen|transacties|pagament\w*|transazion\w*)")
# A monthly fee is a payment that repeats by its name: "mensalidades pagas pelos lojistas".
_MONTHLY_FEES = r"(?:monthly (?:fees|payments|subscriptions)|mensalidades|mensualidades|mensualit[ée]s|monatsbeitr\w*)"
_REFERRED_MAKER = (r"(?:\b(?:they|he|she) (?:make|makes|made|pay|pays|paid)\b|(?:someone|anyone|people|customers?|"
                   r"clients?|users?|members?|friends?|those) (?:\w+ ){0,2}?(?:you|they|who|that) (?:have |has )?"
                   r"(?:refer|introduc|invit|brought|bring|sen[dt])\w*|\b(?:by|from) (?:(?:any|one|1|each|all) of )?"
                   r"(?:your |the |their )?"
                   r"(?:referr?(?:al|ed|ee)|invited|introduced)\w*|"
                   r"(?:pag[oa]s?|feit[oa]s?|realizad[oa]s?|hech[oa]s?|efectuad[oa]s?) (?:por|pel[oa]s?) "
                   r"(?:\w+ )?(?:eles|elas|ellos|ellas|indicad\w*|referid\w*|convidad\w*|invitad\w*|clientes|"
                   r"usu[áa]rios|lojistas|comerciantes|assinantes|suscriptores)|"
                   r"(?:pay[ée]e?s?|effectu[ée]e?s?) par (?:vos |les |leurs? )?(?:filleul|parrain[ée]|client)\w*|"
                   r"(?:von|durch) (?:ihren|deinen|den) (?:geworbenen|vermittelten|empfohlenen) \w+|"
                   r"door (?:je |jouw |uw |de )?(?:aangebracht|doorverwez|geworven)\w*|"
                   r"(?:da|dai|dagli) (?:tuoi |suoi )?(?:segnalat|invitat|referral)\w*)")
# The referred one said first, paying each time: "each time the referred customer makes a payment", "every time your
# referrals pay their invoice", "whenever a client you referred renews".
_REFERRED = (r"(?:referred \w+|referees?|referrals?|invited \w+|(?:customers?|clients?|users?|members?) (?:who |that )?"
             r"(?:you )?(?:have )?(?:referred|introduced|brought))")
_REFERRED_PAYS = (rf"{_EACH}\W+(?:time\W+|that\W+){{0,2}}(?:(?:the|a|an|your|their|(?:one|1) of your) {_REFERRED}|"
                  rf"(?:customers|clients|users|members) {_YOU_REFER}|referrals|referees)\W+"
                  r"(?:\w+\W+){0,2}?(?:pays?|paid|renews?|is billed|settles? (?:an |a |their |its )?invoices?|"
                  r"makes? (?:a |an )?(?:\w+ )?payment)\b")
_PAID_BY_REFERRED = Pattern(rf"(?:{_EACH}\W+(?:\w+\W+){{0,6}}?{_PAYMENT}|{_MONTHLY_FEES})\W+(?:\w+\W+){{0,5}}?"
                            rf"{_REFERRED_MAKER}|{_REFERRED_PAYS}", re.I)


def customer_stays(sentence: str) -> bool:
    """Whether `sentence` says the referred customer stays the affiliate's, or that the pay goes on with their later
    business: the commission repeats."""
    kept = _CUSTOMER_KEPT.search(sentence)
    return bool(_LATER_BUSINESS.search(sentence) or _PAID_BY_REFERRED.search(sentence)
                or (kept and _AFFILIATE.search(sentence) and not _LOSS.search(sentence)))
