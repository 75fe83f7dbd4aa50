"""Rows of a csv reader for an import, each with the line it starts on: what an error about the row names. The
reader's own line_num is the line a row ends on (a quoted cell may hold line breaks), and what the csv module cannot
read (a cell over its field limit, a quote left open) is an InvalidInput naming the line the row starts on too."""

import csv
from collections.abc import Iterator

from affiliate_matrix.errors import InvalidInput


def rows(reader) -> Iterator[tuple[int, object]]:
    """(the line it starts on, the row) for each row of a csv.reader or csv.DictReader, as it reads them."""
    lines = getattr(reader, "reader", reader)  # a DictReader's line_num moves only with its own rows
    while True:
        start = lines.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"line {start}: {exc}") from None
        yield start, row
