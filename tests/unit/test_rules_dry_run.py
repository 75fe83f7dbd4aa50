"""A rule's dry run (`POST /rules/{id}/test`, `amx rules test`): what it is given (a trial event, a structured
CloudEvent, a program of the index by its id) and what it says of the context the rule would see."""

import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.auth import create_token
from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.apps import function_client
from tests.support.indexing import T2, Index, record

DELTA = "dev.affiliatematrix.program.delta"
ABSENT = "p_00000000000000ff"  # a program id of the right shape that no index holds


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A data directory holding rule `named` (a program.delta rule on the program's name) and the tokens."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per printed line
    rt = Runtime("test", Settings(data_dir=tmp_path))
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    rule = {"id": "named", "trigger": {"event": "program.delta"}, "condition": 'program.name == "Bluehost"',
            "action": {"type": "alert", "params": {"text": "{program_name} changed"}}, "cooldown_s": 0}
    assert function_client("triggers").post("/rules", json=rule, headers=admin).status_code == 201
    return {"path": tmp_path, "read": {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}}


def indexed(env) -> str:
    """Bluehost indexed; its program id."""
    index = Index(env["path"])
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale"))
    [program] = index.programs()
    return program["id"]


def dry_run(env, body: dict, rule: str = "named"):
    return function_client("triggers").post(f"/rules/{rule}/test", headers=env["read"], json=body)


def amx_test(env, *args: str):
    result = CliRunner().invoke(app, ["rules", "test", *args])
    return result, " ".join(result.output.split())


def test_a_dry_run_says_the_deltas_program_is_not_in_the_index(env):
    """A delta naming a program the index does not hold was tried against an empty program (every field blank, as a
    delivery does) without a word, so "→ false" read as the rule being wrong rather than the program unknown. It has
    no value of the program: a rule reading one is not evaluated, as on its delivery, and the dry run says why."""
    program_id = indexed(env)
    absent = dry_run(env, {"type": "program.delta", "data": {"program_id": ABSENT, "change": "updated"}})
    assert absent.status_code == 200 and absent.json["holds"] is None and absent.json["error"] is None, absent.json
    assert ABSENT in absent.json["program_missing"] and "not in the index" in absent.json["program_missing"]
    assert absent.json["no_value"] == f"not evaluated: no value for program.name: program {ABSENT} is not in the index"
    found = dry_run(env, {"type": "program.delta", "data": {"program_id": program_id, "change": "updated"}})
    assert found.json["holds"] is True and found.json["program_missing"] is None, found.json
    assert found.json["no_value"] is None, found.json
    unnamed = dry_run(env, {"type": "program.delta", "data": {"change": "updated"}})
    assert "names no program_id" in unnamed.json["program_missing"], unnamed.json
    assert unnamed.json["no_value"].endswith("the delta names no program"), unnamed.json
    quiet = dry_run(env, {"type": "key.expiring", "data": {"path": "connections/awin"}})
    assert quiet.json["program_missing"] is None, quiet.json  # a key event has no program to miss

    event = env["path"] / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": {"program_id": ABSENT}}))
    result, said = amx_test(env, "named", "--event", str(event))
    assert result.exit_code == 0 and f"program {ABSENT} is not in the index" in said, (said, result.exception)
    assert "→ not evaluated, no action: no value for program.name" in said, said


STRUCTURED = {"specversion": "1.0", "id": "d-1", "source": "/index", "type": DELTA, "time": "2026-11-22T06:00:00Z",
              "subject": "p", "datacontenttype": "application/json", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16
              + "-01", "knativearrivaltime": "2026-11-22T06:00:01Z"}


def test_a_dry_run_takes_a_structured_cloudevent(env):
    """A CloudEvent in structured mode, as the Broker carries it and tools print it, was refused: `specversion`
    (then its extensions) read as unknown fields. It is taken, its type held to the triggers as any event's."""
    program_id = indexed(env)
    taken = dry_run(env, {**STRUCTURED, "data": {"program_id": program_id, "change": "updated"}})
    assert taken.status_code == 200 and taken.json["holds"] is True, taken.json
    assert taken.json["inputs"]["event_id"] == "d-1" and taken.json["triggered_by_this_event"] is True
    for change, named in (({"type": "com.example.order.placed"}, "triggers no rule"),
                          ({"specversion": "0.3"}, "specversion"),
                          ({"datacontenttype": "text/plain"}, "datacontenttype"),
                          ({"data_base64": "e30="}, "data_base64"),
                          ({"Bad-Name": "x"}, "Bad-Name")):
        refused = dry_run(env, {**STRUCTURED, "data": {"program_id": program_id}, **change})
        assert refused.status_code == 400 and named in refused.json["error"]["message"], (change, refused.json)
    bare = dry_run(env, {"type": "program.delta", "traceparent": STRUCTURED["traceparent"], "data": {}})
    # no specversion: a trial event, whose unknown field is a mistake, not an extension
    assert bare.status_code == 400 and "traceparent" in bare.json["error"]["message"], bare.json

    event = env["path"] / "event.json"
    event.write_text(json.dumps({**STRUCTURED, "data": {"program_id": program_id}}))
    result, said = amx_test(env, "named", "--event", str(event))
    assert result.exit_code == 0 and "→ true: would dispatch alert" in said, (said, result.exception)


def test_a_rule_is_dry_run_against_a_program_of_the_index_by_its_id(env):
    """There was no dry run against the programs indexed: a user had to write a delta event by hand to see whether
    a rule would fire for a program. Given the program's id, the rule sees the context a delivery of the program's
    latest change builds (the engine's own), and an id the index does not hold is a 404 naming it."""
    program_id = indexed(env)
    client = function_client("triggers")
    tried = client.post(f"/rules/named/test/programs/{program_id}", headers=env["read"])
    assert tried.status_code == 200 and tried.json["holds"] is True, tried.json
    assert tried.json["inputs"]["program_id"] == program_id and tried.json["inputs"]["program_name"] == "Bluehost"
    assert tried.json["inputs"]["delta_id"], tried.json  # the program's latest recorded change: its creation
    assert tried.json["message"] == "Bluehost changed", tried.json
    missing = client.post(f"/rules/named/test/programs/{ABSENT}", headers=env["read"])
    assert missing.status_code == 404 and ABSENT in missing.json["error"]["message"], missing.json
    malformed = client.post("/rules/named/test/programs/bluehost", headers=env["read"])
    assert malformed.status_code == 400 and "program_id" in malformed.json["error"]["message"], malformed.json
    paths = client.get("/openapi.json").json["paths"]
    assert "post" in paths["/rules/{rule_id}/test/programs/{program_id}"], sorted(paths)

    result, said = amx_test(env, "named", "--program", program_id)
    assert result.exit_code == 0 and "→ true: would dispatch alert" in said and "Bluehost changed" in said, \
        (said, result.exception)
    result, said = amx_test(env, "named", "--program", ABSENT)
    assert result.exit_code != 0 and ABSENT in str(result.exception) + said, (said, result.exception)
    result, said = amx_test(env, "named")
    assert result.exit_code != 0 and "--event" in said + str(result.exception), (said, result.exception)


def test_a_delta_id_published_again_with_another_body_fires_the_rule_again_both_kept(env):
    """A program.delta id derived from the work, published again with other data, was skipped as a duplicate; worked,
    it fired under the first body's activation and action ids, so its activation was not recorded (the first one's
    kept) and its action passed for the first one's. It is its own trigger: both firings recorded, each dispatched.
    The same body again is a redelivery: nothing more."""
    from tests.support.events import deliver_event

    program_id = indexed(env)
    client = function_client("triggers")
    bodies = [{"id": "d1", "program_id": program_id, "change": "updated", "fields": [], "source": source}
              for source in ("awin", "cj")]
    for body in (*bodies, bodies[0], bodies[1]):
        assert deliver_event(client, "triggers", DELTA, body, id="delta-1").status_code == 204
    fired = client.get("/activations?rule_id=named", headers=env["read"]).json["items"]
    assert len(fired) == 2 and {a["decision"] for a in fired} == {"fired"}, fired
    assert len({a["id"] for a in fired}) == 2 and len({a["action_event_id"] for a in fired}) == 2, fired


@pytest.mark.parametrize("text,told", [
    ('{"type": "program.delta", "type": "rules.tick", "data": {}}', "the file gives the key 'type' twice"),
    ('{"type": "program.delta", "data": {"n": ' + "9" * 5000 + "}}", "the file holds a number too long"),
    ("{not json", "the file is not JSON (Expecting property name"),
])
def test_an_event_file_is_read_as_the_route_reads_a_body(env, text, told):
    """`amx rules test --event FILE` read the file with plain json: of a key given twice the last counted (the route
    refuses it, so the command tried another event than the API would), and a 5,000-digit number gave Python's
    advice to call sys.set_int_max_str_digits()."""
    event = env["path"] / "event.json"
    event.write_text(text)
    result, _ = amx_test(env, "named", "--event", str(event))
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and f"Invalid value for '--event': {told}" in shown, shown
    assert "set_int_max_str_digits" not in shown


def test_amx_rules_test_shows_a_webhook_as_its_host_as_amx_rules_show_does(env, tmp_path):
    """`amx rules show` shows a notify's webhook as its host, its address being a credential, but `amx rules test`
    printed it whole in what it would dispatch ("https://hooks.slack.com/services/T0/B0/s3cr3t")."""
    rule = tmp_path / "slack.json"
    rule.write_text(json.dumps({
        "id": "slack", "trigger": {"event": "program.delta"}, "condition": "true",
        "action": {"type": "notify", "params": {"webhook_url": "https://hooks.slack.com/services/T0/B0/s3cr3t",
                                                "text": "{program_name} changed"}}}))
    assert CliRunner().invoke(app, ["rules", "add", str(rule)]).exit_code == 0
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": {"program_id": ABSENT, "change": "updated"}}))
    result, said = amx_test(env, "slack", "--event", str(event))
    assert result.exit_code == 0 and ("would dispatch notify; Text: {program_name} changed; Webhook: "
                                    "https://hooks.slack.com/…") in said, said
    assert "s3cr3t" not in result.output


def file_refused(rule, monkeypatch, capsys) -> str:
    """What `amx rules add FILE` said of a file it read no rule document from: a usage error naming the file, in one
    line (the words after the file's name), as the `amx` entry point prints it."""
    from affiliate_matrix.cli import main

    monkeypatch.setattr("sys.argv", ["amx", "rules", "add", str(rule)])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main()
    said = capsys.readouterr().err
    prefix, suffix = f"error: Invalid value for 'path': {rule}: ", "; see amx rules add --help\n"
    assert exited.value.code == 2 and said.startswith(prefix) and said.endswith(suffix), said
    assert said.count("\n") == 1, said
    return said.removeprefix(prefix).removesuffix(suffix)


def test_a_rule_file_using_a_yaml_alias_is_refused_naming_it_before_it_is_expanded(env, tmp_path, monkeypatch, capsys):
    """`amx rules add FILE` read YAML with its aliases: a few lines of nested ones (a billion laughs) stand for
    billions of values, which checking the rule walked for hours, every byte of memory with them. A rule needs none."""
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
              *(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 3))]
    rule = tmp_path / "laughs.yaml"
    rule.write_text("laughs:\n" + "".join(f"  {line}\n" for line in laughs) + "id: laughs\ndescription: *a2\n")
    assert file_refused(rule, monkeypatch, capsys).startswith("the rule uses a YAML alias (*a0, line 3")
    assert CliRunner().invoke(app, ["rules", "show", "laughs"]).exit_code != 0  # nothing stored


@pytest.mark.parametrize("name, text", [
    ("rule.yaml", 'id: dup\ntrigger: {event: program.delta}\ncondition: "program.cookie_days < 30"\n'
                  'action: {type: alert, params: {text: x}}\ncondition: "true"\n'),
    ("rule.json", '{"id": "dup", "trigger": {"event": "program.delta"}, "condition": "program.cookie_days < 30",\n'
                  '"action": {"type": "alert", "params": {"text": "x"}}, "condition": "true"}'),
])
def test_a_rule_file_giving_a_key_twice_is_refused_naming_it(env, tmp_path, name, text, monkeypatch, capsys):
    """A rule file naming a key twice was taken with its last value, silently: whoever reviewed it read the first
    condition (short cookies), and the rule fired on every delta. A JSON body giving a key twice is refused so too."""
    rule = tmp_path / name
    rule.write_text(text)
    line = 5 if name == "rule.yaml" else 2
    assert file_refused(rule, monkeypatch, capsys) == f"the rule gives the key 'condition' twice (line {line})"
    assert CliRunner().invoke(app, ["rules", "show", "dup"]).exit_code != 0  # nothing stored


def test_a_rule_file_of_malformed_yaml_is_refused_in_one_line_naming_the_file_and_the_line(env, tmp_path,
                                                                                              monkeypatch, capsys):
    """`amx rules add` of malformed YAML printed PyYAML's error, six lines quoting the text under carets, each "in
    "<unicode string>"", naming no file: one line names the file, the line and column and what is wrong."""
    rule = tmp_path / "bad.yaml"
    rule.write_text("id: r1\nfoo: [bar\n  baz: 1\n")
    assert file_refused(rule, monkeypatch, capsys) == (
        "the rule is not valid YAML/JSON: line 3, column 6: expected ',' or ']', but got ':' (while parsing a flow "
        "sequence begun on line 2)")
    rule.write_text("id: r1\ndescription: a\x07\n")  # a character no YAML takes: where, as PyYAML counts it
    assert file_refused(rule, monkeypatch, capsys) == (
        "the rule is not valid YAML/JSON: line 2, column 15: U+0007: special characters are not allowed")


def test_a_rule_file_holding_a_number_of_thousands_of_digits_is_refused_in_our_words(env, tmp_path, monkeypatch, capsys):
    """YAML's integer was read by int(), whose refusal past 4,300 digits told the operator to call
    sys.set_int_max_str_digits(), as a JSON body's did before it was refused in our words."""
    rule = tmp_path / "long.yaml"
    rule.write_text('id: long\ntrigger: {event: program.delta}\ncondition: "true"\n'
                    "action: {type: alert, params: {text: x}}\ncooldown_s: " + "9" * 5000 + "\n")
    assert file_refused(rule, monkeypatch, capsys) == "the rule holds a number too long: 5,000 digits, where a number has at most 4,300"


@pytest.mark.parametrize("number", ["0x" + "F" * 4000, "-0x" + "f" * 4000, "0x" + "F" * 3600])
def test_a_rule_file_holding_a_number_of_thousands_of_digits_in_another_base_is_refused_too(env, tmp_path, number, monkeypatch, capsys):
    """YAML reads hexadecimal integers too: 4,000 hexadecimal digits passed the count of the characters written and
    made a number of over 4,800 decimal digits, which writing the rule refused in Python's words, telling the operator
    to call sys.set_int_max_str_digits()."""
    rule = tmp_path / "long.yaml"
    rule.write_text('id: long\ntrigger: {event: program.delta}\ncondition: "true"\n'
                    "action: {type: alert, params: {text: x, severity: " + number + "}}\n")
    assert file_refused(rule, monkeypatch, capsys) == (f"the rule holds a number too long: {number[:12]}… is over 4,300 digits, where a "
                                  "number has at most 4,300")


def test_a_rule_needing_a_value_the_program_does_not_have_neither_fires_nor_fails(env):
    """A program whose source never said its cookie read `cookie_days` 0, so "alert me on short cookies"
    (`program.cookie_days < 30`) fired, and sent its webhook, for every such program. Not evaluated now, on delivery
    (no activation, no failure counted: delivered more often than it takes to disable a failing rule, it stays
    enabled) and in the dry run, which names the field and the program; a program with the value is judged on it,
    and a has() guard decides. A condition that fails whatever the values still counts as a failure."""
    from affiliate_matrix.rules.state import FAILURES_TO_DISABLE
    from affiliate_matrix.rules.store import load_state
    from tests.support.events import deliver_event

    index = Index(env["path"])
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale"),
                record("affiliateprograms", "Brief Cookie", "https://briefcookie.com", commission_text="5% per sale",
                       cookie_text="7 day cookie"))
    ids = {program["name"]: program["id"] for program in index.programs()}
    assert {program["name"]: program["cookie_days"] for program in index.programs()} == \
        {"Bluehost": None, "Brief Cookie": 7}
    client = function_client("triggers")
    rt = Runtime("test", Settings(data_dir=env["path"]))
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    for rule_id, condition in (("short", "program.cookie_days < 30"),
                               ("guarded", "!has(program.cookie_days) || program.cookie_days < 30"),
                               ("typed", "program.cookie_days < 30 && event.data.source + 1 > 2")):
        rule = {"id": rule_id, "trigger": {"event": "program.delta"}, "condition": condition,
                "action": {"type": "alert", "params": {"text": "{program_name}"}}, "cooldown_s": 0}
        assert client.post("/rules", json=rule, headers=admin).status_code == 201, rule_id

    unsaid = client.post(f"/rules/short/test/programs/{ids['Bluehost']}", headers=env["read"]).json
    assert (unsaid["holds"], unsaid["error"], unsaid["would_dispatch"]) == (None, None, None), unsaid
    assert unsaid["no_value"] == f"not evaluated: no value for program.cookie_days: program {ids['Bluehost']} " \
                                 "(Bluehost) has none", unsaid
    said = client.post(f"/rules/short/test/programs/{ids['Brief Cookie']}", headers=env["read"]).json
    assert (said["holds"], said["no_value"]) == (True, None), said
    guarded = client.post(f"/rules/guarded/test/programs/{ids['Bluehost']}", headers=env["read"]).json
    assert (guarded["holds"], guarded["no_value"]) == (True, None), guarded
    typed = client.post(f"/rules/typed/test/programs/{ids['Bluehost']}", headers=env["read"]).json
    assert typed["error"].startswith("TypeError") and typed["no_value"] is None, typed
    result, printed = amx_test(env, "short", "--program", ids["Bluehost"])
    assert result.exit_code == 0 and "program.cookie_days < 30 → not evaluated, no action: no value for " \
        f"program.cookie_days: program {ids['Bluehost']} (Bluehost) has none" in printed, printed

    for n in range(FAILURES_TO_DISABLE + 1):
        for name, program_id in ids.items():
            data = {"id": f"d{n}{name}", "program_id": program_id, "change": "updated", "fields": [], "source": "s"}
            assert deliver_event(client, "triggers", DELTA, data, id=f"e{n}{name}").status_code == 204
    done = client.get("/activations?limit=100", headers=env["read"]).json["items"]
    fired = {(a["rule_id"], a["inputs"]["program_name"]) for a in done if a["decision"] == "fired"
             and a["rule_id"] != "named"}  # the fixture's rule, on the name
    assert fired == {("short", "Brief Cookie"), ("guarded", "Brief Cookie"), ("guarded", "Bluehost")}, done
    assert not [a for a in done if a["rule_id"] == "short" and a["decision"] != "fired"], done
    rules = {rule["id"]: rule for rule in client.get("/rules", headers=env["read"]).json["items"]}
    assert rules["short"]["enabled"] and not rules["typed"]["enabled"], rules  # a real error disables as it did
    assert load_state(rt.store, "short")[0].get("failures", 0) == 0
    assert "TypeError" in rules["typed"]["disabled_reason"], rules["typed"]


@pytest.mark.parametrize("data,told", [
    # a figure of the context's delta written into the event, which was tried as absent: "the delta has none"
    ({"program_id": ABSENT, "change": "updated", "commission_percent_new": 12},
     "event.data.commission_percent_new: not in a program.delta event's data, which holds id, program_id, change, "
     "fields, at, source, recorded_at (a changed field's old and new values are in fields, as {field, old, new})"),
    ({"program_id": ABSENT, "change": "raised"},
     "event.data.change: Input should be 'created', 'updated' or 'removed'"),
    ({"program_id": ABSENT, "fields": [{"field": "cookie", "old": 30, "new": 60}]},
     "event.data.fields.0.field: 'cookie' is no field a program.delta changes: one of name, kind,"),
    # a wrong type was a Python error: "ValueError: invalid literal for int() with base 10: 'thirty'"
    ({"program_id": ABSENT, "fields": [{"field": "cookie_days", "old": "thirty", "new": 60}]},
     "event.data.fields.0.old: Input should be a valid integer"),
    ({"program_id": ABSENT, "fields": [{"field": "commission", "old": None, "new": [
        {"type": "percent", "value_min": "ten"}]}]}, "event.data.fields.0.new.0.value_min: Input should be a valid "
                                                    "decimal"),
    ({"program_id": ABSENT, "fields": {"field": "commission"}}, "event.data.fields: Input should be a valid array"),
])
def test_a_dry_runs_delta_is_held_to_what_the_product_writes_naming_the_bad_field(env, data, told):
    """A program.delta's data of another shape than the product's (models.DeltaChange, each changed field's values of
    that field of a Program) was tried as if what it misnamed were absent, or failed as a Python error. It is refused,
    by the route and the command alike, naming the field and what it must be."""
    refused = dry_run(env, {"type": "program.delta", "data": data})
    assert refused.status_code == 400 and told in refused.json["error"]["message"], refused.json
    event = env["path"] / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": data}))
    result, said = amx_test(env, "named", "--event", str(event))
    shown = " ".join(said.replace("│", " ").split())
    assert result.exit_code == 2 and f"Invalid value for '--event': {told[:60]}" in shown, shown
    assert "invalid literal" not in shown and "the delta has none" not in shown, shown


@pytest.mark.parametrize("kind,data,told", [
    ("key.expiring", {"path": "connections/awin", "days": "seven"}, "event.data.days: Input should be a valid integer"),
    ("key.expiring", {"path": "connections/awin", "expires_in_days": 3}, "event.data.expires_in_days: not in a "
                                                                         "key.expiring event's data, which holds path, "
                                                                         "days, expires_at, rotation"),
    ("budget.pacing", {"campaign_id": "c1", "spent": "lots"}, "event.data.spent: Input should be a valid number"),
    ("budget.pacing", {"campaign_id": "c1", "direction": "sideways"}, "event.data.direction: Input should be 'over' "
                                                                      "or 'under'"),
])
def test_a_dry_runs_key_or_budget_event_is_held_to_what_the_product_writes(env, kind, data, told):
    """A key.expiring's days as text failed as "ValueError: invalid literal for int()"; each event's data is held to
    what its publisher writes."""
    refused = dry_run(env, {"type": kind, "data": data})
    assert refused.status_code == 400 and told in refused.json["error"]["message"], refused.json


def test_a_delta_the_product_published_is_taken_by_a_dry_run_whole(env):
    """The change feed's item, what the index function publishes as a program.delta, fits what a dry run takes."""
    index = Index(env["path"])
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="30% per sale",
                       cookie_text="60 days"))
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="40% per sale",
                       cookie_text="90 days", at=T2))
    changes = index.changes()
    assert {change["change"] for change in changes} == {"created", "updated"}, changes
    for change in changes:
        tried = dry_run(env, {"type": "program.delta", "data": change})
        assert tried.status_code == 200 and tried.json["holds"] is True, (change, tried.json)


def test_a_schedule_rule_is_dry_run_at_a_tick_as_its_tick_evaluates_it(env):
    """A schedule rule could not be dry-run: --event and --program both said it is triggered "by no event". --tick
    tries it at a tick of its schedule, `now` the tick (never the clock), as the tick's ping evaluates it."""
    rt = Runtime("test", Settings(data_dir=env["path"]))
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    rule = {"id": "nightly", "trigger": {"schedule": "0 6 * * *"},
            "condition": 'timestamp(now) < timestamp("2026-12-10T00:00:00Z")',
            "action": {"type": "alert", "params": {"text": "{rule_id} ran"}}, "cooldown_s": 0}
    assert function_client("triggers").post("/rules", json=rule, headers=admin).status_code == 201
    result, said = amx_test(env, "nightly", "--tick", "2026-12-07T06:00:00Z")
    assert result.exit_code == 0, (said, result.exception)
    assert said.startswith("tick: 2026-12-07T06:00:00Z, on a schedule: every day at 06:00 UTC (0 6 * * *)"), said
    assert '→ true: would dispatch alert; Text: {rule_id} ran message: nightly ran' in said, said
    result, said = amx_test(env, "nightly", "--tick", "2026-12-10T06:00:00+00:00")
    assert result.exit_code == 0 and said.endswith("→ false: no action"), said
    event = env["path"] / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": {}}))
    result, said = amx_test(env, "nightly", "--event", str(event))  # which says how to try it
    assert said.endswith("by no event (--tick TIME tries it at a tick): no action"), said


@pytest.mark.parametrize("rule,tick,told", [
    ("nightly", "2026-12-07T07:13:00Z", "2026-12-07T07:13:00Z is no tick of the schedule 0 6 * * * (UTC); its ticks "
                                        "nearest are 2026-12-07T06:00:00Z and 2026-12-08T06:00:00Z"),
    # a fraction of a second past a tick: the tick before it was named twice, the one after it not at all
    ("nightly", "2026-12-07T06:00:00.5Z", "2026-12-07T06:00:00.500000Z is no tick of the schedule 0 6 * * * (UTC); "
                                          "its ticks nearest are 2026-12-07T06:00:00Z and 2026-12-08T06:00:00Z"),
    ("nightly", "2026-12-07T06:00:00", "'2026-12-07T06:00:00' gives no zone: a schedule is in UTC, so end it in Z "
                                       "(2026-12-07T06:00:00Z)"),
    ("nightly", "2026-12-07T07:00:00+01:00", "is not in UTC: a schedule is, so give the time in UTC "
                                             "(2026-12-07T06:00:00Z)"),
    ("nightly", "tomorrow", "'tomorrow' is not an ISO 8601 time"),
    # forms Python's reader takes that RFC 3339 has not: a week date, no dashes, a space for T
    ("nightly", "2026-W50-1T06:00:00Z", "'2026-W50-1T06:00:00Z' is not an ISO 8601 time"),
    ("nightly", "20261207T060000Z", "'20261207T060000Z' is not an ISO 8601 time"),
    ("nightly", "2026-12-07 06:00:00Z", "'2026-12-07 06:00:00Z' is not an ISO 8601 time"),
    ("named", "2026-12-07T06:00:00Z", "rule named is triggered by an event (program.delta), not on a schedule"),
])
def test_a_tick_that_is_none_of_the_rules_is_refused_naming_why(env, rule, tick, told):
    """A time no tick of the rule's schedule (the ticks nearest named), not in UTC, or given to an event rule."""
    rt = Runtime("test", Settings(data_dir=env["path"]))
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    nightly = {"id": "nightly", "trigger": {"schedule": "0 6 * * *"}, "condition": "true",
               "action": {"type": "alert"}}
    assert function_client("triggers").post("/rules", json=nightly, headers=admin).status_code == 201
    result, said = amx_test(env, rule, "--tick", tick)
    shown = " ".join(said.replace("│", " ").split())
    assert result.exit_code == 2 and "Invalid value for '--tick':" in shown and told in shown, shown


def test_a_schedule_rule_is_dry_run_at_a_tick_over_http_as_amx_rules_test_tick_does(env):
    """--tick had no route: a client of the API could not try a schedule rule at all (POST /rules/{id}/test and its
    programs' route say it is triggered by no event). POST /rules/{id}/test/tick takes the tick's time, read as --tick
    reads it, and answers the verdict --tick prints; the time decides, never the clock."""
    rt = Runtime("test", Settings(data_dir=env["path"]))
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    rule = {"id": "nightly", "trigger": {"schedule": "0 6 * * *"},
            "condition": 'timestamp(now) < timestamp("2026-12-10T00:00:00Z")',
            "action": {"type": "alert", "params": {"text": "{rule_id} ran"}}, "cooldown_s": 0}
    client = function_client("triggers")
    assert client.post("/rules", json=rule, headers=admin).status_code == 201

    def tried(body: dict, rule_id: str = "nightly", headers: dict | None = None):
        return client.post(f"/rules/{rule_id}/test/tick", json=body,
                           headers=env["read"] if headers is None else headers)

    held = tried({"tick": "2026-12-07T06:00:00Z"})
    assert held.status_code == 200 and held.json["holds"] is True and held.json["triggered_by_this_event"], held.json
    assert held.json["would_dispatch"] == {"type": "alert", "params": {"text": "{rule_id} ran"}}, held.json
    assert held.json["message"] == "nightly ran" and held.json["error"] is None, held.json
    assert tried({"tick": "2026-12-10T06:00:00+00:00"}).json["holds"] is False  # `now` the tick, past the date
    for tick, told in [
            ("2026-12-07T06:00:00", "tick: '2026-12-07T06:00:00' gives no zone: a schedule is in UTC, so end it in Z "
                                    "(2026-12-07T06:00:00Z)"),
            ("2026-12-07T07:00:00+01:00", "tick: '2026-12-07T07:00:00+01:00' is not in UTC: a schedule is, so give "
                                          "the time in UTC (2026-12-07T06:00:00Z)"),
            ("tomorrow", "tick: 'tomorrow' is not an ISO 8601 time (2026-12-07T06:00:00Z)"),
            ("2026-12-07T07:13:00Z", "tick: 2026-12-07T07:13:00Z is no tick of the schedule 0 6 * * * (UTC); its ticks "
                                     "nearest are 2026-12-07T06:00:00Z and 2026-12-08T06:00:00Z")]:
        refused = tried({"tick": tick})
        assert refused.status_code == 400 and refused.json["error"]["message"] == told, (tick, refused.json)
    for tick in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:00Z"):  # no tick before or after within datetime's years
        edge = tried({"tick": tick})
        assert edge.status_code == 400 and "is no tick of the schedule" in edge.json["error"]["message"], edge.json
    assert tried({}).status_code == 400 and "tick" in tried({}).json["error"]["message"]
    from affiliate_matrix.rules.model import Rule
    from affiliate_matrix.rules.store import save_rule

    save_rule(rt.store, Rule(id="unreadable", trigger={"schedule": "61 * * * *"}, condition="true",
                             action={"type": "alert"}), create=True)  # stored past the write's check (a hand edit)
    unreadable = tried({"tick": "2026-12-07T06:00:00Z"}, "unreadable")
    assert unreadable.status_code == 400 and unreadable.json["error"]["message"] == (
        "tick: rule unreadable's trigger.schedule '61 * * * *' cannot be read, so it has no tick: its minute field "
        "'61' is wrong: a minute is 0 to 59"), unreadable.json
    assert tried({"tick": 1765087200}).status_code == 400  # a time is text, as every time the API takes
    event_rule = tried({"tick": "2026-12-07T06:00:00Z"}, "named")
    assert event_rule.status_code == 400 and event_rule.json["error"]["message"] == (
        "tick: rule named is triggered by an event (program.delta), not on a schedule: it has no tick"), event_rule.json
    assert tried({"tick": "2026-12-07T06:00:00Z"}, "absent").status_code == 404
    assert tried({"tick": "2026-12-07T06:00:00Z"}, headers={}).status_code == 401  # authenticated as the rest
    document = client.get("/openapi.json").json  # generated from the route table, as every route's
    body = document["paths"]["/rules/{rule_id}/test/tick"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/TickTrial"}, body
    assert document["components"]["schemas"]["TickTrial"]["required"] == ["tick"]
