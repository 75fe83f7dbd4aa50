"""`amx keys add` takes secret values from standard input or a hidden prompt, never from argv, and
`amx keys rotate` exits 2 when a rotation fails and is put back."""

import json
import os
import pty
import subprocess

from affiliate_matrix.config import Settings
from affiliate_matrix.secrets.local import LocalSecretStore
from tests.support.processes import BIN

TOKEN = "sk_live_from-stdin-0123456789"


def amx(*args, cwd, stdin=None):
    return subprocess.run([str(BIN / "amx"), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          input=stdin)


def stored(tmp_path, path: str) -> dict:
    return LocalSecretStore(Settings(data_dir=tmp_path / ".amx").data_dir / "secrets.json").read(path).data


def test_a_keys_path_in_help_names_every_folder_a_key_is_added_under():
    """`amx keys add --help` said a key's path was connections/NAME alone, where a search provider's is discovery/brave
    (README's demo adds one) and a webhook's webhooks/NAME: each folder keys.py takes is named."""
    from typer.testing import CliRunner

    from affiliate_matrix.cli import app
    from affiliate_matrix.secrets.access import KEY_FOLDERS

    for command in ("add", "rotate", "revoke"):
        said = " ".join(CliRunner().invoke(app, ["keys", command, "--help"], env={"COLUMNS": "200"}).output.split())
        assert all(f"{folder}/" in said for folder in KEY_FOLDERS) and "discovery/brave" in said, (command, said)


def test_named_fields_are_read_one_line_each_from_standard_input(tmp_path):
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token",
                 "--field", "publisher_id", cwd=tmp_path, stdin=f"{TOKEN}\n123456\n")
    assert result.returncode == 0, result.stderr
    assert stored(tmp_path, "connections/awin") == {"api_token": TOKEN, "publisher_id": "123456"}
    assert TOKEN not in result.stdout + result.stderr


def test_a_sources_key_with_no_field_named_is_read_as_the_fields_the_source_reads(tmp_path):
    """`amx keys add … --source impact` with no --field was refused ("give a JSON object on standard input, or name the
    fields with --field"; at a terminal "e.g. --field api_token"), though the source says which fields its key holds."""
    result = amx("keys", "add", "connections/impact", "--rotation", "manual", "--source", "impact", cwd=tmp_path,
                 stdin=f"IRtestSID\n{TOKEN}\n")
    assert result.returncode == 0, result.stderr
    assert stored(tmp_path, "connections/impact") == {"account_sid": "IRtestSID", "auth_token": TOKEN}
    empty = amx("keys", "add", "connections/none", "--rotation", "manual", "--source", "impact", cwd=tmp_path,
                stdin="{}")
    said = " ".join(empty.stderr.replace("│", " ").split())
    assert empty.returncode == 2 and "a key of source 'impact' holds account_sid, auth_token" in said, said


def test_a_json_object_on_standard_input_gives_every_field(tmp_path):
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", cwd=tmp_path,
                 stdin=json.dumps({"api_token": TOKEN, "publisher_id": 123456}))
    assert result.returncode == 0, result.stderr
    assert stored(tmp_path, "connections/awin") == {"api_token": TOKEN, "publisher_id": "123456"}


def test_a_value_on_the_command_line_is_refused_and_not_stored(tmp_path):
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", f"api_token={TOKEN}",
                 cwd=tmp_path, stdin="")
    assert result.returncode == 2 and "name the field only" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_a_json_object_nested_too_deeply_on_standard_input_is_refused_naming_that(tmp_path):
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", cwd=tmp_path,
                 stdin='{"api_token": ' + "[" * 30_000 + "]" * 30_000 + "}")  # RecursionError raised out before
    said = " ".join(result.stderr.replace("│", " ").split())  # as one line, out of typer's box
    assert result.returncode == 2 and "nested too deeply" in said and "Traceback" not in said
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_standard_input_must_give_one_line_per_named_field(tmp_path):
    """Said "error: Invalid value: standard input has …": Click's words for a bad value of an option, naming none
    (standard input is no option). The error says what was wrong with standard input, on one line."""
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token",
                 "--field", "publisher_id", cwd=tmp_path, stdin=f"{TOKEN}\n")
    assert result.returncode == 2 and result.stderr == (
        "error: standard input has 1 line(s) for 2 field(s) (api_token, publisher_id): one line per field, in that "
        "order; see amx keys add --help\n"), result.stderr
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_a_json_object_giving_fields_not_named_is_refused_naming_them(tmp_path):
    """`--field api_token` fed a JSON object holding publisher_id too stored api_token alone, dropping publisher_id
    without a word, where a line too many is refused."""
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
                 stdin=json.dumps({"api_token": TOKEN, "publisher_id": "123456", "region": "eu"}))
    said = " ".join(result.stderr.replace("│", " ").split())
    assert result.returncode == 2, said
    assert "standard input gives 'publisher_id', 'region', not named with --field (api_token)" in said, said
    assert TOKEN not in result.stdout + result.stderr
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_at_a_terminal_each_field_is_asked_for_without_echo(tmp_path):
    pid, terminal = pty.fork()  # amx with a real terminal as its controlling tty, as a person runs it
    if pid == 0:
        os.chdir(tmp_path)
        os.execv(str(BIN / "amx"), [str(BIN / "amx"), "keys", "add", "connections/awin", "--rotation", "manual",
                                    "--field", "api_token"])
    seen = b""
    while b"api_token: " not in seen:
        seen += os.read(terminal, 1024)
    os.write(terminal, f"{TOKEN}\n".encode())
    while True:
        try:
            chunk = os.read(terminal, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert TOKEN.encode() not in seen  # not echoed
    assert stored(tmp_path, "connections/awin") == {"api_token": TOKEN}


def test_a_rotation_that_fails_exits_2_with_the_old_key_live(tmp_path):
    added = amx("keys", "add", "connections/awin", "--rotation", "generate", "--generate", "api_token",
                "--source", "awin", "--field", "api_token", "--field", "publisher_id", cwd=tmp_path,
                stdin=f"{TOKEN}\n123456\n")
    assert added.returncode == 0, added.stderr
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.storage.local import LocalObjectStore

    save_connection(LocalObjectStore(tmp_path / ".amx" / "objects"),  # nothing listens there: its test fails
                    Connection(id="aw", source="awin", base_url="http://127.0.0.1:9/",
                               credentials_path="connections/awin"))
    rotated = amx("keys", "rotate", "connections/awin", cwd=tmp_path)
    assert rotated.returncode == 2 and "rolled back" in rotated.stderr, rotated.stderr
    assert stored(tmp_path, "connections/awin")["api_token"] == TOKEN


def test_a_number_is_stored_as_written_and_a_number_json_cannot_hold_is_refused(tmp_path):
    long_id = "9" * 5000  # past Python's 4,300 digits of int(): an AttributeError out of the error message before
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", cwd=tmp_path,
                 stdin='{"api_token": %s, "publisher_id": 1.50}' % long_id)
    assert result.returncode == 0, result.stderr
    assert stored(tmp_path, "connections/awin") == {"api_token": long_id, "publisher_id": "1.50"}
    for value in ("NaN", "Infinity", "-Infinity"):  # stored as "nan" and "inf" before
        result = amx("keys", "add", f"connections/{value.lower()}", "--rotation", "manual", cwd=tmp_path,
                     stdin='{"api_token": %s}' % value)
        said = " ".join(result.stderr.replace("│", " ").split())
        assert result.returncode == 2 and f"{value} is not a value a key can hold" in said, said
        assert "Traceback" not in said
    assert set(json.loads((tmp_path / ".amx" / "secrets.json").read_text())) == {"connections/awin"}


def test_a_value_that_is_not_utf8_text_is_refused_naming_its_field(tmp_path):
    for stdin in (b'{"api_token": "\\ud800"}', b"\xff\xfeoken\n"):  # a lone surrogate; bytes of no UTF-8 text
        result = subprocess.run([str(BIN / "amx"), "keys", "add", "connections/awin", "--rotation", "manual",
                                 "--field", "api_token"], cwd=tmp_path, capture_output=True, timeout=120,
                                input=stdin)
        said = " ".join(result.stderr.decode(errors="replace").replace("│", " ").split())
        assert result.returncode == 2 and "api_token: the value is not UTF-8 text" in said, said
        assert "Traceback" not in said
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def said(result) -> str:
    return " ".join(result.stderr.replace("│", " ").split())  # one line, out of typer's box


def test_a_value_no_request_can_carry_is_refused_naming_its_field(tmp_path):
    """An empty value (at the prompt, or as a JSON object's ""), a blank one, one with a line break inside or a space
    at its end was stored, and failed only at its connection's first sync, as a request that could not be sent. A line
    separator, a bidi control or a zero-width space pasted with a key was stored as the key (only controls were
    refused): the provider refused it as no key of its own."""
    for stdin, problem in (('{"api_token": ""}', "is empty"), ('{"api_token": "   "}', "is empty"), ("  \n", "is empty"),
                           ('{"api_token": "%s\\n%s"}' % (TOKEN, TOKEN), "holds U+000A, a line break"),
                           ('{"api_token": "%s\\u2028%s"}' % (TOKEN, TOKEN), "holds U+2028, a line break"),
                           ('{"api_token": "%s\\u202e%s"}' % (TOKEN, TOKEN), "holds U+202E"),
                           ('{"api_token": "%s\\u200b"}' % TOKEN, "holds U+200B"),
                           (f"{TOKEN} \n", "begins or ends with whitespace"), ("\n", "is empty")):
        result = amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
                     stdin=stdin)
        assert result.returncode == 2 and f"api_token: the value {problem}" in said(result), (stdin, said(result))
        assert TOKEN not in result.stdout + result.stderr
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_a_field_given_twice_in_a_json_object_is_refused(tmp_path):
    """Python's parser kept the last of two same-named fields without a word: the key stored was not the one meant."""
    result = amx("keys", "add", "connections/awin", "--rotation", "manual", cwd=tmp_path,
                 stdin='{"api_token": "%s", "api_token": "other-token-1234"}' % TOKEN)
    assert result.returncode == 2 and "gives the field 'api_token' twice" in said(result), said(result)
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_a_key_whose_rotation_cannot_rotate_it_is_refused_before_its_values_are_read(tmp_path):
    """`--rotation generate` with no field to mint was stored, and each rotation then wrote the same key again with a
    later expiry; `--rotation provider` with no source, or a source that mints no keys, failed at its first rotation
    (with no source: "unknown source ''")."""
    for options, words in ((["--rotation", "generate"], "names no field to mint"),
                           (["--rotation", "provider"], "names no source"),
                           (["--rotation", "provider", "--source", "cj"], "source 'cj' offers no provider rotation"),
                           (["--rotation", "manual", "--generate", "api_token"], "fields to mint (--generate) are for")):
        result = amx("keys", "add", "connections/cj", *options, "--field", "api_token", "--field", "requestor_cid",
                     cwd=tmp_path, stdin="")  # no values given: refused before they are asked for
        assert result.returncode == 2 and words in said(result), (options, said(result))
    assert not (tmp_path / ".amx" / "secrets.json").exists()


def test_a_key_added_where_one_is_stored_is_refused_saying_what_to_do(tmp_path):
    """Was "conflict: secret 'connections/awin' is at version 1, not 0": the secret store's check-and-set."""
    assert amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
               stdin=f"{TOKEN}\n").returncode == 0
    again = amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
                stdin="other-token-1234\n")
    assert again.returncode == 2 and "a key is stored at 'connections/awin' already" in said(again), said(again)
    assert "amx keys rotate" in said(again) and "not 0" not in said(again)
    assert stored(tmp_path, "connections/awin") == {"api_token": TOKEN}


def test_a_key_just_added_has_its_whole_lifetime_left(tmp_path):
    """`amx keys status` said 89 days left of a 90-day key just added (a whole day short of the expiry date shown)."""
    assert amx("keys", "add", "connections/awin", "--rotation", "manual", "--lifetime-days", "30", "--field",
               "api_token", cwd=tmp_path, stdin=f"{TOKEN}\n").returncode == 0
    status = subprocess.run([str(BIN / "amx"), "keys", "status"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    [row] = [line for line in status.stdout.splitlines() if "connections/awin" in line]
    assert [cell.strip() for cell in row.split("│")][5] == "30", status.stdout


def test_a_revoked_key_shows_no_expiry_or_days_left(tmp_path):
    """`amx keys status` showed a revoked key as "revoked", its expiry date and "90" days left: still valid that long."""
    assert amx("keys", "add", "connections/awin", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
               stdin=f"{TOKEN}\n").returncode == 0
    assert amx("keys", "revoke", "connections/awin", cwd=tmp_path).returncode == 0
    status = subprocess.run([str(BIN / "amx"), "keys", "status"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    [row] = [line for line in status.stdout.splitlines() if "connections/awin" in line]
    assert [cell.strip() for cell in row.split("│")][3:6] == ["revoked", "—", "—"], status.stdout


def test_a_manual_key_is_rotated_with_the_new_values_a_person_gives(tmp_path, monkeypatch):
    """The README's `amx keys rotate connections/awin-main`, right after adding that key with `--rotation manual`, said
    only "rotates manually: a person replaces it at the provider": a new key from the provider could be stored only by
    revoking the old one (a compromise: every connection marked unhealthy) and adding it again. Its new values are
    given now, as `keys add` takes them, checked with every connection using it, and the old version destroyed."""
    new, newer = "sk_live_replaced-at-the-provider-1", "sk_live_replaced-again-2"
    monkeypatch.setenv("COLUMNS", "200")  # its lines unwrapped
    assert amx("keys", "add", "connections/awin", "--rotation", "manual", "--source", "awin", "--field", "api_token",
               "--field", "publisher_id", cwd=tmp_path, stdin=f"{TOKEN}\n123456\n").returncode == 0
    rotated = amx("keys", "rotate", "connections/awin", "--field", "api_token", cwd=tmp_path, stdin=f"{new}\n")
    assert rotated.returncode == 0, said(rotated)
    # nothing depends on it, so nothing checked the new values: said plainly, not left for a person to assume
    assert "now version 2, no connection depends on it, so none verified the new key" in rotated.stdout, said(rotated)
    assert stored(tmp_path, "connections/awin") == {"api_token": new, "publisher_id": "123456"}
    store = LocalSecretStore(Settings(data_dir=tmp_path / ".amx").data_dir / "secrets.json")
    assert store.metadata("connections/awin").versions[1]["destroyed"]
    as_json = amx("keys", "rotate", "connections/awin", cwd=tmp_path, stdin=json.dumps({"api_token": newer}))
    assert as_json.returncode == 0 and stored(tmp_path, "connections/awin")["api_token"] == newer, said(as_json)
    for stdin, words in ((json.dumps({"api_token": newer}), "the values given are the ones it holds"),
                         (json.dumps({"api_tokn": new}), "no field 'api_tokn'")):
        refused = amx("keys", "rotate", "connections/awin", cwd=tmp_path, stdin=stdin)
        assert refused.returncode == 2 and words in said(refused), said(refused)
    assert stored(tmp_path, "connections/awin")["api_token"] == newer
    for output in (rotated, as_json):
        assert new not in output.stdout + output.stderr and newer not in output.stdout + output.stderr


def test_a_rotation_names_the_connections_that_verified_the_new_key(tmp_path, monkeypatch):
    """It said only "now version 2": which connections had tested the new key, if any, was left to guess."""
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import RECORDED_CREDENTIALS, recorded_sites
    from affiliate_matrix.storage.local import LocalObjectStore

    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")  # the recorded CJ API answers on a loopback address
    monkeypatch.setenv("COLUMNS", "200")
    cj = RECORDED_CREDENTIALS["cj"]
    assert amx("keys", "add", "connections/cj", "--rotation", "manual", "--source", "cj", "--field", "api_token",
               "--field", "requestor_cid", cwd=tmp_path, stdin=f"{TOKEN}\n{cj['requestor_cid']}\n").returncode == 0
    with recorded_sites("cj") as urls:
        store = LocalObjectStore(tmp_path / ".amx" / "objects")
        for name in ("cj-us", "cj-eu"):
            save_connection(store, Connection(id=name, source="cj", base_url=urls["cj"],
                                              credentials_path="connections/cj"))
        # the provider's new token, the one the recorded API accepts
        rotated = amx("keys", "rotate", "connections/cj", "--field", "api_token", cwd=tmp_path,
                      stdin=cj["api_token"] + "\n")
    assert rotated.returncode == 0, said(rotated)
    assert "now version 2, verified by 2 connections: cj-eu, cj-us" in rotated.stdout, said(rotated)


def test_a_manual_key_whose_new_values_fail_a_connection_s_test_is_put_back(tmp_path):
    assert amx("keys", "add", "connections/awin", "--rotation", "manual", "--source", "awin", "--field", "api_token",
               "--field", "publisher_id", cwd=tmp_path, stdin=f"{TOKEN}\n123456\n").returncode == 0
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.storage.local import LocalObjectStore

    save_connection(LocalObjectStore(tmp_path / ".amx" / "objects"),  # nothing listens there: its test fails
                    Connection(id="aw", source="awin", base_url="http://127.0.0.1:9/",
                               credentials_path="connections/awin"))
    rotated = amx("keys", "rotate", "connections/awin", "--field", "api_token", cwd=tmp_path,
                  stdin="sk_live_mistyped-at-the-provider\n")
    assert rotated.returncode == 2 and "rolled back" in said(rotated), said(rotated)
    assert stored(tmp_path, "connections/awin") == {"api_token": TOKEN, "publisher_id": "123456"}


def test_status_names_a_key_it_cannot_read_and_why_and_exits_1(tmp_path):
    """A registered key whose secret is gone showed "NotFoundError" in its version column (an exception's class name),
    a damaged record was left out of the table unsaid but for a log line, and the command exited 0."""
    for path in ("connections/gone", "connections/damaged"):
        assert amx("keys", "add", path, "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
                   stdin=f"{TOKEN}\n").returncode == 0
    secrets_file = tmp_path / ".amx" / "secrets.json"
    secrets = json.loads(secrets_file.read_text())
    del secrets["connections/gone"]
    secrets_file.write_text(json.dumps(secrets))
    (tmp_path / ".amx" / "objects" / "keys" / "records" / "connections" / "damaged.json").write_text("{")
    status = subprocess.run([str(BIN / "amx"), "keys", "status"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert status.returncode == 1, (status.stdout, status.stderr)
    [row] = [line for line in status.stdout.splitlines() if "connections/gone" in line]
    assert [cell.strip() for cell in row.split("│")][3] == "missing", status.stdout
    assert "connections/gone: secret 'connections/gone' not found" in status.stderr, status.stderr
    assert "keys/records/connections/damaged.json is damaged" in status.stderr, status.stderr
    assert "Error" not in status.stdout


def test_a_key_is_not_added_among_the_api_tokens(tmp_path):
    """A key's path could be any path: one at api-tokens/<id> was listed by `amx tokens list` as an active API token
    of role "?"."""
    result = amx("keys", "add", "api-tokens/abcdef123456", "--rotation", "manual", "--field", "hash", cwd=tmp_path,
                 stdin=f"{TOKEN}\n")
    assert result.returncode == 2 and "api-tokens/ holds the API tokens" in said(result), said(result)
    assert not (tmp_path / ".amx" / "secrets.json").exists()
    assert "abcdef123456" not in amx("tokens", "list", cwd=tmp_path).stdout


def test_the_help_says_where_keys_are_kept_and_what_a_lifetime_is():
    """`amx keys --help` said the keys were in Vault (locally they are in secrets.json in AMX_DATA_DIR), and `--lifetime-days`
    was the one option of `keys add` with no word of what it does."""
    shown = subprocess.run([str(BIN / "amx"), "keys", "add", "--help"], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "COLUMNS": "300"}).stdout
    assert "Days until it expires" in shown, shown
    group = subprocess.run([str(BIN / "amx"), "keys", "--help"], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "COLUMNS": "300"}).stdout
    assert "secrets.json in AMX_DATA_DIR locally" in group, group


def test_a_key_whose_record_is_damaged_is_revoked_and_added_again(tmp_path):
    """A damaged key record stopped `amx keys revoke`, `rotate` and `add` alike with "invalid keyrecord: …", naming
    neither the record nor what to do, while `amx keys status` told the user to add the key again, which was refused:
    the key could be neither used, replaced nor revoked. Now the record is named with what to do, and revocation
    takes it (the key may be compromised all the same), leaving a revoked record the key is added again over."""
    assert amx("keys", "add", "connections/mine", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
               stdin=f"{TOKEN}\n").returncode == 0
    record = tmp_path / ".amx" / "objects" / "keys" / "records" / "connections" / "mine.json"
    record.write_text(record.read_text()[:40])
    rotated = amx("keys", "rotate", "connections/mine", cwd=tmp_path, stdin="sk_other_0123456789\n")
    assert rotated.returncode == 2 and "Traceback" not in said(rotated), said(rotated)
    assert "keys/records/connections/mine.json is damaged" in said(rotated), said(rotated)
    assert "revoke the key (amx keys revoke) and add it again" in said(rotated), said(rotated)
    revoked = amx("keys", "revoke", "connections/mine", cwd=tmp_path)
    assert revoked.returncode == 0, said(revoked)
    secrets = json.loads((tmp_path / ".amx" / "secrets.json").read_text())["connections/mine"]
    assert TOKEN not in json.dumps(secrets)  # its versions destroyed
    status = subprocess.run([str(BIN / "amx"), "keys", "status"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert status.returncode == 0 and "is damaged" not in status.stderr, (status.stdout, status.stderr)
    [row] = [line for line in status.stdout.splitlines() if "connections/mine" in line]
    assert [cell.strip() for cell in row.split("│")][2:4] == ["manual", "revoked"], status.stdout
    added = amx("keys", "add", "connections/mine", "--rotation", "manual", "--field", "api_token", cwd=tmp_path,
                stdin="sk_new_0123456789\n")
    assert added.returncode == 0, said(added)
    assert stored(tmp_path, "connections/mine") == {"api_token": "sk_new_0123456789"}
