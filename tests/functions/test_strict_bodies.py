"""A JSON body's fields are taken as the type JSON gives them (pydantic's strict mode, in JSON mode): "20" for a
number, "true" or 1 for a boolean, 5 for a string are refused with a 400 naming the field, where pydantic's lax
mode took them as 20, True and '5' and stored a client's mistake as if it had meant it. What JSON has no type for
stays read from its documented string form: dates ("2026-11-12"), times and decimal amounts ("200.00"). Query-string
parameters are strings, read as before."""

import pytest

from tests.support.apps import function_client as app

CONNECTION = {"id": "ap", "source": "affiliateprograms", "schedule": "0 3 * * *", "rate_limit_per_s": 2}
RULE = {"id": "gaming-up", "trigger": {"event": "program.delta"}, "condition": 'delta.change == "created"',
        "action": {"type": "alert", "params": {"severity": "info"}}, "cooldown_s": 60}
CAMPAIGN = {"id": "search-1", "name": "Brand search", "channel": "search", "currency": "USD", "max_budget": "200.00"}



def refused(answer, field: str) -> bool:
    return answer.status_code == 400 and answer.get_json()["error"]["message"].startswith(field)


@pytest.mark.parametrize("function,path,body,field", [
    ("connections", "/connections", {**CONNECTION, "rate_limit_per_s": "2"}, "rate_limit_per_s"),
    ("connections", "/connections", {**CONNECTION, "concurrency": "4"}, "concurrency"),
    ("connections", "/connections", {**CONNECTION, "concurrency": 4.0}, "concurrency"),
    ("connections", "/connections", {**CONNECTION, "enabled": "false"}, "enabled"),
    ("connections", "/connections", {**CONNECTION, "enabled": 0}, "enabled"),
    ("triggers", "/rules", {**RULE, "cooldown_s": "60"}, "cooldown_s"),
    ("triggers", "/rules", {**RULE, "enabled": "true"}, "enabled"),
    ("triggers", "/rules", {**RULE, "description": 7}, "description"),
    ("budget", "/campaigns", {**CAMPAIGN, "active": 1}, "active"),
    ("budget", "/campaigns", {**CAMPAIGN, "name": 2024}, "name"),
])
def test_a_body_field_of_the_wrong_json_type_is_refused_naming_it(env, function, path, body, field):
    answer = app(function).post(path, json=body, headers=env["admin"])
    assert refused(answer, field), (answer.status_code, answer.get_data(as_text=True))


def test_a_merge_patch_field_of_the_wrong_json_type_is_refused_naming_it(env):
    client = app("connections")
    etag = client.post("/connections", json=CONNECTION, headers=env["admin"]).headers["ETag"]
    for changes, field in (({"enabled": "false"}, "enabled"), ({"concurrency": "8"}, "concurrency"),
                           ({"rate_limit_per_s": True}, "rate_limit_per_s")):
        answer = client.patch("/connections/ap", json=changes, headers={**env["admin"], "If-Match": etag})
        assert refused(answer, field), (changes, answer.get_data(as_text=True))
    assert client.get("/connections/ap", headers=env["read"]).get_json()["enabled"] is True
    changed = client.patch("/connections/ap", json={"enabled": False, "concurrency": 8},
                           headers={**env["admin"], "If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["enabled"] is False


def test_a_put_field_of_the_wrong_json_type_is_refused_naming_it(env):
    client = app("triggers")
    etag = client.post("/rules", json=RULE, headers=env["admin"]).headers["ETag"]
    answer = client.put("/rules/gaming-up", json={**RULE, "cooldown_s": "120"},
                        headers={**env["admin"], "If-Match": etag})
    assert refused(answer, "cooldown_s")


def test_metrics_days_and_a_dry_runs_event_are_taken_as_json_types(env):
    budget = app("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    days = [{"date": "2026-11-01", "spend": "50", "revenue": 200}]
    answer = budget.post("/campaigns/search-1/metrics", json={"days": days}, headers=env["admin"])
    assert refused(answer, "days.0.spend")
    assert refused(budget.post("/allocations", json={"day": 20261112}, headers=env["admin"]), "day")
    triggers = app("triggers")
    triggers.post("/rules", json=RULE, headers=env["admin"])
    answer = triggers.post("/rules/gaming-up/test", json={"type": 1}, headers=env["read"])
    assert refused(answer, "type")


def test_dates_amounts_and_whole_numbers_for_decimals_are_read_as_documented(env):
    """What JSON has no type for is given as a string (a day, an amount with its cents), and a number where a
    decimal or a float is wanted is one: all taken as before."""
    budget = app("budget")
    assert budget.post("/campaigns", json=CAMPAIGN, headers=env["admin"]).status_code == 201
    assert budget.post("/campaigns", json={**CAMPAIGN, "id": "social-1", "channel": "social", "max_budget": 150,
                                           "min_budget": 10.5}, headers=env["admin"]).status_code == 201
    days = [{"date": f"2026-11-{d:02d}", "spend": 50 + d, "revenue": 200.5} for d in range(1, 4)]
    assert budget.post("/campaigns/search-1/metrics", json={"days": days}, headers=env["admin"]).status_code == 200
    assert budget.post("/allocations", json={"day": "2026-11-12"}, headers=env["admin"]).status_code == 201
    triggers = app("triggers")
    assert triggers.post("/rules", json=RULE, headers=env["admin"]).status_code == 201
    trial = triggers.post("/rules/gaming-up/test", headers=env["read"], json={
        "type": "dev.affiliatematrix.program.delta", "time": "2026-11-12T06:00:00Z",
        "data": {"id": "d1", "program_id": "p_1", "change": "created", "fields": []}})
    assert trial.status_code == 200 and trial.get_json()["holds"] is True
    connections = app("connections")
    assert connections.post("/connections", json=CONNECTION, headers=env["admin"]).status_code == 201


def test_query_string_parameters_stay_read_from_their_text(env):
    triggers = app("triggers")
    assert triggers.get("/activations?limit=5", headers=env["read"]).status_code == 200


@pytest.mark.parametrize("number", ["1" * 5_000, "-" + "9" * 4_301])
def test_a_number_too_long_to_read_is_refused_as_such_not_as_a_body_that_is_not_json(env, number):
    """A JSON integer of 5,000 digits is JSON; Python refuses to read one past 4,300 digits, and that ValueError was
    answered as "the body is not JSON" (with Python's advice to call sys.set_int_max_str_digits() close behind).
    It is a 400 naming the problem: a number too long. One of 4,300 digits is read, and judged by its field."""
    headers = {**env["admin"], "Content-Type": "application/json"}
    answer = app("triggers").post("/rules", data='{"id": "r", "cooldown_s": ' + number + "}", headers=headers)
    message = answer.get_json()["error"]["message"]
    assert answer.status_code == 400 and message.startswith("the body holds a number too long: "), message
    assert "not JSON" not in message and "set_int_max_str_digits" not in message
    longest = app("triggers").post("/rules", data='{"cooldown_s": ' + "1" * 4_300 + "}",
                                   headers=headers)
    assert longest.status_code == 400 and "too long" not in longest.get_json()["error"]["message"]


@pytest.mark.parametrize("encode,message", [
    (lambda text: text.encode("utf-16"), "the body is not UTF-8 (byte 0): JSON is sent in UTF-8"),
    (lambda text: b"\xef\xbb\xbf" + text.encode(), "the body starts with a byte order mark: JSON is sent in UTF-8 "
                                                   "without one"),
])
def test_a_json_body_other_than_utf_8_is_refused(env, encode, message):
    """Python's json read a body in UTF-16 (or after a byte order mark) as JSON, which a proxy's filter reading UTF-8
    does not see as this JSON: the campaign was created."""
    import json

    answer = app("budget").post("/campaigns", data=encode(json.dumps(CAMPAIGN)),
                                headers={**env["admin"], "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["error"]["message"] == message, answer.get_data(as_text=True)
    assert app("budget").get("/campaigns/search-1", headers=env["admin"]).status_code == 404
