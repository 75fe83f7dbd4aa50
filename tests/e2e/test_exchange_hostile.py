"""Import of a hostile or damaged file (another encoding, a byte order mark, JSON nested past the parser's
depth, a line or cell of many megabytes, more cells than the header, a file that is not Parquet or declares
more than it should): each is refused whole with the line or part named, never an exception out of the
reader, and nothing is written. Real files on disk, a real embedded index."""

import csv
import io
import json
import re
from pathlib import Path

import pytest


from affiliate_matrix import exchange
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, ImportIncomplete, InvalidInput
from affiliate_matrix.exchange import BATCH, MAX_LINE, export, import_programs, programs
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from tests.support.synthetic import programs as synthetic_programs


@pytest.fixture
def target(tmp_path):
    return Runtime("test", Settings(data_dir=tmp_path / "target"))


def exported(tmp_path, fmt: str, originals) -> bytes:
    rt = Runtime("test", Settings(data_dir=tmp_path / "source"))
    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in originals], refresh=True)
    path = tmp_path / f"export.{fmt}"
    with open(path, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else {"newline": ""})) as out:
        export(rt.index, fmt, out)
    return path.read_bytes()


def refused(target, path, fmt: str) -> str:
    with pytest.raises(InvalidInput) as error:
        import_programs(target, path, fmt)
    target.index.ensure_index(PROGRAMS_INDEX)
    assert target.index.search(PROGRAMS_INDEX.name, SearchQuery()).total == 0  # nothing half-imported
    return str(error.value)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_file_in_another_encoding_is_refused_naming_its_line(tmp_path, target, fmt):
    data = exported(tmp_path, fmt, synthetic_programs(3)).decode().splitlines(keepends=True)
    data[2] = data[2].replace(data[2][10], "é", 1)
    path = tmp_path / f"latin1.{fmt}"
    path.write_bytes("".join(data).encode("latin-1", errors="replace"))
    assert "line 3: not UTF-8" in refused(target, path, fmt)
    path.write_bytes("".join(data).encode("utf-16"))
    assert "line 1: not UTF-8" in refused(target, path, fmt)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_byte_order_mark_is_read_past(tmp_path, target, fmt):
    originals = synthetic_programs(4)
    path = tmp_path / f"bom.{fmt}"
    path.write_bytes(b"\xef\xbb\xbf" + exported(tmp_path, fmt, originals))  # as Excel and Notepad save it
    assert import_programs(target, path, fmt).written == 4
    assert sorted(p.id for p in programs(target.index)) == sorted(p.id for p in originals)


def csv_file(path: Path, rows: list[dict]) -> Path:
    """`rows` (an export's, read back and edited) written as a CSV file at `path`."""
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_json_nested_past_the_parsers_depth_is_an_error_of_its_line(tmp_path, target):
    line = json.dumps(synthetic_programs(1)[0].model_dump(mode="json"))
    path = tmp_path / "deep.jsonl"
    path.write_text(line + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "line 2: the record is nested more than 32 levels deep" in refused(target, path, "jsonl")
    rows = list(csv.DictReader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(1)).decode())))
    rows[0]["categories"] = "[" * 100_000 + "]" * 100_000
    path = csv_file(tmp_path / "deep.csv", rows)
    assert re.search(r"line \d+: categories: the cell's JSON cannot be read \(nested too deep\)",
                     refused(target, path, "csv"))


def test_a_cell_over_the_csv_modules_default_limit_round_trips(tmp_path, target):
    program = synthetic_programs(1)[0]
    program = program.model_copy(update={"description": "a long description." * 10_000})  # 190,000 characters
    path = tmp_path / "long.csv"
    path.write_bytes(exported(tmp_path, "csv", [program]))
    assert import_programs(target, path, "csv").written == 1
    assert next(programs(target.index)).description == program.description


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_line_over_the_limit_is_refused_unread(tmp_path, target, fmt):
    path = tmp_path / f"huge.{fmt}"
    head = "id,description\n" if fmt == "csv" else ""
    path.write_text(head + "x" * (MAX_LINE + 1) + "\n")
    assert f"line {2 if fmt == 'csv' else 1}: longer than" in refused(target, path, fmt)


def test_a_csv_cell_spread_over_lines_past_the_limit_is_refused(tmp_path, target):
    path = tmp_path / "quoted.csv"
    path.write_text('id,description\np_' + "0" * 16 + ',"' + ("y" * 1000 + "\n") * (MAX_LINE // 1000 + 2) + '"\n')
    assert "line 2: field larger than field limit" in refused(target, path, "csv")


def test_a_csv_row_with_more_cells_than_the_header_is_refused(tmp_path, target):
    rows = exported(tmp_path, "csv", synthetic_programs(2)).decode().splitlines()
    rows[2] += ",surplus"
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(rows) + "\n")
    # line 3 ends the first record, which starts on line 2 (its description holds a line break)
    assert "line 2: 1 cell(s) more than the header names" in refused(target, path, "csv")


def test_a_csv_whose_cells_are_separated_by_semicolons_is_refused_saying_so(tmp_path, target):
    """Saved again by a spreadsheet in a locale whose CSV separator is ';' (Excel in German or French), the file was
    refused as a header naming one unknown field: every column's name, with the semicolons between them."""
    rows = list(csv.reader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(2)).decode())))
    path = tmp_path / "semicolons.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as out:  # as Excel saves "CSV UTF-8"
        csv.writer(out, delimiter=";").writerows(rows)
    assert refused(target, path, "csv") == ("line 1: the cells are separated by ';', not by commas (a spreadsheet's "
                                            "CSV in some locales): save it with commas as the separator")


def test_a_csv_whose_lines_end_in_a_carriage_return_alone_is_refused_in_words(tmp_path, target):
    """Lines ending in CR alone (a CSV saved for the old Mac OS) were refused with the csv module's own words: "new-line
    character seen in unquoted field - do you need to open the file in universal-newline mode?", advice about
    Python's open() that the person importing cannot follow. They are told what is wrong with the file, and its fix."""
    rows = list(csv.reader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(2)).decode())))
    path = tmp_path / "mac.csv"
    with open(path, "w", newline="") as out:
        csv.writer(out, lineterminator="\r").writerows(rows)
    said = refused(target, path, "csv")
    assert "line 1: a carriage return alone outside quotes: lines must end in LF or CRLF" in said
    assert "universal-newline" not in said


def test_a_json_lines_file_whose_lines_end_in_a_carriage_return_alone_is_refused_naming_the_line_endings(tmp_path,
                                                                                                         target):
    """Lines ending in CR alone are one line to the reader, refused as "line 1: the record is not JSON (Extra data …)",
    which says nothing of the line endings: named as the CSV import names them."""
    lines = exported(tmp_path, "jsonl", synthetic_programs(3)).decode().splitlines()
    path = tmp_path / "mac.jsonl"
    path.write_bytes("\r".join(lines).encode() + b"\r")
    said = refused(target, path, "jsonl")
    assert "line 1: a carriage return alone between records: lines must end in LF or CRLF" in said
    assert "Extra data" not in said
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")  # CRLF is read
    import_programs(target, path, "jsonl")
    assert len(list(programs(target.index))) == 3


def test_a_csv_cell_of_json_holding_a_nul_is_refused_saying_its_json_is_broken(tmp_path, target):
    """A NUL inside a cell's JSON string (unescaped, as JSON forbids) was refused as "networks: Input should be a valid
    list", as though the cell held no list: the cell's JSON is named as broken, and where."""
    rows = list(csv.DictReader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(2)).decode())))
    rows[1]["networks"] = rows[1]["networks"].replace('"', '"\0', 1)
    path = csv_file(tmp_path / "nul.csv", rows)
    said = refused(target, path, "csv")
    assert re.search(r"line \d+: networks: the cell's JSON cannot be read \(Invalid control character U\+0000 at "
                     r"character 4 of the cell\)", said), said
    assert "valid list" not in said


@pytest.mark.parametrize("content", [b"not parquet at all", b"PAR1" + b"\0" * 64 + b"PAR1"])
def test_a_file_that_is_not_parquet_is_refused(tmp_path, target, content):
    path = tmp_path / "programs.parquet"
    path.write_bytes(content)
    assert "not a readable Parquet file" in refused(target, path, "parquet")


@pytest.mark.parametrize("dictionary, said", [(False, "row group 1 declares"), (True, "rows 1-40 hold")])
def test_a_parquet_file_of_more_text_than_the_limit_is_refused_before_it_is_read_out(tmp_path, target, dictionary,
                                                                                       said, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # The limit scaled down (256 MiB of text made each case build and compress 640 MiB), the file scaled with it.
    limit = 2**20
    monkeypatch.setattr(exchange, "MAX_PARQUET_GROUP", limit)
    path = tmp_path / "bomb.parquet"  # a few kilobytes on disk, 2.5 times the limit in text once read
    column = pa.array(["z" * (limit // 16)] * 40, type=pa.string())
    pq.write_table(pa.table({"id": pa.array([f"p_{n:016x}" for n in range(40)]), "description": column}), path,
                   compression="zstd", row_group_size=40, use_dictionary=dictionary)
    assert path.stat().st_size < limit // 100
    assert said in refused(target, path, "parquet")


def test_a_parquet_list_column_of_more_text_than_the_limit_is_refused_before_it_is_read_out(tmp_path, target,
                                                                                             monkeypatch):
    """Lists of text are list columns now; their items are read as dictionaries and counted per row, as a text
    column's values are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    limit = 2**20
    monkeypatch.setattr(exchange, "MAX_PARQUET_GROUP", limit)
    path = tmp_path / "bomb.parquet"
    aliases = pa.array([["z" * (limit // 160)] * 10] * 40, type=pa.list_(pa.string()))
    pq.write_table(pa.table({"id": pa.array([f"p_{n:016x}" for n in range(40)]), "aliases": aliases}), path,
                   compression="zstd", row_group_size=40)
    assert path.stat().st_size < limit // 100
    assert "rows 1-40 hold" in refused(target, path, "parquet")


def _varint(n: int, width: int = 0) -> bytes:
    """Thrift's compact integer (a ZigZag value in 7-bit groups), padded with empty groups to `width` bytes."""
    out = bytearray()
    while True:
        group, n = n & 0x7F, n >> 7
        if not n and len(out) + 1 >= width:
            return bytes(out + bytes([group]))
        out.append(group | 0x80)


def test_a_parquet_file_whose_pages_hold_more_than_its_footer_declares_is_refused_within_the_readers_memory(
        tmp_path, target, monkeypatch):
    """A file's footer states its row groups' sizes and its page headers how large each page is once decompressed;
    pyarrow trusts the pages. A few kilobytes of zstd whose footer declares a kilobyte and whose pages hold 64 MiB
    each were read whole (2.7 GB for three columns of 300 MB) before the batch could be measured: the reader is a
    process of its own, under RLIMIT_DATA, and the import refuses the file naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setattr(exchange, "PARQUET_READER_MEMORY", 192 * 2**20)  # Python and pyarrow take about 110 MiB
    path = tmp_path / "liar.parquet"
    value = pa.array(["z" * 64 * 2**20], type=pa.string())
    pq.write_table(pa.table({"id": ["p_0000000000000001"], "name": value, "description": value, "merchant": value}),
                   path, compression="zstd", use_dictionary=False)
    declared = pq.ParquetFile(path).metadata.row_group(0).total_byte_size
    data = path.read_bytes()
    footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    told = b"\x16" + _varint(declared << 1)  # RowGroup.total_byte_size: field 2 (after 1), an i64 (compact type 6)
    assert data.count(told, footer) == 1
    data = data.replace(told, b"\x16" + _varint(1000 << 1, width=len(told) - 1))  # the same length: a kilobyte
    path.write_bytes(data)
    assert pq.ParquetFile(path).metadata.row_group(0).total_byte_size == 1000 and len(data) < 2**20 // 10
    assert refused(target, path, "parquet") == (
        "liar.parquet: decompresses past the 192 MiB of memory an import reads a Parquet file within")


@pytest.mark.parametrize("column, value, said", [
    ("cookie_days", {"days": 30}, "column cookie_days is struct<days: int64>: a Program's cookie_days is "
                                               "an integer"),
    ("categories", [1, 2], "column categories is list<element: int64>: a Program's categories is a list of text"),
    ("first_seen_at", 20260101, "column first_seen_at is int64: a Program's first_seen_at is a timestamp")])
def test_a_parquet_column_of_another_type_than_its_fields_is_refused_naming_it(tmp_path, target, column, value, said):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "programs.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "p_0000000000000001", column: value}]), path)
    assert said in refused(target, path, "parquet")


def test_a_record_nested_past_what_the_index_can_store_is_refused_before_any_batch_is_written(tmp_path, target):
    """It parses and validates (provenance values are any JSON), but cannot be serialized for the index: found
    only when its batch was written, after the batches before it were."""
    lines = exported(tmp_path, "jsonl", synthetic_programs(1_001)).decode().splitlines()
    record = json.loads(lines[-1])
    field = next(iter(record["provenance"]))
    record["provenance"][field][0]["value"] = json.loads("[" * 500 + "]" * 500)
    path = tmp_path / "deep_value.jsonl"
    path.write_text("\n".join([*lines[:-1], json.dumps(record)]) + "\n")
    said = refused(target, path, "jsonl")  # read as a body is: its depth is refused as it is read
    assert "line 1001: the record is nested more than 32 levels deep" in said
    rows = list(csv.DictReader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(1)).decode())))
    rows[0]["provenance"] = json.dumps(record["provenance"])  # a CSV's JSON cell: found by its serialization
    path = csv_file(tmp_path / "deep_value.csv", rows)
    assert re.search(r"line \d: cannot be stored in the index \(Maximum serialization depth exceeded\)",
                     refused(target, path, "csv"))


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), BackendUnavailable("opensearch: connection reset")],
                         ids=["ctrl-c", "backend-down"])
def test_an_import_stopped_while_writing_says_how_far_it_got_and_a_rerun_finishes_it(tmp_path, target, monkeypatch,
                                                                                      stop):
    """The file is checked whole, then written BATCH programs at a time: a Ctrl-C or a backend failing after the
    first batch left that batch written and said nothing of it. Now it says how many of how many were written
    and that the same import again finishes it (programs are upserted by id); run again, it does."""
    path = tmp_path / "programs.jsonl"
    path.write_bytes(exported(tmp_path, "jsonl", synthetic_programs(BATCH + 1)))
    bulk_upsert, calls = target.index.bulk_upsert, []

    def fails_on_the_second_batch(name, docs, **kwargs):
        calls.append(len(docs))
        if len(calls) == 2:
            raise stop
        return bulk_upsert(name, docs, **kwargs)

    monkeypatch.setattr(target.index, "bulk_upsert", fails_on_the_second_batch)
    with pytest.raises(ImportIncomplete) as stopped:
        import_programs(target, path, "jsonl")
    said = str(stopped.value)
    assert f"{BATCH:,} of {BATCH + 1:,} programs were written" in said and "run the same import again" in said
    assert ("interrupted" if isinstance(stop, KeyboardInterrupt) else "connection reset") in said
    monkeypatch.setattr(target.index, "bulk_upsert", bulk_upsert)
    report = import_programs(target, path, "jsonl")
    assert report.written == report.records == BATCH + 1
    assert target.index.search(PROGRAMS_INDEX.name, SearchQuery()).total == BATCH + 1


def test_the_command_says_how_far_a_stopped_import_got_and_fails(tmp_path, monkeypatch, capsys):
    from affiliate_matrix.cli import main

    path = tmp_path / "programs.jsonl"
    path.write_bytes(exported(tmp_path, "jsonl", synthetic_programs(3)))
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path / "target"))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("affiliate_matrix.search.sqlite.SqliteSearchIndex.bulk_upsert", interrupted)
    monkeypatch.setattr("sys.argv", ["amx", "import", "programs", str(path)])
    with pytest.raises(SystemExit) as exited:
        main()
    said = " ".join(capsys.readouterr().err.split())
    assert exited.value.code != 0 and "0 of 3 programs were written" in said and "run the same import again" in said


def test_a_key_given_twice_in_a_json_lines_record_is_refused_naming_its_line(tmp_path, target):
    """Python's parser keeps the last of two same-named keys, which another reader of the file would not: the record
    imported was not the one a person checked. A request's body is refused for it; a record now is too."""
    lines = exported(tmp_path, "jsonl", synthetic_programs(2)).decode().splitlines()
    lines[1] = lines[1][:-1] + ', "name": "Another Name"}'
    path = tmp_path / "twice.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert "line 2: the record gives the key 'name' twice" in refused(target, path, "jsonl")


def test_a_key_given_twice_in_a_csv_cells_json_is_refused_naming_its_line_and_column(tmp_path, target):
    """A cell of a list or an object (networks) is JSON too, read by Python's parser, which kept the last of two
    same-named keys: a network "evil" given first, which a person or another tool checking the file reads, was imported
    as the second. Refused as in a JSON Lines record."""
    rows = list(csv.DictReader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(2)).decode())))
    rows[1]["networks"] = rows[1]["networks"].replace("{", '{"network": "evil", ', 1)
    path = csv_file(tmp_path / "twice.csv", rows)
    said = refused(target, path, "csv")
    assert re.search(r"line \d+: networks: the cell's JSON gives the key 'network' twice", said), said


def test_a_csv_column_named_twice_in_the_header_is_refused(tmp_path, target):
    """The csv module keeps a row's last cell of a name: a second `name` column at the end replaced every name."""
    rows = list(csv.reader(io.StringIO(exported(tmp_path, "csv", synthetic_programs(2)).decode())))
    rows[0].append("name")
    rows[1].append("Another Name")
    rows[2].append("Another Name")
    path = tmp_path / "twice.csv"
    with open(path, "w", newline="") as out:
        csv.writer(out).writerows(rows)
    assert refused(target, path, "csv") == "line 1: the header names the column name twice"


def test_a_csv_header_of_300000_unknown_names_is_refused_naming_ten(tmp_path, target):
    """Counting each name of the header to find one given twice was quadratic in its names: 300,000 in a 3 MB line,
    hours. Unknown names are refused first; of known ones there are no more than Program's fields. The error names ten."""
    path = tmp_path / "wide.csv"
    path.write_text("id," + ",".join(f"c{i:06d}" for i in range(300_000)) + "\n")
    assert refused(target, path, "csv") == ("line 1: the header must name Program fields; unknown: "
                                            + ", ".join(f"c{i:06d}" for i in range(10)) + " and 299,990 more")


def test_a_parquet_column_named_twice_is_refused(tmp_path, target):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(exported(tmp_path, "parquet", synthetic_programs(2))))
    table = table.append_column("name", pa.array(["Another Name"] * 2))
    path = tmp_path / "twice.parquet"
    pq.write_table(table, path)
    assert refused(target, path, "parquet") == "the Parquet file names the column name twice"


def test_a_csv_record_spread_over_lines_is_named_by_the_line_it_starts_on(tmp_path, target):
    """A description holds line breaks, so an exported record spans lines: its error named the line it ended on."""
    programs_ = synthetic_programs(2)
    programs_[1] = programs_[1].model_copy(update={"description": "one\ntwo\nthree"})
    rows = list(csv.DictReader(io.StringIO(exported(tmp_path, "csv", programs_).decode())))
    rows[1]["cookie_days"] = "a month"
    path = csv_file(tmp_path / "lines.csv", rows)
    first_lines = 1 + rows[0]["description"].count("\n")  # the first record's, after the header's line 1
    assert f"line {2 + first_lines}: cookie_days" in refused(target, path, "csv")


def test_a_tier_threshold_past_its_limit_is_refused_on_import_and_one_stored_before_still_reads(tmp_path, target):
    """A commission tier's threshold of any length (10 MB) was imported, stored and shown wherever the term is."""
    from affiliate_matrix.models import MAX_THRESHOLD

    record = json.loads(exported(tmp_path, "jsonl", synthetic_programs(1)).decode())
    record["commission"] = [{"type": "percent", "value_min": "5", "value_max": "10",
                             "tiers": [{"threshold": "50+ sales/month", "value": "10"},
                                       {"threshold": "x" * (MAX_THRESHOLD + 1), "value": "5"}]}]
    path = tmp_path / "long_threshold.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert refused(target, path, "jsonl").endswith(
        "line 1: commission.0.tiers.1.threshold: Value error, 501 characters; at most 500 are kept")

    record["commission"][0]["tiers"][1]["threshold"] = "x" * MAX_THRESHOLD
    path.write_text(json.dumps(record) + "\n")
    assert import_programs(target, path, "jsonl").written == 1

    # stored before the limit (written to the index as it was): still read, searched and exported whole
    record["commission"][0]["tiers"][1]["threshold"] = "y" * 10_000
    document = {**to_document(next(programs(target.index))), "program": record}
    target.index.bulk_upsert(PROGRAMS_INDEX.name, [document], refresh=True)
    [stored] = list(programs(target.index))
    assert stored.commission[0].tiers[1].threshold == "y" * 10_000


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_list_past_its_bound_is_refused_naming_the_line_the_field_the_count_and_the_bound(tmp_path, target, fmt):
    """A program of 300,000 commission terms (a 32 MB document: 17 s and 1 GB to import one row) was stored. Each list
    of a program has a bound no real one reaches (models.MAX_ITEMS), held on input only: one stored before with more
    still reads and exports."""
    from affiliate_matrix.models import MAX_ITEMS

    records = [json.loads(line) for line in exported(tmp_path, "jsonl", synthetic_programs(2)).decode().splitlines()]
    term = {"type": "percent", "value_min": "5"}
    records[1]["commission"] = [term] * (MAX_ITEMS["commission"] + 1)
    path = tmp_path / f"many_terms.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(record) + "\n" for record in records))
    else:
        csv_file(path, [{k: json.dumps(v) if isinstance(v, list | dict) else "" if v is None else str(v)
                         for k, v in record.items()} for record in records])
    said = refused(target, path, fmt)
    line = 1 + path.read_text()[:path.read_text().index(records[1]["id"])].count("\n")  # the first's description
    assert said.endswith(f"line {line}: commission: Value error, 201 items; at most 200 are taken")

    records[1]["commission"] = [term] * MAX_ITEMS["commission"]
    records[1]["countries"] = ["FR"] * (MAX_ITEMS["countries"] + 1)
    path = tmp_path / "many_countries.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert refused(target, path, "jsonl").endswith("line 2: countries: Value error, 301 items; at most 300 are taken")

    records[1]["countries"] = ["FR"]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert import_programs(target, path, "jsonl").written == 2

    # stored before the bound (written to the index as it was): still read and exported whole
    stored = {program.id: program for program in programs(target.index)}[records[1]["id"]]
    over = {**records[1], "commission": [term] * 1000, "aliases": [f"a{n}" for n in range(1000)]}
    target.index.bulk_upsert(PROGRAMS_INDEX.name, [{**to_document(stored), "program": over}], refresh=True)
    read = {program.id: program for program in programs(target.index)}[records[1]["id"]]
    assert len(read.commission) == 1000 and len(read.aliases) == 1000


@pytest.mark.parametrize("field,said", [("first_seen_at", "first_seen_at: 9999-01-01T00:00:00+00:00 is after"),
                                        ("last_seen_at", "last_seen_at: 9999-01-01T00:00:00+00:00 is after"),
                                        ("fetched_at", ".0.fetched_at: 9999-01-01T00:00:00+00:00 is after")])
def test_a_program_dated_after_the_stores_time_is_refused_naming_the_line_and_the_field(tmp_path, target, field, said):
    """`last_seen_at` of 9999 was imported: a program, or a claim, dated ahead is the latest until then. Judged by the
    object store's own time (storage.time_now) and its CLOCK_LEEWAY, as a retention tick is, not by this machine's."""
    from datetime import timedelta

    from affiliate_matrix.exchange import IMPORT_RECORD
    from affiliate_matrix.storage import CLOCK_LEEWAY

    records = [json.loads(line) for line in exported(tmp_path, "jsonl", synthetic_programs(2)).decode().splitlines()]
    ahead = json.loads(json.dumps(records))
    if field == "fetched_at":
        next(iter(ahead[1]["provenance"].values()))[0]["fetched_at"] = "9999-01-01T00:00:00Z"
    else:
        ahead[1][field] = "9999-01-01T00:00:00Z"
    path = tmp_path / "ahead.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in ahead))
    message = refused(target, path, "jsonl")
    assert "\nline 2: " in message and said in message and "object store's time" in message, message

    store_time = target.store.written_at(IMPORT_RECORD)  # what the refused import was judged by
    records[1]["last_seen_at"] = (store_time + CLOCK_LEEWAY - timedelta(seconds=1)).isoformat()
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert import_programs(target, path, "jsonl").written == 2  # within the leeway of its clock
