"""Connection documents in the object store, written with conditional writes (ETag)."""

from affiliate_matrix.documents import load_document, save_document
from affiliate_matrix.models import Connection
from affiliate_matrix.storage import ObjectStore


def connection_key(connection_id: str) -> str:
    return f"connections/{connection_id}.json"


def load_connection(store: ObjectStore, connection_id: str) -> tuple[Connection, str]:
    return load_document(store, connection_key(connection_id), Connection, f"connection {connection_id!r}")


def save_connection(store: ObjectStore, connection: Connection, *, if_match: str | None = None,
                    create: bool = False) -> str:
    """Create (create=True: only if absent) or replace (if_match: only if unchanged). Returns the new ETag."""
    return save_document(store, connection_key(connection.id), connection, if_match=if_match, create=create)
