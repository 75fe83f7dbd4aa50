"""The budget's settings (AMX_BUDGET_*): a class Settings holds (config.HELD), defined by the budget's first read of
one of them (settings.budget_strategy) or at start when one is set, so that no other function's start defines them
and a start where one is set checks them."""

from decimal import Decimal
from functools import cache
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode

from affiliate_matrix.config import VARIABLES, from_variables


@cache
def _amount():
    """A daily total as AMX_BUDGET_DAILY_TOTAL takes it, alone or per currency: whole cents, as the allocation takes
    them, so a total it would refuse is refused at start (built when the setting is set, not at every start)."""
    from pydantic import TypeAdapter

    from affiliate_matrix.budget.model_types import Cents

    return TypeAdapter(Cents)


def _daily_totals(value):
    """One amount (in AMX_BUDGET_CURRENCY), or a total per currency: `USD=500.00,EUR=300.00`."""
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str) or "=" not in value:
        return _amount().validate_python(value)
    from affiliate_matrix.codes import CURRENCIES, typed_currency

    totals: dict[str, Decimal] = {}
    for entry in value.split(","):
        code, _, amount = (part.strip() for part in entry.partition("="))
        code = typed_currency(code)
        if not _:
            raise ValueError(f"{entry.strip()!r} is not CURRENCY=AMOUNT (USD=500.00,EUR=300.00)")
        if code not in CURRENCIES:
            raise ValueError(f"{entry.strip()!r}: {code!r} is not an ISO-4217 currency code")
        if code in totals:
            raise ValueError(f"{entry.strip()!r}: {code} is given twice")
        try:
            totals[code] = _amount().validate_python(amount)
        except ValidationError as exc:
            raise ValueError(f"{entry.strip()!r}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        _whole_units(code, totals[code], repr(entry.strip()))
    return totals


def _whole_units(currency: str, amount: Decimal, where: str) -> None:
    """A total with cents in a currency that has none (JPY) is refused at start, not by every run."""
    from affiliate_matrix.budget.model_types import whole_units

    whole_units(currency, {where: amount})


class BudgetSettings(BaseSettings):
    model_config = VARIABLES

    # NoDecode: a total per currency is read from its own spelling, not as JSON
    budget_daily_total: Annotated[Decimal | dict[str, Decimal] | None, NoDecode, BeforeValidator(_daily_totals)] = Field(
        None, description="What the daily budget run shares out: one amount in AMX_BUDGET_CURRENCY, or a total per "
                          "currency (USD=500.00,EUR=300.00); unset, it refuses to run.")
    # None when not set (read as USD): a default judged as if given refused every total per currency without USD
    budget_currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="The currency of a lone daily total "
                                                                                 "(USD unless set).")
    budget_strategy: Literal["equal", "proportional", "pareto", "exploratory", "optimal"] = "optimal"
    budget_metric: Literal["revenue", "roas", "conversions"] = Field("revenue", description="For proportional and pareto.")
    budget_history_days: int = Field(90, ge=7, le=1000, description="How much history the daily run allocates on.")
    budget_pacing_tolerance: float = Field(0.2, gt=0, le=10, description="Spend off its allocation by more than this share raises budget.pacing.")
    budget_max_campaigns: int = Field(20_000, ge=1, le=1_000_000, description="How many campaigns may be stored: one "
                                      "more is refused (409), since every daily run reads them all.")

    @field_validator("budget_currency")
    @classmethod
    def _a_lone_totals_currency(cls, currency: str | None, info: ValidationInfo) -> str:
        """Set beside a total per currency it names none of them: refused, not silently left unused."""
        totals = info.data.get("budget_daily_total")
        if isinstance(totals, dict) and currency is not None and currency not in totals:
            raise ValueError(f"{currency} has no total in AMX_BUDGET_DAILY_TOTAL, which names each total's currency "
                             f"({', '.join(totals)}); AMX_BUDGET_CURRENCY is a lone amount's: unset it")
        currency = currency or "USD"
        if isinstance(totals, Decimal):
            _whole_units(currency, totals, f"AMX_BUDGET_DAILY_TOTAL {totals}")
        return currency

    def __init__(self, **values):
        from_variables(self, values)


def budget_totals(settings) -> dict[str, Decimal] | None:
    """Each currency's daily total (of the Settings holding these): AMX_BUDGET_DAILY_TOTAL's per currency, or its lone
    amount in AMX_BUDGET_CURRENCY; None when unset."""
    total = settings.budget_daily_total
    return total if total is None or isinstance(total, dict) else {settings.budget_currency: total}
