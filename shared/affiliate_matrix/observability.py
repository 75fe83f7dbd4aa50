"""Structured logs: JSON in production, readable locally, every line with the function and a request/event id.

Secrets never reach a log line: values under secret-looking keys are redacted by a processor,
so a careless `log.info(..., token=t)` is safe too.
"""

import logging
import sys
import uuid

import structlog

_SECRET_KEYS = ("token", "password", "secret", "authorization", "api_key", "apikey", "jwt", "credential")
_configured = False


def redact_secrets(_logger, _method, event_dict):
    for key in event_dict:
        if any(part in key.lower() for part in _SECRET_KEYS) and not key.endswith(("_path", "_id")):
            event_dict[key] = "[redacted]"
    return event_dict


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (test captures replace it; a bound file could be closed)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(function: str, *, fmt: str = "console", level: str = "info") -> None:
    """Configure structlog once per process; `function` is bound to every line."""
    global _configured
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(function=function)
    _configured = True


def bind_request(request_id: str | None = None, **context) -> str:
    """Bind a request or event id (made up when the caller has none) to every line logged after."""
    request_id = request_id or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(request_id=request_id, **context)
    return request_id


def get_logger(**context):
    return structlog.get_logger(**context)
