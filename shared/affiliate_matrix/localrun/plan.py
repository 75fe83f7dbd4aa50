"""What manifests/base declares, as the local runtime needs it, and as each function needs it to
know which event types are routed to it and by whom: each route carries the service account it
sends with (Knative's OIDC identity of the Trigger or PingSource, events/identity.py)."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from affiliate_matrix.events.identity import PINGSOURCE, TRIGGER, oidc_service_account

PING_TYPE = "dev.knative.sources.ping"


@dataclass(frozen=True)
class Route:
    name: str
    filters: tuple[tuple[str, str], ...]  # CloudEvent attribute → exact value, all must match (a Trigger's filter)
    subscriber: str
    retry: int
    backoff_s: float
    exponential: bool
    sender: str = ""  # the service account the Broker sends this Trigger's events (and dead letters) with
    dead_letter_sink: str | None = None  # the Service its undeliverable events are parked with

    def matches(self, event: dict) -> bool:
        return all(event.get(attribute) == value for attribute, value in self.filters)


@dataclass(frozen=True)
class Ping:
    name: str
    schedule: str
    data: dict
    sink: str
    sender: str = ""  # the service account this PingSource sends with


@dataclass
class Plan:
    functions: list[str]
    routes: list[Route]
    pings: list[Ping]
    dead_letter_sink: str | None = None  # the Service the Broker parks undeliverable events with

    def senders(self, function: str, attributes: dict) -> set[str]:
        """The service accounts of the routes that send an event with these CloudEvent attributes to
        `function`: the Triggers whose filter it passes (or, for a cron tick, the PingSources with that
        sink). Empty when nothing routes it there."""
        if attributes.get("type") == PING_TYPE:
            return {ping.sender for ping in self.pings if ping.sink == function}
        return {route.sender for route in self.routes if route.subscriber == function and route.matches(attributes)}

    def dead_letter_senders(self, function: str) -> set[str]:
        """Who parks dead letters with `function`: Knative's Broker sends a Trigger's dead letters with
        that Trigger's identity (knative/eventing pkg/broker/filter/filter_handler.go,
        handleDispatchToDLSRequest), to the Trigger's dead-letter sink or else the Broker's."""
        return {route.sender for route in self.routes if route.dead_letter_sink == function}


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
        name = d["metadata"]["name"]
        routes.append(Route(name, tuple(sorted(d["spec"].get("filter", {}).get("attributes", {}).items())),
                            d["spec"]["subscriber"]["ref"]["name"], int(delivery.get("retry", 0)),
                            _seconds(delivery.get("backoffDelay", "PT1S")),
                            delivery.get("backoffPolicy", "exponential") == "exponential",
                            oidc_service_account(TRIGGER, name),
                            delivery.get("deadLetterSink", {}).get("ref", {}).get("name")))
    pings = [Ping(d["metadata"]["name"], d["spec"]["schedule"], json.loads(d["spec"].get("data") or "{}"),
                  d["spec"]["sink"]["ref"]["name"], oidc_service_account(PINGSOURCE, d["metadata"]["name"]))
             for d in docs if d["kind"] == "PingSource"]
    dead_letters = defaults.get("deadLetterSink", {}).get("ref", {}).get("name")
    return Plan(functions, routes, pings, dead_letters)
