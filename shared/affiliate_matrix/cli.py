"""`amx`: the human interface. Each command imports what it needs when it runs."""

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from affiliate_matrix.cli_keys import keys_app
from affiliate_matrix.cli_tokens import tokens_app
from affiliate_matrix.errors import AmxError

app = typer.Typer(help="Affiliate Matrix: find, track and fund affiliate programs.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
sources_app = typer.Typer(help="Source plugins.", no_args_is_help=True)
connections_app = typer.Typer(help="Configured sources (connections).", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(connections_app, name="connections")
app.add_typer(keys_app, name="keys")
terms_app = typer.Typer(help="The terms extractor.", no_args_is_help=True)
app.add_typer(terms_app, name="terms")
app.add_typer(tokens_app, name="tokens")
index_app = typer.Typer(help="Index versions: status, zero-downtime migration, rollback.", no_args_is_help=True)
app.add_typer(index_app, name="index")
budget_app = typer.Typer(help="Campaigns, budget allocation, forecasts and reports.", no_args_is_help=True)
app.add_typer(budget_app, name="budget")
campaigns_app = typer.Typer(help="Campaigns the budget is shared across.", no_args_is_help=True)
budget_app.add_typer(campaigns_app, name="campaigns")
discover_app = typer.Typer(help="Find new programs by search-engine dork queries.", no_args_is_help=True)
app.add_typer(discover_app, name="discover")
rules_app = typer.Typer(help="Rules: a trigger, a CEL condition, an action, a cool-down.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
export_app = typer.Typer(help="Export the master index (CSV, JSON Lines, Parquet).", no_args_is_help=True)
app.add_typer(export_app, name="export")
import_app = typer.Typer(help="Import programs exported before.", no_args_is_help=True)
app.add_typer(import_app, name="import")
flags_app = typer.Typer(help="Feature flags: boolean or percentage, with allow-lists.", no_args_is_help=True)
app.add_typer(flags_app, name="flags")
analytics_app = typer.Typer(help="What the programs API is asked, and what that suggests.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")
console = Console()
errors = Console(stderr=True, soft_wrap=True)


def _runtime(function: str = "cli", **overrides):
    from affiliate_matrix.config import load_settings
    from affiliate_matrix.runtime import Runtime

    return Runtime(function, load_settings(**quiet_logs(overrides)))


def index_here(rt) -> None:
    """Index each batch this command stores, in this process (through the in-process bus; with a Broker, the
    index function does it)."""
    from affiliate_matrix.events import RAW_BATCH_STORED
    from affiliate_matrix.pipeline import index_batch

    if hasattr(rt.bus, "subscribe"):
        rt.bus.subscribe(RAW_BATCH_STORED, lambda event: index_batch(rt, event.data["batch_key"]))


def fail_if_undelivered(rt) -> None:
    """Work this command handed to the in-process bus (indexing) that failed every attempt fails the command."""
    dead = getattr(rt.bus, "dead_letters", [])
    for event, reason in dead:
        what = event.data.get("batch_key", event.id) if isinstance(event.data, dict) else event.id
        errors.print(f"[red]error:[/] {event.type.removeprefix('dev.affiliatematrix.')} {escape(str(what))}: failed "
                     f"{rt.bus.attempts} times, last: {escape(reason)}", highlight=False, markup=True)
    if dead:
        raise typer.Exit(1)


def quiet_logs(overrides: dict) -> dict:
    """At a terminal, the command prints its own outcome: logs show warnings unless AMX_LOG_LEVEL says otherwise."""
    import os

    return overrides if "AMX_LOG_LEVEL" in os.environ else {"log_level": "warning", **overrides}


@app.command()
def demo():
    """The product's story on recorded sources: scrape, resolve, provenance, a change acted on; no servers."""
    from affiliate_matrix import demo as demo_module

    demo_module.run(console)


@app.command()
def search(
    text: Annotated[Optional[str], typer.Argument(help="Words to search for.")] = None,
    category: Annotated[Optional[list[str]], typer.Option(help="Category (repeatable).")] = None,
    network: Annotated[Optional[list[str]], typer.Option(help="Network (repeatable).")] = None,
    sort: Annotated[str, typer.Option(help="Order, as the API's sort parameter names it.")] = "relevance",
    limit: Annotated[int, typer.Option(min=1, help="Programs to show, at most one API page.")] = 20,
):
    """Search the master index."""
    from affiliate_matrix.cli_views import print_search
    from affiliate_matrix.programs import MAX_PAGE_SIZE, SORTS

    if limit > MAX_PAGE_SIZE:
        raise typer.BadParameter(f"{limit} is more than a page ({MAX_PAGE_SIZE})", param_hint="--limit")
    if sort not in SORTS:
        raise typer.BadParameter(f"{sort!r} is not one of {', '.join(SORTS)}", param_hint="--sort")
    filters = {k: v for k, v in {"categories": category, "networks": network}.items() if v}
    print_search(console, _runtime(), text, limit=limit, sort=sort, filters=filters)


@app.command()
def show(program_id: str):
    """One program with the provenance of each field."""
    from rich.table import Table

    from affiliate_matrix.cli_views import commission_summary
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.programs import PROGRAMS_INDEX, from_document

    rt = _runtime()
    rt.index.ensure_index(PROGRAMS_INDEX)
    doc = rt.index.get(PROGRAMS_INDEX.name, program_id)
    if doc is None:
        raise NotFoundError(f"program {program_id!r} is not in the index")
    program = from_document(doc)
    console.print(f"[bold]{program.name}[/] ({program.id}) — {program.merchant_domain or 'no domain'}, "
                  f"quality {program.quality_score:.2f}")
    console.print(f"commission: {commission_summary(program)}  [dim]{program.commission_text or ''}[/]")
    table = Table(title="provenance")
    for column in ("field", "value", "source", "url", "fetched"):
        table.add_column(column)
    for name, evidence in sorted(program.provenance.items()):
        value = getattr(program, name)
        shown = value.model_dump_json() if hasattr(value, "model_dump_json") else str(value)
        for e in evidence:
            table.add_row(name, shown[:60], e.source, e.url, e.fetched_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command()
def scrape(name: Annotated[str, typer.Argument(help="A connection id, or a source name (amx sources list).")]):
    """Collect one connection's listings here (crawl a directory or read an API), then index them.
    Given a source name with no connection of that id, a connection with the source's defaults is made."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from affiliate_matrix.connections import load_connection, save_connection
    from affiliate_matrix.crawl import Failure, Fetched
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.models import Connection
    from affiliate_matrix.pipeline import scrape as run_scrape
    from affiliate_matrix.sources import all_sources

    rt = _runtime("scrape")
    try:
        load_connection(rt.store, name)
    except NotFoundError:
        if name not in all_sources():
            raise NotFoundError(f"{name!r} is neither a connection nor a source (amx sources list)") from None
        save_connection(rt.store, Connection(id=name.replace("_", "-"), source=name), create=True)
        name = name.replace("_", "-")
        console.print(f"made connection {name} with the source's defaults")
    index_here(rt)
    counts = {"pages": 0, "records": 0, "failures": 0}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(name)

        def seen(item):
            key = "pages" if isinstance(item, Fetched) else "failures" if isinstance(item, Failure) else "records"
            counts[key] += 1
            bar.update(task, description=f"{name}: {counts['pages']} pages, {counts['records']} records, "
                                         f"{counts['failures']} failures")

        report = run_scrape(rt, name, on_item=seen)
    console.print(f"{report.records} records, {len(report.failures)} failures, {report.not_modified} pages unchanged; "
                  f"batch {report.batch_key}")
    _exit_on_failures(rt, report)


def _exit_on_failures(rt, report) -> None:
    """Say what failed, and exit 1 when anything did: a script or a cron job must notice."""
    for failure in report.failures:
        console.print(f"  [yellow]{failure.stage}[/] {failure.url}: {failure.reason}")
    fail_if_undelivered(rt)
    if report.failures:
        console.print(f"[red]{len(report.failures)} page(s) or response(s) failed[/]"
                      + (" (raw copies and reasons under errors/)" if any(f.raw_key for f in report.failures) else ""))
        raise typer.Exit(1)


@app.command()
def compare(merchant_key: str):
    """One merchant's programs and offers across networks and directories, best terms starred."""
    from rich.table import Table

    from affiliate_matrix.merchants import merchant_view

    view = merchant_view(_runtime().index, merchant_key)
    table = Table(title=f"{view['merchant']} ({view['domain'] or view['merchant_key']})")
    for column in ("source", "kind", "network", "commission", "cookie", "payout", "join"):
        table.add_column(column)
    for row in view["rows"]:
        star = "★ " if {"commission_percent", "commission_flat"} & set(row["best"]) else ""
        cookie = "—" if row["cookie_days"] is None else "lifetime" if row["cookie_days"] == -1 else f"{row['cookie_days']}d"
        payout = row["payout"] or {}
        table.add_row(row["source"], row["kind"], row["network"] or "—", star + (row["commission_text"] or "—"),
                      ("★ " if "cookie_days" in row["best"] else "") + cookie,
                      ", ".join(payout.get("methods") or []) or "—", row["join_url"] or "—")
    console.print(table)
    for program_id, fields in view["conflicts"].items():
        for field, said in fields.items():
            console.print(f"[yellow]sources disagree on {field}[/]: " + "; ".join(f"{s}: {v}" for s, v in said.items()))


@app.command()
def verify(budget_per_host: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
           suspect_after: Annotated[int, typer.Option(min=1, max=100)] = 2):
    """Re-check the stalest programs on their source pages (conditional GET, per-host budget)."""
    from affiliate_matrix.verify import verify as run_verify

    report = run_verify(_runtime("verify"), budget_per_host=budget_per_host, suspect_after=suspect_after)
    console.print(f"checked {report.checked}: {report.verified} verified, {report.missed} gone, "
                  f"{report.inconclusive} inconclusive, {report.skipped_budget} over the host budget; "
                  f"{len(report.deltas)} changes")


@app.command()
def freshness():
    """Share of active programs verified within 1, 7 and 30 days, per source and overall; the oldest."""
    from datetime import UTC, datetime

    from rich.table import Table

    from affiliate_matrix.verify import emit_freshness
    from affiliate_matrix.verify import freshness as figures_of

    rt, now = _runtime("verify"), datetime.now(UTC)
    figures = figures_of(rt, now)
    emit_freshness(rt, figures, now)
    table = Table(title="verified within")
    for column in ("source", "programs", "1 day", "7 days", "30 days"):
        table.add_column(column)
    for source, shares in figures["sources"].items():
        table.add_row(source, str(shares["programs"]), *(f"{shares[f'within_{d}d']:.0%}" for d in (1, 7, 30)))
    console.print(table)
    for program in figures["oldest"]:
        console.print(f"[dim]oldest:[/] {program['name']} ({program['id']}), {program['age_days']} days")


@app.command()
def replay(connection_id: str):
    """Parse a connection's stored raw pages again (after a parser fix) and index them: no refetching."""
    from affiliate_matrix.pipeline import scrape as run_scrape

    rt = _runtime("replay")
    index_here(rt)
    report = run_scrape(rt, connection_id, replay=True)
    console.print(f"replayed {report.pages} stored pages: {report.records} records, {len(report.failures)} failures")
    _exit_on_failures(rt, report)


@sources_app.command("list")
def sources_list():
    """The source plugins there are."""
    from rich.table import Table

    from affiliate_matrix.sources import all_sources

    table = Table()
    for column in ("name", "site", "address"):
        table.add_column(column)
    for name, source in all_sources().items():
        table.add_row(name, source.title, source.base_url)
    console.print(table)


@connections_app.command("add")
def connections_add(
    connection_id: str,
    source: Annotated[str, typer.Option(help="Source plugin name (amx sources list).")],
    base_url: Annotated[Optional[str], typer.Option(help="Override the source's address.")] = None,
    schedule: Annotated[str, typer.Option(help="Cron, five fields, UTC.")] = "0 3 * * *",
):
    """Create a connection (fails if it exists)."""
    from affiliate_matrix.connections import save_connection
    from affiliate_matrix.models import Connection
    from affiliate_matrix.sources import get_source

    get_source(source)
    connection = Connection(id=connection_id, source=source, base_url=base_url, schedule=schedule)
    save_connection(_runtime().store, connection, create=True)
    console.print(f"created connection {connection_id}")


@terms_app.command("extract")
def terms_extract(
    path: Annotated[str, typer.Argument(help="A text file, or - for standard input.")] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
):
    """Structured terms (commission, cookie, payout, restrictions) from free text."""
    import json
    import sys
    from pathlib import Path

    from affiliate_matrix.terms import extract

    limit = 1_000_000
    try:
        text = sys.stdin.read(limit + 1) if path == "-" else Path(path).read_text(errors="replace")[: limit + 1]
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="PATH") from None
    if len(text) > limit:
        raise typer.BadParameter(f"the text is longer than {limit:,} characters", param_hint="PATH")
    terms = extract(text).as_json()
    if as_json:
        print(json.dumps(terms))
        return
    for field, value in terms.items():
        console.print(f"[bold]{field}[/]: {json.dumps(value)}")


# --- discovery -----------------------------------------------------------------------------------

@discover_app.command("run")
def discover_run(niches: Annotated[list[str], typer.Argument(help="Niches to search, e.g. pets \"web hosting\".")],
                 language: Annotated[Optional[list[str]], typer.Option(help="en, de, fr or es (repeatable).")] = None):
    """Search, judge the pages found, index the confident finds as `discovered`, list the doubtful for review."""
    from affiliate_matrix.discovery.run import discover

    rt = _runtime("discover")
    index_here(rt)
    report = discover(rt, niches, language or ["en"])
    console.print(f"{report.queries} queries, {report.results} results, {report.candidates} sites "
                  f"({len(report.known)} already known): {len(report.discovered)} discovered, "
                  f"{len(report.review)} to review, {len(report.rejected)} not programs")
    for problem in report.quota_exhausted + report.provider_errors:
        console.print(f"  [yellow]provider[/] {problem}")
    for url, reason in report.failures:
        console.print(f"  [yellow]fetch[/] {url}: {reason}")
    fail_if_undelivered(rt)


@discover_app.command("review")
def discover_review(accept: Annotated[Optional[str], typer.Option(help="Accept this domain into the index.")] = None,
                    reject: Annotated[Optional[str], typer.Option(help="Reject this domain.")] = None):
    """The doubtful finds, with their evidence; --accept or --reject one."""
    from affiliate_matrix.discovery.run import decide, reviews
    from affiliate_matrix.events import RAW_BATCH_STORED, Event

    rt = _runtime("discover")
    if accept or reject:
        record = decide(rt, accept or reject, accept=bool(accept))
        if record is not None:
            key = rt.store.put_content_addressed("batches/discovery", record.model_dump_json().encode(),
                                                 suffix=".jsonl", content_type="application/x-ndjson")
            index_here(rt)
            rt.bus.publish(Event.make(RAW_BATCH_STORED, "/discover", {"batch_key": key, "connection_id": "discovery",
                                                                       "records": 1, "failures": 0}, key=key))
        console.print(f"{'accepted' if accept else 'rejected'} {accept or reject}")
        fail_if_undelivered(rt)
        return
    for item in reviews(rt):
        console.print(f"[bold]{item['domain']}[/] {item['name']!r} confidence {item['confidence']:.2f} — {item['url']}")
        for line in item["evidence"]:
            console.print(f"    {line}")


# --- rules ---------------------------------------------------------------------------------------

@rules_app.command("add")
def rules_add(path: Annotated[str, typer.Argument(help="A rule document, YAML or JSON (- for standard input).")],
              replace: Annotated[bool, typer.Option(help="Replace a rule with the same id.")] = False):
    """Check a rule (its CEL condition against the documented context) and store it."""
    import sys
    from pathlib import Path

    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.rules.model import checked, parse_rule
    from affiliate_matrix.rules.store import load_rule, save_rule

    try:
        text = sys.stdin.read(1_000_001) if path == "-" else Path(path).read_text()[:1_000_001]
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="PATH") from None
    from pydantic import ValidationError

    try:
        rule = checked(parse_rule(text))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "rule"
        raise InvalidInput(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    store = _runtime("triggers").store
    if replace:
        try:
            etag = load_rule(store, rule.id)[1]
        except AmxError:
            etag = None
        save_rule(store, rule, if_match=etag, create=etag is None)
    else:
        try:
            save_rule(store, rule, create=True)
        except AmxError:
            raise InvalidInput(f"rule {rule.id!r} exists; --replace to replace it") from None
    console.print(f"added rule {rule.id}: on {rule.trigger.key} if {rule.condition} → {rule.action.type}")


@rules_app.command("list")
def rules_list():
    from rich.table import Table

    from affiliate_matrix.rules.store import list_rules

    table = Table("id", "trigger", "condition", "action", "cool-down", "enabled")
    for rule in list_rules(_runtime("triggers").store):
        table.add_row(rule.id, rule.trigger.key, rule.condition, rule.action.type, f"{rule.cooldown_s}s",
                      "yes" if rule.enabled else f"no ({rule.disabled_reason})")
    console.print(table)


@rules_app.command("test")
def rules_test(rule_id: str,
               event: Annotated[str, typer.Option(help="A CloudEvent as JSON (id, source, type, time, data), - for stdin.")]):
    """Dry-run a rule against an event: the context it sees and whether it would fire. Nothing is dispatched."""
    import json
    import sys
    from pathlib import Path

    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.events import Event
    from affiliate_matrix.rules.conditions import context_of
    from affiliate_matrix.rules.engine import compiled, context_values
    from affiliate_matrix.rules.store import load_rule

    rt = _runtime("triggers")
    rule, _ = load_rule(rt.store, rule_id)
    try:
        raw = json.loads(sys.stdin.read() if event == "-" else Path(event).read_text())
        parsed = Event.model_validate(raw)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"--event: {exc}") from None
    values, inputs = context_values(rt, parsed, needs_stats="stats" in rule.condition)
    try:
        holds = compiled(rule).execute(context_of(values))
    except Exception as exc:
        console.print(f"[red]the condition raises:[/] {exc}")
        raise SystemExit(1) from None
    console.print(f"inputs: {json.dumps(inputs)}")
    console.print(f"{rule.condition} → [bold]{str(holds).lower()}[/]: "
                  + (f"would dispatch {rule.action.type} {json.dumps(rule.action.params)}" if holds else "no action"))


@rules_app.command("disable")
def rules_disable(rule_id: str, reason: Annotated[str, typer.Option(help="Why, for the record.")] = "disabled by hand"):
    from affiliate_matrix.rules.store import disable_rule

    disable_rule(_runtime("triggers").store, rule_id, reason)
    console.print(f"disabled rule {rule_id}")


# --- the local runtime ---------------------------------------------------------------------------

@app.command()
def up(speed: Annotated[float, typer.Option(help="How much faster than real time the cron clock runs.")] = 1.0,
       start: Annotated[Optional[str], typer.Option(help="The clock's start (ISO-8601, UTC); now by default.")] = None,
       port_base: Annotated[int, typer.Option(help="programs on this port, the next function on the next; 0 for any free ports.")] = 8100,
       detach: Annotated[bool, typer.Option(help="Run in the background; `amx down` stops it.")] = False):
    """Every function as its own process, a local Broker and the PingSource crons, wired as manifests/base says."""
    import json
    import subprocess
    import sys
    import time
    from datetime import UTC, datetime
    from pathlib import Path

    from affiliate_matrix.config import load_settings
    from affiliate_matrix.demo import ROOT
    from affiliate_matrix.localrun.runner import up as run_up

    data_dir = load_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    when = None
    if start:
        try:
            when = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise typer.BadParameter(f"{start!r} is not an ISO-8601 time", param_hint="--start") from None
    if detach:
        state = data_dir / "up.json"
        state.unlink(missing_ok=True)
        args = [sys.argv[0], "up", "--speed", str(speed), "--port-base", str(port_base)] + (["--start", start] if start else [])
        log = open(data_dir / "up.log", "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(1200):
            if state.exists():
                break
            if process.poll() is not None:
                raise typer.Exit(f"amx up exited with {process.returncode}; see {data_dir / 'up.log'}")
            time.sleep(0.1)
        for name, function in json.loads(state.read_text())["functions"].items():
            console.print(f"{name:12} {function['url']}")
        console.print(f"running in the background (logs in {data_dir / 'logs'}); `amx down` stops it")
        return
    console.print(f"starting every function; logs in {data_dir / 'logs'}; Ctrl-C stops")
    run_up(ROOT, data_dir, speed=speed, start=when, port_base=port_base)


@app.command()
def down():
    """Stop what `amx up` started."""
    from affiliate_matrix.config import load_settings
    from affiliate_matrix.localrun.runner import down as run_down

    console.print("stopped" if run_down(load_settings().data_dir) else "nothing was running")


# --- export and import ---------------------------------------------------------------------------

@export_app.command("programs")
def export_programs(
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet.")] = "jsonl",
    out: Annotated[Optional[str], typer.Option(help="A file (standard output by default; parquet needs a file).")] = None,
    text: Annotated[Optional[str], typer.Option("--q", help="Only programs matching these words.")] = None,
    category: Annotated[Optional[list[str]], typer.Option(help="Category (repeatable).")] = None,
    network: Annotated[Optional[list[str]], typer.Option(help="Network (repeatable).")] = None,
    status: Annotated[Optional[list[str]], typer.Option(help="Status (repeatable).")] = None,
):
    """Stream the master index, or a search's result, without holding it in memory."""
    import sys

    from affiliate_matrix.exchange import check_format, export
    from affiliate_matrix.programs import PROGRAMS_INDEX
    from affiliate_matrix.search import SearchQuery

    check_format(fmt)
    if fmt == "parquet" and not out:
        raise typer.BadParameter("parquet is binary: give --out FILE", param_hint="--out")
    filters = {k: v for k, v in {"categories": category, "networks": network, "status": status}.items() if v}
    rt = _runtime("export")
    rt.index.ensure_index(PROGRAMS_INDEX)
    query = SearchQuery(text=text, filters=filters)
    if out is None:
        export(rt.index, fmt, sys.stdout, query)
        return
    with open(out, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else {"encoding": "utf-8", "newline": ""})) as sink:
        export(rt.index, fmt, sink, query)
    errors.print(f"wrote {out}")


@import_app.command("programs")
def import_programs(path: Annotated[str, typer.Argument(help="A file from `amx export programs`.")],
                    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, jsonl or parquet (by default from the file's extension).")] = None):
    """Check every row, then write them all; one bad row refuses the file, errors named by line."""
    from pathlib import Path

    from affiliate_matrix.exchange import import_programs as run_import

    file = Path(path)
    report = run_import(_runtime("import"), file, fmt or file.suffix.lstrip(".").lower())
    console.print(f"imported {report.written} of {report.records} programs"
                  + (f"; {len(report.errors)} failed to write: {report.errors[:3]}" if report.errors else ""))
    if report.errors:
        raise typer.Exit(1)


# --- feature flags -------------------------------------------------------------------------------

@flags_app.command("list")
def flags_list():
    """Every flag the code reads, and its setting."""
    from rich.table import Table

    from affiliate_matrix.flag_config import load
    from affiliate_matrix.flags import KNOWN

    config, _ = load(_runtime("flags").store)
    table = Table("flag", "kind", "on", "percentage", "allow", "what it does")
    for name in sorted(set(KNOWN) | set(config.flags)):
        flag = config.flags.get(name)
        table.add_row(name, flag.kind if flag else "–", "yes" if flag and flag.enabled else "no",
                      f"{flag.percentage:g}%" if flag and flag.kind == "percentage" else "",
                      ", ".join(flag.allow) if flag else "", KNOWN.get(name, "(not read by this code)"))
    console.print(table)


@flags_app.command("schema")
def flags_schema():
    """The FeatureFlagConfig JSON Schema (committed as infra/flags/feature-flags.schema.json)."""
    import json

    from affiliate_matrix.flag_config import FeatureFlagConfig

    print(json.dumps(FeatureFlagConfig.model_json_schema(), indent=2, sort_keys=True))


@flags_app.command("set")
def flags_set(name: str,
              on: Annotated[Optional[bool], typer.Option("--on/--off", help="Turn it on or off.")] = None,
              percentage: Annotated[Optional[float], typer.Option(min=0, max=100, help="On for this share (makes it a percentage flag).")] = None,
              allow: Annotated[Optional[list[str]], typer.Option(help="A token or connection id it is always on for (repeatable; replaces the list).")] = None):
    """Change one flag; running functions see it within AMX_FLAGS_TTL_S."""
    from affiliate_matrix.flag_config import Flag, update
    from affiliate_matrix.flags import KNOWN

    if name not in KNOWN:
        raise typer.BadParameter(f"{name!r} is not a flag the code reads: {', '.join(KNOWN)}", param_hint="NAME")

    def change(flag):
        data = (flag or Flag(description=KNOWN[name])).model_dump()
        if on is not None:
            data["enabled"] = on
        if percentage is not None:
            data.update(kind="percentage", percentage=percentage)
        if allow is not None:
            data["allow"] = allow
        return Flag.model_validate(data)

    flag = update(_runtime("flags").store, name, change).flags[name]
    console.print(f"{name}: {'on' if flag.enabled else 'off'}"
                  + (f" for {flag.percentage:g}%" if flag.kind == "percentage" else "")
                  + (f", always for {', '.join(flag.allow)}" if flag.allow else ""))


# --- query analytics -----------------------------------------------------------------------------

@analytics_app.command("report")
def analytics_report(days: Annotated[int, typer.Option(min=1, max=90, help="How far back to look.")] = 7,
                     act: Annotated[bool, typer.Option(help="Also write the warm list and facet snapshots.")] = True):
    """The most frequent and slowest query shapes, the top queries, and proposed mapping changes."""
    from affiliate_matrix.analytics import analyze

    console.print(analyze(_runtime("analytics"), days=days, act=act).text(), highlight=False)

# --- budget --------------------------------------------------------------------------------------

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
    """Share a budget across campaigns. Reads the request as JSON on standard input (see the README)."""
    import json

    from affiliate_matrix.budget.contract import allocate_json

    if metric not in ("revenue", "roas", "conversions"):
        raise typer.BadParameter(f"{metric!r} is not revenue, roas or conversions", param_hint="--metric")
    result = allocate_json(_stdin(), metric=metric)
    if as_json:
        print(result)
        return
    from rich.table import Table

    body = json.loads(result)
    table = Table("campaign", "amount", "expected revenue (80% band)", title=f"strategy: {body['strategy']}")
    for row in body["allocations"]:
        band = (f"{row['expected_revenue']:,.2f} ({row['expected_revenue_low']:,.2f}–{row['expected_revenue_high']:,.2f})"
                if row["expected_revenue"] is not None else "–")
        table.add_row(row["campaign_id"], f"{row['amount']:,.2f}", band)
    console.print(table)
    console.print(body["explanation"])


@budget_app.command("forecast")
def budget_forecast(as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False):
    """Daily revenue and conversions forecasts with 80% bands. Reads campaigns and horizon_days as JSON on standard input."""
    import json

    from affiliate_matrix.budget.contract import forecast_json

    result = forecast_json(_stdin())
    if as_json:
        print(result)
        return
    for row in json.loads(result)["forecasts"]:
        if not row["revenue"]:
            console.print(f"[bold]{row['campaign_id']}[/]: {row['note']}")
            continue
        total = sum(p["value"] for p in row["revenue"])
        score = f", backtest MASE {row['backtest']['mase']:.2f}" if row["backtest"] else ""
        console.print(f"[bold]{row['campaign_id']}[/]: {row['model']}, {total:,.2f} revenue over "
                      f"{len(row['revenue'])} days{score}")


@budget_app.command("import")
def budget_import(path: Annotated[str, typer.Argument(help="CSV: campaign_id,date,spend,clicks,conversions,revenue,currency")]):
    """Import daily performance rows; a bad line refuses the whole file, each error named by line."""
    from pathlib import Path

    from affiliate_matrix.budget.campaigns import import_csv

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="FILE") from None
    written = import_csv(_runtime("budget"), data)
    console.print(f"imported {sum(written.values())} day(s) for {len(written)} campaign(s)")


@campaigns_app.command("add")
def campaigns_add(
    campaign_id: Annotated[str, typer.Argument(help="Letters, digits, . _ : -")],
    name: Annotated[str, typer.Option(help="A human name.")],
    channel: Annotated[str, typer.Option(help="search, social, email, content, display, video, affiliate or other.")],
    currency: Annotated[str, typer.Option(help="ISO-4217 code of its spend and revenue.")] = "USD",
    program: Annotated[Optional[list[str]], typer.Option(help="A program id it promotes (repeatable).")] = None,
    min_budget: Annotated[Optional[str], typer.Option("--min", help="Daily minimum, e.g. 10.00")] = None,
    max_budget: Annotated[Optional[str], typer.Option("--max", help="Daily maximum, e.g. 250.00")] = None,
):
    """Add a campaign (refused if the id exists)."""
    from affiliate_matrix.budget.campaigns import Campaign, save_campaign

    campaign = Campaign.model_validate({"id": campaign_id, "name": name, "channel": channel, "currency": currency,
                                        "program_ids": program or [], "min_budget": min_budget, "max_budget": max_budget})
    save_campaign(_runtime("budget").store, campaign, create=True)
    console.print(f"added campaign {campaign.id}")


@campaigns_app.command("list")
def campaigns_list():
    from rich.table import Table

    from affiliate_matrix.budget.campaigns import list_campaigns, load_days

    rt = _runtime("budget")
    table = Table("id", "name", "channel", "min", "max", "days", "active")
    for c in list_campaigns(rt.store):
        table.add_row(c.id, c.name, c.channel, str(c.min_budget or "–"), str(c.max_budget or "–"),
                      str(len(load_days(rt.store, c.id)[0])), "yes" if c.active else "no")
    console.print(table)


@budget_app.command("run")
def budget_run(day: Annotated[Optional[str], typer.Option(help="The day to allocate (YYYY-MM-DD); tomorrow by default.")] = None):
    """The daily run: allocate a day's budget (AMX_BUDGET_*), store it and emit budget.allocated."""
    from affiliate_matrix.budget.run import run_allocation

    run = run_allocation(_runtime("budget"), _day(day, offset=1))
    for row in run.result.allocations:
        console.print(f"{row.campaign_id}: {row.amount:,.2f}")
    console.print(run.result.explanation)


@budget_app.command("pacing")
def budget_pacing(day: Annotated[Optional[str], typer.Option(help="The finished day to check; yesterday by default.")] = None):
    """Compare a day's spend with its allocation; emit budget.pacing for each campaign off by more than the tolerance."""
    from affiliate_matrix.budget.run import check_pacing

    alerts = check_pacing(_runtime("budget"), _day(day, offset=-1))
    for alert in alerts:
        console.print(f"{alert['campaign_id']}: spent {alert['spent']:,.2f} of {alert['allocated']:,.2f} "
                      f"({alert['deviation']:+.0%}, {alert['direction']})")
    if not alerts:
        console.print("every campaign is on pace")


@budget_app.command("report")
def budget_report(out: Annotated[str, typer.Option(help="Folder for the PNGs and summary.")] = "budget-report",
                  horizon: Annotated[int, typer.Option(min=1, max=366)] = 14):
    """PNG figures (allocation over time, response curves, forecasts), a text summary, and the same as documents."""
    from pathlib import Path

    from affiliate_matrix.budget.report import report

    result = report(_runtime("budget"), Path(out), horizon=horizon)
    console.print(result.summary.rstrip())
    for path in result.files:
        console.print(f"wrote {path}")


def _day(text: str | None, offset: int):
    from datetime import UTC, date, datetime, timedelta

    if text is None:
        return datetime.now(UTC).date() + timedelta(days=offset)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--day") from None

def _index_specs() -> dict:
    from affiliate_matrix.indices import index_specs

    return index_specs()


def _spec(name: str):
    specs = _index_specs()
    if name not in specs:
        raise typer.BadParameter(f"{name!r} is not one of {', '.join(specs)}", param_hint="NAME")
    return specs[name]


@index_app.command("status")
def index_status():
    """Each index's live version, the versions kept, and the version this code expects."""
    from rich.table import Table

    rt = _runtime()
    table = Table()
    for column in ("index", "live", "kept", "code expects"):
        table.add_column(column)
    for name, spec in _index_specs().items():
        rt.index.ensure_index(spec)
        status = rt.index.status(name)
        table.add_row(name, f"v{status.current}", ", ".join(f"v{v}" for v in status.versions), f"v{spec.version}")
    console.print(table)


@index_app.command("migrate")
def index_migrate(name: str):
    """Move an index to the version this code defines, without downtime (the old one is kept)."""
    spec = _spec(name)
    rt = _runtime()
    rt.index.ensure_index(spec)
    with console.status(f"migrating {name} to v{spec.version}"):
        copied = rt.index.migrate(spec)
    console.print(f"{name}: now v{spec.version}, {copied} documents copied")


@index_app.command("rollback")
def index_rollback(name: str):
    """Point an index back at its previous version."""
    version = _runtime().index.rollback(_spec(name).name)
    console.print(f"{name}: now v{version}")


@index_app.command("render")
def index_render():
    """Write each index version's OpenSearch settings and mappings to infra/opensearch/indices/."""
    import json

    from affiliate_matrix.demo import ROOT
    from affiliate_matrix.search.opensearch import index_body

    folder = ROOT / "infra" / "opensearch" / "indices"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in _index_specs().values():
        path = folder / f"{spec.name}-v{spec.version}.json"
        path.write_text(json.dumps(index_body(spec), indent=2, sort_keys=True) + "\n")
        console.print(f"wrote {path.relative_to(ROOT)}")


def main():
    from pydantic import ValidationError

    from affiliate_matrix.errors import ConflictError

    try:
        app()
    except ConflictError as exc:
        errors.print(f"[red]conflict:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(2) from None
    except (AmxError, KeyError) as exc:
        errors.print(f"[red]error:[/] {escape(str(exc.args[0] if isinstance(exc, KeyError) else exc))}",
                     highlight=False, markup=True)
        raise SystemExit(2) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        errors.print(f"[red]invalid {'.'.join(map(str, first['loc']))}:[/] {first['msg']}", highlight=False)
        raise SystemExit(2) from None
