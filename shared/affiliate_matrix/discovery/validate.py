"""Is a fetched page an affiliate/partner program page? Signals, each with a weight and kept as
evidence: program wording in the title or heading, the page speaking of its own program, program
vocabulary, sign-up links, links to known affiliate networks, and terms the extractor can read. The
confidence is their capped sum. Wording is read in every language the dorks search, and a few more
that merchants' pages come in (en, de, fr, es, nl, pt, it)."""

import re
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
        verdict.evidence.append(f"the title or heading ranks programs: {heading or title!r}, a publisher's list of them, "
                                "not one")
    elif GENERAL_QUESTION.search(headline) and PROGRAM_WORDS.search(headline):
        verdict.evidence.append(f"the title or heading asks what a program is: {heading or title!r}, a guide")
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
        verdict.evidence.append("an affiliate-link disclosure: a publisher's page, not a program")
    if host_domain and verdict.network is None and verdict.join_url and \
            registrable_domain(urlsplit(verdict.join_url).hostname or "") not in (host_domain, None):
        verdict.evidence.append("the sign-up link leaves the site")
    # a list's links and terms are the programs it lists: whatever they add up to, it is none of them
    verdict.confidence = 0.0 if ranked else round(max(0.0, min(score, 1.0)), 3)
    return verdict


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
