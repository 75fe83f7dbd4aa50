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
