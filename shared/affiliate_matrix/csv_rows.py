"""Rows of a csv reader for an import, each with the line it starts on: what an error about the row names. The
reader's own line_num is the line a row ends on (a quoted cell may hold line breaks), and what the csv module cannot
read (a cell over its field limit, a quote left open) is an InvalidInput naming the line the row starts on too."""

import codecs
import csv
import io
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



def not_utf8(number: int, line: bytes, at: int) -> InvalidInput:
    """Line `number` of an imported file, not UTF-8 from its byte `at` (from 0) on, named as such."""
    return InvalidInput(f"line {number}: not UTF-8 (byte {at + 1} of the line is {line[at]:#04x}); save the file as "
                        "UTF-8")


def utf8_text(data: bytes) -> io.TextIOBase:
    """A whole file's text, read as a csv reader reads it (newline=""), a byte order mark before it dropped (as Excel
    writes one); not UTF-8: not_utf8 for the first line that is not. Decoded as it is read: a StringIO of a file's
    text held it at 4 bytes a character, besides the text itself."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        codecs.utf_8_decode(data, "strict", True)  # checked whole first, for not_utf8 to name the line
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        raise not_utf8(data.count(b"\n", 0, start) + 1, data[start:exc.start + 1], exc.start - start) from None
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
