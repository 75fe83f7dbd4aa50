"""schemathesis against the rules API (triggers function) and the campaigns API (budget
function), each from its own OpenAPI document: no 5xx, documented statuses, content and bodies."""

import os
import tempfile

import schemathesis
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.budget.campaigns import Campaign, save_campaign
from affiliate_matrix.config import Settings
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.rules.store import save_rule
from affiliate_matrix.runtime import Runtime
from tests.support.api_schema import EXAMPLES, call_and_check
from tests.support.processes import ROOT

DATA = tempfile.mkdtemp(prefix="amx-schemathesis-documents-")
os.environ["AMX_DATA_DIR"] = DATA
_rt = Runtime("test", Settings(data_dir=DATA))
TOKEN = create_token(_rt.secrets, "admin")
save_rule(_rt.store, Rule(id="r1", trigger={"event": "program.delta"}, condition='delta.change == "created"',
                          action={"type": "alert"}), create=True)
save_campaign(_rt.store, Campaign(id="c1", name="c1", channel="search", currency="USD"), create=True)
TRIGGERS = schemathesis.openapi.from_wsgi("/openapi.json", create_app("handle", str(ROOT / "functions/triggers/main.py")))
BUDGET = schemathesis.openapi.from_wsgi("/openapi.json", create_app("handle", str(ROOT / "functions/budget/main.py")))
os.environ.pop("AMX_DATA_DIR")
STATUSES: dict[str, set[int]] = {}


@TRIGGERS.parametrize()
@EXAMPLES
def test_rules_api_conforms_to_its_openapi_document(case):
    call_and_check(case, TOKEN, STATUSES)


@BUDGET.parametrize()
@EXAMPLES
def test_budget_api_conforms_to_its_openapi_document(case):
    call_and_check(case, TOKEN, STATUSES)


def test_the_generated_requests_reached_the_handlers():
    assert 200 in STATUSES["GET /rules"] and 400 in STATUSES["POST /rules"]
    assert STATUSES["PUT /rules/{rule_id}"] & {400, 404, 412}
    assert 200 in STATUSES["GET /campaigns"] and 400 in STATUSES["POST /campaigns"]
    assert STATUSES["POST /campaigns/{campaign_id}/metrics"] & {400, 404}
    assert all(code < 500 for codes in STATUSES.values() for code in codes)
