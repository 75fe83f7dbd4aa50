"""Export and import of the master index: CSV, JSON Lines and Parquet, streamed.

Export walks the index (or a search's result) page by page with a cursor, so memory stays flat
however many programs there are. Every format carries every Program field: JSON Lines as the
program itself; CSV and Parquet one column per field, with lists and objects as JSON text, so
an export imports back to the same records. Import checks every row first (errors named by line,
nothing written if any); only then are the programs written, in batches.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document
from affiliate_matrix.search import SearchQuery

FORMATS = ("csv", "jsonl", "parquet")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
               "parquet": "application/vnd.apache.parquet"}
PAGE, BATCH, MAX_ERRORS = 500, 1000, 20
# A CSV cell a spreadsheet would run as a formula (names and descriptions come from scraped pages);
# it is written behind a "'" so it shows as text. A cell that starts with "'" gets one more, so import
# can strip exactly one and every value comes back as it was. Plain numbers (cookie_days -1) stay.
_FORMULA = re.compile(r"^(?:[=+\-@\t\r']|\s*[=@])(?!(?<=[+-])[0-9.]+$)")


def columns() -> list[str]:
    from affiliate_matrix.models import Program

    return list(Program.model_fields)


# --- export ----------------------------------------------------------------------------------------

def programs(index, query: SearchQuery | None = None) -> Iterator:
    """Every program matching the query (all of them by default), a cursor page at a time. The first
    page is asked at once, so a query the index refuses fails here, not halfway through a stream
    whose 200 has already gone out."""
    query = (query or SearchQuery()).model_copy(update={"size": PAGE, "offset": 0, "facets": [], "cursor": None})
    return _pages(index, query, index.search(PROGRAMS_INDEX.name, query))


def _pages(index, query: SearchQuery, result) -> Iterator:
    while True:
        for hit in result.hits:
            yield from_document(hit.doc)
        if not result.next_cursor:
            return
        query = query.model_copy(update={"cursor": result.next_cursor})
        result = index.search(PROGRAMS_INDEX.name, query)


def flat(program) -> dict[str, str]:
    """A program as text columns: scalars as they are, lists and objects as JSON, None as empty."""
    data = program.model_dump(mode="json")
    return {k: "" if v is None else json.dumps(v, separators=(",", ":")) if isinstance(v, list | dict) else str(v)
            for k, v in data.items()}


def csv_cell(value: str) -> str:
    return "'" + value if _FORMULA.match(value) else value


def csv_chunks(items: Iterable) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    for n, program in enumerate(items, 1):
        writer.writerow({k: csv_cell(v) for k, v in flat(program).items()})
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(items: Iterable) -> Iterator[str]:
    lines = []
    for program in items:
        lines.append(program.model_dump_json())
        if len(lines) == 200:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def write_parquet(items: Iterable, sink) -> int:
    """Row groups of BATCH programs, every column a string (the CSV encoding); returns the count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = columns()
    schema = pa.schema([(name, pa.string()) for name in names])
    count, rows = 0, []
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for program in items:
            rows.append(flat(program))
            if len(rows) == BATCH:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                count, rows = count + len(rows), []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
    return count


def export(index, fmt: str, out, query: SearchQuery | None = None) -> None:
    """Write every matching program to `out` (a text stream for csv/jsonl, a binary one for parquet)."""
    check_format(fmt)
    items = programs(index, query)
    if fmt == "parquet":
        write_parquet(items, out)
        return
    for chunk in (csv_chunks if fmt == "csv" else jsonl_chunks)(items):
        out.write(chunk)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


# --- import ----------------------------------------------------------------------------------------

def records(path: Path, fmt: str) -> Iterator[tuple[int, dict]]:
    """(line or row number, field values) for each record of a file."""
    check_format(fmt)
    if fmt == "jsonl":
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    try:
                        value = json.loads(line)
                    except ValueError:
                        yield number, {"__error__": "not JSON"}
                        continue
                    yield number, value if isinstance(value, dict) else {"__error__": "not a JSON object"}
        return
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            unknown = set(reader.fieldnames or []) - set(columns())
            if unknown or "id" not in (reader.fieldnames or []):
                raise InvalidInput(f"line 1: the header must name Program fields; unknown: {', '.join(sorted(unknown))}"
                                   if unknown else "line 1: the header has no id column")
            for row in reader:
                yield reader.line_num, unflat({k: v[1:] if v and v[0] == "'" else v for k, v in row.items()})
        return
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    unknown = set(parquet.schema_arrow.names) - set(columns())
    if unknown:
        raise InvalidInput(f"the Parquet file has columns that are not Program fields: {', '.join(sorted(unknown))}")
    number = 0
    for batch in parquet.iter_batches(batch_size=BATCH):
        for row in batch.to_pylist():
            number += 1
            yield number, unflat(row)


def unflat(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                pass  # left as text: validation names the field
        out[key] = value
    return out


@dataclass
class ImportReport:
    records: int = 0
    written: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


def import_programs(rt, path: Path, fmt: str) -> ImportReport:
    from affiliate_matrix.models import Program

    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    problems, seen = [], {}
    for number, data in records(path, fmt):
        if "__error__" in data:
            problems.append(f"line {number}: {data['__error__']}")
        else:
            try:
                program = Program.model_validate(data)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                problems.append(f"line {number}: {'.'.join(map(str, first['loc'])) or 'record'}: {first['msg']}")
            else:
                if program.id in seen:
                    problems.append(f"line {number}: {program.id} is already on line {seen[program.id]}")
                seen[program.id] = number
        if len(problems) >= MAX_ERRORS:
            problems.append(f"… stopping after {MAX_ERRORS} errors")
            break
    if problems:
        raise InvalidInput("the import was refused, nothing was written:\n" + "\n".join(problems))
    rt.index.ensure_index(PROGRAMS_INDEX)
    report, batch = ImportReport(records=len(seen)), []
    for _, data in records(path, fmt):
        batch.append(to_document(Program.model_validate(data)))
        if len(batch) == BATCH:
            report = _write(rt, batch, report)
            batch = []
    if batch:
        report = _write(rt, batch, report)
    return report


def _write(rt, batch: list[dict], report: ImportReport) -> ImportReport:
    result = rt.index.bulk_upsert(PROGRAMS_INDEX.name, batch, refresh=True)
    report.written += len(batch) - len(result.errors)
    report.errors += result.errors
    return report
