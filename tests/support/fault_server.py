"""A local HTTP server that misbehaves on purpose, one path per fault, and logs every request."""

import itertools
import threading
import time
import zlib
from collections import defaultdict
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PAGE = b"<html><head><title>ok</title></head><body><h1>fine</h1></body></html>"
LARGE = 12 * 1024 * 1024  # the size of /large: past the fetcher's 5 MB cap
DENSE = 64 * 1024 * 1024  # the zeros /dense-bomb and /double-bomb stand for


@cache
def bombs() -> dict[str, tuple[str, bytes]]:
    """The dense bombs' Content-Encoding and body, made once (a test makes them before measuring memory): 64 MB of
    zeros gzipped in one member is 64 KB on the wire, about one network read; gzipped twice, a few hundred bytes."""
    once = zlib.compress(bytes(DENSE), 9, wbits=16 + zlib.MAX_WBITS)
    return {"/dense-bomb": ("gzip", once), "/double-bomb": ("gzip, gzip", zlib.compress(once, 9, wbits=16 + zlib.MAX_WBITS))}


class FaultServer:
    def __init__(self, robots: bytes | int = b"User-agent: *\nDisallow: /private/\n", robots_at: str = "/robots.txt"):
        """`robots`: robots.txt's body, or the status it answers; `robots_at`: where it is, /robots.txt redirecting
        there (a path here or a URL elsewhere) when it is not /robots.txt itself."""
        self.robots, self.robots_at = robots, robots_at
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.endless_sent = 0  # bytes of /endless written before its client hung up
        self.endless_done = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if "Content-Length" not in (headers or {}):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = urlsplit(self.path).path
                server.hits[path].append(time.monotonic())
                count = len(server.hits[path])
                html = {"Content-Type": "text/html; charset=utf-8"}
                if path == "/robots.txt" and server.robots_at != path:
                    return self.send(301, b"", {"Location": server.robots_at})
                if path == server.robots_at:
                    if isinstance(server.robots, int):
                        return self.send(server.robots)
                    return self.send(200, server.robots, {"Content-Type": "text/plain"})
                if path in ("/ok", "/private/page") or path.startswith("/page/"):
                    return self.send(200, PAGE, html)
                if path == "/flaky":
                    return self.send(503) if count <= 2 else self.send(200, PAGE, html)
                if path == "/down":
                    return self.send(503)
                if path == "/limited":
                    return self.send(429, b"", {"Retry-After": "1"}) if count == 1 else self.send(200, PAGE, html)
                if path == "/limited-until":  # Retry-After as an HTTP date (already past), then JSON
                    return (self.send(429, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) if count == 1
                            else self.send(200, b'{"ok": true}', {"Content-Type": "application/json"}))
                if path == "/go-away":
                    return self.send(429, b"", {"Retry-After": "3600"})
                if path == "/gone":
                    return self.send(404, b"not here", html)
                if path == "/slow":
                    time.sleep(3)
                    return self.send(200, PAGE, html)
                if path == "/drip":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(200):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.05)
                    return None
                if path in ("/trickle", "/trickle-headers"):  # a byte every 50 ms until the client hangs up
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
                    if path == "/trickle":
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
                        head = b""
                    try:
                        for byte in itertools.chain(head, itertools.repeat(ord(" "))):
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.05)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                    return None
                if path == "/truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"<html>cut")
                    self.close_connection = True
                    return None
                if path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"a" * 65536
                    try:
                        for _ in range(800):  # 50 MB, chunked, no length announced
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return None
                if path == "/endless":  # chunked JSON-looking bytes until the client hangs up (or 256 MB)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b" " * 65536
                    try:
                        while server.endless_sent < 256 * 1024 * 1024:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            server.endless_sent += len(chunk)
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    finally:
                        server.endless_done.set()
                    return None
                if path == "/large":  # LARGE bytes, declared, sent a block at a time (never held whole here)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(LARGE))
                    self.end_headers()
                    block = b"x" * 65536
                    for _ in range(LARGE // len(block)):
                        self.wfile.write(block)
                    return None
                if path == "/huge-declared":
                    return self.send(200, b"", {"Content-Length": str(50 * 1024 * 1024)})
                if path == "/bomb":  # 100 MB of zeros, ~100 KB of gzip, compressed as it is sent
                    self.send_response(200)
                    for name, value in {**html, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    gzipped, megabyte = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS), b"\0" * 1024 * 1024
                    try:
                        for _ in range(100):
                            data = gzipped.compress(megabyte) + gzipped.flush(zlib.Z_SYNC_FLUSH)
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        data = gzipped.flush()
                        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading, as it should
                    return None
                if path in ("/dense-bomb", "/double-bomb"):
                    coding, body = bombs()[path]
                    return self.send(200, body, {**html, "Content-Encoding": coding})
                if path == "/to-metadata":
                    return self.send(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
                if path == "/to-loopback":  # another service on this machine
                    return self.send(302, b"", {"Location": "http://127.0.0.1:9/admin"})
                if path == "/to-localhost":  # this very server, under another name
                    return self.send(302, b"", {"Location": f"http://localhost:{self.server.server_address[1]}/ok"})
                if path == "/to-private":
                    return self.send(302, b"", {"Location": "http://10.0.0.1/admin"})
                if path == "/loop":
                    return self.send(302, b"", {"Location": "/loop"})
                if path == "/":  # a site's home page
                    return self.send(200, PAGE, html)
                if path == "/listing-removed":  # a directory sending a deleted listing home
                    return self.send(302, b"", {"Location": "/?removed=1"})
                if path == "/to-ok":
                    return self.send(301, b"", {"Location": "/ok"})
                if path == "/to-etag":  # a page with validators, behind a redirect
                    return self.send(301, b"", {"Location": "/etag"})
                if path == "/etag":
                    if self.headers.get("If-None-Match") == '"v1"':
                        return self.send(304, b"", {"ETag": '"v1"'})
                    return self.send(200, PAGE, {**html, "ETag": '"v1"'})
                if path.startswith("/charset/"):  # a page naming the charset after /charset/, in its header and meta
                    name = path.removeprefix("/charset/")
                    body = f'<html><head><meta charset="{name}"></head><body>caf\u00e9-99</body></html>'.encode()
                    return self.send(200, body, {"Content-Type": f"text/html; charset={name}"})
                if path == "/latin1":
                    body = '<html><head><meta charset="iso-8859-1"></head><body>Café Crème</body></html>'
                    return self.send(200, body.encode("latin-1"), {"Content-Type": "text/html"})
                return self.send(404)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients hanging up on purpose (size caps, timeouts) are the point of these tests

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
