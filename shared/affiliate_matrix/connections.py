"""Connection documents in the object store, written with conditional writes (ETag)."""

from affiliate_matrix.errors import NotFoundError
from affiliate_matrix.models import Connection
from affiliate_matrix.storage import ObjectStore


def connection_key(connection_id: str) -> str:
    return f"connections/{connection_id}.json"


def load_connection(store: ObjectStore, connection_id: str) -> tuple[Connection, str]:
    try:
        stored = store.get(connection_key(connection_id))
    except NotFoundError:
        raise NotFoundError(f"connection {connection_id!r} does not exist") from None
    return Connection.model_validate_json(stored.data), stored.etag


def save_connection(store: ObjectStore, connection: Connection, *, if_match: str | None = None,
                    create: bool = False) -> str:
    """Create (create=True: only if absent) or replace (if_match: only if unchanged). Returns the new ETag."""
    return store.put(connection_key(connection.id), connection.model_dump_json(indent=2).encode(),
                     content_type="application/json", if_match=if_match, if_none_match=create)
