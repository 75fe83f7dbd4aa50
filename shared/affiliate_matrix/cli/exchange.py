"""`amx export programs` and `amx import programs`."""

from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from affiliate_matrix.cli.common import console, errors, open_runtime

export_app = typer.Typer(help="Export the master index (CSV, JSON Lines, Parquet).", no_args_is_help=True)
import_app = typer.Typer(help="Import programs exported before.", no_args_is_help=True)


@export_app.command("programs")
def export_programs(
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet.")] = "jsonl",
    out: Annotated[Optional[str], typer.Option(help="A file (standard output by default; parquet needs a file).")] = None,
    text: Annotated[Optional[str], typer.Option("--q", help="Only programs matching these words.")] = None,
    category: Annotated[Optional[list[str]], typer.Option(help="Category (repeatable).")] = None,
    network: Annotated[Optional[list[str]], typer.Option(help="Network (repeatable).")] = None,
    status: Annotated[Optional[list[str]], typer.Option(help="Status (repeatable).")] = None,
):
    """Stream the master index, or a search's result, without holding it in memory."""
    import sys

    from affiliate_matrix.cli.views import network_names
    from affiliate_matrix.exchange import check_format, export
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.search import SearchQuery

    check_format(fmt)
    if fmt == "parquet" and not out:
        raise typer.BadParameter("parquet is binary: give --out FILE", param_hint="--out")
    filters = {k: v for k, v in {"categories": category, "networks": network_names(network), "status": status}.items()
               if v}
    rt = open_runtime("export")
    rt.index.ensure_index(PROGRAMS_INDEX)
    query = SearchQuery(text=text, filters=filters)
    if out is None:
        export(rt.index, fmt, sys.stdout, query)
        return
    with _whole_or_not_at_all(out) as partial:
        with open(partial, "wb" if fmt == "parquet" else "w", **({} if fmt == "parquet" else {"encoding": "utf-8", "newline": ""})) as sink:
            export(rt.index, fmt, sink, query)
    errors.print(f"wrote {out}")


@contextmanager
def _whole_or_not_at_all(out: str):
    """A file beside `out` to write, renamed onto it once written: an export that fails half-way (a full disk, the
    index failing on a later page) leaves `out` as it was, not cut short (JSON Lines or CSV cut between two lines
    would import back as a whole file). Made as open() makes a file, within the umask, or with the permissions of the
    file it replaces. Anything but a regular file (/dev/stdout, a pipe) is written as it is; a link, at the file it
    names."""
    import os
    import secrets
    import stat

    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None  # made here
    if mode is not None and not stat.S_ISREG(mode):
        yield out
        return
    target = os.path.realpath(out)
    folder, name = os.path.split(target)
    partial = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.partial")
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:  # named as the user named it, not as the partial file beside it
        raise OSError(exc.errno, exc.strerror, out) from None
    if mode is not None:  # the file it replaces keeps its permissions
        os.chmod(partial, stat.S_IMODE(mode))
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        os.unlink(partial)
        raise


@import_app.command("programs")
def import_programs(path: Annotated[str, typer.Argument(help="A file from `amx export programs`.")],
                    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, jsonl or parquet (by default from the file's extension).")] = None):
    """Check every row, then write them all; one bad row refuses the file, errors named by line."""
    from pathlib import Path

    from affiliate_matrix.exchange import import_programs as run_import

    file = Path(path)
    report = run_import(open_runtime("import"), file, fmt or file.suffix.lstrip(".").lower())
    console.print(f"imported {report.written} of {report.records} programs"
                  + (f"; {len(report.errors)} failed to write: {report.errors[:3]}" if report.errors else ""))
    if report.errors:
        raise typer.Exit(1)
