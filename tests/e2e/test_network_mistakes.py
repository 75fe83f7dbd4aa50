"""A new user's mistakes with a network API connection, made with `amx` against recorded answers served over real
HTTP: each is told what is wrong and what to do about it."""

import json
from pathlib import Path

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, created, load_connection, save_connection
from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
from affiliate_matrix.pipeline import scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sources import get_source
from tests.support.real_samples import api_site


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
    assert "credentials accepted: ok —" in passing.output and "read: ok — read 'Semrush'" in passing.output
    assert load_connection(rt.store, "impact-main")[0].healthy  # the mark a passing test clears
    assert failing.exit_code == 1, (failing.output, failing.exception)
    # the provider's refusal and its status, said by the check alone (not again as a log line)
    assert failing.output.splitlines() == [
        "credentials accepted: failed — impact: HTTP 401, the connection's credentials were refused by the "
        "provider"], \
        failing.output


def test_an_error_status_on_the_first_request_says_what_to_check_and_where_the_answer_is_kept(tmp_path, monkeypatch):
    """A 403 or a 404 on a sync's first request was "HTTP 403" or "HTTP 404" and nothing more: the provider's answer
    (its own words on what was refused) was kept but not named, and a wrong base_url or account id read like any
    missing page. Now the first answer's error says what it most likely means and what to check, and the failure
    names the answer kept; a 404 on a later page (one past the last) is that page's, with no such advice."""
    rt = runtime(tmp_path / "data", monkeypatch)
    denied = b'{"Message": "Access denied: your role lacks the Campaigns permission"}'
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "denied.json").write_bytes(denied)
    first = json.loads((get_source("impact").recorded_dir() / "campaigns-1.json").read_text())
    first["@nextpageuri"] = "/Mediapartners/PAST/Campaigns?PageSize=100&Page=2"
    (tmp_path / "site" / "first.json").write_text(json.dumps(first).replace("IRtestSID", "PAST"))
    site = api_site(tmp_path / "site", [
        {"path": "/Mediapartners/DENIED/Campaigns", "status": 403, "file": tmp_path / "site" / "denied.json"},
        {"path": "/Mediapartners/PAST/Campaigns", "query": {"Page": "2"}, "status": 404},
        {"path": "/Mediapartners/PAST/Campaigns", "file": tmp_path / "site" / "first.json"}])
    with recorded_sites("impact", "cj", directories={"impact": site}) as urls:
        impact_connection(rt, "denied", urls["impact"], {"account_sid": "DENIED", "auth_token": "t"})
        impact_connection(rt, "elsewhere", urls["cj"], RECORDED_CREDENTIALS["impact"])  # the CJ site's address
        impact_connection(rt, "past", urls["impact"], {"account_sid": "PAST", "auth_token": "t"})
        save_connection(rt.store, created(Connection(id="feed-elsewhere", source="clickbank", base_url=urls["cj"],
                                                     rate_limit_per_s=50)))  # a source that reads no key
        results = {c: CliRunner().invoke(app, ["scrape", c]) for c in ("denied", "elsewhere", "past", "feed-elsewhere")}
    lines = {c: [line.strip() for line in r.output.splitlines()] for c, r in results.items()}
    assert all(r.exit_code == 1 for r in results.values()), {c: r.output for c, r in results.items()}
    assert any(line.endswith("HTTP 403, the provider refused this account the request: check that the account has "
                             "access to this API (its permissions or plan)") for line in lines["denied"]), lines
    (kept,) = [line.removeprefix("kept raw: ") for line in lines["denied"] if line.startswith("kept raw: ")]
    assert Path(kept).read_bytes() == denied  # the provider's own words, where the user is told to look
    assert any(line.endswith(f"HTTP 404, the API has nothing at this address: check the connection's base_url "
                             f"({urls['cj']}) and the account id in its key") for line in lines["elsewhere"]), lines
    assert any(line.endswith(f"HTTP 404, the API has nothing at this address: check the connection's base_url "
                             f"({urls['cj']})") for line in lines["feed-elsewhere"]), lines
    (past,) = [line for line in lines["past"] if line.startswith("fetch past: ")]
    assert past.endswith("Page=2: HTTP 404"), past


def test_an_api_that_redirects_is_not_followed_and_the_failure_names_the_base_url_to_set(tmp_path, monkeypatch):
    """An API that moved (a 301 or 308 to its new address, as providers send) failed every sync with "HTTP 308" alone.
    Its credentials go only to the connection's base_url, so the redirect is not followed (asking the new host would
    send them there on the old host's word); the failure names where it leads and the base_url to set."""
    rt = runtime(tmp_path / "data", monkeypatch)
    new_host = "https://api2.impact.example"  # never asked: the test would fail on a lookup if it were
    site = api_site(tmp_path / "site", [
        {"path": "/Mediapartners/IRtestSID/Campaigns", "status": 308,
         "headers": {"Location": f"{new_host}/Mediapartners/IRtestSID/Campaigns?PageSize=100"}},
        {"path": "/Mediapartners/PATH/Campaigns", "status": 301,  # moved under a path, on the same host
         "headers": {"Location": "/v2/Mediapartners/PATH/Campaigns?PageSize=100"}}])
    with recorded_sites("impact", directories={"impact": site}) as urls:
        impact_connection(rt, "moved", urls["impact"], RECORDED_CREDENTIALS["impact"])
        impact_connection(rt, "path", urls["impact"], {"account_sid": "PATH", "auth_token": "t"})
        reasons = {c: [f.reason for f in scrape(rt, c).failures] for c in ("moved", "path")}
    old = urls["impact"]
    not_followed = f": not followed, as the API's credentials are sent to its base_url ({old}) alone; set the " \
                   "connection's base_url to "
    assert reasons == {
        "moved": [f"{old}/Mediapartners/IRtestSID/Campaigns?PageSize=100: HTTP 308, redirects to "
                  f"{new_host}/Mediapartners/IRtestSID/Campaigns?PageSize=100{not_followed}{new_host}"],
        "path": [f"{old}/Mediapartners/PATH/Campaigns?PageSize=100: HTTP 301, redirects to "
                 f"{old}/v2/Mediapartners/PATH/Campaigns?PageSize=100{not_followed}{old}/v2"]}


def test_a_failure_quoting_a_terminal_control_the_api_sent_lists_it_as_an_escape(tmp_path, monkeypatch):
    """What an API sends is quoted in a failure (a redirect's Location): a control character in it (the C1 CSI, which
    Rich passes through) is listed by `amx scrape` as its escape, not acted on by the operator's terminal."""
    rt = runtime(tmp_path / "data", monkeypatch)
    site = api_site(tmp_path / "site", [{"path": "/Mediapartners/IRtestSID/Campaigns", "status": 302,
                                         "headers": {"Location": "/x\u009b2J"}}])
    with recorded_sites("impact", directories={"impact": site}) as urls:
        impact_connection(rt, "moved", urls["impact"], RECORDED_CREDENTIALS["impact"])
        result = CliRunner().invoke(app, ["scrape", "moved"])
    assert result.exit_code == 1 and "redirects to " in result.output, result.output
    assert "\u009b" not in result.output and f"{urls['impact']}/x\\x9b2J" in result.output, result.output


def test_an_answer_that_is_empty_or_a_web_page_is_said_to_be_so(tmp_path, monkeypatch):
    """An API answering 200 with an empty body or with an HTML page (a maintenance or login page) was "the response is
    not JSON" alike: now the failure says which it was."""
    rt = runtime(tmp_path / "data", monkeypatch)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "down.html").write_text("<!DOCTYPE html><html><head><title>Down for maintenance</title>"
                                                 "</head><body><h1>Back soon</h1></body></html>")
    (tmp_path / "site" / "empty.json").write_text("")
    site = api_site(tmp_path / "site", [
        {"path": "/Mediapartners/PAGE/Campaigns", "file": tmp_path / "site" / "down.html",
         "headers": {"Content-Type": "text/html; charset=utf-8"}},
        {"path": "/Mediapartners/EMPTY/Campaigns", "file": tmp_path / "site" / "empty.json"}])
    with recorded_sites("impact", directories={"impact": site}) as urls:
        for sid in ("PAGE", "EMPTY"):
            impact_connection(rt, sid.lower(), urls["impact"], {"account_sid": sid, "auth_token": "t"})
        reasons = {c: [f.reason for f in scrape(rt, c).failures] for c in ("page", "empty")}
    assert reasons == {
        "page": [f"{urls['impact']}/Mediapartners/PAGE/Campaigns?PageSize=100: the response is not JSON (a web page "
                 "came, not the API's answer: a maintenance, login or error page?)"],
        "empty": [f"{urls['impact']}/Mediapartners/EMPTY/Campaigns?PageSize=100: the response is not JSON (the answer "
                  "is empty)"]}


def test_a_refused_key_is_told_what_to_do_and_doing_it_mends_the_connection(tmp_path, monkeypatch):
    """A sync whose key the provider refused said "HTTP 401, the connection's credentials were refused" and stopped
    there: nothing named the key or the commands that mend it. Now it names both, and following it works."""
    rt = runtime(tmp_path, monkeypatch)
    with recorded_sites("impact") as urls:
        old_key = json.dumps({**RECORDED_CREDENTIALS["impact"], "auth_token": "old"})
        added = CliRunner().invoke(app, ["keys", "add", "connections/impact-main", "--rotation", "manual", "--source",
                                         "impact"], input=old_key)
        assert added.exit_code == 0, (added.output, added.exception)
        save_connection(rt.store, created(Connection(id="impact-main", source="impact", base_url=urls["impact"],
                                                     rate_limit_per_s=50, credentials_path="connections/impact-main")))
        refused = CliRunner().invoke(app, ["scrape", "impact-main"])
        assert refused.exit_code == 1, refused.output
        assert ("HTTP 401, the connection's credentials were refused; give its key the provider's current values (amx "
                "keys rotate connections/impact-main, which tests them) or, once the account is fixed at the provider, "
                "test it again (amx connections test impact-main)") in " ".join(refused.output.split()), refused.output
        assert not load_connection(rt.store, "impact-main")[0].healthy
        rotated = CliRunner().invoke(app, ["keys", "rotate", "connections/impact-main", "--field", "auth_token"],
                                     input=RECORDED_CREDENTIALS["impact"]["auth_token"] + "\n")
        assert rotated.exit_code == 0, (rotated.output, rotated.exception)
        synced = CliRunner().invoke(app, ["scrape", "impact-main"])
    assert synced.exit_code == 0, synced.output
    assert load_connection(rt.store, "impact-main")[0].healthy


def test_a_connection_test_answered_by_a_page_it_cannot_read_does_not_call_the_credentials_accepted(tmp_path,
                                                                                                   monkeypatch):
    """`amx connections test` (and POST /connections/{id}/test) said "ok credentials accepted" of an API answering 200
    with a web page (a login page) or an error object: what came says nothing of the credentials. It is reached, and
    not read."""
    rt = runtime(tmp_path / "data", monkeypatch)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "login.html").write_text("<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
    login = {"path": "/Mediapartners/LOGIN/Campaigns", "headers": {"Content-Type": "text/html"},
             "file": tmp_path / "site" / "login.html"}
    site = api_site(tmp_path / "site", [login])
    with recorded_sites("impact", directories={"impact": site}) as urls:
        impact_connection(rt, "login", urls["impact"], {"account_sid": "LOGIN", "auth_token": "t"})
        tested = CliRunner().invoke(app, ["connections", "test", "login"])
    assert tested.exit_code == 1, (tested.output, tested.exception)
    lines = tested.output.splitlines()
    assert lines[0] == f"reachable: ok — {urls['impact']}/Mediapartners/LOGIN/Campaigns?PageSize=100 answered", lines
    assert lines[1].startswith("read: failed — ") and "a web page came" in lines[1], lines
    assert "credentials accepted" not in tested.output
