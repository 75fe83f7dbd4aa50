"""The cookie: how long a referral is credited to the affiliate (the tracking, attribution or
referral window). -1 lifetime, 0 session only. A duration counts only where the text says it is
the cookie's; a refund period, a payout delay or a trial is not."""

import re

from affiliate_matrix.terms.durations import DURATION, duration_days, figures
from affiliate_matrix.terms.text import EXAMPLE, OTHER_PROGRAMS, Doc, Pattern, before_example, clauses, normalise

# A window named by what it tracks and a word for a span, either order: "attribution window", "Tracking-Zeitraum",
# "Attributionsfenster", "fenêtre d'attribution", "ventana de atribución", "periodo di tracciamento".
_TRACK = (r"tracking|attribution|referral|(?:conversion|post[\s-]?click|look[\s-]?back|click[\s-]?through)"
          r"(?=[\s-]*(?:window|period))|verweil|suivi|seguimiento|atribuci[óo]n|rastreamento|"
          r"atribui[çc][ãa]o|tracciamento|attribuzione|attributie|r[ée]f[ée]rence|referencia|parrainage")
_SPAN = (r"period|window|duration|time|days?|length|dauer|zeitraum|fenster|frist|p[ée]riode|fen[êe]tre|dur[ée]e|"
         r"ventana|periodo|per[íi]odo|duraci[óo]n|janela|dura[çc][ãa]o|finestra|durata|venster|periode|termijn|duur")
# "Return Days: 30" labels a cookie (a network's column); a "return period" is for refunds.
COOKIE = Pattern(
    r"cookie[\s-]?(?:laufzeit|dauer|lebensdauer|lifetime|life|duration|length|window|period|validity|days?)|"
    r"cookie(?![\s-]*(?:dropping|stuffing|policy|richtlinie|banner|consent|einwilligung|hinweis))|"
    rf"\b(?:{_TRACK})[\s-]*s?(?:{_SPAN})|\b(?:{_SPAN})\s+(?:de|du|des|d'|di|del|della|dell'|do|da|van)\s*"
    rf"(?:la\s+|el\s+|le\s+|o\s+|a\s+|het\s+|de\s+)?(?:{_TRACK})|^\W*return days\b|tracked for|track(?:s|ed)? (?:sales|purchases|referrals|visitors) for|"
    r"durée de (?:vie )?(?:du |des |de )?(?:cookie|suivi)|p[ée]riode de (?:suivi|r[ée]f[ée]rence)|"
    r"duraci[óo]n de (?:la )?(?:cookie|sesi[óo]n)|vida (?:[úu]til )?de (?:la |las )?cookie|sesi[óo]n de|"
    r"periodo de (?:seguimiento|atribuci[óo]n|referencia)|"
    r"looptijd|duração d[oa] (?:cookie|sess[ãa]o)|validade d[oa] cookie|janela de (?:atribui[çc][ãa]o|convers[ãa]o)|"
    r"per[íi]odo de (?:rastreamento|atribui[çc][ãa]o)|"
    r"(?:days?|tage?|jours?|d[ií]as|dagen|dias|giorni)[\s-]+(?:(?:last|first)[\s-]click[\s-]+)?(?:tracking|attribution|"
    r"referral)|tracking system|(?:referral|affiliate|click|sales?) tracking|"
    r"durata del cookie|finestra di (?:attribuzione|tracciamento)|"
    r"^\W*(?:tracking|attribution|attributie|atribuci[óo]n|atribui[çc][ãa]o|attribuzione|suivi)\s*[:|]", re.I)
FOREVER = Pattern(
    r"\b(?:lifetime (?:cookies?|tracking|attribution|referrals?|link)|(?:cookies?|tracking|attribution)[^.]{0,40}?"
    r"(?:never expires?|do(?:es)? not expire|don't expire|remains? (?:active |valid )?(?:indefinitely|forever)|"
    r"indefinitely|forever|permanent(?:ly)?|for life|(?:for )?the lifetime|unlimited|no expiration|lebenslang|"
    r"unbegrenzt|unbefristet|"
    r"l[äa]uft nie ab|verf[äa]llt nie|à vie|illimit[ée]e?s?|n'expire(?:nt)? jamais|de por vida|ilimitad[ao]s?|"
    r"nunca (?:caduca|expira)|no caduca|onbeperkt|levenslang|verloopt nooit|vital[íi]ci[ao]s?|f[üu]r immer|dauerhaft|"
    r"para siempre|para sempre|per sempre|a vita|illimitat[oa]|senza scadenza|non scad[eo]n?o? mai|voor altijd|"
    r"sem prazo|nunca expira|n'expire pas|(?:is|are) lifetime)|"
    # a label's value: "Cookie: lifetime", "Cookie duration" / "Lifetime" (not "Cookie lifetime: session")
    r"(?:cookies?|tracking|attribution)[\w\s-]{0,25}?(?:[:|]\s*|\b(?:duration|length|life|laufzeit|dauer|dur[ée]e|"
    r"duraci[óo]n|duur|looptijd|dura[çc][ãa]o|durata|window|period)\s+)(?:lifetime|unlimited|forever|permanent|infinite|"
    r"unbegrenzt|lebenslang|illimit[ée]e?|ilimitad[ao]|onbeperkt|levenslang|vital[íi]ci[ao]|illimitat[ao]|a vita)\b|"
    r"(?:never expires?|never expire|unlimited|lebenslange?|unbegrenzte?|illimit[ée]e?|ilimitad[ao]|vital[íi]ci[ao])"
    r"[^.]{0,15}?(?:cookies?|tracking))", re.I)
_SESSION = Pattern(r"\bsession[\s-]?(?:only|cookie)|\b(?:only|nur) (?:for )?(?:the|die)? ?(?:session|sitzung)|"
                      r"\bsession\b|\bsitzung\b|\bsesi[óo]n\b|\bsessie\b|\bsessione\b|\bsess[ãa]o\b", re.I)
# A site's own cookies, named by their purpose in its cookie notice ("Analytics cookies expire after 2 years", "cookies
# de mesure d'audience", "Statistik-Cookies", "cookie preferences"): they keep no referral, so their spans are others'.
_SITE_COOKIE = (
    r"\b(?:(?:google\s+)?analytics?|analytical|statisti(?:cs|cal)|(?:strictly\s+)?necessary|essential|functional|"
    r"preferences?|consent|analyse|statistik|notwendige|funktionale|analytische|functionele|noodzakelijke|"
    r"statistische)[\s-]*cookies?|"
    r"\bcookies?\s+(?:preferences|settings|einstellungen|de mesure d'audience|d'audience|analytiques|statistiques|"
    r"fonctionnels|n[ée]cessaires|essentiels|de pr[ée]f[ée]rences?|anal[íi]tic[ao]s|de an[áa]lis[ei]s?|"
    r"estad[íi]stic[ao]s|t[ée]cnic[ao]s|necesarias|necess[áa]rios|funcionales|funcionais|essenciais|de prefer[êe]ncias?|analitici|"
    r"statistici|tecnici|necessari|funzionali|di preferenza)")
# A duration about something else: money back, a payout delay or hold, validation or review, a trial, a renewal,
# a discount, a deadline to report or claim, a default setting, an inactive account; a span counted from the sale
# or the month's end (a cookie counts from the click, a refund, approval or payout from the order or the month).
_OTHER_PERIOD = Pattern(
    rf"{_SITE_COOKIE}|refund|money[\s-]back|guarantee|return (?:policy|period|window)|"
    # a product sent back ("returned by the customer", "is returned"; not a visitor who returned to the site)
    r"\b(?:is|are|was|were|be|been|gets?|got)\s+returned\b|\breturned\s+by\b|zur[üu]ckgeschickt|zur[üu]ckgesendet|"
    r"retourniert|renvoy[ée]e?s?\b|devuelt[oa]s?\b|geretourneerd|teruggestuurd|devolvid[oa]s?\b|restituit[oi]\b|"
    r"trial|payout|\bpaid|payable|payment|\bnet\b|"
    r"\bhold|\bheld\b|pending|\block|validat|validé|validad[oa]|validaci|validiert|gevalideerd|validaz|valida[çc]|approv|review|"
    r"cancel|widerruf|r[üu]ckgabe|storn|zahlung|auszahl|gezahlt|bezahlt|[üu]berwiesen|gutschein|coupon|voucher|"
    r"discount|rabatt|remise|r[ée]duction|"
    r"descuento|korting|desconto|sconto|rembours|paiement|pay[ée]|vers[ée]e?s?\b|reembols|devoluci|garant|\bpago|"
    r"\bpag(?:ad|ar|at|ament)|terugbetal|betaling|uitbetal|betaald|devolu[çc]|by default|default|standardm[äa]ßig|"
    r"par d[ée]faut|por defecto|standaard|padr[ãa]o|credited|gutgeschrieben|confirm|best[äa]tig|processed|"
    r"renewal|upgrad|renouvel|verl[äa]nger|rinnov|(?:end of (?:the |each |every )?|calendar )month|month[\s-]end|monatsende|"
    r"ende des monats|fin (?:de|du) mois|fin del mes|einde van de maand|final do m[êe]s|fine (?:del )?mese|"
    r"invoice|rechnung|factur|fattur|report|claim|reclam|dispute|inactiv|inaktiv|inattiv|inativ|withdraw|"
    # a parcel's shipping (not "Lieferung", "levering": the supply an energy contract starts, in referral terms)
    r"\bship(?:p|s\b|ment)|deliver|livraison|env[íi]o|verzend|spedizion|"
    # a frequency or a refresh ("every 24 hours", "alle 30 Tage", "statistics are updated daily"); not each person
    # ("every visitor who clicks your link", "jeder Kunde", "chaque client"): that counts who, not when
    r"\b(?:every|alle|jede[nrs]?|tous les|toutes les|chaque|cada|elke|ogni)\b(?!\s+(?:\w+\s+)?(?:visitors?|customers?|"
    r"clients?|people|persons?|users?|buyers?|friends?|besucher|kunden?|nutzer|visiteurs?|utilisateurs?|visitantes?|"
    r"usuarios?|bezoekers?|klanten?|gebruikers?|visitatori|utenti|clientes?)\b)|updat|refresh|aktualisier|actualis|"
    r"actualiz|bijgewerkt|atualiz|aggiorn|"
    # a credit or points the affiliate holds, said to stay valid or expire ("referral credits are valid for 3 months")
    r"(?:credits?|guthaben|cr[ée]dits?|avoirs?|saldo|tegoed|credito|points|punkte|puntos|pontos|punti)\s+"
    r"(?:(?:are|is|will|sind|ist|sont|est|son|es|zijn|s[ãa]o|[ée]|sono|[èe])\s+)?(?:valid|expir|verf[äa]ll|g[üu]ltig|"
    r"valable|caduc|v[áa]lid|geldig|verlo|scad)|"
    # a commission that recurs for a span, and a network's statistics ("30 Day EPC", "7-day reversal rate")
    r"recurr|wiederkehr|r[ée]curren|recorren|ricorren|terugkerend|\bepc\b|reversal|average|durchschnitt|moyen|"
    r"promedio|gemiddeld|(?:(?:commission|provision|comisi[óo]n|commissie|comiss[ãa]o|provvigione|earn)s?|%)"
    r"\s+(?:for|f[üu]r|pendant|durante|gedurende|por|per)\b|"
    r"(?:of|from|after|following|nach|après|despu[ée]s de|na|ap[óo]s|dopo)\s+(?:the\s+|der\s+|dem\s+|la\s+|le\s+|"
    r"el\s+|de\s+|a\s+|o\s+|il\s+|l'|your\s+|their\s+|his\s+|her\s+|ihre[rs]?\s+|votre\s+|su\s+|uw\s+|seu\s+|sua\s+)?"
    r"(?:\w+(?:'s|s')\s+)?(?:sale|purchase|order|transaction|verkauf|kauf|bestellung|vente|achat|"
    r"commande|venta|compra|pedido|verkoop|aankoop|bestelling|venda|vendita|acquisto|ordine)", re.I)
# A general description, not one program's window: "usually 30 days".
_HEDGE = Pattern(r"\b(?:usually|typically|often|in der regel|meistens|normalement|souvent|normalmente|a menudo|"
                    r"doorgaans|meestal|geralmente|di solito)\b", re.I)
# A window the text gives without naming the cookie: "commissions on purchases within 48 hours of the click",
# "Affiliates sind nur für 30 Tage ab dem Tag gültig, an dem der Link angeklickt wird".
# "within a period of 30 days" is "within 30 days": "innerhalb einer Frist von", "dans un délai de", "en un plazo de".
_PERIOD_OF = (r"\s+(?:an?|the|einer|eines|un|une|el|um|een|il|o)?\s*(?:time\s*period|period|time\s*frame|frist|"
              r"zeitraums?|d[ée]lai|p[ée]riode|plazo|periodo|termijn|periode|prazo|termine)\s+(?:of|von|de|del|van|do|di)\b")
_WITHIN = Pattern(rf"\b(?:(?:within|up to|in the next|over the next|in|innerhalb|binnen|dans les|dentro de|en los|"
                  rf"nos pr[óo]ximos|em at[ée]|entro|passati|na)(?:{_PERIOD_OF})?|(?:dans|en|no|nel){_PERIOD_OF})"
                  r"(?:\s+[^\W\d]{1,9}){0,2}\s+\d", re.I)
# A number of referrals or sales to reach within a span is a bonus's target, not a window: "Refer 5 customers within
# 30 days and earn a $100 bonus", "Werben Sie 5 Kunden innerhalb von 30 Tagen".
_TARGET = Pattern(r"\b\d+\s+(?:\w+\s+)?(?:customers?|clients?|friends?|sales|referrals?|orders|sign[\s-]?ups|members|"
                  r"kunden|freunde|verk[äa]ufe|bestellungen|ventes|filleuls|amis|commandes|clientes|amigos|ventas|pedidos|"
                  r"klanten|vrienden|verkopen|bestellingen|vendas|clienti|amici|vendite|ordini)\b", re.I)
# "30 days after opening the account", "30 Tage nach Vertragsbeginn": a span counted from an event other than the click
# or the referral is a delay after it (a payout, a validation), not a window; a cookie counts from the click.
_COUNTED = Pattern(r"\W*(?:of|from|after|since|following|nach|ab|apr[èe]s|suivant|despu[ée]s|desde|na|ap[óo]s|"
                   r"a partir|dopo|dal|dall|dalla)\b", re.I)
# A span reaching back is the customer's history, an eligibility condition ("not a customer in the last 3 years",
# "in den letzten drei Jahren"), unless a click is what it counts back to ("the last click in the past 30 days").
_LOOKBACK = Pattern(r"\w+\s+(?:the\s+|den\s+|les\s+|los\s+|os\s+|gli\s+|de\s+)?(?:last|past|previous|letzten|vergangenen|"
                    r"derni[eè]re?s|pass[ée]e?s|[úu]ltimos|ultimi|afgelopen|laatste)\b", re.I)
# The reward given within a span, named or sent ("you'll receive the bonus within 48 hours", "receberá o bônus de R$ 20
# em até 48 horas", "checks are mailed within 15 days"): the span is its delivery, not a window, unless the referred
# person's act stands between the two ("a bonus when your friend buys within 30 days").
_GIVEN = Pattern(r"\b(?:rewards?|bonus(?:es)?|b[ôo]nus|bono|gift[\s-]?cards?|prizes?|pr[äa]mie[n]?|belohnung(?:en)?|"
                 r"r[ée]compenses?|primes?|recompensas?|premios?|pr[êe]mios?|beloning(?:en)?|premies?|ricompens[ae]|"
                 r"sent|issued|awarded|deposited|e-?mailed|mailed|released|added|versendet|verschickt|envoy[ée]e?s?|"
                 r"enviad[oa]s?|verstuurd|inviat[oa])\b", re.I)
_SALE = Pattern(r"\bsales?\b|verkauf|vente|venta|verkoop|venda|vendit|transa|join|inscri|anmeld|aanmeld|cadastr|"
                r"abschlie|contrat|kopen|bestel|achet|compr|acquist", re.I)
_CLICKED = Pattern(r"click|klick|clic|klik|clique|\blink|visit|besuch|bezoek", re.I)
# "für 30 Tage gültig": a span the referral is valid for (not "commission for 12 months", which recurs).
_FOR = Pattern(r"\b(?:for|f[üu]r|pendant|durante|gedurende|por)\s+(?:the\s+)?(?:first\s+)?\d", re.I)
_VALID = Pattern(r"valid|g[üu]ltig|valable|v[áa]lid|geldig|attribut|tracked|zugeordnet|registr", re.I)
# "within 30 days of clicking your link", "Sales are attributed for 60 days": a window by itself. The figure and its
# unit are bounded: `\d+\s*\S+` split a run of digits every way from every start (1,000 digits after "within 30 days"
# took 8 s, a description's 20,000 hours).
_OWN_WINDOW = Pattern(r"\d{1,12}\s*\S{1,40}\s+(?:of|from|after|since)\s+(?:the\s+)?(?:first\s+|last\s+|initial\s+)?"
                         r"(?:click|visit)|attribut|zugeordnet|attribu[ée]|atribu[íi]d|toegeschreven|"
                         r"nach dem (?:ersten )?klick|"
                         r"apr[èe]s le (?:premier )?clic|despu[ée]s del (?:primer )?clic|na de (?:eerste )?klik|"
                         r"ap[óo]s o (?:primeiro )?clique", re.I)
_FROM_CLICK = Pattern(
    r"\W*(?:of|from|after|since|following|nach dem|ab dem|apr[èe]s (?:le|un)|suivant|despu[ée]s del?|desde el|"
    r"siguientes? al?|na de|na een|"
    r"ap[óo]s o|a partir do|dopo il|dal(?:l')?)\s*"
    # the day of the click: "from the date of the click", "from the day the visitor first clicks"
    r"(?:(?:the\s+)?(?:date|day|time|moment)\s+(?:(?:that|when|on which)\s+)?)?"
    r"(?:[^\W\d]+\s+){0,2}?(?:first\s+|last\s+|initial(?:ly)?\s+|originally\s+|"
    r"ersten\s+|letzten\s+|premier\s+|dernier\s+|primer\s+|[úu]ltimo\s+|eerste\s+|laatste\s+|primeiro\s+|primo\s+)?"
    r"(?:click|visit|klick|clic|klik|clique|visite|visita|bezoek|besuch)", re.I)
# "they have 90 days to sign up", "Votre filleul a 48h pour passer commande": the time a referral has to act.
_TIME_TO_ACT = Pattern(
    rf"\b(?:have|has|get|gets|hat|haben|a|ont|tiene|tienen|heeft|hebben|tem|t[êe]m|ha|hanno)\s+(?:up to\s+)?"
    rf"(?:{DURATION.pattern})(?:\s+(?:zeit|de temps|tiempo|tijd|tempo|di tempo))?,?\s+(?:to|um|pour|para|om|per)\s+"
    r"(?:[^\W\d]+\s+){0,3}?(?:sign|buy|purchas|order|subscri|regist|convert|kauf|bestell|commande|achet|inscri|"
    r"souscri|compr|pedido|contrat|kopen|bestel|aanmeld|acquist|ordin|abbon|cadastr|assin)", re.I)
# What the affiliate gets for a referral: a commission, credit, or a referrer's reward ("Prämie", "récompense").
_CREDIT = Pattern(r"commission|credit|attribut|tracked|valid|g[üu]ltig|provision|comisi[óo]n|comiss[ãa]o|commissie|"
                     r"provvigion|earn|receive|collect|verdien|erh[äa]lt|ganar|recib|receb|ontvang|touch|reward|bonus|"
                     r"pr[äa]mie|belohnung|r[ée]compense|recompensa|premio|pr[êe]mio|beloning|premie|r[ée]mun[ée]r|"
                     r"remunera|verg[üu]t|vergoed", re.I)
# Who the window is for (a visitor, a customer, the friend referred) and what they do in it (click, buy, sign up).
_VISIT = Pattern(r"click|\blink|visit|customer|visitor|\busers?\b|referral|sign[\s-]?up|subscri|\bbuys?\b|\border|"
                    r"friend|freund|geworben|empfehlungsempf|\bamie?s?\b|filleul|amig[oa]|vriend|amic[oa]|klick|\bkunde|"
                    r"clic|enlace|client|klant|utente|acquist|compra|kauf|ach[eèa]t|aankoop|koop|bezoek|purchase", re.I)
# A window counted from the referrer's recommendation or invitation ("within 4 weeks of the recommendation", "nach
# Versenden Ihrer Empfehlung", "within 30 days of receiving the invite"): a window by itself, but unlike one counted
# from the click it does not outrank another period's notion ("the bonus is paid within 8 weeks of the invitation").
_FROM_REFERRAL = Pattern(
    r"\W*(?:of|from|after|since|following|nach|ab|apr[èe]s|despu[ée]s de|desde|na|ap[óo]s|a partir d[aoe]|dopo|da|"
    r"dall')(?:\s+|(?<='))"
    r"(?:[^\W\d]+\s+){0,2}?(?:recommendation|invit(?:e|ation)|empfehlung|einladung|recommandation|parrainage|"
    r"recomendaci[óo]n|invitaci[óo]n|aanbeveling|uitnodiging|indica[çc][ãa]o|convite|raccomandazione|invito|"
    r"segnalazione|link|url|lien|enlace)(?!\w|['’]s)", re.I)
# A window counted from the referral itself ("buys within 3 months of being referred", "signs up within 30 days of the
# referral date"), not a sale or a reward it names; the program also acts within days of a referral ("we contact
# your friend", "rewards are issued"), so only where the referred person buys or signs up in it.
_FROM_REFERRED = Pattern(
    r"\W*(?:of|from|after|since|following)\s+(?:[^\W\d]+\s+){0,2}?(?:referred(?!\s+(?:sales?|orders?|purchases?|"
    r"clients?|customers?|friends?|users?|members?|transactions?)\b)|referral(?:\s+date)?(?!\s+(?:orders?|sales?|"
    r"purchases?|bonus|rewards?|fees?|payments?|commissions?|credits?|links?)\b))(?!\w|['’]s)", re.I)
_ACTS = Pattern(r"\b(?:sign|buy|bought|purchas|order|subscri|regist|join|convert|book|make|place|open)", re.I)
# A span said of the referral itself, without the word cookie: "Referral links expire after 7 days", "Tracking lasts
# 30 days", "Der Empfehlungslink ist 30 Tage gültig", "Le lien de parrainage est valable 30 jours". The referral notion
# is the subject: only a verb's helpers, its complement ("de parrainage") and the duration stand between it and the
# verb, so "Referral credits expire after 12 months" (the credit expires) is not one.
_REFERRAL_NOUN = (r"\b(?:referrals?|tracking|suivi|seguimiento|rastreamento|tracciamento|"
                  r"(?:referral|affiliate|tracking|partner|invite|invitation|empfehlungs|einladungs|verwijzings?|werbe|"
                  r"your|the|ihr|dein|der|votre|uw|je|de|seu|teu|su)[\s-]?links?|"
                  r"(?:referral|affiliate|tracking|partner|invite|invitation)[\s-]?urls?|"
                  r"invit(?:e|es|ation|ations|aci[óo]n|o)|empfehlung|einladung|verwijzing|uitnodiging|convites?|"
                  r"indica[çc][ãa]o|(?:liens?|enlaces?|links?)\s+(?:de|d'|di|do|da|del)\s*"
                  r"(?:parrainage|affili|referid|referencia|afiliad|indica|convite|referral|invit|recomenda)\w*)\b")
_SPAN_VERB = (r"(?:lasts?|valid|g[üu]ltig|valables?|v[áa]lid[oa]s?|geldig|active|aktiv|actifs?|activ[oa]s?|ativ[oa]s?|"
              r"attiv[oa]|expires?|verf[äa]llt|l[äa]uft|caducan?|expiran?|verloopt|scadono|scade|remembered|stored|saved|"
              r"tracks?|gespeichert|dure|durent|dura|duran|duurt|dauert|track(?:ed|s)? (?:\w+ ){0,2}|"
              r"(?:stays?|remains?|bleiben|bleibt|restent|reste) (?:with|bei|avec) (?:you|ihnen|dir|vous|toi))\b")
_HELPER = (r"(?:is|are|will|be|ist|sind|wird|bleibt|est|sont|reste|es|son|sigue|zijn|blijft|[ée]|s[ãa]o|fica|[èe]|sono|"
           r"rimane|remains?|stays?|only|nur|for|f[üu]r|up to|bis zu|the|of|your|de|di|van|von|do|da|del|d'|"
           r"(?:de|di|van|von|do|da|del|of) [^\W\d]+|\d+(?:[.,]\d+)?[\s-]*[^\W\d]+)")
_REFERRAL_SPAN = Pattern(rf"{_REFERRAL_NOUN}(?:\s+{_HELPER}){{0,4}}?\s+{_SPAN_VERB}", re.I)
# A session said as the span a referral is credited in, without the word cookie: "all sales within the same session
# are credited to you", "De referral-link is geldig zolang de sessie duurt". English "one" arrives as "1" (normalise).
_SESSION_SPAN = Pattern(r"\b(?:within|during|for|in|innerhalb|w[äa]hrend|f[üu]r|pendant|durant|dans|durante|dentro de|"
                        r"binnen|tijdens|zolang|entro|per|nella|na|em)\s+(?:(?:the|a|1|that|this|same|single|current|"
                        r"their|its|[\w]+['’]s|die|der|dieselbe|derselben|gleichen|selben|einer|la|le|m[êe]me|une|misma|"
                        r"una|de|dezelfde|eenzelfde|zelfde|mesma|uma|stessa)\s+){0,2}(?:session|sitzung|sesi[óo]n|sessie|"
                        r"sessione|sess[ãa]o)\b", re.I)
# A session booked, cancelled or attended is an appointment (a photo shoot, a coaching call), not a visit's session:
# "If your friend cancels the session, you get no credit for that session", "each coaching session booked".
_APPOINTMENT = Pattern(r"\b(?:book|cancel|schedul|reschedul|attend|buch|annul|stornier|reserv|agend|prenot|boek)\w*\s+"
                       r"(?:[^\W\d]+\s+){0,2}?(?:sessions?|sitzung(?:en)?|s[ée]ances?|sesi[óo]n|sessies?|session[ei]|"
                       r"sess[ãa]o)\b|\b(?:photo|coaching|therapy|consultation|massage|tutoring|training|lesson|fitness|"
                       r"yoga|counsell?ing|strategy|discovery)\s+sessions?\b", re.I)
_ASSIGNED = Pattern(r"credit|assign|attribut|tracked|valid|g[üu]ltig|valable|v[áa]lid|geldig|zugeordnet|zugewiesen|"
                    r"toegewezen|toegekend|attribu|atribu", re.I)
# The customer referred tied to the affiliate for good ("will forever be tied to your account", "linked to you for
# life", "dauerhaft zugeordnet"): a lifetime cookie said without the word.
_TIE = (r"(?:yours|tied|linked|attached|assigned|bound|connected|associated|gebunden|verkn[üu]pft|zugeordnet|verbunden|"
        r"li[ée](?:e|s|es)?(?<!lie)(?<!lies)|rattach[ée]e?s?|associ[ée]e?s?|vinculad[oa]s?|asociad[oa]s?|gekoppeld|"
        r"verbonden|associad[oa]s?|legat[oi]|associat[oi])")
_FOR_GOOD = (r"(?:forever|for life|for the lifetime|permanently|for good|f[üu]r immer|dauerhaft|lebenslang|"
             r"auf lebenszeit|pour toujours|[àa] vie|d[ée]finitivement|de por vida|para siempre|permanentemente|"
             r"voor altijd|levenslang|permanent|para sempre|per sempre|a vita)")
_REFERRED = Pattern(r"customer|client|visitor|\busers?\b|buyer|referr|friend|kunde|geworben|filleul|klant|utente|"
                    r"acheteur|comprador|koper|acquirente|amig|vriend|amic|\bami", re.I)
# The visitor tied to the affiliate for a span ("will be your visitor for 60 days", "linked to your account for 90
# days"): the words just before the "for" of `_FOR`.
_TIED_FOR = Pattern(rf"\b(?:{_TIE}\s+(?:to|with|an|mit|à|a|con|aan|ao|alla?)\s+(?:you|your|ihnen|ihr|dir|dein|vous|votre|"
                    r"toi|ton|ta|usted|su|tu|u|uw|je|voc[êe]|seu|sua|te|lei|tuo)\b(?:\s+[^\W\d]+){0,2}|yours|"
                    r"your\s+(?:visitor|customer|referral|client|lead)s?)\s*$", re.I)
_TIED_FOREVER = Pattern(rf"\b{_TIE}\b[^.,;]{{0,30}}?{_FOR_GOOD}\b|\b{_FOR_GOOD}\s+(?:[^\W\d]+\s+){{0,2}}?{_TIE}\b",
                        re.I)
# "30 cookie days", "60 Cookie-Tage": the cookie's name inside the duration.
_COOKIE_DAYS = Pattern(r"(?P<n>\d{1,4})\s*['‘’\"“”]?\s*cookie[\s-]?(?:days?|tage|jours|d[ií]as|dagen|dias|giorni)\b",
                       re.I)

_LABEL_UNIT = Pattern(r"^\W*(?:cookie|tracking|attribution|referral|return)[\w\s()-]{0,25}?\b(?:days?|tage|jours|d[ií]as|"
                      r"dagen|dias|giorni)\b[)\s]*[:|]\s*(?P<n>\d{1,4})(?![\d.,]|\s*(?:h|hours?|months?|weeks?)\b)", re.I)
# A cookie said of programs in general or of others ("Most programs offer a 30-day cookie", "a longer cookie
# (like 90 days)"), not this program's.
# "industry-leading" praises this program's cookie; "the industry standard" is programs in general.
_GENERIC = Pattern(rf"{OTHER_PROGRAMS}|\b(?:typically|industry(?![\s-]*(?:leading|best|longest|high))|commonly|"
                   r"on average|like|such as|branchen[üu]blich|g[ée]n[ée]ralement)\b", re.I)
# Advice or a setting for the reader's own program: "(30 days recommended)", "you can set the cookie to 60 days".
ADVICE = Pattern(r"recommend|empfehl|empfohlen|recommand|recomend|aanbevol|aangeraden|raccomand|consigliat|"
                   r"you can (?:set|choose|configure)|configurable|einstellbar|param[ée]trable|instelbaar", re.I)
_BARE_DAYS = Pattern(r"^\W*(?:cookie|tracking|attribution|referral|return)[\w\s-]{0,25}?(?:[:|]\s*|\s)(?P<n>\d{1,3})(?:\s*\||\W*$)", re.I)


def context(doc: Doc, i: int) -> tuple[str, int]:
    """A unit's text, with the heading or question it answers when it is a bare value ('Cookie Duration' /
    '0 Days'), and the index of the first unit that text comes from."""
    unit, previous = doc.units[i], doc.units[i - 1] if i else None
    if previous is not None and unit.first_in_line and (previous.heading or previous.text.endswith("?")):
        return f"{previous.text} {unit.text}", i - 1
    return unit.text, i


def cookie_in(doc: Doc, topics: list[str | None] | None = None) -> tuple[int | None, str | None]:
    """The first duration or lifetime the text says is the cookie's, with the verbatim text it came from; failing
    that, a session-only cookie; failing that, what the text says of the referral without naming the cookie: a
    window in which a click or a referral earns a commission, a customer tied to the affiliate for good, or a
    session the sales are credited in. A lifetime is said of this program's cookie ("our cookies never expire");
    session words also describe cookies in general ("session cookies are deleted when the browser closes"), so a
    duration anywhere goes first."""
    session = None
    for i, unit in enumerate(doc.units):
        text, first = context(doc, i)
        text = before_example(figures(normalise(text)), _HEDGE, example=EXAMPLE)
        in_section = topics is not None and topics[i] == "cookie"
        if not (COOKIE.search(text) or in_section) or (topics is not None and topics[i] == "example"):
            continue
        own = before_example(figures(unit.norm), _HEDGE, example=EXAMPLE)
        days = _duration_in(own) if own.strip() else None
        if days is None and (bare := _BARE_DAYS.match(text)):  # "Cookie | 45": a cookie row's number is days
            days = int(bare["n"])
        if days is not None:
            return days, doc.span(first, i)
        said = text if COOKIE.search(text) else f"cookie {text}"
        said = "" if ADVICE.search(said) else _own_part(said)
        if FOREVER.search(said):
            return -1, doc.span(first, i)
        if session is None and _SESSION.search(said) and not _APPOINTMENT.search(said):
            session = 0, doc.span(first, i)
    if session is not None:
        return session
    for i, unit in enumerate(doc.units):
        if topics is None or topics[i] != "example":
            text = before_example(figures(unit.norm), _HEDGE, example=EXAMPLE)
            if (match := _window_in(text)) and (days := duration_days(match)) is not None:
                return days, unit.raw
            if _TIED_FOREVER.search(text) and _REFERRED.search(text):
                return -1, unit.raw
            if (session is None and _SESSION_SPAN.search(text) and _ASSIGNED.search(text) and not ADVICE.search(text)
                    and not _APPOINTMENT.search(text)):
                session = 0, unit.raw
    return session or (None, None)


def _window_in(text: str) -> re.Match | None:
    """A window in which a referral earns the affiliate a commission, said without naming the cookie: "sales
    within 30 days of the click", "für 30 Tage gültig", "they have 90 days to sign up", "if your friend buys within
    30 days", "Referral links expire after 7 days". Not a span counted from another event than the click or the
    referral, nor one reaching back; not where another period is named (a refund, a payout), unless the window is
    counted from the click."""
    within, span, match = _WITHIN.search(text), _FOR.search(text), None
    if within and ((_LOOKBACK.compiled.match(text, within.start()) and not _CLICKED.search(text))
                   or _TARGET.search(text[max(0, within.start() - 40):within.start()])):
        within = None
    if within and (near := DURATION.search(text, within.start())) and near.start() - within.end() < 3:
        counted_from = (_FROM_CLICK.compiled.match(text, near.end()) or _FROM_REFERRAL.compiled.match(text, near.end())
                        or (_FROM_REFERRED.compiled.match(text, near.end()) and _ACTS.search(text)))
        delivered = not counted_from and _delivered(text[max(0, within.start() - 60):within.start()])
        elsewhere = not counted_from and _COUNTED.compiled.match(text, near.end())
        credited = _CREDIT.search(text) and _VISIT.search(text) and not elsewhere
        if not delivered and (counted_from or _OWN_WINDOW.search(text) or credited):
            match = near
    if match is None and span:  # "valid for 30 days", "you get credit for 60 days after their visit"
        near = DURATION.search(text, span.start())
        if near and near.start() - span.end() < 3 and (_VALID.search(text) or _FROM_CLICK.compiled.match(text, near.end())
                                                       or _TIED_FOR.search(text[max(0, span.start() - 60):span.start()])):
            match = near
    match = match or _TIME_TO_ACT.search(text) or _referral_span(text)
    if match and (not _OTHER_PERIOD.search(text) or _FROM_CLICK.compiled.match(text, match.end())):
        return match
    return None


def _delivered(before: str) -> bool:
    """Whether the words before a span end with a reward given in it, no act of the referred person between."""
    given = None
    for given in _GIVEN.finditer(before):  # the last one
        pass
    between = before[given.end():] if given else ""
    return given is not None and not (_VISIT.search(between) or _ACTS.search(between) or _SALE.search(between))


def _referral_span(text: str) -> re.Match | None:
    """The duration of a span said of the referral itself ("Referral links expire after 7 days"): inside the phrase
    or within a few words after its verb."""
    said = _REFERRAL_SPAN.search(text)
    match = DURATION.search(text, said.start()) if said else None
    return match if match and len(_WORDS.findall(text, said.end(), match.start())) <= 3 else None


def _duration_in(text: str) -> int | None:
    labelled = _LABEL_UNIT.match(text) or _COOKIE_DAYS.search(text)
    if labelled:  # "Cookie days: 30 (45 during promotions)": the label says the unit of the value after it
        return int(labelled["n"])
    own_cue = COOKIE.search(text) is not None
    parts = [_own_part(c) for c in clauses(text) if not ADVICE.search(c)]
    # The clauses that name the cookie first: in "25 % für 12 Monate; Cookie-Laufzeit 60 Tage" the 60.
    for clause in sorted(parts, key=lambda c: own_cue and not COOKIE.search(c)):
        for match in DURATION.finditer(clause):
            if _is_cookies(clause, match, own_cue):
                return duration_days(match)
    return None


def _own_part(text: str) -> str:
    """What a text says before it turns to programs in general: "Cookies: 60 days (most programs offer 30)"."""
    generic = _GENERIC.search(text)
    return text[:generic.start()] if generic else text


_WORDS = re.compile(r"\w+")
_NEAR = 100  # how far (characters) a notion may stand from a duration and still be said of it


def _is_cookies(clause: str, match: re.Match, own_cue: bool) -> bool:
    """Whether a duration is the cookie's: the notion nearest to it decides, so in "sales the cookie tracks are
    payable after a 30-day hold" the hold is nearer than the cookie. A clause without a cookie notion of its own
    (in a sentence that has one) counts only when no other period's notion is in it; a unit whose cookie notion
    is its heading or section counts that notion at the clause's start. A span counted from the click is the
    cookie's whatever else is near."""
    if _FROM_CLICK.compiled.match(clause, match.end()):
        return True
    other = _distance(_OTHER_PERIOD, clause, match)
    cookie = _distance(COOKIE, clause, match) if own_cue else \
        len(_WORDS.findall(clause, max(0, match.start() - _NEAR), match.start()))
    if other is None:
        return True
    return cookie is not None and cookie < other


def _distance(cue: Pattern, clause: str, match: re.Match) -> float | None:
    """Words between a duration and the nearest match of a cue within `_NEAR` characters of it in its clause, on
    either side (a bounded window, so a clause of thousands of durations is read in linear time). A cue after it
    counts half a word more, so a label before its value wins a tie ("Cookie Duration: 30 days Average Payout")."""
    start = max(0, match.start() - _NEAR)
    window = clause[start:match.end() + _NEAR]
    before, after = match.start() - start, match.end() - start
    return min((len(_WORDS.findall(window, after, m.start())) + 0.5 if m.start() >= after
                else len(_WORDS.findall(window, min(m.end(), before), before)) for m in cue.finditer(window)),
               default=None)


def cookie_days(text: str | None) -> int | None:
    """Cookie duration from text that is about the cookie (a directory's "Cookie" column)."""
    text = figures(normalise(" ".join((text or "").split())))
    match = DURATION.search(text)
    if match:
        return duration_days(match)
    if FOREVER.search(text) or re.search(r"^\s*(?:lifetime|forever|unlimited|never expires)", text, re.I):
        return -1
    return 0 if _SESSION.search(text) else None
