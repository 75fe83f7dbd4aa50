"""An event is judged by the rules as they are stored when it arrives, whichever process wrote them: each event lists
rules/ once (ETags included) and reads only what changed. A copy trusted for 10 s fired a rule for seconds after the
API had disabled it, and missed a new rule's first events, in every other process and in the API's own."""

from datetime import UTC, datetime

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.events import Event
from affiliate_matrix.rules.engine import on_event
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.rules.store import load_rule, load_state, save_rule
from affiliate_matrix.runtime import Runtime

KEY_EXPIRING = "dev.affiliatematrix.key.expiring"
T = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


def expiring(n: int, failed: int = 0) -> Event:
    return Event(id=f"e{n}", source="/keys", type=KEY_EXPIRING, time=T,
                 data={"path": "connections/awin", "days": 7, "failed": ["awin"] * failed})


def rule(rule_id: str, condition: str = "true", **changes) -> Rule:
    return Rule.model_validate({"id": rule_id, "trigger": {"event": "key.expiring"}, "condition": condition,
                                "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 0, **changes})


@pytest.fixture
def two_processes(tmp_path):
    """Two runtimes on one data dir: each its own store object, as two function instances have."""
    return Runtime("test", Settings(data_dir=tmp_path)), Runtime("test", Settings(data_dir=tmp_path))


def test_a_rule_disabled_or_added_elsewhere_counts_from_the_next_event(two_processes):
    here, elsewhere = two_processes
    save_rule(elsewhere.store, rule("loud"))
    assert [a["rule_id"] for a in on_event(here, expiring(1))] == ["loud"]
    loud, etag = load_rule(elsewhere.store, "loud")
    save_rule(elsewhere.store, loud.model_copy(update={"enabled": False}), if_match=etag)
    save_rule(elsewhere.store, rule("new"))
    assert [a["rule_id"] for a in on_event(here, expiring(2))] == ["new"]
    elsewhere.store.delete("rules/new.json")
    assert on_event(here, expiring(3)) == []


def test_an_event_reads_only_the_rules_and_states_that_changed(two_processes):
    """Per event one listing; a rule is read again only when its ETag changed, and a healthy rule's state that did
    not hold (no failures to end) is not read at all: a batch's thousands of deltas times the rules."""
    here, elsewhere = two_processes
    save_rule(elsewhere.store, rule("quiet", "key.failures == 5"))
    reads = []
    get = here.store.get
    here.store.get = lambda key, **bound: reads.append(key) or get(key, **bound)
    for n in range(5):
        assert on_event(here, expiring(n)) == []
    assert reads == ["rules/quiet.json"]
    quiet, etag = load_rule(elsewhere.store, "quiet")
    save_rule(elsewhere.store, quiet.model_copy(update={"condition": "key.failures == 6"}), if_match=etag)
    assert on_event(here, expiring(9)) == []
    assert reads == ["rules/quiet.json", "rules/quiet.json"]


def test_a_failure_counted_elsewhere_is_ended_by_the_next_success_here(two_processes):
    """Consecutive failures: one process's failure, then a success in another, then a failure: never three in a
    row, so never disabled. With a process's memory of a clean rule trusted for 10 s, the success was not looked at."""
    here, elsewhere = two_processes
    save_rule(here.store, rule("fragile", "1 / (key.failures - 1) == 5"))
    assert on_event(here, expiring(1)) == []  # read with no failures: remembered clean here
    for n in (2, 3):
        [failed] = on_event(elsewhere, expiring(n, failed=1))  # division by zero, twice, in the other process
        assert failed["decision"] == "error"
    assert load_state(here.store, "fragile")[0]["failures"] == 2
    assert on_event(here, expiring(4)) == []  # holds not, raises not: the run of failures ends
    assert load_state(here.store, "fragile")[0]["failures"] == 0
    [failed] = on_event(elsewhere, expiring(5, failed=1))
    assert failed["outcome"] == "failed" and load_rule(here.store, "fragile")[0].enabled


def test_a_rule_added_again_under_a_deleted_ones_id_starts_afresh(env):
    """A rule's state (its last firing, its failures) outlived the rule: one added again under the id was cooling
    down from the old one's firing, through the API and `amx rules delete` alike."""
    from tests.support.apps import function_client
    from tests.support.events import deliver_event

    triggers = function_client("triggers")
    rule = {"id": "again", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 86400}
    for n, time in enumerate(("2026-11-22T07:00:00+00:00", "2026-11-22T08:00:00+00:00")):
        assert triggers.post("/rules", json=rule, headers=env["admin"]).status_code == 201
        assert deliver_event(triggers, "triggers", KEY_EXPIRING, {"path": "connections/awin", "days": 7},
                             time=time, id=f"e{n}").status_code == 204
        etag = triggers.get("/rules/again", headers=env["admin"]).headers["ETag"]
        assert triggers.delete("/rules/again", headers={**env["admin"], "If-Match": etag}).status_code == 204
    decisions = [a["decision"] for a in triggers.get("/activations", headers=env["read"]).json["items"]]
    assert decisions == ["fired", "fired"]


def test_amx_rules_delete_takes_the_rules_state_with_it(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    save_rule(rt.store, rule("gone", cooldown_s=86400))
    assert [a["rule_id"] for a in on_event(rt, expiring(1))] == ["gone"]
    assert CliRunner().invoke(app, ["rules", "delete", "gone"]).exit_code == 0
    assert rt.store.head("rules/state/gone.json") is None and rt.store.head("rules/gone.json") is None
    missing = CliRunner().invoke(app, ["rules", "delete", "gone"])
    assert missing.exit_code != 0 and "there is no rule 'gone'" in str(missing.exception)  # main() prints it


def test_an_events_listing_of_the_rules_does_not_grow_with_the_activations_recorded(two_processes):
    """Each event lists the rules (and their states) to see what changed; the activation records were kept under
    rules/ too (rules/activations/<day>/…, one per firing, never removed), so that listing walked every activation
    ever recorded: 20,000 cost each event 0.4 s on the embedded store, 20 list requests on S3, growing for good."""
    here, elsewhere = two_processes
    save_rule(elsewhere.store, rule("loud"))
    for n in range(30):
        assert [a["decision"] for a in on_event(here, expiring(n))] == ["fired"]
    listed = []
    walk = here.store.listed
    here.store.listed = lambda prefix="": (listed.append(item) or item for item in walk(prefix))
    on_event(here, expiring(99))
    assert sorted(key for key, _ in listed) == ["rules/loud.json", "rules/state/loud.json"]
