"""What the demo does, as opposed to what it prints: scrape every recorded source (a progress bar each),
index each batch as it lands, run the rules on every delta, make the change (a rule, then a second
pass over a recorded page whose commission was raised), and run a discovery over a recorded search provider."""

import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from affiliate_matrix.codes import CATEGORY_LABELS
from affiliate_matrix.connections import Connection, created, load_connection, save_connection, update_connection
from affiliate_matrix.crawl import Failure, Fetched
from affiliate_matrix.demo import (DIRECTORIES, DISCOVERY_NICHE, DISCOVERY_RECORDED, DISCOVERY_SITES, NETWORKS,
                                   RECORDED_CREDENTIALS, recorded_sites)
from affiliate_matrix.documents import rewritten
from affiliate_matrix.errors import DamagedData, NotFoundError
from affiliate_matrix.events import ACTION_PREFIX, PROGRAM_DELTA, RAW_BATCH_STORED
from affiliate_matrix.pipeline import index_announced, scrape
from affiliate_matrix.program_index import PROGRAMS_INDEX, programs_of
from affiliate_matrix.rules.actions import record_outcome, render
from affiliate_matrix.rules.engine import on_event
from affiliate_matrix.rules.model import DEMO_WEBHOOK, Rule, checked
from affiliate_matrix.rules.store import disable_rule, load_rule, save_rule
from affiliate_matrix.search import MAX_PAGE, SearchQuery
from affiliate_matrix.sources import get_source
from affiliate_matrix.sync_requests import record_run
from affiliate_matrix.wording import counted, listings

# The change the demo makes to its own copy of a recorded site: (source, page path, before, after).
CHANGE = ("affiliationlist", "program/notion/", "50% of the first payment", "60% of the first payment")
RULE_ID = "demo-commission-raised"
# Why each demo connection is left disabled: its base_url is a recorded site served only while the demo runs.
SITES_GONE = "the demo's: its recorded site is served only while amx demo runs"
# The recorded credentials' lifetime as key records: the longest a record takes, for they never expire (the recorded
# APIs take these alone), and the default 90 days had `amx up`'s keys cron warn of their expiry.
DEMO_KEY_DAYS = 3650


def connection_id(source: str) -> str:
    return f"demo-{source}"


def counts_text(counts: Counter) -> str:
    parts = [counted(counts["pages"], "page"), listings(counts["records"])]
    if counts["failures"]:
        parts.append(f"{counts['failures']} unreadable")
    return " · ".join(parts)


class Story:
    def __init__(self, rt):
        self.rt = rt
        self.reports: dict = {}  # source → ScrapeReport of the first pass
        self.indexed: list = []  # IndexReports, in order
        self.deltas: list[dict] = []  # the deltas of the second pass
        self.activations: list[dict] = []  # the rules' decisions over the whole run
        self.notifications: list[tuple[str, str]] = []  # (rule id, message)
        self._second_pass = False
        self.connected: list[str] = []  # the connections this run pointed at its recorded sites
        self.found = None  # the discovery run's DiscoveryReport
        self.judged_before: dict[str, str] = {}  # site → the outcome an earlier run's decision on it keeps
        rt.bus.subscribe(RAW_BATCH_STORED, lambda event: self.indexed.append(index_announced(rt, event.data)))
        rt.bus.subscribe(PROGRAM_DELTA, self._on_delta)
        rt.bus.subscribe(ACTION_PREFIX + "notify", self._notify)

    @contextmanager
    def sites(self):
        """Every recorded source served on loopback; the changed one from a scratch copy the change edits; discovery's
        search provider and the sites its answers find."""
        source = CHANGE[0]
        discovery = {"searxng": DISCOVERY_RECORDED / "searxng"} | {
            name: f"{DISCOVERY_RECORDED / 'sites' / name}@{address}" for name, address in DISCOVERY_SITES.items()}
        with tempfile.TemporaryDirectory(prefix="amx-demo-") as scratch:
            self.site_copy = Path(scratch) / source
            shutil.copytree(get_source(source).recorded_dir(), self.site_copy)
            try:
                with recorded_sites(*DIRECTORIES, *NETWORKS, *discovery,
                                    directories={source: self.site_copy, **discovery}) as urls:
                    self.urls = urls
                    yield
            finally:  # left enabled, `amx up` synced them on their schedule, each sync failing on a closed port
                for cid in self.connected:
                    update_connection(self.rt.store, cid, lambda _: {"enabled": False, "disabled_reason": SITES_GONE},
                                      "disabled")

    def connect(self, source: str) -> str:
        """The source's connection (and its recorded credentials in the secret store), overwritten each run."""
        cid = connection_id(source)
        credentials = RECORDED_CREDENTIALS.get(source)
        if credentials:
            self.register_key(cid, source, credentials)
        try:  # a rerun's connection is the same creation, edited: it keeps its generation
            read, etag = load_connection(self.rt.store, cid)
        except (NotFoundError, DamagedData):  # a damaged one is written over whole
            read, etag = None, None
        # a fast rate for loopback recorded sites, as the tests use; a generation of its own when it has none; what a
        # newer build stored in it kept, as every rewrite keeps it, on a write conditional on what was read
        save_connection(self.rt.store, rewritten(created(Connection(
            id=cid, source=source, base_url=self.urls[source], rate_limit_per_s=50,
            generation=read.generation if read else None,
            credentials_path=f"connections/{cid}" if credentials else None)), read), if_match=etag)
        self.connected.append(cid)
        return cid

    def register_key(self, cid: str, source: str, credentials: dict[str, str]) -> None:
        """The recorded credentials of connection `cid`, registered as a key rotated by hand (`amx keys status` lists it; nothing
        rotates it: the recorded API takes these alone). A rerun adds no new secret version and keeps the record; a
        key revoked since is added again, as `amx keys add` adds one over a revoked key."""
        from affiliate_matrix.keys import KeyRecord, add_key, load_record

        path = f"connections/{cid}"  # named here, where the secret store is called (the Vault policies' scan)
        try:
            record = load_record(self.rt, path)[0]
        except NotFoundError:
            record = None
        try:
            current = self.rt.secrets.read(path).data
        except NotFoundError:  # none yet, or revoked (its versions destroyed)
            current = None
        registered = record is not None and not record.revoked_at
        # put back where it differs (a registered key's next version); an unregistered secret (an older demo's), so
        # that add_key goes on from it as from an add stopped before its record
        if current != credentials and (registered or current is not None):
            self.rt.secrets.write(path, credentials)
        if not registered:
            add_key(self.rt, KeyRecord(path=path, rotation="manual", owner_source=source, created_at=datetime.now(UTC),
                                       lifetime_days=DEMO_KEY_DAYS), credentials)

    def scrape_all(self, console) -> None:
        from rich.progress import BarColumn, Progress, TextColumn

        with Progress(TextColumn("{task.description:<19}"), BarColumn(bar_width=16),
                      TextColumn("{task.fields[counts]}"), console=console) as bar:
            tasks = {s: bar.add_task(s, total=None, counts="waiting") for s in DIRECTORIES + NETWORKS}
            for source, task in tasks.items():
                counts = Counter()

                def seen(item, counts=counts, task=task):
                    kind = "pages" if isinstance(item, Fetched) else "failures" if isinstance(item, Failure) else "records"
                    counts[kind] += 1
                    bar.update(task, advance=kind == "pages", counts=counts_text(counts))

                self.reports[source] = self.scraped(self.connect(source), on_item=seen)
                done = max(self.reports[source].pages, 1)
                bar.update(task, total=done, completed=done, counts=counts_text(counts))

    def scraped(self, cid: str, **options):
        """A run of the connection, kept in its last_sync as `amx scrape` keeps one (`amx connections list` shows it)."""
        started = datetime.now(UTC)
        report = scrape(self.rt, cid, **options)
        record_run(self.rt, cid, started, report)
        return report

    def programs(self, damaged: list[dict] | None = None) -> list:
        """The index's programs (the demo runs on the data dir it is given, which may hold others) but those discovery
        alone found (a rerun's index holds the last run's: step 2 counted them among the programs its listings
        became): one not of a program's shape left out, logged and added to `damaged` (programs_of), where it ended the
        demo."""
        hits = self.rt.index.search(PROGRAMS_INDEX.name, SearchQuery(size=MAX_PAGE)).hits
        return [program for program in programs_of((hit.doc for hit in hits), damaged)
                if any(claim.source != "discovery" for claims in program.provenance.values() for claim in claims)]

    def merchants(self) -> dict[str, set[str]]:
        """merchant key → the sources that list it."""
        sources: dict[str, set[str]] = {}
        for program in self.programs():
            said = {claim.source for claims in program.provenance.values() for claim in claims}
            sources.setdefault(program.merchant_key, set()).update(said)
        return sources

    def featured_merchant(self) -> str:
        """The merchant most sources list (the first by key on a tie): chosen from the data, not named here."""
        return min(self.merchants().items(), key=lambda item: (-len(item[1]), item[0]))[0]

    def changed_program(self):
        source, page, _, _ = CHANGE
        url = self.urls[source].rstrip("/") + "/" + page.strip("/")
        for program in self.programs():
            if any(claim.url.rstrip("/") == url for claim in program.provenance.get("commission_text", [])):
                return program
        raise RuntimeError(f"no program was read from {url}; the demo's change (demo/collect.py CHANGE) needs one")

    def change(self) -> None:
        """The rule, then the raised commission on the page, then a second pass over that source."""
        source, page, before, after = CHANGE
        self.write_rule(self.changed_program().categories[0])
        path = self.site_copy / page / "index.html"
        text = path.read_text(encoding="utf-8")
        if before not in text:
            raise RuntimeError(f"{path} no longer says {before!r}; update CHANGE in demo/collect.py")
        path.write_text(text.replace(before, after), encoding="utf-8")
        self._second_pass = True
        try:
            self.second_report = self.scraped(connection_id(source))
        finally:
            self._second_pass = False
            # its webhook is a placeholder: enabled, `amx up` (the next step) would fire it and post there
            disable_rule(self.rt.store, RULE_ID, "the demo's rule: its webhook is a placeholder; give it yours and "
                                                 "amx rules add --replace to use it")

    def discover(self) -> None:
        """A discovery run for DISCOVERY_NICHE over the recorded SearXNG (it needs no key) and the invented sites its
        answer finds, as `amx discover run` runs one: the confident finds indexed as `discovered`. A rerun finds the
        sites judged by the last run known (not fetched again), as any second run does; the rest it tells again."""
        from affiliate_matrix.config import Settings
        from affiliate_matrix.discovery.run import decisions_of, discover
        from affiliate_matrix.runtime import Runtime
        from affiliate_matrix.storage import read_json

        # the demo's settings (the loopback fetch a held part of them, not dumped) with the recorded SearXNG as the one
        # provider (its address is known only now), on the demo's own ports: its batch is indexed, and its deltas seen
        # by the rules, in this process
        searching = Runtime(self.rt.function, Settings(
            **self.rt.settings.model_dump(), allow_loopback_fetch=self.rt.settings.allow_loopback_fetch,
            discovery_providers="searxng", searxng_url=self.urls["searxng"]))
        for port in ("store", "index", "secrets", "bus"):
            setattr(searching, port, getattr(self.rt, port))  # cached_property: a value set is the one used
        self.found = discover(searching, [DISCOVERY_NICHE], ["en"])
        for domain, key in decisions_of(self.rt, self.found.known).items():
            decision, _, _ = read_json(self.rt.store, key, lambda doc: isinstance(doc, dict), "a JSON object")
            if decision is not None:  # a damaged one says nothing: the site is shown as known
                self.judged_before[domain] = decision.get("outcome")

    def write_rule(self, category: str) -> None:
        """The demo's rule, on raised commissions in `category`; a rerun's replaces the last run's, keeping what a
        newer build stored in it (documents.rewritten), as every rewrite of a stored document does."""
        self.rule = checked(Rule(
            id=RULE_ID, description=f"commission raised in my category ({CATEGORY_LABELS.get(category, category)})",
            trigger={"event": "program.delta"}, cooldown_s=0,  # 0: a rerun of the demo fires again
            condition=f'delta.change == "updated" && "{category}" in program.categories'
                      " && delta.commission_percent_new > delta.commission_percent_old",
            action={"type": "notify", "params": {
                "webhook_url": DEMO_WEBHOOK,
                "text": "{program_name} raised its commission {commission_old}% → {commission_new}% ({categories})"}}))
        try:
            read, etag = load_rule(self.rt.store, RULE_ID)
        except (NotFoundError, DamagedData):
            read, etag = None, None
        save_rule(self.rt.store, rewritten(self.rule, read), if_match=etag)

    def _on_delta(self, event) -> None:
        if self._second_pass:
            self.deltas.append(event.data)
        self.activations += on_event(self.rt, event)

    def _notify(self, event) -> None:
        """The notify action, in process: the message a webhook would get, shown rather than posted."""
        data = event.data
        text = render(str(data["params"].get("text", "")), {**data.get("inputs", {}), "rule_id": data.get("rule_id", "")})
        record_outcome(self.rt, data.get("activation_key"), "done", "shown by amx demo (no webhook posted)")
        self.notifications.append((data.get("rule_id", ""), text))  # last: a retried delivery shows it once
