"""A connection (a configured source), its documents in the object store, written with conditional
writes (ETag), and the credentials a connection reads from its secret."""

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, HttpUrl, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from affiliate_matrix import connection_fields as defaults
from affiliate_matrix.connection_fields import RATE_MAX, RATE_MIN
from affiliate_matrix.documents import load_document, no_document, readable, save_document
from affiliate_matrix.errors import AmxError, ConflictError, DamagedData, InvalidInput, NotFoundError, ObjectTooLarge
from affiliate_matrix.model_types import CRON_FIELDS, Document, Model, UtcDatetime
from affiliate_matrix.observability import get_logger, without_url_credentials
from affiliate_matrix.storage import ObjectStore
from affiliate_matrix.wording import utc_said

log = get_logger()

# A connection's generation: which creation of it a run, a claim or its deletion's event is of (Connection.generation)
GENERATION = r"^g_[0-9a-f]{32}$"
CONNECTION_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


def _connection_id(value):
    """An id said in words, before its pattern (kept for the schema) would be quoted to whoever typed it, as a rule's
    is (rules.model.RuleId)."""
    if isinstance(value, str) and not re.fullmatch(CONNECTION_ID, value):
        raise ValueError(f"{value[:80]!r} is not a connection id: lower-case letters, digits and '-', up to 63, the "
                         "first a letter or a digit")
    return value


# the pattern before the validator, so the OpenAPI document shows it (after one, pydantic's schema left it out)
ConnectionId = Annotated[str, Field(pattern=CONNECTION_ID), BeforeValidator(_connection_id)]
CREDENTIALS_PATH = r"^connections/[a-zA-Z0-9_-]+(/[a-zA-Z0-9_-]+)*$"
CREDENTIALS_PATH_MAX = 200


def _credentials_path(value):
    """A credentials path said in words, not as its pattern, as an id is."""
    if isinstance(value, str) and (len(value) > CREDENTIALS_PATH_MAX or not re.fullmatch(CREDENTIALS_PATH, value)):
        raise ValueError(f"{value[:80]!r} is not a key's path under connections/ (connections/NAME: letters, digits, "
                         f"'_' and '-', parts separated by '/', at most {CREDENTIALS_PATH_MAX} characters), as amx "
                         "keys add stores it")
    return value


CredentialsPath = Annotated[str, Field(pattern=CREDENTIALS_PATH, max_length=CREDENTIALS_PATH_MAX),
                            BeforeValidator(_credentials_path)]


# What every directory crawl's run says it did not read: no fault, its programs are re-verified on their own pages
DIRECTORY_CRAWL = "a directory crawl: its programs are re-verified on their own pages (amx verify)"
# A finished run's word on what it did not read (pipeline.incomplete_because, as its report and amx scrape say it)
INCOMPLETE = ("Why the run cannot tell which programs the connection no longer lists (a crawl stopped at its page "
              "budget says so, with the pages it left for the next run); null: a complete run.")
# A finished crawl's word on the sitemaps it went on without (sync_requests.outcome): no failure of the run
SITEMAPS_REFUSED = ("The sitemaps the crawl refused and went on without (a damaged file, one on another host): the "
                    "first few, each with why, then how many more. Not failures: the run's status ignores them.")


class SyncResult(Model):
    status: Literal["queued", "running", "succeeded", "failed", "skipped"]
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    pages: int = 0
    records: int = 0
    errors: list[str] = []
    incomplete: str | None = Field(None, description=INCOMPLETE)
    sitemaps_refused: list[str] = Field([], description=SITEMAPS_REFUSED)


class Connection(Document):
    """A configured source. Holds where its credentials live in Vault, never the credentials."""

    id: ConnectionId
    source: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    schedule: str = Field(defaults.SCHEDULE, description="Cron, five fields, UTC.")
    rate_limit_per_s: float = Field(
        defaults.RATE_LIMIT_PER_S, json_schema_extra={"minimum": RATE_MIN, "maximum": RATE_MAX},
        description=f"Requests a second to the source's hosts, from {RATE_MIN} to {RATE_MAX}.")
    concurrency: int = Field(defaults.CONCURRENCY, ge=defaults.CONCURRENCY_MIN, le=defaults.CONCURRENCY_MAX)
    enabled: bool = True
    disabled_reason: str | None = Field(None, max_length=500, description="Why the connection is disabled; an enabled "
                                                                          "one has none.")
    credentials_path: CredentialsPath | None = Field(None, description="Where in the secret store: under connections/, "
                                                                       "no other secret.")
    base_url: HttpUrl | None = Field(None, description="Overrides the source's own address (recorded sites, staging).")
    last_sync: SyncResult | None = None
    healthy: bool = True
    health_reason: str | None = Field(None, max_length=500, description="Why the connection is unhealthy.")
    version: int = Field(0, ge=0)
    generation: str | None = Field(
        None, pattern=GENERATION, json_schema_extra={"readOnly": True},
        description="Which creation of the connection this is: set by the server when the connection is created, kept "
                    "by an edit, another when it is deleted and created again under the same id. Its runs' records, "
                    "their claims and its connection.deleted event name it. None: created before connections had one.")
    # Stored, never shown (exclude: documents.save_document writes it): a client sees the connection as it was, a
    # new ETag only.
    fenced: SkipJsonSchema[str | None] = Field(
        None, exclude=True,
        description="The ETag whose announced delete never came and was fenced off (pipeline.fence_undone_delete)"
                    ": written into the stored connection so that it has another ETag, and kept by every write "
                    "after, so that it never has the fenced one again.")

    @model_validator(mode="after")
    def _reason_only_when_disabled(self):
        if self.enabled:  # a reason says why it is not synced: kept on one enabled again, it was read as disabled
            self.disabled_reason = None
        return self

    @field_validator("base_url")
    @classmethod
    def _no_credentials(cls, value: HttpUrl | None) -> HttpUrl | None:
        # a connection is shown to read tokens and its address to the test's answer and the logs
        if value is not None and (value.username or value.password):
            raise ValueError("holds credentials (user:password@): keep them in the secret at credentials_path")
        return value

    @field_validator("rate_limit_per_s")
    @classmethod
    def _sane_rate(cls, value: float) -> float:
        if not RATE_MIN <= value <= RATE_MAX:  # NaN too
            raise ValueError(f"{value!r} requests a second is outside {RATE_MIN} to {RATE_MAX} (at least one request "
                             f"every {1 / RATE_MIN:.0f} s, at most {RATE_MAX} a second)")
        return value

    @field_validator("schedule")
    @classmethod
    def _five_field_cron(cls, value: str) -> str:
        if not re.match(CRON_FIELDS, value):
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value


def checked(connection: Connection) -> None:
    """What a written connection passes beyond its model: a source plugin, and a schedule the cron library
    reads (the model checks five fields only, so that reading a stored connection does not load the library)."""
    from affiliate_matrix.model_types import check_cron, check_name
    from affiliate_matrix.sources import all_sources

    if connection.disabled_reason:  # shown in `amx connections list` and a refused sync's error
        check_name(connection.disabled_reason, "disabled_reason")
    if connection.source not in all_sources():
        raise InvalidInput(f"source: {connection.source!r} is not a source plugin ({', '.join(all_sources())})")
    address = str(connection.base_url or "")
    if without_url_credentials(address) != address:  # as the model's user:password@: read tokens see the address
        raise InvalidInput("base_url: holds a credential in its query (a parameter named api_key, token, key or "
                           "the like): keep it in the secret at credentials_path")
    if problem := credentials_destination_problem(connection, all_sources()[connection.source]):
        raise InvalidInput(f"base_url: {problem}")
    check_cron(connection.schedule, "schedule")


def source_kept(stored: Connection, source: str) -> None:
    """A connection written over `stored` keeps its source: the records, claims, kept API answers, HTTP cache and
    complete-run notes under its id and generation are that source's, and another would read them as its own."""
    if source != stored.source:
        raise InvalidInput(f"source: connection {stored.id!r} is of source {stored.source!r}, which never changes: "
                           f"what it collected is that source's; add a connection of source {source!r} (POST "
                           "/connections, amx connections add) and delete this one")


def key_record_key(path: str) -> str:
    """Where the record of the key at `path` is kept (keys.py writes it): how it rotates, and whose key it is."""
    return f"keys/records/{path}.json"


def key_owner_problem(store: ObjectStore, connection: Connection) -> str | None:
    """Why the connection may not use the key at its credentials_path, or None: the key is registered as another
    source's (amx keys add --source). A key with no record, no source named or a record that cannot be read is
    not judged here (its use says what is wrong with it)."""
    if not connection.credentials_path:
        return None
    from affiliate_matrix.storage import read_json

    record, _, problem = read_json(store, key_record_key(connection.credentials_path), lambda record: isinstance(
        record, dict) and isinstance(record.get("owner_source"), str | None), "a key's record")
    owner = (record or {}).get("owner_source")
    if owner is None or owner == connection.source:
        return None
    return (f"the key at {connection.credentials_path!r} was added for source {owner!r}, not {connection.source!r}: "
            f"name a key added for source {connection.source!r} (amx keys add --source {connection.source})")


def address_problem(connection: Connection, allow_loopback: bool) -> str | None:
    """Why no sync would fetch from the connection's base_url, seen as written (netguard.written_refusal: a
    non-public address, or localhost, with no lookup), or None. A name that resolves to one is refused at each fetch."""
    if connection.base_url is None:
        return None
    from affiliate_matrix.errors import FetchError
    from affiliate_matrix.netguard import written_refusal

    try:
        kind = written_refusal(str(connection.base_url), allow_loopback)
    except FetchError as exc:
        return str(exc)
    allowed_by = "; AMX_ALLOW_LOOPBACK_FETCH=true where syncs run allows a loopback one" if kind == "loopback" else ""
    return kind and f"its host is a non-public address ({kind}), which a sync never fetches from{allowed_by}"


def checked_against_store(rt, connection: Connection) -> None:
    """What a written connection must agree with where it is written: an address this deployment fetches from
    (loopback only with AMX_ALLOW_LOOPBACK_FETCH), and a key it names in the store, of its own source, holding what
    the source reads."""
    if (problem := address_problem(connection, rt.settings.allow_loopback_fetch)) and address_written(rt, connection):
        raise InvalidInput(f"base_url: {problem}")
    if problem := key_owner_problem(rt.store, connection):
        raise InvalidInput(f"credentials_path: {problem}")
    if problem := key_missing_problem(rt, connection):
        raise InvalidInput(f"credentials_path: {problem}")


def address_written(rt, connection: Connection) -> bool:
    """Whether this write is where the connection's base_url is judged: a new connection, another base_url, or one
    enabled that was not. An edit of the schedule of one stored with a loopback address (the demo's, written where
    AMX_ALLOW_LOOPBACK_FETCH is set) was refused for the base_url it did not write."""
    try:
        stored, _ = load_connection(rt.store, connection.id)
    except (NotFoundError, DamagedData):  # new (or replacing what cannot be read)
        return True
    return bool(settings_changed(stored, connection, ("base_url",))) or (connection.enabled and not stored.enabled)


def key_missing_problem(rt, connection: Connection) -> str | None:
    """Why the connection, as written, names no usable key, or None: no key at its credentials_path, or one lacking a
    field its source reads. Said when it is written, not at its first sync (a cron tick, hours later). Judged only where
    this write makes a sync read the key: the connection is enabled and was not, or is new, or names another path or
    source; an edit of its schedule keeps working while its key is revoked. A connection written disabled is taken
    before its key (an API caller provisioning in that order): nothing syncs it until it is enabled, which checks it.
    A missing key and one lacking a field are told in one sentence, as the connection test tells them (connection_test:
    a write tells no more of what the secret store holds than a test does); a store that cannot answer is its error (a
    503: retry)."""
    from affiliate_matrix.sources import all_sources

    fields = getattr(all_sources().get(connection.source), "credential_keys", ())
    if not (connection.enabled and connection.credentials_path and fields):
        return None
    try:
        stored, _ = load_connection(rt.store, connection.id)
        if stored.enabled and not settings_changed(stored, connection, ("source", "credentials_path")):
            return None
    except (NotFoundError, DamagedData):  # new (or replacing what cannot be read: a write over it is refused anyway)
        pass
    path = connection.credentials_path
    try:
        held = rt.secrets.read(path).data
    except NotFoundError:
        held = {}
    if all(held.get(field) for field in fields):
        return None
    return (f"no key at {path!r} holds what source {connection.source!r} reads ({', '.join(fields)}): add it first "
            f"(amx keys add {path} --rotation manual --source {connection.source}), or write the connection disabled "
            "(enabled: false; amx connections add --disabled) until it is there")


def refuse_disabled(connection: Connection) -> None:
    """A disabled connection is synced by no one until it is enabled again: not the schedule, not a person (the API's
    sync, amx scrape)."""
    if not connection.enabled:
        why = f" ({connection.disabled_reason})" if connection.disabled_reason else ""
        # in words for both who meet it: a person at `amx scrape` and a caller of the API's sync
        raise ConflictError(f"connection {connection.id!r} is disabled{why}: enable it before syncing (amx "
                            f"connections edit {connection.id} --enabled, or PATCH /connections/{connection.id} with "
                            f"{{\"enabled\": true}})")


def connection_key(connection_id: str) -> str:
    return f"connections/{connection_id}.json"


def answers_key(connection_id: str) -> str:
    """How the requests of the connection's API syncs were answered, for its replays (sync.StoredAnswers), with the
    generation they were kept for (kept_for_another)."""
    return f"api-answers/{connection_id}.json"


def http_cache_key(connection_id: str) -> str:
    """The connection's crawl cache: its pages' validators, kept copies and links (pipeline.crawl_with_cache), with the
    generation it was kept for (kept_for_another)."""
    return f"http-cache/{connection_id}.json"


def kept_for_another(key: str, kept: str | None, connection: Connection) -> str | None:
    """Why what runs kept at `key` under the connection's id (its API answers, its HTTP cache), written for generation
    `kept`, is not the connection's own, logged (once a read), or None: it is. Kept for another generation, it is a
    connection's deleted under the id: a run still going at its delete may write between its check that its
    connection is stored and the delete's sweep, where there was none to sweep (write_kept), and what was kept before
    deletes swept stays. Read as none: its answers are not replayed, its validators, copies and links not used; the
    connection's next run writes its own over it."""
    # Kept naming no generation: written before kept state named one (2026-12-07, when deletes began to sweep it). Its
    # own only for a connection with no generation either (created before connections had one), whose runs write none
    # and which nothing tells from another. A connection with a generation cannot tell its own such state from that of
    # one deleted before under its id, and reading another's replays its answers and sends its validators; ignoring
    # its own costs a sync before its next replay, or one crawl fetching every page in full.
    if kept == connection.generation:
        return None
    now = f"generation {connection.generation}" if connection.generation else \
        "of no generation (created before connections had one)"
    why = (f"{key} was kept for generation {str(kept)[:40]}, and connection {connection.id!r} is {now}: for a "
           "connection deleted under its id" if kept is not None else
           f"{key} names no generation (kept before it named one), and connection {connection.id!r} is {now}: it may "
           "be a connection's deleted under its id")
    log.warning("kept.another_generation", connection_id=connection.id, key=key, kept=str(kept)[:40],
                generation=connection.generation, reason=why)
    return why


def sweep_kept(store: ObjectStore, connection_id: str) -> None:
    """What the runs of a connection that is not stored, deleted, kept of it alone (its API answers, its HTTP cache):
    one created again under its id replayed the old one's answers and sent its validators. They go after their
    connection (a delete refused or failing leaves them with it; one cut short after the connection went is finished
    by the delete again, which finds none and sweeps). Not its raw pages (content-addressed, shared by its source's
    connections) nor its claims (withdrawn by its deletion's event). Each is deleted conditionally on its ETag, read
    before the connection was found absent: one written after that is a new connection's under the id, and kept. A run
    still going writes only while its connection is stored with its generation (write_kept); what one writes after the
    sweep all the same (it checked before the delete, and found none to write over) is kept for the generation
    deleted, which no connection created again under the id reads (kept_for_another)."""
    if not re.fullmatch(CONNECTION_ID, connection_id):  # names no connection's: no key of one
        return
    kept = {key: store.head(key) for key in (answers_key(connection_id), http_cache_key(connection_id))}
    if store.head(connection_key(connection_id)) is not None:
        return
    for key, etag in kept.items():
        if etag is None:
            continue
        try:
            store.delete(key, if_match=etag)
        except (ConflictError, NotFoundError):
            pass  # written again since (a new connection's), or swept by another meanwhile


def write_kept(store: ObjectStore, connection: Connection, key: str, record: Callable[[], bytes]) -> bool:
    """Write what a run of `connection` keeps at `key` under its id (its API answers, its HTTP cache: `record()`), only
    while the connection is stored with the run's generation: a run still going at its delete would write over what
    one created again under the id kept since (which reads it as none: kept_for_another), or keep what no connection
    reads. The record's ETag is read before the connection, and the record written If-Match on it (If-None-Match
    where there is none), so one written after the connection was read fails the write, which reads both again once.
    Written meanwhile by a run of the same generation (two overlapping), this run's record lands over it, as every
    write did before writes were conditional: each is the connection's own, and this one ends last, so it read the
    source last. `record()` is made after the ETag is read: one made from the record read (a sync cut short adds to
    the answers kept) fails the write if the record changed in between. True when written; False when dropped,
    logged naming why."""
    for _ in range(2):
        etag = store.head(key)  # before the connection: a record written after that read fails the condition
        if why := _not_current(store, connection, key):
            log.warning("kept.dropped", connection_id=connection.id, key=key, generation=connection.generation,
                        reason=why)
            return False
        try:
            store.put(key, record(), content_type="application/json", if_match=etag, if_none_match=etag is None)
            return True
        except ConflictError:
            continue  # written since its ETag was read: by this generation's other run, or one created again
    log.warning("kept.dropped", connection_id=connection.id, key=key, generation=connection.generation,
                reason=f"{key} was written by another run each time it was read: this run's is not kept, its next run "
                       "keeps its own")
    return False


def _not_current(store: ObjectStore, connection: Connection, key: str) -> str | None:
    """Why what a run of `connection` keeps at `key` is not written: the connection is not stored with the run's
    generation; or None."""
    try:
        stored, _ = load_connection(store, connection.id)
    except NotFoundError:
        return (f"connection {connection.id!r} is not stored (deleted while this run went on): {key} would be kept for "
                "no connection")
    except DamagedData:
        return f"connection {connection.id!r} cannot be read, so whose {key} would be cannot be told"
    if stored.generation == connection.generation:
        return None
    return (f"connection {connection.id!r} was deleted while this run (of generation {connection.generation}) went "
            f"on and created again under its id (generation {stored.generation}): {key} is the new one's")


def load_connection(store: ObjectStore, connection_id: str) -> tuple[Connection, str]:
    if not re.fullmatch(CONNECTION_ID, connection_id):  # no connection has it: named, not refused as a storage key
        raise no_document(f"connection {connection_id[:100]!r}", "a connection id is lowercase letters, digits and '-': "
                                                                  "amx connections list")
    return load_document(store, connection_key(connection_id), Connection, f"connection {connection_id!r}")


def salvaged(data: bytes, connection_id: str) -> Connection | None:
    """What a damaged connection's delete needs of it, its source and generation (the claims its withdrawal takes),
    where its stored JSON still names them validly (one stored under looser rules: a rate limit now out of range); the
    other fields are their defaults, for no use but the deletion's event. None when they cannot be told (truncated)."""
    try:
        stored = json.loads(data)
        return Connection.model_validate({"id": connection_id, "source": stored["source"],
                                          "generation": stored.get("generation")})
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError):  # pydantic's ValidationError is one
        return None


def fence_damaged(store: ObjectStore, connection_id: str, etag: str) -> bool:
    """pipeline.fence_undone_delete for a damaged connection (whose delete was announced as salvaged): its stored JSON
    written again with `fenced` set, conditionally on `etag`, so that it has another ETag and a delete again is another
    event. False when it is not stored so, or is no JSON object (salvaged announced nothing for it)."""
    try:
        stored = store.get(connection_key(connection_id))
        document = json.loads(stored.data)
        if stored.etag != etag or not isinstance(document, dict):
            return False
        store.put(connection_key(connection_id), json.dumps({**document, "fenced": etag}, indent=2).encode(),
                  content_type="application/json", if_match=etag)
    except (NotFoundError, ConflictError, DamagedData, ValueError, RecursionError):
        return False
    return True


def stored_connections(store: ObjectStore, damaged: list | None = None) -> Iterator[tuple[Connection, str]]:
    """Every stored connection with its ETag, by id; a damaged one is logged and left out (documents.readable)."""
    keys = [key for key in sorted(store.list("connections/")) if key.endswith(".json")]
    return readable(keys, lambda key: load_connection(store, key.removeprefix("connections/").removesuffix(".json")),
                    damaged)


def created(connection: Connection) -> Connection:
    """A connection as it is created: with a generation of its own. One that has a generation keeps it (a connection
    put back after a delete whose withdrawal failed is the same creation)."""
    if connection.generation is not None:
        return connection
    return connection.model_copy(update={"generation": f"g_{uuid.uuid4().hex}"})


def save_connection(store: ObjectStore, connection: Connection, *, if_match: str | None = None,
                    create: bool = False) -> str:
    """Create (create=True: only if absent, with its generation: see created) or replace (if_match: only if
    unchanged). Returns the new ETag."""
    if create:
        connection = created(connection)
    return save_document(store, connection_key(connection.id), connection, if_match=if_match, create=create)


def update_connection(store: ObjectStore, connection_id: str, changes: Callable[[Connection], dict | None],
                      what: str) -> None:
    """Apply the fields `changes` gives for the stored connection (None: nothing to change) with a conditional write,
    read and retried on a concurrent edit so neither the edit nor this change is lost; `what` names the change."""
    for _ in range(5):
        connection, etag = load_connection(store, connection_id)
        update = changes(connection)
        if update is None:
            return
        try:
            save_connection(store, connection.model_copy(update=update), if_match=etag)
            return
        except ConflictError:
            continue
    raise ConflictError(f"connection {connection_id!r} kept changing; {what} not recorded")


# How a connection is marked whose provider refused its credentials (a time follows).
REFUSED = "credentials refused at "


def others_of_source(store: ObjectStore, source: str, connection_id: str) -> list[str]:
    """The connections other than `connection_id` that may read `source`. Claims name the connection that made them,
    but those recorded before claims did are the source's as a whole: what one connection no longer lists, another
    may still list (pipeline.claimants_of). A damaged one is named too unless its source still reads as another
    (salvaged): it may be one."""
    from affiliate_matrix.documents import readable

    own, damaged = connection_key(connection_id), []
    keys = [key for key in sorted(store.list("connections/")) if key.endswith(".json") and key != own]
    stored = readable(keys, lambda key: load_connection(store, key.removeprefix("connections/").removesuffix(".json")),
                      damaged)
    return [other.id for other, _ in stored if other.source == source] + [
        key for key in (i["key"] for i in damaged) if _damaged_of(store, key, source)]


def _damaged_of(store: ObjectStore, key: str, source: str) -> bool:
    """Whether the damaged connection at `key` may read `source`: unless its stored source still reads as another."""
    try:
        connection = salvaged(store.get(key).data, key.removeprefix("connections/").removesuffix(".json"))
    except NotFoundError:  # deleted since it was listed
        return False
    except ObjectTooLarge:  # not read: it may name any source
        return True
    return connection is None or connection.source == source


def deletion_event(connection: Connection, etag: str):
    """The event announcing that `connection`, stored with `etag`, is being deleted: the index function withdraws the
    claims of its generation once that delete is done (pipeline.withdraw_announced), as of the event's time."""
    from affiliate_matrix.events import CONNECTION_DELETED, Event

    return Event.make(CONNECTION_DELETED, "/connections", {
        "connection_id": connection.id, "source": connection.source, "etag": etag,
        "generation": connection.generation}, key=f"{connection.id}|{etag}", subject=connection.id)


# Where the index function marks a delete its connection.deleted event found not done (pipeline.withdraw_announced)
DELETION_MARKS = "pending/deletions/"


def deletion_mark(connection_id: str, etag: str) -> str:
    """The key of the mark of the delete of `connection_id` announced for `etag`."""
    import hashlib

    return f"{DELETION_MARKS}{hashlib.sha256(f'{connection_id}|{etag}'.encode()).hexdigest()}.json"


def sweep_deletion_marks(store: ObjectStore) -> int:
    """Remove the marks of deletes whose connection is no longer stored with the ETag marked (deleted, or written
    since: edited, or fenced); how many. A later delivery of the event removes its mark, but an event parked as a dead
    letter for another reason left it for good. Such a mark is spent: its event, were it re-posted, finds the
    connection changed (a fenced one never has the ETag fenced again: Connection.fenced); one whose change was undone
    byte for byte (a health mark set and cleared) is marked again by the next delivery, its fence one delivery later.
    The mark of a connection still stored so is kept, as its event may yet come: at most one a connection. The marks
    are listed before the connections are read, so each was made before the ETag it is judged by."""
    marks = list(store.list(DELETION_MARKS))
    stored = {deletion_mark(key.removeprefix("connections/").removesuffix(".json"), etag)
              for key, etag in store.listed("connections/") if key.endswith(".json")}
    spent = [mark for mark in marks if mark not in stored]
    for mark in spent:
        store.delete(mark)
    return len(spent)


def announce_deletion(rt, connection: Connection, etag: str):
    """Announce that `connection` (its ETag: the version deleted) is being deleted, before the delete: a process
    stopped between the two leaves an event whose delete never came (the index function withdraws nothing while the
    connection is stored with that ETag, and a delivery after the first makes that delete impossible and drops the
    event: pipeline.withdraw_announced), never a delete without its event. A failure to publish leaves the
    connection, to delete again. Returns the event."""
    event = deletion_event(connection, etag)
    rt.bus.publish(event)
    return event


# Where a connection's credentials come from and go, and which creation of it: what a run's or a test's verdict on
# the credentials is of. A verdict on the connection as read before one of them changed is not the connection's now.
CREDENTIALS_SETTINGS = ("generation", "source", "base_url", "credentials_path")


def settings_changed(read: Connection, now: Connection, names: tuple[str, ...] = CREDENTIALS_SETTINGS) -> list[str]:
    """The fields of `names` in which the connection `now` differs from `read` (as a run or a test read it)."""
    return [name for name in names if getattr(now, name) != getattr(read, name)]


def version_holding(rt, connection: Connection, credentials: dict[str, str]) -> int | None:
    """The version of the connection's secret that holds `credentials` (read from it before) now, or None: it no longer
    holds them (a rotation, a rotation rolled back to them, or a key added again since is judged by the values, not
    the version). A secret store that cannot say now (or no secret) is taken to hold them still, at version 0: not
    known."""
    if not connection.credentials_path:
        return 0
    try:
        secret = rt.secrets.read(connection.credentials_path, outage_copy=False)
    except NotFoundError:  # destroyed (revoked) or removed since: no longer the connection's key either
        return None
    except AmxError:
        return 0
    return secret.version if secret.data == credentials else None


def credentials_replaced(rt, connection: Connection, credentials: dict[str, str]) -> bool:
    """Whether the connection's secret no longer holds `credentials` (version_holding)."""
    return version_holding(rt, connection, credentials) is None


# How a refusal mark names the version of the key refused (a rotation's clear tells a refusal of a key it replaced)
_REFUSED_VERSION = r" \(key version ([0-9]+)\)$"  # compiled by re on first use: not by a start


def refused_version(connection: Connection) -> int | None:
    """The version of its key the connection's refusal mark names (None: not that mark, or one that names none)."""
    reason = connection.health_reason or ""
    found = re.search(_REFUSED_VERSION, reason) if reason.startswith(REFUSED) else None
    return int(found.group(1)) if found else None


def mark_refused(rt, synced: Connection, credentials: dict[str, str], at: datetime) -> str | None:
    """A provider refused `credentials`, read from the secret of `synced` (the connection as the sync read it): it is
    unhealthy, and scheduled syncs pass it over, until a passing connection test (or a key added again over a revoked
    one, or a rotation whose new key passed its test) clears the mark. A connection unhealthy for another reason (a
    revoked key, whose mark a key added again clears) keeps that reason. A sync takes minutes, so one pointed at other
    credentials or another address meanwhile, created again, or deleted is not marked, nor one whose key was replaced
    meanwhile (a rotation): the refusal was of what the sync read. The key is looked at before the mark and again
    after it, and a mark whose key was replaced in between is taken back: the rotation that replaced it may have read
    the connection before the mark, so it could not clear it. The mark names the key's version refused, so that such a
    rotation's clear, coming after the mark, clears it (mark_healthy): taken back to the mark before, the connection
    would keep that one although the rotation's new key passed its test. Why the mark was kept off (None: it was
    not)."""
    kept_off, mark, before = None, None, None
    replaced = f"its key at {synced.credentials_path} was replaced while it synced"

    def refused(connection: Connection) -> dict | None:
        nonlocal kept_off, before, mark
        before = None
        if changed := settings_changed(synced, connection):
            kept_off = f"its {', '.join(changed)} changed while it synced"
            return None
        if (version := version_holding(rt, synced, credentials)) is None:
            kept_off = replaced
            return None
        kept_off = None
        mark = REFUSED + utc_said(at) + (f" (key version {version})" if version else "")
        if not connection.healthy and not (connection.health_reason or "").startswith(REFUSED):
            return None
        before = {"healthy": connection.healthy, "health_reason": connection.health_reason}
        return {"healthy": False, "health_reason": mark}

    try:
        update_connection(rt.store, synced.id, refused, "its health")
        if before is not None and credentials_replaced(rt, synced, credentials):
            update_connection(rt.store, synced.id, lambda connection: before if (
                not connection.healthy and connection.health_reason == mark) else None, "its health")
            return replaced
    except NotFoundError:  # nothing of it left to mark
        return "it was deleted while it synced"
    return kept_off


# What a connection test vouches for: the creation of the connection, where its credentials come from and go, and the
# mark it had, all as the test read them.
TESTED = (*CREDENTIALS_SETTINGS, "healthy", "health_reason")


def mark_healthy(store: ObjectStore, tested: Connection, key_version: int | None = None) -> bool:
    """A passing test of `tested` (the connection as the test read it): the mark it had then is cleared. A test takes
    seconds, so one marked again meanwhile (a sync refused), pointed at other credentials or another address, or
    created again keeps its mark: the test vouched for what it read. `key_version`: the version of the key the test
    used (a rotation's new key), whose pass clears a refusal marked meanwhile of an older version too: that refusal
    was of a key it replaced. Whether the connection is healthy now."""
    def cleared(connection: Connection) -> dict | None:
        if connection.healthy or settings_changed(tested, connection):
            return None
        refused = refused_version(connection)
        of_a_key_replaced = key_version is not None and refused is not None and refused < key_version
        if settings_changed(tested, connection, TESTED) and not of_a_key_replaced:
            return None
        return {"healthy": True, "health_reason": None}

    update_connection(store, tested.id, cleared, "its health")
    return load_connection(store, tested.id)[0].healthy


def skip_reason(connection: Connection) -> str | None:
    """Why a scheduled sync passes the connection over (None: it does not): its provider is not called with
    credentials marked refused or revoked, as that can get an account locked."""
    if connection.healthy:
        return None
    return f"skipped: {connection.health_reason or 'marked unhealthy'}; re-test it or re-add its key"


def credentials_destination_problem(connection: Connection, source_class) -> str | None:
    """Why the connection's base_url may not receive its source's credentials, or None. An override of the
    source's address (recorded sites, a provider's staging host) keeps them within the source's own registrable
    domain, over https, or on an address that is not public (the fetch guard lets loopback through only where
    AMX_ALLOW_LOOPBACK_FETCH says so). Anywhere else, whoever may write a connection (an admin token) could name
    any stored credential under connections/ and a host of theirs, and a sync or POST /connections/{id}/test
    sent it there."""
    if connection.base_url is None or not getattr(source_class, "credential_keys", ()):
        return None
    import ipaddress
    from urllib.parse import urlsplit

    host = (connection.base_url.host or "").strip("[]").lower().rstrip(".")
    own_host = (urlsplit(source_class.base_url).hostname or "").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None or host == "localhost":
        from affiliate_matrix.netguard import why_not_public

        if address is None or why_not_public(address):  # judged as the fetch guard judges it (::ffff:8.8.8.8 is public)
            return None
    else:
        from affiliate_matrix.normalize import registrable_domain

        own = registrable_domain(own_host) if own_host else None
        if host == own_host or (own is not None and registrable_domain(host) == own):
            if connection.base_url.scheme != "https":  # a bearer token in the clear, to anyone on the way
                return (f"http:// sends the credentials of source {source_class.name!r} unencrypted: give an https:// "
                        "address")
            return None
        own_host = own or own_host
    return (f"{host!r} is outside {own_host}, where the credentials of source {source_class.name!r} are sent; "
            "they are never sent elsewhere")


def key_gone(rt, path: str) -> str | None:
    """Why there is no key at the path, when its record says: it was revoked (None: no record says so). Read as
    key_owner_problem reads the record: keys imports this module."""
    from datetime import datetime

    from affiliate_matrix.storage import read_json

    try:
        record, _, _ = read_json(rt.store, key_record_key(path), lambda record: isinstance(record, dict) and isinstance(
            record.get("revoked_at"), str | None), "a key's record")
        revoked = datetime.fromisoformat(record["revoked_at"]) if record and record.get("revoked_at") else None
    except (AmxError, ValueError):  # no record, a damaged one or a path no key can have: the store's words stand
        return None
    return revoked and revoked_said(path, revoked)


def revoked_said(path: str, revoked) -> str:
    """A key revoked at `revoked` (a datetime), as key_gone says it: what to do."""
    return f"the key at {path!r} was revoked at {revoked:%Y-%m-%d %H:%M} UTC; add a new one there (amx keys add)"


def credentials_for(rt, connection, source) -> dict[str, str]:
    """The API credentials from the connection's secret; missing keys are named, values never are. Refused when
    the connection's base_url lies outside the source's own domain (credentials_destination_problem), or its key is
    another source's (key_owner_problem)."""
    if not source.credential_keys:
        return {}
    if problem := credentials_destination_problem(connection, type(source)):
        raise InvalidInput(f"connection {connection.id!r}: base_url: {problem}")
    if problem := key_owner_problem(rt.store, connection):  # stored so before writes were refused for it
        raise InvalidInput(f"connection {connection.id!r}: credentials_path: {problem}")
    if not connection.credentials_path:
        raise InvalidInput(f"connection {connection.id!r}: source {source.name!r} needs credentials "
                           f"({', '.join(source.credential_keys)}) but has no credentials_path (amx keys add, then "
                           "the connection's credentials_path)")
    try:
        credentials = rt.secrets.read(connection.credentials_path).data
    except NotFoundError as exc:  # the store's words ("version 1 not found or destroyed") do not say a key was revoked
        gone = key_gone(rt, connection.credentials_path) or exc
        raise NotFoundError(f"connection {connection.id!r}: {gone}") from None
    missing = [k for k in source.credential_keys if not credentials.get(k)]
    if missing:
        raise InvalidInput(f"connection {connection.id!r}: the secret at {connection.credentials_path!r} "
                           f"lacks {', '.join(missing)}")
    return credentials
