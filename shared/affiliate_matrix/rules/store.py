"""Rules, their state and their activations in the object store (conditional writes), activations
and alerts mirrored to the search index for the dashboards.

    rules/<id>.json                       the rule document
    rules/state/<id>.json                 last firing, consecutive failures
    rules/activations/<day>/<id>.json     one per decision to act (fired, cooldown, error)
"""

import json
import threading
from datetime import datetime

from cachetools import TTLCache

from affiliate_matrix.documents import load_document, readable, save_document
from affiliate_matrix.errors import ConflictError
from affiliate_matrix.observability import get_logger
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.search import IndexSpec

# v2 (both): the fields of v1; their text analysed as programs v6 and v7 have it, split into words of letters and digits
# on OpenSearch and folded as OpenSearch folds it on SQLite (a v1 index holds it as v1's code wrote it).
# v3 (both): a text field's whole value (<field>.raw) folded as programs v9 has it.
ACTIVATIONS_INDEX = IndexSpec("activations", 3, {
    "id": "keyword", "rule_id": "keyword", "trigger": "keyword", "event_id": "keyword", "decision": "keyword",
    "action": "keyword", "action_event_id": "keyword", "outcome": "keyword", "detail": "text", "inputs": "stored",
    "at": "date",
})
ALERTS_INDEX = IndexSpec("alerts", 3, {
    "id": "keyword", "rule_id": "keyword", "severity": "keyword", "text": "text", "subject": "keyword",
    "event_type": "keyword", "at": "date",
})
log = get_logger()
CACHE_TTL_S = 10.0
# id(store) -> its rules, read up to CACHE_TTL_S ago; request threads share it, hence the lock.
_recent: TTLCache[int, list[Rule]] = TTLCache(maxsize=8, ttl=CACHE_TTL_S)
_recent_lock = threading.Lock()


def rule_key(rule_id: str) -> str:
    return f"rules/{rule_id}.json"


def save_rule(store, rule: Rule, *, if_match: str | None = None, create: bool = False) -> str:
    with _recent_lock:
        _recent.clear()
    return save_document(store, rule_key(rule.id), rule, if_match=if_match, create=create)


def load_rule(store, rule_id: str) -> tuple[Rule, str]:
    return load_document(store, rule_key(rule_id), Rule, f"rule {rule_id!r}")


def list_rules(store, *, cached: bool = False) -> list[Rule]:
    """Every rule; with cached, a copy up to CACHE_TTL_S old (rules change rarely, events are many)."""
    if cached:
        with _recent_lock:
            hit = _recent.get(id(store))
        if hit is not None:
            return hit
    keys = [key for key in sorted(store.list("rules/")) if key.count("/") == 1 and key.endswith(".json")]
    rules = [rule for rule, _ in readable(keys, lambda key: load_rule(store, key.removeprefix("rules/").removesuffix(".json")))]
    with _recent_lock:
        _recent[id(store)] = rules
    return rules


def disable_rule(store, rule_id: str, reason: str, *, condition: str | None = None) -> Rule | None:
    """Disable the rule, conditionally on its ETag; with `condition`, only while the stored rule still has that
    condition (the one that failed), else None: an edit since has replaced what failed."""
    for _ in range(5):
        rule, etag = load_rule(store, rule_id)
        if condition is not None and rule.condition != condition:
            return None
        rule = rule.model_copy(update={"enabled": False, "disabled_reason": reason})
        try:
            save_rule(store, rule, if_match=etag)
            return rule
        except ConflictError:
            continue
    raise ConflictError(f"rule {rule_id} kept changing; not disabled")


def state_key(rule_id: str) -> str:
    return f"rules/state/{rule_id}.json"


def _state_shape(state) -> bool:
    if not isinstance(state, dict):
        return False
    for name in ("last_fired_at", "last_tick", "previous"):  # times a caller reads back with fromisoformat
        if state.get(name) is not None:
            try:
                datetime.fromisoformat(state[name])
            except (TypeError, ValueError):
                return False
    return type(state.get("failures", 0)) is int


def load_state(store, rule_id: str) -> tuple[dict, str | None]:
    """The rule's state and its ETag. A damaged one (truncated, nested past the parser, of another shape) is named in
    the log and the rule goes on from a fresh state, written over it conditionally: it raised out of the engine at the
    rule's firing, failing the event for every rule after it, for good. What is lost is a cool-down's start and a
    count of failures."""
    from affiliate_matrix.storage import read_json

    state, etag, problem = read_json(store, state_key(rule_id), _state_shape,
                                     "not a rule's state (last_fired_at, failures)")
    if problem is not None:
        log.error("document.damaged", key=state_key(rule_id), error=problem, action="the rule's state starts afresh")
    return (state if state is not None else {"last_fired_at": None, "failures": 0}), etag


def update_state(store, rule_id: str, change) -> dict:
    """Apply change(state) under a conditional write, retrying on a lost race; returns the new state."""
    for _ in range(5):
        state, etag = load_state(store, rule_id)
        state = change(dict(state))
        try:
            store.put(state_key(rule_id), json.dumps(state).encode(), content_type="application/json",
                      if_match=etag, if_none_match=etag is None)
            return state
        except ConflictError:
            continue
    raise ConflictError(f"rule {rule_id} state kept changing")


def record_activation(rt, activation: dict) -> None:
    at = datetime.fromisoformat(activation["at"])
    rt.store.put(f"rules/activations/{at.date()}/{activation['id']}.json", json.dumps(activation).encode(),
                 content_type="application/json")
    mirror_activation(rt, activation)


def mirror_activation(rt, activation: dict) -> None:
    rt.index.ensure_index(ACTIVATIONS_INDEX)
    rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [activation], refresh=True)


def activations(rt, limit: int = 50) -> list[dict]:
    from affiliate_matrix.search import SearchQuery, SortKey

    rt.index.ensure_index(ACTIVATIONS_INDEX)
    result = rt.index.search(ACTIVATIONS_INDEX.name, SearchQuery(sort=[SortKey(field="at", order="desc")], size=limit))
    return [hit.doc for hit in result.hits]
