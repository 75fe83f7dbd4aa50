"""A function's request body over real HTTP, served as in production (amx-function: functions-framework, gunicorn):
functions-framework reads whatever a route left of the body, whole and into memory, before it answers.
A body far larger than any route takes, or one that never ends, must not hold the answer (nor fill the
memory) up: the answer comes once a bounded part is read, and gunicorn closes the connection after it."""

import socket

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
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head + body)
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
