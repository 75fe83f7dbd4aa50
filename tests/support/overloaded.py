"""A local HTTP server standing for an overloaded OpenSearch node: it answers the client's first call (GET /,
what the adapter's check reads) as a node does and every other request with the status it is given (429 Too
Many Requests, as a node whose search queue is full does, or a 503). With `at_start`, GET / answers that status
too: a node overloaded (or not ready) when a function starts."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INFO = {"name": "node", "cluster_name": "amx", "version": {"distribution": "opensearch", "number": "2.19.1"},
        "tagline": "The OpenSearch Project: https://opensearch.org/"}


class OverloadedNode:
    def __init__(self, status: int = 429, *, at_start: bool = False):
        status_of_rest = status

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.split("?")[0] == "/" and self.command in ("GET", "HEAD") and not at_start:
                    status, body = 200, INFO
                else:
                    status = status_of_rest
                    body = {"error": {"type": "rejected_execution_exception", "reason": "rejected execution"},
                            "status": status}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
