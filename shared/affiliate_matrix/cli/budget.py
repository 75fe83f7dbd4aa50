"""`amx budget` and `amx budget campaigns`: campaigns, allocation, forecasts, pacing and reports."""

from typing import Annotated, Optional

import typer

from affiliate_matrix.budget import CAMPAIGN_ID_WORDS
from affiliate_matrix.cli.common import (as_option, console, data_out, errors, ids_listed, invalid, open_limited,
                                        open_runtime)
from affiliate_matrix.wording import NO_VALUE, counted

budget_app = typer.Typer(help="Campaigns, budget allocation, forecasts and reports.", no_args_is_help=True)
campaigns_app = typer.Typer(help="Campaigns the budget is shared across.", no_args_is_help=True)
CAMPAIGNS_LISTED = "amx budget campaigns list"  # said with a campaign id no campaign has (ids_listed)

imports_app = typer.Typer(help="CSV imports begun and not finished.", no_args_is_help=True)
budget_app.add_typer(campaigns_app, name="campaigns")
budget_app.add_typer(imports_app, name="imports")


def _stdin(limit: int = 256 * 1024 * 1024) -> str:
    import sys

    text = sys.stdin.read(limit + 1)
    if len(text) > limit:
        raise typer.BadParameter(f"standard input is longer than {limit:,} characters")
    return text


@budget_app.command("allocate")
def budget_allocate(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    metric: Annotated[str, typer.Option(help="What proportional and pareto follow: revenue, roas or conversions.")] = "revenue",
):
    """Share a budget across campaigns. Reads the request as JSON on standard input: total_budget, currency, strategy
    (equal, proportional, pareto, exploratory or optimal) and campaigns, each with its id, min_budget, max_budget and
    daily history (README's Budget has an example)."""
    import json

    from affiliate_matrix.budget.contract import allocate_json, parse

    if metric not in ("revenue", "roas", "conversions"):
        raise invalid("--metric", f"{metric!r} is not revenue, roas or conversions")
    request = _stdin()
    result = allocate_json(request, metric=metric)
    if as_json:
        print(result, file=data_out(json=True))
        return
    from rich.table import Table

    from affiliate_matrix.budget.model_types import figure_text, money_text
    from affiliate_matrix.budget.models import WrittenAllocateRequest

    # each amount with its currency, as amx budget run shows one ("300.00" said in none, "1,000.00" of yen in cents)
    currency = parse(WrittenAllocateRequest, request).currency
    body = json.loads(result)
    table = Table("campaign", "amount", "expected revenue (80% band)", title=f"strategy: {body['strategy']}")
    for row in body["allocations"]:
        band = (f"{money_text(row['expected_revenue'], currency)} ({figure_text(row['expected_revenue_low'], currency)}"
                f"–{figure_text(row['expected_revenue_high'], currency)})"
                if row["expected_revenue"] is not None else NO_VALUE)
        table.add_row(row["campaign_id"], money_text(row["amount"], currency), band)
    console.print(table)
    console.print(body["explanation"])


@budget_app.command("forecast")
@ids_listed("campaign", CAMPAIGNS_LISTED)
def budget_forecast(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    from_store: Annotated[bool, typer.Option("--from-store", help="Forecast the stored campaigns from their stored "
                                                                   "days instead of reading standard input.")] = False,
    campaign: Annotated[Optional[list[str]], typer.Option(help="With --from-store: a campaign to forecast "
                                                               "(repeatable); every campaign by default.")] = None,
    horizon: Annotated[Optional[int], typer.Option(help="With --from-store: the days to forecast (1-366); "
                                                        "14 by default.")] = None,
):
    """Daily revenue and conversions forecasts with 80% bands. Reads campaigns and horizon_days as JSON on standard
    input, or with --from-store the stored campaigns' days."""
    import json

    from affiliate_matrix.budget.model_types import money_text

    if from_store:
        result = _stored_forecast(campaign, 14 if horizon is None else horizon)
    else:
        for name, given in (("--campaign", campaign), ("--horizon", horizon)):
            if given is not None:
                raise invalid(name, "only with --from-store (standard input's request names its campaigns "
                                    "and horizon_days)")
        from affiliate_matrix.budget.contract import forecast_json

        result = forecast_json(_stdin())
    if as_json:
        print(result, file=data_out(json=True))
        return
    forecasts = json.loads(result)["forecasts"]
    if not forecasts:  # only --from-store: a request has one campaign or more
        console.print("no campaigns are stored")
    for row in forecasts:
        if not row["revenue"]:
            console.print(f"[bold]{row['campaign_id']}[/]: {row['note']}")
            continue
        total = sum(p["value"] for p in row["revenue"])
        score = f", backtest MASE {row['backtest']['mase']:.2f}" if row["backtest"] else ""
        note = f" ({row['note']})" if row["note"] else ""
        figure = money_text(total, row["currency"]) if row["currency"] else f"{total:,.2f}"  # a request may name none
        console.print(f"[bold]{row['campaign_id']}[/]: {row['model']}, {figure} revenue over "
                      f"{counted(len(row['revenue']), 'day')}{score}{note}")


def _campaign_id(campaign_id: str, param: str) -> str:
    """A campaign id as given on the command line (`param`: the argument or option it was given as), or the error
    saying what one is."""
    from affiliate_matrix.budget.model_types import not_a_campaign_id

    if why := not_a_campaign_id(campaign_id):
        raise invalid(param, why)
    return campaign_id


def _stored_forecast(campaign_ids: list[str] | None, horizon: int) -> str:
    from affiliate_matrix.budget.forecast import stored_forecast
    from affiliate_matrix.errors import InvalidInput

    for i, campaign_id in enumerate(campaign_ids or []):
        _campaign_id(campaign_id, "--campaign")
        if campaign_id in campaign_ids[:i]:
            raise invalid("--campaign", f"{campaign_id!r} is given twice")
    rt = open_runtime("budget")
    _say_unfinished_imports(rt)
    try:
        return stored_forecast(rt, horizon, campaign_ids).model_dump_json()
    except InvalidInput as exc:
        raise as_option(exc, {"horizon": "--horizon"}) from None


def _say_unfinished_imports(rt) -> None:
    """On standard error (--json's output stays one object): an import not finished has days not written yet."""
    from affiliate_matrix.budget.campaigns import pending_imports

    if unfinished := pending_imports(rt.store):
        errors.print(f"[yellow]imports not finished[/] ({', '.join(unfinished)}): some of their days may be missing; "
                     f"import the same file again to finish one, or give it up: {GIVE_UP}", highlight=False)


GIVE_UP = "`amx budget imports list`, then `amx budget imports abandon ID`"


@budget_app.command("import")
def budget_import(path: Annotated[str, typer.Argument(help="CSV: campaign_id,date,spend,clicks,conversions,revenue,currency")]):
    """Import daily performance rows; a bad line refuses the whole file, each error named by line. An import stopped
    midway is finished by importing the same file again."""
    import shlex

    from affiliate_matrix.budget.campaigns import MAX_CSV_BYTES, MAX_STORED_DAYS, dropped_said, import_csv

    try:
        handle = open_limited(path, MAX_CSV_BYTES)
    except OSError as exc:
        raise invalid("path", f"cannot read {path}: {exc.strerror}") from None
    with handle:
        imported = import_csv(open_runtime("budget"), handle, finish=f"run `amx budget import {shlex.quote(path)}` "
                                                                     f"again, or give it up: {GIVE_UP}")
    console.print(f"imported {counted(sum(imported.written.values()), 'day')} for "
                  f"{counted(len(imported.written), 'campaign')}")
    if imported.dropped:  # every one said: nothing a write drops goes unsaid
        console.print(f"dropped, each campaign keeping the last {MAX_STORED_DAYS:,} days from its newest (the budget "
                      "index keeps them for the dashboards):", highlight=False)
        for campaign_id, dropped in imported.dropped.items():
            console.print(f"  {campaign_id}: {dropped_said(dropped)}", highlight=False)


@imports_app.command("list")
def imports_list():
    """The imports begun and not finished: each one's id and the campaigns it wrote and did not."""
    from rich.table import Table

    from affiliate_matrix.budget.campaigns import unfinished_imports

    found = unfinished_imports(open_runtime("budget").store)
    if not found:
        console.print("no import is unfinished")
        return
    table = Table("id", "written", "not written", caption="id: the first 16 hex digits of the file's SHA-256")
    for unfinished in found:
        damaged = "unknown: its journal is damaged"
        table.add_row(unfinished.id[:16], damaged if unfinished.written is None else ", ".join(unfinished.written) or "none",
                      damaged if unfinished.not_written is None else ", ".join(unfinished.not_written) or "none")
    console.print(table)


@imports_app.command("abandon")
def imports_abandon(import_id: Annotated[str, typer.Argument(help="Its id as `amx budget imports list` shows it, or "
                                                                  "its first 8 hex digits or more.")]):
    """Give an unfinished import up: the days it wrote stay, the others are not written, and no run reports it any
    more. Importing the same file later checks and writes it anew."""
    from affiliate_matrix.budget.campaigns import abandon_import

    given_up = abandon_import(open_runtime("budget").store, import_id)
    if given_up.written is None:
        console.print(f"gave up import {given_up.id}; its journal was damaged, so which campaigns' days it wrote is "
                      "unknown (`amx budget campaigns list` shows each campaign's days)")
    else:
        console.print(f"gave up import {given_up.id}; days written and kept: {', '.join(given_up.written) or 'none'}; "
                      f"not written: {', '.join(given_up.not_written) or 'none'}")


# A campaign's fields as amx budget campaigns add takes them
CAMPAIGN_OPTIONS = {"name": "--name", "channel": "--channel", "currency": "--currency", "program_ids": "--program",
                    "min_budget": "--min", "max_budget": "--max"}


@campaigns_app.command("add")
def campaigns_add(
    campaign_id: Annotated[str, typer.Argument(help=CAMPAIGN_ID_WORDS[0].upper() + CAMPAIGN_ID_WORDS[1:] + ".")],
    name: Annotated[str, typer.Option(help="A human name.")],
    channel: Annotated[str, typer.Option(help="search, social, email, content, display, video, affiliate or other.")],
    # required, as POST /campaigns requires it: one guessed for the user (USD) had a euro campaign allocated from the
    # dollar total
    currency: Annotated[str, typer.Option(help="ISO-4217 code of its spend and revenue (USD, EUR, JPY...).")],
    program: Annotated[Optional[list[str]], typer.Option(help="A program id it promotes (repeatable).")] = None,
    min_budget: Annotated[Optional[str], typer.Option("--min", help="Daily minimum, e.g. 10.00")] = None,
    max_budget: Annotated[Optional[str], typer.Option("--max", help="Daily maximum, e.g. 250.00")] = None,
):
    """Add a campaign (refused if the id exists)."""
    from pydantic import ValidationError

    from affiliate_matrix.budget.campaigns import (Campaign, admit, checked, max_campaigns, programs_indexed, room_for,
                                                   save_campaign)
    from affiliate_matrix.errors import ConflictError, InvalidInput

    try:
        campaign = Campaign.model_validate({"id": _campaign_id(campaign_id, "campaign_id"), "name": name,
                                            "channel": channel, "currency": currency, "program_ids": program or [],
                                            "min_budget": min_budget, "max_budget": max_budget})
    except ValidationError as exc:  # named as typed here (--max), not as the document's field (max_budget)
        from affiliate_matrix.wording import error_said

        first = exc.errors(include_url=False)[0]
        said = error_said(first)  # a mistyped --channel with what was typed, as the API says it
        for field in ("min_budget", "max_budget"):  # a check across both names them in its words
            said = said.replace(field, CAMPAIGN_OPTIONS[field])
        raise as_option(InvalidInput(f"{first['loc'][0]}: {said}" if first["loc"] else said),
                        CAMPAIGN_OPTIONS) from None
    try:  # its name's characters, its programs: the API's checks, said of the options typed
        checked(campaign)
        rt = open_runtime("budget")
        room_for(rt.store, campaign.id, max_campaigns(rt))
        programs_indexed(rt, campaign)
    except InvalidInput as exc:
        raise as_option(exc, CAMPAIGN_OPTIONS) from None
    try:
        etag = save_campaign(rt.store, campaign, create=True)
    except ConflictError:
        raise ConflictError(f"campaign {campaign.id!r} exists") from None
    admit(rt.store, campaign.id, etag, max_campaigns(rt))
    console.print(f"added campaign {campaign.id}")


def _set_active(campaign_id: str, active: bool) -> None:
    from affiliate_matrix.budget.campaigns import load_campaign, save_campaign
    from affiliate_matrix.errors import ConflictError

    _campaign_id(campaign_id, "campaign_id")
    store = open_runtime("budget").store
    campaign, etag = load_campaign(store, campaign_id)
    try:  # conditional on what was read: an edit in between is not overwritten
        save_campaign(store, campaign.model_copy(update={"active": active}), if_match=etag)
    except ConflictError:
        raise ConflictError(f"campaign {campaign_id!r} changed while it was being updated; retry") from None
    console.print(f"{'resumed' if active else 'paused'} campaign {campaign_id}")


@campaigns_app.command("pause")
@ids_listed("campaign", CAMPAIGNS_LISTED)
def campaigns_pause(campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")]):
    """Leave a campaign out of the allocation runs from the next one on (its days are kept)."""
    _set_active(campaign_id, False)


@campaigns_app.command("resume")
@ids_listed("campaign", CAMPAIGNS_LISTED)
def campaigns_resume(campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")]):
    """Take a paused campaign into the allocation runs again."""
    _set_active(campaign_id, True)


@campaigns_app.command("delete")
@ids_listed("campaign", CAMPAIGNS_LISTED)
def campaigns_delete(campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")]):
    """Delete a campaign and its days (a damaged one too): one added again under its id starts with none."""
    from affiliate_matrix.budget.campaigns import delete_campaign

    delete_campaign(open_runtime("budget").store, _campaign_id(campaign_id, "campaign_id"))
    console.print(f"deleted campaign {campaign_id} and its days")


@campaigns_app.command("list")
def campaigns_list():
    """Every campaign: its channel, currency, budget bounds, days of performance stored and whether it is active;
    below, those naming programs the index does not hold, or holds damaged."""
    from rich.markup import escape

    from affiliate_matrix.budget.campaigns import damaged_programs_said, list_campaigns, load_days, programs_not_indexed
    from affiliate_matrix.budget.model_types import figure_text
    from affiliate_matrix.cli.views import fitted, print_damaged
    from affiliate_matrix.documents import together
    from affiliate_matrix.errors import BackendUnavailable, DamagedData

    rt = open_runtime("budget")

    def days_of(campaign) -> str:
        try:
            return str(len(load_days(rt.store, campaign.id)[0]))
        except DamagedData:  # one campaign's damaged metrics: named in its row, the others listed
            return "damaged"

    damaged: list[dict] = []
    campaigns = list_campaigns(rt.store, damaged)
    rows = [[escape(cell) for cell in (c.id, c.name, c.channel, c.currency,
                                       # as its currency writes an amount, as show does (`--min 10` was "10"
                                       # beside "250.00"); 0.00 is a bound
                                       *(NO_VALUE if bound is None else figure_text(bound, c.currency)
                                         for bound in (c.min_budget, c.max_budget)),
                                       days, "yes" if c.active else "no")]
            for c, days in zip(campaigns, together(days_of, campaigns))]  # several reads at a time, as the tick does
    if not rows and not damaged:  # a table of headers alone said nothing
        console.print("no campaigns (amx budget campaigns add ID --name NAME --channel CHANNEL --currency CODE adds "
                      "one)")
        return
    console.print(fitted(console, counted(len(rows), "campaign"),
                         [("id", 0), ("name", 1), ("channel", 2), ("currency", 0), ("min", 3), ("max", 3), ("days", 2),
                          ("active", 0)], rows, whole=("id",)))
    print_damaged(console, damaged)
    try:
        missing, damaged_programs = programs_not_indexed(rt, campaigns)
    except BackendUnavailable as exc:  # the campaigns are listed all the same
        console.print(f"[yellow]programs not checked[/]: the programs index did not answer ({escape(str(exc))})")
        return
    for campaign_id, programs in missing.items():
        console.print(f"[yellow]{campaign_id}[/] names {_not_indexed(programs)}", highlight=False)
    for campaign_id, programs in damaged_programs.items():  # the report's summary's words
        console.print(f"[yellow]{escape(damaged_programs_said(campaign_id, programs))}[/]", highlight=False)


def _not_indexed(programs: list[str]) -> str:
    from rich.markup import escape

    from affiliate_matrix.budget.campaigns import NOT_INDEXED

    return (f"program{'' if len(programs) == 1 else 's'} {NOT_INDEXED}: "
            f"{escape(', '.join(p[:80] for p in programs))}; `amx search` finds a program's id")


def _named(program_id: str, program) -> str:
    """A campaign's program as shown: its name, and its id now where the id the campaign names moved; a damaged one
    (indexed_programs' DamagedData) as such, with what to do."""
    from affiliate_matrix.errors import DamagedData

    if isinstance(program, DamagedData):
        return f"name not known: {program}"
    moved = f" (moved to {program.id})" if program.id != program_id else ""
    return f"{program.name}{moved}"


@campaigns_app.command("show")
@ids_listed("campaign", CAMPAIGNS_LISTED)
def campaigns_show(campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")]):
    """One campaign: its fields, its days stored, and each program it names by its name in the index (or that it is
    not in the index)."""
    from rich.markup import escape
    from rich.table import Table

    from affiliate_matrix.budget.model_types import money_text

    from affiliate_matrix.budget.campaigns import NOT_INDEXED, indexed_programs, load_campaign, load_days
    from affiliate_matrix.errors import BackendUnavailable, DamagedData

    rt = open_runtime("budget")
    campaign, _ = load_campaign(rt.store, _campaign_id(campaign_id, "campaign_id"))
    try:
        days = str(len(load_days(rt.store, campaign.id)[0]))
    except DamagedData:
        days = "damaged"
    try:
        found = indexed_programs(rt, campaign.program_ids)
    except BackendUnavailable as exc:
        found = None
        unchecked = f"not checked: the programs index did not answer ({exc})"
    table = Table.grid(padding=(0, 2))
    for field, value in (("id", campaign.id), ("name", campaign.name), ("channel", campaign.channel),
                         ("currency", campaign.currency),
                         *((bound, NO_VALUE if amount is None else money_text(amount, campaign.currency))
                           for bound, amount in (("min", campaign.min_budget), ("max", campaign.max_budget))),
                         ("active", "yes" if campaign.active else "no"), ("days", days)):
        table.add_row(field, escape(value))
    for i, program_id in enumerate(campaign.program_ids):
        said = (unchecked if found is None else _named(program_id, found[program_id]) if program_id in found
                else f"{NOT_INDEXED}; `amx search` finds a program's id")
        table.add_row("programs" if i == 0 else "", escape(f"{program_id[:80]}  {said}"))
    if not campaign.program_ids:
        table.add_row("programs", "none")
    console.print(table)


@budget_app.command("run")
def budget_run(day: Annotated[Optional[str], typer.Option(help="The day to allocate (YYYY-MM-DD); tomorrow by default.")] = None,
               replace: Annotated[bool, typer.Option(help="Run a day already run again, from today's campaigns and "
                                                          "days, as its next revision.")] = False):
    """The daily run: allocate a day's budget (AMX_BUDGET_DAILY_TOTAL, by AMX_BUDGET_STRATEGY), each currency's
    campaigns from its total, store it and emit budget.allocated. A day already run shows its stored run, unless
    --replace."""
    from affiliate_matrix.budget.model_types import money_text, not_a_run_day
    from affiliate_matrix.budget.run import run_allocation, run_key

    rt, when = open_runtime("budget"), _day(day, offset=1)
    if why := not_a_run_day(when):
        raise invalid("--day", why)
    stored = not replace and rt.store.head(run_key(when)) is not None  # as POST /allocations tells 200 from 201
    run = run_allocation(rt, when, replace=replace)
    console.print(f"allocation for {run.day}" + (f", revision {run.revision}" if run.revision > 1 else "")
                  + (", as stored before (--replace runs the day again)" if stored else ""), highlight=False)
    for part in run.parts:
        currency = part.request.currency
        if len(run.parts) > 1:
            console.print(f"[bold]{currency}[/]: {money_text(part.request.total_budget, currency)}")
        for row in part.result.allocations:
            console.print(f"{row.campaign_id}: {money_text(row.amount, currency)}")
        console.print(part.result.explanation)
    if run.skipped:
        console.print(f"no active campaign in {', '.join(run.skipped)}: that total is not allocated")
    if run.pending_imports:
        console.print(f"[yellow]imports not finished[/] when the days were read ({', '.join(run.pending_imports)}): "
                      "some of their days may be missing; import the same file again to finish one, then run the day "
                      f"again with --replace (or give it up: {GIVE_UP})")


@budget_app.command("pacing")
def budget_pacing(day: Annotated[Optional[str], typer.Option(help="The finished day to check; yesterday by default.")] = None):
    """Compare a day's spend with its allocation; emit budget.pacing for each campaign off by more than the tolerance."""
    from affiliate_matrix.budget.model_types import money_text, figure_text
    from affiliate_matrix.budget.run import RunResult, check_pacing, load_run
    from affiliate_matrix.errors import NotFoundError

    rt, when = open_runtime("budget"), _day(day, offset=-1)
    try:  # a day no run allocated has nothing to pace against: named, with what allocates it, exit 2
        load_run(rt.store, when, RunResult)
    except NotFoundError as exc:
        raise NotFoundError(f"{exc}: nothing to pace against (amx budget run --day {when} allocates it)") from None
    pacing = check_pacing(rt, when)
    for alert in pacing.alerts:
        off = (f"{alert['deviation']:+.0%}, " if "deviation" in alert else
               "nothing allocated, " if alert["in_run"] else "outside the day's run (paused or added since), ")
        console.print(f"{alert['campaign_id']}: spent {figure_text(alert['spent'], alert['currency'])} of "
                      f"{money_text(alert['allocated'], alert['currency'])} ({off}{alert['direction']})")
    if not pacing.judged:  # not "all on pace": there was nothing to judge
        console.print(f"no campaign reported any spend for {when}: nothing to pace (amx budget import <file> brings "
                      "a day's spend in)")
    elif not pacing.alerts:
        console.print(f"no campaign's spend reported for {when} is off its allocation by more than "
                      f"{rt.settings.budget_pacing_tolerance:.0%}")


@budget_app.command("report")
def budget_report(out: Annotated[str, typer.Option(help="Folder for the PNGs and summary.")] = "budget-report",
                  horizon: Annotated[int, typer.Option(min=1, max=366, help="Days each forecast runs.")] = 14):
    """PNG figures (allocation over time, response curves, forecasts), a text summary, and the same as documents."""
    from pathlib import Path

    from affiliate_matrix.budget.report import report

    rt = open_runtime("budget")
    _say_unfinished_imports(rt)
    result = report(rt, Path(out), horizon=horizon)
    console.print(result.summary.rstrip())
    for path in result.files:
        console.print(f"wrote {path}")


def _day(text: str | None, offset: int):
    from datetime import UTC, date, datetime, timedelta

    from affiliate_matrix.budget.model_types import NOT_A_DAY, iso_day

    if text is None:
        return datetime.now(UTC).date() + timedelta(days=offset)
    if not iso_day(text):  # the API's and the CSV's rule: fromisoformat alone reads 20261110 as a day too
        raise invalid("--day", f"{text[:40]!r} {NOT_A_DAY}")
    return date.fromisoformat(text)
