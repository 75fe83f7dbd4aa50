"""The base of every stored document and the field types they share (money, currency, country, UTC time).

Kept apart from the domain models (models.py): a document that needs only these (a campaign, a rule, a
connection) does not pay, on a function's cold start, for building the classes of programs and records.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr

from affiliate_matrix.amounts import plain
from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, DELETE_AND_C1_CONTROLS, INVISIBLE_FORMAT,
                                         LINE_FEED, LINE_SEPARATORS, TAB, characters)
from affiliate_matrix.codes import COUNTRIES, CURRENCIES, typed_country, typed_currency
from affiliate_matrix.errors import InvalidInput

COMMISSION_TEXT_MAX = 2_000  # a record's commission text: a page's cell, or an API's terms said for people
# A record's other longest texts (models.RawRecord): a listing's longer one is cut (crawl.record_of), but a name, which
# past its limit is no name.
TEXT_MAX = {"name": 300, "description": 20_000, "cookie_text": 500, "payout_text": 2_000}


def cut(text: str | None, field: str) -> str | None:
    """A text cut to the characters a record keeps of `field` (TEXT_MAX)."""
    return text[:TEXT_MAX[field]] if text else None


def _currency(code: str) -> str:
    code = typed_currency(code)  # --currency usd is USD
    if code not in CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO-4217 currency code")
    return code


def _network(name: str) -> str:
    """A network's name as taxonomy.network_name writes it: letters of any script (none a capital), their marks and
    digits, and "_", "." or "-" after the first ("cj", "a8", "バリューコマース", "ćj": a name was its ASCII letters
    alone, so "ćj" was "j" and a name in another script none). Not a pattern: one of every script's letters cost each
    start ~20 ms to compile (models are defined at import)."""
    import unicodedata

    if not (0 < len(name) <= 41 and name[0] not in "_.-" and all(
            c in "_.-" or (unicodedata.category(c)[0] in "LMN" and not c.isupper() and not c.istitle()) for c in name)):
        raise ValueError(f"{name[:50]!r} is not a network's name (lower-case letters and digits of any script, as cj)")
    return name


def _country(code: str) -> str:
    code = typed_country(code)  # a body's "de" is DE
    if code not in COUNTRIES:
        raise ValueError(f"{code!r} is not an ISO-3166 alpha-2 country code")
    return code


# The years work may be dated in: an event's time (events.Event), a day the budget is run for (budget.model_types).
# Work is dated a day either side of them, which years at the edge of what datetime holds would overflow, and a day
# outside them is a typo (0001-01-01), never a day to store a run for.
FIRST_YEAR, LAST_YEAR = 1970, 9000


def in_utc(value: datetime) -> datetime:
    """An aware time in UTC; ValueError for one valid in its own zone whose UTC instant datetime cannot hold
    (9999-12-31T23:59:59-14:00 is in the year 10000 in UTC), which astimezone raises as an OverflowError."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()!r} is outside the years 1 to 9999 in UTC") from None


# What a name a person writes (a campaign's, a rule's description) is never written with, and what would show it other
# than it is: controls (NUL, a line break that splits a table: LF, or U+2028 as well), the bidi controls (a name shown
# reversed) and invisible format characters (one name as two). Text sources give is cleaned of the like instead
# (models.clean_text); a person's is refused, naming the character, so what is stored is what they see. Sets, not a
# pattern: nothing to compile, at a start or at a write.
_NOT_IN_A_NAME = characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS, BIDI_CONTROLS, INVISIBLE_FORMAT)
# A text of several lines (a description) keeps its own line feeds and tabs; a carriage return or U+2028 is still
# refused: a line is broken one way, LF.
_NOT_IN_LINES = _NOT_IN_A_NAME - {chr(TAB), chr(LINE_FEED)}


def check_name(text: str, field: str, *, lines: bool = False) -> None:
    """InvalidInput naming `field` and the first character of `text` that would show it other than it is written;
    with `lines`, text of several lines (a description), whose line feeds and tabs are its own."""
    refused = _NOT_IN_LINES if lines else _NOT_IN_A_NAME
    if not refused.isdisjoint(text):
        found = next(character for character in text if character in refused)
        raise InvalidInput(f"{field}: holds U+{ord(found):04X}, a control, bidi or invisible character, "
                           "which would show it other than it is written")


# A cron expression's shape, five fields, which a stored connection's or rule's model checks without the cron library
# (check_cron reads it when it is written); compiled by re when one is first read, not by a start
CRON_FIELDS = r"^(\S+\s+){4}\S+$"
SCHEDULE_MAX = 500  # every minute listed one by one (0,1,…,59: 170 characters), every hour, day and month too


def check_cron(schedule: str, field: str) -> None:
    """InvalidInput naming `field` and what of a written cron expression the cron library would not read as written:
    a control character (check_name), a character outside ASCII, or a field out of range. Cron splits fields at any
    whitespace and upper-cases its names, so a full-width space (U+3000) or a no-break space was taken as a space,
    and 'ſun' as SUN: a cron expression is ASCII. One longer than SCHEDULE_MAX is refused before it is read: every tick
    reads every schedule, an error would echo it whole, and the library raised ValueError (a 500) on a number of over
    4,300 digits."""
    if len(schedule) > SCHEDULE_MAX:
        raise InvalidInput(f"{field}: {len(schedule):,} characters, more than the {SCHEDULE_MAX} any cron expression "
                           "needs")
    check_name(schedule, field)  # cron takes a line break or a tab between fields: two lines shown
    if not schedule.isascii():
        import unicodedata

        at, found = next((at, c) for at, c in enumerate(schedule, 1) if not c.isascii())
        raise InvalidInput(f"{field}: holds U+{ord(found):04X} ({unicodedata.name(found, 'unnamed')}) at character "
                           f"{at}: a cron expression is ASCII, its fields apart by spaces, its names (MON, JAN) in "
                           "ASCII letters")
    if problem := cron_problem(schedule):
        raise InvalidInput(f"{field}: {schedule!r}: {problem}")


# A five-field cron expression's fields, each with what it takes, as the product says it (cron_problem)
CRON_FIELD_VALUES = (("minute", "a minute is 0 to 59"), ("hour", "an hour is 0 to 23"),
                     ("day-of-month", "a day-of-month is 1 to 31, or L (the month's last day)"),
                     ("month", "a month is 1 to 12, or JAN to DEC"),
                     ("day-of-week", "a day-of-week is 0 to 7 (0 and 7 are Sunday), or SUN to SAT"))


def cron_problem(schedule: str) -> str | None:
    """What of a five-field cron expression the cron library would not read, in the product's words, naming the field,
    the part of it that is wrong and what the field takes ("its hour field '6,25' is wrong at '25': an hour is 0 to
    23"), or None when it reads. The library says only "Bad hour": each field, and each of a list's parts, is tried
    alone, the other fields every value (*)."""
    from datetime import UTC, datetime

    from cronsim import CronSim, CronSimError

    def reads(fields: list[str]) -> bool:
        try:
            CronSim(" ".join(fields), datetime(2000, 1, 1, tzinfo=UTC))  # a fixed start: no matter of when
            return True
        except (CronSimError, ValueError):  # ValueError: int() of a number of over 4,300 digits
            return False

    fields = schedule.split()
    if len(fields) != len(CRON_FIELD_VALUES):
        return (f"{len(fields)} fields where a cron expression has {len(CRON_FIELD_VALUES)} ("
                f"{' '.join(name for name, _ in CRON_FIELD_VALUES)})")
    if reads(fields):
        return None

    def alone(at: int, part: str) -> bool:
        return reads(["*"] * at + [part] + ["*"] * (len(fields) - at - 1))

    from affiliate_matrix.wording import quoted as shown  # a stored schedule may be of any length (a hand edit)

    for at, ((name, values), part) in enumerate(zip(CRON_FIELD_VALUES, fields, strict=True)):
        if alone(at, part):
            continue
        term = next((term for term in part.split(",") if not alone(at, term)), part)
        where = f"its {name} field {shown(part)} is wrong" + (f" at {shown(term)}" if term != part else "")
        base, slash, step = term.partition("/")
        first, dash, last = base.partition("-")
        if slash and not (step.isascii() and step.isdigit() and step.strip("0")):  # no int(): 4,300 digits raise
            return f"{where}: a step (/n) is 1 or more"
        if dash and alone(at, first) and alone(at, last):
            return f"{where}: a range runs from low to high ({shown(last)[1:-1]}-{shown(first)[1:-1]})"
        return f"{where}: {values}"
    # every field reads alone: the days of the month are none of its months have (31 in February)
    return f"its day-of-month field {shown(fields[2])} names a day its month field {shown(fields[3])} never has"


Currency = Annotated[str, AfterValidator(_currency)]
NetworkName = Annotated[str, AfterValidator(_network)]
Country = Annotated[str, AfterValidator(_country)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(in_utc)]
NonNegative = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6), AfterValidator(plain)]


class Model(BaseModel):
    # Each model's validator is built on its first use, not at import: a function's start pays only for those it uses.
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True, defer_build=True)


class Document(Model):
    """A document stored under a key of its own (documents.load_document, save_document): a connection, a rule, a
    campaign, a sync's record. One written by a newer build may hold fields this build does not know: they are read
    aside, not refused (a rolling update, a rollback), and kept here so that this build's rewrite writes them back
    (documents.stored_json). Never shown, never validated: they are the newer build's. A private attribute costs every
    instance a call, so only documents have it, never the records read by the thousand."""

    # {where (a path of keys and indexes; () the document itself): ({name: value}, what this build knows of the
    # object holding them, as dumped when read)}. None: none.
    _newer_fields: dict | None = PrivateAttr(None)

    @classmethod
    def current_shape(cls, document):
        """`document`, parsed as stored, in the shape this model reads: as it is, unless the model reads an older shape
        too by reshaping it first (a model_validator(mode="before"): budget.run.AllocationRun's one_part), so that a
        newer build's fields are looked for where pydantic's errors place them (documents.with_newer_fields)."""
        return document
