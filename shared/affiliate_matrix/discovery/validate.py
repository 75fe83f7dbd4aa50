"""Is a fetched page an affiliate/partner program page? Signals, each with a weight and kept as
evidence: program wording in the title or heading, the page speaking of its own program, program
vocabulary, sign-up links, links to known affiliate networks, and terms the extractor can read. The
confidence is their capped sum. Wording is read in every language the dorks search, and a few more
that merchants' pages come in (en, de, fr, es, nl, pt, it)."""

import re
import textwrap
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from affiliate_matrix import terms, taxonomy
from affiliate_matrix.normalize import registrable_domain
from affiliate_matrix.sources.generic import json_ld_blocks

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

# A page about ONE program on a site that is not its merchant's: a directory's profile of it
# (affiliates-directory.com/websites/hosting-com), a review site's or a blogger's review, a guide to joining it, a copy
# of the merchant's page. It has the words, terms and sign-up links of the merchant's own page, and it was discovered as
# the directory's own program, keyed to the directory's host. Its subject is the program its title or heading names
# ("Fiverr Affiliate Program Review": Fiverr), else the one its address's last segment names that its heading names
# too (/websites/hosting-com, "Hosting.com"); a subject naming the page's own site is the merchant's own page.
# The word before "affiliate program", "Partnerprogramm", ... or before "affiliate(s)" alone ("Bluehost Affiliate").
SUBJECT_WORDS = re.compile(PROGRAM_WORDS.pattern + r"|\b(affiliate|partner|referral)s?\b", re.I)
# A title or heading reviewing a program or telling how to join it: a third party's, as no merchant reviews its own
# ("Fiverr Affiliate Program Review", "Erfahrungen", "avis", "How to Join Hostinger Affiliate Program", "Is It Worth
# It?"); not "how it works", which a merchant's own page says of its program too
REVIEWED = re.compile(
    r"\b(reviews?|reviewed|erfahrung(en|sbericht)?|testbericht|avis|recensione|recensioni|opiniones|rese[ñn]as?|"
    r"an[aá]lise|opini[aã]o|beoordeling|ervaringen|worth\s+it|"
    r"how\s+(to|do\s+you)\s+(join|apply|sign\s*up|become|register)|"
    r"wie\s+(melde|werde)|comment\s+(rejoindre|devenir|s.inscrire)|c[oó]mo\s+(unirse|registrarse|ser)|"
    r"hoe\s+(word|meld)|como\s+(se\s+)?(cadastrar|afiliar|ser)|come\s+(diventare|iscriversi))\b",
    re.I)
# Words of an address's last segment that name no program's owner: program words, the page's kind, joiners
SLUG_FILLER = frozenset(
    "the a an of for to and how do is it our your my join apply become sign up signup register review reviews faq faqs "
    "help info information page terms conditions program programs programme programmes partner partners affiliate "
    "affiliates referral html htm php aspx index".split())
# Directory breadcrumbs (Home › Affiliate Programs › Hosting › Hosting.com): a crumb before the last naming programs
# in the plural or a directory
DIRECTORY_CRUMB = re.compile(rf"\b({_PROGRAMS}|{_DIRECTORY_WORDS}|reviews)\b", re.I)
ADDRESS_IN_TEXT = re.compile(r"\bhttps?://[^\s\"'<>)]+|\bwww\.[a-z0-9-]+(\.[a-z0-9-]+)+[^\s\"'<>)]*|"
                             r"\b[\w.+-]{1,64}@([a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}\b", re.I)  # bounded: no long retries


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
    # the merchant's own program page a page about another site's program links to (about_another): the run judges
    # it as that merchant's candidate
    merchant_url: str | None = None
    # the page is about another site's program (about_another), with or without a link to its page: its site publishes
    # such pages, whose other pages the run reads for leads (run.lead_pages)
    about_another_site: bool = False

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
    marks = third_party_marks(page)  # read before the scripts and navigation they are in are dropped
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
    if merchant := taxonomy.platform_merchant(url):
        # the host serves merchants' program pages alone (sign-up forms, terms), as a network's sign-up link says a
        # page is a program's; its title is often the form's ("Program Application"), the merchant named below it
        score += 0.3
        platform = registrable_domain(urlsplit(url).hostname or "")
        verdict.evidence.append(f"a page of {merchant[:100]}'s program on affiliate-program software ({platform})")
        if not site and _alnum(merchant) not in _alnum(verdict.name):  # a subdomain is a name, a path may be an id
            verdict.name = _spelt(merchant, body) or (
                verdict.name if urlsplit(url).hostname in taxonomy.PATH_PROGRAM_HOSTS else merchant)
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
    another = None if ranked or listing else about_another(
        page, body, url, title, heading, site.attributes.get("content") if site else None, marks)
    if another:
        said, verdict.merchant_url = another
        verdict.about_another_site = True
        verdict.counts_against(f"the page is about another site's program ({said}): a directory's or reviewer's page "
                               "about it, not its merchant's")
    # a list's links and terms are the programs it lists, and a page about another site's program has that program's:
    # whatever they add up to, it is not the site's own
    verdict.confidence = 0.0 if ranked or listing or another else round(max(0.0, min(score, 1.0)), 3)
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


def about_another(page, body: str, url: str, title: str, heading: str, site_name: str | None,
                  marks: list[str]) -> tuple[str, str | None] | None:
    """What shows the page is about one program of another site than its own (None when nothing does), and that
    merchant's program page when the page links to it or writes it out. The subject (subject_of) is not the page's own
    site, and something says the page is about it: an address at the subject's site (a link, a URL or an e-mail
    written in the text), a title, heading or address reviewing it or telling how to join it, schema.org Review
    markup, a directory's breadcrumbs (and, beside one of those, its address naming it). Without a subject: a program
    page of another site that the text names again and again while it never names its own. A merchant's page on
    affiliate-program software (taxonomy.platform_merchant: taptes.refersion.com, af.uppromote.com/astrofy/register)
    is its own program's, never about another's: it names and links to the merchant's shop, whose site it is not."""
    if taxonomy.platform_merchant(url):
        return None
    host = urlsplit(url).hostname or ""
    own = _site(host) or registrable_domain(host) or host
    subject, from_address = subject_of(title, heading, url)
    if subject and (_names_site(subject, host) or (site_name and _alnum(subject) in _alnum(site_name))):
        return None  # the site's own program
    addresses = [(domain, address, label) for domain, address, label in _addresses(page, body, url)
                 if domain != own and domain not in taxonomy.SHARED_HOSTS]
    signs = []
    merchant = None
    if subject:
        at_subject = [(domain, address, label) for domain, address, label in addresses if _names_site(subject, domain)]
        if at_subject:
            signs.append(f"it names the merchant's address, {at_subject[0][1]}")
            merchant = _program_page(at_subject)
        segment = re.sub(r"[-_+]+", " ", _last_segment(url))
        if reviewed := REVIEWED.search(f"{title} {heading}"):
            signs.append(f"the title or heading says {reviewed.group(0)!r} of it")
        elif reviewed := REVIEWED.search(segment):
            signs.append(f"its address says {reviewed.group(0)!r} of it")
        signs += marks
        # its address naming the program says so only beside another sign: alone, it is as likely a merchant's own
        # page on a domain not its brand's (andonhealth.net/ihealth-affiliate-program)
        if signs and not from_address and _alnum(subject) in _alnum(segment):
            signs.append(f"its address names it, {urlsplit(url).path[:80]}")
        return (f"{subject}: {'; '.join(signs)}", merchant) if signs else None
    own_label = _alnum(own.split(".")[0])
    if own_label and own_label in _alnum(f"{title} {heading} {body}"):
        return None
    for domain, address, label in addresses:
        if not (address.startswith("http") and PARTNERISH.search(f"{label} {address}")):
            continue
        named = len(re.findall(rf"\b{re.escape(domain.split('.')[0])}\b", body, re.I))
        if named >= 2:
            return (f"{domain}: the text names it {named} times, never this site, and sends its readers to {address}",
                    address)
    return None


def subject_of(title: str, heading: str, url: str) -> tuple[str | None, bool]:
    """The program a page is about, and whether it was read from the address: the name its title or heading gives a
    program ("Fiverr Affiliate Program Review": "Fiverr"; not an article, a pronoun, "join"), else the words of its
    address's last segment (program words and the like left out: /websites/hosting-com, "hosting com") where its
    heading is that name and no more ("Hosting.com", a directory's profile of it; "Como funciona o programa" is a
    merchant's page saying how its program works)."""
    for headline in (heading, title):
        for found in SUBJECT_WORDS.finditer(headline):
            words = headline[:found.start()].split()
            if not words:
                continue
            word = re.sub(r"['’]s$", "", words[-1].strip("\"'“”(),;:|–-"))
            if word and word.casefold() not in NOT_A_NAME and re.search(r"[A-Z0-9]", word) and len(_alnum(word)) >= 3:
                return word, False
    words = [w for w in re.split(r"[^a-z0-9]+", _last_segment(url).lower())
             if w and w not in SLUG_FILLER and not PARTNERISH.search(w) and not w.startswith("program")]
    named = "".join(words)
    if len(named) >= 3 and not named.isdigit() and named == _alnum(heading or title):
        return " ".join(words), True
    return None, False


def third_party_marks(page) -> list[str]:
    """Marks in the page's markup of a page about another's program: schema.org Review markup (a review names what it
    reviews), breadcrumbs of a directory ("Home › Affiliate Programs › Hosting › Hosting.com")."""
    marks = []
    for block in json_ld_blocks(page):
        stack = [block]  # the blocks' items and @graph only: a merchant's product may carry its customers' reviews
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kind = item.get("@type")
                if kind == "Review" or (isinstance(kind, list) and "Review" in kind):
                    marks.append("schema.org Review markup")
                    stack.clear()
                    break
                if kind == "BreadcrumbList":
                    elements = item.get("itemListElement")
                    crumbs = [str(element.get("name") or (element["item"].get("name") if isinstance(
                        element.get("item"), dict) else "") or "")
                              for element in elements if isinstance(element, dict)] if isinstance(elements, list) else []
                    marks += _directory_crumbs(crumbs)
                stack.extend(value for key, value in item.items() if key == "@graph")
    for trail in page.css('[itemtype*="BreadcrumbList"], nav[aria-label*="readcrumb"], .breadcrumb, .breadcrumbs'):
        marks += _directory_crumbs([node.text(strip=True) for node in page.css("li, a", within=trail)] or
                                   re.split(r"\s*[›»>/|]+\s*", trail.text(separator=" ", strip=True)))
    return list(dict.fromkeys(marks))


def _directory_crumbs(crumbs: list[str]) -> list[str]:
    crumbs = [crumb.strip() for crumb in crumbs if crumb.strip()]
    if any(DIRECTORY_CRUMB.search(crumb) for crumb in crumbs[:-1]):
        return [f"a directory's breadcrumbs: {' › '.join(crumbs)[:120]}"]
    return []


def _addresses(page, body: str, url: str):
    """The other addresses the page gives: its links, and the URLs and e-mail addresses its text writes out (a stored
    copy keeps those), each as (registrable domain, address, link text)."""
    for link in page.css("a[href]"):
        href = urljoin(url, link.attributes.get("href") or "")
        if href.startswith("mailto:"):
            href = href.removeprefix("mailto:")
        yield from _address(href, link.text(strip=True)[:200])
    for found in ADDRESS_IN_TEXT.finditer(body):
        yield from _address(found.group(0).rstrip(".,;:!?"), "")


def _address(address: str, label: str):
    if "@" in address and "://" not in address:
        host = address.rpartition("@")[2]
    else:
        host = urlsplit(address if "://" in address else f"http://{address}").hostname or ""
        address = address if "://" in address else f"https://{address}"
    if domain := _site(host.lower()):
        yield domain, address, label


def _site(host: str) -> str | None:
    """The site a host is part of: its registrable domain, or a merchant's own subdomain on a host that gives merchants
    one (normalize.merchant_domain: acme.myshopify.com, taptes.refersion.com); None for another page of a host many
    merchants share (ui.awin.com)."""
    domain, site = registrable_domain(host), host.rstrip(".").removeprefix("www.")
    if domain in taxonomy.SHARED_HOSTS and site != domain:
        return site if taxonomy.tenant(site, domain) else None
    return domain


def _program_page(addresses) -> str | None:
    """The merchant's program page among its addresses the page gives: a web address with program words in it or its
    link's text, or a page of its program on affiliate-program software (taptes.refersion.com); a front page or an
    e-mail address is not one."""
    return next((address for _, address, label in addresses
                 if address.startswith("http") and (PARTNERISH.search(f"{label} {urlsplit(address).netloc}"
                                                                      f"{urlsplit(address).path}")
                                                    or taxonomy.platform_merchant(address))), None)


def _spelt(name: str, text: str) -> str | None:
    """`name` as the text writes it ("TAPTES" for the subdomain taptes), None where the text does not."""
    found = re.search(rf"(?<![^\W_]){re.escape(name)}(?![^\W_])", text, re.I)
    return found.group(0) if found else None


def _names_site(name: str, host: str) -> bool:
    """Whether a name is a site's: "Hosting.com" of hosting.com, "Health" of andonhealth.net, "Kinsta" of kinsta.com."""
    name, label = _alnum(name), _alnum((registrable_domain(host) or host).split(".")[0])
    return len(name) >= 3 and (name in _alnum(host) or (len(label) >= 3 and label in name))


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _last_segment(url: str) -> str:
    return unquote(next((part for part in reversed(urlsplit(url).path.split("/")) if part), ""))


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
