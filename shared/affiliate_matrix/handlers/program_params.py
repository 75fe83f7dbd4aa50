"""The programs API's parameters other than the search's (program_shapes.py): the export, the change feed, the
merchants, one program, one merchant. Apart so that a start and a first search do not build them; each route
names its model through a function in programs.py and builds it on its first use."""

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, create_model

from affiliate_matrix.deltas import TRACKED
from affiliate_matrix.handlers.program_shapes import (_MERCHANT_KEY, FILTER_FIELDS, MERCHANT_KEY_MAX, Cursor, PageSize,
                                                     Words)
from affiliate_matrix.handlers.routes import Shape, refuse
from affiliate_matrix.handlers.shapes import IsoTime


ExportParams = create_model(
    "ExportParams", __base__=Shape, **FILTER_FIELDS, format=(Literal["csv", "jsonl", "parquet"], "jsonl"),
    excel=(bool, Field(False, description=(
        "CSV for Excel (format=csv only): begins with a byte order mark, without which Excel reads UTF-8 as the "
        "locale's code page, and a cell longer than the 32,767 characters Excel keeps is cut to fit, ending in a "
        "note saying so (Excel would cut it without a word). Such a file does not import those programs back: "
        "jsonl and parquet carry every cell whole."))))


def _day_or_time(value, info):
    """A bare day ("2026-12-01", what a date field sends) as its midnight UTC, or a time with its zone, each as the
    index port's one rule reads a date (search.iso_time); anything else ("yesterday", a time without its zone, a
    number) refused naming the parameter and the forms it takes, in words a person reads on the Changes page too."""
    from affiliate_matrix.search import iso_time

    if not isinstance(value, str):
        return value
    text = f"{value}T00:00:00Z" if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) else value
    try:
        zoned = iso_time(text).tzinfo is not None
    except ValueError:
        zoned = False
    if not zoned:
        raise refuse(f"{info.field_name} must be an ISO 8601 date (2026-12-01, from its midnight UTC) or a time with "
                     f"its zone (2026-12-01T12:00:00Z), not {value[:40]!r}")
    return text


def _program_id(value, info):
    """A program's id as the index gives it (p_ and 16 hex digits); another is refused in words, not as the pattern."""
    if isinstance(value, str) and not re.fullmatch(_PROGRAM_ID, value):
        raise refuse(f"{info.field_name} must be a program's id, p_ and 16 hex digits as amx search and the API list "
                     f"them, not {value[:40]!r}")
    return value


_PROGRAM_ID = r"p_[0-9a-f]{16}"
# the pattern for the OpenAPI document; the validator, run first, refuses in words
ProgramIdText = Annotated[str, Field(pattern=f"^{_PROGRAM_ID}$"), BeforeValidator(_program_id)]


class ChangesParams(Shape):
    model_config = ConfigDict(extra="forbid")
    # a bare day first becomes its midnight UTC (the last Before validator runs first), then IsoTime reads it
    since: Annotated[IsoTime, BeforeValidator(_day_or_time)] | None = Field(None, description=(
        "Only changes recorded at or after this time (recorded_at, not at: a batch indexed late is found by a "
        "reader polling since the newest recorded_at it read), a day from its midnight UTC. At least once: "
        "deduplicate by id."))
    # a program id or a field no delta can name is a mistake (a typo found nothing and looked like no change): a 400
    program_id: list[ProgramIdText] | None = None
    field: list[Literal[TRACKED]] | None = None
    change: list[Literal["created", "updated", "removed"]] | None = None
    limit: PageSize = 20
    cursor: Cursor = None


class MerchantsParams(Shape):
    model_config = ConfigDict(extra="forbid")
    q: Words = None
    limit: PageSize = 20


class ProgramId(Shape):
    program_id: ProgramIdText


def folded_key(key):
    """A merchant key folded as resolution folds the names and domains it builds keys from (resolve.folded_name):
    full-width 'ｈｏｓｔｉｎｇ．ｃｏｍ', 'Hosting.com' and a decomposed 'cafe\u0301-shop' are the keys hosting.com and
    cafe-shop, not a 404."""
    from affiliate_matrix.resolve import folded_name

    return folded_name(key) if isinstance(key, str) else key


class MerchantKey(Shape):
    merchant_key: Annotated[str, BeforeValidator(folded_key)] = Field(pattern=_MERCHANT_KEY,
                                                                      max_length=MERCHANT_KEY_MAX)
