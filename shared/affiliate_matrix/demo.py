"""`amx demo`: the main job on the embedded defaults, against recorded sites served over HTTP."""

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from affiliate_matrix.sources import get_source

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "infra" / "recorded-sources" / "server.py"
DEMO_SOURCES = ("affiliateprograms",)


@contextmanager
def recorded_sites(*names: str, directories: dict[str, Path] | None = None):
    """Serve the named sources' recorded pages (or the given directories instead), each on its own
    loopback port; yields {name: url}."""
    directories = directories or {}
    sites = [f"--site={name}={directories.get(name) or get_source(name).recorded_dir()}" for name in names]
    process = subprocess.Popen([sys.executable, str(SERVER), *sites], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the recorded-sources server exited with {process.wait()}")
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(console) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from affiliate_matrix.config import load_settings
    from affiliate_matrix.connections import save_connection
    from affiliate_matrix.events import RAW_BATCH_STORED
    from affiliate_matrix.models import Connection
    from affiliate_matrix.pipeline import index_batch, scrape
    from affiliate_matrix.runtime import Runtime

    # Recorded sites listen on loopback, which the fetcher otherwise refuses.
    from affiliate_matrix.cli import quiet_logs

    rt = Runtime("demo", load_settings(**quiet_logs({"allow_loopback_fetch": True})))
    console.print(f"[bold]Affiliate Matrix demo[/] — data in [cyan]{rt.settings.data_dir.resolve()}[/]")
    indexed = []
    rt.bus.subscribe(RAW_BATCH_STORED, lambda event: indexed.append(index_batch(rt, event.data["batch_key"])))
    with recorded_sites(*DEMO_SOURCES) as urls:
        for name, url in urls.items():
            connection = Connection(id=f"demo-{name}", source=name, base_url=url, rate_limit_per_s=20)
            save_connection(rt.store, connection)
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
                task = bar.add_task(f"scraping {name} at {url}")
                report = scrape(rt, connection.id, on_item=lambda item: bar.update(
                    task, description=f"scraping {name}: {getattr(item, 'url', '')}"))
            console.print(f"scraped [bold]{name}[/]: {report.records} records, {len(report.failures)} failures "
                          f"(raw pages kept under objects/raw/{name}/)")
            for failure in report.failures:
                console.print(f"  [yellow]{failure.stage} failure[/] {failure.url}: {failure.reason}")
    for report in indexed:
        console.print(f"indexed: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
                      f"{len(report.errors)} errors")
    from affiliate_matrix.cli_views import print_search

    print_search(console, rt, text=None, limit=10, sort="commission")
    from affiliate_matrix.auth import create_token

    token = create_token(rt.secrets, "read")
    console.print("\nNext: [bold].venv/bin/amx search hosting[/], [bold].venv/bin/amx show <id>[/], or the API:\n"
                  "  ./task serve:programs &\n"
                  f"  curl -H 'Authorization: Bearer {token}' '127.0.0.1:8080/programs?q=hosting'\n"
                  "[dim](a read token minted for this demo; make more with `amx tokens create`)[/]")
