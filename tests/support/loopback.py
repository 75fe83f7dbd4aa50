"""A real HTTP server on loopback for tests: it records every request, then answers it with the test's own
`answer(request)`. Started when made; `close()` (or leaving a `with` block) stops it."""

import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes


# (status, headers, body). Bytes are sent with their Content-Length unless the headers frame the body themselves;
# an iterable is streamed a chunk at a time as the headers frame it, and the connection closed after it. A status
# of None sends no status line or headers: the chunks are the whole response, as a broken server writes it.
Reply = tuple[int | None, dict[str, str], bytes | Iterable[bytes]]


class Loopback:
    def __init__(self, answer: Callable[[Request], Reply], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None):
        """`host`: the loopback address it listens on (another one, 127.0.0.2 or ::1, is another site). `tls`: the
        server's context (tests/support/tls.py) to answer https:// instead."""
        self.requests: list[Request] = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self):
                url = urlsplit(self.path)
                request = Request(self.command, url.path, parse_qs(url.query),
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                loopback.requests.append(request)
                status, headers, body = answer(request)
                if status is not None:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if isinstance(body, bytes) and not {"Content-Length", "Transfer-Encoding"} & headers.keys():
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                if isinstance(body, bytes):
                    self.wfile.write(body)
                    return
                self.close_connection = True
                try:
                    for chunk in body:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                finally:
                    if hasattr(body, "close"):
                        body.close()  # a generator's own `finally` runs now, not when it is collected

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = reply  # a HEAD's answer: the test gives it no body

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is many tests' point
                    super().handle_error(request, client_address)

        self.server = Server((host, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextmanager
def stalled(status: int = 500) -> Iterator[tuple[Loopback, threading.Event]]:
    """A server that takes each request and holds its answer (`status`) until the block ends, and the event set when
    a request came: a client that outlived its own bound would be answered."""
    asked, release = threading.Event(), threading.Event()

    def stall(request):
        asked.set()
        release.wait(120)  # set when the block ends; the cap only keeps a client nothing bounds from hanging the run
        return status, {}, b""

    with Loopback(stall) as server:
        try:
            yield server, asked
        finally:
            release.set()
