"""A directory's sitemaps (sitemaps.org), read before its crawl (pipeline.crawl_with_cache) when its plugin says which
URLs are its program pages (Source.program_pages): the sitemaps its robots.txt names, else /sitemap.xml. The program
pages they list seed the crawl (pages its link walk misses, or reaches only past its page limit), and one whose
<lastmod> is no later than the copy the crawl kept of it is not asked again: the copy's time is the run the HTTP cache
notes it was got in (`kept_in_run`, data), never this machine's clock. Not past MAX_UNASKED runs in a row, though: a
site whose <lastmod> lags its pages (a build date, one never updated) would have them never asked again, each change
lost. Runs are counted, not days (the cache notes `unasked`), so no clock decides when a page is asked again.

A sitemap is hostile input like any page: fetched through the crawl's fetcher (robots.txt, pacing, the time budget,
redirects checked by netguard and kept on the site), its body capped at the fetcher's 5 MB after decompression (a
.xml.gz inflated within that cap too), kept raw in the object store as every page is, and parsed by defusedxml as it
streams (an entity declared refuses it unread; elements nested past what a sitemap nests refuse it). A run reads at
most MAX_SITEMAPS files, indexes followed MAX_INDEX_DEPTH deep, MAX_ENTRIES entries and MAX_PROGRAM_PAGES program
pages in all, and queues at most MAX_SEEDS of them. A sitemap on another host than the directory's is not asked for.
What is refused is logged with its reason (`sitemap.refused`) and the crawl goes on without it. A replay reads the
copies the last run kept of the sitemaps it named (their cache entries are noted `"sitemap": "root"`), asking no
host."""

import io
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

from affiliate_matrix.crawl import MAX_QUEUED, Failure, StoredPages, kept_answer
from affiliate_matrix.fetch import GONE, Fetcher, FetchError, site_of
from affiliate_matrix.observability import get_logger
from affiliate_matrix.polite import MAX_BYTES, WaitsSpent
from affiliate_matrix.sources import MAX_URL, XML_FAULTS, Request, Source, parsed_xml_events

log = get_logger()
MAX_SITEMAPS = 10  # files read a run, roots and the sitemaps indexes list: at most 10 × 5 MB (MAX_BYTES) read
MAX_INDEX_DEPTH = 2  # an index, and an index it lists (the protocol allows none; some sites nest one level)
MAX_ENTRIES = 50_000  # <url> and <sitemap> entries read a run, in all: as many as the protocol lets one file hold
MAX_SEEDS = MAX_QUEUED // 2  # program pages queued: the link walk keeps the rest of what a crawl holds queued
MAX_PROGRAM_PAGES = MAX_QUEUED  # program pages read, queued or unchanged: past what a crawl holds, no more are read
MAX_NESTING = 8  # elements deep: urlset/url/loc, or an extension's (news:news/news:publication/news:name)
MAX_LASTMOD = 64  # characters of a <lastmod> read
MAX_UNASKED = 6  # runs in a row a page is read from its copy unasked; the next asks it, whatever <lastmod> says


def seeds(source: Source, fetcher: Fetcher | StoredPages, store, run: str | None) -> tuple[list[Request], set[str]]:
    """What `source`'s sitemaps give its crawl: the program pages to ask for, and those listed unchanged since the copy
    kept (not asked, whoever links them). `run`: a crawl's (its start, as data: the sitemaps robots.txt names, asked
    for, the kept copies' times read against it); None, a replay's (the copies of those the last run named)."""
    base, requests, unchanged, live = source.base_url, [], set(), run is not None
    roots = _roots(source, fetcher, live)
    if live:  # the roots named now are noted for a replay; those named before and no more are not
        for entry in fetcher.validators.values():
            entry.pop("sitemap", None)
    queue, read, entries, listed, disallowed = deque((url, 0) for url in dict.fromkeys(roots)), 0, 0, set(), 0
    queued = set(roots)  # each read once: an index listing itself (or a sitemap many times) spent MAX_SITEMAPS on it

    def room() -> bool:
        return entries < MAX_ENTRIES and len(listed) < MAX_PROGRAM_PAGES and len(requests) < MAX_SEEDS

    while queue and read < MAX_SITEMAPS and room():
        url, depth = queue.popleft()
        if not _on_host(url, base):
            _refused(source, url, f"on another host than the directory's ({urlsplit(base).netloc}): not asked for")
            continue
        if len(url) > MAX_URL:
            _refused(source, url, f"a URL of {len(url):,} characters, longer than the {MAX_URL:,} a crawl follows")
            continue
        read += 1
        try:
            body = _body(source, fetcher, store, url)
        except WaitsSpent as exc:  # no time left in the run's budget: the crawl says so on its first page
            _refused(source, url, str(exc))
            break
        except (FetchError, ValueError) as exc:
            _refused(source, url, str(exc))
            continue
        if body is None:
            continue
        if depth == 0 and url in fetcher.validators:
            fetcher.validators[url]["sitemap"] = "root"
        try:
            for kind, loc, lastmod in _entries(url, body):
                entries += 1
                if kind == "sitemap" and depth < MAX_INDEX_DEPTH:
                    if loc not in queued:
                        queued.add(loc)
                        queue.append((loc, depth + 1))
                elif kind == "sitemap":
                    _refused(source, loc, f"listed by an index {depth + 1} deep: indexes are followed "
                                          f"{MAX_INDEX_DEPTH} deep")
                elif (request := _program_page(source, loc, base)) and request.url not in listed:
                    listed.add(request.url)
                    if live and _unchanged(fetcher, store, source, request.url, lastmod, run):
                        unchanged.add(request.url)
                    elif live and not fetcher.allowed(request.url):
                        disallowed += 1
                    else:
                        requests.append(request)
                if not room():
                    break
        except XML_FAULTS as exc:  # the entries read before the fault stand
            _refused(source, url, str(exc)[:300] if str(exc).startswith(url) else f"{url}: not XML read ({exc})")
        except FetchError as exc:  # robots.txt read again (allowed), and not read: no more of it is taken
            _refused(source, url, f"its pages not judged by robots.txt: {exc}")
    log.info("sitemap.read", source=source.name, sitemaps=read, entries=entries, program_pages=len(listed),
             seeded=len(requests), unchanged=len(unchanged), disallowed=disallowed, not_read=len(queue))
    return requests, unchanged


def _roots(source: Source, fetcher: Fetcher | StoredPages, live: bool) -> list[str]:
    """The sitemaps robots.txt names, or /sitemap.xml where it names none; a replay's, those the last run noted."""
    if not live:
        return [url for url, entry in fetcher.validators.items() if entry.get("sitemap") == "root"][:MAX_SITEMAPS]
    try:
        named = fetcher.sitemaps(source.base_url)
    except FetchError as exc:
        _refused(source, f"{source.base_url}/robots.txt", f"its sitemaps not read: {exc}")
        return []
    return [urljoin(source.base_url + "/", url) for url in named[:MAX_SITEMAPS]] or [f"{source.base_url}/sitemap.xml"]


def _body(source: Source, fetcher, store, url: str) -> bytes | None:
    """A sitemap's body, its answer kept raw as a page's is (crawl.kept_answer: its copy on a 304), inflated when it is
    a .xml.gz; None when it has none (404, 410). FetchError or ValueError naming why it is refused."""
    response = fetcher.get(url, site=site_of(source.base_url))
    if response.status in GONE:
        log.info("sitemap.none", source=source.name, url=url, status=response.status)
        return None
    outcome, response = kept_answer(source, fetcher, store, url, response)
    if isinstance(outcome, Failure):
        raise FetchError(outcome.reason if outcome.reason.startswith(url) else f"{url}: {outcome.reason}")
    body = response.body
    if body.startswith(b"\x1f\x8b"):  # a .xml.gz sent as it is stored (no Content-Encoding): inflated within the cap
        from affiliate_matrix.content_coding import BodyTooLarge, BoundedDecoder, Undecodable

        try:
            decoder = BoundedDecoder("gzip", MAX_BYTES)
            body = decoder.decode(body) + decoder.flush()
        except BodyTooLarge:
            raise ValueError(f"{url}: inflates past {MAX_BYTES:,} bytes") from None
        except Undecodable as exc:
            raise ValueError(f"{url}: not valid gzip ({exc})") from None
    return body


def _entries(url: str, body: bytes) -> Iterator[tuple[str, str, str | None]]:
    """("url" or "sitemap", <loc>, <lastmod>) of each entry of a <urlset> or a <sitemapindex>, as the XML streams.
    ValueError (an XML_FAULT) for what is no sitemap, or nests deeper than one does."""
    kind, said, open_ = None, {}, []  # open_: the elements started and not ended, the root first
    for event, element in parsed_xml_events(f"{url}: the sitemap", io.BytesIO(body), ("start", "end")):
        name = _local(element.tag)
        if event == "start":
            if len(open_) == MAX_NESTING:
                raise ValueError(f"{url}: elements nested {MAX_NESTING} deep and more: no sitemap nests so")
            if not open_:
                if name not in ("urlset", "sitemapindex"):
                    raise ValueError(f"{url}: not a sitemap (its root element is <{name[:50]}>, not <urlset> or "
                                     "<sitemapindex>)")
                kind = "url" if name == "urlset" else "sitemap"
            elif len(open_) == 1:  # an entry
                said = {}
            open_.append(element)
            continue
        open_.pop()
        if len(open_) == 2:  # an entry's child: its text is what is read of it
            said[name] = (element.text or "").strip()
        elif len(open_) == 1 and name == kind and said.get("loc"):
            yield kind, said["loc"], said.get("lastmod")
        if open_:  # what was read is let go, each element as it ends: a 5 MB sitemap is not held as a tree (a million
            del open_[-1][-1]  # empty elements in one, or in an entry, took 110 MB)


def _local(tag) -> str:
    """An element's name without its namespace (a comment's or a processing instruction's: none)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _on_host(url: str, base: str) -> bool:
    """Whether `url` is on the directory's host (its name and port; http or https)."""
    try:
        parts, home = urlsplit(url), urlsplit(base)
        return parts.scheme in ("http", "https") and (parts.hostname, parts.port) == (home.hostname, home.port)
    except ValueError:  # a malformed address ("http://[", a port past 65535)
        return False


def _program_page(source: Source, loc: str, base: str) -> Request | None:
    """The request for a program page a sitemap lists: on the directory's host, no longer than a record's URL, its path
    one of the plugin's program pages and no query (its program callback reads the path)."""
    if len(loc) > MAX_URL or not _on_host(loc, base):
        return None
    parts = urlsplit(loc)
    if parts.query or not source.program_pages.search(parts.path):
        return None
    return Request(loc.split("#")[0], source.program_callback)


def _unchanged(fetcher, store, source: Source, url: str, lastmod: str | None, run: str) -> bool:
    """Whether the page's <lastmod> is no later than the run its kept copy was got in (fetched whole, or confirmed by a
    304), as the HTTP cache notes it: data, never this machine's clock. No <lastmod>, one not read, or no copy: asked;
    and a page read unasked MAX_UNASKED runs in a row (`unasked`, crawl.py), or a copy noted as kept after this `run`
    began (no run's)."""
    known = fetcher.validators.get(url) or {}
    kept_in, changed = known.get("kept_in_run"), last_modified(lastmod)
    copy = StoredPages(store, fetcher.validators, source.name).entry(url)[1].get("raw_key")  # under a redirect's URL
    if not (kept_in and changed and copy) or not (isinstance(known.get("unasked", 0), int)
                                                  and known.get("unasked", 0) < MAX_UNASKED):
        return False
    try:
        kept_at = datetime.fromisoformat(kept_in)
        return changed <= kept_at <= datetime.fromisoformat(run)
    except (ValueError, TypeError):  # a cache entry not written by a crawl (a naive time, or no time): asked
        return False


def last_modified(lastmod: str | None) -> datetime | None:
    """The latest instant a <lastmod> (W3C Datetime) can mean; None for none or one not read (a page asked, as one
    with none). One with no zone, a date alone among them, could be in any: read at UTC−12, a date alone at its end,
    so that a page is never taken as unchanged for its zone."""
    text = (lastmod or "").strip()
    if not text or len(text) > MAX_LASTMOD:
        return None
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC) + timedelta(hours=12, days=0 if "T" in text.upper() else 1)
    return when


def _refused(source: Source, url: str, reason: str) -> None:
    log.warning("sitemap.refused", source=source.name, url=url[:300], reason=reason)
