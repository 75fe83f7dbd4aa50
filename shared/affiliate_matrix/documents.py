"""Documents in the object store, the one way: a pydantic model as JSON under a key, read with
its ETag, written with If-Match (replace) or If-None-Match (create) so two writers never silently
overwrite each other. Connections, campaigns, rules and the HTTP document APIs use these."""

from pydantic import BaseModel

from affiliate_matrix.errors import NotFoundError


def load_document(store, key: str, model: type[BaseModel], label: str) -> tuple[BaseModel, str]:
    """The document and its ETag; NotFoundError naming `label` (e.g. "rule 'x'") when absent."""
    try:
        stored = store.get(key)
    except NotFoundError:
        raise NotFoundError(f"{label} does not exist") from None
    return model.model_validate_json(stored.data), stored.etag


def save_document(store, key: str, doc: BaseModel, *, if_match: str | None = None, create: bool = False) -> str:
    """Create (create=True: only if absent) or replace (if_match: only if unchanged); returns the new ETag.
    A lost race is a ConflictError."""
    return store.put(key, doc.model_dump_json(indent=2).encode(), content_type="application/json",
                     if_match=if_match, if_none_match=create)
