"""Walk a source: fetch each page, keep it raw in the object store before parsing, hand it to
the plugin's callback, and follow what the callback asks for. A parser failure is recorded
beside the raw page (so a fixed parser can replay it) and the crawl goes on; so is any other
exception a plugin raises on a page (a fault in the plugin, named with where it was raised)."""

import heapq
import json
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from affiliate_matrix.errors import DamagedData, NotFoundError
from affiliate_matrix.fetch import GONE, MAX_VALIDATORS, Fetcher, FetchError, Response, site_of
from affiliate_matrix.connections import Connection
from affiliate_matrix.model_types import COMMISSION_TEXT_MAX, TEXT_MAX, cut
from affiliate_matrix.models import Payout, RawRecord, clean_text
from affiliate_matrix.netguard import host_unreached
from affiliate_matrix.observability import get_logger
from affiliate_matrix.polite import MAX_BYTES, Undecoded, WaitsSpent, undecoded
from affiliate_matrix.sources import MAX_TERMS_TEXT, Listing, Page, ParseError, Request, Source, terms_said
from affiliate_matrix.storage import ObjectStore, storable_content_type
from affiliate_matrix.threads import ContextPool

log = get_logger()


class StoredPages:
    """Serves pages as they were last fetched, from the object store: a replay parses again
    with no network at all. Stands in for the Fetcher (get, validators, close)."""

    def __init__(self, store: ObjectStore, validators: dict, source: str):
        """`source`: the source's name, whose raw copies (raw/<source>/) alone are served."""
        self.store = store
        self.validators = validators
        self.source = source

    def entry(self, url: str) -> tuple[str, dict]:
        """The URL a page's copy is kept under, and its cache entry ({} when it has none)."""
        known = self.validators.get(url) or {}
        if known.get("redirect"):  # the page's copy is kept under the URL its redirects reached (see _process)
            url = known["redirect"]
            known = self.validators.get(url) or {}
        return url, known

    def get(self, url: str, *, site: str | None = None) -> Response:
        if refused := (self.validators.get(url) or {}).get("undecoded"):  # the run's answer, refused: refused again
            raise self._undecoded(url, refused)
        url, known = self.entry(url)
        if site is not None and (reached := site_of(url)) != site:  # a copy kept before a crawl stayed on its site
            raise FetchError(f"{url}: a page of another site ({reached}, not {site}): not replayed")
        if not known.get("raw_key"):
            raise FetchError(f"{url}: no stored copy to replay")
        # gone, a cache entry naming no copy of this source's, or one larger than a crawl's fetcher takes a page
        try:
            data = self.store.get_content_addressed(f"raw/{self.source}", known["raw_key"], max_bytes=MAX_BYTES)
        except (NotFoundError, ValueError, DamagedData) as exc:
            raise FetchError(f"{url}: its stored copy cannot be read ({exc})") from None
        return Response(url, 200, {"content-type": known.get("content_type") or "text/html"}, data)

    def _undecoded(self, url: str, refused: dict) -> FetchError:
        """The refusal of the page's last answer, noted in the cache as the crawl refused it (undecoded_note): in its
        words, with its copy (kept again under the same key)."""
        try:
            data = self.store.get_content_addressed(f"raw/{self.source}", refused["raw_key"], max_bytes=MAX_BYTES)
            answered = Response(str(refused["url"]), 200, {"content-type": str(refused["content_type"])}, data)
            return undecoded(answered.url, str(refused["coding"]), answered)
        except (KeyError, TypeError, NotFoundError, ValueError, DamagedData) as exc:
            return FetchError(f"{url}: its stored copy cannot be read ({type(exc).__name__}: {str(exc)[:200]})")

    def close(self) -> None:
        pass


@dataclass
class Fetched:
    url: str
    raw_key: str
    not_modified: bool


@dataclass
class Failure:
    url: str
    stage: str  # "fetch" or "parse"
    reason: str
    raw_key: str | None = None
    # The provider refused the connection's credentials (CredentialsRefused): told by the error's type, never by the
    # reason's words, which may quote what the provider's data says
    refused: bool = False
    # A sync stopped here: the wait before its next request would have passed its time budget (polite.WaitsSpent)
    out_of_time: bool = False
    # The host a request found no address of to connect to (netguard.NameUnreached, told by the error's type): every
    # read token is told it one way (sync_requests.outcome), the reason only where the detail goes
    unreached: str | None = None

    @property
    def why(self) -> str:
        """The reason without the page's address a plugin's error starts with: for a line that names it already."""
        return self.reason.removeprefix(f"{self.url}: ")


def fault_reason(exc: BaseException) -> str:
    """A plugin's fault in words: the exception, and the line of the plugin that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    in_plugin = [f for f in frames if "affiliate_matrix/sources/" in Path(f.filename).as_posix()]
    where = (in_plugin or frames or [None])[-1]
    place = f" at {'/'.join(Path(where.filename).parts[-2:])}:{where.lineno} in {where.name}" if where else ""
    return f"plugin fault: {type(exc).__name__}: {str(exc)[:300]}{place}"


def error_key(raw_key: str) -> str:
    """Where a raw page's parse failure is kept: beside it, under errors/."""
    return f"errors/{raw_key.removeprefix('raw/')}.json"


def record_parse_failures(store: ObjectStore, url: str, raw_key: str, reasons: list[str], at: datetime) -> None:
    """Keep why a raw page did not parse beside it, for whoever fixes the plugin (and `amx replay`
    of a directory). The first reason is `error`; a response with several unreadable items lists
    them all in `errors`."""
    document = {"url": url, "raw_key": raw_key, "error": reasons[0], "at": at.isoformat()}
    if len(reasons) > 1:
        document["errors"] = reasons[:100]
    store.put(error_key(raw_key), json.dumps(document).encode(), content_type="application/json")


# Of the function's time limit, the share a crawl leaves for what is not a wait it asked for (polite.WaitBudget): the
# requests themselves, the pacing's 2% margin, parsing, storing the batch
BUDGET_MARGIN = 0.1


def time_budget(time_limit_s: float) -> float:
    """The seconds of waits a run may ask its client for (polite.WaitBudget: each request's spacing, each retry's
    wait): the function's time limit less BUDGET_MARGIN. A crawl, verify or API sync killed at the time limit stores
    nothing, so it stops asking when the next wait would pass this."""
    return time_limit_s * (1 - BUDGET_MARGIN)


@dataclass
class BudgetSpent:
    """The crawl stopped after asking for `pages` with `left` still queued: the next run asks for those first. It
    stopped because the next wait would have passed its time budget (`out_of_time`), or at its page limit."""
    pages: int
    left: int
    out_of_time: bool


# The most URLs a crawl holds queued, the bound on what a hostile or broken site can make it hold (a 5 MB page holds
# 100,000 links). More than a run fetches (max_pages), so that runs stopped at their budget reach, one after another,
# the pages none has asked for; as many as the connection's HTTP cache notes the runs of (a URL whose note was dropped
# was asked for longest ago, and is asked for first as one never asked for).
MAX_QUEUED = MAX_VALIDATORS
# Every REFRESH_EVERY-th page a run asks for is the listing page an earlier run asked for longest ago, if one is queued,
# even while pages no run has asked for wait: listing pages are where new programs appear, and a backlog of thousands
# of details never asked would otherwise hold them back for as many runs as it takes to ask for it all.
REFRESH_EVERY = 4
# The links a listing page's kept copy holds are kept beside it in the connection's HTTP cache (its entry's "links",
# [url, callback] pairs, written when the page is parsed), so that a run reads them with no object-store read and
# parse per listing page (a round trip each on S3); at most this many over the cache, which is read and written whole
# each run: a page past it has none kept there, and its copy is read for them as before.
MAX_LINKS_KEPT = 4 * MAX_QUEUED


def crawl(source: Source, connection: Connection, fetcher: Fetcher | StoredPages, store: ObjectStore,
          max_pages: int = 500, *, run: str | None = None,
          seeds: tuple[list[Request], set[str]] = ((), frozenset()),
          ) -> Iterator[RawRecord | Fetched | Failure | BudgetSpent]:
    """Keeps up to `connection.concurrency` fetches in flight (the fetcher spaces them by the host's
    rate limit) and parses each page on this thread as it arrives. Asks for at most max_pages pages, and none once
    the fetcher's WaitBudget refuses a wait (WaitsSpent: that page was not answered, and stays queued), and says so
    last (BudgetSpent) when pages were left queued (at most MAX_QUEUED in all). `run` (the run's start, as data)
    marks each page asked for in the fetcher's cache; None (a replay) marks nothing. A start or listing page that
    answered 404 or 410 is noted gone there until it answers again, and each run that finds it says so (a Failure),
    whether it asked for it or not, before BudgetSpent; the run it answers so drops the links only it listed. `seeds`:
    what the directory's sitemaps give (sitemaps.seeds), program pages to ask for and those unchanged since their copy
    was kept, read from it unasked."""
    starts = list(source.start_requests())
    # The crawl's scope: its directory's site (the connection's base_url). A page redirecting elsewhere is that page's
    # failure, never followed: read there, its links were on the page's host, and the crawl went on across another
    # site with a plugin written for this one. Links are kept to the page's own host (Page.follow).
    site = site_of(source.base_url)
    # The order pages are asked for: the start pages first, since they find the rest; then the pages no run has asked
    # for, as found, then those this connection's runs asked for longest ago (the run marked in the cache), so that a
    # run stopped at its budget is followed by one that reaches the pages it did not; among pages alike in that, the
    # listing pages (requests for a start page's callback) before the detail pages, since they find more; but every
    # REFRESH_EVERY-th page asked for is a listing page asked for before, the longest ago first (`listings`, a second
    # heap), whatever else waits. A replay asks for the pages it has a kept copy of first, as found: the others have
    # nothing to replay.
    # A listing page an earlier run asked for also gives its links as soon as it is found, without asking the host
    # (those kept with its entry in the cache when it was parsed, else read from its kept copy; links_of): listing
    # pages reached only by "next" links (page 2 from page 1, page 3 from page 2…) were otherwise asked again from the
    # first every run, which then spent its budget on the same first pages and never reached the tail or its
    # programs. The kept copy is the one the crawl parsed last time, so its links are those found then (a
    # revalidation would cost a request and its spacing like a fetch); the page itself is still asked again in its
    # turn, and what it links now is queued then. Its records are not taken from the copy: a program is seen only on a
    # page asked this run.
    start_urls = {request.url for request in starts}
    listing_callbacks = {request.callback for request in starts}
    # heaps: (not a start page, the order asked for, kind, as found, the request); the listing pages an earlier run
    # asked for in `listings`, the others in `queue`
    queue: list[tuple[bool, str, int, int, Request]] = []
    listings: list[tuple[bool, str, int, int, Request]] = []
    queued: set[str] = set()  # every URL ever queued
    kept = StoredPages(store, fetcher.validators, source.name) if run is not None else None  # a replay reads every copy anyway
    # A listing page gone (404, 410) lists nothing: the links it gave from its kept copy (or the cache) are dropped,
    # those no other page listed this run (`listed`: each queued URL's one lister, None for a start page or one listed
    # by more than one page), so that they are not asked again and again after it. `dropped`: such a URL and the page
    # gone; it stays in the heaps until `waiting` sets it aside, and a page that lists it after takes it back.
    listed: dict[str, str | None] = {}
    dropped: dict[str, str] = {}
    set_aside: dict[str, tuple] = {}  # the heaps' entries of dropped links, by URL

    def enqueue(first: Request, lister: str | None) -> int:
        """Queue a link, and the links an earlier run's copy of it lists if it is a listing page; how many of them
        were not queued, the crawl holding MAX_QUEUED URLs already."""
        found, refused = deque([(first, lister)]), 0
        while found:
            request, lister = found.popleft()
            if request.url in unchanged:
                continue
            if request.url in queued:
                if dropped.pop(request.url, None) is not None:  # listed by a page not gone: kept after all
                    listed[request.url] = lister
                    if entry := set_aside.pop(request.url, None):
                        heapq.heappush(lane(entry), entry)
                elif listed.get(request.url) != lister:
                    listed[request.url] = None
                continue
            if len(queued) >= MAX_QUEUED:
                refused += 1
                continue
            queued.add(request.url)
            listed[request.url] = lister
            kind = 0 if request.url in start_urls else 1 if request.callback in listing_callbacks else 2
            known = fetcher.validators.get(request.url) or {}
            if run is None:
                order = "" if known.get("raw_key") or known.get("redirect") else "none kept"
            else:
                order = known.get("fetched_in_run") or ""
            entry = (kind > 0, order, kind, len(queued), request)
            heapq.heappush(lane(entry), entry)
            if lane(entry) is listings and not gone_note(known):  # a page gone lists nothing
                found.extend((link, request.url) for link in links_of(request))
        return refused

    def drop_links_of(gone_page: str) -> None:
        for url, lister in listed.items():
            if lister == gone_page:
                dropped[url] = gone_page

    def waiting() -> bool:
        """Whether a page waits to be asked: the heads of the heaps are links not dropped."""
        for heap in (queue, listings):
            while heap and heap[0][-1].url in dropped:
                entry = heapq.heappop(heap)
                set_aside[entry[-1].url] = entry
        return bool(queue or listings)

    # the links kept in the cache: counted now and as links are kept. The fetcher drops an entry's links unseen (a page
    # fetched whole renews its entry, the oldest entries are trimmed), so the count may run high: it is counted again
    # before it refuses a page's links.
    links_held = links_in(fetcher.validators)

    def keep_links(request: Request, links: list[Request] | None) -> None:
        """Keep a listing page's links (None: it has none read from its copy) with its copy's cache entry."""
        nonlocal links_held
        entry = kept.entry(request.url)[1]
        links_held -= len(entry.pop("links", None) or ())
        if links is not None and links_held + len(links) > MAX_LINKS_KEPT:
            links_held = links_in(fetcher.validators)
        if links is not None and entry.get("raw_key") and links_held + len(links) <= MAX_LINKS_KEPT:
            entry["links"] = [[link.url, link.callback] for link in links]
            links_held += len(links)

    def links_of(request: Request) -> list[Request]:
        """The links of a listing page an earlier run asked for, as found when it was parsed: kept in the cache, or
        read from its kept copy (the source of truth) when they are not, and kept in the cache then."""
        entry = kept.entry(request.url)[1]
        if "links" in entry:
            return [Request(url, callback) for url, callback in entry["links"]]
        links = links_kept(source, kept, request, site)
        keep_links(request, links)
        return links or []

    def lane(entry: tuple) -> list:
        """The heap a page waits in: `listings` for a listing page an earlier run asked for, else `queue`."""
        return listings if entry[2] == 1 and kept is not None and entry[1] else queue

    def next_entry(number: int) -> tuple:
        """The `number`-th page to ask for this run (from 1): the head of the order, or of `listings` on its turn."""
        refresh = listings and (not queue or listings[0] < queue[0] or number % REFRESH_EVERY == 0)
        return heapq.heappop(listings if refresh else queue)

    # The program pages the directory's sitemaps list (`seeds`) are queued first, so that among detail pages alike in
    # age they come before those the link walk finds: they are the site's own list, one request for what the walk
    # needs a listing page per score of programs to find, so a run's page limit reaches them. The start and listing
    # pages still come before them (they find new programs: the order above), and they take at most half of what a
    # crawl holds queued, leaving the walk room. Those unchanged since the copy kept are not asked, whoever links them:
    # each is read from its copy as a 304 would be, so its programs are seen this run (the site lists them, unchanged)
    # at no request, no page of the limit and no wait; the runs in a row it was not asked are counted (`unasked`), so
    # that one whose <lastmod> never moves is asked again (sitemaps.MAX_UNASKED).
    seeded, unchanged = seeds
    for request in (*seeded, *starts):
        enqueue(request, None)
    for url in sorted(unchanged):
        noted = dict(fetcher.validators.get(url) or {})  # a redirected page's entry is written anew by kept_answer
        for item in _process(source, connection, fetcher, store, Request(url, source.program_callback),
                             Response(kept.entry(url)[0], 304, {}, b""), datetime.now(UTC), {}):
            if isinstance(item, Request):
                enqueue(item, url)
            else:
                yield item
        if url in fetcher.validators:  # not when its copy could not be read: then it is fetched whole next run
            fetcher.validators[url] = noted | fetcher.validators[url] | {"unasked": noted.get("unasked", 0) + 1}
    asked, out_of_time = 0, False
    held: list[Failure] = []  # the failures of listing pages gone that dropped links: said last, with how many
    with ContextPool(max_workers=connection.concurrency) as pool:  # the fetches in this work's context (its rule chain)
        pending: dict = {}
        while pending or (waiting() and asked < max_pages and not out_of_time):
            while waiting() and asked < max_pages and not out_of_time and len(pending) < connection.concurrency:
                entry = next_entry(asked + 1)
                pending[pool.submit(_fetch, fetcher, entry[-1].url, site)] = entry
                asked += 1
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                entry = pending.pop(future)
                request = entry[-1]
                fetched_at, outcome = future.result()
                if isinstance(outcome, WaitsSpent):  # not answered: queued again, unmarked, for the next run
                    heapq.heappush(lane(entry), entry)
                    asked, out_of_time = asked - 1, True
                    continue
                # a start or listing page answering 404 or 410 is noted gone in the cache, since the run it first did,
                # until it answers again: every run names it (gone_reason), asked or not
                note = gone_note(fetcher.validators.get(request.url)) if entry[2] < 2 else None
                answered = None if isinstance(outcome, FetchError) else outcome.status
                gone = entry[2] < 2 and answered in GONE
                if gone:
                    note = {"gone": str(answered), "gone_since": (note or {}).get("gone_since", run)}
                elif answered in (200, 304):
                    note = None
                if gone and entry[2] == 1:
                    drop_links_of(request.url)
                if isinstance(outcome, FetchError):  # a page in a coding not asked for is kept raw all the same
                    raw_key = keep_raw(source, store, outcome.response) if isinstance(outcome, Undecoded) else None
                    if raw_key:
                        note = (note or {}) | undecoded_note(outcome, raw_key)
                    yield Failure(request.url, "fetch", str(outcome), raw_key, unreached=host_unreached(outcome))
                else:
                    links, failure, not_followed = [], None, {}
                    for item in _process(source, connection, fetcher, store, request, outcome, fetched_at,
                                         not_followed):
                        if isinstance(item, Fetched) and run is not None and source.program_pages is not None:
                            note = (note or {}) | {"kept_in_run": run}  # its copy as of this run, for sitemaps.py
                        if isinstance(item, Request):
                            links.append(item)
                            if refused := enqueue(item, request.url):
                                not_followed["queue_full"] = not_followed.get("queue_full", 0) + refused
                        else:
                            failure = item if isinstance(item, Failure) else failure
                            if not gone:
                                yield item
                            elif request.url in dropped.values():
                                held.append(replace(item, reason=gone_reason(note)))
                            else:
                                yield replace(item, reason=gone_reason(note))
                    # a listing page parsed, or whose new copy did not parse: its links kept with its copy (one gone
                    # keeps none; one answered otherwise keeps the copy it had, and its links)
                    if entry[2] == 1 and kept is not None and (gone or failure is None or failure.stage == "parse"):
                        keep_links(request, None if failure else links)
                    if not_followed:  # the counts, never the links: a page may hold 100,000
                        log.info("crawl.links_not_followed", source=source.name, url=request.url, **not_followed)
                if run is not None:  # after _process, which may make the URL's entry anew (a redirect)
                    fetcher.mark_fetched(request.url, run, note)
    for failure in held:  # how many links only it listed are dropped, now that every page of the run has listed its own
        count = sum(gone_page == failure.url for gone_page in dropped.values())
        yield replace(failure, reason=f"{failure.reason}; the {count} link{'s' * (count != 1)} only it listed dropped "
                                      "(asked again when a page lists them)" if count else failure.reason)
    left = [entry for entry in queue + listings if entry[-1].url not in dropped]
    if run is not None:  # the pages noted gone that this run found and did not ask: named all the same
        for *_, request in sorted(left):
            if note := gone_note(fetcher.validators.get(request.url)):
                yield Failure(request.url, "fetch", f"{gone_reason(note)} (not asked this run)")
    if left:
        yield BudgetSpent(asked, len(left), out_of_time)


def undecoded_note(refused: Undecoded, raw_key: str) -> dict:
    """A page's note in the HTTP cache that its last answer came in a coding not asked for: the answer (where it came
    from, its type and the key of its copy) and the coding, so that a replay refuses it in the crawl's words
    (StoredPages), not read as the page's last copy parsed. A later answer of the page clears it (Fetcher.mark_fetched)."""
    return {"undecoded": {"url": refused.response.url, "coding": refused.coding, "raw_key": raw_key,
                          "content_type": refused.response.content_type or "text/html"}}


def gone_note(entry: dict | None) -> dict | None:
    """A page's note in the HTTP cache that it is gone ({"gone": its status, "gone_since": the run it first answered
    so}), None when it has none."""
    note = {name: entry[name] for name in ("gone", "gone_since") if name in (entry or {})}
    return note if len(note) == 2 else None


def gone_reason(note: dict) -> str:
    return f"a listing page gone: answering HTTP {note['gone']} since the run of {note['gone_since']}"


def links_in(validators: dict) -> int:
    """The links kept in an HTTP cache. Its entries are read from a copy of its values, taken at once (no thread
    switch within list() under the GIL) while the fetches in flight renew entries."""
    return sum(len(entry.get("links") or ()) for entry in list(validators.values()))


def links_kept(source, kept: StoredPages, request: Request, site: str) -> list[Request] | None:
    """The pages a page's kept copy links, read with no request to its host; None when it has no copy the plugin
    reads (a parser changed since, say: the page is asked again in its turn, and its failure recorded then; a copy
    of another site's page, kept before a crawl stayed on its site)."""
    try:
        response = kept.get(request.url, site=site)
        page = Page(response.url, 200, response.text, "")
        return [item for item in source.run(request.callback, page) if isinstance(item, Request)]
    except Exception:  # noqa: BLE001 - FetchError, a ParseError, a plugin's fault: no links from the copy
        return None


def _suffix(content_type: str) -> str:
    if "gzip" in content_type:  # a sitemap.xml.gz (sitemaps.py)
        return ".gz"
    if "xml" in content_type or "rss" in content_type:
        return ".xml"
    return ".json" if "json" in content_type else ".html"


def keep_raw(source, store: ObjectStore, response: Response) -> str:
    """The page's body, as it came, in the object store; its key."""
    return store.put_content_addressed(f"raw/{source.name}", response.body, suffix=_suffix(response.content_type),
                                       content_type=response.content_type or "text/html")


def _fetch(fetcher, url: str, site: str) -> tuple[datetime, Response | FetchError]:
    fetched_at = datetime.now(UTC)
    try:
        return fetched_at, fetcher.get(url, site=site)
    except FetchError as exc:
        return fetched_at, exc


def _process(source, connection, fetcher, store, request: Request, response: Response, fetched_at,
             not_followed: dict[str, int]):
    """Keep the page raw (kept_answer), then parse it: records, failures and further requests, and the links the
    plugin did not follow counted into `not_followed` (Page.not_followed)."""
    outcome, response = kept_answer(source, fetcher, store, request.url, response)
    yield outcome
    if isinstance(outcome, Failure):
        return
    raw_key = outcome.raw_key
    page = Page(response.url, response.status, response.text, raw_key)
    try:
        items = records_of(source, connection, page, request.callback, fetched_at)
    except Exception as exc:  # noqa: BLE001 - a ParseError, or a fault in the plugin: that page's failure
        reason = str(exc) if isinstance(exc, ParseError) else fault_reason(exc)
        if not isinstance(exc, ParseError):
            log.warning("crawl.plugin_fault", source=source.name, url=request.url, reason=reason, exc_info=exc)
        record_parse_failures(store, request.url, raw_key, [reason], fetched_at)
        yield Failure(request.url, "parse", reason, raw_key)
        return
    store.delete(error_key(raw_key))  # parsed now: a fixed parser clears the page's old error
    not_followed.update(page.not_followed)
    yield from items


def kept_answer(source, fetcher, store, url: str, response: Response) -> tuple[Fetched | Failure, Response]:
    """A page's answer (to a request for `url`) kept raw, and the answer to read: Fetched and the page, or the kept copy
    on a 304; else the page's Failure. The fetcher keeps a page's validators under the URL its redirects reached
    (response.url), the one they were sent to: its kept copy too. A crawl's pages and a directory's sitemaps
    (sitemaps.py) are kept alike."""
    known = fetcher.validators.get(response.url) or {}
    not_modified = response.status == 304 and bool(known.get("raw_key"))
    if response.status == 304 and not not_modified:  # validators but no kept copy (a redirected page's, cached
        fetcher.validators.pop(response.url, None)  # before the copy was kept under the URL reached): forgotten
        return Failure(url, "fetch", "HTTP 304 but no kept copy of the page: it is fetched whole next time"), response
    if not_modified:  # unchanged: read the copy we kept
        raw_key = known["raw_key"]
        # gone, no copy of this source's as kept, or one larger than a fetcher takes a page: forgotten, as above
        try:
            kept = store.get_content_addressed(f"raw/{source.name}", raw_key, max_bytes=MAX_BYTES)
        except (NotFoundError, ValueError, DamagedData) as exc:
            fetcher.validators.pop(response.url, None)
            return Failure(url, "fetch", f"HTTP 304 but the kept copy of the page cannot be read ({exc}): it is "
                                         "fetched whole next time"), response
        response = Response(response.url, 200, {"content-type": known.get("content_type") or "text/html"}, kept)
    else:
        raw_key = keep_raw(source, store, response)
    if response.status != 200:
        return Failure(url, "fetch", f"HTTP {response.status}", raw_key), response
    if response.url in fetcher.validators:
        sent_as = storable_content_type(response.headers.get("content-type"))  # None: read as HTML on a 304
        fetcher.validators[response.url].update(raw_key=raw_key, content_type=sent_as)
        if response.url != url:  # redirected: a replay asks for `url`, so it is told where the copy is
            fetcher.validators.pop(url, None)  # (no validators: a redirect has none to send)
            fetcher.validators[url] = {"redirect": response.url}
    return Fetched(url, raw_key, not_modified), response


def record_of(source: str, connection, listing: Listing, url: str, fetched_at, raw_key: str) -> RawRecord:
    """A listing as a RawRecord: the one place every plugin's listing becomes one (a page's, the generic reader's, an
    API item's). A commission text past a record's limit is cut as `terms_said` cuts an API's terms (the parts, split
    at "; ", that fit, then how many more, or the first cut with an ellipsis); a description, cookie or payout text past
    its limit is cut there (model_types.cut). The structured terms of a cut text (commission, cookie days, payout) are
    read first from the whole (up to MAX_TERMS_TEXT) where the listing states none: a directory's commission cell of
    5,000 characters, or its cookie cell of 600, failed its program whole ('cookie_text: String should have at most 500
    characters'). A name past its limit is no name: a ValidationError, as for any data that fits no record."""
    fields = vars(listing)
    long = {field: clean_text(text) for field, limit in (("commission_text", COMMISSION_TEXT_MAX), *TEXT_MAX.items())
            if field != "name" and (text := fields[field]) and len(text) > limit}
    if long:  # cleaned as the record keeps it (full-width figures read as ASCII, controls gone), then cut
        from affiliate_matrix import terms  # loaded for a long text alone: the rest never need it

        fields = {**fields, **{field: cut(text, field) for field, text in long.items() if field != "commission_text"}}
        if text := long.get("commission_text"):
            fields.update(commission=listing.commission or terms.commission(text[:MAX_TERMS_TEXT]),
                          commission_text=terms_said(text.split("; ")))
        if text := long.get("cookie_text"):
            fields["cookie_days"] = terms.cookie_days(text[:MAX_TERMS_TEXT])
        if text := long.get("payout_text"):
            text = text[:MAX_TERMS_TEXT]
            fields["payout"] = Payout(methods=terms.payout_methods(text), frequency=terms.payout_frequency(text),
                                      minimum=terms.min_payout(text))
    return RawRecord(source=source, connection_id=connection.id, generation=connection.generation, url=url,
                     fetched_at=fetched_at, raw_key=raw_key, **fields)


def records_of(source, connection, page: Page, callback: str, fetched_at) -> list:
    """A callback's items with its listings as RawRecords; data that does not fit one (an address the
    listing's quick check let through, say) is the page's fault: a ParseError naming the field."""
    items = []
    for item in source.run(callback, page):
        if isinstance(item, Listing):
            try:
                item = record_of(source.name, connection, item, page.url, fetched_at, page.raw_key)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                raise ParseError(f"{page.url}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        items.append(item)
    return items
