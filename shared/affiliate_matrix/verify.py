"""Re-verification: the stalest programs first, each checked on its source page with a
conditional GET, within a per-host page limit, the run's time budget and the fetcher's politeness. A page that answers
(200, or 304 unchanged) verifies the program; one that is gone (404, 410) is a miss. After
`suspect_after` misses in a row a program is closed_suspected, after twice that removed, each
with a delta; a program seen again is restored (by the next scrape or verification). Other
failures (timeouts, 5xx, robots.txt) prove nothing and change nothing."""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from affiliate_matrix.crawl import time_budget
from affiliate_matrix.deltas import DELTAS_INDEX, diff
from affiliate_matrix.errors import DamagedData
from affiliate_matrix.fetch import GONE, Fetcher, FetchError, http_cache
from affiliate_matrix.models import Program
from affiliate_matrix.observability import get_logger, log_damaged
from affiliate_matrix.polite import WaitBudget, WaitsSpent
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, programs_of, summary_field, to_document
from affiliate_matrix.search import SearchQuery, SortKey
from affiliate_matrix.threads import ContextPool

log = get_logger()

# A listing's page that now redirects to its site's home page was removed (a directory sends a deleted listing home
# rather than answer 404): missing, as a 404 is, not verified by the home page's 200.
SENT_HOME = "redirected to the site's home page"
# Beside the connections' caches (connections.http_cache_key), under a name no connection id takes (none starts with
# "_"): as http-cache/verify.json, a connection named "verify" shared it, and its deletion swept it.
VALIDATORS_KEY = "http-cache/_verify.json"
NOT_CHECKED = object()  # a page not asked: its wait would have passed the run's time budget


@dataclass
class VerifyReport:
    checked: int = 0
    verified: int = 0
    missed: int = 0
    inconclusive: int = 0
    skipped_budget: int = 0
    not_asked: int = 0  # programs whose pages are all through disabled connections (evidence_url): none was asked
    by_sync: int = 0  # programs with no directory page (a network API's, verified by its next sync): none to ask
    unsure: list[tuple[str, str]] = field(default_factory=list)  # each check with no outcome kept: its page, and why
    deltas: list = field(default_factory=list)


def evidence_url(program: Program, disabled: frozenset[str] = frozenset()) -> str | None:
    """The directory page that listed the program. API records are re-verified by their next sync,
    which reads them all again (seen again = verified). A page through a disabled connection (`disabled`, their ids)
    is not asked: no one reads that connection's source until it is enabled again (the demo's, whose recorded sites
    close with it, were each an inconclusive check)."""
    from affiliate_matrix.sources import ApiSource, all_sources

    sources = all_sources()
    for claim in program.provenance.get("name", []):
        source = sources.get(claim.source)
        if (claim.url.startswith("http") and not (source and issubclass(source, ApiSource))
                and claim.connection_id not in disabled):
            return claim.url
    return None


def sent_home(asked: str, reached: str) -> bool:
    """Whether a page asked for below a site's root was answered by the root (redirects followed)."""
    return urlsplit(reached).path in ("", "/") and urlsplit(asked).path not in ("", "/")


def verify(rt, now: datetime | None = None, *, budget_per_host: int = 50, suspect_after: int = 2,
           rate_limit_per_s: float = 1.0, concurrency: int = 8) -> VerifyReport:
    """Each host's checks run in order on one worker, hosts side by side (a worker blocked on a slow host holds up no
    other host's pages), at most `budget_per_host` pages a host. A worker asks while the waits it is told to make (each
    request's spacing: the rate limit, or the host's robots.txt Crawl-delay when longer; each retry's Retry-After or
    backoff) fit in the function's time limit (crawl.time_budget, a polite.WaitBudget counted per worker: a worker's
    waits add up, the workers' run side by side). The page whose wait would pass it is not asked (or not asked again):
    not checked this run (skipped_budget), the stalest again next run; the worker goes on with the pages whose waits
    still fit (a page after one refused a retry's wait asks only the host's spacing). 50 pages under
    `Crawl-delay: 60` took 50 minutes, and a host answering 503 with `Retry-After: 60` doubled each page's wait: the
    function was stopped at 15 with nothing written."""
    now = now or datetime.now(UTC)
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    report = VerifyReport()
    validators = http_cache(rt, VALIDATORS_KEY)
    # One request at a time a host: a host's pages are asked one after another by one worker, so a request's time past
    # its spacing holds that worker up, and is spent from its budget (polite.PoliteClient.send). With the workers'
    # number as the host's concurrency, only the time past 8 spacings was.
    fetcher = Fetcher(rt.settings.user_agent, allow_loopback=rt.settings.allow_loopback_fetch, attempts=2,
                      rate_limit_per_s=rate_limit_per_s, concurrency=1, validators=validators,
                      wait_budget=WaitBudget(time_budget(rt.settings.crawl_time_limit_s), each_thread=True))

    def status_of(url: str):
        try:
            response = fetcher.get(url)
        except WaitsSpent:
            raise
        except FetchError as exc:
            return str(exc)  # no answer: why, for the report
        return SENT_HOME if sent_home(url, response.url) else response.status

    urls = {}  # by program id
    try:
        candidates = _stalest_within_budget(rt, budget_per_host, report)
        by_host: dict[str, list[int]] = {}  # each host's candidates, by their place in `candidates`
        for i, (_, url) in enumerate(candidates):
            by_host.setdefault(urlsplit(url).netloc, []).append(i)
        outcomes: list = [None] * len(candidates)

        def check_host(places: list[int]) -> None:
            refused = []
            for i in places:
                try:
                    outcomes[i] = status_of(candidates[i][1])
                except WaitsSpent as exc:  # this page: not checked this run; the host's next may wait less (no retry)
                    outcomes[i], reason = NOT_CHECKED, str(exc)
                    refused.append(i)
            if refused:
                log.info("verify.out_of_time", host=urlsplit(candidates[refused[0]][1]).netloc, left=len(refused),
                         reason=reason)

        with ContextPool(max_workers=concurrency) as pool:  # the checks in this work's context (its rule chain)
            list(pool.map(check_host, by_host.values()))
    finally:
        fetcher.close()
        rt.store.put(VALIDATORS_KEY, json.dumps(fetcher.validators).encode(), content_type="application/json")
    # The fetches took minutes: an index run may have written these programs since they were read. Verify's fields go
    # onto each as it is now, so that write stands (one since gone is not written back); one an index run writes
    # between this read and the write is read again and the outcome put on it anew (write_changes).
    from affiliate_matrix.pipeline import Changes, write_changes  # the deltas recorded first, as an index run's are

    outcomes_by_id = {}

    def checked(program_id: str, document: dict | None):
        """The check's outcome put on the program as it is now (its document; None: gone, nothing to write)."""
        if document is None:
            return None, None
        status = outcomes_by_id[program_id]
        try:
            before = from_document(document)
        except DamagedData as exc:  # written since as no program (a hand edit): not written over, named
            log.error("verify.damaged", program_id=program_id, error=str(exc))
            return None, None
        after = before.model_copy(deep=True)
        if status in (200, 304):
            after.last_verified_at, after.misses = now, 0
            if before.status == "closed_suspected":
                after.status = "active"
        else:
            after.misses = before.misses + 1
            if after.misses >= 2 * suspect_after:
                after.status = "removed"
            elif after.misses >= suspect_after:
                after.status = "closed_suspected"
        delta = diff(before, after, at=now, source="verify")
        if delta is not None:
            after.last_changed_at = now
        return to_document(after), delta

    changes = Changes(checked)
    current = rt.index.get_versioned(PROGRAMS_INDEX.name, [program.id for program, _ in candidates])
    for (read, url), status in zip(candidates, outcomes):
        if status is NOT_CHECKED:
            report.skipped_budget += 1
            continue
        report.checked += 1
        if read.id not in current:
            continue
        if status in (200, 304):
            report.verified += 1
        elif status in GONE or status == SENT_HOME:
            report.missed += 1
        else:
            report.inconclusive += 1
            report.unsure.append((url, status if isinstance(status, str) else f"HTTP {status}"))
            log.warning("verify.inconclusive", url=url, reason=report.unsure[-1][1])
            continue
        outcomes_by_id[read.id], urls[read.id] = status, url
        changes.add(read.id, current[read.id], *checked(read.id, current[read.id].doc))
    report.deltas, errors, _ = write_changes(rt, changes, "verify", "/verify")
    for key, reason in errors:  # a delta not recorded (its id), a program not written (its id): found again next run
        log.error("verify.not_written", id=key, reason=reason[:300])
        if key in urls:
            report.unsure.append((urls[key], f"the check's outcome is not written: {reason}"))
    return report


def _stalest_within_budget(rt, budget_per_host: int, report: VerifyReport) -> list[tuple[Program, str]]:
    """Programs to check, stalest first, at most budget_per_host a host."""
    from affiliate_matrix.connections import stored_connections

    disabled = frozenset(connection.id for connection, _ in stored_connections(rt.store) if not connection.enabled)
    spent, chosen = Counter(), []
    query = SearchQuery(filters={"status": ["active", "closed_suspected"]}, sort=[SortKey(field="last_verified_at")],
                        size=1000)
    while True:
        result = rt.index.search(PROGRAMS_INDEX.name, query)
        for program in programs_of(hit.doc for hit in result.hits):  # one not of its shape: logged, not checked
            url = evidence_url(program, disabled)
            if url is None:
                if disabled and evidence_url(program) is not None:
                    report.not_asked += 1
                else:
                    report.by_sync += 1
                continue
            host = urlsplit(url).netloc
            if spent[host] >= budget_per_host:
                report.skipped_budget += 1
                continue
            spent[host] += 1
            chosen.append((program, url))
        if not result.next_cursor:
            return chosen
        query = query.replaced(cursor=result.next_cursor)


def freshness(rt, now: datetime | None = None) -> dict:
    """Per source and overall: the share of active programs verified within 1, 7 and 30 days, and the oldest: those
    never verified (an imported program; age None) first, as the index sorts them last."""
    now = now or datetime.now(UTC)
    rt.index.ensure_index(PROGRAMS_INDEX)
    per_source: dict[str, list[float | None]] = {}
    oldest, never = [], []
    query = SearchQuery(filters={"status": ["active"]}, sort=[SortKey(field="last_verified_at")], size=1000)
    while True:
        result = rt.index.search(PROGRAMS_INDEX.name, query)
        for hit in result.hits:
            try:  # a summary field not of its shape read from the program (a name 5 was shown as 5)
                verified = summary_field(hit.doc, "last_verified_at",
                                         lambda value: value is None or isinstance(value, str))
                sources = summary_field(hit.doc, "sources", lambda value: isinstance(value, list) and all(
                    isinstance(source, str) for source in value))
                name = summary_field(hit.doc, "name", lambda value: isinstance(value, str))
            except DamagedData as exc:  # its program too: left out of the figures, logged
                log_damaged(hit.id, str(exc))
                continue
            age = (now - datetime.fromisoformat(verified)).total_seconds() / 86400 if verified else None
            for source in sources or ["unknown"]:
                per_source.setdefault(source, []).append(age)
            per_source.setdefault("all", []).append(age)
            found = never if age is None else oldest
            if len(found) < 5:
                found.append({"id": hit.id, "name": name, "age_days": None if age is None else round(age, 1),
                              "verified_at": verified})
        if not result.next_cursor:
            break
        query = query.replaced(cursor=result.next_cursor)

    def shares(ages):
        return {f"within_{d}d": round(sum(a is not None and a <= d for a in ages) / len(ages), 4)
                for d in (1, 7, 30)} | {"programs": len(ages)}

    return {"sources": {s: shares(a) for s, a in sorted(per_source.items())}, "oldest": (never + oldest)[:5]}


def emit_freshness(rt, figures: dict, now: datetime) -> None:
    """The freshness shares as daily figures in the metrics index, for the dashboards."""
    from affiliate_matrix.observability.figures import emit, metric

    day = now.date().isoformat()
    emit(rt, [metric(f"verified_{window}_share", value, {"source": source}, now, day)
              for source, shares in figures["sources"].items()
              for window, value in shares.items() if window.startswith("within_")])
