"""A program document of the index not of its shape (a hand edit, an older build's writing) where programs are read
past the API's lists: the export, the commands, indexing, verify, a connection's withdrawal and an import. Each read
it as it was (program_index.from_document): a raw AttributeError, TypeError or ValidationError that ended the whole
export, command, batch or run. Now from_document raises one DamagedData naming its id, and each leaves it out and
names it, or refuses what would be merged into it, losing nothing."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from affiliate_matrix.errors import DamagedData
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document
from tests.support.factories import make_program
from tests.support.indexing import BACKENDS, T1, Index, on_backend, record

NOT_A_PROGRAM = ["a list", "not an object"]  # old: AttributeError ('list' object has no attribute 'get')


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "400")  # a command's table and lines unwrapped
    return Index(tmp_path)


def stored(index: Index, *docs: dict) -> None:
    from affiliate_matrix.deltas import DELTAS_INDEX

    index.rt.index.ensure_index(PROGRAMS_INDEX)
    index.rt.index.ensure_index(DELTAS_INDEX)
    assert index.rt.index.bulk_upsert(PROGRAMS_INDEX.name, list(docs), refresh=True).errors == []


def shops(index: Index) -> tuple[dict, dict, dict]:
    """Shop one, read; Shop two, its program not an object; Shop three, a field of the wrong shape."""
    good, listless, misshapen = (to_document(make_program(f"Shop {n}", f"https://shop{n}.com", commission_text="5%"))
                                 for n in ("one", "two", "three"))
    listless, misshapen = {**listless, "program": NOT_A_PROGRAM}, {**misshapen, "program": {"name": 5}}
    stored(index, good, listless, misshapen)
    return good, listless, misshapen


def test_from_document_raises_one_named_error_for_a_program_not_of_its_shape():
    doc = to_document(make_program("Shop one", "https://shopone.com"))
    assert from_document(doc).id == doc["id"]
    for program, said in ((NOT_A_PROGRAM, "its program is not an object"), ({"name": 5}, "id: Field required"),
                          ({**doc["program"], "networks": "awin"}, "networks: Input should be a valid list")):
        with pytest.raises(DamagedData) as raised:
            from_document({**doc, "program": program})
        assert str(raised.value).startswith(f"program {doc['id']} is damaged ({said}")
        assert raised.value.where == f"program {doc['id']}"
    with pytest.raises(DamagedData, match="program None is damaged"):
        from_document({"name": "no program"})


def test_an_export_leaves_a_damaged_program_out_and_names_it_on_its_last_line(index, tmp_path):
    """GET /programs/export of an index holding a damaged program ended the stream halfway (its 200 gone already):
    a file cut short with no word why. Now the file holds the others and its last line names what was left out; a
    Parquet file, written whole before it is sent, counts them in X-Damaged-Items."""
    import pyarrow.parquet as pq

    good, listless, misshapen = shops(index)
    damaged = {listless["id"], misshapen["id"]}
    answer = index.api.get("/programs/export?format=jsonl", headers=index.auth)
    assert answer.status_code == 200
    *programs, last = answer.get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in programs] == [good["id"]]
    assert {bad["key"] for bad in json.loads(last)["errors"]} == damaged
    assert "Shop two" not in last and "Shop three" not in last  # named by its id, never its content

    rows = list(csv.reader(io.StringIO(index.api.get("/programs/export?format=csv", headers=index.auth)
                                       .get_data(as_text=True))))
    assert rows[0][0] == "id" and [row[0] for row in rows[1:-1]] == [good["id"]]
    assert len(rows[-1]) == 1 and rows[-1][0].startswith("# 2 program(s) left out, damaged: program p_")
    assert all(program_id in rows[-1][0] for program_id in damaged)

    answer = index.api.get("/programs/export?format=parquet", headers=index.auth)
    assert answer.status_code == 200 and answer.headers["X-Damaged-Items"] == "2"
    assert pq.read_table(io.BytesIO(answer.get_data())).column("id").to_pylist() == [good["id"]]

    for fmt in ("jsonl", "csv"):  # that line is no program: an import of the file reads past it, and says so
        from affiliate_matrix.exchange import import_programs

        path = tmp_path / f"exported.{fmt}"
        path.write_bytes(index.api.get(f"/programs/export?format={fmt}", headers=index.auth).get_data())
        report = import_programs(index.rt, path, fmt)
        assert (report.records, report.errors, report.left_out_lines) == (1, [], 1)

    answer = index.api.get("/programs/export?format=jsonl&q=one", headers=index.auth)  # nothing left out: no last line
    assert [json.loads(line)["id"] for line in answer.get_data(as_text=True).splitlines()] == [good["id"]]
    assert "X-Damaged-Items" not in index.api.get("/programs/export?format=parquet&q=one", headers=index.auth).headers


def test_a_search_total_counts_the_matches_of_the_index_those_left_out_as_damaged_too(index):
    """total is what the page numbers count in (page × limit is an offset among the matches): a page names what it
    left out (errors), and a client pages by next_cursor until it is null (README, the schema's description)."""
    one, two, three = (to_document(make_program(f"Shop {n}", f"https://shop{n}.com")) for n in ("one", "two", "three"))
    stored(index, one, two, {**three, "categories": "not a list"})  # a summary field of the wrong shape
    body = index.get("/programs?q=shop&limit=2&sort=name")
    assert body["total"] == 3 and [item["id"] for item in body["items"]] == [one["id"]]
    assert [bad["key"] for bad in body["errors"]] == [three["id"]]  # (Shop three sorts before Shop two)
    body = index.get(f"/programs?q=shop&limit=2&sort=name&cursor={body['next_cursor']}")
    assert body["total"] == 3 and [item["id"] for item in body["items"]] == [two["id"]] and body["next_cursor"] is None


def test_the_commands_leave_a_damaged_program_out_and_name_it_on_standard_error(index, tmp_path):
    """amx search, compare and export programs met a damaged program as a traceback; amx show as one too. Now each
    leaves it out and names it on standard error, its exit code 0; where all it found is damaged, an error naming it."""
    from affiliate_matrix.cli import app

    good, listless, misshapen = shops(index)
    beside = {**to_document(make_program("Shop one", "https://shopone.com", commission_text="7%")),
              "id": "p_00000000000000aa", "program": {"name": 5}}  # one of Shop one's merchant too
    stored(index, beside)
    runner = CliRunner()

    result = runner.invoke(app, ["search", "shop"])
    assert result.exit_code == 0, result.output
    assert "Shop one" in result.stdout and "Shop two" not in result.stdout and "Shop three" not in result.stdout
    named = [line for line in result.stderr.splitlines() if line.startswith("unreadable: ")]  # (and the log's warning)
    assert {line.split()[1].rstrip(":") for line in named} == {listless["id"], misshapen["id"], beside["id"]}
    assert all("is damaged" in line for line in named)

    result = runner.invoke(app, ["search", "three"])  # all it found is damaged
    assert isinstance(result.exception, DamagedData), result.output
    assert misshapen["id"] in result.stderr and "none of them can be read" in str(result.exception)

    result = runner.invoke(app, ["compare", "shopone.com"])
    assert result.exit_code == 0, result.output
    assert "5%" in result.stdout and beside["id"] in result.stderr and "is damaged" in result.stderr

    result = runner.invoke(app, ["show", listless["id"]])
    assert isinstance(result.exception, DamagedData)
    assert str(result.exception).startswith(f"program {listless['id']} is damaged (its program is not an object)")

    out = tmp_path / "programs.jsonl"
    result = runner.invoke(app, ["export", "programs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [good["id"]]  # programs only
    named = [line for line in result.stderr.splitlines() if line.startswith("unreadable: ")]
    assert {line.split()[1].rstrip(":") for line in named} == {listless["id"], misshapen["id"], beside["id"]}
    result = runner.invoke(app, ["export", "programs", "--q", "three"])  # all it found is damaged
    assert isinstance(result.exception, DamagedData) and "none of them can be read" in str(result.exception)


def test_indexing_refuses_a_sighting_of_a_damaged_program_names_it_and_indexes_the_rest(index):
    """A batch whose program the index holds damaged failed whole, every time it was delivered: resolution read each
    candidate found by name (a raw AttributeError). Now the sighting of the damaged program is refused, named in the
    batch's errors (kept for a replay), the program left as it is, and the batch's other programs indexed: overwriting
    it from the sighting would drop every other source's claims it holds."""
    index.batch(record("dira", "Shop one", "https://shopone.com/", commission_text="5%"))
    (first,) = index.programs()
    doc = index.rt.index.get(PROGRAMS_INDEX.name, first["id"])
    damaged = {**doc, "program": NOT_A_PROGRAM}
    stored(index, damaged)
    key = index.batch(record("dira", "Shop one", "https://shopone.com/", commission_text="8%"),
                      record("dira", "Shop two", "https://shoptwo.com/", commission_text="3%"))
    assert index.rt.index.get(PROGRAMS_INDEX.name, first["id"]) == damaged  # as it was
    assert [p["name"] for p in index.get("/programs?q=two")["items"]] == ["Shop two"]
    errors = json.loads(index.rt.store.get(f"errors/index/{key.rsplit('/', 1)[-1]}.json").data)["errors"]
    assert [error["id"] for error in errors] == [first["id"]]
    assert f"program {first['id']} is damaged" in errors[0]["reason"]


def test_a_connections_withdrawal_passes_over_a_damaged_program_and_withdraws_the_rest(index):
    """A deleted connection's claims are withdrawn from every program of its source: one damaged failed the whole
    withdrawal (a raw AttributeError, its event delivered again for ever). Now it is left as it is and logged by its id,
    and the others are withdrawn."""
    from datetime import UTC, datetime

    from structlog.testing import capture_logs

    from affiliate_matrix.pipeline import withdraw_connection

    index.batch(record("dira", "Shop one", "https://shopone.com/"), record("dira", "Shop two", "https://shoptwo.com/"))
    one, two = index.programs()
    stored(index, {**index.rt.index.get(PROGRAMS_INDEX.name, two["id"]), "program": {"name": 5}})
    with capture_logs() as logs:
        withdraw_connection(index.rt, "dira", "dira", datetime(2026, 12, 1, tzinfo=UTC))
    assert index.get(f"/programs/{one['id']}")["status"] == "closed_suspected"  # withdrawn
    assert [(e["program_id"], e["error"][:40]) for e in logs if e["event"] == "index.withdrawal_damaged"] == [
        (two["id"], f"program {two['id']} is damaged (id: Field required)"[:40])]


def test_verify_passes_over_a_damaged_program(index):
    """Verify's choice of programs to check read every active one: a damaged one ended the run. Now it is left out,
    logged by its id."""
    from affiliate_matrix.verify import VerifyReport, _stalest_within_budget

    good, listless, misshapen = shops(index)
    chosen = _stalest_within_budget(index.rt, 10, VerifyReport())
    assert [program.id for program, _ in chosen] == [good["id"]]


def test_an_import_replaces_a_damaged_program_whole(index, tmp_path):
    """An import writes each program of its file whole: one the index holds damaged ended it (a raw AttributeError
    reading the program it replaces for the change's delta). Now the file's program replaces it, its change a
    creation (what a reader could not read before), logged by its id."""
    from affiliate_matrix.exchange import import_programs

    good, listless, misshapen = shops(index)
    program = make_program("Shop two", "https://shoptwo.com", commission_text="9%")
    assert program.id == listless["id"]
    path = tmp_path / "in.jsonl"
    path.write_text(program.model_dump_json() + "\n")
    report = import_programs(index.rt, path, "jsonl")
    assert report.errors == [] and report.written == 1
    assert index.get(f"/programs/{listless['id']}")["commission_text"] == "9%"
    assert [(c["program_id"], c["change"]) for c in index.changes()] == [(listless["id"], "created")]


def test_a_rule_reading_a_damaged_program_is_not_evaluated_but_named_and_the_others_go_on(index):
    """The rules engine read a delta's program from the document's summary fields as they were. A list where a number
    is failed the whole event as data that does not fit it (400: parked as a dead letter, every rule of it lost; its
    dry run a 400 blaming the event); a document whose program is not of its shape was evaluated on its summary. Now
    the program is read through from_document and its summary derived from it (to_document): a wrongly shaped summary
    field never reaches a condition, and a program not of its shape is named (document.damaged; the activation of each
    rule reading it: decision error, outcome not_evaluated, no failure counted; the dry run's program_damaged), while
    the event's rules that do not read it are evaluated."""
    from functions_framework import create_app
    from structlog.testing import capture_logs

    from affiliate_matrix.auth import create_token
    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.events import PROGRAM_DELTA, Event
    from affiliate_matrix.rules.store import activations
    from tests.support.events import deliver
    from tests.support.processes import ROOT

    good, listless, misshapen = shops(index)
    summary = to_document(make_program("Shop four", "https://shopfour.com", commission_text="5%"))
    summary = {**summary, "name": 5, "commission_percent_max": [50.0]}  # its program is of its shape
    stored(index, summary)
    app = create_app("handle", str(ROOT / "functions" / "triggers" / "main.py")).test_client()
    admin = {"Authorization": f"Bearer {create_token(index.rt.secrets, 'admin')}"}
    for rule_id, condition in (("rich", "program.commission_percent_max > 4.0"),
                               ("named", 'program.name.startsWith("Shop")'), ("any", 'delta.change == "updated"')):
        rule = {"id": rule_id, "trigger": {"event": "program.delta"}, "condition": condition,
                "action": {"type": "alert", "params": {"text": "changed"}}, "cooldown_s": 0}
        assert app.post("/rules", json=rule, headers=admin).status_code == 201

    with capture_logs() as logs:
        for n, doc in enumerate((good, listless, summary, listless, listless)):  # 3 times: no rule disabled
            delta = {"id": f"d_{n}", "program_id": doc["id"], "change": "updated", "fields": []}
            event = Event.make(PROGRAM_DELTA, "/index", delta, key=f"delta {n}")
            assert deliver(app, event, "triggers").status_code == 204
    assert {e["key"] for e in logs if e["event"] == "document.damaged"} == {listless["id"]}
    done = {(a["rule_id"], a["inputs"]["program_id"], a["decision"], a["outcome"])
            for a in activations(index.rt, limit=100)}
    assert done == {*((rule_id, program_id, "fired", "dispatched") for rule_id in ("rich", "named", "any")
                      for program_id in (good["id"], summary["id"])),
                    ("rich", listless["id"], "error", "not_evaluated"), ("named", listless["id"], "error", "not_evaluated"),
                    ("any", listless["id"], "fired", "dispatched")}
    unread = [a for a in activations(index.rt, limit=100) if a["outcome"] == "not_evaluated"]
    assert all(f"program {listless['id']} is damaged (its program is not an object)" in a["detail"] for a in unread)
    assert "Shop two" not in str(unread)  # named by its id, never its content
    assert all(app.get(f"/rules/{rule_id}", headers=admin).get_json()["enabled"] for rule_id in ("rich", "named"))

    trial = app.post(f"/rules/rich/test/programs/{listless['id']}", headers=admin)
    assert trial.status_code == 200, trial.get_data(as_text=True)
    assert (trial.json["holds"], trial.json["error"], trial.json["would_dispatch"]) == (None, None, None)
    assert trial.json["program_damaged"].startswith(f"not evaluated: its condition reads the program, and program "
                                                    f"{listless['id']} is damaged")
    assert trial.json["program_missing"] is None
    result = CliRunner().invoke(amx, ["rules", "test", "rich", "--program", listless["id"]])
    assert result.exit_code == 1 and f"program {listless['id']} is damaged" in result.stdout, result.output
    trial = app.post(f"/rules/any/test/programs/{listless['id']}", headers=admin)  # it reads no program: evaluated
    assert (trial.json["holds"], trial.json["program_damaged"]) == (False, None)  # (no change recorded)
    trial = app.post(f"/rules/rich/test/programs/{summary['id']}", headers=admin)
    assert trial.status_code == 200, trial.get_data(as_text=True)
    assert (trial.json["holds"], trial.json["inputs"]["program_name"]) == (True, "Shop four")


def test_an_export_names_at_most_its_bound_of_damaged_programs_and_counts_the_rest(index, tmp_path, monkeypatch):
    """An export kept every damaged program it left out in memory and named them all on its last line (and the command
    on standard error): an index an older build wrote whole made that line as long as the index. Now it names the
    first MAX_NAMED_LEFT_OUT and counts the rest, in the file's last line, the Parquet file's header and the command's
    words; an import still reads past that line."""
    import pyarrow.parquet as pq

    from affiliate_matrix import exchange
    from affiliate_matrix.cli import app
    from affiliate_matrix.exchange import import_programs

    monkeypatch.setattr(exchange, "MAX_NAMED_LEFT_OUT", 1, raising=False)
    good, listless, misshapen = shops(index)
    *programs, last = index.api.get("/programs/export?format=jsonl", headers=index.auth).get_data(as_text=True) \
        .splitlines()
    named, more = json.loads(last)["errors"]
    assert named["key"] in (listless["id"], misshapen["id"])
    assert more == {"key": "more", "error": "1 more program(s) left out as damaged, not named"}

    rows = list(csv.reader(io.StringIO(index.api.get("/programs/export?format=csv", headers=index.auth)
                                       .get_data(as_text=True))))
    assert rows[-1] == [f"# 2 program(s) left out, damaged: {named['error']}; {more['error']}"]
    answer = index.api.get("/programs/export?format=parquet", headers=index.auth)
    assert answer.headers["X-Damaged-Items"] == "2"
    assert pq.read_table(io.BytesIO(answer.get_data())).column("id").to_pylist() == [good["id"]]

    out = tmp_path / "programs.jsonl"
    result = CliRunner().invoke(app, ["export", "programs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [line.split()[1].rstrip(":") for line in result.stderr.splitlines() if line.startswith("unreadable: ")] \
        == [named["key"]]
    assert "and 1 more program(s) left out as damaged, not named" in result.stderr

    path = tmp_path / "exported.jsonl"
    path.write_text("\n".join([*programs, last]) + "\n")
    report = import_programs(index.rt, path, "jsonl")
    assert (report.records, report.errors, report.left_out_lines) == (1, [], 1)


def test_the_demo_reads_past_a_damaged_program_of_its_data_dir(index):
    """amx demo runs on the data dir it is given, whose index may hold a damaged program: its count of programs and its
    provenance screen read each through from_document, and one ended the demo (DamagedData). Now they read through
    programs_of: left out, logged, and named on the provenance screen."""
    from collections import defaultdict

    from rich.console import Console

    from affiliate_matrix.demo import screens
    from affiliate_matrix.demo.collect import Story

    good, listless, misshapen = shops(index)
    beside = {**to_document(make_program("Shop one", "https://shopone.com", commission_text="7%")),
              "id": "p_00000000000000aa", "program": {"name": 5}}  # one of Shop one's merchant too
    stored(index, beside)
    story = Story(index.rt)
    assert [program.id for program in story.programs()] == [good["id"]]
    story.merchant, story.urls = good["merchant_key"], defaultdict(lambda: "https://recorded.example/")
    console = Console(file=io.StringIO(), width=300)
    screens.provenance(console, story)
    said = console.file.getvalue()
    assert story.shown_program.id == good["id"] and f"unreadable: {beside['id']}: program {beside['id']} is damaged" \
        in said


def test_a_change_of_a_damaged_program_is_listed_its_name_not_known_and_the_damage_named(index):
    """The change feed's page and amx changes named a change's program by the document's name as it was: a damaged
    program's showed as 5, or a list. Now both read the names through from_document (program_names): its changes are
    listed by its id, its name not known, and the program is named as damaged as a list names it."""
    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.deltas import to_document as delta_document
    from affiliate_matrix.models import DeltaChange, FieldChange
    from tests.support.apps import signed_in_web

    good = to_document(make_program("Shop one", "https://shopone.com"))
    bad = {**to_document(make_program("Shop two", "https://shoptwo.com")), "name": 5, "program": {"name": 5}}
    stored(index, good, bad)
    deltas = [delta_document(DeltaChange(id=f"d_{n}", program_id=doc["id"], change="updated", source="test", at=T1,
                                         fields=[FieldChange(field="cookie_days", old=30, new=90)]), recorded_at=T1)
              for n, doc in enumerate((good, bad))]
    assert index.rt.index.bulk_upsert(DELTAS_INDEX.name, deltas, refresh=True).errors == []

    web = signed_in_web(index.rt.secrets, next_page="/changes")
    page = web.get("/changes").text
    assert f'<a href="/programs/{good["id"]}">Shop one</a>' in page
    assert f'<a href="/programs/{bad["id"]}">{bad["id"]}</a>' in page  # old: >5<
    assert "1 program could not be shown: its stored record in the index is damaged." in page

    result = CliRunner().invoke(amx, ["changes"])
    assert result.exit_code == 0, result.output
    assert f"Shop one ({good['id']})" in result.stdout and f"— ({bad['id']})" in result.stdout  # old: 5 (p_…)
    assert f"unreadable: {bad['id']}: program {bad['id']} is damaged" in result.stdout


def test_a_campaign_naming_a_damaged_program_says_so_and_is_otherwise_as_it_was(index):
    """A campaign's programs were read as the index's documents as they were: amx budget campaigns show named a
    damaged one by its document's name (5). Now indexed_programs reads them through from_document: a damaged program
    is still held (a campaign may name it, it is not called not indexed; no run allocates by a program), and where the
    campaign is shown it is said damaged, its name not known, with what to do."""
    from affiliate_matrix.budget.campaigns import (Campaign, checked_against_store, indexed_programs,
                                                   programs_not_indexed, save_campaign)
    from affiliate_matrix.cli import app as amx

    good = to_document(make_program("Shop one", "https://shopone.com"))
    bad = {**to_document(make_program("Shop two", "https://shoptwo.com")), "name": 5, "program": {"name": 5}}
    stored(index, good, bad)
    campaign = Campaign(id="social", name="Social", channel="social", currency="USD",
                        program_ids=[good["id"], bad["id"]])
    checked_against_store(index.rt, campaign)  # both in the index
    save_campaign(index.rt.store, campaign, create=True)
    assert programs_not_indexed(index.rt, [campaign]).missing == {}
    result = CliRunner().invoke(amx, ["budget", "campaigns", "show", "social"])
    assert result.exit_code == 0, result.output
    assert f"{good['id']}  Shop one" in result.stdout
    assert f"{bad['id']}  name not known: program {bad['id']} is damaged" in result.stdout  # old: "p_…  5"
    found = indexed_programs(index.rt, campaign.program_ids)
    assert found[good["id"]].name == "Shop one" and isinstance(found[bad["id"]], DamagedData)


def test_the_budget_report_and_campaign_list_name_a_campaign_naming_a_damaged_program(index, tmp_path):
    """Only `amx budget campaigns show` and the log said a campaign named a program the index holds damaged: the
    report's summary and `amx budget campaigns list` said nothing. Now both name the campaign and the program's id, in
    one wording, and say the campaign is allocated and forecast as any (no run reads its programs)."""
    from affiliate_matrix.budget.campaigns import Campaign, damaged_programs_said, programs_not_indexed, save_campaign
    from affiliate_matrix.budget.report import report
    from affiliate_matrix.cli import app as amx

    good = to_document(make_program("Shop one", "https://shopone.com"))
    bad = {**to_document(make_program("Shop two", "https://shoptwo.com")), "program": NOT_A_PROGRAM}
    stored(index, good, bad)
    campaigns = [Campaign(id="social", name="Social", channel="social", currency="USD",
                          program_ids=[good["id"], bad["id"]]),
                 Campaign(id="search", name="Search", channel="search", currency="USD", program_ids=[good["id"]])]
    for campaign in campaigns:
        save_campaign(index.rt.store, campaign, create=True)
    assert programs_not_indexed(index.rt, campaigns) == ({}, {"social": [bad["id"]]})  # in the index, damaged
    said = damaged_programs_said("social", [bad["id"]])
    assert said.startswith(f"social names program damaged in the index: {bad['id']} (name not known; the campaign is "
                           "allocated and forecast from its days as any other")
    summary = report(index.rt, tmp_path / "report", horizon=7).summary
    assert f"{said}." in summary.splitlines()  # old: not a word of it
    assert "search names" not in summary
    listed = CliRunner().invoke(amx, ["budget", "campaigns", "list"])
    assert listed.exit_code == 0, listed.output
    assert said in listed.stdout.splitlines()


def test_a_program_whose_summary_fields_are_damaged_and_program_sound_is_read_from_its_program_or_named(index):
    """A document whose summary fields are not of their shape (a hand edit the index's mapping took: a name 5, a
    keyword field a list) and whose program is sound. GET /programs and GET /merchants?q= read the summary: they name
    it; GET /merchants/{key}, the export and amx search read the program: right. Two read the summary as it was:
    verify's freshness figures named the program 5, and discovery's known domains ended the run on the list
    (unhashable). Now each reads such a field from the program (program_index.summary_field)."""
    from affiliate_matrix.cli import app as amx
    from affiliate_matrix.discovery.run import known_domains
    from affiliate_matrix.verify import freshness

    good = to_document(make_program("Shop one", "https://shopone.com"))
    sound = to_document(make_program("Shop two", "https://shoptwo.com", commission_text="5%"))
    bad = {**sound, "name": 5, "merchant_domain": [sound["merchant_domain"]]}
    stored(index, good, bad)
    found = index.api.get("/programs", headers=index.auth).get_json()
    assert [item["id"] for item in found["items"]] == [good["id"]]
    assert [error["key"] for error in found["errors"]] == [bad["id"]]  # named
    merchants = index.api.get("/merchants?q=shop", headers=index.auth).get_json()
    assert [error["key"] for error in merchants["errors"]] == [bad["id"]]  # named
    merchant = index.api.get(f"/merchants/{sound['merchant_key']}", headers=index.auth).get_json()
    assert {row["name"] for row in merchant["rows"]} == {"Shop two"}  # read from its program
    exported = index.api.get("/programs/export?format=jsonl", headers=index.auth).get_data(as_text=True)
    assert {json.loads(line)["name"] for line in exported.splitlines()} == {"Shop one", "Shop two"}
    searched = CliRunner().invoke(amx, ["search", "shop"])
    assert searched.exit_code == 0 and "Shop two" in searched.stdout, searched.output

    named = {oldest["id"]: oldest["name"] for oldest in freshness(index.rt)["oldest"]}
    assert named == {good["id"]: "Shop one", bad["id"]: "Shop two"}, named  # old: 5
    assert known_domains(index.rt, ["shoptwo.com", "shopthree.com"]) == {"shoptwo.com"}  # old: TypeError


def test_a_request_reading_many_damaged_programs_logs_a_bounded_number_of_lines_and_names_every_one():
    """programs_of logged a document.damaged line for each damaged program it met: a listing over an index of thousands
    wrote thousands of lines a request. The bound was then a read's, and a request reads a page at a time (an export,
    the merchants' search, whose pages routes.of_shape read without any bound). Now the first MAX_DAMAGED_LOGGED of
    the request, then one line saying the rest are not logged; `damaged` still names every one."""
    from structlog.testing import capture_logs

    from affiliate_matrix.handlers.program_page import ProgramSummary
    from affiliate_matrix.handlers.routes import of_shape
    from affiliate_matrix.observability import MAX_DAMAGED_LOGGED, bind_request
    from affiliate_matrix.program_index import programs_of

    docs = [{"id": f"p_{n:016x}", "program": NOT_A_PROGRAM} for n in range(MAX_DAMAGED_LOGGED + 5)]
    pages = [docs[:10], docs[10:], docs[:3]]
    damaged: list[dict] = []
    with capture_logs() as logs:
        bind_request()
        for page in pages:
            assert list(programs_of(page, damaged)) == []
        assert of_shape(docs[:2], ProgramSummary, "program", damaged, made=from_document) == []
        bind_request()  # the next request logs its own
        assert list(programs_of(docs[:1])) == []
    assert [bad["key"] for bad in damaged] == [doc["id"] for page in (*pages, docs[:2]) for doc in page]
    assert [line["key"] for line in logs if line["event"] == "document.damaged"] == \
        [doc["id"] for doc in docs[:MAX_DAMAGED_LOGGED]] + [docs[0]["id"]]
    assert [line["logged"] for line in logs if line["event"] == "document.damaged_more"] == [MAX_DAMAGED_LOGGED]


def test_an_export_of_many_pages_logs_a_bounded_number_of_damaged_lines(index, monkeypatch):
    """An export reads the index a page at a time: each page logged its own MAX_DAMAGED_LOGGED damaged programs."""
    from structlog.testing import capture_logs

    from affiliate_matrix import exchange
    from affiliate_matrix.observability import MAX_DAMAGED_LOGGED

    good = to_document(make_program("Shop one", "https://shopone.com"))
    stored(index, good,
           *({**good, "id": f"p_{n:016x}", "program": NOT_A_PROGRAM} for n in range(MAX_DAMAGED_LOGGED + 5)))
    monkeypatch.setattr(exchange, "PAGE", 10)
    with capture_logs() as logs:
        answer = index.api.get("/programs/export?format=jsonl", headers=index.auth)
        lines = answer.get_data(as_text=True).splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["id"] == good["id"]
    assert len(json.loads(lines[1])["errors"]) > 1  # named on its last line, as before
    events = [line["event"] for line in logs if line["event"].startswith("document.damaged")]
    assert events == ["document.damaged"] * MAX_DAMAGED_LOGGED + ["document.damaged_more"]


def test_the_cache_warm_up_names_the_request_it_follows_on_a_damaged_programs_line(index):
    """The programs function replays the warm list on a thread of its own once an answer is sent: the thread started
    in an empty context, so the document.damaged lines its searches wrote named no request (and were not counted
    against a request's bound). They name the request whose answer started it, counted on their own."""
    from structlog.testing import capture_logs
    from werkzeug.datastructures import MultiDict

    from affiliate_matrix.handlers import programs as handler
    from affiliate_matrix.observability import context_processors
    from affiliate_matrix.query_log import WARM_KEY
    from tests.support.wait import wait_until

    good, misnamed = (to_document(make_program(f"Shop {n}", f"https://shop{n}.com")) for n in ("one", "two"))
    misnamed = {**misnamed, "name": ["not", "a name"]}  # a list's item not of its shape: a search leaves it out
    stored(index, good, misnamed)
    index.rt.store.put(WARM_KEY, json.dumps({"queries": ["/programs?limit=50"]}).encode(),
                       content_type="application/json")
    warmed = handler.etag_of(index.rt.index.generation(PROGRAMS_INDEX.name), "/programs", MultiDict([("limit", "50")]))
    with capture_logs(processors=context_processors()) as logs:
        with index.api.get("/programs?q=nothing-matches", headers={**index.auth, "X-Request-Id": "req-warm"}) as answer:
            assert answer.status_code == 200  # closed as a server closes it: the warm-up starts then
        wait_until(lambda: warmed in handler.answers, "the warm list to be replayed")
    damaged = [line for line in logs if line["event"] == "document.damaged"]
    assert [line["key"] for line in damaged] == [misnamed["id"]]  # the warm-up's: the answer found none
    assert {(line.get("request_id"), line["function"]) for line in damaged} == {("req-warm", "programs")}, damaged
