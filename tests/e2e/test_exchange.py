"""Export and import: every format round-trips to the same records, a bad file is refused whole
with its errors named by line, and the programs function streams exports over HTTP."""

import csv
import io
import json
import subprocess

import pytest
from functions_framework import create_app

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.exchange import export, flat, import_programs, programs
from affiliate_matrix.models import Program, clean_text
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.processes import BIN, ROOT
from tests.support.synthetic import programs as synthetic_programs

N = 1_234  # more than two export pages


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    rt = Runtime("test", Settings(data_dir=tmp_path_factory.mktemp("source")))
    rt.index.ensure_index(PROGRAMS_INDEX)
    originals = synthetic_programs(N)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in originals], refresh=True)
    return rt, {p.id: p.model_dump(mode="json") for p in originals}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_every_format_round_trips_to_the_same_records(source, tmp_path, fmt):
    rt, originals = source
    path = tmp_path / f"programs.{fmt}"
    with open(path, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else {"newline": ""})) as out:
        export(rt.index, fmt, out)
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    report = import_programs(target, path, fmt)
    assert report.records == report.written == N and report.errors == []
    back = {p.id: p.model_dump(mode="json") for p in programs(target.index)}
    assert back == originals


def test_parquet_columns_are_typed_by_each_fields_kind(source, tmp_path):
    """Every Parquet column was a string (numbers, times, lists): pandas, DuckDB or Spark read cookie_days as text.
    Each column now has its field's type: numbers as numbers, times as UTC timestamps, lists of text as lists, and
    objects (and lists of them) as JSON text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rt, originals = source
    path = tmp_path / "programs.parquet"
    with open(path, "wb") as out:
        export(rt.index, "parquet", out)
    table = pq.read_table(path)
    types = dict(zip(table.schema.names, table.schema.types))
    assert types["cookie_days"] == types["misses"] == pa.int64()
    assert types["quality_score"] == types["conversion_rate"] == pa.float64()  # a float and a Decimal
    assert types["first_seen_at"] == types["last_verified_at"] == pa.timestamp("us", tz="UTC")
    assert types["categories"] == types["countries"] == pa.list_(pa.string())
    assert types["name"] == types["terms_url"] == types["provenance"] == types["networks"] == pa.string()
    for row in table.to_pylist():
        original = Program.model_validate(originals[row["id"]])
        assert row["cookie_days"] == original.cookie_days and row["first_seen_at"] == original.first_seen_at
        assert row["categories"] == original.categories
        assert json.loads(row["networks"]) == originals[row["id"]]["networks"]
        assert row["conversion_rate"] == (None if original.conversion_rate is None else float(original.conversion_rate))


def test_a_parquet_file_of_text_columns_as_exported_before_still_imports(source, tmp_path):
    """Before its columns were typed, export wrote every Parquet column as text (the CSV's encoding)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rt, originals = source
    rows = [flat(program) for program in programs(rt.index)]
    path = tmp_path / "programs.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema([(name, pa.string()) for name in rows[0]])), path)
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    assert import_programs(target, path, "parquet").written == N
    assert {p.id: p.model_dump(mode="json") for p in programs(target.index)} == originals


def test_a_search_exports_only_its_result(source, tmp_path):
    rt, originals = source
    buffer = io.StringIO()
    export(rt.index, "jsonl", buffer, SearchQuery(filters={"status": ["discovered"], "categories": ["pets"]}))
    exported = [json.loads(line) for line in buffer.getvalue().splitlines()]
    expected = [p for p in originals.values() if p["status"] == "discovered" and "pets" in p["categories"]]
    assert exported and sorted(p["id"] for p in exported) == sorted(p["id"] for p in expected)


def test_a_bad_file_is_refused_whole_with_errors_by_line(source, tmp_path):
    rt, originals = source
    path = tmp_path / "programs.csv"
    with open(path, "w", newline="") as out:
        export(rt.index, "csv", out, SearchQuery(filters={"status": ["active"]}))
    rows = list(csv.DictReader(path.open(newline="")))
    rows[2]["cookie_days"] = "a month"
    rows[5]["id"] = rows[4]["id"]
    rows[7]["commission"] = '[{"type": "percent"'
    with open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    with pytest.raises(InvalidInput) as refused:
        import_programs(target, path, "csv")
    message = str(refused.value)
    lines = [int(n) for n in __import__("re").findall(r"line (\d+):", message)]
    assert len(lines) == 3 and "cookie_days" in message and "is already on line" in message and "commission" in message
    target.index.ensure_index(PROGRAMS_INDEX)
    assert target.index.search(PROGRAMS_INDEX.name, SearchQuery()).total == 0  # nothing half-imported
    (tmp_path / "bad.jsonl").write_text('{"id": "p_1"}\nnot json\n')
    with pytest.raises(InvalidInput, match="line 2: the record is not JSON"):
        import_programs(target, tmp_path / "bad.jsonl", "jsonl")


def test_the_programs_function_streams_exports(source, monkeypatch):
    from affiliate_matrix.auth import create_token

    rt, originals = source
    monkeypatch.setenv("AMX_DATA_DIR", str(rt.settings.data_dir))
    client = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()
    auth = {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    assert client.get("/programs/export").status_code == 401
    reply = client.get("/programs/export?format=csv&category=travel", headers=auth)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/csv")
    assert reply.is_streamed and 'filename="programs.csv"' in reply.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    assert len(rows) == sum("travel" in p["categories"] for p in originals.values())
    parquet = client.get("/programs/export?format=parquet&status=discovered", headers=auth)
    assert parquet.status_code == 200 and parquet.get_data()[:4] == b"PAR1"
    assert client.get("/programs/export?format=xml", headers=auth).status_code == 400
    assert client.get("/programs/export?limit=5", headers=auth).status_code == 400
    # A query the index refuses is a 400 before the stream starts, not a 200 cut off mid-body
    # (schemathesis found it once the export route was in the OpenAPI document).
    refused = client.get("/programs/export?format=csv&q=%2C", headers=auth)
    assert refused.status_code == 400 and "no searchable words" in refused.get_json()["error"]["message"]


def test_the_commands(source, tmp_path):
    rt, originals = source
    env = {"AMX_DATA_DIR": str(rt.settings.data_dir), "PATH": "/usr/bin:/bin"}
    exported = subprocess.run([str(BIN / "amx"), "export", "programs", "--format", "jsonl", "--status", "removed"],
                              capture_output=True, text=True, env=env, timeout=120)
    assert exported.returncode == 0 and exported.stdout == ""  # nothing is removed
    out = tmp_path / "all.parquet"
    assert subprocess.run([str(BIN / "amx"), "export", "programs", "--format", "parquet", "--out", str(out)],
                          env=env, timeout=120).returncode == 0
    imported = subprocess.run([str(BIN / "amx"), "import", "programs", str(out)], capture_output=True, text=True,
                              env={**env, "AMX_DATA_DIR": str(tmp_path / "target")}, timeout=120)
    assert imported.returncode == 0 and f"imported {N} of {N} programs" in imported.stdout


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_file_named_for_a_format_is_written_in_it_and_imported_back(source, tmp_path, fmt):
    """`amx export programs --out programs.csv` wrote JSON Lines into programs.csv (the default format, whatever the
    name), which `amx import programs programs.csv` then read as CSV and refused. With no --format, --out's extension
    names it; a --format another extension names is refused."""
    rt, originals = source
    env = {"AMX_DATA_DIR": str(rt.settings.data_dir), "PATH": "/usr/bin:/bin"}
    out = tmp_path / f"programs.{fmt.upper()}"  # an extension in capitals too
    exported = subprocess.run([str(BIN / "amx"), "export", "programs", "--out", str(out)], capture_output=True,
                              text=True, env=env, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes()[:4] == (b"PAR1" if fmt == "parquet" else b"id,n")
    imported = subprocess.run([str(BIN / "amx"), "import", "programs", str(out)], capture_output=True, text=True,
                              env={**env, "AMX_DATA_DIR": str(tmp_path / "target")}, timeout=120)
    assert imported.returncode == 0 and f"imported {N} of {N} programs" in imported.stdout, imported.stderr
    mismatch = subprocess.run([str(BIN / "amx"), "export", "programs", "--format", "jsonl", "--out", str(out)],
                              capture_output=True, text=True, env=env, timeout=120)
    said = " ".join(mismatch.stderr.replace("│", " ").split())  # one line, out of typer's box
    assert mismatch.returncode == 2 and f"is named as {fmt}, not jsonl" in said, said
    assert out.read_bytes()[:4] == (b"PAR1" if fmt == "parquet" else b"id,n")  # the file as it was


def test_a_csv_cell_a_spreadsheet_would_run_is_text_and_still_round_trips(tmp_path):
    hostile = ["=HYPERLINK(\"http://evil.example\")", "+SUM(1)", "-2+3", "@cmd", "'quoted",
               # the full-width forms, which spreadsheets in CJK locales read as = + - @
               "\uff1dHYPERLINK(\"http://evil.example\")", "\uff0bSUM(1)", "\uff0d2+3", "\uff20cmd",
               # behind a byte order mark or a zero-width character, which a spreadsheet ignores
               "\ufeff=HYPERLINK(\"http://evil.example\")", "\u200b@cmd", "\u2060-2+3", "\u200e+SUM(1)"]
    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    originals = synthetic_programs(len(hostile))
    originals = [p.model_copy(update={"name": name, "cookie_days": -1}) for p, name in zip(originals, hostile)]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in originals], refresh=True)
    path = tmp_path / "programs.csv"
    with open(path, "w", newline="") as out:
        export(rt.index, "csv", out)
    rows = list(csv.DictReader(path.open(newline="")))
    assert {row["name"] for row in rows} == {"'" + name for name in hostile}
    assert {row["cookie_days"] for row in rows} == {"-1"}  # a plain negative number is not a formula
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    import_programs(target, path, "csv")
    # imported text is cleaned as a page's is: a full-width sign comes back as the one it stands for
    assert sorted(p.name for p in programs(target.index)) == sorted(clean_text(name) for name in hostile)


@pytest.mark.parametrize("cell", [" +SUM(1)", " -2+3", "\u00a0=1+1", "\u3000@cmd", "\t\u200b=1+1", " \ufeff-cmd"])
def test_a_formula_behind_what_a_spreadsheet_trims_is_text(cell):
    """A spreadsheet trims leading spaces (a program's text fields are stripped of them, not every cell is) and ignores
    a byte order mark or a zero-width character, then runs the formula behind them."""
    from affiliate_matrix.exchange import csv_cell

    assert csv_cell(cell) == "'" + cell
    assert csv_cell(" -2") == " -2"  # a plain negative number is not a formula, behind a space neither


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_text_that_reads_as_json_round_trips_as_text(tmp_path, fmt):
    """Import parsed any cell starting with [ or { as JSON: a program named "[2024]" came back as a list and its
    export was refused. Only the columns of lists and objects are JSON."""
    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    original = synthetic_programs(1)[0].model_copy(update={"name": "[2024]", "description": '{"a": 1}'})
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(original)], refresh=True)
    path = tmp_path / f"programs.{fmt}"
    with open(path, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else {"newline": ""})) as out:
        export(rt.index, fmt, out)
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    import_programs(target, path, fmt)
    assert [p.model_dump(mode="json") for p in programs(target.index)] == [original.model_dump(mode="json")]


def _command(rt, *args, data_dir=None) -> subprocess.CompletedProcess:
    env = {"AMX_DATA_DIR": str(data_dir or rt.settings.data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(BIN / "amx"), *args], capture_output=True, text=True, env=env, timeout=120)


def test_the_command_names_the_programs_whose_csv_cells_excel_would_cut(tmp_path):
    """Excel keeps 32,767 characters of a cell and cuts the rest without a word (a provenance of about eight sources
    is longer). The export warns, naming each such program and its columns; the file holds them whole."""
    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    short, long_provenance, long_description = synthetic_programs(3)
    claim = long_provenance.provenance["name"][0].model_copy(update={"evidence": ["x" * 33_000]})
    long_provenance = long_provenance.model_copy(update={"provenance": {"name": [claim]}})
    # 20,000 characters, 40,000 of UTF-16 (Excel's count): each is past U+FFFF
    long_description = long_description.model_copy(update={"description": "\U0001f600" * 20_000})
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in (short, long_provenance, long_description)],
                         refresh=True)
    out = tmp_path / "programs.csv"
    exported = _command(rt, "export", "programs", "--out", str(out))
    said = " ".join(exported.stderr.split())
    assert exported.returncode == 0 and "2 program(s) have a cell longer than the 32,767 characters Excel keeps" in said
    assert f"{long_provenance.id} (provenance)" in said and f"{long_description.id} (description)" in said
    assert short.id not in said
    csv.field_size_limit(1 << 20)
    rows = {row["id"]: row for row in csv.DictReader(out.open(newline="", encoding="utf-8"))}
    assert json.loads(rows[long_provenance.id]["provenance"]) == long_provenance.model_dump(mode="json")["provenance"]
    assert "warning" not in _command(rt, "export", "programs", "--out", str(tmp_path / "programs.jsonl")).stderr


def test_the_excel_option_begins_the_csv_with_a_byte_order_mark_and_it_imports_back(tmp_path):
    """Excel reads a CSV without a byte order mark in the locale's code page: "Café" showed as "CafÃ©". --excel
    writes one (plain CSV readers would take it as part of the first column's name, so only when asked)."""
    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    original = synthetic_programs(1)[0].model_copy(update={"name": "Café Zürich 東京"})
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(original)], refresh=True)
    for excel, out in ((True, tmp_path / "excel.csv"), (False, tmp_path / "plain.csv")):
        assert _command(rt, "export", "programs", "--out", str(out), *(["--excel"] if excel else [])).returncode == 0
        assert out.read_bytes().startswith("\ufeffid,name".encode() if excel else b"id,name")
    imported = _command(rt, "import", "programs", str(tmp_path / "excel.csv"), data_dir=tmp_path / "target")
    assert imported.returncode == 0, imported.stderr
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    assert [p.model_dump(mode="json") for p in programs(target.index)] == [original.model_dump(mode="json")]
    refused = _command(rt, "export", "programs", "--excel", "--format", "jsonl")
    assert refused.returncode == 2 and "--excel is for csv, not jsonl" in " ".join(refused.stderr.split())


def _feed(rt) -> dict[str, dict]:
    return {hit.id: hit.doc for hit in rt.index.search("deltas", SearchQuery(size=100)).hits}


def test_an_import_is_in_the_change_feed_and_a_restore_of_the_same_data_records_nothing(tmp_path):
    """`amx import programs` wrote programs and recorded no delta: readers of /changes and the rules (program.delta
    events) never saw an imported program appear or change. Each program an import creates or changes is now a delta
    of source "import", recorded and announced as an index run's; one the index holds as the file has it records
    nothing, so importing an export of the index back (a restore of the same data) changes nothing."""
    from affiliate_matrix.events import PROGRAM_DELTA
    from tests.support.factories import make_program

    rt = Runtime("test", Settings(data_dir=tmp_path / "data"))
    announced = []
    rt.bus.subscribe(PROGRAM_DELTA, announced.append)
    acme = make_program("Acme", "https://acme.com/", commission_text="10% per sale")
    zed = make_program("Zed", "https://zed.com/", commission_text="$5 per lead")
    (tmp_path / "first.jsonl").write_text(f"{acme.model_dump_json()}\n{zed.model_dump_json()}\n")
    report = import_programs(rt, tmp_path / "first.jsonl", "jsonl")
    first = _feed(rt)
    assert sorted((d["program_id"], d["change"], d["source"]) for d in first.values()) == sorted([
        (acme.id, "created", "import"), (zed.id, "created", "import")])
    assert (report.written, report.changes) == (2, 2)

    raised = make_program("Zed", "https://zed.com/", commission_text="$7 per lead")
    bolt = make_program("Bolt", "https://bolt.com/", commission_text="20% per sale")
    (tmp_path / "second.jsonl").write_text("".join(f"{p.model_dump_json()}\n" for p in (acme, raised, bolt)))
    report = import_programs(rt, tmp_path / "second.jsonl", "jsonl")
    assert (report.written, report.changes, report.errors) == (3, 2, [])
    second = {i: d for i, d in _feed(rt).items() if i not in first}
    assert sorted((d["program_id"], d["change"], d["source"]) for d in second.values()) == sorted([
        (bolt.id, "created", "import"), (zed.id, "updated", "import")])
    (update,) = [d["delta"] for d in second.values() if d["change"] == "updated"]
    assert {f["field"] for f in update["fields"]} == {"commission", "commission_text"}
    assert sorted(e.data["id"] for e in announced) == sorted([*first, *second])
    assert all(e.source == "/import" for e in announced)

    with open(tmp_path / "restore.jsonl", "w") as out:
        export(rt.index, "jsonl", out)
    feed, announced[:] = _feed(rt), []
    report = import_programs(rt, tmp_path / "restore.jsonl", "jsonl")
    assert (report.written, report.changes, report.errors) == (3, 0, [])
    assert _feed(rt) == feed and announced == []


def test_the_apis_csv_for_excel_has_a_byte_order_mark_and_cuts_what_excel_would_cut_saying_so(tmp_path, monkeypatch):
    """GET /programs/export had no `excel` option: its CSV opened in Excel as "CafÃ©", and a cell past Excel's 32,767
    characters was cut without a word. A streamed answer cannot warn once its headers are gone, so the cell is cut
    where Excel would cut it, ending in a note saying so; every other cell is whole."""
    from affiliate_matrix.auth import create_token
    from affiliate_matrix.exchange import EXCEL_CELL, EXCEL_CUT_NOTE, csv_cell
    from tests.support.apps import function_client

    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(PROGRAMS_INDEX)
    short, long_description = synthetic_programs(2)
    short = short.model_copy(update={"name": "Café Zürich"})
    # 20,000 characters, 40,000 of UTF-16 (Excel's count): each is past U+FFFF, so a cut may not split one
    long_description = long_description.model_copy(update={"description": "\U0001f600" * 20_000})
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in (short, long_description)], refresh=True)
    client, auth = function_client("programs"), {"Authorization": f"Bearer {create_token(rt.secrets, 'read')}"}
    csv.field_size_limit(1 << 20)

    excel = client.get("/programs/export?format=csv&excel=true", headers=auth)
    assert excel.status_code == 200 and excel.is_streamed
    text = excel.get_data(as_text=True)
    assert text.startswith("\ufeffid,")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}
    cut = rows[long_description.id]["description"]
    assert cut.endswith(EXCEL_CUT_NOTE) and len(cut.encode("utf-16-le")) // 2 <= EXCEL_CELL
    assert cut.removesuffix(EXCEL_CUT_NOTE) == "\U0001f600" * ((EXCEL_CELL - len(EXCEL_CUT_NOTE)) // 2)
    assert rows[short.id] == {k: csv_cell(v) for k, v in flat(short).items()}  # the others whole

    plain = client.get("/programs/export?format=csv", headers=auth).get_data(as_text=True)
    assert plain.startswith("id,")  # as before: no mark, every cell whole
    plain_rows = {row["id"]: row for row in csv.DictReader(io.StringIO(plain))}
    assert plain_rows[long_description.id]["description"] == long_description.description
    refused = client.get("/programs/export?format=jsonl&excel=true", headers=auth)
    assert refused.status_code == 400 and refused.get_json()["error"]["message"] == "excel is for format=csv, not jsonl"
    assert client.head("/programs/export?format=parquet&excel=1", headers=auth).status_code == 400
    document = client.get("/openapi.json").get_json()
    parameters = {p["name"]: p for p in document["paths"]["/programs/export"]["get"]["parameters"]}
    assert parameters["excel"]["schema"]["type"] == "boolean"
    assert "byte order mark" in parameters["excel"]["description"]


def test_parquet_writes_epc_as_amount_and_currency_and_reads_the_json_text_written_before(tmp_path):
    """EPC (an amount of money) was a Parquet column of JSON text, which a data tool cannot sum or group by: it is a
    struct of amount (a double) and currency. A file written before, its EPC JSON text, still imports."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from affiliate_matrix.models import Money

    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    epcs = [(Money(amount="0.85", currency="USD"), None), (Money(amount="150", currency="JPY"),
                                                          Money(amount="1.234567", currency="EUR")), (None, None)]
    originals = [p.model_copy(update={"epc_7d": week, "epc_90d": quarter})
                 for p, (week, quarter) in zip(synthetic_programs(len(epcs)), epcs)]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in originals], refresh=True)
    expected = sorted((p.model_dump(mode="json") for p in originals), key=lambda p: p["id"])

    def imported(path, name) -> list[dict]:
        target = Runtime("test", Settings(data_dir=tmp_path / name))
        assert import_programs(target, path, path.suffix[1:]).written == len(originals)
        return sorted((p.model_dump(mode="json") for p in programs(target.index)), key=lambda p: p["id"])

    path = tmp_path / "programs.parquet"
    with open(path, "wb") as out:
        export(rt.index, "parquet", out)
    table = pq.read_table(path)
    money = pa.struct([("amount", pa.float64()), ("currency", pa.string())])
    assert table.schema.field("epc_7d").type == table.schema.field("epc_90d").type == money
    by_id = {row["id"]: row for row in table.to_pylist()}
    assert [(by_id[p.id]["epc_7d"], by_id[p.id]["epc_90d"]) for p in originals] == [
        ({"amount": 0.85, "currency": "USD"}, None),
        ({"amount": 150.0, "currency": "JPY"}, {"amount": 1.234567, "currency": "EUR"}), (None, None)]
    assert imported(path, "typed") == expected

    before = tmp_path / "before.parquet"  # as export wrote it before: EPC as the JSON text CSV holds
    original = {p.id: p for p in originals}
    texts = {name: pa.array([flat(original[i])[name] or None for i in table.column("id").to_pylist()], pa.string())
             for name in ("epc_7d", "epc_90d")}
    for name, column in texts.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    pq.write_table(table, before)
    assert pq.read_schema(before).field("epc_7d").type == pa.string()
    assert imported(before, "text") == expected

    with open(tmp_path / "programs.csv", "w", newline="") as out:  # CSV keeps JSON text, and reads it back
        export(rt.index, "csv", out)
    assert imported(tmp_path / "programs.csv", "csv") == expected

    wrong = tmp_path / "wrong.parquet"  # a struct of other fields is no amount of money: named, nothing read
    pq.write_table(pa.table({"id": [originals[0].id], "epc_7d": [{"amount": "0.85"}]}), wrong)
    with pytest.raises(InvalidInput, match=r"column epc_7d is struct<amount: string>: a Program's epc_7d is a struct "
                                           r"of amount \(a number\) and currency \(text\), or JSON text"):
        import_programs(Runtime("test", Settings(data_dir=tmp_path / "wrong")), wrong, "parquet")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_merchant_of_1200_offers_merged_into_one_program_is_exported_and_imported_back(tmp_path, fmt):
    """A merge makes one program of a merchant's offers on a source (merge.combined): a record each, and each offer's
    name among its aliases. One of 1,200 offers was stored, and its own export refused by import ("records: 1,200
    items; at most 1,000 are taken", and 1,199 aliases of 100). Records and aliases have a bound sized for a merge's
    (MAX_RECORDS), and a merge cuts the lists it joins to what an import takes (merge.within_bounds)."""
    from structlog.testing import capture_logs

    from affiliate_matrix.merge import combined
    from affiliate_matrix.models import MAX_ITEMS, MAX_RECORDS
    from tests.support.factories import make_program

    offers = [make_program(f"Shop offer {n}", "https://shop.example", commission_text=f"{n % 40 + 1}% per sale")
              for n in range(1200)]
    with capture_logs() as logs:
        merchant = combined(offers)
    assert len(merchant.records) == 1200 < MAX_RECORDS and len(merchant.aliases) == 1199 <= MAX_ITEMS["aliases"]
    assert [line for line in logs if line["event"] == "merge.list_cut"] == []  # every offer's name kept: searchable
    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    assert rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(merchant)], refresh=True).errors == []
    path = tmp_path / f"programs.{fmt}"
    with open(path, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else {"newline": ""})) as out:
        export(rt.index, fmt, out)
    target = Runtime("test", Settings(data_dir=tmp_path / "target"))
    report = import_programs(target, path, fmt)
    assert report.records == report.written == 1 and report.errors == [], report
    (back,) = programs(target.index)
    assert back.model_dump(mode="json") == merchant.model_dump(mode="json")


def test_out_dash_is_standard_output_not_a_file_named_dash(tmp_path):
    """`--out -` wrote the export to a file named "-" in the working folder and said `wrote -`; a dash is standard
    output, as `amx rules add -` and `amx terms extract -` read standard input (parquet, binary, still needs a file)."""
    rt = Runtime("test", Settings(data_dir=tmp_path / "data"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    original = synthetic_programs(1)[0]
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(original)], refresh=True)
    env = {"AMX_DATA_DIR": str(rt.settings.data_dir), "PATH": "/usr/bin:/bin"}
    exported = subprocess.run([str(BIN / "amx"), "export", "programs", "--format", "csv", "--out", "-"],
                              capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert not (tmp_path / "-").exists() and "wrote" not in exported.stderr
    assert next(csv.DictReader(io.StringIO(exported.stdout)))["id"] == original.id
    parquet = subprocess.run([str(BIN / "amx"), "export", "programs", "--format", "parquet", "--out", "-"],
                             capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert parquet.returncode == 2 and "parquet is binary: give --out FILE" in " ".join(parquet.stderr.split())
