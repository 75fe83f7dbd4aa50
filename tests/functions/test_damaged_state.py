"""Damaged stored data is one clear error naming the file or key and what to do, and the rest keeps
working: a list route skips and reports the damaged item, a corrupt secrets file, HTTP-cache entry or
SQLite index says so in one line, and a command whose work failed exits non-zero."""

import json
import os
import subprocess
import sys

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client
from tests.support.processes import ROOT

AMX = ROOT / ".venv" / "bin" / "amx"


client = function_client


def truncate(rt, key: str) -> None:
    data = rt.store.get(key).data
    rt.store.put(key, data[: len(data) // 2], content_type="application/json")


@pytest.mark.parametrize("function,path,make", [
    ("connections", "/connections", lambda i: {"id": f"c{i}", "source": "affiliateprograms"}),
    ("triggers", "/rules", lambda i: {"id": f"r{i}", "trigger": {"event": "program.delta"}, "condition": "true",
                                      "action": {"type": "alert", "params": {}}}),
    ("budget", "/campaigns", lambda i: {"id": f"c{i}", "name": "n", "channel": "email", "currency": "USD"}),
])
def test_a_truncated_document_is_skipped_and_reported_by_its_list(admin_env, capsys, function, path, make):
    from affiliate_matrix.handlers.budget import campaigns
    from affiliate_matrix.handlers.connections import CONNECTIONS
    from affiliate_matrix.handlers.triggers import RULES

    app = client(function)
    collection = {"/connections": CONNECTIONS, "/rules": RULES, "/campaigns": campaigns()}[path]
    for i in range(3):  # as JSON: Rule's validation times a trial run of the condition, which a busy machine can fail
        admin_env["rt"].store.put(collection.key(make(i)["id"]), json.dumps(make(i)).encode(), content_type="application/json")
    key = collection.key(make(1)["id"])
    truncate(admin_env["rt"], key)
    listed = app.get(path, headers=admin_env["admin"])
    assert listed.status_code == 200 and listed.headers["X-Damaged-Items"] == "1"
    body = listed.get_json()
    assert len(body["items"]) == 2 and [e["key"] for e in body["errors"]] == [key]
    assert "is damaged" in body["errors"][0]["error"] and "delete it and create it again" in body["errors"][0]["error"]
    one = app.get(f"{path}/{key.rsplit('/', 1)[1].removesuffix('.json')}", headers=admin_env["admin"])
    assert one.status_code == 500 and one.get_json()["error"]["code"] == "damaged_data"
    assert key in one.get_json()["error"]["message"]
    logged = capsys.readouterr().err
    assert "document.damaged" in logged and key in logged and "Traceback" not in logged


def test_a_damaged_rule_does_not_stop_the_others(admin_env):
    from affiliate_matrix.rules.store import list_rules

    for i in range(2):  # as JSON: Rule's validation times a trial run of the condition, which a busy machine can fail
        admin_env["rt"].store.put(f"rules/r{i}.json", json.dumps({
            "id": f"r{i}", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": {}}}).encode(), content_type="application/json")
    truncate(admin_env["rt"], "rules/r0.json")
    assert [r.id for r in list_rules(admin_env["rt"].store)] == ["r1"]


def amx(*args, data_dir, check=False):
    environment = {**os.environ, "AMX_DATA_DIR": str(data_dir)}
    return subprocess.run([str(AMX), *args], capture_output=True, text=True,
                          timeout=120, env=environment, check=check)


def test_a_corrupt_secrets_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "secrets.json").write_text('{"api-tokens/abc": {"current_version": 1, "vers')
    result = amx("tokens", "create", "--role", "read", data_dir=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"the secrets file {tmp_path / 'secrets.json'} is damaged" in result.stderr
    assert "restore it from a backup" in result.stderr
    assert (tmp_path / "secrets.json").read_text().endswith('"vers')  # left as it was, for the person to rescue


def test_a_function_with_a_corrupt_secrets_file_stops_at_start_with_one_line(tmp_path):
    (tmp_path / "secrets.json").write_text("[1, 2")
    result = subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('functions/programs/main.py')"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "AMX_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the secrets file" in result.stderr and "is damaged" in result.stderr


def test_a_corrupt_sqlite_index_is_one_line_naming_it(tmp_path):
    (tmp_path / "search.sqlite3").write_bytes(b"this is not a database" * 100)
    result = amx("search", "shop", data_dir=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"the search index {tmp_path / 'search.sqlite3'} is damaged" in result.stderr
    assert "amx replay" in result.stderr
    # what a rebuild from the raw pages does not bring back is said before the file is moved aside, not found after
    said = " ".join(result.stderr.split())
    assert "keep it: the change feed" in said and "redirects of moved ids" in said, said
    # amx up's functions keep the file they opened: moved aside under them, they went on answering "damaged"
    assert (
        "stop what has it open (`amx down`: a running function keeps reading the file it opened, moved or not), move "
        "it aside") in said, said
    # and the way back to them: a backup taken before (amx index backup)
    assert "then `amx index restore --key NAME` the newest backup `amx index backup` took" in said, said
    assert "(`amx index restore` alone names those stored, newest first;" in said, said
    assert "and `amx replay --all` to bring the programs up to date from the stored pages, API answers" in said, said


def test_a_corrupt_http_cache_entry_is_logged_and_the_crawl_fetches_in_full(tmp_path, capsys):
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.pipeline import scrape

    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.store.put("http-cache/ap.json", b'{"http://x/": {"etag": "\\"v1", ', content_type="application/json")
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50))
        report = scrape(rt, "ap")
    assert report.records == 6 and report.not_modified == 0
    logged = capsys.readouterr().err
    assert "http_cache.damaged" in logged and "http-cache/ap.json" in logged
    assert isinstance(json.loads(rt.store.get("http-cache/ap.json").data), dict)  # written anew


def test_amx_scrape_exits_non_zero_when_indexing_failed(tmp_path):
    """The batch is stored, but indexing it fails every attempt (the index is at a version this code does not
    write): the command's work failed, so it says so and exits 1, not 0."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX

    rt = Runtime("test", Settings(data_dir=tmp_path))
    newer = type(PROGRAMS_INDEX)(PROGRAMS_INDEX.name, PROGRAMS_INDEX.version + 1, PROGRAMS_INDEX.fields)
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.migrate(newer)
    from affiliate_matrix.demo import recorded_sites

    with recorded_sites("affiliateprograms") as urls:
        from affiliate_matrix.connections import Connection, save_connection

        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50))
        environment = {"AMX_ALLOW_LOOPBACK_FETCH": "true"}
        result = subprocess.run([str(AMX), "scrape", "ap"], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "AMX_DATA_DIR": str(tmp_path), **environment})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "raw.batch.stored" in result.stderr and "failed 3 times" in result.stderr and "amx index migrate" in result.stderr


def test_a_damaged_key_usage_document_is_logged_and_counted_anew(tmp_path):
    """Only figures: it raised ValueError out of record_use, so every sync of the connections using the key
    failed (and was redelivered), and out of the keys function's cron run."""
    from datetime import UTC, datetime

    from structlog.testing import capture_logs

    from affiliate_matrix.keys import emit_key_metrics, record_use, usage

    rt = Runtime("test", Settings(data_dir=tmp_path))
    key = "keys/usage/connections/aw.json"
    rt.store.put(key, b'{"uses": {"2026-11-2', content_type="application/json")
    with capture_logs() as logs:
        record_use(rt, "connections/aw", ok=True, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert usage(rt, "connections/aw")["uses"] == {"2026-11-22": 1}
    assert [entry["key"] for entry in logs if entry["event"] == "key_usage.damaged"] == [key]
    rt.store.put(key, b'{"uses": [], "failures": {}}', content_type="application/json")
    emit_key_metrics(rt, datetime(2026, 11, 22, tzinfo=UTC))  # no key is registered; usage() alone must not raise
    assert usage(rt, "connections/aw") == {"uses": {}, "failures": {}}


def test_a_damaged_key_record_is_a_failure_of_the_keys_run_and_the_other_keys_are_still_checked(tmp_path):
    """It raised ValidationError out of the keys function's cron run: no key was checked, none warned about."""
    from datetime import UTC, datetime, timedelta

    from affiliate_matrix.keys import KeyRecord, add_key, record_key, run_checks

    rt = Runtime("test", Settings(data_dir=tmp_path))
    now = datetime(2026, 11, 22, tzinfo=UTC)
    for path in ("connections/aa", "connections/bb"):  # both expire within a day
        add_key(rt, KeyRecord(path=path, rotation="manual", created_at=now - timedelta(days=89)), {"api_token": "t"})
    truncate(rt, record_key("connections/aa"))
    outcome = run_checks(rt, now)
    assert outcome["warned"] == ["connections/bb"]
    assert len(outcome["failed"]) == 1 and f"{record_key('connections/aa')} is damaged" in outcome["failed"][0]


def test_a_damaged_connection_does_not_stop_a_revocation_half_way(tmp_path):
    """dependents() raised ValidationError after the key's versions were destroyed: its record was not marked
    revoked and the connections using it were not marked unhealthy."""
    from datetime import UTC, datetime

    from affiliate_matrix.connections import Connection, connection_key, load_connection, save_connection
    from affiliate_matrix.keys import KeyRecord, add_key, load_record, revoke

    rt = Runtime("test", Settings(data_dir=tmp_path))
    now = datetime(2026, 11, 22, tzinfo=UTC)
    add_key(rt, KeyRecord(path="connections/aw", rotation="manual", created_at=now), {"api_token": "t"})
    for connection_id in ("aw", "broken"):
        save_connection(rt.store, Connection(id=connection_id, source="awin", base_url="https://api.awin.com",
                                             credentials_path="connections/aw"), create=True)
    truncate(rt, connection_key("broken"))
    assert revoke(rt, "connections/aw", now) == ["aw"]
    assert load_record(rt, "connections/aw")[0].revoked_at == now
    assert load_connection(rt.store, "aw")[0].healthy is False


@pytest.mark.parametrize("listing,key,document", [
    (("rules", "list"), "rules/r0.json", {"id": "r0", "trigger": {"event": "program.delta"}, "condition": "true",
                                          "action": {"type": "alert", "params": {}}}),
    (("budget", "campaigns", "list"), "budget/campaigns/c0.json",
     {"id": "c0", "name": "n", "channel": "email", "currency": "USD"}),
])
def test_amx_lists_name_a_damaged_document_they_leave_out(tmp_path, listing, key, document):
    """`amx rules list` and `amx budget campaigns list` left a damaged rule or campaign out of the table unsaid (but for
    a log line among others), so a user never learnt it was there to delete; `amx connections list` named its own."""
    good = {**document, "id": document["id"].replace("0", "1")}
    for doc in (document, good):
        path = tmp_path / "objects" / key.replace(document["id"], doc["id"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc)[:-5] if doc is document else json.dumps(doc))
    result = subprocess.run([str(AMX), *listing], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "AMX_DATA_DIR": str(tmp_path), "COLUMNS": "300"})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert good["id"] in result.stdout
    [named] = [line for line in result.stdout.splitlines() if line.startswith("unreadable:")]
    assert named.startswith(f"unreadable: {key}: ") and "is damaged" in named and "delete it" in named, result.stdout


def test_damaged_campaign_days_name_a_way_out_that_works(admin_env):
    """Damaged days said "delete it and post the campaign's days again", but no route deletes a campaign's days, and a
    post of days merges into them (a 500 naming the damage): the way out named is the campaign's delete, which takes
    its days with it."""
    app, admin, rt = client("budget"), admin_env["admin"], admin_env["rt"]
    campaign = {"id": "c1", "name": "n", "channel": "email", "currency": "USD"}
    day = {"date": "2026-11-01", "spend": 10.0, "revenue": 20.0, "clicks": 5, "conversions": 1}
    assert app.post("/campaigns", json=campaign, headers=admin).status_code == 201
    assert app.post("/campaigns/c1/metrics", json={"days": [day]}, headers=admin).status_code == 200
    truncate(rt, "budget/metrics/c1.json")
    refused = app.post("/campaigns/c1/metrics", json={"days": [day]}, headers=admin)
    assert refused.status_code == 500 and refused.get_json()["error"]["code"] == "damaged_data"
    message = refused.get_json()["error"]["message"]
    assert "budget/metrics/c1.json is damaged" in message and "DELETE /campaigns/{id}" in message, message
    etag = app.get("/campaigns/c1", headers=admin).headers["ETag"]  # its days' first post fixed its currency
    assert app.delete("/campaigns/c1", headers={**admin, "If-Match": etag}).status_code == 204
    assert app.post("/campaigns", json=campaign, headers=admin).status_code == 201
    assert app.post("/campaigns/c1/metrics", json={"days": [day]}, headers=admin).status_code == 200


def test_amx_budget_campaigns_delete_takes_a_damaged_campaign_and_its_days(tmp_path):
    """A damaged campaign was named with "delete it and create it again", and its damaged days with a delete too, but
    no command deleted a campaign: only the API could."""
    for campaign_id in ("c1", "c2"):
        assert amx("budget", "campaigns", "add", campaign_id, "--name", "n", "--channel", "email", "--currency", "USD",
                   data_dir=tmp_path).returncode == 0
    days = tmp_path / "objects" / "budget" / "metrics" / "c1.json"
    days.parent.mkdir(parents=True, exist_ok=True)
    days.write_text('[{"date": "2026-11-01", "sp')
    campaign = tmp_path / "objects" / "budget" / "campaigns" / "c1.json"
    campaign.write_text(campaign.read_text()[:20])
    deleted = amx("budget", "campaigns", "delete", "c1", data_dir=tmp_path)
    assert deleted.returncode == 0 and "deleted campaign c1 and its days" in deleted.stdout, deleted.stderr
    assert not campaign.exists() and not days.exists()
    again = amx("budget", "campaigns", "delete", "c1", data_dir=tmp_path)
    assert again.returncode == 2 and "there is no campaign 'c1'" in again.stderr, again.stderr
    added = amx("budget", "campaigns", "add", "c1", "--name", "n", "--channel", "email",
                "--currency", "USD", data_dir=tmp_path)
    assert added.returncode == 0, added.stderr
    listed = amx("budget", "campaigns", "list", data_dir=tmp_path).stdout
    assert "unreadable" not in listed and "c1" in listed and "c2" in listed, listed


def test_a_damaged_sync_record_names_a_remedy_a_user_can_follow(admin_env):
    """A sync's record is the server's, but its damage said "delete it and create it again"."""
    app, admin = client("connections"), admin_env["admin"]
    assert app.post("/connections", json={"id": "c1", "source": "affiliateprograms"}, headers=admin).status_code == 201
    sync_id = app.post("/connections/c1/sync", headers=admin).get_json()["id"]
    truncate(admin_env["rt"], f"syncs/{sync_id}.json")
    read = app.get(f"/syncs/{sync_id}", headers=admin)
    assert read.status_code == 500 and read.get_json()["error"]["code"] == "damaged_data"
    message = read.get_json()["error"]["message"]
    assert f"syncs/{sync_id}.json is damaged" in message and "create it again" not in message, message
    assert "POST /connections/{id}/sync" in message, message


@pytest.mark.parametrize("damage,problem", [
    (lambda data: data[: len(data) // 2], "the document: Invalid JSON"),  # truncated
    (lambda data: json.dumps({**json.loads(data), "rate_limit_per_s": 0}).encode(),  # stored under looser rules
     "rate_limit_per_s: 0.0 requests a second is outside 0.01 to 50"),
])
def test_a_damaged_connection_is_not_replaced_or_changed_but_named_with_the_way_out(admin_env, damage, problem):
    """A PUT or PATCH over a damaged connection answered 500, as if the server had failed: the request is sound, the
    connection it would change is not, and what an edit keeps of it (its generation, which its claims name) cannot be
    read. A 409 naming the key, the damage and the way out (its delete, which takes a damaged one, then a create), the
    stored bytes untouched; `amx connections edit` says the same. The way out named works."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.errors import ConflictError

    rt, admin, app = admin_env["rt"], admin_env["admin"], client("connections")
    connection = {"id": "ap", "source": "affiliateprograms"}
    assert app.post("/connections", json=connection, headers=admin).status_code == 201
    rt.store.put("connections/ap.json", damage(rt.store.get("connections/ap.json").data),
                 content_type="application/json")
    stored = rt.store.get("connections/ap.json").data
    anything = {**admin, "If-Match": "*"}
    for answer in (app.put("/connections/ap", json={**connection, "schedule": "0 4 * * *"}, headers=anything),
                   app.patch("/connections/ap", json={"schedule": "0 4 * * *"}, headers=anything)):
        assert answer.status_code == 409, answer.get_json()
        message = answer.get_json()["error"]["message"]
        assert message.startswith(f"connection 'ap' at connections/ap.json is damaged ({problem}") and (
            "so it cannot be replaced or changed: delete it and create it again (amx connections delete ap, or "
            "DELETE /connections/ap with If-Match: *") in message, message
    edited = CliRunner().invoke(amx, ["connections", "edit", "ap", "--schedule", "0 4 * * *"])
    assert isinstance(edited.exception, ConflictError) and "amx connections delete ap" in str(edited.exception)
    assert rt.store.get("connections/ap.json").data == stored
    assert app.delete("/connections/ap", headers=anything).status_code == 202
    assert app.post("/connections", json=connection, headers=admin).status_code == 201


def test_a_connection_too_large_to_read_is_damaged_unread_and_deleted_as_a_damaged_one_is(admin_env):
    """An object of any size under connections/ (whoever may write the bucket) was read whole by every request that
    read the connections: it is refused unread (past storage.MAX_DOCUMENT_BYTES) and said damaged in its own words;
    the others are listed, and its delete, the way out a damaged connection has, takes it."""
    from affiliate_matrix.storage import MAX_DOCUMENT_BYTES

    rt, admin, app = admin_env["rt"], admin_env["admin"], client("connections")
    for connection_id in ("ap", "other"):
        assert app.post("/connections", json={"id": connection_id, "source": "affiliateprograms"},
                        headers=admin).status_code == 201
    large = json.dumps({"id": "ap", "source": "affiliateprograms", "notes": "x" * MAX_DOCUMENT_BYTES}).encode()
    rt.store.put("connections/ap.json", large, content_type="application/json")
    said = (f"connection 'ap' at connections/ap.json is damaged (too large to read: {len(large):,} bytes, more than "
            f"the {MAX_DOCUMENT_BYTES:,} bytes a read of it takes)")

    listed = app.get("/connections", headers=admin)
    assert listed.status_code == 200 and listed.headers["X-Damaged-Items"] == "1"
    assert [item["id"] for item in listed.get_json()["items"]] == ["other"]
    assert listed.get_json()["errors"][0]["error"].startswith(said), listed.get_json()
    one = app.get("/connections/ap", headers=admin)
    assert one.status_code == 500 and one.get_json()["error"]["message"].startswith(said), one.get_json()
    deleted = app.delete("/connections/ap", headers={**admin, "If-Match": "*"})
    assert deleted.status_code == 202 and deleted.get_json()["withdrawal"] == "none", deleted.get_json()
    assert rt.store.head("connections/ap.json") is None
