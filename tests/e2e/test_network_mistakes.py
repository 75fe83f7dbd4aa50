"""A new user's mistakes with a network API connection, made with `amx` against recorded answers served over real
HTTP: each is told what is wrong and what to do about it."""

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, created, load_connection, save_connection
from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
from affiliate_matrix.runtime import Runtime


def runtime(tmp_path, monkeypatch) -> Runtime:
    """The data dir `amx` runs on here (loopback allowed, for the recorded sites)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "1")
    monkeypatch.setenv("COLUMNS", "400")  # one line per message
    return Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))


def impact_connection(rt, connection_id: str, url: str, credentials: dict, **fields) -> None:
    rt.secrets.write(f"connections/{connection_id}", credentials)
    save_connection(rt.store, created(Connection(id=connection_id, source="impact", base_url=url, rate_limit_per_s=50,
                                                 credentials_path=f"connections/{connection_id}", **fields)))


def test_amx_connections_test_checks_a_connection_and_clears_a_refusal_it_no_longer_meets(tmp_path, monkeypatch):
    """A connection could be tested only through the connections API (a served function and an admin token): `amx`
    had no test, so a CLI user whose connection was marked unhealthy by a refusal could not clear the mark once the
    account was fixed, and could not check a new key before its first sync."""
    rt = runtime(tmp_path, monkeypatch)
    with recorded_sites("impact") as urls:
        impact_connection(rt, "impact-main", urls["impact"], RECORDED_CREDENTIALS["impact"], healthy=False,
                          health_reason="credentials refused at 2026-01-01T00:00:00+00:00 (key version 1)")
        impact_connection(rt, "impact-wrong", urls["impact"], {**RECORDED_CREDENTIALS["impact"], "auth_token": "wrong"})
        passing = CliRunner().invoke(app, ["connections", "test", "impact-main"])
        failing = CliRunner().invoke(app, ["connections", "test", "impact-wrong"])
    assert passing.exit_code == 0, (passing.output, passing.exception)
    assert "ok credentials accepted" in passing.output and "ok read: read 'Semrush'" in passing.output
    assert load_connection(rt.store, "impact-main")[0].healthy  # the mark a passing test clears
    assert failing.exit_code == 1, (failing.output, failing.exception)
    assert "failed credentials accepted: impact: the connection's credentials were refused" in failing.output
    assert "ok" not in failing.output.split()
