"""connections: manage configured sources over HTTP.

GET /connections, POST /connections, GET|PUT|PATCH|DELETE /connections/{id},
POST /connections/{id}/test, POST /connections/{id}/sync (202), GET /syncs/{sync_id}.
DELETE answers 202: the withdrawal of the connection's claims is queued (a connection.deleted event for the index
function), not done in the request.

Reads need a read token, writes an admin token. Every write is conditional: PUT, PATCH and
DELETE need If-Match with the ETag from a read (428 without it, 412 when it is stale). A
connection holds where its credentials live (a Vault path), never a credential; its generation (which creation of
it this is) is the server's, set at POST and kept by every edit. A rule's resync
action arrives here as a CloudEvent.
"""

from functools import cache

from affiliate_matrix.connections import (Connection, announce_deletion, checked, checked_against_store, connection_key,
                                          created, load_connection, mark_healthy, refuse_disabled, salvaged,
                                          source_kept, sweep_kept)
from affiliate_matrix.errors import NotFoundError, ObjectTooLarge
from affiliate_matrix.handlers.documents import Collection
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.handlers.routes import Api, Route, dispatcher
from affiliate_matrix.observability import get_logger, without_url_credentials

log = get_logger()


def shapes():
    """The answers of a test and a delete and a sync's address (connection_shapes.py), imported when a route that
    uses one is first asked (not for GET /connections)."""
    from affiliate_matrix.handlers import connection_shapes

    return connection_shapes


def next_version(current: Connection, data: dict) -> dict:
    """A replaced connection counts one version more and keeps its source (refused otherwise: source_kept), its
    generation, its last sync, its health (a mark is cleared by a passing test, or a key added again over a revoked
    one, not by an edit) and its fence."""
    source_kept(current, data["source"])
    return {**data, "version": current.version + 1, "generation": current.generation, "fenced": current.fenced,
            "last_sync": current.last_sync.model_dump(mode="json") if current.last_sync else None,
            "healthy": current.healthy, "health_reason": current.health_reason}


def announce_deleted(rt, connection_id: str, connection: Connection | None, etag: str) -> dict:
    """A connection being deleted lists nothing any more: the event asking the index function to withdraw its claims
    is published first (a failure leaves the connection, to delete again); the withdrawal itself, minutes at a large
    index, is not this request's. A damaged one's claims are withdrawn as well where its source and generation can
    still be read (salvaged); one damaged past that names no source: nothing to withdraw."""
    if connection is None:
        connection = damaged_as_stored(rt, connection_id, etag)
    if connection is None:
        return {"withdrawal": "none", "detail": "the stored connection could not be read: it names no source whose "
                                                "claims to withdraw"}
    event = announce_deletion(rt, connection, etag)
    return {"withdrawal": "queued", "event_id": event.id,
            "detail": f"the programs it listed lose its claims once the index function takes event {event.id}; a "
                      "program no source lists any more becomes closed_suspected (GET /changes)"}


def damaged_as_stored(rt, connection_id: str, etag: str) -> Connection | None:
    """A damaged connection as far as its delete needs it (salvaged), when it is still stored with the ETag to delete
    (None otherwise: that delete is refused, or finds none, and announces nothing)."""
    try:
        stored = rt.store.get(connection_key(connection_id))
    except (NotFoundError, ObjectTooLarge):  # gone, or too large to read: it names no source
        return None
    return salvaged(stored.data, connection_id) if stored.etag == etag else None


def shown_to(connection: dict, role: str) -> dict:
    """A base_url stored with a credential in its query (before writes refused one) is shown to a read token as the
    logs show it; an admin token, which writes connections back whole, sees it as stored. So are the last sync's
    failures: each is named without credentials when recorded (sync_requests.outcome, run_error), but one recorded
    before that, or by a run that named less, quoted a signed link or a key's query whole to every read token. And its
    word on what it did not read (`incomplete`), which may quote the request a crawl stopped at: the Connections page
    showed it whole."""
    if role == "admin":
        return connection
    shown = dict(connection)
    if url := connection.get("base_url"):
        shown["base_url"] = without_url_credentials(url)
    if sync := connection.get("last_sync"):
        incomplete = sync.get("incomplete")  # a crawl's stop may quote its request, as an error does
        shown["last_sync"] = {**sync, "errors": [without_url_credentials(error) for error in sync.get("errors", [])],
                              "incomplete": incomplete and without_url_credentials(incomplete)}
    return shown


CONNECTIONS = Collection("connection", "/connections", "connections/", Connection,
                         read_only=frozenset({"version", "generation", "last_sync", "healthy", "health_reason",
                                              "fenced"}),
                         check=checked, check_stored=checked_against_store, carry=next_version, created=created,
                         patch=True, shown=shown_to, deleting=announce_deleted, deleted=lambda: shapes().Deletion,
                         swept=lambda rt, connection_id: sweep_kept(rt.store, connection_id),
                         written_unchanged="or, its fields unchanged, was written again with a new ETag to fence off a "
                                           "delete announced on yours that never came",
                         damaged_remedy="delete it and create it again (amx connections delete {id}, or DELETE "
                                        "/connections/{id} with If-Match: *: its claims are withdrawn where its source "
                                        "can still be read, its programs closed_suspected until a sync lists them "
                                        "again), or restore an earlier version of the object")


def handle(rt, request):
    return http_or_event(rt, request, dispatcher(api))  # events: only the resync action the Triggers route here


def sync_model():
    """A sync's answer model, imported when a route that answers one is first asked (not for GET /connections)."""
    from affiliate_matrix.sync_requests import Sync

    return Sync


@cache
def api() -> Api:
    return Api("Affiliate Matrix connections API", [
        *CONNECTIONS.routes(),
        Route("POST", "/connections/{connection_id}/test", lambda call: test(call.rt, call.params.connection_id),
              lambda: shapes().Checks, lambda: CONNECTIONS.address, role="admin",
              summary="Check the connection; what was checked, in words"),
        Route("POST", "/connections/{connection_id}/sync", lambda call: sync(call.rt, call.params.connection_id),
              sync_model, lambda: CONNECTIONS.address, status=202, role="admin", statuses=(409,), headers=("Location",),
              summary="Queue a sync; follow Location"),
        Route("POST", "/connections/{connection_id}/replay", lambda call: replay(call.rt, call.params.connection_id),
              sync_model, lambda: CONNECTIONS.address, status=202, role="admin", headers=("Location",),
              summary="Queue a replay: its stored pages or API answers parsed again, no network; follow Location"),
        Route("GET", "/syncs/{sync_id}", lambda call: load_sync(call.rt, call.params.sync_id), sync_model,
              lambda: shapes().SyncAddress, summary="A sync's state"),
    ])


def load_sync(rt, sync_id: str):
    from affiliate_matrix.sync_requests import load_sync

    return load_sync(rt, sync_id).model_dump(mode="json")  # none: "there is no sync s_…", as every document's


def test(rt, connection_id: str, *, say_why: bool = False):
    """A passing test makes an unhealthy connection healthy again (scheduled syncs use it from then on), unless it was
    marked again or changed while the test ran (mark_healthy). `say_why`: as check's (amx's, never the API's)."""
    from affiliate_matrix.connection_test import check

    connection, _ = load_connection(rt.store, connection_id)
    answer = check(rt, connection, say_why=say_why)
    if answer["ok"] and not connection.healthy and not mark_healthy(rt.store, connection):
        log.warning("connection_test.mark_kept", connection_id=connection_id,
                    reason="marked again, or its credentials, address or creation changed, while the test ran")
    return answer


def sync(rt, connection_id: str):
    from affiliate_matrix.sync_requests import request_sync

    connection, _ = load_connection(rt.store, connection_id)
    refuse_disabled(connection)
    requested = request_sync(rt, connection, explicit=True)  # a person asked: tried even when unhealthy
    return requested.model_dump(mode="json"), 202, {"Location": f"/syncs/{requested.id}"}


def replay(rt, connection_id: str):
    """As `amx replay`: a disabled connection's stored pages are read too (no provider is asked). An API connection
    with no answers kept is refused here, naming what keeps them, not queued to fail."""
    from affiliate_matrix.sources import ApiSource, get_source
    from affiliate_matrix.sync import StoredAnswers
    from affiliate_matrix.sync_requests import request_sync

    connection, _ = load_connection(rt.store, connection_id)
    if issubclass(get_source(connection.source), ApiSource):
        StoredAnswers(rt.store, connection)
    requested = request_sync(rt, connection, replay=True)
    return requested.model_dump(mode="json"), 202, {"Location": f"/syncs/{requested.id}"}
