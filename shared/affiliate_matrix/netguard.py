"""The one guard on requests to addresses that a page, a search result or a person chose (pages and
their redirects, API base URLs, webhooks): every such request goes through `guarded_client` (pages, APIs
and rule webhooks through `polite.PoliteClient`, which is built on it).

* A URL must be http(s) with a well-formed host: a DNS name of letters, digits, `-` and `_` in labels
  of 1-63 (an IDN is sent as its punycode), or an IP literal. A host name not in ASCII, or with a punycode label,
  is first mapped as browsers map it (UTS #46, `domain_to_ascii`): `ｅｘａｍｐｌｅ．ｃｏｍ` is `example.com`,
  `１２７．０．０．１` is 127.0.0.1, judged as that address, and `_` is taken in any label, as in an ASCII name.
* The name is resolved once, when the connection is made; every address it resolves to must be
  public, and the socket is connected to one of those checked addresses. The Host header, TLS SNI
  and certificate verification stay on the name (httpcore starts TLS with the origin's host), so a
  name that answers a public address first and a private one a moment later (DNS rebinding) gets
  nowhere, and HTTPS works as usual. A name that does not resolve (in time), or resolves to an address refused, is a
  NameUnreached (RefusedAddress the second), naming the host: what a read token reads says the two one way by it.
* Not public: what `ipaddress` does not call global, multicast, reserved, site-local (fec0::/10),
  local-use NAT64 (64:ff9b:1::/48), 192.0.0.0/24 and 3fff::/20 (_ALSO_NOT_PUBLIC). An IPv6 address that carries an IPv4 address is judged by that
  address: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4
  (2002::/16) and Teredo (2001::/32: its server and its client).
* Loopback is allowed only where the caller says so for that host and port (recorded sites on this
  machine, with AMX_ALLOW_LOOPBACK_FETCH).
* Within `deadline(seconds)` every lookup, connect, read and write is bounded by what is left of it, so a
  server trickling its headers a byte at a time cannot hold a request past it (httpx's timeouts are
  per operation only). A lookup is part of connecting, as curl counts it: bounded by the connect timeout too,
  where the resolver has no bound of its own (a silent name server holds it 5-30 s, retrying). The cluster's own
  services, at addresses the operator set, get that bound without the guard (`bounded_client`: the Broker, OpenSearch,
  S3 and Vault).
"""

import ipaddress
import os
import re
import socket
import ssl
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

import httpcore
import httpx

from affiliate_matrix.characters import C0_CONTROLS, characters
from affiliate_matrix.errors import FetchError, tls_failed

LoopbackPolicy = Callable[[str, int], bool]  # (ASCII host, port) -> may it be a loopback address?
_LABEL = r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$"  # a host name's label; compiled by re on first use
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Not globally reachable (IANA's special-purpose registries), which ipaddress calls global in some Python the project
# runs on: 192.0.0.0/24 (Oracle Cloud's metadata at 192.0.0.192) before 3.11.10 (CVE-2024-4032; its anycast .9 and .10
# are refused too), 3fff::/20 (documentation, RFC 9637 of 2024). The verdict is the same on every 3.11.
_ALSO_NOT_PUBLIC = [ipaddress.ip_network(network) for network in
                    ("fec0::/10", "64:ff9b:1::/48", "192.0.0.0/24", "3fff::/20")]


class NameUnreached(FetchError):
    """No address of `host` to connect to: its name did not resolve (in time), or it resolves to an address refused
    (RefusedAddress). The message says which, for the log and the admin's own `amx connections test`; what every read
    token reads (a connection test's answer, a sync's record) says the two one way (unreached_said),
    told by this type, never by the message's words: an admin could map internal names by the difference."""

    def __init__(self, message: str, *, host: str):
        super().__init__(message)
        self.host = host

    def said(self, message: str) -> "NameUnreached":
        """This error in other words (what a caller did not fetch for it), of its kind and host still."""
        return type(self)(message, host=self.host)


def unreached_said(host: str) -> str:
    """A host a request found no address of to connect to, said one way whether its name did not resolve or resolves to
    an address no request goes to."""
    return (f"{host} does not resolve, or resolves to a non-public address, which a sync never fetches from "
            "(AMX_ALLOW_LOOPBACK_FETCH=true where syncs run allows a loopback one)")


class RefusedAddress(NameUnreached):
    """The host resolves to an address that is not public; the message names the host and the kind of address
    (loopback, private, ...), never the address, which it would tell whoever reads a connection test or a sync."""


def host_unreached(exc: BaseException) -> str | None:
    """The host `exc` found no address of to connect to (NameUnreached), else None."""
    return exc.host if isinstance(exc, NameUnreached) else None


def never(host: str, port: int) -> bool:
    return False


# What the URL Standard refuses in a host name once mapped ("forbidden domain code points": the C0 controls, DEL, the
# space and the URL's delimiters): `ex／ample.com` maps to "ex/ample.com", which a browser refuses rather than reading
# a path into it.
_FORBIDDEN_IN_DOMAIN = characters(C0_CONTROLS) | frozenset(" #%/:<>?@[\\]^|\x7f")
_JOINERS = ("\u200c", "\u200d")


def domain_to_ascii(host: str) -> str:
    """A host name as browsers send it (the WHATWG URL Standard's "domain to ASCII"): mapped by UTS #46,
    non-transitional (full-width letters and dots, upper case, ignorable characters), with its STD3 rules and hyphen
    checks off, so `_` is taken in a label of any script as in an ASCII one (IDNA 2008, which the `idna` package
    applies on its own, refuses it everywhere); each label checked as UTS #46 checks it (NFC, no leading combining
    mark, joiners in context, the bidi rule; an A-label decoded and checked alike) and written in punycode. An ASCII
    name with no A-label is only lower-cased, as browsers do. What it refuses raises UnicodeError (IDNAError is one)."""
    import idna

    labels = host.lower().split(".")
    if host.isascii() and not any(label.startswith("xn--") for label in labels):
        return host.lower()
    mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)  # refuses what UTS #46 disallows
    if not _FORBIDDEN_IN_DOMAIN.isdisjoint(mapped):
        raise idna.IDNAError(f"{mapped[:100]!r} holds a character a host name cannot")
    labels = []
    for label in mapped.split("."):
        if label.startswith("xn--"):
            decoded = label[4:].encode("ascii").decode("punycode")  # UnicodeError when it is not punycode
            if not decoded or decoded.isascii() or idna.uts46_remap(decoded, std3_rules=False) != decoded or \
                    decoded.encode("punycode") != label[4:].encode("ascii"):  # one spelling per name, as RFC 5891
                raise idna.IDNAError(f"{label[:100]!r} is not a valid A-label")
            labels.append((decoded, label))
        else:
            labels.append((label, label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")))
    bidi = any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for label, _ in labels for char in label)
    for label, _ in labels:
        if label.isascii() and not bidi:
            continue
        idna.check_nfc(label)
        idna.check_initial_combiner(label)
        if label.startswith("xn--") or any(
                char in _JOINERS and not idna.valid_contextj(label, pos) for pos, char in enumerate(label)):
            raise idna.IDNAError(f"{label[:100]!r} is not a valid label")
        if bidi:
            idna.check_bidi(label, check_ltr=True)  # a bidi domain name: every label keeps the bidi rule
    return ".".join(ascii_label for _, ascii_label in labels)


def mapped_host(url: str) -> str:
    """`url` with its host name written as browsers write it (`domain_to_ascii`). What UTS #46 refuses raises
    UnicodeError; a netloc whose characters read as `/`, `?`, `#` or `@` once normalised raises ValueError
    (urlsplit). An IPv6 literal is left to httpx."""
    netloc = urlsplit(url).netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        return url
    host, colon, port = hostport.partition(":")
    ascii_host = domain_to_ascii(host)
    return url if ascii_host == host.lower() else url.replace(netloc, userinfo + at + ascii_host + colon + port, 1)


def target_of(url: str) -> tuple[str, str, int]:
    """(scheme, ASCII host, port) of an http(s) URL, or FetchError saying what is wrong with it."""
    shown = url[:200]
    try:
        mapped = mapped_host(url)
        parsed = httpx.URL(mapped)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        host = parsed.raw_host.decode("ascii").lower()
        urlsplit(mapped).port  # the standard library must read it the same way (no port out of range)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:  # idna errors are UnicodeErrors
        raise FetchError(f"refused {shown!r}: not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise FetchError(f"refused {shown!r}: only http(s) URLs with a host are fetched")
    if not 0 < port < 65536:
        raise FetchError(f"refused {shown!r}: port {port} is out of range")
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        labels = host.removesuffix(".").split(".")
        if len(host) > 253 or not all(re.match(_LABEL, label) for label in labels):
            raise FetchError(f"refused {shown!r}: {host[:100]!r} is not a valid host name") from None
    return parsed.scheme, host, port


def embedded_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for, if it is a transition address."""
    if address.version == 4:
        return []
    if address.ipv4_mapped:
        return [address.ipv4_mapped]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):  # not :: nor ::1
        return [ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)]
    if address.sixtofour:
        return [address.sixtofour]
    if address.teredo:
        return list(address.teredo)
    return []


def why_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not a public one, in a word or two (the kind, never the address: it goes into answers
    whoever adds a source reads); None when it is public."""
    inner = embedded_ipv4(address)
    if inner:
        reasons = [f"an IPv6 address carrying a {reason} IPv4 one" for v4 in inner if (reason := why_not_public(v4))]
        return reasons[0] if reasons else None
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    if not address.is_global or any(address in network for network in _ALSO_NOT_PUBLIC):
        return "private or special-purpose"
    return None


def is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_loopback or any(v4.is_loopback for v4 in embedded_ipv4(address))


def refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> str | None:
    """Why no connection is made to `address` (why_not_public's word for it), or None: it is public, or loopback
    where loopback is allowed."""
    if allow_loopback and is_loopback(address):
        return None
    return why_not_public(address)


def written_refusal(url: str, allow_loopback: bool) -> str | None:
    """Why no request of `url` would be made, judged from its host as written, with no lookup: an IP literal (IPv4 in
    any form the resolver reads as one), or `localhost` and the names under it (RFC 6761: loopback, however a resolver
    answers); None for a public address, or any other name, which only its resolution at each request can judge.
    FetchError for a URL no request is made to (target_of)."""
    host = target_of(url)[1].removesuffix(".")
    if host == "localhost" or host.endswith(".localhost"):
        return refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback)
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        try:  # IPv4 as one number, in hex or octal, in fewer parts (2852039166, 0xa.0.0.5, 127.1): the resolver reads
            address = ipaddress.IPv4Address(socket.inet_aton(host))  # it as the address, not as a name, as browsers do
        except OSError:
            return None
    return refusal(address, allow_loopback)


def resolve(host: str, port: int, within: float | None = None) -> list[str]:
    """The addresses `host` resolves to, looked up within `within` seconds (None: as long as the resolver takes).
    getaddrinfo takes no timeout, so it runs on a thread of its own, left to end by itself when the time is up: a name
    server that never answers holds that thread until the resolver gives up, not the request. An address literal
    asks no name server, so it is read on the caller's thread (by getaddrinfo still: the same answer, in its form)."""
    answer: Future = Future()
    try:
        ipaddress.ip_address(host)
        numeric = {"flags": socket.AI_NUMERICHOST}
    except ValueError:
        numeric = None

    def look_up() -> None:
        try:
            answer.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, **(numeric or {})))
        except BaseException as exc:  # noqa: BLE001 - handed to the request, which says what it was
            answer.set_exception(exc)

    if numeric:
        look_up()
    else:
        threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    if not wait([answer], within).done:
        raise NameUnreached(f"cannot resolve {host!r}: its name did not resolve in time (no answer within "
                            f"{within:.3g} s)", host=host)
    try:
        infos = answer.result()
    except (OSError, UnicodeError) as exc:
        raise NameUnreached(f"cannot resolve {host!r}: {getattr(exc, 'strerror', None) or exc}", host=host) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise NameUnreached(f"cannot resolve {host!r}: no address", host=host)
    return addresses


def resolve_public(host: str, port: int, *, allow_loopback: bool = False, within: float | None = None) -> list[str]:
    """Resolve `host` once (within `within` seconds); the addresses to connect to, every one of them checked."""
    addresses = resolve(host, port, within)
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text.split("%")[0]), allow_loopback)
        if reason:  # the host and the kind, not the address: a name's internal address is no one's to learn here
            raise refused(host, port, reason)
    return addresses


def refused(host: str, port: int, reason: str) -> RefusedAddress:
    return RefusedAddress(f"refused {host}:{port}: {host} resolves to a non-public address ({reason})", host=host)


def check_public(url: str, *, allow_loopback: bool = False) -> list[str]:
    """Refuse a URL that is not http(s) or whose host resolves to a non-public address. Requests do not
    call this: the guarded clients check the address they connect to (one resolution, no gap)."""
    _, host, port = target_of(url)
    return resolve_public(host, port, allow_loopback=allow_loopback)


_DEADLINE: ContextVar[float | None] = ContextVar("request_deadline", default=None)  # a time.monotonic() instant


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound every network operation of the guarded clients in this block by `seconds` from now, in all. Within a
    deadline that ends sooner, that one holds: a request's own deadline inside a connection test's (its robots.txt,
    its page and their redirects, or an API's requests, all within the test's time)."""
    end, outer = time.monotonic() + seconds, _DEADLINE.get()
    token = _DEADLINE.set(end if outer is None else min(end, outer))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds left of the deadline this runs within; None outside any."""
    end = _DEADLINE.get()
    return None if end is None else end - time.monotonic()


def past_deadline() -> bool:
    left = time_left()
    return left is not None and left <= 0


def wait_fits(seconds: float) -> bool:
    """Whether a wait of `seconds` (before a retry) ends within the deadline this runs within (always, outside any): one
    ending at it or past it does not, as the request after it would have no time left. The one rule for every retry
    loop of ours (polite, S3, the Broker, OpenSearch): one that does not fit is not waited, and the call ends with what
    it met."""
    left = time_left()
    return left is None or seconds < left


def sleep_within(seconds: float) -> bool:
    """Wait `seconds` when the wait fits in the deadline this runs within (wait_fits), else not (False), so a caller
    retrying after it ends now with what it met rather than ask again past its bound."""
    if not wait_fits(seconds):
        return False
    time.sleep(seconds)
    return True


def _bounded(timeout: float | None) -> float | None:
    """An operation's timeout, cut to what is left of the deadline (a connection kept alive for the next
    request reads the deadline of the request using it)."""
    end = _DEADLINE.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _BoundedStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _BoundedBackend(httpcore.SyncBackend):
    """Every lookup, connect, read and write within the request's deadline (a lookup within the connect timeout too).
    The host is resolved here, not by the socket's own create_connection, whose lookup nothing bounds."""

    def addresses(self, host: str, port: int, within: float | None) -> list[str]:
        return resolve(host, port, within)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        error: Exception | None = None
        for address in self.addresses(host, port, _bounded(timeout)):
            try:
                stream = super().connect_tcp(address, port, _bounded(timeout), local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc  # the next address, as socket.create_connection would
                continue
            self.connected(host, port, address)
            return _BoundedStream(stream)
        raise error

    def connected(self, host: str, port: int, address: str) -> None:
        pass


class _GuardedBackend(_BoundedBackend):
    """And every connection to a checked public address."""

    def __init__(self, allow_loopback: LoopbackPolicy):
        self.allow_loopback = allow_loopback
        self.on_loopback: set[tuple[str, int]] = set()  # (host, port) connected to a loopback address where allowed

    def addresses(self, host: str, port: int, within: float | None) -> list[str]:
        return resolve_public(host, port, allow_loopback=self.allow_loopback(host, port), within=within)

    def connected(self, host: str, port: int, address: str) -> None:
        if is_loopback(ipaddress.ip_address(address.split("%")[0])):
            self.on_loopback.add((host, port))


def _pool_options(ssl_context: ssl.SSLContext | None = None) -> dict:
    limits = httpx.Limits()  # httpx's defaults
    return {"ssl_context": ssl_context or httpx.create_ssl_context(), "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections, "keepalive_expiry": limits.keepalive_expiry}


class BoundedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on our backend, every lookup, connect, read and write within the
    request's deadline: httpx takes no network backend, so the pool it built is replaced (`_pool` is all its methods
    use; httpx is pinned). `ssl_context`: whom an https:// server's certificate must be signed by (a cluster's own CA);
    None: the public CAs."""

    def __init__(self, backend: _BoundedBackend | None = None, ssl_context: ssl.SSLContext | None = None):
        super().__init__()
        self._backend = backend or _BoundedBackend()
        self._pool = httpcore.ConnectionPool(network_backend=self._backend, **_pool_options(ssl_context))
        _POOLED.add(self)


_POOLED: weakref.WeakSet = weakref.WeakSet()  # every BoundedTransport this process has made


def _close_pools() -> None:
    for transport in list(_POOLED):
        transport.close()  # its connections; the pool stays usable, and the next request connects anew


# Before a fork, so that no connection kept alive crosses it: gunicorn's master checks the backends as it imports a
# function (runtime.start), then forks the worker (WORKERS of them), which sent its requests on the master's socket,
# every worker on the same one, each reading the others' answers. The child connects anew. (A request another thread
# of the forking process is making then fails: no process of ours forks while one is; subprocesses run no such hook.)
os.register_at_fork(before=_close_pools)


class GuardedTransport(BoundedTransport):
    """And every connection to a checked public address. `guard=False` keeps the deadline and drops the address check
    (an address the operator configured, which may be private)."""

    def __init__(self, allow_loopback: LoopbackPolicy = never, guard: bool = True):
        super().__init__(_GuardedBackend(allow_loopback) if guard else None)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """A kept-alive connection is taken without connecting, so without a check: one to a loopback address, made
        where the policy allowed it (the site asked for), is refused to a request the policy does not allow it (a
        redirect from another site to that one)."""
        if isinstance(self._backend, _GuardedBackend):
            url = request.url
            host, port = url.raw_host.decode("ascii"), url.port or (443 if url.scheme == "https" else 80)
            if (host, port) in self._backend.on_loopback and not self._backend.allow_loopback(host, port):
                raise refused(host, port, "loopback")
        return super().handle_request(request)


def guarded_client(allow_loopback: LoopbackPolicy = never, guard: bool = True, **options) -> httpx.Client:
    """An httpx client whose every connection is checked (unless `guard=False`) and bounded by the request's
    deadline; it never follows redirects itself (callers check each hop's URL) and never uses a proxy from
    the environment (the proxy would resolve)."""
    return httpx.Client(transport=GuardedTransport(allow_loopback, guard), follow_redirects=False, **options)


def bounded_client(ssl_context: ssl.SSLContext | None = None, **options) -> httpx.Client:
    """An httpx client for the cluster's own services at addresses the operator set (the Broker, OpenSearch, S3,
    Vault): every lookup, connect, read and write bounded by the request's deadline, no address check (they are
    private), no redirect followed, no proxy from the environment. `ssl_context`: BoundedTransport's. Not for the
    internet: that is guarded_client's, and the policy tests (tests/support/function_reach.py) count only
    guarded_client's users as reaching it."""
    return httpx.Client(transport=BoundedTransport(ssl_context=ssl_context), follow_redirects=False, **options)


# What a bounded client's request raises when no answer came: httpx's transport errors, and FetchError when the name
# did not resolve (in time).
UNANSWERED = (httpx.TransportError, FetchError)


def unanswered_as(exc: BaseException, *, tls: type, timeout: type, unreachable: type,
                  connect_timeout: type | None = None) -> type:
    """Which of a library's exceptions its transport on a bounded client raises for a request that got no answer (`exc`,
    one of UNANSWERED), as the library's own transport would: `tls` where the TLS library failed the connection (a
    certificate refused, a handshake failing: only a setting helps, not waiting), `connect_timeout` where no connection
    was made in time (if the library tells that apart), `timeout` where a read, a write or the deadline ran out, and
    `unreachable` for the rest (refused, reset, a name that did not resolve)."""
    if tls_failed(exc):
        return tls
    if connect_timeout is not None and isinstance(exc, httpx.ConnectTimeout):
        return connect_timeout
    if isinstance(exc, httpx.TimeoutException):
        return timeout
    return unreachable


def on_this_machine(url: str) -> bool:
    """Whether `url`'s host is a loopback address written out (127.0.0.1, [::1]): a server on this machine, never a
    provider's, whatever a name would resolve to."""
    try:
        host = target_of(url)[1]
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except (FetchError, ValueError):
        return False


def origin_policy(url: str, allowed: bool) -> LoopbackPolicy:
    """Loopback for the host and port of `url` only, and only when `allowed`."""
    try:
        _, host, port = target_of(url)
    except FetchError:
        return never  # the request itself will say what is wrong with the URL
    return (lambda h, p: (h, p) == (host, port)) if allowed else never
