"""Defects a newcomer's walkthrough after `./task demo` found in `amx` (2026-12-07), each held here."""

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from affiliate_matrix.cli import app

DAY = date(2026, 11, 10)


def run_cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def days_csv(rows: list[tuple[date, float]]) -> str:
    return "campaign_id,date,spend,clicks,conversions,revenue,currency\n" + "".join(
        f"search-us,{day},{spend:.2f},10,2,300.00,USD\n" for day, spend in rows)


def test_budget_pacing_of_a_day_with_no_spend_reported_says_so_not_that_all_is_on_pace(tmp_path, monkeypatch):
    """`amx budget pacing --day D` with no spend imported for D said "no campaign's spend reported for D is off its
    allocation by more than 20%", which reads as every campaign on pace."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_BUDGET_DAILY_TOTAL", "500.00")
    assert run_cli("budget", "campaigns", "add", "search-us", "--name", "Search", "--channel", "search",
                   "--currency", "USD").exit_code == 0
    history = tmp_path / "history.csv"
    history.write_text(days_csv([(DAY - timedelta(days=n), 100.0) for n in range(1, 11)]))
    assert run_cli("budget", "import", str(history)).exit_code == 0
    assert run_cli("budget", "run", "--day", str(DAY)).exit_code == 0

    result = run_cli("budget", "pacing", "--day", str(DAY))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert said == (f"no campaign reported any spend for {DAY}: nothing to pace (amx budget import <file> brings a "
                    "day's spend in)"), result.output

    from affiliate_matrix.budget.run import RunResult, load_run
    from affiliate_matrix.config import Settings
    from affiliate_matrix.runtime import Runtime

    allocated = load_run(Runtime("test", Settings(data_dir=tmp_path)).store, DAY, RunResult).allocated()["search-us"][0]
    spend = tmp_path / "day.csv"
    spend.write_text(days_csv([(DAY, allocated)]))  # on its allocation exactly
    assert run_cli("budget", "import", str(spend)).exit_code == 0
    result = run_cli("budget", "pacing", "--day", str(DAY))
    assert " ".join(result.output.split()) == (
        f"no campaign's spend reported for {DAY} is off its allocation by more than 20%"), result.output


def test_show_given_a_name_says_it_takes_an_id_and_names_the_merchants_the_words_may_mean(tmp_path, monkeypatch):
    """`amx show Bluehost` said only "program 'Bluehost' is not in the index", where `amx compare Bluehost` named the
    merchants it may mean: show says it takes an id, what lists them, and the same merchants (compare's hint)."""
    from affiliate_matrix.errors import NotFoundError
    from tests.support.indexing import Index, record

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    Index(tmp_path).batch(record("cj", "Bluehost", "https://bluehost.com", network="cj"))
    result = CliRunner().invoke(app, ["show", "Bluehost"])
    assert isinstance(result.exception, NotFoundError), (result.output, result.exception)
    assert str(result.exception) == (
        "program 'Bluehost' is not in the index: amx show takes a program's id, p_… (amx search <words> lists them); "
        "amx compare takes a merchant's key: bluehost.com (Bluehost: 1 matching program, on CJ)")
    said = str(CliRunner().invoke(app, ["show", "zzz"]).exception)  # words nothing matches: what show takes only
    assert said == ("program 'zzz' is not in the index: amx show takes a program's id, p_… (amx search <words> lists "
                    "them)")
    gone = str(CliRunner().invoke(app, ["show", "p_0123456789abcdef"]).exception)  # an id: nothing to say of ids
    assert gone == "program 'p_0123456789abcdef' is not in the index"


def test_show_reads_a_pasted_id_with_spaces_around_it_and_says_an_ids_form_beside_one_of_another(tmp_path, monkeypatch):
    """`amx show ' p_…'` (a space pasted with it) or an id in upper case said only "is not in the index", with no word
    on an id's form: the id is read without the spaces around it, and one of no id's form is refused saying the form
    (in lower case where that is all that is wrong: the API and the explorer refuse it so too, not folding it)."""
    from tests.support.indexing import Index, record

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("cj", "Bluehost", "https://bluehost.com", network="cj"))
    [program] = index.programs()
    program_id = program["id"]
    for typed in (f" {program_id}", f"{program_id}\n", f"\t{program_id} "):
        shown = run_cli("show", typed)
        assert shown.exit_code == 0 and shown.output.startswith(f"Bluehost ({program_id})"), (typed, shown.output)
    for typed, said in ((program_id.upper(), f" (an id is in lower case: {program_id})"), ("p_91916e0dd", ""),
                        (f"{program_id}0", "")):
        refused = run_cli("show", typed)
        assert refused.exit_code == 2, (typed, refused.output)
        assert (f"Invalid value for 'program_id': {typed!r} is not a program's id: an id is p_ and 16 hex digits, as "
                f"amx search lists them{said} ") in " ".join(refused.output.replace("│", " ").split()), refused.output


def test_a_scrape_that_read_no_listings_says_so_naming_no_batch(tmp_path, monkeypatch):
    """`amx scrape` of a source it could not reach said "0 listings, …; batch batches/…/e3b0c4….jsonl": a path to look
    at, the hash of an empty file. A run that read no listings says so and names no batch."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMX_ALLOW_LOOPBACK_FETCH", "1")
    monkeypatch.setenv("COLUMNS", "400")
    assert run_cli("connections", "add", "ap", "--source", "affiliateprograms", "--base-url",
                   "http://127.0.0.1:1/").exit_code == 0  # (port 1: nothing listens, refused at once)
    scraped = run_cli("scrape", "ap")
    assert scraped.exit_code == 1, scraped.output
    assert [line for line in scraped.output.splitlines() if line.startswith("no listings read: ")], scraped.output
    assert "batch" not in scraped.output, scraped.output


def test_a_notify_message_writes_its_figures_and_categories_as_the_product_does(tmp_path, monkeypatch):
    """The demo's notify read "Notion raised its commission 50.0% → 60.0% (b2b_saas)": a float's .0 and a category's
    code, where every other page and table says 50% and "B2B SaaS"."""
    import json

    from tests.support.indexing import Index, record

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Notion", "https://notion.so", categories=["SaaS", "Software"]))
    [program] = index.programs()
    assert program["categories"] == ["b2b_saas", "software"]
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({
        "id": "raised", "trigger": {"event": "program.delta"}, "cooldown_s": 0,
        "condition": "delta.commission_percent_new > delta.commission_percent_old",
        "action": {"type": "notify", "params": {
            "webhook_url": "https://hooks.slack.com/services/T0/B0/x",
            "text": "{program_name} raised its commission {commission_old}% → {commission_new}% ({categories})"}}}))
    assert run_cli("rules", "add", str(rule)).exit_code == 0

    def percent(value: str) -> list[dict]:
        return [{"type": "percent", "value_min": value, "value_max": None, "currency": None, "recurring": None,
                 "tiers": []}]

    event = tmp_path / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": {
        "program_id": program["id"], "change": "updated",
        "fields": [{"field": "commission", "old": percent("50"), "new": percent("62.5")}]}}))
    result = run_cli("rules", "test", "raised", "--event", str(event))
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "Notion raised its commission 50% → 62.5% (B2B SaaS, Software)" in said, said


def test_every_rules_command_says_a_missing_rule_one_way(tmp_path, monkeypatch):
    """`amx rules show nope` said "rule 'nope' does not exist", `amx rules disable nope` "there is no rule 'nope'
    (amx rules list)": one message, with its hint, whichever command was given the id. The hint is the commands':
    the rule store said it to every caller, a function's log or answer too, where no command is at hand."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.rules.store import delete_rule, load_rule
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    for command in (["show", "nope"], ["disable", "nope"], ["delete", "nope"],
                    ["test", "nope", "--program", "p_0123456789abcdef"]):
        result = CliRunner().invoke(app, ["rules", *command])
        assert isinstance(result.exception, NotFoundError), (command, result.output, result.exception)
        assert str(result.exception) == "there is no rule 'nope' (amx rules list)", command
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    for missing in (lambda: load_rule(store, "nope"), lambda: delete_rule(store, "nope")):
        with pytest.raises(NotFoundError) as refused:
            missing()
        assert str(refused.value) == "there is no rule 'nope'"


def test_connections_list_counts_a_syncs_listings_as_the_connections_page_and_the_demo_do(tmp_path, monkeypatch):
    """`amx connections list` said a last sync read "6 records, 1 failed" where the Connections page and the demo say
    "6 listings" of the same run."""
    from collections import Counter
    from datetime import UTC, datetime

    from affiliate_matrix.config import Settings
    from affiliate_matrix.connections import Connection, SyncResult, save_connection
    from affiliate_matrix.demo.collect import counts_text
    from affiliate_matrix.runtime import Runtime

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    at = datetime(2026, 12, 6, 7, 59, tzinfo=UTC)
    store = Runtime("test", Settings(data_dir=tmp_path)).store
    for cid, records in (("six", 6), ("one", 1)):
        save_connection(store, Connection(id=cid, source="affiliateprograms", last_sync=SyncResult(
            status="succeeded", records=records, pages=7, errors=["page failed"], started_at=at, finished_at=at)),
            create=True)
    result = CliRunner().invoke(app, ["connections", "list"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, (result.output, result.exception)
    assert "succeeded 2026-12-06 07:59, 6 listings, 1 failed" in result.output, result.output
    assert "succeeded 2026-12-06 07:59, 1 listing, 1 failed" in result.output, result.output
    assert counts_text(Counter(pages=7, records=6)) == "7 pages · 6 listings"  # the demo's, of a run


def test_a_figure_is_written_whole_not_rounded_to_six_digits():
    """A rule's message and a term write a float without its .0, but whole: :g wrote 1234567.0 as 1.23457e+06."""
    from affiliate_matrix.wording import number_text

    assert [number_text(v) for v in (50.0, 62.5, 1234567.0, 1234567, 0.1 + 0.2, True, "7 %")] == \
        ["50", "62.5", "1234567", "1234567", "0.3", "True", "7 %"]
