"""The main job, top to bottom: scrape a connection into raw pages and a batch of raw records,
announce the batch, and index it into the master index. Each step is idempotent."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from affiliate_matrix.connections import credentials_for, load_connection
from affiliate_matrix.crawl import Failure, Fetched, StoredPages, crawl
from affiliate_matrix.deltas import DELTAS_INDEX, diff
from affiliate_matrix.errors import ConfigError, DamagedData, NotFoundError
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.events import PROGRAM_DELTA, RAW_BATCH_STORED, Event
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.models import DeltaChange, Program, RawRecord
from affiliate_matrix.merge import merge
from affiliate_matrix.normalize import normalize, with_merchant_key
from affiliate_matrix.observability import get_logger
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document
from affiliate_matrix.resolve import Candidate, name_words, resolve
from affiliate_matrix.search import SearchQuery
from affiliate_matrix.sources import ApiSource, get_source
from affiliate_matrix.sync import sync

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


@dataclass
class IndexReport:
    batch_key: str
    records: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deltas: list[DeltaChange] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def scrape(rt, connection_id: str, on_item: Callable[[RawRecord | Fetched | Failure], None] | None = None,
           *, replay: bool = False) -> ScrapeReport:
    """Collect a connection's listings: crawl a directory, or sync an API. With replay, parse the
    stored pages again instead of fetching. Then store the batch and announce it."""
    connection, _ = load_connection(rt.store, connection_id)
    source = get_source(connection.source)(str(connection.base_url) if connection.base_url else None)
    if isinstance(source, ApiSource):
        items = sync(source, connection, credentials_for(rt, connection, source), rt.store,
                     allow_loopback=rt.settings.allow_loopback_fetch)
        if connection.credentials_path:
            from affiliate_matrix.keys import record_use

            refused = any(isinstance(i, Failure) and "credentials were refused" in i.reason for i in items)
            record_use(rt, connection.credentials_path, ok=not refused)
    else:
        items = crawl_with_cache(rt, connection, source, replay)
    records, failures, pages = [], [], []
    for item in items:
        {RawRecord: records, Fetched: pages, Failure: failures}[type(item)].append(item)
        if isinstance(item, Failure):
            log.warning("scrape.page_failed", url=item.url, stage=item.stage, reason=item.reason)
        if on_item:
            on_item(item)
    from affiliate_matrix.observability.telemetry import ITEMS

    ITEMS.labels("fetched").inc(len(pages))
    ITEMS.labels("parsed").inc(len(records))
    ITEMS.labels("failed").inc(len(failures))
    batch = "\n".join(r.model_dump_json() for r in records).encode()
    batch_key = rt.store.put_content_addressed(f"batches/{source.name}", batch, suffix=".jsonl",
                                               content_type="application/x-ndjson")
    event = Event.make(RAW_BATCH_STORED, f"/scrape/{connection.id}", {
        "batch_key": batch_key, "connection_id": connection.id, "records": len(records), "failures": len(failures),
    }, key=batch_key, subject=connection.id)
    log.info("scrape.done", connection_id=connection.id, records=len(records), failures=len(failures),
             batch_key=batch_key)
    rt.bus.publish(event)
    return ScrapeReport(connection.id, batch_key, event.id, len(records), failures, len(pages),
                        sum(p.not_modified for p in pages))


def crawl_with_cache(rt, connection, source, replay: bool):
    """Crawl with the connection's ETag/Last-Modified cache, which is kept for next time."""
    validators_key = f"http-cache/{connection.id}.json"
    validators = http_cache(rt, validators_key)
    fetcher = StoredPages(rt.store, validators) if replay else Fetcher(
        rt.settings.user_agent, allow_loopback=rt.settings.allow_loopback_fetch,
        rate_limit_per_s=connection.rate_limit_per_s, concurrency=connection.concurrency, validators=validators)
    try:
        yield from crawl(source, connection, fetcher, rt.store)
    finally:
        fetcher.close()
        # A lost update here only costs a full fetch next time.
        rt.store.put(validators_key, json.dumps(fetcher.validators).encode(), content_type="application/json")


def http_cache(rt, key: str) -> dict:
    """A connection's ETag/Last-Modified cache: {url: {"etag", "last_modified", ...}}. It is only a cache:
    a damaged one is logged, naming it, and the crawl fetches everything in full and writes it anew."""
    try:
        cache = json.loads(rt.store.get(key).data)
    except NotFoundError:
        return {}
    except ValueError as exc:
        cache, problem = None, str(exc)
    else:
        problem = "not a mapping of URLs to their validators"
    if isinstance(cache, dict) and all(isinstance(url, str) and isinstance(entry, dict) and
                                       all(isinstance(v, str | None) for v in entry.values())
                                       for url, entry in cache.items()):
        return cache
    log.error("http_cache.damaged", key=key, problem=problem[:300],
              remedy="nothing to do: this crawl fetches every page in full and writes the cache anew")
    return {}


def index_batch(rt, batch_key: str) -> IndexReport:
    """Normalize a batch, fold it into the index, and record and announce what changed."""
    lines = rt.store.get(batch_key).data.splitlines()
    try:
        records = [RawRecord.model_validate_json(line) for line in lines if line.strip()]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise DamagedData(f"batch {batch_key}", f"{'.'.join(map(str, first['loc'])) or 'a line'}: {first['msg']}",
                          "collect the connection again (amx scrape, or amx replay for stored pages)") from None
    for spec in (PROGRAMS_INDEX, DELTAS_INDEX):
        rt.index.ensure_index(spec)
        live = rt.index.status(spec.name).current
        if live != spec.version:
            raise ConfigError("index", f"{spec.name} is at v{live} but this code writes v{spec.version}: "
                                       f"run `amx index migrate {spec.name}` first")
    programs: dict[str, Program] = {}
    for program in resolved(rt, (normalize(record) for record in records)):
        programs[program.id] = merge(programs[program.id], program) if program.id in programs else program

    report = IndexReport(batch_key, len(records))
    documents, deltas = [], []
    for program in programs.values():
        existing = rt.index.get(PROGRAMS_INDEX.name, program.id)
        before = from_document(existing) if existing is not None else None
        if before is not None:
            program = merge(before, program)
        source = program.provenance.get("name", [None])[0]
        delta = diff(before, program, at=program.last_seen_at, source=source.source if source else "unknown")
        if delta is not None:
            deltas.append(delta)
            program.last_changed_at = delta.at
        document = to_document(program)
        if existing == document:
            report.unchanged += 1
            continue
        report.created += existing is None
        report.updated += existing is not None
        documents.append(document)

    result = rt.index.bulk_upsert(PROGRAMS_INDEX.name, documents, refresh=True)
    failed = {doc_id for doc_id, _ in result.errors}
    report.deltas = [d for d in deltas if d.program_id not in failed]  # no delta for a write that did not land
    report.errors = result.errors + rt.index.bulk_upsert(
        DELTAS_INDEX.name, [delta_document(d) for d in report.deltas], refresh=True).errors
    if report.errors:  # recorded beside the batch, so a fix can replay exactly these
        rt.store.put(f"errors/index/{batch_key.rsplit('/', 1)[-1]}.json", json.dumps(
            {"batch_key": batch_key, "errors": [{"id": i, "reason": r} for i, r in report.errors]}).encode(),
            content_type="application/json")
    for delta in report.deltas:
        rt.bus.publish(Event.make(PROGRAM_DELTA, "/index", delta.model_dump(mode="json"), key=delta.id,
                                  subject=delta.program_id))
    from affiliate_matrix.observability.telemetry import ITEMS

    ITEMS.labels("indexed").inc(len(documents) - len(failed))
    log.info("index.done", batch_key=batch_key, created=report.created, updated=report.updated,
             unchanged=report.unchanged, deltas=len(report.deltas), errors=len(report.errors))
    return report


def resolved(rt, programs) -> list[Program]:
    """Programs re-keyed so that listings of the same merchant (typos, other TLDs, no domain,
    other networks) share one id, within the batch and against the index: a program already
    indexed keeps its key, so ids stay stable as new sources arrive."""
    programs = list(programs)
    known: dict[str, dict] = {}
    for program in programs:
        if program.merchant_key_source != "domain":  # domain keys are stable by themselves
            query = SearchQuery(text=name_words(program.name)[:200], size=5)
            for hit in rt.index.search(PROGRAMS_INDEX.name, query).hits:
                known[hit.id] = hit.doc
    existing = [from_document(doc) for doc in known.values()]
    keys = resolve([candidate(p) for p in programs + existing])
    kept: dict[str, str] = {}
    for key, program in zip(keys[len(programs):], existing):
        kept[key] = min(kept.get(key, program.merchant_key), program.merchant_key)
    return [with_merchant_key(p, kept.get(key, key)) for p, key in zip(programs, keys)]


def candidate(program: Program) -> Candidate:
    ids = tuple(f"{n.network}:{n.program_id}" for n in program.networks if n.program_id)
    return Candidate(program.name, program.merchant_domain, ids)
