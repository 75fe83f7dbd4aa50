"""Object store port: raw pages, snapshots and configuration documents.

Adapters: `LocalObjectStore` (a directory) and `S3ObjectStore` (boto3). Both give the same
guarantees: conditional writes and deletes on ETag (If-Match) or absence (If-None-Match), each
decided atomically by the store (never a read, then a write), keys checked against traversal,
content-addressed puts that never write the same bytes twice, and bounded reads: `get` refuses an object larger than
its kind may be (MAX_*_BYTES below) before reading its body, as damaged (ObjectTooLarge).
"""

from abc import ABC, abstractmethod
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from affiliate_matrix.errors import ConflictError, NotFoundError, ObjectTooLarge

MiB = 1024 * 1024
# The most bytes a read of each kind of object takes (get's max_bytes): one larger is refused before its body is read
# (ObjectTooLarge, a DamagedData), so that no object, whoever wrote it, costs a function (512 MiB in Knative) more
# memory than its kind may. Each is past the largest the product writes there (a batch's aside: MAX_BATCH_BYTES). Two
# kinds are bounded where they are written: a raw copy of a page or an API answer by the cap it was fetched under
# (polite.MAX_BYTES, or its source's max_response_bytes: sync.answer_cap), and an index backup's parts and manifest by
# index_backup.MAX_PART, MAX_MANIFEST.
MAX_DOCUMENT_BYTES = 16 * MiB  # a JSON document (a connection, rule, campaign, claim, note...), what get reads unless
# told: the largest are dead letters (handlers.dead_letters.MAX_LETTER_BYTES, 8 MiB: an event of 4 MiB escaped)
MAX_HTTP_CACHE_BYTES = 64 * MiB  # http-cache/<connection>.json: 5,000 URLs' validators and 20,000 listing links
# (fetch.MAX_VALIDATORS, crawl.MAX_LINKS_KEPT), each URL up to 2,083 characters (sources.MAX_URL)
MAX_API_ANSWERS_BYTES = 32 * MiB  # api-answers/<connection>.json: about 500 bytes an answer, some 60,000 requests
# A run's batch of records (JSON Lines), and the deltas its indexing keeps to resend. Nothing bounds a batch where
# it is written (about 4 KB a record: 64 MiB would be 16,000 records, fewer than a marketplace feed lists), so this is
# only a ceiling against an object no run writes; a batch near it is read whole by the index function all the same.
MAX_BATCH_BYTES = 256 * MiB

# A writer's clock and the store's (S3's LastModified, written_at) may differ by this much: a time a writer put in an
# object is taken for one ahead of the store past it (a retention tick, an API answer's fetched_at)
CLOCK_LEEWAY = timedelta(minutes=5)
MAX_CONTENT_TYPE = 200  # characters of a stored body's Content-Type: a media type and its parameters fit easily
# compiled by re on first use
_KEY = r"^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$"  # fullmatch: "$" alone also takes a final "\n"


def storable_content_type(content_type: str | None) -> str | None:
    """A Content-Type a site or an API sent, when a header can carry it as stored (S3 sends it as one) and it is no
    longer than MAX_CONTENT_TYPE; else None. HTTP allows bytes past ASCII in a header, read as Latin-1."""
    if content_type and content_type.isascii() and content_type.isprintable() and len(content_type) <= MAX_CONTENT_TYPE:
        return content_type
    return None


class StoredObject(NamedTuple):  # a record, immutable; a NamedTuple costs an import ~0.5 ms less than a dataclass
    key: str
    data: bytes
    etag: str
    content_type: str


def check_key(key: str) -> str:
    """A key both adapters take alike. A part starting with "." is refused: S3 allows one, but our keys never
    need it, and in the local directory ".", ".." and ".x" are other files (a parent, the adapter's own
    .locks and .<name>.meta files)."""
    if len(key) > 900 or not re.fullmatch(_KEY, key):
        raise ValueError(f"object key {key!r} is not a relative path of [A-Za-z0-9_.=-] segments")
    dotted = next((part for part in key.split("/") if part.startswith(".")), None)
    if dotted is not None:
        raise ValueError(f"object key {key!r}: its part {dotted!r} starts with '.', which no key may")
    return key


# Where a conditional delete (delete with if_match) may happen: the documents' collections (connections, rules,
# campaigns), the campaigns' days (swept after their campaign: budget.campaigns.sweep_days), a connection's API answers
# and HTTP cache (swept after it: connections.sweep_kept) and the events' records (a claim let go of:
# handlers/events.py). On S3 each leaves a tombstone at its key (storage/s3.py), and the tombstone
# sweep lists these prefixes only, not the whole bucket (raw pages and batches are most of it); so both adapters
# refuse a conditional delete anywhere else, and a new kind of document deleted conditionally is added here.
# events/claims/ holds the tombstones of the claims kept apart from the done markers before, for the sweep to remove.
TOMBSTONED = ("api-answers/", "budget/campaigns/", "budget/metrics/", "connections/", "events/claims/", "events/done/",
              "http-cache/", "rules/")


def check_conditional_delete(key: str) -> str:
    """The key, when a conditional delete may be made there (TOMBSTONED); ValueError otherwise."""
    if not key.startswith(TOMBSTONED):
        raise ValueError(f"object key {key!r}: a conditional delete is for keys under {', '.join(TOMBSTONED)} only "
                         "(the tombstone sweep lists those: storage.TOMBSTONED)")
    return key


def etag_of(data: bytes) -> str:
    """The ETag S3 gives a single-part put (MD5 hex); the local adapter uses the same."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def read_json(store: "ObjectStore", key: str, valid: Callable[[Any], bool], shape: str,
              max_bytes: int = MAX_DOCUMENT_BYTES) -> tuple[Any, str | None, str | None]:
    """A JSON document, its ETag, and what is wrong with it, for its caller to decide what a damaged one means:
    (None, None, None) when there is none; (value, etag, None) when `valid(value)`; else (None, etag, problem),
    the problem being the parse error, that it is larger than `max_bytes` (not read), or, for JSON of another shape,
    `shape` (what the document should be)."""
    try:
        stored = store.get(key, max_bytes=max_bytes)
    except NotFoundError:
        return None, None, None
    except ObjectTooLarge as exc:
        return None, exc.etag, exc.problem
    try:
        value = json.loads(stored.data)
    except ValueError as exc:
        return None, stored.etag, str(exc)
    except RecursionError:  # the parser's depth is Python's recursion limit: damaged (or hostile), as any other
        return None, stored.etag, "JSON nested too deeply to read"
    return (value, stored.etag, None) if valid(value) else (None, stored.etag, shape)


class ObjectStore(ABC):
    """The port. Adapters implement put/get/head/list/delete; the rest is shared."""

    @abstractmethod
    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
            if_match: str | None = None, if_none_match: bool = False) -> str:
        """Write and return the new ETag. ConflictError when a condition fails."""
        ...

    @abstractmethod
    def get(self, key: str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> StoredObject:
        """NotFoundError when absent; ObjectTooLarge, its body not read (no more than max_bytes and one of it, whatever
        size the store said), when it holds more than `max_bytes`: a bound for what is read (MAX_*_BYTES)."""
        ...

    @abstractmethod
    def head(self, key: str) -> str | None:
        """The ETag, or None when absent."""
        ...

    @abstractmethod
    def written_at(self, key: str) -> datetime | None:
        """When the store recorded the object's last write (S3's LastModified: the store's clock, not ours), or None
        when absent."""
        ...

    def time_now(self, key: str, record: dict) -> datetime | None:
        """The store's own time now: when it says it wrote `record`, written at `key` here (S3's LastModified). What a
        time a writer gave is judged by, past CLOCK_LEEWAY (a retention tick's, an import's), never this machine's
        clock; None where the store does not say."""
        self.put(key, json.dumps(record).encode(), content_type="application/json")
        return self.written_at(key)

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under prefix, in lexicographic order."""
        ...

    def listed(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        """Keys under prefix with their ETags, in lexicographic order: what a cache of documents checks itself against
        (one request on S3, whose listing holds the ETags)."""
        for key in self.list(prefix):
            if (etag := self.head(key)) is not None:  # None: deleted since it was listed
                yield key, etag

    def stored(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` hold an object: each asked for (head), several at a time (documents.together), so what it
        costs is bounded by how many keys are asked, not by how many objects are stored."""
        from affiliate_matrix.documents import together

        keys = sorted(set(keys))
        return {key for key, etag in zip(keys, together(self.head, keys)) if etag is not None}

    @abstractmethod
    def delete(self, key: str, *, if_match: str | None = None) -> None:
        """Without if_match, idempotent: deleting an absent key is fine. With if_match, only while the
        ETag is still if_match, decided atomically: ConflictError when it changed, NotFoundError when
        the key is absent. Of concurrent conditional writes and deletes with one ETag, one wins. A conditional
        delete is for keys under TOMBSTONED only (ValueError elsewhere)."""
        ...

    def check(self) -> None:
        """Raise ConfigError naming the setting when the store is unusable."""

    def remove_tombstones(self, before: datetime) -> int:
        """Remove what conditional deletes left behind that the store dated before `before`; how many. Only the S3
        adapter leaves any (a tombstone per conditional delete, under TOMBSTONED); the local one deletes for good."""
        return 0

    @abstractmethod
    def remove_before(self, prefix: str, before: datetime) -> int:
        """Delete the objects under `prefix` that the store dated (last written) before `before`; how many. For
        documents kept for a while only (dead letters); one written again meanwhile is dated by that write."""

    def put_content_addressed(self, prefix: str, data: bytes, *, suffix: str = "",
                              content_type: str = "application/octet-stream") -> str:
        """Store bytes under their SHA-256 and return the key; the same bytes twice are written once. `content_type`
        is what a site or an API sent (raw pages and answers): one no header can carry (past ASCII, a control
        character, longer than MAX_CONTENT_TYPE), which S3 would refuse, is stored as application/octet-stream."""
        digest = hashlib.sha256(data).hexdigest()
        key = check_key(f"{prefix}/{digest[:2]}/{digest}{suffix}")
        content_type = storable_content_type(content_type) or "application/octet-stream"
        if self.head(key) is None:
            try:
                self.put(key, data, content_type=content_type, if_none_match=True)
            except ConflictError:
                pass  # a concurrent writer stored the very same bytes
        return key

    def get_content_addressed(self, prefix: str, key, *, max_bytes: int) -> bytes:
        """The bytes put_content_addressed(prefix, ...) stored under `key`: ValueError for a key not under prefix (a
        record edited to name another object of the store) or for bytes other than those its key names (written over
        since, by whoever may write there: a replay would read them as what the site or API sent); ObjectTooLarge past
        `max_bytes` (the cap the bytes were fetched under)."""
        if not isinstance(key, str) or not key.startswith(f"{prefix}/"):
            raise ValueError(f"{str(key)[:100]!r} is not a key under {prefix}/")
        data = self.get(key, max_bytes=max_bytes).data
        digest = hashlib.sha256(data).hexdigest()
        if not key.startswith(f"{prefix}/{digest[:2]}/{digest}"):
            raise ValueError(f"{key[:100]} holds other bytes than were stored there (written over since)")
        return data
