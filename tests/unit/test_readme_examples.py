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


def test_the_rules_example_fires_on_a_raise_and_not_on_a_program_new_to_the_index():
    """README's example rule, "gaming-commission-up", tested the commission's new percent against its old, which a
    created program's delta holds as 0: every gaming program entering the index (a sync, a discovery) notified "raised
    commission 0% → 20%". The example tests that the change is an update, as the demo's rule does."""
    from affiliate_matrix.rules.conditions import compile_condition, context_of
    from affiliate_matrix.rules.engine import delta_values
    from affiliate_matrix.rules.model import parse_rule

    [text] = re.findall(r"## Rules and triggers\n\nA rule is a YAML or JSON document:\n\n```yaml\n(.*?)```",
                        README.read_text(), flags=re.S)
    condition = compile_condition(parse_rule(text).condition)

    def holds(change: str, old: list, new: list) -> bool:
        delta = delta_values({"change": change, "fields": [{"field": "commission", "old": old, "new": new}]})
        return condition.execute(context_of({"program": {"categories": ["gaming"]}, "delta": delta}))

    percent = [{"type": "percent", "value_min": 20}]
    assert holds("updated", [{"type": "percent", "value_min": 10}], percent)
    assert not holds("created", None, percent)
