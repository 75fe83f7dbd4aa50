"""Every time the APIs answer is written one way, in UTC ending in Z (RFC 3339), as pydantic dumps one: a search's
items and an activation were answered as the index stores them (isoformat's +00:00) while a program's details, the
change feed and the documents said Z, so a client comparing times as text saw one instant two ways."""

import pytest

from affiliate_matrix.auth import create_token
from affiliate_matrix.rules.store import ACTIVATIONS_INDEX, with_program
from tests.support.apps import function_client
from tests.support.indexing import T1, Index, record

STORED = "2026-11-21T12:00:00+00:00"  # a time as the index stores it (isoformat)


@pytest.fixture
def index(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    return Index(tmp_path)


def test_each_api_answers_its_times_ending_in_z_and_stores_them_as_before(index):
    index.batch(record("dira", "Forever Shoes", "https://forevershoes.com/", at=T1, cookie_text="30 days"))
    program_id = index.get("/programs")["items"][0]["id"]
    assert index.rt.index.get("programs", program_id)["first_seen_at"] == STORED  # what is stored does not move
    index.rt.index.ensure_index(ACTIVATIONS_INDEX)
    assert index.rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [with_program({
        "id": "a_one", "rule_id": "kitchen", "trigger": "program.delta", "event_id": "e", "decision": "fired",
        "action": "alert", "action_event_id": "x", "outcome": "done", "detail": "",
        "inputs": {"program_id": program_id}, "at": STORED})], refresh=True).errors == []
    admin = {"Authorization": f"Bearer {create_token(index.rt.secrets, 'admin')}"}
    triggers, connections, budget = (function_client(name) for name in ("triggers", "connections", "budget"))
    assert triggers.post("/rules", json={"id": "kitchen", "trigger": {"event": "program.delta"}, "condition": "true",
                                         "action": {"type": "alert", "params": {}}}, headers=admin).status_code == 201
    assert connections.post("/connections", json={"id": "ap", "source": "affiliateprograms"},
                            headers=admin).status_code == 201
    assert budget.post("/campaigns", json={"id": "search-1", "name": "Brand search", "channel": "search",
                                           "currency": "USD"}, headers=admin).status_code == 201
    answers = {
        "search": index.api.get("/programs", headers=index.auth),
        "program": index.api.get(f"/programs/{program_id}", headers=index.auth),
        "changes": index.api.get("/changes", headers=index.auth),
        "merchant": index.api.get("/merchants/forevershoes.com", headers=index.auth),
        "activations": triggers.get("/activations", headers=admin),
        "rules": triggers.get("/rules", headers=admin),
        "connections": connections.get("/connections", headers=admin),
        "campaigns": budget.get("/campaigns", headers=admin),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.get_data(as_text=True))
        assert "+00:00" not in answer.get_data(as_text=True), (name, answer.get_data(as_text=True))
    assert answers["search"].json["items"][0]["first_seen_at"] == "2026-11-21T12:00:00Z"
    assert answers["activations"].json["items"][0]["at"] == "2026-11-21T12:00:00Z"
    assert answers["campaigns"].json["items"][0]["created_at"].endswith("Z")
    (row,) = answers["merchant"].json["rows"]  # its seen_at and last_verified_at said +00:00
    assert (row["seen_at"], row["last_verified_at"]) == ("2026-11-21T12:00:00Z", "2026-11-21T12:00:00Z")
    shape = index.api.get("/openapi.json").json["components"]["schemas"]["SourceRow"]["properties"]
    assert "date-time" in str(shape["seen_at"]) and "date-time" in str(shape["last_verified_at"])


def test_only_the_answer_models_time_fields_are_rewritten():
    from datetime import datetime

    from pydantic import BaseModel

    from affiliate_matrix.handlers.routes import in_rfc3339

    class Answer(BaseModel):
        at: datetime
        seen: datetime | None = None
        detail: str = ""
        zoned: datetime | None = None

    item = {"at": "2026-11-21T12:00:00.123456+00:00", "seen": None, "detail": f"caught up at {STORED}",
            "zoned": "2026-11-21T12:00:00+02:00"}
    assert in_rfc3339(item, Answer) == {**item, "at": "2026-11-21T12:00:00.123456Z"}
    assert item["at"].endswith("+00:00")  # the stored document itself is not rewritten
