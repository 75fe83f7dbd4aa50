"""What the APIs' models are made of: the base of every parameter, body and answer model, and how a field's
annotation says it takes a list. Apart from handlers/routes.py so that the OpenAPI writer (handlers/openapi.py),
which routes imports on the first GET /openapi.json, does not import routes back."""

import re
import types
import typing
from datetime import datetime

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict


class Shape(BaseModel):
    """The base of the APIs' parameter, body and answer models: each is built when first used, not when
    its module is imported (a function's cold start)."""
    model_config = ConfigDict(defer_build=True)


_NUMBER = r"\s*[+-]?\d+(?:\.\d*)?\s*"  # compiled by re on the first time read: not by every start
_FORM = "an ISO 8601 time such as 2026-06-01T12:00:00Z"


def _iso_time(value):
    """A time given as ISO 8601 text, as a datetime, read by the indexes' rule (search.iso_time): text the index port
    would refuse (a space before the time, a week or basic-form date) is refused here, not taken and normalised. A
    number is refused: pydantic read one as seconds since 1970 (past 2e10, milliseconds). The text is read here, since
    past a validator a strict body's value is no longer JSON text, which a strict datetime takes, but a Python str,
    which it does not."""
    from affiliate_matrix.search import iso_time

    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(_NUMBER, value)):
        raise ValueError(f"must be {_FORM}, not a number")
    if isinstance(value, str):
        try:
            when = iso_time(value)
        except ValueError:
            raise ValueError(f"must be {_FORM}: dashes in the date, a T before the time, a day and time "
                             "that exist") from None
        if when.tzinfo is None:  # (pydantic's own words for it: "Input should have timezone info")
            raise ValueError(f"must be {_FORM}, with its zone (Z or +01:00)")
        return when
    return value


def _in_utc(value: datetime) -> datetime:
    from affiliate_matrix.model_types import in_utc  # (the stored documents' types: not for a start)

    return in_utc(value)


# A time with its zone, given as ISO 8601 text, that has a UTC instant datetime holds.
IsoTime = typing.Annotated[AwareDatetime, BeforeValidator(_iso_time), AfterValidator(_in_utc)]


def is_list(annotation) -> bool:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(is_list(a) for a in args)
    if typing.get_origin(annotation) is typing.Annotated:
        return is_list(args[0])
    return typing.get_origin(annotation) is list
