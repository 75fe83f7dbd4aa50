"""The main job, top to bottom: scrape a connection into raw pages and a batch of raw records,
announce the batch, and index it into the master index. Each step is idempotent."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from functools import cache
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from affiliate_matrix.connections import (DIRECTORY_CRAWL, credentials_for, credentials_replaced, http_cache_key,
                                         load_connection, mark_refused, write_kept)
from affiliate_matrix.crawl import MAX_QUEUED, BudgetSpent, Failure, Fetched, StoredPages, crawl, time_budget
from affiliate_matrix.deltas import DELTAS_INDEX, diff, feed_item
from affiliate_matrix.errors import (BackendUnavailable, ConfigError, ConflictError, DamagedData, InvalidInput,
                                     NotFoundError, ObjectTooLarge)
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.events import PROGRAM_DELTA, RAW_BATCH_STORED, Event
from affiliate_matrix.fetch import Fetcher, http_cache
from affiliate_matrix.polite import WaitBudget
from affiliate_matrix.models import DeltaChange, Program, RawRecord, SourceRecord
from affiliate_matrix.merge import claimant, claims_of, combined, merge
from affiliate_matrix.normalize import normalize, with_merchant_key
from affiliate_matrix.observability import bind_source, get_logger
from affiliate_matrix.program_index import (PROGRAMS_INDEX, from_document, match_keys, network_programs, programs_of,
                                           to_document)
from affiliate_matrix.resolve import Candidate, name_words, resolve
from affiliate_matrix.search import MAX_PAGE, MAX_WORDS, IndexBehind, SearchQuery, Versioned, migrate_first, words
from affiliate_matrix.sitemaps import Refused as SitemapsRefused
from affiliate_matrix.sitemaps import seeds as sitemap_seeds
from affiliate_matrix.sources import ApiSource, all_sources, get_source
from affiliate_matrix.storage import MAX_BATCH_BYTES, read_json
from affiliate_matrix.sync import StoredAnswers, new_run, sync
from affiliate_matrix.wording import counted

log = get_logger()


@dataclass
class ScrapeReport:
    connection_id: str
    batch_key: str
    event_id: str
    records: int
    failures: list[Failure] = field(default_factory=list)
    pages: int = 0
    not_modified: int = 0
    # Why the run does not withdraw what the connection no longer lists (None: a complete run, which does)
    incomplete: str | None = None
    # A crawl that stopped at its time budget or page limit, and how many pages it left queued for the next run
    budget_spent: BudgetSpent | None = None
    source: str = ""  # the connection's source plugin (its failures' requests named as it names them: outcome)
    # An API's sync (sync.RUN): a live one's own; a replay's, the sync whose answers it read (None: not said)
    run: str | None = None
    # A directory's sitemaps its crawl refused and went on without (a damaged file, one on another host): not a failure
    sitemaps_refused: SitemapsRefused = field(default_factory=SitemapsRefused)


@dataclass
class IndexReport:
    batch_key: str
    records: int
    # The batch's programs: new to the index; changed in a field the change feed tracks (a delta); or unchanged, as
    # indexed or only seen again (its last_seen_at and its claims' times moved, as every run moves them: counted
    # updated, they made a demo's rerun say "34 updated" of programs nothing had changed in)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deltas: list[DeltaChange] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    # Why records of the batch were not indexed (None: none were left out): their connection was deleted (or deleted
    # and created again) since their run began
    skipped: str | None = None


def scrape(rt, connection_id: str, on_item: Callable[[RawRecord | Fetched | Failure], None] | None = None,
           *, replay: bool = False) -> ScrapeReport:
    """Collect a connection's listings: crawl a directory, or sync an API. With replay, parse the
    stored pages (or the API's stored answers) again instead of fetching. Then store the batch and announce it."""
    connection, _ = load_connection(rt.store, connection_id)
    source = get_source(connection.source)(str(connection.base_url) if connection.base_url else None)
    bind_source(source.name)
    run = None
    if isinstance(source, ApiSource):
        # the answers first: a connection with none kept has nothing to replay, whatever its key says
        replaying = StoredAnswers(rt.store, connection) if replay else None
        run = replaying.run if replay else new_run()  # a replay is of the sync whose answers it reads
        if not replay:
            credentials = credentials_for(rt, connection, source)
        # a replay sends nothing, so reads no key: its requests are built from the key's fields kept with the answers
        elif (credentials := replaying.credentials(source)) is None:
            credentials = _key_to_replay(rt, connection, source)
        items = sync(source, connection, credentials, rt.store, allow_loopback=rt.settings.allow_loopback_fetch,
                     time_limit_s=rt.settings.crawl_time_limit_s, replaying=replaying, run=run)
        if connection.credentials_path and not replay:  # a replay sends nothing: it says nothing of the key
            from affiliate_matrix.keys import record_use

            refused = any(isinstance(i, Failure) and i.refused for i in items)
            # usage is counted per path, beside its current version: a key rotated away while it was used (judged as
            # the mark is, by the secret's values) did not fail as the key there now
            if not (refused and credentials_replaced(rt, connection, credentials)):
                record_use(rt, connection.credentials_path, ok=not refused)
            # scheduled syncs pass it over until a passing test: refused keys sent daily can lock it
            if refused and (kept_off := mark_refused(rt, connection, credentials, datetime.now(UTC))):
                log.warning("scrape.refusal_not_marked", connection_id=connection.id, reason=kept_off,
                            credentials_path=connection.credentials_path)
    else:
        items = crawl_with_cache(rt, connection, source, replay)
    records, failures, pages, budget_spent, sitemaps_refused = [], [], [], None, SitemapsRefused()
    for item in items:
        if isinstance(item, BudgetSpent):  # the crawl's last word, not a page
            budget_spent = item
            continue
        if isinstance(item, SitemapsRefused):  # the crawl's first word, when it refused any
            sitemaps_refused = item
            continue
        {RawRecord: records, Fetched: pages, Failure: failures}[type(item)].append(item)
        if isinstance(item, Failure):
            log.warning("scrape.page_failed", url=item.url, stage=item.stage, reason=item.reason)
        if on_item:
            on_item(item)
    from affiliate_matrix.observability.telemetry import ITEMS

    ITEMS.labels("fetched").inc(len(pages))
    ITEMS.labels("parsed").inc(len(records))
    ITEMS.labels("failed").inc(len(failures))
    incomplete = incomplete_because(source, records, failures, budget_spent)
    if incomplete:
        log.info("scrape.incomplete", connection_id=connection.id, reason=incomplete,
                 withdrawn="nothing: programs it no longer lists keep its claims until a complete run")
    batch = "\n".join(r.model_dump_json() for r in records).encode()
    batch_key = rt.store.put_content_addressed(f"batches/{source.name}", batch, suffix=".jsonl",
                                               content_type="application/x-ndjson")
    event = Event.make(RAW_BATCH_STORED, f"/scrape/{connection.id}", {
        "batch_key": batch_key, "connection_id": connection.id, "records": len(records), "failures": len(failures),
        "complete": incomplete is None, "run": run,
    }, key=batch_key, subject=connection.id)
    log.info("scrape.done", connection_id=connection.id, records=len(records), failures=len(failures),
             batch_key=batch_key)
    rt.bus.publish(event)
    return ScrapeReport(connection.id, batch_key, event.id, len(records), failures, len(pages),
                        sum(p.not_modified for p in pages), incomplete, budget_spent, source.name, run,
                        sitemaps_refused)


def _key_to_replay(rt, connection, source) -> dict[str, str]:
    """The key, for a replay of answers kept before syncs kept the key's fields that are no secret with them
    (sync.key_fields): their requests are built with the key read, and one gone says so."""
    try:
        return credentials_for(rt, connection, source)
    except NotFoundError as exc:
        raise NotFoundError(f"{exc}; its API answers were kept before syncs kept the key's account fields with them, "
                            f"so their replay needs the key: once a key is there, a sync (amx scrape {connection.id}) "
                            "keeps them, and its replays need no key") from None


@dataclass
class Rebuilt:
    replayed: list[ScrapeReport] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # each connection not replayed, and why (damaged, no answers)
    discovery_batches: int = 0


def rebuild(rt) -> Rebuilt:
    """The programs rebuilt from what is stored, with no network: every connection replayed (its stored pages, or its
    API's stored answers) and every batch discovery stored announced again, each for the index to fold in as usual (a
    sighting older than the one indexed claims nothing, so the order does not matter)."""
    from affiliate_matrix.connections import stored_connections
    from affiliate_matrix.discovery import BATCHES, batch_stored

    rebuilt, damaged = Rebuilt(), []
    for connection, _ in stored_connections(rt.store, damaged):
        try:
            rebuilt.replayed.append(scrape(rt, connection.id, replay=True))
        except (InvalidInput, DamagedData, NotFoundError) as exc:  # no answers kept, or damaged; a key revoked or
            # gone that answers kept before syncs kept its fields need: named, the rest go on (a revoked key's
            # NotFoundError stopped the whole rebuild)
            log.warning("rebuild.left_out", connection_id=connection.id, reason=str(exc))
            rebuilt.left_out.append(str(exc))
    rebuilt.left_out += [item["error"] for item in damaged]
    for batch_key in sorted(rt.store.list(BATCHES)):
        try:
            records = sum(1 for line in rt.store.get(batch_key, max_bytes=MAX_BATCH_BYTES).data.splitlines()
                          if line.strip())
        except DamagedData as exc:  # too large to read: named, the rest go on
            log.warning("rebuild.left_out", batch_key=batch_key, reason=str(exc))
            rebuilt.left_out.append(str(exc))
            continue
        rt.bus.publish(batch_stored(batch_key, records))
        rebuilt.discovery_batches += 1
    return rebuilt


def incomplete_because(source, records: list, failures: list, budget_spent: BudgetSpent | None = None) -> str | None:
    """Why a run cannot say the connection no longer lists a program it does not list (None: it can, see
    withdraw_unlisted). Only an API's full listing read to its end, every request answered and every item read, can:
    an item not read may be the program. A directory crawl never does (a page limit, robots.txt or a 304 leaves
    programs unread): its programs are re-verified on their own pages (verify.py); one stopped at its time budget or
    page limit says so first, with the pages it left. An empty listing is taken for a fault (an account answering with
    nothing), not for every program closing at once."""
    if budget_spent:
        stopped = (f"stopped at its page limit of {budget_spent.pages} pages" if not budget_spent.out_of_time else
                   f"stopped at its time budget after {budget_spent.pages} pages (the waits the host's pace and its "
                   "answers' Retry-After asked for fit no more in the function's time limit)")
        return f"{stopped} with {budget_spent.left} left queued, asked for first next run"
    if not isinstance(source, ApiSource):
        return DIRECTORY_CRAWL
    if any(failure.out_of_time for failure in failures):
        return (f"stopped at its time budget after {len(records)} records (the waits the API's rate limit and its "
                "answers' Retry-After asked for fit no more in the function's time limit); what it read is kept")
    if failures:
        return f"{counted(len(failures), 'request or item', 'requests or items')} failed"
    if not records:
        return "it listed nothing"
    return None


def crawl_with_cache(rt, connection, source, replay: bool):
    """Crawl with the connection's ETag/Last-Modified cache, which is kept for next time, for the connection's
    generation (one kept for another is none: a fresh crawl), and which notes the run (its start) that last asked for
    each page. A live crawl asks for pages while the waits its fetcher is told to make (the host's spacing, each
    retry's Retry-After or backoff) fit in the function's time limit (crawl.time_budget): killed at that limit, it
    would store nothing. A replay asks no host: it reads every page kept (a run's page limit
    of 500 left the rest of a large directory's pages unparsed)."""
    validators_key = http_cache_key(connection.id)
    validators = http_cache(rt, validators_key, replaying=connection.id if replay else None, connection=connection)
    fetcher = StoredPages(rt.store, validators, source.name) if replay else Fetcher(
        rt.settings.user_agent, allow_loopback=rt.settings.allow_loopback_fetch,
        rate_limit_per_s=connection.rate_limit_per_s, concurrency=connection.concurrency, validators=validators,
        wait_budget=WaitBudget(time_budget(rt.settings.crawl_time_limit_s)))
    try:
        if not replay:
            fetcher.spacing(source.base_url)  # reads robots.txt once, before the crawl's threads would each read it
        # data: runs are ordered by it, never by now (a replay is none)
        run = None if replay else datetime.now(UTC).isoformat(timespec="microseconds")
        seeded, unchanged, refused = ([], set(), SitemapsRefused()) if source.program_pages is None else \
            sitemap_seeds(source, fetcher, rt.store, run)
        if refused.count:  # said with the run's outcome (scrape)
            yield refused
        if replay:  # every page kept, up to all a crawl holds: it asks no host, so a run's page limit is not its
            yield from crawl(source, connection, fetcher, rt.store, max_pages=MAX_QUEUED, seeds=(seeded, unchanged))
            return
        yield from crawl(source, connection, fetcher, rt.store, run=run, seeds=(seeded, unchanged))
    finally:
        fetcher.close()
        # Kept only while the connection is stored with this crawl's generation (write_kept); one not kept costs a
        # full fetch next time. A replay fetched nothing, so has nothing to note: it wrote back the cache it read,
        # over a crawl's meanwhile.
        if not replay:
            kept = {"generation": connection.generation, "pages": fetcher.validators}  # whose: fetch.http_cache
            write_kept(rt.store, connection, validators_key, lambda: json.dumps(kept).encode())


def index_batch(rt, batch_key: str, complete_run_of: str | None = None, run: str | None = None) -> IndexReport:
    """Normalize a batch, fold it into the index, and record and announce what changed. `complete_run_of`: the
    connection whose complete run the batch is (scrape's event says so): what the connection claimed before and this
    run did not list is withdrawn (withdraw_unlisted). `run`: the API sync the batch is of, or a replay's of (scrape's
    event says so; None: not said), never older than itself (superseded_runs). Records of a run whose connection is deleted since, or deleted
    and created again, are left out, the batch's report saying so, and their claims withdrawn (gone_runs); so are
    those of a connection deleted while the batch was being written."""
    collect_again = "collect the connection again (amx scrape, or amx replay for stored pages)"
    try:
        lines = rt.store.get(batch_key, max_bytes=MAX_BATCH_BYTES).data.splitlines()
    except ObjectTooLarge as exc:
        raise DamagedData(f"batch {batch_key}", exc.problem, collect_again) from None
    try:
        records = [RawRecord.model_validate_json(line) for line in lines if line.strip()]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise DamagedData(f"batch {batch_key}", f"{'.'.join(map(str, first['loc'])) or 'a line'}: {first['msg']}",
                          collect_again) from None
    report = IndexReport(batch_key, len(records))
    if gone := gone_runs(rt, records):
        report.skipped = "; ".join(f"{counted(len(of_run), 'record')} of connection {of_run[0].connection_id}, {why}"
                                   for of_run, why in gone) + (": their claims are not added back after its deletion "
                                                              "withdrew them")
        log.warning("index.records_skipped", batch_key=batch_key, connection_ids=sorted(
            {of_run[0].connection_id for of_run, _ in gone}), records=sum(len(of_run) for of_run, _ in gone),
            reason=report.skipped)
        left_out = {id(record) for of_run, _ in gone for record in of_run}
        records = [record for record in records if id(record) not in left_out]
        withdraw_runs(rt, gone)  # what an earlier attempt of this batch wrote before the connection went
        if not records:
            return report
    if superseded := superseded_runs(rt, records, run):
        why = "; ".join(f"{counted(len(of_run), 'record')} of connection {of_run[0].connection_id}, {reason}"
                        for of_run, reason in superseded)
        report.skipped = f"{report.skipped}; {why}" if report.skipped else why
        log.info("index.records_skipped", batch_key=batch_key, connection_ids=sorted(
            {of_run[0].connection_id for of_run, _ in superseded}), records=sum(len(of_run) for of_run, _ in superseded),
            reason=why)
        left_out = {id(record) for of_run, _ in superseded for record in of_run}
        records = [record for record in records if id(record) not in left_out]
        if not records:
            return report
    for spec in (PROGRAMS_INDEX, DELTAS_INDEX):
        rt.index.ensure_index(spec)
        live = rt.index.status(spec.name).current
        if live != spec.version:
            raise ConfigError("index", migrate_first(spec.name, live, spec.version))
    # One bad record fails itself, not its batch: an exception from the code that normalizes, merges or diffs it
    # becomes a recorded error naming it (the backend's own errors still fail the batch, to be retried).
    normalized, origin = [], []
    for record in records:
        try:
            normalized.append(normalize(record, batch_key))
            origin.append(record_name(record))
        except Exception as exc:
            report.errors.append((record_name(record), f"normalize: {exc!r}"[:500]))
    # A claimant's several records of one program (one merchant's offers, listed apart) are one sighting of it, what
    # each says kept (merge.combined); the sightings of its claimants are then merged.
    sightings: dict[tuple, list[tuple[Program, str]]] = {}
    for program, name in zip(resolved(rt, normalized), origin):
        sightings.setdefault((program.id, *claimant(program.provenance["name"][0])), []).append((program, name))
    stored = rt.index.get_versioned(PROGRAMS_INDEX.name, {program_id for program_id, *_ in sightings})  # one request
    indexed = {program_id: doc for program_id, (doc, _) in stored.items()}
    # A run of an API that did not read everything keeps the offers it did not reach (unreached_offers): those of the
    # program as read, or, in a re-merge after another run wrote it, as read again
    read = {(program.provenance["name"][0].connection_id, program.records[0].record_key) for program in normalized}
    batches: dict[str, dict] = {}
    made_of: dict[str, list[str]] = {}
    by_program: dict[str, list[tuple[str, list[tuple[Program, str]]]]] = {}
    for (program_id, source, _), listed in sightings.items():
        by_program.setdefault(program_id, []).append((source, listed))

    def merged(program_id: str, document: dict | None) -> Program | None:
        """The batch's sightings of a program merged, with the offers kept from `document` (the program as indexed)."""
        program, made_of[program_id] = None, []
        for source, listed in by_program[program_id]:
            try:
                if complete_run_of is None and document is not None and runs_complete(source):
                    listed = listed + unreached_offers(rt, from_document(document), [p for p, _ in listed], read,
                                                       batches)
                one = combined([p for p, _ in listed])
                program = one if program is None else merge(program, one)
            except Exception as exc:
                failed = [(name, f"merge into {program_id}: {exc!r}"[:500]) for _, name in listed]
                report.errors += [error for error in failed if error not in report.errors]  # (once, re-merged or not)
                continue
            made_of[program_id].extend(name for _, name in listed)  # the offers kept too
        return program

    programs = {program_id: program for program_id in by_program
                if (program := merged(program_id, indexed.get(program_id))) is not None}

    withdrawn = Changes(lambda program_id, document: (None, None))
    if complete_run_of is not None:
        withdrawn = withdraw_unlisted(rt, complete_run_of, records, set(programs), report.errors, run)

    counted_as: dict[str, str] = {}  # what the report counts each program as: "created", "updated" or "unchanged"

    def count(program_id: str, existing: dict | None, document: dict | None, delta: DeltaChange | None) -> None:
        if (before := counted_as.get(program_id)) is not None:
            setattr(report, before, getattr(report, before) - 1)
        now = "created" if existing is None and document is not None else "updated" if delta is not None else \
            "unchanged"
        setattr(report, now, getattr(report, now) + 1)
        counted_as[program_id] = now

    def again(program_id: str, document: dict | None) -> tuple[dict | None, DeltaChange | None]:
        """The batch's change to a program another run wrote since it was read, made on the program as it is now."""
        if program_id not in programs:
            return withdrawn.again(program_id, document)
        program = merged(program_id, document)
        if program is None:  # (every sighting failed to merge: each is in the report's errors)
            count(program_id, document, None, None)
            return None, None
        made, delta = indexed_form(program.model_copy(deep=True), document)  # (a lone sighting is the record's own)
        count(program_id, document, made, delta)
        return made, delta

    changes = Changes(again)
    for program in programs.values():
        existing = indexed.get(program.id)
        try:  # (indexed_form sets only the last_changed_at of a program new to the index, which merge ignores)
            document, delta = indexed_form(program, existing)
        except Exception as exc:
            report.errors.append((program.id, f"records {', '.join(made_of[program.id])}: {exc!r}"[:500]))
            continue
        count(program.id, existing, document, delta)
        if existing == document:
            document = None
        changes.add(program.id, stored.get(program.id), document, delta)
    changes.documents |= withdrawn.documents
    changes.versions |= withdrawn.versions
    changes.deltas |= withdrawn.deltas

    name = batch_key.rsplit("/", 1)[-1]
    report.deltas, errors, written = write_changes(rt, changes, name, "/index")
    report.errors += errors
    if report.errors:  # recorded beside the batch, so a fix can replay exactly these
        rt.store.put(f"errors/index/{name}.json", json.dumps(
            {"batch_key": batch_key, "errors": [{"id": i, "reason": r} for i, r in report.errors]}).encode(),
            content_type="application/json")
    from affiliate_matrix.observability.telemetry import ITEMS

    ITEMS.labels("indexed").inc(written)
    log.info("index.done", batch_key=batch_key, created=report.created, updated=report.updated,
             unchanged=report.unchanged, deltas=len(report.deltas), errors=len(report.errors))
    # A connection deleted, and its claims withdrawn, between the check above and these writes would get them back:
    # checked again now, they are withdrawn again. A delete after this check came after the writes, and the
    # withdrawal its event asks for reads them.
    if gone := gone_runs(rt, records):
        log.warning("index.written_for_a_gone_connection", batch_key=batch_key,
                    connection_ids=sorted({of_run[0].connection_id for of_run, _ in gone}),
                    reason="deleted while the batch was being written: its claims are withdrawn again")
        withdraw_runs(rt, gone)
    return report


def unreached_offers(rt, known: Program, seen: list[Program], read: set[tuple[str | None, str]],
                     batches: dict[str, dict]) -> list[tuple[Program, str]]:
    """The offers the previous sighting of a program by a connection (in `known`, the program as indexed) had and an
    incomplete run of it did not list (`seen`: the run's records of the program; `read`: every record the run read,
    as (connection id, record key)), each with its name for errors: read back from the batch it was last indexed
    from (SourceRecord.batch_key), normalized again and keyed to the program. So a failed page takes no offer off a
    program; a complete run does (the source no longer lists it). Why the batch: the index keeps a sighting's values
    merged, not each offer's, and every batch stays in the store (content-addressed, never rewritten), so the record
    read back is the one indexed and no document carries a second copy of its offers. None of a sighting of another
    generation of the connection (deleted and created again since: its offers are not revived), nor of a sighting
    newer than the run (an older batch indexed again: with the newer sighting's offers it would be as new as that
    sighting, and its older values would stand over the newer); an offer whose batch cannot be read back drops,
    logged, as one indexed before records named their batch does. `batches`: the batches read so far, by key."""
    run = seen[0].provenance["name"][0]
    before = next((c for c in claims_of(known, "records") if claimant(c) == claimant(run)), None)
    if before is None or before.generation != run.generation or \
            before.fetched_at > max(program.last_seen_at for program in seen):
        return []
    offers = []
    for offer in _source_records().validate_python(before.value):
        if (run.connection_id, offer.record_key) in read or offer.batch_key is None:
            continue
        name = f"{offer.source}/{offer.record_key}"
        try:
            line = batch_lines(rt, offer.batch_key, batches).get((run.connection_id, offer.record_key))
        except (NotFoundError, InvalidInput, DamagedData):  # the batch gone, its key no key, or too large: not read
            line = None
        try:
            if line is None:
                raise LookupError(f"batch {offer.batch_key} is not stored, or holds no record {offer.record_key!r} "
                                  f"of connection {run.connection_id!r}")
            again = with_merchant_key(normalize(RawRecord.model_validate_json(line), offer.batch_key),
                                      seen[0].merchant_key)
        except Exception as exc:  # one offer not read back fails itself, not the batch, as a record of the run's
            log.warning("index.offer_not_kept", program_id=known.id, record=name, batch_key=offer.batch_key,
                        reason=f"{exc!r}"[:300], remedy="nothing: it drops until a run lists it again")
            continue
        if again.id == known.id:  # (another kind of program under the same key is not this program's offer)
            offers.append((again, name))
    return offers


@cache
def _source_records() -> TypeAdapter:
    """The records a claim lists, built once a process: a TypeAdapter built per program cost an incomplete run of
    thousands of programs a schema build each."""
    return TypeAdapter(list[SourceRecord])


def runs_complete(source: str) -> bool:
    """Whether a source's runs can be complete (an API's listing read to its end: incomplete_because), so that a run
    that is not keeps the offers it did not reach, and a later complete run takes those the source no longer lists.
    A directory's crawl never is: an offer it kept would never leave (a slug renamed would keep its old terms on the
    program for good), so each crawl's records stand for the program it saw, as before."""
    return issubclass(all_sources().get(source, object), ApiSource)


def batch_lines(rt, key: str, batches: dict[str, dict]) -> dict[tuple[str | None, str | None], str]:
    """A stored batch's lines by (connection id, record key), read once per indexing of a batch."""
    if key not in batches:
        batches[key] = {}  # (one not stored is read as empty after the first NotFoundError)
        for line in rt.store.get(key, max_bytes=MAX_BATCH_BYTES).data.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a damaged line: its record, if wanted, is not found
            if isinstance(item, dict):
                batches[key].setdefault((item.get("connection_id"), item.get("record_key")), line)
    return batches[key]


def gone_runs(rt, records: list[RawRecord]) -> list[tuple[list[RawRecord], str]]:
    """The records of each run whose connection is no longer stored as it was when the run began, with why: deleted,
    or deleted and created again under its id (another generation: see connections.created). A run still under way
    when its connection was deleted stores its batch after the deletion's withdrawal, and its records would add the
    claims back, to the connection created again too. Only a source plugin's records come through a stored
    connection (discovery's name its own run); records naming no generation (stored before records did) are judged
    by their connection alone, and a connection whose document cannot be read is taken for stored."""
    runs: dict[tuple[str, str | None], list[RawRecord]] = {}
    for record in records:
        if record.source in all_sources() and record.connection_id:
            runs.setdefault((record.connection_id, record.generation), []).append(record)
    stored = {connection_id: stored_generation(rt, connection_id) for connection_id in {c for c, _ in runs}}
    gone = []
    for (connection_id, generation), of_run in sorted(runs.items(), key=lambda run: (run[0][0], run[0][1] or "")):
        exists, now = stored[connection_id]
        if not exists:
            gone.append((of_run, "deleted since the run"))
        elif None not in (generation, now) and now != generation:
            gone.append((of_run, "deleted and created again since the run"))
    return gone


def stored_generation(rt, connection_id: str) -> tuple[bool, str | None]:
    """Whether the connection is stored, and as which generation (None: it has none, or cannot be read)."""
    try:
        return True, load_connection(rt.store, connection_id)[0].generation
    except NotFoundError:
        return False, None
    except DamagedData:
        return True, None


def withdraw_runs(rt, gone: list[tuple[list[RawRecord], str]]) -> None:
    """The claims of runs whose connection is gone (gone_runs) withdrawn, as of just after each run's last sighting,
    from the programs where they stand: usually none, the deletion's withdrawal having taken them. A program the
    connection's next generation has listed since keeps its claims (withdrawn_from)."""
    for of_run, _ in gone:
        first = of_run[0]
        withdraw_connection(rt, first.connection_id, first.source,
                            max(record.fetched_at for record in of_run) + timedelta(microseconds=1), first.generation)


WRITE_ROUNDS = 5  # conditional writes of one run's programs before it gives up (others kept changing them)


class Changes:
    """Programs to write, by id: each document as computed on the program as read (its version in `versions`; None:
    read absent) and its delta. `again(program_id, document)` computes the same change on the program as it is now
    (its document, None when absent), as (document or None: nothing to write, delta), for one changed since read."""

    def __init__(self, again: Callable[[str, dict | None], tuple[dict | None, DeltaChange | None]]):
        self.again = again
        self.documents: dict[str, dict] = {}
        self.deltas: dict[str, DeltaChange] = {}
        self.versions: dict[str, object] = {}

    def add(self, program_id: str, read: Versioned | None, document: dict | None, delta: DeltaChange | None) -> None:
        if document is not None:
            self.documents[program_id] = document
            self.versions[program_id] = read.version if read is not None else None
        if delta is not None:
            self.deltas[program_id] = delta


def write_changes(rt, changes: Changes, run: str, origin: str) -> tuple[list[DeltaChange], list[tuple[str, str]], int]:
    """Record the deltas, write the programs they describe (each only if unchanged since read), then announce the
    deltas (`origin`: the events' source); `run` names the work (a batch, a deletion) for its pending list.
    Returns the deltas announced, the errors (id, reason) and how many programs were written.

    The deltas are recorded before the programs they describe: once a program is written, a re-run sees it current
    and finds no change, so a delta not yet recorded then would be lost. Their ids are derived from the change, so a
    re-run after a stop writes the same deltas again, not new ones; and the pending list kept under `run` until the
    events are sent lets the re-run send those too (an event's id is derived from its delta's).

    Two runs at once (every connection syncs at the same hour) may change one program: one writing what it merged
    onto the program as it read it would drop what the other wrote since. So a program changed since it was read is
    not written; its delta is taken off the feed, and it is read again and the change computed anew on it
    (changes.again), up to WRITE_ROUNDS times; past that, BackendUnavailable, for the event to be delivered again
    (what was written stands, its deltas recorded and pending)."""
    pending_key = f"pending/index/{run}.json"
    pending = pending_deltas(rt, pending_key)
    marked = bool(pending)
    documents, deltas, versions = changes.documents, changes.deltas, changes.versions
    recorded: dict[str, dict] = {}  # of the deltas pending, those in the feed, as it shows them
    errors, written, refused = [], 0, set()

    def mark() -> None:
        if not pending:
            rt.store.delete(pending_key)
            return
        rt.store.put(pending_key, json.dumps([d.model_dump(mode="json") for d in pending.values()]).encode(),
                     content_type="application/json")

    for _ in range(WRITE_ROUNDS):
        pending.update({d.id: d for d in deltas.values()})
        if pending:
            mark()
            marked = True
        unrecorded = {d.id: delta_document(d) for d in pending.values() if d.id not in recorded and d.id not in refused}
        result = rt.index.bulk_upsert(DELTAS_INDEX.name, list(unrecorded.values()), refresh=True)
        refused |= {delta_id for delta_id, _ in result.errors}
        errors += result.errors
        recorded |= {delta_id: doc for delta_id, doc in unrecorded.items() if delta_id not in refused}
        documents = dict(documents)
        for program_id, delta in deltas.items():  # a change whose delta is not recorded is not written either
            if delta.id in refused and documents.pop(program_id, None) is not None:
                errors.append((program_id, f"not written: its delta {delta.id} was not recorded"))
        result = rt.index.write_if_unchanged(PROGRAMS_INDEX.name, [(doc, versions[program_id]) for program_id, doc
                                                                   in documents.items()], refresh=True)
        failed = {doc_id for doc_id, _ in result.errors}
        errors += result.errors
        written += len(documents) - len(failed) - len(result.conflicts)
        # no delta for a write that did not land: a re-run, or the next round, records the change it makes
        for program_id in (failed | set(result.conflicts)) & deltas.keys():
            rt.index.delete(DELTAS_INDEX.name, deltas[program_id].id, refresh=True)  # gone from the feed at once
            pending.pop(deltas[program_id].id, None)
            recorded.pop(deltas[program_id].id, None)
        if not result.conflicts:
            break
        log.info("index.changed_meanwhile", run=run, programs=len(result.conflicts), first=result.conflicts[0],
                 reason="another run wrote them since they were read: the change is made again on them as they are")
        now = rt.index.get_versioned(PROGRAMS_INDEX.name, result.conflicts)
        documents, deltas, versions = {}, {}, {}
        for program_id in result.conflicts:
            read = now.get(program_id)
            try:
                document, delta = changes.again(program_id, read.doc if read is not None else None)
            except DamagedData as exc:  # written since as no program (a hand edit): not written over, named
                errors.append((program_id, str(exc)))
                continue
            if document is None or (read is not None and document == read.doc):
                continue  # what it would make is there already
            documents[program_id], versions[program_id] = document, read.version if read is not None else None
            if delta is not None:
                deltas[program_id] = delta
        if not documents:
            break
    else:
        if marked:  # without the deltas taken off the feed, so a re-run does not record them again
            mark()
        raise BackendUnavailable(f"{run}: {len(documents)} programs changed by other runs each time they were read, "
                                 f"{WRITE_ROUNDS} times, first {next(iter(documents), '?')}",
                                 cause="other index runs kept changing the same programs")
    announced = [d for d in pending.values() if d.id in recorded]
    for delta in announced:  # each as the change feed shows it, when it was recorded too
        rt.bus.publish(Event.make(PROGRAM_DELTA, origin, feed_item(recorded[delta.id]), key=delta.id,
                                  subject=delta.program_id))
    if marked:
        rt.store.delete(pending_key)
    return announced, errors, written


def index_announced(rt, data: dict) -> IndexReport:
    """Index the batch a "raw batch stored" event announces (its data): a connection's complete run withdraws too."""
    return index_batch(rt, data["batch_key"], data["connection_id"] if data.get("complete") is True else None,
                       data.get("run"))


def withdraw_announced(rt, event) -> list[DeltaChange]:
    """Withdraw the claims of the connection a "connection deleted" event announces (its data), of the generation it
    names, as of its time, once the delete is done. The event is published before the delete, which is conditional
    on the ETag the event names. While the connection is stored with that ETag the delete is still under way: the
    event is retried once (BackendUnavailable), and a later delivery finding it so still takes it for a delete whose
    process stopped before it: that delete is made impossible (fence_undone_delete) and the event dropped, logged.
    Stored with another ETag but the same generation, it was changed first and the delete was refused (412): nothing
    is withdrawn. Stored as another generation, it was deleted and created again: the deleted generation's claims are
    withdrawn, the new one's kept. An event naming no generation (published before events did) takes any stored one
    for the same; one naming no ETag either withdraws at once, whether the connection is gone or not."""
    from affiliate_matrix.connections import connection_key, deletion_mark

    connection_id, etag, generation = event.data["connection_id"], event.data.get("etag"), event.data.get("generation")
    if etag is None:
        return withdraw_connection(rt, connection_id, event.data["source"], event.time)
    stored = rt.store.head(connection_key(connection_id))
    marker = deletion_mark(connection_id, etag)
    if stored == etag:
        try:
            rt.store.put(marker, event.id.encode(), content_type="text/plain", if_none_match=True)
        except ConflictError:
            pass  # marked by an earlier delivery: the delete has not come since
        else:  # the first delivery to find the delete not done leaves this mark, and is delivered again
            raise BackendUnavailable(f"connection {connection_id!r} is still stored with the ETag deleted ({etag}): "
                                     "its delete is still under way",
                                     cause="the connection's delete is still under way", retry_after=1)
        if fence_undone_delete(rt, connection_id, etag):
            rt.store.delete(marker)
            log.info("connection.deletion_dropped", connection_id=connection_id, event_id=event.id, deleted_etag=etag,
                     reason="still stored as it was when its delete was announced, a delivery later: that delete "
                            "never came (its process stopped first); the connection stays, with its claims, written "
                            "again (the same fields, a new ETag) so that the delete announced cannot come now (one "
                            "still under way is announced again); delete it again")
            return []
        stored = rt.store.head(connection_key(connection_id))  # changed meanwhile: deleted after all, or edited
    exists, now = stored_generation(rt, connection_id) if stored is not None else (False, None)
    if exists and (None in (generation, now) or now == generation):
        rt.store.delete(marker)
        log.info("connection.withdrawal_skipped", connection_id=connection_id, event_id=event.id, deleted_etag=etag,
                 reason="the connection changed before its delete, which was refused (412): it stays, with its "
                        "claims")
        return []
    withdrawn = withdraw_connection(rt, connection_id, event.data["source"], event.time, generation)
    rt.store.delete(marker)
    return withdrawn


def fence_undone_delete(rt, connection_id: str, etag: str) -> bool:
    """Make a delete announced for `etag` that has not come impossible: the connection is written again with that ETag
    as its `fenced` (stored, never shown: a client sees it unchanged, with a new ETag), conditionally on that ETag, so
    the delete (conditional on it too) is refused should its process still be running (that process then announces
    it again on the new ETag: documents.delete_announced); a client retrying it reads the connection again.
    False: the connection changed first (the delete came after all, or an edit).
    A damaged one is fenced as it is stored (fence_damaged)."""
    from affiliate_matrix.connections import fence_damaged, save_connection

    try:
        connection, stored = load_connection(rt.store, connection_id)
        if stored != etag:
            return False
        save_connection(rt.store, connection.model_copy(update={"fenced": etag}), if_match=etag)
    except (NotFoundError, ConflictError):
        return False
    except DamagedData:
        return fence_damaged(rt.store, connection_id, etag)
    return True


def withdraw_unlisted(rt, connection_id: str, records: list[RawRecord], listed: set[str], errors: list,
                      run: str | None = None) -> "Changes":
    """The programs `connection_id` claimed before that its complete run (`records`) did not list, each with the
    connection's claims withdrawn (merge.withdraw), as Changes. Nothing when a record of the run
    could not be indexed (it may be one of them). Another connection of the same source keeps its own claims (see
    claimants_of). The index finds them by their `sources` field, so this reads the source's programs, not the
    whole index."""
    sources = {record.source for record in records}
    strays = {record.connection_id for record in records} - {connection_id}
    if errors or strays or len(sources) != 1:
        log.warning("index.withdrawal_skipped", connection_id=connection_id, reason=(
            f"{len(errors)} records could not be indexed" if errors else "the batch is not one connection's run"))
        return Changes(lambda program_id, document: (None, None))
    (source,) = sources
    try:
        load_connection(rt.store, connection_id)
    except NotFoundError:  # deleted since: its deletion withdraws its claims
        log.info("index.withdrawal_skipped", connection_id=connection_id, reason="the connection is deleted")
        return Changes(lambda program_id, document: (None, None))
    at = max(record.fetched_at for record in records)
    note_complete_run(rt, connection_id, records[0].generation, at, run)
    return withdrawn_from(rt, source, claimants_of(rt, source, connection_id), at, listed)


def complete_run_key(connection_id: str) -> str:
    return f"index/complete-runs/{connection_id}.json"


class CompleteRun(NamedTuple):
    generation: str | None
    at: datetime  # its latest fetch
    run: str | None  # its sync (sync.RUN); None: noted before notes named it


def latest_complete_run(rt, connection_id: str) -> CompleteRun | None:
    """The connection's latest complete run indexed, None when there is none. A damaged note is logged and read as
    none: only the guard of superseded_runs is lost."""
    key = complete_run_key(connection_id)
    data, _, problem = read_json(rt.store, key, lambda data: isinstance(data, dict), "not a complete run's note")
    if problem is None and data is not None:
        try:
            at = datetime.fromisoformat(data["at"])
            if at.tzinfo is not None and all(isinstance(data.get(name), (str, type(None)))
                                             for name in ("generation", "run")):
                return CompleteRun(data.get("generation"), at, data.get("run"))
        except (KeyError, TypeError, ValueError):
            pass
        problem = "not a complete run's note"
    if problem is not None:
        log.error("index.complete_run_damaged", key=key, problem=problem[:300])
    return None


def note_complete_run(rt, connection_id: str, generation: str | None, at: datetime, run: str | None = None) -> None:
    """Note the connection's complete run (as of `at`, of sync `run`) for superseded_runs, unless a later one is noted.
    (Two complete runs indexed at once may leave the earlier's note: the guard is then as of that run.)"""
    latest = latest_complete_run(rt, connection_id)
    if latest is None or latest.generation != generation or latest.at < at:
        rt.store.put(complete_run_key(connection_id), json.dumps({
            "generation": generation, "at": at.isoformat(), "run": run}).encode(), content_type="application/json")


def superseded_runs(rt, records: list[RawRecord], run: str | None = None) -> list[tuple[list[RawRecord], str]]:
    """The records of each run older than its connection's latest complete run indexed (of its generation), with
    why. That run withdrew the claims on what the connection no longer listed; an older run indexed after it (its
    event retried late, after the next sync's was indexed) would list those programs again, with its older terms,
    and the feed would show a change that did not happen. (On the programs the complete run listed, an older run
    claims nothing over it anyway: merge.) A run is older when its latest fetch is: the complete run's own batch
    indexed again is not. Nor is a batch of that run's sync (`run`, the batch's: a replay of its answers, which fetched
    earlier when the replay failed the items fetched last: an index rebuilt left that connection's records out)."""
    runs: dict[tuple[str, str | None, str], list[RawRecord]] = {}
    for record in records:
        runs.setdefault((record.connection_id, record.generation, record.source), []).append(record)
    superseded = []
    for (connection_id, generation, source), of_run in sorted(runs.items(), key=lambda item: (
            item[0][0], item[0][1] or "", item[0][2])):
        if not runs_complete(source):  # (a directory's crawl, discovery's run: never complete, never noted)
            continue
        latest = latest_complete_run(rt, connection_id)
        if latest is not None and latest.generation == generation and (run is None or run != latest.run) and \
                max(r.fetched_at for r in of_run) < latest.at:
            superseded.append((of_run, f"older than its complete run of {latest.at.isoformat()}, which withdrew what "
                                       "it no longer listed: an older run lists nothing again"))
    return superseded


def claimants_of(rt, source: str, connection_id: str) -> list[tuple[str, str | None]]:
    """Whose claims a connection that no longer lists a program withdraws (merge.claimant): its own, and its
    source's claims naming no connection (recorded before claims named one) only while no other connection reads
    the source: what this one no longer lists, that one may still list."""
    from affiliate_matrix.connections import others_of_source

    if others_of_source(rt.store, source, connection_id):  # withdrawn_from says when it kept one
        return [(source, connection_id)]
    return [(source, connection_id), (source, None)]


def withdrawn_from(rt, source: str, claimants: list[tuple[str, str | None]], at: datetime,
                   listed: set[str] = frozenset(), generation: str | None = None) -> "Changes":
    """Every program `source` claims but those `listed`, with the `claimants`' claims (of that source) withdrawn as
    of `at` (withdrawal): the documents that changed, each with its delta, as Changes to write. Found by a search,
    computed on each document as read with its version, so that write_changes writes it only if unchanged since.
    Claims of the source naming no connection, not among the `claimants` (claimants_of), are kept: logged once, with
    how many programs hold them, when there were any."""
    changes, kept, found = Changes(lambda _, doc: withdrawal(doc, source, claimants, at, generation)), 0, []
    query = SearchQuery(filters={"sources": [source]}, size=1000)
    while True:
        result = rt.index.search(PROGRAMS_INDEX.name, query)
        found += [hit.id for hit in result.hits if hit.id not in listed]
        if not result.next_cursor:
            break
        query = query.replaced(cursor=result.next_cursor)
    for start in range(0, len(found), MAX_PAGE):
        for program_id, read in rt.index.get_versioned(PROGRAMS_INDEX.name, found[start:start + MAX_PAGE]).items():
            try:
                before = from_document(read.doc)
            except DamagedData as exc:  # its claims cannot be withdrawn: it stays as it is, named, the others go on
                log.error("index.withdrawal_damaged", program_id=program_id, source=source, error=str(exc))
                continue
            kept += (source, None) not in claimants and any(
                claimant(c) == (source, None) for cs in before.provenance.values() for c in cs)
            changes.add(program_id, read, *withdrawal(read.doc, source, claimants, at, generation, before))
    if kept:
        log.info("index.source_claims_kept", source=source, claimants=[c for _, c in claimants], programs=kept,
                 reason=f"another connection reads source {source} too: claims naming no connection stay until the "
                        "source is read by one connection only")
    return changes


def withdrawal(doc: dict | None, source: str, claimants: list[tuple[str, str | None]], at: datetime,
               generation: str | None = None, before: Program | None = None) -> tuple[dict | None, DeltaChange | None]:
    """A program's document with the `claimants`' claims withdrawn as of `at`, and its delta (credited to the source;
    None when no field shown changed, only whose claims they are); (None, None) when nothing changes. With a
    `generation` (a deleted connection's), a program whose claims of the connection are another generation's (it
    was created again and listed the program since) is left as it is."""
    from affiliate_matrix.merge import withdraw

    if doc is None:
        return None, None
    before = before or from_document(doc)
    if generation is not None and any(claimant(c) in claimants and c.generation not in (None, generation)
                                      for cs in before.provenance.values() for c in cs):
        return None, None
    after = withdraw(before, claimants, at)
    delta = diff(before, after, at=at, source=source)
    if delta is not None:
        after.last_changed_at = at
    document = to_document(after)
    return (document, delta) if document != doc else (None, None)


def withdraw_connection(rt, connection_id: str, source: str, at: datetime,
                        generation: str | None = None) -> list[DeltaChange]:
    """A deleted connection (its connection.deleted event: the id, the source, `at` when it was deleted, the
    generation deleted, None: any): its claims withdrawn as of `at` from every program its source claims
    (claimants_of), but where its next generation's claims stand (withdrawn_from). Idempotent, so a redelivered event
    changes nothing more: the same withdrawal as of the same time gives the same documents and deltas, and what is
    written already is unchanged. Deltas are recorded before the programs are written, then announced
    (write_changes); one not written fails it (BackendUnavailable), for the event to be delivered again."""
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    changes = withdrawn_from(rt, source, claimants_of(rt, source, connection_id), at, generation=generation)
    run = f"deleted-{connection_id}-{at.strftime('%Y%m%dT%H%M%S%fZ')}"
    announced, errors, written = write_changes(rt, changes, run, "/index")
    log.info("connection.withdrawn", connection_id=connection_id, source=source, programs=written,
             deltas=len(announced), errors=len(errors))
    if errors:  # the event is delivered again: the retry withdraws what is left
        raise BackendUnavailable(f"withdrawing connection {connection_id!r}'s claims: {len(errors)} programs or deltas "
                                 f"not written, first {errors[0][0]}: {errors[0][1]}"[:500],
                                 cause="the index did not take every withdrawal")
    return announced


def record_name(record: RawRecord) -> str:
    """How an error names the record it is about: its source and the source's own id for it."""
    return f"{record.source}/{record.record_key}"


def indexed_form(program: Program, existing: dict | None) -> tuple[dict, DeltaChange | None]:
    """The document `program` becomes once merged into what the index holds, and the change that is."""
    # The change is the batch's: credited to the source whose listing it is, not to whichever source's name the
    # merged program shows.
    source = program.provenance.get("name", [None])[0]
    before = from_document(existing) if existing is not None else None
    if before is not None:
        program = merge(before, program)
    delta = diff(before, program, at=program.last_seen_at, source=source.source if source else "unknown")
    if delta is not None:
        program.last_changed_at = delta.at
    return to_document(program), delta


def pending_deltas(rt, key: str) -> dict[str, DeltaChange]:
    """The deltas a stopped run of a batch recorded and may not have announced, by id. A damaged list (read through
    storage.read_json) is logged and read as none: only a resend is lost, the deltas are in the feed."""
    data, _, problem = read_json(rt.store, key, lambda data: isinstance(data, list), "not a list of deltas",
                                 MAX_BATCH_BYTES)  # a batch's deltas: as many as its records
    if problem is None:
        try:
            return {d.id: d for d in (DeltaChange.model_validate(item) for item in data or ())}
        except ValueError as exc:  # pydantic's ValidationError: an item that is no delta
            problem = str(exc)
    log.error("index.pending_damaged", key=key, problem=problem[:300])
    return {}


def resolved(rt, programs) -> list[Program]:
    """Programs re-keyed so that listings of the same merchant (typos, other TLDs, no domain,
    other networks) share one id, within the batch and against the index: a program already
    indexed keeps its key, so ids stay stable as new sources arrive."""
    programs = list(programs)
    known: dict[str, dict] = {}
    # Every program, a domain's too: a listing with no domain indexed before its merchant's domain, or the same site
    # under another TLD, is the same program as the domain's listing here, as it would be within one batch.
    for program in programs:
        text = name_words(program.name)[:200]  # candidates: looked up by the first words (a search takes no more)
        query = SearchQuery(text=" ".join(words(text)[:MAX_WORDS]) or text, size=5)
        for hit in rt.index.search(PROGRAMS_INDEX.name, query).hits:
            known[hit.id] = hit.doc
    # and whatever its name, a program holding one of the batch's sites or network programs ("Acme DE" with Awin id
    # 1234 is "Acme" holding it)
    known |= {hit.id: hit.doc for hit in holding_match_keys(rt, programs)}
    # one not of a Program's shape is logged and left out (its own sightings are refused when merged: indexed_form)
    existing = list(programs_of(known.values()))
    keys = resolve([candidate(p) for p in programs + existing])
    kept: dict[str, str] = {}
    for key, program in zip(keys[len(programs):], existing):
        kept[key] = min(kept.get(key, program.merchant_key), program.merchant_key)
    return [with_merchant_key(p, kept.get(key, key)) for p, key in zip(programs, keys)]


def holding_match_keys(rt, programs: list[Program]):
    """The indexed programs holding a site or a network program of `programs` (program_index.match_keys), whatever
    their names: one search for up to MAX_PAGE keys of the batch, not one per listing or key. An index not yet
    migrated to the version holding the keys (IndexBehind) is looked up by names alone until it is, logged."""
    keys = sorted({key for program in programs for key in match_keys(program)})
    for start in range(0, len(keys), MAX_PAGE):
        query = SearchQuery(filters={"match_keys": keys[start:start + MAX_PAGE]}, size=MAX_PAGE)
        while True:
            try:
                result = rt.index.search(PROGRAMS_INDEX.name, query)
            except IndexBehind as exc:
                log.warning("index.looked_up_by_name_only", problem=str(exc)[:300])
                return
            yield from result.hits
            if not result.next_cursor:
                break
            query = query.replaced(cursor=result.next_cursor)


def candidate(program: Program) -> Candidate:
    return Candidate(program.name, program.merchant_domain, network_programs(program), tuple(program.domains))
