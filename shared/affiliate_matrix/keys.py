"""API keys and tokens of sources: one secret path per connection (Vault KV v2), and beside it in
the object store a record of how the key rotates, when it expires and how it is used (never the
key itself).

Rotation: `generate` (we mint the value), `provider` (the source plugin asks the provider for a
new key) or `manual` (a person does it; we warn before expiry). A rotation writes the new version with check-and-set,
verifies it with every dependent connection's test, records it, announces it (key.rotated) and only then destroys the
older versions: a version before the live one still live says the live key may be unannounced (its rotation under
way, failed at its last steps, or killed). It is all or nothing: whatever fails once the new version is written (a
refused check, a check that raises, a record changed meanwhile, Vault, the bus) puts the old value back as the newest
version (the failed one destroyed: its key retired, or never verified) and the record as it was (unless a revocation
landed meanwhile: then the new version is destroyed too, and neither key is live), publishes key.rotation.failed
with the reason (secret values blanked out) and raises RotationFailed. A write of the new version that
fails changes nothing (one that landed with its answer lost goes on as written), and is such a failure too;
when the store cannot be read after it, which key it holds is unknown, and the failure says so (old_key_live
null): both keys stay valid at the provider and the next rotation goes on from the version stored.

A rollback reads what is stored before it decides what to restore and announce: its own record write that landed
with its answer lost is restored as one answered; it announces the key it puts back (key.rotated of the version it
wrote) when that key may not be the one last announced (a version before it still live, its own key.rotated published,
or its own key put back by another's rollback: below), and once that is done (or not needed) destroys the versions
before it, so the key is settled.

Two rotations interleaved: the one overtaken (another rotation's key live at a version after its own) puts nothing
back; the later one decides which key is live, and, rolled back to the earlier one's key before that one finished,
announces it (the earlier one's key.rotated may have been refused). The earlier one, finding its own key live again as
that rollback put it back, announces that version (the same event: one id per version), or, failing itself, rolls back
from it as from its own version and announces the key it puts back.

A provider's key is used until the new one is stored: the source's `rotate_credentials(old)` mints a new key
beside the old one, which stays valid; its optional `retire_credentials(key)` is called for the old key once
the new one is stored, verified and recorded, and for a new key that is not kept (not stored, or rolled back).

A rotation kept clears the mark (credentials refused) of every connection its new key passed the test of, as a
passing connection test does; one rolled back leaves the marks as they were.

Revocation destroys the versions and marks every dependent connection unhealthy at once; a key added again at
the path clears that mark (not one of another reason), so the connections are used again.
"""

import json
import re
import secrets as random_tokens
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, NamedTuple

from pydantic import BeforeValidator, Field, ValidationError, field_validator

from affiliate_matrix.connections import Connection, key_record_key, mark_healthy, update_connection
from affiliate_matrix.documents import load_document, rewritten, stored_json
from affiliate_matrix.errors import AmxError, ConflictError, DamagedData, InvalidInput, NotFoundError
from affiliate_matrix.events import KEY_EXPIRING, KEY_REVOKED, KEY_ROTATED, KEY_ROTATION_FAILED, Event
from affiliate_matrix.model_types import Document, UtcDatetime
from affiliate_matrix.observability import get_logger, without_values
from affiliate_matrix.wording import counted, utc_said

log = get_logger()
WARN_DAYS = (7, 3, 1)


class RotationFailed(AmxError):
    """The rotation failed; the old key was put back (the message says if that failed too)."""


KEY_PATH = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$"
KEY_PATH_MAX = 200  # a connection's credentials_path is no longer
KEY_PATH_WORDS = f"letters, digits, '_' and '-', parts separated by '/', at most {KEY_PATH_MAX} characters"


def _key_path(value):
    """A key's path said in words, before its pattern (kept for the schema) would be quoted to whoever typed it, as a
    connection's id is (connections.ConnectionId)."""
    if isinstance(value, str) and (len(value) > KEY_PATH_MAX or not re.fullmatch(KEY_PATH, value)):
        raise ValueError(f"{value[:80]!r} is not a key's path: {KEY_PATH_WORDS} (as amx keys status shows it)")
    return value


class KeyRecord(Document):
    path: Annotated[str, Field(pattern=KEY_PATH, max_length=KEY_PATH_MAX), BeforeValidator(_key_path)]
    rotation: Literal["generate", "provider", "manual"]
    owner_source: str | None = None
    generated_fields: list[str] = []
    lifetime_days: int = Field(90, ge=1, le=3650)
    created_at: UtcDatetime
    rotated_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    # A webhook's key (webhooks/): the origins the notify action may send it to, as origin() writes them. Any admin
    # writes rules, and a rule names the URL: without them, a rule pointing at its writer's host took any webhook's key.
    origins: list[str] = []

    @field_validator("origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        """As origin() writes them: a record edited by hand to another form is damaged, never read as some origin."""
        if bad := next((o for o in origins if origin_or_none(o) != o), None):
            raise ValueError(f"{bad[:100]!r} is not an origin as amx keys add --for-url writes it "
                             "(https://host[:port])")
        return origins

    @field_validator("path")
    @classmethod
    def _not_an_api_token(cls, path: str) -> str:
        """A key added at api-tokens/<id> was listed by `amx tokens list` as an active API token of role "?"."""
        from affiliate_matrix.auth import FOLDER

        if path.split("/")[0] == FOLDER:
            raise ValueError(f"{FOLDER}/ holds the API tokens (amx tokens): put a key elsewhere, e.g. connections/NAME")
        return path


def origin(url: str) -> str:
    """The origin of an http(s) URL: scheme://host, and :port unless the scheme's own; the host read as the notify
    action connects to it (netguard.target_of: IDNA-mapped, lower case), so one origin is written one way alone.
    InvalidInput saying what is wrong with the URL."""
    from affiliate_matrix.errors import FetchError
    from affiliate_matrix.netguard import target_of

    try:
        scheme, host, port = target_of(url)
    except FetchError as exc:
        raise InvalidInput(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host  # an IPv6 literal
    return f"{scheme}://{shown}" + ("" if port == {"http": 80, "https": 443}[scheme] else f":{port}")


def origin_or_none(url: str) -> str | None:
    """The origin of `url`, or None when it has none (origin)."""
    try:
        return origin(url)
    except InvalidInput:
        return None


def origin_problem(record: KeyRecord, url: str) -> str | None:
    """Why the webhook's key of `record` may not be sent to `url`, or None: the URL's origin (scheme, host and port) is
    not one the key was added for. Names the key and its origins, never its value."""
    there = origin_or_none(url)
    if there in record.origins:
        return None
    if not record.origins:  # added before webhook keys named them (or not as one): sent nowhere
        return (f"the key at {record.path!r} names no origin it may be sent to: revoke it and add it again with the "
                "webhook's --for-url URL (amx keys add)")
    return (f"the key at {record.path!r} is sent only to {', '.join(record.origins)}, not to {there or 'this URL'}: "
            "name a key added for this webhook (amx keys add webhooks/NAME --rotation manual --field value --for-url "
            "URL)")


def check_origins(record: KeyRecord) -> None:
    """A webhook's key names the origins it may be sent to, and only a webhook's key does."""
    from affiliate_matrix.secrets.access import WEBHOOKS

    webhook = record.path.split("/")[0] == WEBHOOKS
    if webhook and not record.origins:
        raise InvalidInput(f"key {record.path!r}: a webhook's key is sent only to the webhooks it is added for: name "
                           "each with --for-url URL (its scheme, host and port are kept)")
    if record.origins and not webhook:
        raise InvalidInput(f"key {record.path!r}: --for-url is for a webhook's key (under {WEBHOOKS}/); a source's "
                           "key is sent to its source's own domain alone")
    # kept in the secret's metadata too, whose values Vault holds to 512 bytes: refused there, the add stopped half-way
    if (size := len(" ".join(record.origins).encode())) > 512:
        raise InvalidInput(f"key {record.path!r}: its origins take {size} bytes written out; at most 512 (fewer "
                           "--for-url)")


def record_key(path: str) -> str:
    return key_record_key(path)


def load_record(rt, path: str) -> tuple[KeyRecord, str]:
    unregistered = NotFoundError(f"no key is registered at {path[:200]!r} (amx keys add)")
    if len(path) > KEY_PATH_MAX or not re.fullmatch(KEY_PATH, path):  # no key there: named, not refused as a store key
        raise unregistered
    try:
        return stored_record(rt, record_key(path))
    except NotFoundError:
        raise unregistered from None


# What to do about a damaged key record: revocation takes one (revoke), after which the key can be added again
DAMAGED_RECORD = "restore it from a backup, or revoke the key (amx keys revoke) and add it again (amx keys add)"


def stored_record(rt, key: str) -> tuple[KeyRecord, str]:
    """The key record stored at `key` and its ETag, as every stored document is read (load_document: one a newer build
    wrote is read, and a rewrite keeps what it holds); DamagedData naming the key when it is not one (truncated,
    hand-edited)."""
    return load_document(rt.store, key, KeyRecord, "key record", DAMAGED_RECORD)


def save_record(rt, record: KeyRecord, etag: str | None = None, create: bool = False) -> str:
    return rt.store.put(record_key(record.path), stored_json(record), content_type="application/json",
                        if_match=etag, if_none_match=create)


def records(rt, damaged: list[str] | None = None) -> list[KeyRecord]:
    """Every key's record; one that cannot be read is logged and named in `damaged`, and the others are read."""
    found = []
    for key in rt.store.list("keys/records/"):
        try:
            found.append(stored_record(rt, key)[0])
        except DamagedData as exc:
            problem = str(exc)
            log.error("key_record.damaged", key=key, problem=problem)
            if damaged is not None:
                damaged.append(problem)
    return found


def check_folder(path: str) -> None:
    """InvalidInput unless the path is in a folder of keys (KEY_FOLDERS): Vault's policies let a person add keys, and
    the keys function rotate them, there alone, so a key added elsewhere was refused by Vault in a cluster ("permission
    denied"), and only there."""
    from affiliate_matrix.secrets.access import KEY_FOLDERS

    if path.split("/")[0] not in KEY_FOLDERS or "/" not in path:
        raise InvalidInput(f"key {path[:200]!r}: a key is added under {', '.join(f + '/' for f in KEY_FOLDERS)} "
                           "(a connection's credentials, a webhook's auth_key, a search provider's key), e.g. "
                           "connections/NAME")


def add_key(rt, record: KeyRecord, data: dict[str, str]) -> None:
    check_folder(record.path)
    missing = [f for f in record.generated_fields if f not in data]
    if missing:
        raise InvalidInput(f"generated_fields {missing} are not in the key's data")
    check_rotation(record)
    check_origins(record)
    # A key of one source where another's connections read it would be sent to that source (the connections' side
    # refuses the same pairing: connections.key_owner_problem).
    if record.owner_source and (other := next((c for c in dependents(rt, record.path)
                                                if c.source != record.owner_source), None)):
        raise InvalidInput(f"connection {other.id!r} (source {other.source!r}) reads the key at {record.path!r}: "
                           f"a key of source {record.owner_source!r} cannot be added there; add it at a path of its "
                           f"own, or as source {other.source!r}'s")
    revoked, revoked_etag = _revoked_record(rt, record.path)
    if revoked is not None:
        record = rewritten(record, revoked)  # what a newer build stored in the record is kept
        _write_over_revoked(rt, record.path, data)
        for connection in dependents(rt, record.path):  # before the record: an add run again gets here again
            _mark_healthy_again(rt, connection.id, _revoked_reason(record.path))
    else:
        try:
            rt.secrets.write(record.path, data, cas=0)
        except ConflictError:
            if not _unfinished_add(rt, record.path, data):  # the store's words were its check-and-set's ("not 0")
                registered = rt.store.head(record_key(record.path)) is not None
                raise (_stored_already if registered else _unregistered_secret)(record.path) from None
    if record.expires_at is None:
        record = record.model_copy(update={"expires_at": record.created_at + timedelta(days=record.lifetime_days)})
    save_record(rt, record, revoked_etag, create=revoked is None)
    custom = {"rotation": record.rotation, "owner_source": record.owner_source,
              "expires_at": record.expires_at.isoformat(), "origins": " ".join(record.origins)}
    rt.secrets.set_custom_metadata(record.path, {k: v for k, v in custom.items() if v})  # Vault refuses empty values


def check_rotation(record: KeyRecord):
    """The source and its rotate_credentials for a `provider` key, (None, None) for another; InvalidInput when the way
    the key rotates cannot rotate it. A `generate` rotation minting no field stored the same key again as a new version
    and pushed its expiry back (the keys cron did so whenever it came due: the key never changed, and no one was
    warned); a `provider` one with no source, or a source that mints no keys, failed only at its first rotation."""
    if record.rotation == "generate" and not record.generated_fields:
        raise InvalidInput(f"key {record.path!r} rotates by generate but names no field to mint (--generate FIELD): "
                           "rotated, it would be the same key with a later expiry")
    if record.rotation != "generate" and record.generated_fields:
        raise InvalidInput(f"key {record.path!r} rotates by {record.rotation}: fields to mint (--generate) are for a "
                           "key that rotates by generate")
    if record.rotation != "provider":
        return None, None
    from affiliate_matrix.sources import get_source

    if not record.owner_source:
        raise InvalidInput(f"key {record.path!r} rotates by provider but names no source (--source) to ask")
    source = get_source(record.owner_source)
    hook = getattr(source, "rotate_credentials", None)
    if hook is None:
        raise InvalidInput(f"source {record.owner_source!r} offers no provider rotation: rotate its key by manual or "
                           "generate")
    return source, hook


def check_addable(rt, path: str) -> None:
    """ConflictError when a key in use is registered at `path`, before its values are asked for (a person typed each
    secret at the hidden prompt, then learnt it was stored already). A revoked key, or an add stopped before its
    record, is added as add_key adds it; a damaged record is named, as add_key names it."""
    if rt.store.head(record_key(path)) is not None and not load_record(rt, path)[0].revoked_at:
        raise _stored_already(path)


def _stored_already(path: str) -> ConflictError:
    return ConflictError(f"a key is stored at {path!r} already, and adding one never replaces it: rotate it "
                         "(amx keys rotate), or revoke it (amx keys revoke) and add it again")


def _unregistered_secret(path: str) -> ConflictError:
    """A secret no record registers (written to the secret store directly, as amx demo wrote its recorded credentials
    before it registered them): rotate and revoke take registered keys alone, so _stored_already's advice sent the user
    to a command that refused it."""
    return ConflictError(f"a secret is stored at {path!r} that no key record registers (written to the secret store "
                         "directly; amx keys status does not list it): adding a key never replaces it, and "
                         "amx keys rotates and revokes registered keys alone. Add the key at another path and point "
                         "its connections at it (amx connections edit ID --credentials-path PATH)")


def _revoked_record(rt, path: str) -> tuple[KeyRecord | None, str | None]:
    """The record of a revoked key at `path` and its ETag, or (None, None) (no record, or a key in use)."""
    try:
        record, etag = load_record(rt, path)
    except NotFoundError:
        return None, None
    return (record, etag) if record.revoked_at else (None, None)


def _write_over_revoked(rt, path: str, data: dict[str, str]) -> None:
    """A key added again where one was revoked: the new key is the next version. The revoked versions stay as
    revocation left them, destroyed (their values gone, their numbers and times kept in the secret's history), so
    nothing revoked comes back. Run again after a stop before the record was written, it goes on from there."""
    metadata = rt.secrets.metadata(path)
    live = [n for n, meta in metadata.versions.items() if not meta["destroyed"]]
    if live:  # written since the revocation: by an add stopped half-way (the same values), or by someone else
        if live == [metadata.current_version] and rt.secrets.read(path).data == data:
            return
        raise ConflictError(f"secret {path!r} has versions written since the key was revoked")
    rt.secrets.write(path, data, cas=metadata.current_version)


def _unfinished_add(rt, path: str, data: dict[str, str]) -> bool:
    """An add stopped after its secret was written and before its record was (a full disk, a kill): no record,
    and the secret holds these very values. Run again, it goes on from there; any other secret there is refused."""
    if rt.store.head(record_key(path)) is not None:
        return False
    try:
        return rt.secrets.read(path).data == data
    except NotFoundError:
        return False


def dependents(rt, path: str) -> list[Connection]:
    """The connections using the key; a damaged connection is logged and passed over (it cannot be used
    either way), so a rotation or revocation is not stopped half-way by it."""
    found = []
    for key in rt.store.list("connections/"):
        try:  # as every read of a connection: one a newer build wrote is read (documents.load_document)
            connection = load_document(rt.store, key, Connection, f"connection at {key}")[0]
        except DamagedData as exc:
            log.error("connection.damaged", key=key, problem=exc.problem,
                      remedy="fix or remove it (amx connections); it was passed over for key " + path)
            continue
        if connection.credentials_path == path:
            found.append(connection)
    return found


class Rotated(NamedTuple):
    """A rotation kept: its new version, and the ids of the connections whose test passed with it (every one that
    depends on the key; none when nothing does, so nothing verified it)."""
    version: int
    verified: list[str]


def rotate(rt, path: str, now: datetime | None = None, given: dict[str, str] | None = None) -> Rotated:
    """Rotate, verify, record, retire the old version; or put everything back. A manual key's new values are `given`
    (the fields a person replaced at the provider; the others are kept)."""
    now = now or datetime.now(UTC)
    record, etag = load_record(rt, path)
    if record.revoked_at:
        raise InvalidInput(f"key {path!r} was revoked; add a new one")
    if (record.rotation == "manual") != (given is not None):
        raise InvalidInput(f"key {path!r} rotates manually: get a new key from the provider and give it to amx keys "
                           f"rotate {path} (standard input or a prompt)" if given is None else
                           f"key {path!r} rotates by {record.rotation}: its new values are not given, but made")
    hook_source, hook = check_rotation(record)  # again: a record registered before add_key checked it
    current = rt.secrets.read(path)
    if given is not None:
        _check_given(path, current.data, given)
    try:
        new = hook(dict(current.data)) if hook else {**current.data, **(given if given is not None else {
            f: random_tokens.token_urlsafe(32) for f in record.generated_fields})}
    except Exception as exc:  # nothing written yet: nothing to put back
        reason = _reason(exc, current.data.values())
        _publish_failure(rt, path, None, reason, [], old_key_live=True, at=now)
        raise RotationFailed(f"key {path!r}: no new version was made: {reason}") from None
    try:
        version = rt.secrets.write(path, new, cas=current.version)
    except BaseException as exc:
        version = _landed(rt, path, current.version, new)
        if not isinstance(version, int):  # nothing to put back: not written, or not known to be
            reason = _reason(exc, [*current.data.values(), *new.values()])
            if version is None:  # the old version is still the current one, or another caller's new one
                _retire(hook_source, path, new, "the new key, not stored")
                if isinstance(exc, ConflictError):  # no failure: the rotation stored first stands (an event twice)
                    raise ConflictError(f"key {path!r}: rotated meanwhile by another caller (a version after "
                                        f"{current.version} was stored first): this rotation stored nothing, its new "
                                        "key retired") from None
                outcome = "the new version could not be stored ({}); the old key is still in use"
            else:  # either may be stored: neither is retired
                outcome = ("the write of the new version failed ({}) and the secret store could not be read after "
                           "it, so which key it holds is unknown; both stay valid at the provider. The next rotation "
                           "goes on from the version stored (amx keys status shows it)")
            _publish_failure(rt, path, None, reason, [], old_key_live=True if version is None else None, at=now)
            if not isinstance(exc, Exception):
                raise
            raise RotationFailed(f"key {path!r}: " + outcome.format(reason)) from None
    rotated = record.model_copy(update={"rotated_at": now, "expires_at": now + timedelta(days=record.lifetime_days)})
    failed, verified, written_etag, secret_values = [], [], None, [*current.data.values(), *new.values()]
    record_sent = False  # its record's write asked: one that raised may have landed, its answer lost
    announced = False  # its key.rotated published: a rollback after it announces the key it puts back
    try:
        failed, verified = _verify(rt, path)
        if failed:
            raise RotationFailed("the new version failed verification: " + " | ".join(failed))
        record_sent = True
        written_etag = save_record(rt, rotated, etag)
        # of the version live, when it holds this key put back by another rotation's rollback (which may announce it
        # too: the same event)
        rt.bus.publish(_rotated(path, _live_with(rt, path, version, new) or version))
        announced = True
        # last, once announced (_settled): every older version still live, not only the one it replaced (a rotation
        # killed once its new version was written, nothing put back, left the version before it live too)
        rt.secrets.destroy(path, _older_live(rt, path, version))
    except BaseException as exc:
        reason = _reason(exc, secret_values)
        # what is stored now decides: the record (revoked meanwhile? another rotation's, or this one's own write that
        # raised?) and the version live (this one's key, or another rotation's)
        stored, stored_etag = _stored_now(rt, path)
        # Revoked meanwhile: putting the old key back would bring back the very key revoked, so the new version goes
        # the way of the others instead, and neither key is live.
        revoked = stored is not None and stored.revoked_at is not None
        live = None if revoked else _live_with(rt, path, version, new)
        if not revoked and live is None:
            # another rotation wrote over this one's version: nothing is put back, and the key this one replaced,
            # stored nowhere now, is retired. That rotation decides which key is live: its own, or, rolled back, this
            # one's (the key it replaced), so this failure is no "the later one stands": it is logged as such.
            _retire(hook_source, path, current.data, "the old key, replaced")
            log.warning("key.rotation_overtaken", secret_path=path, version=version, reason=reason)
            if not isinstance(exc, Exception):
                raise
            raise ConflictError(f"key {path!r}: rotated meanwhile by another caller (a version after {version} was "
                                f"stored while it was verified): that rotation decides which key is live, its own, or "
                                f"this one's should it be rolled back ({reason})") from None
        if written_etag is None and record_sent and not isinstance(exc, ConflictError) and stored is not None \
                and stored_json(stored) == stored_json(rotated):
            written_etag = stored_etag  # its own record, written with the answer lost: restored as one answered
        announce = None if revoked else (
            "its own key.rotated was published" if announced else
            "its key was live as another rotation's rollback put it back, maybe announced" if live != version else
            None if _settled(rt, path, current.version) else
            "the key put back is not settled: a version before it is live (the rotation that wrote it unfinished)")
        put_back = None if revoked else _roll_back(rt, record, current, live, sorted({version, live}), written_etag,
                                                   secret_values)
        restored = put_back is not None
        withdrawn = revoked and _destroy_live(rt, path, secret_values)
        if restored or withdrawn:
            _retire(hook_source, path, new, "the new key, rolled back" if restored else "the new key, its path revoked")
        failed = [without_values(f, secret_values) for f in failed]
        _publish_failure(rt, path, version, reason, failed, old_key_live=restored, at=now)
        if restored and (not announce or _announce_put_back(rt, path, put_back, announce)):
            _settle(rt, path, put_back, secret_values)
        if not isinstance(exc, Exception):
            raise  # an interrupt: put back, then stop as asked
        if revoked:
            raise RotationFailed(f"key {path!r}: revoked while version {version} was rotated in ({reason}); " + (
                "no version of it is live" if withdrawn else "version(s) written since could NOT be destroyed: "
                "revoke it again (amx keys revoke)")) from None
        if not restored:
            raise RotationFailed(f"key {path!r}: version {version} failed ({reason}) and could NOT be rolled back: "
                                 "it is live; see the logs") from None
        raise RotationFailed(f"key {path!r}: version {version} failed and was rolled back: {reason}") from None
    _retire(hook_source, path, current.data, "the old key, replaced")
    log.info("key.rotated", secret_path=path, version=version, verified=[connection.id for connection in verified])
    for connection in verified:  # the new key passed their tests: the same evidence as a passing connection test
        _clear_mark(rt, connection, version)
    return Rotated(version, [connection.id for connection in verified])


def verified_said(rotated: Rotated) -> str:
    """Which connections verified a rotation's new key, in words: none depending on it is said plainly, not left out."""
    if not rotated.verified:
        return "no connection depends on it, so none verified the new key"
    return f"verified by {counted(len(rotated.verified), 'connection')}: {', '.join(rotated.verified)}"


def rotation_said(path: str, rotated: Rotated) -> str:
    """A rotation kept, as every report of one says it (amx keys rotate, the keys cron's outcome and log, a rotate_key
    rule's activation): the key, its new version and what verified it. Names and numbers only, never a value."""
    return f"{path}: now version {rotated.version}, {verified_said(rotated)}"


def _check_given(path: str, current: dict[str, str], given: dict[str, str]) -> None:
    """A manual key's new values replace fields it holds (a misspelt field would be a field no source reads, beside
    the old value still sent) and are not all the ones it holds already (a rotation that rotates nothing)."""
    if not given:
        raise InvalidInput(f"key {path!r}: no new value given")
    if unknown := [name for name in given if name not in current]:
        raise InvalidInput(f"key {path!r} holds {', '.join(current)}: no field {unknown[0][:100]!r}")
    if all(current[name] == value for name, value in given.items()):
        raise InvalidInput(f"key {path!r}: the values given are the ones it holds; nothing was rotated")


UNKNOWN = "unknown"


def _landed(rt, path: str, previous: int, new: dict) -> int | None | str:
    """The version a write that raised made after all (its answer lost on the way back); None when it made none;
    UNKNOWN when the store cannot tell now (it does not answer)."""
    try:
        written = rt.secrets.read(path, previous + 1, outage_copy=False)
    except NotFoundError:
        return None
    except Exception:
        return UNKNOWN
    return written.version if written.data == new else None


def _retire(source, path: str, key: dict, which: str) -> None:
    """Tell the provider a key is no longer used (its source's retire_credentials, if any). Best effort: a
    failure is logged, and the key stays valid at the provider until it expires or a person retires it."""
    retire = getattr(source, "retire_credentials", None)
    if retire is None:
        return
    try:
        retire(dict(key))
    except Exception as exc:
        log.error("key.not_retired", secret_path=path, which=which, error=_reason(exc, key.values()),
                  remedy="retire it at the provider by hand")


def _verify(rt, path: str) -> tuple[list[str], list[Connection]]:
    """Each dependent connection's test with the new version: the failures, in words (why the key was refused too: the
    path is the rotation's own), and the connections that passed (as they were read before their test)."""
    from affiliate_matrix.connection_test import check

    failed, passed = [], []
    for connection in dependents(rt, path):
        result = check(rt, connection, say_why=True)
        if result["ok"]:
            passed.append(connection)
        else:
            failed.append(f"{connection.id}: {'; '.join(x['detail'] for x in result['checks'] if not x['ok'])}")
    return failed, passed


def _clear_mark(rt, verified: Connection, version: int) -> None:
    """A rotation is kept whose new key passed the connection's test: the mark the connection had when it was
    tested (credentials refused, say) is cleared, as a passing POST /connections/{id}/test clears it, so the
    scheduled syncs use the connection again, and so is a refusal marked since of a version before `version` (the
    key's new one): a sync's refusal of the key replaced. Another mark set since (a refusal of the new key) stays, and
    so does the mark of a connection pointed at other credentials or another address, or created again, since it was
    tested (mark_healthy: the test vouched for what it read). Best effort: the rotation is done, and a connection that
    cannot be updated is logged, to be re-tested."""
    if verified.healthy:
        return
    try:
        mark_healthy(rt.store, verified, version)
    except AmxError as exc:
        log.error("key.connection_not_cleared", connection_id=verified.id, error=str(exc),
                  remedy="re-test the connection (POST /connections/{id}/test)")


def _live_with(rt, path: str, version: int, key: dict[str, str]) -> int | None:
    """The version live holding `key`, which this rotation wrote as `version`: that one; a later one, another
    rotation's rollback having put it back; or None when another rotation's key is live (it wrote over this one's
    version). A store that cannot say now: `version`, not known to be overtaken; one that cannot read the later
    version it names: None, overtaken as far as it knows."""
    try:
        live = rt.secrets.metadata(path).current_version
    except Exception:
        return version
    if live == version:
        return version
    try:
        return live if rt.secrets.read(path, live, outage_copy=False).data == key else None
    except Exception:
        return None


def _older_live(rt, path: str, version: int) -> list[int]:
    """The versions before `version` not destroyed."""
    return [n for n, meta in rt.secrets.metadata(path).versions.items() if n < version and not meta["destroyed"]]


def _settled(rt, path: str, version: int) -> bool:
    """Whether `version` is settled, announced as the live key when it had to be: no version before it is live. A
    rotation destroys them once it has announced its own, and a rollback once the key it put back needs no
    announcement or has had it; one that has not (under way, failed at its last steps, killed) leaves them live. A
    store that cannot say now: settled, not announced again."""
    try:
        return not _older_live(rt, path, version)
    except Exception:
        return True


def _settle(rt, path: str, version: int, secret_values) -> None:
    """The versions before `version`, the key a rollback put back, destroyed: it is settled (_settled). Best effort:
    left live, the next rollback announces its key again, and the next rotation destroys them."""
    try:
        rt.secrets.destroy(path, _older_live(rt, path, version))
    except Exception as exc:
        log.error("key.older_versions_live", secret_path=path, version=version, error=_reason(exc, secret_values),
                  remedy="nothing to do: the next rotation destroys them")


def _stored_now(rt, path: str) -> tuple[KeyRecord | None, str | None]:
    """The key's record as stored now and its ETag, or (None, None) when it cannot be read (nothing is known of it)."""
    try:
        return load_record(rt, path)
    except Exception:
        return None, None


def _destroy_live(rt, path: str, secret_values) -> bool:
    """Destroy every version still live (a rotation's, written after or beside a revocation); whether that was done."""
    try:
        rt.secrets.destroy(path, [n for n, meta in rt.secrets.metadata(path).versions.items() if not meta["destroyed"]])
        return True
    except Exception as exc:
        log.critical("key.revoked_version_live", secret_path=path, error=_reason(exc, secret_values))
        return False


def _rotated(path: str, version: int) -> Event:
    """key.rotated of `version`, the key's live one: one id per version, so a publish repeated is the same event."""
    return Event.make(KEY_ROTATED, "/keys", {"path": path, "version": version}, key=f"{path}|{version}")


def _roll_back(rt, record: KeyRecord, old, live: int, rolled_back: list[int], written_etag: str | None,
               secret_values) -> int | None:
    """The old value as the newest version, written over `live` (it may be destroyed already), and the record as it
    was; then the versions `rolled_back` destroyed (those holding the failed key), its key retired at the provider or
    never verified, so no reader of older versions tries it. The version written, or None when the old value could not
    be put back (nothing is destroyed then)."""
    try:
        put_back = rt.secrets.write(record.path, dict(old.data), cas=live)
        if written_etag is not None:
            save_record(rt, record, written_etag)
    except Exception as exc:
        log.critical("key.rollback_failed", secret_path=record.path, version=live, error=_reason(exc, secret_values))
        return None
    try:  # the old value is the newest version: the failed one is no longer the live key
        rt.secrets.destroy(record.path, rolled_back)
    except Exception as exc:  # put back all the same; the next rotation destroys it with the other older versions
        log.error("key.rolled_back_version_live", secret_path=record.path, versions=rolled_back,
                  error=_reason(exc, secret_values), remedy="nothing to do: the next rotation destroys it")
    return put_back


def _announce_put_back(rt, path: str, version: int, why: str) -> bool:
    """key.rotated of the version a rollback wrote when the key it put back may not be the one last announced (`why`):
    the consumers of key.rotated (rules; functions holding the key) learn the live key changed. Whether it was
    published. Best effort: the rollback is done, and its key.rotation.failed says the old key is live."""
    log.warning("key.put_back_announced", secret_path=path, version=version, reason=why)
    try:
        rt.bus.publish(_rotated(path, version))
        return True
    except Exception as exc:
        log.error("key.rotated_not_published", secret_path=path, version=version, error=type(exc).__name__)
        return False


def _publish_failure(rt, path: str, version: int | None, reason: str, failed: list[str],
                     old_key_live: bool | None, at: datetime) -> None:
    """old_key_live: the old key is the one stored (True), it is not (False), or that is unknown (None). The event's
    id is of this rotation (`at`, its time): one that made no version (None) is not another's, days apart."""
    log.error("key.rotation_failed", secret_path=path, version=version, reason=reason, old_key_live=old_key_live)
    try:
        rt.bus.publish(Event.make(KEY_ROTATION_FAILED, "/keys", {
            "path": path, "version": version, "reason": reason, "failed": failed, "old_key_live": old_key_live},
            key=f"{path}|{version}|failed|{at.isoformat()}"))
    except Exception as exc:  # the failure is logged above; the caller still hears of it
        log.error("key.rotation_failed_not_published", secret_path=path, error=type(exc).__name__)


def _reason(exc: BaseException, secret_values) -> str:
    """The exception in words, with any secret value in it blanked out."""
    return without_values(exc.args[0] if isinstance(exc, RotationFailed) else f"{type(exc).__name__}: {exc}",
                     secret_values)[:500]


def revoke(rt, path: str, now: datetime | None = None) -> list[str]:
    """Destroy every live version and mark dependents unhealthy; returns their ids. A damaged record is revoked too,
    and written over with a record of the revocation (stand_in), so that the key can be added again."""
    try:
        record, etag = load_record(rt, path)
    except DamagedData as exc:  # the key may be compromised all the same; nothing in the record is needed to revoke it
        log.error("key_record.damaged", key=record_key(path), problem=str(exc))
        record, etag = None, rt.store.head(record_key(path))
    # run again, it is the same revocation: its time stays the first run's (a second run moved it, and the time a sync
    # and a connection's mark gave for it), as its event stays the same
    now = (record and record.revoked_at) or now or datetime.now(UTC)
    metadata = rt.secrets.metadata(path)
    record = record or stand_in(path, metadata.custom_metadata, now)
    rt.secrets.destroy(path, [v for v, m in metadata.versions.items() if not m["destroyed"]])
    flagged = []
    for connection in dependents(rt, path):
        mark_unhealthy(rt, connection.id, _revoked_reason(path) + utc_said(now))
        flagged.append(connection.id)
    save_record(rt, record.model_copy(update={"revoked_at": now}), etag)
    # of the versions up to the current one: a revocation run again is the same event, one after a key added again not
    rt.bus.publish(Event.make(KEY_REVOKED, "/keys", {"path": path, "connections": flagged},
                              key=f"{path}|revoked|{metadata.current_version}"))
    log.warning("key.revoked", secret_path=path, connections=flagged)
    return flagged


def stand_in(path: str, custom: dict[str, str], now: datetime) -> KeyRecord:
    """A damaged record's stand-in, written by its revocation: how the key rotates, whose it is, when it expires and
    where it may be sent as the secret's metadata says them (keys add writes them there too), else manual, no one's,
    no expiry, sent nowhere."""
    known = {name: custom[name] for name in ("rotation", "owner_source", "expires_at") if name in custom}
    if "origins" in custom:  # space-separated: Vault's metadata holds strings
        known["origins"] = custom["origins"].split()
    try:
        return KeyRecord.model_validate_json(json.dumps({"rotation": "manual", **known, "path": path,
                                                         "created_at": now.isoformat()}))
    except ValidationError:
        return KeyRecord(path=path, rotation="manual", created_at=now)


def _revoked_reason(path: str) -> str:
    """How a connection marked unhealthy by the revocation of its key's path is marked (the time follows)."""
    return f"credentials at {path} revoked at "


def _mark_healthy_again(rt, connection_id: str, revoked: str) -> None:
    """Clear the mark a revocation left (its reason starts with `revoked`), so the connection is used again once a
    key is added at the path; a connection unhealthy for another reason is left so."""
    def healthy_again(connection):
        marked = not connection.healthy and (connection.health_reason or "").startswith(revoked)
        return {"healthy": True, "health_reason": None} if marked else None

    update_connection(rt.store, connection_id, healthy_again, "its health")


def mark_unhealthy(rt, connection_id: str, reason: str) -> None:
    update_connection(rt.store, connection_id, lambda connection: {"healthy": False, "health_reason": reason},
                      "its health")


def expiring(record: KeyRecord, now: datetime) -> int | None:
    """The smallest warning threshold (days) the key has crossed, if any."""
    if record.expires_at is None or record.revoked_at:
        return None
    left = (record.expires_at - now).total_seconds() / 86400
    crossed = [days for days in WARN_DAYS if left <= days]
    return min(crossed) if crossed else None


def run_checks(rt, now: datetime | None = None) -> dict:
    """The keys function's cron run: rotate generated keys due within a week, warn about the rest. Each key rotated
    is said as rotation_said says it (its new version, the connections that verified it), each failure as its error.
    Safe to run twice: rotated keys are no longer due, and warnings carry ids that repeat."""
    now = now or datetime.now(UTC)
    outcome = {"rotated": [], "failed": [], "warned": []}
    emit_key_metrics(rt, now)
    for record in records(rt, outcome["failed"]):
        threshold = expiring(record, now)
        if threshold is None:
            continue
        if record.rotation == "generate":
            try:
                outcome["rotated"].append(rotation_said(record.path, rotate(rt, record.path, now)))
                continue
            except ConflictError as exc:  # rotated by another run at the same time (an event delivered twice)
                log.info("key.rotated_meanwhile", secret_path=record.path, detail=str(exc))
                continue
            except AmxError as exc:
                outcome["failed"].append(f"{record.path}: {exc}")
        rt.bus.publish(Event.make(KEY_EXPIRING, "/keys", {
            "path": record.path, "days": threshold, "expires_at": record.expires_at.isoformat(),
            "rotation": record.rotation}, key=f"{record.path}|{threshold}|{record.expires_at.isoformat()}"))
        outcome["warned"].append(record.path)
    return outcome


def emit_key_metrics(rt, now: datetime) -> None:
    """Per key and day: days left, uses, failures, live version (0 once revoked)."""
    from affiliate_matrix.observability.figures import emit, metric

    day, documents = now.date().isoformat(), []
    for record in records(rt):
        used, labels = usage(rt, record.path), {"key": record.path, "rotation": record.rotation}
        days_left = (record.expires_at - now).total_seconds() / 86400 if record.expires_at else -1
        try:
            version = 0 if record.revoked_at else rt.secrets.metadata(record.path).current_version
        except AmxError:
            version = -1  # the secret store did not answer: shown, not hidden
        for name, value in (("key_days_left", round(days_left, 2)), ("key_uses", used["uses"].get(day, 0)),
                            ("key_failures", used["failures"].get(day, 0)), ("key_version", version)):
            documents.append(metric(name, value, labels, now, day))
    emit(rt, documents)


def record_use(rt, path: str, ok: bool, now: datetime | None = None) -> None:
    """Usage per key: last use, uses and failures per day (kept 90 days)."""
    now = now or datetime.now(UTC)
    key, day = usage_key(path), now.date().isoformat()
    for _ in range(5):
        usage, etag = _stored_usage(rt, key)
        bucket = usage["uses"] if ok else usage["failures"]
        bucket[day] = bucket.get(day, 0) + 1
        usage["last_used_at"] = now.isoformat()
        for name in ("uses", "failures"):
            usage[name] = dict(sorted(usage[name].items())[-90:])
        try:
            rt.store.put(key, json.dumps(usage).encode(), content_type="application/json", if_match=etag,
                         if_none_match=etag is None)
            return
        except ConflictError:
            continue


def usage(rt, path: str) -> dict:
    return _stored_usage(rt, usage_key(path))[0]


def usage_key(path: str) -> str:
    return f"keys/usage/{path}.json"


def _stored_usage(rt, key: str) -> tuple[dict, str | None]:
    """A key's usage document and its ETag. Only figures: a damaged one is logged, naming it, and counted anew,
    so neither a sync using the key nor the keys run stops for it."""
    from affiliate_matrix.storage import read_json

    usage, etag, problem = read_json(rt.store, key, lambda usage: isinstance(usage, dict) and all(
        isinstance(usage.get(name), dict) and all(type(count) is int for count in usage[name].values())
        for name in ("uses", "failures")), "not counts of uses and failures per day")
    if usage is not None:
        return usage, etag
    if problem is not None:
        log.error("key_usage.damaged", key=key, problem=problem[:300], remedy="nothing to do: its uses are counted anew")
    return {"uses": {}, "failures": {}}, etag
