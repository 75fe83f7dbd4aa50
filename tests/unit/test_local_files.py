"""The embedded backends' files as a local user's commands leave them: private, whole, never half-written."""

import os

from typer.testing import CliRunner

from affiliate_matrix.cli import app


def test_the_data_dir_is_private_whatever_the_umask(tmp_path, monkeypatch):
    """Under umask 0 the data directory was made 0777: any local user could rename secrets.json away and put a
    file of their own in its place (an admin token of theirs), or swap a connection document or the key set
    `amx up` signs events with. It and the folders made for it are 0700 now."""
    data_dir = tmp_path / "home" / "amx"
    monkeypatch.setenv("AMX_DATA_DIR", str(data_dir))
    old = os.umask(0)
    try:
        for command in (["tokens", "create"], ["rules", "list"], ["search"]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 0, (command, result.output, result.exception)
    finally:
        os.umask(old)
    for folder in (tmp_path / "home", data_dir):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert (data_dir / "secrets.json").stat().st_mode & 0o777 == 0o600
