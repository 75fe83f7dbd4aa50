"""The connections API's answers to a test and a delete, and a sync's address (handlers/connections.py), apart so
that a start and a first GET /connections do not define them."""

import re
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field

from affiliate_matrix.handlers.routes import Shape, refuse
from affiliate_matrix.sync_requests import SYNC_ID


class Check(Shape):
    name: str
    ok: bool | None = Field(description="null: not judged (the source asked to be asked later before it could be)")
    detail: str


class Checks(Shape):
    ok: bool
    checks: list[Check]
    retry_after_s: int | None = Field(None, description="When the source asked to be asked later (a 429, a 503): the "
                                                         "seconds its Retry-After says to wait before testing again")


class Deletion(Shape):
    withdrawal: Literal["queued", "none"] = Field(description="queued: the index function withdraws the connection's "
                                                              "claims when the event reaches it")
    event_id: str | None = Field(None, description="The connection.deleted event that asks for it.")
    detail: str


def _sync_id(value, info):
    """A sync's id as a sync's Location gives it; another is refused in words, not as the pattern (kept for the
    document)."""
    if isinstance(value, str) and not re.fullmatch(SYNC_ID, value):
        raise refuse(f"{info.field_name} must be a sync's id, s_ and 32 hex digits as the Location of POST "
                     f"/connections/{{id}}/sync gives it, not {value[:40]!r}")
    return value


class SyncAddress(Shape):
    sync_id: Annotated[str, BeforeValidator(_sync_id)] = Field(pattern=SYNC_ID)
    # a sync's id none has, said with where one comes from (no route lists them), as a collection's address names its
    # listing (handlers/routes.py)
    ids_listed_by: ClassVar = ("sync", "POST /connections/{connection_id}/sync answers one's id, in Location")
