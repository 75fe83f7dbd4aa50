"""schemathesis against the discover function's own OpenAPI document: no 5xx, documented status
codes, content types and bodies, with an admin token."""

import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import schemathesis
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.api_schema import EXAMPLES, call_and_check, reached
from tests.support.processes import ROOT



class Refusing(BaseHTTPRequestHandler):
    """The search provider: a loopback server refusing every query with a 403 at once (a closed port was retried
    with backoff, 40 s of real sleep a run), so a test calls no real search engine, and a run that reaches it
    answers 200 with the provider's failure in its report."""

    def do_GET(self):  # noqa: N802 - the standard library's name
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


PROVIDER = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
threading.Thread(target=PROVIDER.serve_forever, daemon=True).start()
DATA = tempfile.mkdtemp(prefix="amx-schemathesis-discover-")
SETTINGS = {"AMX_DATA_DIR": DATA, "AMX_ALLOW_LOOPBACK_FETCH": "true", "AMX_DISCOVERY_PROVIDERS": "searxng",
            "AMX_SEARXNG_URL": f"http://127.0.0.1:{PROVIDER.server_port}"}
os.environ.update(SETTINGS)
TOKEN = create_token(Runtime("test", Settings(data_dir=DATA)).secrets, "admin")
APP = create_app("handle", str(ROOT / "functions/discover/main.py"))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
for name in SETTINGS:
    os.environ.pop(name)


@schema.parametrize()
@EXAMPLES
def test_discover_api_conforms_to_its_openapi_document(case):
    call_and_check(case, TOKEN)


def test_the_generated_requests_reach_the_handlers():
    statuses = reached(schema, TOKEN, ["POST /discover"], examples=15)  # a valid request runs discovery
    assert statuses["POST /discover"] >= {200, 400}
