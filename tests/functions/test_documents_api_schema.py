"""schemathesis against the rules API (triggers function) and the campaigns API (budget
function), each from its own OpenAPI document: no 5xx, documented statuses, content and bodies."""

import os
import tempfile

import pytest
import schemathesis
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.budget.campaigns import Campaign, save_campaign
from affiliate_matrix.config import Settings
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.rules.store import save_rule
from affiliate_matrix.runtime import Runtime
from tests.support.api_schema import EXAMPLES, call_and_check, reached
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


@TRIGGERS.parametrize()
@EXAMPLES
def test_rules_api_conforms_to_its_openapi_document(case):
    call_and_check(case, TOKEN)


@pytest.fixture
def daily_total(monkeypatch):
    """The deployment's budget, read as a run reads it: without one a run is the server's 503 (a setting missing),
    which schemathesis counts as a server error whatever the request."""
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")


@BUDGET.parametrize()
@EXAMPLES
def test_budget_api_conforms_to_its_openapi_document(case, daily_total):
    call_and_check(case, TOKEN)


def test_the_generated_requests_reach_the_handlers():
    rules = reached(TRIGGERS, TOKEN, ["GET /rules", "POST /rules", "PUT /rules/{rule_id}"])
    assert 200 in rules["GET /rules"] and 400 in rules["POST /rules"]
    assert rules["PUT /rules/{rule_id}"] & {400, 404, 412}
    campaigns = reached(BUDGET, TOKEN, ["GET /campaigns", "POST /campaigns", "POST /campaigns/{campaign_id}/metrics"])
    assert 200 in campaigns["GET /campaigns"] and 400 in campaigns["POST /campaigns"]
    assert campaigns["POST /campaigns/{campaign_id}/metrics"] & {400, 404}
