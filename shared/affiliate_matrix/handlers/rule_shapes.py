"""The rules API's dry-run body and answer, its activations' answer and a rule's state as a read shows it
(handlers/triggers.py), apart so that a start and a first GET /rules do not build them."""

import re
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from affiliate_matrix.events import MAX_EVENT_ATTRIBUTES
from affiliate_matrix.handlers.program_params import ProgramId, ProgramIds
from affiliate_matrix.handlers.routes import Shape, refuse, whole
from affiliate_matrix.handlers.shapes import IsoTime
from affiliate_matrix.rules.model import RuleId
from affiliate_matrix.rules.state import FAILURES_TO_DISABLE

EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")  # CloudEvents 1.0: an attribute's name


class TrialEvent(Shape):
    """The event a rule is tried against; what is left out is filled in as a dry run's. It may be a CloudEvent in
    structured mode whole (`specversion` 1.0, the Broker's and the tools' form): its extension attributes are then
    taken and, but for amxrulechain, left aside, as the rule never sees them."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {
        "description": "A CloudEvent extension attribute, with specversion only"}})
    type: str
    source: str | None = None
    id: str | None = None
    subject: str | None = None
    time: IsoTime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    amxrulechain: str | None = Field(None, description="The CloudEvent extension: the rules whose actions led to the "
                                                       "event, their ids joined by commas (a rule in it, or after 8 of "
                                                       "them, is stopped).")
    specversion: Literal["1.0"] | None = Field(None, description="Given, the body is a structured CloudEvent.")
    datacontenttype: str | None = Field(None, description="JSON's (application/json, or a type ending +json).")
    dataschema: str | None = None

    @model_validator(mode="after")
    def _cloudevent(self):
        extra = self.model_extra or {}
        if "data_base64" in extra:
            raise refuse("data_base64: a dry run takes the event's data as JSON, in data")
        if extra and self.specversion is None:  # a trial event, not a CloudEvent: a misspelt field is a mistake
            raise refuse(f"unknown field(s): {', '.join(sorted(extra))[:200]} (a CloudEvent's extension attributes "
                         "are taken with its specversion)")
        if len(extra) > MAX_EVENT_ATTRIBUTES:
            raise refuse(f"the event has more than {MAX_EVENT_ATTRIBUTES} extension attributes")
        if (bad := next((name for name in extra if not EXTENSION_NAME.fullmatch(name)), None)) is not None:
            raise refuse(f"{bad[:40]!r} is not a CloudEvent attribute: a name is 1 to 20 lower-case letters and digits")
        media = (self.datacontenttype or "application/json").partition(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise refuse(f"datacontenttype: a dry run takes JSON data, not {media[:80]!r}")
        return self


class Enabling(Shape):
    """How a disabled rule is enabled (POST /rules/{rule_id}/enable, `amx rules enable`)."""
    model_config = ConfigDict(extra="forbid")
    webhook_restored: bool = Field(False, description="The receiver that refused the rule's webhook for good was "
                                                      "mended (a Slack channel unarchived): the refusal's record is "
                                                      "cleared and the same webhook used again (amx rules enable "
                                                      "--webhook-restored).")


class TickTrial(Shape):
    """The tick a schedule rule is tried at (POST /rules/{rule_id}/test/tick, `amx rules test --tick`)."""
    model_config = ConfigDict(extra="forbid")
    tick: str = Field(description="A tick of the rule's schedule, in RFC 3339 and in UTC (2026-12-07T06:00:00Z): the "
                                  "rule is tried as that tick's ping evaluates it, `now` the tick. A time with no zone "
                                  "or another zone, or one that is none of its ticks (the nearest named), is refused.")


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
    webhook_auth: str | None = Field(None, description="The header the dispatched notify would authenticate with and "
                                                       "the key its value is read from (auth_key, auth_header); the "
                                                       "value itself is never shown.")
    program_missing: str | None = Field(None, description="A program.delta event whose program the index does not "
                                                          "hold (or that names none): the condition has no value of "
                                                          "the program, as its delivery would not.")
    program_damaged: str | None = Field(None, description="A program.delta event whose program the index holds "
                                                          "damaged (not of a program's shape), for a rule whose "
                                                          "condition reads the program: named, and the rule not "
                                                          "evaluated (holds and error null), as its delivery would "
                                                          "record it (decision error, outcome not_evaluated).")
    no_value: str | None = Field(None, description="The condition needs, to decide, a value the event's program, "
                                                   "delta, key or budget does not have (a program with no EPC or no "
                                                   "cookie, a new program's old commission): named with whose it is, "
                                                   "and the rule not evaluated (holds and error null), as its delivery "
                                                   "would neither fire nor count a failure.")
    warnings: list[str] = Field(default_factory=list, description="What the rule needs changed though it still runs "
                                "(a webhook_url with user:password@, stored before it was refused: still posted with "
                                "them), and a notify's auth_key a firing could not send now (missing, revoked, or "
                                "added for another origin than the webhook_url's).")


class DamagedState(Shape):
    key: str = Field(description="The stored state's key.")
    error: str = Field(description="What is wrong with it.")


class RuleState(Shape):
    """What the rules' engine keeps of a rule apart from it (rules/state/), as the web's Rules page shows it."""
    last_fired_at: IsoTime | None = Field(description="When the rule last fired (its action dispatched), in UTC; "
                                                      "null: never.")
    failures: int = Field(ge=0, description=f"Its evaluations that raised, in a row: at {FAILURES_TO_DISABLE} the "
                                            "rule is disabled (enabled false, disabled_reason saying why); one that "
                                            "does not raise puts it back to 0, as enabling the rule again does.")
    last_error: str | None = Field(description="What its last failure raised (kept, for the record, once its "
                                               "failures are back to 0).")
    damaged: DamagedState | None = Field(description="A stored state that cannot be read, named (the figures above "
                                                     "are then a fresh state's): the rule starts afresh at its next "
                                                     "evaluation.")


class RuleProgram(ProgramId):
    """A rule and a program of the index to try it on."""
    rule_id: RuleId
    ids_listed_by: ClassVar = ("rule", "GET /rules lists them")  # as RULES.address says a rule no id has


class ActivationsParams(Shape):
    model_config = ConfigDict(extra="forbid")
    rule_id: RuleId | None = None  # one no rule can have is a 400, not an empty list as if it never fired
    # as GET /changes': one no program can have is a 400; with the ids that moved into it (moves.py)
    program_id: ProgramIds | None = Field(None, description=(
        "Only the activations of these programs (their inputs' program_id), with those recorded under an id that "
        "moved into one of them since."))
    limit: whole(1, 500) = 50


class Activation(Shape):
    id: str
    rule_id: str
    program_id: str | None = Field(None, description="The program the activation was of (its inputs' program_id), "
                                                     "as recorded: an id that moved since is its old id.")
    trigger: str | None = None
    event_id: str | None = None
    decision: Literal["fired", "cooldown", "error", "loop"]
    action: str | None = None
    action_event_id: str | None = None
    outcome: str
    detail: str | None = None
    inputs: dict[str, Any] | None = None
    at: IsoTime = Field(description="When the rule was evaluated, in UTC.")


class Activations(Shape):
    items: list[Activation]
    errors: list[dict[str, Any]] | None = Field(None, description=(
        "The activations left out as damaged (not of an activation's shape): each one's id (key) and what is wrong "
        "(error); also counted in X-Damaged-Items."))
