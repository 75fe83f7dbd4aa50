"""Event intake for the CloudEvent functions. An event is taken only from its sender as Knative
Eventing identifies it (an OIDC token for this function: events/identity.py), only when the
manifests route its type here (a Trigger, or a PingSource for cron ticks), only when the token's
service account is that route's own (so no other account of the namespace can deliver it), and at
most once per (source, id) and body in each function the event goes to (an id derived from the work, published
again with another body, is other work: _claim): Knative delivers at least once and retries, so two deliveries of one
event can arrive together. The first claims it with a create-only write of its record (`events/done/`), which becomes
the event, done, once the work is; another finding it claimed is answered 409 (Knative delivers it again later), one
finding it done skips it, and one that fails lets go of its claim (deletes the record) for its retry.
Fatal errors are not retried: an event that does not fit (its attributes, or data its work refuses) is
answered 400 naming the problem, so the Broker parks it as a dead letter; work on something that is gone, or
on damaged stored data, is logged and acknowledged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from affiliate_matrix.errors import (NOT_RETRIED, AccessDenied, ConfigError, ConflictError, InvalidInput,
                                     MethodNotAllowed, NotFoundError, Unauthorized, UnsupportedMediaType)
from affiliate_matrix.event_intake import sent_as_event
from affiliate_matrix.observability import get_logger

if TYPE_CHECKING:  # the event model (and the domain models under it) is imported by the first event, not at start
    from affiliate_matrix.events import Event

log = get_logger()
DEAD_LETTERS = "/dead-letters"


# How long a claim stands without its delivery letting go: longer than any work may run (the longest Knative
# request timeout of the manifests is 900 s), so only a delivery killed outright (OOM, a node lost) leaves one
# that long, and then a retry takes it over (the Triggers retry for longer than this: manifests/base/triggers.yaml).
CLAIM_LEASE = timedelta(seconds=1800)


def claim_key(event: Event, function: str, body: str | None = None) -> str:
    """The event's record in this function: its claim while a delivery works on it, then the event itself, once the
    work is done, for good. One record for both, so a delivery knows from one create-only write whether it may work
    (created), and else from one read whether the work is under way or done. It is where the done markers were kept
    before they were one with the claim: every one written then is read as done. `body`: the record of an event
    whose (source, id) has a record of another body already (_claim)."""
    return "events/done/" + _event_digest(event, function if body is None else f"{function}:body:{body}")


def body_digest(event: Event) -> str:
    """The event's body digest (events.body_digest): the same (source, id) with another body is other work."""
    from affiliate_matrix.events import body_digest as digest

    return digest(event.model_dump(mode="json", include={"type", "subject", "data"}))


def _held_body(data: bytes) -> str | None:
    """The body digest of the event an event's record is of: a claim's as it says it, the event's (done) as its JSON
    holds it; None when it does not say (a claim or an empty marker written before records named it, damaged)."""
    try:
        record = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    if "claimed_at" in record:
        return record.get("body") if isinstance(record.get("body"), str) else None
    from affiliate_matrix.events import body_digest as digest

    return digest(record) if isinstance(record.get("type"), str) else None


def _event_digest(event: Event, function: str) -> str:
    """A digest of (function, source, id): the Broker fans an event out to every function a Trigger routes its type
    to (raw.batch.stored: index and triggers), and each one's work is its own. Keyed by (source, id) alone, the
    first function to finish marked the event done for the others, which then skipped it. The source's length in
    front: no two triples meet, whatever '|' or ':' they hold (nor a function named with a body digest: no length
    of a source starts with "body")."""
    from affiliate_matrix.events import Event

    return Event.make("marker", "x", {}, key=f"{function}:{len(event.source)}:{event.source}|{event.id}").id


def _done_before(rt, event: Event) -> bool:
    """Whether a done marker written before markers named their function (when every event type had one function to
    go to, so such a marker is the reader's own work) says the work is done: under the joined digest of a pair without
    '|', or of a pair with one read and checked to be this event's, or the length-prefixed digest of a pair with one."""
    joined, *prefixed = _markers_before(event)
    if not prefixed:
        return rt.store.head(joined) is not None
    if rt.store.head(prefixed[0]) is not None:
        return True
    # none, or damaged: not known to be this event's
    return any(_of_event(record, event.source, event.id) for record in _records(rt, (joined,)))


def _markers_before(event: Event) -> tuple[str, ...]:
    """Where a done marker (the event's JSON) was written before markers named their function: under the joined
    digest of (source, id), and, for a pair holding a '|', then under the length-prefixed one."""
    from affiliate_matrix.events import Event

    joined = "events/done/" + Event.make("marker", "x", {}, key=f"{event.source}|{event.id}").id
    if "|" not in event.source and "|" not in event.id:
        return (joined,)
    prefixed = Event.make("marker", "x", {}, key=f"{len(event.source)}:{event.source}|{event.id}").id
    return joined, "events/done/" + prefixed


def receive(rt, event: Event, cloud_event, work: Callable[[Event], None] | None,
            traceparent: str | None = None) -> None:
    """Run event work once per (source, id) and body (body_digest) in each function it is routed to: Knative delivers
    at least once. The trace continues from the event's traceparent extension, else the HTTP request's traceparent
    header."""
    from affiliate_matrix.events import ACTION_PREFIX
    from affiliate_matrix.observability import telemetry

    extension = cloud_event.get("traceparent")  # a structured event's may be a number: not text, it is ignored
    telemetry.start_span((extension if isinstance(extension, str) else None) or traceparent)  # as a malformed one is
    function = rt.function
    if event.type.startswith(ACTION_PREFIX):  # a rule's action, routed here by its type
        from affiliate_matrix.rules.actions import execute

        work = lambda e: execute(rt, e)  # noqa: E731
    if work is None:
        raise InvalidInput(f"{function} has no work for {event.type} events")
    key, claim = _claim(rt, event)
    reused = key != claim_key(event, function)  # the id has a record of another body: this body's is apart (_claim)
    if claim is None or (not reused and _done_before(rt, event)):
        if claim is not None:  # done under a marker of before: the record says so from now on
            _mark_done(rt, event, key)
        log.info("event.duplicate_skipped")
        telemetry.EVENTS.labels(function, event.type, "duplicate").inc()
        return
    started = time.perf_counter()
    from affiliate_matrix.events import rule_chain

    # Another body under a reused id is other work: what the work derives from the id (the rules' activation and
    # action ids) must not be the first body's, which would pass it over as done.
    worked = event.model_copy(update={"id": f"{event.id}+{body_digest(event)[:16]}"}) if reused else event
    try:
        with rule_chain(event.rulechain):  # every event the work publishes carries the chain on (rules/engine.py)
            work(worked)
        log.info("event.done", ms=round((time.perf_counter() - started) * 1000, 1))
        telemetry.EVENTS.labels(function, event.type, "done").inc()
    except NOT_RETRIED as exc:
        if not isinstance(exc, InvalidInput):  # a refusal is logged by the intake, once (take_event)
            log.error("event.rejected", error=str(exc))  # fatal: do not make Knative retry
        telemetry.EVENTS.labels(function, event.type, "rejected").inc()
        if isinstance(exc, InvalidInput):
            _let_go(rt, key, claim)
            raise  # the event's own data is wrong: answered 400 naming it, and the Broker parks it
    except BaseException as exc:  # a retry redoes the work: let go of the claim (an interrupt too, then stop)
        if isinstance(exc, Exception):
            telemetry.EVENTS.labels(function, event.type, "failed").inc()
            telemetry.ERRORS.labels(function, "event").inc()
        _let_go(rt, key, claim)
        raise
    finally:
        telemetry.EVENT_LATENCY.labels(function).observe(time.perf_counter() - started)
    _mark_done(rt, event, key)


def _mark_done(rt, event: Event, key: str) -> None:
    """The claim becomes the event, done. Whatever the record holds now: this delivery's claim, or, had the work run
    past CLAIM_LEASE, the claim of a delivery that took it over (whose own letting go, conditional on its claim, then
    finds the work done), or that delivery's done. Done is never undone: no claim is made over it."""
    rt.store.put(key, event.model_dump_json().encode(), content_type="application/json")


def _claim(rt, event: Event, body: str | None = None) -> tuple[str, str | None]:
    """Claim the event for this delivery with a create-only write of its record; return the record's key and the
    claim's ETag, None when the work is done. ConflictError (a 409, which Knative retries) while another delivery holds
    it; a claim past CLAIM_LEASE is taken over, conditionally, so of two deliveries finding it stale one does. A record
    of the same (source, id) with another body is other work: this event is claimed under a record of its body
    (`body`), and the reuse of its id is logged naming both bodies' digests."""
    from affiliate_matrix.observability import telemetry

    digest = body_digest(event)
    key, now = claim_key(event, rt.function, body), datetime.now(UTC)
    record = json.dumps({"source": event.source, "id": event.id, "type": event.type, "claimed_at": now.isoformat(),
                         "function": rt.function, "body": digest}).encode()
    for _ in range(2):
        try:
            return key, rt.store.put(key, record, content_type="application/json", if_none_match=True)
        except ConflictError:
            pass
        try:
            held = rt.store.get(key)
        except NotFoundError:
            continue  # let go of meanwhile: the create once more
        if body is None and (earlier := _held_body(held.data)) not in (None, digest):
            log.warning("event.id_reused", earlier_body=earlier, body=digest)
            return _claim(rt, event, digest)
        claimed_at = _claimed_at(held.data)
        if claimed_at is None:
            return key, None
        if now - claimed_at >= CLAIM_LEASE:
            log.warning("event.claim_taken_over", claimed=held.data[:300].decode(errors="replace"))
            try:
                return key, rt.store.put(key, record, content_type="application/json", if_match=held.etag)
            except (ConflictError, NotFoundError):
                pass  # taken over, let go of or done by another delivery meanwhile
        break
    log.info("event.claimed_by_another_delivery")
    telemetry.EVENTS.labels(rt.function, event.type, "in_progress").inc()
    raise ConflictError(f"event {event.id} from {event.source} is being handled by another delivery; "
                        "deliver it again later")


def _claimed_at(data: bytes) -> datetime | None:
    """When a claim was made; None for the event done (a JSON object without claimed_at: what a done marker has
    always held). A record that is not a JSON object (damaged) does not say the work was done: it is a claim as old as
    can be, taken over, so the work is done again rather than lost; so is a claim whose time does not read."""
    try:
        record = json.loads(data)
    except (ValueError, RecursionError):
        record = None
    if not isinstance(record, dict):
        return datetime.min.replace(tzinfo=UTC)
    if "claimed_at" not in record:
        return None
    try:
        claimed = datetime.fromisoformat(record["claimed_at"])
        return claimed if claimed.tzinfo else claimed.replace(tzinfo=UTC)
    except (ValueError, TypeError):
        return datetime.min.replace(tzinfo=UTC)


def _let_go(rt, key: str, etag: str) -> None:
    """Delete this delivery's claim, only while it is still this delivery's (not taken over past its lease, nor done).
    Deleted, not marked: a record of any kind is done to the code before this one, should it run again (a rollback).
    Best effort: a claim left behind is taken over once its lease is over."""
    try:
        rt.store.delete(key, if_match=etag)
    except (ConflictError, NotFoundError):
        pass  # taken over: the claim is another delivery's now
    except Exception as exc:  # the store failing here must not hide the outcome of the work
        log.warning("event.claim_kept", error=f"{type(exc).__name__}: {str(exc)[:200]}")


# The handler module of a function named otherwise (functions/<name>/main.py imports it): sync runs scrape's.
HANDLER_OF = {"sync": "scrape"}


def work_of(function: str) -> Callable[[object, Event], None] | None:
    """The event work of `function` (its handler module's event_work, which its `handle` gives take_event), for
    `amx dead-letters replay`; None for a function whose events are only the rules' actions (receive runs those)."""
    import importlib

    module = importlib.import_module(f"affiliate_matrix.handlers.{HANDLER_OF.get(function, function)}")
    return getattr(module, "event_work", None)


def health(rt, request):
    """The HTTP routes of an event-only function: none beyond /healthz and /metrics, which serve answers."""
    raise NotFoundError(f"no route for {request.path}")


def is_event(request) -> bool:
    """Whether the request is sent as a CloudEvent (event_intake.sent_as_event), else an HTTP request."""
    return sent_as_event(request.headers)


def http_or_event(rt, request, route: Callable, work: Callable[[Event], None] | None = None):
    """For functions that take both: a CloudEvent (binary or structured, from the Broker or a PingSource)
    goes through `take_event`; anything else is an HTTP request for `route`. Either way `serve` binds
    the request's log context, maps errors to statuses and counts the answer."""
    from affiliate_matrix.handlers import serve

    if not is_event(request):
        return serve(rt, request, lambda r: route(rt, r))
    return serve(rt, request, lambda r: take_event(rt, r, work), with_flags=False)


def take_event(rt, request, work: Callable[[Event], None] | None):
    """Authenticate, parse, check the routing, then run (or, on the dead-letter path, park) an event. A refusal (400,
    415) is logged once, naming the event as far as it was read and why: the answer alone went to the Broker, which
    parks it, and an operator reading the function's logs saw nothing."""
    sender = authenticate(rt, request)
    read: dict[str, str] = {}  # the event's id, type and source as far as they were read
    try:
        return _take_event(rt, request, work, sender, read)
    except (InvalidInput, UnsupportedMediaType) as exc:
        log.warning("event.refused", reason=str(exc)[:500], sender=sender, **read)  # never its data or token
        raise


def _read(attributes) -> dict[str, str]:
    """An event's id, type and source for a log line, as the headers or the SDK give them, not yet checked: bounded and
    escaped (escaped_for_log)."""
    from affiliate_matrix.observability import escaped_for_log

    return {f"event_{name}": escaped_for_log(attributes[name]) for name in ("id", "type", "source")
            if attributes.get(name) is not None}


def _take_event(rt, request, work: Callable[[Event], None] | None, sender: str, read: dict[str, str]):
    if request.method != "POST":  # CloudEvents' HTTP binding and Knative POST; a GET or a PUT was worked on alike
        raise MethodNotAllowed(request.method, ("POST",))
    from affiliate_matrix.event_intake import read_event
    from affiliate_matrix.events import MAX_EVENT_BYTES, too_large
    from affiliate_matrix.handlers import check_content_coding

    headers = dict(request.headers)
    read.update(_read({name[3:].lower(): value for name, value in headers.items() if name.lower().startswith("ce-")}))
    check_content_coding(request, "the event")
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        raise too_large()
    raw = request.stream.read(MAX_EVENT_BYTES + 1)  # no further than the limit: a body in chunks declares no length
    if len(raw) > MAX_EVENT_BYTES:
        raise too_large()
    # The manifests are read for a route lookup alone (a 503 while they cannot be: ConfigError), so an event's own
    # faults (its token, above; its shape, below) are answered as such whether they can be read or not.
    dead_letters = request.path == DEAD_LETTERS and routes(rt.settings.events_routes).dead_letter_senders(rt.function)
    # a dead letter is parked with why it does not fit: it is why the Broker parks it; one refused for its shape alone
    # may be a redelivery of work done (_done_already)
    cloud_event, event = read_event(headers, raw, parking=bool(dead_letters))
    read.update(_read(cloud_event.get_attributes()))
    if dead_letters:
        check_sender(rt, sender, dead_letters, f"dead letters of {str(cloud_event.get('type'))[:200]} events")
        park(rt, cloud_event, event)  # one refused for its shape is parked too, as it came
        return "", 204, {}
    if isinstance(event, InvalidInput):
        if request.path in ("/", "") and _done_already(rt, sender, cloud_event):
            # 204, as any duplicate: a body that is no CloudEvent is an error to Knative's dispatcher
            log.info("event.duplicate_skipped", would_refuse=str(event)[:500], **read)
            return "", 204, {}
        raise event
    structlog.contextvars.bind_contextvars(event_id=event.id, event_type=event.type, event_source=event.source)
    if request.path not in ("/", ""):
        raise NotFoundError(f"no event route {request.path}")
    senders = routes(rt.settings.events_routes).senders(
        rt.function, {k: v for k, v in cloud_event.get_attributes().items() if isinstance(v, str)})
    if not senders:
        log.warning("event.not_routed_here")
        raise AccessDenied(f"{event.type} events are not routed to {rt.function}")
    check_sender(rt, sender, senders, f"{event.type} events")
    receive(rt, event, cloud_event, work, request.headers.get("traceparent"))
    return "", 204, {}


def _done_already(rt, sender: str, cloud_event) -> bool:
    """Whether an event refused for its shape alone (event_intake: ShapeRefused, event_of's) is one this function has
    done: its record is done (_claim) for the same (source, id) and body. So a redelivery of work done before a check
    was added (a rollout between a delivery and its redelivery) is acknowledged, not parked. Only for an identity read
    safely: text of an event's bounds, its body a JSON object, sent by a route's own account that sends it here, as an
    event taken is. A new event has no record: it is refused as before; so is one while the manifests, which name the
    routes' accounts, cannot be read (the refusal is the event's own, and the Broker parks it for a person)."""
    from affiliate_matrix.events import Event, body_digest as digest

    attributes = cloud_event.get_attributes()
    source, event_id, kind, about = (attributes.get(name) for name in ("source", "id", "type", "subject"))
    data = {} if cloud_event.data in (None, b"", "") else cloud_event.data
    if not (all(isinstance(value, str) and 0 < len(value) <= 200 for value in (source, event_id, kind))
            and (about is None or isinstance(about, str)) and isinstance(data, dict)):
        return False
    try:
        plan = routes(rt.settings.events_routes)
    except ConfigError:
        return False
    if not _sent_by_route(rt, sender, plan.senders(rt.function, {k: v for k, v in attributes.items()
                                                                  if isinstance(v, str)})):
        return False
    identity, body = Event.model_construct(source=source, id=event_id), digest(
        {"type": kind, "subject": about, "data": data})
    records = _records(rt, (claim_key(identity, rt.function), claim_key(identity, rt.function, body)))
    if not records:  # none of this function's: a done marker written before markers named it, read as receive does
        records = [record for record in _records(rt, _markers_before(identity))
                   if _of_event(record, source, event_id)]  # the joined digest of a pair with '|' may be another's
    return any(_claimed_at(record) is None and _held_body(record) == body for record in records)


def _records(rt, keys) -> list[bytes]:
    """The records found under `keys`."""
    found = []
    for key in keys:
        try:
            found.append(rt.store.get(key).data)
        except NotFoundError:
            pass
    return found


def _of_event(record: bytes, source: str, event_id: str) -> bool:
    """Whether a done marker written before markers named their function (the event's JSON) is of (source, id)."""
    try:
        written = json.loads(record)
    except (ValueError, RecursionError):
        return False
    return isinstance(written, dict) and (written.get("source"), written.get("id")) == (source, event_id)


def authenticate(rt, request) -> str:
    """The sender's OIDC token must be for this function (Unauthorized otherwise, before the body is read).
    The sender (the token's subject) is returned."""
    from affiliate_matrix.events.identity import audience, issuer_for, verify

    settings = rt.settings
    try:
        if not settings.events_oidc_discovery_url:
            raise Unauthorized("this function takes no events: AMX_EVENTS_OIDC_DISCOVERY_URL is not set")
        return verify(request.headers.get("Authorization"), issuer_for(settings.events_oidc_discovery_url),
                      audience(settings.namespace, rt.function), settings.namespace)["sub"]
    except Unauthorized as exc:
        log.warning("event.unauthenticated", reason=str(exc))
        raise


def check_sender(rt, sender: str, service_accounts: set[str], what: str) -> None:
    """AccessDenied unless `sender` is one of the routes' own service accounts: a token any other account of the
    namespace can request (TokenRequest) for this function's audience proves nothing about the route."""
    if not _sent_by_route(rt, sender, service_accounts):
        log.warning("event.wrong_sender", sender=sender)  # the subject only, never the token
        raise AccessDenied(f"{what} to {rt.function} are not sent by {sender}")


def _sent_by_route(rt, sender: str, service_accounts: set[str]) -> bool:
    from affiliate_matrix.events.identity import subject

    return sender in {subject(rt.settings.namespace, account) for account in service_accounts if account}


@cache
def routes(base: Path):
    """The manifests' Triggers and PingSources, read once per process."""
    from affiliate_matrix.localrun.plan import read_plan

    try:
        return read_plan(base)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError("AMX_EVENTS_ROUTES", f"cannot read the Triggers in {base}: {exc}") from None


def _broker_said(cloud_event) -> dict:
    """Why Knative's Broker gave up on the event, as amx up's Broker words a letter's `reason`: the subscriber's last
    status and what its answer said (knativeerrorcode; knativeerrordata, the base64 of at most 1,024 bytes of it, so
    an answer cut there is kept as text). The sink kept neither: a letter parked in the cluster said nothing of why."""
    import base64

    from affiliate_matrix.events import refusal_said

    code = cloud_event.get("knativeerrorcode")
    if code is None:
        return {}
    try:
        answer = base64.b64decode(str(cloud_event.get("knativeerrordata") or ""), validate=True)
    except ValueError:
        answer = b""
    said = refusal_said(answer)
    said = answer.decode("utf-8", "replace")[:1000] if said is None else said
    return {"reason": f"HTTP {str(code)[:20]}" + (f": {said}" if said else "")}


def park(rt, cloud_event, event: Event | InvalidInput) -> None:
    """Keep a dead letter for a person, under dead-letters/<type>/. One that does not fit (`event`: why, read_event's;
    a function answered it 400 for that, which is why the Broker parks it) is kept as it came, with why, under
    dead-letters/unfit/ (no event type holds a hyphen): refused here too, the Broker dropped it."""
    from affiliate_matrix.events import DEAD_LETTERS, dead_letter, dead_letter_name

    destination = cloud_event.get("knativeerrordest")
    if isinstance(event, InvalidInput):
        data = cloud_event.data
        data = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data  # binary, not JSON
        record = {"event": {**cloud_event.get_attributes(), "data": data}, "refused": str(event)}
        source, event_id, folder = str(cloud_event.get("source")), str(cloud_event.get("id")), "unfit"
    else:
        record, source, event_id, folder = {"event": event.model_dump(mode="json")}, event.source, event.id, event.type
    read = _read({"id": event_id, "type": cloud_event.get("type"), "source": source})  # not checked, if unfit
    structlog.contextvars.bind_contextvars(**read)
    key = f"{DEAD_LETTERS}{folder}/{dead_letter_name(record['event'])}.json"
    rt.store.put(key, dead_letter({**record, "destination": destination, **_broker_said(cloud_event)}),
                 content_type="application/json")
    log.error("event.dead_lettered", event_id=read["event_id"], type=read.get("event_type"), destination=destination,
              refused=record.get("refused"))
