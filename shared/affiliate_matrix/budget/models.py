"""The budget contract: what `amx budget allocate|forecast --json` read and print, and what the
`budget` function stores. Money the user sets (total, bounds) is Decimal in whole cents; the
performance history is measurement, kept as floats because it only feeds statistics."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from affiliate_matrix.budget.model_types import CampaignId, Cents, Day, WrittenDay, in_units
from affiliate_matrix.model_types import Currency

Strategy = Literal["equal", "proportional", "pareto", "exploratory", "optimal"]
Metric = Literal["revenue", "roas", "conversions"]
MAX_CAMPAIGNS = 20_000
# numpy's generator takes no negative seed; strict, as every count of a request (true was seed 1)
Seed = Annotated[int | None, Field(ge=0, strict=True)]
MAX_HISTORY_DAYS = 1_100


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # validators built on first use, not at import


class CampaignHistory(Contract):
    id: CampaignId
    min_budget: Cents | None = None
    max_budget: Cents | None = None
    history: list[Day] = Field([], max_length=MAX_HISTORY_DAYS)

    @model_validator(mode="after")
    def _consistent(self):
        if self.min_budget is not None and self.max_budget is not None and self.min_budget > self.max_budget:
            raise ValueError(f"campaign {self.id}: min_budget {self.min_budget} is above max_budget {self.max_budget}")
        dates = [day["date"] for day in self.history]
        if len(set(dates)) != len(dates):
            twice = next(d for i, d in enumerate(dates) if d in dates[:i])
            raise ValueError(f"campaign {self.id}: {twice} appears twice in its history")
        return self


class WrittenCampaign(CampaignHistory):
    """A campaign as a request gives it (`amx budget allocate|forecast --json`): its counts whole, as every day written
    is (a CSV import, POST /campaigns/{id}/metrics). CampaignHistory reads the stored days, fractions and all."""
    history: list[WrittenDay] = Field([], max_length=MAX_HISTORY_DAYS)
    # The currency of its spend and revenue, when the request's campaigns are in several (a forecast of each, or an
    # allocation refused: there are no exchange rates); the request's `currency` when it names none.
    currency: Currency | None = None


class AllocateRequest(Contract):
    total_budget: Cents
    currency: Currency
    strategy: Strategy
    campaigns: list[CampaignHistory] = Field(min_length=1, max_length=MAX_CAMPAIGNS)
    seed: Seed = None

    @model_validator(mode="after")
    def _feasible(self):
        ids = [c.id for c in self.campaigns]
        if len(set(ids)) != len(ids):
            raise ValueError("campaign ids must be unique")
        # as the run stores them and GET /allocations/{day} answers them; a campaign without bounds is left alone (a
        # model's setattr, twice for each of 10,000 campaigns, was half again their parse without days)
        self.total_budget, *bounds = in_units(self.currency, {"total_budget": self.total_budget} | {
            f"campaigns.{i}.{bound}": getattr(c, bound) for i, c in enumerate(self.campaigns)
            for bound in ("min_budget", "max_budget")})
        for c, low, high in zip(self.campaigns, bounds[::2], bounds[1::2], strict=True):
            if low is not None or high is not None:
                c.min_budget, c.max_budget = low, high
        floor = sum((c.min_budget or Decimal(0)) for c in self.campaigns)
        if floor > self.total_budget:
            raise ValueError(f"the campaigns' min_budget add up to {floor}, above total_budget {self.total_budget}")
        return self


class WrittenAllocateRequest(AllocateRequest):
    """What `amx budget allocate --json` reads; an AllocateRequest is also built by the daily run, from stored days."""
    campaigns: list[WrittenCampaign] = Field(min_length=1, max_length=MAX_CAMPAIGNS)

    @model_validator(mode="after")
    def _one_currency(self):
        """An allocation adds the campaigns' amounts up to total_budget, so every campaign is in its currency."""
        others = sorted({c.currency for c in self.campaigns if c.currency not in (None, self.currency)})
        if others:
            raise ValueError(f"campaigns in {', '.join(others)} beside currency {self.currency}: an allocation shares "
                             "one total in one currency, and there are no exchange rates; allocate each currency's "
                             "campaigns apart")
        return self


class Allocation(Contract):
    campaign_id: str
    amount: float
    expected_revenue: float | None = None
    expected_revenue_low: float | None = None
    expected_revenue_high: float | None = None


class AllocateResult(Contract):
    strategy: Strategy
    allocations: list[Allocation]
    explanation: str


class ForecastRequest(Contract):
    campaigns: list[WrittenCampaign] = Field(min_length=1, max_length=MAX_CAMPAIGNS)
    horizon_days: int = Field(ge=1, le=366, strict=True)
    # `total_budget`, `currency`, `strategy` and `seed` may come along when one document feeds both commands.
    total_budget: Cents | None = None
    currency: Currency | None = None
    strategy: Strategy | None = None
    seed: Seed = None


class ForecastPoint(Contract):
    date: date
    value: float
    low: float
    high: float


class Backtest(Contract):
    mase: float
    seasonal_naive_mase: float
    origins: int
    horizon_days: int


class CampaignForecast(Contract):
    campaign_id: str
    # The currency of its revenue: the campaign's (stored, or given in the request), else the request's `currency`
    # (None when neither names one, as in a forecast printed before rows had one).
    currency: str | None = None
    model: str | None
    revenue: list[ForecastPoint]
    conversions: list[ForecastPoint]
    backtest: Backtest | None = None
    note: str | None = None


class ForecastResult(Contract):
    horizon_days: int
    interval: float
    forecasts: list[CampaignForecast]
