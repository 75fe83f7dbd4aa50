"""What the demo prints, screen by screen, in tables that fit the terminal (`views.fitted`). What a source wrote (names,
terms, pages) is `escape`d: Rich would read "[b]" in it as markup, or fail on "[/x]". Sources, networks and categories
are named as the CLI names them (views.source_named; a merchant's networks as merchants.shown_networks names them), a
code of a closed vocabulary in the explorer's words (views.value_text: 'Net 60', 'United States'), the commands,
conditions and paths keeping their codes."""

from rich.markup import escape

from affiliate_matrix.cli.common import shown_path, stored_at
from affiliate_matrix.cli.views import (changed_fields, commission_summary, cookie_text, disagreements, fitted,
                                        listed_terms, print_damaged, source_named, value_text)
from affiliate_matrix.crawl import error_key
from affiliate_matrix.demo.collect import CHANGE, connection_id
from affiliate_matrix.wording import NO_VALUE, field_label, terms_summary

FIELDS_SHOWN = ("cookie_days", "payout", "categories", "countries", "networks", "epc_7d", "epc_90d")


def title(console, rt) -> None:
    s = rt.settings
    console.print(f"[bold]Affiliate Matrix demo[/] — data in [cyan]{shown_path(s.data_dir)}[/] (objects: {s.object_store}, "
                  f"search: {s.search}, secrets: {s.secrets}, events: {s.events}); running it again updates the same data")


def heading(console, number: int, text: str) -> None:
    console.print()
    console.rule(f"[bold]{number}. {text}", align="left")


def scraped(console, story) -> None:
    listings = sum(r.records for r in story.reports.values())
    pages = sum(r.pages for r in story.reports.values())
    unreadable = sum(len(r.failures) for r in story.reports.values())
    console.print(f"{listings} listings from {len(story.reports)} sources ({pages} pages and API answers); "
                  f"every raw page kept under {stored_at(story.rt, 'raw')}/<source>/"
                  + (f"; {unreadable} unreadable, see step 5" if unreadable else ""))


def resolved(console, story) -> None:
    from affiliate_matrix.merchants import merchant_view

    listings = sum(r.records for r in story.reports.values())
    merchants = story.merchants()
    programs = story.programs()
    created, updated, unchanged = (sum(getattr(r, f) for r in story.indexed) for f in ("created", "updated", "unchanged"))
    several = sum(1 for sources in merchants.values() if len(sources) > 1)
    # counted per batch, a source's at a time: a program a later source lists too is created once and updated then
    # ("25 programs (25 created, 9 updated)" read as 34 of 25)
    console.print(f"{listings} listings became {len(programs)} programs of {len(merchants)} merchants; indexed a "
                  f"source at a time, {created} were created, then updated {updated} times where a later source "
                  f"listed one already indexed ({unchanged} listed again unchanged); "
                  f"{several} merchants are listed by more than one source.")
    story.merchant = story.featured_merchant()
    view = merchant_view(story.rt.index, story.merchant)
    rows = []
    for row in view["rows"]:
        star = "★ " if {"commission_percent", "commission_flat"} & set(row["best"]) else ""
        rows.append([escape(cell) for cell in (
            source_named(row["source"], row["connection_id"]), row["network_title"] or NO_VALUE,  # as amx compare
            value_text("contract", row["contract"]), star + listed_terms(row),
            ("★ " if "cookie_days" in row["best"] else "") + cookie_text(row["cookie_days"]),
            value_text("payout", row["payout"]), row["join_url"] or NO_VALUE)])
    sources = sorted({row["source"] for row in view["rows"]})
    table = fitted(console, escape(f"{view['merchant']} ({view['domain'] or view['merchant_key']})") + f" on {len(sources)} sources, "
                            "★ the best terms", [("source", 0), ("network", 1), ("contract", 1),
                                                 ("commission as listed", 0), ("cookie", 0), ("payout", 2),
                                                 ("join link", 3)], rows)
    console.print(table)
    for line in disagreements(view):  # as amx compare says them
        console.print(line)
    console.print(f"[dim]again: .venv/bin/amx compare {escape(story.merchant)}[/]")


def provenance(console, story) -> None:
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.program_index import DAMAGED_PROGRAM, PROGRAMS_INDEX, programs_of
    from affiliate_matrix.search import SearchQuery

    hits = story.rt.index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"merchant_key": [story.merchant]})).hits
    damaged: list[dict] = []  # one of the merchant's programs the data dir held damaged (indexing leaves it so)
    program = max(programs_of((h.doc for h in hits), damaged), key=lambda p: len(p.provenance.get("commission_text", [])),
                  default=None)
    print_damaged(console, damaged)
    if program is None:
        raise DamagedData(f"merchant {story.merchant}", "none of its programs can be read", DAMAGED_PROGRAM)
    story.shown_program = program
    console.print(f"[bold]{escape(program.name)}[/] ({program.id}): "
                  + escape(f"commission kept as {commission_summary(program)}, cookie {cookie_text(program.cookie_days)}"))
    parsed = {claim.source: claim.value for claim in program.provenance.get("commission", [])}
    rows = [[escape(cell) for cell in (source_named(claim.source, claim.connection_id), claim.value or NO_VALUE,
                                       terms_summary(parsed.get(claim.source) or []),
                                       claim.url.removeprefix(story.urls[claim.source].rstrip("/")))]
            for claim in program.provenance.get("commission_text", [])]
    console.print(fitted(console, "Terms as each source wrote them, and as parsed",
                         [("source", 0), ("as written (verbatim)", 0), ("parsed", 0), ("page", 2)], rows))
    rows = [[field_label(field), escape(source_named(claim.source, claim.connection_id)),
             escape(value_text(field, claim.value))]
            for field in FIELDS_SHOWN for claim in program.provenance.get(field, [])]
    console.print(fitted(console, "Which source said what", [("field", 0), ("source", 0), ("said", 0)], rows,
                         whole=("field",)))  # a field's words on one line, as its name was
    # the command on a line of its own: at 80 columns Rich broke it before the id, and a paste ran it without
    console.print(f"[dim]every field, with the raw page it came from:\n  .venv/bin/amx show {program.id}[/]")


def changed(console, story) -> None:
    source, page, before, after = CHANGE
    from rich.padding import Padding
    from rich.text import Text

    console.print(f"rule [bold]{story.rule.id}[/]: {escape(story.rule.description)}")
    action, said = story.rule.action.type, value_text("action", story.rule.action.type)
    console.print(Padding(Text(f"when {story.rule.condition}\nthen {said[:1].lower() + said[1:]} ({action})"),
                          (0, 0, 0, 2)))
    report = story.second_report
    console.print(escape(f"the page /{page} of {source_named(source, connection_id(source))} now says “{after}” (was "
                         f"“{before}”); a second pass over it: {report.pages} pages, {report.not_modified} unchanged "
                         "(HTTP 304)"))
    names = {p.id: p.name for p in story.programs()}
    for delta in story.deltas:
        changes = "; ".join(changed_fields(delta["fields"]))
        console.print("[bold]delta[/] " + escape(f"({value_text('change', delta['change']).lower()}) "
                                                 f"{names.get(delta['program_id'], delta['program_id'])} — {changes}"))
    fired = [a for a in story.activations if a["decision"] == "fired"]
    console.print(f"rule {story.rule.id} fired {len(fired)} time{'s' if len(fired) != 1 else ''}; "
                  f"{len(story.notifications)} notification{'s' if len(story.notifications) != 1 else ''}:")
    from rich.panel import Panel

    for rule_id, text in story.notifications:
        console.print(Panel(escape(text), title=f"notify from {rule_id}", title_align="left",
                            subtitle="in process; no webhook posted", subtitle_align="right"))


def parse_failures(console, story) -> None:
    failures = [(source, f) for source, report in story.reports.items() for f in report.failures]
    if not failures:
        console.print("every page was read")
        return
    console.print("The recorded sites hold, on purpose, pages no reader understands (a changed layout, an empty "
                  "app shell). Nothing is guessed from them: each is kept raw with the reason beside it, and "
                  "`amx replay` parses the kept copies again (no refetch) once a parser is fixed.")
    for source, failure in failures:
        console.print(f"[yellow]{failure.stage} failure[/] on " + escape(
            f"{source_named(source, connection_id(source))}: {failure.url.removeprefix(story.urls[source])}\n"
            f"  {failure.why}"))
        if failure.raw_key:
            console.print(f"  kept raw, and the reason beside it:\n  {stored_at(story.rt, failure.raw_key)}\n"
                          f"  {stored_at(story.rt, error_key(failure.raw_key))}")
        console.print(f"  replay: .venv/bin/amx replay {connection_id(source)}")


def next_steps(console, story) -> None:
    from datetime import timedelta

    from affiliate_matrix.auth import create_token

    token = create_token(story.rt.secrets, "read", ttl=timedelta(days=1))  # each run makes one: they lapse
    console.print("• the explorer, in a browser:  [bold]./task web[/]\n"
                  "• here:  .venv/bin/amx search hosting\n"
                  f"         .venv/bin/amx show {story.shown_program.id}\n"
                  f"         .venv/bin/amx compare {story.merchant}\n"
                  "• the API, with a read token for this demo (a day; more: amx tokens create):\n"
                  "    ./task serve:programs &\n"
                  f"    TOKEN={token}\n"
                  "    curl -H \"Authorization: Bearer $TOKEN\" '127.0.0.1:8080/programs?q=hosting'\n"
                  "• discovery for real, with a search provider's key (or your AMX_SEARXNG_URL):\n"
                  "    .venv/bin/amx keys add discovery/brave --rotation manual --field api_token\n"
                  "    .venv/bin/amx discover run \"pet supplies\"\n"
                  "• the whole system (every function, cron, events over HTTP):  [bold].venv/bin/amx up[/]")


# What a stored decision's outcome says, for a site a rerun finds judged by the last run (run.judge, run.decide)
OUTCOMES = {"discovered": "discovered", "review": "left for review", "rejected": "not a program",
            "accepted": "accepted on review"}


def discovery(console, story) -> None:
    from urllib.parse import urlsplit

    from affiliate_matrix.demo import DISCOVERY_NICHE, DISCOVERY_SITES
    from affiliate_matrix.program_index import PROGRAMS_INDEX, programs_of
    from affiliate_matrix.search import MAX_PAGE, SearchQuery

    report = story.found
    console.print("Search-engine dorks find programs no source lists. Here SearXNG's answers are reconstructed from "
                  "its documentation and the sites they find are invented "
                  "(shared/affiliate_matrix/discovery/recorded/), each on a loopback address of its own.")
    console.print(escape(f"“{DISCOVERY_NICHE}”: {report.queries} dork queries, {report.results} results, "
                         f"{report.candidates} sites"))

    def earlier(domain: str) -> str:
        outcome = story.judged_before.get(domain)
        return ("known already: not fetched again" if outcome is None  # listed by the index, its decision forgotten
                else f"judged by an earlier run ({OUTCOMES.get(outcome, outcome)}): not fetched again")

    rows = [*([domain, "discovered: indexed"] for domain in report.discovered),
            *([domain, "doubtful: left for a person (amx discover review)"] for domain in report.review),
            *([domain, f"not a program: {report.rejected_why.get(domain, '')}"] for domain in report.rejected),
            *([domain, earlier(domain)] for domain in report.known),
            *([urlsplit(url).hostname or url, f"not fetched: {why}"] for url, why in report.failures),
            *([domain, f"not judged: {why}"] for domain, _, why in (said.partition(": ")
                                                                    for said in report.not_merchants))]
    named = {address: f"{name} ({address})" for name, address in DISCOVERY_SITES.items()}  # an address says nothing
    console.print(fitted(console, "What discovery made of each site", [("site", 0), ("decision", 0)],
                         [[escape(named.get(site, site)), escape(decision)] for site, decision in rows]))
    # the programs found on the demo's sites (an address has no registrable domain: merchant_domain is none), by the
    # address of the page discovery read
    hits = story.rt.index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"status": ["discovered"]},
                                                                  size=MAX_PAGE)).hits
    found = [program for program in programs_of(hit.doc for hit in hits) if any(
        claim.source == "discovery" and urlsplit(claim.url).hostname in DISCOVERY_SITES.values()
        for claim in program.provenance.get("name", []))]
    rows = [[escape(program.name), program.id, value_text("status", program.status),
             escape(commission_summary(program)), cookie_text(program.cookie_days),
             f"{program.discovery.confidence:.2f}" if program.discovery else NO_VALUE]
            for program in sorted(found, key=lambda program: program.name)]
    console.print(fitted(console, "In the index", [("program", 0), ("id", 0), ("status", 0), ("commission", 1),
                                                   ("cookie", 2), ("confidence", 3)], rows, whole=("id",)))
    console.print("[dim]again: .venv/bin/amx search --status discovered[/]")
