"""Documents in the object store, the one way: a pydantic model as JSON under a key, read with
its ETag, written with If-Match (replace) or If-None-Match (create) so two writers never silently
overwrite each other. Connections, campaigns, rules and the HTTP document APIs use these."""

from collections.abc import Callable, Iterable, Iterator

from pydantic import BaseModel, ValidationError

from affiliate_matrix.errors import DamagedData, NotFoundError
from affiliate_matrix.observability import get_logger

log = get_logger()


def load_document(store, key: str, model: type[BaseModel], label: str) -> tuple[BaseModel, str]:
    """The document and its ETag; NotFoundError naming `label` (e.g. "rule 'x'") when absent, DamagedData
    naming the key when what is stored there is not such a document (truncated, hand-edited)."""
    try:
        stored = store.get(key)
    except NotFoundError:
        raise NotFoundError(f"{label} does not exist") from None
    try:
        return model.model_validate_json(stored.data), stored.etag
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "the document"
        raise DamagedData(f"{label} at {key}", f"{where}: {first['msg']}",
                          "restore an earlier version of the object, or delete it and create it again") from None


def readable(keys: Iterable[str], load: Callable[[str], object], damaged: list | None = None) -> Iterator:
    """What `load` makes of each key; a damaged one is logged and left out (and added to `damaged` as
    {"key", "error"}), so one bad document does not take its whole list down."""
    for key in keys:
        try:
            yield load(key)
        except DamagedData as exc:
            log.error("document.damaged", key=key, error=str(exc))
            if damaged is not None:
                damaged.append({"key": key, "error": str(exc)})


def save_document(store, key: str, doc: BaseModel, *, if_match: str | None = None, create: bool = False) -> str:
    """Create (create=True: only if absent) or replace (if_match: only if unchanged); returns the new ETag.
    A lost race is a ConflictError."""
    return store.put(key, doc.model_dump_json(indent=2).encode(), content_type="application/json",
                     if_match=if_match, if_none_match=create)
