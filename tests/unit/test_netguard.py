"""The address guard: which addresses are public, one resolution per connection (no DNS-rebinding gap),
TLS kept on the host name, and malformed URLs refused in words. Every server here is on loopback."""

import ipaddress
import itertools
import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest

from affiliate_matrix import netguard
from affiliate_matrix.fetch import Fetcher, FetchError
from affiliate_matrix.netguard import RefusedAddress, check_public, deadline, guarded_client, never, origin_policy, \
    target_of, why_not_public
from affiliate_matrix.polite import HostLimits, PoliteClient
from tests.support.clock import FakeTime, ManualClock
from tests.support.tls import certificate


@pytest.mark.parametrize("address", [
    "::7f00:1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::a00:1",            # IPv4-mapped and -compatible
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808",          # NAT64, and local-use NAT64
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:101::1",              # 6to4 of loopback, metadata, private
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:a00:1::1",              # Teredo (a documentation / private end)
    "fec0::1", "fe80::1", "fc00::1", "fd12:3456::1", "::", "::1", "ff02::1", "2001:db8::1",
    "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    # IETF protocol assignments (Oracle Cloud's metadata at 192.0.0.192) and IPv6's second documentation block: not
    # globally reachable (IANA), which an older Python's ipaddress calls global (192.0.0.0/24 before 3.11.10)
    "192.0.0.192", "192.0.0.8", "3fff::1",
])
def test_non_public_addresses_are_refused(address):
    assert why_not_public(ipaddress.ip_address(address))
    with pytest.raises(RefusedAddress, match="non-public address"):  # a literal resolves to itself: no DNS here
        check_public(f"http://{'[' + address + ']' if ':' in address else address}/")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
                                     "2002:808:808::1"])
def test_public_addresses_and_transition_addresses_of_public_ones_pass(address):
    assert why_not_public(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url,problem", [
    ("http:127.0.0.1:9", "only http"), ("ftp://example.com/", "only http"),
    ("http://[::1", "not a valid URL"), ("http://a.test:99999/", "not a valid URL"),
    ("http://exa mple.com/", "not a valid host name"), ("http://a..b/", "not a valid host name"),
    ("http://xn--zz.com/", "not a valid URL"), ("http://ab\u200d.com/", "not a valid URL"),
    ("http://\x00x.com/", "not a valid URL"), ("http://" + "a" * 64 + ".com/", "not a valid host name"),
])
def test_malformed_urls_are_refused_in_words(url, problem):
    with pytest.raises(FetchError, match=problem):
        check_public(url, allow_loopback=True)


@pytest.mark.parametrize("url,target", [
    ("https://ｅｘａｍｐｌｅ．ｃｏｍ/x", ("https", "example.com", 443)),  # full-width letters and dot
    ("https://ＥＸＡＭＰＬＥ。ｃｏｍ/", ("https", "example.com", 443)),  # upper case, the ideographic full stop
    ("http://user:pw@ｅｘａｍｐｌｅ．ｃｏｍ:8080/", ("http", "example.com", 8080)),
    ("https://ab\u200b.com/", ("https", "ab.com", 443)),  # a zero-width space: ignored, as browsers ignore it
    ("https://Bücher.de/", ("https", "xn--bcher-kva.de", 443)),
    ("https://faß.de/", ("https", "xn--fa-hia.de", 443)),  # non-transitional, as browsers: ß stays, not "ss"
    ("http://１２７．０．０．１/", ("http", "127.0.0.1", 80)),  # an address, once mapped: judged as one
])
def test_host_names_are_mapped_as_browsers_map_them(url, target):
    """A full-width host name (ｅｘａｍｐｌｅ．ｃｏｍ) was refused as not a valid URL, though a browser goes to
    example.com: UTS #46, as the WHATWG URL Standard applies it, maps it there."""
    assert target_of(url) == target


@pytest.mark.parametrize("url,target", [
    ("http://a_b.example.com/", ("http", "a_b.example.com", 80)),  # ASCII: taken before, as browsers take it
    ("http://a_b.bücher.de/", ("http", "a_b.xn--bcher-kva.de", 80)),
    ("http://_dmarc.ｂｕｃｈ.de/", ("http", "_dmarc.buch.de", 80)),
    ("http://例_え.jp/", ("http", "xn--_-97t131j.jp", 80)),  # `_` within a label of another script
    ("http://xn--_-97t131j.jp/", ("http", "xn--_-97t131j.jp", 80)),  # and its A-label, written in ASCII
    ("http://Ａ＿Ｂ.com/", ("http", "a_b.com", 80)),  # a full-width low line
    ("http://☃.net/", ("http", "xn--n3h.net", 80)),  # a symbol UTS #46 keeps (IDNA 2008 does not), as browsers do
])
def test_a_low_line_is_taken_in_a_host_name_of_any_script_as_browsers_take_it(url, target):
    """`http://a_b.example.com/` was fetched while `http://a_b.bücher.de/` was refused as not a valid URL: IDNA 2008
    (the `idna` package on its own) refuses `_`, while browsers map a host with the URL Standard's UTS #46 processing,
    its STD3 rules off, which takes `_` in a label of any script (it is no forbidden domain code point)."""
    assert target_of(url) == target


def test_a_host_in_punycode_with_a_low_line_is_asked_under_that_name(resolver):
    """httpx reads a host that starts with an A-label back through IDNA 2008 to write the Host header: `例え.a_b.jp`
    (xn--r8jz45g.a_b.jp) was refused there, once mapped, though `a_b.jp` was fetched."""
    answers, asked = resolver
    answers["xn--r8jz45g.a_b.test"] = ["127.0.0.1"]
    site = Site("127.0.0.1")
    try:
        client = PoliteClient("fetch", allow_loopback=lambda host, port: host == "xn--r8jz45g.a_b.test", attempts=1,
                              **FakeTime().options(HostLimits()))
        response = client.request("GET", f"http://例え.a_b.test:{site.port}/")
        client.close()
        assert response.status == 200 and site.host_header == f"xn--r8jz45g.a_b.test:{site.port}"
        assert asked == ["xn--r8jz45g.a_b.test"]
    finally:
        site.close()


@pytest.mark.parametrize("url", [
    "https://exa\ufffdmple.com/",  # disallowed by UTS #46
    "https://\u2488.com/",  # ⒈: disallowed
    "https://a\u05d0.com/",  # left-to-right and right-to-left in one label (the bidi rule)
    "https://ｘｎ--zz.com/",  # an invalid A-label, however it is written
    "https://ex／ample.com/",  # a full-width solidus reads as "/" in the host
    "https://ｅｘａｍｐｌｅ．ｃｏｍ：８０/",  # and a full-width colon as ":"
    "https://u：p@a.com/",
])
def test_host_names_uts46_refuses_are_still_refused(url):
    with pytest.raises(FetchError, match="not a valid URL"):
        target_of(url)


@pytest.mark.parametrize("delimiter", " #%/:<>?@[\\]^|\x7f\x00\x1f")
def test_a_host_name_mapped_to_a_url_delimiter_or_a_control_is_refused(delimiter):
    """The URL Standard's forbidden domain code points, each written as a character UTS #46 maps to it (a full-width
    form; the ideographic space), or as itself beside a non-ASCII label."""
    full_width = {" ": "\u3000"}.get(delimiter, chr(ord(delimiter) + 0xFEE0))
    written = full_width if " " <= delimiter <= "~" else delimiter  # a control has no full-width form
    with pytest.raises(UnicodeError, match="holds a character a host name cannot"):
        netguard.domain_to_ascii(f"例え{written}ample.com")


@pytest.mark.parametrize("host", ["１２７．０．０．１", "１２７．１", "①②⑦.0.0.1", "ｌｏｃａｌｈｏｓｔ"])
def test_a_full_width_loopback_address_is_refused_after_mapping(host):
    """Hostile input: the mapped host is what the address guard judges, so a full-width 127.0.0.1 is loopback."""
    site = Site("127.0.0.1")
    try:
        client = PoliteClient("fetch", attempts=1, **FakeTime().options(HostLimits()))
        with pytest.raises(RefusedAddress, match=r"resolves to a non-public address \(loopback\)"):
            client.request("GET", f"http://{host}:{site.port}/")
        client.close()
        assert site.hits == 0
    finally:
        site.close()


def test_a_full_width_host_is_asked_under_its_mapped_name(resolver):
    answers, asked = resolver
    answers["shop.test"] = ["127.0.0.1"]
    site = Site("127.0.0.1")
    try:
        client = PoliteClient("fetch", allow_loopback=lambda host, port: (host, port) == ("shop.test", site.port),
                              attempts=1, **FakeTime().options(HostLimits()))
        response = client.request("GET", f"http://ｓｈｏｐ．ｔｅｓｔ:{site.port}/")
        client.close()
        assert response.status == 200 and site.host_header == f"shop.test:{site.port}" and asked == ["shop.test"]
    finally:
        site.close()


class Site:
    """A one-page HTTP(S) site on a given loopback address, counting its requests."""

    def __init__(self, host: str, port: int = 0, body: bytes = b"site", tls: ssl.SSLContext | None = None):
        self.hits = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: robots.txt and the page share one connection

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.hits += 1
                site.host_header = self.headers.get("Host")
                self.send_response(200 if self.path != "/robots.txt" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def resolver(monkeypatch):
    """Answers for made-up names (no DNS server we control can run here); every other lookup, including the
    numeric ones a connection to a checked address makes, goes to the real resolver."""
    real, answers, asked = socket.getaddrinfo, {}, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            asked.append(host)
            address = answers[host][min(len(asked), len(answers[host])) - 1]
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def test_the_connection_goes_to_the_address_that_was_checked(resolver):
    """DNS rebinding: the name answers the site's address first and an internal one after that. A guard that
    checks, then lets the client resolve again, connects to the internal one; ours resolves once."""
    answers, asked = resolver
    site = Site("127.0.0.1")
    internal = Site("127.0.0.2", site.port, b"internal")
    try:
        answers["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
        fetcher = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=50, attempts=1)
        response = fetcher.get(f"http://rebind.test:{site.port}/page")
        fetcher.close()
        assert response.body == b"site" and internal.hits == 0
        assert site.host_header == f"rebind.test:{site.port}"  # the Host header keeps the name
        assert asked == ["rebind.test"]  # one resolution, for the one connection (robots.txt and the page)
    finally:
        site.close()
        internal.close()


def test_the_backend_connects_to_the_address_it_checked(resolver):
    from affiliate_matrix.netguard import _GuardedBackend

    answers, asked = resolver
    site = Site("127.0.0.1")
    try:
        answers["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
        stream = _GuardedBackend(lambda host, port: True).connect_tcp("rebind.test", site.port, timeout=5)
        assert stream.get_extra_info("server_addr")[0] == "127.0.0.1" and asked == ["rebind.test"]
        stream.close()
        with pytest.raises(RefusedAddress, match=r"rebind.test resolves to a non-public address \(loopback\)"):
            # the next answer, where loopback is not allowed
            _GuardedBackend(lambda host, port: False).connect_tcp("rebind.test", site.port, timeout=5)
    finally:
        site.close()


def test_a_name_that_resolves_to_a_private_address_is_refused_before_connecting(resolver):
    answers, _ = resolver
    answers["inside.test"] = ["::ffff:10.0.0.1"]
    with guarded_client() as client, pytest.raises(RefusedAddress, match="inside.test resolves to a non-public "
                                                   "address .an IPv6 address carrying a private"):
        client.get("http://inside.test/")


@pytest.mark.parametrize("address,kind", [("10.1.2.3", "private or special-purpose"), ("127.0.0.5", "loopback"),
                                          ("169.254.169.254", "link-local"),
                                          ("2002:a01:203::1", "an IPv6 address carrying a private")])
def test_a_refused_name_is_named_with_the_kind_of_address_never_the_address(resolver, address, kind):
    """The message goes into connection tests' answers and sync reports, read by whoever can add a source: an
    internal name's address is not theirs to learn."""
    answers, _ = resolver
    answers["inside.test"] = [address]
    with pytest.raises(RefusedAddress) as refused:
        check_public("http://inside.test:8080/")
    assert str(refused.value).startswith(f"refused inside.test:8080: inside.test resolves to a non-public address "
                                         f"({kind}")
    assert address not in str(refused.value) and "10.1.2.3" not in str(refused.value)


@pytest.mark.parametrize("certified_for,ok", [("shop.test", True), ("other.test", False)])
def test_tls_is_verified_against_the_host_name_not_the_address(tmp_path, resolver, monkeypatch, certified_for, ok):
    answers, _ = resolver
    tls, ca_file = certificate(tmp_path, certified_for)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # httpx trusts this CA (trust_env) instead of the public ones
    site = Site("127.0.0.1", tls=tls)
    answers["shop.test"] = ["127.0.0.1"]
    url = f"https://shop.test:{site.port}/"
    try:
        with guarded_client(origin_policy(url, True)) as client:
            if ok:
                assert client.get(url).content == b"site"  # connected to 127.0.0.1, SNI and check on shop.test
            else:
                with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|hostname"):
                    client.get(url)
    finally:
        site.close()


@pytest.fixture
def silent_name_server(monkeypatch):
    """A resolver whose name server never answers for `silent.test`: its lookup blocks until the test ends, then fails
    (so its thread ends). The event says it was asked."""
    real, asked, release = socket.getaddrinfo, threading.Event(), threading.Event()

    def getaddrinfo(host, *args, **kwargs):
        if host != "silent.test":
            return real(host, *args, **kwargs)
        asked.set()
        release.wait(120)  # set when the test ends; the cap only keeps a lookup nothing bounds from hanging the run
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield asked
    release.set()


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "operator-address"])
def test_a_lookup_its_name_server_never_answers_ends_at_the_connect_timeout(silent_name_server, guard):
    """getaddrinfo takes no timeout: a silent name server held a request 5-30 s per lookup (the resolver's retries),
    outside every bound, and a hostile domain's held a worker. An operator's address (guard=False, a search provider)
    was looked up by the socket itself, unbounded alike. The lookup is part of connecting now."""
    from affiliate_matrix.netguard import _BoundedBackend, _GuardedBackend

    backend = _GuardedBackend(never) if guard else _BoundedBackend()
    with pytest.raises(FetchError, match=r"^cannot resolve 'silent.test': its name did not resolve in time "
                                         r"\(no answer within 0 s\)$"):
        backend.connect_tcp("silent.test", 443, timeout=0)
    assert silent_name_server.wait(120)  # it was asked, and the request did not wait for its answer


def test_a_lookup_ends_with_what_is_left_of_the_requests_deadline(silent_name_server, monkeypatch):
    from affiliate_matrix.netguard import _GuardedBackend

    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=ManualClock()))  # what is left is what was set
    with deadline(0.002), pytest.raises(FetchError, match=r"did not resolve in time \(no answer within 0.002 s\)"):
        _GuardedBackend(never).connect_tcp("silent.test", 443, timeout=5.0)  # the deadline, not the 5 s, bounds it


def test_a_page_on_a_name_that_never_resolves_is_that_pages_failure_naming_the_host(silent_name_server):
    fetcher = Fetcher("AffiliateMatrixBot/test", rate_limit_per_s=50, timeout=0.01, sleep=lambda seconds: None)
    with pytest.raises(FetchError) as failed:
        fetcher.get("http://silent.test/affiliates")
    fetcher.close()
    assert str(failed.value).startswith("http://silent.test/affiliates: not fetched: cannot resolve 'silent.test': "
                                        "its name did not resolve in time (no answer within 0.01 s); its robots.txt "
                                        "could not be read")


def test_a_deadline_within_one_that_ends_sooner_ends_with_it(silent_name_server, monkeypatch):
    """A request's own deadline inside a connection test's: the test's time is what is left to all its requests."""
    from affiliate_matrix.netguard import _GuardedBackend

    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=ManualClock()))
    with deadline(0.002), deadline(60), pytest.raises(FetchError, match=r"no answer within 0.002 s\)"):
        _GuardedBackend(never).connect_tcp("silent.test", 443, timeout=5.0)


def test_a_wait_fits_only_when_it_ends_before_the_deadline_not_at_it(monkeypatch):
    """The one rule every retry loop of ours waits by (polite, S3, the Broker, OpenSearch): each wrote its own
    comparison of the wait with the time left. A wait ending exactly at the deadline leaves the request after it no
    time: it is not waited."""
    from affiliate_matrix.netguard import wait_fits

    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=ManualClock()))  # what is left is what was set
    assert wait_fits(3600.0)  # outside any deadline
    with deadline(2.0):
        assert wait_fits(1.5) and not wait_fits(2.0) and not wait_fits(2.5)


@pytest.mark.parametrize("host", ["127.0.0.1", "93.184.215.14", "::1", "2001:db8::1", "::ffff:10.0.0.1"])
def test_an_address_literal_resolves_as_before_without_a_thread(host, monkeypatch):
    """Every lookup started a thread, an address literal's too, though it needs no name server to wait for."""
    started = []
    monkeypatch.setattr(netguard, "threading", SimpleNamespace(Thread=lambda **kwargs: started.append(kwargs)))
    expected = list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)))
    assert netguard.resolve(host, 443, within=0) == expected and not started


def test_a_name_is_still_looked_up_on_a_thread_of_its_own(monkeypatch):
    # no DNS server we control runs here: example.test answers a documentation address
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [(0, 0, 0, "", ("192.0.2.7", 443))])
    threads = []

    class Thread(threading.Thread):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            threads.append(self)

    monkeypatch.setattr(netguard, "threading", SimpleNamespace(Thread=Thread))
    assert netguard.resolve("example.test", 443) == ["192.0.2.7"] and len(threads) == 1



def _raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize("failure, kind", [
    (_raised_from(httpx.ConnectError("handshake"), ssl.SSLCertVerificationError(1, "refused")), "tls"),
    (httpx.ReadError(ssl.SSLError(1, "bad record mac")), "tls"),  # the TLS error carried as an argument
    (httpx.ConnectTimeout("no connection in time"), "connect_timeout"),
    (httpx.ReadTimeout("no byte in time"), "timeout"),
    (httpx.WriteTimeout("no write in time"), "timeout"),
    (httpx.ConnectError("refused"), "unreachable"),
    (httpx.RemoteProtocolError("reset"), "unreachable"),
    (FetchError("cannot resolve 'opensearch': its name did not resolve in time"), "unreachable"),
])
def test_a_request_a_bounded_client_got_no_answer_to_is_told_as_one_kind_for_every_backend(failure, kind):
    """OpenSearch's connection, S3's sender and Vault's adapter each raise their library's exception for it, of the
    kind told here once: a TLS failure (down the chain) before anything, a connect timeout apart only where the library
    tells it apart (else a timeout), any other timeout, and the rest unreachable (a name that did not resolve too)."""
    kinds = {name: type(name, (Exception,), {}) for name in ("tls", "connect_timeout", "timeout", "unreachable")}
    assert isinstance(failure, netguard.UNANSWERED)
    assert netguard.unanswered_as(failure, **kinds) is kinds[kind]
    without = {name: cls for name, cls in kinds.items() if name != "connect_timeout"}
    assert netguard.unanswered_as(failure, **without) is kinds["timeout" if kind == "connect_timeout" else kind]


class _Numbered(BaseHTTPRequestHandler):
    """Answers each request with the number of the connection it came on, counted by the server."""

    protocol_version = "HTTP/1.1"  # keep-alive
    connections = itertools.count(1)

    def setup(self):
        super().setup()
        self.number = next(self.connections)

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = str(self.number).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_forked_child_never_sends_on_a_connection_its_parent_kept_alive():
    """gunicorn's master checks the configured backends (S3, Vault, OpenSearch: each through a bounded client) as it
    imports the function, and the connection the check used stays in the client's pool; then it forks the worker. The
    worker sent its requests on the master's socket, and with WORKERS > 1 every worker on the same one, each reading
    answers to the others' requests. A child now connects anew."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Numbered)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        client = netguard.bounded_client()
        parents = client.get(url).text
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child sends the connection that answered it, and ends without pytest's teardown
            try:
                os.close(read)
                os.write(write, client.get(url).text.encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as answer:
            childs = answer.read()
        os.waitpid(child, 0)
        assert client.get(url).status_code == 200  # the parent's client still works
    finally:
        server.shutdown()
        server.server_close()
    assert childs, "the child's request failed"
    assert childs != parents, "the child sent its request on the connection its parent kept alive"
