"""Commission: what the affiliate earns. Every percentage and amount is a candidate; its clause says
whether it is the affiliate's (a commission word, "per sale", a commission section) or something
else (a customer discount, a conversion rate, a threshold, a price, an example's result). What is
left merges into one entry per distinct offer: one percent range, one flat range per currency, a
recurring rate apart from a one-time one."""

import re

from affiliate_matrix.models import CommissionTerm
from affiliate_matrix.terms.cookie import COOKIE
from affiliate_matrix.terms.text import (MONEY, NUMBER, OTHER_PROGRAMS, Doc, Pattern, before_example, clauses, currency_of,
                                        money_values,
                                        normalise, number)
from affiliate_matrix.terms.pay_subject import UPTO, reward_of, said_of_pay, subject_not_pay
from affiliate_matrix.terms.recurrence import (NOT_RECURRING, REACH, RECURRING, customer_stays, denies_recurrence,
                                              extends_to_renewals, recurring_at)

# The referrer described rather than named, as refer-a-friend terms say it in the third person: "the referring
# customer / agent / member", "the person who referred them", "the member who made the referral".
_REFERRER_SAID = (r"\breferring (?:customers?|clients?|members?|users?|agents?|part(?:y|ies)|partners?|persons?|"
                  r"companies|company|account ?holders?)|"
                  r"\b(?:(?:person|customer|client|member|user|party)s?|one|1) who (?:referred|refers|(?:made|makes|gave|gives) "
                  r"the (?:referral|reference))\b(?: \w+)?")

# Who is paid decides: a figure in a clause where the affiliate receives it (you, the partner, the affiliate, the
# referrer as subject of a verb of getting) or where the merchant pays it is the affiliate's, whatever the noun
# ("partners get 60 %", "Sie sind mit 5 % beteiligt", "wir zahlen 10%", "otterrai il 15%"). Who else gets something
# (a friend, a customer) is `_CUSTOMER_GETS`' business; what is got but is no pay (a discount, a threshold) is the
# figure's own test. A determiner before "pays" makes it the French country, not the English verb.
_PAYEE = (rf"(?:\byou|\bvous|\bsie\b|\bdu\b|\btu\b|\busted|voc[êe]|\bu\b|\bjij\b|\bvoi\b|affiliates?|partners?|"
          rf"referrers?|{_REFERRER_SAID}|publishers?|parrain|padrinho|padrino|afiliad[oa]s?|affiliat[oi]|werber|ambos|"
          r"both(?: of you)?|beide[n]?)\W+(?:\w+\W+){0,3}?"
          r"(?:get|gets|receive|receives|are paid|be paid|is paid|are credited|be credited|"
          r"(?:are|be|is) (?:rewarded|given|awarded|compensated|eligible (?:for|to receive))|obtains?|erh[äa]lt\w*|bekomm\w*|"
          r"beteiligt|gutgeschrieben|re[çc]oi\w*|recev\w*|touche\w*|obtien\w*|obtendr\w*|recib\w*|receb\w*|"
          r"ontvang\w*|krijg\w*|ricev\w*|ottien\w*|otterr\w*|percepisc\w*)\b|"
          r"\b(?:otterrai|riceverai|guadagnerai|recibir[áa]s|obtendr[áa]s|receber[áa]s|recevrez|obtiendrez|"
          r"toucherez|erh[äa]ltst|bekommst)\b|"
          r"\b(?:we|wir|nous|nosotros|n[óo]s|wij|we'll|noi)\s+(?:\w+\s+){0,2}?"
          r"(?:pay|paying|transfer|zahlen|[üu]berweisen|payons|versons|virons|pagamos|transferimos|betalen|"
          r"paghiamo|verg[üu]ten)\b|"
          # whoever gives, the affiliate is given: "we'll reward you with $300", "the program will send you a bonus"
          r"\b(?:we|will|['’]ll|shall)\s+(?:also\s+)?(?:give|reward|send|credit|award)\s+you\b(?!\s+access)|"
          r"\b(?:gives|rewards|sends|credits|awards)\s+you\b(?!\s+access)|"
          r"\b(?:zahlen|verg[üu]ten|betalen|payons|versons|pagamos|paghiamo) (?:wir|wij|nous|n[óo]s|noi)\b|"
          r"\bbeteiligt\b|"
          r"(?<!\ble )(?<!\bdu )(?<!\bde )(?<!\bau )(?<!\ben )(?<!\bvotre )(?<!\bles )(?<!\bdes )(?<!\bce )"
          r"\b(?:pays|zahlt|paie|verse|paga|betaalt)\b(?! (?:out|aus)\b)")

# Who a figure is for, named right after it: "jusqu'à 150 euros pour le parrain", "$20 for you and $20 for your
# friend", "10 € für den Werber, 5 € für den Geworbenen". The referrer named makes the figure the affiliate's whatever
# its clause says, the friend makes an amount theirs. A determiner is required: "$5 for each friend" is a bounty.
_FOR = r"^\s*(?:for|pour|f[üu]r|para|voor|per)\s+"
_FOR_REFERRER = Pattern(
    rf"{_FOR}(?:you(?:rself)?\b|vous\b|toi\b|dich\b|(?:the|le|la|l['’]|den|dem|el|o|de|il|lo)\s*"
    r"(?:referrers?|affiliates?|partners?|parrain|marraine|werber|empfehlungsgeber|padrinho|padrino|referente|"
    r"verwijzer|aanbrenger)\b)", re.I)
_FOR_FRIEND = Pattern(
    rf"{_FOR}(?:the|your|le|la|l['’]|ton|ta|votre|den|dem|die|deine\w*|ihre\w*|el|tu|su|o|a|seu|sua|de|je|jouw|uw|"
    r"il|tuo|tua)\s*(?:new\s+|nouveau\s+|neue\w*\s+)?(?:friends?|referees?|referred \w+|invitees?|filleul\w*|"
    r"ami[es]?|freund\w*|geworbene\w*|amig[oa]s?|ahijad[oa]s?|referid[oa]s?|indicad[oa]s?|afilhad[oa]s?|vriend\w*|"
    r"amic[oa]|amici|customers?|kunden?|neukund\w*|clients?|clientes?|klant\w*)\b(?!['’]s)", re.I)


def _said_for_pay(before: str, after: str, amount: bool = False) -> bool:
    """Whether a figure is said of the affiliate's pay: as its subject, as the reward's complement (an amount), or as
    what the referrer is given."""
    return said_of_pay(before) or (amount and reward_of(before)) or bool(_FOR_REFERRER.match(after))


def _subject_in(text: str) -> bool:
    """Whether any figure of `text` is said of the affiliate's pay as its subject or as the referrer's."""
    return any(_said_for_pay(text[max(0, m.start() - 80):m.start()], text[m.end():m.end() + 40],
                             not m.group().rstrip().endswith("%"))
               for m in _CANDIDATE.finditer(text))


CUE = Pattern(
    rf"{_PAYEE}|"
    r"comm?iss?i?ons?|commsision|commissie|comisi[óo]n(?:es)?|comiss(?:[ãa]o|[õo]es)|provision(?:en)?|provisie|"
    r"verg[üu]tung|vergoeding|r[ée]mun[èée]r|provvigion|commission[ei]\b|\bricev|\bguadagn|(?:per|su) ogni vendita|"
    r"remuneraci[óo]n|remunera[çc][ãa]o|revenue[\s-]?share|rev[\s-]?share|"
    r"revenue split|profit[\s-]share|umsatzbeteiligung|bount(?:y|ies)|\bcp[alsoi]\b|\bpp[ls]\b|"
    r"payouts? (?:per|of|for)|\btier|"
    r"\b(?:rate|payout|tarif|tasa|taxa|tarief|satz)\s*[:|]\s*(?:up to\s*)?\d|"
    r"\bearn|\bverdien|\bgagne[zr]?\b|\bgana[rs]?\b|ganar[áa]s|\bganh[ae]r?\b|ganhe\b|we pay|pay(?:s)? you|"
    r"you(?:'ll| will)? (?:get|receive)|\byou earn|erh[äa]ltst|erhalten|bekommst|bekommen|recevez|recevrez|"
    r"touchez|"
    r"recibir[áa]s?|recibe|ontvang|receb[ae]|belohn|"
    r"\bper (?:\w+ ){0,2}(?:sale|order|referral|lead|sign[\s-]?up|customer|conversion|install|subscriber|account|"
    r"purchase|booking|friend)|\bfor referring\b|"
    r"\bper referred\b|"  # "$25 per referred client": the unit of business is the one referred
    r"pay[\s-]per[\s-](?:lead|sale|click|sign[\s-]?up|install|action)|\bwe offer\b|"
    r"\boffers? (?:a |an |up to )?\d|recurr|wiederkehrend|r[ée]current|recurrente|terugkerend|recorrente|\bfor (?:each|"
    r"every)\b|\bpro (?:\w+ )?(?:verkauf|sale|bestellung|lead|neukunde|vermittlung|abschluss)|referral fee|"
    r"\bon (?:each|every|all) (?:\w+ ){0,2}?(?:sales?|orders?|purchases?|subscriptions?|payments?|referrals?|"
    r"friends?)\b|"
    r"\bje (?:verkauf|sale)|"
    r"f[üu]r jede[nrs]?\b|par (?:vente|commande|lead|inscription|client)|pour chaque|por (?:cada|venta|pedido|"
    r"registro)|"
    r"per (?:verkoop|bestelling|aanmelding|klant)|voor (?:elke|iedere)|por (?:venda|cadastro)|"
    r"of (?:each|every|the|all|all the)? ?(?:sales?|orders?|purchases?|payments?|subscriptions?|net|revenue|"
    r"the (?:order|sale))\b|des (?:umsatzes|warenkorb|netto)|vom (?:umsatz|netto)|du (?:chiffre|montant)|"
    r"del (?:importe|valor|total)|van de (?:omzet|orderwaarde)|do valor|sobre (?:as |o )?(?:vendas?|valor)", re.I)
_DISCOUNT = (r"off\b|discount|rabatt|nachlass|erm[äa]ßigung|skonto|r[ée]duction|remise|descuento|korting|desconto|"
             r"sconto|promotional discount")
# A discount named after its percentages: "20% off", "a 10%, 15% or 20% promotional discount".
_DISCOUNT_AFTER = Pattern(
    rf"^(?:\s*(?:,|/|\bor\b|\band\b|\boder\b|\bou\b|\bo\b|\bof\b)\s*{NUMBER}\s*%)*\s*"
    rf"(?:(?!of\b|on\b|de\b|du\b|von\b|auf\b|sur\b|sobre\b|op\b|van\b|do\b|da\b)[^\W\d]+\s+){{0,2}}(?:{_DISCOUNT}|"
    rf"de (?:r[ée]duction|remise|descuento|desconto))", re.I)
_DISCOUNT_BEFORE = Pattern(r"(?:discount|save|saving|spar(?:en|t)?|rabatt|nachlass|gutschein|coupon|voucher|"
                              r"promo|r[ée]duction|remise|descuento|cup[óo]n|korting|desconto|cupom|off)\b[^%]{0,25}$",
                              re.I)
# A percentage of something that is not the affiliate's pay.
_NOT_PAY = Pattern(
    r"withholding|backup|\bheld\b|reserve|returned|refunded|cancell?ed|storniert|retourn|devuelt|geretourneerd|"
    r"devolvid|\bon\s+\d+(?:[.,]\d+)?\s*%\s*of|"
    r"conversion|\bctr\b|approval|storno|cancell?ation rate|return rate|refund rate|churn|\bvat\b|mwst|\bust\b|"
    r"\btva\b|\biva\b|\bbtw\b|\btax\b|steuer|growth|increase|\bmore\b|satisf|interest|\bapr\b|(?<!referral )\bfees?\b|geb[üu]hr|"
    r"\bfrais\b|tarifa|\bkosten\b|of (?:our |all )?(?:affiliates|publishers|partners|customers|users|visitors|"
    r"traffic|people)|market share|margin|marge|margen|reduc|deduct|withh[oe]ld|chargeback|penalt|abzug|abgezogen|"
    r"gek[üu]rzt|r[ée]duit|d[ée]duit|reducid|descontad|verlaagd|ingehouden|reduzid|"
    r"%\s*(?:free|kostenlos|gratuit|gratis|gr[áa]tis|secure|sicher|s[ée]curis)", re.I)
# A share of the affiliate's own commissions or of orders, not a rate ("100% of approved commissions", "5% of orders
# are returned", "70% of our customers return"). A share of what the referred earn is the referral offer of sites that
# pay their users ("10% of earnings from all referrals", "10% of the earnings of your referred users").
_SHARE_OF = Pattern(r"\s*of (?:the |your |our |all |approved |confirmed |validated )*(?:(?P<own>commissions?|earnings|"
                    r"payouts?|balance)|orders|sales|purchases|customers)\b(?! (?:you|they|your)\b)"
                    r"(?! (?:from|of|by|made by|generated by) (?:all |your |the |each |every )?(?:direct )?"
                    r"(?:referrals?|referred|referees?|friends?|invitees?)\b)", re.I)
# Figures about other people's earnings: an average, a market, the best affiliates.
_AVERAGE = Pattern(rf"{OTHER_PROGRAMS}|average|on average|\baverages?\b|durchschnitt|en moyenne|promedio|gemiddeld|\bm[ée]dia\b|"
                      r"top affiliates|most affiliates|typically|typisch|in der regel|g[ée]n[ée]ralement|"
                      r"normalmente|doorgaans|sommige|some (?:programs|companies|merchants)|manche|"
                      # what is usual in general, not this program's term: "(en général 30% …)", "in genere oscilla"
                      r"\busually\b|\bgenerally\b|\bin general\b|en g[ée]n[ée]ral|in genere|di solito|solitamente|"
                      r"generalmente|por lo general|em geral|geralmente|im allgemeinen|[üu]blicherweise|meestal|"
                      r"over het algemeen|gewoonlijk", re.I)
# What other affiliates earn: the rest of the sentence is about them too ("… ligt tussen de 5% en 15%, maar
# kan oplopen tot 30-50%").
_OTHERS_EARN = Pattern(r"average (?:affiliate )?(?:commission|earning|payout)|"
                       r"(?:affiliates|partners) (?:typically |usually )?"
                          r"earn (?:on )?average|gemiddelde (?:affiliate[\s-]?)?commissie|durchschnittliche? provision|"
                          r"commission moyenne|comisi[óo]n media|comiss[ãa]o m[ée]dia|industry (?:average|standard)|"
                          r"in (?:the industry|nederland|deutschland|france|espa[ñn]a|brasil)", re.I)
# An amount that is a threshold, a price, a balance or a bonus for joining, not a reward for a referral.
_NOT_REWARD = Pattern(
    r"minimum|\bmin\b|threshold|reach|\bhits?\b|balance|at least|accumulat|qualify|mindest|auszahlungsgrenze|schwelle|"
    r"\bab\b|erreich|seuil|[àa] partir d|\bdès\b|m[íi]nimo|umbral|drempel|minimaal|vanaf|limite|exceed|passes|"
    r"achieve|greater than|more than|less than|equal to|\bover\b|above|below|\bunder\b|"
    r"price|cost|order value|orders? (?:over|above|of)|spend|sales (?:value|of)|turnover|bestellwert|"
    r"warenkorb|preis|prix|precio|prijs|pre[çc]o|valor do pedido|/\s?(?:m|mo|mth|month|y|year|yr|jahr|monat)\b|"
    r"charge|(?<!referral )(?<!finder's )\bfees?\b|geb[üu]hr|frais|tarifa|cargo|kosten|taxa|deduct|abgezogen|d[ée]duit|deducid|"
    r"inferior|superior|weniger als|mehr als|moins de|plus de|menos de|m[áa]s de|minder dan|meer dan|"
    # "under" as the other languages say it, right before the amount ("onder de 10 EUR", "unter 50 €")
    r"(?:\bunter(?:halb)?|en[\s-]dessous de|au[\s-]dessous de|\bsous|por debajo de|\bbajo|abaixo de|\bonder de|"
    r"\bbeneden|al di sotto d[ei]|\bsotto(?:\s+(?:i|le|gli))?)(?=\s*(?:$|[$€£]|eur\b|\d))|"
    r"=\s*$|which is|that'?s|makes|maakt|ergibt|soit|equals|would be|would earn|you'?d earn|could earn|"
    r"should be|w[üu]rde|w[äa]re|serait|ser[íi]a|zou|"
    r"per (?:month|year)|a month|gesammelt|collected|earned|have earned|sammelt|saldo|guthaben|"
    r"for joining|sign[\s-]?up bonus|welcome bonus|startbonus|bonus de bienvenue|b[ôo]nus inicial|"
    r"^\s*(?:or (?:more|higher|above)|(?:und|oder) mehr|ou plus|o m[áa]s|of meer|ou mais)", re.I)
# The reward itself: when such a notion is nearer an amount than any of `_NOT_REWARD`'s, the amount is what is
# paid, not a threshold or a balance ("a credit for $9.99" but "once your credit balance reaches $20"; "your $30
# credit"; "un bono de Bs. 50,00 a su balance": the balance it is paid into).
_REWARD = Pattern(
    r"cr[ée]dit\w*|bonus\w*|b[ôo]nus|bono|bonifica\w*|pr[äa]mie|\bprime|premio|pr[êe]mio|rewards?|r[ée]compense|"
    r"recompensa|beloning|tegoed|gutgeschrieben|gutschrift|"
    r"\b(?:to|into|a|auf|sur|op|aan|para|sul)\s+(?:your|su|tu|votre|ton|ihr\w*|dein\w*|uw|je|seu|sua|il tuo)\s+"
    r"(?:account|balance|saldo|guthaben|konto|compte|cuenta|conta|rekening)", re.I)


# An amount counted in commissions or in sales is a sum earned or sold ("$50 in commissions", "$100+ in commission",
# "R$ 80,00 em comissões válidas", "$250 of approved sales", "$500 an Provisionen"): a threshold, a tier's volume or
# an example's total, never the offer, unless what it is paid for follows ("$5 in commission per sale").
_SUM_OF = Pattern(r"^\+?\s*(?:in|of|an|em|en|de|di|aan|d')\s+(?:[^\W\d]+\s+)?"
                  r"(?:comm?iss?i?ons?|comiss(?:[ãa]o|[õo]es)|comisi[óo]n(?:es)?|commission[ei]|provvigion[ei]|"
                  r"provision(?:en)?|provisies?|commissies?|earnings|ganhos|ganancias|gains|sales|revenue|ventas|vendas|"
                  r"ventes|vendite|ums[äa]tz(?:e|en)?|omzet)\b(?P<rest>.*)", re.I)


# The commission's noun with the amount as its complement, "eine Provision von 50,00 €", "a commission of $40": the
# noun is the notion nearest the amount, whatever threshold comes before it ("ab 10 Mitarbeitern"), unless the threshold
# qualifies the noun itself ("a minimum commission of $50") or is its verb ("when you reach a commission of $50").
_COMMISSION_OF = Pattern(r"(?:comm?iss?i?on|provision|provisie|commissie|comisi[óo]n|comiss[ãa]o|provvigione|"
                         r"verg[üu]tung|vergoeding)\s+(?:of|von|in h[öo]he von|de|d['’]|van|di|del|da)\s*$", re.I)


_PER_MONTH = Pattern(r"\s*(?:/\s?(?:m|mo|mth|month|monat|mois|mes|maand|m[êe]s|mese)\b|(?:per|a|pro|par|al|por|each|"
                    r"every) (?:month|monat|mois|mes|maand|m[êe]s|mese)\b)", re.I)


def _threshold(before: str, after: str) -> bool:
    """Whether the notion nearest an amount, before it or right after it, is a threshold, a price or a balance
    rather than the reward."""
    counted = _SUM_OF.match(after)
    if counted and not _BOUNTY_AFTER.match(counted["rest"]):
        return True
    after = after[:25]
    named = _COMMISSION_OF.search(before)
    named = named and not (subject_not_pay(before[:named.start()]) or _NOT_REWARD.search(before[:named.start()][-15:]))
    blocking, reward = _NOT_REWARD.search(after[:20]), _REWARD.search(after)
    # "a residual commission of $50/month": per month said of the commission's own amount is how often it is paid,
    # not a price's period
    if blocking and not (reward and reward.start() <= blocking.start()) and not (named and _PER_MONTH.match(after)):
        return True
    if named:
        return False
    last_block = max((m.end() for m in _NOT_REWARD.finditer(before)), default=-1)
    last_reward = max((m.end() for m in _REWARD.finditer(before)), default=-1)
    return last_block > last_reward


# What the customer gets, not the affiliate: "your referrals get 10% off their first order", "new customers
# receive $20 credit". Such a clause carries no commission unless it names one itself.
_CUSTOMER_GETS = Pattern(
    r"\b(?:customers?|clients?|friends?|referrals?|referred (?:users?|customers?|friends?)|users?|visitors?|"
    r"audience|followers?|readers?|buyers?|shoppers?|new (?:users?|members?)|they|kund(?:en|innen)|freunde|"
    r"clientes?|amigos?|klanten|vrienden|utilisateurs?|amis?|"
    # the one referred, as refer-a-friend terms name them: "the invited person", "le filleul", "der Geworbene"
    r"referees?|invitees?|invited (?:persons?|people|friends?|users?|members?)|filleul(?:e|s|es)?|geworbene\w*|"
    r"empfohlene\w*|referid[oa]s?|indicad[oa]s?|convidad[oa]s?|pessoa convidada|persona invitada|invitad[oa]s?|"
    r"genodigde\w*|invitat[oi])\s+(?:\w+\s+){0,2}?"
    r"(?:get|gets|receive|receives|save|saves|enjoy|enjoys|erhalten|bekommen|sparen|re[çc]oivent|b[ée]n[ée]ficient|"
    r"obtienen|reciben|ahorran|krijgen|ontvangen|besparen|ganham|recebem|economizam|"
    r"erh[äa]lt|bekommt|re[çc]oit|recevra\w*|recibe|recibir[áa]n?|recebe|receber[áa]o?|ontvangt|krijgt|riceve|"
    r"ricever[àa]|riceveranno|ottiene|ganha)\b", re.I)
# The referrer among those who get: "you and your friend both receive a €25 credit", "Sie und Ihr Freund erhalten
# jeweils 20 €", "ambos recibirán": the customer's clause is the referrer's too.
_REFERRER_TOO = Pattern(
    rf"{_REFERRER_SAID}|"
    r"\b(?:you|sie|du|vous|tu|t[úu]|usted|jij|u|voc[êe]) (?:and|und|et|y|en|e) (?:your|ihr\w*|dein\w*|votre|ton|ta|"
    r"tu|su|je|jouw|uw|il tuo|la tua|seu|sua)\b|\bboth\b|\beach of you\b|\bambos\b|\bambas\b|\btous (?:les )?deux\b|"
    r"\bvous deux\b|\bbeide[n]?\b|\bjeweils\b|\ballebei\b|\bentrambi\b|\bvoc[êe]s dois\b", re.I)
# The buyer pays: a price, not pay ("El cliente paga el 100% del precio", "Você paga: R$ 82"). Such a clause carries
# no commission unless it names one itself.
_BUYER_PAYS = Pattern(
    r"\b(?:customers?|clients?|buyers?|shoppers?|users?|you|vous|sie|du|tu|usted|voc[êe]|u|jij|kund\w*|clientes?|"
    r"klant\w*|utilisateurs?|usuari[oa]s?)\W+(?:\w+\W+){0,2}?"
    r"(?:pay|pays|(?:be)?zahl(?:en|st|t)|pa(?:ie|yez|yer)\w*|pag(?:a|as|an|am|ue|ar)\b|betaal\w*|betalen|paghi\w*)\b",
    re.I)
_COMMISSION_WORD = Pattern(
    r"comm?iss?i?ons?|commissie|comisi[óo]n|comiss[ãa]o|provision|provisie|verg[üu]tung|revenue[\s-]?share|"
    r"\byou(?:'ll| will)? (?:earn|get|receive|make)|\bearn|verdienst|verdien|gagne|ganar|ganh|bount", re.I)
_BOUNTY_AFTER = Pattern(
    r"\s*(?:per|/|for (?:each|every|a|an)|pro|je|par|por|para cada|pour chaque|voor (?:elke|iedere)|f[üu]r jede[nrs]?)"
    r"\s+(?:\w+\s+)?(?:lead|sale|sign[\s-]?up|referral|customer|install|registration|conversion|subscriber|account|"
    r"trial|verkauf|neukunde|anmeldung|registrierung|vente|inscription|client|venta|registro|cliente|verkoop|"
    r"aanmelding|klant|venda|cadastro)", re.I)
_FLAT_CUE = Pattern(
    r"\bper\b|\bfor (?:each|every)\b|\bpro\b|\bje\b|f[üu]r jede|\bpar\b|pour chaque|por cada|\bpor\b|voor (?:elke|"
    r"iedere)|"
    r"bount(?:y|ies)|\bcp[alsoi]\b|\bpp[ls]\b|fixed|flat|fest(?:betrag|provision)|fixum|pauschal|fixe|forfait|"
    r"fij[ao]|vast|"
    r"fix[ao]|"
    r"bonus|pr[äa]mie|prime|premio|pr[eê]mio|\b(?:one|1)[\s-]?time", re.I)
# An amount said as a flat offer of its own: what it is paid for follows it ("£25 for a qualified lead", "$30 per
# sign-up", "$25 each", "$10 for referring a new member"), or a bounty's word names it ("Fixed bounty: $50", "a fixed
# $0.20", "a $100 flat commission", "a £50 bonus after the 5th referral"), or it is said of the affiliate's pay. Beside
# a rate, an amount said none of these ways is a price, a charge, an example's result, a held or forfeited payment, a
# balance or a band of a tier table, not a second offer (`commission_in`).
_BOUNTY_SAID_AFTER = Pattern(
    r"^\s*(?:[\w-]+\s+){0,2}?(?:per\b|each\b|(?:for|on) (?:each|every|a|an|any)\b|"
    r"for referring (?:a|an|one|1|each|every|new|your)\b|pro\b|je\b|par\b|por\b|para cada\b|"
    r"pour chaque\b|voor (?:elke|iedere)\b|f[üu]r jede|bount|bonus|b[ôo]nus|bono|flat\b|fixed\b|fix[eo]?\b|"
    r"cp[alsi]\b|pp[ls]\b|comm?iss?i?on|provis|commissie|comisi[óo]n|comiss[ãa]o|pr[äa]mie|prime\b|premio|"
    r"reward)", re.I)
_BOUNTY_SAID_BEFORE = Pattern(r"(?:bount\w*|fixed|flat|fixe|fijo|fixo|cp[alsi]|pp[ls]|bonus|b[ôo]nus|bono|pr[äa]mie|"
                              r"referral fee|finder['’]s fee|pays? you)\W*(?:\w+\W+){0,2}$", re.I)
# An upper bound said otherwise than `UPTO` right before the figure: "up to a 40%", "as much as 40%", "a maximum of
# $120", "fino al 30%", "höchstens 20 %", "maximaal 10%"; or the pay's highest figure said as a subject ("the highest
# possible commission you can receive is 35%", "la commission maximale est de 30 %").
_CEILING = Pattern(
    r"(?:\b(?:up to an?|as much as|(?:a |the )?maximum of|fino a[l']?|fino a un|h[öo]chstens|au maximum|au plus|"
    r"no m[áa]ximo|como m[áa]ximo|maximaal)\s*|"
    r"\b(?:highest|maximum|h[öo]chste\w*|maximale?\w*|plus [ée]lev[ée]e?|m[áa]xim[oa]|massim[oa])\s+"
    r"(?:[\w'’-]+\s+){0,8}?(?:is|are|will be|ist|liegt bei|betr[äa]gt|est(?: de)?|es(?: de)?|[ée](?: de)?|"
    r"[èe](?: del?| pari al?)?|bedraagt)\s+(?:(?:of|de|di|van|um|del|al)\s+)?)"
    r"(?:[$€£]|r\$)?\s?$", re.I)
# An amount said as a cap: a maximum right after it ("$75 commission max", "$500 maximum earning"), or a cap word
# before or after it with a total or a year as its span ("a limit of 20 referrals ($500 maximum earning) per calendar
# year", "may earn up to $100 in rewards through this program", "höchstens 300 € pro Jahr"). A cap per referral is
# the offer's top; a cap on what the affiliate earns in all is no offer.
_CAPPED_AFTER = Pattern(r"^\s*(?:[\w-]+\s+)?(?:max(?:imum)?|cap|limit)\b", re.I)
_CAP = Pattern(r"\b(?:max(?:imum|\.)?|cap(?:ped)?|limit(?:ed)?|up to|may earn|h[öo]chst\w*|bis zu|maximal|plafon\w*|"
               r"jusqu['’]\s?[àa]|tope|hasta|l[íi]mite|m[áa]xim[oa]|at[ée]|limiet|maximaal|massim[oa]|fino a)\b", re.I)
_TOTAL_SPAN = Pattern(r"\b(?:per (?:calendar |fiscal )?year|per annum|a year|each year|every year|annually|in total|"
                      r"total|through (?:this|the) program(?:me)?|per referrer|pro (?:kalender)?jahr|im jahr|insgesamt|"
                      r"par an|par ann[ée]e|au total|por año|al año|en total|por ano|no total|per jaar|in totaal|"
                      r"all['’]anno|in totale)\b", re.I)


def _cap_of_total(before: str, after: str, upto: bool = False) -> bool:
    """Whether an amount is a cap on what the affiliate earns in all, not a reward (`_CAPPED_AFTER`). `upto`: the
    amount's own "up to" (MONEY's)."""
    return bool((upto or _CAP.search(before[-40:]) or _CAPPED_AFTER.match(after)) and
                (_TOTAL_SPAN.search(after[:60]) or _TOTAL_SPAN.search(before[-60:])))


# Fees as the base a rate is a share of, right after it: "35% of their fees", "from the platform service fees", "des
# frais de négociation", "der Handelsgebühren", "de las tarifas", "das taxas", "delle commissioni", "van de kosten".
_FEE_BASE = Pattern(r"\s*(?:of|from|on|des|sur les|der|von den|de (?:los|las)|das|dos|sobre as|delle|dei|sulle|"
                    r"van de|op de)\s+(?:[\w'’-]+\s+){0,3}?(?:fees|frais|\w*geb[üu]hren|tarifas|taxas|tariffe|"
                    r"\w*kosten)\b", re.I)
_OTHER_DOLLAR = Pattern(r"(?<![^\W\d_])[A-Z]{1,2}$")
PERCENT = Pattern(rf"(?P<upto>{UPTO}\s*)?(?P<a>{NUMBER})(?:\s*%?\s*(?:->|→|-|–|—|to|bis|à|al|tot|até)\s*(?P<b>{NUMBER})|"
                     rf"\s+(?:and|und|et|en|y|e|a)\s+(?P<b2>{NUMBER}))?\s*%", re.I)
_CANDIDATE = Pattern(re.sub(r"\(\?P<\w+>", "(?:", f"{PERCENT.pattern}|{MONEY.pattern}"), re.I)  # any figure


def commission_in(doc: Doc, topics: list[str | None]) -> tuple[list[CommissionTerm], list[str]]:
    """The text's commission entries, merged per offer, and the verbatim units they came from."""
    found: list[tuple] = []
    quoted: list[tuple[list[tuple], str]] = []  # each unit's figures and the text they came from
    recurring_said, recurrence_denied, customer_kept, last_rated = False, False, False, -1
    for i, unit in enumerate(doc.units):
        heading = doc.units[i - 1].text if i and unit.first_in_line and doc.units[i - 1].heading else ""
        text = before_example(unit.norm, _OTHERS_EARN)
        if topics[i] == "example" or not text.strip():
            continue
        # "Provision: 12 %. Neukunden: 15 %.": a short sentence after a rate goes on listing rates.
        follows_rate = bool(found) and not unit.first_in_line and last_rated == i - 1 and len(text.split()) <= 6
        rates_line = ((_rates_line(text) or _table_row(doc, i)) and _about_commission(doc, i))
        in_section = (topics[i] == "commission" or bool(CUE.search(heading)) or follows_rate or _rate_row(text)
                      or rates_line)
        # A question ("What about recurring orders?") asks whether the pay repeats; its answer says. A text that
        # says its commission does not recur ("no recurring commissions") makes no rate recurring by a word elsewhere.
        about_pay = CUE.search(text) or in_section
        if about_pay and RECURRING.search(text) and not (
                COOKIE.search(text) or NOT_RECURRING.search(text) or text.rstrip().endswith("?")):
            recurring_said = True
        recurrence_denied |= bool(about_pay and denies_recurrence(text))
        # The customer said to stay the affiliate's, in a sentence about the offer or right after its rates ("15%
        # commission. Moreover, new customers you acquire stay linked to your account for a lifetime.").
        if (CUE.search(text) or in_section or last_rated == i - 1) and customer_stays(text) and not (
                COOKIE.search(text) or NOT_RECURRING.search(text)):
            customer_kept = True
        terms = _candidates(text, in_section, doc.dollar, rates_line)
        if _BOUNTY_SAID_BEFORE.search(heading):  # "Fixed Bounty" over "$100.00": the heading names the amount
            terms = [(*entry[:6], True) for entry in terms]
        if terms:
            found += terms
            last_rated = i
            quoted.append((terms, doc.span(i - 1, i) if heading and not CUE.search(text) else unit.raw))
    # Beside a rate, only amounts said as bounties are offers (`_BOUNTY_SAID_AFTER`).
    rate_given = any(kind == "percent" for kind, *_ in found)
    quoted = [([entry for entry in terms if not rate_given or entry[0] == "percent" or entry[6]], quote)
              for terms, quote in quoted]
    found = [entry for terms, _ in quoted for entry in terms]
    evidence = [quote for terms, quote in quoted if terms]
    return _merged(found, recurring_said and not recurrence_denied, customer_kept), evidence


# A table row whose label names what a rate or an amount is paid on ("New customer sale | 12%", "Lead: 5 €"): the
# label is the row's cue. A rate or amount of anything else ("Conversion rate: 3.2%", "Minimum order: $50") is not.
_RATE_ROW = Pattern(rf"^\W*(?P<label>[^:|\d][^:|]{{0,40}}?)\s*[:|]\s*(?:{UPTO}\s*)?"
                    rf"(?:(?:{NUMBER})\s*%|{MONEY.pattern})\W*$", re.I)
_RATE_RUN_ROW = Pattern(rf"^\W*[^:|\d\W][^:|\d]{{0,30}}?\s*[:|]\s*(?:{UPTO}\s*)?(?:{NUMBER})\s*%\W*$", re.I)
_ROW_LABEL = Pattern(r"\b(?:sales?|leads?|orders?|customers?|clients?|sign[\s-]?ups?|tier|level|stufe|niveau|nivel|"
                     r"categor\w*|kategorie|plans?|products?|produkte?|neukunden?|bestandskunden?|verkauf|bestellung|"
                     r"ventes?|ventas?|verkoop|bestelling|vendas?|pedidos?|klant\w*|kund\w*|abonnements?|"
                     r"subscriptions?|renewals?)\b", re.I)


def _rate_row(text: str) -> bool:
    row = _RATE_ROW.match(text)
    return bool(row and _ROW_LABEL.search(row["label"]) and not (_NOT_PAY.search(row["label"])
                                                                 or _AVERAGE.search(row["label"])))


def _table_row(doc: Doc, index: int) -> bool:
    """Whether unit `index` is a line of a label and one rate or amount ("Gold: 2%", "Platinum | 3 %") beside another
    such line: a run of them is a table, whose rates are the offer's when the text before it is about commission
    (`_about_commission`), whatever its labels name (ranks, plans, countries)."""
    def row(n: int) -> bool:
        return 0 <= n < len(doc.units) and doc.units[n].first_in_line and bool(_RATE_RUN_ROW.match(doc.units[n].norm))
    return row(index) and (row(index - 1) or row(index + 1))


# A line of nothing but rates, bare ("10 % 15 % 20 % 25 % |", a tier table's row) or each with what it is paid on
# ("5% for vacation packages, 4% for tours and 3% for hotels"): it lists one offer's rates when the text before it
# is about commission (`_about_commission`). A line naming an amount ("5% for orders over €100") is a table of order
# values, not of rates. A table row may open with a label naming whose rates they are ("Affiliate Percentage 1% 2%
# 3%", "Partner rate | 10% | 15%").
_RATE_LABEL = Pattern(r"^(?:affiliate|partner|referral|referrer|publisher|payout|reward)\s+"
                      r"(?:percentages?|rates?|shares?)$", re.I)
_RATE_FOR = Pattern(r"^(?:for|on|auf|f[üu]r|bei|sur|pour|en|para|sobre|op|voor|bij|per|su|em|no|na|nos|nas|in)\s"
                    r"[^%|]*$", re.I)
_GLUE = " \t\n,;|/()*+.:-–—"  # stripped with str methods, not a pattern: a hostile run of them costs its length
_AND = {"and", "und", "et", "y", "e", "en", "o", "or", "oder", "ou", "of"}


def _rates_line(text: str) -> bool:
    rates = list(PERCENT.finditer(text))
    if len(rates) < 2 or MONEY.search(text):
        return False
    starts = [0] + [m.end() for m in rates]
    pieces = [text[start:after.start()] for start, after in zip(starts, rates)] + [text[rates[-1].end():]]
    for n, piece in enumerate(pieces):  # between two rates: nothing, or what the first is paid on and "and"
        body = piece.strip(_GLUE)
        last = body.rsplit(None, 1)
        if len(last) == 2 and last[1].lower() in _AND:
            body = last[0].rstrip(_GLUE)
        said_of = _RATE_LABEL.match(body) if n == 0 else _RATE_FOR.match(body)
        if body and body.lower() not in _AND and not said_of:
            return False
    return True


# What a notion before a line of rates names: the commission's, or a customer's discount, a price, a fee or a tax.
_OTHER_RATE = Pattern(rf"{_DISCOUNT}|price|preis|prix|precio|prijs|pre[çc]o|prezz|\bvat\b|\btax|steuer|mwst|"
                      r"\biva\b|\btva\b|\bbtw\b|\bfees?\b|geb[üu]hr|\bfrais\b|\bcosts?\b|kosten|interest|zins|"
                      r"conversion", re.I)


def _about_commission(doc: Doc, index: int) -> bool:
    """Whether the nearest line before unit `index` that names a notion (other lines of rates, table rules and
    labels pass) names the commission rather than a discount, a price, a fee or a tax."""
    for unit in reversed(doc.units[max(0, index - 12):index]):
        if _OTHER_RATE.search(unit.norm):
            return False
        if CUE.search(unit.norm):
            return True
    return False


def _candidates(text: str, in_section: bool, dollar: str = "USD", rates_line: bool = False) -> list[tuple]:
    """The figures of `text` that are the affiliate's pay. `rates_line`: the text is a line of rates under a text about
    commission, which is its every clause's cue."""
    found = []
    cued = bool(CUE.search(text)) or in_section or _subject_in(text)
    if not cued:
        return found
    rated = 0
    for clause in clauses(text):
        # A figure is the affiliate's only where its clause says so, or its section does; a clause that goes
        # on listing rates ("… Domain (5%) and Hosting (20%)", "30% on the first sale, 20% on renewals")
        # leans on the one before it. The far end of a long sentence is about something else.
        listed = len(found) - rated
        listing, rated = listed > 0, len(found)
        # "25% on the first purchase, and this also applies to renewals": a clause with no figure of its own that
        # extends the rates before it to renewals makes them recurring.
        if listing and not _CANDIDATE.search(clause) and extends_to_renewals(clause):
            found[-listed:] = [(*entry[:5], True, *entry[6:]) for entry in found[-listed:]]
        # A clause cued by nothing but a figure said of the pay ("the reward is 20% over that 0.3%") gives that
        # figure alone.
        by_subject = not (in_section or listing or CUE.search(clause))
        if _AVERAGE.search(clause) or (by_subject and not _subject_in(clause)):
            continue
        cookie = COOKIE.search(clause)  # "£15 per sale with a 30 day cookie": only what comes before it
        clause = clause[:cookie.start()] if cookie and cookie.start() > 0 else clause
        cue = CUE.search(clause) or rates_line
        customer_gets = _CUSTOMER_GETS.search(clause) and not _REFERRER_TOO.search(clause)
        if (customer_gets or _BUYER_PAYS.search(clause)) and not _COMMISSION_WORD.search(clause):
            continue
        spans = [m.span() for m in _CANDIDATE.finditer(clause)]
        figures = ([start for start, _ in spans], [end for _, end in spans])
        single, flat_cued, not_pay = len(spans) == 1, bool(_FLAT_CUE.search(clause)), bool(_NOT_PAY.search(clause))
        percents = list(PERCENT.finditer(clause))
        for match in percents:
            before, after = clause[max(0, match.start() - REACH):match.start()], clause[match.end():match.end() + REACH]
            said = _said_for_pay(before, after)
            if _DISCOUNT_AFTER.search(after) or _DISCOUNT_BEFORE.search(before) or (by_subject and not said):
                continue
            # "35% of their fees", "20 % des frais de trading": the fees are the base the rate is a share of, not
            # what the figure is; what follows them still counts.
            base = _FEE_BASE.match(after)
            near = clause[max(0, match.start() - 30):match.end()] + (after[base.end():][:15] if base else after[:15])
            share = _SHARE_OF.match(after)
            if share and (share["own"] or not _COMMISSION_WORD.search(before)):
                continue
            if (_NOT_PAY.search(near) or (not_pay and not cue)) and not said:
                continue
            low, high = number(match["a"]), number(match["b"] or match["b2"]) if match["b"] or match["b2"] else None
            # A lone 0% is a pay withdrawn or a category that earns nothing ("commissions set to 0%"), no offer.
            if low is None or low > 100 or (high is not None and high > 100) or (low == 0 and high is None):
                continue
            recurring = recurring_at(clause, match, figures, single)
            if high is not None and high <= low:  # "40% and 20%": two rates, not a range
                found.append(("percent", None, False, high, None, recurring))
                high = None
            found.append(("percent", None, bool(match["upto"] or _CEILING.search(before)), low, high, recurring))
        for match in MONEY.finditer(clause):
            before, after = clause[max(0, match.start() - REACH):match.start()], clause[match.end():match.end() + REACH]
            # Beside a rate, an amount is a bounty of its own only when it says what it is paid for ("€10 per
            # lead + 5% per sale"); otherwise it is the rate's base or result ("50% ($24.50) of each sale").
            if percents and not (_BOUNTY_AFTER.match(after) and before.count("(") <= before.count(")")):
                continue
            said = _said_for_pay(before, after, amount=True)
            if _cap_of_total(before, after, bool(match["upto"])):
                continue
            if _FOR_FRIEND.match(after) or ((_threshold(before, after) or by_subject) and not said):
                continue
            if not (said or flat_cued or cue or (in_section and len(clause.split()) <= 8)) or _DISCOUNT_AFTER.search(
                    after):
                continue
            # A bare "$" glued to a mark of one or two capitals that no dollar of `currency_of` is ("T$500" trade
            # dollars, "J$", "RD$") is some other currency, not the page's dollar. (A word glued to it, "EFINs$150",
            # is a table's cells run together.)
            if match["pre"] == "$" and _OTHER_DOLLAR.search(before):
                continue
            currency = currency_of(match, dollar)
            low, high = money_values(match)
            if currency is None or low is None or (high is not None and high <= low) or (low == 0 and high is None):
                continue  # a lone $0, as a lone 0%, is no offer
            bounty = said or bool(_BOUNTY_SAID_AFTER.match(after) or _BOUNTY_SAID_BEFORE.search(before))
            recurring = recurring_at(clause, match, figures, single)
            capped = bool(match["upto"] or _CEILING.search(before) or _CAPPED_AFTER.match(after))
            found.append(("flat", currency, capped, low, high, recurring, bounty))
    return found


def _merged(found: list[tuple], recurring_said: bool = False, customer_kept: bool = False) -> list[CommissionTerm]:
    """One entry per kind of offer: percent, flat per currency, each recurring or not. A rate said once
    plainly and once as recurring, or inside a recurring range, is one recurring offer; a lone rate in a text that
    says its commission recurs is recurring, and so is a lone offer of either kind in a text whose customers stay the
    affiliate's."""
    groups: dict[tuple, list[tuple]] = {}
    for kind, currency, upto, low, high, recurring, *_ in found:
        groups.setdefault((kind, currency, recurring is True), []).append((upto, low, high, recurring))
    for kind, currency, _ in list(groups):
        plain, repeating = groups.get((kind, currency, False)), groups.get((kind, currency, True))
        if plain is not None and repeating is not None and any(r is False for *_, r in plain):
            # Beside a one-time rate, a value said plainly that is also said recurring is the recurring offer said
            # again ("25% on first-time sales, plus 10% on recurring sales … We pay 25% for new customers and 10% for
            # returning ones"): only the one-time offer's values stay apart.
            again = {v[1:3] for v in repeating}
            plain[:] = [v for v in plain if v[3] is False or v[1:3] not in again]
        if plain is None or any(r is False for *_, r in plain):
            continue
        # Plain values inside a recurring range are its tiers said again ("15-25% recurring … Bronze 15%, Gold 20%");
        # so are plain values under a recurring "up to" ("up to 40% over the lifetime of your players", then a table
        # 28% … 40%), which widen it: one recurring offer either way.
        span = [b for _, low, high, _ in repeating or [] if high is not None for b in (low, high) if b is not None]
        tiers = bool(span) and all(min(span) <= b <= max(span) for _, low, high, _ in plain for b in (low, high)
                                   if b is not None)
        ceilings = [high or low for upto, low, high, _ in repeating or [] if upto]
        under = bool(ceilings) and all(v <= max(ceilings) for _, low, high, _ in plain for v in (low, high) if v is not None)
        # A recurring rate inside a plain range is that offer's recurrence said ("between 30%-40% commission … That
        # includes 40% on recurring sales"): one recurring offer, the range's.
        ranged = [b for _, low, high, _ in plain if high is not None for b in (low, high) if b is not None]
        within = bool(ranged) and all(min(ranged) <= b <= max(ranged) for _, low, high, _ in repeating or []
                                      for b in (low, high) if b is not None)
        if repeating is not None and ({v[1:3] for v in plain} <= {v[1:3] for v in repeating} or tiers):
            del groups[(kind, currency, False)]
        elif repeating is not None and (under or within):
            repeating += groups.pop((kind, currency, False))
        elif repeating is None and (customer_kept or (recurring_said and kind == "percent")):
            groups[(kind, currency, True)] = groups.pop((kind, currency, False))
    merged = []
    for (kind, currency, recurring), values in groups.items():
        lows = [low for upto, low, _, _ in values if not upto]
        highs = [v for upto, low, high, _ in values for v in ((low, high) if not upto else (high or low,))
                 if v is not None]
        low, high = (min(lows) if lows else None), max(highs)
        if low is not None and high <= low:
            high = None
        # A value said one-time once is one-time where it is said again plainly ("25% on first-time sales", then "a
        # 25% commission rate"): the offer is one-time when each of its values is said so somewhere.
        once = {v[1:3] for v in values if v[3] is False}
        merged.append(CommissionTerm(type=kind, value_min=low, value_max=high, currency=currency,
                                     recurring=True if recurring else (
                                         False if once and all(v[1:3] in once for v in values) else None)))
    return merged


def merged_terms(terms: list[CommissionTerm]) -> list[CommissionTerm]:
    """Several offers' terms (one merchant's offers a source lists apart) as one text's are merged (_merged): one
    entry per kind of offer, in the order the terms come. An entry made of one term alone is that term, its tiers
    kept."""
    found = [(t.type, t.currency, t.value_min is None, t.value_min, t.value_max, t.recurring) for t in terms]
    kept = []
    for entry in _merged(found):
        alone = [t for t in terms if t.model_copy(update={"tiers": []}) == entry]
        kept.append(alone[0] if len(alone) == 1 else entry)
    return kept


def commission(text: str | None) -> list[CommissionTerm]:
    """Commission terms from text that is about commission (a directory's "Commission" column)."""
    return _merged(_candidates(normalise(" ".join((text or "").split())), True))
