"""The rules API's dry-run body and answer and its activations' answer (handlers/triggers.py), apart so
that a start and a first GET /rules do not build them."""

from typing import Any, Literal

from pydantic import ConfigDict, Field

from affiliate_matrix.handlers.routes import Shape
from affiliate_matrix.handlers.shapes import IsoTime


class TrialEvent(Shape):
    """The event a rule is tried against; what is left out is filled in as a dry run's."""
    model_config = ConfigDict(extra="forbid")
    type: str
    source: str | None = None
    id: str | None = None
    subject: str | None = None
    time: IsoTime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    amxrulechain: str | None = Field(None, description="The CloudEvent extension: the rules whose actions led to the "
                                                       "event, their ids joined by commas (a rule in it, or after 8 of "
                                                       "them, is stopped).")


class Verdict(Shape):
    rule_id: str
    holds: bool | None
    error: str | None
    inputs: dict[str, Any]
    triggered_by_this_event: bool
    stopped_by_chain: str | None = Field(None, description="Why the event's rule chain would stop the rule (its "
                                                           "activation's detail, decision loop): nothing dispatched.")
    would_dispatch: dict[str, Any] | None
    message: str | None = Field(None, description="The text the dispatched notify would post or alert record, its "
                                                  "placeholders filled from the inputs.")


class Activation(Shape):
    id: str
    rule_id: str
    trigger: str | None = None
    event_id: str | None = None
    decision: Literal["fired", "cooldown", "error", "loop"]
    action: str | None = None
    action_event_id: str | None = None
    outcome: str
    detail: str | None = None
    inputs: dict[str, Any] | None = None
    at: str


class Activations(Shape):
    items: list[Activation]
