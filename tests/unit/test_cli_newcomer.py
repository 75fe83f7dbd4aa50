"""The path a newcomer walks with `amx`: each command says what the README says it does, and a user's mistake is one
line naming it, with a nonzero exit, never a traceback."""

import re
import subprocess

import pytest
from typer.testing import CliRunner

from affiliate_matrix.auth import create_token
from affiliate_matrix.cli import app
from affiliate_matrix.errors import InvalidInput
from tests.support.apps import function_client
from tests.support.indexing import T2, Index, disagreed, record
from tests.support.processes import BIN
from tests.support.rules import added_by_cli


def amx(cwd, *args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "amx"), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_show_prints_each_sources_claim_not_the_kept_value_on_every_row(tmp_path, monkeypatch):
    """`amx show` printed the program's kept value beside every source, so a directory that said a 90-day cookie
    read as saying 45 days (the network's), and a claim's commission was a Python repr cut at 60 characters."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale",
                       cookie_text="90 days"))
    index.batch(record("rakuten", "Bluehost", "https://bluehost.com", commission_text="USD 100 per sale",
                       cookie_text="45 days"))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = {tuple(cell.strip() for cell in line.split("│")[1:4]) for line in result.output.splitlines()}
    directory, rakuten = "AffiliatePrograms.com (affiliateprograms)", "Rakuten Advertising API (rakuten)"
    assert ("Cookie length", "90 days", directory) in rows and ("Cookie length", "45 days", rakuten) in rows, \
        result.output
    assert ("Commission (verbatim)", "$65 per sale", directory) in rows, result.output
    assert ("Commission", "100 USD", rakuten) in rows and ("Commission", "65 USD", directory) in rows, result.output
    assert "CommissionTerm(" not in result.output
    assert f"raw/affiliateprograms/bluehost/{index_day()}.html" in result.output  # the raw page each claim came from


def test_show_says_the_programs_status_and_when_it_was_seen_and_verified(tmp_path, monkeypatch):
    """`amx show` printed the provenance alone: a program `amx verify` or a withdrawal made `closed_suspected`, with no
    source claiming so, read as any other, and its first and last sighting and last verification (the freshness a
    user checks a listing by, on the explorer's program page) were nowhere. They are said under its name."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale"))
    [program] = index.programs()
    stored = from_document(index.rt.index.get(PROGRAMS_INDEX.name, program["id"]))
    closed = stored.model_copy(update={"status": "closed_suspected", "last_verified_at": None})
    index.rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(closed)], refresh=True)
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    line = result.output.splitlines()[1]
    assert line.startswith("Possibly closed program, first seen 2") and ", last seen 2" in line, result.output
    assert ", never verified" in line and "UTC" in line, line
    index.rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(stored)], refresh=True)  # seeing it verified it
    line = CliRunner().invoke(app, ["show", program["id"]]).output.splitlines()[1]
    assert line.startswith("Active program, first seen 2") and ", last verified 2" in line, line


def index_day() -> str:
    from tests.support.indexing import T1

    return f"{T1:%Y%m%d}"


def code_of(source: str) -> str:
    """The code a table names a source by, beside its title: 'cj-agency' of 'CJ Advertiser Lookup API (cj-agency)'."""
    return source.rsplit("(", 1)[-1].removesuffix(")") if source.endswith(")") else source


def compare_rows(output: str) -> dict[str, dict[str, str]]:
    """`amx compare`'s table (a wide terminal, one line a row) as {source's code: {column: cell}}."""
    header = next(line for line in output.splitlines() if line.startswith("┃ Source"))
    columns = [cell.strip() for cell in header.split("┃")[1:-1]]
    return {code_of(cells[0]): dict(zip(columns, cells)) for line in output.splitlines()
            if (cells := [cell.strip() for cell in line.split("│")[1:-1]]) and cells[0]}


def test_compare_shows_a_sources_payout_terms_as_the_demos_compare_does(tmp_path, monkeypatch):
    """The demo's compare screen showed affiliateprograms' payout as "paypal; net60" and its "again: amx compare
    bluehost.com" showed "paypal" alone: the frequency and the minimum a source gave were left out."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale",
                                 payout_text="PayPal, net 60, $50 minimum"))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    # (in the explorer's words: "PayPal; Net 60", not the codes "paypal; net60")
    assert compare_rows(result.output)["affiliateprograms"]["Payout"] == "PayPal; Net 60; minimum 50 USD", result.output


def test_compare_names_each_sources_terms_in_words(tmp_path, monkeypatch):
    """`amx compare`'s "sources disagree" lines printed Python dicts of the parsed terms, where the demo's own
    compare screen prints them in words."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale",
                       cookie_text="90 days"))
    index.batch(record("rakuten", "Bluehost", "https://bluehost.com", commission_text="USD 100 per sale",
                       cookie_text="45 days"))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    [line] = [line for line in result.output.splitlines() if line.startswith("sources disagree on Commission: ")]
    assert "65 USD from AffiliatePrograms.com (affiliateprograms)" in line and "100 USD from Rakuten Advertising API (rakuten)" in line, result.output
    assert "sources disagree on Cookie length: " in result.output and "'value_min'" not in result.output


def test_compare_names_the_sources_that_agree_together_beside_the_one_that_disagrees(tmp_path, monkeypatch):
    """The demo's compare printed "sources disagree on commission: affiliateprograms 65–130 USD; cj 65–130 USD;"
    and Rakuten's 65–100 USD on the next line: a source at a time, the two that agree read as the disagreement."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    for source, text in (("affiliateprograms", "$65 - $130 per sale"), ("cj", "USD 65 to USD 130 per sale"),
                         ("rakuten", "USD 65 to USD 100 per sale")):
        index.batch(record(source, "Bluehost", "https://bluehost.com", commission_text=text))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    said, kept = disagreed(result.output, "Commission")
    assert said in (
        "65–130 USD from AffiliatePrograms.com (affiliateprograms) and CJ Advertiser Lookup API (cj); 65–100 USD from Rakuten Advertising API (rakuten)",
        "65–100 USD from Rakuten Advertising API (rakuten); 65–130 USD from AffiliatePrograms.com (affiliateprograms) and CJ Advertiser Lookup API (cj)"), said
    assert kept == "65–130 USD", kept  # two sources against one


def test_compare_tells_apart_two_commissions_that_differ_only_in_their_tiers(tmp_path, monkeypatch):
    """Two networks stating 5–10% with other tiers (what unlocks 10%) disagree, but the summary left the tiers out:
    "sources disagree on commission: 5–10% (cj); 5–10% (rakuten)", two values that read the same. Each tier is shown,
    its rate and what unlocks it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    for source, top in (("cj", "50+ sales/month"), ("rakuten", "100+ sales/month")):
        index.batch(record(source, "Bluehost", "https://bluehost.com", commission=[
            {"type": "percent", "value_min": 5, "value_max": 10,
             "tiers": [{"threshold": "first sale", "value": 5}, {"threshold": top, "value": "10.0"}]}]))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    said, _ = disagreed(result.output, "Commission")
    assert said in (
        ("5–10% (tiers: 5% at first sale, 10% at 50+ sales/month) from CJ Advertiser Lookup API (cj); "
         "5–10% (tiers: 5% at first sale, 10% at 100+ sales/month) from Rakuten Advertising API (rakuten)"),
        ("5–10% (tiers: 5% at first sale, 10% at 100+ sales/month) from Rakuten Advertising API (rakuten); "
         "5–10% (tiers: 5% at first sale, 10% at 50+ sales/month) from CJ Advertiser Lookup API (cj)")), said


def test_compare_tells_a_one_time_commission_from_one_that_does_not_say(tmp_path, monkeypatch):
    """A source saying its 20% is paid once (recurring false) and one saying only 20% disagree for merge's vote, but
    the summary showed both as "20%": "sources disagree on commission: 20% (cj); 20% (rakuten)"."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    for source, recurring in (("cj", False), ("rakuten", None)):
        index.batch(record(source, "Bluehost", "https://bluehost.com",
                           commission=[{"type": "percent", "value_min": 20, "recurring": recurring}]))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    said, _ = disagreed(result.output, "Commission")
    assert said in (
        "20% one-time from CJ Advertiser Lookup API (cj); 20% from Rakuten Advertising API (rakuten)", "20% from Rakuten Advertising API (rakuten); 20% one-time from CJ Advertiser Lookup API (cj)"), said


def test_the_web_tells_a_one_time_commission_from_a_recurring_one_and_one_that_does_not_say():
    from affiliate_matrix.web.render import field

    assert [field([{"type": "percent", "value_min": 20, "recurring": said}], "commission")
            for said in (True, False, None)] == ["20% recurring", "20% one-time", "20%"]


def test_the_web_writes_commission_terms_as_the_cli_does():
    """The web explorer had a renderer of its own: '10.0–20.5%', 'USD 50.0' and tiers without their unit
    ('100 sales: 20.5') where `amx show` wrote '10–20.5%', '50 USD' and '20.5% at 100 sales'."""
    from affiliate_matrix.models import CommissionTerm
    from affiliate_matrix.web.render import field
    from affiliate_matrix.wording import terms_summary

    stored = [{"type": "percent", "value_min": 10.0, "value_max": 20.5, "recurring": True,
               "tiers": [{"threshold": "100 sales", "value": 20.5}]},
              {"type": "flat", "currency": "USD", "value_min": 50.0, "value_max": None}]
    expected = "10–20.5% recurring (tiers: 20.5% at 100 sales), 50 USD"
    assert field(stored, "commission") == expected
    assert terms_summary([CommissionTerm.model_validate(term) for term in stored]) == expected


def test_the_web_writes_amounts_as_the_cli_and_its_own_commissions_do():
    """The explorer wrote an EPC and a payout minimum currency first ('USD 0.4512', 'minimum USD 50') beside a
    commission written amount first ('65–130 USD') on the same row, where `amx show` and `amx compare` write
    '0.4512 USD' and 'minimum 50 USD'."""
    from affiliate_matrix.cli.views import value_text
    from affiliate_matrix.web.render import field

    epc = {"amount": "0.4512", "currency": "USD"}
    assert field(epc, "epc_7d") == value_text("epc_7d", epc) == "0.4512 USD"
    payout = {"methods": ["paypal"], "frequency": "net60", "minimum": {"amount": "50", "currency": "USD"}}
    assert field(payout, "payout") == value_text("payout", payout) == "PayPal; Net 60; minimum 50 USD"


def test_the_cli_says_a_payout_minimum_in_the_explorers_words():
    """`amx show`, `compare` and `changes` wrote a payout's minimum 'min 50 USD' where the explorer's pages write
    'minimum 50 USD', from two summaries of the field; one (wording.payout_text) says it for both."""
    from affiliate_matrix.cli.views import value_text
    from affiliate_matrix.web.render import field

    for payout, said in (({"methods": ["bank_transfer"], "minimum": {"amount": "25", "currency": "EUR"}},
                          "Bank transfer; minimum 25 EUR"),
                         ({"frequency": "monthly", "minimum": {"amount": "10", "currency": "GBP"}}, "Monthly; minimum 10 GBP"),
                         ({"methods": []}, "—")):
        assert value_text("payout", payout) == field(payout, "payout") == said, payout


def test_compare_shows_two_accounts_of_one_network_as_two_rows(tmp_path, monkeypatch):
    """`amx compare` showed a row per source: two Rakuten accounts listing Bluehost on other terms were one row,
    the terms of whichever claim came last."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("rakuten", "Bluehost", "https://bluehost.com", commission_text="USD 100 per sale"))
    index.batch(record("rakuten", "Bluehost", "https://bluehost.com", connection="rakuten-agency",
                       commission_text="USD 120 per sale"))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = {tuple(cell.strip() for cell in line.split("│")[1:6]) for line in result.output.splitlines()}
    assert ("Rakuten Advertising API (rakuten)", "Program", "—", "—", "USD 100 per sale") in rows, result.output
    assert ("Rakuten Advertising API (rakuten-agency)", "Program", "—", "—", "★ USD 120 per sale") in rows, \
        result.output


def test_compare_shows_each_networks_own_epcs_over_7_days_and_3_months_with_their_currency(tmp_path, monkeypatch):
    """`amx compare` printed no EPC, though the merchant view carries each network's own: a user comparing CJ and
    Awin for one merchant could not see which pays more per click. A row shows its own source's 7-day and 3-month
    EPC, each with its currency (Awin reports the 3-month one alone), and none where its source reported none."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("awin", "Bluehost", "https://bluehost.com", commission_text="10% per sale",
                       extra={"epc_90d": "0.47", "epc_currency": "GBP"}),
                record("cj", "Bluehost", "https://bluehost.com", commission_text="12% per sale",
                       extra={"epc_7d": "0.4512", "epc_90d": "0.389", "epc_currency": "USD"}),
                record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="11% per sale"))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = compare_rows(result.output)
    epcs = {source: (row["EPC (7 days)"], row["EPC (3 months)"]) for source, row in rows.items()}
    assert epcs == {"awin": ("—", "0.47 GBP"), "cj": ("0.4512 USD", "0.389 USD"), "affiliateprograms": ("—", "—")}, \
        result.output


def test_compare_shows_each_accounts_contract_with_the_program(tmp_path, monkeypatch):
    """`amx compare` showed no contract, though the merchant view carries each account's: a user comparing Impact
    and CJ for one merchant could not see that one account's contract had expired and the other only applied. Each
    row shows its own account's, a dash where its source says none (a directory)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("impact", "Bluehost", "https://bluehost.com", network="impact", contract="expired",
                       commission_text="10% per sale"),
                record("impact", "Bluehost", "https://bluehost.com", connection="impact-agency", network="impact",
                       contract="joined", commission_text="10% per sale"),
                record("cj", "Bluehost", "https://bluehost.com", network="cj", contract="pending",
                       commission_text="12% per sale"),
                record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="11% per sale"))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = compare_rows(result.output)
    assert {source: row["Contract"] for source, row in rows.items()} == {
        "impact": "Expired", "impact-agency": "Joined", "cj": "Pending", "affiliateprograms": "—"}, \
        result.output


def test_compare_fits_a_narrow_terminal_by_dropping_columns_never_cutting_a_figure(tmp_path, monkeypatch):
    """At 80 columns `amx compare` squeezed its nine columns until every cell was cut to "…": CJ's 7-day EPC read
    "0.45…", its commission "Hosti…". Columns of least use are dropped instead (the caption names them), as
    `amx show` and the demo's tables do; the sources, terms and EPCs stay whole."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "80")
    index = Index(tmp_path)
    index.batch(record("awin", "Bluehost", "https://bluehost.com", commission_text="10% per sale",
                       join_url="https://www.awin1.com/awclick.php?mid=1001&id=123456",
                       extra={"epc_90d": "0.47", "epc_currency": "GBP"}),
                record("cj", "Bluehost", "https://bluehost.com",
                       commission_text="Hosting Sale: USD 65.00 (Pro Plans: USD 130.00)",
                       extra={"epc_7d": "0.4512", "epc_90d": "0.389", "epc_currency": "USD"}),
                record("dira", "Bluehost", "https://bluehost.com", commission_text="11% per sale"))
    result = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "…" not in result.output and max(map(len, result.output.splitlines())) <= 80, result.output
    assert "(a wider terminal also shows: " in " ".join(result.output.split()), result.output
    # each row's cells, their wrapped lines joined (a row starts where its network, never empty, is), then the header's
    rows: list[list[str]] = []
    for line in result.output.splitlines():
        if line.startswith(("│", "┃")):
            cells = [cell.strip() for cell in line.strip("│┃").split(line[0])]
            if not rows or line[0] == "│" and (cells[1] or rows[-1][0] == "header"):
                rows.append(["header" if line[0] == "┃" else ""] + [""] * len(cells))
            rows[-1][1:] = [" ".join(filter(None, pair)) for pair in zip(rows[-1][1:], cells)]
    header = ["".join(name.split()) for name in rows.pop(0)[1:]]  # a header may be folded mid-word
    shown = {code_of(cells[1]): dict(zip(header, cells[1:])) for cells in rows}
    assert shown["cj"]["Commission"] == "★ Hosting Sale: USD 65.00 (Pro Plans: USD 130.00)", result.output
    assert {key: (row["EPC(7days)"], row["EPC(3months)"]) for key, row in shown.items()} == {
        "awin": ("—", "0.47 GBP"), "cj": ("0.4512 USD", "0.389 USD"), "dira": ("—", "—")}, result.output


def test_replay_of_an_api_connection_never_synced_is_refused_not_synced_live(tmp_path):
    """`amx replay <an API connection>` synced the API live (the network, its credentials and quota) and printed
    "replayed 0 stored pages", where the README promises a replay reads what is stored with no network: a connection
    whose syncs kept no answers has none to replay."""
    import os
    import socket

    with socket.socket() as listener:  # an address that counts every connection made to it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0)
        env = {**os.environ, "AMX_DATA_DIR": str(tmp_path), "AMX_ALLOW_LOOPBACK_FETCH": "1"}
        made = amx(tmp_path, "connections", "add", "cb", "--source", "clickbank",
                   "--base-url", f"http://127.0.0.1:{listener.getsockname()[1]}", env=env)
        assert made.returncode == 0, made.stderr
        result = amx(tmp_path, "replay", "cb", env=env)
        try:
            listener.accept()
            connected = True
        except BlockingIOError:
            connected = False
    assert not connected
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().count("\n") == 0 and "cb" in result.stderr and "amx scrape cb" in result.stderr, \
        result.stderr


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr


def test_a_usage_error_is_one_line_naming_it_and_the_help_to_read(tmp_path):
    """A bad option or argument printed Typer's usage box, five lines on standard error: README promises one line,
    with exit code 2, as every other error of `amx` is."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path / "data")}
    for args, said in ((["changes", "--limit", "101"], "Invalid value for '--limit': Input should be less than or "
                        "equal to 100; see amx changes --help"),
                       (["search", "--kind", "netwrok"], "Invalid value for '--kind': must be one of 'program' or "
                        "'offer', got 'netwrok'; see amx search --help"),
                       (["changes", "--program", "nope"], "Invalid value for '--program': must be a program's id, p_ and "
                        "16 hex digits as amx search and the API list them, not 'nope'; see amx changes --help"),
                       (["show"], "Missing argument 'program_id'; see amx show --help"),
                       (["rules", "nosuch"], "No such command 'nosuch'; see amx rules --help"),
                       (["search", "--nope"], "No such option: --nope; see amx search --help"),
                       # an option given no value: Click raises it without its command, and it pointed at amx --help
                       (["rules", "test", "r", "--program"], "Option '--program' requires an argument; see amx rules "
                        "test --help")):
        result = amx(tmp_path, *args, env=env)
        assert result.returncode == 2 and one_error_line(result) == f"error: {said}\n", (args, result.stderr)
    bare = amx(tmp_path, env=env)  # `amx` alone: its help, as before
    assert bare.returncode == 2 and "Usage: amx" in bare.stdout and bare.stderr == "", bare.stderr


def test_a_command_the_api_names_and_amx_keeps_elsewhere_is_refused_naming_where(tmp_path):
    """`amx connections sync` (the API's POST /connections/{id}/sync) was "No such command 'sync'; see amx connections
    --help", and that help does not name `amx scrape`, which is it; `amx merchants` got Click's guess, 'changes'."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path / "data")}
    for args, said in ((["connections", "sync", "c1"], "No such command 'sync': amx scrape CONNECTION syncs one here, "
                        "as POST /connections/{id}/sync asks; see amx connections --help"),
                       (["merchants"], "No such command 'merchants': amx compare MERCHANT shows one merchant across "
                        "its sources (GET /merchants/{key}); see amx --help"),
                       (["rules", "sync"], "No such command 'sync'; see amx rules --help"),
                       # a web search's way to leave a word out, which Click read as the option -b
                       (["search", "hosting", "-bluehost"], "No such option: -b (a word beginning with '-' is read as "
                        "an option here, and a search leaves no word out: search for the words to find); see amx "
                        "search --help")):
        result = amx(tmp_path, *args, env=env)
        assert result.returncode == 2 and one_error_line(result) == f"error: {said}\n", (args, result.stderr)


def test_a_data_dir_that_cannot_be_used_is_one_line_naming_it(tmp_path):
    """AMX_DATA_DIR naming a file, or a folder under a file, ended `amx` in a traceback (NotADirectoryError)."""
    import os

    afile = tmp_path / "afile"
    afile.write_text("")
    for data_dir in (afile, afile / "data"):
        result = amx(tmp_path, "search", "x", env={**os.environ, "AMX_DATA_DIR": str(data_dir)})
        assert result.returncode == 2, result.stderr
        assert "AMX_DATA_DIR" in one_error_line(result) and str(data_dir) in result.stderr


def test_a_file_the_system_refuses_is_one_line_naming_it(tmp_path):
    """An export to a folder that does not exist, or onto a full disk, and a report's folder that is a file, ended in
    a traceback (FileNotFoundError, OSError, FileExistsError); an import of a folder said "no such file"."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path / "data")}
    missing = tmp_path / "missing" / "x.csv"
    result = amx(tmp_path, "export", "programs", "--format", "csv", "--out", str(missing), env=env)
    assert result.returncode == 2 and str(tmp_path / "missing") in one_error_line(result)
    assert not (tmp_path / "missing").exists()
    result = amx(tmp_path, "export", "programs", "--format", "csv", "--out", "/dev/full", env=env)
    assert result.returncode == 2 and "No space left on device" in one_error_line(result)
    (tmp_path / "report").write_text("")
    result = amx(tmp_path, "budget", "report", "--out", str(tmp_path / "report"), env=env)
    assert result.returncode == 2 and str(tmp_path / "report") in one_error_line(result)
    result = amx(tmp_path, "import", "programs", str(tmp_path), "--format", "jsonl", env=env)
    assert result.returncode == 2 and "not a file" in one_error_line(result)


def test_budget_pacing_of_a_day_with_no_allocation_says_so(tmp_path):
    """`amx budget pacing` of a day no run allocated printed "every campaign is on pace": there was nothing to pace
    against."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path)}
    made = amx(tmp_path, "budget", "campaigns", "add", "s1", "--name", "Search", "--channel", "search",
               "--currency", "USD", env=env)
    assert made.returncode == 0, made.stderr
    result = amx(tmp_path, "budget", "pacing", "--day", "2026-11-09", env=env)
    assert "on pace" not in result.stdout
    assert result.returncode == 2 and one_error_line(result).strip() == (  # with what allocates one (it said no more)
        "error: no allocation run for 2026-11-09: nothing to pace against (amx budget run --day 2026-11-09 allocates "
        "it)"), result.stderr


def test_a_second_demo_on_the_same_data_dir_is_refused(tmp_path):
    """Two `amx demo`s at once on one data dir each pointed the demo's connections at their own recorded sites, and
    one ended in a traceback (RuntimeError: no program was read from …/program/notion)."""
    import fcntl
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "demo.lock", "a") as running:  # as the demo running already holds it
        fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = amx(tmp_path, "demo", env=env)
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    assert "another amx demo is running on" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "connections").exists() and not (tmp_path / "data" / "objects").exists()


def test_verify_names_why_each_check_was_inconclusive_and_fails(tmp_path, monkeypatch):
    """`amx verify` said "15 inconclusive" and exited 0, naming no page and no reason (every fetch error was
    swallowed): a user could not tell a refused address from a site that was down."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AMX_ALLOW_LOOPBACK_FETCH", raising=False)
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", page="http://127.0.0.1:9/p/bluehost/"))
    result = CliRunner().invoke(app, ["verify"])
    assert "1 inconclusive" in result.output, result.output
    assert "http://127.0.0.1:9/p/bluehost/" in result.output and "non-public address" in result.output, result.output
    assert result.exit_code == 1, (result.output, result.exception)


def test_verify_says_its_changes_no_rule_saw_as_the_other_commands_do(tmp_path, monkeypatch):
    """`amx verify` closing a program (a change, announced on the in-process bus) said "1 changes" and nothing of the
    program.delta rules that never saw it, where scrape and import name them."""
    from tests.support.fault_server import FaultServer

    rule_always_added(tmp_path, monkeypatch)
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    server = FaultServer()
    try:
        Index(tmp_path).batch(record("affiliateprograms", "Gone", "https://gone.com", page=f"{server.url}/gone"))
        result = CliRunner().invoke(app, ["verify", "--suspect-after", "1"])
    finally:
        server.close()
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "1 gone" in said and "; 1 change" in said and "1 changes" not in said, said
    assert "rules waiting for program changes were not run on these: always" in said, said


def test_verify_asks_no_page_of_a_disabled_connection_and_a_sync_of_it_says_why_it_is_disabled(tmp_path, monkeypatch):
    """A disabled connection is read by no one until it is enabled again: verify asked its pages all the same (the
    demo's, whose recorded sites had closed, each inconclusive). Its reason is said where the connection is refused."""
    from affiliate_matrix.connections import update_connection

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AMX_ALLOW_LOOPBACK_FETCH", raising=False)
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", page="http://127.0.0.1:9/p/bluehost/",
                       connection="ap"))
    update_connection(index.rt.store, "ap", lambda _: {"enabled": False, "disabled_reason": "its site is gone"},
                      "disabled")
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 0 and result.output.startswith("checked 0:"), (result.output, result.exception)
    # and says why it checked none: "checked 0" alone said nothing of the program it passed over
    assert "1 program not asked: listed only through disabled connections (amx connections list says why" \
        in result.output, result.output
    refused = CliRunner().invoke(app, ["scrape", "ap"])
    said = " ".join((refused.output + str(refused.exception)).split())
    assert refused.exit_code != 0 and "'ap' is disabled (its site is gone)" in said, said
    again = CliRunner().invoke(app, ["connections", "edit", "ap", "--enabled"])
    assert again.exit_code == 0, (again.output, again.exception)
    listed = " ".join(CliRunner().invoke(app, ["connections", "list"]).output.split())
    assert "its site is gone" not in listed, listed
    alone = CliRunner().invoke(app, ["connections", "edit", "ap", "--reason", "moved"])
    assert alone.exit_code == 2 and "--reason goes with --disabled" in alone.output, alone.output
    paused = CliRunner().invoke(app, ["connections", "edit", "ap", "--disabled", "--reason", "paused for a week"])
    assert paused.exit_code == 0, (paused.output, paused.exception)
    listed = " ".join(CliRunner().invoke(app, ["connections", "list"]).output.split())
    assert "no (paused for a week)" in listed, listed


def test_verify_says_why_it_checked_no_page_of_a_network_apis_programs(tmp_path, monkeypatch):
    """`amx verify` over Impact's live campaign list said "checked 0: 0 verified, …" and nothing more: a network API's
    programs have no directory page to check, their next sync verifies them."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    for name in ("SunnySports", "Wine Express"):
        index.batch(record("impact", name, f"http://{name.lower().replace(' ', '')}.com", network="impact"))
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 0 and result.output.startswith("checked 0:"), (result.output, result.exception)
    assert "2 programs with no directory page to check: a network API's are verified by its connection's next sync" \
        in result.output, result.output


def test_connections_test_of_a_disabled_connection_says_why_it_is_disabled(tmp_path, monkeypatch):
    """`amx connections test demo-affiliateprograms` after the demo said only "reachable: failed — refused
    127.0.0.1:…: … non-public address (loopback)", where the connection says why: its recorded site is served only
    while the demo runs."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AMX_ALLOW_LOOPBACK_FETCH", raising=False)
    monkeypatch.setenv("COLUMNS", "400")
    reason = "the demo's: its recorded site is served only while amx demo runs"
    save_connection(Runtime("test", Settings(data_dir=tmp_path)).store,
                    Connection(id="demo-ap", source="affiliateprograms", base_url="http://127.0.0.1:9",
                               enabled=False, disabled_reason=reason), create=True)
    result = CliRunner().invoke(app, ["connections", "test", "demo-ap"])
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.output.splitlines()
    assert lines[0] == f"connection 'demo-ap' is disabled ({reason}): no schedule syncs it", result.output
    assert lines[1].startswith("reachable: failed"), result.output


def test_a_rule_between_two_options_is_one_plain_line(tmp_path):
    """A model's own check (min above max) was printed as "invalid : Value error, min_budget 300 is above …"."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path)}
    result = amx(tmp_path, "budget", "campaigns", "add", "s3", "--name", "x", "--channel", "search",
                 "--currency", "USD", "--min", "300", "--max", "5", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == ("error: Invalid value for '--min': 300 is above --max 5; see amx budget campaigns add "
                             "--help\n"), result.stderr  # the options typed


def test_search_names_each_network_once(tmp_path, monkeypatch):
    """A program a directory and the network itself both list on Impact (two join links) showed "impact, impact"
    (named now as the explorer names it: Impact)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Canva", "https://canva.com", network="impact",
                       join_url="https://partner.canva.com/c/1/2/3"))
    index.batch(record("impact", "Canva", "https://canva.com", network="impact", network_program_id="10234",
                       join_url="https://partner.canva.com/c/123456/10234/1"))
    assert len(index.programs()[0]["networks"]) == 2  # two listings on one network, each kept
    result = CliRunner().invoke(app, ["search", "canva"])
    assert result.exit_code == 0, (result.output, result.exception)
    [row] = [line for line in result.output.splitlines() if "canva.com" in line]
    assert [cell.strip() for cell in row.split("│")][6] == "Impact", row


def test_up_refuses_a_clock_that_does_not_run_forward(tmp_path, monkeypatch):
    """`amx up --speed -1` (or 0) started everything on a cron clock running backwards (or stopped): no cron fired."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for speed in ("-1", "0"):
        result = CliRunner().invoke(app, ["up", "--speed", speed, "--port-base", "0", "--detach"])
        assert result.exit_code == 2 and "--speed" in result.output, (result.output, result.exception)
    assert not (tmp_path / "up.json").exists() and not (tmp_path / "up.log").exists()


def test_a_second_up_in_the_foreground_is_refused_before_it_says_it_starts(tmp_path):
    import fcntl
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path)}
    with open(tmp_path / "up.lock", "a") as running:  # as the `amx up` running already holds it
        fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = amx(tmp_path, "up", "--port-base", "0", env=env)
    assert result.returncode == 2 and "amx up is already running" in result.stderr
    assert "starting" not in result.stdout, result.stdout


def test_connections_add_names_the_key_an_api_connection_reads(tmp_path):
    """`amx connections add` had no way to name a connection's key: an API connection made with it could never sync
    (`amx scrape` said "has no credentials_path", and nothing in the CLI could set one). A key of another source is
    refused, as the connections API refuses it."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path)}
    stored = subprocess.run([str(BIN / "amx"), "keys", "add", "connections/cj-main", "--rotation", "manual",
                             "--source", "cj", "--field", "api_token", "--field", "requestor_cid"],
                            input="tok\n7811141\n", cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert stored.returncode == 0, stored.stderr
    made = amx(tmp_path, "connections", "add", "cj-main", "--source", "cj", "--credentials-path", "connections/cj-main",
               env=env)
    assert made.returncode == 0, made.stderr
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.runtime import Runtime

    connection, _ = load_connection(Runtime("test", Settings(data_dir=tmp_path)).store, "cj-main")
    assert connection.credentials_path == "connections/cj-main"
    other = amx(tmp_path, "connections", "add", "awin-main", "--source", "awin", "--credentials-path",
                "connections/cj-main", env=env)
    assert other.returncode == 2 and "--credentials-path" in one_error_line(other)


def test_search_reads_a_network_however_it_is_spelt(tmp_path, monkeypatch):
    """`amx search --network Impact` (or Impact.com, as the README says sources spell it) found nothing: the filter
    was compared as typed with the one name the index keeps."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("impact", "Canva", "https://canva.com", network="impact", network_program_id="10234"))
    for spelt in ("impact", "Impact", "Impact.com", "ＩＭＰＡＣＴ"):
        result = CliRunner().invoke(app, ["search", "--network", spelt])
        assert result.exit_code == 0 and result.output.split()[:2] == ["1", "program"], (spelt, result.output)


def test_rules_add_with_replace_says_whether_it_replaced_or_added_the_rule(tmp_path, monkeypatch):
    """`amx rules add --replace` printed "added rule" when it replaced one."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    rule = tmp_path / "rule.json"
    said = []
    for condition in ("true", "false"):
        rule.write_text(json.dumps({"id": "twice", "trigger": {"event": "program.delta"}, "condition": condition,
                                    "action": {"type": "alert", "params": {"text": "changed"}}}))
        result = CliRunner().invoke(app, ["rules", "add", "--replace", str(rule)])
        assert result.exit_code == 0, result.output
        said.append(result.output.split(":")[0])
    assert said == ["added rule twice", "replaced rule twice"]



@pytest.mark.parametrize("field,value,said", [
    ("cooldown_s", True, "cooldown_s: Input should be a valid integer, got true"),
    ("cooldown_s", "60", "cooldown_s: Input should be a valid integer, got text"),
    ("enabled", "no", "enabled: Input should be a valid boolean, got text")])
def test_rules_add_refuses_a_value_of_another_type_as_post_rules_does(tmp_path, monkeypatch, field, value, said):
    """`amx rules add` took `cooldown_s: true` as a cool-down of 1 s, `"60"` as 60 and `enabled: "no"` as false,
    where POST /rules refuses each, naming the field: a rule means one thing whichever way it is added."""
    import json

    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rule = {"id": "typed", "trigger": {"event": "program.delta"}, "condition": "true",
            "action": {"type": "alert", "params": {"text": "x"}}, field: value}
    (tmp_path / "rule.json").write_text(json.dumps(rule))
    added = CliRunner().invoke(app, ["rules", "add", str(tmp_path / "rule.json")])
    assert isinstance(added.exception, InvalidInput) and str(added.exception) == said, (added.output, added.exception)
    posted = function_client("triggers").post("/rules", json=rule, headers={
        "Authorization": f"Bearer {create_token(Runtime('test', Settings(data_dir=tmp_path)).secrets, 'admin')}"})
    assert posted.status_code == 400 and posted.json["error"]["message"] == said, posted.json

def test_a_dry_run_shows_the_actions_text_as_written(tmp_path, monkeypatch):
    """`amx rules test` showed a notify text's "→" as "\\u2192" (JSON's ASCII escapes)."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    added_by_cli(tmp_path, {"id": "arrow", "trigger": {"event": "program.delta"}, "condition": "true",
                            "action": {"type": "alert", "params": {"text": "50% → 60%"}}})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"id": "e1", "source": "/index", "type": "dev.affiliatematrix.program.delta",
                                 "time": "2026-11-22T06:00:00Z", "data": {"id": "d1", "program_id": "p_1",
                                                                          "change": "updated", "fields": []}}))
    result = CliRunner().invoke(app, ["rules", "test", "arrow", "--event", str(event)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "50% → 60%" in result.output and "\\u2192" not in result.output, result.output


def test_connections_delete_counts_the_programs_it_changed_in_words(tmp_path, monkeypatch):
    """`amx connections delete` of a connection that listed one program said "1 programs changed"."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    Index(tmp_path).batch(record("affiliateprograms", "Bluehost", "https://bluehost.com"))
    result = CliRunner().invoke(app, ["connections", "delete", "affiliateprograms"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert " ".join(result.output.split()) == "deleted connection affiliateprograms; 1 program changed", result.output


def test_discover_review_says_when_there_is_nothing_to_review(tmp_path, monkeypatch):
    """`amx discover review` with nothing to review printed nothing at all."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["discover", "review"])
    assert result.exit_code == 0 and "nothing to review" in result.output, (result.output, result.exception)


@pytest.mark.parametrize("args, named", [(["--accept", "tailwag.example", "--reject", "tailwag.example"], "--reject"),
                                         (["--accept", ""], "--accept"), (["--reject", ""], "--reject")])
def test_discover_review_refuses_two_decisions_or_an_empty_domain_deciding_nothing(tmp_path, monkeypatch, args, named):
    """`amx discover review --accept D --reject D` accepted D and dropped --reject unsaid; `--accept ''` listed the
    review list, deciding nothing, with exit 0. Each is a usage error naming the option, the item left to decide."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    item = {"domain": "tailwag.example", "name": "Tailwag", "confidence": 0.5, "url": "https://tailwag.example/partners",
            "evidence": ["partner wording"], "raw_key": "raw/discovery/x.html"}
    (tmp_path / "objects" / "discovery" / "review").mkdir(parents=True)
    (tmp_path / "objects" / "discovery" / "review" / "tailwag.example.json").write_text(json.dumps(item))
    result = CliRunner().invoke(app, ["discover", "review", *args])
    assert result.exit_code == 2 and f"Invalid value for '{named}'" in result.output, (result.output, result.exception)
    listed = CliRunner().invoke(app, ["discover", "review"])
    assert "tailwag.example" in listed.output, listed.output


def test_discover_run_counts_one_query_result_site_and_rejection_in_the_singular(tmp_path, monkeypatch):
    """A run of one query finding one site said "1 of 1 queries answered, 1 results, 1 sites (…) 1 not programs"."""
    from affiliate_matrix.discovery import DiscoveryReport
    from affiliate_matrix.discovery import run as discovery_run

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    report = DiscoveryReport(queries=1, results=1, candidates=1, rejected=["blog.example"],
                             rejected_why={"blog.example": "a publisher's post"})
    monkeypatch.setattr(discovery_run, "discover", lambda rt, niches, languages: report)
    result = CliRunner().invoke(app, ["discover", "run", "pets"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.output.splitlines()[0] == ("1 of 1 query answered, 1 result, 1 site (0 already known): 0 discovered, "
                                             "0 to review, 1 not a program"), result.output


def test_discover_run_refuses_a_niche_with_search_operators_naming_them(tmp_path, monkeypatch):
    """`amx discover run 'shoes site:evil.example'` sent `"affiliate program" shoes site:evil.example` and the like to
    the providers: every dork of the niche searched one site. The niche is refused naming the operator, nothing
    asked."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_DISCOVERY_PROVIDERS", "searxng")
    monkeypatch.setenv("AMX_SEARXNG_URL", "http://127.0.0.1:9")  # nothing there: a query would fail, not pass
    result = CliRunner().invoke(app, ["discover", "run", "pets", "shoes site:evil.example"])
    assert isinstance(result.exception, InvalidInput), (result.output, result.exception)
    assert str(result.exception).startswith("niche 'shoes site:evil.example': ':' at character 11 makes the word "
                                            "before it a search operator")



@pytest.mark.parametrize("niche,said", [
    ("", "niche '': it is blank: its dorks would search for no niche at all"),
    ("  ", "niche '  ': it is blank: its dorks would search for no niche at all"),
    ("pets " * 21, f"niche '{'pets ' * 20}': 105 characters, over the 100 a niche may have")])
def test_discover_run_refuses_a_blank_or_overlong_niche_as_post_discover_does(tmp_path, monkeypatch, niche, said):
    """`amx discover run ''` sent every dork with no niche in it (`"affiliate program" `), and one of 6,000 characters
    was searched too, where POST /discover and a rule's discover action refuse both."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_DISCOVERY_PROVIDERS", "searxng")
    monkeypatch.setenv("AMX_SEARXNG_URL", "http://127.0.0.1:9")  # nothing there: a query would fail, not pass
    result = CliRunner().invoke(app, ["discover", "run", "pets", niche])
    assert isinstance(result.exception, InvalidInput) and str(result.exception) == said, (result.output,
                                                                                           result.exception)

def test_adding_what_exists_names_it_not_its_storage_key(tmp_path):
    """A connection or a campaign added twice said "conflict: object 'connections/c.json' already exists"."""
    import os

    env = {**os.environ, "AMX_DATA_DIR": str(tmp_path)}
    for command, said in ((["connections", "add", "c", "--source", "affiliateprograms"], "connection 'c' exists"),
                          (["budget", "campaigns", "add", "s1", "--name", "S", "--channel", "search",
                            "--currency", "USD"], "campaign 's1' exists")):
        assert amx(tmp_path, *command, env=env).returncode == 0
        again = amx(tmp_path, *command, env=env)
        assert again.returncode == 2 and said in again.stderr and ".json" not in again.stderr, again.stderr


def rule_always_added(tmp_path, monkeypatch):
    """A program.delta rule `always` (condition true, an alert) added by the CLI; the path to write a test event at."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    added_by_cli(tmp_path, {"id": "always", "trigger": {"event": "program.delta"}, "condition": "true",
                            "action": {"type": "alert"}})
    return tmp_path / "event.json"


def test_a_rule_added_enabled_keeps_no_reason_and_one_added_disabled_without_one_says_so(tmp_path, monkeypatch):
    """`amx rules add` of a rule enabled with a disabled_reason (a disabled rule's document, enabled again) stored the
    reason, and one written disabled with none was listed as "disabled (None)"."""
    import json

    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.store import load_rule
    from affiliate_matrix.runtime import Runtime

    rule_always_added(tmp_path, monkeypatch)
    runner, rule = CliRunner(), tmp_path / "rule.json"
    assert runner.invoke(app, ["rules", "disable", "always", "--reason", "paused for the sale week"]).exit_code == 0
    assert "rule always: disabled (paused for the sale week)" in runner.invoke(app, ["rules", "show", "always"]).output
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    rule.write_text(json.dumps({**load_rule(store, "always")[0].model_dump(mode="json"), "enabled": True}))
    assert runner.invoke(app, ["rules", "add", "--replace", str(rule)]).exit_code == 0
    assert (load_rule(store, "always")[0].enabled, load_rule(store, "always")[0].disabled_reason) == (True, None)
    rule.write_text(json.dumps({**json.loads(rule.read_text()), "enabled": False, "disabled_reason": None}))
    assert runner.invoke(app, ["rules", "add", "--replace", str(rule)]).exit_code == 0
    shown = runner.invoke(app, ["rules", "show", "always"]).output
    assert "rule always: disabled (no reason given)" in shown and "None" not in shown, shown


def test_disabling_a_disabled_rule_without_a_reason_keeps_the_reason_it_has(tmp_path, monkeypatch):
    """`amx rules disable ID` wrote "disabled by hand" over the reason a disabled rule had (a person's, or the error
    that disabled it after 3 failures), so the one record of why it stopped was lost to a repeated command."""
    rule_always_added(tmp_path, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(app, ["rules", "disable", "always", "--reason", "paused for the sale week"]).exit_code == 0
    again = runner.invoke(app, ["rules", "disable", "always"])
    assert again.exit_code == 0 and again.output.strip() == \
        "rule always was disabled already (paused for the sale week)", again.output
    assert "rule always: disabled (paused for the sale week)" in runner.invoke(app, ["rules", "show", "always"]).output
    restated = runner.invoke(app, ["rules", "disable", "always", "--reason", "noisy"])  # a reason given is written
    assert restated.output.strip() == "disabled rule always", restated.output
    assert "rule always: disabled (noisy)" in runner.invoke(app, ["rules", "show", "always"]).output

def test_a_dry_run_says_when_the_event_is_not_the_rules_trigger(tmp_path, monkeypatch):
    """`amx rules test` of a key.expiring event against a program.delta rule said "→ true: would dispatch", and
    an event typed `program.delta`, as the rule names its trigger, was refused as a type it did not know."""
    import json

    event = rule_always_added(tmp_path, monkeypatch)
    delta = {"id": "d1", "program_id": "p_1", "change": "updated", "fields": []}
    for kind, data, said in [("dev.affiliatematrix.key.expiring", {"path": "connections/awin", "days": 7},
                              "rule always: triggered by A program changed (program.delta), not by "
                              "dev.affiliatematrix.key.expiring: no action"),
                             ("program.delta", delta, "true → true: would dispatch alert")]:
        event.write_text(json.dumps({"id": "e1", "source": "/x", "type": kind, "time": "2026-11-22T06:00:00Z",
                                     "data": data}))
        result = CliRunner().invoke(app, ["rules", "test", "always", "--event", str(event)])
        assert result.exit_code == 0 and said in " ".join(result.output.split()), (result.output, result.exception)


def test_a_dry_run_of_a_schedule_rule_says_its_schedule_in_words(tmp_path, monkeypatch):
    """A schedule rule tried on an event said "rule nightly is triggered by schedule:0 6 * * *", the rule's key, where
    amx rules list says "on a schedule: every day at 06:00 UTC (0 6 * * *)"."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    added_by_cli(tmp_path, {"id": "nightly", "trigger": {"schedule": "0 6 * * *"}, "condition": "true",
                            "action": {"type": "alert", "params": {"text": "x"}}})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": {"id": "d1", "program_id": "p_1",
                                                                   "change": "updated", "fields": []}}))
    result = CliRunner().invoke(app, ["rules", "test", "nightly", "--event", str(event)])
    assert result.exit_code == 0 and result.output.strip() == (
        "rule nightly: triggered on a schedule: every day at 06:00 UTC (0 6 * * *), by no event (--tick TIME tries it "
        "at a tick): no action"), \
        (result.output, result.exception)

def test_a_dry_run_says_when_the_events_rule_chain_would_stop_the_rule(tmp_path, monkeypatch):
    """`amx rules test` refused a CloudEvent file carrying its amxrulechain attribute (an unknown field), and said
    "would dispatch" of one naming the rule in its chain, which the delivery stops as a loop."""
    import json

    event = rule_always_added(tmp_path, monkeypatch)
    for chain, said in [("other,always", "true → true: no action: stopped as a loop: other → always → always (the "
                                         "event's amxrulechain)"),
                        ("other", "true → true: would dispatch alert")]:
        event.write_text(json.dumps({"id": "e1", "source": "/x", "type": "program.delta", "amxrulechain": chain,
                                     "time": "2026-11-22T06:00:00Z",
                                     "data": {"id": "d1", "program_id": "p_1", "change": "updated", "fields": []}}))
        result = CliRunner().invoke(app, ["rules", "test", "always", "--event", str(event)])
        assert result.exit_code == 0 and said in " ".join(result.output.split()), (result.output, result.exception)


def test_rules_test_says_its_event_is_a_file(tmp_path, monkeypatch):
    """`amx rules test --help` said --event is "A CloudEvent as JSON", so a newcomer gave it the JSON, and was told
    "No such file or directory: '{…}'": its help says it takes a file (or - for standard input), and so does that
    refusal."""
    rule_always_added(tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "400")
    helped = " ".join(CliRunner().invoke(app, ["rules", "test", "--help"]).output.replace("│", " ").split())
    assert "--event FILE A file holding a CloudEvent as JSON" in helped, helped
    given = CliRunner().invoke(app, ["rules", "test", "always", "--event", '{"type": "program.delta", "data": {}}'])
    said = " ".join(given.output.replace("│", " ").split())
    assert given.exit_code == 2 and "(it takes a file holding the event, or - for standard input, not its JSON)" \
        in said, said



def test_rules_test_names_an_event_file_it_cannot_read_as_other_commands_name_theirs(tmp_path, monkeypatch):
    """`amx rules test --event missing.json` said "[Errno 2] No such file or directory: 'missing.json'", where amx
    rules add and the other commands reading a file say "cannot read missing.json: No such file or directory"."""
    rule_always_added(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    for path, why in (("missing.json", "No such file or directory"), (".", "Is a directory")):
        given = CliRunner().invoke(app, ["rules", "test", "always", "--event", path])
        shown = " ".join(given.output.replace("│", " ").split())
        assert given.exit_code == 2 and f"Invalid value for '--event': cannot read {path}: {why}" in shown, shown


@pytest.mark.parametrize("args,argument", [
    (["search", "host*"], "text"), (["terms", "extract", "missing.txt"], "path"),
    (["rules", "add", "missing.yaml"], "path"), (["budget", "import", "missing.csv"], "path"),
    (["flags", "set", "no_such_flag"], "name"),
    (["index", "rollback", "no_such_index"], "name"), (["budget", "campaigns", "show", "Not An Id!"], "campaign_id")])
def test_a_refused_argument_is_named_as_typer_names_it(tmp_path, monkeypatch, args, argument):
    """The commands' own refusals named an argument in capitals (TEXT, PATH; FILE for budget import's path) where
    Typer's own say 'program_id', as its usage line shows it: each names it as Typer's errors do."""
    from typer.main import get_command

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # (the files named are not there)
    command = get_command(app)
    for name in args:  # the command the arguments name, down its groups
        if name not in getattr(command, "commands", {}):
            break
        command = command.commands[name]
    typers = next(param for param in command.params if param.name == argument).get_error_hint()
    result = CliRunner().invoke(app, args)
    assert typers == f"'{argument}'"
    assert result.exit_code == 2 and f"Invalid value for {typers}: " in " ".join(result.output.split()), result.output


@pytest.mark.parametrize("args,option", [
    (["search", "--sort", "nope"], "--sort"), (["search", "--limit", "500"], "--limit"),
    (["budget", "run", "--day", "tomorrow"], "--day"), (["budget", "forecast", "--horizon", "3"], "--horizon"),
    (["budget", "allocate", "--metric", "profit"], "--metric"), (["tokens", "create", "--role", "owner"], "--role"),
    (["export", "programs", "--format", "jsonl", "--excel"], "--excel"),
    (["keys", "add", "connections/x", "--rotation", "manual", "--field", "api_token=s3cret"], "--field")])
def test_a_refused_option_is_named_as_click_names_it(tmp_path, monkeypatch, args, option):
    """The commands' own refusals named an option bare (Invalid value for --sort) where Click's own quote it
    ('--limit' past its max): each names it as Click's errors do."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, args)
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and f"Invalid value for '{option}': " in said, said


@pytest.mark.parametrize("args,option,said", [
    (["rules", "test", "always", "--program", "nope"], "--program", "must be a program's id, p_ and 16 hex digits"),
    (["rules", "show", "always", "--program", "nope"], "--program", "must be a program's id, p_ and 16 hex digits"),
    (["rules", "test", "always", "--event", "missing.json"], "--event", "cannot read missing.json: No such file"),
    (["budget", "forecast", "--from-store", "--horizon", "0"], "--horizon", "0 is not between 1 and 366 days"),
    (["tokens", "create", "--ttl", "0m"], "--ttl", "'0m' must be between 1m and"),
    (["tokens", "create", "--ttl", "soon"], "--ttl", "'soon' is not a number of days, hours or minutes"),
    (["budget", "campaigns", "add", "c1", "--name", "N", "--channel", "search", "--currency", "USD",
      "--program", "p_0123456789abcdef"], "--program", "program 'p_0123456789abcdef' is not in the index"),
    (["budget", "campaigns", "add", "c1", "--name", "N\a", "--channel", "search", "--currency", "USD"], "--name",
     "holds U+0007"),
    (["budget", "campaigns", "add", "c1", "--name", "N", "--channel", "search", "--currency", "USD", "--min", "300",
      "--max", "5"], "--min", "300 is above --max 5"),
    # said the channels and not what was typed, as `--kind netwrok` and POST /campaigns say it
    (["budget", "campaigns", "add", "c1", "--name", "N", "--channel", "serach", "--currency", "USD"], "--channel",
     "Input should be 'search', 'social', 'email', 'content', 'display', 'video', 'affiliate' or 'other', got "
     "'serach'"),
])
def test_an_option_a_check_beyond_the_command_refuses_is_a_usage_error_naming_it(tmp_path, monkeypatch, args,
                                                                                  option, said):
    """Options checked beyond the command (the API's checks, the store's, the forecast's) were refused as "error:
    --program: …", the option bare and not as a usage error, where the command's own refusals say "Invalid value for
    '--limit': …": each is a usage error naming the option as Click does, saying what it said."""
    rule_always_added(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and f"Invalid value for '{option}': {said}" in shown, (shown, result.exception)


def test_rules_test_given_neither_or_both_options_is_a_usage_error(tmp_path, monkeypatch):
    """`amx rules test always` said "error: give one of --event FILE or --program ID", not a usage error: no option
    is wrong alone, so it is a plain one, as Click's of options that go together."""
    event = rule_always_added(tmp_path, monkeypatch)
    event.write_text("{}")
    for options in ([], ["--event", str(event), "--program", "p_0123456789abcdef"],
                    ["--program", "p_0123456789abcdef", "--tick", "2026-12-07T06:00:00Z"]):
        result = amx(tmp_path, "rules", "test", "always", *options)
        assert result.returncode == 2 and result.stderr == ("error: give one of --event FILE, --program ID or --tick "
                                                            "TIME; see amx rules test --help\n"), result.stderr


def test_text_with_no_words_names_the_commands_own_argument_not_the_apis(tmp_path, monkeypatch):
    """`amx search '"'` said "q has no searchable words": q is the API's parameter, not anything the user typed. Each
    command names its own argument or option ('text', '--q')."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for command, named in ((["search", '"'], "'text'"), (["export", "programs", "--q", ","], "'--q'")):
        result = CliRunner().invoke(app, command)
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and named in said and "no searchable words" in said, (command, said)
        assert "q has" not in said


def test_text_of_more_words_than_a_search_takes_is_refused_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for words in ([" ".join(["word"] * 21)], ["word"] * 21):  # quoted as one argument, or a shell's word each
        result = CliRunner().invoke(app, ["search", *words])
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and "'text'" in said and "has 21 words; a search takes at most 20" in said, said


def test_search_takes_its_words_unquoted(tmp_path, monkeypatch):
    """`amx search web hosting`, as a newcomer types it, was refused: "Got unexpected extra argument(s) (hosting)";
    only `amx search "web hosting"` searched. Each word a shell splits off is one of the words searched."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "HostFast", "https://hostfast.net", description="Fast web hosting"),
                record("affiliateprograms", "WebShop", "https://webshop.example", description="A web shop"))
    unquoted, quoted = (CliRunner().invoke(app, ["search", *words]) for words in (["web", "hosting"], ["web hosting"]))
    assert unquoted.exit_code == 0, (unquoted.output, unquoted.exception)
    assert "1 program matching 'web hosting'" in unquoted.output and "HostFast" in unquoted.output, unquoted.output
    assert unquoted.output == quoted.output


def test_search_titles_its_words_as_searched_not_the_spaces_typed_around_them(tmp_path, monkeypatch):
    """`amx search " "` listed every program under "2 programs matching ' '", and `amx search " web  hosting "` said
    "matching ' web  hosting '": blanks are no words; the title names the words searched, and none when there are
    none, as `amx search` with no words titles every program."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("affiliateprograms", "HostFast", "https://hostfast.net", description="Fast web hosting"),
                          record("affiliateprograms", "WebShop", "https://webshop.example", description="A web shop"))
    blank, spaced = (CliRunner().invoke(app, ["search", words]) for words in (" ", " web  hosting "))
    assert blank.exit_code == 0 and blank.output.splitlines()[0].split() == ["2", "programs"], blank.output
    assert spaced.exit_code == 0 and "1 program matching 'web hosting'" in spaced.output, spaced.output


def test_a_search_of_a_networks_name_that_finds_nothing_names_its_filter(tmp_path, monkeypatch):
    """`amx search ClickBank` found nothing and said no more: networks are a filter, not words a program holds. A
    search finding nothing names the networks of the index its words name, with the option that filters by them."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("dira", "Keto Plan", "https://ketoplan.com/", network="ClickBank"))
    said = " ".join(CliRunner().invoke(app, ["search", "clickbank", "shoes"]).output.split())
    assert said == ("0 programs matching 'clickbank shoes'; ClickBank is a network, which the words do not search: "
                    "--network clickbank"), said
    said = " ".join(CliRunner().invoke(app, ["search", "awin"]).output.split())  # a network the index does not hold
    assert said == "0 programs matching 'awin'", said
    listed = CliRunner().invoke(app, ["search", "--network", "clickbank"]).output
    assert "Keto Plan" in listed, listed


def test_search_lists_open_programs_unless_a_status_is_asked(tmp_path, monkeypatch):
    """amx search listed closed programs among the open ones, as the API's search did: it lists the open ones (active,
    discovered) unless --status asks for others, and refuses a status no program can have, naming it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("dira", "Open Shoes", "https://openshoes.com/"),
                record("dira", "Shut Shoes", "https://shutshoes.com/", closed="Expired"))

    def listed(*options: str) -> list[str]:
        result = CliRunner().invoke(app, ["search", "shoes", *options])
        assert result.exit_code == 0, (result.output, result.exception)
        return sorted(name for name in ("Open Shoes", "Shut Shoes") if name in result.output)

    assert listed() == ["Open Shoes"]
    assert listed("--status", "closed_suspected") == ["Shut Shoes"]
    assert listed("--status", "active", "--status", "closed_suspected") == ["Open Shoes", "Shut Shoes"]
    # the two told apart in the list: a status but active said beside the name, as the explorer's list says it
    mixed = CliRunner().invoke(app, ["search", "shoes", "--status", "active", "--status", "closed_suspected"]).output
    assert "Shut Shoes (possibly closed)" in mixed and "Open Shoes (" not in mixed, mixed
    refused = CliRunner().invoke(app, ["search", "shoes", "--status", "closed"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "Invalid value for '--status': must be one of 'active'" in said, said


def test_search_ranks_by_the_three_month_epc_with_epc_window(tmp_path, monkeypatch):
    """`amx search --sort epc` ranked by the 7-day EPC only, which Awin does not report: its programmes came last,
    among the programs with no EPC. --epc-window 90d ranks by the 3-month EPC, as the API's epc_window; a window it
    does not know is a usage error naming it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("awin", "Pound Shoes", "https://poundshoes.com/",
                       extra={"epc_90d": "0.80", "epc_currency": "GBP"}),
                record("awin", "Pound Boots", "https://poundboots.com/",
                       extra={"epc_90d": "1.60", "epc_currency": "GBP"}),
                record("cj", "Dollar Shoes", "https://dollarshoes.com/",
                       extra={"epc_7d": "3.00", "epc_currency": "USD"}))

    def ranked(*options: str) -> list[str]:
        result = CliRunner().invoke(app, ["search", "--sort", "epc", *options])
        assert result.exit_code == 0, (result.output, result.exception)
        return [name for line in result.output.splitlines()
                for name in ("Pound Shoes", "Pound Boots", "Dollar Shoes") if name in line]

    assert ranked("--epc-window", "90d")[:2] == ["Pound Boots", "Pound Shoes"]
    assert ranked()[0] == "Dollar Shoes"
    refused = CliRunner().invoke(app, ["search", "--sort", "epc", "--epc-window", "30d"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "--epc-window" in said and "'30d' is not one of 7d, 90d" in said, said


def test_compare_shows_terms_a_network_states_as_data_not_a_dash(tmp_path, monkeypatch):
    """Impact states Semrush's $200 as data, with no text: `amx compare semrush.com` showed its row's commission as
    "★ —", the best terms starred on a dash, as if Impact listed none. Such a row shows the terms as parsed."""
    from affiliate_matrix.models import CommissionTerm

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("impact", "Semrush", "https://semrush.com", network="impact", network_program_id="9871",
                       commission=[CommissionTerm(type="flat", value_min=200, currency="USD")]))
    index.batch(record("awin", "Semrush", "https://semrush.com", commission_text="150 EUR"))
    result = CliRunner().invoke(app, ["compare", "semrush.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = compare_rows(result.output)
    assert rows["impact"]["Commission"] == "★ 200 USD", result.output
    assert rows["awin"]["Commission"] == "★ 150 EUR", result.output  # the best in its currency


def test_search_fits_a_narrow_terminal_by_dropping_columns_never_cutting_a_name(tmp_path, monkeypatch):
    """At 80 columns `amx search hosting` cut every name, domain and figure to "Hostin…", "blueho…", "commis…" (it
    alone of the CLI's tables did not fit the terminal as `amx compare` does); ids stay whole, to be pasted into
    `amx show`, and a search showing fewer programs than it found says so."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "80")
    index = Index(tmp_path)
    index.batch(*(record("cj", f"Hostinger Premium Web Hosting {n}", f"https://hostinger{n}.com",
                         commission_text="60% per sale", cookie_text="30 days", network="cj",
                         categories=["Web Hosting"]) for n in range(3)))
    result = CliRunner().invoke(app, ["search", "hosting", "--limit", "2"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "…" not in result.output, result.output
    # (but the next page's --cursor, whole to be pasted, as amx changes prints it)
    assert max(len(line) for line in result.output.splitlines() if "--cursor" not in line) <= 80, result.output
    said = " ".join(result.output.split())
    assert "3 programs matching 'hosting', the first 2 shown" in said and "(a wider terminal also shows: " in said
    ids = {p["id"] for p in index.programs()}
    shown = {cell.strip() for line in result.output.splitlines() for cell in line.split("│")[1:2]}
    assert len(shown & ids) == 2, result.output
    assert "Hostinger Premium Web Hosting" in " ".join(
        cell.strip() for line in result.output.splitlines() for cell in line.split("│")[2:3]), result.output


def test_search_words_holding_markup_are_refused_as_query_syntax_not_read_as_markup(tmp_path, monkeypatch):
    """`amx search 'bluehost [/]'` ended in a MarkupError traceback: the title printed the words as Rich markup. Its
    brackets are query syntax, which the words are refused for before any search, as the API's q is; words that
    are searched are shown as typed."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("cj", "Bluehost", "https://bluehost.com"))
    for typed in ("bluehost [/]", "bluehost [red]"):
        result = CliRunner().invoke(app, ["search", typed])
        assert result.exit_code == 2, (result.output, result.exception)
        assert "the text contains query syntax ('[')" in result.output, result.output
    result = CliRunner().invoke(app, ["search", "(bluehost)!"])  # punctuation, not syntax
    assert result.exit_code == 0 and "1 program matching '(bluehost)!'" in result.output, result.output


def cells_by_row(output: str) -> dict[str, dict[str, str]]:
    """A printed table's rows by their first cell, each cell's wrapped lines joined, under its header."""
    rows: dict[str, list[str]] = {}
    for line in output.splitlines():
        if line.startswith(("│", "┃")):
            cells = [cell.strip() for cell in line.strip("│┃").split(line[0])]
            key = "header" if line[0] == "┃" else cells[0] or key
            rows[key] = [" ".join(filter(None, pair)) for pair in zip(rows.get(key, [""] * len(cells)), cells)]
    header = rows.pop("header")
    return {key: dict(zip(header, cells)) for key, cells in rows.items()}


def test_rules_and_tokens_lists_fit_a_narrow_terminal_never_cutting_an_id_or_a_condition(tmp_path, monkeypatch):
    """At 80 columns `amx rules list` showed the demo's rule as "demo-commiss…" with its condition cut to
    "program.cate…", and `amx tokens list` every date as "2026-12-05T0…": the ids `rules test` and `tokens revoke`
    take, the condition and the expiry could not be read. They wrap or drop columns (named) instead."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "80")
    condition = ('delta.change == "updated" && "b2b_saas" in program.categories && '
                 'delta.commission_percent_new > delta.commission_percent_old')
    added_by_cli(tmp_path, {"id": "demo-commission-raised", "trigger": {"event": "program.delta"},
                            "condition": condition, "action": {"type": "alert"}})
    made = CliRunner().invoke(app, ["tokens", "create", "--role", "read"])
    assert made.exit_code == 0, made.output
    for command, key, whole in ((["rules", "list"], "demo-commission-raised", {"condition": condition}),
                                (["tokens", "list"], made.output.strip()[4:16], {})):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert "…" not in result.output and max(map(len, result.output.splitlines())) <= 80, result.output
        row = cells_by_row(result.output)[key]
        assert all(row[column] == text for column, text in whole.items()), result.output
    assert len(row["expires (UTC)"]) == 19, result.output  # 2027-03-05 03:34:12


KEY_IS = ("a key is a merchant's domain (bluehost.com), or its name's words joined by '-' (acme-shop), as amx compare "
          "names them given a merchant's name")


def test_compare_given_a_name_or_a_url_names_the_merchant_keys_it_may_mean(tmp_path, monkeypatch):
    """`amx compare Bluehost` (or the merchant's address) said only "no program for merchant 'Bluehost'": the user was
    left to guess the key it takes. It names the merchants matching what was typed; an id or key of 100,000
    characters is not echoed whole."""
    from affiliate_matrix.errors import NotFoundError

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("cj", "Bluehost", "https://bluehost.com", network="cj"), record("cj", "Tiny Notes"))
    for typed in ("Bluehost", "https://www.bluehost.com/hosting", "blue\u202ehost.com"):
        result = CliRunner().invoke(app, ["compare", typed])  # (the amx entry point prints it, exit 2)
        assert isinstance(result.exception, NotFoundError), (result.output, result.exception)
        assert str(result.exception) == (f"no program for merchant {typed!r}: {KEY_IS}; try: bluehost.com (Bluehost: 1 "
                                         "matching program, on CJ)")
    # a key matching nothing: what a key is, as GET /merchants/{key} says it (it said nothing)
    assert str(CliRunner().invoke(app, ["compare", "zzz"]).exception) == f"no program for merchant 'zzz': {KEY_IS}"
    for command in (["compare", "x" * 100_000], ["show", "x" * 100_000]):
        result = CliRunner().invoke(app, command)
        assert isinstance(result.exception, NotFoundError) and len(str(result.exception)) < 300, command


def test_compare_folds_a_merchant_key_as_the_api_and_the_explorer_fold_it(tmp_path, monkeypatch):
    """`amx compare BLUEHOST.COM` (or full-width ｂｌｕｅｈｏｓｔ．ｃｏｍ) said "no program for merchant", where
    GET /merchants/BLUEHOST.COM and the explorer's merchant page show Bluehost: the key is folded as theirs is
    (program_params.MerchantKey)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("cj", "Bluehost", "https://bluehost.com", network="cj"))
    for typed in ("BLUEHOST.COM", "ｂｌｕｅｈｏｓｔ．ｃｏｍ", "Bluehost.com"):
        result = CliRunner().invoke(app, ["compare", typed])
        assert result.exit_code == 0, (typed, result.output, result.exception)
        assert result.output.startswith("Bluehost (bluehost.com)") and "cj" in compare_rows(result.output), \
            result.output


def test_a_blank_id_or_key_is_hinted_no_merchant(tmp_path, monkeypatch):
    """`amx show ""` and `amx compare " "` named the index's first merchants as those "matching" the blank typed
    (its names search, given no words, lists every merchant): a blank matches none, and is said not found alone."""
    from affiliate_matrix.errors import NotFoundError

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    Index(tmp_path).batch(record("cj", "Bluehost", "https://bluehost.com", network="cj"))
    for command in (["show", ""], ["show", " "], ["compare", ""], ["compare", " "]):
        result = CliRunner().invoke(app, command)
        assert isinstance(result.exception, NotFoundError), (command, result.output, result.exception)
        assert "Bluehost" not in str(result.exception), (command, str(result.exception))  # (a key's example: bluehost.com)


def test_compare_s_hint_tells_alike_merchants_apart_by_what_the_names_search_found(tmp_path, monkeypatch, capsys):
    """The hint's names search counted each merchant's matching programs and read their networks, and the hint
    named only the key and the merchant: work done for nothing, and two alike merchants told apart by their keys
    alone. It says what the search found, printed as the error `amx` exits 2 with; past its first merchants, that
    there are more."""
    from affiliate_matrix.cli import main
    from affiliate_matrix.handlers.programs import MERCHANTS_HINTED

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("cj", "Acme Shop", "https://acmeshop.com", network="cj"),
                record("cj", "Acme Shop Offer", "https://acmeshop.com", network="cj", kind="offer"),
                record("affiliateprograms", "Acme Shops", "https://acme-shops.net", network="impact"))
    monkeypatch.setattr("sys.argv", ["amx", "compare", "Acme"])
    capsys.readouterr()  # (the indexing's logs)
    with pytest.raises(SystemExit) as exited:
        main()
    said = " ".join(capsys.readouterr().err.split())
    assert exited.value.code == 2 and said.startswith(f"error: no program for merchant 'Acme': {KEY_IS}; try: "), said
    hinted = re.findall(r"[\w.-]+ \([^)]*\)", said.split("; try: ")[1])  # (in their most relevant program's order)
    assert sorted(hinted) == ["acme-shops.net (Acme Shops: 1 matching program, on Impact)",
                              "acmeshop.com (Acme Shop: 2 matching programs, on CJ)"], said
    index.batch(*(record("cj", f"Acme {n}", f"https://acme{n}.com") for n in range(MERCHANTS_HINTED)))
    hint = str(CliRunner().invoke(app, ["compare", "Acme"]).exception)
    assert hint.count("matching program") == MERCHANTS_HINTED and hint.endswith(
        f", and more (the first {MERCHANTS_HINTED} named)"), hint


def test_show_names_each_record_by_its_key_and_page_not_as_json(tmp_path, monkeypatch):
    """`amx show` printed a program's records as JSON, `{"source": …, "record_key": …, "url": …, "batch_key":
    "batches/…/1cacd8….jsonl"}`, folded over a dozen lines: the source's own id and page are what a reader needs."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("offervault", "Keto Burn - US", "https://ketoburn-shop.com", key="5f0c2b",
                       page="https://offervault.com/offer/5f0c2b/keto-burn-us"))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = {tuple(cell.strip() for cell in line.split("│")[1:4]) for line in result.output.splitlines()}
    # (its page is listed under the claims, as every claim's is: the explorer shows no record's, an API's request)
    assert "https://offervault.com/offer/5f0c2b/keto-burn-us fetched" in result.output, result.output
    assert ("Source records", "OfferVault (CPA offers): 5f0c2b",
            "OfferVault (CPA offers) (offervault)") in rows, result.output
    assert "batch_key" not in result.output


def test_show_says_each_accounts_contract_and_the_names_a_program_is_known_by(tmp_path, monkeypatch):
    """Impact's live campaign list says SunnySports' contract `Expired` and names its advertiser, Adorama: `amx show`
    said "networks: Impact" and no other name, as if the account could promote it and nobody else listed it so."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("impact", "SunnySports", "http://sunnysports.com", network="impact", contract="expired",
                       aliases=["Adorama"]))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = {tuple(cell.strip() for cell in line.split("│")[1:4]) for line in result.output.splitlines()}
    assert ("Networks", "Impact (account: expired)", "Impact partner API (impact)") in rows, result.output
    assert "also known as: Adorama" in result.output.splitlines()


def bluehost_shown(tmp_path, monkeypatch):
    """`amx show` of one program (Bluehost, from a directory page), run as a user runs it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale"))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_show_says_when_each_page_was_fetched_as_every_command_says_a_time(tmp_path, monkeypatch):
    """`amx show` wrote a page's fetch time in ISO 8601 (`2026-12-01T10:00:00+00:00`), where every other command
    writes a time in UTC as `2026-12-01 10:00:00 UTC` (wording.utc_said)."""
    from tests.support.indexing import T1

    result = bluehost_shown(tmp_path, monkeypatch)
    assert f"fetched {T1:%Y-%m-%d %H:%M:%S} UTC, raw copy" in result.output, result.output


def test_changes_says_a_created_programs_countries_were_none_not_every_country(tmp_path, monkeypatch):
    """A program created with countries was listed as `countries every country → US`: its old value is none (it did
    not exist), not a claim of every country, as the explorer's change feed says (`— → United States`)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(record("impact", "Wine Express", "http://www.wineexpress.com/", network="impact",
                                 countries=["US"]))
    result = CliRunner().invoke(app, ["changes", "--field", "countries"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Countries: — → United States" in result.output and "every country" not in result.output, result.output


def test_connections_list_shows_every_connection_and_names_an_unreadable_one(tmp_path, monkeypatch):
    """`amx connections` had add and delete but no list: after the demo a user could not see the connections
    (`demo-cj`, …) that `amx replay` and `amx scrape` take, short of reading the store's files."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, SyncResult, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    added = CliRunner().invoke(app, ["connections", "add", "dir-main", "--source", "affiliateprograms"])
    assert added.exit_code == 0, added.output
    rt = Runtime("test", Settings(data_dir=tmp_path))
    synced = SyncResult(status="succeeded", finished_at=datetime(2026, 11, 22, 3, 4, tzinfo=UTC), records=12,
                        errors=["one page"])
    save_connection(rt.store, Connection(id="cj-main", source="cj", enabled=False, last_sync=synced), create=True)
    rt.store.put("connections/broken.json", b"{not json")
    result = CliRunner().invoke(app, ["connections", "list"])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = cells_by_row(result.output)
    assert rows["dir-main"] == {"id": "dir-main", "source": "AffiliatePrograms.com (affiliateprograms)",
                                "schedule": "every day at 03:00 UTC", "cron": "0 3 * * *", "enabled": "yes",
                                "healthy": "yes", "last sync (UTC)": "—"}, result.output
    assert rows["cj-main"]["enabled"] == "no", result.output
    assert rows["cj-main"]["last sync (UTC)"] == "succeeded 2026-11-22 03:04, 12 listings, 1 failed", result.output
    assert "2 connections" in result.output and "unreadable: connections/broken.json" in result.output


def test_connections_list_counts_one_record_in_the_singular(tmp_path, monkeypatch):
    """A sync that read one record (Awin's documented programme list holds one) was listed "1 records"."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, SyncResult, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    synced = SyncResult(status="succeeded", finished_at=datetime(2026, 11, 22, 3, 4, tzinfo=UTC), records=1)
    save_connection(Runtime("test", Settings(data_dir=tmp_path)).store,
                    Connection(id="awin-main", source="awin", last_sync=synced), create=True)
    result = CliRunner().invoke(app, ["connections", "list"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert cells_by_row(result.output)["awin-main"]["last sync (UTC)"] == "succeeded 2026-11-22 03:04, 1 listing"


def test_a_category_no_program_can_have_is_refused_naming_the_categories(tmp_path, monkeypatch):
    """`amx search --category hosting` (the taxonomy says hosting_domains) listed "0 programs", as did the API's
    category=hosting and `amx export programs --category hosting` an empty file: read as "no hosting programs". A category
    outside the taxonomy is a usage error naming the ones there are, as an unknown status is (export's too)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", categories=["Web Hosting"]))
    for command, named in ((["search", "--category", "hosting"], "hosting_domains"),
                           (["export", "programs", "--category", "hosting"], "hosting_domains"),
                           (["export", "programs", "--status", "closed"], "closed_suspected")):
        refused = CliRunner().invoke(app, command)
        said = " ".join(refused.output.split())
        assert refused.exit_code == 2 and f"Invalid value for '{command[-2]}': must be one of " in said \
            and named in said, (command, said)
    found = CliRunner().invoke(app, ["search", "--category", "hosting_domains"])
    assert found.exit_code == 0 and "Bluehost" in found.output, found.output
    answer = index.api.get("/programs?category=hosting", headers=index.auth)
    assert answer.status_code == 400 and answer.get_json()["error"]["message"].startswith("category"), answer.get_json()
    assert index.get("/programs?category=hosting_domains")["total"] == 1


def test_freshness_lists_the_whole_index_after_its_sources(tmp_path, monkeypatch):
    """`amx freshness` filed its overall row, "all", among the sources by name (between affiliationlist and awin)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    index = Index(tmp_path)
    index.batch(record("awin", "Bluehost", "https://bluehost.com"))
    index.batch(record("affiliateprograms", "Canva", "https://canva.com"))
    result = CliRunner().invoke(app, ["freshness"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert list(cells_by_row(result.output)) == ["AffiliatePrograms.com (affiliateprograms)",
                                                 "Awin publisher API (awin)", "all"], result.output


def test_freshness_lists_the_programs_verified_longest_ago_under_one_heading(tmp_path, monkeypatch):
    """It printed each of the five programs verified longest ago as "oldest: …, 0.0 days": five "oldest" in a row,
    and an age that did not say of what."""
    from tests.support.indexing import T1

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    index = Index(tmp_path)
    index.batch(record("awin", "Bluehost", "https://bluehost.com", at=T1))
    index.batch(record("affiliateprograms", "Canva", "https://canva.com", at=T1))
    result = CliRunner().invoke(app, ["freshness"])
    assert result.exit_code == 0, (result.output, result.exception)
    lines = result.output.splitlines()
    heading = lines.index("verified longest ago:")
    listed = lines[heading + 1:]
    # when, to the minute in UTC as every time is shown, and how long ago ("verified 0.0 days ago" alone said no time)
    assert len(listed) == 2 and all(re.fullmatch(r"  (Bluehost|Canva) \(p_[0-9a-f]+\), verified "
                                                 rf"{T1:%Y-%m-%d %H:%M} UTC, [\d.]+ days ago", line)
                                    for line in listed), result.output
    assert "oldest:" not in result.output


def test_freshness_of_an_empty_index_says_so_in_one_line(tmp_path, monkeypatch):
    """It printed a table's head with no row and nothing more."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["freshness"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.output.strip().splitlines() == [
        "No active program in the index yet: `amx demo` fills it from recorded sources, `amx scrape SOURCE` from a "
        "live one."], result.output


def test_a_failure_a_command_lists_is_not_printed_again_as_its_log_line(tmp_path, monkeypatch):
    """`amx keys revoke` said which connections it made unhealthy, then printed the same as a `key.revoked` log line
    on stderr (`amx scrape` each failed page, `keys rotate` its failure, `discover` a provider's): a command's console
    shows each once. Asked for (AMX_LOG_LEVEL), the logs are written whole, for whatever collects them."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AMX_LOG_LEVEL", raising=False)
    runner = CliRunner()
    for path, asked in (("connections/one", None), ("connections/two", "warning")):
        added = runner.invoke(app, ["keys", "add", path, "--rotation", "manual", "--field", "api_token"],
                              input="sk_test_0123456789abc\n")
        assert added.exit_code == 0, added.output
        if asked:
            monkeypatch.setenv("AMX_LOG_LEVEL", asked)
        revoked = runner.invoke(app, ["keys", "revoke", path])
        assert revoked.exit_code == 0 and f"{path}: revoked; unhealthy now: no connection" in revoked.stdout
        assert ("key.revoked" in revoked.stderr) == bool(asked), revoked.stderr


def test_an_empty_amx_log_level_is_unset_for_the_cli_and_the_demo_as_for_every_setting(tmp_path, monkeypatch):
    """`AMX_LOG_LEVEL=` (empty) was taken as the logs asked for by the CLI (and the demo's own copy of that check),
    which then wrote info logs, while every setting takes an empty variable as unset (config.VARIABLES). The CLI and
    the demo now ask as Settings reads them: empty is unset, and the name in any case is set."""
    from affiliate_matrix.demo import show

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_LOG_LEVEL", "")
    runner = CliRunner()
    for path, lower_case in (("connections/one", None), ("connections/two", "warning")):
        added = runner.invoke(app, ["keys", "add", path, "--rotation", "manual", "--field", "api_token"],
                              input="sk_test_0123456789abc\n")
        assert added.exit_code == 0, added.output
        if lower_case:
            monkeypatch.setenv("amx_log_level", lower_case)
        revoked = runner.invoke(app, ["keys", "revoke", path])
        assert revoked.exit_code == 0, revoked.output
        assert ("key.revoked" in revoked.stderr) == bool(lower_case), revoked.stderr
    monkeypatch.delenv("amx_log_level")
    levels = []

    class NotTold(Exception):
        pass

    def started(function, settings):  # the demo's runtime, as it reads its settings: the story is not told
        levels.append(settings.log_level)
        raise NotTold

    monkeypatch.setattr(show, "Runtime", started)
    with pytest.raises(NotTold):
        show.run(None)
    assert levels == ["error"]


def test_keys_status_with_no_key_says_so(tmp_path, monkeypatch):
    """`amx keys status` with no key registered printed an empty table's headers, nothing saying why it was empty or
    how to register one."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["keys", "status"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "no keys registered" in result.output and "amx keys add" in result.output and "┃" not in result.output


def test_an_id_no_connection_or_key_can_have_is_named_as_not_existing_not_a_traceback(tmp_path, monkeypatch):
    """`amx scrape é`, `amx replay ../x`, `amx connections delete é` and `amx keys rotate é` ended in a traceback
    (the object store's ValueError on the key built from it, exit 1, which means work failed): what was typed names no
    connection or key, and says so, as an id that could be one does (the amx entry point prints it, exit 2)."""
    from affiliate_matrix.errors import NotFoundError

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for typed in ("é", "../x", "a b", "x" * 10_000):
        for command in (["scrape", typed], ["replay", typed], ["connections", "delete", typed],
                        ["keys", "rotate", typed], ["keys", "revoke", typed]):
            result = CliRunner().invoke(app, command)
            assert isinstance(result.exception, NotFoundError), (command[:2], result.exception)
            assert len(str(result.exception)) < 300, command[:2]
    said = str(CliRunner().invoke(app, ["replay", "é"]).exception)
    assert said.startswith("there is no connection 'é'") and "amx connections list" in said, said


def test_scrape_and_replay_name_each_failed_page_once_and_where_its_raw_copy_and_reason_are(tmp_path, monkeypatch):
    """`amx scrape` and `amx replay` printed a page the plugin could not read with its address twice ("parse
    http://…/p/surfshark/: http://…/p/surfshark/: no h1.program-name…") and ended "(raw copies and reasons under
    errors/)", not saying under what, where the demo names both files. Each failure is named once, with the paths of
    its raw copy and of the reason kept beside it; the batch is a path too."""
    from pathlib import Path

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    monkeypatch.setenv("COLUMNS", "1000")  # a line a failure
    monkeypatch.chdir(tmp_path)
    rt = Runtime("test", Settings(data_dir=tmp_path))
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50), create=True)
        scraped = CliRunner().invoke(app, ["scrape", "ap"])
    replayed = CliRunner().invoke(app, ["replay", "ap"])
    page = f"{urls['affiliateprograms']}/p/surfshark/"
    for result in (scraped, replayed):
        assert result.exit_code == 1, (result.output, result.exception)
        lines = result.output.splitlines()
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"parse {page}"))  # not the log line
        assert lines[at].count(page) == 1 and lines[at].strip().startswith(f"parse {page}: no h1.program-name"), \
            result.output
        raw, why = lines[at + 1].strip().removeprefix("kept raw: "), lines[at + 2].strip().removeprefix("why: ")
        assert b"Surfshark" in Path(raw).read_bytes() and page in Path(why).read_text(), result.output
    batch = next(line for line in scraped.output.splitlines() if " batch " in line).rpartition(" batch ")[2]
    assert Path(batch).is_file(), scraped.output
    # at 80 columns Rich broke each path past the terminal's width with a line break, which a paste kept: each is a
    # line of its own, whole, for the terminal to wrap
    monkeypatch.setenv("COLUMNS", "80")
    narrow = CliRunner().invoke(app, ["replay", "ap"])
    kept = [line.strip().partition(": ")[2] for line in narrow.output.splitlines()
            if line.strip().startswith(("kept raw: ", "why: "))]
    assert len(kept) == 2 and all(Path(path).is_file() for path in kept), narrow.output


def test_amx_replay_of_an_api_connection_reads_its_stored_answers_with_no_network(tmp_path, monkeypatch):
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    monkeypatch.setenv("COLUMNS", "200")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    with recorded_sites("clickbank", "affiliatefix") as urls:
        for connection_id, source in (("cb", "clickbank"), ("af", "affiliatefix")):
            save_connection(rt.store, Connection(id=connection_id, source=source, base_url=urls[source],
                                                 rate_limit_per_s=50), create=True)
            scraped = CliRunner().invoke(app, ["scrape", connection_id])  # af's recorded site has a page it cannot read
            assert scraped.exit_code == (1 if connection_id == "af" else 0), (scraped.output, scraped.exception)
    replayed = CliRunner().invoke(app, ["replay", "cb"])  # the recorded sites are stopped
    assert replayed.exit_code == 0, (replayed.output, replayed.exception)
    assert replayed.output.startswith("replayed 1 stored answer: 4 listings, 0 failures"), replayed.output
    rebuilt = CliRunner().invoke(app, ["replay", "--all"])
    lines = rebuilt.output.splitlines()
    assert rebuilt.exit_code == 1 and lines[-1] == "1 page or response failed, 0 connections left out", lines
    assert lines[0].startswith("af: replayed ") and " stored pages, 3 listings, 1 failure" in lines[0], lines
    assert "cb: replayed 1 stored answer, 4 listings, 0 failures" in lines, lines
    assert "discovery: 0 batches indexed again" in lines, lines
    for wrong in (["replay"], ["replay", "cb", "--all"]):
        refused = CliRunner().invoke(app, wrong)
        assert refused.exit_code == 2 and "give a connection, or --all for every one" in refused.output, refused.output
        # the argument named as its usage line and Click's own refusals name it (it said 'CONNECTION_ID')
        assert "Invalid value for 'connection_id'" in refused.output, refused.output


def test_scrape_refuses_a_disabled_connection_as_the_apis_sync_does(tmp_path, monkeypatch):
    """`amx scrape <id>` of a connection disabled through the API crawled it as if enabled, where the API's
    `POST /connections/{id}/sync` answers 409 "is disabled": the two disagreed on whether a person may sync it. Both
    refuse it, in the same words, fetching nothing; `amx replay` (no fetch) still reads its kept pages."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.errors import ConflictError
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    # an address nothing answers at: a crawl would record fetch failures, not refuse
    save_connection(rt.store, Connection(id="off", source="affiliateprograms", base_url="http://127.0.0.1:9",
                                         enabled=False), create=True)
    result = CliRunner().invoke(app, ["scrape", "off"])
    assert isinstance(result.exception, ConflictError), (result.output, result.exception)
    assert str(result.exception).startswith("connection 'off' is disabled: enable it before syncing")
    assert "amx connections edit off --enabled" in str(result.exception)  # the command line's way, not a PATCH alone
    assert not list(rt.store.list("batches/")), "nothing is collected"
    admin = {"Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"}
    answer = function_client("connections").post("/connections/off/sync", headers=admin)
    assert answer.status_code == 409 and answer.get_json()["error"]["message"] == str(result.exception)


def test_an_edit_that_leaves_a_loopback_base_url_as_it_is_is_not_refused_for_it(tmp_path, monkeypatch):
    """After `amx demo` (which writes its connections where loopback is allowed, their addresses its recorded sites),
    `amx connections edit demo-affiliateprograms --schedule …` was refused for the base_url it did not write. The
    address is judged where a write makes a sync fetch from it anew: another base_url, or the connection enabled."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, load_connection, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    save_connection(rt.store, Connection(id="demo-ap", source="affiliateprograms", base_url="http://127.0.0.1:9/",
                                         enabled=False, disabled_reason="the demo's"), create=True)
    edited = CliRunner().invoke(app, ["connections", "edit", "demo-ap", "--schedule", "0 4 * * *"])
    assert edited.exit_code == 0, (edited.output, edited.exception)
    assert load_connection(rt.store, "demo-ap")[0].schedule == "0 4 * * *"
    for options in (["--enabled"], ["--base-url", "http://127.0.0.1:10/"]):
        refused = CliRunner().invoke(app, ["connections", "edit", "demo-ap", *options])
        said = " ".join((refused.output + str(refused.exception)).replace("│", " ").split())  # (--base-url's named)
        assert refused.exit_code != 0 and "non-public address (loopback)" in said, (options, said)


def test_keys_status_fits_a_narrow_terminal_never_cutting_a_path_or_a_date(tmp_path, monkeypatch):
    """At 80 columns `amx keys status` was a plain table that showed every key as "connec…" and its expiry as
    "2027-0…": the path `keys rotate` and `keys revoke` take could not be read. It keeps the path and the dates whole
    and drops columns (named) instead; a column whose header is wider than its cells ("days left" over "89") no
    longer has every column cut to fit it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    added = CliRunner().invoke(app, ["keys", "add", "connections/awin-main", "--rotation", "manual", "--source", "awin"],
                               input='{"api_token": "t", "publisher_id": "1"}')
    assert added.exit_code == 0, added.output
    for columns in (80, 50):
        monkeypatch.setenv("COLUMNS", str(columns))
        result = CliRunner().invoke(app, ["keys", "status"])
        assert result.exit_code == 0, (result.output, result.exception)
        assert max(map(len, result.output.splitlines())) <= columns, result.output
        row = cells_by_row(result.output)["connections/awin-main"]
        assert row["version"] == "1" and len(row["expires (UTC)"]) == 10, result.output  # 2027-03-05
        assert "(a wider terminal also shows:" in result.output, result.output


def test_scrape_says_what_it_indexed_and_what_it_left_out_and_why(tmp_path, monkeypatch):
    """`amx scrape` said how many records it read, never what became of them in the index: a run whose connection
    was deleted meanwhile printed "6 records, …" as any other, its records left out of the index said only in a log
    line. It says how many programs are new, updated and unchanged, and what was not indexed, and why."""
    import affiliate_matrix.pipeline as pipeline
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, connection_key, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    monkeypatch.setenv("COLUMNS", "1000")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50), create=True)
        first = CliRunner().invoke(app, ["scrape", "ap"])
        programs = Index(tmp_path).programs()
        assert programs and f"indexed: {len(programs)} new programs, 0 updated, 0 unchanged" in first.output, \
            first.output
        assert "not indexed" not in first.output

        read = pipeline.incomplete_because

        def deleted_meanwhile(*args, **kwargs):  # the run has read its pages; its batch is not stored yet
            rt.store.delete(connection_key("ap"))
            return read(*args, **kwargs)

        monkeypatch.setattr(pipeline, "incomplete_because", deleted_meanwhile)
        second = CliRunner().invoke(app, ["scrape", "ap"])
    assert "indexed: 0 new programs, 0 updated, 0 unchanged" in second.output, second.output
    assert f"not indexed: {len(programs)} records of connection ap, deleted since the run" in second.output


def test_keys_add_refuses_a_key_its_source_cannot_use(tmp_path, monkeypatch):
    """`amx keys add --source cj` stored a key holding only api_token (CJ reads requestor_cid too), and `--source nosuch`
    or a directory's name stored one for no source that reads it: each was found only at its connection's first test
    or sync, told "refused, or missing or incomplete". Each is refused here, naming what is wrong, and nothing is
    stored."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.errors import AmxError
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for source, said in (("cj", "a key of source 'cj' holds api_token, requestor_cid: this one lacks requestor_cid"),
                         ("nosuch", "unknown source 'nosuch'"),
                         ("affiliateprograms", "source 'affiliateprograms' reads no credentials")):
        result = CliRunner().invoke(app, ["keys", "add", "connections/k", "--rotation", "manual", "--source", source],
                                    input='{"api_token": "t"}')
        assert isinstance(result.exception, AmxError) and str(result.exception).startswith(said), \
            (source, result.output, result.exception)
    assert not list(Runtime("test", Settings(data_dir=tmp_path)).store.list("keys/"))
    # a JSON object lacking a field is mended in the object: it said "(name each with --field)", which mends nothing
    lacking = CliRunner().invoke(app, ["keys", "add", "connections/k", "--rotation", "manual", "--source", "cj"],
                                 input='{"api_token": "t"}')
    assert "as a key of the JSON object on standard input" in str(lacking.exception), lacking.exception
    whole = CliRunner().invoke(app, ["keys", "add", "connections/k", "--rotation", "manual", "--source", "cj"],
                               input='{"api_token": "t", "requestor_cid": "7811141"}')
    assert whole.exit_code == 0, (whole.output, whole.exception)


def test_what_a_run_says_reads_as_english_whatever_the_source_or_the_count(tmp_path, monkeypatch):
    """`amx replay` of an Awin connection never synced said "aw is a awin API connection", and a scrape that made one
    program "indexed: 1 new programs … 1 changes". Of a disabled one it said to run `amx scrape`, which refuses it: it
    says to enable it first."""
    from affiliate_matrix.cli.common import print_indexed
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.pipeline import IndexReport

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    assert CliRunner().invoke(app, ["connections", "add", "aw", "--source", "awin", "--credentials-path",
                                    "connections/aw", "--disabled"]).exit_code == 0  # no key added: taken disabled
    result = CliRunner().invoke(app, ["replay", "aw"])
    assert isinstance(result.exception, InvalidInput), (result.output, result.exception)
    assert str(result.exception) == ("aw has no API answers kept to replay (syncs keep them since 2026-12-07): amx "
                                     "connections edit aw --enabled, then amx scrape aw syncs it, and a replay reads "
                                     "that sync's answers")  # (disabled)
    monkeypatch.setenv("COLUMNS", "200")
    printed = CliRunner().invoke(typer_of(lambda: print_indexed([IndexReport("b", 1, created=1, deltas=[object()]),
                                                                  IndexReport("b", 2, created=2)])))
    assert printed.output.splitlines() == ["indexed: 1 new program, 0 updated, 0 unchanged; 1 change",
                                           "indexed: 2 new programs, 0 updated, 0 unchanged; 0 changes"], printed.output


def typer_of(function):
    """A command running the function, for CliRunner: what it prints to the commands' console."""
    import typer

    one = typer.Typer()
    one.command()(function)
    return one


def test_scrape_of_a_connection_whose_key_was_revoked_says_so(tmp_path, monkeypatch):
    """`amx scrape` of a connection whose key `amx keys revoke` destroyed said "secret 'connections/awin-main' version
    1 not found or destroyed": the secret store's words, not that the key was revoked, nor what to do."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.keys import KeyRecord, add_key, revoke
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_key(rt, KeyRecord(path="connections/awin-main", rotation="manual", owner_source="awin",
                          created_at=datetime(2026, 12, 1, tzinfo=UTC)), {"api_token": "t", "publisher_id": "1"})
    save_connection(rt.store, Connection(id="awin-main", source="awin", credentials_path="connections/awin-main"),
                    create=True)
    revoke(rt, "connections/awin-main", datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    result = CliRunner().invoke(app, ["scrape", "awin-main"])
    assert isinstance(result.exception, NotFoundError), (result.output, result.exception)
    assert str(result.exception) == ("connection 'awin-main': the key at 'connections/awin-main' was revoked at "
                                     "2026-12-01 09:30 UTC; add a new one there (amx keys add)")


def test_connections_test_of_a_revoked_or_missing_key_says_which_once(tmp_path, monkeypatch):
    """`amx connections test` of a connection whose key was revoked said only "the connection's credentials were
    refused, or are missing or incomplete" (the API's words for all, telling no one which secrets exist), where `amx
    scrape` says "revoked at …"; the reason was a warning log line printed below it. amx reads the secrets itself: its
    check says the reason, and the log line is not printed a second time."""
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, save_connection
    from affiliate_matrix.keys import KeyRecord, add_key, revoke
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per check
    rt = Runtime("test", Settings(data_dir=tmp_path))
    add_key(rt, KeyRecord(path="connections/awin-main", rotation="manual", owner_source="awin",
                          created_at=datetime(2026, 12, 1, tzinfo=UTC)), {"api_token": "t", "publisher_id": "1"})
    for cid in ("awin-main", "awin-none"):
        save_connection(rt.store, Connection(id=cid, source="awin", credentials_path=f"connections/{cid}"),
                        create=True)
    revoke(rt, "connections/awin-main", datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    revoked = CliRunner().invoke(app, ["connections", "test", "awin-main"])
    missing = CliRunner().invoke(app, ["connections", "test", "awin-none"])
    assert revoked.output.splitlines() == [
        "credentials accepted: failed — connection 'awin-main': the key at 'connections/awin-main' was revoked at "
        "2026-12-01 09:30 UTC; add a new one there (amx keys add)"], revoked.output
    assert missing.output.splitlines() == [
        "credentials accepted: failed — connection 'awin-none': secret 'connections/awin-none' not found"], \
        missing.output
    assert (revoked.exit_code, missing.exit_code) == (1, 1)


def test_a_schedule_longer_than_any_cron_expression_is_refused_without_echoing_it(tmp_path, monkeypatch):
    """`amx connections add --schedule` took a 40,000-character schedule (a list of 20,000 minutes) and stored it,
    for every cron tick to read, and one of 60,000 characters the cron library refused was echoed whole in the error.
    Both are refused in one short line; the longest real expression (every value listed) is still taken."""

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for schedule in ("*/1 * * * " + "1," * 20_000 + "2", "x" * 60_000 + " * * * *"):
        result = CliRunner().invoke(app, ["connections", "add", "c", "--source", "affiliateprograms",
                                          "--schedule", schedule])
        said = " ".join(result.output.replace("│", " ").split())
        assert result.exit_code == 2 and "Invalid value for '--schedule': " in said and len(said) < 500, said[:600]
    every = " ".join(",".join(map(str, values)) for values in (range(60), range(24), range(1, 32), range(1, 13),
                                                                range(7)))
    taken = CliRunner().invoke(app, ["connections", "add", "c", "--source", "affiliateprograms", "--schedule", every])
    assert taken.exit_code == 0, (taken.output, taken.exception)


def test_a_dry_run_takes_the_event_the_api_takes_and_names_a_bad_field_in_one_line(tmp_path, monkeypatch):
    """`amx rules test --event` refused an event with no id, source or time, which `POST /rules/{id}/test` fills in
    as a dry run's, and printed pydantic's report of it: three errors over nine lines with their documentation URLs.
    It takes what the API takes, and a bad field is one line naming it."""
    import json

    event = rule_always_added(tmp_path, monkeypatch)
    event.write_text(json.dumps({"type": "program.delta", "data": {"program_id": "p_1", "change": "updated"}}))
    result = CliRunner().invoke(app, ["rules", "test", "always", "--event", str(event)])
    assert result.exit_code == 0 and "true → true: would dispatch alert" in " ".join(result.output.split()), \
        (result.output, result.exception)
    for body, named in (({"type": "program.delta", "time": "yesterday"}, "time"),
                        ({"type": "program.delta", "colour": "red"}, "colour")):
        event.write_text(json.dumps(body))
        refused = CliRunner().invoke(app, ["rules", "test", "always", "--event", str(event)])
        said = " ".join(refused.output.replace("│", " ").split())
        assert refused.exit_code == 2 and "Invalid value for '--event': " in said and named in said, said
        assert "errors.pydantic.dev" not in said, said


def test_a_campaign_id_is_described_and_refused_in_words_not_as_a_pattern(tmp_path, monkeypatch):
    """`amx budget campaigns add --help` said an id may hold ':', which the id's pattern refuses, and the refusal was
    the pattern itself ("String should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'")."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    helped = CliRunner().invoke(app, ["budget", "campaigns", "add", "--help"])
    described = next(line for line in helped.output.splitlines() if "campaign_id" in line and "<str>" in line)
    assert helped.exit_code == 0 and " : " not in described, described
    for bad in ("a:b", "_a", "a" * 101):
        refused = amx(tmp_path, "budget", "campaigns", "add", bad, "--name", "N", "--channel", "search",
                      "--currency", "USD",
                      env={"AMX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})
        said = " ".join(refused.stderr.split())
        assert refused.returncode == 2 and f"{bad[:20]}" in said and "letters, digits" in said, said
        assert "pattern" not in said, said


def test_budget_run_names_the_day_it_shows_and_each_amount_as_its_currency_writes_it(tmp_path, monkeypatch):
    """`amx budget run` printed a day's allocations without the day (tomorrow, by default), said nothing when it
    showed a run stored before rather than running it, and wrote a total as it was set ("EUR: 100 EUR" beside
    "80.00 EUR") and yen with cents ("1,000.00 JPY")."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "EUR=100,JPY=5000")
    for campaign_id, currency in (("eu", "EUR"), ("jp", "JPY")):
        added = CliRunner().invoke(app, ["budget", "campaigns", "add", campaign_id, "--name", campaign_id,
                                         "--channel", "search", "--currency", currency])
        assert added.exit_code == 0, added.output
    first = CliRunner().invoke(app, ["budget", "run", "--day", "2026-12-06"])
    assert first.exit_code == 0, (first.output, first.exception)
    lines = first.output.splitlines()
    assert lines[0] == "allocation for 2026-12-06", lines
    assert "EUR: 100.00 EUR" in lines and "eu: 100.00 EUR" in lines and "JPY: 5,000 JPY" in lines, lines
    assert "jp: 5,000 JPY" in lines, lines
    again = CliRunner().invoke(app, ["budget", "run", "--day", "2026-12-06"])
    assert again.exit_code == 0 and again.output.splitlines()[0] == \
        "allocation for 2026-12-06, as stored before (--replace runs the day again)", again.output


def test_rules_show_prints_one_rule_whole_and_what_it_did_last(tmp_path, monkeypatch):
    """There was no `amx rules show`: `amx rules list` leaves out a rule's description and its action's parameters
    (a notify's text and webhook), and nothing on the command line said when a rule fired and what came of it
    (GET /activations alone did). It shows the rule whole, the webhook as its host (the address is a credential),
    and its newest activations."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.store import record_activation
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    added_by_cli(tmp_path, {"id": "raised", "description": "commission raised in gaming",
                            "trigger": {"event": "program.delta"}, "condition": '"gaming" in program.categories',
                            "action": {"type": "notify", "params": {
                                "webhook_url": "https://hooks.slack.com/services/T0/B0/SECRET",
                                "text": "{program_name} raised {commission_old}% → {commission_new}%"}}})
    shown = CliRunner().invoke(app, ["rules", "show", "raised"])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    for said in ("commission raised in gaming", "program.delta", '"gaming" in program.categories',
                 "{program_name} raised {commission_old}% → {commission_new}%", "https://hooks.slack.com/…",
                 "cool-down: 3,600 s", "no activation yet"):
        assert said in shown.output, (said, shown.output)
    assert "SECRET" not in shown.output
    record_activation(Runtime("test", Settings(data_dir=tmp_path)), {
        "id": "a_" + "1" * 24, "rule_id": "raised", "trigger": "program.delta", "event_id": "e1", "decision": "fired",
        "action": "notify", "action_event_id": "x", "outcome": "failed", "detail": "webhook answered HTTP 404",
        "inputs": {}, "at": "2026-11-22T06:00:00+00:00"})
    shown = CliRunner().invoke(app, ["rules", "show", "raised"])
    # (in UTC to the second, as every table shows a time: it was the stored ISO time, microseconds and all)
    assert "2026-11-22 06:00:00 UTC fired → Post to a webhook: failed — webhook answered HTTP 404" \
        in shown.output, shown.output
    missing = CliRunner().invoke(app, ["rules", "show", "nope"])
    assert missing.exit_code != 0 and str(missing.exception) == "there is no rule 'nope' (amx rules list)"


def test_a_bad_campaign_bound_names_the_option_that_was_given(tmp_path):
    """`amx budget campaigns add x --max -5` said "invalid max_budget: …", a field of the API's, not the --max typed."""
    env = {"AMX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    usd = ["--currency", "USD"]
    for options, said in (([*usd, "--max", "-5"], "'--max'"), ([*usd, "--min", "1.005"], "'--min'"),
                          ([*usd, "--min", "300", "--max", "100"], "'--min': 300 is above --max 100"),
                          (["--currency", "JPY", "--max", "100.50"], "'--max': JPY has no minor unit")):
        refused = amx(tmp_path, "budget", "campaigns", "add", "c1", "--name", "N", "--channel", "search", *options,
                      env=env)
        shown = " ".join(refused.stderr.split())
        assert refused.returncode == 2 and said in shown and "_budget" not in shown, (options, shown)


def test_up_in_the_foreground_says_where_each_function_answers(tmp_path, monkeypatch):
    """`amx up` (what `./task up` and the README run) said only "up.ready functions=11" once ready: where the explorer
    and the API answered was in up.json alone (only `--detach` printed it). It prints each function's address."""
    from affiliate_matrix.localrun import runner

    state = {"functions": {"programs": {"url": "http://127.0.0.1:8100/"}, "web": {"url": "http://127.0.0.1:8101/"}}}

    class Ready:  # every function answering at once, as LocalRuntime.run reports it, with no process started
        def __init__(self, *args, **kwargs):
            pass

        def run(self, ready_file=None, on_ready=None):
            on_ready(state)

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(runner, "LocalRuntime", Ready)
    result = CliRunner().invoke(app, ["up", "--port-base", "0"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "web          http://127.0.0.1:8101/" in result.output, result.output
    assert "programs     http://127.0.0.1:8100/" in result.output, result.output


def test_a_search_finding_nothing_says_so_in_one_line_and_what_fills_an_empty_index(tmp_path, monkeypatch):
    """`amx search hosting` in a new directory printed an empty table and "categories: " and "networks: " with nothing
    after them: no word that the index held no programs at all, nor how to fill it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    empty = CliRunner().invoke(app, ["search", "hosting"])
    assert empty.exit_code == 0, (empty.output, empty.exception)
    fills = ("the index holds no programs yet: `amx demo` fills it from recorded sources, `amx scrape SOURCE` from a "
             "live one")
    assert empty.output.splitlines() == [f"0 programs matching 'hosting'; {fills}"]
    # amx show and amx compare alike: they said only that the program or merchant was not found
    for command, said in ((["show", "p_0123456789abcdef"], "program 'p_0123456789abcdef' is not in the index"),
                          (["compare", "bluehost.com"], "no program for merchant 'bluehost.com'")):
        refused = CliRunner().invoke(app, command)
        assert refused.exit_code != 0 and str(refused.exception) == f"{said}; {fills}", (command, refused.exception)
    Index(tmp_path).batch(record("affiliateprograms", "Bluehost", "https://bluehost.com"))
    missed = CliRunner().invoke(app, ["search", "canva"])
    assert missed.exit_code == 0 and missed.output.splitlines() == ["0 programs matching 'canva'"], missed.output
    absent = CliRunner().invoke(app, ["show", "p_0123456789abcdef"])
    assert str(absent.exception) == "program 'p_0123456789abcdef' is not in the index", absent.exception


def test_up_logs_as_the_functions_do_with_its_name_in_the_format_and_at_the_level_set(tmp_path, monkeypatch):
    """`amx up` configured no logging: its own lines (a function restarted, the Broker's refusals, retries and dead
    letters) were structlog's defaults, console text whatever AMX_LOG_FORMAT said, every level whatever AMX_LOG_LEVEL
    said, naming no function, and past the redaction every function's lines go through."""
    import json

    from affiliate_matrix.localrun import runner

    class Restarting:  # a run logging as LocalRuntime logs, with no process started
        def __init__(self, *args, **kwargs):
            pass

        def run(self, ready_file=None, on_ready=None):
            runner.log.info("up.ready", functions=11)
            runner.log.warning("router.refused", status=401, token="a-secret-token")

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_LOG_FORMAT", "json")
    monkeypatch.setenv("AMX_LOG_LEVEL", "warning")
    monkeypatch.setattr(runner, "LocalRuntime", Restarting)
    result = CliRunner().invoke(app, ["up", "--port-base", "0"])
    assert result.exit_code == 0, (result.output, result.exception)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["event"], line["function"], line["token"]) for line in lines] == [("router.refused", "up", "[redacted]")]


def test_the_demo_prints_a_sources_words_as_written_not_as_markup():
    """A recorded page's failure reason quoting the page ("[/b] closes nothing") ended the demo with Rich's MarkupError,
    and "[bold]" in a source's text was shown bold, not as written."""
    from types import SimpleNamespace

    from rich.console import Console

    from affiliate_matrix.demo import screens

    failure = SimpleNamespace(stage="parse", url="http://127.0.0.1:1/p/[bold]x", why="no rate in '[/b] closes nothing'",
                              raw_key=None)
    story = SimpleNamespace(reports={"affiliatefix": SimpleNamespace(failures=[failure])},
                            urls={"affiliatefix": "http://127.0.0.1:1"})
    console = Console(width=200, record=True)
    screens.parse_failures(console, story)
    shown = console.export_text()
    assert "/p/[bold]x" in shown and "no rate in '[/b] closes nothing'" in shown, shown


def test_connections_add_takes_a_rate_limit_and_refuses_one_outside_its_range(tmp_path):
    """A connection's rate limit could not be set with `amx connections add`, and the API took any rate above 0 (5e-324
    stopped the connection for good). The command takes --rate-limit-per-s and refuses one outside 0.01 to 50 in one
    line naming the option's field and the range, storing nothing."""
    for rate in ("5e-324", "0", "51", "nan"):
        refused = amx(tmp_path, "connections", "add", "c", "--source", "affiliateprograms", "--rate-limit-per-s", rate,
                      env={"AMX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert refused.returncode == 2, (rate, refused.stdout, refused.stderr)
        assert refused.stderr.startswith("error: Invalid value for '--rate-limit-per-s': ") and \
            len(refused.stderr.splitlines()) == 1
        assert "requests a second is outside 0.01 to 50" in refused.stderr, refused.stderr
    assert not (tmp_path / "objects" / "connections").exists()
    made = amx(tmp_path, "connections", "add", "c", "--source", "affiliateprograms", "--rate-limit-per-s", "0.5",
               env={"AMX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert made.returncode == 0, made.stderr
    assert '"rate_limit_per_s":0.5' in (tmp_path / "objects" / "connections" / "c.json").read_text().replace(" ", "")


def test_connections_add_takes_a_concurrency_and_refuses_one_out_of_bounds_in_the_apis_words(tmp_path):
    """`amx connections edit` took --concurrency, `amx connections add` had none: a new connection's requests in
    flight could be set only by an edit after it was stored. `add` takes the same option, and a value outside 1 to 16
    is refused in the words the API refuses it in, storing nothing."""
    import json

    from affiliate_matrix.handlers.connections import CONNECTIONS
    from affiliate_matrix.handlers.documents import validated

    env = {"AMX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for concurrency in (0, 17):
        with pytest.raises(InvalidInput) as api:  # as POST /connections refuses it
            validated(CONNECTIONS, {"id": "c", "source": "affiliateprograms", "concurrency": concurrency})
        refused = amx(tmp_path, "connections", "add", "c", "--source", "affiliateprograms", "--concurrency",
                      str(concurrency), env=env)
        said = str(api.value).removeprefix("concurrency: ")  # named by the option typed
        assert refused.returncode == 2 and refused.stderr == (
            f"error: Invalid value for '--concurrency': {said}; see amx connections add --help\n"), refused.stderr
    assert not (tmp_path / "objects" / "connections").exists()
    made = amx(tmp_path, "connections", "add", "c", "--source", "affiliateprograms", "--concurrency", "5", env=env)
    assert made.returncode == 0, made.stderr
    assert json.loads((tmp_path / "objects" / "connections" / "c.json").read_text())["concurrency"] == 5


def test_connections_list_and_the_api_show_the_last_run_of_amx_scrape(tmp_path, monkeypatch):
    """On the embedded defaults a user who ran `amx scrape` saw no last run in `amx connections list` (nor in GET
    /connections): only a sync requested through the API recorded one. A run of `amx scrape` is recorded in the
    connection's last_sync as a requested sync's is (status, when, counts, its failures), one that read nothing
    and failed as failed, and both show it."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, load_connection, save_connection
    from affiliate_matrix.demo import recorded_sites
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "true")
    monkeypatch.setenv("COLUMNS", "200")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    save_connection(rt.store, Connection(id="down", source="affiliateprograms", base_url="http://127.0.0.1:9"),
                    create=True)  # nothing answers there: the run reads nothing
    with recorded_sites("affiliateprograms") as urls:
        save_connection(rt.store, Connection(id="ap", source="affiliateprograms", base_url=urls["affiliateprograms"],
                                             rate_limit_per_s=50), create=True)
        assert CliRunner().invoke(app, ["scrape", "ap"]).exit_code == 1  # one page it cannot read: a failure
    assert CliRunner().invoke(app, ["scrape", "down"]).exit_code == 1
    ran, failed = load_connection(rt.store, "ap")[0].last_sync, load_connection(rt.store, "down")[0].last_sync
    assert (ran.status, ran.records, ran.pages, len(ran.errors)) == ("succeeded", 6, 10, 1), ran
    assert ran.errors[0].startswith("parse ") and "surfshark" in ran.errors[0]
    assert None not in (ran.started_at, ran.finished_at) and ran.incomplete.startswith("a directory crawl")
    assert (failed.status, failed.records) == ("failed", 0) and failed.errors[0].startswith("fetch "), failed
    save_connection(rt.store, Connection(id="aw", source="awin", credentials_path="connections/aw"), create=True)
    keyless = CliRunner().invoke(app, ["scrape", "aw"])  # no key at its path: the run ends before it fetches
    assert keyless.exception is not None and load_connection(rt.store, "aw")[0].last_sync.errors == [
        str(keyless.exception)]
    rows = cells_by_row(CliRunner().invoke(app, ["connections", "list"]).output)
    last = rows["aw"]["last sync (UTC)"]
    assert last.startswith("failed ") and last.endswith(", 0 listings, 1 failed")
    assert rows["ap"]["last sync (UTC)"] == f"succeeded {ran.finished_at:%Y-%m-%d %H:%M}, 6 listings, 1 failed"
    assert rows["down"]["last sync (UTC)"].startswith("failed ")
    read = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    shown = function_client("connections").get("/connections/ap", headers=read).get_json()["last_sync"]
    assert shown == ran.model_dump(mode="json")


def test_connections_list_says_why_a_run_is_incomplete_and_nothing_for_a_directory_crawls_standing_word(
        tmp_path, monkeypatch):
    """`amx connections list` showed "incomplete" beside every directory crawl's successful last sync (a crawl never
    says it read the whole directory: its programs are re-verified), which reads as a failure. A crawl's standing word
    shows nothing; a run short of its listing says why."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import DIRECTORY_CRAWL, Connection, SyncResult, save_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    rt = Runtime("test", Settings(data_dir=tmp_path))
    for connection_id, source, incomplete in (("crawl", "affiliateprograms", DIRECTORY_CRAWL),
                                              ("api", "awin", "it listed nothing"), ("whole", "awin", None)):
        sync = SyncResult(status="succeeded", records=3, incomplete=incomplete)
        save_connection(rt.store, Connection(id=connection_id, source=source, credentials_path=f"connections/{source}",
                                             last_sync=sync), create=True)
    rows = cells_by_row(CliRunner().invoke(app, ["connections", "list"]).output)
    assert {key: row["last sync (UTC)"] for key, row in rows.items()} == {
        "crawl": "succeeded, 3 listings", "api": "succeeded, 3 listings, incomplete: it listed nothing",
        "whole": "succeeded, 3 listings"}


def test_show_gives_a_networks_rates_in_percent_as_the_network_does(tmp_path, monkeypatch):
    """`amx show` printed Awin's approval and conversion rates as the fractions they are kept as: a conversion rate
    Awin shows as 2.41% read "0.0241", a hundred times too small to anyone reading it as the network writes it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("awin", "Trailhead", "https://trailhead.example", extra={
        "approval_rate": "0.873", "conversion_rate": "0.0241"}))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    rows = {tuple(cell.strip() for cell in line.split("│")[1:4]) for line in result.output.splitlines()}
    assert ("Approval rate", "87.3%", "Awin publisher API (awin)") in rows, result.output
    assert ("Conversion rate", "2.41%", "Awin publisher API (awin)") in rows, result.output


def test_search_says_when_no_program_found_has_a_category(tmp_path, monkeypatch):
    """A search whose programs have no category (an Impact account's campaigns, none read for one) ended on a line
    "categories: " with nothing after it."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    Index(tmp_path).batch(record("impact", "Canva", "https://canva.example", network="impact"))
    result = CliRunner().invoke(app, ["search", ""])
    assert result.exit_code == 0, (result.output, result.exception)
    lines = [line.strip() for line in result.output.splitlines()]
    assert "Categories: none (no program found has categories)" in lines and "Networks: Impact (1)" in lines, lines


def test_an_api_connection_is_not_added_without_its_key(tmp_path, monkeypatch):
    """`amx connections add impact-main --source impact` with no --credentials-path was stored, and every sync of it
    failed: no amx command sets a connection's credentials_path afterwards (only delete and add again)."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    refused = CliRunner().invoke(app, ["connections", "add", "impact-main", "--source", "impact"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "--credentials-path" in said and "(account_sid, auth_token)" in said, said
    # the command named runs as written: --rotation is required
    assert "amx keys add connections/impact-main --rotation manual --source impact" in said, said
    assert "impact-main" not in CliRunner().invoke(app, ["connections", "list"]).output  # nothing stored
    # `amx scrape cj`, a source's name, made such a connection "cj" (with the source's defaults) and left it there
    scraped = CliRunner().invoke(app, ["scrape", "cj"])
    assert isinstance(scraped.exception, InvalidInput), (scraped.output, scraped.exception)
    assert "amx connections add cj --source cj --credentials-path connections/cj" in str(scraped.exception)
    assert "no connections" in CliRunner().invoke(app, ["connections", "list"]).output
    directory = CliRunner().invoke(app, ["connections", "add", "ap", "--source", "affiliateprograms"])
    assert directory.exit_code == 0, directory.output  # a directory reads no key


def test_a_connection_is_edited_keeping_its_claims_and_refused_as_the_api_refuses(tmp_path, monkeypatch):
    """No command changed a connection: a typo in its schedule or rate meant delete and add again, and the delete
    withdrew its claims (its programs closed_suspected until the next sync). `amx connections edit` is the API's
    PATCH: the fields named change, the rest (its version, health, last sync) stay, and a value the API refuses is
    refused in its words."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import load_connection
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    runner = CliRunner()
    assert runner.invoke(app, ["connections", "add", "ap", "--source", "affiliateprograms"]).exit_code == 0
    edited = runner.invoke(app, ["connections", "edit", "ap", "--schedule", "0 5 * * *", "--rate-limit-per-s", "2",
                                 "--disabled"])
    assert edited.exit_code == 0, (edited.output, edited.exception)
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    connection = load_connection(store, "ap")[0]
    assert (connection.schedule, connection.rate_limit_per_s, connection.enabled, connection.version) == (
        "0 5 * * *", 2.0, False, 1)
    refused = runner.invoke(app, ["connections", "edit", "ap", "--rate-limit-per-s", "0.001"])
    assert refused.exit_code != 0 and "outside 0.01 to 50" in str(refused.exception) + refused.output
    assert load_connection(store, "ap")[0].rate_limit_per_s == 2.0
    missing = runner.invoke(app, ["connections", "edit", "nope", "--schedule", "0 5 * * *"])
    assert missing.exit_code != 0 and "there is no connection 'nope'" in str(missing.exception) + missing.output



def test_connections_edit_names_the_options_that_changed_and_says_when_none_did(tmp_path, monkeypatch):
    """`amx connections edit ap --schedule '0 3 * * *'` said "changed connection ap: schedule" when the schedule was
    that already, and named what changed by the document's fields (base_url, disabled_reason), not the options typed."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    runner = CliRunner()
    assert runner.invoke(app, ["connections", "add", "ap", "--source", "affiliateprograms"]).exit_code == 0
    said = []
    for options in (["--schedule", "0 3 * * *", "--base-url", ""], ["--schedule", "0 5 * * *", "--base-url", ""],
                    ["--disabled", "--reason", "paused"], ["--disabled", "--reason", "moved"]):
        edited = runner.invoke(app, ["connections", "edit", "ap", *options])
        assert edited.exit_code == 0, (edited.output, edited.exception)
        said.append(edited.output.strip())
    assert said == ["connection ap unchanged: it held those values already", "changed connection ap: --schedule",
                    "changed connection ap: --disabled, --reason", "changed connection ap: --reason"]

def test_a_command_whose_changes_no_rule_sees_says_so_naming_the_rules_waiting(tmp_path, monkeypatch):
    """A rule on program.delta, then `amx import` (or `amx scrape`) changing a program: on the embedded event bus the
    command's events stay in its process, where no triggers function runs, so the rule never fired and nothing said
    why. The command names the rules that wait for changes and where they do run."""
    from tests.support.factories import make_program

    rule_always_added(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new.jsonl").write_text(make_program("Note Co", "https://note.com").model_dump_json() + "\n")
    result = CliRunner().invoke(app, ["import", "programs", "new.jsonl"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "1 change in the feed" in said, (said, result.exception)
    assert "rules waiting for program changes were not run on these: always" in said, said
    assert "amx up" in said and "amx rules test always --program p_" in said, said

    assert CliRunner().invoke(app, ["rules", "disable", "always"]).exit_code == 0
    (tmp_path / "other.jsonl").write_text(make_program("Other Co", "https://other.com").model_dump_json() + "\n")
    quiet = CliRunner().invoke(app, ["import", "programs", "other.jsonl"])
    assert quiet.exit_code == 0 and "not run" not in quiet.output, quiet.output  # no rule waits: nothing to say


@pytest.mark.parametrize("command,said", [
    (["rules", "list"], "no rules (amx rules add FILE adds one)"),
    (["tokens", "list"], "no tokens (amx tokens create mints one)"),
    (["connections", "list"], "no connections (amx connections add ID --source SOURCE adds one; amx scrape SOURCE "
                              "makes one of a directory's defaults)"),
    (["budget", "campaigns", "list"], "no campaigns (amx budget campaigns add ID --name NAME --channel CHANNEL "
                                      "--currency CODE adds one)"),
])
def test_an_empty_list_says_so_and_what_adds_one(tmp_path, monkeypatch, command, said):
    """`amx rules list`, `tokens list`, `connections list` and `budget campaigns list` on a fresh data dir printed a
    table of headers and no row, saying nothing; `amx keys status` says "no keys registered" and how to add one: so
    do they."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # the line unwrapped
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0 and result.output.strip() == said, (result.output, result.exception)


def test_changes_pages_to_older_changes_by_the_cursor_it_prints_each_once(tmp_path, monkeypatch):
    """`amx changes` showed the newest 100 changes at most and nothing past them: --since only narrowed the feed to
    newer ones, so an older change could not be listed. A cut listing prints the --cursor that goes on, and following
    it lists every change once, in the feed's order, with the filters kept."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(*(record("affiliateprograms", name, f"https://{name.lower()}.com")
                            for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo")))
    full = CliRunner().invoke(app, ["changes", "--limit", "100"]).output
    assert "--cursor" not in full, full
    every = re.findall(r"\((p_[0-9a-f]{16})\)", full)
    paged, cursor = [], []
    for _ in range(5):
        page = CliRunner().invoke(app, ["changes", "--limit", "2", "--change", "created", *cursor])
        assert page.exit_code == 0, (page.output, page.exception)
        paged += re.findall(r"\((p_[0-9a-f]{16})\)", page.output)
        found = re.search(r"the same command with --cursor (\S+)", page.output)
        if not found:
            break
        cursor = ["--cursor", found.group(1)]
    assert len(every) == 5 and paged == every, (every, paged)
    other = CliRunner().invoke(app, ["changes", "--limit", "3", *cursor])  # another query's cursor: refused
    assert other.exit_code == 2 and "Invalid value for '--cursor'" in other.output, other.output


def test_changes_lists_the_change_feed_with_the_apis_filters(tmp_path, monkeypatch):
    """No command showed what changed: the change feed was the API's and the explorer's alone, so a newcomer on the
    command line who scraped twice could not see the commission that moved. `amx changes` lists it, newest recorded
    first, each field's old and new value in words, with the API's filters, refused as the API refuses them."""
    from tests.support.indexing import T2

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    assert CliRunner().invoke(app, ["changes"]).output.startswith("no change recorded: a scrape, a sync or an import")
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="50% per sale"))
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="60% per sale", at=T2))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["changes"])
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 0, (result.output, result.exception)
    assert said.startswith("2 changes, newest recorded first"), said
    assert f"Updated Bluehost ({program['id']})" in said and "Commission: 50% → 60%" in said, said
    assert said.index("Updated") < said.index("Created"), said  # newest first
    only = CliRunner().invoke(app, ["changes", "--field", "commission", "--change", "updated", "--program",
                                    program["id"], "--since", "2026-11-01"])
    assert " ".join(only.output.split()).startswith("1 change,"), only.output
    none = CliRunner().invoke(app, ["changes", "--change", "removed"])
    assert none.exit_code == 0 and none.output.strip() == "no change recorded matching these options", none.output
    # refused by the option typed: the API's program_id was no option of the command's (amx's main says it on one
    # line, exit 2)
    for bad, named in ((["--since", "yesterday"], "Invalid value for '--since': must be an ISO 8601 date"),
                       (["--field", "commision"], "Invalid value for '--field': must be one of"),
                       (["--program", "nope"], "Invalid value for '--program': must be a program's id")):
        refused = CliRunner().invoke(app, ["changes", *bad])
        said = " ".join(refused.output.replace("│", " ").split())
        assert refused.exit_code == 2 and named in said and "program_id" not in said, (bad, refused.output)


def test_verify_says_what_its_options_mean(tmp_path, monkeypatch):
    """`amx verify --help` listed --budget-per-host and --suspect-after with their defaults and not a word of what
    they do."""
    monkeypatch.setenv("COLUMNS", "400")
    said = " ".join(CliRunner().invoke(app, ["verify", "--help"]).output.replace("│", " ").split())
    assert "Pages checked at most on each host this run" in said, said
    assert "Misses in a row (the page gone: 404, 410, a redirect home) after which a program is closed_suspected" \
        in said, said


def test_tables_fold_no_word_where_the_terminal_has_room_for_every_word(tmp_path, monkeypatch):
    """Rich narrowed the widest wrapping columns first, heedless of their words: at 120 columns `amx compare` folded
    the demo's connection id ("demo-affiliatepro" / "grams") and at 80 `amx changes` folded "commission_text", while
    other columns had room to spare. Each column now keeps its longest word whole when the terminal has room for all."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", connection="demo-affiliateprograms",
                       commission_text="$65 - $130 per qualified sale", cookie_text="90 days",
                       join_url="https://www.bluehost.com/affiliates/join"))
    index.batch(record("cj", "Bluehost", "https://bluehost.com", connection="demo-cj",
                       commission_text="Hosting Sale: USD 65.00 (Pro Plans: USD 130.00)",
                       extra={"epc_7d": "0.4512", "epc_90d": "0.389", "epc_currency": "USD"}))
    index.batch(record("rakuten", "Bluehost", "https://bluehost.com", connection="demo-rakuten",
                       commission_text="Bluehost Hosting Bounty: Per qualified hosting sale, by sales in the month: "
                                       "USD 65 (0 to 20), USD 100 (20 and above)", cookie_text="45 days"))
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", connection="demo-affiliateprograms",
                       commission_text="$70 - $130 per qualified sale", cookie_text="90 days", at=T2))

    def words(output: str) -> set[str]:
        return {word for line in output.splitlines() for word in line.strip("│┃ ").replace("│", " ").split()}

    monkeypatch.setenv("COLUMNS", "120")
    compared = CliRunner().invoke(app, ["compare", "bluehost.com"])
    assert compared.exit_code == 0, (compared.output, compared.exception)
    assert max(map(len, compared.output.splitlines())) <= 120, compared.output
    assert "(demo-affiliateprograms)" in words(compared.output), compared.output
    monkeypatch.setenv("COLUMNS", "80")
    changes = CliRunner().invoke(app, ["changes"])
    assert changes.exit_code == 0, (changes.output, changes.exception)
    assert max(map(len, changes.output.splitlines())) <= 80, changes.output
    assert "(verbatim):" in words(changes.output), changes.output  # Commission (verbatim), commission_text


def test_show_names_each_raw_copy_where_it_is_kept(tmp_path, monkeypatch):
    """`amx show` named each claim's raw copy by its object-store key (`raw/affiliateprograms/…`), a path that opens
    nothing where the command runs, while `amx scrape` and the demo name the file (`.amx/objects/raw/…`)."""
    result = bluehost_shown(tmp_path, monkeypatch)
    kept = tmp_path / "objects" / "raw" / "affiliateprograms" / "bluehost" / f"{index_day()}.html"
    assert f"raw copy {kept}" in result.output, result.output


def test_changes_wraps_a_long_program_name_rather_than_the_fields(tmp_path, monkeypatch):
    """`amx changes` kept the program cell, name and id, on one line: at 100 columns a program named "SEOpresso - Rank
    Tracker Software" took 56 of them, and its fields were folded into a column of 18 (`status — →` / `active`), the
    source column dropped. The name wraps now; its id, one word, is never folded."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "100")
    index = Index(tmp_path)
    index.batch(record("clickbank", "SEOpresso - Rank Tracker Software for Agencies", "https://seopresso.example",
                       key="seopresso", commission_text="50% per sale; recurring for the first 12 months"))
    [program] = index.programs()
    result = CliRunner().invoke(app, ["changes"])
    assert result.exit_code == 0, (result.output, result.exception)
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert any("Status: — → Active" in line for line in lines), result.output
    assert any(program["id"] in line for line in lines) and "clickbank" in result.output, result.output
    assert "a wider terminal also shows" not in result.output, result.output


def test_discover_run_names_a_provider_left_out_once(tmp_path):
    """`amx discover run pets` on the defaults printed three warning log lines (searxng has no URL, brave and google
    no key) above its error, which names the three again, where the README says a failure the command lists itself is
    not printed again as its log line."""
    import os

    env = {name: value for name, value in os.environ.items() if name != "AMX_LOG_LEVEL"}
    result = amx(tmp_path, "discover", "run", "pets", env={**env, "AMX_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: no search provider is usable (AMX_DISCOVERY_PROVIDERS names them): "
                                    "searxng has no URL (AMX_SEARXNG_URL);"), result.stderr
    assert "discovery.provider" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr


def test_search_sorted_by_epc_shows_the_epc_it_ranks_by(tmp_path, monkeypatch):
    """`amx search --sort epc` ranked programs by an EPC its table did not show (the explorer shows it), so the order
    read as random: the EPC of the window it ranks by is a column of its own then, a dash where a program has none."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", commission_text="USD 65 per sale",
                       extra={"epc_7d": "0.4512", "epc_90d": "0.389", "epc_currency": "USD"}))
    index.batch(record("affiliateprograms", "HostFast", "https://hostfast.net", commission_text="$100 per sale"))
    for window, header, figure in (("7d", "EPC (7 days)", "0.4512 USD"), ("90d", "EPC (3 months)", "0.389 USD")):
        result = CliRunner().invoke(app, ["search", "--sort", "epc", "--epc-window", window])
        assert result.exit_code == 0, (result.output, result.exception)
        rows = [[cell.strip() for cell in line.split("│" if "│" in line else "┃")[1:-1]]
                for line in result.output.splitlines() if "│" in line or "┃" in line]
        assert rows[0][5] == header and [row[5] for row in rows[1:]] == [figure, "—"], result.output
    plain = CliRunner().invoke(app, ["search"])
    assert "EPC" not in plain.output, plain.output


def test_a_created_change_names_only_the_fields_the_program_states(tmp_path, monkeypatch):
    """A program created with no payout terms was a created change listing `payout — → —` (its default, a payout of no
    method, frequency or minimum, counted as a value), in `amx changes`, the API's feed and the explorer."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale"))
    index.batch(record("affiliateprograms", "HostFast", "https://hostfast.net", commission_text="$100 per sale",
                       payout_text="PayPal, net 30"))
    fields = {item["program_id"]: [f["field"] for f in item["fields"]] for item in index.changes()}
    by_name = {program["name"]: program["id"] for program in index.programs()}
    assert "payout" not in fields[by_name["Bluehost"]] and "commission" in fields[by_name["Bluehost"]], fields
    assert "payout" in fields[by_name["HostFast"]], fields
    result = CliRunner().invoke(app, ["changes"])
    assert "Payout: — → —" not in result.output and "Payout: — → PayPal; Net 30" in result.output, result.output


def test_export_to_a_file_named_for_no_format_it_writes_is_refused(tmp_path, monkeypatch):
    """`amx export programs --out programs.xlsx` wrote JSON Lines into programs.xlsx (the default format), which Excel
    cannot open and `amx import programs programs.xlsx` refused ("format must be one of csv, jsonl, parquet"). Without
    --format, a name that gives none of them is refused, saying what to name it; --format writes it all the same."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    Index(tmp_path).batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65"))
    out = tmp_path / "programs.xlsx"
    refused = CliRunner().invoke(app, ["export", "programs", "--out", str(out)])
    assert refused.exit_code != 0 and not out.exists(), refused.output
    assert "is named as none of csv, jsonl, parquet" in str(refused.exception) + refused.output, refused.output
    asked = CliRunner().invoke(app, ["export", "programs", "--out", str(out), "--format", "csv"])
    assert asked.exit_code == 0 and out.read_text().startswith("id,name"), asked.output


def test_export_and_import_take_a_format_in_any_case_and_refuse_another_naming_the_option(tmp_path, monkeypatch):
    """`--out programs.CSV` was read as csv while `--format CSV` was refused ("format must be one of csv, jsonl,
    parquet, got 'CSV'", naming no option), and `--format CSV --out programs.csv` said "programs.csv is named as
    csv, not CSV". The option takes a format in any case, as the extension is read and as the search options take
    their codes; another is a usage error naming --format, and a file to import named for no format names the file
    and --format, where it said "format must be one of …, got 'xlsx'"."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # a long temporary path is not wrapped inside a word by the error's box
    Index(tmp_path).batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65"))
    out = tmp_path / "programs.csv"
    written = CliRunner().invoke(app, ["export", "programs", "--format", "CSV", "--out", str(out)])
    assert written.exit_code == 0 and out.read_text().startswith("id,name"), written.output
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "target"))
    imported = CliRunner().invoke(app, ["import", "programs", str(out), "--format", "Csv"])
    assert imported.exit_code == 0 and "imported 1 of 1 programs" in imported.output, imported.output
    for command in (["export", "programs", "--format", "xlsx"], ["import", "programs", str(out), "--format", "xlsx"]):
        refused = CliRunner().invoke(app, command)
        said = " ".join(refused.output.replace("│", " ").split())  # out of typer's box
        assert refused.exit_code == 2 and "'--format'" in said and "must be one of csv, jsonl, parquet, got 'xlsx'" \
            in said, (command, said)
    (tmp_path / "programs.xlsx").write_bytes(out.read_bytes())
    refused = CliRunner().invoke(app, ["import", "programs", str(tmp_path / "programs.xlsx")])
    said = " ".join(refused.output.replace("│", " ").split())  # out of typer's box
    assert refused.exit_code == 2 and "'path'" in said and "programs.xlsx is named as none of csv, jsonl, parquet" \
        in said and "--format" in said, said


def test_export_takes_the_searchs_sort_as_the_api_and_the_explorers_export_links_do(tmp_path, monkeypatch):
    """GET /programs/export takes sort, and the explorer's export links keep their page's, but `amx export programs`
    had no --sort: a file of the programs by commission or by name could not be written from the command line. It
    takes amx search's --sort, checked as the API checks it."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    Index(tmp_path).batch(record("affiliateprograms", "Zeta Shop", "https://zeta.example", commission_text="50%"),
                          record("affiliateprograms", "Alpha Shop", "https://alpha.example", commission_text="10%"),
                          record("affiliateprograms", "Mid Shop", "https://mid.example", commission_text="30%"))
    for sort, order in (("name", ["Alpha Shop", "Mid Shop", "Zeta Shop"]),
                        ("commission", ["Zeta Shop", "Mid Shop", "Alpha Shop"])):
        result = CliRunner().invoke(app, ["export", "programs", "--sort", sort])
        assert result.exit_code == 0, (result.output, result.exception)
        assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == order, (sort, result.stdout)
    result = CliRunner().invoke(app, ["export", "programs", "--sort", "price"])
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "'--sort'" in said and "got 'price'" in said, said


def test_the_demos_command_to_paste_is_one_line_at_80_columns(tmp_path, monkeypatch):
    """At 80 columns the demo's provenance screen ended "…it came from: .venv/bin/amx show" and put the program's id
    on the next line: pasted, `amx show` ran without it. The command is a line of its own (the demo's lines fit the
    terminal: test_demo)."""
    import io
    from collections import defaultdict

    from rich.console import Console

    from affiliate_matrix.demo import screens
    from affiliate_matrix.demo.collect import Story

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Bluehost", "https://bluehost.com", commission_text="$65 per sale"))
    [program] = index.programs()
    story = Story(index.rt)
    story.merchant, story.urls = "bluehost.com", defaultdict(lambda: "https://recorded.example/")
    console = Console(file=io.StringIO(), width=80)
    screens.provenance(console, story)
    assert f".venv/bin/amx show {program['id']}" in console.file.getvalue(), console.file.getvalue()


def test_search_keeps_each_facet_value_beside_its_count(tmp_path, monkeypatch):
    """`amx search`'s facet lines were wrapped by Rich at any space, so a count went to the next line from its value
    ("marketing_tools" / "(2), other (2)…"): they wrap between values now, each value with its count."""
    import re

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "40")
    index = Index(tmp_path)
    for name, network in (("Alpha", "partnerstack"), ("Beta", "clickdealer"), ("Gamma", "shareasale"),
                          ("Delta", "maxbounty"), ("Epsilon", "partnerstack")):
        index.batch(record("affiliateprograms", name, f"https://{name.lower()}.example", commission_text="10%",
                           network=network))
    result = CliRunner().invoke(app, ["search"])
    assert result.exit_code == 0, (result.output, result.exception)
    facets = result.output[result.output.index("Networks:"):].splitlines()
    assert len(facets) > 1 and not [line for line in facets if re.match(r"\(\d+\)", line)], result.output
    assert "PartnerStack (2)" in result.output, result.output


@pytest.mark.parametrize("command, name, shown", [
    (["budget", "forecast"], "--horizon", "<int>"),
    (["rules", "add"], "path", "<str>"),
    (["search"], "--country", "<str>"),
    (["export", "programs"], "--max-payment-days", "<number>"),
    (["changes"], "--program", "<str>"),
])
def test_an_option_taking_a_value_shows_its_one_values_type(monkeypatch, command, name, shown):
    """Flags show no type and repeatable options no list (test_cli_tables, every command); an option or argument
    taking a value keeps its type, a repeatable one its one value's, a bound the number it takes."""
    monkeypatch.setenv("COLUMNS", "200")
    helped = CliRunner().invoke(app, [*command, "--help"])
    assert helped.exit_code == 0, helped.output
    assert any(f" {name} " in line and shown in line for line in helped.output.splitlines()), helped.output


_NEVER_READY = """
import os, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as a run that does not stop when asked
os.write(int(sys.argv[1]), b"up")
while True:
    signal.pause()
"""


def test_up_detached_not_ready_in_time_says_so_stops_its_run_and_fails(tmp_path, monkeypatch):
    """`amx up --detach` whose background run wrote no up.json within its wait (120 s) failed reading up.json (a file
    error naming no cause) and left that run going, holding the data dir and its ports. It says it was not ready in
    time, stops the run's process group (SIGTERM, on which a run stops its functions, then SIGKILL) and exits 1."""
    import os
    import signal
    import subprocess
    import sys

    from affiliate_matrix.cli import local

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(local, "READY_WAIT_S", 0)
    monkeypatch.setattr(local, "STOP_WAIT_S", 0)
    popen, killpg, runs, sent = subprocess.Popen, os.killpg, [], []

    def never_ready(args, **kwargs):  # in amx up's place: writes no up.json, ignores SIGTERM
        started, told = os.pipe()
        runs.append(popen([sys.executable, "-c", _NEVER_READY, str(told)], pass_fds=(told,), **kwargs))
        os.close(told)
        assert os.read(started, 2) == b"up"  # its SIGTERM ignored by now
        os.close(started)
        return runs[-1]

    monkeypatch.setattr(subprocess, "Popen", never_ready)
    monkeypatch.setattr(os, "killpg", lambda pgid, signalled: sent.append((pgid, signalled)) or killpg(pgid, signalled))
    try:
        result = CliRunner().invoke(app, ["up", "--detach"])
        stopped = [run.returncode for run in runs]  # set once the command has waited for it
    finally:
        for run in runs:
            run.kill()
            run.wait()
    (run,) = runs
    assert result.exit_code == 1, (result.output, result.exception)
    assert "amx up was not ready in 0 s" in result.stderr and "stopped" in result.stderr, result.stderr
    assert "up.log" in result.stderr and "json" not in result.stderr.lower()
    assert sent == [(run.pid, signal.SIGTERM), (run.pid, signal.SIGKILL)]
    assert stopped == [-signal.SIGKILL]


def test_up_detached_that_fails_to_start_says_why_and_exits_with_its_code(tmp_path):
    """`./task up` (`amx up --detach`) on a port something listens on printed nothing and exited 0: the background
    `amx up`'s refusal, naming the port, was only in up.log, and `typer.Exit` given a message exits 0 here."""
    import os
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = amx(tmp_path, "up", "--detach", "--port-base", str(port),
                     env={**os.environ, "AMX_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"port {port} on 127.0.0.1, programs's, is taken" in result.stderr and "up.log" in result.stderr
    assert not (tmp_path / "up.json").exists()


def test_a_syncs_record_names_a_failed_page_once_as_amx_scrape_prints_it():
    """A sync's record (GET /syncs/{id}), the connection's last_sync and the Connections page quoted a fetch failure as
    `fetch <url>: <url>: not fetched: …`: the fetcher's reason starts with the page's address already."""
    from affiliate_matrix.crawl import Failure
    from affiliate_matrix.pipeline import ScrapeReport
    from affiliate_matrix.sync_requests import outcome

    url = "https://www.affiliateprograms.com/categories/software/"
    failure = Failure(url, "fetch", f"{url}: not fetched: cannot resolve 'www.affiliateprograms.com'")
    report = ScrapeReport("ap", "batches/ap/x.jsonl", "e1", records=0, failures=[failure], source="affiliateprograms")
    assert outcome(report)["errors"] == [f"fetch {url}: not fetched: cannot resolve 'www.affiliateprograms.com'"]


@pytest.mark.parametrize("command", ["show", "test", "disable", "enable", "delete"])
@pytest.mark.parametrize("rule_id", ["../x", "a\u202eb", "x" * 5_000])
def test_a_rule_id_no_rule_can_have_is_a_usage_error_naming_the_argument(tmp_path, monkeypatch, command, rule_id):
    """`amx rules disable ../x` (and delete, enable) reached the object store's key check: a traceback. Every command
    taking a rule's id holds it to what an id is first, as show's check did, naming the argument."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["rules", command, rule_id])
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "Invalid value for 'rule_id': " in shown and "is not a rule id" in shown, \
        (shown, result.exception)
