"""A directory's sitemaps (sitemaps.org), read before its crawl (pipeline.crawl_with_cache) when its plugin says which
URLs are its program pages (Source.program_pages): the sitemaps its robots.txt names, else /sitemap.xml. A site with
none there (404, 410, or an HTML page: a "soft 404") is not asked for it again for MAX_UNASKED runs (its cache entry
notes it `absent`, and counts the runs in `unasked`: a request and its spacing of the run's time budget each run, for
nothing); the run after asks once more. A sitemap is XML (a <urlset> or a <sitemapindex>) or text (sitemaps.org: a URL a
line, UTF-8). The program pages they list seed the crawl (pages its link walk misses, or reaches only past its page
limit), and one whose <lastmod> is no later than the copy the crawl kept of it is not asked again: the copy's time is
the run the HTTP cache notes it was got in (`kept_in_run`, data), never this machine's clock. Not past MAX_UNASKED runs
in a row, though: a site whose <lastmod> lags its pages (a build date, one never updated) would have them never asked
again, each change lost. Runs are counted, not days (the cache notes `unasked`), so no clock decides when a page is
asked again.

A sitemap is hostile input like any page: fetched through the crawl's fetcher (robots.txt, pacing, the time budget,
redirects checked by netguard and kept on the site), its body capped at the fetcher's 5 MB after decompression (a
.xml.gz inflated within that cap too), kept raw in the object store as every page is, and parsed by defusedxml as it
streams (an entity declared refuses it unread; elements nested past what a sitemap nests refuse it). A run reads at
most MAX_SITEMAPS files, indexes followed MAX_INDEX_DEPTH deep, MAX_ENTRIES entries and MAX_PROGRAM_PAGES program
pages in all, and queues at most MAX_SEEDS of them. A sitemap on another host than the directory's is not asked for.
What is refused is logged with its reason (`sitemap.refused`), counted with the first few reasons for the run's
outcome (Refused: `amx scrape` and the run's record say them), and the crawl goes on without it. A replay reads the
copies the last run kept of the sitemaps it named (their cache entries are noted `"sitemap": "root"`), asking no
host."""

import io
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit

from affiliate_matrix.crawl import MAX_QUEUED, Failure, StoredPages, kept_answer
from affiliate_matrix.fetch import GONE, Fetcher, FetchError, site_of
from affiliate_matrix.netguard import NameUnreached, unreached_said
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
MAX_UNASKED = 6  # runs in a row a page is read unasked from its copy (/sitemap.xml, absent, not asked): the next asks
REFUSALS_SAID = 3  # refusals a run's outcome quotes; the rest are counted (each logged)
# A <lastmod> of W3C Datetime's shape: a year, a month, a day, a time (fromisoformat also reads week dates, 2025-W01;
# a space for the T, as some sites write it, is read)
W3C_DATETIME = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2}([Tt ].*)?)?)?")


@dataclass
class Refused:
    """The sitemaps a run refused (each logged as `sitemap.refused`): how many, and the first REFUSALS_SAID, each
    "<url>: <why>". Said with the run's outcome; a sitemap refused never fails the run."""

    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, source: Source, url: str, reason: str) -> None:
        log.warning("sitemap.refused", source=source.name, url=url[:300], reason=reason)
        self.count += 1
        if len(self.first) < REFUSALS_SAID:
            self.first.append((reason if reason.startswith(url) else f"{url}: {reason}")[:300])


def seeds(source: Source, fetcher: Fetcher | StoredPages, store, run: str | None
          ) -> tuple[list[Request], set[str], Refused]:
    """What `source`'s sitemaps give its crawl: the program pages to ask for, those listed unchanged since the copy
    kept (not asked, whoever links them), and the sitemaps refused. `run`: a crawl's (its start, as data: the sitemaps
    robots.txt names, asked for, the kept copies' times read against it); None, a replay's (the copies of those the
    last run named)."""
    base, requests, unchanged, live, refused = source.base_url, [], set(), run is not None, Refused()
    roots, guessed = _roots(source, fetcher, live)
    if live:  # the roots named now are noted for a replay; those named before and no more are not
        for entry in fetcher.validators.values():
            entry.pop("sitemap", None)
    if guessed and _still_absent(fetcher.validators, roots[0]):
        log.info("sitemap.none", source=source.name, url=roots[0], asked=False,
                 noted=fetcher.validators[roots[0]]["absent"], unasked=fetcher.validators[roots[0]]["unasked"])
        roots = []
    queue, read, entries, listed, disallowed = deque((url, 0) for url in dict.fromkeys(roots)), 0, 0, set(), 0
    queued = set(roots)  # each read once: an index listing itself (or a sitemap many times) spent MAX_SITEMAPS on it

    def room() -> bool:
        return entries < MAX_ENTRIES and len(listed) < MAX_PROGRAM_PAGES and len(requests) < MAX_SEEDS

    while queue and read < MAX_SITEMAPS and room():
        url, depth = queue.popleft()
        if not _on_host(url, base):
            refused.add(source, url, f"on another host than the directory's ({urlsplit(base).netloc}): not asked for")
            continue
        if len(url) > MAX_URL:
            refused.add(source, url, f"a URL of {len(url):,} characters, longer than the {MAX_URL:,} a crawl follows")
            continue
        read += 1
        try:
            body = _body(source, fetcher, store, url, guessed and depth == 0)
        except WaitsSpent as exc:  # no time left in the run's budget: the crawl says so on its first page
            refused.add(source, url, str(exc))
            break
        except (FetchError, ValueError) as exc:
            refused.add(source, url, _said(exc))
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
                    refused.add(source, loc, f"listed by an index {depth + 1} deep: indexes are followed "
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
            refused.add(source, url, str(exc)[:300] if str(exc).startswith(url) else f"{url}: not XML read ({exc})")
        except FetchError as exc:  # robots.txt read again (allowed), and not read: no more of it is taken
            refused.add(source, url, f"its pages not judged by robots.txt: {_said(exc)}")
    log.info("sitemap.read", source=source.name, sitemaps=read, entries=entries, program_pages=len(listed),
             seeded=len(requests), unchanged=len(unchanged), disallowed=disallowed, not_read=len(queue))
    return requests, unchanged, refused


def _roots(source: Source, fetcher: Fetcher | StoredPages, live: bool) -> tuple[list[str], bool]:
    """The sitemaps robots.txt names, or /sitemap.xml where it names none (guessed: True); a replay's, those the last
    run noted."""
    if not live:
        noted = [url for url, entry in fetcher.validators.items() if entry.get("sitemap") == "root"]
        return noted[:MAX_SITEMAPS], False
    try:
        named = fetcher.sitemaps(source.base_url)
    except FetchError:  # robots.txt not asked (its address refused, no time left): /sitemap.xml is refused for that,
        named = []  # as every page of the site, and said so as theirs are (a host unreached, one way: said_one_way)
    if named:
        return [urljoin(source.base_url + "/", url) for url in named[:MAX_SITEMAPS]], False
    return [f"{source.base_url}/sitemap.xml"], True


def _still_absent(validators: dict, url: str) -> bool:
    """Whether /sitemap.xml, noted absent, is not asked this run: not for MAX_UNASKED runs in a row (counted in its
    entry, as a page read unasked is: runs, not days), the run after asks it once more. A 404 costs a request and its
    spacing of the run's time budget every run, for a site that has no sitemap."""
    entry = validators.get(url) or {}
    unasked = entry.get("unasked", 0)
    if "absent" not in entry or not isinstance(unasked, int) or unasked >= MAX_UNASKED:
        return False
    entry["unasked"] = unasked + 1
    return True


def _body(source: Source, fetcher, store, url: str, guessed: bool = False) -> bytes | None:
    """A sitemap's body, its answer kept raw as a page's is (crawl.kept_answer: its copy on a 304), inflated when it is
    a .xml.gz; None when it has none (404, 410, or an HTML page: a "soft 404"), noted absent in its cache entry when
    the URL was `guessed` (/sitemap.xml, robots.txt naming none). FetchError or ValueError naming why it is refused."""
    response = fetcher.get(url, site=site_of(source.base_url))
    if response.status in GONE:
        return _none(source, fetcher, url, f"HTTP {response.status}", guessed)
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
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:14].lower().startswith((b"<!doctype html", b"<html")):
        return _none(source, fetcher, url, "an HTML page", guessed)
    return body


def _said(exc: Exception) -> str:
    """Why a sitemap was refused, as a sync's record may say it to every read token: a host found at no address to
    connect to one way (netguard.unreached_said), the detail in the fetcher's log."""
    return unreached_said(exc.host) if isinstance(exc, NameUnreached) else str(exc)


def _none(source: Source, fetcher, url: str, answer: str, guessed: bool) -> None:
    """No sitemap at `url` (its `answer` says so): logged, and noted absent when its URL was guessed (/sitemap.xml)."""
    log.info("sitemap.none", source=source.name, url=url, answer=answer)
    if guessed:  # in place of its validators: the next ask is a plain GET, answered whole if a sitemap is there then
        fetcher.validators.pop(url, None)
        fetcher.validators[url] = {"absent": answer}
    return None


def _entries(url: str, body: bytes) -> Iterator[tuple[str, str, str | None]]:
    """("url" or "sitemap", <loc>, <lastmod>) of each entry of a sitemap: XML, or text where it opens with no markup.
    ValueError (an XML_FAULT) for what is no sitemap, naming `url`."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"<", b""):
        return _text_entries(url, body)
    return _xml_entries(url, body)


def _text_entries(url: str, body: bytes) -> Iterator[tuple[str, str, None]]:
    """("url", the line, None) of each line of a text sitemap (sitemaps.org: a URL a line, UTF-8, nothing else), read
    a line at a time. ValueError where it is not UTF-8, or its first line is no URL (a damaged file, not a sitemap)."""
    lines = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", errors="strict", newline=None)
    try:
        for number, line in enumerate(filter(None, map(str.strip, lines))):
            if number == 0 and not line[:8].lower().startswith(("http://", "https://")):
                raise ValueError(f"{url}: not a sitemap (neither XML nor a text sitemap's URL a line: it opens with "
                                 f"{line[:50]!r})")
            yield "url", line, None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{url}: a text sitemap not in UTF-8 ({exc.reason})") from None


def _xml_entries(url: str, body: bytes) -> Iterator[tuple[str, str, str | None]]:
    """("url" or "sitemap", <loc>, <lastmod>) of each entry of a <urlset> or a <sitemapindex>, as the XML streams.
    ValueError for what is no sitemap, or nests deeper than one does."""
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
    """Whether `url` is on the directory's host (its name and port; http or https), naming no user before it (the
    link walk follows none: `https://paypal.com@site/…` reads as another site's page, and a connection's base_url
    holds none)."""
    try:
        parts, home = urlsplit(url), urlsplit(base)
        return (parts.scheme in ("http", "https") and "@" not in parts.netloc
                and (parts.hostname, parts.port) == (home.hostname, home.port))
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
    a year or a month alone (`2025`, `2025-04`: W3C Datetime allows both) at the end of its last day, so that a page
    is never taken as unchanged for its zone or a day of its period."""
    text = (lastmod or "").strip()
    if not text or len(text) > MAX_LASTMOD or not W3C_DATETIME.fullmatch(text):
        return None
    if len(text) in (4, 7):  # a year or a month: the day after its last, at UTC−12 (12:00 UTC)
        year, month = int(text[:4]), int(text[5:] or 12)
        try:
            after = date(year + month // 12, month % 12 + 1, 1) if 1 <= month <= 12 and year > 0 else None
        except ValueError:  # past the year 9999
            return None
        return after and datetime(after.year, after.month, after.day, 12, tzinfo=UTC)
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC) + timedelta(hours=12, days=0 if len(text) > 10 else 1)  # a time, or a date
    return when

