"""The CLI's tables and lines say a closed vocabulary's codes in the explorer's words (codes.WORDS, through
views.value_text): `amx show`, `changes`, `compare` and `rules` printed `paypal; net60`, `US`, `created`, `joined`,
`program.delta`. What is typed back keeps the codes, and an option takes the words too."""

import json

from typer.testing import CliRunner

from affiliate_matrix.cli import app
from tests.support.indexing import Index, record
from tests.support.rules import added_by_cli


def cells(output: str) -> list[tuple[str, ...]]:
    """A table's rows (a wide terminal, one line a row) as their cells."""
    return [tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in output.splitlines() if "│" in line]


def indexed(tmp_path, monkeypatch) -> Index:
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    index = Index(tmp_path)
    index.batch(record("affiliateprograms", "Shop Offer", "https://shopoffer.com", kind="offer",
                       countries=["USA", "Deutschland"], payout_text="PayPal or wire, paid Net 60, minimum $50"))
    return index


def test_show_says_payout_countries_and_kind_in_the_explorers_words(tmp_path, monkeypatch):
    [program] = indexed(tmp_path, monkeypatch).programs()
    result = CliRunner().invoke(app, ["show", program["id"]])
    assert result.exit_code == 0, (result.output, result.exception)
    said = {row[0]: row[1] for row in cells(result.output) if row}
    assert said["Payout"] == "PayPal, Wire transfer; Net 60; minimum 50 USD", result.output
    assert said["Countries"] == "Germany, United States", result.output


def test_changes_say_the_change_and_its_values_in_words_and_take_the_words_back(tmp_path, monkeypatch):
    indexed(tmp_path, monkeypatch)
    for typed in ("created", "Created"):  # the code, or the word the table shows
        result = CliRunner().invoke(app, ["changes", "--change", typed])
        assert result.exit_code == 0, (typed, result.output, result.exception)
        [row] = [row for row in cells(result.output) if row and row[0]]
        assert row[1] == "Created", result.output
        fields = result.output
        assert "Kind: — → Offer" in fields and "Countries: — → Germany, United States" in fields, fields
        assert "Payout: — → PayPal, Wire transfer; Net 60; minimum 50 USD" in fields, fields
    refused = CliRunner().invoke(app, ["changes", "--change", "made"])
    assert refused.exit_code != 0


def test_compare_says_the_kind_and_the_contract_in_words(tmp_path, monkeypatch):
    indexed(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["compare", "shopoffer.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    [row] = [row for row in cells(result.output) if row and row[0]]
    assert row[1:4] == ("Offer", "—", "—") and row[6] == "PayPal, Wire transfer; Net 60; minimum 50 USD", row


def test_a_filter_option_takes_the_words_a_table_shows(tmp_path, monkeypatch):
    """`--status "Possibly closed"` and `--payout-method "bank transfer"` were usage errors: the table shows those
    words, the option took only closed_suspected and bank_transfer."""
    indexed(tmp_path, monkeypatch)
    for args in (["--status", "Possibly closed"], ["--payout-method", "bank  transfer"], ["--kind", "OFFER"],
                 ["--commission-type", "Percent"], ["--category", "hosting & domains"],
                 ["--country", "open to every country"]):  # the explorer's words for worldwide, no code of its own
        result = CliRunner().invoke(app, ["search", *args])
        assert result.exit_code == 0, (args, result.output, result.exception)
    found = CliRunner().invoke(app, ["search", "--payout-method", "Wire transfer", "--kind", "Offer"])
    assert found.exit_code == 0 and "Shop Offer" in found.output, found.output
    exported = CliRunner().invoke(app, ["export", "programs", "--status", "Active"])
    assert exported.exit_code == 0, (exported.output, exported.exception)
    [program] = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    # the machine's output keeps the codes
    assert (program["kind"], program["payout"]["methods"], program["countries"]) == ("offer", ["paypal", "wire"],
                                                                                    ["DE", "US"])


def rule_added(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    added_by_cli(tmp_path, {"id": "raised", "trigger": {"event": "program.delta"}, "condition": "true",
                            "action": {"type": "alert", "params": {"text": "x"}}})
    added_by_cli(tmp_path, {"id": "nightly", "trigger": {"schedule": "0 3 * * *"}, "condition": "true",
                            "action": {"type": "alert", "params": {"text": "y"}}})


def test_rules_list_and_show_say_the_trigger_and_the_action_in_words_with_their_codes(tmp_path, monkeypatch):
    rule_added(tmp_path, monkeypatch)
    listed = CliRunner().invoke(app, ["rules", "list"])
    assert listed.exit_code == 0, (listed.output, listed.exception)
    rows = {row[0]: row for row in cells(listed.output) if row and row[0]}
    assert rows["raised"][1:4:2] == ("A program changed (program.delta)", "Record an alert (alert)"), rows
    assert rows["nightly"][1] == "on a schedule: every day at 03:00 UTC (0 3 * * *)", rows
    shown = CliRunner().invoke(app, ["rules", "show", "raised"]).output
    assert "trigger: A program changed (program.delta)" in shown and "action: Record an alert (alert); Text: x" \
        in shown, shown


def test_rules_show_and_test_name_the_actions_parameters_in_the_rules_pages_words(tmp_path, monkeypatch):
    """`amx rules show` and `amx rules test` wrote an action's parameters as the document's JSON, {"webhook_url": …,
    "text": …}, where the Rules page names each in words (Webhook, Text), as README says the CLI does."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "300")
    added_by_cli(tmp_path, {"id": "hook", "trigger": {"event": "program.delta"}, "condition": "true",
                            "action": {"type": "notify", "params": {"webhook_url": "https://hooks.example.com/x/y",
                                                                    "text": "{program_name} changed"}}})
    shown = CliRunner().invoke(app, ["rules", "show", "hook"]).output
    said = "; Text: {program_name} changed; Webhook: https://hooks.example.com/…"
    assert f"action: Post to a webhook (notify){said}" in shown and "webhook_url" not in shown, shown
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"type": "program.delta", "data": {"id": "d1", "program_id": "p_1", "change": "updated",
                                                                   "fields": []}}))
    tested = CliRunner().invoke(app, ["rules", "test", "hook", "--event", str(event)])
    assert tested.exit_code == 0 and f"→ true: would dispatch notify{said}" in tested.output, tested.output




def test_rules_add_says_the_trigger_and_the_action_in_words_as_rules_list_does(tmp_path, monkeypatch):
    """`amx rules add` said `on schedule:0 3 * * * if true → alert`, the codes amx rules list and show put in words."""
    import json

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    said = []
    for rule in ({"id": "raised", "trigger": {"event": "program.delta"}, "condition": "true",
                  "action": {"type": "alert", "params": {"text": "x"}}},
                 {"id": "nightly", "trigger": {"schedule": "0 3 * * *"}, "condition": "true",
                  "action": {"type": "notify", "params": {"webhook_url": "https://hooks.example.com/x", "text": "y"}}}):
        (tmp_path / "rule.json").write_text(json.dumps(rule))
        added = CliRunner().invoke(app, ["rules", "add", str(tmp_path / "rule.json")])
        assert added.exit_code == 0, (added.output, added.exception)
        said.append(" ".join(added.output.split()))
    assert said == ["added rule raised: A program changed (program.delta) if true → Record an alert (alert)",
                    "added rule nightly: on a schedule: every day at 03:00 UTC (0 3 * * *) if true → Post to a webhook "
                    "(notify)"]

def test_rules_list_and_show_write_a_cool_down_as_the_rules_page_does(tmp_path, monkeypatch):
    """A cool-down of an hour read `3600s` in amx rules list, `3600 s` in amx rules show and `3,600 s` on the Rules
    page."""
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    added_by_cli(tmp_path, {"id": "hourly", "trigger": {"event": "program.delta"}, "condition": "true",
                            "action": {"type": "alert", "params": {"text": "x"}}, "cooldown_s": 3600})
    listed = CliRunner().invoke(app, ["rules", "list"])
    assert {row[0]: row for row in cells(listed.output) if row and row[0]}["hourly"][4] == "3,600 s", listed.output
    assert "cool-down: 3,600 s" in CliRunner().invoke(app, ["rules", "show", "hourly"]).output

def test_rules_show_prints_the_rules_state_and_an_activations_detail_after_a_dash(tmp_path, monkeypatch):
    """`amx rules show` said nothing of when the rule last fired or how often it failed (GET /rules/{id} and the
    Rules page did); and a detail of its own brackets read "done (shown by amx demo (no webhook posted))"."""
    from affiliate_matrix.config import Settings
    from affiliate_matrix.rules.state import state_key
    from affiliate_matrix.rules.store import record_activation
    from affiliate_matrix.runtime import Runtime

    rule_added(tmp_path, monkeypatch)
    assert "state: never fired" in CliRunner().invoke(app, ["rules", "show", "raised"]).output
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.store.put(state_key("raised"), json.dumps({"last_fired_at": "2026-11-22T06:00:00+00:00", "failures": 2,
                                                 "last_error": "no such key: program.x"}).encode())
    record_activation(rt, {
        "id": "a_" + "1" * 24, "rule_id": "raised", "trigger": "program.delta", "event_id": "e1", "decision": "fired",
        "action": "notify", "action_event_id": "x", "outcome": "done",
        "detail": "shown by amx demo (no webhook posted)", "inputs": {}, "at": "2026-11-22T06:00:00+00:00"})
    shown = CliRunner().invoke(app, ["rules", "show", "raised"])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert ("state: last fired 2026-11-22 06:00:00 UTC; failed 2 times in a row (disabled at 3), the last: no such "
            "key: program.x") in shown.output, shown.output
    assert ("2026-11-22 06:00:00 UTC fired → Post to a webhook: done — shown by amx demo (no webhook posted)"
            in shown.output), shown.output
    rt.store.put(state_key("raised"), b"[]")  # damaged: named, and the rule starts afresh
    shown = CliRunner().invoke(app, ["rules", "show", "raised"]).output
    assert "state: unreadable, started afresh at its next evaluation" in shown and "rules/state/raised.json" in shown, \
        shown


def test_the_cli_names_a_programs_fields_from_the_explorers_own_mapping(tmp_path, monkeypatch):
    """`amx show` named fields by code (cookie_days, merchant_domain) where the explorer's program page says Cookie
    length and Merchant domain, from a mapping of the web's alone: both read wording.FIELD_LABELS now."""
    from affiliate_matrix.web import render
    from affiliate_matrix.wording import FIELD_LABELS

    assert render.FIELD_LABELS is FIELD_LABELS
    [program] = indexed(tmp_path, monkeypatch).programs()
    shown = {row[0] for row in cells(CliRunner().invoke(app, ["show", program["id"]]).output) if row}
    assert {"Merchant domain", "Source records", "Countries"} <= shown and not {"merchant_domain", "records"} & shown, shown


def test_a_cursor_refused_says_what_to_give_in_the_commands_words(tmp_path, monkeypatch):
    """`amx changes --cursor x` said "pass back next_cursor exactly as it was given": the API's words to a program
    that reads next_cursor from JSON, where the person typing has the --cursor the listing printed."""
    indexed(tmp_path, monkeypatch)
    for cursor, said in (("abc", "is malformed"),
                         ("a" * 3000, "is longer than any cursor printed (3,000 characters; one is at most 2,000)")):
        result = CliRunner().invoke(app, ["changes", "--cursor", cursor])
        assert result.exit_code == 2, (result.output, result.exception)
        assert (f"Invalid value for '--cursor': {said}: give --cursor as the last listing printed it, with the same "
                "other options") in " ".join(result.output.split()), result.output
        assert "next_cursor" not in result.output, result.output


def test_a_cookie_and_a_programs_records_read_alike_in_the_cli_and_the_explorer():
    """The CLI showed a cookie as "45d" where the explorer says "45 days", and a record as its id alone ("127.0.0.3")
    where the explorer said the source's code and the id ("discovery 127.0.0.3"): each now says them in wording's one
    way, discovery by a title as every other source is."""
    from affiliate_matrix.cli.views import source_named, value_text
    from affiliate_matrix.web.render import field, source_title

    for days, said in ((45, "45 days"), (1, "1 day"), (-1, "lifetime"), (None, "—")):
        assert value_text("cookie_days", days) == field(days, "cookie_days") == said, days
    records = [{"source": "discovery", "record_key": "127.0.0.3", "url": "http://127.0.0.3/partners"},
               {"source": "affiliateprograms", "record_key": "bluehost", "url": None}]
    assert value_text("records", records) == field(records, "records") == (
        "Discovery: 127.0.0.3, AffiliatePrograms.com: bluehost")
    assert source_title("discovery") == "Discovery" and source_named("discovery").startswith("Discovery")


def test_discover_review_quotes_a_name_as_every_error_quotes_what_was_given(tmp_path, monkeypatch):
    """`amx discover review` printed a find's name with Python's repr, whole (a page's title of any length, a
    quote escaped as \\'); it is quoted as wording.quoted quotes, cut past 40 characters, as is a domain not listed."""
    from affiliate_matrix.wording import quoted

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    name = "Tailwag's Partner Program for Pet Lovers Everywhere"
    item = {"domain": "tailwag.example", "name": name, "confidence": 0.5, "url": "https://tailwag.example/partners",
            "evidence": ["partner wording"], "raw_key": "raw/discovery/x.html", "query": "pet supplies",
            "provider": "brave", "at": "2026-12-01T00:00:00+00:00"}
    (tmp_path / "objects" / "discovery" / "review").mkdir(parents=True)
    (tmp_path / "objects" / "discovery" / "review" / "tailwag.example.json").write_text(json.dumps(item))
    listed = CliRunner().invoke(app, ["discover", "review"])
    assert listed.exit_code == 0 and f"tailwag.example {quoted(name)} confidence 0.50" in listed.output, listed.output
    assert name not in listed.output, listed.output
    missing = CliRunner().invoke(app, ["discover", "review", "--reject", "x" * 60 + ".example"])
    assert str(missing.exception) == f"{quoted('x' * 60 + '.example')} is not on the review list (amx discover review)"


def test_amx_search_pages_past_its_limit_by_the_cursor_it_prints_as_amx_changes_does(tmp_path, monkeypatch):
    """`amx search` showed at most one page (100) and no way on: it prints the next page's --cursor, as `amx changes`
    does, and takes it back, its refusals in the command's words."""
    import re

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    Index(tmp_path).batch(*(record("affiliateprograms", f"Shop {n}", f"https://shop{n}.com") for n in range(5)))
    shown, cursor = [], []
    while True:
        result = CliRunner().invoke(app, ["search", "--sort", "name", "--limit", "2", *cursor])
        assert result.exit_code == 0, (result.output, result.exception)
        shown += [row[1] for row in cells(result.output)]
        assert (", 2 shown from --cursor" if cursor else ", the first 2 shown (--limit)") in result.output or \
            "1 shown from --cursor" in result.output, result.output
        found = re.search(r"more programs: the same command with --cursor (\S+)", result.output)
        if not found:
            break
        cursor = ["--cursor", found[1]]
    assert shown == [f"Shop {n}" for n in range(5)], shown
    other = CliRunner().invoke(app, ["search", "--sort", "commission", "--limit", "2", "--cursor", cursor[1]])
    assert other.exit_code == 2 and "belongs to a different query: give the other options as the command that " \
        "printed it had them (--limit aside)" in " ".join(other.output.split()), other.output
