"""Replaying a dead letter (`amx dead-letters replay`): its event delivered again to the one function it was for, by
running that function's own event work in this process, through the same intake checks and the same once-per-event
records (handlers.events.receive) as a delivery. No token is made and no Broker is asked: whoever reads the letters
holds the store's credentials already, and the Broker would fan the event out to every Trigger of its type (and takes
no cron tick, which a PingSource sends straight to its function). The events the work publishes go on the bus the
runtime it is given names (a running `amx up`'s Broker, with that function's own token: cli/dead_letters.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from affiliate_matrix.errors import AmxError, ConflictError, InvalidInput, NotFoundError, ObjectTooLarge
from affiliate_matrix.events import DEAD_LETTERS, MAX_EVENT_BYTES, RULE_CHAIN, SPECVERSION, dead_letter
from affiliate_matrix.observability import escaped_for_log, get_logger

log = get_logger()
# A letter as `amx dead-letters list` names it: its folder (a Trigger, a PingSource, an event type, unfit) and its file.
# No part starts with '.' ("..", the local store's own files), none is empty, nothing before or after: a name is
# never a path out of dead-letters/.
LETTER = r"[A-Za-z0-9_=-][A-Za-z0-9_.=-]{0,252}/[A-Za-z0-9_=-][A-Za-z0-9_.=-]{0,252}"
MAX_LETTER_BYTES = 2 * MAX_EVENT_BYTES  # an event at most MAX_EVENT_BYTES, its JSON escaped, and why it was parked


@dataclass(frozen=True)
class Replayed:
    """What became of a letter delivered again: `failed` None when the work was done (the letter is removed), else why
    the function failed it again (the letter is kept with that reason)."""
    letter: str
    event_type: str
    event_id: str
    subscriber: str
    failed: str | None = None


def letter_key(letter: str) -> str:
    """The object key of a letter named as `amx dead-letters list` names it; InvalidInput for any other name."""
    if not re.fullmatch(LETTER, letter):
        raise InvalidInput(f"letter {escaped_for_log(letter, 100)!r} is not a dead letter's name as `amx dead-letters "
                           "list` shows it: <folder>/<file>, no part starting with '.' (no '..')")
    return DEAD_LETTERS + letter


def replay(store, plan, letter: str, runtime_for: Callable[[str], object]) -> Replayed:
    """Deliver the letter's event again to the function it was for (`runtime_for(function)`: the runtime its work runs
    in). Every check is made before any work: a letter that is damaged, holds no event, holds one every function
    refuses, or is for a function that manifests/base routes no such event to, is refused (InvalidInput naming what
    is wrong), left as it is. Done (or done before: the work is once per event): the letter is removed. Failed again:
    the letter is kept, with the new reason."""
    from affiliate_matrix.handlers.events import receive, work_of

    key = letter_key(letter)
    try:
        stored = store.get(key, max_bytes=MAX_LETTER_BYTES)
    except NotFoundError:
        raise NotFoundError(f"no dead letter {letter}: `amx dead-letters list` shows them") from None
    except ObjectTooLarge as exc:  # refused unread
        size = f"{exc.size:,} bytes, more" if exc.size is not None else "more"
        raise InvalidInput(f"dead letter {letter} is {size} than any letter parked ({MAX_LETTER_BYTES:,}): not "
                           "replayed") from None
    record = _record(letter, stored.data)
    cloud_event, event = _event(letter, record["event"])
    subscriber = _subscriber(letter, record, plan, cloud_event)
    replayed = Replayed(letter, event.type, event.id, subscriber)
    rt, work = runtime_for(subscriber), work_of(subscriber)
    try:
        receive(rt, event, cloud_event, work and (lambda worked: work(rt, worked)))
    except Exception as exc:  # noqa: BLE001 - whatever failed it, the letter is kept with why
        said = (str(exc) if isinstance(exc, AmxError) else f"{type(exc).__name__}: {exc}")[:1000]  # ours: own words
        _keep(store, key, stored.etag, {name: value for name, value in record.items()
                                        if name not in ("parked_at", "refused")} | {"reason": f"replayed: {said}"})
        log.warning("dead_letter.replay_failed", letter=letter, event_id=event.id, type=event.type, to=subscriber,
                    reason=said)
        return replace(replayed, failed=said)
    # Unconditional (the store deletes conditionally under storage.TOMBSTONED only): a letter parked again meanwhile
    # under this name is this very event, whose work is now done: a parked letter's name is made of its source, id and
    # body (events.dead_letter_name).
    store.delete(key)
    log.info("dead_letter.replayed", letter=letter, event_id=event.id, type=event.type, to=subscriber)
    return replayed


def _record(letter: str, data: bytes) -> dict:
    """The letter's record, holding an event as a JSON object; InvalidInput naming what is wrong otherwise."""
    try:
        record = json.loads(data)
    except ValueError as exc:
        raise InvalidInput(f"dead letter {letter} is damaged: not JSON ({exc}): not replayed") from None
    except RecursionError:
        raise InvalidInput(f"dead letter {letter} is damaged: JSON nested too deeply to read: not replayed") from None
    if not isinstance(record, dict) or not isinstance(record.get("event"), dict):
        raise InvalidInput(f"dead letter {letter} holds no event (a JSON object whose `event` is one): not replayed")
    return record


def _event(letter: str, parked: dict):
    """The parked event read as every function reads one (event_intake.read_event): the CloudEvent and our Event;
    InvalidInput naming why every function would refuse it. amx up's Broker parks the structured CloudEvent; the
    cluster's sink parks our Event's JSON (no specversion, its rule chain a list), turned back into the CloudEvent it
    was delivered as."""
    from affiliate_matrix.event_intake import STRUCTURED_JSON, read_event

    if "specversion" not in parked:
        chain = parked.get("rulechain")
        parked = {"specversion": SPECVERSION, "datacontenttype": "application/json",
                  **{name: value for name, value in parked.items() if name != "rulechain" and value is not None}}
        if chain:
            parked[RULE_CHAIN] = ",".join(map(str, chain)) if isinstance(chain, list) else chain
    body = json.dumps(parked).encode()
    try:
        if len(body) > MAX_EVENT_BYTES:
            raise InvalidInput(f"the event is larger than {MAX_EVENT_BYTES} bytes")
        cloud_event, event = read_event({"Content-Type": STRUCTURED_JSON}, body)
        if isinstance(event, InvalidInput):
            raise event
    except InvalidInput as exc:
        raise InvalidInput(f"dead letter {letter}: its event is refused as every function would refuse it: {exc}: "
                           "not replayed") from None
    return cloud_event, event


def _subscriber(letter: str, record: dict, plan, cloud_event) -> str:
    """The function the letter was for (amx up's Broker names it, the cluster's sink keeps Knative's address of it),
    when manifests/base routes its event there; InvalidInput naming what does not fit otherwise."""
    from affiliate_matrix.localrun.plan import PING_TYPE

    named = record.get("subscriber")
    if named is None and isinstance(record.get("destination"), str):
        named = (urlsplit(record["destination"]).hostname or "").split(".")[0] or None  # http://index.<ns>.svc…/
    if not isinstance(named, str) or named not in plan.functions:
        said = "names no function" if named is None else f"is for {escaped_for_log(str(named), 100)!r}"
        raise InvalidInput(f"dead letter {letter} {said}, where its subscriber is one of manifests/base's functions "
                           f"({', '.join(plan.functions)}): not replayed")
    attributes = {name: value for name, value in cloud_event.get_attributes().items() if isinstance(value, str)}
    if attributes.get("type") == PING_TYPE:  # a tick goes from its PingSource (the source names it) to its sink only
        ping = attributes["source"].rpartition("/pingsources/")[2]
        if not any(p.name == ping and p.sink == named for p in plan.pings):
            raise InvalidInput(f"dead letter {letter}: its tick is from {escaped_for_log(attributes['source'], 100)}, "
                               f"no PingSource of manifests/base sending to {named}: not replayed")
    elif not plan.senders(named, attributes):
        raise InvalidInput(f"dead letter {letter}: manifests/base routes no {attributes.get('type')} events to "
                           f"{named}: not replayed")
    return named


def _keep(store, key: str, etag: str, record: dict) -> None:
    """Write the letter again with why it failed again, over the one read. One parked again meanwhile keeps its own
    reason; one deleted meanwhile (the retention job) is written again: the event is not lost."""
    try:
        store.put(key, dead_letter(record), content_type="application/json", if_match=etag)
    except (ConflictError, NotFoundError):  # S3 answers an If-Match on no object 404, the local store a conflict
        if store.head(key) is None:
            try:
                store.put(key, dead_letter(record), content_type="application/json", if_none_match=True)
            except ConflictError:
                pass  # parked again just now: that one stands
