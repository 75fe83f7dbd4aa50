"""Is a fetched page an affiliate/partner program page? Signals, each with a weight and kept as
evidence: program wording in the title or heading, the page speaking of its own program, program
vocabulary, sign-up links, links to known affiliate networks, and terms the extractor can read. The
confidence is their capped sum. Wording is read in every language the dorks search, and a few more
that merchants' pages come in (en, de, fr, es, nl, pt, it)."""

import re
import textwrap
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from affiliate_matrix import terms, taxonomy
from affiliate_matrix.normalize import registrable_domain

# The words for an affiliate/partner program in each language read here (en, de, fr, es, nl, pt, it):
# "affiliate program", "Partnerprogramm", "affiliateprogramma", "programme d'affiliation", "programa de afiliados",
# "programma di affiliazione", "programa de indicação", ...
PROGRAM_WORDS = re.compile(
    r"\b(affiliate|partner|referral|ambassador|reseller|empfehlungs|verwijzings)s?[\s-]?program(me|ma|m)?(e|s|'s)?\b|"
    r"\b(affiliate|partner)[\s-]?(agreement|vereinbarung|voorwaarden|overeenkomst)\b|"
    r"\b(programme|programa|programma)s?\s+(de\s+|di\s+|d.|des\s+)?"
    r"(affiliation|affili[ée]s?|afiliad[oa]s?|afiliaci[oó]n|afilia[cç][aã]o|affiliazione|affiliati|"
    r"partenaires?|parceiros?|socios|partner|parrainage|referidos|referencias?|indica[cç][aã]o|referral)\b|"
    r"\baffiliates?\b\s*(hub|center|centre|portal)", re.I)
# Joining, in the same languages: a sign-up link's text ("Partner werden", "inscrivez-vous", "únete", "meld je aan",
# "cadastre-se", "iscriviti", ...).
SIGNUP = re.compile(
    r"\b(join|sign[\s-]?up|apply|register|become|enrol+|"
    r"anmelden|registrieren|bewerben|mitmachen|werden|"
    r"inscri(re|vez|ption|s)\w*|rejoi(gnez|ndre)|deven(ez|ir)|"
    r"[uú]nete|unirse|reg[ií]strate|registrarse|solicit(a|ar|e)|hazte|"
    r"aanmelden|meld\s+je\s+aan|inschrijven|registreren|"
    r"cadastr\w*|inscreva-se|seja|torne-se|"
    r"iscriviti|registrati|diventa|partecipa|unisciti|candidati)\b", re.I)
PARTNERISH = re.compile(r"affiliat|partner|referr|ambassador|afiliad|affili|parceir|referid|parrain", re.I)
DISCLOSURE = re.compile(r"(contains|uses|includes) affiliate links|we may earn|as an amazon associate", re.I)
# A merchant speaks of its own program ("our affiliate program", "unser Partnerprogramm", "notre programme
# d'affiliation", "nuestro programa de afiliados", ...); a guide about programs speaks of programs in general.
OWN_PROGRAM = re.compile(
    r"\b(our|unser\w*|notre|nuestro|ons|onze|nosso|nostro)\s+(" + PROGRAM_WORDS.pattern.replace("\\b", "") + ")",
    re.I)
# "What is an affiliate program?", "Was ist ein Partnerprogramm?", "Qu'est-ce qu'un programme d'affiliation ?":
# a heading asking what *a* program is explains programs in general ("O que é o Programa de Afiliados?", the
# definite article, is a merchant's FAQ about its own).
GENERAL_QUESTION = re.compile(
    r"\b(what\s+is\s+an?|was\s+ist\s+ein|qu.est-ce\s+qu.un|qu[ée]\s+es\s+un|wat\s+is\s+een|o\s+que\s+[ée]\s+um|"
    r"(che\s+)?cos.[eè]\s+un)\b", re.I)
# "15 Best Pet Affiliate Programs", "Top 10 Partnerprogramme", "Les meilleurs programmes d'affiliation": a title or
# heading ranking programs (a word for best or top, then programs in the plural) is a publisher's list of other
# merchants' programs, whose sign-up and network links and terms are theirs: it read as a program, the surest of all.
# "Best Buy Affiliate Program" names one.
RANKED_LIST = re.compile(
    r"\b(best|top|beste[nr]?|meilleur(e)?s|mejores|melhores|migliori)\b.*"
    r"(\bprograms|programmes|(partner|affiliate|empfehlungs)programme|programma.?s|\bprogramas|\bprogrammi)\b", re.I)
# Program vocabulary, one concept each whatever the language; evidence names the concept.
TOPIC_WORDS = {
    "commission": r"commission\w*|commissie\w*|provision\w*|provvigion[ei]|comisi[oó]n\w*|comiss[aã]o|comiss[oõ]es",
    "cookie": r"cookie\w*",
    "payout": r"payouts?|auszahlung\w*|paiements?|pagos?|pagamentos?|uitbetaling\w*|pagamenti",
    "earn": r"earn\w*|verdien\w*|gagne[rz]?|ganar|gana|ganhe|ganhar|guadagna\w*",
    "affiliates": r"affiliates|affili[ée]s|afiliados|affiliati",
    "referral": r"referral\w*|empfehlungs\w*|parrainage|referidos?|indica[cç][aã]o|verwijzing\w*",
    "recurring": r"recurring|wiederkehrend\w*|r[ée]current\w*|recurrentes?|recorrentes?|terugkerend\w*|ricorrent\w*",
}
# A page listing many programs (a directory's category page, a comparison table, a page about networks) has every
# word of one many times over, and its links and terms are the listed merchants': whatever they add up to, it is none
# of them. Each sign below is one a merchant's own page, even one naming other programs or its networks, does not give.
# "a directory of affiliate programs", "Affiliate Programs Directory", "Verzeichnis der Partnerprogramme", "annuaire
# des programmes d'affiliation": the page says it is a directory or catalogue of programs.
_DIRECTORY_WORDS = r"(directory|directories|catalog(ue)?|verzeichnis|katalog|annuaire|directorio|cat[aá]logo|" \
                   r"diret[oó]rio|elenco|overzicht)"
_PROGRAMS = r"(programs|programmes|partnerprogramme|programas|programma's|programmi)"
DIRECTORY = re.compile(
    rf"\b{_DIRECTORY_WORDS}\b[^.?!]{{0,40}}\b{_PROGRAMS}\b|\b{_PROGRAMS}[\s-]{{1,3}}{_DIRECTORY_WORDS}\b", re.I)
# "submit your affiliate program", "add an affiliate program to our directory", "list an affiliate program": it asks
# programs' owners for theirs ("submit your affiliate program application" is a merchant's form).
SUBMIT_PROGRAM = re.compile(r"\b(submit|add|list|post)(s|ed|ing|ted|ting)?\s+(your|an?|any|their)?\s*"
                            r"(affiliate\s+|partner\s+)?programs?\b(?!\s+(applications?|forms?|requests?)\b)", re.I)
# A table row's figures: a commission beside a cookie's days ("Myprotein Up to 8% 30 days", "CVS 10% 3 days").
COMMISSION_AND_DAYS = re.compile(
    r"(\d+(?:[.,]\d+)?\s?%|[$€£]\s?\d+)[^.!?]{0,30}?\b\d+\s?(days?|tage[n]?|jours|d[ií]as|dagen|giorni)\b", re.I)
# Words before "affiliate program" that name no program: articles, pronouns, "join", "best" (in the languages read).
NOT_A_NAME = frozenset(
    "the our your this that an a any other join best top about my their its new free every each "
    "das die der dem den des ein eine einem einen einer unser unsere unserem unseren mit im am zum "
    "le la les un une notre nos du des au el los las nuestro nuestra del het de een ons onze o os "
    "nosso nossa il lo gli nostro nostra al affiliate partner deze dit dieses diesem ce cet cette este esta questo "
    "questa".split())
LISTED_NAMES = 4  # programs named ("Bluehost Affiliate Program", "Kinsta Affiliate Program", ...)
LISTED_ROWS = 4  # rows of a commission and a cookie
LISTED_SITES = 4  # other sites linked with program words
LISTED_NETWORKS = 5  # networks named: a merchant names the one or few its program runs on
MAX_TEXT = 20_000


@dataclass
class Verdict:
    confidence: float
    evidence: list[str] = field(default_factory=list)
    name: str = ""
    description: str = ""
    text: str = ""
    join_url: str | None = None
    network: str | None = None
    terms: dict = field(default_factory=dict)
    # the evidence that counts against a program (a ranked list, a guide, a publisher's disclosure, a directory): the
    # reason a rejected page gives first (why_rejected)
    against: list[str] = field(default_factory=list)

    def counts_against(self, said: str) -> None:
        self.evidence.append(said)
        self.against.append(said)


def why_rejected(verdict: Verdict) -> str:
    """A rejected page's reason in one short line: the evidence against a program, else the little for one."""
    if verdict.against:
        said = verdict.against[0]
    elif verdict.evidence:
        said = f"too little sign of a program (confidence {verdict.confidence:.2f}): {'; '.join(verdict.evidence)}"
    else:
        said = "nothing on the page speaks of an affiliate program"
    return textwrap.shorten(said, width=REASON_WIDTH, placeholder=" …")


REASON_WIDTH = 200  # a reason's characters on its line (a quoted heading or a list's names can run long)


def classify(html: str, url: str) -> Verdict:
    from affiliate_matrix.sources import Page  # on the first page judged, not at the function's start

    page = Page(url, 200, html, "")
    title = (page.text_of("title") or "")[:300]
    heading = (page.text_of("h1") or "")[:300]
    meta = page.css_first('meta[name="description"]')
    description = (meta.attributes.get("content") or "")[:1000] if meta else ""
    site = page.css_first('meta[property="og:site_name"]')
    for noise in page.css("script, style, nav, header, footer"):
        noise.decompose()
    body = page.tree.body.text(separator=" ", strip=True)[:MAX_TEXT] if page.tree.body else ""
    verdict = Verdict(0.0, name=_name(site.attributes.get("content") if site else None, heading, title, url),
                      description=description, text=body)
    score = 0.0
    headline = f"{title} {heading}"
    ranked = RANKED_LIST.search(heading) or RANKED_LIST.search(title)
    if ranked:
        verdict.counts_against(f"the title or heading ranks programs: {heading or title!r}, a publisher's list of them, "
                               "not one")
    elif GENERAL_QUESTION.search(headline) and PROGRAM_WORDS.search(headline):
        verdict.counts_against(f"the title or heading asks what a program is: {heading or title!r}, a guide")
    elif PROGRAM_WORDS.search(headline):
        score += 0.35
        verdict.evidence.append(f"program wording in the title or heading: {heading or title!r}")
    elif PARTNERISH.search(headline):
        score += 0.15
        verdict.evidence.append(f"partner wording in the title or heading: {heading or title!r}")
    elif PROGRAM_WORDS.search(body):
        score += 0.15
        verdict.evidence.append("program wording in the text")
    if own := OWN_PROGRAM.search(body):
        score += 0.15
        verdict.evidence.append(f"the page speaks of its own program: {own.group(0)!r}")
    topic = sorted(concept for concept, words in TOPIC_WORDS.items() if re.search(rf"\b(?:{words})\b", body, re.I))
    if topic:
        score += min(0.05 * len(topic), 0.2)
        verdict.evidence.append(f"program vocabulary: {', '.join(topic)}")
    host_domain = registrable_domain(urlsplit(url).hostname or "")
    for link in page.css("a[href]"):
        href = urljoin(url, link.attributes.get("href") or "")
        label = link.text(strip=True)[:200]
        network = taxonomy.NETWORK_HOSTS.get(registrable_domain(urlsplit(href).hostname or "") or "")
        if network and verdict.network is None:
            verdict.network, verdict.join_url = network, verdict.join_url or href
            score += 0.3
            verdict.evidence.append(f"link to the {network} network: {href}")
        if verdict.join_url is None and SIGNUP.search(label) and PARTNERISH.search(f"{label} {href}"):
            verdict.join_url = href
            score += 0.2
            verdict.evidence.append(f"sign-up link: {label!r}")
    found = terms.extract(" ".join((description, body)))
    if found.commission or found.cookie_days is not None:
        score += 0.15
        verdict.evidence.append("terms read: " + ", ".join(
            ([f"commission {_said(found.commission[0])}"] if found.commission else [])
            + ([f"cookie {found.cookie_days} days"] if found.cookie_days is not None else [])))
    verdict.terms = found.as_json()
    if DISCLOSURE.search(body) and (ranked or not PROGRAM_WORDS.search(headline)):
        score -= 0.3
        verdict.counts_against("an affiliate-link disclosure: a publisher's page, not a program")
    if host_domain and verdict.network is None and verdict.join_url and \
            registrable_domain(urlsplit(verdict.join_url).hostname or "") not in (host_domain, None):
        verdict.evidence.append("the sign-up link leaves the site")
    listing = None if ranked else lists_programs(page, body, url, host_domain)
    if listing:
        verdict.counts_against(f"the page lists many programs ({listing}): a directory or list of them, not one")
    # a list's links and terms are the programs it lists: whatever they add up to, it is none of them
    verdict.confidence = 0.0 if ranked or listing else round(max(0.0, min(score, 1.0)), 3)
    return verdict


def lists_programs(page, body: str, url: str, host_domain: str | None) -> str | None:
    """What shows the page lists many programs rather than being one merchant's (None when nothing does): it calls
    itself a directory of them or asks for programs to be submitted, names several programs, has rows of commission
    and cookie figures, links to several other sites with program words, or names many networks."""
    if said := DIRECTORY.search(body):
        return f"it calls itself a directory of them: {said.group(0)!r}"
    if said := SUBMIT_PROGRAM.search(body):
        return f"it asks for programs to be listed: {said.group(0)!r}"
    names = program_names(body)
    if len(names) >= LISTED_NAMES:
        return f"{len(names)} programs named: {', '.join(names[:5])}"
    rows = COMMISSION_AND_DAYS.findall(body)
    if len(rows) >= LISTED_ROWS:
        return f"{len(rows)} rows of a commission and a cookie's days"
    sites = set()
    for link in page.css("a[href]"):
        href = urljoin(url, link.attributes.get("href") or "")
        domain = registrable_domain(urlsplit(href).hostname or "")
        if domain and domain != host_domain and domain not in taxonomy.SHARED_HOSTS and \
                PARTNERISH.search(f"{link.text(strip=True)[:200]} {href}"):
            sites.add(domain)
    if len(sites) >= LISTED_SITES:
        return f"links to {len(sites)} other sites' programs: {', '.join(sorted(sites)[:5])}"
    networks = {taxonomy.NETWORK_NAMES[name.lower()] for name in NETWORK_NAME.findall(body) if name[0].isupper()}
    if len(networks) >= LISTED_NETWORKS:
        return f"{len(networks)} networks named: {', '.join(sorted(networks))}"
    return None


# The networks' names, read where a page writes them capitalised ("ShareASale", "CJ Affiliate"; not "the impact of").
NETWORK_NAME = re.compile(r"\b(" + "|".join(sorted((re.escape(name) for name in taxonomy.NETWORK_NAMES
                                                    if name not in ("direct", "in-house", "in house", "inhouse")),
                                                   key=len, reverse=True)) + r")\b", re.I)


def program_names(body: str) -> list[str]:
    """The programs a text names, once each: the word before each "affiliate program" (or "Partnerprogramm", ...)
    written with a capital or digit ("Bluehost", "A2"), not an article or pronoun, not a sentence's first word;
    one name inside another ("iHealth", "iHealthLabs") is one program."""
    names: list[str] = []
    for found in PROGRAM_WORDS.finditer(body):
        words = body[max(0, found.start() - 80):found.start()].split()
        if len(words) < 2 or re.search(r"[.!?:]$", words[-2]):  # a sentence's first word: capitalised anyway
            continue
        word = words[-1].strip("\"'“”(),;-")
        name = re.sub(r"['’]s$", "", word).casefold()
        if not name or name in NOT_A_NAME or not re.search(r"[A-Z0-9]", word):
            continue
        if not any(name in known or known in name for known in names):
            names.append(name)
    return names


def _said(term) -> str:
    """A commission as evidence: "8%", "up to 50%", "25 USD" (a ceiling has no lower value)."""
    value = term.value_min if term.value_min is not None else f"up to {term.value_max}"
    return f"{value}%" if term.type == "percent" else f"{value} {term.currency}"


def _name(site: str | None, heading: str, title: str, url: str) -> str:
    if site:
        return site.strip()[:300]
    for text in (title, heading):
        cleaned = re.split(r"\s+[|·–-]\s+", text)
        for part in sorted(cleaned, key=lambda p: bool(PARTNERISH.search(p))):  # the brand, not "Partners"
            stripped = PROGRAM_WORDS.sub("", part).strip(" -|:")
            if stripped:
                return stripped[:300]
    return urlsplit(url).hostname or url
