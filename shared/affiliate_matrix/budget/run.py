"""The daily budget run and the pacing check.

The run allocates one day's budget over the active campaigns from their recent history, each currency's campaigns
from that currency's total (AMX_BUDGET_DAILY_TOTAL; nothing is compared across currencies), stores
the run (a part per currency: inputs, strategy, allocations, explanation) at budget/runs/<day>.json — once per day,
so a redelivered cron event returns the stored run — mirrors it to the `budget` index and emits
`budget.allocated` (again for a stored run: a run stopped after it was stored is finished so). Asked to replace
it (`replace`), the day is run again from today's campaigns and days and stored as the day's next revision. The
pacing check compares a finished day's spend with its allocation and emits `budget.pacing` for each campaign off by
more than the tolerance, and for each campaign outside the day's run (paused, or added since) that spent.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pydantic import ConfigDict, Field, ValidationError, model_validator

from affiliate_matrix.budget.allocate import allocate
from affiliate_matrix.budget.campaigns import list_campaigns, pending_imports, read_days, validated_days
from affiliate_matrix.budget.contract import problem
from affiliate_matrix.budget.mirror import BUDGET_INDEX, mirror
from affiliate_matrix.budget.models import AllocateRequest, AllocateResult, Allocation, CampaignHistory
from affiliate_matrix.documents import load_document, parsed_document, rewritten, stored_json, together
from affiliate_matrix.errors import (ConflictError, DamagedData, InvalidInput, NotFoundError, ObjectTooLarge,
                                     SettingMissing)
from affiliate_matrix.events import BUDGET_ALLOCATED, BUDGET_PACING, Event
from affiliate_matrix.model_types import Document, Model, UtcDatetime
from affiliate_matrix.observability import get_logger, log_damaged
from affiliate_matrix.observability.telemetry import ALLOCATION_RUNS

log = get_logger()


def one_part(data):
    """A run stored before a run had a part per currency (one currency: `request` and `result` at its top) is read as
    a run of that one part, so pacing, the report and a GET read it with no migration to remember."""
    if isinstance(data, dict) and "parts" not in data and ("request" in data or "result" in data):
        part = {key: data[key] for key in ("request", "result") if key in data}
        data = {key: value for key, value in data.items() if key not in part} | {"parts": [part]}
    return data


class RunPart(Model):
    """One currency's share of a day's run: that currency's active campaigns allocated from its total."""
    request: AllocateRequest
    result: AllocateResult


class AllocationRun(Document):
    # One document per day holding a part per currency, not one per day and currency: the day's run stays one
    # conditional write (create-only; a replacement stored If-Match the run it read, as its next revision), so a day
    # is never stored for some currencies and not others, and a revision replaces every currency at once.
    day: date
    created_at: UtcDatetime
    metric: str
    parts: list[RunPart] = Field(min_length=1, description="One per currency that has a total and active campaigns, "
                                                           "in AMX_BUDGET_DAILY_TOTAL's order.")
    skipped: list[str] = Field([], description="Currencies with a total and no active campaign: nothing allocated.")
    revision: int = Field(1, ge=1, description="1 for the day's first run; each replacement counts up.")
    superseded: list[str] = Field([], description="Campaigns an earlier revision allocated to and this one does not: "
                                                  "their allocations leave the budget index with it.")
    pending_imports: list[str] = Field([], description="The journals of CSV imports begun and not finished when the run "
                                                       "read the campaigns' days: some of their days may be missing "
                                                       "from its inputs (the same file imported again finishes one).")

    _one_part = model_validator(mode="before")(one_part)

    @classmethod
    def current_shape(cls, document):  # a one-part run's newer fields are found in the part it is read as
        return one_part(document)

    @property
    def allocations(self) -> list[Allocation]:
        """Every part's allocations (each in its part's currency)."""
        return [a for part in self.parts for a in part.result.allocations]


class PartCurrency(Model):
    currency: str


class PartResult(Model):
    request: PartCurrency
    result: AllocateResult


class RunResult(Model):
    """What the pacing check reads of a stored run: each part's currency and allocations, not its inputs (every
    campaign's days, which it parsed and built for nothing: a second copy of the run's whole history in memory).
    It ignores what it does not read at every depth (documents.parsed_document), a newer build's fields too."""
    model_config = ConfigDict(extra="ignore")
    parts: list[PartResult] | None = None  # None only while a run of the one-part format is read (_one_part)
    revision: int = Field(1, ge=1)
    # A run of the one-part format (one_part) holds its part at its top: read here as fields, then made its part.
    # Not one_part as a model_validator(mode="before"): pydantic hands that the whole stored run built as Python
    # objects, every campaign's days in its inputs, the very inputs this view exists not to build (the tick's pacing
    # peaked at 65 KB a campaign, above its allocation's 47; 9 KB so).
    request: PartCurrency | None = None
    result: AllocateResult | None = None

    @model_validator(mode="after")
    def _one_part(self):
        if self.parts is None:
            if self.request is None or self.result is None:
                raise ValueError("no parts, nor the request and result at its top a run stored before runs had parts "
                                 "holds")
            self.parts = [PartResult(request=self.request, result=self.result)]
        return self

    def allocated(self) -> dict[str, tuple[float, str]]:
        """Each allocated campaign's amount and its currency."""
        return {a.campaign_id: (a.amount, part.request.currency) for part in self.parts for a in part.result.allocations}


@dataclass
class Spent:
    """Each campaign's reported spend on `day` (None: none reported), noted from the metrics the tick's allocation
    reads anyway, so that the pacing check of that day reads no campaign's metrics a second time."""
    day: date
    by_campaign: dict[str, float | None] = field(default_factory=dict)
    # every campaign the allocation listed, paused ones too, with its currency (None: it listed none)
    listed: dict[str, str] | None = None

    def note(self, campaign_id: str, rows: list[dict]) -> None:
        self.by_campaign[campaign_id] = spend_on(rows, self.day)


def spend_on(rows: list[dict], day: date) -> float | None:
    """The spend a campaign's stored days (as written, or validated) report for `day`, if it is a number."""
    on = (day.isoformat(), day)
    spent = next((row.get("spend") for row in rows if row.get("date") in on), None)
    return None if not isinstance(spent, int | float) or isinstance(spent, bool) else spent


def run_key(day: date) -> str:
    return f"budget/runs/{day.isoformat()}.json"


DAMAGED_RUN = "restore an earlier version of the object, or delete it and run the day again"


def load_run(store, day: date, model: type[Model] = AllocationRun) -> AllocationRun:
    """The day's stored run (or the part of it `model` reads), as every stored document is read (load_document: one
    a newer build wrote is read); DamagedData naming its key when it does not parse or is no run (pydantic's
    ValidationError went out of the daily tick's pacing check and a GET of the day as a traceback)."""
    try:
        return load_document(store, run_key(day), model, f"the allocation run of {day}", DAMAGED_RUN)[0]
    except NotFoundError:
        raise NotFoundError(f"no allocation run for {day}") from None


def list_runs(store) -> list[date]:
    """The days with a stored run: keys run_key names only (a damaged run set aside beside them, `<day>.json.bak`,
    raised ValueError out of GET /allocations and the report)."""
    days = []
    for key in store.list("budget/runs/"):
        try:
            day = date.fromisoformat(key.rsplit("/", 1)[1].removesuffix(".json"))
        except ValueError:
            continue
        if key == run_key(day):  # not 20261012.json, which fromisoformat takes too
            days.append(day)
    return sorted(days)


def run_allocation(rt, day: date, spent: Spent | None = None, *, replace: bool = False) -> AllocationRun:
    """Allocate `day`; each campaign's metrics are read once, and `spent` notes from them the spends its day reports.
    A day already run returns its stored run, unless `replace`: then it is run again and stored as the next revision
    (ConflictError when another replacement stored one first)."""
    from affiliate_matrix.budget.settings import budget_totals

    settings = rt.settings
    totals = budget_totals(settings)
    if totals is None:
        raise SettingMissing("AMX_BUDGET_DAILY_TOTAL", "the run does not know what to share out (set it to the day's "
                             "amount, 500.00 in AMX_BUDGET_CURRENCY, or one per currency, USD=500.00,EUR=300.00)")
    listed = list_campaigns(rt.store)
    if spent is not None:
        spent.listed = {c.id: c.currency for c in listed}
    if not replace:  # stored once per day: the stored run, whatever the campaigns are now (one added since in a
        # currency with no total refused the redelivery that finishes a run stopped after it was stored)
        try:
            stored = load_run(rt.store, day)
        except NotFoundError:
            pass
        else:
            log.info("budget.run_exists", day=str(day))
            announce(rt, stored, {c.id: c.channel for c in listed})
            return stored
    campaigns = [c for c in listed if c.active]
    if not campaigns:
        raise InvalidInput("there are no active campaigns to allocate to")
    untotalled = [f"{c.id} ({c.currency})" for c in campaigns if c.currency not in totals]
    if untotalled:  # no exchange rates: another currency's total is no measure of theirs
        raise InvalidInput(f"campaigns {', '.join(untotalled)} are in a currency with no daily total: "
                           f"AMX_BUDGET_DAILY_TOTAL has one for {', '.join(totals)} only (give one per currency, "
                           f"e.g. USD=500.00,EUR=300.00, or pause them)")
    skipped = [code for code in totals if all(c.currency != code for c in campaigns)]
    if skipped:
        log.info("budget.currency_skipped", day=str(day), currencies=skipped, reason="no active campaign")
    previous, etag = stored_run(rt.store, day) if replace else (None, None)
    # Said, not refused: an import given up on would stop every run after it, and the run can be replaced (--replace)
    # once the import is finished. Listed before the reads (an import finishing during them) and after (one begun
    # during them, still under way: listed before only, it went unsaid).
    unfinished = pending_imports(rt.store)
    histories = list(together(lambda c: readable_history(rt, c.id, day, spent), campaigns))  # several reads at a time
    unfinished += [key for key in pending_imports(rt.store) if key not in unfinished]
    if unfinished:
        log.warning("budget.import_pending", day=str(day), journals=unfinished)
    parts = []
    for code, total in totals.items():
        mine = [(c, history) for c, history in zip(campaigns, histories) if c.currency == code]
        if not mine:
            continue
        try:  # the campaigns and the settings may not fit together (min_budgets above the total): the reason, not a 500
            request = AllocateRequest(
                total_budget=total, currency=code, strategy=settings.budget_strategy, seed=int(day.strftime("%Y%m%d")),
                # built from what is already checked (the campaigns' documents, their days: validated_days), not
                # checked again: a second validation of every day of every campaign, a sixth of the run
                campaigns=[CampaignHistory.model_construct(id=c.id, min_budget=c.min_budget, max_budget=c.max_budget,
                                                           history=history) for c, history in mine])
        except ValidationError as exc:
            raise InvalidInput(f"{code}: {problem(exc)}") from None
        parts.append(RunPart(request=request, result=allocate(request, metric=settings.budget_metric)))
    run = AllocationRun(day=day, created_at=datetime.now(UTC), metric=settings.budget_metric, parts=parts,
                        skipped=skipped, pending_imports=unfinished, **revised(previous, etag, parts))
    run = rewritten(run, previous)  # with what a newer build stored in the run it replaces (this build does not know)
    try:
        rt.store.put(run_key(day), stored_json(run, indent=None), content_type="application/json",
                     if_match=etag, if_none_match=etag is None)
    except ConflictError:
        if replace:
            raise ConflictError(f"the run of {day} was stored by another run while this one replaced it: "
                                f"ask again to replace that one") from None
        log.info("budget.run_exists", day=str(day))
        run = load_run(rt.store, day)
    else:
        ALLOCATION_RUNS.labels(settings.budget_strategy).inc()
        if run.revision > 1:
            log.info("budget.run_replaced", day=str(day), revision=run.revision, superseded=len(run.superseded))
    announce(rt, run, {c.id: c.channel for c in campaigns})
    return run


def stored_run(store, day: date) -> tuple[AllocationRun | None, str | None]:
    """The day's stored run to replace and its ETag: (None, None) when there is none; (None, etag) when it is damaged,
    which a replacement repairs."""
    try:
        stored = store.get(run_key(day))
    except NotFoundError:
        return None, None
    except ObjectTooLarge as exc:  # damaged as well, its ETag said unread
        log.warning("budget.damaged_run_replaced", key=run_key(day), problem=exc.problem)
        return None, exc.etag
    try:  # the data read, not load_run: a damaged run's ETag is the one its replacement is stored If-Match
        return parsed_document(stored.data, run_key(day), AllocationRun, f"the allocation run of {day}",
                               DAMAGED_RUN), stored.etag
    except DamagedData:
        log.warning("budget.damaged_run_replaced", key=run_key(day))
        return None, stored.etag


def revised(previous: AllocationRun | None, etag: str | None, parts: list[RunPart]) -> dict:
    """A replacement's revision, one past the run it replaces (past a damaged one: 2), and the campaigns whose
    allocations leave the index with it: the replaced run's and those it had yet to remove, less those allocated again."""
    if etag is None:
        return {}
    if previous is None:
        return {"revision": 2}
    kept = {a.campaign_id for part in parts for a in part.result.allocations}
    gone = {a.campaign_id for part in previous.parts for a in part.result.allocations} | set(previous.superseded)
    return {"revision": previous.revision + 1, "superseded": sorted(gone - kept)}


def announce(rt, run: AllocationRun, channels: dict[str, str]) -> None:
    """The stored run mirrored to the budget index and announced (budget.allocated), after every call, for a new
    run and a stored one alike: a run stopped after it was stored (the index unreachable) is finished by the next
    call, the redelivered cron event's. Both are the same again: documents keyed by day and campaign (a campaign has
    one currency), an event per currency whose id is the day's (and the currency's)."""
    day = run.day
    mirror(rt, [{
        "id": f"allocation:{day}:{a.campaign_id}", "kind": "allocation", "campaign_id": a.campaign_id,
        "channel": channels.get(a.campaign_id, ""), "currency": part.request.currency, "date": day.isoformat(),
        "amount": a.amount, "expected_revenue": a.expected_revenue, "expected_low": a.expected_revenue_low,
        "expected_high": a.expected_revenue_high, "strategy": part.result.strategy, "run_id": day.isoformat(),
        "at": run.created_at.isoformat(),
    } for part in run.parts for a in part.result.allocations])
    for campaign_id in run.superseded:
        rt.index.delete(BUDGET_INDEX.name, f"allocation:{day}:{campaign_id}", refresh=True)
    for part in run.parts:
        request, result = part.request, part.result
        # A revision is news of its own: an event id of its own, so a consumer that dedups by id takes it. A day of one
        # currency keeps the id a day had before runs had parts: a day stored then and announced again is one event.
        key = day.isoformat() if run.revision == 1 else f"{day}#{run.revision}"
        rt.bus.publish(Event.make(BUDGET_ALLOCATED, "/budget", {
            "day": day.isoformat(), "strategy": result.strategy, "total_budget": str(request.total_budget),
            "currency": request.currency, "campaigns": len(result.allocations), "run": run_key(day),
            "revision": run.revision,
        }, key=key if len(run.parts) == 1 else f"{key}|{request.currency}"))
    log.info("budget.allocated", day=str(day), strategy=run.parts[0].result.strategy, revision=run.revision,
             campaigns={part.request.currency: len(part.result.allocations) for part in run.parts},
             skipped=run.skipped)


def readable_history(rt, campaign_id: str, day: date, spent: Spent | None = None) -> list[dict]:
    """The days the run allocates on; a campaign whose metrics are damaged is logged and runs with none (a typical
    campaign's), so one campaign's damage does not stop the run for all."""
    try:
        rows = stored_days(rt, campaign_id)
    except DamagedData as exc:
        log_damaged(exc.where, str(exc))
        rows = []  # nor paced: its spend was read from the damaged days (of a date stored twice, the first row)
    if spent is not None:
        spent.note(campaign_id, rows)
    return [d for d in rows if d["date"] < day][-rt.settings.budget_history_days:]


def stored_days(rt, campaign_id: str) -> list[dict]:
    """The campaign's stored days, validated, in one GET (read_days); DamagedData when they are damaged."""
    checked, written = read_days(rt.store, campaign_id)
    return validated_days(campaign_id, written, checked=checked)


@dataclass(frozen=True)
class Pacing:
    """A day's pacing check: its alerts (each a budget.pacing's data) and the campaigns whose reported spend on the day
    it judged (none: no alert means there was nothing to judge, not every campaign on pace)."""
    alerts: list[dict] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)


def check_pacing(rt, day: date, spent: Spent | None = None) -> Pacing:
    """budget.pacing for each campaign whose reported spend on `day` is off its allocation by more than the tolerance,
    and for each campaign outside the day's run (paused before it, or added since) that reported spending a cent or
    more: what it spent was allocated nothing. A campaign's spend `spent` noted (the tick's allocation read its
    metrics) is not read again."""
    noted = spent.by_campaign if spent is not None and spent.day == day else {}
    try:
        run = load_run(rt.store, day, RunResult)
    except NotFoundError:
        return Pacing()
    except DamagedData as exc:  # that day's pacing cannot be judged; the tick's allocation goes on
        log_damaged(exc.where, str(exc))
        return Pacing()
    tolerance = rt.settings.budget_pacing_tolerance
    allocated = run.allocated()
    listed = (spent.listed if spent is not None and spent.listed is not None else
              {c.id: c.currency for c in list_campaigns(rt.store)})
    outside = {campaign_id: (0.0, currency) for campaign_id, currency in listed.items() if campaign_id not in allocated}
    alerts, judged = [], []
    for campaign_id, (amount, currency) in (allocated | outside).items():
        try:
            spend = noted[campaign_id] if campaign_id in noted else spend_on(stored_days(rt, campaign_id), day)
        except DamagedData as exc:
            log_damaged(exc.where, str(exc))
            continue
        if spend is None:
            continue
        judged.append(campaign_id)
        alert = {"campaign_id": campaign_id, "day": day.isoformat(), "allocated": amount, "spent": spend,
                 "currency": currency, "tolerance": tolerance, "in_run": campaign_id in allocated}
        if amount > 0:
            deviation = (spend - amount) / amount
            alert |= {"deviation": round(deviation, 4), "direction": "over" if deviation > 0 else "under"}
        else:  # nothing allocated (or outside the run): a cent spent is over, by no ratio
            deviation = float("inf") if spend >= 0.005 else 0.0
            alert["direction"] = "over"
        if abs(deviation) > tolerance:
            alerts.append(alert)
    if alerts:  # for the dashboard's pacing panel, before the events (a failed write: the redelivery does both)
        mirror(rt, [{
            "id": f"pacing:{day}:{a['campaign_id']}", "kind": "pacing", "campaign_id": a["campaign_id"],
            "currency": a["currency"], "date": a["day"], "amount": a["allocated"], "spend": a["spent"]} for a in alerts])
    # judged against a replacement, an alert is news of its own (as its budget.allocated is): an id of its own
    revision = "" if run.revision == 1 else f"#{run.revision}"
    for alert in alerts:
        rt.bus.publish(Event.make(BUDGET_PACING, "/budget", alert, key=f"{alert['campaign_id']}|{day}{revision}",
                                  subject=alert["campaign_id"]))
    log.info("budget.pacing_checked", day=str(day), alerts=len(alerts))
    return Pacing(alerts, judged)
