"""The web function's sign-in form over real HTTP, served by functions-framework (gunicorn): what an
in-process test client cannot send, a body in chunks with no Content-Length."""

import secrets

import httpx

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.processes import BIN, ROOT, Server, free_port


def test_a_sign_in_form_sent_in_chunks_is_held_to_the_form_limit(tmp_path):
    """The limit was checked against Content-Length only: a chunked form of any size was read, and signed in."""
    token = create_token(Runtime("test", Settings(data_dir=tmp_path)).secrets, "read")
    port = free_port()
    server = Server([str(BIN / "amx-function"), "--source", str(ROOT / "functions/web/main.py"),
                     "--target", "handle", "--host", "127.0.0.1", "--port", str(port)],
                    f"http://127.0.0.1:{port}", tmp_path / "web.log", ready_path="/healthz",
                    env={"AMX_DATA_DIR": str(tmp_path)})
    csrf = secrets.token_urlsafe(32)
    form = f"csrf={csrf}&token={token}&next=%2Fprograms&pad=".encode()

    def chunks(pad: int):  # a generator: httpx sends it with Transfer-Encoding: chunked
        yield form
        for _ in range(pad):
            yield b"x" * 1024

    try:
        with httpx.Client(base_url=server.url, cookies={f"amx_csrf_{port}": csrf}, timeout=60) as client:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            small = client.post("/signin", content=chunks(1), headers=headers)
            assert small.status_code == 303 and small.headers["Location"] == "/programs"  # chunks as such are fine
            client.cookies.delete(f"amx_session_{port}")  # on loopback, named by the port
            big = client.post("/signin", content=chunks(4096), headers=headers)
            assert big.status_code == 413 and "the form is larger than 8192 bytes" in big.text
            assert "amx_session" not in big.headers.get("Set-Cookie", "")
    finally:
        server.stop()
