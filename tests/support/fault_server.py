"""A local HTTP server that misbehaves on purpose, one path per fault, and records every request."""

import gzip
import itertools
import threading
import time
import zlib
from collections import defaultdict
from functools import cache

from tests.support.loopback import Loopback, Reply, Request

PAGE = b"<html><head><title>ok</title></head><body><h1>fine</h1></body></html>"
LARGE = 12 * 1024 * 1024  # the size of /large: past the fetcher's 5 MB cap
DENSE = 64 * 1024 * 1024  # the zeros /dense-bomb and /double-bomb stand for
HTML = {"Content-Type": "text/html; charset=utf-8"}


@cache
def bombs() -> dict[str, tuple[str, bytes]]:
    """The dense bombs' Content-Encoding and body, made once (a test makes them before measuring memory): 64 MB of
    zeros gzipped in one member is 64 KB on the wire, about one network read; gzipped twice, a few hundred bytes."""
    once = zlib.compress(bytes(DENSE), 9, wbits=16 + zlib.MAX_WBITS)
    return {"/dense-bomb": ("gzip", once), "/double-bomb": ("gzip, gzip", zlib.compress(once, 9, wbits=16 + zlib.MAX_WBITS))}


def chunked(chunks):
    """Each chunk in HTTP/1.1 chunked framing, then the last (empty) one."""
    for chunk in chunks:
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


class FaultServer(Loopback):
    def __init__(self, robots: bytes | int = b"User-agent: *\nDisallow: /private/\n", robots_at: str = "/robots.txt",
                 time=None):
        """`robots`: robots.txt's body, or the status it answers; `robots_at`: where it is, /robots.txt redirecting
        there (a path here or a URL elsewhere) when it is not /robots.txt itself. `time`: the test's clock
        (tests.support.clock.FakeTime), which /slow-body moves as it sends, where /drip and /trickle sleep."""
        self.robots, self.robots_at, self.time = robots, robots_at, time
        self.endless_sent = 0  # bytes of /endless written before its client hung up
        self.endless_done = threading.Event()
        super().__init__(self.answer)

    @property
    def hits(self) -> defaultdict[str, list[Request]]:
        """The requests to each path, in the order they came."""
        hits = defaultdict(list)
        for request in self.requests:
            hits[request.path].append(request)
        return hits

    def answer(self, request: Request) -> Reply:
        path = request.path
        count = len(self.hits[path])
        if path == "/robots.txt" and self.robots_at != path:
            return 301, {"Location": self.robots_at}, b""
        if path == self.robots_at:
            if isinstance(self.robots, int):
                return self.robots, {}, b""
            return 200, {"Content-Type": "text/plain"}, self.robots
        if path in ("/ok", "/private/page") or path.startswith("/page/"):
            return 200, HTML, PAGE
        if path == "/flaky":
            return (503, {}, b"") if count <= 2 else (200, HTML, PAGE)
        if path == "/down":
            return 503, {}, b""
        if path == "/limited":
            return (429, {"Retry-After": "1"}, b"") if count == 1 else (200, HTML, PAGE)
        if path == "/limited-until":  # Retry-After as an HTTP date (already past), then JSON
            return ((429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, b"") if count == 1
                    else (200, {"Content-Type": "application/json"}, b'{"ok": true}'))
        if path == "/go-away":
            return 429, {"Retry-After": "3600"}, b""
        if path == "/gone":
            return 404, HTML, b"not here"
        if path == "/slow":
            time.sleep(3)
            return 200, HTML, PAGE
        if path == "/drip":
            return 200, {"Content-Length": "100000"}, self.drip()
        if path == "/trickle":  # a byte every 50 ms until the client hangs up
            return None, {}, self.trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", b"")
        if path == "/trickle-headers":  # the header block itself a byte every 50 ms
            return None, {}, self.trickle(b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ")
        if path == "/slow-body" or path.startswith("/slow-body/"):  # headers at once, then a byte a second on the
            size = int(path.rsplit("/", 1)[1]) if path != "/slow-body" else 1000  # test's clock: N, or past any limit
            return 200, {**HTML, "Content-Length": str(size)}, self.slow_body(size)
        if path == "/truncated":
            return 200, {"Content-Length": "1000"}, [b"<html>cut"]
        if path == "/huge":  # 50 MB, chunked, no length announced
            return 200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}, chunked(
                itertools.repeat(b"a" * 65536, 800))
        if path == "/endless":  # chunked JSON-looking bytes until the client hangs up (or 256 MB)
            return 200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, self.endless()
        if path == "/large":  # LARGE bytes, declared, sent a block at a time (never held whole here)
            block = b"x" * 65536
            return (200, {"Content-Type": "application/octet-stream", "Content-Length": str(LARGE)},
                    itertools.repeat(block, LARGE // len(block)))
        if path == "/huge-declared":
            return 200, {"Content-Length": str(50 * 1024 * 1024)}, b""
        if path == "/bomb":  # 100 MB of zeros, ~100 KB of gzip, compressed as it is sent
            return 200, {**HTML, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}, chunked(self.bomb())
        if path in ("/dense-bomb", "/double-bomb"):
            coding, body = bombs()[path]
            return 200, {**HTML, "Content-Encoding": coding}, body
        if path == "/to-metadata":
            return 302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""
        if path == "/to-loopback":  # another service on this machine
            return 302, {"Location": "http://127.0.0.1:9/admin"}, b""
        if path == "/to-localhost":  # this very server, under another name
            return 302, {"Location": f"http://localhost:{self.port}/ok"}, b""
        if path == "/to-private":
            return 302, {"Location": "http://10.0.0.1/admin"}, b""
        if path == "/loop":
            return 302, {"Location": "/loop"}, b""
        if path == "/to-malformed":  # a Location httpx cannot read (an unclosed IPv6 bracket)
            return 302, {"Location": "http://[::1/x"}, b""
        if path == "/not-gzip":  # says gzip, is not
            return 200, {**HTML, "Content-Encoding": "gzip"}, PAGE
        if path.startswith("/coded/"):  # PAGE under the Content-Encoding after /coded/, left as it is (never asked for)
            return 200, {**HTML, "Content-Encoding": path.removeprefix("/coded/")}, PAGE
        if path.startswith("/transfer-coded/"):  # said to be in the transfer coding after it, then chunked: PAGE gzipped
            coding = path.removeprefix("/transfer-coded/")
            return 200, {**HTML, "Transfer-Encoding": f"{coding}, chunked"}, chunked([gzip.compress(PAGE)])
        if path == "/":  # a site's home page
            return 200, HTML, PAGE
        if path == "/listing-removed":  # a directory sending a deleted listing home
            return 302, {"Location": "/?removed=1"}, b""
        if path == "/to-ok":
            return 301, {"Location": "/ok"}, b""
        if path == "/to-etag":  # a page with validators, behind a redirect
            return 301, {"Location": "/etag"}, b""
        if path == "/etag":
            if request.headers.get("if-none-match") == '"v1"':
                return 304, {"ETag": '"v1"'}, b""
            return 200, {**HTML, "ETag": '"v1"'}, PAGE
        if path.startswith("/charset/"):  # a page naming the charset after /charset/, in its header and meta
            name = path.removeprefix("/charset/")
            body = f'<html><head><meta charset="{name}"></head><body>caf\u00e9-99</body></html>'.encode()
            return 200, {"Content-Type": f"text/html; charset={name}"}, body
        if path == "/latin1":
            body = '<html><head><meta charset="iso-8859-1"></head><body>Café Crème</body></html>'
            return 200, {"Content-Type": "text/html"}, body.encode("latin-1")
        return 404, {}, b""

    @staticmethod
    def drip():
        for _ in range(200):
            yield b"x"
            time.sleep(0.05)

    @staticmethod
    def trickle(at_once: bytes, slowly: bytes):
        yield at_once
        for byte in itertools.chain(slowly, itertools.repeat(ord(" "))):
            yield bytes([byte])
            time.sleep(0.05)

    def slow_body(self, size: int):
        """`size` spaces, each a second after the last on the test's clock (moved before it is sent, so the client
        reads the clock past it), until the client hangs up."""
        for _ in range(size):
            self.time.now += 1.0
            yield b" "

    def endless(self):
        chunk = b" " * 65536
        try:
            while self.endless_sent < 256 * 1024 * 1024:
                yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
                self.endless_sent += len(chunk)
            yield b"0\r\n\r\n"
        finally:
            self.endless_done.set()

    @staticmethod
    def bomb():
        gzipped, megabyte = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS), b"\0" * 1024 * 1024
        for _ in range(100):
            yield gzipped.compress(megabyte) + gzipped.flush(zlib.Z_SYNC_FLUSH)
        yield gzipped.flush()
