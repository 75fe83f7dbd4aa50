"""`amx` output a person reads: group help that wraps to the terminal, listings as fitted tables (nothing cut to "…",
a name shown as written), and `amx terms extract` in words with the sentences each value came from."""

import re

import click
import typer
from typer.testing import CliRunner

from affiliate_matrix.cli import app

TEXT = ("Earn 30% recurring commission on every sale. Cookie lasts 90 days. Minimum payout $50 via PayPal, paid "
        "monthly. No [bold]PPC[/] brand bidding.")


def is_group(command) -> bool:
    """Typer's groups are of the click it vendors (typer._click), no click.Group: `isinstance(…, click.Group)` found
    none but the root, and the tests walking every group walked `amx` alone."""
    return hasattr(command, "commands")


def groups(command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in command.commands.items():
        if is_group(sub):
            yield from groups(sub, (*path, name))


def broken_early(help_text: str) -> list[str]:
    """Lines of a Commands panel whose description ends before the terminal does though the next line's first word,
    of the same command, would have fitted: a line break kept from the docstring."""
    lines = [line for line in help_text.splitlines() if line.startswith("│ ")]
    found = []
    for above, below in zip(lines, lines[1:]):
        if below[2] != " ":  # the next line starts another command
            continue
        start = len(below) - len(below[2:].lstrip())
        room = len(above) - 2 - start  # the description column, up to the panel's right border
        said, next_word = above[start:-2].rstrip(), below[start:-2].split()[0]
        if len(said) + 1 + len(next_word) <= room:
            found.append(above.strip("│ "))
    return found


def test_every_groups_command_list_wraps_to_the_terminal_not_the_docstring():
    """`amx connections --help` listed `delete` with its docstring's line breaks, mid-sentence ("listed (a
    connection.deleted event, taken" then "here with…"); `amx budget campaigns --help` listed `list` with no words."""
    runner = CliRunner()
    for path, group in groups(typer.main.get_command(app)):
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"}, terminal_width=100)
        assert shown.exit_code == 0, shown.output
        assert broken_early(shown.output) == [], (path, shown.output)
        for name, command in group.commands.items():
            assert command.short_help or command.help, f"amx {' '.join(path)} {name} has no summary"


def test_no_help_gives_a_flag_a_value_or_a_repeatable_option_a_list():
    """Every --help showed a flag with a type as if it took a value (`--excel <bool>`, `--enabled --disabled <bool>`,
    `--help <bool>`): `amx export programs --excel true` was refused as an extra argument. A flag shows no type, and a
    repeatable option its one value's (`--country <list[str]>` read as if it took a list at once)."""
    runner = CliRunner()
    root = typer.main.get_command(app)
    commands = [(path, group) for path, group in groups(root)]
    commands += [((*path, name), command) for path, group in groups(root) for name, command in group.commands.items()
                 if not is_group(command)]
    for path, command in commands:
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
        assert shown.exit_code == 0, shown.output
        flags = ["--help", *(opt for param in command.params if getattr(param, "is_flag", False) for opt in param.opts)]
        rows = [line for line in shown.output.splitlines()
                if any(line.startswith("│ ") and line[2:].lstrip(" *").startswith(f"{flag} ") for flag in flags)]
        assert rows and not [row for row in rows if "<bool>" in row], (path, rows)
        assert "<list[" not in shown.output, (path, shown.output)


def test_every_commands_argument_says_what_it_is():
    """`amx connections edit --help` (test, delete, add), `amx rules show --help` (test, disable, delete), `amx index
    rollback`/`unlock` and `amx flags set` described their argument as "[required]" and nothing else."""
    def leaves(command, path=()):
        for name, sub in getattr(command, "commands", {}).items():
            yield from leaves(sub, (*path, name)) if is_group(sub) else [((*path, name), sub)]

    unsaid = [" ".join((*path, param.name)) for path, command in leaves(typer.main.get_command(app))
              for param in command.params if param.param_type_name == "argument" and not getattr(param, "help", None)]
    assert unsaid == []


def test_campaigns_list_fits_and_shows_a_name_as_written(tmp_path, monkeypatch):
    """`amx budget campaigns list` was a plain table: a name holding "[bold]" lost it to Rich's markup, and at 60
    columns every cell was cut to "…" (the campaign's id too, the value a person pastes into the next command)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(app, ["budget", "campaigns", "add", "spring-search-2027", "--name", "Spring [bold]sale[/]",
                                "--channel", "search", "--currency", "USD", "--min", "10.00", "--max", "250.00"])
    assert added.exit_code == 0, added.output
    wide = runner.invoke(app, ["budget", "campaigns", "list"], env={"COLUMNS": "200"})
    assert wide.exit_code == 0, wide.output
    header = next(line for line in wide.output.splitlines() if line.startswith("┃ id"))
    columns = [cell.strip() for cell in header.split("┃")[1:-1]]
    [row] = [dict(zip(columns, (cell.strip() for cell in line.split("│")[1:-1])))
             for line in wide.output.splitlines() if "spring-search-2027" in line]
    assert row == {"id": "spring-search-2027", "name": "Spring [bold]sale[/]", "channel": "search", "currency": "USD",
                   "min": "10.00", "max": "250.00", "days": "0", "active": "yes"}
    narrow = runner.invoke(app, ["budget", "campaigns", "list"], env={"COLUMNS": "60"})
    assert "spring-search-2027" in narrow.output and "…" not in narrow.output, narrow.output
    assert "(a wider terminal also shows:" in narrow.output


def test_flags_and_index_status_keep_their_names_whole_at_a_narrow_terminal(tmp_path, monkeypatch):
    """`amx flags list` and `amx index status` were plain tables: at 40 columns the flag's name, the one to pass to
    `amx flags set`, read "quality_r…"."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    flags = runner.invoke(app, ["flags", "list"], env={"COLUMNS": "40"})
    assert flags.exit_code == 0, flags.output
    assert "quality_ranking" in flags.output and "…" not in flags.output, flags.output
    status = runner.invoke(app, ["index", "status"], env={"COLUMNS": "30"})
    assert status.exit_code == 0, status.output
    assert "activations" in status.output and "…" not in status.output, status.output


def test_terms_extract_prints_each_field_in_words_with_its_sentence(tmp_path):
    """`amx terms extract` printed each field as raw JSON (`commission: [{"type": "percent", "value_min": 30, …`)
    and its evidence as one JSON object; a "[bold]" in the text was read as Rich markup."""
    source = tmp_path / "terms.txt"
    source.write_text(TEXT)
    shown = CliRunner().invoke(app, ["terms", "extract", str(source)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    rows = {cells[0]: cells[1:] for line in shown.output.splitlines()
            if len(cells := [cell.strip() for cell in line.split("│")[1:-1]]) == 3}
    # each field and code in the explorer's words (it said cookie_days, min_payout, paypal, ppc_brand_bidding)
    assert rows["Commission"] == ["30% recurring", "“Earn 30% recurring commission on every sale.”"]
    assert rows["Cookie length"] == ["90 days", "“Cookie lasts 90 days.”"]
    assert rows["Minimum payout"][0] == "50 USD" and rows["Payout methods"][0] == "PayPal"
    assert rows["Restrictions"] == ["PPC brand bidding", "“No [bold]PPC[/] brand bidding.”"]
    assert "value_min" not in shown.output and "cookie_days" not in shown.output
    as_json = CliRunner().invoke(app, ["terms", "extract", str(source), "--json"])
    assert '"value_min": 30' in as_json.output and '"min_payout"' in as_json.output  # --json unchanged: by code


def test_tokens_list_shows_its_times_in_utc_and_says_so(tmp_path, monkeypatch):
    """`amx tokens list` showed its times with no zone, cut from the stored text (a token made at 12:00 in UTC+2 read
    12:00), where every other view says UTC: they are shown in UTC, their columns saying so."""
    from datetime import datetime, timedelta, timezone

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    made_at = datetime(2026, 12, 5, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    token_id = create_token(Runtime("test", Settings(data_dir=tmp_path)).secrets, "read", ttl=timedelta(days=30),
                            now=made_at).split("_")[1]
    row = table_row(["tokens", "list"], token_id)
    assert {column: row[column] for column in ("created (UTC)", "expires (UTC)", "last used (UTC)")} == {
        "created (UTC)": "2026-12-05 10:00:00", "expires (UTC)": "2027-01-04 10:00:00", "last used (UTC)": "never"}


def table_row(command: list[str], first: str) -> dict[str, str]:
    """The row of a command's table (printed 200 columns wide) whose first cell is `first`, under its headers."""
    shown = CliRunner().invoke(app, command, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, (shown.output, shown.exception)
    header, *rows = [[cell.strip() for cell in line.split("│" if "│" in line else "┃")[1:-1]]
                     for line in shown.output.splitlines() if "│" in line or "┃" in line]
    return dict(zip(header, next(row for row in rows if row[0] == first)))


def test_connections_list_and_keys_status_show_their_times_in_utc_and_say_so(tmp_path, monkeypatch):
    """`amx connections list` (its last sync) and `amx keys status` (expiry, last use) showed times with no zone where
    `amx tokens list` says UTC; keys status showed a use recorded with the caller's zone (12:00+02:00) as written,
    "2026-12-05T12:00:00", two hours off. Every table shows its times in UTC, its columns saying so."""
    from datetime import datetime, timedelta, timezone

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, SyncResult, save_connection
    from affiliate_matrix.keys import record_use
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    noon_in_paris = datetime(2026, 12, 5, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    sync = SyncResult(status="succeeded", records=3, started_at=noon_in_paris, finished_at=noon_in_paris)
    save_connection(rt.store, Connection(id="aw", source="awin", credentials_path="connections/aw", last_sync=sync),
                    create=True)
    assert table_row(["connections", "list"], "aw")["last sync (UTC)"] == "succeeded 2026-12-05 10:00, 3 listings"
    added = CliRunner().invoke(app, ["keys", "add", "connections/aw", "--rotation", "manual", "--source", "awin"],
                               input='{"api_token": "t", "publisher_id": "1"}')
    assert added.exit_code == 0, added.output
    record_use(rt, "connections/aw", ok=True, now=noon_in_paris)
    row = table_row(["keys", "status"], "connections/aw")
    assert row["last used (UTC)"] == "2026-12-05 10:00:00" and len(row["expires (UTC)"]) == 10, row


def test_keys_status_says_where_each_webhooks_key_may_be_sent(tmp_path, monkeypatch):
    """`amx keys status` did not show a webhook key's origins (amx keys add --for-url): an operator auditing where the
    keys go could not see it. Each is said below the table, whole; a key of no webhook says nothing."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for path, sent_to in (("webhooks/relay", ["--for-url", "https://relay.example.com:8443/hook", "--for-url",
                                              "http://[::1]:9000/x"]),
                          ("connections/aw", [])):
        added = CliRunner().invoke(app, ["keys", "add", path, "--rotation", "manual", "--field", "api_token",
                                         *sent_to], input="s3cr3t-value\n")
        assert added.exit_code == 0, (added.output, added.exception)
    shown = CliRunner().invoke(app, ["keys", "status"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, (shown.output, shown.exception)
    said = [line for line in shown.output.splitlines() if "sent only to" in line]
    assert said == ["webhooks/relay: sent only to https://relay.example.com:8443, http://[::1]:9000"], shown.output


def listed_fields(output: str) -> dict[str, dict[str, str]]:
    """A list printed one row under another (views.listed) as its rows by their first cell, each its fields by name,
    a field's wrapped lines joined; each line read as it is laid out: a heading unindented, a field two spaces in, its
    wrapped value further in."""
    rows: dict[str, dict[str, str]] = {}
    fields: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            fields, name = rows.setdefault(line.strip(), {}), None
        elif line[2] != " ":
            name, value = re.match(r"  (\S.*?)  +(\S.*)$", line).groups()
            fields[name] = value.strip()
        else:
            fields[name] += " " + line.strip()
    return rows


def test_connections_list_is_readable_at_80_and_100_columns(tmp_path, monkeypatch):
    """At 100 columns `amx connections list` dropped the cron and the health columns ("a wider terminal also shows:
    schedule, cron, healthy": an unhealthy connection not seen), and wrapped a reason or a last sync one word a line; at
    120 it folded a last sync as `07:59, 3` / `listings, 1`. Too narrow for its table whole, each connection's fields
    are one under another, none left out, a cron and a last sync whole; wide, it is the table."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, SyncResult, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    at = datetime(2026, 12, 6, 7, 59, tzinfo=UTC)
    save_connection(rt.store, Connection(
        id="demo-affiliatesdirectory", source="affiliatesdirectory", enabled=False,
        disabled_reason="the demo's: its recorded site is served only while amx demo runs",
        last_sync=SyncResult(status="succeeded", records=3, errors=["page failed"], started_at=at, finished_at=at)),
        create=True)
    save_connection(rt.store, Connection(
        id="awin-main", source="awin", credentials_path="connections/awin-main", healthy=False, schedule="30 6 * * 1-5",
        health_reason="credentials at connections/awin-main revoked at 2026-12-06T08:00:00+00:00"), create=True)
    for columns in (80, 100, 120):
        result = CliRunner().invoke(app, ["connections", "list"], env={"COLUMNS": str(columns)})
        assert result.exit_code == 0, (result.output, result.exception)
        assert max(map(len, result.output.splitlines())) <= columns, result.output
        assert "┃" not in result.output and "a wider terminal" not in result.output, result.output
        assert listed_fields(result.output) == {"2 connections": {}, "awin-main": {
            "source": "Awin publisher API (awin)", "schedule": "every Monday to Friday at 06:30 UTC",
            "cron": "30 6 * * 1-5", "enabled": "yes",
            "healthy": "no (credentials at connections/awin-main revoked at 2026-12-06T08:00:00+00:00)",
            "last sync (UTC)": "—"}, "demo-affiliatesdirectory": {
            "source": "AffiliatesDirectory.com (affiliatesdirectory)", "schedule": "every day at 03:00 UTC",
            "cron": "0 3 * * *", "enabled": "no (the demo's: its recorded site is served only while amx demo runs)",
            "healthy": "yes", "last sync (UTC)": "succeeded 2026-12-06 07:59, 3 listings, 1 failed"}}, result.output
        # the lines a value wraps onto are under its start, not under the field names
        wrapped = {len(line) - len(line.lstrip()) for line in result.output.splitlines() if line.startswith("   ")}
        assert wrapped == ({19} if columns == 80 else set()), result.output
    wide = CliRunner().invoke(app, ["connections", "list"], env={"COLUMNS": "200"}).output
    assert "┃ id" in wide and "│ succeeded 2026-12-06 07:59, 3 listings, 1 failed │" in wide, wide


def test_campaigns_list_shows_its_bounds_as_show_does(tmp_path, monkeypatch):
    """`amx budget campaigns list` showed a bound as typed (`--min 10` as "10" beside "250.00"), where `amx budget
    campaigns show` writes it as its currency writes an amount: with cents, or whole in a currency without them."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    for campaign, currency, low, high in (("usd-1", "USD", "10", "1000"), ("jpy-1", "JPY", "500", "20000")):
        added = runner.invoke(app, ["budget", "campaigns", "add", campaign, "--name", campaign, "--channel", "search",
                                    "--currency", currency, "--min", low, "--max", high])
        assert added.exit_code == 0, added.output
    rows = {key: table_row(["budget", "campaigns", "list"], key) for key in ("usd-1", "jpy-1")}
    assert [(rows[key]["min"], rows[key]["max"]) for key in ("usd-1", "jpy-1")] == [("10.00", "1,000.00"),
                                                                                ("500", "20,000")], rows


def test_campaigns_list_and_show_say_no_bound_with_the_dash_every_table_uses(tmp_path, monkeypatch):
    """A campaign with no minimum showed "–" (an en dash) where every other table shows "—" for nothing."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    added = CliRunner().invoke(app, ["budget", "campaigns", "add", "usd-1", "--name", "usd-1", "--channel", "search",
                                     "--currency", "USD", "--max", "250"])
    assert added.exit_code == 0, added.output
    assert table_row(["budget", "campaigns", "list"], "usd-1")["min"] == "—"
    shown = CliRunner().invoke(app, ["budget", "campaigns", "show", "usd-1"]).output
    assert [line.split() for line in shown.splitlines() if line.startswith("min")] == [["min", "—"]], shown


def test_a_currency_typed_in_lower_case_is_its_code(tmp_path, monkeypatch):
    """`amx budget campaigns add --currency usd` was refused ("'usd' is not an ISO-4217 currency code") without
    saying USD would do: a currency as typed is its upper case (codes.typed_currency, the models' Currency)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    added = CliRunner().invoke(app, ["budget", "campaigns", "add", "usd-1", "--name", "usd-1", "--channel", "search",
                                     "--currency", "usd", "--min", "10"])
    assert added.exit_code == 0, added.output
    assert table_row(["budget", "campaigns", "list"], "usd-1")["currency"] == "USD"
