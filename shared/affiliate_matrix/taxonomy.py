"""One category taxonomy for every source (each source's labels onto codes.CATEGORIES), the networks we recognise from
join links, and the countries sources name."""

import re
import unicodedata
from functools import cache
from typing import NamedTuple
from urllib.parse import urlsplit

# Source category labels (lower-case) onto our verticals (codes.CATEGORIES); a label missing here maps to "other" (when
# no other of the program's labels maps: settled).
CATEGORY_MAP = {
    "software": "software", "saas": "b2b_saas", "b2b": "b2b_saas", "marketing tools": "marketing_tools",
    "marketing": "marketing_tools", "seo": "marketing_tools", "design": "software", "web hosting": "hosting_domains",
    "hosting": "hosting_domains", "domains": "hosting_domains", "vpn & security": "vpn_security",
    "vpn": "vpn_security", "security": "vpn_security", "travel": "travel", "finance": "finance",
    "banking": "finance", "investing": "finance", "crypto": "crypto", "health": "health_wellness",
    "fitness": "health_wellness", "beauty": "beauty", "fashion": "apparel", "clothing": "apparel",
    "education": "education", "courses": "education", "gaming": "gaming", "pets": "pets", "home": "home_garden",
    "garden": "home_garden", "electronics": "electronics", "insurance": "insurance", "dating": "dating",
    "food": "food_drink", "gifts": "gifts", "jewelry": "jewelry_accessories", "kids": "kids_baby",
    "sports": "sports_outdoors", "outdoors": "sports_outdoors", "automotive": "automotive", "books": "books_media",
    "real estate": "real_estate", "legal": "legal", "telecom": "telecom", "gambling": "gambling",
    "entertainment": "entertainment", "business": "business_services",
    # CJ's, Rakuten's and ClickBank's category names
    "computer & electronics": "electronics", "web hosting/servers": "hosting_domains", "cosmetics": "beauty",
    "online services": "software", "clothing/apparel": "apparel", "financial services": "finance",
    "home & garden": "home_garden", "food & drinks": "food_drink", "sports & fitness": "sports_outdoors",
    "gifts & flowers": "gifts", "telecommunications": "telecom", "health and wellness": "health_wellness",
    "health & fitness": "health_wellness", "diets & weight loss": "health_wellness",
    "e-business & e-marketing": "marketing_tools", "computers & internet": "software",
    "software & services": "software",
}

# Tracking-link hosts (registrable domains) of affiliate networks.
NETWORK_HOSTS = {
    "sjv.io": "impact", "pxf.io": "impact", "7eer.net": "impact", "impact.com": "impact", "ojrq.net": "impact",
    "shareasale.com": "shareasale", "awin1.com": "awin", "awin.com": "awin", "anrdoezrs.net": "cj",
    "dpbolvw.net": "cj", "jdoqocy.com": "cj", "kqzyfj.com": "cj", "tkqlhce.com": "cj", "clickbank.net": "clickbank",
    "linksynergy.com": "rakuten", "partnerstack.com": "partnerstack", "prf.hn": "partnerize",
}
# Affiliate-program software (no network: each merchant runs its own program there, in-house) whose hosts carry
# merchants' own program pages, each merchant's on a subdomain of its own (taptes.refersion.com,
# digitalthink.tapfiliate.com, secrets.firstpromoter.com, hellothematic.getrewardful.com) or, on UpPromote's sign-up
# host, under a path segment of its own (af.uppromote.com/astrofy/register); the platform's own pages are on its front
# host and service subdomains (uppromote.com/blog/..., support.refersion.com). A merchant's page there was judged as
# the platform's own program, keyed to its domain, and the platform remembered as judged for every other merchant.
PROGRAM_PLATFORMS = frozenset({"refersion.com", "tapfiliate.com", "firstpromoter.com", "getrewardful.com"})
PATH_PROGRAM_HOSTS = frozenset({"af.uppromote.com"})
# The platforms' registrable domains: their front host's pages are the platform's own (its program, its blog)
PLATFORM_SITES = frozenset({*PROGRAM_PLATFORMS, "uppromote.com"})
# The platforms' subdomains for their own service, no merchant's
PLATFORM_SERVICES = frozenset({"www", "app", "api", "support", "help", "docs", "blog", "changelog", "status",
                               "marketplace", "login", "dashboard"})
# Registrable domains many merchants share, so a page on one names no merchant by its domain: link shorteners (a
# redirect to somewhere not known here), marketplaces, shop and site builders, social networks and the networks'
# tracking hosts, affiliate-program software. A merchant there is a subdomain of its own (acme.myshopify.com) or a page
# of the host's (etsy.com/shop/acme); the host's own front page is the host's own program (Etsy's), and so is any page
# of a program platform's front host (refersion.com/affiliate-program).
SHARED_HOSTS = frozenset({
    *NETWORK_HOSTS,
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "buff.ly", "rebrand.ly", "is.gd", "cutt.ly",
    "shorturl.at", "rb.gy", "lnkd.in", "t.ly", "tiny.cc", "linktr.ee", "amzn.to",
    "amazon.com", "amazon.co.uk", "amazon.de", "amazon.fr", "amazon.it", "amazon.es", "amazon.ca", "amazon.com.au",
    "amazon.co.jp", "amazon.in", "etsy.com", "ebay.com", "ebay.co.uk", "ebay.de", "walmart.com", "aliexpress.com",
    "gumroad.com", "payhip.com", "teachable.com", "thinkific.com", "kajabi.com", "podia.com", "udemy.com",
    "myshopify.com", "shopify.com", "bigcartel.com", "wixsite.com", "squarespace.com", "wordpress.com",
    "blogspot.com", "github.io", "netlify.app", "vercel.app", "herokuapp.com", "pages.dev", "web.app",
    "substack.com", "medium.com", "notion.site", "carrd.co",
    "facebook.com", "instagram.com", "youtube.com", "twitter.com", "x.com", "tiktok.com", "linkedin.com",
    "pinterest.com",
    *PLATFORM_SITES,
})
# Of those, the hosts whose subdomains are their merchants' own sites (acme.myshopify.com, acme.sjv.io); elsewhere a
# subdomain is the host's own service (ui.awin.com's merchant profiles, smile.amazon.com) and names no merchant.
TENANT_HOSTS = frozenset({
    "sjv.io", "pxf.io", "7eer.net", "ojrq.net", "gumroad.com", "teachable.com", "thinkific.com", "kajabi.com",
    "podia.com", "myshopify.com", "bigcartel.com", "wixsite.com", "squarespace.com", "wordpress.com",
    "blogspot.com", "github.io", "netlify.app", "vercel.app", "herokuapp.com", "pages.dev", "web.app",
    "substack.com", "notion.site", "carrd.co", *PROGRAM_PLATFORMS,
})


def tenant(site: str, domain: str | None) -> bool:
    """Whether `site` (a host, without "www.") is a merchant's own subdomain of its registrable `domain`, a host giving
    merchants one (TENANT_HOSTS: acme.myshopify.com), not a program platform's own service (support.refersion.com)."""
    return site != domain and domain in TENANT_HOSTS and not (
        domain in PROGRAM_PLATFORMS and site.removesuffix(f".{domain}") in PLATFORM_SERVICES)


def platform_merchant(url: str) -> str | None:
    """The merchant whose own program page a page of affiliate-program software is, as its address names it: its
    subdomain on a platform's host (PROGRAM_PLATFORMS: taptes.refersion.com, "taptes"), its first path segment on a
    host giving merchants paths (PATH_PROGRAM_HOSTS: af.uppromote.com/astrofy/register, "astrofy"); None for any other
    page, the platform's own among them, or an address that does not parse."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    except ValueError:  # "http://[x": a page's link, its own to get wrong
        return None
    if host in PATH_PROGRAM_HOSTS:
        return next((segment for segment in parts.path.split("/") if segment), None)
    label, _, platform = host.partition(".")
    return label if platform in PROGRAM_PLATFORMS and label not in PLATFORM_SERVICES else None


NETWORK_NAMES = {"impact": "impact", "impact radius": "impact", "shareasale": "shareasale", "awin": "awin",
                 "cj": "cj", "cj affiliate": "cj", "commission junction": "cj", "clickbank": "clickbank",
                 "rakuten": "rakuten", "rakuten advertising": "rakuten", "partnerstack": "partnerstack",
                 "partnerize": "partnerize", "in-house": "direct", "direct": "direct",
                 "affiliate window": "awin", "rakuten marketing": "rakuten", "rakuten linkshare": "rakuten",
                 "linkshare": "rakuten", "in house": "direct", "inhouse": "direct"}
# The proper names of the networks recognised here that no plugin reads (a plugin declares its own network_title):
# shown so wherever a network is (sources.network_titles), where "shareasale" beside "CJ" read as a code.
NETWORK_TITLES = {"shareasale": "ShareASale", "partnerstack": "PartnerStack", "partnerize": "Partnerize",
                  "direct": "In-house"}
# The same names as letters and digits only ('Impact Radius', 'impact-radius' and 'ImpactRadius' are one).
_NETWORK_SLUGS = {"".join(c for c in name if c.isalnum()): network for name, network in NETWORK_NAMES.items()}


# The characters of a network's label read (its name and a remark: 'Rakuten Advertising (formerly Rakuten Marketing)'
# is 58): a remark is looked for from each bracket, to the first closing one, so a page's network cell of 40,000
# brackets took 7 s to read at each index run (a record's network text has no bound)
MAX_NETWORK_LABEL = 200


def network_name(label: str | None) -> str | None:
    """The network a source names, as one name: the known networks whoever spells them ('Impact.com', 'CJ.com',
    'ShareASale.com', 'Awin (formerly Affiliate Window)', 'Rakuten Marketing', 'In house' are impact, cj, shareasale,
    awin, rakuten, direct); another its words run together ('MaxBounty' is maxbounty), in any script and every letter
    kept ('Ćj' is ćj, 'バリューコマース' itself: only ASCII letters were, so 'ćj' was j and a name in another script
    none), a word being what search takes for one (search.word_runs). Read in Unicode's compatibility form and case
    folded (NFKC, casefold), as searched text is: full-width 'ＣＪ' is cj. The one folding of a network's name, for
    what is indexed and for a filter (`network=`, `amx search --network`)."""
    from affiliate_matrix.search import word_runs

    named = " ".join(unicodedata.normalize("NFKC", label or "").casefold().split())[:MAX_NETWORK_LABEL]
    bare = re.sub(r"\s*\(.*?\)", "", named).strip()  # a remark: '(formerly Affiliate Window)'
    bare = re.sub(r"\.(com|net|io|co|org)$", "", bare)  # a site's name for its network: 'impact.com'
    slug = "".join(word_runs(bare))[:40]
    return NETWORK_NAMES.get(named) or NETWORK_NAMES.get(bare) or _NETWORK_SLUGS.get(slug, slug) or None


MAX_NETWORK_TITLE = 100  # a network's name as a source wrote it, shown: a longer one is cut there


def network_spelled(label: str | None) -> str | None:
    """A network's name as a source wrote it, for showing a network neither a plugin nor NETWORK_TITLES names
    ('MyAffiliateNet', where its key is myaffiliatenet): its words spaced once, a remark in brackets left out as
    network_name leaves it ('MaxBounty (CPA network)' is MaxBounty), cut to MAX_NETWORK_TITLE."""
    named = " ".join((label or "")[:MAX_NETWORK_LABEL].split())
    return " ".join(re.sub(r"\s*\(.*?\)", "", named).split())[:MAX_NETWORK_TITLE] or named[:MAX_NETWORK_TITLE] or None


def _joined(label: str) -> str:
    """A label lower-case, spaced once, its 'and' as '&' ('Health  and Wellness' is 'health & wellness')."""
    return " ".join(label.lower().split()).replace(" and ", " & ")


_VERTICALS = {_joined(label): vertical for label, vertical in CATEGORY_MAP.items()}


def category(label: str) -> str:
    """Our vertical for a source's label, however spaced or joined ('Web  Hosting' is 'web hosting', 'Health and
    Fitness' and 'Health & Fitness' are one); a label we do not know is "other"."""
    return _VERTICALS.get(_joined(label), "other")


def categories(labels: list[str]) -> list[str]:
    return settled([category(label) for label in labels])


def settled(verticals: list[str]) -> list[str]:
    """Verticals, each once, sorted, "other" only when no other is among them: it means none of ours fits, so a
    program with a real category and a label we do not know is not found by `category=other`."""
    found = set(verticals)
    return sorted(found - {"other"} or found)


def network_of(join_url: str | None, registrable) -> str | None:
    """The network a join link belongs to, from its host's registrable domain."""
    if not join_url:
        return None
    return NETWORK_HOSTS.get(registrable(urlsplit(join_url).hostname or ""))

# Country names sources write that ISO 3166 does not hold (pycountry knows every code, English, common and official
# name, "Viet Nam", "Korea, Republic of", "Türkiye", "USA", "DEU", and the names in NAME_LANGUAGES): the exonyms it
# lacks and the sources' own words (Impact's "UK").
COUNTRY_NAMES = {"uk": "GB", "great britain": "GB", "england": "GB", "america": "US", "korea": "KR", "uae": "AE",
                 "turkey": "TR", "ivory coast": "CI"}
# The languages whose country names (pycountry's translations) are read too: "Deutschland", "España", "Brasil". Only
# these: the other translations hold mistakes ("Slovenská republika" as Gambia in one) that would narrow a program.
NAME_LANGUAGES = ("de", "es", "fr", "it", "pt", "pt_BR", "nl", "pl", "sv", "da", "nb", "fi", "tr", "cs")


def _folded(label: str) -> str:
    """A label as names are compared: accents, case, dots and extra spaces gone ("Côte d’Ivoire", "U.S.")."""
    import unicodedata

    text = unicodedata.normalize("NFKD", label.replace("’", "'").replace(".", ""))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


@cache
def _country_names() -> dict[str, str]:
    """Every name and code pycountry holds for a country, folded, onto its alpha-2 code; then COUNTRY_NAMES. Built on
    the first country read (~0.1 s), never at import: the programs API never reads one."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    for lang in NAME_LANGUAGES:
        translated = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]).gettext
        names |= {_folded(translated(name)): c.alpha_2 for c in pycountry.countries
                  for name in (c.name, getattr(c, "common_name", None)) if name}
    names |= {_folded(name): c.alpha_2 for c in pycountry.countries
              for name in (c.alpha_2, c.alpha_3, c.name, getattr(c, "common_name", None),
                           getattr(c, "official_name", None)) if name}
    return names | {_folded(name): code for name, code in COUNTRY_NAMES.items()}


def country_code(label: str) -> str | None:
    """The ISO-3166 alpha-2 code for a country's name or code however a source writes it ("UK", "CANADA", "de",
    "Viet Nam", "Deutschland", "DEU"), else None: a misspelling is never guessed."""
    return _country_names().get(_folded(label))


# A source's words for "every country": the list they are in restricts none.
WORLDWIDE_LABELS = frozenset({"worldwide", "global", "international", "all", "all countries", "any country",
                              "everywhere", "world", "ww"})
# Regions whose bounds nobody fixes: a source naming one takes countries we cannot list, so its list restricts none.
UNBOUNDED_REGIONS = frozenset({"europe", "latam", "latin america", "apac", "asia pacific", "asia", "emea", "africa",
                               "middle east", "mena", "americas", "north america", "south america", "oceania",
                               "nordics", "scandinavia"})
_EU = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
# Regions with a fixed membership, as their countries.
REGIONS = {"eu": _EU, "european union": _EU, "eea": _EU | {"IS", "LI", "NO"}, "dach": frozenset({"DE", "AT", "CH"})}


class CountryLabels(NamedTuple):
    """A source's country labels as read: `codes` the countries they name (a fixed region as its members),
    `everywhere` the labels saying every country (a worldwide word, a region nobody bounds), `unread` the labels we
    cannot read (a misspelling, an unknown place)."""
    codes: list[str]
    everywhere: list[str]
    unread: list[str]

    @property
    def countries(self) -> list[str]:
        """The program's countries by these labels, none (every country) when one says every country or none can be
        read: US and Worldwide take France; US and "Frnace" are US ("Frnace" kept as unread, not guessed), and
        "Frnace" alone takes every country, as a source naming none does, rather than losing the program."""
        return [] if self.everywhere else self.codes


def countries(labels: list[str]) -> CountryLabels:
    """A source's country labels read (CountryLabels), each kind's labels once in their order. A name ISO writes with
    a comma that a source's list was split at ("Korea, Democratic People's Republic of" as "Korea" and "Democratic
    People's Republic of") is read whole: its first part alone would be another country."""
    codes, everywhere, unread = set(), [], []
    labels, at = list(labels), 0
    while at < len(labels):
        label, at = labels[at], at + 1
        if at < len(labels) and (code := country_code(f"{label}, {labels[at]}")):
            codes.add(code)
            at += 1
        elif code := country_code(label):
            codes.add(code)
        elif (words := _words(label)) in REGIONS:
            codes |= REGIONS[words]
        elif words in WORLDWIDE_LABELS or words in UNBOUNDED_REGIONS:
            everywhere.append(label)
        else:
            unread.append(label)
    return CountryLabels(sorted(codes), list(dict.fromkeys(everywhere)), list(dict.fromkeys(unread)))


def _words(label: str) -> str:
    return " ".join(label.replace(".", "").split()).lower()


# Each category's names as shoppers type them, in the languages sources and users write besides English (the titles,
# codes.CATEGORY_LABELS, are English, and a program's own text mostly too): the programs index holds them with the
# program's categories (category_words, program_index.to_document), so "Schuhe", "chaussures" or "Hébergement" find the
# apparel or hosting programs however their text is written. English's, where given, are the words a shopper types that
# are not in the key ("shoes" for apparel). Short, common words: a query's words each match some field alone.
CATEGORY_NAMES = {
    "apparel": {"en": "clothing, fashion, shoes", "de": "Kleidung, Mode, Schuhe", "fr": "vêtements, mode, chaussures",
                "es": "ropa, moda, zapatos", "nl": "kleding, mode, schoenen", "pt": "roupas, moda, sapatos",
                "it": "abbigliamento, moda, scarpe"},
    "automotive": {"en": "cars, car parts", "de": "Auto, Autoteile", "fr": "automobile, voitures",
                   "es": "automóviles, coches", "nl": "auto, auto-onderdelen", "pt": "automóveis, carros",
                   "it": "auto, ricambi"},
    "b2b_saas": {"en": "business software", "de": "Unternehmenssoftware", "fr": "logiciels professionnels",
                 "es": "software empresarial", "nl": "bedrijfssoftware", "pt": "software empresarial",
                 "it": "software aziendale"},
    "beauty": {"en": "cosmetics, skincare, makeup", "de": "Schönheit, Kosmetik, Hautpflege",
               "fr": "beauté, cosmétiques, maquillage", "es": "belleza, cosméticos, maquillaje",
               "nl": "schoonheid, cosmetica, huidverzorging", "pt": "beleza, cosméticos, maquiagem",
               "it": "bellezza, cosmetici, trucco"},
    "books_media": {"en": "books, ebooks, music, movies", "de": "Bücher, Medien, Musik, Filme",
                    "fr": "livres, médias, musique, films", "es": "libros, medios, música, películas",
                    "nl": "boeken, media, muziek, films", "pt": "livros, mídia, música, filmes",
                    "it": "libri, media, musica, film"},
    "business_services": {"de": "Geschäftsdienste, Dienstleistungen", "fr": "services entreprises",
                          "es": "servicios empresariales", "nl": "zakelijke diensten", "pt": "serviços empresariais",
                          "it": "servizi aziendali"},
    "crypto": {"en": "cryptocurrency, bitcoin", "de": "Krypto, Kryptowährung", "fr": "cryptomonnaie",
               "es": "cripto, criptomonedas", "nl": "cryptovaluta", "pt": "cripto, criptomoedas",
               "it": "cripto, criptovalute"},
    "dating": {"de": "Partnersuche", "fr": "rencontres", "es": "citas", "nl": "daten",
               "pt": "namoro", "it": "incontri"},
    "education": {"en": "courses, learning", "de": "Bildung, Kurse", "fr": "éducation, formation, cours",
                  "es": "educación, cursos", "nl": "onderwijs, cursussen", "pt": "educação, cursos",
                  "it": "istruzione, formazione, corsi"},
    "electronics": {"en": "gadgets", "de": "Elektronik", "fr": "électronique", "es": "electrónica",
                    "nl": "elektronica", "pt": "eletrônicos", "it": "elettronica"},
    "entertainment": {"en": "tickets", "de": "Unterhaltung", "fr": "divertissement", "es": "entretenimiento",
                      "nl": "amusement", "pt": "entretenimento", "it": "intrattenimento"},
    "finance": {"en": "banking, loans", "de": "Finanzen, Bank, Kredit", "fr": "banque, crédit",
                "es": "finanzas, banca, préstamos", "nl": "financiën, bank, lening", "pt": "finanças, banco",
                "it": "finanza, banca, prestiti"},
    "food_drink": {"en": "food, drinks, wine", "de": "Essen, Getränke, Lebensmittel, Wein",
                   "fr": "alimentation, boissons, vin", "es": "comida, bebidas, alimentación, vino",
                   "nl": "eten, drinken, voeding, wijn", "pt": "comida, bebidas, vinho",
                   "it": "cibo, bevande, alimentari, vino"},
    "gambling": {"en": "casino, betting", "de": "Glücksspiel, Casino, Wetten", "fr": "casino, paris",
                 "es": "apuestas, casino", "nl": "gokken, casino", "pt": "apostas, cassino",
                 "it": "casinò, scommesse"},
    "gaming": {"en": "games, video games", "de": "Spiele, Videospiele", "fr": "jeux vidéo",
               "es": "videojuegos, juegos", "nl": "games, spellen", "pt": "jogos, videogames",
               "it": "videogiochi, giochi"},
    "gifts": {"en": "presents, flowers", "de": "Geschenke, Blumen", "fr": "cadeaux, fleurs", "es": "regalos, flores",
              "nl": "cadeaus, bloemen", "pt": "presentes, flores", "it": "regali, fiori"},
    "health_wellness": {"en": "wellness, fitness", "de": "Gesundheit, Wellness", "fr": "santé, bien-être",
                        "es": "salud, bienestar", "nl": "gezondheid, welzijn", "pt": "saúde, bem-estar",
                        "it": "salute, benessere"},
    "home_garden": {"en": "furniture", "de": "Haus, Garten, Möbel", "fr": "maison, jardin, meubles",
                    "es": "hogar, jardín, muebles", "nl": "huis, tuin, meubels", "pt": "casa, jardim, móveis",
                    "it": "casa, giardino, mobili"},
    "hosting_domains": {"en": "web hosting", "de": "Webhosting, Hosting", "fr": "hébergement, domaines",
                        "es": "alojamiento, hosting, dominios", "nl": "webhosting, domeinen",
                        "pt": "hospedagem, domínios", "it": "hosting, domini"},
    "insurance": {"de": "Versicherung", "fr": "assurance", "es": "seguros", "nl": "verzekering",
                  "pt": "seguros", "it": "assicurazione"},
    "jewelry_accessories": {"en": "jewellery, watches", "de": "Schmuck, Uhren, Accessoires",
                            "fr": "bijoux, montres, accessoires", "es": "joyas, relojes, accesorios",
                            "nl": "sieraden, horloges, accessoires", "pt": "joias, relógios, acessórios",
                            "it": "gioielli, orologi, accessori"},
    "kids_baby": {"en": "children, toys", "de": "Kinder, Baby, Spielzeug", "fr": "enfants, bébé, jouets",
                  "es": "niños, bebé, juguetes", "nl": "kinderen, baby, speelgoed",
                  "pt": "crianças, bebê, brinquedos",
                  "it": "bambini, neonati, giocattoli"},
    "legal": {"en": "lawyers", "de": "Recht, Rechtsberatung", "fr": "juridique, droit", "es": "jurídico, abogados",
              "nl": "juridisch, advocaten", "pt": "jurídico, advogados", "it": "legale, avvocati"},
    "marketing_tools": {"en": "seo, email marketing", "de": "Marketing", "fr": "outils marketing",
                        "es": "herramientas marketing", "nl": "marketingtools", "pt": "ferramentas marketing",
                        "it": "strumenti marketing"},
    "other": {},
    "pets": {"en": "dogs, cats", "de": "Haustiere, Tierbedarf", "fr": "animaux", "es": "mascotas",
             "nl": "huisdieren", "pt": "animais", "it": "animali"},
    "real_estate": {"en": "property", "de": "Immobilien", "fr": "immobilier", "es": "inmobiliaria",
                    "nl": "vastgoed", "pt": "imóveis", "it": "immobiliare"},
    "software": {"en": "apps", "de": "Software", "fr": "logiciels", "es": "programas", "nl": "software",
                 "pt": "programas", "it": "software"},
    "sports_outdoors": {"en": "sports, outdoor, camping", "de": "Sport, Outdoor", "fr": "sport, plein air",
                        "es": "deportes", "nl": "sport, buitensport", "pt": "esportes, desporto", "it": "sport"},
    "telecom": {"en": "phone plans", "de": "Telekommunikation, Mobilfunk", "fr": "télécoms, téléphonie",
                "es": "telecomunicaciones, telefonía", "nl": "telecom, mobiel", "pt": "telecomunicações",
                "it": "telecomunicazioni"},
    "travel": {"en": "flights, hotels, luggage", "de": "Reisen, Hotels, Flüge, Gepäck",
               "fr": "voyages, hôtels, vols, bagages", "es": "viajes, hoteles, vuelos, equipaje",
               "nl": "reizen, hotels, vluchten, bagage", "pt": "viagens, hotéis, voos, bagagem",
               "it": "viaggi, hotel, voli, bagagli"},
    "vpn_security": {"en": "antivirus, privacy", "de": "Sicherheit, Virenschutz", "fr": "sécurité, antivirus",
                     "es": "seguridad, antivirus", "nl": "beveiliging", "pt": "segurança", "it": "sicurezza"},
}


def category_words(categories: list[str]) -> list[str]:
    """What the programs index searches a program's categories by: each key (both indexes split "vpn_security" into
    its words) and its names in every language of CATEGORY_NAMES."""
    return [*categories, *(names for key in categories for names in CATEGORY_NAMES.get(key, {}).values())]
