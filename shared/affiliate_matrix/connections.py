"""Connection documents in the object store, written with conditional writes (ETag), and the
credentials a connection reads from its secret."""

from affiliate_matrix.documents import load_document, save_document
from affiliate_matrix.errors import InvalidInput
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


def credentials_for(rt, connection, source) -> dict[str, str]:
    """The API credentials from the connection's secret; missing keys are named, values never are."""
    if not source.credential_keys:
        return {}
    if not connection.credentials_path:
        raise InvalidInput(f"connection {connection.id!r}: source {source.name!r} needs credentials "
                           f"({', '.join(source.credential_keys)}) but has no credentials_path")
    credentials = rt.secrets.read(connection.credentials_path).data
    missing = [k for k in source.credential_keys if not credentials.get(k)]
    if missing:
        raise InvalidInput(f"connection {connection.id!r}: the secret at {connection.credentials_path!r} "
                           f"lacks {', '.join(missing)}")
    return credentials
