"""Is a fetched page an affiliate/partner program page? Signals, each with a weight and kept as
evidence: program wording in the title or heading, sign-up links, links to known affiliate
networks, and terms the extractor can read. The confidence is their capped sum."""

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from affiliate_matrix import terms, taxonomy
from affiliate_matrix.normalize import registrable_domain

PROGRAM_WORDS = re.compile(
    r"\b(affiliate|partner|referral|ambassador|reseller)s?\s+program(me)?s?\b|partnerprogramm|"
    r"programme d.affiliation|programa de afiliados|\baffiliates?\b\s*(hub|center|centre|portal)", re.I)
SIGNUP = re.compile(r"\b(join|sign[\s-]?up|apply|register|become|enrol+)\b", re.I)
PARTNERISH = re.compile(r"affiliat|partner|referr|ambassador|afiliad|affili", re.I)
DISCLOSURE = re.compile(r"(contains|uses|includes) affiliate links|we may earn|as an amazon associate", re.I)
TOPIC_WORDS = ("commission", "cookie", "payout", "earn", "affiliates", "referral", "recurring")
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
    if PROGRAM_WORDS.search(f"{title} {heading}"):
        score += 0.35
        verdict.evidence.append(f"program wording in the title or heading: {heading or title!r}")
    elif PARTNERISH.search(f"{title} {heading}"):
        score += 0.15
        verdict.evidence.append(f"partner wording in the title or heading: {heading or title!r}")
    elif PROGRAM_WORDS.search(body):
        score += 0.15
        verdict.evidence.append("program wording in the text")
    topic = sorted({w for w in TOPIC_WORDS if re.search(rf"\b{w}\b", body, re.I)})
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
            ([f"commission {found.commission[0].value_min}{'%' if found.commission[0].type == 'percent' else ''}"]
             if found.commission else []) + ([f"cookie {found.cookie_days} days"] if found.cookie_days is not None else [])))
    verdict.terms = found.as_json()
    if DISCLOSURE.search(body) and not PROGRAM_WORDS.search(f"{title} {heading}"):
        score -= 0.3
        verdict.evidence.append("an affiliate-link disclosure: a publisher's page, not a program")
    if host_domain and verdict.network is None and verdict.join_url and \
            registrable_domain(urlsplit(verdict.join_url).hostname or "") not in (host_domain, None):
        verdict.evidence.append("the sign-up link leaves the site")
    verdict.confidence = round(max(0.0, min(score, 1.0)), 3)
    return verdict


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
