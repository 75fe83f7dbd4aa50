"""A discovery run, top to bottom: dorks → providers (quota, then the next provider) → candidates
de-duplicated by URL and registrable domain → known domains skipped (but a site known to publish pages about other
sites' programs, whose pages are read for the merchants they lead to) → each page fetched politely and stored raw →
judged → confident ones become a batch of `discovery` records for the index, doubtful ones go to the review list, the
rest are remembered as rejected; a page about another site's program leads to its merchant's page, judged in turn."""

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from pydantic import HttpUrl, TypeAdapter, ValidationError

from affiliate_matrix import taxonomy
from affiliate_matrix.crawl import time_budget
from affiliate_matrix.discovery import BATCHES, SEEN, DiscoveryReport, batch_stored
from affiliate_matrix.discovery.dorks import MAX_NICHE, dorks, niche_problem
from affiliate_matrix.discovery.providers import ProviderError, QuotaExhausted, Result, Usage, open_providers
from affiliate_matrix.discovery.validate import Verdict, classify, why_rejected
from affiliate_matrix.errors import BackendUnavailable, ConflictError, DamagedData, InvalidInput, NotFoundError
from affiliate_matrix.fetch import Fetcher, FetchError
from affiliate_matrix.models import RawRecord
from affiliate_matrix.netguard import target_of
from affiliate_matrix.normalize import registrable_domain
from affiliate_matrix.observability import get_logger, log_damaged
from affiliate_matrix.observability.telemetry import ITEMS
from affiliate_matrix.polite import WaitBudget, WaitsSpent
from affiliate_matrix.program_index import PROGRAMS_INDEX, summary_field
from affiliate_matrix.search import MAX_PAGE, SearchQuery
from affiliate_matrix.wording import quoted

log = get_logger()
ACCEPT, REVIEW = 0.7, 0.35  # confidence to enter the index; to be worth a person's look
TRACKING = ("utm_", "ref", "fbclid", "gclid", "msclkid")
WEB_PAGE_TYPES = ("text/html", "application/xhtml+xml", "")  # no Content-Type at all: read as the page it likely is
_HTTP_URL = TypeAdapter(HttpUrl)
# The kind of rejection (a remembered decision's "kind") that makes a site a source of leads: a page about another
# site's program (validate.about_another), a directory's profile or a review. Decisions stored before kinds have none:
# their sites are skipped as any judged site.
ABOUT_ANOTHER = "about_another"
# A source of leads' pages a run reads (the one judged among them): a query may answer with dozens of one directory's
# profiles, each fetched after its Crawl-delay (up to 60 s), and they would spend the run's waits on one site
PAGES_PER_LEAD_SITE = 5


@dataclass
class Candidate:
    url: str
    domain: str
    result: Result
    # the site of the page about this merchant's program that linked to its program page (merchant_lead), if any
    found_on: str | None = None
    # the site's other pages among the run's results, best-ranked first (dedupe): read for leads where it is a source
    # of them (lead_pages)
    others: list[Result] = field(default_factory=list)
    # a page of a source of leads, read only for the merchant's program page it links to (follow): not judged
    lead_page: bool = False


def discover(rt, niches: list[str], languages: list[str], **pacing) -> DiscoveryReport:
    """`pacing`: fakes for the polite clients of the providers and the fetcher, from tests. The queries and the pages
    share one budget of waits (crawl.time_budget of the function's time limit, as a crawl's): a run of thousands of
    candidates was killed at the function's limit, its batch never written. Past the budget the run stops asking,
    keeps what it judged, and says what it did not (`out_of_time`, `not_judged`, `leads_not_read`)."""
    report = DiscoveryReport()
    pacing.setdefault("wait_budget", WaitBudget(time_budget(rt.settings.crawl_time_limit_s)))
    validate(rt, search(rt, searchable(niches, report), languages, report, **pacing), report, **pacing)
    return report


def searchable(niches: list[str], report: DiscoveryReport) -> list[str]:
    """The niches a run searches: one a search engine would read operators in (dorks.niche_problem) is refused where a
    person gives it, but one stored before that (AMX_DISCOVERY_NICHES, a cron's data) is skipped, logged and named in
    the report (skipped_niches), the others searched. InvalidInput naming them when none is left."""
    kept = []
    for niche in niches:
        if why := niche_problem(niche):
            report.skipped_niches.append(f"{niche[:MAX_NICHE]!r}: {why}")
            log.warning("discover.niche_skipped", niche=niche[:MAX_NICHE], reason=why)
        else:
            kept.append(niche)
    if not kept and report.skipped_niches:
        raise InvalidInput("no niche to search, each skipped: " + "; ".join(report.skipped_niches))
    return kept


def validate(rt, results: list[Result], report: DiscoveryReport, **pacing) -> None:
    """Candidates from the results, each page fetched and judged (and a source of leads' pages read for the merchants
    they lead to: lead_pages); the confident ones become a batch for the index. A URL that cannot be fetched is a
    failure for it, never the run's end."""
    candidates = dedupe(results, report)
    report.results, report.candidates = len(results), len(candidates)
    # the judged among them with their decisions' keys: the decisions read are theirs alone (lead_sites)
    decided = decisions_of(rt, [c.domain for c in candidates])
    known = listed_domains(rt, [c.domain for c in candidates]) | set(decided)
    report.known = sorted(c.domain for c in candidates if c.domain in known)
    records, decisions = [], {}
    fetcher = Fetcher(rt.settings.user_agent, allow_loopback=rt.settings.allow_loopback_fetch, rate_limit_per_s=1.0,
                      **pacing)
    # the pages a run fetches: each unknown site's best page, judged, and the pages of sources of leads, read for leads
    sources = lead_sites(rt, decided)
    pages = [c for c in candidates if c.domain not in known] + \
        [page for c in candidates if c.domain in sources for page in lead_pages(c, judged=False)]
    sites = {c.domain for c in candidates}
    try:
        # Each site's robots.txt first, then the sites judged by the wait they ask between requests (a Crawl-delay, up
        # to 60 s, waited and counted in the run's budget before the page), shortest first (a stable sort: alike, in
        # the order found): in the order found, 14 sites asking 60 s spent a run's whole budget before any other
        pages.sort(key=lambda candidate: fetcher.spacing(candidate.url))
        # a page about another site's program that links to that merchant's program page adds the merchant's candidate,
        # and a site judged to publish such pages its other pages of the run, to read (lead_pages): after those found
        for number, candidate in enumerate(pages):
            leads: list[str] = []
            try:
                if candidate.lead_page:  # read for the merchant it leads to only: it keeps nothing (None)
                    judged = follow(rt, fetcher, candidate, report, leads)
                else:
                    judged = judge(rt, fetcher, candidate, report, leads)
            except WaitsSpent as exc:  # not remembered as judged: the next run that finds them judges them
                out_of_time(report, str(exc))
                # every page queued and not reached is named: a lead page left out of not_judged (its site was judged,
                # or is a known source of leads) vanished from the report
                report.not_judged = [c.domain for c in pages[number:] if not c.lead_page]
                report.leads_not_read = [c.url for c in pages[number:] if c.lead_page]
                break
            if judged is not None and candidate.found_on:  # said once judged: queued alone, it is in not_judged
                report.merchants_followed.append(f"{candidate.found_on} → {candidate.url}")
            if judged is not None:
                record_, decision = judged
                if record_ is not None:
                    records.append(record_)
                    decisions[candidate.domain] = decision
                elif publishes_leads(decision):
                    pages += lead_pages(candidate, judged=True)
            pages += [lead for url in leads if (lead := merchant_lead(rt, url, candidate, sites, report))]
    finally:
        fetcher.close()
    if records:
        batch = "\n".join(r.model_dump_json() for r in records).encode()
        report.batch_key = rt.store.put_content_addressed(BATCHES.rstrip("/"), batch, suffix=".jsonl",
                                                          content_type="application/x-ndjson")
        # remembered as judged once their batch is stored: a batch write failing after left them judged, never indexed
        for domain, decision in decisions.items():
            remember(rt, domain, decision)
        rt.bus.publish(batch_stored(report.batch_key, len(records)))
    ITEMS.labels("discovered").inc(len(report.discovered))
    log.info("discover.done", queries=report.queries, candidates=report.candidates, discovered=len(report.discovered),
             review=len(report.review), rejected=len(report.rejected), failures=len(report.failures),
             not_judged=len(report.not_judged), out_of_time=report.out_of_time)


def merchant_lead(rt, url: str, page: Candidate, sites: set[str], report: DiscoveryReport) -> Candidate | None:
    """The merchant's own program page that a page about its program (a directory's profile, a review) links to, as a
    candidate of the merchant's site (validate.about_another): that page was keyed to the directory's host, its terms
    the directory's copy of them. None where the merchant's site is a candidate of the run already, known to the index
    or judged, no merchant's (not_a_merchant), or not an address a record can keep. One step only: a page found so
    leads nowhere further (judge)."""
    try:
        _, host, _ = target_of(url)
    except FetchError:
        return None
    domain = site_of(host)
    if unkeepable(url) or domain in sites or not_a_merchant(url, domain) or known_domains(rt, [domain]):
        return None
    sites.add(domain)
    report.candidates += 1
    return Candidate(untracked(url), domain, page.result, found_on=page.domain)


def publishes_leads(decision: dict) -> bool:
    """Whether a site's decision says it publishes pages about other sites' programs (a directory's profiles, reviews),
    so that its pages in a run lead to their merchants' program pages (lead_pages) though the site is judged."""
    return decision.get("kind") == ABOUT_ANOTHER


def lead_sites(rt, decided: dict[str, str]) -> set[str]:
    """Of the judged sites (`decided`: each with the key its decision is under, decisions_of), the sources of leads
    (publishes_leads): their decisions read, several at a time (documents.together), a GET each. A site known only
    because the index lists it has none, and is not asked for: every known site was, one GET each (two where its key
    may be shared), though most are known by the index alone and a run skips them. The store offers no cheaper way: a
    decision's kind is in its body, which neither a HEAD nor a listing gives. A decision stored before decisions had
    kinds, or damaged, makes none: its site is skipped, as before."""
    from affiliate_matrix.documents import together
    from affiliate_matrix.storage import read_json

    def source(item: tuple[str, str]) -> bool:
        domain, key = item
        decision, _, _ = read_json(rt.store, key, lambda doc: isinstance(doc, dict), "a JSON object")
        return decision is not None and _for(decision, domain) and publishes_leads(decision)

    items = sorted(decided.items())
    return {domain for (domain, _), is_source in zip(items, together(source, items)) if is_source}


def lead_pages(site: Candidate, judged: bool) -> list[Candidate]:
    """The pages of a source of leads a run reads (follow): its pages among the run's results, best-ranked first, up to
    PAGES_PER_LEAD_SITE with the one judged this run (`judged`: the run found it a source) among them."""
    results = site.others if judged else [site.result, *site.others]
    return [Candidate(untracked(result.url), site.domain, result, lead_page=True)
            for result in results[:PAGES_PER_LEAD_SITE - judged]]


def follow(rt, fetcher: Fetcher, page: Candidate, report: DiscoveryReport, leads: list[str]) -> None:
    """Read a page of a source of leads for the merchant's program page it links to (added to `leads`) where it is
    about another site's program; one that is not leads nowhere. The site is not judged again: no record, no review
    item, its decision as it was. None, as judge's for a page it keeps nothing of."""
    read = read_page(rt, fetcher, page, report)
    if read is not None and read[2].merchant_url:
        leads.append(read[2].merchant_url)


def out_of_time(report: DiscoveryReport, why: str) -> None:
    report.out_of_time = True
    log.warning("discover.out_of_time", reason=why)


def search(rt, niches: list[str], languages: list[str], report: DiscoveryReport, **pacing) -> list[Result]:
    """Each dork to the first provider that can answer it. `pacing`: fakes for the providers' polite
    clients, from tests."""
    try:
        queries = dorks(niches, languages)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if not queries:
        raise InvalidInput("give at least one niche")
    usage = Usage(rt.store, quotas(rt.settings.discovery_quotas))
    results: list[Result] = []
    broken: set[str] = set()
    providers = open_providers(rt, report.unusable, **pacing)
    try:
        if not providers:
            raise InvalidInput("no search provider is usable (AMX_DISCOVERY_PROVIDERS names them): "
                               + "; ".join(report.unusable))
        for number, dork in enumerate(queries):
            for provider in providers:
                if provider.name in broken:
                    continue
                if not usage.reserve(provider.name, provider.cost_per_query):
                    # spent before this query, by this run or an earlier one of its day: said once, as when the
                    # provider says so, or a run that asked it nothing did not say why
                    spent(report, provider.name)
                    continue
                try:
                    found = provider.search(dork)
                except WaitsSpent as exc:  # the run's time is up: no provider is asked anything more
                    usage.unanswered(provider.name, provider.cost_per_query)
                    out_of_time(report, str(exc))
                    report.unanswered += [d.text for d in queries[number:]]
                    return results
                except QuotaExhausted:
                    usage.unanswered(provider.name, provider.cost_per_query, exhausted=True)
                    spent(report, provider.name)
                    continue
                except ProviderError as exc:
                    usage.unanswered(provider.name, provider.cost_per_query)
                    broken.add(provider.name)
                    report.provider_errors.append(str(exc))
                    log.warning("discover.provider_failed", provider=provider.name, error=str(exc))
                    continue
                report.queries += 1
                results += found
                break
            else:
                report.unanswered.append(dork.text)
    finally:
        for provider in providers:
            report.partial_answers += provider.partial_answers()
            provider.close()
    return results


def spent(report: DiscoveryReport, provider: str) -> None:
    if provider not in report.quota_exhausted:
        report.quota_exhausted.append(provider)
        log.warning("discover.quota_exhausted", provider=provider)


def quotas(setting: str) -> dict[str, int]:
    pairs = (part.split("=", 1) for part in setting.split(",") if part.strip())
    return {name.strip(): int(value) for name, value in pairs}


def untracked(url: str) -> str:
    """The URL without its fragment and tracking parameters (the path is kept: robots.txt rules see it as is)."""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith(TRACKING))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def dedupe(results: list[Result], report: DiscoveryReport) -> list[Candidate]:
    """One candidate per registrable domain (an IP address counts as its own): the best-ranked URL, so
    the same page under other URLs and other pages of the site are not judged again (a source of leads' other pages,
    each once, are read for leads: lead_pages). Domains are
    ASCII (an IDN as its punycode); a URL that is not a fetchable http(s) URL, or one no record can keep, is a
    failure for it."""
    best: dict[str, Candidate] = {}  # a site's best page; its others kept on it, for lead_pages
    urls: set[str] = set()
    for result in sorted(results, key=lambda r: r.rank):
        try:
            _, host, _ = target_of(result.url)
        except FetchError as exc:
            report.failures.append((result.url[:500], str(exc)))
            continue
        problem = unkeepable(result.url)
        if problem:  # fetched, its page stored and only then refused, at every run (a failure is not remembered)
            report.failures.append((result.url[:500], problem))
            continue
        domain = site_of(host)
        if why := not_a_merchant(result.url, domain):
            said = f"{domain}: {why}"
            if said not in report.not_merchants:
                report.not_merchants.append(said)
            continue
        url = untracked(result.url)
        if url in urls:
            continue
        urls.add(url)
        if domain not in best:
            best[domain] = Candidate(url, domain, result)
        else:
            best[domain].others.append(result)
    return list(best.values())


def not_a_merchant(url: str, site: str) -> str | None:
    """Why a candidate's page is no merchant's own, so it is not judged (None when it may be): a page of a host many
    merchants share (taxonomy.SHARED_HOSTS: a network's, a marketplace, a shortener), which names no merchant by its
    domain (normalize.merchant_domain: only its front page is the host's own), or any page of the site of a source the
    index reads, a directory or a network. Judged, one was the host's own program (ShareASale indexed with Petco's
    terms; Chewy's listing on affiliateprograms.com a program of that site; Astrofy's sign-up form on
    af.uppromote.com UpPromote's), and the host was remembered as judged for every other merchant on it; their programs
    come from those sources. A merchant's subdomain on such a host (taptes.refersion.com) is its own site."""
    from affiliate_matrix.normalize import merchant_domain

    if site in taxonomy.SHARED_HOSTS and merchant_domain(url) is None:
        if merchant := taxonomy.platform_merchant(url):  # af.uppromote.com/astrofy: no site to judge and remember
            return (f"the program page of {merchant[:100]!r} on affiliate-program software, its merchant named by "
                    "the address's path, not by a site of its own")
        return "a page of a site many merchants share (a network's, a marketplace, a link shortener), no merchant's own"
    if title := source_sites().get(site):
        return f"the site of a source the index reads ({title}): its programs come from its connection"
    return None


@functools.cache
def source_sites() -> dict[str, str]:
    """Each source plugin's site (the registrable domain of its base URL), by its title: read once a process."""
    from affiliate_matrix.sources import all_sources

    return {domain: plugin.title for plugin in all_sources().values()
            if (domain := registrable_domain(urlsplit(plugin.base_url).hostname or ""))}


def host_key(host: str) -> str:
    """A host name as one key however it is spelt: as the fetch sends it (netguard.domain_to_ascii: full-width letters
    and dots, upper case, an IDN in punycode) and without the trailing dot of a fully qualified name (`example.com.`
    is `example.com`). UnicodeError for what UTS #46 refuses."""
    from affiliate_matrix.netguard import domain_to_ascii

    return domain_to_ascii(host).removesuffix(".")


def site_of(host: str) -> str:
    """What a candidate is one of: a host's registrable domain, or an address in its one canonical form. The resolver
    reads an IPv4 address in many spellings (2130706433, 0x7f.0.0.1, 0177.0.0.1, 127.1: inet_aton's) and an IPv6 one
    may carry it (::ffff:127.0.0.1); each was a candidate of its own, the same site fetched once per spelling. A name
    is keyed by host_key: where no public suffix names its site (`shop.example`), it was keyed as spelt."""
    import ipaddress
    import socket

    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):  # not an address: a name
            host = host_key(host)
            domain = registrable_domain(host)
            site = host.removeprefix("www.")
            # A tenant of a host that gives merchants subdomains (acme.myshopify.com) is a site of its own, as the
            # index keys its merchant (normalize.merchant_domain); every shop there was one candidate, judged once.
            return site if taxonomy.tenant(site, domain) else domain or host
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def known_domains(rt, domains: list[str]) -> set[str]:
    """Domains the index lists or that a run has already judged."""
    return listed_domains(rt, domains) | judged_domains(rt, domains)


def listed_domains(rt, domains: list[str]) -> set[str]:
    """Domains the index lists, as a program's merchant_domain."""
    known = set()
    if domains:
        rt.index.ensure_index(PROGRAMS_INDEX)
        query = SearchQuery(filters={"merchant_domain": domains}, size=MAX_PAGE)
        while True:  # every page: a run of many niches has thousands of candidates, and one page was 1,000 programs
            result = rt.index.search(PROGRAMS_INDEX.name, query)
            for hit in result.hits:
                try:  # a summary's domain not of its shape (a list: unhashable, it ended the run) read from the program
                    known.add(summary_field(hit.doc, "merchant_domain", lambda value: isinstance(value, str)))
                except DamagedData as exc:  # its program too: logged, its domain not known
                    log_damaged(hit.id, str(exc))
            if result.next_cursor is None:
                break
            query = query.replaced(cursor=result.next_cursor)
    return known


def domain_key(domain: str) -> str:
    """A domain as one object-key segment, one per host: keyed as a candidate's host is (host_key: an IDN as its
    punycode, as the fetch sends it, no trailing dot). A host that is no such segment as it is (a character a key
    cannot hold, as an IPv6 address's colons, or past 200 characters) is its readable part ('_' for each such
    character, cut at 200) and '=' and a hash of the whole host: the readable part alone was shared by two hosts
    ("a:b" and "a;b", two long names alike in their first 200 characters), and the site judged first hid the other.
    '=' is in no readable part, so such a key is never a plain host's."""
    host, readable = _readable(domain)
    if readable == host and len(host) <= 200:
        return readable
    return f"{readable[:200]}={hashlib.sha256(host.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def _readable(domain: str) -> tuple[str, str]:
    """The host as keyed (lower case), and its readable part ('_' for each character a key cannot hold)."""
    try:
        domain = host_key(domain.strip())
    except (UnicodeError, ValueError):
        pass  # not a name (an IP address, or junk): the substitution below makes it a safe segment
    host = domain.lower()
    readable = re.sub(r"[^a-z0-9._-]", "_", host)
    if not readable or readable.startswith("."):  # "", ".", "..", ".x": no host name, nor a key's part (check_key)
        raise InvalidInput(f"{domain[:100]!r} is not a domain")
    return host, readable


def _keys(kind: str, domain: str) -> list[str]:
    """Where a decision (kind: seen) or review item for `domain` may be: its key, then the one a host whose key now
    carries a hash was kept under before (its readable part alone, cut at 200), which another host may share."""
    host, readable = _readable(domain)
    keys = [f"discovery/{kind}/{domain_key(domain)}.json"]
    return keys if readable == host and len(host) <= 200 else [*keys, f"discovery/{kind}/{readable[:200]}.json"]


def _for(found: dict, domain: str) -> bool:
    """Whether a stored decision or review item is this host's (under a key before hashes, it may be another's)."""
    try:
        return domain_key(str(found.get("domain"))) == domain_key(domain)
    except InvalidInput:
        return False


def judged_domains(rt, domains: list[str]) -> set[str]:
    """The hosts a run has judged: a decision of its own under either of its keys (a damaged one counts, as any object
    at its key did). Which keys hold one is asked of the store for the hosts' keys alone (ObjectStore.stored: a
    request or so per key, fewer where a few pages of the listing hold them), never by listing every decision ever
    made (a request per thousand, for all history); only a decision under a key another host's may share
    (`_maybe_shared`) is read, to see whose it is."""
    return set(decisions_of(rt, domains))


def decisions_of(rt, domains: list[str]) -> dict[str, str]:
    """The hosts a run has judged (judged_domains), each with the key its decision is under."""
    keys = {domain: _keys("seen", domain) for domain in domains}
    stored = rt.store.stored(key for found in keys.values() for key in found)
    return {domain: key for domain, found in keys.items() if (key := next(
        (key for key in found if key in stored and (not _maybe_shared(key) or _decision_for(rt, key, domain))), None))}


def _maybe_shared(key: str) -> bool:
    """Whether another host's decision may be under `key`: a plain key with a '_' (what a character a key cannot hold
    became) or of 200 characters (where a long host was cut) may be a key before hashes (`_keys`); a hashed key ('=')
    is its host's alone, and so is any other plain key."""
    name = key.rpartition("/")[2].removesuffix(".json")
    return "=" not in name and ("_" in name or len(name) >= 200)


def _decision_for(rt, key: str, domain: str) -> bool:
    """Whether the decision under `key` is the host's (a damaged one counts: whose it is cannot be read)."""
    from affiliate_matrix.storage import read_json

    found, etag, _ = read_json(rt.store, key, lambda doc: isinstance(doc, dict), "a JSON object")
    return etag is not None and (found is None or _for(found, domain))


def seen_key(domain: str) -> str:
    return f"{SEEN}{domain_key(domain)}.json"


def review_key(domain: str) -> str:
    return f"discovery/review/{domain_key(domain)}.json"


def judge(rt, fetcher: Fetcher, candidate: Candidate, report: DiscoveryReport,
          leads: list[str] | None = None) -> tuple[RawRecord | None, dict] | None:
    """Fetch and judge one candidate, returning its decision (None where it failed): a confident one with its record,
    the decision to remember once the record is stored; the others are remembered (and a doubtful one put on the
    review list) here. A page about another site's program adds to `leads` the merchant's program page it links to
    (merchant_lead), and its decision says the site is a source of leads (publishes_leads)."""
    read = read_page(rt, fetcher, candidate, report)
    if read is None:
        return None
    url, raw_key, verdict = read
    if verdict.merchant_url and leads is not None and candidate.found_on is None:
        leads.append(verdict.merchant_url)
    if candidate.found_on:
        verdict.evidence.append(f"linked to as its program's page by {candidate.found_on}'s page about it")
    found = {"url": url, "domain": candidate.domain, "confidence": verdict.confidence,
             "evidence": verdict.evidence, "name": verdict.name, "query": candidate.result.query,
             "provider": candidate.result.provider, "raw_key": raw_key, "terms": verdict.terms,
             "at": datetime.now(UTC).isoformat()}
    outcome = "discovered" if verdict.confidence >= ACCEPT else "review" if verdict.confidence >= REVIEW else "rejected"
    if outcome == "review":  # before the site is remembered as judged: a write failing after left no item, for good
        rt.store.put(review_key(candidate.domain), json.dumps(found).encode(), content_type="application/json")
    getattr(report, outcome).append(candidate.domain)
    if outcome == "rejected":
        report.rejected_why[candidate.domain] = why_rejected(verdict)
    decision = {**found, "outcome": outcome, **({"kind": ABOUT_ANOTHER} if verdict.about_another_site else {})}
    if outcome == "discovered":
        return record(found, verdict, raw_key), decision
    remember(rt, candidate.domain, decision)
    return None, decision


def read_page(rt, fetcher: Fetcher, candidate: Candidate, report: DiscoveryReport) -> tuple[str, str, Verdict] | None:
    """A candidate's page fetched, stored raw and read (classify): its address, raw key and verdict; None where that
    failed, the failure in the report for its URL."""
    try:
        response = fetcher.get(candidate.url)
    except WaitsSpent:  # not this candidate's failure: the run's time is up (validate)
        raise
    except FetchError as exc:  # its message names the URL, which the pair names already
        report.failures.append((candidate.url, str(exc).removeprefix(f"{candidate.url}: ")))
        return None
    if response.status == 200 and response.content_type not in WEB_PAGE_TYPES:
        # A search result may be a file (a PDF of terms, a spreadsheet): read as a page it was rejected, and its site
        # remembered as judged, never looked at again. A failure for its URL only: a later run may judge the site.
        report.failures.append((candidate.url, f"not a web page ({response.content_type[:100]})"))
        return None
    raw_key = rt.store.put_content_addressed("raw/discovery", response.body, suffix=".html",
                                             content_type=response.content_type or "text/html")
    if response.status != 200:
        report.failures.append((candidate.url, f"HTTP {response.status}"))
        return None
    problem = unkeepable(response.url)
    if problem:  # judged, it would be remembered as seen, and its record would fail the run's batch
        report.failures.append((candidate.url, problem))
        return None
    from affiliate_matrix.sources import ParseError

    try:
        return response.url, raw_key, classify(response.text, response.url)
    except ParseError as exc:  # a page we cannot read (nested too deep to parse): its candidate's failure, not the run's
        report.failures.append((candidate.url, str(exc)))
        return None


def unkeepable(url: str) -> str | None:
    """Why a record could not keep `url` as its URL (pydantic's HttpUrl: http(s), at most 2,083 characters)."""
    try:
        _HTTP_URL.validate_python(url)
    except ValidationError as exc:
        return f"a URL a record cannot keep: {exc.errors(include_url=False)[0]['msg']}"
    return None


def remember(rt, domain: str, decision: dict) -> None:
    try:
        rt.store.put(seen_key(domain), json.dumps(decision).encode(), content_type="application/json",
                     if_none_match=True)
    except ConflictError:
        pass  # judged by a concurrent run


def record(found: dict, verdict: Verdict, raw_key: str) -> RawRecord:
    parts = urlsplit(found["url"])
    return RawRecord(
        source="discovery", connection_id="discovery", record_key=found["domain"], url=found["url"],
        fetched_at=datetime.fromisoformat(found["at"]), raw_key=raw_key, name=verdict.name or found["domain"],
        merchant_url=f"{parts.scheme}://{parts.netloc}/", description=" ".join(
            t for t in (verdict.description, verdict.text[:5000]) if t) or None,
        # a sign-up link that is no web address (mailto:) is in the evidence only
        join_url=verdict.join_url if verdict.join_url and not unkeepable(verdict.join_url) else None,
        network=verdict.network,
        extra={"confidence": str(found["confidence"]), "evidence": "\n".join(found["evidence"]),
               "query": found["query"], "provider": found["provider"]})


_REVIEW_FIELDS = {"url": str, "domain": str, "name": str, "confidence": int | float, "evidence": list, "query": str,
                  "provider": str, "raw_key": str, "at": str}


def _review_item(doc) -> bool:
    return isinstance(doc, dict) and all(isinstance(doc.get(name), kind) for name, kind in _REVIEW_FIELDS.items())


def read_review(rt, key: str) -> dict | None:
    """A review item as `judge` wrote it; None when there is none; DamagedData naming its key when it does not parse
    or lacks a field (read with json.loads and indexed as it came, one damaged item raised out of the listing)."""
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.storage import read_json

    found, _, problem = read_json(rt.store, key, _review_item, "not a review item (" + ", ".join(_REVIEW_FIELDS) + ")")
    if problem is not None:
        raise DamagedData(key, problem, "restore an earlier version of the object, or delete it: the next run that "
                                        "finds the site judges it again")
    return found


def reviews(rt, damaged: list | None = None) -> list[dict]:
    """The review items; a damaged one is logged and left out (and added to `damaged` as {"key", "error"})."""
    from affiliate_matrix.documents import readable

    return [item for item in readable(sorted(rt.store.list("discovery/review/")), lambda key: read_review(rt, key),
                                      damaged) if item is not None]


def decide(rt, domain: str, accept: bool) -> RawRecord | None:
    """A person's call on a review item: accepted, it becomes a `discovered` record in a batch for the index; either
    way it leaves the list. The batch is stored (and announced) first, then the site marked judged, then the item
    deleted, so a failure at any step leaves the item to decide again (deleted first, a failed batch write lost the
    acceptance for good). A retry after a partial run writes the same batch: the record is made from the item
    alone, so its content-addressed key is the same, and so is its event's id (the index takes it once)."""
    # its key, or the one it was put on the list under before keys carried hashes, if the item there is this host's
    key, found = next(((key, item) for key in _keys("review", domain)
                       if (item := read_review(rt, key)) is not None and _for(item, domain)), (None, None))
    if found is None:
        raise NotFoundError(f"{quoted(domain)} is not on the review list (amx discover review)")
    accepted = None
    if accept:
        verdict = Verdict(found["confidence"], found["evidence"] + ["accepted on review"], name=found["name"])
        accepted = record(found, verdict, found["raw_key"])
        batch_key = rt.store.put_content_addressed(BATCHES.rstrip("/"), accepted.model_dump_json().encode(),
                                                   suffix=".jsonl", content_type="application/x-ndjson")
        stored = batch_stored(batch_key, 1)
        rt.bus.publish(stored)
        if any(event.id == stored.id for event, _ in getattr(rt.bus, "dead_letters", ())):  # in-process: indexed here
            raise BackendUnavailable(f"the accepted batch {batch_key} was not indexed; {domain} is left to accept again")
    rt.store.put(seen_key(domain), json.dumps({**found, "outcome": "accepted" if accept else "rejected"}).encode(),
                 content_type="application/json")
    rt.store.delete(key)
    return accepted
