"""Export and import of the master index: CSV, JSON Lines and Parquet, streamed.

Export walks the index (or a search's result) page by page with a cursor, so memory stays flat
however many programs there are. Every format carries every Program field, so an export imports back to the same
records: JSON Lines as the program itself; CSV one column per field, lists and objects as JSON text; Parquet one
typed column per field, of the kind the Program model gives it (kinds): numbers, times, lists of text as lists, an
amount of money (EPC) as a struct of its amount and currency, and other objects and lists of them as JSON text. Import
checks every row first (errors named by line, nothing written if any); only then are the programs written, in batches. An import stopped while writing (Ctrl-C, a
backend failing) says how many were written; the same import again finishes it.

An import is a change to the index like an index run's: each program it changes is recorded in the change feed (source
"import") and announced, through the run's own path (pipeline.write_changes: deltas recorded first, programs written
only if unchanged since read); a program the index holds as the file has it is not written and records nothing.
"""

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from itertools import count
from pathlib import Path
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ValidationError

from affiliate_matrix.characters import BIDI_CONTROLS, INVISIBLE_FORMAT, JOINERS_AND_SELECTORS, characters
from affiliate_matrix.csv_rows import cr_alone, not_utf8, rows as csv_rows
from affiliate_matrix.errors import DamagedData, ImportIncomplete, InvalidInput
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, programs_of, to_document
from affiliate_matrix.search import SearchQuery

FORMATS = ("csv", "jsonl", "parquet")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
               "parquet": "application/vnd.apache.parquet"}
PAGE, BATCH, MAX_ERRORS = 500, 1000, 20
# Import reads a line (a JSON Lines record, a CSV line or cell) no longer than this, and a Parquet row group
# no larger once read: a program with all its provenance is some tens of kilobytes.
MAX_LINE, MAX_PARQUET_GROUP = 16 * 1024 * 1024, 256 * 1024 * 1024
# The memory of the process that reads a Parquet file (parquet_reader): pyarrow reads a row group of 240 MB of distinct
# text (zstd) within 1.3 GiB (its compressed chunk, its pages, the dictionaries built from them, Python and pyarrow's
# 110 MiB), and not within 1.1 GiB.
PARQUET_READER_MEMORY = 6 * MAX_PARQUET_GROUP
# The most characters Excel keeps in a cell: it cuts a longer one (a program's provenance from about eight sources)
# with no word, and a file saved from it then holds broken JSON. Export names such programs.
EXCEL_CELL = 32_767
# A CSV cell a spreadsheet would run as a formula (names and descriptions come from scraped pages);
# it is written behind a "'" so it shows as text. A cell that starts with "'" gets one more, so import
# can strip exactly one and every value comes back as it was. Plain numbers (cookie_days -1) stay. The full-width
# forms of = + - @ (U+FF1D U+FF0B U+FF0D U+FF20) count too: spreadsheets in CJK locales read them as formulas. So do
# they behind what a spreadsheet trims or ignores: spaces, and characters that show nothing (a byte order mark, a
# zero-width space, a bidi mark).
_UNSEEN = "".join(sorted(characters(INVISIBLE_FORMAT, JOINERS_AND_SELECTORS, BIDI_CONTROLS)))
_FORMULA = re.compile(rf"^(?:[\t\r']|[\s{_UNSEEN}]*[=+\-@\uff1d\uff0b\uff0d\uff20])(?!(?<=[+-])[0-9.]+$)")


def columns() -> list[str]:
    return list(kinds())


@cache
def kinds() -> dict[str, str]:
    """Each Program field's kind, read from the model's types: text, integer, number (an int, a float or a Decimal),
    time, texts (a list of plain values: categories, countries), money (a Money: EPC) or json (another object, or a
    list of objects). Parquet's column types are made from it (parquet_type), and import parses as JSON only the text
    of json, money and texts fields (CSV's, and Parquet's as exported before)."""
    from affiliate_matrix.models import Program

    return {name: _kind(field.annotation) for name, field in Program.model_fields.items()}


def _kind(annotation) -> str:
    from affiliate_matrix.models import Money

    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _kind(args[0])
    if origin in (Union, UnionType):  # X | None
        (value,) = [arg for arg in args if arg is not type(None)]
        return _kind(value)
    if origin is list:
        return "texts" if _kind(args[0]) == "text" else "json"
    if annotation is Money:
        return "money"
    if origin is dict or isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "json"
    if isinstance(annotation, type):
        for base, kind in ((bool, "bool"), (int, "integer"), (float, "number"), (Decimal, "number"),
                           (datetime, "time"), (AwareDatetime, "time")):  # pydantic's is no datetime class
            if issubclass(annotation, base):
                return kind
    return "text"  # str, a Literal of words, a URL: what the model dumps as a string


# --- export ----------------------------------------------------------------------------------------

def programs(index, query: SearchQuery | None = None, damaged: "LeftOut | None" = None) -> Iterator:
    """Every program matching the query (all of them by default), a cursor page at a time. The first
    page is asked at once, so a query the index refuses fails here, not halfway through a stream
    whose 200 has already gone out. One not of a Program's shape is left out and added to `damaged` (programs_of):
    it ended the export halfway, a raw AttributeError or ValidationError."""
    query = (query or SearchQuery()).replaced(size=PAGE, offset=0, facets=[], cursor=None, paged=True)
    return _pages(index, query, index.search(PROGRAMS_INDEX.name, query), damaged)


def _pages(index, query: SearchQuery, result, damaged: "LeftOut | None") -> Iterator:
    while True:
        yield from programs_of((hit.doc for hit in result.hits), damaged)
        if not result.next_cursor:
            return
        query = query.replaced(cursor=result.next_cursor)
        result = index.search(PROGRAMS_INDEX.name, query)


def flat(program) -> dict[str, str]:
    """A program as text columns: scalars as they are, lists and objects as JSON, None as empty."""
    data = program.model_dump(mode="json")
    return {k: "" if v is None else json.dumps(v, separators=(",", ":")) if isinstance(v, list | dict) else str(v)
            for k, v in data.items()}


def csv_cell(value: str) -> str:
    return "'" + value if _FORMULA.match(value) else value


def excel_cuts(cell: str) -> bool:
    """Whether Excel cuts the cell: it keeps EXCEL_CELL characters of UTF-16 (a character past U+FFFF is two)."""
    return len(cell) > EXCEL_CELL // 2 and len(cell.encode("utf-16-le")) // 2 > EXCEL_CELL


EXCEL_CUT_NOTE = (f" … [cut here by the export: Excel keeps {EXCEL_CELL:,} characters of a cell; export jsonl or "
                  "parquet for the whole]")


def excel_cut(cell: str) -> str:
    """`cell` as Excel keeps it: one Excel would cut without a word is cut here, ending in EXCEL_CUT_NOTE (the API's
    CSV for Excel is streamed, its headers sent before any cell, so it cannot warn as the command does)."""
    if not excel_cuts(cell):
        return cell
    kept = 2 * (EXCEL_CELL - len(EXCEL_CUT_NOTE))  # bytes of UTF-16; the note's characters are each one unit
    return cell.encode("utf-16-le")[:kept].decode("utf-16-le", errors="ignore") + EXCEL_CUT_NOTE  # no half pair


def csv_chunks(items: Iterable, long_cells: list | None = None, *, cut_for_excel: bool = False) -> Iterator[str]:
    """The CSV's text; each program with cells Excel would cut is added to `long_cells` as (id, their columns), or
    with `cut_for_excel` such cells are cut (excel_cut)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    for n, program in enumerate(items, 1):
        row = {k: csv_cell(v) for k, v in flat(program).items()}
        if cut_for_excel:
            row = {k: excel_cut(v) for k, v in row.items()}
        writer.writerow(row)
        if long_cells is not None and (cut := [k for k, v in row.items() if excel_cuts(v)]):
            long_cells.append((program.id, cut))
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


LEFT_OUT = "# "  # how a CSV's line of what its export left out begins (no program's id does)
MAX_NAMED_LEFT_OUT = 100  # the programs an export names as left out damaged; those past them it counts


class LeftOut:
    """What an export left out as damaged (programs_of appends each {"key", "error"}): the first MAX_NAMED_LEFT_OUT
    kept, to be named, the rest counted. Each was kept and named on the file's last line, however many: an index
    whose every document an older build wrote held them all in memory and ended its file with a line of megabytes."""

    def __init__(self):
        self.named: list[dict] = []
        self.count = 0

    def append(self, bad: dict) -> None:
        self.count += 1
        if len(self.named) < MAX_NAMED_LEFT_OUT:
            self.named.append(bad)

    @property
    def more(self) -> int:
        """How many were left out past those named."""
        return self.count - len(self.named)

    def errors(self) -> list[dict]:
        """As the API's `errors`: those named, then one counting the rest (key "more") where there are more."""
        more = [{"key": "more", "error": f"{self.more:,} more program(s) left out as damaged, not named"}]
        return self.named + (more if self.more else [])


# JSON leaves U+2028 and U+2029 raw (it need not escape them), and a description holds them as a page wrote them; but a
# reader splitting lines as Python's str.splitlines does (or JavaScript before ES2019) broke the record there. Escaped,
# a record is one line however it is read, and reads back as the same text.
LINE_SEPARATORS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def left_out_line(fmt: str, left_out: LeftOut) -> str:
    """The last line of a streamed export (the API's) that left programs out as damaged, naming them (at most
    MAX_NAMED_LEFT_OUT, the rest counted): its headers went out before the index was read past its first page, so it
    cannot count them in a header, and a file that lacks programs without a word is what its reader would least expect.
    JSON Lines: an object with the API's `errors`; CSV: one cell. Either is no program: `amx import programs` reads
    past it (is_left_out_line), saying so."""
    if fmt == "jsonl":
        return json.dumps({"errors": left_out.errors()}, ensure_ascii=False).translate(LINE_SEPARATORS) + "\n"
    buffer = io.StringIO()
    said = "; ".join(bad["error"] for bad in left_out.errors())
    csv.writer(buffer, lineterminator="\n").writerow([f"{LEFT_OUT}{left_out.count} program(s) left out, damaged: "
                                                      f"{said}"])
    return buffer.getvalue()


def is_left_out_line(data: dict) -> bool:
    """Whether a record of a file read for import is the line its export ended with, naming what it left out as
    damaged (left_out_line): read past, not refused as a program, so the programs of such a file import."""
    return list(data) == ["errors"] or (list(data) == ["id"] and str(data["id"]).startswith(LEFT_OUT))


def jsonl_chunks(items: Iterable) -> Iterator[str]:
    lines = []
    for program in items:
        lines.append(program.model_dump_json().translate(LINE_SEPARATORS))
        if len(lines) == 200:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def parquet_type(kind: str):
    """The Parquet (Arrow) type of a field of this kind: a Decimal as a double (15 significant digits, more than any
    rate or figure a source states), a time in microseconds, UTC, as Python holds it, money as a struct of its amount
    (a double) and currency, which a data tool sums and groups by without parsing text."""
    import pyarrow as pa

    return {"integer": pa.int64(), "number": pa.float64(), "time": pa.timestamp("us", tz="UTC"), "bool": pa.bool_(),
            "texts": pa.list_(pa.string()),
            "money": pa.struct([("amount", pa.float64()), ("currency", pa.string())])}.get(kind, pa.string())


def typed(program) -> dict:
    """A program as Parquet's typed columns (None as null)."""
    data = program.model_dump(mode="json")
    row = {}
    for name, kind in kinds().items():
        value = data[name]
        if value is not None and kind == "json":
            value = json.dumps(value, separators=(",", ":"))
        elif value is not None and kind == "number":
            value = float(value)  # a Decimal is dumped as its text
        elif value is not None and kind == "money":
            value = {"amount": float(value["amount"]), "currency": value["currency"]}
        elif kind == "time":
            value = getattr(program, name)  # dumped as its ISO text
        row[name] = value
    return row


def write_parquet(items: Iterable, sink) -> int:
    """Row groups of BATCH programs, each column typed by its field's kind; returns the count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, parquet_type(kind)) for name, kind in kinds().items()])
    count, rows = 0, []
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for program in items:
            rows.append(typed(program))
            if len(rows) == BATCH:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                count, rows = count + len(rows), []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
    return count


def export(index, fmt: str, out, query: SearchQuery | None = None, *, excel: bool = False,
           damaged: LeftOut | None = None) -> list:
    """Write every matching program to `out` (a text stream for csv/jsonl, a binary one for parquet); for a CSV, return
    the programs with cells Excel would cut, as (id, their columns). With `excel`, the CSV begins with a byte order
    mark, without which Excel reads UTF-8 as the locale's code page ("CafÃ©"). A program of the index not of its
    shape is left out and added to `damaged` (LeftOut), for the command to name: the file holds programs only."""
    check_format(fmt)
    items = programs(index, query, damaged)
    if fmt == "parquet":
        write_parquet(items, out)
        return []
    long_cells = []
    if excel:
        out.write("\ufeff")
    for chunk in csv_chunks(items, long_cells) if fmt == "csv" else jsonl_chunks(items):
        out.write(chunk)
    return long_cells


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def format_named(path: str) -> str:
    """The format a file's name gives (its extension: `programs.CSV` is csv), which import reads it as by default."""
    return Path(path).suffix.lstrip(".").lower()


# --- import ----------------------------------------------------------------------------------------

def records(handle, fmt: str) -> Iterator[tuple[int, dict]]:
    """(line or row number, field values) for each record of a file open for reading bytes, from its start. A file
    the reader cannot take (not UTF-8, a line or cell over MAX_LINE, not Parquet) is refused at once, naming the line
    or part."""
    check_format(fmt)
    handle.seek(0)
    if fmt == "parquet":
        yield from _parquet_records(handle)
        return
    if fmt == "jsonl":
        for number, line in enumerate(_lines(handle), 1):
            if line.strip():
                record = _json_object(line)
                if "__error__" in record and "\r" in line.rstrip("\r\n"):  # lines ending in CR alone, read as one
                    record = {"__error__": cr_alone("between records", "JSON Lines with LF line endings")}
                yield number, record
        return
    csv.field_size_limit(MAX_LINE)  # a cell may be a long JSON column (the default, 128 KiB, is process-wide)
    reader = csv.DictReader(_lines(handle))
    header = next(csv_rows(reader.reader), (1, []))[1]  # as DictReader reads it, with csv.Error named by line
    reader.fieldnames = header
    unknown = set(header) - set(columns())
    if len(header) == 1 and (separator := next((c for c in ";\t|" if c in header[0]), None)):
        # a spreadsheet's CSV in many locales (Excel's in German or French: ';'): its whole header was one unknown name
        raise InvalidInput(f"line 1: the cells are separated by {separator!r}, not by commas (a spreadsheet's CSV in "
                           "some locales): save it with commas as the separator")
    if unknown or "id" not in header:
        raise InvalidInput(f"line 1: the header must name Program fields; unknown: {_some(unknown)}"
                           if unknown else "line 1: the header has no id column")
    # known names only from here, so at most as many distinct as Program has fields: counting each is linear
    if twice := next((name for name in header if header.count(name) > 1), None):  # a row's last cell of it would count
        raise InvalidInput(f"line 1: the header names the column {twice} twice")
    for line, row in csv_rows(reader):
        if None in row:  # DictReader's key for cells past the header's columns
            yield line, {"__error__": f"{len(row[None])} cell(s) more than the header names"}
            continue
        yield line, unflat({k: v[1:] if v and v[0] == "'" else v for k, v in row.items()})


def _lines(handle) -> Iterator[str]:
    """A binary file's lines as text, each read no further than MAX_LINE bytes and decoded on its own, so an
    encoding error names its line (a byte order mark before the first is dropped, as Excel writes one)."""
    for number in count(1):
        line = handle.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            raise InvalidInput(f"line {number}: longer than {MAX_LINE // 2**20} MiB")
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise not_utf8(number, exc.start, line[exc.start]) from None


def _some(names: set[str], most: int = 10) -> str:
    """Names for an error, the first `most` of them (a header of a million names is not echoed whole), each cut."""
    shown = ", ".join(name[:80] for name in sorted(names)[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def _json_object(line: str) -> dict:
    """A record read as a request's body is (json_input.json_document): a key given twice (Python's parser keeps the
    last, another reader the first), NaN, a lone surrogate or nesting past its depth refused."""
    from affiliate_matrix.json_input import json_document

    try:
        value = json_document(line, "the record")
    except InvalidInput as exc:
        return {"__error__": str(exc)}
    return value if isinstance(value, dict) else {"__error__": "not a JSON object"}


def _parquet_records(handle) -> Iterator[tuple[int, dict]]:
    """Rows of a Parquet file, typed (as export writes it) or every column text (as it wrote it before), read within
    MAX_PARQUET_GROUP bytes of text at a time: text comes as dictionaries, so a batch of rows repeating one huge value
    is measured before each row gets its own copy (a few kilobytes of zstd can stand for gigabytes of text)."""
    number = 0
    for batch in _parquet_batches(handle):
        if number == 0:
            _check_parquet_columns(batch.schema)
        if (size := sum(map(_read_out_size, batch.columns))) > MAX_PARQUET_GROUP:
            raise InvalidInput(f"the Parquet file's rows {number + 1}-{number + batch.num_rows} hold {size:,} "
                               f"bytes of text; at most {MAX_PARQUET_GROUP:,} are read at once")
        for row in batch.to_pylist():
            number += 1
            yield number, unflat(row)


def _parquet_batches(handle) -> Iterator:
    """The file's record batches (the first one empty: it carries the columns' types), read by a process of its own
    within PARQUET_READER_MEMORY (parquet_reader): a page's size once decompressed is what the file says it is, and a
    few kilobytes that say gigabytes were read whole before any batch could be measured. A file the reader refuses,
    or that needs more memory than it has, is refused naming the file."""
    import subprocess
    import sys
    import tempfile

    import pyarrow as pa

    from affiliate_matrix import parquet_reader

    name = Path(handle.name).name
    with tempfile.TemporaryFile() as said:  # the reader's refusal; a file, so it can never fill a pipe and block
        reader = subprocess.Popen(
            [sys.executable, "-m", "affiliate_matrix.parquet_reader", str(PARQUET_READER_MEMORY),
             str(MAX_PARQUET_GROUP)], stdin=handle, stdout=subprocess.PIPE, stderr=said)
        try:
            try:
                with pa.ipc.open_stream(reader.stdout) as stream:
                    yield pa.RecordBatch.from_pylist([], schema=stream.schema)
                    yield from stream
            except pa.ArrowException:
                pass  # the stream stopped short: the reader's exit says why
            status = reader.wait()
        finally:
            if reader.poll() is None:  # the import stopped reading (a refusal, Ctrl-C)
                reader.kill()
            reader.wait()
            reader.stdout.close()
        said.seek(0)
        message = said.read(4096).decode("utf-8", errors="replace").strip()
    if status == parquet_reader.OUT_OF_MEMORY:
        raise InvalidInput(f"{name}: decompresses past the {PARQUET_READER_MEMORY // 2**20:,} MiB of memory an import "
                           "reads a Parquet file within")
    if status == parquet_reader.REFUSED:
        raise InvalidInput(f"{name}: {message}")
    if status != 0:
        raise InvalidInput(f"{name}: not a readable Parquet file (its reader stopped with status {status})")


_KIND_WORDS = {"text": "text", "json": "JSON text", "integer": "an integer", "number": "a number", "bool": "a boolean",
               "time": "a timestamp", "texts": "a list of text",
               "money": "a struct of amount (a number) and currency (text), or JSON text"}


def _check_parquet_columns(schema) -> None:
    """Each column a Program field, of its kind's type or text (any kind is read from its text, as an export before
    typed columns wrote every one, and money as JSON text, as one before it was a struct), so a column read is one
    validation can judge."""
    import pyarrow as pa

    unknown = set(schema.names) - set(columns())
    if unknown:
        raise InvalidInput("the Parquet file has columns that are not Program fields: " + _some(unknown))
    if twice := next((name for name in schema.names if schema.names.count(name) > 1), None):  # a row keeps the last
        raise InvalidInput(f"the Parquet file names the column {twice} twice")

    def text(t):
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    def number(t):  # an integer too: pandas writes an int column with nulls as doubles (validation takes 30.0)
        return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)

    def money(t):
        return (pa.types.is_struct(t) and sorted(f.name for f in t) == ["amount", "currency"]
                and number(t.field("amount").type) and text(t.field("currency").type))

    fits = {"integer": number, "number": number, "bool": pa.types.is_boolean, "time": pa.types.is_timestamp,
            "texts": lambda t: (pa.types.is_list(t) or pa.types.is_large_list(t)) and text(t.value_type),
            "money": money}
    for column in schema:
        kind, type_ = kinds()[column.name], _decoded(column.type)
        if not text(type_) and not fits.get(kind, text)(type_):
            raise InvalidInput(f"the Parquet file's column {column.name} is {type_}: a Program's "
                               f"{column.name} is {_KIND_WORDS[kind]}")


def _decoded(type_):
    """The type the file holds, where the reader read text as dictionaries (also inside lists and structs)."""
    import pyarrow as pa

    if pa.types.is_dictionary(type_):
        return type_.value_type
    if pa.types.is_struct(type_):
        return pa.struct([field.with_type(_decoded(field.type)) for field in type_])
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        make = pa.list_ if pa.types.is_list(type_) else pa.large_list
        return make(type_.value_field.with_type(_decoded(type_.value_type)))
    return type_


def _read_out_size(column) -> int:
    """The bytes a column stands for once every row has its own values: a dictionary's value counted per row (a
    list's items likewise)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return column.offsets.nbytes + _read_out_size(column.flatten())
    if pa.types.is_struct(column.type):  # its fields' text may be dictionaries too (money's currency)
        return sum(map(_read_out_size, column.flatten()))
    if pa.types.is_dictionary(column.type) and (pa.types.is_string(column.type.value_type)
                                                or pa.types.is_binary(column.type.value_type)):
        return pc.sum(pc.take(pc.binary_length(column.dictionary), column.indices)).as_py() or 0
    return column.nbytes


BOOL_WORDS = {"True": True, "False": False, "true": True, "false": False}


def unflat(row: dict) -> dict:
    """A row of columns as a Program's values: an empty or null cell is a field not given; the text of a list or an
    object is parsed as JSON (text another field holds, a name "[2024]", stays as it is), a key given twice refused as
    in a JSON Lines record (Python's parser keeps the last, another reader of the file the first)."""
    from affiliate_matrix.json_input import _once_each

    out = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if isinstance(value, str) and kinds().get(key) == "bool":
            # as the export writes it (Python's word) or JSON's; the field is strict, and took neither from a CSV
            value = BOOL_WORDS.get(value, value)  # other text is left as it is: validation names the field
        elif isinstance(value, str) and kinds().get(key) in ("json", "money", "texts"):
            try:
                value = json.loads(value, object_pairs_hook=_once_each)
            except InvalidInput as exc:  # a key given twice
                said = str(exc).replace("the body", "the cell's JSON")
                return {"__error__": f"{key}: {said}"}
            except (ValueError, RecursionError) as exc:
                if value.lstrip()[:1] in ("[", "{"):  # meant as JSON (a list, an object) and broken: say so
                    return {"__error__": f"{key}: the cell's JSON cannot be read ({_json_fault(exc)})"}
                # other text is left as it is: validation names the field
        out[key] = value
    return out


def _json_fault(exc: Exception) -> str:
    """What json.loads found wrong with a cell, placed in the cell: its own "line 1 column 9" reads as the file's."""
    if isinstance(exc, json.JSONDecodeError):
        what = exc.msg.removesuffix(" at")  # "Invalid control character at": which one (a NUL) is worth naming
        which = f" U+{ord(exc.doc[exc.pos]):04X}" if what == "Invalid control character" else ""
        return f"{what}{which} at character {exc.pos + 1} of the cell"
    return "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:200]


@dataclass
class ImportReport:
    records: int = 0
    written: int = 0
    changes: int = 0  # the deltas recorded in the change feed
    errors: list[tuple[str, str]] = field(default_factory=list)
    left_out_lines: int = 0  # lines of an export naming the programs it left out as damaged (is_left_out_line)


def import_programs(rt, path: Path, fmt: str) -> ImportReport:
    if not path.is_file():
        raise InvalidInput(f"{path}: {'not a file' if path.exists() else 'no such file'}")
    with path.open("rb") as handle:  # the file checked is the file written, whatever is renamed onto its path meanwhile
        return _import(rt, handle, fmt)


def _program(data: dict):
    """A record of the file as a Program, its text cleaned as a scraped record's is (NFC, no controls or bidi
    overrides), as today's code writes it (program_index.as_written_now: a file exported before names accounts in its
    requests, or keys a name without its marks)."""
    from affiliate_matrix.models import WRITTEN, Program, cleaned_import
    from affiliate_matrix.program_index import as_written_now

    return as_written_now(Program.model_validate(cleaned_import(data), context=WRITTEN))


# Each import writes it, for the object store to date (storage.time_now): no time a file gives is after that, past
# CLOCK_LEEWAY, as a retention tick's is not
IMPORT_RECORD = "imports/programs.json"


def _latest(rt, digest: str) -> datetime:
    """The latest time a file's program may be dated: the store's own time now and CLOCK_LEEWAY."""
    from affiliate_matrix.errors import ConfigError
    from affiliate_matrix.storage import CLOCK_LEEWAY

    stored = rt.store.time_now(IMPORT_RECORD, {"file": digest})
    if stored is None:
        raise ConfigError("AMX_S3_ENDPOINT_URL", f"the object store does not say when it wrote {IMPORT_RECORD}")
    return stored + CLOCK_LEEWAY


def dated_ahead(program, latest: datetime) -> str | None:
    """The first of a program's times after `latest`, its field named, in words; None when none is. A program seen, or
    a claim fetched, ahead of the import would be the latest until then: merge takes the latest claim, and the feed
    and the freshness filters the dates."""
    times = {name: getattr(program, name) for name in ("first_seen_at", "last_seen_at", "last_verified_at",
                                                       "last_changed_at")}
    times |= {f"provenance.{field}.{at}.fetched_at": claim.fetched_at
              for field, claims in program.provenance.items() for at, claim in enumerate(claims)}
    return next((f"{name}: {time.isoformat()} is after the object store's time now and its leeway "
                 f"({latest.isoformat()}): a program is not seen ahead of its import"
                 for name, time in times.items() if time is not None and time > latest), None)


def _import(rt, handle, fmt: str) -> ImportReport:
    digest = _digest(handle)
    problems, seen, left_out, latest = [], {}, 0, _latest(rt, digest)
    for number, data in records(handle, fmt):
        if is_left_out_line(data):
            left_out += 1
        elif "__error__" in data:
            problems.append(f"line {number}: {data['__error__']}")
        else:
            try:
                program = _program(data)
                to_document(program)  # what the write does: a value valid but nested past its depth fails here
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                problems.append(f"line {number}: {'.'.join(map(str, first['loc'])) or 'record'}: {first['msg']}")
            except ValueError as exc:  # pydantic's serializer: "Maximum serialization depth exceeded"
                problems.append(f"line {number}: cannot be stored in the index ({exc})")
            else:
                if program.id in seen:
                    problems.append(f"line {number}: {program.id} is already on line {seen[program.id]}")
                elif ahead := dated_ahead(program, latest):
                    problems.append(f"line {number}: {ahead}")
                seen[program.id] = number
        if len(problems) >= MAX_ERRORS:
            problems.append(f"… stopping after {MAX_ERRORS} errors")
            break
    if problems:
        raise InvalidInput("the import was refused, nothing was written:\n" + "\n".join(problems))
    from affiliate_matrix.deltas import DELTAS_INDEX

    rt.index.ensure_index(PROGRAMS_INDEX)
    rt.index.ensure_index(DELTAS_INDEX)
    run = f"import-{digest}"  # the same file imported again names the same runs (their pending deltas)
    report, batch, batches = ImportReport(records=len(seen), left_out_lines=left_out), [], count(1)
    try:
        for _, data in records(handle, fmt):
            if is_left_out_line(data):
                continue
            program = _program(data)  # (data cleaned in place, its id checked as a program's)
            batch.append((data["id"], program))  # the id the file names: one exported before programs v16 may move
            if len(batch) == BATCH:
                report = _write(rt, batch, report, f"{run}-{next(batches)}")
                batch = []
        if batch:
            report = _write(rt, batch, report, f"{run}-{next(batches)}")
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - whatever stopped it, the user learns how far it got
        # Not all-or-nothing: OpenSearch has no transaction across batches. A re-run upserts the same ids, so it
        # finishes the import; the batch in flight is counted unwritten, though some of it may be.
        cause = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) or type(exc).__name__
        raise ImportIncomplete(f"the import stopped ({cause}): {report.written:,} of {report.records:,} programs were "
                               f"written; run the same import again to finish it (each program is written by its id, "
                               f"so none is doubled)") from exc
    return report


def _digest(handle) -> str:
    handle.seek(0)
    return hashlib.file_digest(handle, "sha256").hexdigest()[:16]


def _write(rt, batch: list, report: ImportReport, run: str) -> ImportReport:
    """The batch's programs (each with the id its file names) written whole by id, each change recorded in the feed and
    announced as an index run's are (write_changes); one the index holds as the file has it is left as it is (and
    counted written). A program whose id the import moved (a file exported before programs v16: as_written_now) has
    the move recorded once it is written (search.record_moves), so what names the file's id finds it: an import stopped
    between leaves the file's id as it was (its 404), never a record naming a program not written (nor the record of
    its new id moving on, which a record drops, gone while that id is no program's). The same import again records it."""
    from affiliate_matrix.pipeline import Changes, write_changes
    from affiliate_matrix.search import record_moves

    imported = {program.id: program for _, program in batch}
    changes = Changes(lambda program_id, document: _change(imported[program_id], document))
    stored = rt.index.get_versioned(PROGRAMS_INDEX.name, list(imported))
    for program_id, program in imported.items():
        read = stored.get(program_id)
        changes.add(program_id, read, *_change(program, read.doc if read is not None else None))
    deltas, errors, _ = write_changes(rt, changes, run, "/import")
    unwritten = {key for key, _ in errors}
    record_moves(rt.index, PROGRAMS_INDEX.name,
                 {named: program.id for named, program in batch if program.id not in unwritten}, run)
    report.written += len(imported.keys() - unwritten)  # held as the file has them, written or not
    report.changes += len(deltas)
    report.errors += errors
    return report


def _change(program, existing: dict | None) -> tuple[dict | None, object]:
    """The imported program's document and its delta from `existing` (the program as the index holds it, None:
    absent); (None, None) where the index holds it already. The delta is observed when the file's program was last
    seen: the same file imported again names the same deltas."""
    from affiliate_matrix.deltas import diff

    document = to_document(program)
    if document == existing:
        return None, None
    try:
        before = from_document(existing) if existing is not None else None
    except DamagedData as exc:  # a stored program not of its shape: the file's replaces it whole, as it replaces any
        from affiliate_matrix.observability import get_logger

        get_logger().warning("import.damaged_replaced", key=program.id, error=str(exc))
        before = None  # (its delta: created, what a reader of the feed could not read before)
    return document, diff(before, program, at=program.last_seen_at, source="import")
