"""schemathesis against the programs function's own OpenAPI document, through functions-framework.

Checks: no 5xx, status codes, content types and bodies as documented. Unknown or malformed
parameters must be 4xx, which the document allows."""

import os
import tempfile

import schemathesis
from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import to_document
from affiliate_matrix.runtime import Runtime
from tests.support.api_schema import EXAMPLES, call_and_check, reached
from tests.support.factories import NOW, make_program
from tests.support.processes import ROOT

DATA = tempfile.mkdtemp(prefix="amx-schemathesis-")
os.environ["AMX_DATA_DIR"] = DATA
_rt = Runtime("test", Settings(data_dir=DATA))
TOKEN = create_token(_rt.secrets, "read")
_rt.index.ensure_index(__import__("affiliate_matrix.program_index", fromlist=["PROGRAMS_INDEX"]).PROGRAMS_INDEX)
_rt.index.bulk_upsert("programs", [to_document(make_program(f"Shop {i}", f"https://shop{i}.com",
                                                            commission_text=f"{i}% per sale", cookie_text="30 days"))
                                   for i in range(25)], refresh=True)
# Deltas too, so the change feed's answers hold items, each checked against the documented model (recorded_at too)
_deltas = __import__("affiliate_matrix.deltas", fromlist=["DELTAS_INDEX"])
_rt.index.ensure_index(_deltas.DELTAS_INDEX)
_rt.index.bulk_upsert("deltas", [_deltas.to_document(_deltas.diff(None, make_program(f"Shop {i}", f"https://shop{i}.com"),
                                                                  at=NOW, source="test")) for i in range(5)], refresh=True)
APP = create_app("handle", str(ROOT / "functions/programs/main.py"))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
os.environ.pop("AMX_DATA_DIR")


@schema.parametrize()
@EXAMPLES
def test_programs_api_conforms_to_its_openapi_document(case):
    call_and_check(case, TOKEN)


def test_the_generated_requests_reach_the_handlers():
    statuses = reached(schema, TOKEN, ["GET /programs", "GET /changes", "GET /healthz", "GET /merchants"])
    assert statuses["GET /programs"] >= {200, 400}
    assert 200 in statuses["GET /changes"] and 200 in statuses["GET /healthz"] and 200 in statuses["GET /merchants"]


def test_the_change_feed_documents_when_each_change_was_recorded_and_that_it_is_at_least_once():
    """The feed's items carry recorded_at (the order and what `since` filters on), and the document says so."""
    document = APP.test_client().get("/openapi.json").get_json()
    item = document["components"]["schemas"]["ChangeItem"]
    assert "recorded_at" in item["required"] and "recorded" in item["properties"]["recorded_at"]["description"]
    assert "deduplicate by id" in document["components"]["schemas"]["ChangePage"]["description"]
    since = next(p for p in document["paths"]["/changes"]["get"]["parameters"] if p["name"] == "since")
    assert "recorded_at" in since["description"]
    page = APP.test_client().get("/changes?limit=2", headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    assert len(page["items"]) == 2 and all(item["recorded_at"] for item in page["items"])


def test_the_change_feeds_since_is_documented_as_a_date_or_a_time_as_it_takes_both():
    """`since` was declared `format: date-time` alone, though the feed takes a bare day (its midnight UTC) and its
    description says so: a client generated from the document could not send one."""
    document = APP.test_client().get("/openapi.json").get_json()
    since = next(p for p in document["paths"]["/changes"]["get"]["parameters"] if p["name"] == "since")
    assert sorted(branch.get("format") for branch in since["schema"]["anyOf"]) == ["date", "date-time"], since
    assert all(branch["type"] == "string" for branch in since["schema"]["anyOf"]), since
    answer = APP.test_client().get("/changes?since=2026-01-01", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text


def test_the_document_offers_the_epc_window_the_epc_minimum_and_sort_read():
    """min_epc and sort=epc read the 7-day EPC, and no parameter asked for the 3-month one (Awin's only EPC)."""
    document = APP.test_client().get("/openapi.json").get_json()
    for path in ("/programs", "/programs/export"):
        window = next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "epc_window")
        assert window["schema"]["enum"] == ["7d", "90d"] and window["schema"]["default"] == "7d", window
        assert "3 months" in window["schema"].get("description", window.get("description", "")), window
