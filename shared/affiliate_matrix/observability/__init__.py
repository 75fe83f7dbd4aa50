"""Observability, one module per signal: this package's root is the structured logs (what every module
imports), telemetry.py the Prometheus counters and the trace context, figures.py the dashboards'
figures as documents in the `metrics` index.

Structured logs: JSON in production, readable locally, every line with the function and a request/event id.

The function's name is the process's (one function per process), added to every line by a
processor, so lines logged on any thread carry it; a request's or event's own context lives in
structlog's context variables, cleared as each one starts, so nothing of one leaks into the next
on a reused worker thread.

Secrets never reach a log line: values under secret-looking keys are redacted by a processor,
so a careless `log.info(..., token=t)` is safe too.
"""

import logging
import re
import sys
import uuid

import structlog

_SECRET_KEYS = ("token", "password", "secret", "authorization", "api_key", "apikey", "jwt", "credential")
# fullmatch: "$" would also take a final "\n"; compiled by re when a request first brings one, not by a start
_REQUEST_ID = r"[A-Za-z0-9._:-]{1,128}"
_function = "unknown"


def redact_secrets(_logger, _method, event_dict):
    for key in event_dict:
        if any(part in key.lower() for part in _SECRET_KEYS) and not key.endswith(("_path", "_id")):
            event_dict[key] = "[redacted]"
    return event_dict


# What a terminal acts on rather than shows: ESC starts a sequence that moves the cursor, erases or recolours (a request
# path or a scraped page's text holding one could rewrite the lines above it), a carriage return writes over its line.
# JSON escapes them; the console renderer prints a value as it is unless it holds a space, a quote or a line break.
# Tabs and line feeds stay: a traceback's lines are its own.
_TERMINAL_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))}


def escape_controls(_logger, _method, event_dict):
    """For the console: every control character of a value as its escape (\\x1b), shown rather than acted on."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = value.translate(_TERMINAL_CONTROLS)
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


def configure_logging(function: str, *, fmt: str = "console", level: str = "info") -> None:
    """Configure structlog for this process; `function` is on every line, whichever thread logs it."""
    global _function
    _function = function
    renderers = [structlog.processors.JSONRenderer()] if fmt == "json" else \
        [escape_controls, structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=[
            *context_processors(),
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()


def bind_request(request_id: str | None = None, **context) -> str:
    """Start a request's or event's context: whatever an earlier one on this thread bound is dropped,
    and its id (the caller's when it is a sane token, else a new one) goes on every line after."""
    if not (request_id and re.fullmatch(_REQUEST_ID, request_id)):
        request_id = uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, **context)
    return request_id


def get_logger(**context):
    return structlog.get_logger(**context)
