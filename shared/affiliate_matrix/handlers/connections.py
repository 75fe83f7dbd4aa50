"""connections: manage configured sources over HTTP.

GET /connections, POST /connections, GET|PUT|PATCH|DELETE /connections/{id},
POST /connections/{id}/test, POST /connections/{id}/sync (202), GET /syncs/{sync_id}.

Reads need a read token, writes an admin token. Every write is conditional: PUT, PATCH and
DELETE need If-Match with the ETag from a read (428 without it, 412 when it is stale). A
connection holds where its credentials live (a Vault path), never a credential. A rule's resync
action arrives here as a CloudEvent.
"""

import re

from affiliate_matrix.auth import authorize
from affiliate_matrix.connections import load_connection
from affiliate_matrix.errors import ConflictError, InvalidInput, MethodNotAllowed, NotFoundError
from affiliate_matrix.handlers import json_response
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.handlers.documents import Collection, route as documents_route
from affiliate_matrix.models import Connection

_ACTION = re.compile(r"^/connections/([a-z0-9][a-z0-9-]{0,62})/(test|sync)$")
_SYNC = re.compile(r"^/syncs/(s_[0-9a-f]{32})$")


def known_source(connection: Connection) -> None:
    from affiliate_matrix.sources import all_sources

    if connection.source not in all_sources():
        raise InvalidInput(f"source: {connection.source!r} is not a source plugin ({', '.join(all_sources())})")


def next_version(current: Connection, data: dict) -> dict:
    """A replaced connection counts one version more and keeps its last sync."""
    return {**data, "version": current.version + 1,
            "last_sync": current.last_sync.model_dump(mode="json") if current.last_sync else None}


CONNECTIONS = Collection("connection", "/connections", "connections/", Connection,
                         read_only=frozenset({"version", "last_sync"}), check=known_source, carry=next_version,
                         patch=True)


def handle(rt, request):
    return http_or_event(rt, request, route)  # events: only the resync action the Triggers route here


def route(rt, request):
    path, method = request.path, request.method
    if path == "/openapi.json":
        from affiliate_matrix.handlers.openapi import connections_openapi

        return json_response(connections_openapi())
    authorize(rt, request.headers.get("Authorization"), "read" if method in ("GET", "HEAD") else "admin")
    if match := _ACTION.match(path):
        if method != "POST":
            raise MethodNotAllowed(method, ("POST",))
        return (test if match.group(2) == "test" else sync)(rt, match.group(1))
    if match := _SYNC.match(path):
        if method != "GET":
            raise MethodNotAllowed(method, ("GET",))
        from affiliate_matrix.sync_requests import load_sync

        try:
            return json_response(load_sync(rt, match.group(1)).model_dump(mode="json"))
        except NotFoundError:
            raise NotFoundError(f"sync {match.group(1)} not found") from None
    answer = documents_route(rt, request, CONNECTIONS)
    if answer is None:
        raise NotFoundError(f"no route for {path}")
    return answer


def test(rt, connection_id: str):
    from affiliate_matrix.connection_test import check

    connection, _ = load_connection(rt.store, connection_id)
    return json_response(check(rt, connection))


def sync(rt, connection_id: str):
    from affiliate_matrix.sync_requests import request_sync

    connection, _ = load_connection(rt.store, connection_id)
    if not connection.enabled:
        raise ConflictError(f"connection {connection_id!r} is disabled: enable it before syncing")
    requested = request_sync(rt, connection)
    return json_response(requested.model_dump(mode="json"), 202, {"Location": f"/syncs/{requested.id}"})
