"""`amx connections add` and `edit` say a connection's bounds and defaults as its model has them: a bound refused in
one wording by both (add said "invalid concurrency: …", edit "error: concurrency: …"), and add's help giving the
model's defaults (add wrote its own copy of them)."""

import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.connections import Connection
from tests.support.processes import BIN


def amx(tmp_path, *args: str):
    import subprocess

    return subprocess.run([str(BIN / "amx"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"AMX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--concurrency", "17", "Input should be less than or equal to 16"),
    ("--rate-limit-per-s", "51", "51.0 requests a second is outside 0.01 to 50 (at least one request every 100 s, at "
                                 "most 50 a second)"),
    ("--schedule", "0 3 * *", "'0 3 * *' is not a five-field cron expression"),
    # it quoted its pattern, '^connections/[a-zA-Z0-9_-]+(/[a-zA-Z0-9_-]+)*$'
    ("--credentials-path", "webhooks/x", "'webhooks/x' is not a key's path under connections/ (connections/NAME: "
                                         "letters, digits, '_' and '-', parts separated by '/', at most 200 "
                                         "characters), as amx keys add stores it"),
])
def test_add_and_edit_refuse_a_bound_in_one_wording_naming_the_option(tmp_path, option, value, said):
    """Both said the model's field bare ("error: concurrency: Input should be …"), not the option typed: each is a
    usage error naming the option, as the commands' other option errors are."""
    assert amx(tmp_path, "connections", "add", "ap", "--source", "affiliateprograms").returncode == 0
    added = amx(tmp_path, "connections", "add", "other", "--source", "affiliateprograms", option, value)
    edited = amx(tmp_path, "connections", "edit", "ap", option, value)
    for command, result in (("add", added), ("edit", edited)):
        assert (result.returncode, result.stderr) == (
            2, f"error: Invalid value for '{option}': {said}; see amx connections {command} --help\n"), result


def test_edit_changing_nothing_is_a_usage_error_naming_the_options_it_takes(tmp_path):
    """`amx connections edit ap` said "Invalid value for options: name a field to change (…)", as if an option named
    options had a bad value: no option is wrong, none was given, so it is a plain usage error."""
    assert amx(tmp_path, "connections", "add", "ap", "--source", "affiliateprograms").returncode == 0
    edited = amx(tmp_path, "connections", "edit", "ap")
    assert (edited.returncode, edited.stderr) == (2, "error: name a field to change (--base-url, --schedule, "
                                                     "--rate-limit-per-s, --credentials-path, --concurrency, "
                                                     "--enabled/--disabled); see amx connections edit --help\n"), edited


def test_edit_refuses_another_source_saying_to_add_a_connection(tmp_path):
    """A connection's source never changes (PATCH /connections/{id} refuses it in these words): `edit --source` said
    only "No such option", not what to do instead."""
    assert amx(tmp_path, "connections", "add", "ap", "--source", "affiliateprograms").returncode == 0
    edited = amx(tmp_path, "connections", "edit", "ap", "--source", "affiliatefix")
    assert (edited.returncode, edited.stderr) == (2, (
        "error: source: connection 'ap' is of source 'affiliateprograms', which never changes: what it collected is "
        "that source's; add a connection of source 'affiliatefix' (POST /connections, amx connections add) and delete "
        "this one\n")), edited
    stored = json.loads((tmp_path / "objects" / "connections" / "ap.json").read_text())
    assert (stored["source"], stored["version"]) == ("affiliateprograms", 0)


def test_adds_help_gives_the_models_defaults_and_a_connection_added_plain_has_them(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    helped = CliRunner().invoke(app, ["connections", "add", "--help"])
    assert helped.exit_code == 0, helped.output
    lines = {line.split()[1]: line for line in helped.output.splitlines() if line.split()[1:2] and
             line.split()[1].startswith("--")}
    model = Connection.model_fields
    for option, field in (("--schedule", "schedule"), ("--rate-limit-per-s", "rate_limit_per_s"),
                          ("--concurrency", "concurrency")):
        assert f"[default: {model[field].default}]" in lines[option], lines[option]
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    assert CliRunner().invoke(app, ["connections", "add", "ap", "--source", "affiliateprograms"]).exit_code == 0
    stored = json.loads((tmp_path / "objects" / "connections" / "ap.json").read_text())
    assert {field: stored[field] for field in ("schedule", "rate_limit_per_s", "concurrency")} == {
        field: model[field].default for field in ("schedule", "rate_limit_per_s", "concurrency")}
