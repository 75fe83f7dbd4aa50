"""The SQLite index's full-text postings held in memory, and FTS5's bm25 computed over them."""

import math
from array import array
from bisect import bisect_left
from itertools import chain, compress, repeat
from operator import add, itemgetter

from affiliate_matrix.search.rowsets import bits_of, flags_of


class Text:
    """The full-text table's postings, read per term on first use, and FTS5's bm25 computed over them.

    FTS5 scores every match by calling bm25 once per row (about a microsecond each: 12k matches of a
    common word cost more than all the rest of a query); the same formula over postings held in
    memory skips FTS5's per-row call. The arithmetic is FTS5's (fts5_aux.c), step for step.
    """

    K1, B = 1.2, 0.75
    TERMS_KEPT = 4096  # postings of this many terms stay in memory; the oldest read goes first

    def __init__(self, db, t: str, size: int):
        self.db, self.t, self.size = db, t, size
        db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS temp."{t}_instances" USING fts5vocab(main, "{t}_fts", instance)')
        self.length = array("d", [0.0]) * size  # tokens per row over all text columns
        rows = tokens = 0
        for rid, sizes in db.execute(f'SELECT id, sz FROM "{t}_fts_docsize"'):
            self.length[rid] = n = sum(_varints(sizes))
            tokens += n
            rows += 1
        self.rows = rows
        self.average = tokens / rows if rows else 1.0
        self._postings: dict[str, tuple[array, array, int | None]] = {}

    def postings(self, term: str) -> tuple[array, array, int | None]:
        """The rows holding the term (ascending), the term's share of each one's bm25, and those rows as
        a set when that is no bigger than their ids. A share depends on the term's rarity, how often
        it occurs in the row (all text columns together) and the row's length, all fixed until the
        next write: computed once, a query's scoring is sums."""
        if term not in self._postings:
            if len(self._postings) >= self.TERMS_KEPT:
                self._postings.pop(next(iter(self._postings)))
            found = self.db.execute(
                f'SELECT doc, COUNT(*) FROM temp."{self.t}_instances" WHERE term = ? GROUP BY doc', (term,)).fetchall()
            found.sort()  # by row: a page's rows are looked up by bisection
            rows = array("q", map(itemgetter(0), found))
            idf = math.log((self.rows - len(rows) + 0.5) / (len(rows) + 0.5))
            share = _TermShare(idf if idf > 0 else 1e-6, self.K1, self.B, self.average)
            shares = array("d", map(share.__getitem__, zip(map(float, map(itemgetter(1), found)),
                                                           map(self.length.__getitem__, rows))))
            self._postings[term] = (rows, shares, bits_of(rows, self.size) if len(rows) * 32 >= self.size else None)
        return self._postings[term]

    def match(self, groups: list[list[str]]) -> int:
        """Rows holding a term of every group."""
        matched = (1 << self.size) - 1
        for group in groups:
            found, sparse = 0, []
            for rows, _, as_set in map(self.postings, group):
                if as_set is None:
                    sparse.append(rows)
                else:
                    found |= as_set
            matched &= found | bits_of(chain.from_iterable(sparse), self.size) if sparse else found
        return matched

    def scores(self, groups: list[list[str]], rows: int) -> dict[int, float]:
        """The bm25 score (positive: higher is better) of each of the rows (a set; each holding a term
        of every group), as FTS5 sums it: the terms' shares in query order."""
        flags = flags_of(rows, self.size)
        scores: dict[int, float] = {}
        for term in (term for group in groups for term in group):
            holders, shares, _ = self.postings(term)
            kept = list(map(flags.__getitem__, holders))
            found = list(compress(holders, kept))
            scores.update(zip(found, map(add, map(scores.get, found, repeat(0.0)), compress(shares, kept))))
        return scores

    def scores_of(self, groups: list[list[str]], rows: list[int]) -> dict[int, float]:
        """The bm25 score of each of a few rows (a page's), each holding a term of every group."""
        scores = dict.fromkeys(rows, 0.0)
        for term in (term for group in groups for term in group):
            holders, shares, _ = self.postings(term)
            for row in rows:
                at = bisect_left(holders, row)
                if at < len(holders) and holders[at] == row:
                    scores[row] += shares[at]
        return scores


class _TermShare(dict):
    """One term's share of a row's bm25 (FTS5's arithmetic, fts5_aux.c), by (its occurrences in the row,
    the row's length in tokens): few pairs recur, so each is computed once."""

    def __init__(self, weight: float, k1: float, b: float, average: float):
        super().__init__()
        self.weight, self.k1, self.b, self.average = weight, k1, b, average

    def __missing__(self, key: tuple[float, float]) -> float:
        freq, length = key
        k1, b = self.k1, self.b
        norm = k1 * ((1 - b) + (b * length) / self.average)
        self[key] = share = self.weight * ((freq * (k1 + 1.0)) / (freq + norm))
        return share


def _varints(blob: bytes):
    """SQLite's varints (7 bits a byte, high bit set on all but the last): FTS5's per-column sizes."""
    value = 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            yield value
            value = 0
