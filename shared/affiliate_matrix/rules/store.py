"""Rules, their state and their activations in the object store (conditional writes), activations
and alerts mirrored to the search index for the dashboards.

    rules/<id>.json                       the rule document
    rules/state/<id>.json                 last firing, consecutive failures (read by state.py)
    activations/<day>/<id>.json           one per decision to act (fired, cooldown, error, loop)

Activations are kept apart from rules/, which every event lists (current_rules): under it, that listing walked
every activation ever recorded. Those recorded before are under rules/activations/, read by nothing but an action
in flight then (actions.record_outcome).
"""

import json
import re
import threading
import weakref
from datetime import datetime

from affiliate_matrix.documents import load_document, no_document, readable, readable_together, save_document
from affiliate_matrix.errors import ConflictError, InvalidInput, NotFoundError
from affiliate_matrix.observability import get_logger, log_damaged
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.rules.state import state_key, stored_state, without_failures
from affiliate_matrix.search import IndexSpec

# v2 (both): the fields of v1; their text analysed as programs v6 and v7 have it, split into words of letters and digits
# on OpenSearch and folded as OpenSearch folds it on SQLite (a v1 index holds it as v1's code wrote it).
# v3 (both): a text field's whole value (<field>.raw) folded as programs v9 has it.
# v4 (SQLite): no whole value for a text longer than RAW_IGNORE_ABOVE, as OpenSearch has it (programs v12).
# v5 (both): text searched in Unicode's compatibility form (NFKC), as programs v14 has it.
# v6 (both): a word is a run of letters, marks and digits, joiners inside it dropped, as programs v15 has it.
# v7 (both): a word without its optional marks (Arabic harakat, Hebrew niqqud: search.unwritten), as programs v17.
# v8 (both): a run of a script written without spaces as its pairs of characters (search.paired), as programs v18;
# activations: program_id, the program an activation was of (its inputs' program_id), for GET
# /activations?program_id; `amx index migrate activations` fills it from the inputs of those v7 holds.
# v9 (both): a run's last character written after its pairs (search.paired), as programs v19.
# v10 (both): a zero-width space dropped from a word, not a break (search.unwritten), as programs v20.


def with_program(activation: dict) -> dict:
    """The activation as the index holds it: with the program it was of, its inputs' program_id, where that is a
    program's id (an event's data can hold anything there)."""
    from affiliate_matrix.program_index import is_program_id

    inputs = activation.get("inputs")
    program_id = inputs.get("program_id") if isinstance(inputs, dict) else None
    return {**activation, "program_id": program_id} if is_program_id(program_id) else activation


ACTIVATIONS_INDEX = IndexSpec("activations", 10, {
    "id": "keyword", "rule_id": "keyword", "trigger": "keyword", "event_id": "keyword", "decision": "keyword",
    "action": "keyword", "action_event_id": "keyword", "outcome": "keyword", "detail": "text", "inputs": "stored",
    "at": "date", "program_id": "keyword",
}, upgrade=with_program)
ALERTS_INDEX = IndexSpec("alerts", 10, {
    "id": "keyword", "rule_id": "keyword", "severity": "keyword", "text": "text", "subject": "keyword",
    "event_type": "keyword", "at": "date",
})
log = get_logger()
# store -> {rule's key: (its ETag, the rule)} as this process last read them; request threads share it, hence the lock.
_read: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_read_lock = threading.Lock()


def rule_key(rule_id: str) -> str:
    return f"rules/{rule_id}.json"


def _is_rule_key(key: str) -> bool:
    return key.count("/") == 1 and key.endswith(".json")


def save_rule(store, rule: Rule, *, if_match: str | None = None, create: bool = False) -> str:
    return save_document(store, rule_key(rule.id), rule, if_match=if_match, create=create)


def no_rule(rule_id: str) -> NotFoundError:
    """A rule id no rule has, said one way by whatever reads, disables or deletes one; in words for any caller (a
    command adds what lists the ids, and a route, documents.listed_by)."""
    return no_document(f"rule {rule_id!r}")


def load_rule(store, rule_id: str) -> tuple[Rule, str]:
    try:
        return load_document(store, rule_key(rule_id), Rule, f"rule {rule_id!r}")
    except NotFoundError:
        raise no_rule(rule_id) from None


def list_rules(store, damaged: list | None = None) -> list[Rule]:
    """Every rule, read afresh; a damaged one is logged and left out (and added to `damaged`: documents.readable)."""
    keys = [key for key in sorted(store.list("rules/")) if _is_rule_key(key)]
    return [rule for rule, _ in readable(
        keys, lambda key: load_rule(store, key.removeprefix("rules/").removesuffix(".json")), damaged)]


def current_rules(store) -> tuple[list[Rule], dict[str, str]]:
    """Every rule as stored now, and the ETag of each rule's state: one listing of rules/ (ETags included), then a
    read of only the rules whose ETag this process has not read (rules change rarely, events are many). So a rule
    edited, disabled or deleted by any process, through the API or the CLI, is seen by the next event: no copy is
    trusted for a while, which would fire a disabled rule or miss a new one until it ran out."""
    listing = dict(store.listed("rules/"))
    with _read_lock:
        known = _read.get(store, {})
    current = {key: known[key] for key in listing if _is_rule_key(key) and key in known and known[key][0] == listing[key]}

    def load(key: str) -> tuple[Rule, str] | None:
        try:
            return load_rule(store, key.removeprefix("rules/").removesuffix(".json"))
        except NotFoundError:  # deleted since the listing
            return None

    changed = [key for key in listing if _is_rule_key(key) and key not in current]
    for found in readable_together(changed, load):  # a damaged one is logged and left out
        if found is not None:
            rule, etag = found
            current[rule_key(rule.id)] = (etag, rule)
    for key in changed:  # damaged (logged once, not read again until it changes) or deleted since the listing
        current.setdefault(key, (listing[key], None))
    current = dict(sorted(current.items()))
    with _read_lock:
        _read[store] = current
    states = {key.removeprefix("rules/state/").removesuffix(".json"): etag for key, etag in listing.items()
              if key.startswith("rules/state/") and key.count("/") == 2 and key.endswith(".json")}
    return [rule for _, rule in current.values() if rule is not None], states


def forget_state(store, rule_id: str) -> None:
    """A deleted rule's state goes with it, after it (a delete refused or failing keeps both): a rule added again under
    its id starts afresh, with no cool-down or count of failures of the one deleted (it inherited them)."""
    store.delete(state_key(rule_id))


def delete_rule(store, rule_id: str) -> None:
    """Delete the rule as it is now (conditionally on its ETag), then its state: a delete cut short between them is
    finished by the same delete again (a NotFoundError that forgets the state first)."""
    from affiliate_matrix.events import RULE_ID

    etag = store.head(rule_key(rule_id))
    if etag is None:
        # a rule's, not the schedule's own state (engine.SCHEDULE_STATE, `_schedule`)
        if re.fullmatch(RULE_ID, rule_id):
            forget_state(store, rule_id)
        raise no_rule(rule_id)
    store.delete(rule_key(rule_id), if_match=etag)
    forget_state(store, rule_id)


def disable_rule(store, rule_id: str, reason: str, *, condition: str | None = None,
                 action: tuple[str, dict] | None = None) -> Rule | None:
    """Disable the rule, conditionally on its ETag; with `condition` (or `action`, its type and params), only while the
    stored rule still has that condition (action), the one that failed, else None: an edit since has replaced what
    failed, or a delete since left nothing to disable (which was an event's NotFoundError, the other rules never
    evaluated). A failure's disable (with `condition` or `action`) of a rule disabled already writes nothing: the rule
    is returned as it is, its reason kept; a person's (neither) restates the reason."""
    for _ in range(5):
        try:
            rule, etag = load_rule(store, rule_id)
        except NotFoundError:
            return None
        if condition is not None and rule.condition != condition:
            return None
        if action is not None and (rule.action.type, rule.action.params) != action:
            return None
        if not rule.enabled and (condition, action) != (None, None):
            return rule  # a failure's, of a rule disabled already: its reason (a person's, the first failure's) stands
        rule = rule.model_copy(update={"enabled": False, "disabled_reason": reason})
        try:
            save_rule(store, rule, if_match=etag)
            return rule
        except ConflictError:
            continue
    raise ConflictError(f"rule {rule_id} kept changing; not disabled")


def enable_rule(store, rule_id: str, check, *, webhook_restored: bool = False) -> Rule | None:
    """Enable the disabled rule, its disabled_reason cleared, conditionally on its ETag, once `check(rule)` (what the
    rule enabled must agree with: handlers.triggers.check_stored, as for a PUT of it enabled) passes, its run of
    failures started afresh (restart_failures); None when it was enabled already. A refusal (InvalidInput) names what
    must change first: enabled as it is, the rule would be disabled again at its next firing. `webhook_restored`: a
    person says the receiver that refused the rule's webhook for good was mended (a Slack channel unarchived), so the
    refusal's record in its state (state.webhook_gone_problem) is cleared and the same webhook used again."""
    for _ in range(5):
        rule, etag = load_rule(store, rule_id)
        if rule.enabled:
            return None
        rule = rule.model_copy(update={"enabled": True, "disabled_reason": None})
        try:
            check(rule)
        except InvalidInput as exc:
            raise InvalidInput(f"rule {rule_id} not enabled: {exc}") from None
        if webhook_restored and "webhook_gone" in load_state(store, rule_id)[0]:
            update_state(store, rule_id, lambda state: {k: v for k, v in state.items() if k != "webhook_gone"})
        restart_failures(store, rule_id)  # first: a write failing after it leaves the rule disabled, with no failures
        try:
            save_rule(store, rule, if_match=etag)
        except ConflictError:
            continue
        return rule
    raise ConflictError(f"rule {rule_id} kept changing; not enabled")


def restart_failures(store, rule_id: str) -> None:
    """A rule enabled again (`amx rules enable`, a PUT or `amx rules add --replace` of it enabled) starts its run of
    failures afresh, its last error kept for the record: kept, `amx rules show` said "failed 3 times in a row" of a
    rule just enabled, and one more failure disabled it again at once. Its state is written only when it has failures
    to end."""
    if load_state(store, rule_id)[0].get("failures", 0):
        update_state(store, rule_id, without_failures)


def load_state(store, rule_id: str) -> tuple[dict, str | None]:
    """The rule's state and its ETag. A damaged one (truncated, nested past the parser, of another shape) is named in
    the log and the rule goes on from a fresh state, written over it conditionally: it raised out of the engine at the
    rule's firing, failing the event for every rule after it, for good. What is lost is a cool-down's start and a
    count of failures."""
    state, etag, problem = stored_state(store, rule_id)
    if problem is not None:
        log_damaged(state_key(rule_id), problem, action="the rule's state starts afresh")
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


def activation_key(activation_id: str, at: datetime) -> str:
    return f"activations/{at.date()}/{activation_id}.json"


def record_activation(rt, activation: dict) -> None:
    """Write the activation and mirror it, unless it is a firing recorded before whose action has recorded its outcome
    since (actions.record_outcome): an event delivered again fires again under the same ids, and its action, already
    done, is skipped where it is routed, so what that outcome says stays."""
    from affiliate_matrix.storage import read_json

    key = activation_key(activation["id"], datetime.fromisoformat(activation["at"]))
    if activation["decision"] == "fired":
        stored, _, _ = read_json(rt.store, key, lambda doc: isinstance(doc, dict), "not an activation (an object)")
        if stored is not None and stored.get("decision") == "fired" and stored.get("outcome") != "dispatched":
            return
    rt.store.put(key, json.dumps(activation).encode(), content_type="application/json")
    mirror_activation(rt, activation)


def mirror_activation(rt, activation: dict) -> None:
    rt.index.ensure_index(ACTIVATIONS_INDEX)
    doc = with_program(activation)
    if rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [doc], refresh=True).errors and doc is not activation \
            and (live := rt.index.status(ACTIVATIONS_INDEX.name).current) < ACTIVATIONS_INDEX.version:
        from affiliate_matrix.search import migrate_first

        # v7, not migrated yet, has no program_id (OpenSearch's mapping is strict): the activation is written without
        # it, for its migration to fill from the inputs, rather than missing from the index until a later write
        log.warning("activations.index_behind", activation_id=activation.get("id"),
                    hint=migrate_first(ACTIVATIONS_INDEX.name, live, ACTIVATIONS_INDEX.version))
        rt.index.bulk_upsert(ACTIVATIONS_INDEX.name, [activation], refresh=True)


def activations(rt, limit: int = 50, rule_id: str | None = None, program_ids: list[str] | None = None) -> list[dict]:
    """The newest activations, of every rule or of `rule_id` alone, and of every program or of those of
    `program_ids` alone (filtered in the search, not among the newest of all: a quiet rule's older firings are still
    found beside a busy rule's). Filtering on a program on an index v7 still holds is refused naming its migration
    (search.IndexBehind)."""
    from affiliate_matrix.search import IndexBehind, SearchQuery, SortKey, migrate_first

    rt.index.ensure_index(ACTIVATIONS_INDEX)
    filters = {"rule_id": [rule_id]} if rule_id is not None else {}
    if program_ids:
        filters["program_id"] = program_ids
    try:
        result = rt.index.search(ACTIVATIONS_INDEX.name, SearchQuery(
            filters=filters, sort=[SortKey(field="at", order="desc")], size=limit))
    except IndexBehind as exc:  # named with the version to migrate to, which the live index cannot tell
        live = rt.index.status(ACTIVATIONS_INDEX.name).current
        raise IndexBehind("index", migrate_first(ACTIVATIONS_INDEX.name, live, ACTIVATIONS_INDEX.version)) from exc
    return [hit.doc for hit in result.hits]
