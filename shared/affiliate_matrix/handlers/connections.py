"""connections: manage configured sources over HTTP.

GET /connections, POST /connections, GET|PUT|PATCH|DELETE /connections/{id},
POST /connections/{id}/test, POST /connections/{id}/sync (202), GET /syncs/{sync_id}.

Reads need a read token, writes an admin token. Every write is conditional: PUT, PATCH and
DELETE need If-Match with the ETag from a read (428 without it, 412 when it is stale). A
connection holds where its credentials live (a Vault path), never a credential.
"""

import re

from pydantic import ValidationError

from affiliate_matrix.auth import authorize
from affiliate_matrix.connections import connection_key, load_connection, save_connection
from affiliate_matrix.errors import (
    ConflictError, InvalidInput, MethodNotAllowed, NotFoundError, PreconditionFailed, PreconditionRequired,
)
from affiliate_matrix.handlers import body_of, json_response, serve
from affiliate_matrix.models import Connection

READ_ONLY = {"version", "last_sync"}
_ONE = re.compile(r"^/connections/([a-z0-9][a-z0-9-]{0,62})$")
_ACTION = re.compile(r"^/connections/([a-z0-9][a-z0-9-]{0,62})/(test|sync)$")
_SYNC = re.compile(r"^/syncs/(s_[0-9a-f]{32})$")


def handle(rt, request):
    return serve(request, lambda r: route(rt, r), rt.flags)


def route(rt, request):
    path, method = request.path, request.method
    if path == "/healthz":
        return json_response({"status": "ok"})
    if path == "/openapi.json":
        from affiliate_matrix.handlers.openapi import connections_openapi

        return json_response(connections_openapi())
    authorize(rt.secrets, request.headers.get("Authorization"), "read" if method in ("GET", "HEAD") else "admin")
    if path == "/connections":
        if method == "GET":
            return list_connections(rt)
        if method == "POST":
            return create(rt, body_of(request))
        raise MethodNotAllowed(method, ("GET", "POST"))
    if match := _ONE.match(path):
        handlers = {"GET": read, "PUT": replace, "PATCH": patch, "DELETE": delete}
        if method not in handlers:
            raise MethodNotAllowed(method, tuple(handlers))
        return handlers[method](rt, request, match.group(1))
    if match := _ACTION.match(path):
        if method != "POST":
            raise MethodNotAllowed(method, ("POST",))
        return (test if match.group(2) == "test" else sync)(rt, match.group(1))
    if match := _SYNC.match(path):
        if method != "GET":
            raise MethodNotAllowed(method, ("GET",))
        from affiliate_matrix.syncs import load_sync

        try:
            return json_response(load_sync(rt, match.group(1)).model_dump(mode="json"))
        except NotFoundError:
            raise NotFoundError(f"sync {match.group(1)} not found") from None
    raise NotFoundError(f"no route for {path}")


def refuse_read_only(body: dict) -> None:
    if READ_ONLY & set(body):
        raise InvalidInput(f"{', '.join(sorted(READ_ONLY & set(body)))}: set by the server, not by a request")


def validated(data: dict) -> Connection:
    from affiliate_matrix.sources import all_sources

    try:
        connection = Connection.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "body"
        raise InvalidInput(f"{where}: {first['msg']}") from None
    if connection.source not in all_sources():
        raise InvalidInput(f"source: {connection.source!r} is not a source plugin ({', '.join(all_sources())})")
    return connection


def with_etag(connection: Connection, etag: str, status: int = 200, headers: dict | None = None):
    return json_response(connection.model_dump(mode="json"), status, {"ETag": f'"{etag}"', **(headers or {})})


def list_connections(rt):
    items = []
    for key in rt.store.list("connections/"):
        if key.endswith(".json"):
            items.append(Connection.model_validate_json(rt.store.get(key).data).model_dump(mode="json"))
    return json_response({"items": items})


def create(rt, body: dict):
    refuse_read_only(body)
    connection = validated(body)
    try:
        etag = save_connection(rt.store, connection, create=True)
    except ConflictError:
        raise ConflictError(f"connection {connection.id!r} already exists") from None
    return with_etag(connection, etag, 201, {"Location": f"/connections/{connection.id}"})


def read(rt, request, connection_id: str):
    connection, etag = load_connection(rt.store, connection_id)
    return with_etag(connection, etag)


def if_match(request) -> str:
    value = request.headers.get("If-Match")
    if not value:
        raise PreconditionRequired("send If-Match with the ETag of the connection you read")
    return value.strip().removeprefix("W/").strip('"')


def write(rt, connection_id: str, expected: str, current: Connection, data: dict):
    if data.get("id", connection_id) != connection_id:
        raise InvalidInput(f"id: the body says {data.get('id')!r} but the address says {connection_id!r}")
    updated = validated({**data, "id": connection_id, "version": current.version + 1,
                         "last_sync": current.last_sync.model_dump(mode="json") if current.last_sync else None})
    try:
        etag = save_connection(rt.store, updated, if_match=expected)
    except ConflictError:
        raise PreconditionFailed("the connection changed since you read it: read it again and retry") from None
    return with_etag(updated, etag)


def replace(rt, request, connection_id: str):
    expected = if_match(request)
    body = body_of(request)
    refuse_read_only(body)
    current, _ = load_connection(rt.store, connection_id)
    return write(rt, connection_id, expected, current, body)


def patch(rt, request, connection_id: str):
    """JSON Merge Patch (RFC 7396): null removes a field (back to its default)."""
    expected = if_match(request)
    changes = body_of(request)
    refuse_read_only(changes)
    current, _ = load_connection(rt.store, connection_id)
    data = current.model_dump(mode="json", exclude=READ_ONLY)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return write(rt, connection_id, expected, current, data)


def delete(rt, request, connection_id: str):
    expected = if_match(request)
    etag = rt.store.head(connection_key(connection_id))
    if etag is None:
        raise NotFoundError(f"connection {connection_id!r} does not exist")
    if etag != expected:
        raise PreconditionFailed("the connection changed since you read it: read it again and retry")
    rt.store.delete(connection_key(connection_id))
    return "", 204, {}


def test(rt, connection_id: str):
    from affiliate_matrix.connection_test import check

    connection, _ = load_connection(rt.store, connection_id)
    return json_response(check(rt, connection))


def sync(rt, connection_id: str):
    from affiliate_matrix.syncs import request_sync

    connection, _ = load_connection(rt.store, connection_id)
    if not connection.enabled:
        raise ConflictError(f"connection {connection_id!r} is disabled: enable it before syncing")
    requested = request_sync(rt, connection)
    return json_response(requested.model_dump(mode="json"), 202, {"Location": f"/syncs/{requested.id}"})
