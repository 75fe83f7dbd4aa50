"""amx-function: how every function is served (the image's entry point, the local run, the tests, the bench).

It is functions-framework's own command with two changes. functions-framework turns off gunicorn's limit on the
request line (`limit_request_line: 0`, for long GET URLs), so a client could send a request line of any length and
gunicorn would hold it all in memory before any route saw it. Here gunicorn's own maximum (8190 bytes) is back;
a longer line is answered 414 (URI Too Long). What gunicorn refuses before any request exists (a head too long or
malformed, a transfer coding it cannot read: 400, 414, 417, 431, 501) is answered with gunicorn's status in the
functions' JSON error shape, not its HTML page (ReadBoundWorker.handle_error), with a request id minted as the
functions mint one (the client's X-Request-Id where gunicorn read it and it is a sane token), in the answer and its log
line; a malformed chunked body is refused to the function as InvalidInput (_MalformedBodyRefused), which it answers 400
in that shape too. Every answer after which the connection is closed says Connection: close: one whose body the
function left unread past what gunicorn drains before the next request (64 KiB; a chunked one not read to its end,
whose rest is unknown) too (_Request). Options and environment variables are functions-framework's (FUNCTION_TARGET,
FUNCTION_SOURCE, HOST, PORT); every function is an HTTP function (events arrive as HTTP requests: handlers/events.py),
whose entry point (handlers.entry_point) is sent what functions-framework answers itself too.

Its worker bounds each read of a request: Knative's queue-proxy streams a request to the container as it comes,
and gunicorn's threaded worker waits for a request's first bytes without a thread, but then reads its head and body
on one of its few threads (THREADS, the CPUs times 4) without a bound, so a few clients that stopped sending held
them all, until Knative's timeoutSeconds (600 s, 900 s for the batch functions), and the function answered no one.
Now a read that waits AMX_REQUEST_READ_TIMEOUT_S (15 s) for a byte is given up (a bound between reads: a large body
sent slowly still comes): a head is answered 408 here, a body the route was reading 408 by the function
(handlers.serve), and the connection is closed. A head must also come whole within twice that (30 s) from its first
byte, so one trickled a byte at a time within each bound is answered 408 too. A body's reads may wait that bound in all,
and a second more for each AMX_REQUEST_BODY_MIN_RATE (500) bytes they received, as Apache's mod_reqtimeout bounds a body
(body=20,MinRate=500): one trickled within each read's bound is answered 408 by the function too. The function's work
(between its reads of the body too) is not bounded.

Its worker bounds each write of an answer too (_BoundedSends): a client that stopped reading (an export streams the
whole index) held a thread as long as it did not close. A write that waits AMX_RESPONSE_SEND_TIMEOUT_S (60 s) for the
client to take a byte is given up, as nginx's send_timeout bounds one: between two writes, not the whole answer, so a
slow client still gets a large one. The answer is cut there, `response.stalled` logged and the connection closed.

A connection that is not kept alive (the client asked Connection: close, HTTP/1.0, an error) is closed as RFC 9112 §9.6
asks: a FIN after the answer, then what the client still sends is read until it closes, for up to 2 s, so the answer is
not cut by a RST. gthread lingers so on its main thread, which accepts and dispatches every connection: clients that
never closed their end held it 2 s each (six held the next request 12 s). Here each linger has a daemon thread of its
own, at most MAX_LINGERING_CLOSES (32) at once, a thread and a file descriptor each for up to 2 s; past that, a
connection is closed at once. A worker exiting gracefully waits for the lingers running (2 s at most), which its exit
would otherwise cut with a RST.

Its garbage collection follows Python's recipe for a server that forks its workers (the `gc.freeze` docs): off
while the process imports the function, frozen right before gunicorn forks the worker, back on for the requests.
What an import makes lives as long as the process, so a collection then finds next to nothing to free, and the
passes it runs are about a sixth of a start; frozen, those objects are not written by the worker's passes either,
which would copy the pages it shares with the master.
"""

import gc

gc.disable()  # before the imports below: functions-framework, Flask and gunicorn are most of what a start imports

import errno  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from functools import partial  # noqa: E402
from time import monotonic  # noqa: E402

import click  # noqa: E402
from functions_framework import create_app  # noqa: E402
from functions_framework._http import create_server  # noqa: E402  (the server functions-framework's command starts)
from gunicorn import util  # noqa: E402
from gunicorn.http.body import ChunkedReader, LengthReader  # noqa: E402
from gunicorn.http.errors import (  # noqa: E402
    ExpectationFailed, InvalidHeader, InvalidHeaderName, InvalidHTTPVersion, InvalidRequestLine, InvalidRequestMethod,
    InvalidSchemeHeaders, LimitRequestHeaders, LimitRequestLine, NoMoreData, ObsoleteFolding, ParseException,
    UnsupportedTransferCoding)
from gunicorn.http.message import Request  # noqa: E402
from gunicorn.http.parser import _DRAIN_MAX_BYTES, RequestParser  # noqa: E402  (the most gunicorn drains of a body)
from gunicorn.workers.gthread import ThreadWorker  # noqa: E402  (functions-framework's worker: it sets THREADS)

from affiliate_matrix.config import load_settings  # noqa: E402
from affiliate_matrix.errors import InvalidInput, RequestStalled, error_answer  # noqa: E402
from affiliate_matrix.observability import bind_request, get_logger  # noqa: E402

# gunicorn's largest limit (its default is 4094); header count and size keep gunicorn's defaults (100 fields of at most
# 8190 bytes, larger answered 431), which functions-framework leaves alone
MAX_REQUEST_LINE = 8190
# a thread and a file descriptor each, for up to 2 s (util.close_graceful's linger): legitimate clients close at once
MAX_LINGERING_CLOSES = 32


class _BoundedReads:
    """A connection's socket as gunicorn's parser reads the request through it (the head, then the body as the function
    reads it): a read that waits `seconds` for a byte raises RequestStalled, and so does every read after it; so does
    one past the head's deadline, twice `seconds` from its first read (while `reading_head`, which the worker sets), so
    a head trickled a byte at a time is given up too. A body's reads may wait `seconds` in all, and 1/`min_rate` s
    more for each byte they received (Apache mod_reqtimeout's body MinRate), so a body trickled a byte within each
    read's bound is given up too; only their waits count, not the function's work between them. Anything else is the
    socket's own (the answer is written through _BoundedSends), and gunicorn's own drain of a body the
    function left unread sets a timeout of its own on it (gettimeout), kept."""

    def __init__(self, sock: socket.socket, seconds: float, min_rate: float):
        self.sock, self.seconds, self.min_rate = sock, seconds, min_rate
        self.stalled: RequestStalled | None = None
        self.reading_head, self.head_deadline = False, None
        self.body_wait = seconds  # what the body's reads may still wait in all (set again for each request)

    def recv(self, size: int) -> bytes:
        if self.stalled:  # the client sends nothing: nothing more of its request is waited for
            raise self.stalled
        if self.sock.gettimeout() is not None:  # gunicorn's drain, bounded by gunicorn
            return self.sock.recv(size)
        wait, whole_head, too_slow = self.seconds, False, False
        if self.reading_head:
            if self.head_deadline is None:  # its first read: the worker reads a connection once it is readable
                self.head_deadline = monotonic() + 2 * self.seconds
            if (left := self.head_deadline - monotonic()) < wait:
                wait, whole_head = left, True
        else:
            if self.body_wait < wait:
                wait, too_slow = self.body_wait, True
            started = monotonic()
        try:
            if wait <= 0:
                raise TimeoutError
            self.sock.settimeout(wait)
            received = self.sock.recv(size)
        except TimeoutError:
            self.stalled = RequestStalled(2 * self.seconds if whole_head else self.seconds, whole_head,
                                          self.min_rate if too_slow else None)
            raise self.stalled from None
        finally:
            self.sock.settimeout(None)  # blocking, as gunicorn's worker thread uses it
        if not self.reading_head:
            self.body_wait += len(received) / self.min_rate - (monotonic() - started)
        return received

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


class _BoundedSends:
    """A connection's socket as the answer is written to it (gunicorn's util.write, its sendall; a file's sendfile):
    a write that waits `seconds` for the client to take a byte gives up, marks the connection `stalled` and raises
    BrokenPipeError, which gthread takes for a client gone (the answer is cut; logged here, once). Each write waits
    anew, so only a client that takes nothing for `seconds` is given up. Anything else is the socket's own."""

    def __init__(self, sock: socket.socket, seconds: float):
        self.sock, self.seconds, self.stalled = sock, seconds, False

    def sendall(self, data) -> None:
        left = memoryview(data)
        with self._bounded():
            while left:
                left = left[self.sock.send(left):]

    def sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
        with self._bounded():  # the socket's own loop waits up to its timeout for each part (selectors)
            return self.sock.sendfile(file, offset, count)

    @contextmanager
    def _bounded(self):
        self.sock.settimeout(self.seconds)
        try:
            yield
        except TimeoutError:
            self.stalled = True
            get_logger().warning("response.stalled", seconds=self.seconds)
            raise BrokenPipeError(errno.EPIPE, f"the client took nothing for {self.seconds:g} s") from None
        finally:
            self.sock.settimeout(None)  # blocking, as gunicorn's worker thread uses it

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


class _LingeringCloses:
    """Closes a connection that is not kept alive as RFC 9112 §9.6 asks (gunicorn's util.close_graceful: a FIN, then
    what the client still sends is read, for up to 2 s, until it closes, so its last answer is not cut by a RST), each
    on a daemon thread of its own: gthread does it on its main thread, the accept loop and every connection's dispatch,
    which a client that never closed its end held for 2 s a connection. At most `limit` linger at once; past that, a
    connection is closed at once (a client that sent more than was read may then see its answer cut by a RST)."""

    def __init__(self, limit: int):
        self.limit, self.slots = limit, threading.BoundedSemaphore(limit)

    def close(self, conn, graceful: bool = False) -> None:
        """TConn.close, as gthread's main thread calls it (finish_request, its timeouts): never waits."""
        if graceful and self.slots.acquire(blocking=False):
            try:
                threading.Thread(target=self._linger, args=(conn.sock,), name="amx-linger", daemon=True).start()
                return
            except RuntimeError:  # no thread to be had: closed at once (never raised into gthread's loop)
                self.slots.release()
        util.close(conn.sock)

    def wait(self) -> None:
        """Returns once every linger running has ended (each within close_graceful's 2 s, side by side): the worker
        exiting would cut them, each client's answer with a RST. Every slot is taken then: a later close is at once."""
        for _ in range(self.limit):
            self.slots.acquire()

    def _linger(self, sock: socket.socket) -> None:
        try:
            util.close_graceful(sock)
        finally:
            self.slots.release()


class _MalformedBodyRefused:
    """A request's body as the function reads it (gunicorn's Body, its wsgi.input): gunicorn's error for a body that is
    not valid HTTP/1.1 (a malformed chunk: InvalidChunkSize, ChunkMissingTerminator, InvalidChunkExtension) is raised
    as InvalidInput, which the function answers 400 in its JSON shape (handlers.serve): it was a 500, Flask's HTML
    page, with a traceback logged. gunicorn closes the connection after a read that raised (Body.failed: where the next
    request starts is unknown), a stalled one's too (ReadBoundWorker.handle), but its answer said Connection:
    keep-alive: the request is marked to close (gunicorn's must_close), so the answer says Connection: close. A body
    that ends (the client closed its end) before its Content-Length is InvalidInput too: gunicorn handed what came as
    the whole body, so a JSON document ahead of the cut was worked on, and a cut form read as a shorter one. So is a
    chunked one that ends before its last chunk: gunicorn's NoMoreData was a 500, an unexpected fault."""

    def __init__(self, body, req):
        self.body, self.req = body, req
        self.declared = body.reader.length if isinstance(body.reader, LengthReader) else None
        self.received = 0

    def read(self, size=None):
        data = self._refused(self.body.read, size)
        at_end = size is None or not 0 <= size <= len(data)  # a read returns less than it asks for at the end only
        if at_end and self.declared is not None and self.received < self.declared:
            self.req.must_close = True
            raise InvalidInput(f"the request's body ended after {self.received} of the {self.declared} bytes its "
                               "Content-Length declares: send it whole")
        return data

    def readline(self, size=None):
        return self._refused(self.body.readline, size)

    def readlines(self, size=None):
        return self._refused(self.body.readlines, size)

    def __iter__(self):
        return self

    def __next__(self):
        return self._refused(self.body.__next__)

    def __getattr__(self, name: str):
        return getattr(self.body, name)

    def _refused(self, read, *args):
        try:
            data = read(*args)
            self.received += len(data) if isinstance(data, bytes) else sum(map(len, data))  # readlines: a list
            return data
        except Exception as exc:
            self.req.must_close = True
            if isinstance(exc, ParseException):
                raise InvalidInput(f"the request's body is malformed ({_quoted(exc)}): send it again, well-formed, "
                                   "or with Content-Length") from None
            if isinstance(exc, NoMoreData):  # a chunked body's client closed its end: no error of the function's
                raise InvalidInput("the request's body ended before its last chunk: send it whole") from None
            raise


class _Request(Request):
    """gunicorn's request, which closes its connection when more of its body is left unread than gunicorn drains before
    the next request (_DRAIN_MAX_BYTES; gthread closed the connection after an answer that said Connection:
    keep-alive, and a client trusting it sent its next request on a closed socket), or a rest it cannot know without
    reading it (a chunked body not read to its end). Asked when the answer starts (its Connection header) and again
    after it; once it closes, it stays closed (must_close), whatever is read after the answer started."""

    def should_close(self) -> bool:
        if not self.must_close and _unread_past_drain(self.body):
            self.must_close = True
        return super().should_close()

    def set_body_reader(self):
        """gunicorn takes a body in a compressing transfer coding (Transfer-Encoding: gzip, chunked) and hands it over
        still coded, as if it were the body: the function named a gzip-coded JSON body not UTF-8. Refused as any coding
        it cannot read (UnsupportedTransferCoding, answered 501)."""
        for name, value in self.headers:
            codings = {coding.strip(" \t").lower() for coding in value.split(",")}
            if name == "TRANSFER-ENCODING" and not codings.isdisjoint(("gzip", "deflate", "compress")):
                raise UnsupportedTransferCoding(value)
        super().set_body_reader()


class _RequestParser(RequestParser):
    mesg_class = _Request


def _unread_past_drain(body) -> bool:
    """Whether gunicorn's drain (Parser.finish_body) would give up on what is left of `body` (gunicorn's Body, or
    _MalformedBodyRefused around it): it stops once it read _DRAIN_MAX_BYTES, at the end or not."""
    reader = body.reader
    if isinstance(reader, LengthReader):  # Content-Length: what it has not taken from the socket yet
        left = reader.length
    elif isinstance(reader, ChunkedReader) and reader.parser is None:  # read to its last chunk
        left = reader.buf.tell()
    else:  # a chunked body's rest is unknown: only reading it would tell
        return True
    return body.buf.tell() + left >= _DRAIN_MAX_BYTES


class ReadBoundWorker(ThreadWorker):
    """gunicorn's threaded worker, each read of a request bounded (_BoundedReads), a connection's closing lingering
    off its main thread (_LingeringCloses), the lingers running waited for at a graceful exit, and a head that stopped
    coming answered 408, one gunicorn refuses with gunicorn's status (_head_error), in the functions' JSON error shape
    with a request id minted for it as the functions mint one (bind_request): the answer and its log line name the
    same id, which a client can quote to an operator."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        settings = load_settings()  # checked already: the function's start read them
        self.read_timeout, self.body_min_rate = settings.request_read_timeout_s, settings.request_body_min_rate
        self.send_timeout = settings.response_send_timeout_s
        self.closes = _LingeringCloses(MAX_LINGERING_CLOSES)

    def handle(self, conn):
        if conn.parser is None:  # a new connection: TConn.init's parser for plain HTTP/1.x (no TLS nor h2c is set up),
            # whose requests close the connection when their body is left unread past gunicorn's drain (_Request)
            conn.parser = _RequestParser(self.cfg, _BoundedReads(conn.sock, self.read_timeout, self.body_min_rate),
                                         conn.client)
            conn.close = partial(self.closes.close, conn)  # what gthread's main thread calls to close it
            conn.sends = _BoundedSends(conn.sock, self.send_timeout)  # the answers' socket (handle_request)
        reads = conn.parser.unreader.sock
        # a request's head, if one comes (handle_request: it did), then its body
        reads.reading_head, reads.head_deadline, reads.body_wait = True, None, self.read_timeout
        keepalive = super().handle(conn)
        if not reads.stalled and not conn.sends.stalled:
            return keepalive
        # closed now: its closing waits up to 2 s for the client to close first (_LingeringCloses), which a stalled
        # client does not do; with both ways shut, that wait ends at once and frees its place
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return False

    def run(self):
        super().run()  # returns at a graceful exit (SIGTERM, max_requests), its requests answered or past their grace
        self.closes.wait()

    def handle_request(self, req, conn):
        conn.parser.unreader.sock.reading_head = False  # its head came whole: its body's reads have their own bound
        req.body = _MalformedBodyRefused(req.body, req)  # wsgi.input, as the function reads it
        sock, conn.sock = conn.sock, conn.sends  # what gthread writes the answer to (wsgi.create)
        try:
            return super().handle_request(req, conn)
        finally:
            conn.sock = sock  # the socket itself, for gthread's poller

    def handle_error(self, req, client, addr, exc):
        if req is not None and isinstance(exc, RequestStalled):  # a body's: the function answered it (serve)
            return
        answer = _head_error(exc, self.cfg) if req is None else None
        if answer is None:  # gunicorn's own fault (500), or an error once a request exists: gunicorn's answer
            return super().handle_error(req, client, addr, exc)
        status, reason, code, message = answer
        request_id = bind_request(_client_request_id(exc))  # no earlier request's context on this thread's lines
        if isinstance(exc, RequestStalled):
            get_logger().warning("request.stalled", read="head", seconds=exc.seconds)
        else:  # gunicorn's line quoted the client's head (a header's value too): its error's name only, here
            get_logger().warning("request.invalid", status=status, error=type(exc).__name__, client=(addr or ("",))[0])
        try:
            util.write_nonblock(client, error_answer(status, reason, code, message, request_id))
        except OSError:  # the client is gone, as gunicorn's write_error does
            pass


# gunicorn's errors for a malformed head, answered 400 (Worker.handle_error); those of a chunked body come once a
# request exists, as the function reads it (no TLS, PROXY protocol nor h2c is set up: their errors cannot come)
_MALFORMED_HEAD = (InvalidRequestLine, InvalidRequestMethod, InvalidHTTPVersion, InvalidHeader, InvalidHeaderName,
                   ObsoleteFolding, InvalidSchemeHeaders)


def _head_error(exc: Exception, cfg) -> tuple[int, str, str, str] | None:
    """How a request whose head could not be read is answered: gunicorn's status (Worker.handle_error, an HTML page)
    as (status, reason, code, message) for the functions' JSON error shape, with the functions' code where they have
    one (handlers.serve). None for what stays gunicorn's (its own faults: 500)."""
    if isinstance(exc, RequestStalled):
        return 408, "Request Timeout", "request_timeout", str(exc)
    if isinstance(exc, LimitRequestLine):
        return (414, "URI Too Long", "uri_too_long",
                f"the request line is longer than {cfg.limit_request_line} bytes: send a shorter URL")
    if isinstance(exc, LimitRequestHeaders):
        return (431, "Request Header Fields Too Large", "header_fields_too_large",
                f"the request has more than {cfg.limit_request_fields} header fields, or one longer than "
                f"{cfg.limit_request_field_size} bytes: send fewer or shorter ones")
    if isinstance(exc, UnsupportedTransferCoding):
        return (501, "Not Implemented", "not_implemented",
                f"{_quoted(exc)}: send the body with Content-Length or Transfer-Encoding: chunked")
    if isinstance(exc, ExpectationFailed):
        return 417, "Expectation Failed", "expectation_failed", f"{_quoted(exc)}: send Expect: 100-continue or none"
    if isinstance(exc, _MALFORMED_HEAD):
        return 400, "Bad Request", "invalid_request", f"{_quoted(exc)}: send a well-formed HTTP/1.1 request"
    return None


def _client_request_id(exc: Exception) -> str | None:
    """The client's X-Request-Id, where gunicorn had read the head's fields before refusing it (a duplicate
    Content-Length or a bad Transfer-Encoding: InvalidHeader's req); bind_request keeps it only if it is a sane token."""
    for name, value in getattr(getattr(exc, "req", None), "headers", None) or ():
        if name == "X-REQUEST-ID":
            return value
    return None


def _quoted(exc: Exception, limit: int = 100) -> str:
    """gunicorn's text for its error (the client's bytes in it escaped, repr), no more than `limit` characters of it."""
    text = str(exc)
    return text if len(text) <= limit else text[:limit - 1] + "…"


@click.command()
@click.option("--target", envvar="FUNCTION_TARGET", required=True)
@click.option("--source", envvar="FUNCTION_SOURCE", type=click.Path(), default=None)
@click.option("--host", envvar="HOST", default="0.0.0.0")
@click.option("--port", envvar="PORT", type=int, default=8080)
def main(target: str, source: str | None, host: str, port: int) -> None:
    app = create_app(target, source, "http")  # imports the function: its settings, ports and checks
    gc.freeze()
    gc.enable()
    # no control socket (gunicorn 25+, ~/.gunicorn/gunicorn.ctl, one path for every gunicorn of the user): Knative or
    # `amx up` runs the functions, and each function of `amx up` took the path from the one before
    create_server(app, False, limit_request_line=MAX_REQUEST_LINE, worker_class=ReadBoundWorker,
                  control_socket_disable=True).run(host, port)

