"""Restrictions: what the affiliate is forbidden to do, from a closed set. A practice counts where the
text forbids it: in a sentence that says so, or in a list a prohibiting line introduces ("The
following are not allowed:", "Einschränkungen"). What the text allows is not a restriction."""

import bisect
import re

from affiliate_matrix.terms.text import Doc, Pattern

_BRAND = r"(?:brand|trademark|trade mark|company name|our name|marke|marken|markenname|brandname|marque|marca|merk|marchio|marchi)"
_SEARCH = (r"(?:keyword|bid|ppc|\bsem\b|\bsea\b|search engine|paid search|search ads|adwords|google|bing|yahoo|msn|"
           r"suchmaschine|anzeige|moteur|recherche payante|mots?[\s-]cl[ée]s?|motores? de b[úu]squeda|palabras? clave|"
           r"zoekmachine|zoekwoord|trefwoord|buscador|mecanismos? de busca|palavras?[\s-]chave|ench[èeé]r|pujar|bieden|"
           r"lances|bied|suchaktivit|bezahlte suche|"
           r"such(?:anzeige|maschine))")
_OWN = r"(?:(?:affiliate|referral|partner|personal|tracking|coupon|discount|promo|eigenen?|propio|propia|tu|su) )?"
_OWN_THING = (rf"(?:\bown {_OWN}|eigene[nm]? (?:affiliate-?)?|propio |propres? |eigen (?:affiliate[\s-]?)?|pr[óo]prio |"
              rf"\b(?:su|tu|seu|son|ton) (?:propio |pr[óo]prio |propre )?)"
              rf"(?:links?|liens?|codes?|c[óo]digo|enlace|konto|comptes?|accounts?)")
_BUYING = r"(?:buy|purchas|order|book(?!mark)|kauf|k[äa]uf|bestell|achat|achet|command|compr|koop|aankoop|bestel)"
TOPICS = {
    "ppc_brand_bidding": rf"brand[\s-]?bidding|trademark[\s-]?bidding|brand[\s-]?hijacking|marken[\s-]?bidding|"
                         rf"\btm\+?[\s-]*(?:bidding|terms|keywords)|direkt[\s-]?verlink|lien direct|enlace directo|"
                         rf"link direto|"
                         rf"{_BRAND}.{{0,80}}{_SEARCH}|{_SEARCH}.{{0,80}}{_BRAND}|"
                         rf"direct[\s-]?linking|direct[\s-]to[\s-]merchant|ench[èeé]res directes|"
                         rf"(?:suchmaschine|search engine|zoekmachine|buscador).{{0,80}}(?:buchen|bid|book)|"
                         rf"\b(?:ppc|sem|sea|keyword[\s-]?advertising|suchmaschinenmarketing|paid search|google ad(?:word)?s|"
                         rf"adwords|bing ads|search engine marketing)\b"
                         rf".{{0,30}}(?:nicht erlaubt|not (?:allowed|permitted)|prohibited|forbidden|verboten|"
                         rf"untersagt|ausgeschlossen|interdit|prohibido|verboden|proibid)|"
                         rf"(?:cannot|can['’]t|may not|must not|do not|don['’]t|\bno|kein\w*)\s(?:use\s|run\s)?(?:\w+\s)?"
                         rf"(?:ppc|paid search|google ad(?:word)?s|adwords|bing ads|search engine marketing|"
                         rf"suchmaschinenmarketing)\b",
    "trademark_domains": rf"typo[\s-]?squat|typo[\s-]?domains?|cyber[\s-]?squat|domain[\s-]?grabbing|"
                         rf"vertipper[\s-]?domains?|tippfehler[\s-]?domains?|"
                         rf"branded (?:domains?|urls?|profile|user ?names?|handles?)|"
                         rf"(?:register|buy|purchase|registrier|kaufen|enregistr|achet|registrar|comprar|registreren|"
                         rf"kopen)\w*"
                         rf"\s+(?:\w+\s+){{0,2}}?(?:domain|domein|dominio|dom[íi]nio)|"
                         rf"(?:domain[\s-]?namen?|domain names?).{{0,100}}(?:kaufen|registrier|register|buy|purchase|"
                         rf"besitzen|own\b)|"
                         rf"(?:domains?|urls?|user ?names?|handles?|accounts?|profiles?|domainnamen|domaines?|"
                         rf"dominios?|domeinnamen|dom[íi]nios?|social media (?:accounts?|handles?|pages?|"
                         rf"profiles?)).{{0,60}}"
                         rf"\b(?:contain|includ|with|mit|enthalt|using|use|bearing|featuring|incorporat|resembl|"
                         rf"similar|"
                         rf"contenant|avec|que contenga|con|met|com|que conten).{{0,40}}{_BRAND}|"
                         rf"{_BRAND}.{{0,40}}\b(?:in|im|als|dans|en|no|na|within)\b.{{0,20}}"
                         rf"(?:domain|user ?name|handle|domainnamen|domaine|dominio|domeinnaam|dom[íi]nio)",
    "coupon_sites": r"\bcoupons?(?=(?:,|\s+(?:and|or|&)|\s*/)\s*"
                    r"(?:cashback|loyalty|deal|voucher|incentiv|rebate|reward))|"
                    r"(?:editori|publisher|siti) (?:di )?(?:codici sconto|coupon|buoni sconto)|^\W*(?:coupons?|"
                    r"vouchers?|bons? de r[ée]duction|"
                    r"gutscheine?|cupones|cupons|kortingscodes?|codes? promo|discount codes?)\s*:|"
                    r"(?:(?:coupon|voucher|deal|discount|promo|rabatt|gutschein)(?:[\s-]?codes?)?|codes? promo|"
                    r"bons? de r[ée]duction|cup[óo]n|cupones|kortings?code|cupo(?:m|ns))s?[\s-]?(?:sites?|websites?|"
                    r"portal|portale|partner|seiten|webseiten|plattform(?:en)?|platforms?|aggregators?|publishers?|"
                    r"affiliates|"
                    r"traffic|sites web|p[áa]ginas|"
                    r"webs|websites)|"
                    r"(?:sites?|partenaires?|portails?|p[áa]ginas|sitios|webs|websites?)(?: web)? (?:de )?"
                    r"(?:bons? de r[ée]duction|bons plans|codes? promo|coupons?|cupones|cupons|descuentos?|"
                    r"c[óo]digos? (?:de )?(?:descuento|desconto|promocional))|deal[\s-]?sites?|schnäppchen",
    "email_spam": r"\bspam(?:s|ming)?\b|bulk e-?mail|mass e-?mail|massen-?mail|e-?mails? en masse|correo masivo|"
                  r"env[íi]o masivo|correo basura|unaufgefordert|"
                  # an e-mail address is a contact ("keine E-Mail-Adresse"), not the channel
                  r"(?:\bno|kein\w*|pas d[e']|\bsin|geen|\bsem)\W+(?:\w+\W+){0,2}?"
                  r"(?:e-?mail(?:ing|[\s-]?marketing)?(?![\s-]?ad+res)|"
                  r"newsletter|mailings?)\b|unsolicited|unerw[üu]nscht|unverlangt|non sollicit|no solicitad|no deseado|"
                  r"ongevraagd|"
                  r"n[ãa]o solicitad|(?:purchased|rented|bought|gekaufte|gemietete) (?:or rented )?(?:e-?mail|adress)|"
                  r"(?:e-?mail|newsletter)[\s-]?(?:marketing|promotion|werbung|advertising|campaigns?|traffic)?"
                  r".{0,30}(?:not (?:allowed|permitted|accept)|prohibited|nicht (?:erlaubt|gestattet)|verboten|"
                  r"untersagt|"
                  r"interdit|non autoris|prohibid|no (?:est[áa] )?permitid|verboden|niet toegestaan|proibid|"
                  r"n[ãa]o (?:[ée] )?permitid|non (?:[èe] )?permess|requires? (?:prior |written )*(?:approval|permission)|"
                  r"must (?:first )?be (?:pre-?)?(?:approved|authori[sz]ed))|(?:do not|don['’]t|not) accept e-?mail",
    "social_ads": r"(?:paid|bezahlte?|payantes?|pagad[oa]s?|betaalde).{0,20}(?:social|facebook|instagram|tiktok)|"
                  r"(?:social[\s-]?media|facebook|instagram|tiktok|meta|linkedin|twitter|pinterest|snapchat|"
                  r"r[ée]seaux sociaux|redes sociales|sociale media|redes sociais|sozialen? (?:netzwerke|medien))[\s-]?"
                  r"(?:ads|advertising|advertisements|werbung|anzeigen|publicit[ée]s?|anuncios|advertenties|"
                  r"an[úu]ncios)|"
                  r"(?:ads|advertis\w*|adverteren|werbung|anzeigen|publicit[ée]s?|anuncios|advertenties|an[úu]ncios)"
                  r"(?: \w+)? "
                  r"(?:on|in|auf|sur|en|op|nas?|no) (?:social|facebook|instagram|tiktok|r[ée]seaux|redes|sociale)|"
                  r"paid social",
    # Forced clicks are not here: a tracking fraud, no reward to the visitor (paid mail, beside them, is one).
    "incentivized": r"incenti[vs]|cash[\s-]?back|rewards? (?:sites?|programs?|websites?|platforms?)|"
                    r"loyalty(?: (?:sites?|programs?|platforms?|portals?|publishers?|traffic|apps?)|,| and| or)|"
                    r"paid[\s-]?mail|paidmailer|bonusprogramm|anreiz|"
                    r"incitati|r[ée]mun[ée]r[ée]s? au clic|incentivad|sitios de recompensas|beloningssite|"
                    r"pay[\s-]to[\s-](?:click|read)|paid[\s-]to[\s-]click|\bptc\b|incit[ée]|get[\s-]paid[\s-]to|points? (?:sites?|programs?)|"
                    r"(?:sites?|programmes?|plateformes?|portails?|sitios|programas?|webs) de (?:fid[ée]lit[ée]|"
                    r"fidelizaci[óo]n|"
                    r"fidelidade|puntos|pontos)|programas? de puntos|spaarprogramma|loyaliteitsprogramma|"
                    r"bonussystem|pr[äa]mienprogramm",
    # sexual orientation is a ground of discrimination, not content
    "adult": r"\badult(?![\w-])|porn|erotic|erotik|erotisch|er[óo]tic|sex[\s-]?shops?|\bxxx\b|nicht jugendfrei|"
             r"(?<!orientaci[óo]n )(?<!orienta[çc][ãa]o )\bsex(?:ual|uell?|uales|ueel)?\b"
             r"(?!\s(?:orientation|harassment|identity|discrimination))|"
             r"pour adultes|para adultos|volwassenen|voor volwassen|erotiek|conte[úu]do adulto|fsk[\s-]?18|"
             r"nudit|nackt|nudez|desnud|sexually explicit|sexuellen? (?:handlung|inhalt|darstellung)|"
             r"(?:material|contenido|conte[úu]do) sexual",
    "self_referral": rf"self[\s-]?(?:referr|purchas|orders?|buy)|"
                     rf"(?:purchases?|orders?|buy(?:ing)?) (?:\w+ )?for yourself|"
                     rf"selbst(?:bestellung|kauf|k[äa]ufe)|auto-?(?:achat|compra)|propio afiliado|el afiliado mismo|"
                     rf"\bown {_OWN}(?:purchases?|orders?)|personal (?:purchases|orders?|bookings?)|"
                     rf"{_BUYING}\w* (?:of|for) (?:your|their) own\b|"
                     rf"\b(?:refer|invite|recommend|sponsor|affiliate)\w* (?:for )?(?:yourself|themselves|oneself)\b|"
                     rf"\brefer\w* (?:your|their) own (?:accounts?|business|company)|"
                     rf"\bsich\b(?: \w+){{0,2}}? selbst\b(?: \w+){{0,2}}? (?:empfehl|einlad|werb|anwerb)|"
                     rf"selbst(?:werbung|empfehlung)|propre affili[ée]|\b(?:tuoi|propri) acquisti|auto[\s-]?invitaci|"
                     rf"\ba si (?:mesm|pr[óo]pri)|"
                     rf"(?:\b|u|je|zich)zelf\b(?: \w+){{0,2}}? (?:door)?verwijz|"
                     rf"(?:by|from) (?:an? |the )?(?:affiliates?|partners?|publishers?) (?:themselves|himself|herself|"
                     rf"itself)|"
                     rf"eigen(?:bestellung|k[äa]uf|e (?:bestellungen|k[äa]ufe|eink[äa]ufe))|eigenbestellungen|"
                     rf"auto-?parrain|achats? personnels?|propres? achats?|lui-m[êe]me|elle-m[êe]me|eux-m[êe]mes|"
                     rf"auto-?referid|autorreferi|compras? propias?|propias compras|"
                     rf"pel[oa] pr[óo]pri[oa] (?:afiliad|indicador|parceir)|eigen aankopen|zelf[\s-]?verwijz|"
                     rf"compras? pr[óo]prias?|pr[óo]prias compras|auto-?indica|zelf (?:aankopen|bestellingen|kopen)|"
                     # one's own link, code or account, where buying is what it is used for
                     rf"{_OWN_THING}(?=.*\b{_BUYING})|\b{_BUYING}\w*\b.{{0,60}}{_OWN_THING}",
}
_TOPICS = {name: Pattern(pattern, re.I) for name, pattern in TOPICS.items()}
PROHIBITION = Pattern(
    r"\bno\b|\bnot\b|n['’]t\b|\bcannot\b|prohibit|forbid|\bbann|\bnever\b|reject|exclud|\bexcept\b|may only|pre-?approv|"
    r"disallow|unacceptable|not tolerat|\bnon\b(?!-)|vietat|proscri|only (?:allowed|permitted)|declin|abgelehnt|rechaz|"
    r"afgewezen|recusad|result in (?:termination|removal|suspension|the closure)|lead to (?:termination|removal)|"
    r"f[üu]hr(?:t|en) zu[mr]? (?:ausschluss|sperrung|k[üu]ndigung)|entra[îi]ne|conllevar|leidt tot|"
    r"approval only|only (?:with|after|upon) (?:prior |written )?(?:approval|permission|consent|agreement)|"
    r"requires? (?:prior |written |express )*(?:approval|permission|consent)|prior (?:written )?approval|strictly|void|"
    # a consequence that takes the commission back forbids what causes it
    r"will not|won['’]t|(?:will|shall) be (?:reversed|revoked|forfeited|voided|denied)|"
    r"must (?:first )?be (?:pre-?)?(?:approved|authori[sz]ed)|\bne (?:peut|peuvent|doit|doivent)\b|"
    r"\bfraud|betrug|\bfraude|violat|verst(?:oß|oss)|infraction|infracci|overtreding|viola[çc]|\bnicht\b|\bkein|verboten|untersag|unzul[äa]ssig|ausgeschlossen|ausschluss|"
    r"nur nach (?:absprache|r[üu]cksprache|genehmigung|freigabe|zustimmung)|nur mit (?:genehmigung|zustimmung)|"
    r"\bpas(?:\b|(?=[a-zé]))|interdi|prohib|exclu|refus|\bni\b|\baucun|uniquement (?:avec|apr[èe]s)|"
    r"accord pr[ée]alable|\bno\b|prohibid|excluid|no se permit|queda|s[óo]lo con|previa aprobaci|"
    r"\bniet\b|\bgeen\b|verboden|uitgesloten|alleen (?:na|met)|\bn[ãa]o\b|proibid|vedad|exclu[íi]d|apenas com|"
    r"sem (?:autoriza|aprova)|proibit|solo con (?:il )?(?:consenso|autorizzazione|approvazione)|"
    r"senza (?:il |esplicit\w+ )?(?:consenso|autorizzazione)", re.I)
# Coupon sites count where they need approval; the other practices only where they are forbidden.
_APPROVAL = Pattern(r"sous conditions|to be validated|case[\s-]by[\s-]case|on approval|subject to approval|"
                       r"nach absprache|auf anfrage|sujeto a aprobaci|na overleg|mediante aprova", re.I)
_EXAMPLE = Pattern(r"^\W*(?:for example|e\.g\.|for instance|zum beispiel|beispiel:|z\.\s?b\.|par exemple|"
                      r"por ejemplo|bijvoorbeeld|por exemplo|ad esempio|per esempio)", re.I)
_SECTION = Pattern(
    r"restrict|prohibit|forbidden|not (?:allowed|permitted|accepted)|don'?ts|(?:may|must|shall|can|do)(?: not|n'?t)\b|"
    r"\bnever\b|einschr[äa]nkung|ausschluss|"
    r"ausgeschlossen|verboten|untersagt|nicht (?:erlaubt|gestattet|zugelassen|akzeptiert)|interdi|restricci|"
    r"prohibid|no (?:se )?permit|verboden|niet toegestaan|beperking|uitgesloten|proibi|restri[çc]|"
    r"n[ãa]o (?:é )?permitid|unacceptable|not (?:tolerated|welcome)|nicht erw[üu]nscht|"
    # a modal with its negation a few words on: "Folgende Inhalte darf die Seite nicht zeigen:"
    r"\bd(?:arf|[üu]rfen)\b[^.:]{0,60}\bnicht\b|\bm(?:ag|ogen)\b[^.:]{0,60}\bniet\b|\bno (?:puede|pueden|debe|deben)\b|"
    r"\bne (?:peut|peuvent|doit|doivent)\b",
    re.I)
_ALLOWED = Pattern(r"\b(?:allowed|permitted|welcome|erlaubt|gestattet|autoris[ée]|permitid[oa]|toegestaan|permitid)",
                      re.I)
# "E-Books sind von Cashback-Aktionen ausgeschlossen": products kept out of a promotion, not a ban on it.
_EXCLUDED_FROM = Pattern(r"(?:excluded|exempt) from\s.{0,40}$|\bvon\s.{0,40}$", re.I)


_CLAUSE_END = re.compile(r";|\b(?:but|however|aber|jedoch|mais|pero|maar|mas|ma)\b", re.I)
_WELCOME = Pattern(rf"{_ALLOWED.pattern}|\b(?:accept(?:ed)?|welcome|fine|ok|akzeptiert|willkommen|accept[ée]s?|"
                   r"bienvenue|aceptad[oa]s?|bienvenid[oa]s?|geaccepteerd|welkom|aceit[oa]s?|bem-vind[oa]s?)\b", re.I)
_UNRESTRICTED = Pattern(r"(?:\bno|\bnot (?:have )?any|n't (?:have )?any|without(?: any)?|keine|aucune|ninguna|geen|"
                        r"nenhuma)\s+"
                        r"(?:\w+\s+)?(?:restrictions?|einschr[äa]nkungen|restrictions|restricciones|beperkingen|"
                        r"restri[çc][õo]es)\b", re.I)


# What the merchant says of itself ("We do not sell adult products", "we never spam", "We are not responsible for
# spam filters") forbids the affiliate nothing; "we do not accept / allow / pay for …" does.
_WE_OURSELVES = Pattern(
    r"\b(?:we|wir|nous|nosotros|wij|we're|nós)\s+(?:do not|don['’]t|dont|never|will not|won['’]t|are not|aren['’]t|"
    r"cannot|can['’]t|"
    r"verkaufen (?:keine|nicht)|ne vendons pas|no vendemos|verkopen geen|n[ãa]o vendemos)\s+"
    r"(?!allow|accept|permit|tolerat|approv|work|pay|credit|reward|compensat|support|want|partner|condone|let|"
    r"consider|cooperat|authori)\w+", re.I)


def restrictions_in(doc: Doc, topics: list[str | None]) -> tuple[list[str], list[str]]:
    found: list[str] = []
    evidence: list[str] = []
    for i, unit in enumerate(doc.units):
        text = unit.text
        if _EXAMPLE.search(text):
            continue
        forbidding = bool(PROHIBITION.search(_WE_OURSELVES.sub(" ", text)))
        if not forbidding and topics[i] == "restrictions":
            forbidding = not (_ALLOWED.search(text) and not _SECTION.search(text))
        approval = not forbidding and bool(_APPROVAL.search(text))
        if not (forbidding or approval):
            continue
        named = [name for name, pattern in _TOPICS.items()
                 if name not in found and (forbidding or name == "coupon_sites")
                 and _forbids(name, pattern, text)]
        if named:
            found += named
            evidence.append(unit.raw)
    return sorted(found), evidence


# Who or where a practice is, when its word names something else. Each is read in a bounded window around the
# practice's word, so a hostile unit of many matches costs linear time.
_WINDOW = 120
# The channel nearest a practice's word says which it is: "spam su siti, forum o blog" is not e-mail spam, "direct
# linking from paid social" not a search ad (it is a social one).
_CHANNEL = Pattern(
    r"(?P<mail>e-?mails?|newsletters?|mailings?|courriels?|correos?|mails?)|"
    r"(?P<search>search|ppc|\bsem\b|\bsea\b|keywords?|adwords|google|bing|suchmaschin\w*|moteurs?|buscador\w*|"
    r"zoekmachine\w*|mecanismos? de busca|motori di ricerca)|"
    r"(?P<social>social|facebook|instagram|tiktok|twitter|pinterest|linkedin|r[ée]seaux|redes|sozial\w*)|"
    r"(?P<web>(?:web)?sites?|siti|sitios|forums?|foren|f[óo]runs?|blogs?|comments?|kommentar\w*|commentaires?|"
    r"comentarios?|coment[áa]rios?|commenti|reacties|g[äa]steb[üu]ch\w*|guestbooks?|sms|whatsapp|messengers?)",
    re.I)
# The practice's own channel, and the channels that could be meant instead (a direct link goes to a website).
_CHANNEL_OF = {"email_spam": ("mail", {"mail", "web", "social"}), "ppc_brand_bidding": ("search", {"search", "social"})}
_NAMES_NO_CHANNEL = {"email_spam": Pattern(r"^spam", re.I),
                     "ppc_brand_bidding": Pattern(r"^(?:direkt|direct|lien|enlace|link|ench)", re.I)}
# Self-referral is the affiliate buying through its own link or code; "your audience buys through your link" is the
# audience's purchase (a buyer named before the buying, and no reflexive).
_THROUGH_A_LINK = Pattern(r"links?|liens?|codes?|c[óo]digo|enlace|konto|comptes?|accounts?", re.I)
_SOMEONE_ELSE = Pattern(
    r"\b(?:audiences?|customers?|visitors?|followers?|friends?|readers?|users?|kunden|besucher\w*|freunde?|leser\w*|"
    r"clients?|visiteurs?|amis?|lecteurs?|audiencia|clientes?|visitantes?|seguidores|amigos?|lectores?|p[úu]blico|"
    r"klanten|bezoekers|vrienden|volgers|lezers|pubblico|clienti|visitatori|amici|lettori|utenti|utilisateurs|"
    r"usuarios|gebruikers|utilizadores|usu[áa]rios)\b", re.I)
_REFLEXIVE = Pattern(r"self|yourself|themselves|selbst|m[êe]mes?|mismo|pr[óo]pri|zelf|stess", re.I)
# A practice named as the publishers a rule is addressed to is not banned: "Gutschein Partnern ist untersagt, die
# Marke … zu nutzen", "cashback sites may only use our codes", "affiliates who promote coupons must …". What they
# may not do is the rule; that they take part at all is not in question, unless taking part is what is forbidden.
_ADDRESSED = Pattern(
    r"^\w*\W{0,3}(?:(?:partners?|publishers?|affiliates?|sites?|websites?|portals?|partnern|publishern|seiten|"
    r"partenaires|[ée]diteurs|sitios|socios|editores|afiliados|partnersites|sites|siti|editori)\b\W{0,3})?"
    r"(?:(?:ist|sind|wird) (?:es )?(?:untersagt|verboten|nicht gestattet|nicht erlaubt)\b(?!\s*[.;:]|$)|"
    r"(?:must|may|can|shall|should|d[üu]rfen|m[üu]ssen|doivent|peuvent|deben|pueden|mogen|moeten|devem|podem|"
    r"devono|possono)(?: \w+)? (?:only|nur|uniquement|que|s[óo]lo|solamente|alleen|apenas|solo|soltanto)\b|"
    r"(?:are|is) (?:only )?(?:(?:not )?(?:allowed|permitted|required|obliged) to|(?:not|never) to)\b(?! be\b))", re.I)
_ILLEGAL_KIND = Pattern(r"\b(?:child|kinder|illegal\w*|infantil|zoo)[\s-]*$", re.I)
_TAKING_PART = Pattern(r"\b(?:join|participat|appl|promot\w* (?:the|this|our) (?:program|brand|product)|"
                       r"teilnehm|teilzunehm|particip|deelnem|partecip)", re.I)
_WHO_PROMOTE = Pattern(r"^\W*(?:who|that|which|die|qui|que|welche)\s+(?:promote|use|offer|run|operate|bewerben|"
                       r"promeuvent|utilisent|promocionan|usan|promoten|gebruiken)\b", re.I)


def _forbids(name: str, pattern: Pattern, text: str) -> bool:
    parts = [(m.start(), m.end()) for m in _CLAUSE_END.finditer(text)]
    begins, ends = [begin for begin, _ in parts], [end for _, end in parts]
    for match in pattern.finditer(text):
        # "We accept cashback and loyalty sites, but not adult sites": the part of the sentence that names the
        # practice says whether it is allowed (a "but" parts it); "no restrictions on social ads" allows it.
        before_end = bisect.bisect_right(ends, match.end())
        start = ends[before_end - 1] if before_end else 0
        after_end = bisect.bisect_left(begins, match.end())
        end = begins[after_end] if after_end < len(begins) else len(text)
        own = text[max(start, match.start() - _WINDOW):min(end, match.end() + _WINDOW)]
        if (_WELCOME.search(own) and not PROHIBITION.search(own)) or _UNRESTRICTED.search(own):
            continue
        before, after = text[max(0, match.start() - 60):match.start()], text[match.end():match.end() + 60]
        if _EXCLUDED_FROM.search(before) and re.search(r"ausgeschlossen|excluded|exempt", after, re.I):
            continue  # products kept out of a promotion, not a ban on it
        if name in _CHANNEL_OF and _NAMES_NO_CHANNEL[name].search(match.group()) \
                and _nearest_channel(before, after, _CHANNEL_OF[name][1]) not in (None, _CHANNEL_OF[name][0]):
            continue
        if name == "adult" and _ILLEGAL_KIND.search(before):
            continue  # child or illegal pornography is a ban on illegal content, not on adult content
        if name == "self_referral" and _THROUGH_A_LINK.search(match.group()) and not _REFLEXIVE.search(match.group()) \
                and _SOMEONE_ELSE.search(text[max(start, match.start() - 80):match.end()]):
            continue
        if name in ("coupon_sites", "incentivized") and (_WHO_PROMOTE.search(after) or _ADDRESSED.search(after)
                                                         and not _TAKING_PART.search(after)):
            continue
        return True
    return False


def _nearest_channel(before: str, after: str, kinds: set[str]) -> str | None:
    """Which of `kinds` of channel is named nearest the practice's word, in the phrase around it (no comma or
    full stop between: in "coupon websites, banner exchanges, SPAM" the websites are another item)."""
    before, after = re.split(r"[,;.:(]", before)[-1], re.split(r"[,;.:)]", after)[0]
    nearest, kind = None, None
    for offset, phrase in ((0, after), (len(before), before)):
        for channel in _CHANNEL.finditer(phrase):
            distance = abs(offset - (channel.start() if offset == 0 else channel.end()))
            if channel.lastgroup in kinds and (nearest is None or distance < nearest):
                nearest, kind = distance, channel.lastgroup
    return kind


def restrictions(text: str | None) -> list[str]:
    doc = Doc(text or "")
    return restrictions_in(doc, [None] * len(doc.units))[0]


def is_section(text: str) -> bool:
    """A heading or an introducing line that opens a list of what is forbidden."""
    return bool(_SECTION.search(text))
