"""A function's request body over real HTTP, served as in production (amx-function: functions-framework, gunicorn):
functions-framework reads whatever a route left of the body, whole and into memory, before it answers.
A body far larger than any route takes, or one that never ends, must not hold the answer (nor fill the
memory) up: the answer comes once a bounded part is read, and gunicorn closes the connection after it.
A request whose client stops sending it must not hold one of the worker's few threads either (server.py)."""

import json
import select
import socket

import httpx
import pytest

from tests.support.processes import BIN, ROOT, Server, free_port


@pytest.fixture(scope="module")
def function(tmp_path_factory):
    data = tmp_path_factory.mktemp("bodies")
    port = free_port()
    server = Server([str(BIN / "amx-function"), "--source", str(ROOT / "functions/connections/main.py"),
                     "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                    f"http://127.0.0.1:{port}", data / "connections.log", ready_path="/healthz",
                    env={"AMX_DATA_DIR": str(data)})
    yield port
    server.stop()


def answer_to(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request's head and the start of its body (never the rest), and read the answer until the server
    closes the connection. Before the fix the server waited for the rest: the read timed out."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:  # a guard against hanging, not a bound
        conn.sendall(head + body)
        return answer_on(conn)


def answer_on(conn: socket.socket) -> bytes:
    """What the server sends on `conn` until it closes the connection."""
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("path", ["/connections", "/healthz"])
def test_a_body_that_claims_a_terabyte_is_answered_without_being_read(function, path):
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10**12}\r\n\r\n").encode()
    answer = answer_to(function, head, b"{" + b" " * (256 * 1024))
    assert answer.startswith(b"HTTP/1.1 401" if path == "/connections" else b"HTTP/1.1 200"), answer[:300]
    # closed after it, as the answer says (it said keep-alive: the rest is more than gunicorn drains)
    assert b"\r\nConnection: close\r\n" in answer.partition(b"\r\n\r\n")[0], answer[:300]


def test_a_chunked_body_that_never_ends_is_answered(function):
    head = (b"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    answer = answer_to(function, head, (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 4)  # and no last chunk
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]


@pytest.mark.parametrize("length, status", [(6 * 1024, b"401"), (1024 * 1024, b"414")])
def test_a_request_line_past_gunicorns_limit_is_refused_before_any_route(function, length, status):
    """functions-framework's own command turns gunicorn's request-line limit off: a line of any length was held in
    memory whole, then routed (a 401 after 1 MiB was read). amx-function puts gunicorn's limit (8190 bytes) back; a
    long URL within it still reaches the route."""
    line = b"GET /connections?q=" + b"a" * length + b" HTTP/1.1\r\n"
    answer = answer_to(function, line + b"Host: 127.0.0.1\r\n\r\n", b"")
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:300]
    assert json_error(answer)["code"] == ("uri_too_long" if status == b"414" else "unauthorized")


def json_error(answer: bytes) -> dict:
    """The error an answer carries in the functions' JSON shape, its headers checked (gunicorn's own was HTML)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head, answer[:300]
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in head, answer[:300]
    return json.loads(body)["error"]


@pytest.mark.parametrize("head, status, code", [
    (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-\x01: a\r\n\r\n", b"400", "invalid_request"),
    (b"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: br\r\n\r\n", b"501", "not_implemented"),
    # gunicorn takes these three and hands the body over still coded, as if it were the body
    (b"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", b"501",
     "not_implemented"),
], ids=["400", "501", "501-gzip"])
def test_a_head_gunicorn_refuses_is_answered_in_json_and_closed(function, head, status, code):
    """gunicorn refuses a malformed head, or a transfer coding it cannot read, before any route: it answered with its
    HTML page, now with the functions' JSON error, then closes the connection (answer_to reads to its end)."""
    answer = answer_to(function, head, b"")
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:300]
    error = json_error(answer)
    assert error["code"] == code and error["request_id"], error  # a string, minted for it (it was null)
    assert b"\r\nX-Request-Id: " + error["request_id"].encode() + b"\r\n" in answer.partition(b"\r\n\r\n")[0], answer


@pytest.mark.parametrize("path", ["/nowhere%0A", "/robots.txt", "/favicon.ico"])
def test_a_path_functions_framework_answers_itself_is_answered_by_the_function(function, path):
    """functions-framework's route for every path matches none holding a line feed (werkzeug's path converter stops at
    one), and it routes /robots.txt and /favicon.ico to a 404 of its own: Flask answered them in HTML, with no JSON
    error, request id or log line. Each function answers them as any path it has no route for. (Served as in
    production, amx-function's own handler for the first, registered after the function's, replaced the function's
    for all three: the last two were still Flask's page.)"""
    answer = answer_to(function, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(), b"")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404") and b"application/json" in head and b"X-Request-Id" in head, answer[:500]
    shown = path.replace("%0A", "\\n").encode()
    assert b'"message":"no route for ' + shown + b'"' in body, body[:300]


THREADS = 2  # the worker's threads (functions-framework's THREADS; the CPUs times 4 by default)


@pytest.fixture(scope="module")
def stalling(tmp_path_factory):
    """The connections function with each read of a request bounded to 0.3 s, a body's rate to 100 bytes a second, and
    an admin token."""
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    data = tmp_path_factory.mktemp("stalling")
    token = create_token(Runtime("test", Settings(data_dir=data)).secrets, "admin")
    port = free_port()
    server = Server([str(BIN / "amx-function"), "--source", str(ROOT / "functions/connections/main.py"),
                     "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                    f"http://127.0.0.1:{port}", data / "connections.log", ready_path="/healthz",
                    env={"AMX_DATA_DIR": str(data), "AMX_REQUEST_READ_TIMEOUT_S": "0.3",
                         "AMX_REQUEST_BODY_MIN_RATE": "100", "THREADS": str(THREADS)})
    yield port, token, server.log
    server.stop()


def stalled(port: int, sent: bytes) -> socket.socket:
    """A connection whose client sent `sent` and then nothing more."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)  # a guard against hanging, not a bound
    conn.sendall(sent)
    return conn


def stalls_logged(log) -> list[str]:
    """The function's request.stalled lines (its lines name it: function=connections)."""
    return [line for line in log.read_text().splitlines()
            if "request.stalled" in line and "function=connections" in line]


HALF_A_HEAD = b"GET /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor"


def test_a_request_whose_head_stops_coming_is_answered_408_and_closed(stalling):
    """Its head stopped coming: the read that waited past the bound gives the thread up, answers 408 and closes the
    connection (the answer is read to its end). Before, the thread waited until Knative's timeout."""
    port, _, log = stalling
    with stalled(port, HALF_A_HEAD) as conn:
        answer = answer_on(conn)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout"), answer[:300]
    assert json.loads(body)["error"]["code"] == "request_timeout"  # JSON, as every other error
    assert any("read=head" in line for line in stalls_logged(log))


@pytest.mark.parametrize("path, status", [("/connections", b"400"), ("/healthz", b"200")])
@pytest.mark.parametrize("chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"], ids=["size", "terminator"])
def test_a_malformed_chunked_body_is_answered_and_closed(stalling, path, status, chunks):
    """A malformed chunk, read by the route (an admin's POST /connections) or after it answered (/healthz, which reads
    none): gunicorn's error was answered 500, Flask's HTML page, with a traceback logged. Now the route's read is
    answered 400 in the JSON shape, a route's answer goes, and the connection is closed after it (the request sent
    after the body is not served)."""
    port, token, _ = stalling
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    answer = answer_to(port, head, chunks + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 " + status) and answer.count(b"HTTP/1.1 ") == 1, answer[:500]
    if status == b"400":
        assert json_error(answer)["code"] == "invalid_request"


def test_a_request_whose_body_stops_coming_is_answered_408_by_the_function(stalling):
    """The route reading the body (an admin's POST /connections) gets no more of it: the function answers 408 as it
    answers any error, in JSON with its request id, logs it without the body, and the connection is closed."""
    port, token, log = stalling
    head = (f"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n").encode()
    with stalled(port, head + b'{"id": "body-never-logged", ') as conn:
        answer = answer_on(conn)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and b"X-Request-Id" in head, answer[:500]
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert any("read=body" in line for line in stalls_logged(log))
    assert "body-never-logged" not in log.read_text()


def test_a_body_trickled_within_each_reads_bound_is_answered_408_by_the_function(stalling):
    """The client sends its body a byte each time no answer came for 0.1 s, within each read's bound (0.3 s): once the
    body's reads have waited the bound it must average 100 bytes a second here, so the function answers 408 in JSON.
    Before, its 60 bytes came whole (in 6 s) and were answered 400, the thread held all along."""
    port, token, _ = stalling
    head = (f"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 60\r\n\r\n").encode()
    with stalled(port, head) as conn:
        answered = select.poll()  # not select.select: a whole run holds descriptors past its FD_SETSIZE (1024)
        answered.register(conn, select.POLLIN)
        for _ in range(60):
            try:
                conn.sendall(b" ")
            except OSError:  # answered and closed meanwhile
                break
            if answered.poll(100):  # the client's pace, not a bound
                break
        answer = answer_on(conn)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:500]
    assert json.loads(body)["error"]["code"] == "request_timeout"


def test_a_body_that_stops_coming_after_the_route_answered_does_not_hold_the_answer(stalling):
    """A route that answers without the body (no token: 401) is answered; what is left of the body, read after it,
    stops coming, and the connection is closed after the answer."""
    head = (b"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    with stalled(stalling[0], head + b"{") as conn:
        answer = answer_on(conn)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]


def test_a_body_declared_past_what_is_read_after_the_answer_is_not_waited_for(stalling):
    """A route that answers without the body (no token: 401), its Content-Length 2 GB and a few bytes sent: what is
    left is more than is read after an answer (UNREAD_LIMIT), so the connection is closed after it whatever comes.
    That part was read all the same, the answer held until the read's bound (15 s) for bytes that never came."""
    port, _, log = stalling
    head = (b"POST /connections HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2147483648\r\n\r\n")
    with stalled(port, head + b"{}") as conn:
        answer = answer_on(conn)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    request_id = answer.partition(b"\r\nX-Request-Id: ")[2].partition(b"\r\n")[0].decode()
    assert request_id and not [line for line in stalls_logged(log) if request_id in line]


def test_a_request_is_answered_while_a_stalled_client_holds_every_thread(stalling):
    """One more stalled client than the worker has threads, each stopped in its head, connected before the request:
    the request is answered (once the bound frees a thread) and each of them gets its 408. Before, every thread
    waited on a stalled client until Knative's timeout and the request was not answered."""
    port, _, _ = stalling
    clients = [stalled(port, HALF_A_HEAD) for _ in range(THREADS + 1)]
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200
        assert [answer_on(conn)[:12] for conn in clients] == [b"HTTP/1.1 408"] * len(clients)
    finally:
        for conn in clients:
            conn.close()


@pytest.mark.parametrize("headers, status", [
    ([f"X-{i}: a" for i in range(98)], b"200"),  # with Host and Connection, gunicorn's 100 fields
    ([f"X-{i}: a" for i in range(99)], b"431"),
    ([f"X-Big: {'a' * 8180}"], b"200"),  # a field of gunicorn's 8190 bytes
    ([f"X-Big: {'a' * 8190}"], b"431"),
    ([f"X-Big: {'a' * 1024 * 1024}"], b"431"),
])
def test_a_request_past_gunicorns_header_limits_is_refused(function, headers, status):
    """gunicorn's limits on the request's header fields (at most 100, each at most 8190 bytes) are in force:
    functions-framework turns the request line's off, not these."""
    head = "\r\n".join(["GET /healthz HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close", "", ""])
    answer = answer_to(function, head.encode(), b"")
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:300]
    if status == b"431":
        assert json_error(answer)["code"] == "header_fields_too_large"


def test_clients_that_never_close_their_end_do_not_hold_the_next_request(function):
    """gthread closes a connection it does not keep alive (here the clients asked Connection: close) on its main
    thread, which accepts every connection, waiting up to 2 s for the client to close its end first (RFC 9112 §9.6):
    30 clients that never closed theirs held the next connection unaccepted up to 2 s each (the guard's 30 s ran out).
    amx-function lingers on a thread of its own (server.py); each client still gets its answer and the end of it."""
    clients = [stalled(function, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
               for _ in range(30)]  # fewer than lingering closes may be held at once (server.py)
    try:
        assert httpx.get(f"http://127.0.0.1:{function}/healthz", timeout=30).status_code == 200
        assert [answer_on(conn)[:12] for conn in clients] == [b"HTTP/1.1 200"] * len(clients)
    finally:
        for conn in clients:
            conn.close()


def test_the_last_answer_arrives_whole_though_the_client_sends_more_and_closes_late(function):
    """The answer to a Connection: close request is sent whole before the connection is closed, and what the client
    sends after it is read, not left for the close to answer with a RST that can cut the answer (RFC 9112 §9.6): the
    client sends more once the answer starts, reads it to its end, then closes."""
    with socket.create_connection(("127.0.0.1", function), timeout=30) as conn:  # a guard against hanging
        conn.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = conn.recv(65536)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 1000)  # never served: the answer said close
        answer += answer_on(conn)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head, head
    assert json.loads(body)["openapi"].startswith("3.")
