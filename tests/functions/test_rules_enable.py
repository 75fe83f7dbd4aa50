"""`amx rules enable ID`: a disabled rule enabled again as PUT /rules/{id} with enabled true does it (its reason
cleared), refused while the rule could not act, so that it is not enabled to be disabled again at its next firing."""

import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.rules.model import DEMO_WEBHOOK
from affiliate_matrix.rules.store import load_rule
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client
from tests.support.rules import add_webhook_key, relay_rule

DEMO_REASON = "the demo's rule: its webhook is a placeholder; give it yours and amx rules add --replace to use it"


def amx(*args: str) -> tuple[int, str]:
    """The exit code and what `amx rules …` said, its error included, on one line."""
    result = CliRunner().invoke(app, ["rules", *args])
    said = result.output + (str(result.exception) if result.exit_code and result.exception else "")
    return result.exit_code, " ".join(said.split())


def added(tmp_path, rule: dict) -> None:
    written = tmp_path / f"{rule['id']}.json"
    written.write_text(json.dumps(rule))
    assert amx("add", str(written))[0] == 0


def stored(tmp_path, rule_id: str):
    return load_rule(Runtime("test", Settings(data_dir=tmp_path)).store, rule_id)[0]


def test_a_disabled_rule_is_enabled_again_its_reason_cleared(env, tmp_path):
    """There was no `amx rules enable`: a rule disabled could be enabled again only by writing its document again."""
    added(tmp_path, {"id": "r1", "trigger": {"event": "program.delta"}, "condition": "true",
                     "action": {"type": "alert"}})
    assert amx("disable", "r1", "--reason", "noisy")[0] == 0
    assert amx("enable", "r1") == (0, "enabled rule r1")
    rule = stored(tmp_path, "r1")
    assert (rule.enabled, rule.disabled_reason) == (True, None)
    assert amx("show", "r1")[1].startswith("rule r1: enabled ")
    assert amx("enable", "r1") == (0, "rule r1 was enabled already")
    code, said = amx("enable", "r2")
    assert code != 0 and "there is no rule 'r2' (amx rules list)" in said, said


@pytest.fixture
def demo_rule(tmp_path):
    """The demo's rule as `amx demo` leaves it: disabled, its webhook the placeholder."""
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule

    rule = Rule(id="demo-commission-raised", trigger={"event": "program.delta"}, condition="true", cooldown_s=0,
                action={"type": "notify", "params": {"webhook_url": DEMO_WEBHOOK}}, enabled=False,
                disabled_reason=DEMO_REASON)
    save_rule(Runtime("test", Settings(data_dir=tmp_path)).store, rule, create=True)
    return rule


def test_the_demo_rule_is_not_enabled_with_its_placeholder_webhook_and_is_told_what_to_change(env, tmp_path,
                                                                                              demo_rule):
    """Enabled with the placeholder, Slack would refuse its first post for good and the rule be disabled again; `amx
    rules show` printed the webhook as its host alone, so nothing said which webhook it had. Enabling it is refused
    naming the webhook, as a PUT of it enabled is, and show and list name it as needing a change."""
    placeholder = "action.params.webhook_url is the demo's placeholder, which posts to no one"
    code, said = amx("enable", demo_rule.id)
    assert code != 0 and f"rule {demo_rule.id} not enabled: {placeholder}" in said, said
    assert "amx rules add --replace" in said
    assert stored(tmp_path, demo_rule.id) == demo_rule  # left as it was, its reason too
    assert f"needs a change: {placeholder}" in amx("show", demo_rule.id)[1]
    assert f"rule {demo_rule.id} needs a change: {placeholder}" in amx("list")[1]
    triggers = function_client("triggers")
    read = triggers.get(f"/rules/{demo_rule.id}", headers=env["admin"])
    assert any(placeholder in warning for warning in read.json["warnings"]), read.json
    body = {k: v for k, v in read.json.items() if k not in ("warnings", "state")} | {"enabled": True}
    put = triggers.put(f"/rules/{demo_rule.id}", json=body, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 400 and placeholder in put.json["error"]["message"], put.json
    # given a webhook of its own, it is enabled
    rule = demo_rule.model_dump(mode="json") | {"enabled": False}
    rule["action"]["params"]["webhook_url"] = "https://hooks.slack.com/services/T0/B0/mine"
    (tmp_path / "mine.json").write_text(json.dumps(rule))
    assert amx("add", "--replace", str(tmp_path / "mine.json"))[0] == 0
    assert amx("enable", demo_rule.id) == (0, f"enabled rule {demo_rule.id}")


def test_a_rule_whose_webhook_key_is_missing_is_not_enabled_until_the_key_is_there(env, tmp_path):
    """A notify whose auth_key is not there would be refused at its first firing, disabling the rule again."""
    added(tmp_path, {**relay_rule(auth_key="webhooks/relay"), "enabled": False})
    code, said = amx("enable", "relay")
    assert code != 0 and "rule relay not enabled: action.params.auth_key: no key is stored at 'webhooks/relay'" in said
    assert not stored(tmp_path, "relay").enabled
    add_webhook_key(Runtime("test", Settings(data_dir=tmp_path)), "webhooks/relay")
    assert amx("enable", "relay") == (0, "enabled rule relay")


def test_a_rule_whose_webhook_was_refused_for_good_is_not_enabled_until_it_has_another(env, tmp_path, monkeypatch):
    """A webhook its receiver refused for good (Slack's no_service: removed or revoked) disables its rule; `amx rules
    enable` and a PUT of it enabled enabled it again as it was, to post to the same dead webhook and be disabled again
    at its next firing. The refusal is recorded against that webhook: enabling the rule is refused, naming why and
    what to change, in the rule's warnings too, until it is given another webhook_url (an edit of anything else does
    not mend it)."""
    from affiliate_matrix.events import ACTION_PREFIX, Event
    from affiliate_matrix.rules.actions import execute
    from tests.support.loopback import Loopback

    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    gone = Loopback(lambda request: (404, {"Content-Type": "text/plain"}, b"no_service"))
    rule = {"id": "slack", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "notify", "params": {"webhook_url": gone.url + "/services/T0/B0/s3cr3t"}}}
    added(tmp_path, rule)
    with gone:
        execute(rt, Event.make(ACTION_PREFIX + "notify", "/triggers", {"rule_id": "slack", "params": {}, "inputs": {}}))
    disabled = stored(tmp_path, "slack")
    assert not disabled.enabled and "HTTP 404 (no_service)" in disabled.disabled_reason, disabled
    assert "give it another webhook_url" in disabled.disabled_reason, disabled.disabled_reason

    told = ("action.params.webhook_url: its receiver refused it for good (webhook answered HTTP 404 (no_service)), "
            "which disabled the rule: give the rule another webhook_url")
    code, said = amx("enable", "slack")
    assert code != 0 and f"rule slack not enabled: {told}" in said, said
    assert stored(tmp_path, "slack") == disabled  # left as it was
    assert f"needs a change: {told}" in amx("show", "slack")[1]
    assert f"rule slack needs a change: {told}" in amx("list")[1]
    assert "s3cr3t" not in amx("show", "slack")[1] + disabled.disabled_reason

    triggers = function_client("triggers")
    read = triggers.get("/rules/slack", headers=env["admin"])
    assert any(warning.startswith(told) for warning in read.json["warnings"]), read.json
    body = {k: v for k, v in read.json.items() if k not in ("warnings", "state")} | {"enabled": True}
    put = triggers.put("/rules/slack", json=body, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 400 and told in put.json["error"]["message"], put.json
    body["action"]["params"]["text"] = "a new text, the same webhook"
    put = triggers.put("/rules/slack", json=body, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 400 and told in put.json["error"]["message"], put.json
    body["action"]["params"]["webhook_url"] = "https://hooks.slack.com/services/T0/B0/new"
    put = triggers.put("/rules/slack", json=body, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 200 and put.json["enabled"] and put.json["warnings"] == [], put.json


def gone_webhook_rule(tmp_path, monkeypatch, rule_id: str) -> None:
    """A notify rule added and fired once at a webhook its receiver refuses for good (Slack's channel_is_archived),
    which disables it and records the refusal in its state."""
    from affiliate_matrix.events import ACTION_PREFIX, Event
    from affiliate_matrix.rules.actions import execute
    from tests.support.loopback import Loopback

    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    archived = Loopback(lambda request: (410, {"Content-Type": "text/plain"}, b"channel_is_archived"))
    added(tmp_path, {"id": rule_id, "trigger": {"event": "key.expiring"}, "condition": "true",
                     "action": {"type": "notify", "params": {"webhook_url": archived.url + "/services/T0/B0/s3cr3t"}}})
    with archived:
        execute(rt, Event.make(ACTION_PREFIX + "notify", "/triggers", {"rule_id": rule_id, "params": {},
                                                                        "inputs": {}}))
    assert not stored(tmp_path, rule_id).enabled


def test_a_rule_whose_channel_was_unarchived_is_enabled_with_the_same_webhook_when_told_so(env, tmp_path,
                                                                                           monkeypatch):
    """A Slack channel archived refuses its webhook for good, disabling the rule and recording the refusal; unarchived,
    the same webhook works again, but enabling the rule was refused until it had another webhook: the only way out
    was deleting the rule and adding it again. `amx rules enable --webhook-restored` (POST /rules/{id}/enable with
    webhook_restored) says the receiver was mended: the record is cleared and the rule enabled with its webhook."""
    from affiliate_matrix.rules.state import stored_state

    store = Runtime("test", Settings(data_dir=tmp_path)).store
    gone_webhook_rule(tmp_path, monkeypatch, "slack")
    code, said = amx("enable", "slack")
    assert code != 0 and "channel_is_archived" in said, said
    assert "amx rules enable slack --webhook-restored" in said and '{"webhook_restored": true}' in said, said
    assert "delete the rule" not in said

    assert amx("enable", "slack", "--webhook-restored") == (0, "enabled rule slack")
    assert "webhook_gone" not in stored_state(store, "slack")[0]
    assert stored(tmp_path, "slack").enabled and "needs a change" not in amx("show", "slack")[1]

    gone_webhook_rule(tmp_path, monkeypatch, "api")  # the API's enable alike
    triggers = function_client("triggers")
    refused = triggers.post("/rules/api/enable", json={}, headers=env["admin"])
    assert refused.status_code == 400 and "--webhook-restored" in refused.json["error"]["message"], refused.json
    assert not stored(tmp_path, "api").enabled
    assert triggers.post("/rules/api/enable", json={"webhook_restored": True}, headers=env["read"]).status_code == 403
    enabled = triggers.post("/rules/api/enable", json={"webhook_restored": True}, headers=env["admin"])
    assert enabled.status_code == 200 and enabled.json["enabled"] and enabled.json["warnings"] == [], enabled.json
    assert enabled.headers["ETag"] == triggers.get("/rules/api", headers=env["admin"]).headers["ETag"]
    assert "webhook_gone" not in stored_state(store, "api")[0] and stored(tmp_path, "api").enabled
    again = triggers.post("/rules/api/enable", json={}, headers=env["admin"])  # enabled already: as it is
    assert again.status_code == 200 and again.json["enabled"], again.json
    assert triggers.post("/rules/nope/enable", json={}, headers=env["admin"]).status_code == 404


def test_a_rule_enabled_again_starts_its_run_of_failures_afresh(env, tmp_path):
    """A rule disabled for raising 3 times in a row kept its count when enabled: `amx rules show` said "failed 3 times
    in a row (disabled at 3)" of a rule just enabled, and one more failure disabled it again at once. Enabled again, by
    `amx rules enable`, a PUT of it enabled or `amx rules add --replace`, it starts afresh (its last error kept, for
    the record); an edit of an enabled rule keeps its count."""
    from affiliate_matrix.rules.state import shown_state
    from affiliate_matrix.rules.store import disable_rule, update_state

    store = Runtime("test", Settings(data_dir=tmp_path)).store
    added(tmp_path, {"id": "r1", "trigger": {"event": "program.delta"}, "condition": "true",
                     "action": {"type": "alert"}})

    def failed(times: int) -> None:
        update_state(store, "r1", lambda state: {**state, "failures": times, "last_error": "KeyError: 'x'"})
        if times >= 3:
            disable_rule(store, "r1", f"raised {times} times; last: KeyError: 'x'")

    failed(3)
    assert amx("enable", "r1") == (0, "enabled rule r1")
    assert (shown_state(store, "r1")["failures"], shown_state(store, "r1")["last_error"]) == (0, "KeyError: 'x'")
    assert "failed" not in amx("show", "r1")[1]

    failed(3)
    triggers = function_client("triggers")
    read = triggers.get("/rules/r1", headers=env["admin"])
    assert read.json["state"]["failures"] == 3 and not read.json["enabled"], read.json
    body = {k: v for k, v in read.json.items() if k not in ("warnings", "state")} | {"enabled": True}
    put = triggers.put("/rules/r1", json=body, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 200 and put.json["state"]["failures"] == 0, put.json

    failed(3)  # and amx rules add --replace of it enabled, as the PUT
    (tmp_path / "again.json").write_text(json.dumps(body))
    assert amx("add", "--replace", str(tmp_path / "again.json"))[0] == 0
    assert shown_state(store, "r1")["failures"] == 0
    put = triggers.put("/rules/r1", json=body, headers={**env["admin"], "If-Match": triggers.get(
        "/rules/r1", headers=env["admin"]).headers["ETag"]})

    failed(2)  # enabled: an edit keeps its run
    put = triggers.put("/rules/r1", json=body | {"cooldown_s": 60},
                       headers={**env["admin"], "If-Match": put.headers["ETag"]})
    assert put.status_code == 200 and put.json["state"]["failures"] == 2, put.json


def test_a_rule_whose_failures_cannot_be_started_afresh_is_not_enabled(env, tmp_path, monkeypatch):
    """A PUT of a disabled rule enabled wrote the rule, then started its run of failures afresh: the store failing
    there answered 503 with the rule enabled all the same, its old run kept (one more failure disabled it again). Now
    the run is started afresh first: failing, nothing is written and the rule stays disabled, as the 503 says."""
    from affiliate_matrix.errors import BackendUnavailable
    from affiliate_matrix.rules import store as rules_store
    from affiliate_matrix.rules.store import disable_rule, update_state

    store = Runtime("test", Settings(data_dir=tmp_path)).store
    added(tmp_path, {"id": "r1", "trigger": {"event": "program.delta"}, "condition": "true",
                     "action": {"type": "alert"}})
    update_state(store, "r1", lambda state: {**state, "failures": 3, "last_error": "KeyError: 'x'"})
    disable_rule(store, "r1", "raised 3 times; last: KeyError: 'x'")
    triggers = function_client("triggers")
    read = triggers.get("/rules/r1", headers=env["admin"])
    body = {k: v for k, v in read.json.items() if k not in ("warnings", "state")} | {"enabled": True}

    def down(*_args, **_kwargs):  # stub: the store failing at this one write (no real store fails on cue)
        raise BackendUnavailable("the object store is down")

    monkeypatch.setattr(rules_store, "update_state", down)
    put = triggers.put("/rules/r1", json=body, headers={**env["admin"], "If-Match": read.headers["ETag"]})
    assert put.status_code == 503, put.json
    assert not stored(tmp_path, "r1").enabled
    assert amx("enable", "r1")[0] != 0 and not stored(tmp_path, "r1").enabled  # amx rules enable alike


def test_the_apis_enable_takes_no_body_as_its_cli_takes_no_option(env, tmp_path):
    """POST /rules/{id}/enable with no body (`curl -X POST`) was refused, "the body must be a JSON object", though
    none of its fields is required and {} was taken; its document called the body required. A body none of whose
    fields is required may be left out, and the document says so; one that requires a field is still required."""
    added(tmp_path, {"id": "r1", "trigger": {"event": "program.delta"}, "condition": "true",
                     "action": {"type": "alert"}})
    assert amx("disable", "r1", "--reason", "noisy")[0] == 0
    triggers = function_client("triggers")
    enabled = triggers.post("/rules/r1/enable", headers=env["admin"])
    assert enabled.status_code == 200 and enabled.json["enabled"], enabled.json
    assert stored(tmp_path, "r1").enabled
    assert triggers.post("/rules/r1/enable", data=b"[]", headers=env["admin"]).status_code == 400  # a body: an object
    tick = triggers.post("/rules/r1/test/tick", headers=env["admin"])
    assert tick.status_code == 400 and "the body must be a JSON object" in tick.json["error"]["message"], tick.json
    paths = triggers.get("/openapi.json").json["paths"]
    assert paths["/rules/{rule_id}/enable"]["post"]["requestBody"]["required"] is False
    assert paths["/rules/{rule_id}/test/tick"]["post"]["requestBody"]["required"] is True
