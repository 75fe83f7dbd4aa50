"""schemathesis against the discover function's own OpenAPI document: no 5xx, documented status
codes, content types and bodies, with an admin token."""

import os
import tempfile

import schemathesis
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.discovery.dorks import TEMPLATES
from affiliate_matrix.runtime import Runtime
from tests.support.api_schema import EXAMPLES, call_and_check, reached
from tests.support.loopback import Loopback
from tests.support.processes import ROOT

# The search provider: a loopback server answering at once (a closed port was retried with backoff, 40 s of real sleep a
# run), so a test calls no real search engine. It finds nothing for a run's first query (a language's first template)
# and refuses the others with a 403, so a run asks it two queries (the refusal ends it for the run) and answers 200
# with its report: a run whose provider refused every query asked nothing, and answers 503 saying so.
FIRST_TEMPLATES = tuple(templates[0].split("{niche}")[0] for templates in TEMPLATES.values())
PROVIDER = Loopback(lambda request: (200, {"Content-Type": "application/json"}, b'{"results": []}')
                    if request.query.get("q", [""])[0].startswith(FIRST_TEMPLATES)
                    else (403, {"Content-Type": "application/json"}, b"{}"))
DATA = tempfile.mkdtemp(prefix="amx-schemathesis-discover-")
SETTINGS = {"AMX_DATA_DIR": DATA, "AMX_ALLOW_LOOPBACK_FETCH": "true", "AMX_DISCOVERY_PROVIDERS": "searxng",
            "AMX_SEARXNG_URL": PROVIDER.url}
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
