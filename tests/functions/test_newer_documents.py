"""Stored documents across a rolling update and a rollback: a document a newer build wrote, holding fields this build
does not know, is read, listed and changed (the newer build's fields written back unchanged, never shown), not refused
as damaged; a known field of the wrong type still is."""

import json

import pytest

from tests.support.apps import function_client

client = function_client

# What "a newer build" adds: a field of the document's own, and one within an object it holds.
NEWER = {"newer_field": {"value": "v4lue-never-logged", "n": 3}}


def connection():
    return {"id": "c1", "source": "affiliateprograms", "enabled": True, "generation": "g_" + "0" * 32,
            "last_sync": {"status": "succeeded", "pages": 2, "newer_stat": 7}}


def rule():
    return {"id": "r1", "description": "d", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": {}, "newer_option": "x"}}


def campaign():
    return {"id": "c1", "name": "n", "channel": "email", "program_ids": [], "currency": "USD",
            "created_at": "2026-01-01T00:00:00Z", "days_currency": "USD"}


KINDS = [  # function, path, key, stored document, a change (PATCH or PUT body), where the nested newer field is
    ("connections", "/connections", "connections/c1.json", connection,
     ("PATCH", {"enabled": False, "disabled_reason": "paused"}),
     ("last_sync", "newer_stat")),
    ("triggers", "/rules", "rules/r1.json", rule,
     ("PUT", {"trigger": {"event": "program.delta"}, "condition": "true", "action": {"type": "alert", "params": {}},
              "description": "changed"}),
     ("action", "newer_option")),
    ("budget", "/campaigns", "budget/campaigns/c1.json", campaign,
     ("PUT", {"name": "changed", "channel": "email", "currency": "USD"}), None),
]


def put_json(rt, key, document):
    rt.store.put(key, json.dumps(document).encode(), content_type="application/json")


@pytest.mark.parametrize("function,path,key,make,change,nested", KINDS)
def test_a_document_a_newer_build_wrote_is_read_listed_and_changed_keeping_its_fields(
        admin_env, capsys, function, path, key, make, change, nested):
    rt, admin, app = admin_env["rt"], admin_env["admin"], client(function)
    document = make()
    put_json(rt, key, {**document, **NEWER})  # as a newer build writes it
    one = f"{path}/{document['id']}"

    read = app.get(one, headers=admin)
    assert read.status_code == 200, read.get_json()
    assert "newer_field" not in read.get_json()  # a client is shown what this build knows
    if nested:
        assert nested[1] not in read.get_json()[nested[0]]
    listed = app.get(path, headers=admin)
    assert "X-Damaged-Items" not in listed.headers and [d["id"] for d in listed.get_json()["items"]] == [document["id"]]
    logged = capsys.readouterr().err
    assert "document.newer_fields" in logged and key in logged and "newer_field" in logged
    assert "v4lue-never-logged" not in logged and "document.damaged" not in logged

    method, body = change
    changed = app.open(one, method=method, json=body, headers={**admin, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.get_json()
    assert "newer_field" not in changed.get_json()
    stored = json.loads(rt.store.get(key).data)
    assert stored["newer_field"] == NEWER["newer_field"]  # written back unchanged, for the newer build
    assert stored.get("days_currency") == document.get("days_currency")  # a field never shown: kept as ever
    assert changed.headers["ETag"].strip('"') == rt.store.head(key)
    if nested:  # its object left as it was read: kept
        assert stored[nested[0]][nested[1]] == document[nested[0]][nested[1]]
    again = app.get(one, headers=admin)
    assert again.status_code == 200 and "newer_field" not in again.get_json()


class Holding:
    """A store holding one document, as a newer build wrote it."""

    def __init__(self, document: dict):
        self.data = json.dumps(document).encode()

    def get(self, key):
        return type("Stored", (), {"data": self.data, "etag": "e"})()


def test_a_nested_newer_field_goes_with_the_object_replaced():
    """One within an object this build replaced described the object it replaced: not carried to the new one."""
    from affiliate_matrix.documents import load_document, stored_json
    from affiliate_matrix.rules.model import Action, Rule

    read, _ = load_document(Holding({**rule(), **NEWER}), "rules/r1.json", Rule, "rule 'r1'")
    kept = json.loads(stored_json(read.model_copy(update={"enabled": False})))
    assert kept["newer_field"] == NEWER["newer_field"] and kept["action"]["newer_option"] == "x"
    another = Action(type="notify", params={"webhook_url": "https://hooks.example/x"})
    replaced = json.loads(stored_json(read.model_copy(update={"action": another})))
    assert replaced["newer_field"] == NEWER["newer_field"] and "newer_option" not in replaced["action"]


@pytest.mark.parametrize("function,path,key,make,change,nested", KINDS)
def test_a_known_field_of_the_wrong_type_is_still_damaged_beside_newer_fields(
        admin_env, function, path, key, make, change, nested):
    rt, admin, app = admin_env["rt"], admin_env["admin"], client(function)
    document = make()
    put_json(rt, key, {**document, **NEWER, "id": document["id"], "enabled" if function != "budget" else "active":
                       "not a boolean"})
    read = app.get(f"{path}/{document['id']}", headers=admin)
    assert read.status_code == 500 and read.get_json()["error"]["code"] == "damaged_data"
    message = read.get_json()["error"]["message"]
    assert "enabled: " in message or "active: " in message, message  # the fault named, not the newer field
    assert app.get(path, headers=admin).headers["X-Damaged-Items"] == "1"


def test_a_sync_record_a_newer_build_wrote_is_read_and_moved_on_keeping_its_fields(admin_env):
    from affiliate_matrix.sync_requests import update_sync

    rt, admin, app = admin_env["rt"], admin_env["admin"], client("connections")
    assert app.post("/connections", json={"id": "c1", "source": "affiliateprograms"}, headers=admin).status_code == 201
    sync_id = "s_" + "1" * 32
    put_json(rt, f"syncs/{sync_id}.json", {"id": sync_id, "connection_id": "c1", "status": "queued",
                                           "requested_at": "2026-01-01T00:00:00Z", **NEWER})
    read = app.get(f"/syncs/{sync_id}", headers=admin)
    assert read.status_code == 200 and read.get_json()["status"] == "queued" and "newer_field" not in read.get_json()
    update_sync(rt, sync_id, if_queued=True, status="running")
    stored = json.loads(rt.store.get(f"syncs/{sync_id}.json").data)
    assert stored["status"] == "running" and stored["newer_field"] == NEWER["newer_field"]


def test_a_scheduled_sync_record_a_newer_build_wrote_keeps_its_fields_when_requested_again(admin_env):
    """A tick delivered again over a scheduled sync whose publish had failed wrote a fresh record over the stored one,
    dropping what a newer build had stored in it."""
    from datetime import UTC, datetime

    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.events import SCRAPE_REQUESTED
    from affiliate_matrix.sync_requests import request_sync

    rt, admin, app = admin_env["rt"], admin_env["admin"], client("connections")
    rt.bus.subscribe(SCRAPE_REQUESTED, lambda event: None)  # a scrape function takes the request (and holds it)
    assert app.post("/connections", json={"id": "c1", "source": "affiliateprograms"}, headers=admin).status_code == 201
    connection, tick = load_connection(rt.store, "c1")[0], datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
    sync_id = request_sync(rt, connection, tick=tick).id
    key = f"syncs/{sync_id}.json"
    failed = {**json.loads(rt.store.get(key).data), "status": "failed", "errors": ["not published"]}
    put_json(rt, key, {**failed, **NEWER})  # its publish failed, as a newer build records it
    again = request_sync(rt, connection, tick=tick)
    stored = json.loads(rt.store.get(key).data)
    assert again.id == sync_id and (stored["status"], stored["errors"]) == ("queued", []) and stored["published_at"]
    assert stored["newer_field"] == NEWER["newer_field"]


def test_the_log_of_newer_fields_is_bounded_and_a_request_body_stays_strict(admin_env, capsys):
    from affiliate_matrix.documents import NEWER_FIELDS_LOGGED, load_document
    from affiliate_matrix.rules.model import Rule

    many = {f"{i:03}" + "n" * 500: "v4lue-never-logged" for i in range(50)}  # and the action's one: 51
    load_document(Holding({**rule(), **many}), "rules/r1.json", Rule, "rule 'r1'")
    logged = capsys.readouterr()
    line = next(line for line in (logged.out + logged.err).splitlines() if "document.newer_fields" in line)
    assert "count=51" in line and "v4lue-never-logged" not in line and "n" * 101 not in line
    names = line.split("fields=[", 1)[1].split("]", 1)[0]
    assert names.count("', '") == NEWER_FIELDS_LOGGED - 1
    answer = client("connections").post("/connections", json={"id": "c2", "source": "affiliateprograms", **NEWER},
                                         headers=admin_env["admin"])
    assert answer.status_code == 400 and "newer_field" in answer.get_json()["error"]["message"]


def test_a_key_rotation_finds_the_connections_a_newer_build_wrote(admin_env):
    """keys.dependents read connections apart from load_document: one a newer build wrote was passed over as damaged,
    and a rotation or revocation left it on the old key."""
    from affiliate_matrix.keys import dependents

    rt = admin_env["rt"]
    put_json(rt, "connections/c1.json", {**connection(), "credentials_path": "connections/cj/main", **NEWER})
    assert [c.id for c in dependents(rt, "connections/cj/main")] == ["c1"]


def test_amx_rules_add_replace_keeps_what_a_newer_build_stored(admin_env, tmp_path):
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as amx

    rt = admin_env["rt"]
    put_json(rt, "rules/r1.json", {**rule(), **NEWER})
    (tmp_path / "rule.json").write_text(json.dumps({**rule(), "action": {"type": "alert", "params": {}},
                                                    "description": "replaced"}))
    result = CliRunner().invoke(amx, ["rules", "add", "--replace", str(tmp_path / "rule.json")])
    assert result.exit_code == 0, result.output
    stored = json.loads(rt.store.get("rules/r1.json").data)
    assert stored["description"] == "replaced" and stored["newer_field"] == NEWER["newer_field"]


RUN_DAY = "2026-11-12"
RUN_KEY = f"budget/runs/{RUN_DAY}.json"


def stored_run_with(tmp_path, env, one_part=False, **changes):
    """A day's run stored by the budget function, then written again as a newer build writes it: a field of its own
    and one in an allocation (or `changes`). `one_part`: in the format of a build before runs had parts (`request`
    and `result` at its top), as such a run is found written again by a newer build."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    app, rt = client("budget"), Runtime("test", Settings(data_dir=tmp_path))
    for cid in ("search-1", "social-1"):
        made = app.post("/campaigns", json={"id": cid, "name": cid, "channel": "search", "currency": "USD"},
                        headers=env["admin"])
        assert made.status_code == 201, made.get_json()
    assert app.post("/allocations", json={"day": RUN_DAY}, headers=env["admin"]).status_code == 201
    run = json.loads(rt.store.get(RUN_KEY).data)
    run["parts"][0]["result"]["allocations"][0]["newer_stat"] = 7
    if one_part:
        run |= run.pop("parts")[0]
    put_json(rt, RUN_KEY, {**run, **NEWER, **changes})
    return app, rt


def test_an_allocation_run_a_newer_build_wrote_is_read_paced_and_replaced_keeping_its_fields(env, tmp_path, capsys):
    """budget/runs/<day>.json was read apart from load_document, strictly: a newer build's field made the day's run
    damaged to this build (its GET a 500, its pacing and report skipped), and its replacement started over as if
    from a damaged run (revision 2 whatever it replaced, the campaigns it superseded forgotten)."""
    from datetime import date

    from affiliate_matrix.budget.run import RunResult, load_run

    app, rt = stored_run_with(tmp_path, env)
    read = app.get(f"/allocations/{RUN_DAY}", headers=env["read"])
    assert read.status_code == 200, read.get_json()
    assert "newer_field" not in read.get_json()
    assert "newer_stat" not in read.get_json()["parts"][0]["result"]["allocations"][0]
    assert len(load_run(rt.store, date.fromisoformat(RUN_DAY), RunResult).allocated()) == 2  # pacing's, the report's
    replaced = app.post("/allocations", json={"day": RUN_DAY, "replace": True}, headers=env["admin"])
    assert replaced.status_code == 200 and replaced.get_json()["revision"] == 2 and "newer_field" not in replaced.json
    stored = json.loads(rt.store.get(RUN_KEY).data)
    assert stored["revision"] == 2 and stored["newer_field"] == NEWER["newer_field"]
    logged = capsys.readouterr().err
    assert "document.newer_fields" in logged and "budget.damaged_run_replaced" not in logged
    assert "document.damaged" not in logged and "v4lue-never-logged" not in logged


@pytest.mark.parametrize("one_part", [False, True])
def test_an_allocation_run_with_a_known_field_of_the_wrong_type_is_still_damaged(env, tmp_path, one_part):
    app, _ = stored_run_with(tmp_path, env, one_part, revision="two")
    read = app.get(f"/allocations/{RUN_DAY}", headers=env["read"])
    assert read.status_code == 500 and read.get_json()["error"]["code"] == "damaged_data"
    assert "revision: " in read.get_json()["error"]["message"] and RUN_KEY in read.get_json()["error"]["message"]


KEY_PATH = "connections/cj/main"
KEY_RECORD = {"path": KEY_PATH, "rotation": "manual", "created_at": "2026-01-01T00:00:00Z",
              "expires_at": "2026-04-01T00:00:00Z"}


def test_a_key_record_a_newer_build_wrote_is_read_listed_and_revoked_keeping_its_fields(admin_env, capsys):
    """keys/records/ was read apart from load_document, strictly: a newer build's field made the key's record damaged
    to this build (its rotation refused, `amx keys status` and the keys cron naming it damaged). A record holds no
    object, so its newer fields are its own."""
    from affiliate_matrix.keys import load_record, records, revoke

    rt = admin_env["rt"]
    rt.secrets.write(KEY_PATH, {"api_token": "k3y-never-logged"}, cas=0)
    put_json(rt, f"keys/records/{KEY_PATH}.json", {**KEY_RECORD, **NEWER})
    record, _ = load_record(rt, KEY_PATH)
    assert record.rotation == "manual" and "newer_field" not in record.model_dump(mode="json")
    damaged = []
    assert [r.path for r in records(rt, damaged)] == [KEY_PATH] and damaged == []
    revoke(rt, KEY_PATH)
    stored = json.loads(rt.store.get(f"keys/records/{KEY_PATH}.json").data)
    assert stored["revoked_at"] and stored["newer_field"] == NEWER["newer_field"]
    logged = capsys.readouterr().err
    assert "document.newer_fields" in logged and "key_record.damaged" not in logged
    assert "v4lue-never-logged" not in logged and "k3y-never-logged" not in logged


def test_a_key_record_with_a_known_field_of_the_wrong_type_is_still_damaged(admin_env):
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.keys import load_record, records

    rt = admin_env["rt"]
    put_json(rt, f"keys/records/{KEY_PATH}.json", {**KEY_RECORD, **NEWER, "lifetime_days": "many"})
    with pytest.raises(DamagedData, match=f"keys/records/{KEY_PATH}.json is damaged \\(lifetime_days: "):
        load_record(rt, KEY_PATH)
    damaged = []
    assert records(rt, damaged) == [] and len(damaged) == 1


def test_a_key_added_again_over_a_revoked_record_a_newer_build_wrote_keeps_its_fields(admin_env):
    """amx keys add over a revoked key wrote a record made anew over the stored one, dropping what a newer build had
    stored in it."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.keys import load_record, revoke

    rt = admin_env["rt"]
    rt.secrets.write(KEY_PATH, {"api_token": "k3y-never-logged"}, cas=0)
    put_json(rt, f"keys/records/{KEY_PATH}.json", {**KEY_RECORD, **NEWER})
    revoke(rt, KEY_PATH)
    added = CliRunner().invoke(amx, ["keys", "add", KEY_PATH, "--rotation", "manual"],
                               input='{"api_token": "an0ther-k3y"}')
    assert added.exit_code == 0, (added.output, added.exception)
    assert load_record(rt, KEY_PATH)[0].revoked_at is None
    stored = json.loads(rt.store.get(f"keys/records/{KEY_PATH}.json").data)
    assert stored["created_at"] != KEY_RECORD["created_at"] and stored["newer_field"] == NEWER["newer_field"]


def test_an_allocation_run_of_the_one_part_format_a_newer_build_wrote_is_read_and_replaced_keeping_its_fields(
        env, tmp_path):
    """A run stored before runs had parts (`request` and `result` at its top) is read as a run of that one part; one a
    newer build had written a field into (within an allocation) was damaged: the field's place, as pydantic named it,
    was in the part the reading made, not in the document stored."""
    from datetime import date

    from affiliate_matrix.budget.run import RunResult, load_run

    app, rt = stored_run_with(tmp_path, env, one_part=True)
    read = app.get(f"/allocations/{RUN_DAY}", headers=env["read"])
    assert read.status_code == 200, read.get_json()
    allocation = read.get_json()["parts"][0]["result"]["allocations"][0]
    assert "newer_field" not in read.get_json() and "newer_stat" not in allocation
    assert len(load_run(rt.store, date.fromisoformat(RUN_DAY), RunResult).allocated()) == 2
    replaced = app.post("/allocations", json={"day": RUN_DAY, "replace": True}, headers=env["admin"])
    assert replaced.status_code == 200 and replaced.get_json()["revision"] == 2
    stored = json.loads(rt.store.get(RUN_KEY).data)
    assert stored["revision"] == 2 and stored["newer_field"] == NEWER["newer_field"] and len(stored["parts"]) == 1


def test_a_rerun_of_amx_demo_keeps_what_a_newer_build_stored_in_its_connection_and_rule(tmp_path):
    """amx demo wrote its own connection (with no condition) and rule (with no read) whole each run: a rerun dropped
    the fields a newer build had stored in them, which every other rewrite keeps. Now each is read and written back
    with them (documents.rewritten), conditionally on what was read."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.demo import DIRECTORIES
    from affiliate_matrix.demo.collect import RULE_ID, Story, connection_id
    from affiliate_matrix.runtime import Runtime

    rt, source = Runtime("test", Settings(data_dir=tmp_path)), DIRECTORIES[0]
    story = Story(rt)
    story.urls = {source: "http://127.0.0.1:9/"}
    cid = story.connect(source)
    generation = load_connection(rt.store, cid)[0].generation
    story.write_rule("vpn_security")
    for key in (f"connections/{cid}.json", f"rules/{RULE_ID}.json"):  # a newer build wrote them since
        put_json(rt, key, {**json.loads(rt.store.get(key).data), **NEWER})
    assert story.connect(source) == cid == connection_id(source)
    story.write_rule("vpn_security")
    for key in (f"connections/{cid}.json", f"rules/{RULE_ID}.json"):
        assert json.loads(rt.store.get(key).data)["newer_field"] == NEWER["newer_field"], key  # old: dropped
    assert load_connection(rt.store, cid)[0].generation == generation
