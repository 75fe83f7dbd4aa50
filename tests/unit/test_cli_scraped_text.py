"""What the CLI prints from the index is the sources' text, shown as written: Rich reads "[...]" in a printed
string as markup, so a scraped name holding "[/]" raised MarkupError out of `amx search` and `amx show` (a
traceback), and "[link=...]" would have hidden a link behind other words."""

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from affiliate_matrix.config import Settings
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from tests.support.factories import make_program

HOSTILE = "Pay [/] Club [link=https://evil.example]x[/link] [red]"


def test_scraped_text_is_printed_as_written_not_as_markup(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: the name is not wrapped
    rt = Runtime("test", Settings(data_dir=tmp_path))
    program = make_program(HOSTILE, "https://payclub.example.com", commission_text="[bold]10%[/] [/] per sale")
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program)], refresh=True)
    for command in (["search"], ["show", program.id], ["compare", program.merchant_key]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert HOSTILE in result.output or "[link=https://evil.example]" in result.output, (command, result.output)


def test_a_rule_condition_and_the_event_it_is_tried_on_are_shown_as_written(tmp_path, monkeypatch):
    """`event.data[k] == 1` was listed as `event.data == 1` (Rich took [k] for a style), a condition holding
    [/tmp] raised MarkupError out of amx rules add and list, and a scraped program name in a dry run's inputs too."""
    import json

    from affiliate_matrix.events import PROGRAM_DELTA

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    program = make_program(HOSTILE, "https://payclub.example.com")
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program)], refresh=True)
    condition = '"source" in event.data && event.data["source"] != "[/tmp]"'
    rule = tmp_path / "rule.yaml"
    rule.write_text(json.dumps({"id": "brackets", "trigger": {"event": "program.delta"}, "condition": condition,
                                "action": {"type": "alert"}}))
    for command in (["rules", "add", str(rule)], ["rules", "list"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0 and condition in result.output, (command, result.output, result.exception)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"id": "e1", "source": "/index", "type": PROGRAM_DELTA, "time": "2026-11-22T06:00:00Z",
                                 "data": {"id": "d1", "program_id": program.id, "change": "updated", "fields": [],
                                          "source": "v"}}))
    result = CliRunner().invoke(app, ["rules", "test", "brackets", "--event", str(event)])
    assert result.exit_code == 0 and HOSTILE in result.output, (result.output, result.exception)
