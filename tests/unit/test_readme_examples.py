"""README's examples of a command's output are what the command prints: a reader compares them, and a program reading
the output is written from them."""

import re
from pathlib import Path

from typer.testing import CliRunner

from affiliate_matrix.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_budget_allocate_json_example_is_what_the_command_prints(tmp_path, monkeypatch):
    """README showed `amx budget allocate --json`'s answer spaced over two lines and its explanation cut short with
    "…", where the command prints one line of compact JSON: a reader's program splitting the output on lines, or
    comparing it, was written for another text."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    [(request, shown)] = re.findall(r"```sh\necho '(.*?)' \|\n  amx budget allocate --json\n```\n.*?```json\n(.*?)\n```",
                                   README.read_text(), flags=re.S)
    result = CliRunner().invoke(app, ["budget", "allocate", "--json"], input=request)
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.rstrip("\n") == shown
