"""What `amx` prints of stored text (a program's name, a change) had its terminal controls written raw, but for a few
lines that escaped them one by one: a name holding an OSC sequence retitled the operator's terminal, and one holding
CSI 2J cleared it. Every command writes through one console now, which shows each control as its escape."""

import io
import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.deltas import to_document as delta_document
from affiliate_matrix.models import DeltaChange, FieldChange
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from tests.support.factories import make_program
from tests.support.indexing import BACKENDS, T1, Index, on_backend

NAME = "Evil\x1b]0;owned\x07 Shop\x1b[2J"  # retitles the terminal, then clears it
SHOWN = "Evil\\x1b]0;owned\\x07 Shop\\x1b[2J"


@pytest.fixture(params=BACKENDS)
def program_id(request, tmp_path, monkeypatch) -> str:
    """A program stored under NAME, and a change naming it (as an index restored from before names were cleaned, or
    written by another tool, holds them), on each search backend."""
    on_backend(request, tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "400")  # a command's table and lines unwrapped
    rt = Index(tmp_path).rt
    doc = to_document(make_program("Evil Shop", "https://evilshop.com"))
    doc = {**doc, "name": NAME, "program": {**doc["program"], "name": NAME}}
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    assert rt.index.bulk_upsert(PROGRAMS_INDEX.name, [doc], refresh=True).errors == []
    delta = delta_document(DeltaChange(id="d_1", program_id=doc["id"], change="updated", source="test", at=T1,
                                       fields=[FieldChange(field="name", old="Evil Shop", new=NAME)]), recorded_at=T1)
    assert rt.index.bulk_upsert(DELTAS_INDEX.name, [delta], refresh=True).errors == []
    return doc["id"]


def test_a_stored_name_holding_terminal_controls_is_printed_with_them_escaped_by_every_command(program_id):
    for command, times in ((["search", "Evil"], 1), (["show", program_id], 1), (["changes"], 2)):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
        assert not {"\x1b", "\x07"} & set(result.output), (command, result.output)
        assert result.output.count(SHOWN) == times, (command, result.output)


def test_the_consoles_own_styling_is_written_and_the_texts_controls_escaped_where_colours_are_on():
    from rich.markup import escape

    from affiliate_matrix.cli.common import ShownConsole

    console = ShownConsole(file=io.StringIO(), force_terminal=True, color_system="standard", width=200)
    console.print(f"[red]error:[/] {escape(NAME)}\nnext line", highlight=False)
    said = console.file.getvalue()
    assert "\x1b[31merror:\x1b[0m" in said  # Rich's own
    assert SHOWN in said and "\x1b]0;" not in said and "\x1b[2J" not in said and "\x07" not in said
    assert said.endswith(f"{SHOWN}\nnext line\n")  # a line feed is kept


# A name holding what JSON written as UTF-8 leaves raw too: CSI as one character (C1) and a bidi override
RAW_IN_JSON = "Evil\x9b2J Shop\u202e"


def stored_named(tmp_path, name: str) -> str:
    """A program stored under `name` in the embedded index at tmp_path, as program_id's; its id."""
    rt = Index(tmp_path).rt
    doc = to_document(make_program("Evil Shop", "https://evilshop.com"))
    doc = {**doc, "name": name, "program": {**doc["program"], "name": name}}
    rt.index.ensure_index(PROGRAMS_INDEX)
    assert rt.index.bulk_upsert(PROGRAMS_INDEX.name, [doc], refresh=True).errors == []
    return doc["id"]


def at_a_terminal(tmp_path, *args: str, stdin: str = "") -> str:
    """What `amx args` writes to its standard output where that is a terminal (a pseudo-terminal's), as read there."""
    import os
    import pty
    import subprocess

    from tests.support.processes import BIN

    leader, follower = pty.openpty()
    with subprocess.Popen([str(BIN / "amx"), *args], stdin=subprocess.PIPE, stdout=follower, stderr=subprocess.PIPE,
                          env={**os.environ, "AMX_DATA_DIR": str(tmp_path), "AMX_SEARCH": "sqlite"}) as process:
        os.close(follower)
        process.stdin.write(stdin.encode())
        process.stdin.close()
        said = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            said += chunk
        assert process.wait(timeout=120) == 0, process.stderr.read()
    os.close(leader)
    return said.decode()


def shown_as_exported(tmp_path, monkeypatch, fmt: str, said: str) -> None:
    """`said`, an export of the program stored_named stored under NAME + RAW_IN_JSON as a terminal showed it, holds none
    of its controls raw: a CSV each as the console shows it (\\x9b), JSON Lines each as JSON escapes it (\\u009b, where
    \\x9b is no JSON), so that the line shown, copied, parses as the program a pipe is given."""
    assert not {"\x1b", "\x07", "\x9b", "\u202e"} & set(said), said
    if fmt == "csv":
        assert "Evil\\x9b2J Shop\\u202e" in said and SHOWN in said, said
        return
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    piped = CliRunner().invoke(app, ["export", "programs", "--format", fmt])
    assert piped.exit_code == 0 and "\x9b" in piped.stdout, piped.output
    assert json.loads(said) == json.loads(piped.stdout), said
    assert json.loads(said)["name"] == NAME + RAW_IN_JSON, said


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_to_a_terminal_shows_each_control_of_a_name_as_its_escape(tmp_path, monkeypatch, fmt):
    """`amx export programs` wrote a program's name to the terminal as stored: the console's escaping was bypassed
    (an export writes to standard output itself), and CSV leaves every control raw, JSON the C1 and bidi ones."""
    stored_named(tmp_path, NAME + RAW_IN_JSON)
    shown_as_exported(tmp_path, monkeypatch, fmt, at_a_terminal(tmp_path, "export", "programs", "--format", fmt))


def test_json_shown_at_a_terminal_parses_as_the_data():
    """data_out(json=True) at a terminal escapes each control a terminal acts on as JSON does: the text shown parses
    as the data written, whatever control its strings hold; anything else keeps the console's escapes."""
    from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS,
                                             characters)
    from affiliate_matrix.cli.common import data_out

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    every = "".join(sorted(characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, BIDI_CONTROLS, LINE_SEPARATORS)))
    data = {"name": f"Shop{every}", every: [every, "\\x9b"]}
    for written in (json.dumps(data, ensure_ascii=False), json.dumps(data, ensure_ascii=False, indent=2)):
        terminal = Terminal()
        print(written, file=data_out(terminal, json=True))
        shown = terminal.getvalue()
        assert not set(every) - {"\t", "\n"} & set(shown), shown
        assert json.loads(shown) == data, shown
    terminal = Terminal()
    print("Evil\x9b2J", file=data_out(terminal))
    assert terminal.getvalue() == "Evil\\x9b2J\n"


def test_terms_json_of_a_scraped_text_holds_none_of_its_controls_raw(tmp_path):
    """`amx terms extract --json` prints the terms read of a page's text, quoting it as evidence: JSON (ASCII)
    escapes each control, ESC as \\u001b, at a terminal as to a pipe."""
    text = f"Earn 30% commission on every sale {NAME} {RAW_IN_JSON}"
    said = at_a_terminal(tmp_path, "terms", "extract", "--json", "-", stdin=text)
    assert not {"\x1b", "\x07", "\x9b", "\u202e"} & set(said) and "\\u001b" in said, said
    piped = CliRunner().invoke(app, ["terms", "extract", "--json", "-"], input=text)
    assert piped.exit_code == 0 and json.loads(piped.stdout) == json.loads(said), piped.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_to_a_pipe_is_the_file_byte_for_byte(tmp_path, monkeypatch, fmt):
    """Escaped at a terminal only: piped or redirected, the export is what --out writes, its controls as stored, and
    imports back (a name holding a control is refused where it is written, not by the export)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    stored_named(tmp_path, RAW_IN_JSON)
    piped = CliRunner().invoke(app, ["export", "programs", "--format", fmt])
    assert piped.exit_code == 0, piped.output
    written = CliRunner().invoke(app, ["export", "programs", "--out", str(tmp_path / f"programs.{fmt}")])
    assert written.exit_code == 0, written.output
    assert piped.stdout_bytes == (tmp_path / f"programs.{fmt}").read_bytes() and "\x9b" in piped.stdout, piped.stdout


def test_a_token_and_a_schema_are_printed_whole_to_a_pipe(tmp_path, monkeypatch):
    """What a command prints for a program to read, through data_out as an export: unchanged where it is no terminal."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    token = CliRunner().invoke(app, ["tokens", "create"])
    assert token.exit_code == 0 and token.stdout.startswith("amx_") and token.stdout.count("\n") == 1, token.output
    schema = CliRunner().invoke(app, ["flags", "schema"])
    assert schema.exit_code == 0 and json.loads(schema.stdout)["title"] == "FeatureFlagConfig", schema.output


# `amx export programs --out` naming a terminal (/dev/tty, /dev/stdout, /proc/self/fd/1, as a careless operator writes
# it): the export was written there raw, past data_out's escaping, and --format parquet wrote its binary to the
# terminal that `parquet is binary: give --out FILE` keeps it from.
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_out_to_a_terminal_shows_each_control_of_a_name_as_its_escape(tmp_path, monkeypatch, fmt):
    stored_named(tmp_path, NAME + RAW_IN_JSON)
    said = at_a_terminal(tmp_path, "export", "programs", "--format", fmt, "--out", "/proc/self/fd/1")
    shown_as_exported(tmp_path, monkeypatch, fmt, said)


def test_a_parquet_export_out_to_a_terminal_is_refused(tmp_path):
    stored_named(tmp_path, "Shop")
    with pytest.raises(AssertionError, match="parquet is binary"):
        at_a_terminal(tmp_path, "export", "programs", "--format", "parquet", "--out", "/proc/self/fd/1")
