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
            if str(exc).startswith("new-line character seen in unquoted field"):  # its advice is to Python's open()
                raise InvalidInput(f"line {start}: " + cr_alone("outside quotes", "CSV UTF-8") +
                                   ", and a cell holding a line break must be quoted") from None
            raise InvalidInput(f"line {start}: {exc}") from None
        yield start, row



def cr_alone(where: str, save_as: str) -> str:
    """What is wrong with an imported file whose lines end in a carriage return alone (one saved for the old Mac OS),
    which the readers, splitting lines at LF, took for one line: CSV and JSON Lines name it alike."""
    return (f"a carriage return alone {where}: lines must end in LF or CRLF (a file saved for the old Mac OS ends them "
            f"in CR alone; save it as {save_as})")


def not_utf8(number: int, at: int, byte: int) -> InvalidInput:
    """Line `number` of an imported file, not UTF-8 from its byte `at` (from 0) on, that byte being `byte`, named as
    such."""
    return InvalidInput(f"line {number}: not UTF-8 (byte {at + 1} of the line is {byte:#04x}); save the file as UTF-8")


CHUNK = 64 * 1024  # bytes read at a time


def check_utf8(handle, digest, limit: int) -> None:
    """A binary file read from where it stands to its end, a chunk at a time, every byte into `digest` (a hashlib
    hash); InvalidInput past `limit` bytes, not_utf8 for the first line that is not UTF-8 (a byte order mark before the
    first dropped, as Excel writes one; lines counted as a csv reader counts them). The whole file is checked before
    any row is read, and never held: a file's text took its size again, at once."""
    carry, before, line, line_start, size, first = b"", 0, 1, 0, 0, True  # before: the bytes ahead of `carry`
    while True:
        chunk = handle.read(CHUNK)
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"the file is larger than {limit // (1024 * 1024)} MiB")
        digest.update(chunk)
        data = carry + (chunk.removeprefix(codecs.BOM_UTF8) if first else chunk)
        first = False
        try:  # an incomplete last character waits for the next chunk; ASCII (most files) is UTF-8 undecoded
            used, bad = len(data) if data.isascii() else codecs.utf_8_decode(data, "strict", not chunk)[1], False
        except UnicodeDecodeError as exc:
            used, bad = exc.start, True
        line += data.count(b"\n", 0, used)
        if (newline := data.rfind(b"\n", 0, used)) >= 0:
            line_start = before + newline + 1
        if bad:
            raise not_utf8(line, before + used - line_start, data[used])
        before, carry = before + used, data[used:]
        if not chunk:
            return


class Digested(io.RawIOBase):
    """A binary file read through `digest`: what was read is what was checked (check_utf8) only when both digests
    agree."""

    def __init__(self, handle, digest):
        self.handle, self.digest = handle, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        read = self.handle.readinto(buffer)
        self.digest.update(memoryview(buffer)[:read])
        return read
