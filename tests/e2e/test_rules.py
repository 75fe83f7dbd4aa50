"""Rules end to end: the triggers function fed CloudEvents over its HTTP stack, actions
dispatched to a receiver standing in for the Knative Broker and delivered back the way Triggers
route them, the webhook a local receiver; conditions checked by `amx rules add`."""

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from functions_framework import create_app

from affiliate_matrix.config import Settings
from affiliate_matrix.events import ACTION_PREFIX, PROGRAM_DELTA, SYNC_FAILED, SYNC_REQUESTED, Event
from affiliate_matrix.models import DeltaChange, FieldChange, RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.rules.engine import on_event, on_schedule
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.rules.store import activations, delete_rule, disable_rule, load_rule, load_state, save_rule
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.events import deliver
from tests.support.loopback import Loopback
from tests.support.processes import BIN, ROOT, amx_in
from tests.support.receiver import Receiver

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def broker():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def webhook():
    receiver = Receiver(statuses=[200] * 10)
    yield receiver
    receiver.close()


@pytest.fixture
def rt(tmp_path, monkeypatch, broker):
    for name, value in {"AMX_DATA_DIR": str(tmp_path), "AMX_EVENTS": "http", "AMX_BROKER_URL": broker.url,
                        "AMX_ALLOW_LOOPBACK_FETCH": "true"}.items():
        monkeypatch.setenv(name, value)
    runtime = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    program = normalize(RawRecord(source="awin", connection_id="awin", record_key="1001", name="PixelForge Games",
                                  url="https://ui.awin.com/1001", fetched_at=T0, raw_key="raw/x",
                                  merchant_url="https://pixelforge.example.com/", commission_text="30% per sale"))
    program.categories = ["gaming"]
    runtime.index.ensure_index(PROGRAMS_INDEX)
    runtime.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program)], refresh=True)
    runtime.program_id = program.id
    return runtime


def commission_delta(program_id: str, old: float, new: float, at: datetime) -> Event:
    def terms(value):
        return [{"type": "percent", "value_min": str(value), "value_max": None, "currency": None,
                 "recurring": None, "tiers": []}]

    fields = [FieldChange(field="commission", old=terms(old), new=terms(new))]
    delta = DeltaChange(id=DeltaChange.make_id(program_id, "updated", fields, at), program_id=program_id,
                        change="updated", fields=fields, at=at, source="awin")
    event = Event.make(PROGRAM_DELTA, "/index", delta.model_dump(mode="json"), key=delta.id, subject=program_id)
    event.time = at
    return event


def as_event(cloud_event: dict) -> Event:
    """A structured CloudEvent the broker received, as the functions' Event."""
    return Event.model_validate({k: cloud_event[k] for k in ("id", "source", "type", "subject", "time", "data")
                                 if k in cloud_event})


def triggers_app():
    return create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()


def raise_rule(webhook_url: str) -> Rule:
    return Rule(id="gaming-commission-up", trigger={"event": "program.delta"},
                condition='"gaming" in program.categories && delta.commission_percent_new > delta.commission_percent_old',
                action={"type": "notify", "params": {"webhook_url": webhook_url,
                                                     "text": "{program_name} raised commission {commission_old}% → {commission_new}%"}},
                cooldown_s=3600)


def test_a_raise_notifies_exactly_once_across_three_deliveries_and_a_cut_not_at_all(rt, broker, webhook):
    save_rule(rt.store, raise_rule(webhook.url), create=True)
    app = triggers_app()
    raised = commission_delta(rt.program_id, 20, 30, T0)
    for _ in range(3):  # at-least-once delivery
        assert deliver(app, raised, "triggers").status_code == 204
    actions = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    assert len(actions) == 1 and actions[0]["type"] == ACTION_PREFIX + "notify"
    for _ in range(2):  # the Broker routes action.notify back to triggers; redelivered too
        assert deliver(app, actions[0], "triggers").status_code == 204
    assert len(webhook.requests) == 1
    message = webhook.json_bodies()[0]
    assert message["text"] == "PixelForge Games raised commission 20% → 30%"
    assert message["blocks"][0]["text"] == {"type": "mrkdwn", "text": message["text"]}
    assert webhook.requests[0].headers["content-type"] == "application/json"

    cut = commission_delta(rt.program_id, 30, 25, T0 + timedelta(hours=2))
    assert deliver(app, cut, "triggers").status_code == 204
    assert len([e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]) == 1
    log = activations(rt)
    assert [(a["decision"], a["outcome"]) for a in log] == [("fired", "done")]
    assert log[0]["inputs"]["program_id"] == rt.program_id and "posted (200)" in log[0]["detail"]


def test_a_new_programs_notify_says_its_old_commission_is_not_stated_not_0(rt, broker, webhook):
    """A created program's delta states no old commission: {commission_old} read "0" ("raised 0% → 30%"), a rate it
    never had. It reads as a missing value does elsewhere (wording.NO_VALUE); the activation keeps null, not 0."""
    rule = Rule(id="big-new-program", trigger={"event": "program.delta"}, condition="delta.commission_percent_new >= 30",
                action={"type": "notify", "params": {"webhook_url": webhook.url,
                                                     "text": "{program_name}: {commission_old}% → {commission_new}%"}})
    save_rule(rt.store, rule, create=True)
    app = triggers_app()
    fields = [FieldChange(field="commission", new=[{"type": "percent", "value_min": "30", "value_max": None,
                                                    "currency": None, "recurring": None, "tiers": []}])]
    created = DeltaChange(id=DeltaChange.make_id(rt.program_id, "created", fields, T0), program_id=rt.program_id,
                          change="created", fields=fields, at=T0, source="awin")
    event = Event.make(PROGRAM_DELTA, "/index", created.model_dump(mode="json"), key=created.id, subject=rt.program_id)
    event.time = T0
    assert deliver(app, event, "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    assert deliver(app, action, "triggers").status_code == 204
    assert webhook.json_bodies()[0]["text"] == "PixelForge Games: —% → 30%"
    [fired] = activations(rt)
    assert (fired["inputs"]["commission_old"], fired["inputs"]["commission_new"]) == (None, 30.0)


def test_an_action_event_never_carries_the_webhooks_url_which_is_read_from_the_rule(rt, broker, webhook):
    """The notify action's event carried the rule's webhook URL (a credential: whoever has a Slack webhook's URL posts
    to its channel) across the Broker and whole into any dead letter. It carries none; the action reads the URL from
    the rule as stored when it runs, and a rule deleted meanwhile posts nothing."""
    secret_path = "/services/T0/B0/s3cr3t-path"
    save_rule(rt.store, raise_rule(webhook.url + secret_path), create=True)
    app = triggers_app()
    assert deliver(app, commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    assert "s3cr3t" not in json.dumps(action) and "webhook_url" not in action["data"]["params"]
    assert action["data"]["params"]["text"].startswith("{program_name} raised")  # what is no secret still travels
    assert deliver(app, action, "triggers").status_code == 204
    assert [request.path for request in webhook.requests] == [secret_path]

    again = on_event(rt, commission_delta(rt.program_id, 30, 40, T0 + timedelta(hours=2)))
    assert again[0]["decision"] == "fired"
    second = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)][-1]
    delete_rule(rt.store, "gaming-commission-up")
    assert deliver(app, second, "triggers").status_code == 204
    assert len(webhook.requests) == 1  # the rule is gone: nothing posted
    [outcome] = [a for a in activations(rt) if a["id"] == second["data"]["activation_id"]]
    assert outcome["outcome"] == "failed" and "no longer exists" in outcome["detail"]


def test_cooldown_keeps_a_second_raise_quiet_until_it_passes(rt, broker, webhook):
    save_rule(rt.store, raise_rule(webhook.url), create=True)
    first = on_event(rt, commission_delta(rt.program_id, 20, 30, T0))
    second = on_event(rt, commission_delta(rt.program_id, 30, 35, T0 + timedelta(minutes=30)))
    third = on_event(rt, commission_delta(rt.program_id, 35, 40, T0 + timedelta(hours=2)))
    assert [a[0]["decision"] for a in (first, second, third)] == ["fired", "cooldown", "fired"]
    assert len([e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]) == 2


def test_a_late_event_does_not_wind_the_cooldown_back(rt, broker, webhook):
    """An event delivered late (its time hours before the last firing) fires as its own episode, but it set the
    rule's last firing to its old time, so a raise 20 minutes after the last firing fired again."""
    save_rule(rt.store, raise_rule(webhook.url), create=True)
    first = on_event(rt, commission_delta(rt.program_id, 20, 30, T0))
    late = on_event(rt, commission_delta(rt.program_id, 10, 15, T0 - timedelta(hours=2)))
    soon = on_event(rt, commission_delta(rt.program_id, 30, 35, T0 + timedelta(minutes=20)))
    assert [a[0]["decision"] for a in (first, late, soon)] == ["fired", "fired", "cooldown"]
    assert load_state(rt.store, "gaming-commission-up")[0]["last_fired_at"] == T0.isoformat()


def fire_at(rt, broker, path: str, answer, headers=None) -> tuple[Loopback, dict]:
    """The raise rule saved with a webhook (at `path`) answering `answer` (status, body), fired once: the webhook and
    the action."""
    status, body = answer
    webhook = Loopback(lambda request: (status, {"Content-Type": "text/plain", **(headers or {})}, body))
    save_rule(rt.store, raise_rule(webhook.url + path), create=True)
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    return webhook, action


@pytest.mark.parametrize("answer, outcome", [
    ((404, b"no_service"), "disabled"),  # Slack: the webhook was removed or disabled
    ((404, b"channel_not_found"), "disabled"),
    ((410, b"channel_is_archived"), "disabled"),
    ((403, b"invalid_token"), "disabled"),
    ((400, b"invalid_payload"), "failed"),  # this message's fault, not the webhook's: the next one may post
    ((404, b"<html><body>Not Found</body></html>"), "failed"),  # not Slack's word: no telling what it means
])
def test_a_webhook_refused_for_good_disables_its_rule_at_once_and_says_why_on_the_rule(rt, broker, answer, outcome):
    """A webhook Slack answers no_service (revoked) or channel_not_found was recorded as failed and the rule left
    enabled: every firing after posted to it and failed the same way. Only a person can mend it, so the rule is
    disabled at the first such answer, with the reason on the rule (its webhook's secret path never in it), and its
    rule.action_done logged at warning (it was info: an operator watching warnings never saw the rule switch off). A
    failed one is a warning too, naming the rule and why: one failing at every firing was logged at info alone."""
    from structlog.testing import capture_logs

    webhook, action = fire_at(rt, broker, "/services/T0/B0/s3cr3t", answer)
    app = triggers_app()  # started (its logging configured) before the logs are captured
    with webhook, capture_logs() as logs:
        assert deliver(app, action, "triggers").status_code == 204
    assert len(webhook.requests) == 1
    rule, _ = load_rule(rt.store, "gaming-commission-up")
    [activation] = activations(rt)
    assert activation["outcome"] == outcome and rule.enabled is (outcome == "failed")
    [done] = [line for line in logs if line["event"] == "rule.action_done"]
    assert (done["status"], done["log_level"], done["rule_id"]) == (outcome, "warning", "gaming-commission-up"), done
    assert f"HTTP {answer[0]}" in done["outcome"] and "s3cr3t" not in json.dumps(done)
    if outcome == "disabled":
        assert f"HTTP {answer[0]} ({answer[1].decode()})" in rule.disabled_reason
        assert "s3cr3t" not in rule.disabled_reason + activation["detail"]
        assert on_event(rt, commission_delta(rt.program_id, 30, 40, T0 + timedelta(hours=2))) == []  # fires no more


def test_a_webhook_failing_for_now_leaves_its_rule_enabled_for_the_bus_to_redeliver(rt, broker):
    """A 429 (asking to wait longer than the 30 s we wait) or a 5xx is the webhook's passing trouble: left to the bus,
    the rule as it was."""
    webhook, action = fire_at(rt, broker, "/services/T0/B0/s3cr3t", (429, b""), {"Retry-After": "120"})
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code >= 500
    assert load_rule(rt.store, "gaming-commission-up")[0].enabled
    assert [a["outcome"] for a in activations(rt)] == ["dispatched"]


def test_an_action_in_flight_posts_to_the_webhook_the_rule_has_when_it_runs(rt, broker):
    """The action's event carries no webhook URL (a credential): one in flight when the rule was given a new webhook
    posts to the new one; the old one, refusing for good, is not asked and disables nothing."""
    old, action = fire_at(rt, broker, "/services/T0/B0/old", (404, b"no_service"))
    new = Loopback(lambda request: (200, {"Content-Type": "text/plain"}, b"ok"))
    _, etag = load_rule(rt.store, "gaming-commission-up")
    save_rule(rt.store, raise_rule(new.url + "/services/T0/B0/new"), if_match=etag)
    with old, new:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    assert old.requests == [] and [request.path for request in new.requests] == ["/services/T0/B0/new"]
    assert load_rule(rt.store, "gaming-commission-up")[0].enabled
    assert [a["outcome"] for a in activations(rt)] == ["done"]


@pytest.mark.parametrize("body", [b"<html>" + b"x" * (6 * 2**20) + b"</html>",  # past the 5 MB cap, declared
                                  (b"x" * 2**20 for _ in range(6))])  # streamed, its length unsaid
def test_a_webhook_answering_2xx_with_a_body_past_the_cap_is_recorded_as_posted(rt, broker, body):
    """The POST went out and the webhook said 200, but its answer's body was past the client's 5 MB cap: the action was
    recorded as failed, "webhook not posted". Only the body's opening is read (Slack's word fits in it)."""
    webhook = Loopback(lambda request: (200, {"Content-Type": "text/html"}, body))
    save_rule(rt.store, raise_rule(webhook.url + "/services/T0/B0/s3cr3t"), create=True)
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    assert len(webhook.requests) == 1
    [activation] = activations(rt)
    assert (activation["outcome"], activation["detail"]) == ("done", "posted (200)"), activation


def test_a_webhook_refusing_with_a_long_body_is_refused_without_reading_it_whole(rt, broker):
    """A refusal whose body is past what is read names no word of it (it could be cut mid-word)."""
    webhook, action = fire_at(rt, broker, "/services/T0/B0/s3cr3t", (404, b"no_service" + b" " * 2000 + b"x"))
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    [activation] = activations(rt)
    assert activation["outcome"] == "failed" and activation["detail"].endswith("webhook answered HTTP 404")


def test_a_rule_stored_with_credentials_in_its_webhook_url_still_posts_and_never_shows_the_password(rt, broker,
                                                                                                 capsys):
    """Such a URL is refused when a rule is written now (test_rules_hostile); one stored before still loads and posts
    as it did (user:password@ as Basic auth), the password in no event, log line or activation."""
    webhook, action = fire_at(rt, broker, "/hook", (200, b"ok"))
    rule, etag = load_rule(rt.store, "gaming-commission-up")
    userinfo = webhook.url.replace("http://", "http://amx:s3cr3t-pw@")
    save_rule(rt.store, raise_rule(userinfo + "/hook"), if_match=etag)
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    [request] = webhook.requests
    assert request.headers["authorization"] == "Basic YW14OnMzY3IzdC1wdw=="  # amx:s3cr3t-pw
    [activation] = activations(rt)
    assert activation["outcome"] == "done"
    logged = "".join(capsys.readouterr())
    assert "s3cr3t-pw" not in json.dumps(action) + json.dumps(activation) + logged
    assert "rule.webhook_credentials_in_url" in logged  # each firing says the rule needs a change


def add_webhook_key(rt, url: str, value: str = "Bearer t0k3n-relay", path: str = "webhooks/relay") -> None:
    """A webhook's key as amx keys add stores it, sent only to `url`'s origin."""
    from affiliate_matrix.keys import KeyRecord, add_key, origin

    add_key(rt, KeyRecord(path=path, rotation="manual", created_at=T0, origins=[origin(url)]), {"value": value})


def keyed_rule(url: str, **auth) -> Rule:
    """The raise rule posting to `url` with a secret header (auth_key, auth_header)."""
    rule = raise_rule(url)
    return rule.model_copy(update={"action": rule.action.model_copy(update={
        "params": {**rule.action.params, **auth}})})


@pytest.mark.parametrize("auth_header, sent_as", [(None, "authorization"), ("X-Relay-Token", "x-relay-token")])
def test_a_webhook_key_is_sent_in_its_header_and_its_value_shown_nowhere(rt, broker, capsys, auth_header, sent_as):
    """A webhook that needs a secret header (a bearer token, a relay's X-…-Token) could not be used: user:password@ is
    refused, and the notify action sent no header of its own. The rule names a key of the secret store (auth_key) and
    the header (auth_header, Authorization by default); the action reads the key as it posts, and its value is in no
    event, activation or log line."""
    webhook = Receiver(statuses=[200])
    add_webhook_key(rt, webhook.url)
    save_rule(rt.store, keyed_rule(webhook.url + "hook", auth_key="webhooks/relay",
                                   **({"auth_header": auth_header} if auth_header else {})), create=True)
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    assert not {"auth_key", "auth_header", "webhook_url"} & set(action["data"]["params"])  # read from the rule
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    [request] = webhook.requests
    assert request.headers[sent_as] == "Bearer t0k3n-relay"
    [activation] = activations(rt)
    assert (activation["outcome"], activation["detail"]) == ("done", "posted (200)")
    assert "t0k3n" not in json.dumps(action) + json.dumps(activation) + "".join(capsys.readouterr())


def test_a_webhook_key_is_never_sent_to_an_origin_it_was_not_added_for(rt, broker, capsys):
    """A rule stored naming a webhook's key with another origin's webhook_url (stored before that was refused when
    written, or its key added again since for another webhook) posts nothing when it fires: the header never reaches
    that origin (another port of the same host is another origin). Every firing would be refused the same way until a
    person changes the rule or the key, so the rule is disabled at once, as for a webhook refusing for good: it was
    recorded as failed, the rule left enabled to be refused at each firing. The activation and the rule's reason
    name the key and its origins."""
    owned, other = Receiver(statuses=[200]), Receiver(statuses=[200])
    add_webhook_key(rt, owned.url)
    save_rule(rt.store, keyed_rule(other.url + "hook", auth_key="webhooks/relay"), create=True)  # as stored before
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    with owned, other:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    assert owned.requests == [] and other.requests == []
    [activation] = activations(rt)
    owned_origin, other_origin = owned.url.rstrip("/"), other.url.rstrip("/")
    told = f"the key at 'webhooks/relay' is sent only to {owned_origin}, not to {other_origin}"
    assert activation["outcome"] == "disabled" and told in activation["detail"], activation
    rule, _ = load_rule(rt.store, "gaming-commission-up")
    assert not rule.enabled and told in rule.disabled_reason and "refused for good" in rule.disabled_reason
    assert on_event(rt, commission_delta(rt.program_id, 30, 40, T0 + timedelta(hours=1))) == []  # fires no more
    # the rule pointed at the key's webhook, the key then added again for another: refused at the firing as well
    from affiliate_matrix.keys import revoke

    _, etag = load_rule(rt.store, "gaming-commission-up")
    save_rule(rt.store, keyed_rule(owned.url + "hook", auth_key="webhooks/relay"), if_match=etag)
    revoke(rt, "webhooks/relay")
    add_webhook_key(rt, other.url)
    again = on_event(rt, commission_delta(rt.program_id, 30, 40, T0 + timedelta(hours=2)))
    assert again[0]["decision"] == "fired"
    later = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)][-1]
    with owned, other:
        assert deliver(triggers_app(), later, "triggers").status_code == 204
    assert owned.requests == [] and other.requests == []
    [outcome] = [a for a in activations(rt) if a["id"] == later["data"]["activation_id"]]
    assert outcome["outcome"] == "disabled" and f"is sent only to {other_origin}, not to {owned_origin}" in \
        outcome["detail"], outcome
    assert not load_rule(rt.store, "gaming-commission-up")[0].enabled
    assert "t0k3n" not in json.dumps(activations(rt)) + "".join(capsys.readouterr())


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_webhook_redirect_never_carries_its_key_to_another_origin(rt, broker, status):
    """A redirect is not followed (the polite client follows none): its secret header, and the secret path, never
    reach the origin the Location names. The activation says so, and what to do."""
    elsewhere = Receiver(statuses=[200])
    webhook = Loopback(lambda request: (status, {"Location": elsewhere.url + "stolen"}, b""), host="127.0.0.2")
    add_webhook_key(rt, webhook.url)
    save_rule(rt.store, keyed_rule(webhook.url + "/hook", auth_key="webhooks/relay", auth_header="X-Relay-Token"),
              create=True)
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    with webhook, elsewhere:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    assert [r.headers["x-relay-token"] for r in webhook.requests] == ["Bearer t0k3n-relay"]
    assert elsewhere.requests == []
    [activation] = activations(rt)
    assert activation["outcome"] == "failed" and activation["detail"].endswith(
        f"webhook answered HTTP {status}, a redirect, not followed: give the webhook's own URL"), activation


def test_a_webhook_key_no_header_can_carry_fails_the_post_named_by_its_header_not_its_value(rt, broker, capsys):
    """A key's value with a line break (written to the store by hand: amx keys add refuses one) cannot be a header's
    value: nothing is sent, and the outcome names the header, never the value."""
    webhook = Receiver(statuses=[200])
    add_webhook_key(rt, webhook.url, "Bearer t0k3n\r\nX-Forged: 1")
    save_rule(rt.store, keyed_rule(webhook.url + "hook", auth_key="webhooks/relay"), create=True)
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    assert webhook.requests == []
    [activation] = activations(rt)
    assert activation["outcome"] == "failed" and "the request header 'Authorization' is not a valid" in \
        activation["detail"], activation
    assert "t0k3n" not in json.dumps(activation) + "".join(capsys.readouterr())


def test_an_action_in_flight_sends_the_key_the_rule_has_with_its_webhook_when_it_runs(rt, broker):
    """The webhook and its key are read together from the rule as stored when the action runs: a rule given another
    webhook (and no key) while its action was in flight never sends the first webhook's key to the second; a key
    removed since refuses the post, named, with nothing sent, and disables the rule until the key is added again."""
    first, second = Receiver(statuses=[200]), Receiver(statuses=[200])
    add_webhook_key(rt, first.url)
    save_rule(rt.store, keyed_rule(first.url + "hook", auth_key="webhooks/relay"), create=True)
    assert deliver(triggers_app(), commission_delta(rt.program_id, 20, 30, T0), "triggers").status_code == 204
    [action] = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)]
    _, etag = load_rule(rt.store, "gaming-commission-up")
    etag = save_rule(rt.store, raise_rule(second.url + "hook"), if_match=etag)
    with first, second:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
        assert first.requests == [] and "authorization" not in second.requests[0].headers
        save_rule(rt.store, keyed_rule(first.url + "hook", auth_key="webhooks/relay"), if_match=etag)
        rt.secrets.destroy("webhooks/relay", [1])
        again = on_event(rt, commission_delta(rt.program_id, 30, 40, T0 + timedelta(hours=2)))
        assert again[0]["decision"] == "fired"
        later = [e for e in broker.json_bodies() if e["type"].startswith(ACTION_PREFIX)][-1]
        assert deliver(triggers_app(), later, "triggers").status_code == 204
    assert first.requests == []
    [outcome] = [a for a in activations(rt) if a["id"] == later["data"]["activation_id"]]
    assert outcome["outcome"] == "disabled" and "no key is stored at 'webhooks/relay'" in outcome["detail"], outcome
    rule, _ = load_rule(rt.store, "gaming-commission-up")
    assert not rule.enabled and "amx keys add webhooks/relay" in rule.disabled_reason


def test_a_rule_disabled_by_hand_keeps_its_persons_reason_when_its_webhook_is_then_refused_for_good(rt, broker):
    """A rule a person disabled (its reason theirs) while its action was in flight had that reason overwritten by the
    webhook's refusal: the rule was disabled already, so nothing is written and the person's reason stands."""
    webhook, action = fire_at(rt, broker, "/services/T0/B0/s3cr3t", (404, b"no_service"))
    assert disable_rule(rt.store, "gaming-commission-up", "paused for the sale week") is not None
    _, etag = load_rule(rt.store, "gaming-commission-up")
    with webhook:
        assert deliver(triggers_app(), action, "triggers").status_code == 204
    rule, after = load_rule(rt.store, "gaming-commission-up")
    assert (rule.enabled, rule.disabled_reason, after) == (False, "paused for the sale week", etag)  # not written
    assert [a["outcome"] for a in activations(rt)] == ["disabled"]


def test_a_rule_that_raises_is_disabled_after_three_failures_and_others_still_run(rt, broker, webhook):
    # passes the trial (the sample delta has many fields) but real deltas have one: index out of range
    fragile = Rule(id="fragile", trigger={"event": "program.delta"}, condition='delta.fields[5] == "commission"',
                   action={"type": "alert"})
    save_rule(rt.store, fragile, create=True)
    save_rule(rt.store, raise_rule(webhook.url).model_copy(update={"cooldown_s": 0}), create=True)
    for minute in range(3):
        fired = on_event(rt, commission_delta(rt.program_id, 20 + minute, 30 + minute, T0 + timedelta(minutes=minute)))
        assert sorted(a["decision"] for a in fired) == ["error", "fired"]
    rule, _ = load_rule(rt.store, "fragile")
    assert not rule.enabled and rule.disabled_reason.startswith("raised 3 times; last:")
    assert load_state(rt.store, "fragile")[0]["failures"] == 3
    later = on_event(rt, commission_delta(rt.program_id, 40, 50, T0 + timedelta(minutes=10)))
    assert [a["rule_id"] for a in later] == ["gaming-commission-up"]


def test_a_rule_deleted_as_its_third_failure_disables_it_costs_the_other_rules_nothing(rt, broker, webhook,
                                                                                       monkeypatch):
    # disable_rule read the rule deleted a moment before: NotFoundError out of the event, a 404 that acknowledged it
    # with the rules after it never evaluated.
    from affiliate_matrix.rules import engine
    from affiliate_matrix.rules.store import rule_key

    fragile = Rule(id="fragile", trigger={"event": "program.delta"}, condition='delta.fields[5] == "commission"',
                   action={"type": "alert"})
    save_rule(rt.store, fragile, create=True)
    save_rule(rt.store, raise_rule(webhook.url).model_copy(update={"cooldown_s": 0}), create=True)
    counted = engine.update_state

    def deleted_on_the_third(store, rule_id, change):
        state = counted(store, rule_id, change)
        if rule_id == "fragile" and state["failures"] == 3:
            store.delete(rule_key("fragile"))
        return state

    monkeypatch.setattr(engine, "update_state", deleted_on_the_third)
    for minute in range(3):
        fired = on_event(rt, commission_delta(rt.program_id, 20 + minute, 30 + minute, T0 + timedelta(minutes=minute)))
        assert sorted((a["rule_id"], a["decision"]) for a in fired) == [("fragile", "error"),
                                                                        ("gaming-commission-up", "fired")]
    assert {a["rule_id"]: a["outcome"] for a in fired}["fragile"] == "failed"  # gone: nothing left to disable


def test_a_failure_delivered_again_counts_once(rt):
    """An event whose work failed elsewhere is delivered again (Knative retries it), and a schedule's tick is evaluated
    again when its ping stopped before marking it done: a rule raising on it counted one failure per delivery, so
    one event delivered three times disabled it. Failures count once per trigger; another event is another one."""
    fragile = Rule(id="fragile", trigger={"event": "program.delta"}, condition='delta.fields[5] == "commission"',
                   action={"type": "alert"})
    save_rule(rt.store, fragile, create=True)
    event = commission_delta(rt.program_id, 20, 30, T0)
    for _ in range(3):
        assert [a["decision"] for a in on_event(rt, event)] == ["error"]
    assert load_state(rt.store, "fragile")[0]["failures"] == 1 and load_rule(rt.store, "fragile")[0].enabled
    for minute in (1, 2):
        on_event(rt, commission_delta(rt.program_id, 20, 30, T0 + timedelta(minutes=minute)))
    rule, _ = load_rule(rt.store, "fragile")
    assert load_state(rt.store, "fragile")[0]["failures"] == 3 and not rule.enabled


def test_sync_failed_raises_an_alert_and_a_schedule_rule_resyncs(rt, broker):
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.rules.actions import execute

    save_rule(rt.store, Rule(id="sync-alert", trigger={"event": "sync.failed"},
                             condition='event.data.connection_id == "awin"',
                             action={"type": "alert", "params": {"severity": "critical",
                                                                 "text": "sync of awin failed"}}), create=True)
    failed = Event.make(SYNC_FAILED, "/sync", {"connection_id": "awin", "sync_id": None, "errors": ["x"]}, key="f1")
    [activation] = on_event(rt, failed)
    action = next(e for e in broker.json_bodies() if e["type"] == ACTION_PREFIX + "alert")
    execute(rt, as_event(action))
    alerts = rt.index.search("alerts", SearchQuery())
    assert alerts.total == 1 and alerts.hits[0].doc["severity"] == "critical"

    save_connection(rt.store, Connection(id="awin", source="awin"))
    save_rule(rt.store, Rule(id="nightly-resync", trigger={"schedule": "0 3 * * *"},
                             condition="stats.programs >= 1", action={"type": "resync",
                                                                      "params": {"connection_id": "awin"}}), create=True)
    assert on_schedule(rt, datetime(2026, 11, 22, 2, 55, tzinfo=UTC)) == []
    [fired] = on_schedule(rt, datetime(2026, 11, 22, 3, 0, 30, tzinfo=UTC))
    assert fired["decision"] == "fired" and fired["event_id"] == "schedule:0 3 * * *@2026-11-22T03:00:00+00:00"
    assert on_schedule(rt, datetime(2026, 11, 22, 3, 5, tzinfo=UTC)) == []  # the same tick fires once
    resync = next(e for e in broker.json_bodies() if e["type"] == ACTION_PREFIX + "resync")
    execute(rt, as_event(resync))
    assert any(e["type"] == SYNC_REQUESTED and e["data"]["connection_id"] == "awin" for e in broker.json_bodies())


def hourly(rt, schedule="0 * * * *", rule_id="hourly-alert"):
    save_rule(rt.store, Rule(id=rule_id, trigger={"schedule": schedule}, condition="true",
                             action={"type": "alert"}), create=True)


def test_a_stored_schedule_the_cron_library_cannot_read_fails_its_rule_not_the_tick(rt):
    """A rule's schedule is checked when written (check_cron); one stored past that (a restore, a hand edit) holding a
    number of over 4,300 digits made the cron library raise ValueError, not CronSimError: out of the tick, so no
    schedule rule fired, at every ping."""
    hourly(rt)
    hourly(rt, "0 " + "1" * 5000 + " * * *", rule_id="unreadable")
    on_schedule(rt, datetime(2026, 11, 22, 8, 30, tzinfo=UTC))
    fired = {activation["rule_id"]: activation for activation in on_schedule(rt, datetime(2026, 11, 22, 9, 30,
                                                                                          tzinfo=UTC))}
    assert fired["hourly-alert"]["decision"] == "fired"
    assert fired["unreadable"]["decision"] == "error" and "its hour field '111" in fired["unreadable"]["detail"]


def test_ticks_missed_between_pings_are_caught_up_once_at_the_latest(rt):
    """The function scaled to zero or an outage lost the pings of 09:00 to 11:00: the next ping fires the rule once,
    at its latest tick, saying which earlier ticks it stands for; a ping delivered late moves nothing back."""
    from structlog.testing import capture_logs

    hourly(rt)
    assert on_schedule(rt, datetime(2026, 11, 22, 8, 30, tzinfo=UTC)) == []
    with capture_logs() as logs:
        [fired] = on_schedule(rt, datetime(2026, 11, 22, 11, 30, tzinfo=UTC))
    assert (fired["event_id"], fired["at"], fired["decision"]) == (
        "schedule:0 * * * *@2026-11-22T11:00:00+00:00", "2026-11-22T11:00:00+00:00", "fired")
    assert fired["detail"] == ("caught up: 2 missed ticks, 2026-11-22T09:00:00+00:00 to 2026-11-22T10:00:00+00:00, "
                               "coalesced into this one")
    [line] = [line for line in logs if line["event"] == "rule.ticks_coalesced"]
    assert (line["rule_id"], line["coalesced"], line["fired_at"]) == ("hourly-alert", 2, "2026-11-22T11:00:00+00:00")
    assert on_schedule(rt, datetime(2026, 11, 22, 10, 45, tzinfo=UTC)) == []  # redelivered: its ticks are done
    assert on_schedule(rt, datetime(2026, 11, 22, 11, 31, tzinfo=UTC)) == []
    [next_hour] = on_schedule(rt, datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC))  # on time again: nothing to say
    assert (next_hour["at"], next_hour["detail"]) == ("2026-11-22T12:00:00+00:00", "")


def test_coalesced_ticks_fire_at_the_latest_one_the_condition_held_at(rt):
    """A rule valid until 10:30 missed its 09:00 and 10:00 ticks in an outage: judged at the latest tick (11:00)
    alone its condition never held, so the run it was valid for was lost. It fires once, at 10:00, the latest tick
    it held at, saying what it stands for; a condition not on the time still fires at the latest."""
    save_rule(rt.store, Rule(id="until", trigger={"schedule": "0 * * * *"}, action={"type": "alert"},
                             condition='timestamp(now) < timestamp("2026-11-22T10:30:00Z")'), create=True)
    hourly(rt)
    assert on_schedule(rt, datetime(2026, 11, 22, 8, 30, tzinfo=UTC)) == []
    fired = {a["rule_id"]: a for a in on_schedule(rt, datetime(2026, 11, 22, 11, 30, tzinfo=UTC))}
    assert (fired["until"]["decision"], fired["until"]["at"], fired["until"]["event_id"]) == (
        "fired", "2026-11-22T10:00:00+00:00", "schedule:0 * * * *@2026-11-22T10:00:00+00:00")
    assert fired["until"]["detail"] == ("caught up: 2 missed ticks, 2026-11-22T09:00:00+00:00 to "
                                        "2026-11-22T11:00:00+00:00, coalesced into this one")
    assert (fired["hourly-alert"]["decision"], fired["hourly-alert"]["at"]) == ("fired", "2026-11-22T11:00:00+00:00")
    assert [a["rule_id"] for a in on_schedule(rt, datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC))] == ["hourly-alert"]


def test_a_tick_is_done_only_once_its_activation_is_stored_and_doing_it_again_adds_nothing(rt, broker, monkeypatch):
    from affiliate_matrix.rules import engine
    from affiliate_matrix.rules.store import state_key

    hourly(rt)
    on_schedule(rt, datetime(2026, 11, 22, 8, 30, tzinfo=UTC))
    record = engine.record_activation

    def dies(rt, activation):
        raise RuntimeError("the process stopped here")

    monkeypatch.setattr(engine, "record_activation", dies)
    with pytest.raises(RuntimeError):
        on_schedule(rt, datetime(2026, 11, 22, 9, 0, 30, tzinfo=UTC))
    monkeypatch.setattr(engine, "record_activation", record)
    before = rt.store.get(state_key(engine.SCHEDULE_STATE)).data
    [fired] = on_schedule(rt, datetime(2026, 11, 22, 9, 1, 30, tzinfo=UTC))  # its 09:00 tick was not lost
    assert fired["event_id"] == "schedule:0 * * * *@2026-11-22T09:00:00+00:00"
    # stopped after storing the activation but before marking the tick done: evaluated again, nothing added
    rt.store.put(state_key(engine.SCHEDULE_STATE), before, content_type="application/json")
    [again] = on_schedule(rt, datetime(2026, 11, 22, 9, 2, 30, tzinfo=UTC))
    assert (again["id"], again["action_event_id"]) == (fired["id"], fired["action_event_id"])
    assert [a["id"] for a in activations(rt)] == [fired["id"]]
    assert {e["id"] for e in broker.json_bodies() if e["type"] == ACTION_PREFIX + "alert"} == {fired["action_event_id"]}


def test_more_than_sixty_missed_ticks_are_none_of_them_dropped_but_caught_up_once(rt):
    """Two days of pings lost: each rule fires once, at its latest tick, however many it missed (a minutely rule's
    1,440 in the day counted, not 60 fired and the rest dropped); what is more than a day back is said, not counted."""
    hourly(rt)
    hourly(rt, "* * * * *", "minutely-alert")
    on_schedule(rt, datetime(2026, 11, 20, 8, 30, tzinfo=UTC))
    fired = on_schedule(rt, datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    assert sorted((a["rule_id"], a["at"]) for a in fired) == [
        ("hourly-alert", "2026-11-22T09:00:00+00:00"), ("minutely-alert", "2026-11-22T09:30:00+00:00")]
    said = {a["rule_id"]: a["detail"] for a in fired}
    assert said["hourly-alert"] == (
        "caught up: 23 missed ticks, 2026-11-21T10:00:00+00:00 to 2026-11-22T08:00:00+00:00, coalesced into this one; "
        "any from 2026-11-20T08:30:00+00:00 to 2026-11-21T09:30:00+00:00 (more than a day back) not counted")
    assert said["minutely-alert"].startswith("caught up: 1439 missed ticks, 2026-11-21T09:31:00+00:00 to "
                                             "2026-11-22T09:29:00+00:00, coalesced into this one;")
    assert on_schedule(rt, datetime(2026, 11, 22, 9, 31, tzinfo=UTC))[0]["detail"] == ""


def test_a_weekly_tick_missed_in_an_outage_of_days_is_caught_up_once(rt):
    hourly(rt, "0 6 * * 1", "monday-alert")  # 2026-11-16 and -23 are Mondays
    on_schedule(rt, datetime(2026, 11, 15, 23, 0, tzinfo=UTC))
    [fired] = on_schedule(rt, datetime(2026, 11, 19, 12, 0, tzinfo=UTC))  # down from Sunday night to Thursday noon
    assert (fired["at"], fired["detail"]) == ("2026-11-16T06:00:00+00:00", "any from 2026-11-15T23:00:00+00:00 to "
                                              "2026-11-18T12:00:00+00:00 (more than a day back) not counted")
    assert on_schedule(rt, datetime(2026, 11, 21, 12, 0, tzinfo=UTC)) == []  # down again: that tick is done


@pytest.mark.parametrize("condition,message", [
    ('"gaming" in program.categorie', "program has no field 'categorie' (did you mean 'categories'?)"),
    ("delta.commission_percent_new >", "Syntax error"),
    ("progam.status == 'active'", "unknown name 'progam' (did you mean 'program'?)"),
    ("program.name", "must give true or false, gives str"),
    ('program.name + 1 == "x"', "fails on a sample context: Unsupported operation: string + int"),
    ("program.categories.all(a, program.networks.all(b, program.countries.exists(c, a == b)))",
     "comprehensions nested more than 2 deep"),
    ("program.categories.all(a, program.networks.all(b, a != b || b.size() > 0))", "over the limit of 10,000"),
])
def test_bad_conditions_are_refused_when_added(tmp_path, condition, message):
    rule = {"id": "r1", "trigger": {"event": "program.delta"}, "condition": condition,
            "action": {"type": "alert"}, "cooldown_s": 60}
    (tmp_path / "rule.json").write_text(json.dumps(rule))
    result = subprocess.run([str(BIN / "amx"), "rules", "add", "rule.json"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / ".amx" / "objects" / "rules").exists()


@pytest.mark.parametrize("content, message", [
    (b"[" * 5_000 + b"]" * 5_000, "nested too deeply"),  # PyYAML's composer recurses: RecursionError
    ("id: r1\ndescription: caf\u00e9\n".encode("latin-1"), "not UTF-8"),  # UnicodeDecodeError
])
def test_a_rule_file_nested_too_deeply_or_not_in_utf8_is_refused_naming_that(tmp_path, content, message):
    (tmp_path / "rule.yaml").write_bytes(content)
    result = subprocess.run([str(BIN / "amx"), "rules", "add", "rule.yaml"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("value, said", [(".nan", "param severity is nan"), (".inf", "param severity is inf")])
def test_a_rule_file_with_an_action_param_of_nan_or_infinity_is_refused_naming_it(tmp_path, value, said):
    """YAML's `.nan` and `.inf` are floats: the rule was stored with null in their place, and no read of it (its
    triggers' firings, GET /rules/r1) could take it any more."""
    (tmp_path / "rule.yaml").write_text("id: r1\ntrigger: {event: key.expiring}\ncondition: 'true'\n"
                                        f"action: {{type: alert, params: {{severity: {value}}}}}\n")
    result = subprocess.run([str(BIN / "amx"), "rules", "add", "rule.yaml"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    said_all = " ".join(result.stderr.replace("│", " ").split())
    assert result.returncode == 2 and f"{said}, not a finite number" in said_all, said_all
    assert not (tmp_path / ".amx" / "objects" / "rules").exists()


def test_a_rule_file_past_the_limit_is_refused_not_read_cut_short(tmp_path):
    """`amx rules add` read 1,000,001 characters and parsed them: a file past that lost its end unsaid, here its
    `enabled: false`, and the rule was stored enabled. Standard input likewise."""
    text = ("id: r1\ntrigger: {event: program.delta}\ncondition: 'true'\naction: {type: alert}\n"
            + "#" * 1_000_000 + "\nenabled: false\n")
    (tmp_path / "rule.yaml").write_text(text)
    for args, given in ((["rule.yaml"], None), (["-"], text)):
        result = subprocess.run([str(BIN / "amx"), "rules", "add", *args], cwd=tmp_path, capture_output=True,
                                text=True, timeout=60, input=given)
        said = " ".join(result.stderr.replace("│", " ").split())
        assert result.returncode == 2 and "larger than 1,000,000 bytes" in said and "Traceback" not in said, said
    assert not (tmp_path / ".amx" / "objects" / "rules").exists()


def test_a_good_rule_is_added_listed_tested_and_disabled_from_the_command_line(tmp_path):
    (tmp_path / "rule.yaml").write_text(
        "id: gaming-up\ntrigger: {event: program.delta}\n"
        "condition: '\"gaming\" in program.categories && delta.commission_percent_new > delta.commission_percent_old'\n"
        "action: {type: notify, params: {webhook_url: 'https://hooks.slack.com/services/T0/B0/x'}}\ncooldown_s: 600\n")

    def amx(*args):
        return subprocess.run([str(BIN / "amx"), "rules", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)

    assert amx("add", "rule.yaml").returncode == 0
    assert "gaming-up" in amx("list").stdout
    event = Event.make(PROGRAM_DELTA, "/index", {"id": "d1", "program_id": "p_0000000000000000", "change": "updated",
                                                  "fields": [], "at": T0.isoformat(), "source": "x"})
    (tmp_path / "event.json").write_text(event.model_dump_json())
    tested = amx("test", "gaming-up", "--event", "event.json")
    said = " ".join(tested.stdout.split())
    # no program p_0…0 in the index: no value of it, so the rule decides nothing (not a false on an empty program)
    assert tested.returncode == 0 and "→ not evaluated, no action: no value for" in said and "is not in the index" \
        in said, said
    assert amx("disable", "gaming-up", "--reason", "noisy").returncode == 0
    listed = subprocess.run([str(BIN / "amx"), "rules", "list"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "COLUMNS": "200"})  # wide enough to fold no cell
    assert "no (noisy)" in listed.stdout


def test_an_event_file_is_read_no_further_than_the_event_limit(tmp_path):
    """`amx rules test --event` read its file whole: /dev/zero took memory until the process died. It reads
    MAX_EVENT_BYTES + 1 bytes and names the file and the limit."""
    from affiliate_matrix.events import MAX_EVENT_BYTES

    (tmp_path / "rule.yaml").write_text(
        "id: r1\ntrigger: {event: program.delta}\ncondition: 'true'\n"
        "action: {type: notify, params: {webhook_url: 'https://hooks.slack.com/services/T0/B0/x'}}\n")
    assert amx_in(1 << 30, tmp_path, "rules", "add", "rule.yaml").returncode == 0
    (tmp_path / "big.json").write_bytes(b" " * MAX_EVENT_BYTES + b"{}")
    for path in ("/dev/zero", "big.json"):
        tested = amx_in(1 << 30, tmp_path, "rules", "test", "r1", "--event", path)
        assert tested.returncode == 2 and f"{path}: larger than {MAX_EVENT_BYTES:,} bytes" in tested.stderr, \
            tested.stderr[-2000:]


def action_event(kind: str, params: dict) -> Event:
    return Event.make(ACTION_PREFIX + kind, "/triggers", {"rule_id": "r", "params": params, "inputs": {}})


def test_migrate_index_and_rotate_key_actions_do_their_work(rt):
    from affiliate_matrix.keys import KeyRecord, add_key
    from affiliate_matrix.rules.actions import execute
    from affiliate_matrix.search import IndexSpec

    fresh = Runtime("test", Settings(data_dir=rt.settings.data_dir / "fresh"))
    v1 = IndexSpec("programs", 1, {k: v for k, v in PROGRAMS_INDEX.fields.items() if k in ("id", "name", "program")})
    fresh.index.ensure_index(v1)
    execute(fresh, action_event("migrate_index", {"index": "programs"}))
    assert fresh.index.status("programs").current == PROGRAMS_INDEX.version

    add_key(rt, KeyRecord(path="connections/demo", rotation="generate", generated_fields=["api_token"],
                          created_at=T0, expires_at=T0 + timedelta(days=90)), {"api_token": "old-value"})
    execute(rt, action_event("rotate_key", {"path": "connections/demo"}))
    current = rt.secrets.read("connections/demo")
    assert current.version == 2 and current.data["api_token"] != "old-value"


def test_a_migrate_index_action_delivered_again_while_the_first_migrates_says_it_is_running(tmp_path, monkeypatch):
    """Knative redelivers an action whose first delivery has not answered yet: the migration's lease refuses the
    second, as it should, and its outcome was recorded as "failed: ConflictError". It is skipped, naming the
    migration that holds the lease; the first then records its own outcome. (Held before its copy: the embedded
    index's copy holds the file's write lock, which the second's record of its outcome waits for.)"""
    import os

    from affiliate_matrix.rules.actions import execute
    from affiliate_matrix.search import IndexSpec
    from affiliate_matrix.search.sqlite import SqliteSearchIndex
    from tests.support.interleave import interleaved

    def runtime():  # each delivery in a process of its own, on one index
        return Runtime("test", Settings(data_dir=tmp_path))

    v1 = IndexSpec("programs", 1, {"id": "keyword", "name": "text"})
    runtime().index.ensure_index(v1)
    key = f"activations/{T0.date()}/a_{'0' * 24}.json"
    runtime().store.put(key, json.dumps({"id": f"a_{'0' * 24}", "rule_id": "r", "outcome": "dispatched"}).encode())
    event = Event.make(ACTION_PREFIX + "migrate_index", "/triggers",
                       {"rule_id": "r", "params": {"index": "programs"}, "inputs": {}, "activation_key": key})

    def recorded() -> tuple[str, str]:
        activation = json.loads(runtime().store.get(key).data)
        return activation["outcome"], activation["detail"]

    def hold(reached, go_on):  # the first delivery stops once it holds the lease, until the second is done
        migrate = SqliteSearchIndex._migrate

        def held(self, spec):
            reached.set()
            assert go_on.wait(60)
            return migrate(self, spec)

        monkeypatch.setattr(SqliteSearchIndex, "_migrate", held)

    _, second = interleaved(hold, lambda: execute(runtime(), event), lambda: (execute(runtime(), event), recorded()))
    outcome, detail = second[1]
    assert outcome == "skipped", detail
    assert detail.startswith(f"already running: a migration of 'programs' to v{PROGRAMS_INDEX.version} by ")
    assert f"pid {os.getpid()} since " in detail
    assert recorded() == ("done", f"programs migrated to v{PROGRAMS_INDEX.version}")
    assert runtime().index.status("programs").current == PROGRAMS_INDEX.version


def test_rebuild_index_action_replays_stored_pages_and_api_answers_with_no_network(tmp_path):
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.events import RAW_BATCH_STORED
    from affiliate_matrix.pipeline import index_batch, scrape
    from affiliate_matrix.rules.actions import rebuild_index

    local = Runtime("test", Settings(data_dir=tmp_path / "local", allow_loopback_fetch=True))
    local.bus.subscribe(RAW_BATCH_STORED, lambda event: index_batch(local, event.data["batch_key"]))
    with recorded_sites("affiliateprograms", "clickbank") as urls:
        for connection_id, source in (("ap", "affiliateprograms"), ("cb", "clickbank"), ("cb-new", "clickbank")):
            save_connection(local.store, Connection(id=connection_id, source=source, base_url=urls[source],
                                                    rate_limit_per_s=50))
        scrape(local, "ap")
        scrape(local, "cb")  # cb-new never synced: no answers kept to replay
    indexed = local.index.search(PROGRAMS_INDEX.name, SearchQuery(size=100))
    assert indexed.total == 10
    for hit in indexed.hits:  # the index is lost
        local.index.delete(PROGRAMS_INDEX.name, hit.id)
    assert local.index.search(PROGRAMS_INDEX.name, SearchQuery()).total == 0
    outcome = rebuild_index(local, {}, {})  # the recorded sites are gone: only stored pages and answers can do this
    assert local.index.search(PROGRAMS_INDEX.name, SearchQuery()).total == 10
    assert outcome.startswith("replayed ap (6 records), cb (4 records); 0 discovery batches announced again; "
                              "left out: cb-new has no API answers kept")
    # one connection's answers damaged: named and left out, the others replayed (it stopped the whole rebuild)
    local.store.put("api-answers/cb.json", b'{"answers": {')
    outcome = rebuild_index(local, {}, {})
    assert outcome.startswith("replayed ap (6 records); 0 discovery batches announced again; left out: "), outcome
    assert "; left out: api-answers/cb.json is damaged (not JSON" in outcome, outcome


def test_a_schedule_is_judged_when_the_rule_is_written_and_a_stored_bad_one_fails_alone(rt):
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.rules.model import checked

    bad = Rule(id="bad-minute", trigger={"schedule": "61 * * * *"}, condition="true", action={"type": "alert"})
    with pytest.raises(InvalidInput, match="trigger.schedule: '61 \\* \\* \\* \\*'"):
        checked(bad)
    # Stored past `checked` (reading a rule does not judge its schedule again): that rule fails, the others run.
    save_rule(rt.store, bad, create=True)
    save_rule(rt.store, checked(Rule(id="nightly-alert", trigger={"schedule": "0 3 * * *"}, condition="true",
                                     action={"type": "alert"})), create=True)
    fired = on_schedule(rt, datetime(2026, 11, 22, 3, 0, 30, tzinfo=UTC))
    assert sorted((a["rule_id"], a["decision"]) for a in fired) == [("bad-minute", "error"), ("nightly-alert", "fired")]
    # in the words a write of it is refused in, not the cron library's ("Bad minute")
    assert "trigger.schedule: its minute field '61' is wrong: a minute is 0 to 59" in next(
        a["detail"] for a in fired if a["rule_id"] == "bad-minute")


def test_a_dry_run_of_a_disabled_rule_says_it_dispatches_nothing(tmp_path):
    """`amx rules test` of a rule disabled (by hand, or for its failures) whose condition holds said it would
    dispatch its action, which the engine never does for a disabled rule (POST /rules/{id}/test says nothing would)."""
    (tmp_path / "rule.yaml").write_text(
        "id: r1\ntrigger: {event: program.delta}\ncondition: 'true'\naction: {type: alert}\n")
    assert amx_in(1 << 30, tmp_path, "rules", "add", "rule.yaml").returncode == 0
    assert amx_in(1 << 30, tmp_path, "rules", "disable", "r1", "--reason", "noisy").returncode == 0
    missing = amx_in(1 << 30, tmp_path, "rules", "disable", "r2")
    assert missing.returncode != 0 and "there is no rule 'r2'" in missing.stderr  # no rule, nothing disabled
    event = Event.make(PROGRAM_DELTA, "/index", {"id": "d1", "program_id": "p_0000000000000000", "change": "updated"})
    (tmp_path / "event.json").write_text(event.model_dump_json())
    tested = amx_in(1 << 30, tmp_path, "rules", "test", "r1", "--event", "event.json")
    assert tested.returncode == 0 and "would dispatch" not in tested.stdout, tested.stdout
    assert "→ true: no action: the rule is disabled (noisy)" in tested.stdout, tested.stdout


def test_a_schedule_rule_raising_counts_one_failure_a_ping_however_many_ticks_it_catches_up(rt):
    """A ping evaluates a rule once, at its latest tick: a rule raising on every tick, ten missed a ping, fails once a
    ping and is disabled at its third (it was evaluated, and failed, for each of up to 60 ticks of one ping)."""
    from affiliate_matrix.rules.store import load_rule

    assert on_schedule(rt, datetime(2026, 11, 22, 8, 30, tzinfo=UTC)) == []
    save_rule(rt.store, Rule(id="broken", trigger={"schedule": "* * * * *"}, condition='int(now) == 1',
                             action={"type": "alert"}), create=True)  # stored as written: raises on every tick
    fired = [on_schedule(rt, datetime(2026, 11, 22, 8, minute, tzinfo=UTC)) for minute in (40, 50)]
    assert [(a["decision"], a["outcome"]) for ping in fired for a in ping] == [("error", "failed")] * 2
    assert load_rule(rt.store, "broken")[0].enabled
    [disabled] = on_schedule(rt, datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    assert (disabled["decision"], disabled["outcome"]) == ("error", "disabled")
    assert not load_rule(rt.store, "broken")[0].enabled
    assert on_schedule(rt, datetime(2026, 11, 22, 9, 10, tzinfo=UTC)) == []


def test_deleting_a_rule_cut_short_is_finished_by_the_same_delete_and_spares_the_schedules_state(rt):
    """`amx rules delete` forgot the rule's state before deleting the rule (a delete failing kept the rule without its
    cool-down); the state now goes after the rule, and a delete of a rule already gone forgets a state left behind. The
    schedule's own state (`_schedule`, no rule's id) is never taken for one."""
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.rules import engine
    from affiliate_matrix.rules.store import delete_rule, state_key

    for name in ("gone", engine.SCHEDULE_STATE):  # a state left by a delete cut short, and the schedule's
        rt.store.put(state_key(name), b'{"failures": 1}', content_type="application/json")
    for name in ("gone", engine.SCHEDULE_STATE):
        with pytest.raises(NotFoundError):
            delete_rule(rt.store, name)
    assert rt.store.head(state_key("gone")) is None and rt.store.head(state_key(engine.SCHEDULE_STATE)) is not None


def test_a_rule_on_countries_sees_a_program_naming_none_as_taking_every_country(rt):
    """A program naming no country (Impact's Worldwide) takes every one, but `"US" in program.countries` saw its empty
    list and did not hold for it; `program.worldwide` says it was every country rather than a list naming them all."""
    from affiliate_matrix.rules.conditions import check, context_of
    from affiliate_matrix.rules.engine import context_values, decide

    def record(name, countries):
        return normalize(RawRecord(source="impact", connection_id="impact", record_key=name, name=name,
                                   url="https://api.impact.com/x", fetched_at=T0, raw_key="raw/x",
                                   merchant_url=f"https://{name}-shop.com/", countries=countries))

    programs = {name: record(name, countries) for name, countries in
                {"world": ["US", "Worldwide"], "us": ["USA"], "france": ["France"]}.items()}
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in programs.values()], refresh=True)
    conditions = {"us": '"US" in program.countries', "all": 'program.countries.exists(c, c == "BR")',
                  "worldwide": "program.worldwide", "named": "!program.worldwide && size(program.countries) == 1"}
    rules = [Rule(id=key, trigger={"event": "program.delta"}, condition=text,
                  action={"type": "notify", "params": {"webhook_url": "https://hooks.example.com/x", "text": "t"}})
             for key, text in conditions.items()]
    for text in conditions.values():
        check(text)  # written through `amx rules add`: the context documents both
    held = {}
    for name, program in programs.items():
        values, _ = context_values(rt, commission_delta(program.id, 10, 20, T0), needs_stats=False)
        held[name] = sorted(rule.id for rule, outcome in decide(rules, context_of(values)) if outcome is True)
    assert held == {"world": ["all", "us", "worldwide"], "us": ["named", "us"], "france": ["named"]}
