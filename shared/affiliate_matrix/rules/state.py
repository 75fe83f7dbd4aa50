"""A rule's state in the object store (rules/state/<id>.json: its last firing, its failures in a row), read apart
from the rules' store (store.py, which loads the search port for the activations): the rules API's reads and the Rules
page show it, and GET /rules is the triggers function's first request."""

from datetime import UTC, datetime

# A rule that raises this many times in a row is disabled (engine.failed), its reason saying so
FAILURES_TO_DISABLE = 3


def state_key(rule_id: str) -> str:
    return f"rules/state/{rule_id}.json"


def without_failures(state: dict) -> dict:
    """The state with its run of failures ended (the last error kept, for the record)."""
    return {k: v for k, v in state.items() if k not in ("failures", "failing_condition", "failed_by")} | {"failures": 0}


def webhook_digest(url: str) -> str:
    """What a rule's state keeps of a webhook its receiver refused for good (WEBHOOK_GONE): not the URL, a
    credential, but enough to know the rule still posts to it."""
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()


def webhook_gone_problem(store, rule) -> str | None:
    """Why the notify rule cannot post, or None: its receiver refused its webhook_url for good (actions.WebhookGone,
    its refusal kept in the rule's state by actions.disable_refused), so enabled with it, the rule would be disabled
    again at its first firing. Another webhook_url mends it, and so does a person saying the receiver was mended (its
    channel unarchived: `amx rules enable --webhook-restored`, POST /rules/{id}/enable), which clears the record."""
    url = rule.action.params.get("webhook_url") if rule.action.type == "notify" else None
    if url is None:
        return None
    state, _, _ = stored_state(store, rule.id)
    gone = (state or {}).get("webhook_gone")
    if not isinstance(gone, dict) or gone.get("webhook") != webhook_digest(str(url)):
        return None
    return (f"action.params.webhook_url: its receiver refused it for good ({str(gone.get('why'))[:200]}), which "
            "disabled the rule: give the rule another webhook_url (amx rules add --replace, PUT "
            f"/rules/{rule.id}) before enabling it; if the receiver was mended instead (its channel unarchived), enable "
            f"it saying so: amx rules enable {rule.id} --webhook-restored (POST /rules/{rule.id}/enable with "
            '{"webhook_restored": true})')


def _state_shape(state) -> bool:
    if not isinstance(state, dict):
        return False
    for name in ("last_fired_at", "last_tick", "previous", "done_until"):  # times read back with fromisoformat
        if state.get(name) is not None:
            try:
                datetime.fromisoformat(state[name])
            except (TypeError, ValueError):
                return False
    failures = state.get("failures", 0)  # a count: one below 0 would take the engine more failures to disable at 3
    return (type(failures) is int and failures >= 0 and isinstance(state.get("failed_by", []), list)
            and isinstance(state.get("last_error", ""), str | None))


def stored_state(store, rule_id: str) -> tuple[dict | None, str | None, str | None]:
    """The rule's state as stored, its ETag and what is wrong with it (storage.read_json): None where it has none
    (never fired nor failed), or where it is damaged (and the problem said)."""
    from affiliate_matrix.storage import read_json

    return read_json(store, state_key(rule_id), _state_shape,
                     "not a rule's state (its last_fired_at a time, its failures a count of 0 or more)")


def shown_state(store, rule_id: str) -> dict:
    """A rule's state as the rules API's reads and the Rules page show it: when it last fired (in UTC, as the API
    writes a time), its failures in a row and the last one's error. A damaged one is named as a listing names a damaged
    document ({"key", "error"}), with a fresh state's figures: the engine starts it afresh (store.load_state)."""
    from affiliate_matrix.wording import ending_in_z

    state, _, problem = stored_state(store, rule_id)
    state = state or {}  # none: never fired nor failed
    fired = state.get("last_fired_at")
    if fired is not None:  # (one stored without a zone read in UTC, as every stored time)
        fired = datetime.fromisoformat(fired)
        fired = ending_in_z((fired if fired.tzinfo else fired.replace(tzinfo=UTC)).astimezone(UTC).isoformat())
    return {"last_fired_at": fired, "failures": state.get("failures", 0), "last_error": state.get("last_error"),
            "damaged": {"key": state_key(rule_id), "error": problem} if problem else None}
