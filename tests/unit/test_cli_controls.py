"""What `amx` prints of stored text (a program's name, a change) had its terminal controls written raw, but for a few
lines that escaped them one by one: a name holding an OSC sequence retitled the operator's terminal, and one holding
CSI 2J cleared it. Every command writes through one console now, which shows each control as its escape."""

import io

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
