"""`amx scrape`, `replay`, `verify`, `freshness` and `amx discover`: getting programs into the index
and keeping them fresh."""

from typing import Annotated, Optional

import typer

from rich.markup import escape

from affiliate_matrix.cli.common import (console, fail_if_undelivered, index_here, invalid, open_runtime,
                                         print_indexed, say_rules_not_run, stored_at)
from affiliate_matrix.wording import counted, listings

commands = typer.Typer()  # top-level commands
discover_app = typer.Typer(help="Find new programs by search-engine dork queries.", no_args_is_help=True)
# Each page or response that failed is listed by the command (_exit_on_failures), not printed again as its log line;
# a plugin's fault too, listed with the exception and the plugin's line that raised it (crawl.fault_reason); and the
# sitemaps a crawl refused, counted with the first few (_say_failures)
PAGES_FAILED = ("scrape.page_failed", "crawl.plugin_fault", "sync.plugin_fault", "sitemap.refused")


@commands.command()
def scrape(name: Annotated[str, typer.Argument(help="A connection id, or a source name (amx sources list).")]):
    """Collect one connection's listings here (crawl a directory or read an API), then index them.
    Given a source name with no connection of that id, a connection with the source's defaults is made (not for a
    source that reads a key: add the key and the connection first)."""
    from datetime import UTC, datetime

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from affiliate_matrix.cli.connections import keyless
    from affiliate_matrix.connections import Connection, load_connection, refuse_disabled, save_connection
    from affiliate_matrix.crawl import Failure, Fetched
    from affiliate_matrix.errors import AmxError, InvalidInput, NotFoundError
    from affiliate_matrix.pipeline import scrape as run_scrape
    from affiliate_matrix.sources import all_sources
    from affiliate_matrix.sync_requests import record_run, run_error

    rt = open_runtime("scrape", listed=PAGES_FAILED)
    try:
        refuse_disabled(load_connection(rt.store, name)[0])  # as the API's sync does: a person's too
    except NotFoundError:
        if name not in all_sources():
            raise NotFoundError(f"{name[:100]!r} is neither a connection nor a source (amx sources list)") from None
        if lacking := keyless(name, name.replace("_", "-")):  # a connection of the defaults would have no key
            raise InvalidInput(lacking) from None
        save_connection(rt.store, Connection(id=name.replace("_", "-"), source=name), create=True)
        name = name.replace("_", "-")
        console.print(f"made connection {name} with the source's defaults")
    indexed = index_here(rt)
    counts = {"pages": 0, "records": 0, "failures": 0}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(name)

        def seen(item):
            key = "pages" if isinstance(item, Fetched) else "failures" if isinstance(item, Failure) else "records"
            counts[key] += 1
            bar.update(task, description=f"{name}: {counted(counts['pages'], 'page')}, "
                                         f"{listings(counts['records'])}, "
                                         f"{counted(counts['failures'], 'failure')}")

        started = datetime.now(UTC)
        try:
            report = run_scrape(rt, name, on_item=seen)
        except AmxError as exc:  # recorded as a requested sync's failure is (handlers/scrape.py)
            record_run(rt, name, started, error=run_error(rt, name, exc))
            raise
    # its last_sync, as the API's sync records it (read by the API's callers: a host found at no address said one way,
    # sync_requests.outcome): amx connections list shows it
    record_run(rt, name, started, report)
    # the batch named only where it holds listings: an empty one's path read as data to look at (its key is the hash
    # of nothing); it is stored and announced all the same, the run's record the index and the API's sync read
    said = f"{counted(len(report.failures), 'failure')}, {counted(report.not_modified, 'page')} unchanged"
    console.print(f"{listings(report.records)}, {said}; batch {stored_at(rt, report.batch_key)}" if report.records
                  else f"no listings read: {said}", soft_wrap=True)
    if report.budget_spent:  # not a failure: the next run goes on where this one stopped
        console.print(f"[yellow]{escape(report.incomplete)}[/]")
    print_indexed(indexed)
    _exit_on_failures(rt, report)


def _exit_on_failures(rt, report) -> None:
    """Say what failed, and exit 1 when anything did: a script or a cron job must notice."""
    _say_failures(rt, report)
    fail_if_undelivered(rt)
    if report.failures:
        console.print(f"[red]{counted(len(report.failures), 'page or response', 'pages or responses')} failed[/]")
        raise typer.Exit(1)


def _say_failures(rt, report) -> None:
    from affiliate_matrix.crawl import error_key

    if refused := report.sitemaps_refused.count:  # not a failure: the crawl went on without them
        console.print(f"[yellow]{counted(refused, 'sitemap')} refused, the crawl went on without "
                      f"{'it' if refused == 1 else 'them'}[/]")
        for said in report.sitemaps_refused.first:
            console.print(f"  [yellow]sitemap[/] {escape(said)}")  # a site's words
        if more := refused - len(report.sitemaps_refused.first):
            console.print(f"  and {more:,} more (AMX_LOG_LEVEL=warning logs each as sitemap.refused)")
    for failure in report.failures:
        console.print(f"  [yellow]{failure.stage}[/] {escape(f'{failure.url}: {failure.why}')}")  # a site's words
        if failure.raw_key:  # where to look, and what a fixed parser reads again (amx replay): each path on a line
            # of its own, not folded (Rich broke a path past the terminal's width with a line break, pasted with it)
            console.print(f"    kept raw: {escape(stored_at(rt, failure.raw_key))}", soft_wrap=True)
            if failure.stage == "parse":
                console.print(f"    why: {escape(stored_at(rt, error_key(failure.raw_key)))}", soft_wrap=True)


@commands.command()
def replay(connection_id: Annotated[str | None, typer.Argument(help="A connection (amx connections list).")] = None,
           every: Annotated[bool, typer.Option("--all", help=(
               "Every connection, and every batch discovery stored: the programs rebuilt with no network (after "
               "a damaged index)."))] = False):
    """Parse a connection's stored raw pages, or its API's stored answers, again (after a parser fix) and index them:
    no network."""
    from affiliate_matrix.pipeline import rebuild
    from affiliate_matrix.pipeline import scrape as run_scrape

    if (connection_id is None) != every:
        raise invalid("connection_id", "give a connection, or --all for every one (not both)")
    rt = open_runtime("replay", listed=PAGES_FAILED)
    indexed = index_here(rt)
    if connection_id is not None:
        report = run_scrape(rt, connection_id, replay=True)
        console.print(f"replayed {_kept(report)}: {listings(report.records)}, "
                      f"{counted(len(report.failures), 'failure')}")
        print_indexed(indexed)
        _exit_on_failures(rt, report)
        return
    rebuilt = rebuild(rt)
    for report in rebuilt.replayed:
        console.print(f"{escape(report.connection_id)}: replayed {_kept(report)}, {listings(report.records)}, "
                      f"{counted(len(report.failures), 'failure')}")
        _say_failures(rt, report)
    console.print(f"discovery: {counted(rebuilt.discovery_batches, 'batch', 'batches')} indexed again")
    for why in rebuilt.left_out:
        console.print(f"  [yellow]left out:[/] {escape(why)}", soft_wrap=True)
    print_indexed([_summed(indexed)] if indexed else [])
    fail_if_undelivered(rt)
    failed = sum(len(report.failures) for report in rebuilt.replayed)
    if failed or rebuilt.left_out:
        console.print(f"[red]{counted(failed, 'page or response', 'pages or responses')} failed, "
                      f"{counted(len(rebuilt.left_out), 'connection')} left out[/]")
        raise typer.Exit(1)


def _kept(report) -> str:
    """What a replay read, in the words of its source: a directory's pages, an API's answers."""
    from affiliate_matrix.sources import ApiSource, get_source

    return counted(report.pages, "stored answer" if issubclass(get_source(report.source), ApiSource) else "stored page")


def _summed(indexed: list):
    """The reports of many batches indexed as one: a rebuild's every batch said in a line."""
    from affiliate_matrix.pipeline import IndexReport

    return IndexReport("every batch", sum(r.records for r in indexed), sum(r.created for r in indexed),
                       sum(r.updated for r in indexed), sum(r.unchanged for r in indexed),
                       [d for r in indexed for d in r.deltas], [e for r in indexed for e in r.errors],
                       "; ".join(r.skipped for r in indexed if r.skipped) or None)


@commands.command()
def verify(budget_per_host: Annotated[int, typer.Option(min=1, max=10_000, help=(
               "Pages checked at most on each host this run; the rest are the stalest next run."))] = 50,
           suspect_after: Annotated[int, typer.Option(min=1, max=100, help=(
               "Misses in a row (the page gone: 404, 410, a redirect home) after which a program is closed_suspected; "
               "twice as many, removed."))] = 2):
    """Re-check the stalest programs on their source pages (conditional GET, per-host budget)."""
    from affiliate_matrix.verify import verify as run_verify

    rt = open_runtime("verify")
    report = run_verify(rt, budget_per_host=budget_per_host, suspect_after=suspect_after)
    console.print(f"checked {report.checked}: {report.verified} verified, {report.missed} gone, "
                  f"{report.inconclusive} inconclusive, {report.skipped_budget} left for the next run "
                  f"(past the host budget or the time limit); {counted(len(report.deltas), 'change')}")
    if report.not_asked:  # "checked 0" said nothing of why, after the demo (its connections are left disabled)
        console.print(f"{counted(report.not_asked, 'program')} not asked: listed only through disabled connections "
                      "(amx connections list says why each is; amx connections edit ID --enabled enables one)")
    if report.by_sync:  # "checked 0" of an index of network programs said nothing of why
        console.print(f"{counted(report.by_sync, 'program')} with no directory page to check: a network API's are "
                      "verified by its connection's next sync (amx scrape ID)")
    for url, reason in report.unsure:
        console.print(f"  [yellow]inconclusive[/] {escape(f'{url}: {reason}')}")
    say_rules_not_run(rt)
    if report.unsure:  # a page not checked is not verified: a script or a cron job must notice
        raise typer.Exit(1)


@commands.command()
def freshness():
    """Share of active programs verified within 1, 7 and 30 days, per source and overall; those verified longest ago."""
    from datetime import UTC, datetime

    from affiliate_matrix.cli.views import fitted, source_named, utc_text
    from affiliate_matrix.verify import emit_freshness
    from affiliate_matrix.verify import freshness as figures_of

    rt, now = open_runtime("verify"), datetime.now(UTC)
    figures = figures_of(rt, now)
    emit_freshness(rt, figures, now)
    if not figures["sources"]:  # an empty table said nothing more
        console.print("No active program in the index yet: `amx demo` fills it from recorded sources, "
                      "`amx scrape SOURCE` from a live one.")
        return
    # every source by its title and code (the figures, for the dashboards, keep the code), then the whole index (not
    # filed among the sources as if it were one, "all" after "affi…")
    rows = [[escape(source_named(source)), str(shares["programs"]),
             *(f"{shares[f'within_{d}d']:.0%}" for d in (1, 7, 30))]
            for source, shares in sorted(figures["sources"].items(), key=lambda item: item[0] == "all")]
    console.print(fitted(console, "verified within", [("source", 0), ("programs", 0), ("1 day", 0), ("7 days", 0),
                                                      ("30 days", 0)], rows))
    if figures["oldest"]:  # under one heading: five lines each saying "oldest:" read as five oldest
        console.print("[dim]verified longest ago:[/]")
    for program in figures["oldest"]:
        # when, as every time is shown, with how long ago: "verified 0.0 days ago" alone read as no time at all
        age = "never verified" if program["age_days"] is None else \
            f"verified {utc_text(program['verified_at'], minutes=True)} UTC, {program['age_days']} days ago"
        console.print(f"  {escape(program['name'])} ({program['id']}), {age}", highlight=False)


@discover_app.command("run")
def discover_run(niches: Annotated[list[str], typer.Argument(help="Niches to search, e.g. pets \"web hosting\".")],
                 language: Annotated[Optional[list[str]], typer.Option(help="en, de, fr, es, nl, pt or it (repeatable).")] = None):
    """Search, judge the pages found, index the confident finds as `discovered`, list the doubtful for review."""
    from affiliate_matrix.discovery.dorks import MAX_NICHE, niche_problem
    from affiliate_matrix.discovery.run import discover
    from affiliate_matrix.errors import InvalidInput

    for niche in niches:  # held to what POST /discover and a rule's discover action take
        if why := niche_problem(niche):
            raise InvalidInput(f"niche {niche[:MAX_NICHE]!r}: {why}")

    # each provider's failure, its spent quota, one left out (no URL, no key), an answer given in part and the time
    # limit are listed below (a run with no provider to ask is refused, naming each)
    rt = open_runtime("discover", listed=("discover.provider_failed", "discover.quota_exhausted",
                                          "discover.out_of_time", "discovery.provider_unconfigured",
                                          "discovery.provider_without_credentials", "discover.results_cut",
                                          "discover.searxng_engines_failed"))
    index_here(rt)
    report = discover(rt, niches, language or ["en"])
    # report.queries counts the queries answered: "0 queries" beside "unanswered: 5 of 5" read as none asked
    asked = report.queries + len(report.unanswered)
    console.print(f"{report.queries} of {counted(asked, 'query', 'queries')} answered, "
                  f"{counted(report.results, 'result')}, {counted(report.candidates, 'site')} "
                  f"({len(report.known)} already known): {len(report.discovered)} discovered, "
                  f"{len(report.review)} to review, {counted(len(report.rejected), 'not a program', 'not programs')}")
    # which sites: the counts alone sent a person to amx search and amx discover review to learn what was found
    for said, domains in (("discovered (amx search --status discovered)", report.discovered),
                          ("to review (amx discover review)", report.review)):
        if domains:
            console.print(f"  {said}: {escape(', '.join(domains))}")
    # each with why: the domain alone left a person to guess why a site was not taken
    for domain, why in report.rejected_why.items():
        console.print(f"  not a program: {escape(domain)} — {escape(why)}")
    for said in report.merchants_followed:
        console.print(f"  its merchant's own page judged: {escape(said)}")
    for name in report.quota_exhausted:
        console.print(f"  [yellow]provider[/] {escape(name)}: its quota for the day is spent (AMX_DISCOVERY_QUOTAS, or "
                      "the provider said so); it is asked again on its next day")
    for problem in report.provider_errors + report.unusable + report.partial_answers:
        console.print(f"  [yellow]provider[/] {escape(problem)}")
    for said in report.not_merchants:
        console.print(f"  [dim]not judged[/] {escape(said)}")
    for url, reason in report.failures:
        console.print(f"  [yellow]fetch[/] {escape(f'{url}: {reason}')}")
    if report.out_of_time:
        console.print(f"[yellow]stopped at its time limit[/] (AMX_CRAWL_TIME_LIMIT_S): {len(report.not_judged)} sites "
                      f"not judged, {len(report.leads_not_read)} pages about other sites' programs not read for their "
                      "merchants; the next run that finds them does so")
        # which: a merchant a page led to, queued and not reached, was named nowhere else
        if report.not_judged:
            console.print(f"  sites left for the next run: {escape(', '.join(report.not_judged))}")
        for url in report.leads_not_read:
            console.print(f"  page left for the next run to read for its merchant: {escape(url)}")
    fail_if_undelivered(rt)
    if report.unanswered:  # a run that searched less than asked says so in its exit status too
        console.print(f"[red]unanswered:[/] {len(report.unanswered)} of {len(report.unanswered) + report.queries} "
                      "queries, no provider could take them (above, why)")
        raise typer.Exit(1)


@discover_app.command("review")
def discover_review(accept: Annotated[Optional[str], typer.Option(help="Accept this domain into the index.")] = None,
                    reject: Annotated[Optional[str], typer.Option(help="Reject this domain.")] = None):
    """The doubtful finds, with their evidence; --accept or --reject one."""
    from affiliate_matrix.discovery.run import decide, reviews
    from affiliate_matrix.wording import quoted

    if accept is not None and reject is not None:  # one decision: --reject beside --accept was dropped unsaid
        raise invalid("--reject", "give --accept or --reject, not both")
    if (accept if accept is not None else reject) == "":  # an empty one listed the review instead, deciding nothing
        raise invalid("--accept" if accept is not None else "--reject",
                      "give a domain as the review list names it (amx discover review)")
    rt = open_runtime("discover")
    if accept or reject:
        index_here(rt)
        decide(rt, accept or reject, accept=bool(accept))  # an accepted one's batch stored and announced first
        console.print(f"{'accepted' if accept else 'rejected'} {accept or reject}")
        fail_if_undelivered(rt)
        return
    damaged: list[dict] = []
    items = reviews(rt, damaged)
    if not items and not damaged:
        console.print("nothing to review (amx discover run finds candidates)")
    for item in items:
        console.print(f"[bold]{escape(item['domain'])}[/] {escape(quoted(item['name']))} confidence "
                      f"{item['confidence']:.2f} — {escape(item['url'])}")
        for line in item["evidence"]:
            console.print(f"    {escape(str(line))}")
    for problem in damaged:
        console.print(f"[yellow]damaged[/] {escape(problem['error'])}")
