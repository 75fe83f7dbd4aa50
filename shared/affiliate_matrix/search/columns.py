"""Columns of one SQLite search index held in memory as numpy arrays, for filters, facets and sorts.

Counting facets, applying filters and ordering matches in SQL walks the (doc, field, value) tables
once per match and per statement: at 100k programs a query matching an eighth of them spent most of
its time there. Here a query is a boolean mask over row ids: a filter or range sets the mask from
one field's (rid, value) pairs, a facet is one `bincount` of the pairs under the mask, a sort is a
`lexsort` of per-row keys. The arrays are read from the tables SQLite keeps (which stay the source
of truth and are written in the same transaction as the documents), one field at a time when a
query first needs it, and are dropped when the index's generation changes, so a write anywhere, by
any process, is seen by the next search.
"""

import math
from bisect import bisect_left, bisect_right

import numpy as np

from affiliate_matrix.errors import InvalidInput


class Keyword:
    """One keyword field: its distinct values in sorted order, the rows holding each value (one slice
    per value, for filters) and the same (rid, value code) pairs in row order (for counting)."""

    def __init__(self, rows):
        self.values: list[str] = []
        holders = []
        for value, joined in rows:  # rows come ordered by value
            self.values.append(value)
            holders.append(np.array(joined.split(","), dtype=np.int64))
        self.bounds = np.cumsum([0, *map(len, holders)])
        by_value = np.concatenate(holders) if holders else np.zeros(0, np.int64)
        self.holders = by_value
        codes = np.repeat(np.arange(len(self.values)), np.diff(self.bounds))
        in_row_order = np.argsort(by_value, kind="stable")  # gathers from the match mask run forward
        self.rids, self.codes = by_value[in_row_order], codes[in_row_order]
        self.code_of = {value: code for code, value in enumerate(self.values)}
        self._by_row: dict[str, np.ndarray] = {}

    def rows_with(self, values, size: int) -> np.ndarray:
        mask = np.zeros(size, bool)
        for code in {self.code_of[v] for v in values if v in self.code_of}:
            mask[self.holders[self.bounds[code]:self.bounds[code + 1]]] = True
        return mask

    def counts(self, match: np.ndarray, size: int) -> list[tuple[str, int]]:
        """Values by count under the match, most first, ties by value (as OpenSearch orders buckets)."""
        counts = np.bincount(self.codes, weights=match[self.rids], minlength=len(self.values)).astype(np.int64)
        present = np.flatnonzero(counts)
        top = present[np.lexsort((present, -counts[present]))][:size]
        return [(self.values[c], int(counts[c])) for c in top]

    def by_row(self, agg: str, size: int) -> np.ndarray:
        """Per row id, the code of its smallest (agg="min") or largest value; -1 where it has none."""
        if agg not in self._by_row:
            if agg == "min":
                keys = np.full(size, len(self.values), np.int64)
                np.minimum.at(keys, self.rids, self.codes)
                keys[keys == len(self.values)] = -1
            else:
                keys = np.full(size, -1, np.int64)
                np.maximum.at(keys, self.rids, self.codes)
            self._by_row[agg] = keys
        return self._by_row[agg]


class Number:
    """One number or date field as (rid, value) pairs."""

    def __init__(self, rows):
        pairs = np.array(rows, dtype=np.float64).reshape(-1, 2)
        self.rids = pairs[:, 0].astype(np.int64)
        self.values = pairs[:, 1]
        self._by_row: dict[str, np.ndarray] = {}

    def rows_where(self, selected: np.ndarray, size: int) -> np.ndarray:
        mask = np.zeros(size, bool)
        mask[self.rids[selected]] = True
        return mask

    def by_row(self, agg: str, size: int) -> np.ndarray:
        """Per row id, its smallest (agg="min") or largest value; NaN where it has none."""
        if agg not in self._by_row:
            keys = np.full(size, np.nan)
            (np.fmin if agg == "min" else np.fmax).at(keys, self.rids, self.values)
            self._by_row[agg] = keys
        return self._by_row[agg]


class Columns:
    """The live row ids and ids of one physical index, and its fields loaded on first use."""

    def __init__(self, db, t: str, generation):
        self.db, self.t, self.generation = db, t, generation
        rows = db.execute(f'SELECT rid, id FROM "{t}_docs" ORDER BY id').fetchall()
        self.size = (max(r for r, _ in rows) + 1) if rows else 1
        self.ids = [i for _, i in rows]  # sorted, so an id's position is its rank
        rids = np.array([r for r, _ in rows], dtype=np.int64)
        self.live = np.zeros(self.size, bool)
        self.live[rids] = True
        self.id_rank = np.full(self.size, -1, np.int64)
        self.id_rank[rids] = np.arange(len(rows))
        self._fields: dict[str, Keyword | Number] = {}
        self._text: Text | None = None

    def text(self) -> "Text":
        if self._text is None:
            self._text = Text(self.db, self.t, self.size)
        return self._text

    def keyword(self, field: str) -> Keyword:
        if field not in self._fields:
            self._fields[field] = Keyword(self.db.execute(
                f'SELECT value, group_concat(rid) FROM "{self.t}_kw" WHERE field = ? GROUP BY value ORDER BY value',
                (field,)))
        return self._fields[field]

    def number(self, field: str) -> Number:
        if field not in self._fields:
            self._fields[field] = Number(self.db.execute(
                f'SELECT rid, value FROM "{self.t}_num" WHERE field = ?', (field,)).fetchall())
        return self._fields[field]

    def mask(self) -> np.ndarray:
        return self.live.copy()


class SortKey:
    """One sort key over row ids: per-row values, their direction, and how a cursor value compares."""

    def __init__(self, values: np.ndarray, descending: bool, labels: list[str] | None = None):
        self.values, self.descending, self.labels = values, descending, labels  # labels: codes -> strings

    def missing(self, rows: np.ndarray) -> np.ndarray:
        v = self.values[rows]
        return v < 0 if self.labels is not None else np.isnan(v)

    def order_key(self, rows: np.ndarray) -> np.ndarray:
        v = np.where(self.missing(rows), 0, self.values[rows])
        return -v if self.descending else v

    def cursor_value(self, row: int):
        v = self.values[row]
        if self.labels is not None:
            return None if v < 0 else self.labels[v]
        return None if np.isnan(v) else float(v)

    def compare(self, rows: np.ndarray, after) -> tuple[np.ndarray, np.ndarray]:
        """(equal to `after`, strictly after `after` in this key's direction, missing values last)."""
        missing = self.missing(rows)
        if after is None:
            return missing, np.zeros(len(rows), bool)
        v = self.values[rows]
        if self.labels is not None:
            if not isinstance(after, str):
                raise InvalidInput("cursor is malformed: pass back next_cursor exactly as it was given")
            low, high = bisect_left(self.labels, after), bisect_right(self.labels, after)
            equal = (v >= low) & (v < high)
            beyond = (v < low) if self.descending else (v >= high)
        else:
            if isinstance(after, bool) or not isinstance(after, (int, float)):
                raise InvalidInput("cursor is malformed: pass back next_cursor exactly as it was given")
            equal = v == after
            beyond = (v < after) if self.descending else (v > after)
        return equal & ~missing, (beyond & ~missing) | missing


def page(rows: np.ndarray, keys: list[SortKey], after: list | None, offset: int, size: int) -> np.ndarray:
    """The row ids of one page: rows in key order (missing values last), after the cursor if any."""
    if after is not None:
        if len(after) != len(keys):
            raise InvalidInput("cursor is malformed: pass back next_cursor exactly as it was given")
        keep, tied = np.zeros(len(rows), bool), np.ones(len(rows), bool)
        for key, value in zip(keys, after):
            equal, beyond = key.compare(rows, value)
            keep |= tied & beyond
            tied &= equal
        rows = rows[keep]
    order = []
    for key in keys:
        order += [key.missing(rows), key.order_key(rows)]
    ranked = rows[np.lexsort(order[::-1])] if len(rows) else rows
    return ranked[offset:offset + size]


class Text:
    """The full-text table's postings, read per term on first use, and FTS5's bm25 computed over them.

    FTS5 scores every match by calling bm25 once per row (about a microsecond each: 12k matches of a
    common word cost more than all the rest of a query); the same formula over postings held as
    arrays costs a few vector operations. The arithmetic is FTS5's (fts5_aux.c), step for step.
    """

    K1, B = 1.2, 0.75
    TERMS_KEPT = 4096  # postings of this many terms stay in memory; the oldest read goes first

    def __init__(self, db, t: str, size: int):
        self.db, self.t = db, t
        db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS temp."{t}_instances" USING fts5vocab(main, "{t}_fts", instance)')
        self.length = np.zeros(size)  # tokens per row over all text columns
        rows = 0
        for rid, sizes in db.execute(f'SELECT id, sz FROM "{t}_fts_docsize"'):
            self.length[rid] = sum(_varints(sizes))
            rows += 1
        self.rows = rows
        self.average = float(self.length.sum()) / rows if rows else 1.0
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows holding the term and how often it occurs in each (all text columns together)."""
        if term not in self._postings:
            if len(self._postings) >= self.TERMS_KEPT:
                self._postings.pop(next(iter(self._postings)))
            found = np.array(self.db.execute(
                f'SELECT doc, COUNT(*) FROM temp."{self.t}_instances" WHERE term = ? GROUP BY doc', (term,)).fetchall(),
                dtype=np.int64).reshape(-1, 2)
            self._postings[term] = (found[:, 0], found[:, 1].astype(np.float64))
        return self._postings[term]

    def match(self, groups: list[list[str]], size: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding a term of every group, and each row's bm25 score (positive: higher is better)."""
        matched = np.ones(size, bool)
        for group in groups:
            any_term = np.zeros(size, bool)
            for term in group:
                any_term[self.postings(term)[0]] = True
            matched &= any_term
        rows = np.flatnonzero(matched)
        k1, b = self.K1, self.B
        norm = k1 * ((1 - b) + (b * self.length[rows]) / self.average)
        score = np.zeros(len(rows))
        for term in (term for group in groups for term in group):  # FTS5 sums phrases in query order
            holders, counts = self.postings(term)
            idf = math.log((self.rows - len(holders) + 0.5) / (len(holders) + 0.5))
            freq = np.zeros(size)
            freq[holders] = counts
            freq = freq[rows]
            score += (idf if idf > 0 else 1e-6) * ((freq * (k1 + 1.0)) / (freq + norm))
        scores = np.full(size, np.nan)
        scores[rows] = score
        return matched, scores


def _varints(blob: bytes):
    """SQLite's varints (7 bits a byte, high bit set on all but the last): FTS5's per-column sizes."""
    value = 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            yield value
            value = 0
