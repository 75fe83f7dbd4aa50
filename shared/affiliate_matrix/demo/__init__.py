"""`amx demo`: the product's story on the embedded defaults (local files, SQLite search, local secrets,
in-process events), against every recorded source served over real HTTP on loopback.

It writes into the configured data directory (`.amx/` by default) so later commands see the data, and
is idempotent rather than starting clean: a second run scrapes the same recorded pages into the same
index (same programs, same ids), overwrites its own connections, secrets and rule (its keys' records kept), and
tells the same story, the change included; its discovery finds the sites the first judged known, as any second run.

This package's root holds the recorded sources (served over loopback, also for the tests); show.py
tells the story, collect.py gathers it and screens.py draws it."""

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from affiliate_matrix.sources import get_source

ROOT = Path(__file__).resolve().parents[3]
SERVER = ROOT / "infra" / "recorded-sources" / "server.py"
DIRECTORIES = ("affiliateprograms", "affiliationlist", "affiliatesdirectory", "affiliatefix", "offervault")
NETWORKS = ("awin", "impact", "cj", "rakuten", "clickbank")
# Discovery's recorded search provider (SearXNG: no key) and the invented merchant sites its answers find, each on a
# loopback address of its own (a site is its host: on one address they were one site); discovery/recorded/README.md
DISCOVERY_RECORDED = Path(__file__).resolve().parents[1] / "discovery" / "recorded"
DISCOVERY_SITES = {"pawsome": "127.0.0.2", "tailwag": "127.0.0.3", "petblog": "127.0.0.4", "kittycorner": "127.0.0.5",
                   "shortlink": "127.0.0.6", "woofbox": "127.0.0.7"}
# The niche the demo searches: the recorded SearXNG answers its dork "affiliate program" pet supplies
DISCOVERY_NICHE = "pet supplies"
# The credentials the recorded network answers were recorded with (the server refuses any others).
RECORDED_CREDENTIALS = {
    "awin": {"api_token": "test-awin-token", "publisher_id": "123456"},
    "impact": {"account_sid": "IRtestSID", "auth_token": "test-impact-token"},
    "cj": {"api_token": "test-cj-token", "requestor_cid": "7811141"},
    "rakuten": {"client_id": "test-rakuten-client", "client_secret": "test-rakuten-secret", "sid": "3902871"},
}


@contextmanager
def recorded_sites(*names: str, directories: dict[str, Path | str] | None = None):
    """Serve the named sources' recorded pages (or the given directories instead, "DIR@127.0.0.N" on another loopback
    address), each on its own loopback port; yields {name: url}."""
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
