"""A rule as a person adds one: written to a file and given to `amx rules add`, the CLI run in-process; a notify
rule to a relay and its webhook key."""

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


def add_webhook_key(rt, path: str, data: dict | None = None, url: str = "https://relay.example.com/hook") -> None:
    """A webhook's key as amx keys add stores it: sent only to `url`'s origin."""
    from datetime import UTC, datetime

    from affiliate_matrix.keys import KeyRecord, add_key, origin

    add_key(rt, KeyRecord(path=path, rotation="manual", created_at=datetime(2026, 11, 21, tzinfo=UTC),
                          origins=[origin(url)]), data or {"value": "Bearer t0k3n-relay"})


def relay_rule(**params) -> dict:
    return {"id": "relay", "trigger": {"event": "key.expiring"}, "condition": "true",
            "action": {"type": "notify", "params": {"webhook_url": "https://relay.example.com/hook", **params}}}
