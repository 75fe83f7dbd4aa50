"""Fetching pages politely and safely. Every source goes through `Fetcher.get`:

* robots.txt is read once per host (protego), its redirects followed, and obeyed, Crawl-delay included;
  an unreachable robots.txt (5xx or 429, or a redirect to a refused address) means "disallow everything" for
  now, as the major crawlers treat it;
* requests to one host are spaced by its rate limit and capped in concurrency, retried on
  connect errors, timeouts and 408/429/5xx honouring Retry-After, and their bodies capped, by the
  `polite` client that API syncs use too; other 4xx are answered at once;
* conditional GET: the ETag / Last-Modified of a page is kept (for the MAX_VALIDATORS pages fetched or
  revalidated last), so an unchanged page costs a 304;
* every connection, for a request or a redirect hop, is made to an address checked to be public
  (`netguard`: one resolution, no loopback, link-local, private, metadata or transition addresses
  that carry one); where loopback is allowed (recorded sites), it is for the site asked for: a
  redirect that leaves it for a loopback address is refused like any other; a malformed URL or
  redirect Location is a FetchError for that page;
* a crawl's page (`get(url, site=...)`) is asked only on its directory's site (`site_of`), and a redirect off it is
  that page's FetchError, not followed.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from affiliate_matrix.errors import DamagedData, FetchError
from affiliate_matrix.netguard import NameUnreached, RefusedAddress, check_public, target_of
from affiliate_matrix.observability import get_logger
from affiliate_matrix.polite import (MAX_BYTES, RETRY_STATUSES, GaveUp, PoliteClient, Response, WaitBudget,
                                     WaitsSpent, retry_after_seconds)

__all__ = ["Fetcher", "FetchError", "Response", "check_public", "retry_after_seconds", "MAX_BYTES",
           "RETRY_STATUSES", "GONE"]
MAX_REDIRECTS = 5
GONE = frozenset({404, 410})  # a page that is no more
REDIRECTS = (301, 302, 303, 307, 308)
# The validator cache (url -> ETag/Last-Modified, the crawl's raw_key, and the run that last asked for it; kept per
# connection) holds at most this many URLs, those fetched, revalidated or asked for last; the oldest drop first (a
# dropped URL costs one full fetch). It was every URL ever fetched. A crawl queues at most this many URLs (crawl.py's
# MAX_QUEUED), fetching its page limit (500 by default) a run, so the pages of all its runs stay, at some hundreds of
# bytes each (a redirected page takes two entries: those dropped then are the ones asked for longest ago), and the
# links of its listing pages (crawl.py's MAX_LINKS_KEPT in all).
MAX_VALIDATORS = 5000
MAX_VALIDATOR = 200  # characters of an ETag or Last-Modified kept (a hash, a date: tens of characters)
# The longest Crawl-delay honoured, in seconds: a host asking more is asked at this pace (a crawl's budget pays for it)
MAX_CRAWL_DELAY = 60.0
MAX_DELAY_LINE = 200  # the characters of a robots.txt line read for a Crawl-delay (_delays_read)
ROBOTS_PARSED = 500 * 1024  # bytes of robots.txt read: RFC 9309 2.5's parsing limit, as Google reads it
STAY_AWAY = "User-agent: *\nDisallow: /"  # robots.txt unreachable: nothing is fetched for now
log = get_logger()
# The (host, port) the current get() was asked for: where loopback may be allowed, a redirect elsewhere never.
_ASKED: ContextVar[tuple[str, int] | None] = ContextVar("asked", default=None)


@dataclass
class _Robots:
    """A host's robots.txt as this fetcher read it, and until when that reading holds."""

    rules: object
    until: float
    problem: str = ""
    # What the problem was, where it was one: its answer (a 429 or 5xx: its status and Retry-After), or the name found
    # at no address to connect to, whose type a page not fetched for it keeps (NameUnreached)
    cause: Response | NameUnreached | None = None


class Fetcher:
    def __init__(self, user_agent: str, *, allow_loopback: bool = False, rate_limit_per_s: float = 1.0,
                 concurrency: int = 2, timeout: float = 15.0, max_bytes: int = MAX_BYTES, attempts: int = 4,
                 max_retry_after: float = 60.0, deadline: float = 60.0, validators=None,
                 wait_budget: WaitBudget | None = None, **pacing):
        """`wait_budget`: the waits a run may ask for (a crawl's, polite.WaitBudget); robots.txt's request is charged
        too. `pacing`: hosts, clock, sleep, wall_clock for the PoliteClient (tests pass fakes)."""
        self.user_agent = user_agent
        self.robots_token = product_token(user_agent)
        self.allow_loopback = allow_loopback
        self.validators = validators if validators is not None else {}  # url -> {"etag", "last_modified"}
        self._validators_lock = threading.Lock()  # fetches run in threads (a crawl's concurrency, verify's pool)
        self._trim_validators()
        self.client = PoliteClient("fetch", allow_loopback=self._may_use_loopback, rate_limit_per_s=rate_limit_per_s,
                                   concurrency=concurrency, timeout=timeout, max_bytes=max_bytes, attempts=attempts,
                                   max_retry_after=max_retry_after, deadline=deadline, wait_budget=wait_budget,
                                   headers={"User-Agent": user_agent}, **pacing)
        self._robots: dict[str, _Robots] = {}  # "scheme://netloc" -> its robots.txt

    def _may_use_loopback(self, host: str, port: int) -> bool:
        return self.allow_loopback and _ASKED.get() == (host, port)

    # -- robots.txt --------------------------------------------------------------------------

    def allowed(self, url: str) -> bool:
        from protego import Protego

        site = _site(url)
        robots = self._robots.get(site)
        if robots is None or robots.until < self.client.clock():
            rules, problem, cause = self._read_robots(site)
            robots = self._robots[site] = _Robots(Protego.parse(_delays_read(rules)), self.client.clock() + 3600,
                                                  problem, cause)
            spacing = _asked_spacing(robots.rules, self.robots_token)
            if spacing:
                self.client.space_host(url, min(spacing, MAX_CRAWL_DELAY))
        return robots.rules.can_fetch(url, self.robots_token)

    def _read_robots(self, site: str) -> tuple[str, str, Response | NameUnreached | None]:
        """A site's robots.txt rules, the problem when it could not be read, and what the problem was (_Robots.cause).
        Its redirects are followed, up to MAX_REDIRECTS (RFC 9309 2.3.1.2), each hop checked like a page's; past them
        it counts as missing."""
        url = f"{site}/robots.txt"
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self.client.send(self.client.build("GET", url), up_to=ROBOTS_PARSED)  # the rest is ignored
            except FetchError as exc:
                if isinstance(exc, RefusedAddress) and url == f"{site}/robots.txt" or isinstance(exc, WaitsSpent):
                    raise  # the site itself: not "unreachable", never to be asked at all; or not asked: no time left
                unreached = exc if isinstance(exc, NameUnreached) else None
                if url == f"{site}/robots.txt":  # the host not resolved or reached: said first, robots after
                    return STAY_AWAY, f"{exc}; its robots.txt could not be read", unreached
                # stay away for now
                return STAY_AWAY, f"its robots.txt redirects where it cannot be read: {exc}", unreached
            if response.status in REDIRECTS and "location" in response.headers:
                try:
                    url = urljoin(url, response.headers["location"])
                    target_of(url)
                except (ValueError, FetchError) as exc:
                    return STAY_AWAY, f"its robots.txt redirects to a malformed Location ({exc})", None
                continue
            if response.status >= 500 or response.status == 429:  # a 429 asks us to slow down, not to ignore it
                return STAY_AWAY, f"its robots.txt answered HTTP {response.status}", response
            if response.status >= 400:
                return "", "", None  # none: everything is allowed
            # RFC 9309 2.3: UTF-8 (or as a byte order mark says), whatever charset its header names: Apache's default
            # iso-8859-1 made "Disallow: /über-uns/" a rule for a path no URL has
            rules = replace(response, headers={}).text
            if response.cut_short:  # whole lines only: "Allow: /abc" cut to "Allow: /" would allow more
                rules = rules.rpartition("\n")[0]
            return rules, "", None
        return "", "", None  # more redirects than that: RFC 9309 takes it as unavailable, as a 404

    # -- fetching ----------------------------------------------------------------------------

    def get(self, url: str, *, site: str | None = None) -> Response:
        """Fetch a page: robots.txt, politeness, retries, conditional GET, redirects checked hop by hop.
        A 304 comes back as status 304 with an empty body (the caller has the page already). `site` (site_of): the
        one site its redirects may lead to (a crawl's, its directory's); one to another is this page's FetchError,
        not followed, that site never asked. None: any."""
        with _asking(url):
            return self._get(url, site)

    def spacing(self, url: str) -> float:
        """Seconds between two requests to url's host, as get() will keep them: the rate limit, or the host's
        robots.txt Crawl-delay when longer (robots.txt is read first, as get() would). A robots.txt that cannot be
        read changes nothing here: the site's first page fails with that reason."""
        try:
            with _asking(url):
                self.allowed(url)
        except FetchError:
            pass
        return self.client.spacing(url)

    def sitemaps(self, url: str) -> list[str]:
        """The sitemaps the robots.txt of url's site names (protego's `sitemaps`), read as get() reads it: none where it
        names none or could not be read (a FetchError where get() would raise one before asking: its address refused,
        no time left)."""
        with _asking(url):
            self.allowed(url)
        return list(self._robots[_site(url)].rules.sitemaps)

    def mark_fetched(self, url: str, run: str, notes: dict | None = None) -> None:
        """Note that the run `run` (its start, as data) asked for `url`, whatever came of it, keeping the URL as the
        newest: a crawl asks for the pages asked for longest ago first (crawl.py). `notes`: what this answer says of
        the page, each in place of the one before, or None for none: a listing page's that it is gone ({"gone":
        status, "gone_since": run}), a page's that it came in a coding not asked for (crawl.undecoded_note), a program
        page's that its copy is this run's ({"kept_in_run": run}, which an answer with no copy leaves as it was:
        sitemaps.py compares it with the page's <lastmod>)."""
        with self._validators_lock:
            entry = self.validators.pop(url, None) or {}
            entry = {name: value for name, value in entry.items()
                     if name not in ("gone", "gone_since", "undecoded", "unasked")}  # asked: no more unasked runs
            self.validators[url] = entry | {"fetched_in_run": run} | (notes or {})
            self._trim_validators()

    def _must_be_allowed(self, url: str, after: str = "") -> None:
        """FetchError unless robots.txt allows `url`: its rules, or what kept them from being read. `after`: how the
        URL was reached (" (after a redirect)")."""
        if self.allowed(url):
            return
        robots = self._robots[_site(url)]
        if robots.problem:  # not the site's rules: what kept us from reading them
            said = (f"{url}: not fetched{after}: {robots.problem} (no page of a site is fetched while its robots.txt "
                    "cannot be read)")
            if isinstance(robots.cause, NameUnreached):
                raise robots.cause.said(said)
            raise GaveUp(said, robots.cause) if robots.cause else FetchError(said)  # its answer, for whoever asks
        raise FetchError(f"{url}: disallowed by robots.txt{after}")

    def _get(self, url: str, site: str | None) -> Response:
        if site is not None and (on := site_of(url)) != site:  # a link kept before a crawl stayed on its site
            raise FetchError(f"{url}: a page of another site ({on}, not {site}): not asked, as a crawl stays on its "
                             "directory's site")
        self._must_be_allowed(url)
        asked = url
        for _ in range(MAX_REDIRECTS + 1):
            known = self.validators.get(url) or {}
            headers = {header: known[name] for name, header in (("etag", "If-None-Match"),
                                                                 ("last_modified", "If-Modified-Since"))
                       if _sendable(known.get(name))}
            try:
                response = self.client.request("GET", url, headers=headers)
            except RefusedAddress as exc:
                raise redirected(asked, url, exc) from None
            if response.status in REDIRECTS and "location" in response.headers:
                try:
                    target = urljoin(url, response.headers["location"])
                except ValueError as exc:
                    raise FetchError(f"{url}: redirects to a malformed Location ({exc})") from None
                from affiliate_matrix.sources import MAX_URL  # as a link longer is not followed (sources.Page.follow)

                if len(target) > MAX_URL:  # the URL reached is kept, in the HTTP cache and as its records' url
                    raise FetchError(f"{url}: redirects to a URL of {len(target):,} characters, longer than the "
                                     f"{MAX_URL:,} a record keeps")
                target_of(target)  # well-formed, or a FetchError for this page; its address is checked on connect
                if site is not None and (reached := site_of(target)) != site:
                    raise FetchError(f"{url}: redirects to another site ({reached}, not {site}): not followed, as a "
                                     "crawl stays on its directory's site")
                url = target
                try:
                    self._must_be_allowed(url, " (after a redirect)")  # another site's robots.txt, maybe
                except RefusedAddress as exc:
                    raise redirected(asked, url, exc) from None
                continue
            if response.status == 200:
                self._remember(url, {name: value if _sendable(value := response.headers.get(header)) else None
                                     for name, header in (("etag", "etag"), ("last_modified", "last-modified"))})
            elif response.status == 304 and known:
                self._remember(url, known)  # still in use: the newest again
            return response
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _remember(self, url: str, entry: dict) -> None:
        """Keep a URL's validators as the newest: a dict keeps insertion order, so its first key is the oldest."""
        with self._validators_lock:
            self.validators.pop(url, None)
            self.validators[url] = entry
            self._trim_validators()

    def _trim_validators(self) -> None:
        while len(self.validators) > MAX_VALIDATORS:
            del self.validators[next(iter(self.validators))]

    def close(self) -> None:
        self.client.close()


def redirected(asked: str, url: str, refusal: RefusedAddress) -> RefusedAddress:
    """The address guard's refusal of `url`, where the page `asked` for redirected: said as the redirect's (it read as
    the refusal of the page's own host: the demo's shortlink row); the page's own refusal as it is."""
    return refusal if url == asked else refusal.said(f"{asked}: redirects to {url}; {refusal}")


def http_cache(rt, key: str, replaying: str | None = None, connection=None) -> dict:
    """A fetcher's ETag/Last-Modified cache as stored (a connection's crawl, verify's run): {url: {"etag",
    "last_modified", ...}}, a crawled listing page's links too ("links": [[url, callback], ...], crawl.py), whether it
    is gone ("gone", "gone_since"), whether its last answer came in a coding not asked for ("undecoded": {...} of texts,
    crawl.undecoded_note), the run its copy is of ("kept_in_run"), whether robots.txt named it as a sitemap ("sitemap":
    "root", sitemaps.py) or /sitemap.xml was found absent ("absent": its answer), and the runs in a row it was not asked
    since ("unasked": a count, sitemaps.MAX_UNASKED). A connection's crawl keeps it as {"generation": ..., "pages":
    {url: ...}}: read for `connection` (a Connection), one kept for another of its generations (or for none, kept before
    caches named one) is none (connections.kept_for_another). It is only a cache: a damaged one is logged, naming it,
    and the run fetches everything in full and writes it anew. A replay (`replaying`: its connection's id) finds the
    stored pages through it alone, so a damaged one fails it (DamagedData), naming the way back."""
    from affiliate_matrix.storage import MAX_HTTP_CACHE_BYTES, read_json

    def pages(cache) -> bool:
        return isinstance(cache, dict) and all(isinstance(url, str) and isinstance(entry, dict) and all(
            isinstance(v, list) and all(isinstance(link, list) and len(link) == 2
                                        and all(isinstance(part, str) for part in link) for link in v)
            if name == "links" else isinstance(v, dict) and all(isinstance(part, str) for part in v.values())
            if name == "undecoded" else type(v) is int and v >= 0 if name == "unasked"
            else isinstance(v, str | None) for name, v in entry.items())
            for url, entry in cache.items())

    def enveloped(cache) -> bool:  # a connection's, naming its generation (no URL is "generation" or "pages")
        return isinstance(cache, dict) and cache.keys() == {"generation", "pages"}

    cache, _, problem = read_json(rt.store, key, lambda cache: pages(cache["pages"]) and isinstance(
        cache["generation"], str | None) if enveloped(cache) else pages(cache),
        "not a mapping of URLs to their validators", MAX_HTTP_CACHE_BYTES)
    if cache is not None:
        generation, cache = (cache["generation"], cache["pages"]) if enveloped(cache) else (None, cache)
        if connection is not None:
            from affiliate_matrix.connections import kept_for_another

            if kept_for_another(key, generation, connection):
                return {}
        return cache
    if problem is None:  # none kept
        return {}
    if replaying is not None:
        raise DamagedData(key, problem[:300], f"the replay finds the stored pages through it: amx scrape {replaying} "
                                              "fetches them again and writes it anew")
    log.error("http_cache.damaged", key=key, problem=problem[:300],
              remedy="nothing to do: this run fetches every page in full and writes the cache anew")
    return {}


@contextmanager
def _asking(url: str) -> Iterator[None]:
    """While fetching `url` (its robots.txt, the page, its redirects): where loopback is allowed, it is for its host."""
    _, host, port = target_of(url)
    asked = _ASKED.set((host, port))
    try:
        yield
    finally:
        _ASKED.reset(asked)


def _asked_spacing(rules, token: str) -> float:
    """The seconds between two requests a robots.txt asks of us: its Crawl-delay, or its Request-rate's interval
    ("Request-rate: 1/10s" is 10 s) when longer. A Request-rate's hours ("0900-1700") are not read: it holds all day,
    which asks less of the site, and no decision waits on the wall clock."""
    delay = float(rules.crawl_delay(token) or 0)
    rate = rules.request_rate(token)
    if rate and rate.requests > 0:
        delay = max(delay, rate.seconds / rate.requests)
    return delay


def _delays_read(rules: str) -> str:
    """robots.txt's rules with each Crawl-delay that is no finite number ("inf", "1e400" past a float, "10m") written as
    MAX_CRAWL_DELAY. protego drops such a line, and the site that asked us to slow down was crawled at our own pace;
    read as the longest delay honoured, it applies to the user agents of its group, as protego matches them. A number
    of seconds written with its unit ("10s", "10 seconds") is written as that number."""
    if "delay" not in rules.lower():
        return rules
    import math
    import re

    # as protego reads a line, its comment cut; the unit of seconds apart
    directive = re.compile(r"\s*crawl[- ]delay\s*:?\s*(.+?)(\s*(?:s|secs?|seconds?))?\s*", re.I)
    lines = rules.splitlines()
    for number, line in enumerate(lines):
        said = line.split("#", 1)[0].strip()
        # read from its start, the pattern's lazy value tried to the line's end from each of its characters: a line
        # of 32,000 blanks took 11 s, and robots.txt is read from any site discovery judges. Past that start no
        # number of seconds is written: no finite number
        found = directive.fullmatch(said[:MAX_DELAY_LINE])
        if found and found[1]:
            try:
                finite = len(said) <= MAX_DELAY_LINE and math.isfinite(float(found[1]))
            except ValueError:
                finite = False
            if not finite:
                lines[number] = f"Crawl-delay: {MAX_CRAWL_DELAY:g}"
            elif found[2]:
                lines[number] = f"Crawl-delay: {found[1]}"
    return "\n".join(lines)


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against (RFC 9309 2.2.1): the User-Agent's first product's name, its
    letters, `_` and `-` ("AffiliateMatrixBot" of "AffiliateMatrixBot/0.1 (+https://affiliate-matrix.dev/bot)").
    protego, given the whole header, matched a group to any word in it: `User-agent: bot` to the "/bot" of its URL,
    whose group, not ours or `*`'s, was then obeyed."""
    import re

    return re.match(r"[A-Za-z_-]*", user_agent.strip())[0] or user_agent


def _sendable(validator: str | None) -> bool:
    """Whether an ETag or Last-Modified can be kept and sent back: one past ASCII (HTTP allows it) httpx cannot encode,
    and one longer than MAX_VALIDATOR would fill the cache (5,000 of them, read and written whole each run) with what
    the site chose; the page is fetched in full instead."""
    return bool(validator) and validator.isascii() and validator.isprintable() and len(validator) <= MAX_VALIDATOR


def site_of(url: str) -> str:
    """The site a URL is on: its host's registrable domain (www.shop.com, shop.com and http:// or https:// are one
    site), a private suffix counting as a public one (x.github.io and y.github.io, x.herokuapp.com and
    y.herokuapp.com are two sites, as their owners are two), or the host itself where it has none (an address,
    localhost, github.io)."""
    from affiliate_matrix.normalize import registrable_domain

    host = target_of(url)[1].rstrip(".")
    return registrable_domain(host, private=True) or host


def _site(url: str) -> str:
    """scheme://host:port of a URL, an IPv6 address in brackets as a URL needs it."""
    scheme, host, port = target_of(url)
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
