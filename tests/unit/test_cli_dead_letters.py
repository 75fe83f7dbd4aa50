"""`amx dead-letters list`: the README tells an operator to fix a dead letter's cause and publish it again, and no
command found them: they were files under a hashed name to open one by one (objects in a bucket in the cluster)."""

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.events import DEAD_LETTERS, dead_letter
from affiliate_matrix.runtime import Runtime


def listed(monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["dead-letters", "list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_each_dead_letter_is_listed_with_whom_it_was_for_and_why(monkeypatch, tmp_path):
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    tick = {"specversion": "1.0", "id": "tick-1", "source": "/pingsources/budget-daily",
            "type": "dev.knative.sources.ping", "time": "2026-12-06T06:00:00+00:00", "data": {}}
    store.put(f"{DEAD_LETTERS}budget-daily/tick-1.json", dead_letter(
        {"event": tick, "subscriber": "budget", "reason": "HTTP 503: AMX_BUDGET_DAILY_TOTAL: not set"}))
    store.put(f"{DEAD_LETTERS}unfit/odd.json", dead_letter(
        {"event": {"id": "odd-1", "type": "dev.affiliatematrix.raw.batch.stored"},
         "refused": "event data: not a JSON object", "destination": "http://index/"}))
    store.put(f"{DEAD_LETTERS}raw.batch.stored/cut.json", b'{"event": {"id": "cu')

    said = listed(monkeypatch, tmp_path)
    assert "3 dead letters" in said and "each deleted 30 days after it was parked" in said, said
    assert "budget-daily/tick-1.json" in said and "dev.knative.sources.ping" in said and "tick-1" in said
    assert "budget" in said and "HTTP 503: AMX_BUDGET_DAILY_TOTAL: not set" in said
    assert "odd-1" in said and "event data: not a JSON object" in said and "http://index/" in said
    assert "raw.batch.stored/cut.json" in said and "damaged: not JSON" in said  # listed, not the end of the list


def test_no_dead_letters_says_where_it_looked(monkeypatch, tmp_path):
    said = listed(monkeypatch, tmp_path)
    assert said.startswith("no dead letters in ") and "dead-letters" in said, said
