"""Reading an object from S3 when the connection breaks while its bytes come: the S3 said 200, then the body stopped
short of its Content-Length (a reset, a proxy timing out). The call was answered, but reading the body raised
botocore's ResponseStreamingError out of the adapter: a 500 with a traceback for an API caller, where a store that
fails (a 5xx, a timeout) is BackendUnavailable, a 503 with Retry-After that the caller may retry."""

import socket
import threading

import boto3
import pytest
from botocore.config import Config

from affiliate_matrix.errors import BackendUnavailable
from affiliate_matrix.storage.s3 import S3ObjectStore


@pytest.fixture
def cut_short():
    """An S3 endpoint answering every request 200 with 100 bytes announced and 10 sent, then closing."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nETag: "abc"\r\n'
                             b"Content-Type: application/json\r\n\r\n0123456789")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.shutdown(socket.SHUT_RDWR)  # wakes the accept
    server.close()
    thread.join()


def test_a_body_cut_short_is_backend_unavailable_not_a_crash(cut_short):
    client = boto3.client("s3", endpoint_url=cut_short, region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1},
                                                                        s3={"addressing_style": "path"}))
    store = S3ObjectStore(client, "amx", cut_short)
    with pytest.raises(BackendUnavailable, match="connections/ap.json"):
        store.get("connections/ap.json")
