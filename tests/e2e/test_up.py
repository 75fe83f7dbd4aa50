"""`amx up` end to end: every function its own process, the local Broker and the compressed cron.
A scrape fires on the clock, raw pages land, the index fills, each new program's delta fires a
rule whose webhook gets one message, and the budget run writes its allocation — while the index
function is killed mid-flow and comes back, losing nothing and doing nothing twice."""

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from affiliate_matrix.budget.campaigns import Campaign, import_csv, save_campaign
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.program_index import PROGRAMS_INDEX
from affiliate_matrix.rules.model import Rule
from affiliate_matrix.rules.store import save_rule
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.processes import BIN
from tests.support.receiver import Receiver
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow


def test_up_runs_the_whole_flow_and_survives_a_killed_function(tmp_path):
    data = tmp_path / ".amx"
    rt = Runtime("test", Settings(data_dir=data))
    webhook = Receiver(statuses=[200] * 50)
    save_rule(rt.store, Rule(id="new-program", trigger={"event": "program.delta"}, condition='delta.change == "created"',
                             action={"type": "notify", "params": {"webhook_url": webhook.url,
                                                                  "text": "new: {program_name}"}},
                             cooldown_s=0), create=True)
    save_campaign(rt.store, Campaign(id="search-1", name="s", channel="search", currency="USD"), create=True)
    save_campaign(rt.store, Campaign(id="social-1", name="s", channel="social", currency="USD"), create=True)
    rows = ["campaign_id,date,spend,clicks,conversions,revenue,currency"] + [
        f"{cid},2026-11-{d:02d},{50 + d * (3 if cid == 'search-1' else 1)},10,1,{200 + 7 * d},USD"
        for d in range(1, 21) for cid in ("search-1", "social-1")]
    import_csv(rt, "\n".join(rows).encode())
    env = {**os.environ, "AMX_DATA_DIR": str(data), "AMX_ALLOW_LOOPBACK_FETCH": "true",
           "AMX_BUDGET_DAILY_TOTAL": "500.00", "AMX_LOG_FORMAT": "json"}
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             schedule="0 6 * * *", rate_limit_per_s=50))
        up = subprocess.Popen([str(BIN / "amx"), "up", "--speed", "60", "--start", "2026-11-22T05:59:00Z",
                               "--port-base", "0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        try:
            state = wait_until(lambda: (data / "up.json").exists() and json.loads((data / "up.json").read_text()),
                               "amx up to be ready", timeout=90)
            os.killpg(state["functions"]["index"]["pid"], signal.SIGKILL)  # gone before the batch reaches it

            def indexed():
                try:
                    return rt.index.search(PROGRAMS_INDEX.name, SearchQuery()).total == 6
                except Exception:  # the index does not exist until the first batch lands
                    return False

            wait_until(indexed, "the scraped programs in the index", timeout=90)
            wait_until(lambda: len(webhook.requests) >= 6, "six webhook messages")
            wait_until(lambda: rt.store.head("budget/runs/2026-11-23.json"), "the budget run for tomorrow")
            # A duplicate would be a redelivery, which the Broker counts as outstanding until it is done: once
            # nothing is outstanding, every duplicate there would be has arrived.
            wait_until(lambda: httpx.get(state["router"]).json()["outstanding"] == 0, "the Broker to be idle")
            after = json.loads((data / "up.json").read_text())
        finally:
            subprocess.run([str(BIN / "amx"), "down"], cwd=tmp_path, env=env, timeout=60)
            output = up.communicate(timeout=60)[0].decode()
    webhook.close()
    assert up.returncode == 0, output[-2000:]
    assert f"web          {state['functions']['web']['url']}" in output, output[-2000:]  # where the explorer is
    assert after["functions"]["index"]["pid"] != state["functions"]["index"]["pid"]  # it was restarted
    assert len(list(rt.store.list("raw/affiliateprograms/"))) >= 6  # raw pages landed
    texts = sorted(m["text"] for m in webhook.json_bodies())
    assert len(texts) == 6 and len(set(texts)) == 6 and all(t.startswith("new: ") for t in texts)
    run = json.loads(rt.store.get("budget/runs/2026-11-23.json").data)
    assert round(sum(a["amount"] for a in run["parts"][0]["result"]["allocations"]), 2) == 500.0
    assert not (data / "dead-letters").exists() or not any((data / "dead-letters").rglob("*.json"))
    index_log = (data / "logs" / "index.log").read_text()
    assert '"event_type": "dev.affiliatematrix.raw.batch.stored"' in index_log
    assert not Path(data / "up.json").exists()
