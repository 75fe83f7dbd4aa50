"""Restrictions: what the affiliate is forbidden to do, from a closed set. A practice counts where the
text forbids it: in a sentence that says so, or in a list a prohibiting line introduces ("The
following are not allowed:", "Einschränkungen"). What the text allows is not a restriction."""

import re

from affiliate_matrix.terms.text import Doc, Pattern

_BRAND = r"(?:brand|trademark|trade mark|company name|our name|marke|marken|markenname|brandname|marque|marca|merk|marchio|marchi)"
_SEARCH = (r"(?:keyword|bid|ppc|\bsem\b|\bsea\b|search engine|paid search|search ads|adwords|google|bing|yahoo|msn|"
           r"suchmaschine|anzeige|moteur|recherche payante|mots?[\s-]cl[ée]s?|motores? de b[úu]squeda|palabras? clave|"
           r"zoekmachine|zoekwoord|trefwoord|buscador|mecanismos? de busca|palavras?[\s-]chave|ench[èeé]r|pujar|bieden|"
           r"lances|bied|suchaktivit|bezahlte suche|"
           r"such(?:anzeige|maschine))")
_OWN = r"(?:(?:affiliate|referral|partner|personal|tracking|eigenen?|propio|propia|tu|su) )?"
_OWN_THING = (rf"(?:\bown {_OWN}|eigene[nm]? (?:affiliate-?)?|propio |propres? |eigen (?:affiliate[\s-]?)?|pr[óo]prio |"
              rf"\b(?:su|tu|seu|son|ton) (?:propio |pr[óo]prio |propre )?)"
              rf"(?:links?|liens?|codes?|c[óo]digo|enlace|konto|comptes?|accounts?)")
_BUYING = r"(?:buy|purchas|order|kauf|k[äa]uf|bestell|achat|achet|command|compr|koop|aankoop|bestel)"
TOPICS = {
    "ppc_brand_bidding": rf"brand[\s-]?bidding|trademark[\s-]?bidding|brand[\s-]?hijacking|marken[\s-]?bidding|"
                         rf"\btm\+?[\s-]*(?:bidding|terms|keywords)|direkt[\s-]?verlink|lien direct|enlace directo|"
                         rf"link direto|"
                         rf"{_BRAND}.{{0,80}}{_SEARCH}|{_SEARCH}.{{0,80}}{_BRAND}|"
                         rf"direct[\s-]?linking|direct[\s-]to[\s-]merchant|ench[èeé]res directes|"
                         rf"(?:suchmaschine|search engine|zoekmachine|buscador).{{0,80}}(?:buchen|bid|book)|"
                         rf"\b(?:ppc|sem|sea|keyword[\s-]?advertising|suchmaschinenmarketing|paid search)\b"
                         rf".{{0,30}}(?:nicht erlaubt|not (?:allowed|permitted)|prohibited|forbidden|verboten|"
                         rf"untersagt|ausgeschlossen|interdit|prohibido|verboden|proibid)",
    "trademark_domains": rf"typo[\s-]?squat|typo[\s-]?domains?|cyber[\s-]?squat|domain[\s-]?grabbing|"
                         rf"vertipper[\s-]?domains?|tippfehler[\s-]?domains?|"
                         rf"branded (?:domains?|profile|user ?names?|handles?)|"
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
                  r"(?:\bno|kein\w*|pas d[e']|\bsin|geen|\bsem)\W+(?:\w+\W+){0,2}?(?:e-?mail(?:ing|[\s-]?marketing)?|"
                  r"newsletter|mailings?)\b|unsolicited|unerw[üu]nscht|unverlangt|non sollicit|no solicitad|no deseado|"
                  r"ongevraagd|"
                  r"n[ãa]o solicitad|(?:purchased|rented|bought|gekaufte|gemietete) (?:or rented )?(?:e-?mail|adress)|"
                  r"(?:e-?mail|newsletter)[\s-]?(?:marketing|promotion|werbung|advertising|campaigns?|traffic)?"
                  r".{0,30}(?:not (?:allowed|permitted|accept)|prohibited|nicht (?:erlaubt|gestattet)|verboten|"
                  r"untersagt|"
                  r"interdit|non autoris|prohibid|no (?:est[áa] )?permitid|verboden|niet toegestaan|proibid|"
                  r"n[ãa]o (?:[ée] )?permitid|non (?:[èe] )?permess)|(?:do not|don't|not) accept e-?mail",
    "social_ads": r"(?:paid|bezahlte?|payantes?|pagad[oa]s?|betaalde).{0,20}(?:social|facebook|instagram|tiktok)|"
                  r"(?:social[\s-]?media|facebook|instagram|tiktok|meta|linkedin|twitter|pinterest|snapchat|"
                  r"r[ée]seaux sociaux|redes sociales|sociale media|redes sociais|sozialen? (?:netzwerke|medien))[\s-]?"
                  r"(?:ads|advertising|advertisements|werbung|anzeigen|publicit[ée]s?|anuncios|advertenties|"
                  r"an[úu]ncios)|"
                  r"(?:ads|advertis\w*|adverteren|werbung|anzeigen|publicit[ée]s?|anuncios|advertenties|an[úu]ncios)"
                  r"(?: \w+)? "
                  r"(?:on|in|auf|sur|en|op|nas?|no) (?:social|facebook|instagram|tiktok|r[ée]seaux|redes|sociale)|"
                  r"paid social",
    "incentivized": r"incenti[vs]|cash[\s-]?back|rewards? (?:sites?|programs?|websites?|platforms?)|"
                    r"loyalty(?: (?:sites?|programs?|platforms?|portals?|publishers?|traffic|apps?)|,| and| or)|"
                    r"paid[\s-]?mail|paidmailer|forced (?:clicks?|klicks?)|klickzwang|bonusprogramm|anreiz|"
                    r"incitati|r[ée]mun[ée]r[ée]s? au clic|incentivad|sitios de recompensas|beloningssite|"
                    r"pay[\s-]to[\s-](?:click|read)|paid[\s-]to[\s-]click|\bptc\b|incit[ée]|get[\s-]paid[\s-]to|points? (?:sites?|programs?)|"
                    r"(?:sites?|programmes?|plateformes?|portails?|sitios|programas?|webs) de (?:fid[ée]lit[ée]|"
                    r"fidelizaci[óo]n|"
                    r"fidelidade|puntos|pontos)|programas? de puntos|spaarprogramma|loyaliteitsprogramma|"
                    r"bonussystem|pr[äa]mienprogramm",
    "adult": r"\badult(?![\w-])|porn|erotic|erotik|erotisch|er[óo]tic|\bsex(?:ual|uell?|uales|ueel)?\b|sex[\s-]?shops?|\bxxx\b|nicht jugendfrei|"
             r"pour adultes|para adultos|volwassenen|voor volwassen|erotiek|conte[úu]do adulto|fsk[\s-]?18|"
             r"nudit|nackt|nudez|desnud",
    "self_referral": rf"self[\s-]?(?:referr|purchas|orders?|buy)|"
                     rf"(?:purchases?|orders?|buy(?:ing)?) (?:\w+ )?for yourself|"
                     rf"selbst(?:bestellung|kauf|k[äa]ufe)|auto-?(?:achat|compra)|propio afiliado|el afiliado mismo|"
                     rf"\bown {_OWN}(?:purchases?|orders?)|refer(?:ring)? (?:yourself|themselves)|personal purchases|"
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
    r"\bno\b|\bnot\b|n't\b|\bcannot\b|prohibit|forbid|\bbann|\bnever\b|reject|exclud|\bexcept\b|may only|pre-?approv|"
    r"disallow|unacceptable|not tolerat|\bnon\b(?!-)|vietat|proscri|only (?:allowed|permitted)|declin|abgelehnt|rechaz|"
    r"afgewezen|recusad|result in (?:termination|removal|suspension|the closure)|lead to (?:termination|removal)|"
    r"f[üu]hr(?:t|en) zu[mr]? (?:ausschluss|sperrung|k[üu]ndigung)|entra[îi]ne|conllevar|leidt tot|"
    r"approval only|only (?:with|after|upon) (?:prior |written )?(?:approval|permission|consent|agreement)|"
    r"requires? (?:prior |written |express )*(?:approval|permission|consent)|prior (?:written )?approval|strictly|void|will not|won't|"
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
    r"n[ãa]o (?:é )?permitid",
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
    r"\b(?:we|wir|nous|nosotros|wij|we're|nós)\s+(?:do not|don't|dont|never|will not|won't|are not|aren't|cannot|can't|"
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
                 and _forbids(pattern, text)]
        if named:
            found += named
            evidence.append(unit.raw)
    return sorted(found), evidence


def _forbids(pattern: re.Pattern, text: str) -> bool:
    match = pattern.search(text)
    if match is None:
        return False
    # "We accept cashback and loyalty sites, but not adult sites": the part of the sentence that names the
    # practice says whether it is allowed (a "but" parts it); "no restrictions on social ads" allows it.
    clause = _CLAUSE_END.split(text[:match.end()])[-1] + _CLAUSE_END.split(text[match.end():])[0]
    if (_WELCOME.search(clause) and not PROHIBITION.search(clause)) or _UNRESTRICTED.search(clause):
        return False
    kept_out = _EXCLUDED_FROM.search(text[:match.start()]) and re.search(r"ausgeschlossen|excluded|exempt",
                                                                         text[match.end():], re.I)
    return not kept_out


def restrictions(text: str | None) -> list[str]:
    doc = Doc(text or "")
    return restrictions_in(doc, [None] * len(doc.units))[0]


def is_section(text: str) -> bool:
    """A heading or an introducing line that opens a list of what is forbidden."""
    return bool(_SECTION.search(text))
