"""What manifests/base declares, as the local runtime needs it, and as each function needs it to
know which event types are routed to it and by whom: each route carries the service account it
sends with (Knative's OIDC identity of the Trigger or PingSource, events/identity.py), and the Broker's
EventPolicies say which service account may publish what to it."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from affiliate_matrix.events.identity import PINGSOURCE, TRIGGER, oidc_service_account

PING_TYPE = "dev.knative.sources.ping"


@dataclass(frozen=True)
class Route:
    name: str
    filters: tuple  # a Trigger's filter expressions (`filter_expressions`), all must pass
    subscriber: str
    retry: int
    backoff_s: float
    exponential: bool
    sender: str = ""  # the service account the Broker sends this Trigger's events (and dead letters) with
    dead_letter_sink: str | None = None  # the Service its undeliverable events are parked with
    timeout_s: float = 900.0  # how long one delivery waits for its answer (the spec's timeout; Knative's default: none)

    def matches(self, event: dict) -> bool:
        return all(passes(expression, event) for expression in self.filters)


@dataclass(frozen=True)
class Ping:
    name: str
    schedule: str
    data: dict
    sink: str
    sender: str = ""  # the service account this PingSource sends with


@dataclass(frozen=True)
class Publisher:
    """An EventPolicy on the Broker: the senders it names (`sub`; a trailing `*` is a prefix, as Knative reads it)
    and the filters their events must pass."""
    name: str
    subjects: tuple[str, ...]
    filters: tuple

    def names(self, sender: str) -> bool:
        return any(sender.startswith(s[:-1]) if s.endswith("*") else sender == s for s in self.subjects)


@dataclass
class Plan:
    functions: list[str]
    routes: list[Route]
    pings: list[Ping]
    dead_letter_sink: str | None = None  # the Service the Broker parks undeliverable events with
    publishers: tuple[Publisher, ...] = ()  # the Broker's EventPolicies, in the order the manifests give them
    service_accounts: dict[str, str] = field(default_factory=dict)  # function -> the account its Service runs as

    def may_publish(self, sender: str, event: dict) -> bool:
        """Whether the Broker takes `event` from `sender` (a token's `sub`): as Knative checks it, against the first
        EventPolicy naming the sender only (pkg/auth/event_policy.go, SubjectAndFiltersPass); no policy naming it,
        no entry (the Broker has policies, so its default of any account of the namespace no longer applies)."""
        policy = next((p for p in self.publishers if p.names(sender)), None)
        return policy is not None and all(passes(expression, event) for expression in policy.filters)

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
        handleDispatchToDLSRequest), to the dead-letter sink of the Trigger's delivery (trigger_delivery)."""
        return {route.sender for route in self.routes if route.dead_letter_sink == function}


# The dialects of the CloudEvents Subscriptions API filters a Trigger's `filters` may use, but CESQL, which would need
# an expression language of its own: a Trigger using it is refused by name rather than read as no filter at all.
_ATTRIBUTE_DIALECTS = {"exact": str.__eq__, "prefix": str.startswith, "suffix": str.endswith}


def exact(**attributes: str) -> tuple:
    """The expression of a filter on exact attribute values (what a Trigger's `filter.attributes` says)."""
    return "exact", tuple(sorted(attributes.items()))


def filter_expressions(trigger: dict) -> tuple:
    """A Trigger's filter as nested tuples (`("exact", (("type", "x"),))`, `("all", (...))`, `("not", ...)`).

    Knative reads `spec.filters` (the Subscriptions API form) over `spec.filter` when both are set; `filter`'s
    attributes are one `exact` expression."""
    where, spec = f"{trigger['kind']} {trigger['metadata']['name']}", trigger["spec"]
    if spec.get("filters") is None:
        attributes = (spec.get("filter") or {}).get("attributes") or {}
        return (_expression({"exact": attributes}, where),) if attributes else ()
    if not isinstance(spec["filters"], list):
        raise ValueError(f"{where}: spec.filters must be a list of filter expressions")
    return tuple(_expression(expression, where) for expression in spec["filters"])


def _expression(spec, where: str, depth: int = 0):
    if depth > 20:
        raise ValueError(f"{where}: filter expressions nested more than 20 deep")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ValueError(f"{where}: a filter expression names one dialect, got {str(spec)[:200]}")
    (dialect, value), = spec.items()
    if dialect in _ATTRIBUTE_DIALECTS:
        if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
            raise ValueError(f"{where}: {dialect} takes CloudEvent attributes and their string values")
        return dialect, tuple(sorted((str(k), v) for k, v in value.items()))
    if dialect in ("all", "any"):
        if not isinstance(value, list):
            raise ValueError(f"{where}: {dialect} takes a list of filter expressions")
        return dialect, tuple(_expression(inner, where, depth + 1) for inner in value)
    if dialect == "not":
        return dialect, _expression(value, where, depth + 1)
    raise ValueError(f"{where}: the {dialect!r} filter dialect is not read here (exact, prefix, suffix, "
                     "all, any and not are); route with those, or with spec.filter.attributes")


def passes(expression: tuple, event: dict) -> bool:
    """Whether CloudEvent attributes pass a filter expression; an attribute the event lacks passes none."""
    dialect, value = expression
    if dialect in _ATTRIBUTE_DIALECTS:
        test = _ATTRIBUTE_DIALECTS[dialect]
        return all(event.get(name) is not None and test(str(event[name]), wanted) for name, wanted in value)
    if dialect == "all":
        return all(passes(inner, event) for inner in value)
    if dialect == "any":
        return any(passes(inner, event) for inner in value)
    return not passes(value, event)  # not


def _seconds(duration: str) -> float:
    """ISO-8601 durations as Knative delivery specs write them (PT1S, PT0.5S, PT2M)."""
    match = re.fullmatch(r"PT(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?", duration)
    if not match:
        raise ValueError(f"unsupported duration {duration!r}")
    return float(match.group(1) or 0) * 60 + float(match.group(2) or 0)


def trigger_delivery(trigger: dict, broker: dict) -> dict:
    """A Trigger's delivery as Knative takes it: its own whole, else its Broker's, never the two merged field by field
    (knative/eventing pkg/reconciler/broker/trigger/trigger.go, subscribeToBrokerChannel): a Trigger with a delivery of
    its own has none of the Broker's retries, timeout nor dead-letter sink."""
    return trigger["spec"].get("delivery") or broker["spec"].get("delivery") or {}


def read_plan(base: Path) -> Plan:
    if not base.is_dir():
        raise FileNotFoundError(f"no manifests folder {base}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the functions read this on their first event
    docs = [d for path in sorted(base.glob("*.yaml")) if path.name != "kustomization.yaml"
            for d in yaml.load_all(path.read_text(), Loader=loader) if isinstance(d, dict) and "kind" in d]
    functions = [d["metadata"]["name"] for d in docs
                 if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")]
    broker = next((d for d in docs if d["kind"] == "Broker"), {"spec": {}})
    routes = []
    for d in (d for d in docs if d["kind"] == "Trigger"):
        delivery = trigger_delivery(d, broker)
        name = d["metadata"]["name"]
        routes.append(Route(name, filter_expressions(d),
                            d["spec"]["subscriber"]["ref"]["name"], int(delivery.get("retry", 0)),
                            _seconds(delivery.get("backoffDelay", "PT1S")),
                            delivery.get("backoffPolicy", "exponential") == "exponential",
                            oidc_service_account(TRIGGER, name),
                            delivery.get("deadLetterSink", {}).get("ref", {}).get("name"),
                            _seconds(delivery.get("timeout", "PT900S"))))
    pings = [Ping(d["metadata"]["name"], d["spec"]["schedule"], json.loads(d["spec"].get("data") or "{}"),
                  d["spec"]["sink"]["ref"]["name"], oidc_service_account(PINGSOURCE, d["metadata"]["name"]))
             for d in docs if d["kind"] == "PingSource"]
    dead_letters = (broker["spec"].get("delivery") or {}).get("deadLetterSink", {}).get("ref", {}).get("name")
    accounts = {d["metadata"]["name"]: d["spec"]["template"]["spec"].get("serviceAccountName", "default")
                for d in docs if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")}
    return Plan(functions, routes, pings, dead_letters, _publishers(docs, broker), accounts)


def _publishers(docs: list[dict], broker: dict) -> tuple[Publisher, ...]:
    """The EventPolicies applying to the Broker. Only `from: [{sub: ...}]` is read: a policy naming its senders
    otherwise (`ref`) is refused by name rather than read as naming nobody, or everybody."""
    name = broker.get("metadata", {}).get("name", "default")
    found = []
    for d in (d for d in docs if d["kind"] == "EventPolicy"):
        where, spec = f"EventPolicy {d['metadata']['name']}", d.get("spec") or {}
        if not any(t.get("ref", {}).get("kind") == "Broker" and t["ref"].get("name") == name
                   for t in spec.get("to") or []):
            continue
        senders = spec.get("from") or []
        if not senders or not all(isinstance(s, dict) and set(s) == {"sub"} and isinstance(s["sub"], str)
                                  for s in senders):
            raise ValueError(f"{where}: only `from: [{{sub: ...}}]` is read here; name each sender by its subject")
        found.append(Publisher(d["metadata"]["name"], tuple(s["sub"] for s in senders),
                               tuple(_expression(e, where) for e in spec.get("filters") or [])))
    return tuple(found)
