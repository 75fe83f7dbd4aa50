"""Observability, one module per signal: this package's root is the structured logs (what every module
imports), telemetry.py the Prometheus counters and the trace context, figures.py the dashboards'
figures as documents in the `metrics` index.

Structured logs: JSON in production, readable locally, every line with the function and a request/event id.

The function's name is the process's (one function per process), added to every line by a
processor, so lines logged on any thread carry it; a request's or event's own context lives in
structlog's context variables, cleared as each one starts, so nothing of one leaks into the next
on a reused worker thread.

Secrets never reach a log line: values under secret-looking keys are redacted by a processor,
so a careless `log.info(..., token=t)` is safe too; so are a URL's credential-looking query values and password
(`?api_key=…`, `user:pass@`) in any value, a traceback's included, and in the lists and mappings a value holds. A line of a source's work (its `source`, bound
for a whole scrape or sync) names each request as a reader is shown it: without the account (sources.request_named).
"""

import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import unquote_plus

import structlog

from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_FEED,
                                         LINE_SEPARATORS, TAB, characters)

_SECRET_KEYS = ("token", "password", "secret", "authorization", "api_key", "apikey", "jwt", "credential")
# fullmatch: "$" would also take a final "\n"; compiled by re when a request first brings one, not by a start
_REQUEST_ID = r"[A-Za-z0-9._:-]{1,128}"
_function = "unknown"


def _secret_name(key) -> bool:
    key = str(key).lower()
    return any(part in key for part in _SECRET_KEYS) and not key.endswith(("_path", "_id"))


def redact_secrets(_logger, _method, event_dict):
    for key in event_dict:
        if _secret_name(key):
            event_dict[key] = "[redacted]"
    return event_dict


# Query parameters that carry a credential: a name holding one of _SECRET_KEYS or these (a signed URL's
# `X-Amz-Signature`), or one of the short names that is one whole (Google's `key`, `sig`, `auth`), not `sort_key`.
_SECRET_PARAMETER_PARTS = (*_SECRET_KEYS, "signature", "passwd", "passphrase", "hmac")
_SECRET_PARAMETERS = frozenset(("key", "sig", "auth", "pwd", "pass", "session", "sessionid", "sid", "code"))
# And a key named by what it is for (`access_key`, `accessKey`, Azure's `subscription-key`): a name ending in `key`
# after one of these words; not any name ending so (`sort_key`, `group_key` order a listing)
_KEY_KINDS = ("api", "access", "app", "application", "private", "subscription", "consumer", "client", "license",
              "licence", "developer", "master", "partner", "publisher", "account", "signing", "encryption", "shared",
              "webhook", "user")
# A value ends where a URL in a text does: at a space, a quote, or punctuation before one (`…&key=x: HTTP 500`)
# (both compiled by re on first use, by a line quoting a URL: not by every function's start)
_QUERY_PAIR = r"([?&])([^=&#\s'\"?]+)=([^&#\s'\"]*?)(?=[.,;:)]*(?:[&#\s'\"]|$))"
_USER_PASSWORD = r"(//[^/\s:@'\"]*:)[^/\s@'\"]+@"
# userinfo without a password is the credential itself as often as a name (https://ghp_TOKEN@github.com/…)
_USER_ALONE = r"//[^/\s:@'\"]+@"


def _secret_parameter(name: str) -> bool:
    """Whether a query parameter (or a key's field) of this name holds a credential. Words apart by a hyphen or a dot
    are read as by `_` (`api-key`, `x-api-key` as `api_key`): providers spell them every way."""
    name = name.lower().replace("-", "_").replace(".", "_")
    return name in _SECRET_PARAMETERS or any(part in name for part in _SECRET_PARAMETER_PARTS) or \
        name.endswith(tuple(kind + tail for kind in _KEY_KINDS for tail in ("_key", "key")))


def without_url_credentials(text: str) -> str:
    """A text with each URL it quotes (a request in an error's words, a traceback's) without the credentials a URL can
    carry: a query value under a secret-looking name, the password before the host, a userinfo of one part (a token)."""
    def pair(match: re.Match) -> str:
        return f"{match[1]}{match[2]}=[redacted]" if _secret_parameter(unquote_plus(match[2])) else match[0]

    if "=" not in text and "@" not in text:
        return text
    return re.sub(_USER_ALONE, "//[redacted]@", re.sub(_USER_PASSWORD, r"\1[redacted]@", re.sub(_QUERY_PAIR, pair, text)))


# An API token or a session (auth's shapes: amx_<id>_<secret>, amxs_<id>-<id>_<secret>) pasted where none is asked
# for (a path, the search words): its id is kept, to revoke it by, never its secret (compiled by re on first use)
_TOKEN_SECRET = r"(amxs?_[0-9a-f-]{12,25}_)[A-Za-z0-9_-]{43}"


def without_token_secrets(text: str) -> str:
    """A text with each API token or session it holds as its id alone: amx_<id>_…"""
    return re.sub(_TOKEN_SECRET, r"\1…", text) if "amx" in text else text


def without_values(text: str, secret_values) -> str:
    """A text with each of a key's values (4 characters or more) blanked out: a provider's answer, quoted in an error,
    can quote the credentials it was sent."""
    for value in secret_values:
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "[redacted]")
    return text


def secret_field(name: str) -> bool:
    """Whether a key's field of this name holds a secret (Awin's api_token, Impact's auth_token, Rakuten's
    client_secret), as a URL's query parameters are judged; not its account ids (publisher_id, account_sid), which the
    operator's own words on a request show."""
    return _secret_parameter(name)


def secret_values(credentials: dict) -> list:
    """The values of a key's fields named as secrets (secret_field)."""
    return [value for name, value in credentials.items() if secret_field(name)]


# The values of the key a piece of work sends (sync, keys_unlogged): a provider's answer quoted in a line (a plugin's
# fault, its traceback) can quote the key it was sent, and no line may hold a secret
_key_values: ContextVar[tuple[str, ...]] = ContextVar("key_values", default=())


@contextmanager
def keys_unlogged(values) -> Iterator[None]:
    """While inside, each of these values (a key's secrets: secret_values) is blanked out of every log line."""
    token = _key_values.set(tuple(values))
    try:
        yield
    finally:
        _key_values.reset(token)


MAX_NESTED = 8  # lists and mappings a logged value is read into; what sits deeper is not logged


def _without_credentials(value, keys: tuple[str, ...], depth: int = 0):
    """`value` with each text in it without credentials (a URL's, a token's secret, a key's values), however deep in lists and mappings
    it sits (keys.checked's failures, each an error's words), and each member of a mapping named as a secret redacted,
    as a line's own values are."""
    if isinstance(value, str):
        return without_values(without_url_credentials(without_token_secrets(value)), keys)
    if not isinstance(value, (dict, list, tuple, set, frozenset)):
        return value
    if depth == MAX_NESTED:
        return "[redacted: nested too deep]"
    if isinstance(value, dict):
        return {name: "[redacted]" if _secret_name(name) else _without_credentials(member, keys, depth + 1)
                for name, member in value.items()}
    return [_without_credentials(item, keys, depth + 1) for item in value]


def redact_url_credentials(_logger, _method, event_dict):
    keys = _key_values.get()
    for key, value in event_dict.items():
        event_dict[key] = _without_credentials(value, keys)
    return event_dict


# How a source's requests are named to readers (sources.requests_named_in), set by the sources package as it is
# imported: a line naming a source is of work that loaded the plugins, and the sources package logs through this one.
request_namer: Callable[[str, str], str] | None = None


def name_requests(_logger, _method, event_dict):
    """On a line of a source's work, each request a value quotes named without the agency's account there (Impact's
    SID, CJ's requestor id, Awin's publisher id), as every reader of its records is shown it: its URL names the account
    to every reader of the logs, which is not the account's holder."""
    source = event_dict.get("source")
    if isinstance(source, str) and source and request_namer is not None:
        for key, value in event_dict.items():
            if isinstance(value, str) and key != "source":
                event_dict[key] = request_namer(source, value)
    return event_dict


# What a terminal acts on rather than shows: ESC starts a sequence that moves the cursor, erases or recolours (a request
# path or a scraped page's text holding one could rewrite the lines above it), a carriage return writes over its line.
# The bidi controls (marks, embeddings, overrides, isolates) reorder the text after them in a terminal or a log
# viewer (a path holding U+202E shows its tail reversed), and U+2028/U+2029 break a viewer's line. JSON escapes them all
# (ensure_ascii); the console renderer prints a value as it is unless it holds a space, a quote or a line break.
# Tabs and line feeds stay: a traceback's lines are its own. The invisible format characters (a zero-width space) stay
# on purpose: a terminal acts on none of them (a name refuses them for making one name two: model_types.check_name).
_ACTED_ON = characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, BIDI_CONTROLS, LINE_SEPARATORS, but=(TAB, LINE_FEED))
_TERMINAL_CONTROLS = {ord(c): f"\\x{ord(c):02x}" if c < "\u0100" else f"\\u{ord(c):04x}" for c in _ACTED_ON}
_JSON_CONTROLS = {ord(c): f"\\u{ord(c):04x}" for c in _ACTED_ON}  # as JSON escapes them (\u009b: JSON has no \x9b)


def controls_escaped(text: str, *, in_json: bool = False) -> str:
    """`text` with every control character a terminal acts on as its escape (\\x1b, \\u202e), shown rather than acted
    on: for what a command prints of data anyone may have written (a dead letter's event, as its sender sent it).
    `in_json`: `text` is JSON, where such a character stands only inside a string: each is escaped as JSON escapes it
    (\\u009b), so that the text shown parses as the same data."""
    return text.translate(_JSON_CONTROLS if in_json else _TERMINAL_CONTROLS)


def escape_controls(_logger, _method, event_dict):
    """For the console: every control character of a value as its escape (controls_escaped)."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = controls_escaped(value)
    return event_dict


def add_function(_logger, _method, event_dict):
    event_dict.setdefault("function", _function)
    return event_dict


def context_processors() -> list:
    """What puts the function and the request's context on a line (tests capture with these)."""
    return [structlog.contextvars.merge_contextvars, add_function]


def function_name() -> str:
    return _function


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (test captures replace it; a bound file could be closed)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


# The log events the command running lists on its console itself (shown_by_command): a failure it lists is not printed
# a second time as a log line. None in a function, nor in a command whose log level is asked for (AMX_LOG_LEVEL: its
# logs are collected, whole). A process runs one command; module state, as every thread of its run logs.
_shown_by_command: frozenset[str] = frozenset()


def shown_by_command(events) -> None:
    """The log events this command lists on its console itself, from here on not logged (drop_shown)."""
    global _shown_by_command
    _shown_by_command = frozenset(events)


def drop_shown(_, __, event_dict):
    if event_dict.get("event") in _shown_by_command:
        raise structlog.DropEvent
    return event_dict


def configure_logging(function: str, *, fmt: str = "console", level: str = "info") -> None:
    """Configure structlog for this process; `function` is on every line, whichever thread logs it."""
    global _function
    _function = function
    shown_by_command(())  # (a command names them after its runtime is made)
    renderers = [structlog.processors.JSONRenderer()] if fmt == "json" else \
        [escape_controls, structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=[
            drop_shown,
            *context_processors(),
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            name_requests,  # after the traceback is text: its messages quote requests too
            redact_url_credentials,
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    _damaged_logged.set([0])  # a command's, or a function's start


def bind_request(request_id: str | None = None, **context) -> str:
    """Start a request's or event's context: whatever an earlier one on this thread bound is dropped,
    and its id (the caller's when it is a sane token, else a new one) goes on every line after."""
    if not (request_id and re.fullmatch(_REQUEST_ID, request_id)):
        request_id = uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, **context)
    _damaged_logged.set([0])
    return request_id


def raised_at(exc: BaseException, frames: int = 12) -> str:
    """Where a fault no branch foresaw was raised, for its one log line: the frames it passed, innermost first, each its
    folder, file and line (`handlers/routes.py:296 < handlers/__init__.py:180`), at most `frames` of them. Its words
    may quote a credential and a traceback holds them, so a fault is logged as its type and these places alone."""
    import traceback
    from pathlib import PurePath

    passed = reversed(traceback.extract_tb(exc.__traceback__))
    return " < ".join(f"{'/'.join(PurePath(frame.filename).parts[-2:])}:{frame.lineno}"
                      for _, frame in zip(range(frames), passed)) or "?"


def escaped_for_log(value, limit: int = 200) -> str:
    """What a client sent, logged before it is checked (a refused event's id, type and source, an id the local Broker
    took), as a log line holds it: printable ASCII as sent, else every other character as its escape (\\n, \\u200b,
    \\uff41; a backslash doubled), at most `limit` characters of it. JSON lines escape all of them, but the console
    printed a line feed quoted, and an invisible or look-alike character as it is: shown as another id than the one
    sent. An id taken is ASCII with no control character (events.Event), an X-Request-Id a token (bind_request)."""
    text = str(value)[:limit]
    return text if text.isascii() and text.isprintable() else text.encode("unicode_escape").decode("ascii")


MAX_DAMAGED_LOGGED = 20  # document.damaged lines a request or event writes: an index of thousands wrote thousands
# How many log_damaged met in this request or event (bind_request starts it; a ContextPool's task shares it), or in
# this command (configure_logging); a thread of its own (started with an empty context) has none, and logs every one
_damaged_logged: ContextVar[list[int] | None] = ContextVar("damaged_logged", default=None)


def log_damaged(key: str, error: str, **said) -> None:
    """A `document.damaged` line naming a stored document a list or a read leaves out (its key, never its content;
    `said`: what the reader did instead): the first MAX_DAMAGED_LOGGED of a request or event, however many pages it
    reads (an export, the merchants' search), then one `document.damaged_more`. A list's answer names each one it
    leaves out, an export counts them."""
    met = _damaged_logged.get()
    if met is not None:
        met[0] += 1
        if met[0] == MAX_DAMAGED_LOGGED + 1:
            get_logger().warning("document.damaged_more", logged=MAX_DAMAGED_LOGGED,
                                 reason="more damaged documents than a request logs: the rest are not logged")
        if met[0] > MAX_DAMAGED_LOGGED:
            return
    get_logger().warning("document.damaged", key=key, error=error, **said)


def bind_source(name: str) -> None:
    """The source plugin whose work this request or event does, on every line after it until the next one starts (so
    name_requests names the requests of each, its threads' lines and its failure's included)."""
    structlog.contextvars.bind_contextvars(source=name)


def get_logger(**context):
    return structlog.get_logger(**context)
