"""schemathesis against the connections function's own OpenAPI document: no 5xx, documented
status codes, content types and bodies, with an admin token."""

import os
import tempfile

import schemathesis
from functions_framework import create_app
from hypothesis import HealthCheck, settings

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import save_connection
from affiliate_matrix.models import Connection
from affiliate_matrix.runtime import Runtime
from tests.support.processes import ROOT

DATA = tempfile.mkdtemp(prefix="amx-schemathesis-connections-")
os.environ["AMX_DATA_DIR"] = DATA
_rt = Runtime("test", Settings(data_dir=DATA))
TOKEN = create_token(_rt.secrets, "admin")
save_connection(_rt.store, Connection(id="ap", source="affiliateprograms", base_url="http://127.0.0.1:9"))
APP = create_app("handle", str(ROOT / "functions/connections/main.py"))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
os.environ.pop("AMX_DATA_DIR")
STATUSES: dict[str, set[int]] = {}


@schema.parametrize()
@settings(max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30")), deadline=None,
          suppress_health_check=list(HealthCheck))
def test_connections_api_conforms_to_its_openapi_document(case):
    from schemathesis.checks import (
        content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
    )

    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    STATUSES.setdefault(case.operation.label, set()).add(response.status_code)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance])


def test_the_generated_requests_reached_the_handlers():
    assert 200 in STATUSES["GET /connections"] and 400 in STATUSES["POST /connections"]
    assert STATUSES["PUT /connections/{connection_id}"] & {400, 404, 412, 428}
    assert all(code < 500 for codes in STATUSES.values() for code in codes)
