"""Prometheus metrics every function exposes on /metrics, and W3C trace context (`traceparent`,
the propagation format OpenTelemetry uses) carried from HTTP requests and CloudEvents into the
logs and on into every event published while handling them.

No tracing SDK runs in the functions: ids are propagated and logged (trace_id, span_id), so a
collector that reads the logs or the Broker's events can stitch a flow together; each function
hop gets its own span id under the incoming trace.
"""

import contextvars
import re
import secrets

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("amx_requests_total", "HTTP requests answered", ["function", "status"])
LATENCY = Histogram("amx_request_seconds", "Time to answer an HTTP request", ["function"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("amx_events_total", "CloudEvents taken in", ["function", "type", "outcome"])
EVENT_LATENCY = Histogram("amx_event_seconds", "Time to handle a CloudEvent", ["function"],
                          buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900))
ERRORS = Counter("amx_errors_total", "Failures, by kind", ["function", "kind"])
ITEMS = Counter("amx_items_total", "Work items by stage: fetched, parsed, failed, indexed, discovered", ["stage"])
RETRIES = Counter("amx_retries_total", "Retried calls, by what was retried", ["what"])
RULE_ACTIVATIONS = Counter("amx_rule_activations_total", "Rule decisions to act", ["rule_id", "decision"])
ALLOCATION_RUNS = Counter("amx_allocation_runs_total", "Budget allocation runs stored", ["strategy"])


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


# --- trace context -------------------------------------------------------------------------------

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


def start_span(incoming: str | None) -> str:
    """A new span under the incoming trace (or a new trace), made current; returns its traceparent."""
    match = _TRACEPARENT.match((incoming or "").strip().lower())
    trace_id = match.group(1) if match and match.group(1) != "0" * 32 else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"
    _current.set(traceparent)
    import structlog

    structlog.contextvars.bind_contextvars(trace_id=trace_id, span_id=traceparent[36:52])
    return traceparent


def current_traceparent() -> str | None:
    return _current.get()
