"""Reading an object from S3 when the connection breaks while its bytes come: the S3 said 200, then the body stopped
short of its Content-Length (a reset, a proxy timing out). The call was answered, but reading the body raised
botocore's ResponseStreamingError out of the adapter: a 500 with a traceback for an API caller, where a store that
fails (a 5xx, a timeout) is BackendUnavailable, a 503 with Retry-After that the caller may retry."""

import socket
import threading
import tracemalloc

import boto3
import pytest
from botocore.config import Config

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, ObjectTooLarge
from affiliate_matrix.storage.s3 import S3ObjectStore


def raw_endpoint(answer):
    """A bare HTTP endpoint that calls answer(conn) for each request, read first; its URL, until closed."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed
                return
            with conn:
                conn.recv(65536)
                try:
                    answer(conn)
                except OSError:
                    pass  # the client read what it takes and closed

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.shutdown(socket.SHUT_RDWR)  # wakes the accept
    server.close()
    thread.join()


@pytest.fixture
def cut_short():
    """An S3 endpoint answering every request 200 with 100 bytes announced and 10 sent, then closing."""
    yield from raw_endpoint(lambda conn: conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nETag: "abc"\r\n'
                                                      b"Content-Type: application/json\r\n\r\n0123456789"))


def test_a_body_cut_short_is_backend_unavailable_not_a_crash(cut_short):
    client = boto3.client("s3", endpoint_url=cut_short, region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1},
                                                                        s3={"addressing_style": "path"}))
    store = S3ObjectStore(client, "amx", cut_short)
    with pytest.raises(BackendUnavailable, match="connections/ap.json"):
        store.get("connections/ap.json")


@pytest.fixture
def unsaid_length():
    """An S3 endpoint answering every request 200 with a body of 8 MiB in chunks, its length not said."""
    def answer(conn):
        conn.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: "abc"\r\n'
                     b"Content-Type: application/json\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(128):
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.sendall(b"0\r\n\r\n")

    yield from raw_endpoint(answer)


def refused_holding(store) -> int:
    """The most memory a get of 1,000 bytes at most took, refusing the object as too large, its size not said."""
    tracemalloc.start()
    try:
        with pytest.raises(ObjectTooLarge, match=r"^object connections/ap.json is damaged \(too large to read: more "
                                                 r"than the 1,000 bytes a read of it takes\)"):
            store.get("connections/ap.json", max_bytes=1000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_body_whose_length_is_not_said_is_read_no_further_than_the_bound(unsaid_length):
    """A store (or a proxy before it) that sends no Content-Length cannot have the object's size checked before its
    body: the body is read up to the bound and one byte, then refused, never whole (8 MiB here)."""
    store = S3ObjectStore.from_settings(Settings(object_store="s3", s3_endpoint_url=unsaid_length, s3_bucket="amx",
                                                 s3_access_key_id="AKIAEXAMPLE", s3_secret_access_key="secret"))
    assert refused_holding(store) < 2 * 1024 * 1024


def test_a_client_without_the_bounded_sender_still_reads_no_further_than_the_bound(unsaid_length):
    """The adapter reads no more than the bound itself, whatever client it is given (botocore's own sender here)."""
    client = boto3.client("s3", endpoint_url=unsaid_length, region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1},
                                                                        s3={"addressing_style": "path"}))
    assert refused_holding(S3ObjectStore(client, "amx", unsaid_length)) < 2 * 1024 * 1024
