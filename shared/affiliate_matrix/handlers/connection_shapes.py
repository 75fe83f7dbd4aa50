"""The connections API's answers to a test and a delete, and a sync's address (handlers/connections.py), apart so
that a start and a first GET /connections do not define them."""

from typing import Literal

from pydantic import Field

from affiliate_matrix.handlers.routes import Shape


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


class SyncAddress(Shape):
    sync_id: str = Field(pattern=r"^s_[0-9a-f]{32}$")
