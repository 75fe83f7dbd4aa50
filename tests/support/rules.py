"""A rule as a person adds one: written to a file and given to `amx rules add`, the CLI run in-process."""

import json
from pathlib import Path

from typer.testing import CliRunner

from affiliate_matrix.cli import app


def added_by_cli(folder: Path, rule: dict, *options: str) -> Path:
    """`rule` written as JSON to folder/rule.json and added by `amx rules add` with `options` (--replace); the file.
    The CLI's data folder is the environment's (AMX_DATA_DIR), as the test set it."""
    path = folder / "rule.json"
    path.write_text(json.dumps(rule))
    added = CliRunner().invoke(app, ["rules", "add", *options, str(path)])
    assert added.exit_code == 0, (added.output, added.exception)
    return path
