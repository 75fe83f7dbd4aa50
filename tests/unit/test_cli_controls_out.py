"""`amx export programs --out` naming a terminal (/dev/tty, /dev/stdout, /proc/self/fd/1, as a careless operator
writes it): the export was written there raw, past data_out's escaping, and --format parquet wrote its binary to the
terminal that `parquet is binary: give --out FILE` keeps it from."""

import pytest

from tests.unit.test_cli_controls import NAME, RAW_IN_JSON, SHOWN, at_a_terminal, stored_named


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_out_to_a_terminal_shows_each_control_of_a_name_as_its_escape(tmp_path, fmt):
    stored_named(tmp_path, NAME + RAW_IN_JSON)
    said = at_a_terminal(tmp_path, "export", "programs", "--format", fmt, "--out", "/proc/self/fd/1")
    assert not {"\x1b", "\x07", "\x9b", "\u202e"} & set(said), said
    assert "Evil\\x9b2J Shop\\u202e" in said and (SHOWN in said if fmt == "csv" else
                                                   "Evil\\u001b]0;owned\\u0007 Shop" in said), said


def test_a_parquet_export_out_to_a_terminal_is_refused(tmp_path):
    stored_named(tmp_path, "Shop")
    with pytest.raises(AssertionError, match="parquet is binary"):
        at_a_terminal(tmp_path, "export", "programs", "--format", "parquet", "--out", "/proc/self/fd/1")
