"""schemathesis against the connections function's own OpenAPI document: no 5xx, documented
status codes, content types and bodies, with an admin token."""

import os
import tempfile

import schemathesis
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.runtime import Runtime
from tests.support.api_schema import EXAMPLES, call_and_check, reached
from tests.support.processes import ROOT

DATA = tempfile.mkdtemp(prefix="amx-schemathesis-connections-")
os.environ["AMX_DATA_DIR"] = DATA
_rt = Runtime("test", Settings(data_dir=DATA))
TOKEN = create_token(_rt.secrets, "admin")
save_connection(_rt.store, Connection(id="ap", source="affiliateprograms", base_url="http://127.0.0.1:9"))
APP = create_app("handle", str(ROOT / "functions/connections/main.py"))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
os.environ.pop("AMX_DATA_DIR")


@schema.parametrize()
@EXAMPLES
def test_connections_api_conforms_to_its_openapi_document(case):
    call_and_check(case, TOKEN)


def test_the_generated_requests_reach_the_handlers():
    statuses = reached(schema, TOKEN, ["GET /connections", "POST /connections", "PUT /connections/{connection_id}"])
    assert 200 in statuses["GET /connections"] and 400 in statuses["POST /connections"]
    assert statuses["PUT /connections/{connection_id}"] & {400, 404, 412, 428}
