"""Payout frequency: how often the affiliate is paid, from the closed set of tests/data/terms/README.md. A schedule
counts only in a clause about paying the affiliate, and the notion nearest it decides what it schedules (a lock,
a reset, a renewal, a report); schedules are built from words for a period, "each", "next" and an ordinal day
in seven languages rather than listed phrase by phrase."""

import re

from affiliate_matrix.terms.cookie import ADVICE
from affiliate_matrix.terms.durations import figures
from affiliate_matrix.terms.payout import CUE
from affiliate_matrix.terms.text import MONEY, OTHER_PROGRAMS, Doc, Pattern, before_example

# --- the words a schedule is built from ------------------------------------------------------------------
_MONTH = r"(?:calendar\s+)?\b(?:kalender)?(?:months?|monat(?:s|es|e)?|mois|mes(?:es|e|i)?|m[êe]s|maand(?:en)?)\b"
# One month: "the following months" is a span, not the month after.
_ONE_MONTH = r"(?:calendar\s+)?\b(?:kalender)?(?:month|monat|mois|mes|m[êe]s|maand|mese)\b(?!'s)"
_EACH = (r"(?:each|every|jede[ns]?|chaque|cada|elke|iedere|ogni|tod[oa]s?(?: (?:os|as|los|las))?|tous les|"
         r"toutes les)")
_OF_EACH = (rf"(?:of|des|jedes|du|de|del|do|da|van|di|della)\s+(?:(?:the|{_EACH}|het|de|la|le|el|o|il)\s+)?")
_NEXT = r"(?:next|following|folgenden?|n[äa]chsten|suivant|prochain|siguiente|pr[óo]ximo|seguinte|volgende|successivo)"
# The month a day is of, named as the current one before it ("on the 16th of the current month", "am 15. des laufenden
# Monats", "op de 10e van de lopende maand"); languages that say it after the month need nothing ("du mois en cours").
_CURRENT = r"(?:current|present|this|laufenden|aktuellen|lopende|huidige)"
# "the 10th", "le premier jour ouvré", "el primer día hábil", "de laatste week", "o primeiro dia útil". Its figure
# starts where its digits do: tried from every digit of a run, each try read the rest of it (2,000 digits of a
# payout text: 0.5 s; a description's 20,000: 40 s); one that matches inside a run matches from its start too.
_ORDINAL = (r"(?:(?<!\d)\d+(?:st|nd|rd|th|er|e|º|°|\.)?|first|last|erste[nr]?|letzte[nr]?|premi(?:er|ère)|derni(?:er|ère)|"
            r"primer|primeiro|primo|[úu]ltim[oa]|eerste|laatste)")
_DAY = (r"(?:(?:business|working|calendar)\s+)?(?:days?|weeks?|tage?|woche|werktage?n?|jours?|semaine|d[íi]as?|"
        r"semanas?|dag|werkdag|giorno|settimana)(?:\s+(?:h[áa]bil|[úu]til|ouvr[ée]|ouvrable|lavorativo))?")
_ONCE = (r"(?:once|one time|1\s?x|1 (?:keer|mal|fois|vez|volta)|eenmaal|(?:één|een) keer|einmal|une fois|una vez|"
         r"uma vez|una volta)")
_PER = r"(?:a|per|par|pro|por|al|im|in|every|each|ao|in de|nel|au)"
# The end or close of a month: "aan het einde van elke kalendermaand", "após o fechamento de cada mês".
_END = (r"(?:end|close|closing|ende|abschluss|fin|final|cierre|cl[ôo]ture|fechamento|encerramento|einde|afsluiting|"
        r"fine|chiusura)")
_DAYS = r"(?:days?|tage?n?|jours?|d[íi]as|dagen|dias|giorni)"
# A payment term of 30 days: "net 30", "neto treinta (30) días", "uitbetaal termijn van 30 dagen", "within 30 days
# of the commission invoice".
_TERM = r"(?:terms?|termijn|ziel|frist|d[ée]lai|plazo|prazo|termine)"
_INVOICE = r"(?:invoices?|\w*rechnung\w*|factur\w*|fattur\w*|factuur\w*)"


# Net terms are said of a month: "30 days after the end of the quarter" is the quarter's run, its lag outside the set.
_OF_QUARTER_END = (r"\s+(?:(?:of|du|de|des|del|do|da|van|di|della|dem)\s+)?(?:(?:the|each|every|a|le|la|el|o|het|il|"
                   r"jedes|chaque|cada|elk)\s+)?(?:(?:fiscal|calendar|financial)\s+)?(?:quarter|trimest|quartal|"
                   r"kwartaal)")


def _net(days: str, counted: bool = True) -> str:
    """Net terms: "net 30" or 30 days after the month's end; `counted`, also a term or a span from an invoice (those
    only in a clause about paying: a customer's invoice has them too)."""
    named = (rf"\bnet(?:to|o)?[\s-]*(?:[^\W\d]+\s+)?\(?{days}\b(?!\s*%)|"
             rf"\b{days} {_DAYS} (?:\w+ ){{0,3}}?(?:end of|ende|fin|final|einde|fim|cierre|monatsende|month[\s-]end|"
             rf"{_LAST_DAY})(?!{_OF_QUARTER_END})")
    return named if not counted else named + (
            rf"|{_TERM}\s+(?:(?:van|of|de|von|di)\s+)?{days}[\s-]+{_DAYS}|{days}[\s-]+{_DAYS}?[\s-]*(?:payment\s+)?terms\b|"
            rf"\b{days} {_DAYS} (?:\w+ ){{0,4}}?{_INVOICE}")


# The end of the month after the one earned in is about 30 days after a month's end: "end of the following
# month", "fin du mois suivant", "einde van de kalendermaand, volgend op de maand".
# The month's last day is its end: "paid on the last business day of the month following the month of activity".
_LAST_DAY = (r"(?:(?:last|final)\s+(?:(?:business|working|calendar)\s+)?day|letzten\s+(?:werk|kalender)?tag|"
             r"derni(?:er|ère)\s+jour(?:\s+ouvr[ée])?|[úu]ltimo\s+d[íi]a(?:\s+(?:h[áa]bil|[úu]til))?|"
             r"laatste\s+(?:werk)?dag|ultimo\s+giorno(?:\s+lavorativo)?)")
_MONTH_AFTER = (rf"|\b(?:1|one|un|une|ein(?:en)?|uno?|um|[ée][ée]n)\s+{_ONE_MONTH}\s+(?:from|after|nach|apr[èe]s|"
                rf"despu[ée]s de|ap[óo]s|na|dopo)\s+(?:(?:the|dem|la|el|o|de|het|il)\s+)?"
                rf"(?:{_END}|{_LAST_DAY}|monatsende)\b"
                r"|30 giorni (?:data )?fine mese|30 gg\.? d\.?f\.?m|(?:ende|letzten (?:werk|kalender)?tag) des "
                r"folgemonats|30 tage nach monatsende|30 jours fin de mois|"
                rf"(?:{_END}|{_LAST_DAY})\s+{_OF_EACH}(?:{_NEXT}\s+{_MONTH}|{_MONTH}\W+(?:following|after|volgend op|"
                r"na|nach|suivant|siguiente|seguinte|successivo|despu[ée]s del|ap[óo]s o)\b)")


def _every(days: str) -> str:
    """A run every N days, said as "every N days" or as an interval, a cycle or a schedule ("at 30 day intervals",
    "ciclos de 15 días", "on a 31 day rolling schedule"), N deciding the schedule; a period of N days alone is as
    often a hold, so it is not one."""
    return (rf"(?:every|alle|tous les|cada|om de|a cada|ogni) {days} {_DAYS}|"
            rf"\b{days}[\s-]*{_DAYS}\s+(?:rolling\s+)?(?:(?:payment|payout|pay|zahlungs|auszahlungs)\s*)?"
            rf"(?:intervals?|cycles?|schedule|rhythmus|zyklus|turnus)\b|"
            rf"\b(?:intervals?|cycles?|intervall\w*|zyklus|ciclos?|intervalos?|intervalles?|cyclus|cycli|"
            rf"intervallo|rhythmus|turnus)\s+(?:\w+\s+)?(?:of|von|de|van|di|da)\s+{days}\s*{_DAYS}")


# A request of the payout said by its noun counts where it is made ("submit a payout request", "een verzoek indienen
# voor een uitbetaling"), not where it is only named ("any active withdrawal request cancels the bonus").
_REQUEST = r"(?:requests?|anfrage|antrag|demande|solicitud|solicita[çc][ãa]o|pedido|aanvraag|verzoek|richiesta)"
_PAYOUT_NOUN = (r"(?:pay[\s-]?outs?|payments?|withdrawals?|cash[\s-]?outs?|auszahlung\w*|paiements?|versements?|"
                r"retraits?|pagos?|retiros?|pagamentos?|saques?|uitbetaling\w*|pagament\w*|prelievo|liquidaci[óo]n)")
_SUBMIT = (r"(?:submit\w*|make|made|send|place[ds]?|file[ds]?|indien\w*|ingediend|stell\w*|gestellt|einreich\w*|"
           r"eingereicht|faire|fait|soumet\w*|soumis\w*|envoy\w*|hacer|hecha|enviar|realizar|fazer|feito|presentare|"
           r"inviare|effettuare)")
_OF = r"(?:for|f[üu]r|auf|de|d'|voor|tot|di|per|para|do|da)"
# A payout the affiliate starts with a button: a click whose button or purpose withdraws, cashes out or receives the
# affiliate's money ("click "Claim" to receive the earned referral income", "click on the "receive my money" button",
# "klicken Sie auf Auszahlen"); not a click that only sets up a method or redeems a reward, nor a name a click starts
# ("ClickBank ensures that you receive your commissions every two weeks").
_CLICKED = (r"\b(?:click(?:s|ed|ing)?|klick(?:e|en|st|t)?|cliqu(?:e|es|ez|er|ant)|clic|klik(?:ken|t)?|"
            r"clicc(?:a|are|ando|ate)|haga clic|clique)\s+(?:\S+\s+){0,6}?\W?"
            r"(?:withdraw\w*|cash[\s-]?out|auszahl\w*|retirer|retirar|sacar|uitbetal\w*|opnemen|preleva\w*|ritir\w*|"
            r"(?:receive|get|erhalten|recevoir|recibir|receber|ontvangen|ricevere)\s+(?:\S+\s+){0,3}?"
            r"(?:money|income|earnings|commissions?|pay[\s-]?outs?|funds|balance|geld|argent|dinero|"
            r"dinheiro|soldi|guthaben|solde|saldo|tegoed))\b")
_REQUEST_MADE = (rf"{_SUBMIT}\s+(?:\S+\s+){{0,2}}?(?:{_REQUEST}\s+{_OF}\s*(?:\w+\s+)?{_PAYOUT_NOUN}\b|"
                 rf"{_PAYOUT_NOUN}[\s-]?{_REQUEST}\b)|{_REQUEST}\s+(?:\w+\s+)?{_SUBMIT}\s+{_OF}\s*(?:\w+\s+)?"
                 rf"{_PAYOUT_NOUN}\b|(?:auszahlungs(?:anfrage|antrag)|uitbetalingsverzoek)\w*\s+(?:\S+\s+){{0,2}}?"
                 rf"(?:stell\w*|einreich\w*|indien\w*)")


# Two days of each month are two runs a month ("on the 1st and 15th", "am 15. und am 31. des Monats", "le 1er et le 15 de
# chaque mois", "el 1 y el 15 de cada mes"), not days between which something is counted.
_DAY_NUMBER = r"\d{1,2}(?:st|nd|rd|th|er|e|ste|de|º|°|\.)?"
_TWO_DAYS = (rf"(?<!\w)(?<!between )(?<!between the )(?<!zwischen dem )(?<!entre le )(?<!entre el )(?<!entre o )"
             rf"(?<!tussen de )(?<!tra il )(?<!fra il )(?:(?:the|am|le|el|o|dia|os dias|los d[íi]as|il|op de|de)\s+)?"
             rf"{_DAY_NUMBER}\s+(?:and|und|et|y|e|en)\s+(?:(?:the|am|le|el|o|dia|il|de)\s+)?(?:{_DAY_NUMBER}|{_LAST_DAY})"
             rf"(?:\s+{_DAY})?\s+{_OF_EACH}{_MONTH}|\bon the \d{{1,2}}(?:st|nd|rd|th) and (?:the )?\d{{1,2}}(?:st|nd|rd|th)\b")
# A day of a month said of each quarter is the quarter's run ("on the first of the month of each quarter", "am ersten
# Tag des ersten Monats jedes Quartals", "le 15 du mois suivant chaque trimestre").
_QUARTER = r"(?:quarters?|quartals?|trimestres?|trimestri|kwartaal|kwartalen)\b"
_OF_QUARTER = (rf"{_ORDINAL}\s+(?:{_DAY}\s+)?{_OF_EACH}(?:[^\W\d]+\s+)?{_MONTH}\s+(?:{_OF_EACH}|(?:after|following|"
               rf"nach|apr[èe]s|suivant|despu[ée]s de|ap[óo]s|na|dopo)\s+(?:(?:the|each|every|jedem|chaque|cada|elk|"
               rf"ogni|le|el|o|il|het|dem)\s+)?(?:end of (?:the |each )?)?){_QUARTER}")


# A weekday of each month is a monthly run ("on the first Monday of the month", "am ersten Montag des Monats", "le
# premier lundi de chaque mois", "el primer lunes de cada mes", "na primeira segunda-feira do mês").
_NTH = (r"(?:first|second|third|fourth|last|1st|2nd|3rd|4th|erste[nr]?|zweite[nr]?|dritte[nr]?|vierte[nr]?|letzte[nr]?|"
        r"premier|deuxi[èe]me|troisi[èe]me|quatri[èe]me|dernier|primer|segundo|tercer|cuarto|[úu]ltimo|primeira|"
        r"segunda|terceira|quarta|[úu]ltima|primo|secondo|terzo|quarto|ultimo|eerste|tweede|derde|vierde|laatste)")
_WEEKDAY = (r"(?:monday|tuesday|wednesday|thursday|friday|montag|dienstag|mittwoch|donnerstag|freitag|lundi|mardi|"
            r"mercredi|jeudi|vendredi|lunes|martes|mi[ée]rcoles|jueves|viernes|(?:segunda|ter[çc]a|quarta|quinta|sexta)"
            r"(?:-feira)?|luned[ìi]|marted[ìi]|mercoled[ìi]|gioved[ìi]|venerd[ìi]|maandag|dinsdag|woensdag|donderdag|"
            r"vrijdag)")
_WEEKDAY_OF_MONTH = rf"\b{_NTH}\s+{_WEEKDAY}\s+{_OF_EACH}(?:(?:{_NEXT}|{_CURRENT})\s+)?{_MONTH}"


FREQUENCIES = [
    # The end of the month after the one earned in is about 30 days after a month's end: "end of the following
    # month", "fin du mois suivant", "einde van de kalendermaand, volgend op de maand".
    ("net30", _net("30") + _MONTH_AFTER),
    ("net60", _net("60")),
    ("biweekly", r"bi-?weekly|quincena\w*|quinzena\w*|quinzaine|quindicinal\w*|due volte al mese|ogni due settimane|"
                 r"every (?:two|2) weeks|fortnight|twice (?:a|per|each) month|twice monthly|semi-?monthly|"
                 rf"{_TWO_DAYS}|zweimal (?:im|pro) monat|deux fois par mois|dos veces al mes|"
                 r"twee keer per maand|duas vezes por m[êe]s|alle (?:zwei|2) wochen|zweiw[öo]chentlich|14-?t[äa]gig|"
                 r"toutes les deux semaines|bimensuel|cada (?:dos|2) semanas|tweewekelijks|om de (?:twee|2) weken|"
                 r"a cada (?:duas|2) semanas|" + _every("(?:14|15)") +
                 # two pay periods a month: "2 pay periods - from 1st to 15th ... and from 16th to the end"
                 r"|\b(?:two|2|zwei|deux|dos|twee|duas|due)\s+(?:pay|payment|payout|auszahlungs|zahlungs)[\s-]*"
                 r"(?:periods|zeitr[äa]ume|termine|dates)\b"),
    ("weekly", r"\bweekly\b|settimanal\w*|ogni settimana|every week|once a week|"
               r"(?:every|each) (?:monday|tuesday|wednesday|thursday|friday)|"
               r"jeden (?:montag|dienstag|mittwoch|donnerstag|freitag)|chaque (?:lundi|mardi|mercredi|jeudi|vendredi)|"
               r"cada (?:lunes|martes|mi[ée]rcoles|jueves|viernes)|elke (?:maandag|dinsdag|woensdag|donderdag|vrijdag)|"
               r"toda (?:segunda|ter[çc]a|quarta|quinta|sexta)|w[öo]chentlich|jede woche|hebdomadaire|chaque semaine|"
               rf"semanal|cada semana|wekelijks|elke week|toda semana|{_ONCE}\s+(?:{_PER}\s+)?(?:week|woche|semaine|"
               r"semana|settimana)\b|" + _every("7")),
    ("quarterly", r"quarterly|trimestral\w*|ogni trimestre|every (?:three|3) months|viertelj[äa]hrlich|quartalsweise|"
                  rf"{_OF_QUARTER}|trimestri|elk kwartaal|per kwartaal|(?:each|every|per|end of(?: the| each| every)?)\s+(?:[^\W\d]+\s+)?"
                  r"quarter\b|chaque trimestre|cada trimestre|jedes quartal|pro quartal|" + _every("(?:90|91)")),
    ("monthly", r"\bmonthly\b|mensil(?!it)\w*|ogni mese|(?:the|in the|at the) (?:month after|following month|next month)\b|"
                r"month following|monatserst|monatsanfang|monatsende|(?:anfang|ende) (?:des|jedes) (?:folge)?monats|"
                r"begin van de (?:\(?nieuwe\)? |volgende )?maand|d[ée]but (?:de|du) (?:chaque |mois)|"
                r"principio de (?:cada )?mes|in[íi]cio (?:de|do) m[êe]s|(?:beginning|start|first week) of (?:the |each "
                r"|every )?(?:next |following )?month|monthly cycle|todo dia \d+|"
                r"(?:d[íi]a|le|am|op de) \d+\.?e? (?:de cada|de chaque|eines|jedes|van elke|van iedere) "
                rf"(?:m[êe]s|mois|monats|maand)|{_EACH}\s+(?:[^\W\d]+\s+)?{_MONTH}|{_ONCE}\s+(?:{_PER}\s+)?{_MONTH}|"
                rf"{_ORDINAL}\s+(?:{_DAY}\s+)?{_OF_EACH}(?:(?:{_NEXT}|{_CURRENT})\s+)?{_MONTH}|"
                rf"{_END}\s+{_OF_EACH}{_MONTH}|{_WEEKDAY_OF_MONTH}|"
                rf"{_NEXT}\s+{_ONE_MONTH}|(?:le|du|au|del|el|do|o|de|il|het)\s+{_ONE_MONTH}\s+{_NEXT}|"
                r"(?:paid|payouts?|uitbetaling\w*|auszahlung\w*|paiements?|pagos?|"
                r"pagamentos?)\W+(?:\w+\W+){0,3}?(?:per|par|pro|por) (?:month|maand|mois|monat|mes|m[êe]s)\b|"
                r"(?:per|par|pro|por) (?:maand|mois|monat|mes|m[êe]s)\W+(?:\w+\W+){0,2}?(?:betaald|uitbetaald|pay[ée]|"
                r"pagad|pago|ausgezahlt|bezahlt)|monatlich|einmal im monat|folgemonat|mensuel|tous les mois|mensual(?!idad)|"
                r"todos los meses|maandelijks|mensal(?!idade)|" + _every("(?:28|30|31)")),
    ("on_request", r"on request|upon request|on demand|may be requested|can be requested|withdrawal request|"
                   r"cash[\s-]?out request|" + _CLICKED + "|"
                   r"whenever (?:you|they|he|she) (?:want|like|wish|choose)s?|wann immer (?:sie|du) (?:wollen|willst|"
                   r"m[öo]chtest|m[öo]chten)|quand (?:vous|tu) (?:le )?(?:voulez|veux|souhaitez|souhaites)|"
                   r"cuando (?:quieras|lo desees|quiera|lo desee)|quando (?:quiser|desejar|vuoi|desideri)|"
                   r"wanneer (?:je|u) maar (?:wilt|wil)|auf anfrage|auf wunsch|sur demande|a petici[óo]n|"
                   r"bajo petici[óo]n|"
                   r"a solicitud|op aanvraag|op verzoek|sob (?:pedido|solicita[çc][ãa]o)|"
                   # a request of the payout made by its noun ("een verzoek indienen voor een uitbetaling")
                   + _REQUEST_MADE + "|" +
                   # a request of the payout by its verb, either order; a request the payout waits for
                   r"(?:request\w*|solicit\w*|beantrag\w*|anforder\w*|aanvra\w*|aangevraagd|demander|richied\w*|"
                   r"resgat\w*|canje\w*)\s+(?:[^\W\d]+\s+){0,3}?(?:pay[\s-]?outs?|payments?|withdrawals?|"
                   r"cash[\s-]?outs?|commissions?|earnings|funds|credits|cr[ée]ditos|liquidaci[óo]n|liquidazion\w*|"
                   r"pagos?|pagamentos?|retiros?|retiradas?|saques?|paiements?|versements?|retraits?|auszahlung\w*|"
                   r"zahlung\w*|uitbetaling\w*|"
                   r"betaling\w*|prelievo|comisi[óo]n\w*|comiss[õo]es|ganhos|ganancias|guadagni)\b|"
                   r"(?:pay[\s-]?outs?|payments?|auszahlung\w*|uitbetaling|betaling|paiements?|pagos?|pagamentos?)\s+"
                   r"(?:[^\W\d]+\s+){0,2}?(?:beantragen|anfordern|aanvragen|solicitar|demander)\b|"
                   r"(?:after|upon|following|nach|apr[èe]s|despu[ée]s de|ap[óo]s|na|dopo)\s+(?:\S+\s+){0,3}?"
                   r"(?:request|anfrage|antrag|demande|solicitud|solicita[çc][ãa]o|aanvraag|verzoek|richiesta)\b|"
                   # withdrawn at any time
                   r"(?:withdraw|cash[\s-]?out|saque|sacar|saca|retir|auszahl|abheben|opnemen|opvragen|prelev|ritir)\w*"
                   r"\W+(?:\w+\W+){0,4}?(?:at any time|anytime|jederzeit|[àa] tout moment|en cualquier momento|"
                   r"a qualquer momento|op (?:elk|ieder) moment|in qualsiasi momento)"),
]
_FREQUENCY_PATTERNS = [(name, Pattern(pattern, re.I)) for name, pattern in FREQUENCIES]
_SCHEDULES = dict(_FREQUENCY_PATTERNS)
_NET = Pattern(_net("30", counted=False) + _MONTH_AFTER + "|" + _net("60", counted=False), re.I)

# A clause about paying the affiliate: a payout word (CUE; and "paid" as pt/es/it/nl/de say it, "we pay" in seven
# languages), or money or a reward sent ("checks are mailed", "the credits will be issued", "we maken de bedragen over").
_SENT = Pattern(
    r"\b(?:uit)?betaal\w*|\bpag(?:as|os|at[aeio])\b|\bse pag(?:an|ar[áa]n)\b|\b(?:uit)?betaald\b|"
    r"\b(?:aus)?(?:ge|be)zahlt\b|"
    r"\b(?:wir|nous|wij|noi)\s+(?:zahlen|bezahlen|payons|versons|betalen|paghiamo)\b|"
    r"\bpaghiamo\b|"  # the pronoun dropped, as "pagamos" (CUE)
    # a cash-out is a payout ("request a cash out"), as is the button that starts one
    r"\bcash(?:ed|ing)?[\s-]?outs?\b|" + _CLICKED + "|"
    # the program pays the affiliate, said in the third person ("TKNotes pays affiliates monthly", "paie ses affiliés")
    r"\bpays\s+(?:(?:its|our|all|the|their)\s+)?(?:affiliates|partners|referrers|publishers|ambassadors|creators|"
    r"influencers|you)\b|"
    r"\b(?:zahlt|verg[üu]tet)\s+(?:(?:den|seinen|ihren|allen)\s+)?(?:partnern|affiliates|publishern)\b|"
    r"\b(?:paie|r[ée]mun[èe]re)\s+(?:ses|les|nos|leurs)\s+(?:affili[ée]s|partenaires|parrains)\b|"
    r"\bpaga\s+(?:a|aos?|ai)?\s*(?:(?:sus|los|las|os|as|gli|i|suoi|seus)\s+){1,2}(?:afiliad|affiliat|parceir|socios|"
    r"partner)\w*|"
    r"\bbetaalt\s+(?:de|onze|haar|zijn|alle)\s+(?:affiliates|partners|publishers)\b|"
    r"\b(?:che(?:ck|que)s?|credits?|cr[ée]ditos?|rewards?|recompensas?|beloning\w*|bedragen|funds|money|geld|"
    r"dinheiro|dinero|argent|soldi)\s+(?:\S+\s+){0,4}?(?:issued|mailed|sent|transferred|distributed|overgemaakt|over\b|"
    r"verstuurd|verzonden|[üu]berwiesen|envoy[ée]e?s|enviad[oa]s|emitid[oa]s|distribu[íi]d[oa]s)|"
    # a transfer made, sent or done, and "we transfer" ("We make a transfer every month", "Transfers are made on the
    # 10th"); not a customer's transfer ("customers can make a bank transfer")
    r"\btransfers?\s+(?:\S+\s+){0,2}?(?:made|done|sent|carried out|executed|issued)\b|"
    r"\bwe\s+(?:will\s+)?(?:transfer\b|(?:make|do|carry out|execute|send)\s+(?:\S+\s+){0,2}?transfers?\b)", re.I)
# Money of the affiliate's delivered: a verb that moves money with the affiliate's money anywhere in the sentence ("the
# bonus will be deposited ... within the first 5 business days", "As recompensas ... serão distribuídas ... após o
# fechamento de cada mês"); a verb that sends anything only with that money next to it ("We send checks out", "any
# commission due will be sent"), as "our box is sent every month; you earn a commission" is not a payout.
_MOVED = (r"deposit(?:ed|s)?|distribut(?:ed|es?)|transferred|wired|gestort|uitgekeerd|distribu[ée]e?s|"
          r"d[ée]pos[ée]e?s|vir[ée]e?s|deposit(?:ad[oa]s?|ar[áa]n?|a[nm]?)|depositamos|distribu[íi]d[oa]s|"
          r"distribuir[áa]n?|transferid[oa]s|transfieren|transferem|transferimos|abona[nm]?|abonamos|abonad[oa]s|"
          r"abonar[áa]n?|accreditat[aeio]|distribuit[aeio]|versat[aeio]")
_SENDS = (r"sen[dt]s?|go(?:es)? out|going out|mailed|issued|enviamos|verschickt|versendet|verstuurd|verzonden|"
          r"envoy[ée]e?s?|enviad[oa]s|enviar[áa]n?|inviat[aeio]")
_AFFILIATE_MONEY = (
    r"(?:commissions?|comisi[óo]n(?:es)?|comiss[ãa]o|comiss[õo]es|provision(?:en)?|provisies?|commissies?|"
    r"provvigion[ei]|rewards?|recompensas?|r[ée]compenses?|bonus(?:es)?|bonificaci[óo]n(?:es)?|pr[äa]mien?|"
    r"beloning(?:en)?|earnings|ganancias|ganhos|gains|guadagni|verdienste?|che(?:ck|que)s?|credits?|cr[ée]ditos?|"
    r"funds|fondos|fundos|money|geld|dinheiro|dinero|argent|soldi|balance|saldo|solde|guthaben|tegoed)")
_MOVING = Pattern(rf"\b(?:{_MOVED})\b", re.I)
_MONEY_OF_AFFILIATE = Pattern(rf"\b{_AFFILIATE_MONEY}\b", re.I)
# The affiliate's money said payable, as agreements say it ("Commissions are payable monthly", "Provisionen sind
# monatlich zahlbar"): a customer's fee is payable too, so only the affiliate's money is.
_PAYABLE = r"(?:payable|zahlbar|f[äa]llig|exigibles?|pagader[oa]s?|pag[áa]ve(?:l|is)|pagabil[ei]|betaalbaar)"
# The affiliate's money paid, said in the singular passive of Spanish and Portuguese ("La comisión se paga el día 15",
# "A comissão é paga todo mês"; the plural "se pagan", "são pagas" is a payout word by itself): a subscription "se paga"
# too, so only the affiliate's money is.
_PAID_ONE = r"(?:se\s+pag(?:a|ar[áa])|(?:é|ser[áa])\s+pag[ao])"
_SENT_MONEY = Pattern(rf"\b(?:{_SENDS})\s+(?:\S+\s+){{0,2}}?{_AFFILIATE_MONEY}\b|"
                      rf"\b{_AFFILIATE_MONEY}\s+(?:\S+\s+){{0,4}}?(?:{_SENDS}|{_PAYABLE}|{_PAID_ONE})\b", re.I)
# The affiliate's own money, by a possessive ("you will receive your commission on the 15th", "affiliates get their
# earnings monthly", "recibirás tu comisión", "erhalten Sie Ihre Provision", "riceverai le tue provvigioni"), is
# money paid; "you receive a commission every month" is as often one that recurs, money "back" is a refund, and
# "your commission rate" or "your commission report" is not the money.
_POSSESSIVE = (r"(?:your|their|tus?|sus?|vos|votre|ihre?[nm]?|deine?[nm]?|je|jouw|uw|suas?|seus?|tuo|tua|tuoi|tue|"
               r"leurs?)")
_OWN_MONEY = (r"(?:commissions?|comisi[óo]n(?:es)?|comiss[ãa]o|comiss[õo]es|provision(?:en)?|provisies?|"
              r"commissies?|provvigion[ei]|earnings|ganancias|ganhos|gains|guadagni|verdienste?|verg[üu]tung(?:en)?|"
              r"rewards?|recompensas?|r[ée]compenses?|beloning(?:en)?|pay[\s-]?outs?|payments?|money|funds|"
              r"geld|argent|dinero|dinheiro|soldi)")
# A check or a deposit received is a payout ("you will receive a commission check or direct deposit").
_RECEIVED_MONEY = Pattern(
    r"\b(?:receive|recib|receb|recev|re[çc]oi|erh[äa]lt|bekomm|ontvang|krijg|ricev)\w*\s+(?:\S+\s+){0,3}?"
    r"(?:che(?:ck|que)s?|deposits?|transfers?|virements?|transferencias?|transfer[êe]ncias?|[üu]berweisung\w*|"
    r"overboeking\w*|bonifico)\b|\bpay periods?\b|"
    r"\b(?:receive|get|got|recib|receb|recev|re[çc]oi|erh[äa]lt|bekomm|ontvang|krijg|ricev)\w*\s+(?:\S+\s+)?"
    rf"{_POSSESSIVE}\s+(?:\S+\s+){{0,2}}?{_OWN_MONEY}\b(?!\s+(?:back|rates?|structure|tiers?|levels?|reports?|"
    r"statements?|links?|codes?)\b)", re.I)
# A question of when the payout comes ("¿Cuándo recibiré mi comisión?", "How often do I get paid?"): the sentence
# answering it says when, unless it speaks of the customer, whose payments have schedules of their own.
_CUSTOMER = Pattern(r"\b(?:customers?|clients?|kunden?|klant(?:en)?|clientes?|filleuls?|referred|referrals?|"
                    r"indicad[oa]s?|referid[oa]s?|subscri\w*|abonn\w*|suscrip\w*|assinante\w*|abbonat\w*)\b", re.I)
_WHEN = Pattern(r"\b(?:when|how often|how frequently|how long|how soon|wann|wie oft|wie lange|quand|combien de temps|"
                r"[àa] quelle fr[ée]quence|cu[áa]ndo|cu[áa]nto tiempo|quanto tempo|hoe lang|"
                r"con qu[ée] frecuencia|quando|com que frequ[êe]ncia|wanneer|hoe vaak|ogni quanto|"
                r"con quale frequenza)\b", re.I)
# A question or heading about the affiliate receiving the commission ("¿Cuándo recibiré mi comisión?") opens a payout
# section; in a clause the same words are as often a commission that recurs ("you receive a commission every month").
_RECEIVED = Pattern(
    r"\b(?:receive|get|recib|receb|recev|re[çc]oi|erh[äa]lt|bekomm|ontvang|krijg|ricev|percev)\w*\s+(?:\S+\s+){0,2}?"
    r"(?:commissions?|comisi[óo]n\w*|comiss[ãa]o|comiss[õo]es|provision\w*|provisie\w*|commissie\w*|provvigion\w*|"
    r"earnings|payouts?|verg[üu]tung|beloning|ganancias|ganhos|gains|guadagni|rewards?|recompensas?|"
    # the money itself ("How long will it take to receive my money?")
    r"money|geld|argent|dinero|dinheiro|soldi|funds)\b", re.I)
# A span a commission recurs for, not a payout run: "every month for as long as", "jeden Monat, solange".
_WHILE = Pattern(r"^\W*(?:\S+\s+){0,3}?(?:while|as long as|so long as|solange|tant que|aussi longtemps|mientras|zolang|"
                 # a condition on the balance is the payout's threshold ("monthly, so long as the total exceeds $50")
                 r"enquanto|finch[ée]|fintanto)\b(?!\W+(?:\S+\s+){0,3}?(?:total|balance|minimum|threshold|saldo|"
                 r"guthaben|solde|gesamt\w*|totale?|tegoed|\w*betrag|montant|importe|montante|bedrag|importo|"
                 # or said as a sum the affiliate reaches or earns ("as long as you've earned at least EUR 100")
                 r"at least|a minimum|mindestens|au moins|al menos|pelo menos|minstens|almeno|reach\w*|erreich\w*|"
                 r"atteign\w*|alcanc\w*|alcan[çc]\w*|bereik\w*|raggiung\w*))|"
                 r"^\W*(?:the|your|a|der|le|el|o|de|il)?\s*(?:customer|client|referr|kunde|filleul|referid|klant|"
                 r"indicad|cliente)", re.I)
_FOR_EACH = Pattern(r"(?:for|f[üu]r|pour|por|voor|per)\s+(?:each|every|jeden|chaque|cada|elke|iedere|ogni)\s*$", re.I)

# What a schedule near it is about when it is not the payout: a lock or approval, a commission earned, sales monitored,
# a reset, a renewal or billing, a report ("Actions will lock on the 10th of the following month and are then closed
# for payment").
_OTHER_NOTION = Pattern(
    r"\b(?:lock\w*|approv\w*|validat\w*|valid(?:an?|ad[oa]s?|ano|at[aeio])\b|confirm\w*|updat\w*|aktualisiert|"
    r"mis(?:es)? à jour|actualiza\w*|atualiza\w*|bijgewerkt|aggiornat\w*|cobrad[oa]s?\b|earn(?:s|ed|ing)?\b|"
    r"monitor\w*|tracked|[üu]berwacht\w*|surveill[ée]\w*|"
    r"reset\w*|renew\w*|bill(?:s|ed|ing)?|charged|subscri\w*|report(?:s|ing|es)?|statistic\w*|"
    r"gesperrt|sperr\w*|genehmig\w*|freigegeben|best[äa]tig\w*|verrouill\w*|approuv\w*|valid[ée]\w*|aprob\w*|"
    r"aprova\w*|approvat\w*|goedgekeurd|goedkeur\w*|vergrendel\w*|bloquead\w*|bloccat\w*|zur[üu]ckgesetzt|"
    r"r[ée]initialis\w*|reinici\w*|azzera\w*|renouvel\w*|renova\w*|rinnov\w*|verl[äa]nger\w*|verleng\w*|abonn\w*|"
    r"suscrip\w*|assinatura|abbonament\w*|rapports?|relat[óo]rios?|informes?|berichte?|statisti\w*|estad[íi]stic\w*|"
    r"estat[íi]stic\w*|invoic\w*|factur\w*|gefactureerd|fattur\w*|\w*rechnung\w*|newsletters?|nieuwsbrie\w*|"
    # the period a commission is earned or counted in ("The commission period starts on the first day of the month")
    r"(?:commission|sales|tracking|earnings?|referral)\s+(?:period|cycle|window)s?|provisionszeitr[äa]ume?|"
    r"provisionsperiode\w*|commissieperiode\w*|p[ée]riodes? de commissions?|per[íi]odos? de comisi[óo]n\w*|"
    r"per[íi]odos? de comiss[ãa]o|periodo di provvigion\w*)\b", re.I)
# The customer paying is a billing period, not a payout, wherever it stands ("Customers pay monthly or yearly" under
# "Payments", "Your referrals pay monthly; you get 20%", "Les clients paient chaque mois", "Klanten betalen
# maandelijks").
_CUSTOMER_PAYS = Pattern(
    rf"(?:{_CUSTOMER.pattern}|\bclienti\b)" + r"\s+(?:\S+\s+){0,2}?(?:pay|pays|zahl(?:t|en)|bezahl(?:t|en)|"
    r"pai(?:e|ent)|pag(?:a|an|am|ano)|betal(?:t|en)|(?:are|is|get|werden|wird|sont|est|son|es|s[ãa]o|é|worden|wordt|"
    r"sono|viene|vengono)\s+"
    r"(?:billed|charged|factur[ée]e?s|facturad[oa]s|faturad[oa]s|gefactureerd|fatturat[ioe]|abgerechnet|belastet))\b|"
    # their payments by a noun ("Customer payments are processed weekly"); not a referral's, which is the affiliate's
    r"\b(?:customer|client|kunden)(?:'s|s'|s)?[\s-]*(?:payments?|zahlungen)\b|"
    r"\b(?:paiements?|pagos?|pagamentos?|pagamenti|betalingen)\s+(?:des|de|dos|das|dei|van)\s+(?:los\s+|de\s+)?"
    r"(?:clients?|clientes|clienti|klanten)\b",
    re.I)
# An affiliate said to be approved is who is paid, not an approval the schedule is of ("Approved partners can request
# withdrawals", "Les affiliés approuvés peuvent demander un paiement"); so is what an approval qualifies as an
# adjective ("We pay all approved results each Wednesday", "les commissions validées"), not commissions approved on a
# run.
_PAID_ONES = (r"(?:partners?|affiliates?|publishers?|members?|users?|accounts?|creators?|influencers?|ambassadors?|"
           r"referrers?|partner\w*|affili[ée]s?|partenaires?|afiliad[oa]s?|socios?|parceir[oa]s?|affiliati|"
           # what is approved and paid
           r"commissions?|results?|sales|referrals?|transactions?|earnings|conversions?|leads?|orders?|actions?|"
           r"provision(?:en)?|ums[äa]tze|transaktionen|commissies|resultaten|verkopen|r[ée]sultats|ventes|"
           r"comisiones|comiss[õo]es|ventas|vendas|transacciones|transa[çc][õo]es|provvigioni|vendite|transazioni)")
_APPROVED_PAID = Pattern(rf"\b(?:approved|validated|confirmed|freigegebene[n]?|genehmigte[n]?|best[äa]tigte[n]?|"
                         rf"goedgekeurde)\s+{_PAID_ONES}\b|\b{_PAID_ONES}\s+(?:approuv[ée]e?s?|valid[ée]e?s?|"
                         rf"aprobad[oa]s|aprovad[oa]s|approvati|approvate|validati|validate|confirm[ée]e?s|"
                         rf"confirmad[oa]s)\b", re.I)


# What is not the payout's schedule: "rather than weekly", "the first monthly payment", "monthly plans", a monthly
# amount ("o valor mensal pago em comissão"), a request one need not make.
_NOT_THE_SCHEDULE = Pattern(
    r"(?:rather than|instead of|statt|anstatt|plut[ôo]t que|en lugar de|in plaats van|em vez de)\s+\S+|"
    r"(?:first|every|each|the) monthly|\bmonthly (?:plans?|subscriptions?|fees?|billing|prices?|recurring)|"
    # a period beside a yearly one is a billing plan's: no payout in the set is yearly ("Customers can pay monthly or
    # yearly", "mensuellement ou annuellement", "maandelijks of jaarlijks")
    r"\b(?:monthly|mensual(?:mente)?|mensal(?:mente)?|mensuel(?:le)?(?:ment)?|monatlich|maandelijks|mensilmente|"
    r"mensile)\s+(?:or|oder|ou|o|of|e|y|and|und|et|en)\s+(?:yearly|annually|annual|j[äa]hrlich|annuel(?:le)?(?:ment)?|"
    r"anual(?:mente)?|jaarlijks|annualmente|annuale)\b|\b(?:yearly|annually|annual|j[äa]hrlich|annuel(?:le)?(?:ment)?|"
    r"anual(?:mente)?|jaarlijks|annualmente|annuale)\s+(?:or|oder|ou|o|of|e|y|and|und|et|en)\s+(?:monthly|"
    r"mensual(?:mente)?|mensal(?:mente)?|mensuel(?:le)?(?:ment)?|monatlich|maandelijks|mensilmente|mensile)\b|"
    r"monthly payments? (?:your|of|made by|from) (?:the )?(?:referr|customer|client)|"
    r"(?:renews?|renewal|subscri\w*|billed|charged|plans?)\W+(?:\w+\W+){0,4}?(?:every|each) (?:month|week|year)|"
    r"(?:options|op[çc][õo]es|opciones|optionen|choose between|w[äa]hlen sie)\b.*|"
    r"\b(?:monthly|weekly|quarterly|daily) (?:reports?|statements?|newsletters?|updates?|bonus(?:es)?|contests?|"
    r"promotions?|sales|traffic|visitors|performance|stats|statistics)\b|"
    r"\b(?:valor|montant|importe|bedrag|betrag|amount|income|revenue|ingresos?|receita|rendimento|einnahmen|"
    r"einkommen|inkomsten|revenus?|reddito|volumen?|umsatz|omzet|b[ée]n[ée]fices?|beneficios?|lucros?|winst|utile|"
    r"profitto)\s+(?:mensal|mensuel\w*|mensual|mensile|maandelijks\w*|monatlich\w*)|(?:monthly|monatliche[nr]?|"
    r"mensuel(?:le)?s?|maandelijkse|mensais|mensuales|mensili)\s+(?:amount|income|revenue|volume|turnover|profits?|"
    # a profit, German compounds too ("vom erwirtschafteten monatlichen Gesamtgewinn")
    r"\w*(?:einnahmen|einkommen|umsatz|gewinn|ertrag|betrag)\w*|revenus?|inkomsten|omzet|winst)|"
    # a threshold or a cap per month is the amount's ("clear a monthly threshold of $65 to be paid", "seuil mensuel")
    r"(?:monthly|monatliche[nr]?|mensuel(?:le)?s?|mensual(?:es)?|mensais|mensal|mensil[ei]|maandelijkse)\s+"
    r"(?:(?:payout|payment|earnings?|sales|commission|auszahlungs|zahlungs)[\s-]*)?(?:thresholds?|minimum|cap|limits?|"
    r"targets?|quotas?|mindest\w*|schwelle|grenze|seuils?|plafonds?|minimo|m[íi]nimo|umbral|l[íi]mites?|drempel|"
    r"soglia)\b|\b(?:thresholds?|seuils?|umbral|l[íi]mites?|soglia|plafonds?|minimo|m[íi]nimo|drempel)\s+(?:\w+\s+)?"
    r"(?:mensuel\w*|mensual\w*|mensal|mensile|maandelijks\w*)|"
    # a right the program reserves ("reserves the right to amend or withdraw this offer at any time")
    r"\b(?:reserves?|reserving)\s+the\s+right\b[^.;]*|\bbeh[äa]lt\s+sich\b[^.;]*|"
    r"\br[ée]serv\w*\s+le\s+droit\b[^.;]*|\breserva(?:mos)?(?:-se)?\s+(?:el|o)\s+(?:derecho|direito)\b[^.;]*|"
    r"\bbehoud\w*\s+(?:\S+\s+)?het\s+recht\b[^.;]*|\briserva\w*\s+il\s+diritto\b[^.;]*|"
    # a means of payment offered on request is a means, not a run ("Payment by cheque is available upon request")
    r"\b(?:che(?:ck|que)s?|ch[èe]ques?|schecks?|gift[\s-]?cards?|gutscheine?|cartes?[\s-]cadeaux?|tarjetas?\s+regalo|"
    r"cart[õo]es?[\s-]presente|cadeaubon\w*|buoni\s+regalo|vouchers?|wire(?:\s+transfers?)?|bank\s+transfers?|"
    r"crypto\w*|store\s+credit)\b[^.;]{0,80}?\b(?:(?:available|possible|offered|verf[üu]gbar|m[öo]glich|disponibles?|"
    r"dispon[íi]ve(?:l|is)|beschikbaar|mogelijk|disponibil[ei])\s+(?:\S+\s+)?(?:(?:up)?on\s+(?:request|demand)|"
    r"auf\s+(?:anfrage|wunsch)|sur\s+demande|(?:a|bajo)\s+petici[óo]n|sob\s+(?:pedido|solicita[çc][ãa]o)|"
    r"op\s+(?:aanvraag|verzoek)|su\s+richiesta)|(?:auf\s+(?:anfrage|wunsch)|op\s+(?:aanvraag|verzoek))\s+(?:\S+\s+)?"
    r"(?:verf[üu]gbar|m[öo]glich|beschikbaar|mogelijk))|"
    # a request of the first payout only: the later ones follow a run or a setting ("request your first payment")
    r"\b(?:request|beantrag|anforder|demand|solicit|aanvra|richied)\w*\s+(?:(?:your|the|a|ihre|die|votre|le|tu|el|seu|"
    r"o|je|de|il|tuo)\s+)?(?:first|erste\w*|premi(?:er|ère)|primer\w*|primeir\w*|eerste|prim[oa])\s+(?:pay[\s-]?outs?|"
    r"payments?|withdrawals?|auszahlung\w*|paiements?|versements?|pagos?|pagamentos?|uitbetaling\w*|pagament\w*)\b|"
    r"\b(?:first|erste\w*|premi(?:er|ère)|primer\w*|primeir\w*|eerste|prim[oa])\s+(?:pay[\s-]?outs?|payments?|"
    r"withdrawals?|auszahlung\w*|paiements?|pagos?|pagamentos?|uitbetaling\w*|pagament\w*)\s+(?:\S+\s+){0,3}?"
    r"(?:requested|beantragt|angefordert|demand[ée]e?|solicitad[oa]|aangevraagd|richiest[oa])\b|"
    r"(?:no need|not need|never need|n't need|without|ohne|sans|sin|sem|zonder|senza|hoeft)\s+(?:\S+\s+){0,4}?"
    r"(?:request|anfrage|demande|solicit|aanvra|verzoek|richiest|beantrag)\w*|"
    rf"{OTHER_PROGRAMS}[^,;.]*", re.I)
_HEDGE = Pattern(r"\b(?:g[ée]n[ée]ralement|generally|in general|im allgemeinen|en general|em geral|"
                 r"over het algemeen|usually|typically|normalement|normalmente|in der regel|"
                 # what may be the case ("It could be the case that Daisycon only pays you when you request")
                 r"(?:it|this)\s+(?:could|may|might)\s+be\s+(?:the\s+case|that)|"
                 r"es\s+kann\s+(?:sein|vorkommen),?\s+dass|"
                 r"il\s+se\s+peut\s+que|puede\s+(?:ser|darse\s+el\s+caso)\s+(?:de\s+)?que|pode\s+ser\s+que|"
                 r"het\s+kan\s+zijn\s+dat|pu[òo]\s+(?:darsi|essere)\s+che)\b", re.I)
# A schedule in the clause of a rate is how often the commission recurs ("paid 20% every month for each active
# subscriber", "$1 per month for each month they pay"), not when the affiliate is paid.
_RATE_CLAUSE = Pattern(rf"\d\s*%|(?:{MONEY.pattern})\s*(?:per|a|/|pro|par|por|al|for (?:each|every)|je)\b", re.I)


# A bonus beside a commission the text names is a reward of its own, often on a schedule of its own ("Up-front bonuses
# are paid weekly. Monthly residuals are paid monthly"; "your monthly bonus is paid by the 10th", the commission on
# request); where the bonus is the only reward, its run is the payout's.
_BONUS = Pattern(r"\b(?:bonus(?:es|se[sn]?)?|b[ôo]nus|bonific\w*|pr[äa]mien?|premi[oa]s?|pr[ée]mios?|incentives?|"
                 r"prizes?)\b", re.I)
_COMMISSION = Pattern(r"\b(?:commissions?|comisi[óo]n\w*|comiss[ãa]o|comiss[õo]es|provision\w*|provisie\w*|"
                      r"commissie\w*|provvigion\w*|earnings|residuals?|ganancias|ganhos|gains|guadagni|verdienst\w*)\b",
                      re.I)


# A run the affiliate opts into, or one said of the accounts paid by one method, is an option beside the default run
# when said before the run ("Affiliates may elect to be paid weekly", "If you opt for direct deposit, you are paid
# weekly", "Accounts that are paid via direct deposit receive payments weekly"). What is chosen is the pay or a method,
# not "if you choose to join"; "paid monthly via the method you choose" chooses the method after the run, and
# "eligible" is no option ("eligible for payout 30 days after the end of the month" is the default's timing).
_CHOSEN = (r"\s+(?:\S+\s+){0,3}?(?:paid|pay\w*|receiv\w*|deposits?|paypal|bank|wire|che(?:ck|que)s?|transfers?|ach|"
           r"crypto\w*|methods?)\b")
_OPTION = Pattern(
    rf"\b(?:may|can|could|might)\s+(?:also\s+)?(?:elect|opt|choose|select|prefer){_CHOSEN}|"
    rf"\b(?:opted|elects?|elected){_CHOSEN}|"
    r"\b(?:if|who|whoever)\s+(?:\S+\s+){0,3}?(?:opts?|opted|elects?|elected|chooses?|chose|selects?|selected|"
    rf"prefers?|preferred){_CHOSEN}|\boptional(?:ly)?\b|"
    # (not "for affiliates that have reached $50": a threshold every run has)
    r"\b(?:accounts|affiliates|partners|publishers|members|users|those)\s+(?:that|who|which)\s+(?:are|get)\s+paid\s+"
    r"(?:via|by|through|with)\b|\bfor\s+(?:those\s+)?(?:accounts|affiliates|partners|publishers|members|users)\s+"
    r"(?:under|over|below|above|paid|using)\b|"
    r"\b(?:wenn|falls)\s+(?:\S+\s+){0,5}?(?:w[äa]hl|entscheid)\w*|\bsi vous (?:choisissez|optez)\b|"
    r"\bsi (?:eliges|elige|optas|opta)\b|\bse (?:escolher|optar)\b|\bals je\s+(?:\S+\s+){0,4}?kiest\b|\bse (?:scegli|opti)\b",
    re.I)
# A run said to depend on the method, the country or the account, before or after it ("processed on the 1st and
# 15th of each month depending on your payment type", "je nach Zahlungsart").
_DEPENDS = Pattern(r"\b(?:depending|depends?|dependent)\s+(?:up)?on\b|\bje nach\b|\ben fonction d[eu]\b|"
                   r"\bdependiendo d|\bdependendo d|\bafhankelijk van\b|\ba seconda d", re.I)


def _optional(text: str, frequency: str) -> bool:
    """A run said as an option or as depending on something (`_OPTION`, `_DEPENDS`)."""
    text = figures(text)
    option, run = _OPTION.search(text), _SCHEDULES[frequency].search(text)
    return bool(_DEPENDS.search(text) or option and (run is None or option.start() < run.start()))


# A short line under a payout heading needs no word of paying when it is a value ("Monthly via PayPal"), but one a
# person is the subject of says what they do ("We review applications weekly", "Our manager will contact you every
# month"), as one a thing is the subject of says what it does (`_said_as_value`).
_SUBJECT = Pattern(r"^\W*(?:we|you|they|our|wir|unser\w*|nous|notre|nos|vous|nosotros|nuestr\w*|n[óo]s|noss[oa]s?|"
                   r"wij|onze|noi|nostr[oaie])\b", re.I)


def payout_frequency_in(doc: Doc, topics: list[str | None]) -> tuple[str | None, str | None]:
    """The first schedule said of a payout; a payment run ("paid on the 15th of every month") wins over
    the request that starts it ("request a withdrawal"), and both over a run said of a bonus alone. A run said as an
    option gives way to a run said without one, wherever it stands (the default), and wins over the rest."""
    requested = bonus_run = optional = None
    names_commission = bool(_COMMISSION.search(doc.text))
    for i, unit in enumerate(doc.units):
        text = before_example(unit.norm)
        # A unit answering a question or heading about payouts ("¿Cuándo recibiré mi comisión?") is in its section.
        asked = doc.units[i - 1].norm if i else ""
        about = i > 0 and bool(_about_paying(asked) or _RECEIVED.search(asked))
        answers = about and unit.first_in_line and (doc.units[i - 1].heading or asked.endswith("?"))
        # The sentence right after a question of when the payout comes ("When will I get paid?", on its line or the
        # next) says when without a payout word of its own, unless it speaks of the customer.
        says_when = about and asked.endswith("?") and bool(_WHEN.search(asked)) and not _CUSTOMER.search(text)
        section = topics[i] == "payout" or answers or says_when
        if not text.strip() or not (section or _about_paying(text)) or _HEDGE.search(text) \
                or text.rstrip().endswith("?"):
            continue  # a schedule asked about ("Is your payment frequency set to "payment upon request"?") is not said
        short = section and len(text.split()) <= 8 and not _SUBJECT.match(text)
        frequency = _frequency_of(text, short=says_when or short, answer=says_when)
        if frequency == "on_request":
            requested = requested or (None if unit.heading else (frequency, unit.raw))
        elif frequency and names_commission and _BONUS.search(text) and not _COMMISSION.search(text):
            bonus_run = bonus_run or (frequency, unit.raw)
        elif frequency and (_optional(text, frequency) or unit.text.endswith(":") and len(text.split()) <= 4):
            # a label introducing what follows ("Each month:") gives way to a run said under it
            optional = optional or (frequency, unit.raw)
        elif frequency:
            return frequency, unit.raw
    if optional or requested or bonus_run:
        return optional or requested or bonus_run
    for unit in doc.units:  # net terms are payout terms wherever they stand
        net = _NET.search(figures(unit.text))
        if net:
            return ("net60" if "60" in net.group(0) else "net30"), unit.raw
    return None, None


def _pays(text: str) -> bool:
    return bool(CUE.search(text) or _SENT.search(text) or _RECEIVED_MONEY.search(text) or _SENT_MONEY.search(text))


def _about_paying(text: str) -> bool:
    return _pays(text) or bool(_MOVING.search(text) and _MONEY_OF_AFFILIATE.search(text))


def _said_of_paying(text: str, match: re.Match) -> bool:
    """A payout word near the value (100 characters before it, 60 after) or in its clause, or in its sentence where
    the value's clause opens it ("At the end of the month, if …, you will receive a commission check"); or a verb
    moving money there, the money named anywhere in the sentence ("As recompensas … serão distribuídas de forma
    periódica, após o fechamento de cada mês"). Not anywhere in a long sentence: "our contests, which we hold every
    month" beside "Payment details" at its start is no schedule."""
    own = _own_clause_start(text, match)
    window = text[max(own, match.start() - 100):match.end() + 60]
    clause, start = _clause_at(text, match.start())
    low, high = max(0, match.start() - 300), min(len(text), match.end() + 300)
    begin = max(max(text.rfind(mark, low, match.start()) for mark in (". ", "? ", "! ")) + 1, low)
    stops = [e for e in (text.find(mark, match.end(), high) for mark in (". ", "? ", "! ")) if e >= 0]
    sentence = text[begin:min(stops, default=high)]
    scope, scope_start = (sentence, begin) if not text[begin:start].strip() else (clause, start)
    scope = text[max(own, scope_start):scope_start + len(scope)]
    return _pays(window) or _pays(scope) or bool((_MOVING.search(window) or _MOVING.search(scope))
                                                 and _MONEY_OF_AFFILIATE.search(sentence))


# Where a clause of its own may start: a semicolon or a label's colon, a conjunction after a comma, or one before a
# person ("…, and new banners are added every week", "… and our team reviews applications weekly", "…; jede Woche gibt
# es …", "Payment information: the dashboard refreshes every week").
_NEW_CLAUSE = Pattern(r"[;:]|,\s*(?:and|und|et|y|e|en|ed|but|aber|mais|pero|mas|maar|ma)\b|"
                      r"\b(?:and|und|et|y|e|en|ed)\s+(?=(?:we|our|wir|unser\w*|nous|notre|nos|nosotros|nuestr\w*|"
                      r"n[óo]s|noss[oa]s?|wij|onze|noi|nostr[oaie])\b)", re.I)


# A pronoun naming again what the clause before spoke of ("Payments are sent by PayPal, and they go out monthly").
_BACK = Pattern(r"\W*(?:they|it|these|sie|es|ils|elles?|ellos|ellas|eles|elas|zij|ze|het|essi|esse)\b", re.I)


def _own_clause_start(text: str, match: re.Match) -> int:
    """Where a clause of its own begins before the value (within 100 characters) that is no value but says what
    something else does ("Payouts are made by PayPal; we send a summary every month", "Commissions are paid via
    PayPal, and new banners are added every week"): words before it do not say the value is the payout's. 0 if none."""
    low = max(0, match.start() - 100)
    cuts = [low + m.end() for m in _NEW_CLAUSE.finditer(text[low:match.start()])]
    if not cuts or _said_as_value(text, match, cuts[-1]) or _BACK.match(text[cuts[-1]:match.start()]):
        return 0
    return cuts[-1]


def _clause_at(text: str, at: int, reach: int = 300) -> tuple[str, int]:
    """The clause around `at` and where it starts, at most `reach` characters either side (a text without
    commas stays linear)."""
    low, high = max(0, at - reach), min(len(text), at + reach)
    start = max(max(text.rfind(mark, low, at) for mark in (",", ";", ":", "(", ". ")) + 1, low)
    ends = [e for e in (text.find(mark, at, high) for mark in (",", ";", ")", ". ")) if e >= 0]
    return text[start:min(ends, default=high)], start


def _nearest_before(pattern: Pattern, clause: str, at: int) -> int | None:
    """How far before the value at `at` (a clause offset) the pattern's nearest match in the clause ends."""
    return min((at - m.end() for m in pattern.finditer(clause[:at])), default=None)


# A word between a schedule and the noun it qualifies ("monthly affiliate newsletter"); not one that starts another
# phrase ("paid monthly via invoice").
_ONE_WORD = (r"^(?!(?:via|by|per|on|upon|after|before|with|against|through|par|por|através|tramite|met|mit|nach|na|"
             r"após|au|en|in|op|bij|zum|zur|à|a|de|di|da|do|for|f[üu]r|pour|para|voor|once|when|sobald|wenn|d[èe]s|"
             r"quand|cuando|quando|zodra|appena)\b)\w+\s+")


def _schedules_something_else(text: str, match: re.Match) -> bool:
    """The notion nearest the value in its clause decides: a rate, advice ("mensuel recommandé"), or a lock,
    reset, renewal, invoice or report said before it, nearer than any word of paying (the verb a time is said of
    comes first: "Actions will lock on the 10th of the following month", "paid on the 20th of the month
    following the lock date"); the customer paying is such a notion, and a label's words count as its value's clause
    ("Reporting: weekly")."""
    clause, start = _clause_at(text, match.start())
    if _RATE_CLAUSE.search(clause) or ADVICE.search(clause) or _WHILE.search(text[match.end():match.end() + 60]) \
            or _FOR_EACH.search(text[max(0, match.start() - 20):match.start()]):
        return True
    after = re.sub(r"^\w*(?:'s)?\W+", "", text[match.end():match.end() + 60])
    if _OTHER_NOTION.match(after) or _OTHER_NOTION.match(re.sub(_ONE_WORD, "", after)) \
            or _notion_said_last(text, match):
        return True  # the noun the schedule qualifies: "Maandelijkse facturatie", "our monthly affiliate newsletter"
    if start > 0 and text[start - 1] == ":":
        # A label names what its value schedules ("Reporting: weekly", "Approval: monthly" under "Payouts").
        end = start + len(clause)
        start = max(max(text.rfind(mark, 0, start - 1) for mark in (",", ";", ":", "(", ". ")) + 1, start - 60)
        clause = text[start:end]
    at = match.start() - start
    customer = _CUSTOMER_PAYS.sub(lambda m: " " * len(m.group(0)), clause)
    notions = _APPROVED_PAID.sub(lambda m: " " * len(m.group(0)), clause)
    others = [d for d in (_nearest_before(_OTHER_NOTION, notions, at), _nearest_before(_CUSTOMER_PAYS, clause, at))
              if d is not None]
    if not others:
        return False
    paying = [d for d in (_nearest_before(word, customer, at) for word in (CUE, _SENT, _SENT_MONEY, _MOVING))
              if d is not None]
    return not paying or min(others) < min(paying)


# A notion said as a condition of the run ("monthly once approved", "monatlich, sobald freigegeben").
_CONDITION = Pattern(r"\b(?:once|after|upon|when|sobald|nach|nachdem|d[èe]s|apr[èe]s|despu[ée]s|cuando|una vez|"
                     r"ap[óo]s|quando|assim que|zodra|na|nadat|dopo|appena)\s+(?:\S+\s+){0,2}?\S+", re.I)


def _notion_said_last(text: str, match: re.Match) -> bool:
    """With no word of paying in its clause, a notion's verb said after the value decides ("Die Provisionen werden
    monatlich vom Händler bestätigt", "De klant wordt maandelijks gefactureerd"), not a condition ("monthly, once
    approved")."""
    clause, start = _clause_at(text, match.start())
    if _pays(clause) or _MOVING.search(clause):
        return False
    return bool(_OTHER_NOTION.search(_CONDITION.sub(" ", clause[match.end() - start:])))


# What may stand before a schedule said as a value ("On the 15th of each month", "Am 15. jedes Monats", "Le 15 de
# chaque mois"): a preposition or a word saying when, not a subject ("New creatives are added every week").
_VALUE_LEAD = Pattern(r"^\W*(?:on|by|at|around|about|in|from|via|before|after|within|until|once|twice|am|zum|bis|"
                      r"jeweils|im|ab|per|nach|innerhalb|einmal|le|au|à|par|vers|dès|avant|el|al|por|hasta|antes|dentro|"
                      r"op|rond|voor|na|binnen|eens|no|até|il|entro|entre|tra|fra)\b", re.I)
# The means or the payer paying said before a value ("Transfers happen every month", "Die Überweisung erfolgt
# monatlich", "The program pays monthly").
_MEANS_OR_PAYER = Pattern(r"\b(?:che(?:ck|que)s?|deposits?|transfers?|wires?|remittances?|virements?|transferencias?|"
                          r"transfer[êe]ncias?|[üu]berweisung\w*|overboeking\w*|overmaking\w*|bonifici?|paypal|payoneer|"
                          r"pays?|zahlt|paie|paga|betaalt)\b", re.I)
# A person said as the subject right after a schedule that opens the line ("Each month we pick a winner", "Jeden Monat
# wählen wir", "Chaque mois nous publions"), or by the verb where the pronoun is dropped ("cada semana añadimos",
# "toda semana adicionamos", "ogni settimana aggiungiamo").
_PERSON_AFTER = Pattern(r"^\W*(?:\w+\s+)?(?:we|wir|nous|wij|noi|nosotros|n[óo]s|\w{3,}(?:amos|emos|imos|iamo))\b", re.I)


def _said_as_value(text: str, match: re.Match, start: int = 0) -> bool:
    """A schedule standing as a value (a short line under a payout heading, or a clause of its own) needs no word of
    paying: alone or after a label, a comma or a preposition ("Monthly via PayPal", "Frequency: monthly", "On the
    15th of each month"), or after the affiliate's money, a means or a payer ("Commissions are processed monthly",
    "Transfers happen every month", "The program pays monthly"). A sentence whose
    subject is a thing ("New creatives are added every week", "Neue Werbemittel werden jede Woche hinzugefügt", "Les
    commandes sont expédiées chaque semaine") or a person ("Each month we pick a winner") says what that does."""
    lead = re.split(r"[:,;|(–]|\s-\s", text[max(start, match.start() - 100):match.start()])[-1]  # a bounded look
    if _PERSON_AFTER.match(text[match.end():match.end() + 40]):
        return False
    return len(lead.split()) <= 1 or bool(_VALUE_LEAD.match(lead) or _MONEY_OF_AFFILIATE.search(lead)
                                          or re.search(_OWN_MONEY, lead, re.I) or _MEANS_OR_PAYER.search(lead))


def _frequency_of(text: str, short: bool = True, answer: bool = False) -> str | None:
    """A schedule said of a payout ("monthly reports" beside "payments" elsewhere in a long sentence is not one);
    a bare value under a payout heading needs no payout word, nor does a request in the `answer` to when the money
    comes ("How long will it take to receive my money? Upon your request, …")."""
    text = _NOT_THE_SCHEDULE.sub("", figures(text))
    said: list[tuple[int, int, str]] = []
    taken = bytearray(len(text))  # a specific schedule's words are not also a general one's ("paid twice per month")
    for name, pattern in _FREQUENCY_PATTERNS:
        for match in pattern.finditer(text):
            if any(taken[match.start():match.end()]) or _schedules_something_else(text, match):
                continue
            if short and (name != "on_request" or answer) and (answer or _said_as_value(text, match)) \
                    or _said_of_paying(text, match):
                said.append((match.start(), len(said), name))
                taken[match.start():match.end()] = b"\x01" * (match.end() - match.start())
    # The schedule said first is the rule, a later one its exception ("monthly, weekly for partners over
    # $1,000"); net terms are what a payment run is ("monthly, net 30" is net30).
    nets = [name for _, _, name in said if name in ("net30", "net60")]
    return nets[0] if nets else min(said)[2] if said else None


def payout_frequency(text: str | None) -> str | None:
    return _frequency_of(text or "")
