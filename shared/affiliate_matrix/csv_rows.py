"""Rows of a csv reader for an import: what the csv module cannot read (a cell over its field limit, a quote
left open) is an InvalidInput naming the line the row starts on. The reader's own line_num is not that
line: when a row fails mid-line it still counts the line before."""

import csv
from collections.abc import Iterator

from affiliate_matrix.errors import InvalidInput


def rows(reader) -> Iterator:
    """Each row of a csv.reader or csv.DictReader, as it reads them."""
    lines = getattr(reader, "reader", reader)  # a DictReader's line_num moves only with its own rows
    while True:
        start = lines.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"line {start}: {exc}") from None
        yield row
