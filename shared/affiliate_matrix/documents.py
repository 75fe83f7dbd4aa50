"""Documents in the object store, the one way: a pydantic model as JSON under a key, read with
its ETag, written with If-Match (replace) or If-None-Match (create) so two writers never silently
overwrite each other. Connections, campaigns, rules and the HTTP document APIs use these."""

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from affiliate_matrix.errors import ConflictError, DamagedData, NotFoundError, ObjectTooLarge
from affiliate_matrix.observability import get_logger, log_damaged

log = get_logger()


DAMAGED_DOCUMENT = "restore an earlier version of the object, or delete it and create it again"


class NoDocument(NotFoundError):
    """A document no key holds (no_document), its `label` and `hint` kept apart for listed_by."""

    def __init__(self, label: str, hint: str = ""):
        self.label, self.hint = label, hint
        super().__init__(f"there is no {label}" + (f" ({hint})" if hint else ""))


def no_document(label: str, hint: str = "") -> NoDocument:
    """A document no key holds, said one way by every read, change and delete of one, the API's and the stores' and
    the commands' (`label`: "rule 'x'"; `hint`: what to do, for a caller who has one; where the ids are listed is
    added by listed_by, in the caller's words)."""
    return NoDocument(label, hint)


@contextmanager
def listed_by(kind: str, where: str):
    """A `kind` of document ("rule") no id given has, said with `where` its ids are listed, in the words of the
    caller's: a command's ("amx rules list"), a route's ("GET /rules lists them"). The one way every "there is no
    rule 'x'" names what lists them; a stores' says none, as it cannot know who asked (one with its own hint keeps
    it)."""
    try:
        yield
    except NoDocument as exc:
        if exc.hint or not exc.label.startswith(f"{kind} "):
            raise
        raise no_document(exc.label, where) from None


def load_document(store, key: str, model: type[BaseModel], label: str,
                  remedy: str = DAMAGED_DOCUMENT) -> tuple[BaseModel, str]:
    """The document and its ETag; NotFoundError naming `label` (e.g. "rule 'x'": no_document) when absent, DamagedData
    naming the key and `remedy` when what is stored there is not such a document (parsed_document), or is larger than
    any document (storage.MAX_DOCUMENT_BYTES: not read)."""
    try:
        stored = store.get(key)
    except NotFoundError:
        raise no_document(label) from None
    except ObjectTooLarge as exc:
        raise DamagedData(f"{label} at {key}", exc.problem, remedy) from None
    return parsed_document(stored.data, key, model, label, remedy), stored.etag


def parsed_document(data: bytes, key: str, model: type[BaseModel], label: str,
                    remedy: str = DAMAGED_DOCUMENT) -> BaseModel:
    """The document `data`, read from `key`, holds; DamagedData naming `label` at the key and `remedy` when it is not
    such a document (truncated, hand-edited, a field of the wrong type). A Document holding fields its model does not
    know, written by a newer build (a rolling update, a rollback), is read: see with_newer_fields. A view of part of a
    document (a model of extra="ignore": budget.run.RunResult) ignores what it does not read at every depth, a newer
    build's fields with the rest. For a read that has the data already (a damaged allocation run's ETag is the one
    its replacement is written If-Match)."""
    ignored = "ignore" if model.model_config.get("extra") == "ignore" else None  # None: each model's own
    try:
        try:
            return model.model_validate_json(data, extra=ignored)
        except ValidationError as exc:
            return with_newer_fields(model, data, exc, key)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = next((e for e in errors if e["type"] != "extra_forbidden"), errors[0])  # the fault, not a newer field
        where = ".".join(map(str, first["loc"])) or "the document"
        raise DamagedData(f"{label} at {key}", f"{where}: {first['msg'].removeprefix('Value error, ')}",
                          remedy) from None


NEWER_FIELDS_LOGGED = 20  # names of a newer build's fields a read logs (a document's may be many, each long)


def with_newer_fields(model: type[BaseModel], data: bytes, refused: ValidationError, key: str) -> BaseModel:
    """The Document `data` holds when all that `refused` it is fields its model does not know, at any depth: a newer
    build's, read aside into its _newer_fields (so a rewrite keeps them) and named in a log line, never their values.
    Otherwise `refused` again: a known field of the wrong type or out of range is no newer build's, it is wrong."""
    from affiliate_matrix.model_types import Document

    unknown = [error["loc"] for error in refused.errors(include_url=False) if error["type"] == "extra_forbidden"]
    if not issubclass(model, Document) or not unknown or len(unknown) < refused.error_count():
        raise refused
    try:
        document = model.current_shape(json.loads(data))  # what pydantic has just parsed: bounded by the object's size
    except (ValueError, RecursionError):
        raise refused from None
    aside: dict[tuple, dict] = {}
    for *path, name in unknown:
        holder = _at(document, path)
        if not isinstance(holder, dict) or name not in holder:  # a location that is no path (a union's member)
            raise refused
        aside.setdefault(tuple(path), {})[name] = holder.pop(name)
    doc = model.model_validate_json(json.dumps(document))  # as JSON: as the store's is read
    shown = doc.model_dump(mode="json")  # an object within it keeps its newer fields while it is left as this
    doc._newer_fields = {path: (fields, _at(shown, list(path)) if path else None) for path, fields in aside.items()}
    names = [".".join(map(str, loc))[:100] for loc in unknown]
    log.info("document.newer_fields", key=key, fields=names[:NEWER_FIELDS_LOGGED], count=len(names),
             note="a newer build's, which this build does not know: read, never shown, kept by a rewrite")
    return doc


def _at(document, path: list):
    """What `document` holds at `path` (keys and indexes), None when it holds nothing there."""
    for step in path:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return None
    return document


def rewritten(doc: BaseModel, read: BaseModel | None) -> BaseModel:
    """`doc`, a document made anew (a PUT's) to replace `read`: with the fields a newer build stored in `read`
    (load_document), to be written back with it. A copy of `read` (model_copy) keeps them already."""
    if getattr(read, "_newer_fields", None):
        doc._newer_fields = read._newer_fields
    return doc


def readable(keys: Iterable[str], load: Callable[[str], object], damaged: list | None = None) -> Iterator:
    """What `load` makes of each key; a damaged one is logged (log_damaged: a bounded number of lines a request) and
    left out (and added to `damaged` as {"key", "error"}), so one bad document does not take its whole list down."""
    for key in keys:
        try:
            yield load(key)
        except DamagedData as exc:
            log_damaged(key, str(exc))
            if damaged is not None:
                damaged.append({"key": key, "error": str(exc)})


READERS = 8  # documents read at once (together, readable_together): under boto3's 10 pooled connections


def together(read: Callable, items: Iterable, readers: int = READERS) -> Iterator:
    """read(item) for each item, `readers` at a time, yielded in the items' order. On S3 a read is a round trip: a list of
    20,000 documents read one after another waited minutes on the network. Each read runs in a copy of the caller's
    context, so what it logs carries the request's fields. A read that raises ends it: the reads not yet begun are
    dropped, not made (the store unavailable: each would wait out its retries), and those under way not waited for."""
    from affiliate_matrix.threads import ContextPool

    pool = ContextPool(max_workers=readers)
    try:
        futures = [pool.submit(read, item) for item in items]
        for future in futures:
            yield future.result()
    finally:  # the reads under way are not waited for (their results are dropped): a failure is answered at once
        pool.shutdown(wait=False, cancel_futures=True)


def readable_together(keys: Iterable[str], load: Callable[[str], object], damaged: list | None = None) -> Iterator:
    """readable(), the documents read several at a time (together), in the keys' order."""
    def attempt(key):
        try:
            return load(key), None
        except DamagedData as exc:
            return None, exc

    keys = list(keys)
    for key, (value, exc) in zip(keys, together(attempt, keys)):
        if exc is None:
            yield value
            continue
        log_damaged(key, str(exc))
        if damaged is not None:
            damaged.append({"key": key, "error": str(exc)})


def save_document(store, key: str, doc: BaseModel, *, if_match: str | None = None, create: bool = False) -> str:
    """Create (create=True: only if absent) or replace (if_match: only if unchanged); returns the new ETag.
    A lost race is a ConflictError."""
    return store.put(key, stored_json(doc), content_type="application/json", if_match=if_match, if_none_match=create)


def stored_json(doc: BaseModel, indent: int | None = 2) -> bytes:
    """A document as stored: as a client is shown it, with the fields a client is never shown (excluded from
    every dump, `Field(exclude=True)`: Connection.fenced) where they are set, and the fields a newer build stored in
    it (Document._newer_fields): those of the document itself always (it is the same document), those of an object
    within it where this build left that object as it read it (one it changed or replaced is not what they
    described). `indent` None: compact, for a document too large to be read by eye (an allocation run)."""
    hidden = {name: getattr(doc, name) for name, field in type(doc).model_fields.items()
              if field.exclude and getattr(doc, name) is not None}
    newer = getattr(doc, "_newer_fields", None)
    if not hidden and not newer:
        return doc.model_dump_json(indent=indent).encode()
    document = doc.model_dump(mode="json")
    for path, (fields, known) in (newer or {}).items():
        holder = _at(document, list(path))
        if isinstance(holder, dict) and (not path or holder == known):
            holder.update({name: value for name, value in fields.items() if name not in holder})
    return json.dumps(document | to_jsonable_python(hidden), indent=indent, separators=None if indent else (",", ":"),
                      ensure_ascii=False).encode()


# How many times a delete is announced over a document written again with its fields unchanged (delete_announced).
ANNOUNCEMENTS = 3


def delete_announced(store, key: str, label: str, document: BaseModel, etag: str,
                     announce: Callable[[BaseModel, str], object]):
    """Delete the document at `key` on `etag`, each attempt announced first (`announce(document, etag)`: a failure
    leaves the document, to delete again); returns the last announcement's answer. A document written again meanwhile
    with its fields unchanged, which only a write that answers no client makes (a connection's fence: a copy of its
    deletion's event, taken at the instant it was published, found the mark of another and took the delete for one
    that never came; pipeline.fence_undone_delete), is announced again on its new ETag and deleted on it: that delete
    is the one asked for. ConflictError when it changed otherwise (or is damaged), NotFoundError when it is gone."""
    for attempt in range(ANNOUNCEMENTS):
        answer = announce(document, etag)
        try:
            store.delete(key, if_match=etag)
            return answer
        except ConflictError:
            if attempt == ANNOUNCEMENTS - 1:
                raise
        try:
            current, etag = load_document(store, key, type(document), label)
        except DamagedData:
            raise ConflictError(f"{label} changed while it was being deleted") from None
        if (current.model_dump(mode="json") != document.model_dump(mode="json")  # as a client sees it
                or getattr(current, "_newer_fields", None) != getattr(document, "_newer_fields", None)):
            raise ConflictError(f"{label} changed while it was being deleted")
        document = current
    raise AssertionError("unreachable")
