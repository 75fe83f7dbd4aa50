"""The field types a campaign document and the budget contract share: channel, campaign id, money in
whole cents, a day of performance. Apart from the contract's models (models.py) so reading campaigns,
the budget API's first request, does not build those."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from typing_extensions import NotRequired, TypedDict

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from affiliate_matrix.budget import CAMPAIGN_ID, CAMPAIGN_ID_WORDS

Channel = Literal["search", "social", "email", "content", "display", "video", "affiliate", "other"]
def not_a_campaign_id(value: str) -> str | None:
    """Why `value` is not a campaign id, in words (CAMPAIGN_ID); None when it is one."""
    return None if re.fullmatch(CAMPAIGN_ID, value) else f"{value[:80]!r} is not a campaign id ({CAMPAIGN_ID_WORDS})"


def _campaign_id(value):
    """Said in words before the pattern (kept for the schema) would be quoted; in the annotation, so that the API's
    body models, which copy the fields and not a model's validators, say it too."""
    if isinstance(value, str) and (why := not_a_campaign_id(value)):
        raise ValueError(why)
    return value


# the pattern before the validator, so the OpenAPI document shows it (after one, pydantic's schema left it out)
CampaignId = Annotated[str, Field(pattern=rf"^{CAMPAIGN_ID}$"), BeforeValidator(_campaign_id)]


def _cents(value: Decimal) -> Decimal:
    """Whole cents, in their plain form: a zero is never negative ('-0' passes ge=0 and was stored, shown and echoed
    as written), and an exponent past the cents or above the units is written out ('0E-10' is 0.00, '1E+3' 1000)."""
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("must be in whole cents (at most 2 decimal places)")
    exponent = value.as_tuple().exponent
    if exponent < -2 or exponent > 0:
        value = value.quantize(Decimal("0.01") if exponent < -2 else Decimal(1))
    return value.copy_abs() if value.is_zero() else value


def whole_units(currency: str, amounts: dict[str, Decimal | None]) -> None:
    """ValueError naming the first amount (by its field's path) with cents in a currency that has none."""
    from affiliate_matrix.codes import WHOLE_CURRENCIES

    if currency in WHOLE_CURRENCIES:
        for where, amount in amounts.items():
            if amount is not None and amount != amount.to_integral_value():
                raise ValueError(f"{where}: {currency} has no minor unit: {amount} is not a whole amount")


def in_units(currency: str, amounts: dict[str, Decimal | None]) -> list[Decimal | None]:
    """`amounts` (by their fields' paths) written to `currency`'s smallest unit, as money_text writes them and as the
    budget stores and answers them: '250.00' (typed `250`, `250.0` or `"2.5E+2"`), '1000' in JPY. ValueError naming
    the first with cents in a currency that has none (whole_units)."""
    whole_units(currency, amounts)
    unit = Decimal(1) if cents_per_unit(currency) == 100 else Decimal("0.01")
    return [None if amount is None else amount.quantize(unit) for amount in amounts.values()]


def cents_per_unit(currency: str) -> int:
    """The cents in the smallest amount of `currency` an allocation hands out: 100 where it has no cents."""
    from affiliate_matrix.codes import WHOLE_CURRENCIES

    return 100 if currency in WHOLE_CURRENCIES else 1


def figure_text(value, currency: str) -> str:
    """An amount's figure as its currency writes it, wherever the budget shows one: with cents, or whole where it has
    none (JPY)."""
    return f"{value:,.{0 if cents_per_unit(currency) == 100 else 2}f}"


def money_text(value, currency: str) -> str:
    """A budget's amount with its currency after it, to the currency's smallest unit: '1,234.56 USD', '1,235 JPY'
    (wording.amount_text writes an index's amounts as their sources gave them)."""
    return f"{figure_text(value, currency)} {currency}"


def iso_day(text: object) -> bool:
    """Whether `text` is a day written as the days are stored: YYYY-MM-DD exactly. The date parsers take more (pydantic
    a time of midnight, `2026-01-05T00:00`, or digits as a Unix time, `1767571200`; fromisoformat `20260105`), which an
    import would store as some day, maybe not the one meant."""
    try:
        return isinstance(text, str) and date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


NOT_A_DAY = "is not a date (YYYY-MM-DD, e.g. 2026-01-05)"


def not_a_run_day(day: date) -> str | None:
    """Why a run may not be asked for `day`, in words: outside the years the daily tick's event may be dated in (a run
    of 0001-01-01 was stored); None when it may. A fixed range: no clock decides it."""
    from affiliate_matrix.model_types import FIRST_YEAR, LAST_YEAR

    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return f"{day} is not between the years {FIRST_YEAR} and {LAST_YEAR}"


# A number as the README writes the budget's (250, 12.50, .5, 2.5E+2): ASCII digits, a point, a sign, an exponent.
# Decimal() also reads "1_000", Arabic-Indic or full-width digits and blanks inside, which no one types as a figure.
# (A pattern compiled by re on first use, not at a start.)
NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
NUMBER_WORDS = "a number in ASCII digits, as 1234.50"


def is_number(text: str) -> bool:
    """Whether `text` is a number as a person writes one (NUMBER)."""
    return re.fullmatch(NUMBER, text) is not None


def _amount(value) -> Decimal:
    """An amount as JSON gives one, a number or a decimal as text ("250.00"), read as a Decimal; any other type is
    refused as one, for the error's words (wording.error_said) to name what was given: the contract, read from Python
    values (`amx budget allocate`), took `true` as 1, and `[1]` was named a "Decimal object". Read here, not left to
    Decimal's schema, which takes no text past a validator of ours in strict mode (an API body's: routes.strictly)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PydanticCustomError("decimal_type", 'Input should be an amount: a number, or a decimal as text ("250.00")')
    if isinstance(value, str) and not is_number(value):
        shown = repr(value[:40]) + ("…" if len(value) > 40 else "")
        raise PydanticCustomError("decimal_parsing", "{value} is not {words}", {"value": shown, "words": NUMBER_WORDS})
    try:
        return Decimal(str(value))  # a float as its shortest repr: 5.1 is 5.1, not 5.0999…
    except ArithmeticError:
        raise PydanticCustomError("decimal_parsing", "Input should be a valid decimal") from None


Cents = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), allow_inf_nan=False), BeforeValidator(_amount),
                  AfterValidator(_cents)]
Count = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
# Clicks or conversions as stored: a whole count read as an int (days written before counts were ints hold 3.0), one
# stored with a fraction before counts were checked as the float it is. An int first, in pydantic's core: no validator
# of ours per count of the daily run's reads.
StoredCount = Annotated[Annotated[int, Field(ge=0, le=10**12)] | Count, Field(union_mode="left_to_right")]
# A figure of a day as written now (a request, a POST, a CSV row): a JSON number, checked in strict mode (`true` was 1,
# "3" 3.0, as a stored day still reads), which costs nothing where a validator of ours per figure was 3x the parse.
WrittenCount = Annotated[Count, Field(strict=True)]


def _whole(value: float) -> int:
    if not value.is_integer():
        raise ValueError(f"{value!r} is not a whole number (a count)")
    return int(value)


# Clicks and conversions as written now: whole (2.5 clicks is a typo or a spreadsheet's average; 3.0 is 3), stored and
# answered as integers.
WholeCount = Annotated[WrittenCount, AfterValidator(_whole), Field(json_schema_extra={"multipleOf": 1})]


class Day(TypedDict):
    """One day of a campaign (a TypedDict: 10,000 campaigns' histories validate 3x faster than as models), as stored
    and as the contract reads it: a count stored with a fraction before counts were checked is still read."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    date: date
    spend: Count
    clicks: NotRequired[StoredCount]
    conversions: NotRequired[StoredCount]
    revenue: Count


class WrittenDay(TypedDict):
    """A day as it is written (a CSV import, POST /campaigns/{id}/metrics): a Day whose figures are numbers and whose
    counts are whole."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    date: date
    spend: WrittenCount
    clicks: NotRequired[WholeCount]
    conversions: NotRequired[WholeCount]
    revenue: WrittenCount
