"""Event bus port: CloudEvents between functions.

Adapters: `InProcessBus` (handlers called in this process, the embedded default) and
`HttpBus` (structured CloudEvents POSTed to a Knative Broker). Delivery is at least once in
both, so consumers de-duplicate on (source, id); ids are derived from what the event is about
wherever possible, so a repeated run publishes the same id.
"""

from abc import ABC, abstractmethod
import contextvars
import hashlib
import json
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from affiliate_matrix.errors import ContentTooLarge, InvalidInput
from affiliate_matrix.model_types import FIRST_YEAR, LAST_YEAR, UtcDatetime, check_name

# The event types the functions exchange.
RAW_BATCH_STORED = "dev.affiliatematrix.raw.batch.stored"
PROGRAM_DELTA = "dev.affiliatematrix.program.delta"
SYNC_REQUESTED = "dev.affiliatematrix.sync.requested"      # an API connection, for the sync function
SCRAPE_REQUESTED = "dev.affiliatematrix.scrape.requested"  # a directory connection, for the scrape function
KEY_EXPIRING = "dev.affiliatematrix.key.expiring"
KEY_ROTATED = "dev.affiliatematrix.key.rotated"
KEY_ROTATION_FAILED = "dev.affiliatematrix.key.rotation.failed"
KEY_REVOKED = "dev.affiliatematrix.key.revoked"
BUDGET_ALLOCATED = "dev.affiliatematrix.budget.allocated"
BUDGET_PACING = "dev.affiliatematrix.budget.pacing"
SYNC_FAILED = "dev.affiliatematrix.sync.failed"
CONNECTION_DELETED = "dev.affiliatematrix.connection.deleted"  # for the index function: withdraw its claims
ACTION_PREFIX = "dev.affiliatematrix.action."  # + a rule action type: action.notify, action.discover, …
SPECVERSION = "1.0"  # the CloudEvents version every sender here (Knative, Event.to_cloudevent) speaks
# CloudEvents 1.0's context attributes and a structured event's data members: every other attribute is an extension
CONTEXT_ATTRIBUTES = ("specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time",
                      "data", "data_base64")
# The longest extension value taken: Knative's longest is knativeerrordata, the base64 of at most 1,024 bytes of the
# refusing answer (1,368 characters); ours are a traceparent (55) and a rule chain (at most 512).
MAX_EXTENSION_CHARACTERS = 2048
# What the CloudEvents SDK makes of data that is not a JSON object: JSON of another shape, or (binary mode, a body
# that is not JSON) the text or bytes as sent. The work would see none of it, so it is refused. (An object: where a
# string is wanted, as an event's specversion.)
DATA_KINDS = (((bytes, bytearray), "bytes"), (str, "a string"), (list, "a list"), (bool, "a boolean"),
              ((int, float), "a number"), (dict, "an object"))
ATTRIBUTE_NAME = r"[a-z0-9]+"  # CloudEvents' attribute names, extensions' too (compiled by re on first use)
MAX_EVENT_BYTES = 4 * 1024 * 1024  # the largest event taken in, over HTTP or from a file (`amx rules test --event`)
# Attributes of one CloudEvent taken in, extensions included: a binary event carries at most gunicorn's 100 header
# fields (limit_request_fields), and the CloudEvents SDK copies the extensions it holds at every attribute it sets
# (quadratic: 100,000 attributes in a structured event of 1.5 MB took 45 s), so a structured one is held to as many.
MAX_EVENT_ATTRIBUTES = 100
# The rules whose actions led to an event, in order: a CloudEvent extension attribute (comma-separated rule ids) that
# every event published while an event's work runs carries on, so rules setting each other off stop when one comes
# round again (rules/engine.py), and a chain with no cycle stops after MAX_RULE_HOPS rules.
RULE_CHAIN = "amxrulechain"
MAX_RULE_HOPS = 8
RULE_ID = r"[a-z0-9][a-z0-9-]{0,62}"  # a rule's id (rules/model.py Rule.id); compiled by re on first use
_rule_chain: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("rule_chain", default=())


def _plausible(time: datetime) -> datetime:
    """Work is dated from an event's time (yesterday, tomorrow, a day back): years at the edge of what
    datetime holds would overflow that arithmetic."""
    if not FIRST_YEAR <= time.year <= LAST_YEAR:
        raise ValueError(f"time {time.isoformat()} is not between the years {FIRST_YEAR} and {LAST_YEAR}")
    return time


def _timestamp(value: Any) -> Any:
    """A CloudEvent's time is an RFC 3339 timestamp, and work is dated from it: pydantic would also read a number, or
    digits as text, as a Unix time ("1764900000": some day of 2025, maybe not the one meant)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or value.strip().replace(".", "", 1).lstrip("+-").isdigit():
        raise ValueError(f"time {str(value)[:40]!r} is not an RFC 3339 timestamp, as 2026-01-05T06:00:00Z")
    return value


def _chain_items(value: Any) -> Any:
    """The attribute as sent (rule ids joined by commas), or as stored (a list); bounded before it is split."""
    if isinstance(value, str):
        if len(value) > MAX_RULE_HOPS * 64:  # ids of up to 63 characters, and their commas
            raise ValueError(f"the {RULE_CHAIN} attribute is {len(value)} characters, longer than {MAX_RULE_HOPS} "
                             "rule ids")
        return tuple(value.split(",")) if value else ()
    return value


def _chain_checked(chain: tuple[str, ...]) -> tuple[str, ...]:
    """A chain the engine could have made: at most MAX_RULE_HOPS rule ids, each once (a rule met again is stopped)."""
    if len(chain) > MAX_RULE_HOPS:
        raise ValueError(f"the {RULE_CHAIN} attribute names {len(chain)} rules, more than {MAX_RULE_HOPS}")
    if (bad := next((rule_id for rule_id in chain if not re.fullmatch(RULE_ID, rule_id)), None)) is not None:
        raise ValueError(f"the {RULE_CHAIN} attribute holds {bad[:70]!r}, not a rule id")
    if len(set(chain)) < len(chain):
        raise ValueError(f"the {RULE_CHAIN} attribute names a rule twice")
    return chain


RuleChain = Annotated[tuple[str, ...], BeforeValidator(_chain_items), AfterValidator(_chain_checked)]


def current_rule_chain() -> tuple[str, ...]:
    """The rule chain of the event whose work is running (none outside any: an API request, a cron tick)."""
    return _rule_chain.get()


@contextmanager
def rule_chain(chain: tuple[str, ...]):
    """Run an event's work with its rule chain current: every event it publishes (Event.make) carries it on."""
    token = _rule_chain.set(chain)
    try:
        yield
    finally:
        _rule_chain.reset(token)


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on the first event, not at start

    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    # dot-separated words: a type names a folder of dead letters, so no "..", no leading or trailing dot
    type: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=200)
    subject: str | None = Field(None, max_length=200)
    time: Annotated[UtcDatetime, BeforeValidator(_timestamp), AfterValidator(_plausible)]
    data: dict[str, Any] = {}
    rulechain: RuleChain = ()  # the RULE_CHAIN extension

    @field_validator("id", "source", "subject")
    @classmethod
    def _shown_as_written(cls, value: str | None, info: ValidationInfo) -> str | None:
        """No control character (CloudEvents' String type has none), nor a bidi or invisible one: these attributes
        are logged, parked and filled into a rule's alert text, where a line break or an override would forge
        another line or show them other than they are. Ours are digests, paths and ids."""
        if value is not None:
            check_name(value, f"event {info.field_name}")
        # An id and a source are what an event is de-duplicated by: a look-alike (full-width letters, an accent in
        # another normal form) would be another event yet show as the one done. Every sender's are ASCII.
        if value is not None and info.field_name in ("id", "source") and not value.isascii():
            odd = next(c for c in value if not c.isascii())
            raise InvalidInput(f"event {info.field_name}: holds U+{ord(odd):04X}, where an event's {info.field_name} "
                               "is ASCII (a digest, a UUID, a path)")
        return value

    @classmethod
    def make(cls, type: str, source: str, data: dict, *, key: str | None = None, subject: str | None = None,
             rulechain: tuple[str, ...] | None = None) -> "Event":
        """A new event; with `key`, the id is derived from it so the same work yields the same id. Its rule chain is
        the one of the work publishing it unless given."""
        event_id = hashlib.sha256(f"{type}|{key}".encode()).hexdigest()[:32] if key else uuid.uuid4().hex
        return cls(id=event_id, source=source, type=type, subject=subject, time=datetime.now(UTC), data=data,
                   rulechain=current_rule_chain() if rulechain is None else rulechain)

    def to_cloudevent(self):
        from cloudevents.http import CloudEvent

        attributes = {"id": self.id, "source": self.source, "type": self.type, "time": self.time.isoformat(),
                      "datacontenttype": "application/json"}
        if self.subject:
            attributes["subject"] = self.subject
        if self.rulechain:
            attributes[RULE_CHAIN] = ",".join(self.rulechain)
        from affiliate_matrix.observability.telemetry import current_traceparent

        if traceparent := current_traceparent():  # the distributed-tracing extension: the flow stays one trace
            attributes["traceparent"] = traceparent
        return CloudEvent(attributes, self.model_dump(mode="json")["data"])

    @classmethod
    def from_cloudevent(cls, event) -> "Event":
        data = event.data if isinstance(event.data, dict) else {}
        return cls(id=event["id"], source=event["source"], type=event["type"], subject=event.get("subject"),
                   time=event.get("time"), data=data,
                   rulechain=() if (chain := event.get(RULE_CHAIN)) is None else chain)


DEAD_LETTERS = "dead-letters/"  # the store's prefix for parked events (handlers/events.park; retention removes them)


def attributes_refused(attributes: dict) -> str | None:
    """Why every function refuses an event for its attributes alone (`attributes`: a structured event's members, or a
    binary one's ce- headers by their names without ce-), naming what is wrong, or None: a specversion other than
    SPECVERSION, no time, an extension attribute no CloudEvents type holds. Checked by event_intake.check_body (which
    reads how the event is sent first), for the functions and amx up's Broker's ingress alike."""
    if refused := specversion_refused(attributes.get("specversion")):
        return refused
    # The SDK gives an event naming no time the time it arrives: its work (a tick's day, a withdrawal's moment, a
    # rule's cool-down) would be dated by this machine's clock. Every event here names one (Event.to_cloudevent, the
    # Broker keeps it, PingSource sets it).
    if attributes.get("time") is None:
        return "the event names no time (its time attribute, RFC 3339): its work is dated by it"
    return _extension_refused({name: value for name, value in attributes.items() if name not in CONTEXT_ATTRIBUTES})


def too_large() -> ContentTooLarge:
    """An event past MAX_EVENT_BYTES, refused (413) in these words by the functions and amx up's Broker alike."""
    return ContentTooLarge(f"the event is larger than {MAX_EVENT_BYTES} bytes: send at most that")


def read_apart(attributes: dict, structured: bool) -> str | None:
    """Why an event is refused for what two readers would read as two events (`attributes`: a structured event's
    members, or a binary one's ce- headers by their names without ce-, lower-cased as HTTP's names are), naming it, or
    None: an attribute's name that is not CloudEvents' (lower-case ASCII letters and digits: the SDK lower-cases a
    structured event's, so a "TYPE" overrode its "type"), or both data and data_base64 (CloudEvents' JSON format gives
    one; the SDK takes data_base64's, another reader data's). Checked by event_intake.check_body, for the functions and
    amx up's Broker's ingress alike, before attributes_refused. No cap on a name's length: the spec's 20 characters is
    a SHOULD, which the SDKs do not enforce."""
    names = [name for name in attributes if name not in ("data", "data_base64")] if structured else attributes
    if (odd := next((name for name in names if not re.fullmatch(ATTRIBUTE_NAME, name)), None)) is not None:
        return f"event attribute {odd[:100]!r}: an attribute's name is lower-case letters and digits (CloudEvents)"
    if structured and {"data", "data_base64"} <= attributes.keys():
        return "the event gives both data and data_base64: CloudEvents gives one"
    return None


def specversion_refused(specversion: Any) -> str | None:
    """Why an event's specversion (None: not given) is refused, naming it and the one taken, or None for SPECVERSION.
    Another version is read by other rules (0.3: its encodings)."""
    if specversion == SPECVERSION:
        return None
    if specversion is None:
        shown = "missing"
    elif isinstance(specversion, str):
        shown = repr(specversion[:40])
    else:  # the SDK's word for the number 1.0 was "Found invalid specversion 1.0"
        shown = f"{json.dumps(specversion)[:40]} ({next(n for t, n in DATA_KINDS if isinstance(specversion, t))})"
    return f"event specversion {shown}: only CloudEvents {SPECVERSION} events are taken"


def _extension_refused(extensions: dict) -> str | None:
    """Why an extension attribute is refused, naming it: a value of no CloudEvents type (an object, a list, a number
    with a fraction, an integer past 32 bits), text longer than MAX_EXTENSION_CHARACTERS, or holding a lone surrogate
    or a character no attribute holds (model_types.check_name). Only traceparent, amxrulechain and knativeerrordest are
    read, yet every one is kept (a dead letter holds them): a 3 MB one or an object was kept as it came."""
    from affiliate_matrix.json_input import check_json

    for name, value in extensions.items():
        where = f"event attribute {name[:100]}"
        if value is None or isinstance(value, bool):  # null: not set (CloudEvents' JSON format)
            continue
        if isinstance(value, int) and not -2**31 <= value < 2**31:
            return f"{where}: {str(value)[:40]} is past a CloudEvents Integer (32 bits)"
        if isinstance(value, int):
            continue
        if not isinstance(value, str):
            kind = "a number with a fraction" if isinstance(value, float) else \
                next((kind for types, kind in DATA_KINDS if isinstance(value, types)), type(value).__name__)
            return f"{where}: an extension's value is a string, an integer or a boolean (CloudEvents), not {kind}"
        if len(value) > MAX_EXTENSION_CHARACTERS:
            return (f"{where}: {len(value)} characters, more than the {MAX_EXTENSION_CHARACTERS} an extension's "
                    "value may hold")
        try:
            check_json(value, where)
            check_name(value, where)
        except InvalidInput as exc:
            return str(exc)
    return None


def clock() -> datetime:
    """When a dead letter is parked: a record, never a decision. Tests set a clock of their own."""
    return datetime.now(UTC)


def dead_letter(record: dict) -> bytes:
    """A dead letter's bytes: the record and when it was parked. A letter parked again is so never the same bytes as
    the one before (nor the same ETag), and the retention job's delete of an old letter, conditional on the ETag it
    listed, cannot delete one parked again after its listing."""
    return json.dumps({**record, "parked_at": clock().isoformat()}, indent=2).encode()


def refusal_said(answer: bytes) -> str | None:
    """The message of a function's error answer (handlers.error_response's JSON), None for any other answer: why it
    refused a delivery, for a dead letter's reason."""
    try:
        message = json.loads(answer)["error"]["message"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return str(message)[:1000]


def body_digest(event: dict) -> str:
    """What work reads of an event (its JSON form) besides who sent it, its id and its time: its type, subject and
    data. One (source, id) with the same body is the event delivered again (at any time: a re-run publishes the same
    work with a new time); with another body, it is other work under an id derived from it (published again with
    other data), never to be passed over as done (handlers/events) nor parked over the first's dead letter."""
    parts = [event.get("type"), event.get("subject"), event.get("data") or {}]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def dead_letter_name(event: dict) -> str:
    """The name an event (its JSON form) parked as a dead letter is kept under (a file, an object key's last part).
    CloudEvents ids are unique per source only, so the name is of both: two sources' events of one id are kept
    apart; and of its body: an id published again with another body is another letter. A plain id leads it, for a
    person looking; the hash makes it unique and safe, whatever the id holds."""
    source, event_id = str(event.get("source")), str(event.get("id"))
    digest = hashlib.sha256(f"{len(source)}:{source}|{event_id}|{body_digest(event)}".encode()).hexdigest()[:32]
    plain = event_id if len(event_id) <= 100 and all(c.isascii() and (c.isalnum() or c in "_-") for c in event_id) \
        else "event"
    return f"{plain}.{digest}"


class EventBus(ABC):
    """The port."""

    @abstractmethod
    def publish(self, event: Event) -> None:
        ...

    def delivers(self, event_type: str) -> bool:
        """Whether an event of the type published here reaches work that takes it: a Broker routes it on (its
        Triggers are the manifests'); the in-process bus only to handlers subscribed in this process."""
        return True
