"""What manifests/base declares, as the local runtime needs it, and as each function needs it to
know which event types are routed to it."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

PING_TYPE = "dev.knative.sources.ping"


@dataclass(frozen=True)
class Route:
    name: str
    filters: tuple[tuple[str, str], ...]  # CloudEvent attribute → exact value, all must match (a Trigger's filter)
    subscriber: str
    retry: int
    backoff_s: float
    exponential: bool

    def matches(self, event: dict) -> bool:
        return all(event.get(attribute) == value for attribute, value in self.filters)


@dataclass(frozen=True)
class Ping:
    name: str
    schedule: str
    data: dict
    sink: str


@dataclass
class Plan:
    functions: list[str]
    routes: list[Route]
    pings: list[Ping]
    dead_letter_sink: str | None = None  # the Service the Broker parks undeliverable events with

    def takes(self, function: str, attributes: dict) -> bool:
        """Whether a Trigger routes an event with these CloudEvent attributes to `function` (or, for a
        cron tick, a PingSource sends it there)."""
        if attributes.get("type") == PING_TYPE:
            return any(ping.sink == function for ping in self.pings)
        return any(route.subscriber == function and route.matches(attributes) for route in self.routes)


def _seconds(duration: str) -> float:
    """ISO-8601 durations as Knative delivery specs write them (PT1S, PT0.5S, PT2M)."""
    match = re.fullmatch(r"PT(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?", duration)
    if not match:
        raise ValueError(f"unsupported duration {duration!r}")
    return float(match.group(1) or 0) * 60 + float(match.group(2) or 0)


def read_plan(base: Path) -> Plan:
    if not base.is_dir():
        raise FileNotFoundError(f"no manifests folder {base}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the functions read this on their first event
    docs = [d for path in sorted(base.glob("*.yaml")) if path.name != "kustomization.yaml"
            for d in yaml.load_all(path.read_text(), Loader=loader) if isinstance(d, dict) and "kind" in d]
    functions = [d["metadata"]["name"] for d in docs
                 if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")]
    broker = next((d for d in docs if d["kind"] == "Broker"), {"spec": {}})
    defaults = broker["spec"].get("delivery", {})
    routes = []
    for d in (d for d in docs if d["kind"] == "Trigger"):
        delivery = {**defaults, **d["spec"].get("delivery", {})}
        routes.append(Route(d["metadata"]["name"], tuple(sorted(d["spec"].get("filter", {}).get("attributes", {}).items())),
                            d["spec"]["subscriber"]["ref"]["name"], int(delivery.get("retry", 0)),
                            _seconds(delivery.get("backoffDelay", "PT1S")),
                            delivery.get("backoffPolicy", "exponential") == "exponential"))
    pings = [Ping(d["metadata"]["name"], d["spec"]["schedule"], json.loads(d["spec"].get("data") or "{}"),
                  d["spec"]["sink"]["ref"]["name"]) for d in docs if d["kind"] == "PingSource"]
    dead_letters = defaults.get("deadLetterSink", {}).get("ref", {}).get("name")
    return Plan(functions, routes, pings, dead_letters)
