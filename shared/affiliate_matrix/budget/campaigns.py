"""Campaigns and their daily performance in the object store, mirrored to the `budget` index for
the dashboards.

    budget/campaigns/<id>.json   a Campaign
    budget/metrics/<id>.json     its days, one row per date (a later row for a date replaces it)
    budget/imports/<sha256>.json a CSV import's journal while its campaigns are written (import_csv)

A campaign keeps the calendar's last MAX_STORED_DAYS days, counted back from its newest day (what a forecast
reads, budget.models.MAX_HISTORY_DAYS, not imported here for a cold start's sake; the run reads at most
AMX_BUDGET_HISTORY_DAYS <= 1,000 of them): a write moving the newest day forward drops the days that fall out, stored
ones or its own older ones (their index mirror keeps them, for the dashboards), and says which (Dropped: the POST's
answer, `amx budget import`'s output): one rule, _window, for both, and nothing dropped unsaid. A write is refused
naming the limit when none of its days would be kept (all outside that window), when its days fall apart by more than
the window (a typo), or when its newest day is so far after the stored ones that none of them would be kept (one day
dated 9999-01-01 left every other day out of the forecast; the refusal names the newest day that may be sent first):
a rule on the days themselves, no clock decides it. So a history longer than the window is written oldest first, in
writes ending at most MAX_STORED_DAYS - 1 days after the newest stored day (LONGER_HISTORY), or as one import.

Every write is conditional on the ETag read, retried on a lost race, so two writers never drop
each other's days.
"""

import csv
import heapq
import io
import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from pydantic import Field, TypeAdapter, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema

from affiliate_matrix.budget import CAMPAIGN_ID
from affiliate_matrix.budget.model_types import (NOT_A_DAY, NUMBER_WORDS, CampaignId, Cents, Channel, Day, WrittenDay,
                                                  in_units, is_number, iso_day, not_a_campaign_id)
from affiliate_matrix.csv_rows import CHUNK, Digested, check_utf8, rows as csv_rows
from affiliate_matrix.documents import load_document, no_document, readable_together, save_document
from affiliate_matrix.errors import ConflictError, DamagedData, ImportIncomplete, InvalidInput, NotFoundError
from affiliate_matrix.model_types import Currency, Document, UtcDatetime
from affiliate_matrix.observability import get_logger
from affiliate_matrix.wording import counted, error_said

if TYPE_CHECKING:
    from affiliate_matrix.models import Program

log = get_logger()

CSV_COLUMNS = ("campaign_id", "date", "spend", "clicks", "conversions", "revenue", "currency")
MAX_CSV_BYTES = 512 * 1024 * 1024  # memory holds a campaign at a time (ImportRows); /tmp, the file once more
MAX_ERRORS = 20
CAMPAIGNS = "budget/campaigns/"
IMPORTS = "budget/imports/"  # an import's journal while it is written: import_csv
MAX_STORED_DAYS = 1_100  # the calendar's last days a campaign keeps, from its newest: MAX_HISTORY_DAYS (a test holds it)
# How days more than a POST carries are written: a write whose newest day is MAX_STORED_DAYS or more after every stored
# day is refused (_window), so POSTs of MAX_STORED_DAYS days one after another, oldest first, failed from the second on
LONGER_HISTORY = (f"A longer history: post it oldest first, each POST's newest day at most {MAX_STORED_DAYS - 1:,} "
                  f"days after the newest day stored (POSTs of {MAX_STORED_DAYS - 1:,} days when none is missing), or "
                  "import it as one CSV (`amx budget import`); each write says the days it drops")


class Campaign(Document):
    id: CampaignId
    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    # A list default is copied per instance; default_factory=list would make pydantic parse the builtin's signature
    # with tokenize, whose regexes take ~10 ms to compile on a cold start.
    program_ids: list[str] = Field([], max_length=100)
    currency: Currency
    min_budget: Cents | None = None
    max_budget: Cents | None = None
    active: bool = True
    created_at: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    # Stored, never shown (exclude: documents.save_document writes it). Set once, by the first write of its days,
    # conditionally on the campaign's ETag (claim_days): a PUT changing the currency on an ETag read before then is
    # refused (412), and one read after it is refused naming the days' currency.
    days_currency: SkipJsonSchema[Currency | None] = Field(
        None, exclude=True, description="The currency its days are written in: from then on, its currency.")

    @model_validator(mode="after")
    def _bounds(self):  # as the allocation's CampaignHistory checks them: stored, it would fail every run
        if self.min_budget is not None and self.max_budget is not None and self.min_budget > self.max_budget:
            raise ValueError(f"min_budget {self.min_budget} is above max_budget {self.max_budget}")
        self.min_budget, self.max_budget = in_units(self.currency, {"min_budget": self.min_budget,
                                                                    "max_budget": self.max_budget})
        return self


@cache
def day_adapter() -> TypeAdapter:
    """The validator of one day written (CSV, HTTP: whole counts), built on first use (the campaigns' listing, a
    function's first request, needs none)."""
    return TypeAdapter(WrittenDay)


def written_day(row: dict) -> dict:
    """A day as written (a CSV row, a POST's day) validated, a figure of -0 as 0: it passed ge=0 and was stored, shown
    and answered as "-0.0"."""
    return {name: value or 0.0 if isinstance(value, float) else value
            for name, value in day_adapter().validate_python(row).items()}


@cache
def days_adapter() -> TypeAdapter:
    """The validator of a campaign's stored days, in one call (a call per day cost the daily run a quarter more)."""
    return TypeAdapter(list[Day])


def campaign_key(campaign_id: str) -> str:
    return f"{CAMPAIGNS}{campaign_id}.json"


def metrics_key(campaign_id: str) -> str:
    return f"budget/metrics/{campaign_id}.json"


def save_campaign(store, campaign: Campaign, *, if_match: str | None = None, create: bool = False) -> str:
    if campaign.min_budget is not None and campaign.max_budget is not None and campaign.min_budget > campaign.max_budget:
        raise InvalidInput(f"campaign {campaign.id}: min_budget is above max_budget")
    agrees_with_days(store, campaign)
    return save_document(store, campaign_key(campaign.id), campaign, if_match=if_match, create=create)


def checked(campaign: Campaign) -> None:
    """What a campaign written by a person (POST and PUT /campaigns, `amx budget campaigns add`) passes beyond its
    model: a name shown as it is written. Not judged when read: a campaign stored before is run as it was."""
    from affiliate_matrix.model_types import check_name

    check_name(campaign.name, "name")


def max_campaigns(rt) -> int:
    """AMX_BUDGET_MAX_CAMPAIGNS: its settings class is built by the first write that asks, not by a start."""
    return rt.settings.budget_max_campaigns


def checked_against_store(rt, campaign: Campaign) -> None:
    """What a campaign written over HTTP must agree with in the store: room for it, when it is new, its days, and the
    programs it names."""
    room_for(rt.store, campaign.id, max_campaigns(rt))
    agrees_with_days(rt.store, campaign)
    programs_indexed(rt, campaign)


def programs_indexed(rt, campaign: Campaign) -> None:
    """InvalidInput naming the first program `campaign` names that the programs index does not hold (`p_nope` was
    stored as typed), of those it adds to the campaign as stored: one named before and since gone from the index does
    not stop an edit. When the index does not answer they are taken unchecked, and logged: they describe the campaign,
    no run reads them."""
    from affiliate_matrix.errors import BackendUnavailable

    try:
        before = set(load_campaign(rt.store, campaign.id)[0].program_ids)
    except NotFoundError:
        before = set()
    added = [program_id for program_id in dict.fromkeys(campaign.program_ids) if program_id not in before]
    if not added:
        return
    try:
        found = indexed_programs(rt, added)
    except BackendUnavailable as exc:
        log.warning("budget.programs_unchecked", campaign_id=campaign.id, programs=added, error=str(exc))
        return
    if unknown := next((program_id for program_id in added if program_id not in found), None):
        raise InvalidInput(f"program_ids: program {unknown[:80]!r} is not in the index (`amx search` finds a program's "
                           "id)")


def indexed_programs(rt, program_ids) -> dict[str, "Program | DamagedData"]:
    """The programs of `program_ids` the programs index holds, by id (none before any is indexed), an id that moved (a
    migration or an import gave its program another: moves.py) with its program under its id now; one whose document
    is not of a program's shape (program_index.from_document) the DamagedData naming it. Such a program is still
    held: a campaign may name it, it is not called not indexed, and where the campaign is shown (the report's summary
    too) it is said damaged, its name not known. Nothing else of a campaign reads a program (no run allocates by one:
    they describe the campaign), so its allocation and forecast are as they were. BackendUnavailable when the index
    does not answer."""
    from affiliate_matrix.moves import moved_to
    from affiliate_matrix.program_index import PROGRAMS_INDEX, programs_read

    wanted = list(dict.fromkeys(program_ids))
    try:
        found = rt.index.get_many(PROGRAMS_INDEX.name, wanted) if wanted else {}
    except NotFoundError:  # no program indexed yet
        return {}
    missing = [program_id for program_id in wanted if program_id not in found]
    docs = found | moved_to(rt.index, missing) if missing else found
    return dict(zip(docs, programs_read(docs.values()), strict=True))


NOT_INDEXED = "not in the index (gone from it, or never in it)"  # how a program programs_not_indexed finds is said


def damaged_programs_said(campaign_id: str, programs: list[str]) -> str:
    """How a campaign naming programs the index holds damaged (indexed_programs' DamagedData) is said where its
    programs are summed up (the report's summary, `amx budget campaigns list`): which, and what it changes."""
    return (f"{campaign_id} names program{'' if len(programs) == 1 else 's'} damaged in the index: "
            f"{', '.join(p[:80] for p in programs)} (name not known; the campaign is allocated and forecast from its "
            f"days as any other: no run reads its programs; `amx budget campaigns show {campaign_id}` says what is "
            "wrong)")


class CampaignPrograms(NamedTuple):
    """Per campaign naming any, the programs it names that the programs index does not hold (`missing`), and those it
    holds damaged (`damaged`), each in the campaign's order."""
    missing: dict[str, list[str]]
    damaged: dict[str, list[str]]


def programs_not_indexed(rt, campaigns) -> CampaignPrograms:
    """Per campaign of `campaigns`, the programs it names that the programs index does not hold (named before writes
    were checked, programs_indexed, or gone from the index since) and those it holds not of a program's shape. Kept
    as stored, and told where the campaign is shown (`amx budget campaigns list|show`, the report's summary): they
    are the campaign's description, and no run reads them. BackendUnavailable when the index does not answer."""
    found = indexed_programs(rt, (program_id for c in campaigns for program_id in c.program_ids))
    missing, damaged = {}, {}
    for c in campaigns:
        named = list(dict.fromkeys(c.program_ids))
        if gone := [program_id for program_id in named if program_id not in found]:
            missing[c.id] = gone
        if unread := [program_id for program_id in named if isinstance(found.get(program_id), DamagedData)]:
            damaged[c.id] = unread
    return CampaignPrograms(missing, damaged)


def room_for(store, campaign_id: str, limit: int) -> None:
    """ConflictError naming the limit (AMX_BUDGET_MAX_CAMPAIGNS) when campaign `campaign_id` is not stored and `limit`
    are: every daily run reads every campaign, and nothing else bounded how many a caller could add. Creations racing
    for the last place each pass it: each is counted again once stored (admit)."""
    if store.head(campaign_key(campaign_id)) is not None:  # an edit, not one more
        return
    stored = sum(1 for _ in campaign_keys(store))
    if stored >= limit:
        raise ConflictError(f"campaign {campaign_id!r}: {counted(stored, 'campaign')} {'is' if stored == 1 else 'are'} "
                            f"stored, the limit (AMX_BUDGET_MAX_CAMPAIGNS={limit:,}): delete one, or raise the limit")


def admit(store, campaign_id: str, etag: str, limit: int) -> None:
    """ConflictError naming the limit, the create undone, when campaign `campaign_id`, just created with `etag`, makes
    the campaigns stored more than `limit`. Of creations racing for the last place, the last to count sees every one
    stored, so no more than `limit` stay; each may see the others and be undone (the limit holds, asked again one gets
    in). One changed or deleted before it is undone (its first days written) is left as it is."""
    stored = sum(1 for _ in campaign_keys(store))
    if stored <= limit:
        return
    try:
        store.delete(campaign_key(campaign_id), if_match=etag)
    except (ConflictError, NotFoundError):
        log.warning("budget.campaign_over_limit_kept", campaign_id=campaign_id, stored=stored, limit=limit)
        return
    raise ConflictError(f"campaign {campaign_id!r}: not added, {stored:,} campaigns were stored with it and those "
                        f"added beside it, over the limit (AMX_BUDGET_MAX_CAMPAIGNS={limit:,}): delete one, or raise "
                        "the limit")


def agrees_with_days(store, campaign: Campaign) -> None:
    """InvalidInput when the campaign's days are in another currency: its currency changed under them, the run
    allocated and the forecast read dollars as euros. Its days are those stored, and those being written for the first
    time (days_currency, set before they are: claim_days). A damaged metrics document is left to its reader. Days left
    by a campaign no longer stored (a delete cut short) are not this one's: swept first, so one added again under
    the id starts without them."""
    from affiliate_matrix.storage import read_json

    sweep_days(store, campaign.id)
    stored, _, _ = read_json(store, metrics_key(campaign.id), lambda doc: isinstance(doc, dict) and isinstance(
        doc.get("days"), list), "")
    if stored and stored["days"] and stored.get("currency", campaign.currency) != campaign.currency:
        raise InvalidInput(f"currency: campaign {campaign.id} has {counted(len(stored['days']), 'day')} stored in "
                           f"{stored['currency']}, so its currency stays {stored['currency']} (add a campaign under "
                           f"another id for {campaign.currency})")
    if campaign.days_currency not in (None, campaign.currency):
        raise InvalidInput(f"currency: campaign {campaign.id} has days written in {campaign.days_currency}, so its "
                           f"currency stays {campaign.days_currency} (add a campaign under another id for "
                           f"{campaign.currency})")


def sweep_days(store, campaign_id: str) -> None:
    """The days of a campaign that is not stored, deleted: a deleted campaign's go after it (DELETE: a delete refused
    or failing leaves them with their campaign; one cut short after the campaign went is finished by its retry, or
    by the campaign's next creation), and so do days a write made under a campaign deleted meanwhile. A campaign
    added again under its id inherited them, in any currency. The budget index keeps their mirror for the
    dashboards. The delete is conditional on the days' ETag, read before the campaign was found absent: days written
    after that (the campaign added again meanwhile, its first days posted) are the new campaign's, and are kept."""
    days_etag = store.head(metrics_key(campaign_id))
    if days_etag is None or store.head(campaign_key(campaign_id)) is not None:
        return
    try:
        store.delete(metrics_key(campaign_id), if_match=days_etag)
    except (ConflictError, NotFoundError):
        pass  # written again since (not the days swept), or swept by another meanwhile


def delete_campaign(store, campaign_id: str) -> None:
    """Delete the campaign as it is now (conditionally on its ETag; not read, so a damaged one too), then its days
    (sweep_days), as DELETE /campaigns/{id} does: a delete cut short between them is finished by the same delete again
    (a NotFoundError that sweeps first)."""
    etag = store.head(campaign_key(campaign_id))
    if etag is None:
        sweep_days(store, campaign_id)
        raise no_document(f"campaign {campaign_id!r}")
    try:
        store.delete(campaign_key(campaign_id), if_match=etag)
    except ConflictError:
        raise ConflictError(f"campaign {campaign_id!r} changed while it was being deleted; retry") from None
    sweep_days(store, campaign_id)


def load_campaign(store, campaign_id: str) -> tuple[Campaign, str]:
    return load_document(store, campaign_key(campaign_id), Campaign, f"campaign {campaign_id!r}")


def campaign_keys(store) -> Iterator[str]:
    """The keys of the stored campaigns: `<id>.json` only (see list_campaigns)."""
    return (key for key in store.list(CAMPAIGNS) if re.fullmatch(rf"{CAMPAIGNS}{CAMPAIGN_ID}\.json", key))


def list_campaigns(store, damaged: list | None = None) -> list[Campaign]:
    """Every campaign, read several at a time; a damaged document is logged and left out (and added to `damaged`:
    documents.readable_together). Only `<id>.json` is a
    campaign: another file beside them (one set aside as `<id>.json.bak`) was read as campaign `<id>.json.bak`, whose
    NotFoundError stopped the daily run."""
    return [campaign for campaign, _ in readable_together(sorted(campaign_keys(store)), lambda key: load_campaign(
        store, key.removeprefix(CAMPAIGNS).removesuffix(".json")), damaged)]


# No route deletes the days alone, and a write of days merges into them: deleting the campaign takes them (sweep_days)
DAMAGED_METRICS = ("restore an earlier version of the object, or delete the campaign (amx budget campaigns delete, or "
                   "DELETE /campaigns/{id}: its days go with it), add it again and post its days again")


def load_days(store, campaign_id: str) -> tuple[list[dict], str | None]:
    """The campaign's stored days as written and their ETag; DamagedData naming the key when the document does not
    parse or is no {"days": [<object>, ...]} (read with json.loads, one such raised out of the whole run)."""
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.storage import read_json

    stored, etag, problem = read_json(store, metrics_key(campaign_id), lambda doc: isinstance(doc, dict) and isinstance(
        doc.get("days"), list) and all(isinstance(row, dict) for row in doc["days"]), "not {\"days\": [<a day>, ...]}")
    if problem is not None:
        raise DamagedData(metrics_key(campaign_id), problem, DAMAGED_METRICS)
    return ([] if stored is None else stored["days"]), etag


def dated(campaign_id: str, stored: list[dict]) -> list[dict]:
    """Stored days as written, for a write to merge new ones into by date; DamagedData naming the key when one has no
    date as text (a KeyError or TypeError out of every write: a 500 with no words, an import stopped midway)."""
    from affiliate_matrix.errors import DamagedData

    if any(not isinstance(row.get("date"), str) for row in stored):
        raise DamagedData(metrics_key(campaign_id), "a day has no date (YYYY-MM-DD text)", DAMAGED_METRICS)
    return stored


def history(store, campaign_id: str, until: date | None = None, days: int | None = None) -> list[dict]:
    """The campaign's days (validated, oldest first), optionally those before `until`, the last `days` of them;
    DamagedData when its metrics are damaged or hold a day that is not one."""
    return validated_days(campaign_id, load_days(store, campaign_id)[0], until, days)


@cache
def metrics_adapter() -> TypeAdapter:
    """A stored metrics document read and checked in one pass by pydantic (json.loads, then a check of each day, took
    twice as long: the daily run reads every campaign's)."""
    from pydantic import ConfigDict
    from typing_extensions import TypedDict

    class Stored(TypedDict):
        __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]  # its campaign_id and currency
        days: list[Day]

    return TypeAdapter(Stored)


def read_days(store, campaign_id: str) -> tuple[list[dict] | None, list[dict] | None]:
    """The campaign's days in one GET: (its days validated, None) when its document passes in one pass; else (None, its
    days as written: load_days's, read again), for validated_days to name what is wrong as it always has."""
    try:
        stored = store.get(metrics_key(campaign_id))
    except NotFoundError:
        return [], None
    try:
        return sorted(metrics_adapter().validate_json(stored.data)["days"], key=lambda d: d["date"]), None
    except ValidationError:
        return None, load_days(store, campaign_id)[0]


def validated_days(campaign_id: str, stored: list[dict], until: date | None = None, days: int | None = None,
                   checked: list[dict] | None = None) -> list[dict]:
    """history() of days already read (load_days), or already `checked` (read_days)."""
    from affiliate_matrix.errors import DamagedData

    try:
        rows = checked if checked is not None else sorted(days_adapter().validate_python(stored), key=lambda d: d["date"])
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]  # the first bad day's first error; its location after the day's index
        raise DamagedData(metrics_key(campaign_id), f"a day's {'.'.join(map(str, err['loc'][1:]))}: {err['msg']}",
                          DAMAGED_METRICS) from None
    twice = next((a["date"] for a, b in zip(rows, rows[1:]) if a["date"] == b["date"]), None)
    if twice is not None:  # never written so (a later row for a date replaces it); the run's contract refuses it
        raise DamagedData(metrics_key(campaign_id), f"{twice} is stored twice", DAMAGED_METRICS)
    if until is not None:
        rows = [d for d in rows if d["date"] < until]
    return rows[-days:] if days else rows


class CurrencyChanged(ConflictError):
    """A campaign's currency changed while days in its former currency were being written: none were."""


def claim_days(store, campaign: Campaign, etag: str | None = None, attempts: int = 5) -> Campaign:
    """The campaign as stored, its currency fixed as its days' (days_currency), `campaign` being the copy whose
    currency the days are in (read with `etag`, when given: not read again). A PUT changing the currency reads the
    days, then writes the campaign on the ETag it read: days written between were left under the new currency. The
    first write of days sets days_currency on the ETag it read, so of the two one loses: the PUT (412, or refused
    naming the days' currency), or this write (CurrencyChanged: the currency is no longer `campaign`'s).
    NotFoundError when the campaign is gone."""
    for _ in range(attempts):
        if campaign.days_currency == campaign.currency:  # fixed for good: no PUT changes it any more
            return campaign
        stored, etag = (campaign, etag) if etag is not None else load_campaign(store, campaign.id)
        if stored.currency != campaign.currency:
            raise CurrencyChanged(f"campaign {campaign.id}: its currency changed to {stored.currency} while its days "
                                  f"in {campaign.currency} were being written; none were (read it again)")
        if stored.days_currency == stored.currency:
            return stored
        campaign = stored.model_copy(update={"days_currency": stored.currency})
        try:
            save_document(store, campaign_key(campaign.id), campaign, if_match=etag)
        except ConflictError:
            campaign, etag = stored, None  # changed meanwhile: read again
            continue
        return campaign
    raise ConflictError(f"campaign {campaign.id} kept changing under {attempts} attempts; retry")


class Dropped(NamedTuple):
    """The days a write left out of the window its campaign keeps, stored before it or written by it: every such day
    dated `first` to `last` (all dated before the window), `days` of them. The budget index keeps them for the
    dashboards."""
    days: int
    first: str
    last: str


def dropped_said(dropped: Dropped) -> str:
    """A write's Dropped in words, as `amx budget import` says them."""
    return (f"{counted(dropped.days, 'day')} dropped, {dropped.first}"
            + ("" if dropped.first == dropped.last else f" to {dropped.last}"))


def record_days(rt, campaign: Campaign, days: list[dict], attempts: int = 5, etag: str | None = None) -> Dropped | None:
    """Merge days into the campaign's metrics (same date: the new row wins), then mirror them. Returns the days the
    write dropped from the window the campaign keeps (theirs or stored ones), or None. Its currency is fixed as theirs first (claim_days: CurrencyChanged when it changed since `campaign` was read, with
    `etag` when given). NotFoundError when the campaign was deleted meanwhile (its days left behind, a campaign added
    again under its id inherited them)."""
    return _record_days(rt, campaign, {d["date"].isoformat(): d for d in days}, attempts, etag)


def _record_days(rt, campaign: Campaign, incoming: dict[str, dict], attempts: int = 5,
                 etag: str | None = None) -> Dropped | None:
    """record_days of days by ISO date, the days themselves (an import's may be a million: no copy of them); their
    dates ISO text or dates (json.dumps writes them)."""
    campaign = claim_days(rt.store, campaign, etag)
    for _ in range(attempts):
        current, etag = load_days(rt.store, campaign.id)
        dated(campaign.id, current)
        merged = {row["date"]: row for row in current} | incoming
        start = window_start(campaign.id, current, incoming)
        kept = sorted(k for k in merged if k >= start)
        body = json.dumps({"campaign_id": campaign.id, "currency": campaign.currency,
                           "days": [merged[k] for k in kept]}, default=date.isoformat).encode()
        try:
            rt.store.put(metrics_key(campaign.id), body, content_type="application/json",
                         if_match=etag, if_none_match=etag is None)
            break
        except ConflictError:
            continue
    else:
        raise ConflictError(f"campaign {campaign.id}: metrics kept changing under {attempts} attempts; retry")
    if rt.store.head(campaign_key(campaign.id)) is None:  # deleted after it was read: its days go as DELETE takes them
        sweep_days(rt.store, campaign.id)
        raise NotFoundError(f"campaign {campaign.id} was deleted while its days were written")
    from affiliate_matrix.budget.mirror import mirror_days  # the search port: loaded by a write, not a read

    mirror_days(rt, campaign, incoming)
    if len(kept) == len(merged):
        return None
    return Dropped(len(merged) - len(kept), min(merged), max(k for k in merged if k < start))


def window_start(campaign_id: str, current: list[dict], incoming: dict[str, dict]) -> str:
    """The first date the campaign keeps once `incoming` (by ISO date) is written over `current`: MAX_STORED_DAYS
    back from the newest day. InvalidInput naming the limit when every incoming day falls before it, or when no
    stored day would be left in it (window_problem). ISO dates compare as strings; a stored row whose date is text
    but no valid date is kept as it is (its reader names it; one with no text date: dated)."""
    start, problem = _window(current, incoming)
    if problem is not None:
        raise InvalidInput(f"campaign {campaign_id}: days: {problem[1]}")
    return start


def window_problem(current: list[dict], incoming: dict[str, dict]) -> tuple[str, str] | None:
    """Why `incoming` may not be written over `current` (see window_start): the incoming day at fault (ISO) and
    what is wrong, in words; or None."""
    return _window(current, incoming)[1]


def _window(current: list[dict], incoming: dict[str, dict]) -> tuple[str, tuple[str, str] | None]:
    stored = [row["date"] for row in current if iso_day(row.get("date"))]
    newest = max([*stored, *incoming])
    start = date.fromordinal(max(1, date.fromisoformat(newest).toordinal() - MAX_STORED_DAYS + 1)).isoformat()
    kept = f"a campaign keeps the last {MAX_STORED_DAYS:,} days from its newest"
    if max(incoming) < start:  # nothing written would be kept
        return start, (max(incoming), f"{max(incoming)} is more than {MAX_STORED_DAYS:,} days before the newest "
                                      f"day, {newest} ({kept}: the days from {start} on)")
    # A long import's older days are dropped as stored ones are; but a write whose days fall apart by more than the
    # window (2026-11-01 and 9999-01-01) would keep one part only: a typo, refused.
    ordered = sorted(incoming)
    for earlier, later in zip(ordered, ordered[1:]):
        if date.fromisoformat(later).toordinal() - date.fromisoformat(earlier).toordinal() >= MAX_STORED_DAYS:
            return start, (later, f"{earlier} is more than {MAX_STORED_DAYS:,} days before the next day written, "
                                  f"{later} ({kept})")
    if stored and max(stored) < start:
        last = date.fromordinal(date.fromisoformat(max(stored)).toordinal() + MAX_STORED_DAYS - 1).isoformat()
        return start, (newest, f"{newest} is more than {MAX_STORED_DAYS:,} days after every stored day (the newest "
                               f"{max(stored)}), which would all be dropped ({kept}): send the days up to {last} "
                               f"first (at most {MAX_STORED_DAYS - 1:,} days after it), oldest first, then the later "
                               "ones")
    return start, None


def parse_days(body: list, currency: str, where: str = "days") -> list[dict]:
    """Days posted over HTTP: each validated, the first error named by its position."""
    if not isinstance(body, list) or not body:
        raise InvalidInput(f"{where}: expected a non-empty list of days")
    days, seen = [], set()
    for i, row in enumerate(body):
        if not isinstance(row, dict):
            raise InvalidInput(f"{where}[{i}]: expected an object")
        if "date" in row and not iso_day(row["date"]):
            raise InvalidInput(f"{where}[{i}].date: {repr(row['date'])[:60]} {NOT_A_DAY}")
        row_currency = row.get("currency", currency)
        if row_currency != currency:
            raise InvalidInput(f"{where}[{i}].currency: {row_currency!r} is not the campaign's currency {currency}")
        try:
            day = written_day({k: v for k, v in row.items() if k != "currency"})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise InvalidInput(f"{where}[{i}].{'.'.join(map(str, err['loc']))}: {error_said(err)}") from None
        if day["date"] in seen:
            raise InvalidInput(f"{where}[{i}].date: {day['date']} appears twice")
        seen.add(day["date"])
        days.append(day)
    return days


def import_key(source) -> str:
    """Where an import of `source` (bytes, or a binary file that can seek) keeps its journal while it is written: one
    per file, named by its SHA-256, so the same file again finds it. InvalidInput when the file is larger than
    MAX_CSV_BYTES or not UTF-8 (check_utf8: checked as it is read)."""
    import hashlib

    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    digest = hashlib.sha256()
    handle.seek(0)
    check_utf8(handle, digest, MAX_CSV_BYTES)
    return f"{IMPORTS}{digest.hexdigest()}.json"


def pending_imports(store) -> list[str]:
    """The journals of the imports begun and not finished: some of their campaigns' days may not be written yet. Only
    import_key's keys: another file there (a journal set aside as `.json.bak`) was an import no one could give up."""
    return [key for key in store.list(IMPORTS) if re.fullmatch(rf"{IMPORTS}[0-9a-f]{{64}}\.json", key)]


class UnfinishedImport(NamedTuple):
    """An import begun and not finished, as `amx budget imports list` shows it."""
    id: str  # the SHA-256 of its file, hex: its journal is IMPORTS + id + ".json"
    written: list[str] | None  # its campaigns written so far; None when its journal is damaged
    not_written: list[str] | None


def unfinished_imports(store) -> list[UnfinishedImport]:
    """Every import begun and not finished, with the campaigns it wrote and those it did not (yet)."""
    from affiliate_matrix.errors import DamagedData

    found = []
    for key in pending_imports(store):
        import_id = key.removeprefix(IMPORTS).removesuffix(".json")
        try:
            journal, _ = _load_journal(store, key)
        except DamagedData:
            found.append(UnfinishedImport(import_id, None, None))
            continue
        if journal is not None:  # None: finished since it was listed
            written = list(dict.fromkeys(journal["written"]))
            found.append(UnfinishedImport(import_id, written, [c for c in journal["campaigns"] if c not in written]))
    return found


def abandon_import(store, given: str) -> UnfinishedImport:
    """Give an unfinished import up: its journal deleted, so that no run reports it any more and the same file
    imported again is checked and written anew. The days it wrote stay (each campaign's are whole in themselves: an
    import writes a campaign's days in one write); it says which campaigns those are. `given`: the import's id as
    `unfinished_imports` shows it, or a prefix of it of at least 8 hex digits naming one import."""
    if not re.fullmatch(r"[0-9a-f]{8,64}", given):
        raise InvalidInput(f"{given!r} is not an import's id (8 to 64 hex digits: `amx budget imports list` shows them)")
    matching = [found for found in unfinished_imports(store) if found.id.startswith(given)]
    if not matching:
        raise NotFoundError(f"no unfinished import {given} (finished or given up already?)")
    if len(matching) > 1:
        raise InvalidInput(f"{given} names {len(matching)} imports ({', '.join(m.id[:16] for m in matching)}): give "
                           "more of its id")
    store.delete(f"{IMPORTS}{matching[0].id}.json")
    log.info("budget.import_abandoned", import_id=matching[0].id, written=matching[0].written,
             not_written=matching[0].not_written)
    return matching[0]


class Imported(NamedTuple):
    """What an import wrote: the days of each campaign, and the days each write dropped from the window its campaign
    keeps (the file's older days, or stored ones), by campaign."""
    written: dict[str, int]
    dropped: dict[str, Dropped]


def import_csv(rt, source, finish: str = "import the same file again") -> Imported:
    """Import a CSV of daily rows (columns CSV_COLUMNS; clicks and conversions may be empty) from `source`, its bytes or
    a binary file that can seek. The whole file is checked first, each campaign's days against its stored ones too
    (the window a campaign keeps); any bad line fails the import with every error named by line, before anything is
    written. Returns the days written per campaign and those each write dropped (Imported).

    The file's rows are spilled to disk by campaign (ImportRows) and read back a campaign at a time: memory holds one
    campaign's days, not the file's. The object store has no transaction across campaigns, so once the file is checked
    a journal names its campaigns, then each campaign's days are written, then the journal is deleted. A write failing
    or the process stopping midway leaves the journal (listed by pending_imports: the daily run reports it): the same
    file again (its SHA-256 finds the journal) is read again and writes the campaigns not yet written, which
    ImportIncomplete names. A campaign changed since the check (deleted, its currency, a window its days no longer
    fit) is left out and named, the others written."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    key = import_key(handle)
    journal, etag = _load_journal(rt.store, key)
    with ImportRows() as rows:
        if journal is None:
            journal = {"campaigns": {campaign_id: {"currency": currency} for campaign_id, currency in
                                     _checked(rt, handle, key, rows).items()}, "written": []}
            try:
                etag = rt.store.put(key, json.dumps(journal).encode(), content_type="application/json",
                                    if_none_match=True)
            except ConflictError:  # the same file being imported beside this: both write the same days, harmlessly
                etag = rt.store.head(key)
        else:  # the file was checked by the import that stored it; the days a journal stored before 2026-12 holds are
            # the file's too: read from it again, as a journal stored since (campaigns and currencies only) needs
            journal["campaigns"] = {campaign_id: {"currency": part["currency"]}
                                    for campaign_id, part in journal["campaigns"].items()}
            _read(rt, handle, key, rows, check=False)
        return _write_journal(rt, key, journal, etag, finish, rows)


class ImportRows:
    """An import's rows by campaign, in a temporary SQLite file until they are written, read back a campaign at a
    time: a year of a few thousand campaigns' days is hundreds of MB of CSV, and held as dicts it took 13 times that
    (the pod was killed). On disk they take about the file's size (SQLite's page cache, ~2 MB, is all it keeps)."""

    BATCH = 1_000  # rows inserted at a time

    def __enter__(self):
        import sqlite3
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="amx-budget-import-")
        self._db = sqlite3.connect(f"{self._dir.name}/rows.db")
        self._db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; CREATE TABLE rows (campaign "
                               "INTEGER, line INTEGER, date TEXT, spend REAL, clicks INTEGER, conversions INTEGER, "
                               "revenue REAL)")  # counts read back as the ints they were written as
        self.days: dict[str, int] = {}  # how many rows each campaign has, in the order of their first
        self._numbers: dict[str, int] = {}
        self._batch: list[tuple] = []
        self._indexed = False
        return self

    def __exit__(self, *_):
        self._db.close()
        self._dir.cleanup()

    def add(self, campaign_id: str, line: int, day: dict) -> None:
        number = self._numbers.setdefault(campaign_id, len(self._numbers))
        self.days[campaign_id] = self.days.get(campaign_id, 0) + 1
        self._batch.append((number, line, day["date"], day["spend"], day.get("clicks"), day.get("conversions"),
                            day["revenue"]))
        if len(self._batch) == self.BATCH:
            self._flush()

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", self._batch)
        self._batch.clear()

    def of(self, campaign_id: str) -> list[tuple[int, dict]]:
        """(its line, the day) for each row of the campaign, in the file's order; days as _csv_row gives them."""
        if not self._indexed:  # built once every row is in: faster than kept up row by row
            self._flush()
            self._db.execute("CREATE INDEX by_campaign ON rows (campaign, line)")
            self._indexed = True
        if campaign_id not in self._numbers:
            return []
        return [(line, _day(*columns)) for line, *columns in self._db.execute(
            "SELECT line, date, spend, clicks, conversions, revenue FROM rows WHERE campaign = ? ORDER BY line",
            (self._numbers[campaign_id],))]


def _day(day: str, spend: float, clicks: int | None, conversions: int | None, revenue: float) -> dict:
    """A day as _csv_row gave it (its keys in its order, as stored), from its columns: an empty count has no key."""
    found = {"date": day, "spend": spend, "clicks": clicks, "conversions": conversions, "revenue": revenue}
    return {name: value for name, value in found.items() if value is not None}


def _checked(rt, handle, key: str, rows: ImportRows) -> dict[str, str]:
    """The currency of each campaign of the file (in the order of its first row), its rows in `rows`, once every line
    is checked: read, its campaign stored and in its currency (_read), each date once a campaign, then each campaign's
    days against its stored ones (the window it keeps). InvalidInput naming the first MAX_ERRORS errors by line."""
    currencies = _read(rt, handle, key, rows, check=True)
    errors: list[str] = []
    for campaign_id in rows.days:
        by_date = {day["date"]: (line, day) for line, day in rows.of(campaign_id)}
        if problem := window_problem(dated(campaign_id, load_days(rt.store, campaign_id)[0]), by_date):
            errors.append(f"line {by_date[problem[0]][0]}: campaign {campaign_id}: days: {problem[1]}")
            if len(errors) >= MAX_ERRORS:
                errors.append("… stopping after 20 errors")
                break
    if errors:
        raise InvalidInput("the import was refused, nothing was written:\n" + "\n".join(errors))
    if not rows.days:
        raise InvalidInput("the file has no rows")
    return {campaign_id: currencies[campaign_id] for campaign_id in rows.days}


def _read(rt, handle, key: str, rows: ImportRows, check: bool) -> dict[str, str | None]:
    """Every row of the file read into `rows`; InvalidInput naming the first MAX_ERRORS errors by line. `check`: each
    row's campaign looked up (its currency returned by id, None when not stored), and its rows refused unless stored,
    in its currency, one a date; else (the file read again to finish its import) rows are only read."""
    import hashlib

    read_digest = hashlib.sha256()
    handle.seek(0)
    raw = io.BufferedReader(Digested(handle, read_digest), CHUNK)
    reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    for separator, named in ((";", "';'"), ("\t", "tabs")):  # a spreadsheet's export in a locale with decimal commas
        if len(header) == 1 and separator in header[0]:
            raise InvalidInput(f"line 1: columns are separated by {named}, expected ',' (save the file as CSV with "
                               "commas between columns and points in numbers, as 10.25)")
    missing = [c for c in CSV_COLUMNS if c not in header]
    extra = [c for c in header if c not in CSV_COLUMNS]
    twice = [c for c in CSV_COLUMNS if header.count(c) > 1]  # the csv module keeps a row's last cell of a name
    if missing or extra or twice:
        raise InvalidInput("line 1: the header must be " + ",".join(CSV_COLUMNS)
                           + (f"; missing {', '.join(missing)}" if missing else "")
                           + (f"; unknown {', '.join(extra)}" if extra else "")
                           + (f"; {', '.join(twice)} twice" if twice else ""))
    reader.fieldnames = header
    currencies: dict[str, str | None] = {}
    errors: list[tuple[int, str]] = []
    unreadable = None  # a row the csv module cannot read: nothing after it is
    records = csv_rows(reader)
    while len(errors) < MAX_ERRORS:
        try:
            line, record = next(records)
        except StopIteration:
            break
        except InvalidInput as exc:
            unreadable = exc
            break
        try:
            campaign_id, day, currency = _csv_row(record)
        except ValueError as exc:
            errors.append((line, f"line {line}: {exc}"))
            continue
        if check:
            if campaign_id not in currencies:  # its currency only, not 20,000 campaigns held to the end
                try:
                    currencies[campaign_id] = load_campaign(rt.store, campaign_id)[0].currency
                except NotFoundError:
                    currencies[campaign_id] = None
            if currencies[campaign_id] is None:
                errors.append((line, f"line {line}: campaign_id: "  # in the words of every read of a campaign
                                     f"{no_document(f'campaign {campaign_id!r}', 'add it first')}"))
                continue
            if currency != currencies[campaign_id]:
                errors.append((line, f"line {line}: currency: {currency!r} is not campaign {campaign_id}'s "
                                     f"{currencies[campaign_id]}"))
                continue
        rows.add(campaign_id, line, day)
    while raw.read(CHUNK):  # the rest, for the digest
        pass
    if f"{IMPORTS}{read_digest.hexdigest()}.json" != key:  # what was checked for UTF-8, and found the journal
        raise InvalidInput("the file changed while it was read; import it again once it is written")
    if check:
        errors = heapq.nsmallest(MAX_ERRORS, errors + _twice(rows))  # the first errors by line, whatever their kind
    if unreadable is not None and len(errors) < MAX_ERRORS:
        raise unreadable
    if errors:
        raise InvalidInput("the import was refused, nothing was written:\n" + "\n".join(said for _, said in errors)
                           + ("\n… stopping after 20 errors" if len(errors) >= MAX_ERRORS else ""))
    return currencies


def _twice(rows: ImportRows) -> list[tuple[int, str]]:
    """The first MAX_ERRORS rows by line giving a campaign's date given before, named with the line before."""
    found: list[tuple[int, str]] = []
    for campaign_id in rows.days:
        first: dict[str, int] = {}
        for line, day in rows.of(campaign_id):
            if day["date"] in first:
                found.append((line, f"line {line}: {campaign_id} {day['date']} already given on line "
                                    f"{first[day['date']]}"))
            else:
                first[day["date"]] = line
        found = heapq.nsmallest(MAX_ERRORS, found)
    return found


def _load_journal(store, key: str) -> tuple[dict | None, str | None]:
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.storage import read_json

    journal, etag, problem = read_json(store, key, lambda doc: isinstance(doc, dict) and isinstance(
        doc.get("campaigns"), dict) and isinstance(doc.get("written"), list) and all(
        isinstance(part, dict) and isinstance(part.get("currency"), str) for part in doc["campaigns"].values()),
        'not {"campaigns": {ID: {"currency": …}, …}, "written": […]}')
    if problem is not None:
        raise DamagedData(key, problem, "delete it and import the file again (its campaigns' days are written again, "
                                        "harmlessly)")
    return journal, etag


def _write_journal(rt, key: str, journal: dict, etag: str | None, finish: str, rows: ImportRows) -> Imported:
    """Each campaign of the journal not yet written, one after another (a campaign's days written twice are the same
    days: a later row for a date replaces it), its days read from `rows`; then the journal deleted. Names what was
    and was not written, and the days each write dropped."""
    campaigns, written = journal["campaigns"], dict.fromkeys(journal["written"])
    dropped: dict[str, Dropped] = {}  # by campaign written here (one written by an earlier run said its own)
    left_out: dict[str, str] = {}  # changed since the check: no import of this file writes their days as they are
    for campaign_id, part in campaigns.items():
        if campaign_id in written:
            continue
        try:
            if gone := _write_campaign(rt, campaign_id, part["currency"],
                                       {day["date"]: day for _, day in rows.of(campaign_id)}):
                dropped[campaign_id] = gone
        except (InvalidInput, NotFoundError, CurrencyChanged) as exc:
            left_out[campaign_id] = f"{exc}: its {_days(rows, campaign_id)} were not written"
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - whatever stopped it, the user learns how far
            _note_written(rt.store, key, journal, etag, list(written))
            cause = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) or type(exc).__name__
            not_written = [cid for cid in campaigns if cid not in written and cid not in left_out]
            raise ImportIncomplete(
                f"the import stopped at campaign {campaign_id} ({cause}): written: "
                + _named([_written_said(cid, dropped, _days(rows, cid)) for cid in written]) + "; not written: "
                + _named(not_written) + "".join(f"; {reason}" for reason in list(left_out.values())[:MAX_ERRORS])
                + f"; to finish it, {finish} (the campaigns written are not written again; until then the daily "
                  f"run reports the import unfinished: {key})") from exc
        else:
            written[campaign_id] = None
    rt.store.delete(key)  # done: every campaign written, or left out for good
    if left_out:
        raise InvalidInput("; ".join(list(left_out.values())[:MAX_ERRORS])
                           + (f"; and {len(left_out) - MAX_ERRORS:,} more campaigns" if len(left_out) > MAX_ERRORS else "")
                           + " (changed since the file was checked); the other campaigns' days were written: "
                           + _named([_written_said(cid, dropped) for cid in written]))
    return Imported({campaign_id: rows.days.get(campaign_id, 0) for campaign_id in campaigns}, dropped)


def _days(rows: ImportRows, campaign_id: str) -> str:
    return counted(rows.days.get(campaign_id, 0), "day")


def _written_said(campaign_id: str, dropped: dict[str, Dropped], days: str = "") -> str:
    """A campaign an import wrote, with `days` (how many, when given) and the days its write dropped, if any."""
    said = "; ".join(part for part in (days, campaign_id in dropped and dropped_said(dropped[campaign_id])) if part)
    return f"{campaign_id} ({said})" if said else campaign_id


def _named(items: list[str]) -> str:
    """A list in words, the first MAX_ERRORS of it (an import may hold 20,000 campaigns)."""
    more = f" and {len(items) - MAX_ERRORS:,} more" if len(items) > MAX_ERRORS else ""
    return (", ".join(items[:MAX_ERRORS]) or "none") + more


def _write_campaign(rt, campaign_id: str, currency: str, days: dict[str, dict]) -> Dropped | None:
    """One campaign's days of an import (by ISO date), against the campaign as it is now: NotFoundError when it was
    deleted, InvalidInput when its currency is no longer the file's (`currency`) or its days no longer fit its
    window. Returns the days the write dropped (record_days)."""
    try:
        campaign, etag = load_campaign(rt.store, campaign_id)
    except NotFoundError:
        raise NotFoundError(f"campaign {campaign_id} was deleted while the file was imported") from None
    if campaign.currency != currency:
        raise InvalidInput(f"campaign {campaign_id}: currency: its days are in {currency}, and the campaign "
                           f"is now in {campaign.currency}")
    return _record_days(rt, campaign, days, etag=etag)


def _note_written(store, key: str, journal: dict, etag: str | None, written: list[str]) -> None:
    """The campaigns written so far, in the journal, for the same file again to skip them. Best effort: when it
    fails too (the store down), the same file again writes those campaigns again, harmlessly."""
    for _ in range(3):
        if etag is None:  # the journal is gone: an import of the same file beside this one finished it
            return
        try:
            store.put(key, json.dumps({**journal, "written": written}).encode(), content_type="application/json",
                      if_match=etag)
            return
        except ConflictError:  # the same file imported beside this one: both lists count
            try:
                journal, etag = _load_journal(store, key)
            except Exception:  # noqa: BLE001 - a note only
                return
            if journal is None:  # that import finished it
                return
            written = list(dict.fromkeys([*journal["written"], *written]))
        except Exception as exc:  # noqa: BLE001 - a note only
            log.warning("budget.import_progress_not_noted", key=key, error=str(exc))
            return


def _csv_row(record: dict) -> tuple[str, dict, str]:
    if None in record or any(v is None for v in record.values()):
        raise ValueError(f"expected {len(CSV_COLUMNS)} columns")
    values = {k: v.strip() for k, v in record.items()}
    campaign_id = values["campaign_id"]
    if why := not_a_campaign_id(campaign_id):  # CampaignId's rule (a TypeAdapter built per line: 2/3 of the check)
        raise ValueError(f"campaign_id: {why}")
    if not iso_day(values["date"]):
        raise ValueError(f"date: {values['date'][:40]!r} {NOT_A_DAY}")
    day = {"date": values["date"]}
    for column in ("spend", "clicks", "conversions", "revenue"):
        raw = values[column]
        if raw == "" and column in ("clicks", "conversions"):
            continue
        shown = f"{raw[:40]!r}{'…' if len(raw) > 40 else ''}"  # a cell may be 128 KiB
        if not is_number(raw):  # "1_000", "١٠٠", "NaN": Decimal reads them
            raise ValueError(f"{column}: {shown} is not {NUMBER_WORDS}")
        try:
            number = Decimal(raw)
        except ArithmeticError:  # an exponent past what Decimal holds (1e99999999999999999999)
            raise ValueError(f"{column}: {shown} is too large or too small a number") from None
        day[column] = float(number)
        if math.isinf(day[column]):  # hundreds of digits: it was refused as "got inf"
            raise ValueError(f"{column}: {shown} is too large a number")
    try:
        parsed = written_day(day)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        said = err["msg"].removeprefix("Value error, ")  # a check of ours names the value itself
        raise ValueError(f"{'.'.join(map(str, err['loc']))}: {said}"
                         + ("" if err["type"] == "value_error" else f" (got {err.get('input')!r})")) from None
    parsed["date"] = parsed["date"].isoformat()  # as the journal keeps it
    return campaign_id, parsed, values["currency"].upper()
