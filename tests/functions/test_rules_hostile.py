"""The triggers function fed hostile rules and events through its real entry points (its HTTP stack, signed
CloudEvents as the Broker delivers them): decisions judged by the event, a bad rule costing only itself."""

import pytest

from tests.support.apps import function_client
from tests.support.events import deliver_event

KEY_EXPIRING = "dev.affiliatematrix.key.expiring"
# A rule valid until a date, said in its condition: judged by the event's time, never by the clock of the machine
# that happens to evaluate it (a redelivery hours later, a dry run, a backlog drained the next day).
UNTIL = 'timestamp(now) < timestamp("2026-06-01T00:00:00Z")'
FROM = 'timestamp(now) >= timestamp("2100-01-01T00:00:00Z")'


@pytest.mark.parametrize("condition,time,holds", [
    (UNTIL, "2026-05-31T23:00:00+00:00", True), (UNTIL, "2026-06-01T01:00:00+00:00", False),
    (FROM, "2100-01-01T01:00:00+00:00", True), (FROM, "2099-12-31T23:00:00+00:00", False)])
def test_a_rule_valid_within_dates_is_judged_by_the_events_time_not_the_wall_clock(env, condition, time, holds):
    """`now` was the wall clock for event rules (engine.context_values), so whether a rule valid until June held
    depended on when the triggers function got the event, and a dry run of an event at a given time said what the
    wall clock said."""
    triggers = function_client("triggers")
    rule = {"id": "dated", "trigger": {"event": "key.expiring"}, "condition": condition,
            "action": {"type": "alert", "params": {"text": "key {key_path} expiring"}}, "cooldown_s": 0}
    assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
    verdict = triggers.post("/rules/dated/test", headers=env["read"],
                            json={"type": KEY_EXPIRING, "time": time, "data": {"path": "connections/awin", "days": 7}})
    assert verdict.status_code == 200 and verdict.json["holds"] is holds
    delivered = deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin", "days": 7}, time=time)
    assert delivered.status_code == 204
    decisions = [a["decision"] for a in triggers.get("/activations", headers=env["read"]).json["items"]]
    assert decisions == (["fired"] if holds else [])
