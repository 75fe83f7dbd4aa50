"""Prometheus metrics every function exposes on /metrics, and W3C trace context (`traceparent`,
the propagation format OpenTelemetry uses) carried from HTTP requests and CloudEvents into the
logs and on into every event published while handling them.

Counting is a dictionary increment under a lock; prometheus_client is imported only when
/metrics is scraped, to write the exposition format (its import would add ~15 ms to every cold
start). No tracing SDK runs in the functions: ids are propagated and logged (trace_id, span_id),
so a collector that reads the logs or the Broker's events can stitch a flow together; each
function hop gets its own span id under the incoming trace.
"""

import bisect
import contextvars
import re
import secrets
import threading

_lock = threading.Lock()
_metrics: list["_Metric"] = []


class _Metric:
    kind = ""

    def __init__(self, name: str, documentation: str, labelnames: list[str]):
        self._name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.values: dict[tuple, object] = {}
        _metrics.append(self)

    def labels(self, *values) -> "_Child":
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self._name} takes labels {self.labelnames}")
        return _Child(self, tuple(str(v) for v in values))


class _Child:
    def __init__(self, metric: _Metric, key: tuple):
        self.metric, self.key = metric, key

    def inc(self, amount: float = 1.0) -> None:
        with _lock:
            self.metric.values[self.key] = self.metric.values.get(self.key, 0.0) + amount

    def observe(self, value: float) -> None:
        metric = self.metric
        with _lock:
            counts = metric.values.setdefault(self.key, [0] * (len(metric.buckets) + 1) + [0.0])
            counts[bisect.bisect_left(metric.buckets, value)] += 1
            counts[-1] += value


class Counter(_Metric):
    kind = "counter"


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name, documentation, labelnames, buckets):
        super().__init__(name, documentation, labelnames)
        self.buckets = tuple(buckets)


REQUESTS = Counter("amx_requests", "HTTP requests answered", ["function", "status"])
LATENCY = Histogram("amx_request_seconds", "Time to answer an HTTP request", ["function"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("amx_events", "CloudEvents taken in", ["function", "type", "outcome"])
EVENT_LATENCY = Histogram("amx_event_seconds", "Time to handle a CloudEvent", ["function"],
                          buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900))
ERRORS = Counter("amx_errors", "Failures, by kind", ["function", "kind"])
ITEMS = Counter("amx_items", "Work items by stage: fetched, parsed, failed, indexed, discovered", ["stage"])
RETRIES = Counter("amx_retries", "Retried calls, by what was retried", ["what"])
RULE_ACTIVATIONS = Counter("amx_rule_activations", "Rule decisions to act", ["rule_id", "decision"])
ALLOCATION_RUNS = Counter("amx_allocation_runs", "Budget allocation runs stored", ["strategy"])


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format (prometheus_client writes it)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    class Collector:
        def collect(self):
            with _lock:
                snapshot = [(m, dict(m.values)) for m in _metrics]
            for metric, values in snapshot:
                if metric.kind == "counter":
                    family = CounterMetricFamily(metric._name, metric.documentation, labels=metric.labelnames)
                    for key, value in values.items():
                        family.add_metric(list(key), value)
                else:
                    family = HistogramMetricFamily(metric._name, metric.documentation, labels=metric.labelnames)
                    for key, counts in values.items():
                        cumulative, buckets = 0, []
                        for bound, count in zip((*map(str, metric.buckets), "+Inf"), counts[:-1]):
                            cumulative += count
                            buckets.append((bound, cumulative))
                        family.add_metric(list(key), buckets, counts[-1])
                yield family

    registry = CollectorRegistry()
    registry.register(Collector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- trace context -------------------------------------------------------------------------------

# compiled by re on the first request that brings one: not by every start (a cold start's first request has none)
_TRACEPARENT = r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$"
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


def start_span(incoming: str | None) -> str:
    """A new span under the incoming trace (or a new trace), made current; returns its traceparent."""
    match = re.match(_TRACEPARENT, incoming.strip().lower()) if incoming else None
    trace_id = match.group(1) if match and match.group(1) != "0" * 32 else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"
    _current.set(traceparent)
    import structlog

    structlog.contextvars.bind_contextvars(trace_id=trace_id, span_id=traceparent[36:52])
    return traceparent


def current_traceparent() -> str | None:
    return _current.get()
