"""Sets of row ids as Python ints, bit r for row r, for the SQLite index's in-memory columns: `&` and
`|` combine them and `int.bit_count()` counts them, in C over a few thousand machine words at 100k
rows. Converting to and from them stays in C too (a byte per row, read or written as binary digits).
"""

import re
from collections import deque
from functools import cache
from itertools import repeat

_AS_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_AS_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


@cache
def _bits_of_byte() -> list[list[int]]:
    """Each byte's set bits, ascending: the bytes below 2**bit, then each of them with `bit` set (255 steps, where a
    test of each bit of each byte took 2048). Made by the first rows_of, with its pattern: a search scored by its
    words needs neither, and every start paid them at import."""
    table: list[list[int]] = [[]]
    for bit in range(8):
        table += [bits + [bit] for bits in table]
    return table


def run_all(iterator) -> None:
    """Consume an iterator of C calls (a `map` of `__setitem__`) without a Python loop."""
    deque(iterator, maxlen=0)


def bits_of(rows, size: int) -> int:
    """The row ids `rows` (each below size) as a set: one byte per row set to 1, then read as binary digits."""
    flags = bytearray(size)
    run_all(map(flags.__setitem__, rows, repeat(1)))
    return int(flags.translate(_AS_DIGITS)[::-1], 2)


def flags_of(bits: int, size: int = 0) -> bytes:
    """The set as one byte per row id (1 where the row is in it, padded to size): `flags[r]` answers in C."""
    return format(bits, "b").encode()[::-1].translate(_AS_FLAGS).ljust(size, b"\0")


def rows_of(bits: int) -> list[int]:
    """The row ids in the set, ascending: C finds the set's nonzero bytes, a table their bits (a sparse
    set costs its rows, not its span)."""
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    rows: list[int] = []
    table = _bits_of_byte()
    for found in re.finditer(rb"[^\x00]", data):  # compiled by its first use, then from re's cache
        at = found.start()
        rows += [at * 8 + bit for bit in table[data[at]]]
    return rows
