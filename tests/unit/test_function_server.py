"""amx-function's worker (server.py, ReadBoundWorker), driven as gthread drives it, on a socket pair: a connection it
does not keep alive is closed off its main thread (gthread's graceful close waits up to 2 s for the client to close its
end, on the thread that accepts and dispatches every connection) and waited for at the worker's exit, a request's head
must come whole in time, and its body at a minimum rate."""

import json
import socket
import threading
from concurrent.futures import Future

import pytest
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs
from gunicorn import util
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import TConn, ThreadWorker

from affiliate_matrix import server
from affiliate_matrix.errors import InvalidInput, RequestStalled
from affiliate_matrix.events import MAX_EVENT_BYTES
from affiliate_matrix.handlers.openapi import Error
from affiliate_matrix.observability import bind_request

GUARD = 30  # a guard against hanging, not a bound


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def worker_of(app) -> server.ReadBoundWorker:
    cfg = Config()
    worker = server.ReadBoundWorker(0, 0, [], None, 30, cfg, Logger(cfg))
    worker.wsgi = app
    return worker


def connection(served: socket.socket) -> TConn:
    return TConn(Config(), served, ("127.0.0.1", 1), ("127.0.0.1", 2))


def refused(answer: bytes, logs: list[dict]) -> dict:
    """The error of a refusal the worker answered itself, checked as the OpenAPI declares every error answer (Error:
    its request id a string), that id in its X-Request-Id and its one log line, so an operator quoted it finds it."""
    head, _, body = answer.partition(b"\r\n\r\n")
    for field in (b"Content-Type: application/json", b"X-Content-Type-Options: nosniff", b"Connection: close"):
        assert b"\r\n" + field + b"\r\n" in head + b"\r\n", answer
    error = Error.model_validate_json(body, strict=True).error
    assert b"\r\nX-Request-Id: " + error.request_id.encode() + b"\r\n" in head, answer
    assert [log["request_id"] for log in logs] == [error.request_id], logs
    return json.loads(body)["error"]


@pytest.fixture
def lingers(monkeypatch):
    """util.close_graceful recording the thread each socket lingers on (and closing it at once)."""
    threads, done = {}, threading.Event()

    def close_graceful(sock, **_):
        threads[sock] = threading.current_thread()
        sock.close()
        done.set()

    monkeypatch.setattr(util, "close_graceful", close_graceful)
    return threads, done


def test_the_main_thread_never_lingers_on_a_closed_connection(lingers):
    """A request with Connection: close, served by the worker (its thread pool's part: handle, then gthread's
    finish_request on the main thread): the linger runs on a thread of its own. Before, finish_request ran
    util.close_graceful itself, on the main thread."""
    threads, done = lingers
    worker = worker_of(hello)
    served, client = socket.socketpair()
    with client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        conn = connection(served)
        worker.nr_conns = 1  # as accept counted it
        result = Future()
        result.set_result(worker.handle(conn))
        worker.finish_request(conn, result)  # on this, the main thread, as gthread calls it
        assert done.wait(GUARD)
        assert threads[served] is not threading.current_thread()
        assert worker.nr_conns == 0
        assert client.recv(65536).startswith(b"HTTP/1.1 200 OK")


def test_past_the_bound_a_connection_is_closed_at_once(monkeypatch):
    """A lingering close holds a thread and a file descriptor: past the bound, a connection is closed at once, not
    lingered on (nor waited for)."""
    release, started = threading.Event(), threading.Event()
    lingering = []

    def close_graceful(sock, **_):  # a client that does not close its end, until released
        lingering.append(sock)
        started.set()
        release.wait(GUARD)
        sock.close()

    monkeypatch.setattr(util, "close_graceful", close_graceful)
    closes = server._LingeringCloses(1)
    pairs = [socket.socketpair() for _ in range(2)]
    try:
        first, second = (connection(served) for served, _ in pairs)
        closes.close(first, graceful=True)
        assert started.wait(GUARD)
        closes.close(second, graceful=True)
        assert second.sock.fileno() == -1 and pairs[1][1].recv(1) == b""  # closed, the client sees its end
        assert lingering == [first.sock] and first.sock.fileno() != -1
    finally:
        release.set()
        for _, client in pairs:
            client.close()


def test_a_head_trickled_past_its_deadline_is_answered_408(monkeypatch):
    """A client sending its head a byte at a time, each within a read's bound (AMX_REQUEST_READ_TIMEOUT_S, 15 s here),
    held its thread until Knative's timeout: the head must come whole within twice the bound from its first read. Here
    each look at the clock finds 16 s gone, so the second read of the head is past its deadline (30 s)."""
    clock = iter(range(0, 10**6, 16))
    monkeypatch.setattr(server, "monotonic", lambda: next(clock))
    served, client = socket.socketpair()
    with client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
        with capture_logs(processors=[merge_contextvars]) as logs:
            assert worker_of(hello).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer
    error = refused(answer, logs)  # JSON, as every other error: gunicorn's was HTML; its request id was null
    assert [log["event"] for log in logs] == ["request.stalled"]
    assert error["code"] == "request_timeout" and error["message"] == (
        "the request's head did not come whole within 30 s: send it again"), error


ANSWER_PARTS, PART = 64, b"x" * 65536  # 4 MiB: far more than a socket pair's buffers hold


def streamed(environ, start_response):
    """An answer streamed in parts, as an export is, its request's context bound as a function binds it (serve)."""
    bind_request("export-7")
    start_response("200 OK", [("Content-Type", "text/csv")])
    return (PART for _ in range(ANSWER_PARTS))


def received(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_client_that_stops_reading_its_answer_is_given_up(monkeypatch):
    """A client that reads nothing of a large streamed answer (an export) held the worker's thread for as long as it
    kept its connection: the write waited for it, unbounded. Now a write that waits AMX_RESPONSE_SEND_TIMEOUT_S (0.2 s
    here) for the client to take a byte gives up: the answer is cut, the connection closed (the client reads what
    was sent, then its end), and response.stalled logged once, with the request's id."""
    monkeypatch.setenv("AMX_RESPONSE_SEND_TIMEOUT_S", "0.2")
    served, client = socket.socketpair()
    handled = Future()
    with client:
        client.sendall(b"GET /programs/export HTTP/1.1\r\nHost: a\r\n\r\n")
        with capture_logs(processors=[merge_contextvars]) as logs:
            thread = threading.Thread(target=lambda: handled.set_result(worker_of(streamed).handle(connection(served))),
                                      daemon=True)
            thread.start()
            assert handled.result(GUARD) is False  # before, it waited for the client as long as the client waited
        answer = received(client)
    assert answer.startswith(b"HTTP/1.1 200 OK") and len(answer) < ANSWER_PARTS * len(PART), len(answer)
    assert [(log["event"], log["seconds"], log["request_id"]) for log in logs] == [
        ("response.stalled", 0.2, "export-7")], logs


def test_a_client_reading_its_answer_gets_all_of_it(monkeypatch):
    """The bound is on each write's wait, not the answer: a client that reads as the answer comes gets it whole, and
    the connection is kept alive."""
    monkeypatch.setenv("AMX_RESPONSE_SEND_TIMEOUT_S", "0.2")
    served, client = socket.socketpair()
    with client:
        client.sendall(b"GET /programs/export HTTP/1.1\r\nHost: a\r\n\r\n")
        handled = Future()
        thread = threading.Thread(target=lambda: handled.set_result(worker_of(streamed).handle(connection(served))),
                                  daemon=True)
        thread.start()
        answer = b""
        while not answer.endswith(b"\r\n0\r\n\r\n"):  # chunked: its last chunk
            answer += client.recv(1 << 20)
        assert handled.result(GUARD) is not False
    body = answer.partition(b"\r\n\r\n")[2]
    assert body.count(b"x") == ANSWER_PARTS * len(PART)


SECRET = "Bearer s3cr3t-" + "t" * 200  # a token in a header gunicorn refuses: never logged, never echoed whole


@pytest.mark.parametrize("head, status, code", [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", b"414 URI Too Long", "uri_too_long"),  # Config(): 4094 bytes
    (b"GET / HTTP/1.1\r\n" + b"X-A: a\r\n" * 101 + b"\r\n", b"431 Request Header Fields Too Large",
     "header_fields_too_large"),
    (b"GET / HTTP/1.1\r\nAuthorization " + SECRET.encode() + b"\r\n\r\n", b"400 Bad Request", "invalid_request"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br\r\n\r\n", b"501 Not Implemented", "not_implemented"),
    (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", b"417 Expectation Failed", "expectation_failed"),
    # gunicorn takes gzip, deflate and compress and hands the body over still coded, as if it were the body
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate, chunked\r\n\r\n", b"501 Not Implemented",
     "not_implemented"),
], ids=["414", "431", "400", "501", "417", "501-deflate"])
def test_a_head_gunicorn_refuses_is_answered_in_the_json_error_shape(head, status, code):
    """gunicorn answered a head it refuses (too long, too many fields, malformed, an unknown transfer coding) with its
    HTML page; now with its status in the functions' JSON error shape and a request id minted for it (it was null, which
    the OpenAPI's string does not allow, and its log line named none), what the client sent quoted no more than briefly,
    and logged without it."""
    served, client = socket.socketpair()
    with client, capture_logs(processors=[merge_contextvars]) as logs:
        client.sendall(head)
        assert worker_of(hello).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 " + status), answer
    error = refused(answer, logs)
    assert error["code"] == code and ": send " in error["message"], error
    assert len(error["message"]) < 200 and SECRET not in error["message"], error
    assert [(log["event"], log["status"]) for log in logs] == [("request.invalid", int(status[:3]))]
    assert "s3cr3t" not in str(logs)


@pytest.mark.parametrize("sent, kept", [("req-42.a:b", True), ("<a>" + "x" * 300, False)], ids=["sane", "hostile"])
def test_a_refused_heads_request_id_is_the_clients_as_the_functions_take_it(sent, kept):
    """A head gunicorn read whole before refusing it (here a Content-Length given twice) names its request by the
    client's X-Request-Id as the functions do (observability.bind_request): a sane token is kept, anything else
    replaced by a minted id, never logged."""
    served, client = socket.socketpair()
    with client, capture_logs(processors=[merge_contextvars]) as logs:
        client.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nX-Request-Id: " + sent.encode() + b"\r\nContent-Length: 1\r\n"
                       b"Content-Length: 2\r\n\r\nab")
        assert worker_of(hello).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request"), answer
    error = refused(answer, logs)
    assert (error["request_id"] == sent) is kept and "x" * 100 not in str(logs), (error, logs)


def refusals_reading(sent: bytes, size: int | None = None, *, closed: bool = True) -> tuple[list[str], bool]:
    """What a function reading its body (`read(size)`) was refused (InvalidInput) for a request sent as `sent`, the
    client closing its end after it where `closed`, and whether the worker kept the connection."""
    refused = []

    def read_body(environ, start_response):
        try:
            environ["wsgi.input"].read(size)
        except InvalidInput as exc:
            refused.append(str(exc))
        start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]

    served, client = socket.socketpair()
    with client:
        client.sendall(sent)
        if closed:
            client.shutdown(socket.SHUT_WR)
        kept = worker_of(read_body).handle(connection(served))
    return refused, kept


@pytest.mark.parametrize("chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"], ids=["size", "terminator"])
def test_a_malformed_chunked_body_is_invalid_input_to_the_function(chunks):
    """gunicorn's error for a malformed chunk reached the function as itself, an error no branch of handlers.serve
    answers: a 500, Flask's HTML page, and a traceback. Now it is InvalidInput (serve's 400 in the JSON shape), and the
    connection is closed after the answer: a request sent after that body is not served."""
    refused, kept = refusals_reading(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
                                     + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", closed=False)
    assert kept is False
    assert len(refused) == 1 and refused[0].startswith("the request's body is malformed (Invalid chunk"), refused


@pytest.mark.parametrize("size", [None, MAX_EVENT_BYTES + 1], ids=["whole", "bounded"])
def test_a_body_ending_before_its_content_length_is_invalid_input_to_the_function(size):
    """A client that declared a longer body than it sent and then closed its end (a 2 GB Content-Length, a connection
    cut mid-body): gunicorn handed the function the bytes that came as the whole body, so a complete JSON document ahead
    of the cut was worked on and a cut CSV or form read as a shorter one. Now it is InvalidInput naming what came."""
    refused, _ = refusals_reading(post(2 * 1024 ** 3) + b"{}", size)
    assert refused == ["the request's body ended after 2 of the 2147483648 bytes its Content-Length declares: send it "
                       "whole"], refused


@pytest.mark.parametrize("chunks", [b"5\r\nhello\r\n", b"ffffffff\r\n{}"], ids=["between", "within"])
def test_a_chunked_body_ending_before_its_last_chunk_is_invalid_input_to_the_function(chunks):
    """A chunked body whose client closed its end before the last chunk: gunicorn's NoMoreData reached the function as
    itself, a fault no branch of handlers.serve answers (a 500, "an unexpected fault"). Now it is InvalidInput."""
    refused, _ = refusals_reading(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    assert refused == ["the request's body ended before its last chunk: send it whole"], refused


def test_the_heads_deadline_does_not_bound_its_body(monkeypatch):
    """A body is read long after its head's deadline (a large one comes slowly): only each of its reads is bounded."""
    now = [0.0]
    monkeypatch.setattr(server, "monotonic", lambda: now[0])
    served, client = socket.socketpair()

    def echo_later(environ, start_response):
        now[0] += 1000
        client.sendall(b"hello")  # the body comes only now
        body = environ["wsgi.input"].read(5)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    with client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
        assert worker_of(echo_later).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\nhello"), answer


class Trickle:
    """The server's clock (server.monotonic) as a client sending its body sees it: each look at it finds `step` s gone,
    and `chunk` more bytes of the body sent meanwhile (the worker looks before and after each read of a body)."""

    def __init__(self, client: socket.socket, body: bytes, chunk: int, step: float):
        self.client, self.body, self.chunk, self.step, self.now = client, body, chunk, step, 0.0

    def __call__(self) -> float:
        part, self.body = self.body[:self.chunk], self.body[self.chunk:]
        self.client.sendall(part)
        self.now += self.step
        return self.now


def reads_the_body(environ, start_response):
    """Its body's length; its 408 as the function answers a RequestStalled, its 400 an InvalidInput (handlers.serve)."""
    try:
        status, answer = "200 OK", b"%d" % len(environ["wsgi.input"].read())
    except RequestStalled as exc:
        status, answer = "408 Request Timeout", str(exc).encode()
    except InvalidInput as exc:
        status, answer = "400 Bad Request", str(exc).encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]


def post(length: int) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % length


def test_a_body_trickled_within_each_reads_bound_is_answered_408(monkeypatch):
    """A client sending its body a byte at a time, each within a read's bound (15 s), held its thread until Knative's
    timeout: once the body's reads have waited the bound, it must average AMX_REQUEST_BODY_MIN_RATE (500 bytes a
    second). Here each read waits 7 s for its 2 bytes; before, the client was waited for until its body came whole."""
    served, client = socket.socketpair()
    with client:
        client.sendall(post(100))
        monkeypatch.setattr(server, "monotonic", Trickle(client, b"x" * 100, chunk=1, step=7))
        assert worker_of(reads_the_body).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer
    assert answer.endswith(b"\r\n\r\nthe request's body came slower than 500 bytes a second after its first 15 s: "
                           b"send it again, faster"), answer


def test_the_largest_body_at_a_slow_links_pace_is_read_whole(monkeypatch):
    """The largest body a route takes (4 MiB: an event), each read of it waiting 0.5 s for its
    8 KiB (16 KiB a second, a slow mobile link), comes whole; so it does though the function works 1000 s between two
    of its reads (only the reads' waits count)."""
    largest = MAX_EVENT_BYTES
    served, client = socket.socketpair()
    clock = Trickle(client, b"x" * largest, chunk=4096, step=0.5)

    def works_midway(environ, start_response):
        half = environ["wsgi.input"].read(largest // 2)
        clock.now += 1000
        answer = b"%d" % (len(half) + len(environ["wsgi.input"].read()))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
        return [answer]

    with client:
        client.sendall(post(largest))
        monkeypatch.setattr(server, "monotonic", clock)
        assert worker_of(works_midway).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n%d" % largest), answer


def test_a_graceful_exit_waits_for_the_lingers_running(monkeypatch):
    """A worker's exit ends its process, and with it a linger still running: the client's answer was cut by a RST.
    Its run (gthread's loop, here closing a connection that lingers, until a graceful exit) returns once the linger
    has ended: here the client closes its end once the worker waits for it."""
    exiting, ended = threading.Event(), []

    def close_graceful(sock, **_):
        exiting.wait(GUARD)
        ended.append(sock)
        sock.close()

    class Slots(threading.BoundedSemaphore):
        def acquire(self, blocking=True, timeout=None):
            if blocking:  # the worker waits for the lingers: its client closes its end
                exiting.set()
            return super().acquire(blocking, timeout)

    monkeypatch.setattr(util, "close_graceful", close_graceful)
    worker = worker_of(hello)
    worker.closes.slots = Slots(server.MAX_LINGERING_CLOSES)
    served, client = socket.socketpair()
    monkeypatch.setattr(ThreadWorker, "run", lambda self: self.closes.close(connection(served), graceful=True))
    try:
        worker.run()
        assert ended == [served]
    finally:
        exiting.set()
        client.close()


def fails(environ, start_response):
    raise RuntimeError("a fault of the function's")


@pytest.mark.parametrize("app, sent, trickled, status", [
    (reads_the_body, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", b"",
     b"400"),
    (reads_the_body, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", b"x" * 100, b"408"),
    (fails, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"", b"500"),
], ids=["malformed-chunk", "trickled-body", "gunicorns-500"])
def test_an_answer_after_which_the_connection_closes_says_so(monkeypatch, app, sent, trickled, status):
    """A kept-alive request whose body could not be read (a malformed chunk, a body too slow to wait for), or whose
    function failed (gunicorn's own 500): the connection is closed after the answer, which must say Connection: close,
    or the client sends its next request on a closed socket. The first two said keep-alive."""
    served, client = socket.socketpair()
    with client:
        client.sendall(sent)
        monkeypatch.setattr(server, "monotonic", Trickle(client, trickled, chunk=1, step=7))  # 2 bytes each 7 s
        assert worker_of(app).handle(connection(served)) is False
        answer = client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 " + status), answer
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nconnection: close\r\n" in head and b"keep-alive" not in head, answer


def answers_unread(environ, start_response):
    """A route answering without reading the body (a refusal by its Content-Length, a route that takes none)."""
    start_response("413 Content Too Large", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]


def pipelined(head: bytes, sent: bytes) -> bytes:
    """A kept-alive request, `sent` of its body, then a second request behind it."""
    return head + sent + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


@pytest.mark.parametrize("head, sent", [
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (MAX_EVENT_BYTES + 1), b"x" * (64 * 1024)),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", b"2\r\n{}\r\n0\r\n\r\n"),
], ids=["past-the-drain", "chunked"])
def test_an_answer_leaving_more_of_the_body_than_gunicorn_drains_says_connection_close(head, sent):
    """gunicorn drains at most 64 KiB of a body the function left unread before the next request, and closes the
    connection past that: its answer said Connection: keep-alive, so a client sent its next request on a closed
    socket. It now says Connection: close, and nothing is drained (nor served) after it; so does one leaving a chunked
    body unread, whose rest is unknown without reading it."""
    served, client = socket.socketpair()
    with client:
        client.sendall(pipelined(head, sent))
        assert worker_of(answers_unread).handle(connection(served)) is False
        answer = client.recv(65536)
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert answer.startswith(b"HTTP/1.1 413") and answer.count(b"HTTP/1.1") == 1, answer
    assert b"\r\nconnection: close\r\n" in head and b"keep-alive" not in head, answer


@pytest.mark.parametrize("app, head, sent", [
    (answers_unread, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (64 * 1024 - 1),
     b"x" * (64 * 1024 - 1)),
    (reads_the_body, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (MAX_EVENT_BYTES // 16),
     b"x" * (MAX_EVENT_BYTES // 16)),
    (reads_the_body, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", b"2\r\n{}\r\n0\r\n\r\n"),
], ids=["unread-within-the-drain", "read-whole", "chunked-read-whole"])
def test_a_body_read_whole_or_small_enough_to_drain_keeps_the_connection(app, head, sent):
    """A body the function read whole, or left unread within what gunicorn drains: the answer says keep-alive, and the
    request behind it is served on the same connection."""
    served, client = socket.socketpair()
    worker, conn = worker_of(app), connection(served)
    with client:
        sending = threading.Thread(target=client.sendall, args=(pipelined(head, sent),))
        sending.start()
        assert worker.handle(conn) is True
        sending.join(GUARD)
        worker.wsgi = hello
        assert worker.handle(conn) is True  # the second request, on the same connection
        answer = client.recv(65536)
    first, _, second = answer.partition(b"\r\n\r\n")
    assert b"\r\nConnection: keep-alive" in first, answer
    assert b"HTTP/1.1 200 OK" in second and second.endswith(b"hello"), answer


def test_amx_function_opens_no_gunicorn_control_socket(tmp_path):
    """gunicorn 25+ opens a control socket (`gunicornc`: reload, shut down, change workers) at
    $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl, one path for every gunicorn of the user: each of `amx
    up`'s eleven functions unlinked the one before's and bound its own, those that lost logged `Control server error:
    … already in use` in plain text, and one stopping unlinked another's. Knative or `amx up` runs the functions."""
    from tests.support.processes import BIN, Server, free_port

    source = tmp_path / "hello.py"
    source.write_text("def hello(request):\n    return 'hello'\n")
    port = free_port()
    function = Server([str(BIN / "amx-function"), "--source", str(source), "--target", "hello", "--host", "127.0.0.1",
                       "--port", str(port)], f"http://127.0.0.1:{port}", tmp_path / "hello.log",
                      env={"HOME": str(tmp_path), "XDG_RUNTIME_DIR": None, "AMX_DATA_DIR": str(tmp_path / ".amx")})
    try:
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        function.stop()
    assert "Control" not in (tmp_path / "hello.log").read_text()
