"""The one outbound HTTP client for pages (fetch.py), network APIs (sync.py), rule webhooks
(rules/actions.py) and search providers (discovery/providers.py): whatever a request is for, it is made
the same polite, safe way.

* Per host (name and port), shared by every client in the process: requests are spaced by the caller's
  interval since the last request anyone made to that host, and no more are in flight than the
  caller's concurrency cap counting everyone's. Two crawls, or a crawl and an API sync, of one host
  never add up to more than either allows. A Retry-After the host sends holds all of them until it ends.
* Connect errors, timeouts, truncated bodies and the retry statuses (Scrapy's list, plus what a source
  says it answers when throttling) are retried by tenacity, with exponential backoff and jitter or
  after the Retry-After the server asked for (delta-seconds or an HTTP date; else the wait a caller reads from the
  server's own headers, `asked_wait`), up to a cap; a status
  the source uses for refused credentials ends at once. Each retry is counted (amx_retries{what}).
* A request with a time limit of its own (a rule's webhook: `total`), or made within a deadline (a connection test's),
  is retried only while the retry's wait ends within it: its attempts and their waits together stay within it.
* A run with a time limit (a crawl, verify, an API sync) gives its client a WaitBudget: each request's spacing and
  each retry's wait are charged to it before they are made, and a request whose wait would pass it is not made
  (WaitsSpent).
* Every connection goes to an address checked to be public (`netguard`'s httpcore backend), unless the
  caller says the URL is the operator's own setting (`guard=False`: a search provider, which may run
  in-cluster); redirects are never followed here (callers check each hop).
* Where the URL itself is a credential (a webhook's path, a key in the query), `redact=True` names a
  request by its scheme and host only, in errors and logs alike.
* Bodies are capped after decompression (and by a declared Content-Length) and in time: the request's deadline, or
  what is left of the run's WaitBudget when less (its time past its spacing is spent from it).
* Only the content codings `content_coding` decodes are asked for (gzip, deflate); a body in another (br, zstd, sent
  all the same) is refused (Undecoded), with its answer as it came for a caller that keeps raw answers. An answer
  in a transfer coding other than chunked (Transfer-Encoding: gzip, chunked), which h11 neither reads nor hands over
  raw, is refused as unusable (UnusableAnswer), not retried as a network fault.

The clock, the sleep and the wall clock (for an HTTP-date Retry-After only) are parameters, so tests
neither sleep nor depend on the time of day.
"""

import codecs
import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timezone

import httpx

from affiliate_matrix.content_coding import ACCEPT_ENCODING, BodyTooLarge, BoundedDecoder, NotAskedFor, Undecodable
from affiliate_matrix.errors import FetchError
from affiliate_matrix.netguard import (LoopbackPolicy, deadline, guarded_client, mapped_host, never, past_deadline,
                                       target_of, wait_fits)
from affiliate_matrix.observability import get_logger

log = get_logger()
MAX_BYTES = 5 * 1024 * 1024
MAX_HOSTS = 1024  # past this many, the host table forgets the hosts whose state no longer matters
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
# compiled by re on first use, as are the others here
_META_CHARSET = rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)"""  # re.I
_XML_DECLARATION = rb"""<\?xml\s[^>]{0,200}?\bencoding\s*=\s*["']([^"'>]{0,60})["']"""
# The encodings of the WHATWG Encoding Standard (and plain ASCII, Latin-1, UTF-32), by Python's codec names: a page
# names its charset, and Python has codecs no page may choose (punycode decodes in quadratic time, minutes for a
# 5 MB page; idna and undefined raise whatever the bytes). Names, not lookups: a lookup imports the codec.
WEB_ENCODINGS = frozenset({
    "ascii", "big5", "big5hkscs", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
    "cp1258", "cp866", "cp874", "cp949", "euc_jp", "euc_kr", "gb18030", "gb2312", "gbk", "iso2022_jp", "iso8859-1",
    "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "iso8859-2", "iso8859-3", "iso8859-4",
    "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-9", "iso8859-11", "koi8-r", "koi8-u", "mac-cyrillic",
    "mac-roman", "shift_jis", "cp932", "tis-620", "utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-8", "utf-8-sig"})
# The encodings whose labels the Encoding Standard reads as a wider one, as browsers do, and the codec of that one: a
# page saying ISO-8859-1 or US-ASCII is read as windows-1252 (its curly quotes, dashes, € and ™ in 0x80-0x9F,
# which Python's Latin-1 reads as control characters and its ASCII as U+FFFD), ISO-8859-9 as windows-1254, GB2312 as
# GB18030…
AS_BROWSERS_READ = {"ascii": "cp1252", "iso8859-1": "cp1252", "iso8859-9": "cp1254", "iso8859-11": "cp874",
                    "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949", "shift_jis": "cp932",
                    "big5": "big5hkscs"}
# The Encoding Standard's labels Python's codecs do not know (a Thai page's windows-874, x-sjis, x-mac-roman, Hebrew's
# iso-8859-8-i…), by the codec that reads them as browsers do: read as UTF-8 before, the page's text was mojibake
WHATWG_LABELS = {label: codec for codec, labels in {
    "iso8859-2": "iso88592", "iso8859-3": "iso88593", "iso8859-4": "iso88594", "iso8859-5": "iso88595",
    "iso8859-6": "csiso88596e csiso88596i iso-8859-6-e iso-8859-6-i iso88596", "iso8859-7": "iso88597 sun_eu_greek",
    "iso8859-8": "csiso88598e iso-8859-8-e iso88598 visual csiso88598i iso-8859-8-i logical",
    "iso8859-10": "iso885910", "iso8859-13": "iso885913", "iso8859-14": "iso885914",
    "iso8859-15": "csisolatin9 iso885915", "koi8-r": "koi koi8", "mac-roman": "csmacintosh mac x-mac-roman",
    "cp874": "dos-874 iso885911 windows-874", "cp1250": "x-cp1250", "cp1251": "x-cp1251",
    "cp1252": "iso88591 x-cp1252", "cp1253": "x-cp1253", "cp1254": "iso88599 x-cp1254", "cp1255": "x-cp1255",
    "cp1256": "x-cp1256", "cp1257": "x-cp1257", "cp1258": "x-cp1258",
    "mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian", "gb18030": "csgb2312 gb_2312 gb_2312-80 x-gbk",
    "big5hkscs": "cn-big5 x-x-big5", "euc_jp": "cseucpkdfmtjapanese x-euc-jp", "cp932": "windows-31j x-sjis",
    "cp949": "cseuckr csksc56011987 iso-ir-149 ks_c_5601-1989 ksc_5601 windows-949",
    "utf-8": "unicode-1-1-utf-8"}.items() for label in labels.split()}
# A body's byte order mark and the codec that reads it (and drops the mark): a BOM names the encoding over a header or
# a <meta> (the WHATWG Encoding Standard's BOM sniffing: UTF-8, UTF-16LE, UTF-16BE; "utf-16" reads either order).
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WHOLE = r"^[0-9]{1,12}$"  # ASCII digits only: str.isdigit() also takes '²', which int() refuses
# How httpx says a redirect's Location is no URL it reads (it reads it even when following no redirect): the server's
# answer, which asking again would not change, not a network fault (no other sign of it: a RemoteProtocolError)
_UNREAD_LOCATION = "Invalid URL in location header"
# How h11 (httpx's HTTP/1.1 parser) says an answer's Transfer-Encoding is other than "chunked" alone (gzip, chunked;
# two of the header): it reads no other, nor hands over the raw body to decode it, and its error carries none of the
# answer's headers, so the coding is not known here. The server's answer, the same when asked again: no network fault.
_UNREAD_TRANSFER_CODING = ("Only Transfer-Encoding: chunked is supported", "multiple Transfer-Encoding headers")
# What a request header that cannot be sent is said to be: h11 and httpx quote the value they refuse, which may be a
# key, so it is named by its name only
BAD_HEADER = ("is not a valid HTTP header value (a line break, a control character or a character past ASCII in it: "
              "often a key's trailing newline, or a non-breaking space or typographic quote pasted with it); its value "
              "is not shown")


class UnsendableHeader(FetchError):
    """A request header we cannot send (its value not a valid HTTP header value): our configuration's fault (a
    connection's credentials), the same for every request, so nothing is asked; named by the header's name only."""

    def __init__(self, label: str, name: str | None):
        named = f"the request header {name!r}" if name else "a request header"
        super().__init__(f"{label}: {named} {BAD_HEADER}. It is this end's configuration (the connection's credentials "
                         "or headers), not the server: every request would fail alike, so none was sent")


class CredentialsRefused(FetchError):
    """The server answered a status its provider uses for refused credentials (wrong, expired, revoked): `status`."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class GaveUp(FetchError):
    """Still a retry status after the last attempt, or one asking to wait longer than we wait; the last response is
    kept for whoever wants it."""

    def __init__(self, message: str, response: "Response"):
        super().__init__(message)
        self.response = response


class NoAnswer(FetchError):
    """No answer came, or only part of one (a connection refused or reset, a timeout, a body cut short): asking again
    may get one, so a request retries it and a caller that can be asked again later (a webhook's event) is."""


class UnusableAnswer(FetchError):
    """The server did answer, whole, with what cannot be used and asking again would not change (a redirect to a
    malformed Location, a body past the cap, undecodable or not in a coding we asked for): the server is up, not failing
    to answer."""


class Undecoded(UnusableAnswer):
    """An answer whose body is in a content coding we did not ask for and do not decode (br, zstd: a server ignoring
    our Accept-Encoding): no parser reads it as text. Its answer is kept, the body as it came, for whoever keeps raw
    answers (a crawl's pages, an API's responses), with the `coding` it came in, kept beside it so that a replay of it
    is refused in the same words (undecoded)."""

    def __init__(self, message: str, response: "Response", coding: str):
        super().__init__(message)
        self.response, self.coding = response, coding


def undecoded(label: str, coding: str, response: "Response") -> Undecoded:
    """The refusal of `response`, whose body is coded as `coding`, not asked for; `label` names its request (as
    request_label does). A request makes it, and so does the replay of the answer kept (sync.StoredAnswers,
    crawl.StoredPages): a replay fails as the run did, not as a parse failure of bytes no parser reads."""
    return Undecoded(f"{label}: {NotAskedFor(coding)}", response, coding)


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    attempts: int = 1
    cut_short: bool = False  # only the body's opening was read (send's `up_to`)

    @property
    def content_type(self) -> str:
        """The media type, lower case (RFC 9110 8.3.1: its type and subtype are case-insensitive): an
        `Application/RSS+XML` feed was kept as a page, and `Text/HTML` was no web page."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str:
        """The codec the body is read in: its byte order mark's, else the first of its Content-Type's charset, a feed's
        XML declaration and a page's <meta> that names one of the web's encodings (one that does not is passed over,
        as browsers pass it: a header naming none leaves the page's own word), else UTF-8."""
        for bom, codec in _BOMS:
            if self.body.startswith(bom):
                return codec
        for label in self._charsets_named():
            try:
                codec = codecs.lookup(WHATWG_LABELS.get(label.strip().lower(), label)).name
            except LookupError:
                continue
            if codec in WEB_ENCODINGS:
                return codec
        return "utf-8"

    def _charsets_named(self) -> Iterator[str]:
        """The charsets the answer names, in the order they count."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            if part.strip().lower().startswith("charset="):
                yield part.split("=", 1)[1].strip().strip('"')
        # a feed served without one names its encoding in its XML declaration, a page in a <meta>
        if declared := declared_xml_encoding(self.body):
            yield declared
        if match := re.search(_META_CHARSET, self.body[:4096], re.I):
            yield match.group(1).decode()

    @property
    def text(self) -> str:
        """The body in its charset, read as browsers read it (AS_BROWSERS_READ)."""
        codec = self.charset
        return self.body.decode(AS_BROWSERS_READ.get(codec, codec), errors="replace")


def declared_xml_encoding(head: bytes) -> str | None:
    """The encoding an XML document's declaration names (`<?xml version="1.0" encoding="windows-1252"?>`), if any."""
    match = re.match(_XML_DECLARATION, head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:300])
    return match.group(1).decode("ascii", "replace") if match else None


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """A Retry-After header in seconds, in either form it comes in (delta-seconds or an HTTP date, read
    against `now`, the wall clock); None when absent or unreadable, so the caller backs off on its own."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000" or no zone: HTTP dates are GMT, never the machine's local time
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, when.timestamp() - now())
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class _HostState:
    users: int = 0  # turns holding or waiting for a slot
    in_flight: int = 0
    last_request: float = float("-inf")
    resume_at: float = float("-inf")  # nothing asked before this: the host's Retry-After (HostLimits.hold)
    spacing: float = 0.0  # the longest interval any caller has kept from this host
    slots: threading.Condition = field(default_factory=threading.Condition)
    pacing: threading.Lock = field(default_factory=threading.Lock)

    def spent(self, now: float) -> bool:
        """Nobody is asking the host and every caller's interval since its last request has passed: a
        fresh state would pace the next request exactly as this one would."""
        return self.users == 0 and now - self.last_request >= self.spacing * 1.02 and now >= self.resume_at


class HostLimits:
    """Who is asking which host, and when it was last asked: one per process (`HOSTS`), thread-safe.
    A long process asks many hosts once (discovery, webhooks), so when the table passes MAX_HOSTS the
    spent states are dropped; a host in use or still within its interval keeps its state. (Not a size- or
    age-bounded cache: one that evicted a host mid-request would let a second set of requests at it.)"""

    def __init__(self):
        self._hosts: dict[tuple[str, int], _HostState] = {}
        self._lock = threading.Lock()
        self._forget_at = MAX_HOSTS  # doubles while most hosts are in use, so forgetting stays amortised O(1)

    def __len__(self) -> int:
        return len(self._hosts)

    def __contains__(self, host: tuple[str, int]) -> bool:
        return host in self._hosts

    def hold(self, host: tuple[str, int], until: float) -> None:
        """Ask the host nothing before `until` (the callers' clock): it answered with a Retry-After, the server's word
        on when to be asked again (RFC 9110 10.2.3), not one request's: the host's other requests wait for it too."""
        with self._lock:
            state = self._hosts.setdefault(host, _HostState())
            state.resume_at = max(state.resume_at, until)

    def held_for(self, host: tuple[str, int], now: float) -> float:
        """Seconds before the host may be asked again (hold), 0 when it may now."""
        state = self._hosts.get(host)
        return max(0.0, state.resume_at - now) if state else 0.0

    @contextmanager
    def turn(self, host: tuple[str, int], interval: float, concurrency: int, clock: Callable[[], float],
             sleep: Callable[[float], None]) -> Iterator[None]:
        """Hold one of the host's request slots, taken `interval` after its last request (and not before its hold
        ends: a Retry-After it sent). The turn is taken under the host's pacing lock after the wait, so a thread that
        oversleeps cannot bunch up with the next; 2% margin for scheduling jitter."""
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                if len(self._hosts) >= self._forget_at:
                    self._forget_spent(clock())
                state = self._hosts[host] = _HostState()
            state.users += 1
            state.spacing = max(state.spacing, interval)
        try:
            with state.slots:
                state.slots.wait_for(lambda: state.in_flight < concurrency)
                state.in_flight += 1
            try:
                with state.pacing:
                    delay = max(state.last_request + interval * 1.02, state.resume_at) - clock()
                    if delay > 0:
                        sleep(delay)
                    state.last_request = clock()
                yield
            finally:
                with state.slots:
                    state.in_flight -= 1
                    state.slots.notify_all()
        finally:
            with self._lock:
                state.users -= 1

    def _forget_spent(self, now: float) -> None:
        """Under self._lock."""
        self._hosts = {host: state for host, state in self._hosts.items() if not state.spent(now)}
        self._forget_at = max(MAX_HOSTS, 2 * len(self._hosts))


HOSTS = HostLimits()


class WaitsSpent(FetchError):
    """A request not made, or not retried: the wait before it would pass the run's WaitBudget."""


class WaitBudget:
    """The seconds of waiting a run may ask its client for (a crawl: its function's time limit less a margin). The
    pacing before each request (the host's spacing, charged in full: a warm process may have asked the host just now)
    and each retry's wait (Retry-After, or the backoff) are charged before they are made (a retry's own spacing only
    beyond that wait, which it overlaps), and one that would pass the budget is refused (WaitsSpent), so the run stops
    asking before its limit whatever the server answers. Counted from the waits asked for, never read off a clock: the
    same answers spend it the same way on any machine. The one exception is a request that holds the run up (a body
    sent a byte at a time): the client's clock says for how long, and that is spent too (`spend`, PoliteClient.send).
    `each_thread`: each thread's waits are counted apart, each against the whole budget, for a run whose threads wait
    side by side (verify: a worker asks its hosts' pages one after another, the workers at once); a crawl's threads
    share one count."""

    def __init__(self, seconds: float, *, each_thread: bool = False):
        self.seconds, self.each_thread = seconds, each_thread
        self._spent: dict[int | None, float] = {}  # by thread (None: all of them)
        self._lock = threading.Lock()  # a crawl's fetches run in threads

    def _lane(self) -> int | None:
        return threading.get_ident() if self.each_thread else None

    def left(self) -> float:
        """The seconds not spent yet (this thread's, counted each thread)."""
        with self._lock:
            return self.seconds - self._spent.get(self._lane(), 0.0)

    def spend(self, seconds: float) -> None:
        """Count time already taken (never refused: it is gone)."""
        lane = self._lane()
        with self._lock:
            self._spent[lane] = self._spent.get(lane, 0.0) + seconds

    def charge(self, wait: float, label: str) -> None:
        lane = self._lane()
        with self._lock:
            spent = self._spent.get(lane, 0.0)
            if spent + wait > self.seconds:
                raise WaitsSpent(f"{label}: not asked: its wait of {wait:.0f} s would pass the run's "
                                 f"{self.seconds:.0f} s of waits ({spent:.0f} s spent)")
            self._spent[lane] = spent + wait


class _Again(Exception):
    """An attempt worth repeating: why, and how long the server asked us to wait (if it did)."""

    def __init__(self, error: FetchError, retry_after: float | None = None, response: Response | None = None):
        super().__init__(str(error))
        self.error, self.retry_after, self.response = error, retry_after, response


class PoliteClient:
    """Requests to any hosts, politely. `what` names the caller in metrics and logs ("fetch", "sync").
    `settled(response)`: the caller knows a retry status will not change if asked again (a provider's
    daily quota spent), so it is answered at once rather than retried. `asked_wait(response)`: the seconds a retry
    status without a Retry-After asks to wait in the server's own words (a provider's rate-limit reset header), None
    when it does not say; waited and capped as a Retry-After is."""

    def __init__(self, what: str, *, allow_loopback: LoopbackPolicy = never, rate_limit_per_s: float = 1.0,
                 concurrency: int = 2, timeout: float = 15.0, max_bytes: int = MAX_BYTES, attempts: int = 4,
                 max_retry_after: float = 60.0, deadline: float = 60.0, total: float | None = None,
                 throttle_statuses=(), refused_statuses=(),
                 settled: Callable[[Response], bool] = lambda response: False,
                 asked_wait: Callable[[Response], float | None] = lambda response: None, guard: bool = True,
                 redact: bool = False, hosts: HostLimits = HOSTS, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, wall_clock: Callable[[], float] = time.time,
                 wait_budget: WaitBudget | None = None, **httpx_options):
        if rate_limit_per_s <= 0 or concurrency < 1 or attempts < 1:
            raise ValueError("rate_limit_per_s must be positive, concurrency and attempts at least 1")
        self.what = what
        self.interval = 1.0 / rate_limit_per_s
        self.concurrency = concurrency
        self.max_bytes = max_bytes
        self.attempts = attempts
        self.max_retry_after = max_retry_after
        self.deadline, self.total = deadline, total
        self.retry_statuses = RETRY_STATUSES | set(throttle_statuses)
        self.refused_statuses = frozenset(refused_statuses)
        self.settled, self.asked_wait, self.redact = settled, asked_wait, redact
        self.hosts, self.clock, self.sleep, self.wall_clock = hosts, clock, sleep, wall_clock
        self.wait_budget = wait_budget
        self.slower: dict[tuple[str, int], float] = {}  # host -> a longer interval it asked for (Crawl-delay)
        timeouts = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        # sent with each request (build), not set on the client, where one httpx cannot encode raised at construction,
        # outside what a caller of request() handles
        self.headers = {"Accept-Encoding": ACCEPT_ENCODING, **(httpx_options.pop("headers", None) or {})}
        self.http = guarded_client(allow_loopback, guard, timeout=timeouts, **httpx_options)

    def space_host(self, url: str, interval: float) -> None:
        """Ask this host no more often than every `interval` seconds from now on (its Crawl-delay)."""
        host = target_of(url)[1:]
        self.slower[host] = max(self.slower.get(host, 0.0), interval)

    def spacing(self, url: str) -> float:
        """Seconds between two requests of this client to url's host: its rate limit's interval, or the longer one
        the host asked for (space_host)."""
        return max(self.interval, self.slower.get(target_of(url)[1:], 0.0))

    def request(self, method: str, url: str, *, up_to: int | None = None, **options) -> Response:
        """One request, built (build) and asked (ask)."""
        return self.ask(self.build(method, url, **options), up_to=up_to)

    def ask(self, request: httpx.Request, *, up_to: int | None = None) -> Response:
        """A request built (build), retried as the module says. Raises FetchError (GaveUp, CredentialsRefused) when
        no answer worth having came; any other status is the caller's to judge. `up_to`: as send's."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        label = request_label(request, self.redact)
        attempts, waited = 0, 0.0

        def once() -> Response:
            nonlocal attempts
            attempts += 1
            try:
                response = self.send(request, waited=waited, up_to=up_to)
            except NoAnswer as exc:
                raise _Again(exc) from None
            if response.status in self.refused_statuses:
                raise CredentialsRefused(f"{label}: HTTP {response.status}, the connection's credentials were refused",
                                        response.status)
            answer = Response(response.url, response.status, response.headers, response.body, attempts,
                              response.cut_short)
            if response.status not in self.retry_statuses or self.settled(response):
                return answer
            wait = retry_after_seconds(response.headers.get("retry-after"), self.wall_clock)
            if wait is None:
                wait = self.asked_wait(answer)
            if wait is not None and wait > self.max_retry_after:  # the answer is kept: a 429 is still a 429
                raise GaveUp(f"{label}: HTTP {response.status}, asked to wait {wait:.0f} s "
                             f"(more than the {self.max_retry_after:.0f} s we wait)", answer)
            raise _Again(FetchError(f"{label}: HTTP {response.status}"), wait, response)

        def before_retry(state) -> None:
            nonlocal waited
            self._before_retry(state)
            waited = state.upcoming_sleep

        retrying = Retrying(stop=stop_after_attempt(self.attempts), wait=self._wait, sleep=self.sleep,
                            retry=retry_if_exception_type(_Again), before_sleep=before_retry, reraise=True)
        try:
            with deadline(self.total) if self.total is not None else nullcontext():
                return retrying(once)
        except _Again as last:
            if last.response is None:
                raise last.error from None
            tried = f"{attempts} attempt{'' if attempts == 1 else 's'}"
            raise GaveUp(f"{last.error} after {tried}", last.response) from None

    @staticmethod
    def _wait(state) -> float:
        """Retry-After when the server gave one, else 0.5 s doubling up to 30 s, plus up to 0.5 s of jitter."""
        from tenacity import wait_exponential_jitter

        again = state.outcome.exception()
        if again.retry_after is not None:
            return again.retry_after
        return wait_exponential_jitter(multiplier=0.5, max=30.0, jitter=0.5)(state)

    def _before_retry(self, state) -> None:
        """End the request, unretried, when the retry's wait would end past its deadline (its last answer kept), else
        charge the wait to the run's budget (WaitsSpent ends it here too), then count it."""
        from affiliate_matrix.observability.telemetry import RETRIES

        again = state.outcome.exception()
        if not wait_fits(state.upcoming_sleep):
            said = (f"{again.error}, not asked again: the wait of {state.upcoming_sleep:.0f} s before it would pass "
                    "the request's time limit")
            raise GaveUp(said, again.response) if again.response is not None else FetchError(said)
        if self.wait_budget is not None:
            self.wait_budget.charge(state.upcoming_sleep, str(again.error))
        if again.retry_after is not None:  # the server's wait: for every request to it, not this one's alone
            self.hosts.hold(target_of(again.response.url)[1:], self.clock() + again.retry_after)
        RETRIES.labels(self.what).inc()
        log.info("http.retry", what=self.what, reason=str(again.error), attempt=state.attempt_number,
                 wait_s=round(state.upcoming_sleep, 3))

    def build(self, method: str, url: str, **options) -> httpx.Request:
        """The request as it will be sent (a base URL applied), or a FetchError naming what is wrong with it."""
        options["headers"] = {**self.headers, **(options.get("headers") or {})}
        if (name := unsendable_header(options["headers"])) is not None:
            raise UnsendableHeader(f"{method} {'the URL' if self.redact else str(url)[:200]}", name)
        try:
            mapped = mapped_host(url)
            target = httpx.URL(mapped)
            if target.raw_host.startswith(b"xn--"):
                # httpx reads such a host back through `idna` (IDNA 2008) to write the Host header, refusing what a
                # browser sends (`_` in a label, a symbol such as ☃); given the header, it never reads it
                options["headers"] = {"Host": target.netloc.decode("ascii"), **options["headers"]}
            request = self.http.build_request(method, mapped, **options)
            target_of(str(request.url))  # well-formed http(s); its address is checked when the connection is made
        except (httpx.InvalidURL, ValueError, UnicodeError, FetchError) as exc:
            if self.redact:  # the reason may quote the URL
                raise FetchError(f"{method} the URL: not a valid http(s) URL with a valid host") from None
            if isinstance(exc, FetchError):
                raise
            raise FetchError(f"{method} {str(url)[:200]}: not a valid URL ({exc})") from None
        return request

    def send(self, request: httpx.Request, *, waited: float = 0.0, up_to: int | None = None) -> Response:
        """One paced request, its body read within the caps; no retries, any status answered. `up_to`: only the body's
        first `up_to` bytes are wanted: reading stops there, and a longer body (sent, declared or inflated) is cut to
        them (`cut_short`), not refused. `waited`: the retry's
        wait just slept before it (request), charged already: the host's spacing since the last request, this one's
        first attempt, is that much spent, so only the rest is charged again. With a WaitBudget, a request's time past
        `free` (its spacing times the concurrency: the host's next requests are paced from this one's start and take
        the other slots meanwhile, so only the time past that holds the run up) is spent from the budget, and its body is
        read only while the request is within `free` and what is left of the budget, on the client's clock as the
        budget is counted: a body sent a byte at a time cannot keep a run going past its time limit. (The network's
        own bound, in real time, stays the request's deadline: a body that stalls altogether ends at a read's timeout.)"""
        url, label = str(request.url), request_label(request, self.redact)
        host, interval = target_of(url)[1:], self.spacing(url)
        limit, why, free = self.deadline, "the request's time limit", interval * self.concurrency
        if self.wait_budget is not None:
            held = self.hosts.held_for(host, self.clock())  # a Retry-After the host sent another request
            self.wait_budget.charge(max(0.0, max(interval, held) - waited), label)
            if (within := free + self.wait_budget.left()) < limit:
                limit, why = within, "all that was left of the run's time budget"
        with self.hosts.turn(host, interval, self.concurrency, self.clock, self.sleep), deadline(self.deadline):
            started, body = self.clock(), None
            try:
                response = self.http.send(request, stream=True)
                try:
                    declared = response.headers.get("content-length", "")
                    if up_to is None and re.match(_WHOLE, declared) and int(declared) > self.max_bytes:
                        raise UnusableAnswer(f"{label}: declares {declared} bytes, more than the {self.max_bytes} we take")
                    # The body is gathered in a BytesIO because its getvalue() hands over the buffer itself: a
                    # bytearray's bytes() copy would hold a large body (a feed of tens of MB) twice for a moment.
                    body = io.BytesIO()
                    decoder = BoundedDecoder(response.headers.get("content-encoding", ""),
                                             self.max_bytes if up_to is None else min(up_to, self.max_bytes),
                                             cut=up_to is not None)
                    for chunk in response.iter_raw():  # decoded here, within the cap: compression bombs stop at it
                        body.write(decoder.decode(chunk))
                        if decoder.cut_short:
                            break
                        if self.clock() - started > limit:
                            raise FetchError(f"{label}: body too slow: still sending after {limit:.0f} s ({why})")
                    else:
                        body.write(decoder.flush())
                finally:
                    response.close()
                return Response(str(response.url), response.status_code,
                                {k.lower(): v for k, v in response.headers.items()}, body.getvalue(),
                                cut_short=decoder.cut_short)
            except NotAskedFor as exc:  # the body as it came, for a caller keeping raw answers
                raise undecoded(label, exc.coding, Response(str(response.url), response.status_code, {
                    k.lower(): v for k, v in response.headers.items()}, body.getvalue())) from None
            except BodyTooLarge:
                raise UnusableAnswer(f"{label}: body exceeds {self.max_bytes} bytes (after decompression)") from None
            except (Undecodable, httpx.DecodingError) as exc:
                raise UnusableAnswer(f"{label}: body cannot be decoded ({exc})") from None
            except (httpx.InvalidURL, UnicodeError) as exc:  # not HTTPErrors: httpx reads a redirect's Location
                raise UnusableAnswer(f"{label[:200]}: a malformed URL, or a redirect to one ({exc})") from None
            except httpx.LocalProtocolError:  # h11 quotes the header it refuses, which may be a credential
                raise UnsendableHeader(label, unsendable_header(dict(request.headers))) from None
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.RemoteProtocolError) and str(exc).startswith(_UNREAD_LOCATION):
                    raise UnusableAnswer(f"{label}: redirects to a malformed Location ({str(exc)[:200]})") from None
                if isinstance(exc, httpx.RemoteProtocolError) and str(exc).startswith(_UNREAD_TRANSFER_CODING):
                    raise UnusableAnswer(f"{label}: answers with a Transfer-Encoding other than chunked alone (such as "
                                         "'gzip, chunked'), a transfer coding not read here (only chunked is); not "
                                         f"asked again, as the server would answer alike ({exc})") from None
                if isinstance(exc, httpx.TimeoutException) and past_deadline():  # asked again, it would trickle again
                    slow = "still sending" if body is None else "body too slow: still sending"
                    raise FetchError(f"{label}: {slow} after {self.deadline:.0f} s (the request's time limit)") \
                        from None
                raise NoAnswer(f"{label}: {type(exc).__name__}: {exc}") from None
            finally:
                if self.wait_budget is not None:  # its time past `free`, up to its limit (a chunk may come late)
                    self.wait_budget.spend(max(0.0, min(self.clock() - started, limit) - free))

    def close(self) -> None:
        self.http.close()


def unsendable_header(headers: dict) -> str | None:
    """The name of the first header no request can carry, as httpx encodes it (ASCII) and h11 checks it; None when all
    can be sent."""
    import h11

    for name, value in headers.items():
        try:
            if isinstance(value, str):
                value.encode("ascii")
            h11.Request(method="GET", target="/", headers=[(name, value)], http_version="1.0")  # 1.0: no Host needed
        except (UnicodeEncodeError, h11.LocalProtocolError):
            return str(name)[:100]
    return None


def request_label(request: httpx.Request, redact: bool = False) -> str:
    """How errors name a request: its URL (only its scheme and host when the URL is a credential), and
    its method when that is not GET."""
    port = f":{request.url.port}" if request.url.port else ""  # the host without any user:password@ before it
    host = request.url.raw_host.decode("ascii")
    host = f"[{host}]" if ":" in host else host  # an IPv6 address, written as in a URL
    url = f"{request.url.scheme}://{host}{port}/…" if redact else str(request.url)
    return url if request.method == "GET" else f"{request.method} {url}"
