"""A rule document (YAML or JSON): trigger, CEL condition, action with parameters, cool-down."""

import re
from math import isfinite
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.events import RULE_ID
from affiliate_matrix.model_types import CRON_FIELDS, Document, Model

EVENT_PREFIX = "dev.affiliatematrix."
# Short trigger names → the CloudEvent types the functions publish.
EVENT_TRIGGERS = ("program.delta", "key.expiring", "key.rotated", "key.rotation.failed", "key.revoked",
                  "sync.failed", "budget.pacing", "budget.allocated", "raw.batch.stored")
ActionType = Literal["discover", "resync", "migrate_index", "rebuild_index", "rotate_key", "notify", "alert"]
REQUIRED_PARAMS = {"discover": {"niche"}, "resync": {"connection_id"}, "migrate_index": {"index"},
                   "rebuild_index": set(), "rotate_key": {"path"}, "notify": {"webhook_url"}, "alert": set()}
# Params that are credentials (whoever has a Slack webhook's URL posts to its channel), or say which credential goes
# with one: an action's event never carries them (it crosses the Broker and is kept whole in a dead letter); the action
# reads them together from the stored rule, so an action in flight never sends one webhook's key to another webhook.
SECRET_PARAMS = frozenset({"webhook_url", "auth_key", "auth_header"})
OPTIONAL_PARAMS = {"discover": {"language"}, "rebuild_index": {"connection_id"},
                   "notify": {"text", "auth_key", "auth_header"}, "alert": {"severity", "text"}}
# A notify's auth_key: a key of the secret store under this folder (amx keys add webhooks/NAME), whose field
# WEBHOOK_KEY_FIELD is the header's whole value ("Bearer …"), sent only to the origins its record names (--for-url).
# Only there: a rule naming a source's key (connections/…) would send it to any host its writer names; the triggers
# function reads this folder alone (fn-triggers.hcl).
WEBHOOK_KEYS = "webhooks/"
WEBHOOK_KEY_FIELD = "value"
DEFAULT_AUTH_HEADER = "Authorization"
# Headers the notify action sets itself or that frame the request: a key's value in one would break or forge the post
OWN_HEADERS = frozenset({"host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent",
                         "accept-encoding", "idempotency-key", "te", "trailer", "upgrade", "expect"})
# The events an action's work can publish. A rule on one of them with that action sets off its own trigger (a replay
# stores batches, a sync that fails fails again, a failed rotation is retried and fails): without a cool-down it
# would fire itself over and over, so it must keep at least LOOP_COOLDOWN_S between firings.
CAUSES = {"resync": {"raw.batch.stored", "sync.failed", "program.delta"},
          "rebuild_index": {"raw.batch.stored", "sync.failed", "program.delta"},
          "discover": {"raw.batch.stored", "program.delta"},
          "rotate_key": {"key.rotated", "key.rotation.failed"}}
LOOP_COOLDOWN_S = 600
# The most characters of a reason a person gives for disabling a rule (as a connection's): it is shown in every
# listing. A rule stored with a longer one still reads, and a failure's reason (the engine's) is not held to it.
MAX_REASON = 500
# The demo's rule's webhook (demo/collect.py): its notify is shown by `amx demo`, never posted. No Slack webhook has
# that address: a firing elsewhere is refused for good.
DEMO_WEBHOOK = "https://hooks.slack.com/services/amx-demo"
MAX_SEVERITY = 100  # characters of an alert's severity (a word: info, warning, critical)
# A notify or alert text's {placeholder}: a name the activation's inputs hold (engine.event_values fills them), or the
# rule's id. One they never hold would be sent as nothing on every firing, so it is refused when the rule is written.
PLACEHOLDER = r"\{(\w+)\}"  # compiled by re on first use
EVENT_INPUTS = {"program.delta": ("delta_id", "program_id", "program_name", "categories", "commission_old",
                                  "commission_new"),
                "key.": ("key_path",), "budget.pacing": ("campaign_id", "day"), "budget.allocated": ("day",)}


def _rule_id(value):
    """An id said in words, before its pattern (kept for the schema) would be quoted to whoever typed it. In the field's
    annotation, so that the API's body models, which copy the fields and not the model's validators, say it too."""
    if isinstance(value, str) and not re.fullmatch(RULE_ID, value):
        raise ValueError(f"{value[:80]!r} is not a rule id: lower-case letters, digits and '-', up to 63, the first a "
                         "letter or a digit")
    return value


# the pattern before the validator, so the OpenAPI document shows it (after one, pydantic's schema left it out)
RuleId = Annotated[str, Field(pattern=f"^{RULE_ID}$"), BeforeValidator(_rule_id)]


# A schedule is read in UTC (the ping's time): one written with a time zone, as other crons take it (a `timezone` beside
# it, Kubernetes' `CRON_TZ=` before it, a zone after it), was refused as an extra input or no five-field cron, never
# saying that the hour is to be written in UTC.
UTC_ONLY = ("a schedule is in UTC and takes no time zone: write its hour in UTC (09:00 in Europe/Berlin is "
            "0 8 * * * in winter, 0 7 * * * in summer)")


class Trigger(Model):
    event: Literal[EVENT_TRIGGERS] | None = None  # type: ignore[valid-type]
    schedule: str | None = Field(None, description="Five-field cron, UTC.")

    @model_validator(mode="before")
    @classmethod
    def _no_zone(cls, data):
        if isinstance(data, dict):
            schedule = data.get("schedule")
            zoned = isinstance(schedule, str) and (re.match(r"\s*(CRON_)?TZ=", schedule)
                                                   or re.fullmatch(r"\s*(\S+\s+){5}\S*/\S*\s*", schedule))
            if zoned or any(str(key).lower() in ("timezone", "time_zone", "tz", "zone") for key in data):
                raise ValueError(UTC_ONLY)
        return data

    @model_validator(mode="after")
    def _one(self):
        if (self.event is None) == (self.schedule is None):
            raise ValueError("give exactly one of event or schedule")
        if self.schedule is not None and not re.match(CRON_FIELDS, self.schedule.strip()):
            raise ValueError(f"schedule {self.schedule!r} is not a five-field cron expression")
        return self  # what each field may hold is judged by `checked`, when the rule is written

    @property
    def key(self) -> str:
        return self.event or f"schedule:{self.schedule}"


def placeholders(trigger: Trigger) -> list[str]:
    """The {placeholders} a rule's text may name: what its trigger's activations hold (a schedule's, its id alone)."""
    if trigger.event is None:
        return ["rule_id"]
    kind = "key." if trigger.event.startswith("key.") else trigger.event
    return ["rule_id", "event_id", "event_type", *EVENT_INPUTS.get(kind, ())]


class Action(Model):
    type: ActionType
    params: dict[str, str | int | float | bool] = Field({}, description=(
        "By type: discover niche, language; resync connection_id; migrate_index index; rebuild_index connection_id; "
        "rotate_key path; notify webhook_url, text, auth_key (a key's path under webhooks/, whose field `value` is "
        "sent as the header auth_header, Authorization unless named, and only to the origins the key was added for "
        "(amx keys add --for-url); the value is never shown), auth_header; alert severity, text."))

    @model_validator(mode="after")
    def _params(self):
        missing = REQUIRED_PARAMS[self.type] - set(self.params)
        unknown = set(self.params) - REQUIRED_PARAMS[self.type] - OPTIONAL_PARAMS.get(self.type, set())
        if missing:
            raise ValueError(f"action {self.type} needs param(s) {', '.join(sorted(missing))}")
        if unknown:
            raise ValueError(f"action {self.type} does not take param(s) {', '.join(sorted(unknown))}")
        # a YAML `.nan` or `.inf`: stored, it is written as null, and the rule no longer reads
        if odd := next((name for name, v in self.params.items() if isinstance(v, float) and not isfinite(v)), None):
            raise ValueError(f"param {odd} is {self.params[odd]}, not a finite number")
        url = self.params.get("webhook_url")
        if url is not None and not re.match(r"^https?://[^\s/]+", str(url)):
            raise ValueError("webhook_url must be an http(s) URL")
        return self


class Rule(Document):
    """A rule document. Its condition is judged by `checked` when the rule is written; a stored rule is
    trusted as it was written, so loading one never judges it again (limits may change; rules stay)."""

    id: RuleId
    description: str = Field("", max_length=500)
    trigger: Trigger
    condition: str = Field(min_length=1, max_length=2000, description="CEL over the context in conditions.py.")
    action: Action
    cooldown_s: int = Field(3600, ge=0, le=90 * 86400, description="After firing, the rule stays quiet this long.")
    enabled: bool = True
    disabled_reason: str | None = Field(None, description="Why the rule is disabled; an enabled rule has none.")

    @model_validator(mode="after")
    def _reason_only_when_disabled(self):
        # A reason says why a rule is not run. Kept on a rule written enabled (a disabled one PUT back enabled with
        # the reason it was read with, or one a client gave a reason), `amx rules show` said "disabled (…)" of a
        # rule that ran.
        if self.enabled:
            self.disabled_reason = None
        return self


def check_reason(reason: str) -> None:
    """A disabled_reason as a person writes it (POST and PUT /rules, `amx rules add`, `amx rules disable --reason`)."""
    from affiliate_matrix.model_types import check_name

    check_name(reason, "disabled_reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"disabled_reason: {len(reason):,} characters; at most {MAX_REASON} are kept")


def checked(rule: Rule) -> Rule:
    """The checks a rule passes once, when it is written (POST and PUT /rules, `amx rules add`): its
    condition, the context parts it reads against those its trigger fills, a cool-down on an action that can set
    off its own trigger, and its schedule's fields (the cron library: reading a stored rule does not load it)."""
    from affiliate_matrix.model_types import check_cron, check_name
    from affiliate_matrix.rules.conditions import ConditionError, check, check_trigger

    check_name(rule.description, "description", lines=True)
    # shown as written as the description is: CEL takes any character in a string literal, so a bidi override or an
    # invisible character there showed one test and ran another
    check_name(rule.condition, "condition", lines=True)
    check_reason(rule.disabled_reason or "")
    # what an alert records and a notify posts, shown as written as the description is; a severity is a keyword of
    # the alerts index, which OpenSearch refuses past 32,766 bytes (every such alert failed there, and only there)
    if "text" in rule.action.params:
        check_name(str(rule.action.params["text"]), "action.params.text", lines=True)
    if "severity" in rule.action.params:
        severity = str(rule.action.params["severity"])
        check_name(severity, "action.params.severity")
        if len(severity) > MAX_SEVERITY:
            raise InvalidInput(f"action.params.severity: {len(severity):,} characters; at most {MAX_SEVERITY} (a "
                               "word: info, warning, critical)")
    schedule = rule.trigger.schedule
    if schedule is not None:
        check_cron(schedule, "trigger.schedule")
    try:
        check(rule.condition)
        check_trigger(rule.condition, rule.trigger.key)
    except ConditionError as exc:
        raise InvalidInput(str(exc)) from None
    if rule.trigger.event in CAUSES.get(rule.action.type, ()) and rule.cooldown_s < LOOP_COOLDOWN_S:
        raise InvalidInput(f"cooldown_s: a {rule.action.type} action can publish {rule.trigger.event}, this rule's own "
                           f"trigger, so with a cool-down of {rule.cooldown_s} s it could set itself off without end; "
                           f"give cooldown_s of at least {LOOP_COOLDOWN_S}")
    if "webhook_url" in rule.action.params:  # as the notify action will read it (netguard), else it never posts
        from affiliate_matrix.errors import FetchError
        from affiliate_matrix.netguard import written_refusal

        # user:password@ was sent as Basic auth: a password kept in the rule, outside the secret store, and shown
        # whole to an admin token. A rule stored with one before still loads and posts as it did (rule_warnings). Said
        # first: a rule read back as shown, [redacted] in its place, is told this, not that its host is unreadable.
        if url_credentials(str(rule.action.params["webhook_url"])):
            raise InvalidInput("action.params.webhook_url: holds credentials (user:password@), which would be kept in "
                               f"the rule outside the secret store: {AUTH_KEY_HOWTO}")
        try:  # an address written as such is judged now, as the action would judge it (a name, when it resolves it);
            # loopback is left to the setting where the action runs
            kind = written_refusal(str(rule.action.params["webhook_url"]), allow_loopback=True)
        except FetchError:  # its words quote the address, a credential
            raise InvalidInput("action.params.webhook_url: not an http(s) URL with a valid host and port") from None
        if kind:
            raise InvalidInput(f"action.params.webhook_url: its host is a non-public address ({kind}), which the "
                               "notify action never posts to")
    check_auth_header(rule.action.params)
    text = rule.action.params.get("text")
    known = placeholders(rule.trigger)
    if unknown := [name for name in re.findall(PLACEHOLDER, str(text or "")) if name not in known]:
        import difflib

        guess = difflib.get_close_matches(unknown[0], known, n=1)
        kind = "a schedule" if rule.trigger.event is None else f"a {rule.trigger.event} event"
        raise InvalidInput(f"action.params.text: {{{unknown[0]}}}{f' (did you mean {guess[0]!r}?)' if guess else ''} "
                           f"is not filled by {kind}, so it would be sent empty; it fills "
                           f"{', '.join('{' + name + '}' for name in known)}")
    if rule.action.type == "discover":  # what POST /discover takes: each firing runs a discovery on it
        from affiliate_matrix.discovery.dorks import MAX_NICHE, TEMPLATES, niche_problem

        niche, language = rule.action.params["niche"], rule.action.params.get("language", "en")
        if not isinstance(niche, str):
            raise InvalidInput(f"action.params.niche: a niche of 1 to {MAX_NICHE} characters")
        if why := niche_problem(niche):
            raise InvalidInput(f"action.params.niche: {why}")
        if not isinstance(language, str) or language not in TEMPLATES:
            raise InvalidInput(f"action.params.language: no dork templates for {language!r}; known: {', '.join(TEMPLATES)}")
    check_named(rule.action)
    return rule


# How a webhook's credential is given: in the secret store, named by the rule (the refusal of user:password@ and the
# warning of a rule stored with one say it)
AUTH_KEY_HOWTO = (f"store the header's value as a key (amx keys add {WEBHOOK_KEYS}NAME --rotation manual --field "
                  f"{WEBHOOK_KEY_FIELD} --for-url URL, the webhook it may be sent to; for user:password, the value "
                  f"'Basic ' and the base64 of user:password) and name it in action.params.auth_key "
                  f"({WEBHOOK_KEYS}NAME; auth_header, if not {DEFAULT_AUTH_HEADER}), with the webhook_url without them")


def url_credentials(url: str) -> bool:
    """Whether a webhook's URL holds credentials (user:password@, or a user alone: a token as one)."""
    from urllib.parse import urlsplit

    try:
        return "@" in urlsplit(url).netloc
    except ValueError:  # a bracket it cannot read: judged by netguard as no URL
        return "@" in url.partition("://")[2].partition("/")[0]


def placeholder_problem(rule: Rule) -> str | None:
    """Why the rule's webhook posts to no one (the demo's placeholder), or None. Such a rule cannot act: a firing's
    post is refused for good, disabling it again, so it is refused enabled (handlers.triggers.check_stored)."""
    if rule.action.params.get("webhook_url") != DEMO_WEBHOOK:
        return None
    return ("action.params.webhook_url is the demo's placeholder, which posts to no one (Slack refuses it for good, "
            "disabling the rule): give the rule your webhook (amx rules add --replace, or PUT /rules/{id})")


def rule_warnings(rule: Rule) -> list[str]:
    """What a stored rule needs changed: its webhook the demo's placeholder, with which it cannot act
    (placeholder_problem), or it was written before a check that now refuses it (a webhook_url with credentials,
    posted as they are until the rule is written again: a rollout never silently stops its notifications). Said by
    `amx rules list` and `show`, a dry run (warnings) and each firing's log."""
    if problem := placeholder_problem(rule):
        return [problem]
    url = rule.action.params.get("webhook_url")
    if url is not None and url_credentials(str(url)):
        return [f"action.params.webhook_url holds credentials (user:password@), kept in the rule outside the secret "
                f"store and refused when a rule is written now; still posted with them until the rule is changed: "
                f"{AUTH_KEY_HOWTO}"]
    return []


def check_auth_header(params: dict) -> None:
    """A notify's auth_header: a header's name (an HTTP token) the action does not set itself, given with an
    auth_key."""
    if "auth_header" not in params:
        return
    if "auth_key" not in params:
        raise InvalidInput("action.params.auth_header: names the header an auth_key's value is sent in; give the "
                           f"auth_key ({WEBHOOK_KEYS}NAME) too")
    header = str(params["auth_header"])
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}", header):
        raise InvalidInput(f"action.params.auth_header: {header[:80]!r} is not a header's name: 1 to 100 letters, "
                           "digits and !#$%&'*+-.^_`|~ (e.g. Authorization, X-Relay-Token)")
    if header.lower() in OWN_HEADERS:
        raise InvalidInput(f"action.params.auth_header: {header} is set by the notify action itself or frames the "
                           "request; name the header the receiver reads its credential from (e.g. Authorization)")


def check_named(action: Action) -> None:
    """What an action names must be able to be a connection or a key: one that cannot (a connection '../../x') failed
    at every firing. Whether it exists is the firing's to find: a rule may be written first (but a notify's auth_key,
    judged against the secret store as an enabled rule is written: actions.auth_key_problem)."""
    params = action.params
    if "connection_id" in params:
        from affiliate_matrix.connections import _connection_id

        try:
            _connection_id(str(params["connection_id"]))
        except ValueError as exc:
            raise InvalidInput(f"action.params.connection_id: {exc}") from None
    if action.type == "rotate_key":
        from affiliate_matrix.keys import _key_path

        try:  # as a key's record checks its path
            _key_path(str(params["path"]))
        except ValueError as exc:
            raise InvalidInput(f"action.params.path: {exc}") from None
    if "auth_key" in params:
        from affiliate_matrix.keys import KEY_PATH, KEY_PATH_MAX, KEY_PATH_WORDS

        path = str(params["auth_key"])
        if len(path) > KEY_PATH_MAX or not re.fullmatch(KEY_PATH, path) or not path.startswith(WEBHOOK_KEYS):
            raise InvalidInput(f"action.params.auth_key: {path[:80]!r} is not a webhook's key: a key's path under "
                               f"{WEBHOOK_KEYS} ({WEBHOOK_KEYS}NAME: {KEY_PATH_WORDS}), as amx keys add stores it; a "
                               "key elsewhere (a source's) is never sent to a webhook")


def trigger_type(kind: str) -> str:
    """The CloudEvent type of an event a dry run is given: a rule's own spelling (program.delta) or the full type.
    Any other triggers no rule, so a dry run of it says so rather than that the condition does not hold."""
    short = kind.removeprefix(EVENT_PREFIX)
    if short not in EVENT_TRIGGERS:
        raise InvalidInput(f"event.type: {kind[:80]!r} triggers no rule; give one of {', '.join(EVENT_TRIGGERS)} "
                           f"(or the same with {EVENT_PREFIX} before it)")
    return EVENT_PREFIX + short


class NotARule(ValueError):
    """Text that is no document a rule could be read from (parse_rule): not YAML, or YAML a rule takes none of."""


def yaml_said(exc, text: str) -> str:
    """A YAML error in one line, where it is and what is wrong (`line 3, column 6: expected ',' or ']', but got ':'`),
    not PyYAML's lines quoting the text under a caret, each "in "<unicode string>"", which a terminal showed as six."""
    mark = getattr(exc, "problem_mark", None)
    if getattr(exc, "problem", None) and mark is not None:
        begun = getattr(exc, "context_mark", None)
        within = f" ({exc.context} begun on line {begun.line + 1})" if exc.context and begun is not None else ""
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}{within}"
    if isinstance(getattr(exc, "position", None), int) and getattr(exc, "reason", None):  # a character YAML refuses
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        return f"line {line}, column {column}: U+{ord(text[exc.position]):04X}: {exc.reason}"
    return " ".join(str(exc).split())


def parse_rule(text: str) -> Rule:
    """A rule from YAML or JSON text (YAML is a superset of JSON), not yet `checked`. An alias (*name) is refused: a few
    lines of nested ones (a billion laughs) stand for billions of values, which checking the rule would walk. So are an
    integer past MAX_INT_DIGITS in our words, as in a JSON body (int()'s told the operator to raise Python's limit),
    and a key given twice, as in a JSON body."""
    import yaml

    from affiliate_matrix.json_input import MAX_INT_DIGITS

    class Unaliased(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                alias = self.peek_event()
                raise NotARule(f"the rule uses a YAML alias (*{str(alias.anchor)[:40]}, line "
                               f"{alias.start_mark.line + 1}): write its value out, a rule takes none")
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):  # its last value was taken, where a JSON body's is refused
            seen = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise NotARule(f"the rule gives the key {key.value[:80]!r} twice (line "
                                       f"{key.start_mark.line + 1})")
                    seen.add(key.value)
            return super().construct_mapping(node, deep)

        def construct_yaml_int(self, node):
            if (digits := len(str(node.value).lstrip("+-"))) > MAX_INT_DIGITS:  # before int(), which refuses it
                raise NotARule(f"the rule holds a number too long: {digits:,} digits, where a number has at most "
                               f"{MAX_INT_DIGITS:,}")
            value = super().construct_yaml_int(node)
            if abs(value) >= 10 ** MAX_INT_DIGITS:  # hexadecimal (0x…): fewer characters than its decimal digits
                raise NotARule(f"the rule holds a number too long: {str(node.value)[:12]}… is over "
                               f"{MAX_INT_DIGITS:,} digits, where a number has at most {MAX_INT_DIGITS:,}")
            return value

    Unaliased.add_constructor("tag:yaml.org,2002:int", Unaliased.construct_yaml_int)

    try:
        data: Any = yaml.load(text, Loader=Unaliased)  # a SafeLoader: no Python object is made
    except yaml.YAMLError as exc:
        raise NotARule(f"the rule is not valid YAML/JSON: {yaml_said(exc, text)}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise NotARule("the rule is not valid YAML/JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise NotARule("the rule must be a mapping")
    for said in ("warnings", "state"):  # what GET /rules/{id} says of a rule, not part of it: a rule read and saved
        data.pop(said, None)            # is taken
    # strictly, as POST /rules reads its body: `cooldown_s: true` was a cool-down of 1 s and "60" 60, where the API
    # refuses both, naming the field
    return Rule.model_validate(data, strict=True)
