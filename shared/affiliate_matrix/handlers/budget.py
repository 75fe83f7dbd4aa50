"""budget: the daily cron run (a CloudEvent from a PingSource) allocates tomorrow and checks
yesterday's pacing, both relative to the event's time. Over HTTP:

GET /campaigns, POST /campaigns, GET|PUT|DELETE /campaigns/{id} (ETag / If-Match);
GET /campaigns/{id}/metrics (its days), POST /campaigns/{id}/metrics {"days": [...]} (at most the 1,100 days a
campaign keeps, in a body of at most 512 bytes a day; a date already recorded is replaced; the answer names the days
the write dropped from the campaign's window); GET /allocations (the days with a run), GET /allocations/{day}
(the run: a part per currency with its inputs, strategy, allocations and explanation; a run stored
before runs had parts is answered as one part), POST /allocations {"day": "YYYY-MM-DD"}
(run it now; 201, or 200 with the stored run when that day has one; with "replace": true, 200 with the day run
again from today's campaigns and days, stored as its next revision).
Reads need a read token, writes an admin token.
"""

from datetime import date, timedelta
from functools import cache
from typing import Annotated, NotRequired

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from affiliate_matrix.budget.model_types import NOT_A_DAY, iso_day, not_a_run_day
from affiliate_matrix.handlers.documents import Collection
from affiliate_matrix.handlers.events import http_or_event
from affiliate_matrix.handlers.routes import Api, Route, Shape, dispatcher, refuse
from affiliate_matrix.observability import get_logger

log = get_logger()
# The room a day's entry in a metrics POST has: twice the longest one written (every field, 17 digits a number,
# indented 4 spaces: ~250 bytes). The body's limit is MAX_STORED_DAYS of them, so a body of far more days (80,000 under
# the 4 MiB it was: read and parsed, ~1 s, before their count was refused) is refused unread.
MAX_DAY_BYTES = 512


def _iso_day(value):
    """A day written YYYY-MM-DD exactly (the budget's one rule, model_types.iso_day), read here as a date: pydantic's
    strict mode, which a request body is checked in, takes no string for a date after a validator of ours."""
    if isinstance(value, date):
        return value
    if iso_day(value):
        return date.fromisoformat(value)
    raise refuse(f"day: {str(value)[:40]!r} {NOT_A_DAY}")


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


def _run_day(day: date) -> date:
    if why := not_a_run_day(day):
        raise refuse(f"day: {why}")
    return day


RunnableDay = Annotated[IsoDay, AfterValidator(_run_day)]


class DroppedDays(Shape):
    days: int
    first: str
    last: str


class Recorded(Shape):
    campaign_id: str
    days_written: int
    dropped: DroppedDays | None = Field(description=(
        "The days this write dropped from the window the campaign keeps (the last days from its newest), stored "
        "before or in this POST: every one dated first to last, `days` of them; the budget index keeps them for the "
        "dashboards. null when it dropped none."))


class RunRequest(Shape):
    model_config = ConfigDict(extra="forbid")
    day: RunnableDay
    replace: bool = Field(False, description="Run a day that has a stored run again and store it as the day's next "
                                             "revision (its pacing is judged against it from then on).")


class RunDay(Shape):
    day: IsoDay


class RunLink(Shape):
    day: str
    href: str


class RunLinks(Shape):
    items: list[RunLink]


def _days_bound() -> str:
    """The bound on the days of one POST, in words: said by its refusal, and by the body's limit sized from it."""
    from affiliate_matrix.budget.campaigns import LONGER_HISTORY, MAX_STORED_DAYS

    return (f"at most {MAX_STORED_DAYS:,}: a campaign keeps the last {MAX_STORED_DAYS:,} days from its newest, so "
            "more could not all be kept (a write drops the older ones and says which; the dashboards keep every day "
            f"written). {LONGER_HISTORY}")


def _at_most_kept(days):
    """The days of one POST, refused naming the bound before any is written: a POST of 48,000 days took ~6 s (each
    day mirrored to the budget index) to keep 1,100 of them."""
    from affiliate_matrix.budget.campaigns import MAX_STORED_DAYS

    if len(days) > MAX_STORED_DAYS:
        raise refuse(f"days: {len(days):,} in one POST, {_days_bound()}")
    return days


@cache
def metrics_models() -> tuple[type, type]:
    """The metrics' answer and body, built with the first metrics request (not with the first listing)."""
    from affiliate_matrix.budget.campaigns import MAX_STORED_DAYS
    from affiliate_matrix.budget.model_types import Day, WrittenDay

    class PostedDay(WrittenDay):
        __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
        currency: NotRequired[str]  # when given, the campaign's own

    class Metrics(Shape):
        campaign_id: str
        currency: str
        days: list[Day]

    class PostedMetrics(Shape):
        """Days to record; a date already recorded is replaced."""
        model_config = ConfigDict(extra="forbid")
        # the bound checked by _at_most_kept, naming what to do (pydantic's max_length says only the count); each day
        # is read before it, so the first that is no day ends the reading (fail_fast): 500,000 numbers (1.5 MB) were
        # each refused as no object, ~6 s, before the bound was reached
        days: Annotated[list[PostedDay], AfterValidator(_at_most_kept)] = Field(
            min_length=1, fail_fast=True, json_schema_extra={"maxItems": MAX_STORED_DAYS},
            description=f"At most {MAX_STORED_DAYS:,}, the days a campaign keeps (its newest day's last "
                        f"{MAX_STORED_DAYS:,}): more in one POST could not all be kept.")

    return Metrics, PostedMetrics


def allocation_run():
    """The answer model of a run, loaded with the allocator (numpy) only when a route that runs one is asked."""
    from affiliate_matrix.budget.run import AllocationRun

    return AllocationRun


@cache
def campaigns():
    from affiliate_matrix.budget.campaigns import (Campaign, admit, checked, checked_against_store, max_campaigns,
                                                   sweep_days)

    return Collection("campaign", "/campaigns", "budget/campaigns/", Campaign,
                      read_only=frozenset({"created_at", "days_currency"}), check=checked,
                      check_stored=checked_against_store,
                      # a PUT set created_at afresh; days_currency is never shown, so never sent back
                      carry=lambda current, data: {**data, "created_at": current.created_at,
                                                   "days_currency": current.days_currency},
                      admit=lambda rt, doc, etag: admit(rt.store, doc.id, etag, max_campaigns(rt)),
                      swept=lambda rt, campaign_id: sweep_days(rt.store, campaign_id),
                      written_unchanged="or, its fields unchanged, had its first days written, which fixed its "
                                        "currency")


def handle(rt, request):
    return http_or_event(rt, request, dispatcher(api), lambda event: event_work(rt, event))


def event_work(rt, event) -> None:
    """What an event delivered here runs (handlers.events.work_of)."""
    allocate_and_pace(rt, event)


@cache
def api() -> Api:
    from affiliate_matrix.budget.campaigns import MAX_STORED_DAYS  # loaded by campaigns() already

    collection = campaigns()
    return Api("Affiliate Matrix budget API", [
        *collection.routes(),
        Route("GET", "/campaigns/{campaign_id}/metrics", lambda call: metrics(call.rt, call.params.campaign_id),
              lambda: metrics_models()[0], lambda: collection.address, summary="The campaign's days"),
        Route("POST", "/campaigns/{campaign_id}/metrics", lambda call: record(call.rt, call.params.campaign_id,
                                                                              call.body["days"]),
              Recorded, lambda: collection.address, lambda: metrics_models()[1], role="admin",
              body_limit=MAX_STORED_DAYS * MAX_DAY_BYTES,
              body_limit_why=f"{MAX_DAY_BYTES} bytes a day; the days of one POST, {_days_bound()}",
              summary="Record days; a date already recorded is replaced"),
        Route("GET", "/allocations", lambda call: runs(call.rt), RunLinks, summary="The days with a run"),
        Route("POST", "/allocations", lambda call: run_now(call.rt, date.fromisoformat(call.body["day"]),
                                                                     call.body.get("replace", False)),
              allocation_run, body=RunRequest, status=201, statuses=(200,), role="admin", headers=("Location",),
              summary="Run the allocation for a day now (200 with the stored run when that day has one, or with "
                      "the day run again when replace is true)"),
        Route("GET", "/allocations/{day}", lambda call: run_of(call.rt, call.params.day), allocation_run, RunDay,
              summary="The run of a day: inputs, strategy, allocations, explanation"),
    ])


def allocate_and_pace(rt, event) -> None:
    from affiliate_matrix.budget.run import Spent, check_pacing, run_allocation

    today = event.time.date()
    spent = Spent(today - timedelta(days=1))  # yesterday's spends, noted by the allocation's one read of each campaign
    try:
        run_allocation(rt, today + timedelta(days=1), spent)
    finally:  # yesterday's pacing is looked at whatever becomes of tomorrow's allocation (refused: still a 400)
        check_pacing(rt, today - timedelta(days=1), spent)


def metrics(rt, campaign_id: str) -> dict:
    from affiliate_matrix.budget.campaigns import history, load_campaign

    campaign, _ = load_campaign(rt.store, campaign_id)
    return {"campaign_id": campaign.id, "currency": campaign.currency,
            "days": [{**d, "date": d["date"].isoformat()} for d in history(rt.store, campaign.id)]}


def record(rt, campaign_id: str, days: list) -> dict:
    from affiliate_matrix.budget.campaigns import load_campaign, parse_days, record_days

    campaign, etag = load_campaign(rt.store, campaign_id)
    dropped = record_days(rt, campaign, parse_days(days, campaign.currency), etag=etag)
    return {"campaign_id": campaign.id, "days_written": len(days), "dropped": dropped and dropped._asdict()}


def runs(rt) -> dict:
    from affiliate_matrix.budget.run import list_runs

    return {"items": [{"day": day.isoformat(), "href": f"/allocations/{day}"} for day in list_runs(rt.store)]}


def run_of(rt, day: date) -> dict:
    from affiliate_matrix.budget.run import load_run

    return load_run(rt.store, day).model_dump(mode="json")


def run_now(rt, day: date, replace: bool = False):
    from affiliate_matrix.budget.run import run_allocation, run_key

    existed = rt.store.head(run_key(day)) is not None
    run = run_allocation(rt, day, replace=replace)
    return run.model_dump(mode="json"), 200 if existed else 201, {"Location": f"/allocations/{day}"}
