"""Fetching pages politely and safely. Every source goes through `Fetcher.get`:

* robots.txt is read once per host (protego) and obeyed, Crawl-delay included; an unreachable
  robots.txt (5xx) means "disallow everything" for now, as the major crawlers treat it;
* requests to one host are spaced by its rate limit and capped in concurrency;
* connect errors, timeouts, 408/429/5xx (Scrapy's list) are retried with exponential backoff and
  jitter, honouring Retry-After up to a cap; other 4xx are answered at once;
* conditional GET: the ETag / Last-Modified of every page is kept, so an unchanged page costs a 304;
* every connection, for a request or a redirect hop, is made to an address checked to be public
  (`netguard`: one resolution, no loopback, link-local, private, metadata or transition addresses
  that carry one); where loopback is allowed (recorded sites), it is for the site asked for: a
  redirect that leaves it for a loopback address is refused like any other; a malformed URL or
  redirect Location is a FetchError for that page;
* bodies are capped after decompression and in time.
"""

import random
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from affiliate_matrix.errors import FetchError
from affiliate_matrix.netguard import RefusedAddress, check_public, guarded_client, target_of

__all__ = ["Fetcher", "FetchError", "Response", "check_public", "MAX_BYTES", "RETRY_STATUSES"]
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
RETRY_STATUSES = {408, 429, 500, 502, 503, 504, 522, 524}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.I)
_WHOLE = re.compile(r"^[0-9]{1,12}$")  # ASCII digits only: str.isdigit() also takes '²', which int() refuses
# The (host, port) the current get() was asked for: where loopback may be allowed, a redirect elsewhere never.
_ASKED: ContextVar[tuple[str, int] | None] = ContextVar("asked", default=None)


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    attempts: int = 1

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def charset(self) -> str:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            if part.strip().lower().startswith("charset="):
                return part.split("=", 1)[1].strip().strip('"')
        match = _META_CHARSET.search(self.body[:4096])
        return match.group(1).decode() if match else "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.body.decode(self.charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


# The last request to each host, shared by every fetcher in the process: two crawls of one host
# (two connections, a crawl and a verification) must not add up to more than either allows.
_LAST_REQUEST: dict[str, list] = {}  # netloc -> [lock, monotonic time of the last request]
_LAST_REQUEST_LOCK = threading.Lock()


@dataclass
class _Host:
    """Politeness state for one host: its robots.txt, this fetcher's spacing, a concurrency cap."""

    netloc: str
    interval: float
    gate: threading.Semaphore
    robots: object | None = None
    robots_until: float = 0.0
    robots_problem: str = ""

    def wait_turn(self) -> None:
        """Block until this host may be asked again. The turn is taken under the host's lock after the
        wait, so a thread that oversleeps cannot bunch up with the next; 2% margin for scheduling jitter."""
        with _LAST_REQUEST_LOCK:
            shared = _LAST_REQUEST.setdefault(self.netloc, [threading.Lock(), 0.0])
        with shared[0]:
            delay = shared[1] + self.interval * 1.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            shared[1] = time.monotonic()


class Fetcher:
    def __init__(self, user_agent: str, *, allow_loopback: bool = False, rate_limit_per_s: float = 1.0,
                 concurrency: int = 2, timeout: float = 15.0, max_bytes: int = MAX_BYTES, attempts: int = 4,
                 max_retry_after: float = 60.0, deadline: float = 60.0, validators=None):
        self.user_agent = user_agent
        self.allow_loopback = allow_loopback
        self.rate_limit_per_s = rate_limit_per_s
        self.concurrency = concurrency
        self.max_bytes = max_bytes
        self.attempts = attempts
        self.max_retry_after = max_retry_after
        self.deadline = deadline
        self.validators = validators if validators is not None else {}  # url -> {"etag", "last_modified"}
        self.client = guarded_client(self._may_use_loopback, headers={"User-Agent": user_agent},
                                     timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def _may_use_loopback(self, host: str, port: int) -> bool:
        return self.allow_loopback and _ASKED.get() == (host, port)

    def _host(self, url: str) -> _Host:
        netloc = urlsplit(url).netloc
        with self._hosts_lock:
            if netloc not in self._hosts:
                self._hosts[netloc] = _Host(netloc, 1.0 / self.rate_limit_per_s, threading.Semaphore(self.concurrency))
            return self._hosts[netloc]

    # -- robots.txt --------------------------------------------------------------------------

    def allowed(self, url: str) -> bool:
        from protego import Protego

        host = self._host(url)
        if host.robots is None or host.robots_until < time.monotonic():
            parts = urlsplit(url)
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            host.robots_problem = ""
            try:
                response = self._request(robots_url, {}, host)
            except RefusedAddress:
                raise  # not "unreachable": never to be asked at all
            except FetchError as exc:
                response, host.robots_problem = None, f"robots.txt unreachable: {exc}"
            if response is not None and response.status >= 500:
                host.robots_problem = f"robots.txt answered HTTP {response.status}"
            if host.robots_problem:
                rules = "User-agent: *\nDisallow: /"  # unreachable: stay away for now
            elif response.status >= 400:
                rules = ""  # no robots.txt: everything is allowed
            else:
                rules = response.text
            host.robots, host.robots_until = Protego.parse(rules), time.monotonic() + 3600
            delay = host.robots.crawl_delay(self.user_agent)
            if delay:
                host.interval = max(host.interval, min(float(delay), 60.0))
        return host.robots.can_fetch(url, self.user_agent)

    # -- fetching ----------------------------------------------------------------------------

    def get(self, url: str) -> Response:
        """Fetch a page: robots.txt, politeness, retries, conditional GET, redirects checked hop by hop.
        A 304 comes back as status 304 with an empty body (the caller has the page already)."""
        _, host, port = target_of(url)
        asked = _ASKED.set((host, port))
        try:
            return self._get(url)
        finally:
            _ASKED.reset(asked)

    def _get(self, url: str) -> Response:
        if not self.allowed(url):
            problem = self._host(url).robots_problem
            raise FetchError(f"{url}: disallowed by robots.txt" + (f" ({problem})" if problem else ""))
        for _ in range(MAX_REDIRECTS + 1):
            host = self._host(url)
            headers = {}
            known = self.validators.get(url) or {}
            if known.get("etag"):
                headers["If-None-Match"] = known["etag"]
            if known.get("last_modified"):
                headers["If-Modified-Since"] = known["last_modified"]
            response = self._with_retries(url, headers, host)
            if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
                try:
                    target = urljoin(url, response.headers["location"])
                except ValueError as exc:
                    raise FetchError(f"{url}: redirects to a malformed Location ({exc})") from None
                target_of(target)  # well-formed, or a FetchError for this page; its address is checked on connect
                url = target
                if not self.allowed(url):
                    raise FetchError(f"{url}: disallowed by robots.txt (after a redirect)")
                continue
            if response.status == 200:
                self.validators[url] = {"etag": response.headers.get("etag"),
                                        "last_modified": response.headers.get("last-modified")}
            return response
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _with_retries(self, url: str, headers: dict, host: _Host) -> Response:
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._request(url, headers, host)
            except FetchError as exc:
                if not getattr(exc, "retriable", False) or attempt == self.attempts:
                    raise
                wait = self._backoff(attempt)
            else:
                if response.status not in RETRY_STATUSES:
                    return Response(response.url, response.status, response.headers, response.body, attempt)
                if attempt == self.attempts:
                    raise FetchError(f"{url}: HTTP {response.status} after {attempt} attempts")
                wait = self._retry_after(response) or self._backoff(attempt)
                if wait > self.max_retry_after:
                    raise FetchError(f"{url}: HTTP {response.status}, asked to wait {wait:.0f} s "
                                     f"(more than the {self.max_retry_after:.0f} s we wait)")
            from affiliate_matrix.observability.telemetry import RETRIES

            RETRIES.labels("fetch").inc()
            time.sleep(wait)
        raise AssertionError("unreachable")

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)

    @staticmethod
    def _retry_after(response: Response) -> float | None:
        return retry_after_seconds(response.headers.get("retry-after"))

    def _request(self, url: str, headers: dict, host: _Host) -> Response:
        with host.gate:
            host.wait_turn()
            started = time.monotonic()
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    declared = response.headers.get("content-length", "")
                    if _WHOLE.match(declared) and int(declared) > self.max_bytes:
                        raise FetchError(f"{url}: declares {declared} bytes, more than the {self.max_bytes} we take")
                    body = bytearray()
                    for chunk in response.iter_bytes():  # decoded bytes: the cap holds against compression bombs
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise FetchError(f"{url}: body exceeds {self.max_bytes} bytes (after decompression)")
                        if time.monotonic() - started > self.deadline:
                            raise FetchError(f"{url}: still sending after {self.deadline:.0f} s")
                    return Response(str(response.url), response.status_code,
                                    {k.lower(): v for k, v in response.headers.items()}, bytes(body))
            except httpx.DecodingError as exc:
                raise FetchError(f"{url}: body cannot be decoded ({exc})") from None
            except (httpx.InvalidURL, UnicodeError) as exc:  # not HTTPErrors: httpx reads a redirect's Location
                raise FetchError(f"{url[:200]}: a malformed URL, or a redirect to one ({exc})") from None
            except httpx.HTTPError as exc:
                error = FetchError(f"{url}: {type(exc).__name__}: {exc}")
                error.retriable = True  # connect errors, timeouts, truncated bodies
                raise error from None

    def close(self) -> None:
        self.client.close()


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds, in either form it comes in (delta-seconds or an HTTP date);
    None when absent or unreadable, so the caller backs off on its own schedule."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None
