"""What a rule's action does when its CloudEvent arrives (at the function the Broker routes the
type to; `receive` sends every action event here). The outcome is written to the activation: a handler returns
what it did ("done"), or (status, detail) when it did something else, e.g. ("skipped", why)."""

import json
import re
from datetime import UTC, datetime

from affiliate_matrix.errors import BackendUnavailable, DamagedData, FetchError, InvalidInput, NotFoundError
from affiliate_matrix.events import ACTION_PREFIX, RULE_ID, Event
from affiliate_matrix.observability import get_logger, log_damaged
from affiliate_matrix.rules.model import (DEFAULT_AUTH_HEADER, OPTIONAL_PARAMS, PLACEHOLDER, REQUIRED_PARAMS,
                                          SECRET_PARAMS, WEBHOOK_KEY_FIELD, WEBHOOK_KEYS, url_credentials)
from affiliate_matrix.rules.state import webhook_digest
from affiliate_matrix.rules.store import ALERTS_INDEX, disable_rule, load_rule, mirror_activation, update_state
from affiliate_matrix.wording import NO_VALUE, counted, number_text

log = get_logger()
# store.activation_key's; rules/activations/… is where an action in flight from before them was recorded
# compiled by re on first use
_ACTIVATION_KEY = r"^(?:rules/)?activations/[0-9]{4}-[0-9]{2}-[0-9]{2}/a_[0-9a-f]{24}\.json$"
_ACTIVATION_ID = r"^a_[0-9a-f]{24}$"
_SLACK_ERROR = rb"[a-z][a-z_]{0,63}"  # an incoming webhook's error answer, as Slack documents them
# Of a webhook's answer only its opening is read: its status says whether it posted, and Slack's word fits well within
# it. A longer body (a receiver's page of HTML, past the client's cap too) is cut there, not a failure of the post.
WEBHOOK_ANSWER_READ = 1024
# Slack's answers saying the webhook will never post again as it is: it was removed or disabled (no_service), its token
# revoked (invalid_token), its channel deleted or archived (api.slack.com/changelog/2016-05-17-changes-to-errors-for-
# incoming-webhooks). Only a person can mend that (a new webhook URL, the channel restored).
WEBHOOK_GONE = frozenset({"no_service", "invalid_token", "channel_not_found", "channel_is_archived"})


class ActionRefused(InvalidInput):
    """The action's receiver refused it for good: every firing would be refused the same way until a person changes
    the rule or the receiver, so the rule is disabled (execute) rather than left to fail on each."""


class WebhookGone(ActionRefused):
    """The webhook's receiver said it will never take a post at this URL again (WEBHOOK_GONE). Unlike a key missing,
    which a person mends by adding it (and enabling the rule checks it: handlers.triggers.check_stored), nothing but
    another webhook_url mends it, so the refusal is kept in the rule's state and enabling the rule with that URL is
    refused (state.webhook_gone_problem)."""


def execute(rt, event: Event) -> None:
    kind = event.type.removeprefix(ACTION_PREFIX)
    handler = HANDLERS.get(kind)
    if handler is None:
        raise InvalidInput(f"no action {kind!r}")
    params, data = event.data.get("params", {}), event.data
    if not isinstance(params, dict):
        raise InvalidInput("event data: params must be an object")
    check_activation(rt, data.get("activation_key"), data.get("rule_id"))
    try:
        params = with_secrets(rt, kind, data.get("rule_id"), params)
        result = handler(rt, params, data)
        status, outcome = result if isinstance(result, tuple) else ("done", result)
    except BackendUnavailable:
        raise  # retried by the bus / Knative
    except ActionRefused as exc:
        outcome = f"{type(exc).__name__}: {exc}"[:500]
        status = "disabled" if disable_refused(rt, data.get("rule_id"), kind, params, exc) else "failed"
    except Exception as exc:  # the outcome is recorded; a redelivery would fail the same way
        outcome, status = f"{type(exc).__name__}: {exc}"[:500], "failed"
    # a rule that switched itself off, or whose action failed, is a warning, as the engine's rule.failed is: an
    # operator watching warnings sees a rule failing at every firing (the outcome, as the activation keeps it, and
    # the log's URLs without their credentials)
    (log.warning if status in ("disabled", "failed") else log.info)(
        "rule.action_done", rule_id=data.get("rule_id"), action=kind, status=status, outcome=outcome)
    record_outcome(rt, data.get("activation_key"), status, outcome)


def with_secrets(rt, kind: str, rule_id, params: dict) -> dict:
    """The action's params with the credentials it needs (SECRET_PARAMS: a webhook's URL, and the key and header that
    authenticate to it) read together from the rule as stored now: its event carries none. A rule deleted, or given
    another action, since it fired runs nothing."""
    needed = (REQUIRED_PARAMS.get(kind, set()) | OPTIONAL_PARAMS.get(kind, set())) & SECRET_PARAMS
    if not needed:
        return params
    if not isinstance(rule_id, str) or not re.fullmatch(RULE_ID, rule_id):
        raise InvalidInput("event data: rule_id must be a rule's id")
    try:
        rule, _ = load_rule(rt.store, rule_id)
    except NotFoundError:
        raise InvalidInput(f"rule {rule_id!r} no longer exists: its {kind} action is not run") from None
    if rule.action.type != kind:
        raise InvalidInput(f"rule {rule_id!r} no longer has a {kind} action: not run")
    stored = rule.action.params
    return {**{k: v for k, v in params.items() if k not in needed}, **{k: stored[k] for k in needed if k in stored}}


def add_command(path: str) -> str:
    """How the webhook's key at `path` is added (a refusal naming it missing says so)."""
    return f"amx keys add {path} --rotation manual --field {WEBHOOK_KEY_FIELD} --for-url URL"


def auth_value(rt, path: str) -> str:
    """The header value a webhook's key holds (its field WEBHOOK_KEY_FIELD), read as every key is (rt.secrets);
    InvalidInput naming what is missing and what to do, never the value."""
    from affiliate_matrix.connections import key_gone

    try:
        held = rt.secrets.read(path).data
    except NotFoundError:  # the store's words ("version 1 not found or destroyed") do not say a key was revoked
        raise InvalidInput(key_gone(rt, path) or f"no key is stored at {path!r} ({add_command(path)})") from None
    if not held.get(WEBHOOK_KEY_FIELD):
        raise InvalidInput(f"the key at {path!r} holds no field {WEBHOOK_KEY_FIELD!r}, the header's value (it holds "
                           f"{', '.join(sorted(held)) or 'none'}): revoke it and add it again ({add_command(path)})")
    return held[WEBHOOK_KEY_FIELD]


def sent_to_problem(rt, path: str, url: str, unregistered: bool = False) -> str | None:
    """Why the webhook's key at `path` may not be sent to `url`, or None: its record names the origins it was added for
    (keys.origin_problem), and a key with no record to say (written to the store by hand) is sent nowhere; with
    `unregistered`, a key with no record is let be (a rule written before its key is added: judged as it fires)."""
    from affiliate_matrix.keys import load_record, origin_problem

    try:
        record, _ = load_record(rt, path)
    except NotFoundError:
        return None if unregistered else (f"no key is registered at {path!r}, so nothing says where it may be sent: "
                                          f"revoke it and add it again ({add_command(path)})")
    except DamagedData as exc:  # what it allowed cannot be read: sent nowhere
        return str(exc)
    return origin_problem(record, url)


def webhook_auth(rt, params: dict) -> dict[str, str]:
    """The header a notify authenticates with: auth_header (Authorization) holding its auth_key's value; none without
    an auth_key. The key is read only for an origin (scheme, host, port) of its webhook_url it was added for: any admin
    writes rules, and one pointing a webhook's key at their own host would have been sent it. A key missing, revoked,
    without its field or added for another origin is ActionRefused: every firing would be refused the same way until a
    person adds the key or changes the rule (the secret store not answering is BackendUnavailable, retried)."""
    if "auth_key" not in params:
        return {}
    path = str(params["auth_key"])
    try:
        value = auth_value(rt, path)  # first: a key missing or revoked is said as such
    except InvalidInput as exc:
        raise ActionRefused(str(exc)) from None
    if problem := sent_to_problem(rt, path, str(params.get("webhook_url"))):
        raise ActionRefused(problem)
    return {str(params.get("auth_header") or DEFAULT_AUTH_HEADER): value}


def auth_key_warning(problem: str) -> str:
    """A notify's key problem as `amx rules list`/`show` and the dry run name it: what a firing would do about it."""
    return f"action.params.auth_key: {problem}; a firing would be refused, disabling the rule"


def recorded_key_problem(rt, params: dict, records: dict | None = None) -> str | None:
    """Why a notify's auth_key could not be sent to its webhook_url as far as the key's record says (revoked, no
    record, added for another origin), or None: no secret is read (`amx rules list`). Whether the secret holds its
    field is judged by webhook_auth (`amx rules show`, the dry run, a firing). `records`: what the keys' records said,
    by path, kept across a listing's rules, so a key many rules name is read once."""
    from affiliate_matrix.keys import origin_problem

    if "auth_key" not in params:
        return None
    path = str(params["auth_key"])
    records = {} if records is None else records
    if path not in records:
        records[path] = _recorded(rt, path)
    record, problem = records[path]
    return problem or origin_problem(record, str(params.get("webhook_url")))


def _recorded(rt, path: str) -> tuple[object, str | None]:
    """The record of the key at `path`, or why it cannot be sent whatever the URL (none, damaged, revoked)."""
    from affiliate_matrix.connections import revoked_said
    from affiliate_matrix.keys import load_record

    try:
        record, _ = load_record(rt, path)
    except NotFoundError:  # none added yet (a rule written disabled may come first), or written to the store by hand
        return None, f"no key is registered at {path!r} ({add_command(path)})"
    except DamagedData as exc:
        return None, str(exc)
    return record, revoked_said(path, record.revoked_at) if record.revoked_at else None


def auth_key_problem(rt, rule) -> str | None:
    """Why a notify rule's auth_key cannot be sent, or None. Its webhook_url's origin is held to the key's on every
    write, enabled or not (keys.origin_problem; a rule written before its key is judged as it fires). The key itself is
    judged when an enabled rule is written where the write makes its firings read the key (the rule new, enabled, or
    naming another key), as a connection's key is (connections.key_missing_problem): a typo is said then, not at the
    first firing, days later; a rule written disabled may come before its key, and an edit of a rule whose key was
    revoked since is not refused for it."""
    params = rule.action.params
    path = params.get("auth_key")
    if path is None:
        return None
    if problem := sent_to_problem(rt, str(path), str(params.get("webhook_url")), unregistered=True):
        return f"action.params.auth_key: {problem}"
    if not rule.enabled:
        return None
    try:
        stored, _ = load_rule(rt.store, rule.id)
        if stored.enabled and stored.action.params.get("auth_key") == path:
            return None
    except (NotFoundError, DamagedData):  # new (or replacing what cannot be read)
        pass
    try:
        webhook_auth(rt, params)
    except InvalidInput as exc:
        return (f"action.params.auth_key: {exc}; add it first, or write the rule disabled (enabled: false) until it "
                "is there")
    return None


def disable_refused(rt, rule_id, kind: str, params: dict, refused: ActionRefused) -> bool:
    """Disable the rule whose action was refused for good, with the reason on the rule (`amx rules list`, GET /rules),
    only while its action is still the one refused (`params` as with_secrets read them): a rule given a new webhook
    since stays enabled. A webhook gone is kept in the rule's state too, which its reason, a person's to replace, is
    not: enabling the rule with it is refused (state.webhook_gone_problem)."""
    if not isinstance(rule_id, str) or not re.fullmatch(RULE_ID, rule_id):
        return False
    gone = isinstance(refused, WebhookGone)
    mend = "give it another webhook_url" if gone else "mend it"
    reason = f"its {kind} action was refused for good ({refused}): {mend}, then enable the rule again"
    if disable_rule(rt.store, rule_id, reason, action=(kind, params)) is None:
        return False
    if gone:
        update_state(rt.store, rule_id, lambda state: {**state, "webhook_gone": {
            "webhook": webhook_digest(str(params.get("webhook_url"))), "why": str(refused)}})
    return True


def render(text: str, inputs: dict, quote=str) -> str:
    """{name} placeholders from the activation's inputs, each value passed through `quote`; nothing else is
    interpreted. A value the inputs hold as null (a commission the delta does not state) reads as NO_VALUE, a figure
    as the product writes one (50, not 50.0)."""
    def value(name: str) -> str:
        held = inputs.get(name, "")
        return NO_VALUE if held is None else number_text(held)

    return re.sub(PLACEHOLDER, lambda m: quote(value(m.group(1))), text)


def slack_text(value: str) -> str:
    """A value shown as itself in Slack's mrkdwn, whose only control characters are &, < and > (Slack's
    escaping rule): a scraped name holding "<!channel>" would ping the channel, "<https://x|Open>" hide a link."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(kind: str, params: dict, data: dict) -> str:
    """The text a notify action posts or an alert records: the rule's text (else a default) with its placeholders
    filled from the activation's inputs, each value escaped for Slack's mrkdwn in a notify (the rule's own text is
    sent as written)."""
    inputs = data.get("inputs", {})
    default = "Rule {rule_id} fired" + ("" if kind != "notify" else " on {event_type}" if "event_type" in inputs
                                       else " on its schedule")
    return render(str(params.get("text") or default), {**inputs, "rule_id": data.get("rule_id", "")},
                  quote=slack_text if kind == "notify" else str)


def notify(rt, params: dict, data: dict, **pacing) -> str:
    """Slack-compatible JSON to the rule's webhook through the polite client (per-host pacing shared with
    every other request of the process, the address guard, a size cap). The POST carries the activation
    id as its Idempotency-Key, the same on every redelivery, and only then is it retried on a connect
    error, a timeout, 429 or 5xx, honouring Retry-After; without one it is sent once. The webhook URL is a
    credential (Slack's is a secret path), so no error or log line shows more than its host. With an auth_key, its
    value is sent in auth_header (Authorization) and shown nowhere; the client follows no redirect, so it never
    reaches another origin. `pacing`: hosts, clock, sleep, wall_clock for the PoliteClient (tests pass fakes)."""
    from affiliate_matrix.netguard import origin_policy
    from affiliate_matrix.polite import GaveUp, NoAnswer, PoliteClient

    text = message("notify", params, data)
    url = str(params["webhook_url"])
    # unfurled, a URL a placeholder carries (scraped) was fetched by Slack, and its page chose the preview shown
    body = {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            "unfurl_links": False, "unfurl_media": False}
    key = data.get("activation_id")
    headers = {"User-Agent": rt.settings.user_agent} | (
        {"Idempotency-Key": key} if isinstance(key, str) and re.fullmatch(_ACTIVATION_ID, key) else {})
    headers |= webhook_auth(rt, params)
    if url_credentials(url):  # stored before they were refused: posted as they are, said until the rule is changed
        log.warning("rule.webhook_credentials_in_url", rule_id=data.get("rule_id"),
                    remedy=f"store them as a key under {WEBHOOK_KEYS} and name it in the rule's auth_key")
    # Slack takes about one message a second per webhook; Knative redelivers what is still failing after 30 s. Its
    # attempts and their waits take at most 90 s in all (each attempt's 30 s and two waits of 30 s took 150 s), well
    # within the triggers function's 120 s: stopped there, the post's outcome was never recorded.
    client = PoliteClient("webhook", allow_loopback=origin_policy(url, rt.settings.allow_loopback_fetch),
                          rate_limit_per_s=1.0, concurrency=1, timeout=10.0, deadline=30.0, total=90.0,
                          max_retry_after=30.0,
                          attempts=3 if "Idempotency-Key" in headers else 1, redact=True, headers=headers, **pacing)
    try:
        answer = client.request("POST", url, json=body, up_to=WEBHOOK_ANSWER_READ)
    except GaveUp as exc:  # still 429 or 5xx, or asked to wait longer than we wait: the bus redelivers it
        answer = exc.response
    except NoAnswer as exc:  # unreachable, timed out: the bus redelivers later
        raise BackendUnavailable(f"webhook unreachable: {exc}") from None
    except FetchError as exc:
        raise InvalidInput(f"webhook not posted: {exc}") from None  # a non-public address, a malformed URL
    finally:
        client.close()
    status = answer.status
    # Slack says why in a word (no_service: the webhook was removed; channel_not_found, invalid_payload, ...); only
    # such a word is repeated, never whatever else a receiver answers.
    word = b"" if answer.cut_short else answer.body.strip()
    why = f" ({word.decode()})" if re.fullmatch(_SLACK_ERROR, word) else ""
    if status == 429 or status >= 500:
        raise BackendUnavailable(f"webhook answered HTTP {status}{why}")
    if status >= 300:
        gone = why and word.decode() in WEBHOOK_GONE
        # never followed: its credentials (a secret path, an auth header) would go where the Location says
        moved = ", a redirect, not followed: give the webhook's own URL" if status < 400 else ""
        raise (WebhookGone if gone else InvalidInput)(f"webhook answered HTTP {status}{why}{moved}")
    return f"posted ({status})"


def alert(rt, params: dict, data: dict) -> str:
    inputs = data.get("inputs", {})
    rt.index.ensure_index(ALERTS_INDEX)
    rt.index.bulk_upsert(ALERTS_INDEX.name, [{
        "id": data.get("activation_id") or data.get("rule_id"), "rule_id": data.get("rule_id", ""),
        "severity": str(params.get("severity", "warning")),
        "text": message("alert", params, data),
        "subject": inputs.get("program_id") or inputs.get("key_path") or inputs.get("campaign_id") or "",
        "event_type": inputs.get("event_type", ""), "at": datetime.now(UTC).isoformat()}], refresh=True)
    return "alert written"


def discover(rt, params: dict, data: dict) -> str | tuple[str, str]:
    from affiliate_matrix.discovery import nothing_asked
    from affiliate_matrix.discovery.dorks import niche_problem
    from affiliate_matrix.discovery.run import discover as run

    if why := niche_problem(str(params["niche"])):  # a rule stored before niches were held to words: each firing
        raise ActionRefused(f"action.params.niche: {why}")  # would be refused the same way
    report = run(rt, [str(params["niche"])], [str(params.get("language", "en"))])
    if why := nothing_asked(report):  # not done: the activation says why (a spent quota is spent for its day)
        return "failed", why
    return f"{len(report.discovered)} discovered, {len(report.review)} to review"


def resync(rt, params: dict, data: dict) -> str | tuple[str, str]:
    """A sync as the schedule requests one: an unhealthy connection's is skipped (sync_requests.request_sync), and the
    outcome says so, with the reason."""
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.sync_requests import request_sync

    sync = request_sync(rt, load_connection(rt.store, str(params["connection_id"]))[0])
    if sync.status == "skipped":
        return "skipped", f"sync {sync.id} {'; '.join(sync.errors)}"[:500]  # "skipped: <why>; re-test it ..."
    return f"sync {sync.id} requested"


def migrate_index(rt, params: dict, data: dict) -> str | tuple[str, str]:
    """The index migrated to the code's version. One refused because a migration holds the index's lease (this event
    delivered again while its first delivery migrates), or a rollback, is skipped, naming the holder: the first does
    the work and records its own outcome when done."""
    from affiliate_matrix.indices import index_specs
    from affiliate_matrix.search import MigrationRunning

    spec = index_specs().get(str(params["index"]))
    if spec is None:
        raise NotFoundError(f"no index {params['index']!r}")
    rt.index.ensure_index(spec)
    live = rt.index.status(spec.name).current
    if live >= spec.version:
        return f"{spec.name} already at v{live}"
    try:
        rt.index.migrate(spec)
    except MigrationRunning as exc:
        return "skipped", f"already running: {exc}"[:500]
    return f"{spec.name} migrated to v{spec.version}"


def rebuild_index(rt, params: dict, data: dict) -> str:
    """The programs rebuilt from what is stored, with no network (pipeline.rebuild), or one connection's replayed:
    new batches, which the index function folds in as usual. A connection that cannot be replayed (damaged, an API's
    with no answers kept yet) is named in the outcome, and the others are replayed."""
    from affiliate_matrix.pipeline import rebuild, scrape

    if params.get("connection_id"):
        report = scrape(rt, str(params["connection_id"]), replay=True)
        return f"replayed {report.connection_id} ({counted(report.records, 'record')})"
    rebuilt = rebuild(rt)
    replayed = ", ".join(f"{r.connection_id} ({counted(r.records, 'record')})" for r in rebuilt.replayed) or "nothing"
    return f"replayed {replayed}; " \
        f"{counted(rebuilt.discovery_batches, 'discovery batch', 'discovery batches')} announced again" + \
        "".join(f"; left out: {why}" for why in rebuilt.left_out)


def rotate_key(rt, params: dict, data: dict) -> str:
    from affiliate_matrix.keys import rotate, rotation_said

    path = str(params["path"])
    return rotation_said(path, rotate(rt, path))


HANDLERS = {"notify": notify, "alert": alert, "discover": discover, "resync": resync, "migrate_index": migrate_index,
            "rebuild_index": rebuild_index, "rotate_key": rotate_key}


def check_activation(rt, key, rule_id) -> None:
    """InvalidInput, before the action runs, when the activation its event names is another rule's: its outcome would
    be written over that rule's history. One not kept (none named, gone) is no matter: no outcome is recorded."""
    if not isinstance(key, str) or not re.fullmatch(_ACTIVATION_KEY, key):
        return
    from affiliate_matrix.storage import read_json

    stored, _, _ = read_json(rt.store, key, lambda doc: isinstance(doc, dict), "not an activation (an object)")
    if stored is not None and stored.get("rule_id") != rule_id:
        raise InvalidInput(f"activation {key} belongs to rule {str(stored.get('rule_id'))[:100]!r}, not "
                           f"{str(rule_id)[:100]!r}: the action is not run")


def record_outcome(rt, key, status: str, outcome: str) -> None:
    if not isinstance(key, str) or not re.fullmatch(_ACTIVATION_KEY, key):  # from the event: only what fire() writes
        return
    from affiliate_matrix.storage import read_json

    # A damaged record raised after the action was done, so the Broker redelivered it and it was done again: named
    # in the log, its outcome left unrecorded (and the record never overwritten).
    stored, _, problem = read_json(rt.store, key, lambda doc: isinstance(doc, dict), "not an activation (an object)")
    if problem is not None:
        log_damaged(key, problem, outcome=status)
    if stored is None:
        return
    activation = stored | {"outcome": status, "detail": outcome}
    rt.store.put(key, json.dumps(activation).encode(), content_type="application/json")
    mirror_activation(rt, activation)
