"""`amx export programs` and `amx import programs`."""

from typing import Annotated, Optional

import typer

from affiliate_matrix.cli.common import (EpcWindowOption, console, data_out, errors, invalid, open_runtime,
                                        say_rules_not_run, with_search_options)
from affiliate_matrix.wording import counted

export_app = typer.Typer(help="Export the master index (CSV, JSON Lines, Parquet).", no_args_is_help=True)
import_app = typer.Typer(help="Import programs exported before.", no_args_is_help=True)


@export_app.command("programs")
@with_search_options
def export_programs(
    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, jsonl or parquet (by default --out's "
                                                                  "extension's, else jsonl).")] = None,
    out: Annotated[Optional[str], typer.Option(help="A file (standard output by default, or -; parquet needs a "
                                                    "file).")] = None,
    text: Annotated[Optional[str], typer.Option("--q", help=(
        "Only programs matching these words: plain words, as amx search takes them."))] = None,
    *,  # the search options here (with_search_options)
    sort: Annotated[str, typer.Option(help=(
        "The file's order: relevance, commission, cookie, epc, last_changed or name (as the API's sort, and the "
        "explorer's export links keep its page's)."))] = "relevance",
    epc_window: EpcWindowOption = "7d",
    excel: Annotated[bool, typer.Option("--excel", help="CSV for Excel: begin with a byte order mark, without which "
                                                        "Excel shows non-ASCII text garbled.")] = False,
    **options,  # the search options' values, by the API's parameter names, as search_query reads them
):
    """Stream the master index, or a search's result, without holding it in memory: the API's export, its filters
    and bounds as options, as `amx search`'s."""
    from affiliate_matrix.cli.views import print_damaged, search_query, search_text
    from affiliate_matrix.exchange import EXCEL_CELL, FORMATS, LeftOut, export, format_named
    from affiliate_matrix.files import whole_or_not_at_all
    from affiliate_matrix.errors import DamagedData
    from affiliate_matrix.program_index import DAMAGED_PROGRAM, PROGRAMS_INDEX

    fmt = typed_format(fmt)
    out = None if out == "-" else out  # `--out -` wrote a file named "-": standard output, as `amx rules add -` reads
    # `--out programs.csv` wrote JSON Lines there, which `amx import programs programs.csv` then read as CSV
    named = format_named(out) if out and format_named(out) in FORMATS else None
    if fmt is not None and named is not None and fmt != named:
        raise invalid("--out", f"{out} is named as {named}, not {fmt} (import reads a file by its extension): "
                               "name it alike, or leave --format out")
    if out and fmt is None and named is None:  # `--out programs.xlsx` was JSON Lines, which import then refused
        raise invalid("--out", f"{out} is named as none of {', '.join(FORMATS)} (import reads a file by its "
                               "extension): name it .csv (--excel for Excel), .jsonl or .parquet, or give --format")
    fmt = fmt or named or "jsonl"
    if excel and fmt != "csv":
        raise invalid("--excel", f"--excel is for csv, not {fmt}")
    query = search_query(search_text(text, "--q"), options, sort=sort, epc_window=epc_window, export=True)  # the API's
    if fmt == "parquet" and not out:
        raise invalid("--out", "parquet is binary: give --out FILE")
    rt = open_runtime("export")
    rt.index.ensure_index(PROGRAMS_INDEX)
    damaged = LeftOut()  # a program of the index not of its shape: left out of the file, named below
    if out is None:
        long_cells = export(rt.index, fmt, data_out(json=fmt == "jsonl"), query, excel=excel, damaged=damaged)
    else:
        text_mode = {"encoding": "utf-8", "newline": ""}
        with whole_or_not_at_all(out) as partial:
            with open(partial, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else text_mode)) as sink:
                if fmt == "parquet" and sink.isatty():  # --out /dev/tty, /dev/stdout
                    raise invalid("--out", f"{out} is a terminal, and parquet is binary: give --out FILE")
                long_cells = export(rt.index, fmt, sink if fmt == "parquet" else data_out(sink, json=fmt == "jsonl"),
                                    query, excel=excel, damaged=damaged)
        errors.print(f"wrote {out}")
    print_damaged(errors, damaged.named)
    if damaged.more:
        errors.print(f"and {damaged.more:,} more program(s) left out as damaged, not named", markup=False)
    if damaged.count and damaged.count >= rt.index.search(PROGRAMS_INDEX.name, query.replaced(size=0)).total:
        raise DamagedData(f"the {damaged.count} program(s) to export", "none of them can be read", DAMAGED_PROGRAM)
    if long_cells:
        named = ", ".join(f"{program_id} ({', '.join(cut)})" for program_id, cut in long_cells[:10])
        more = ", …" if len(long_cells) > 10 else ""
        errors.print(f"warning: {len(long_cells):,} program(s) have a cell longer than the {EXCEL_CELL:,} characters "
                     "Excel keeps: it cuts them without a word, and a file saved from it holds them cut (the import "
                     f"of a cut JSON cell is refused). {named}{more}. Open the file in another program, or export "
                     "jsonl or parquet, which carry them whole.", markup=False)


@import_app.command("programs")
def import_programs(path: Annotated[str, typer.Argument(help="A file from `amx export programs`.")],
                    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, jsonl or parquet (by default from the file's extension).")] = None):
    """Check every row, then write them all; one bad row refuses the file, errors named by line. Stopped while
    writing (Ctrl-C, the index failing), it says how many were written: run it again to finish."""
    from pathlib import Path

    from affiliate_matrix.exchange import FORMATS, format_named
    from affiliate_matrix.exchange import import_programs as run_import

    fmt = typed_format(fmt) or format_named(path)
    if fmt not in FORMATS:
        raise invalid("path", f"{path} is named as none of {', '.join(FORMATS)} (import reads a file by its "
                              "extension): give --format")
    file = Path(path)
    rt = open_runtime("import")
    report = run_import(rt, file, fmt)
    console.print(f"imported {report.written} of {report.records} programs, {counted(report.changes, 'change')} in the "
                  "feed" + (f"; {len(report.errors)} failed to write: {report.errors[:3]}" if report.errors else ""))
    if report.left_out_lines:  # the programs its export could not read are not in the file: said, not hidden
        errors.print("note: the file's export left programs out as damaged, as its last line says: they are not in it",
                     markup=False)
    say_rules_not_run(rt)
    if report.errors:
        raise typer.Exit(1)


def typed_format(fmt: str | None) -> str | None:
    """--format's value in any case, as a file's extension is read (`CSV` is csv, as `programs.CSV` names it), else
    a usage error naming the option."""
    from affiliate_matrix.exchange import FORMATS

    if fmt is None or fmt.lower() in FORMATS:
        return fmt and fmt.lower()
    raise invalid("--format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
