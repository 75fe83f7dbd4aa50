"""Columns of one SQLite search index held in memory, for filters, facets and sorts.

Counting facets, applying filters and ordering matches in SQL walks the (doc, field, value) tables
once per match and per statement: at 100k programs a query matching an eighth of them spent most of
its time there. Here a query's match is a set of row ids held as a Python int (rowsets.py): a filter
or range is the union of its values' sets, combining them is `&`, a facet count `int.bit_count()`.
A sort ranks every row once per key into an `array`, and a page walks the rows in that order. Only
the standard library, so the programs function's first search after a cold start loads no array
library (numpy cost it ~70 ms of CPU and ~15 MB). Everything is read from the tables SQLite keeps
(which stay the source of truth and are written in the same transaction as the documents), one
field at a time when a query first needs it (text: postings.py), and is dropped when the index's
generation changes, so a write anywhere, by any process, is seen by the next search.
"""

from array import array
from bisect import bisect_left, bisect_right
from itertools import chain, compress, islice, repeat, takewhile
from operator import itemgetter, sub

from affiliate_matrix.errors import malformed_cursor
from affiliate_matrix.search.postings import Text
from affiliate_matrix.search.rowsets import bits_of, flags_of, rows_of, run_all


class SortKey:
    """One sort key over row ids: each row's rank (missing values ranked last), the sorted distinct values
    the ranks stand for (from which a cursor's value finds its place), and every live row in key order."""

    def __init__(self, rank, distinct: list, descending: bool, text: bool, by_id: array):
        self.rank, self.distinct, self.descending, self.text = rank, distinct, descending, text
        self._by_id, self._rows = by_id, None

    def rows(self) -> array:
        """Every live row by this key, ties by id: built once, then a page walks it."""
        if self._rows is None:
            self._rows = array("q", sorted(self._by_id, key=self.rank.__getitem__))  # stable: ties in id order
        return self._rows

    def rank_of(self, row: int) -> int:
        return self.rank[row]

    def sort(self, rows: list[int]) -> None:
        rows.sort(key=self.rank.__getitem__)

    def cursor_value(self, row: int):
        r, n = self.rank[row], len(self.distinct)
        if r >= n:
            return None
        return self.distinct[n - 1 - r if self.descending else r]

    def position(self, after) -> float:
        """Where a cursor's value falls among the ranks: a rank if it is one of the values, else half-way
        between its neighbours; None (missing) ranks last."""
        n = len(self.distinct)
        if after is None:
            return n
        number = isinstance(after, (int, float)) and not isinstance(after, bool)
        if not (isinstance(after, str) if self.text else number):
            raise malformed_cursor()
        i = bisect_left(self.distinct, after)
        found = i < n and self.distinct[i] == after
        if self.descending:
            return n - 1 - i if found else n - i - 0.5
        return i if found else i - 0.5


class ScoreKey:
    """The text score as a sort key: best first; every matched row has one."""

    def __init__(self, scores: dict[int, float]):
        self.scores = scores

    def rank_of(self, row: int) -> float:
        return -self.scores[row]

    def sort(self, rows: list[int]) -> None:
        rows.sort(key=self.scores.__getitem__, reverse=True)  # stable all the same

    def cursor_value(self, row: int) -> float:
        return self.scores[row]

    def position(self, after) -> float:
        if isinstance(after, bool) or not isinstance(after, (int, float)):
            raise malformed_cursor()
        return -after


def _target(keys: list, after: list) -> tuple:
    if len(after) != len(keys):
        raise malformed_cursor()
    return tuple(key.position(value) for key, value in zip(keys, after))


def _sort(rows: list[int], keys: list) -> None:
    for key in reversed(keys):  # stable sorts, the last key first
        key.sort(rows)


def sorted_page(rows: list[int], keys: list, after: list | None, offset: int, size: int) -> list[int]:
    """The rows of one page by sorting them all: when the score ranks first (the scored rows are the
    match) or when the match is sparse."""
    target = None if after is None else _target(keys, after)
    ordered = list(rows)
    _sort(ordered, keys)
    start = 0 if target is None else bisect_right(ordered, target, key=lambda r: tuple(k.rank_of(r) for k in keys))
    return ordered[start + offset:start + offset + size]


def walked_page(match: int, matched: int, row_count: int, keys: list[SortKey], after: list | None, offset: int,
                size: int) -> list[int]:
    """The rows of one page when a field (or the id) ranks first: walk every live row in that key's order
    and keep the matched ones (in C, and only until the page is full); rows tied on it are then put in
    the order of the keys after it. The cursor's place is found by bisecting that order."""
    first, in_order, need = keys[0], keys[0].rows(), offset + size
    if matched * matched <= need * len(in_order):  # sorting the few matches beats walking to them
        return sorted_page(rows_of(match), keys, after, offset, size)
    flags = flags_of(match, row_count)
    start = end = 0
    if after is not None:
        target = _target(keys, after)
        start = bisect_left(in_order, target[0], key=first.rank.__getitem__)
        end = bisect_right(in_order, target[0], key=first.rank.__getitem__)
    tied = compress(islice(in_order, start, end), map(flags.__getitem__, islice(in_order, start, end)))
    if after is not None:  # tied with the cursor on the first key: keep those after it on the others
        tied = (r for r in tied if tuple(k.rank_of(r) for k in keys) > target)
    beyond = compress(islice(in_order, end, None), map(flags.__getitem__, islice(in_order, end, None)))
    walk = chain(tied, beyond)
    taken = list(islice(walk, need))
    if len(keys) > 2 and taken:  # later keys reorder rows tied on the first: the last one's ties join
        last = first.rank[taken[-1]]
        taken += takewhile(lambda r: first.rank[r] == last, walk)
        _sort(taken, keys)
    return taken[offset:offset + size]


def walked_page_before(match: int, matched: int, row_count: int, keys: list, before: list, size: int) -> list[int]:
    """The `size` rows just before the cursor's place `before` (a backward cursor's), in key order: walked_page's walk
    backwards, from the rows tied with the cursor on the first key that rank before it, then the rows ranked before
    those; rows tied on the first key with the last one taken join, so the later keys' order is kept."""
    first, in_order = keys[0], keys[0].rows()
    target = _target(keys, before)
    if matched * matched <= size * len(in_order):  # sorting the few matches beats walking to them
        ordered = rows_of(match)
        _sort(ordered, keys)
        end = bisect_left(ordered, target, key=lambda r: tuple(k.rank_of(r) for k in keys))
        return ordered[max(0, end - size):end]
    flags = flags_of(match, row_count)
    start = bisect_left(in_order, target[0], key=first.rank.__getitem__)
    end = bisect_right(in_order, target[0], key=first.rank.__getitem__)
    tied = [r for r in compress(islice(in_order, start, end), map(flags.__getitem__, islice(in_order, start, end)))
            if tuple(k.rank_of(r) for k in keys) < target]
    earlier = in_order[:start][::-1]
    walk = chain(tied, compress(earlier, map(flags.__getitem__, earlier)))
    taken = list(islice(walk, size))
    if taken:
        last = first.rank[taken[-1]]
        taken += takewhile(lambda r: first.rank[r] == last, walk)
    _sort(taken, keys)
    return taken[max(0, len(taken) - size):]


def ranked(codes, n: int, descending: bool) -> array:
    """Per row id, the rank of its value (codes index n sorted distinct values; -1: none, ranked last)."""
    if descending:
        return array("q", (n if c < 0 else n - 1 - c for c in codes))
    return array("q", (n if c < 0 else c for c in codes))


class Field:
    """One keyword, number or date field: its distinct values in sorted order and the rows holding each
    value (one slice of `holders` per value), and, for a value held by one row in 32 or more (every
    value of a field with few values), those rows as a set, which is then no bigger than their ids."""

    def __init__(self, rows, size: int, by_id: array, text: bool):
        self.size, self.by_id, self.text = size, by_id, text
        values, self.bounds, self.holders = [], array("q", [0]), array("q")
        for value, joined in rows:  # rows come ordered by value
            values.append(value)
            self.holders.extend(map(int, joined.split(",")))
            self.bounds.append(len(self.holders))
        self.values = values if text else array("d", values)
        self.sets = {code: bits_of(self._holders(code), size) for code in range(len(values))
                     if (self.bounds[code + 1] - self.bounds[code]) * 32 >= size}
        self._keys: dict[tuple[str, bool], SortKey] = {}

    def _holders(self, code: int) -> array:
        return self.holders[self.bounds[code]:self.bounds[code + 1]]

    def rows_with(self, values) -> int:
        codes = []
        for value in set(values):
            code = bisect_left(self.values, value)
            if code < len(self.values) and self.values[code] == value:
                codes.append(code)
        return self._rows(codes)

    def rows_between(self, low, high) -> int:
        return self._rows(self._codes_between(low, high))

    def _codes_between(self, low, high) -> range:
        """The codes of the values from low to high (None: unbounded)."""
        if low != low or high != high:  # NaN: no value compares with it (bisect would take it for "any")
            return range(0)
        start = 0 if low is None else bisect_left(self.values, low)
        end = len(self.values) if high is None else bisect_right(self.values, high)
        return range(start, end)

    def _rows(self, codes) -> int:
        found, sparse = 0, []
        for code in codes:
            if code in self.sets:
                found |= self.sets[code]
            else:
                sparse.append(self._holders(code))
        return found | bits_of(chain.from_iterable(sparse), self.size) if sparse else found

    def counts(self, match: int, size: int) -> list[tuple[str, int]]:
        """Values by count under the match, most first, ties by value (as OpenSearch orders buckets)."""
        flags = None
        found = []
        for code in range(len(self.values)):
            if code in self.sets:
                n = (self.sets[code] & match).bit_count()
            else:
                if flags is None:
                    flags = flags_of(match, self.size)
                n = sum(map(flags.__getitem__, self._holders(code)))
            if n:
                found.append((-n, code))
        found.sort()
        return [(self.values[code], -n) for n, code in found[:size]]

    def sort_key(self, agg: str, descending: bool, within=None) -> SortKey:
        """Rows ranked by their smallest (agg="min") or largest value; with `within` (a Range), of their values in
        it only, those with none ranked last."""
        codes_in = range(len(self.values)) if within is None else self._codes_between(
            None if within.gte is None else float(within.gte), None if within.lte is None else float(within.lte))
        cached = (agg, descending, codes_in.start, codes_in.stop)
        if cached not in self._keys:
            codes = array("q", [-1]) * self.size
            holders = self.holders[self.bounds[codes_in.start]:self.bounds[codes_in.stop]]
            spans = map(sub, islice(self.bounds, codes_in.start + 1, codes_in.stop + 1),
                        islice(self.bounds, codes_in.start, codes_in.stop))
            code_per_holder = array("q", chain.from_iterable(map(repeat, codes_in, spans)))
            if agg == "max":  # the last code written to a row stays: its largest, or its smallest
                run_all(map(codes.__setitem__, holders, code_per_holder))
            else:
                run_all(map(codes.__setitem__, reversed(holders), reversed(code_per_holder)))
            rank = ranked(codes, len(self.values), descending)
            self._keys[cached] = SortKey(rank, self.values, descending, self.text, self.by_id)
        return self._keys[cached]


class Columns:
    """The live row ids and ids of one physical index, and its fields loaded on first use."""

    def __init__(self, db, t: str, generation):
        self.db, self.t, self.generation = db, t, generation
        rows = db.execute(f'SELECT rid, id FROM "{t}_docs" ORDER BY id').fetchall()
        self.size = (max(r for r, _ in rows) + 1) if rows else 1
        self.ids = [i for _, i in rows]  # sorted, so an id's position is its rank
        self.live_by_id = by_id = array("q", map(itemgetter(0), rows))
        self.live = bits_of(by_id, self.size)
        id_rank = array("q", [-1]) * self.size
        run_all(map(id_rank.__setitem__, by_id, range(len(rows))))
        self.by_id = SortKey(id_rank, self.ids, descending=False, text=True, by_id=by_id)
        self._fields: dict[str, Field] = {}
        self._text: Text | None = None

    def id_of(self, row: int) -> str:
        return self.ids[self.by_id.rank[row]]

    def row_of(self, doc_id: str) -> int | None:
        """The live row of an id, None if no document has it."""
        i = bisect_left(self.ids, doc_id)
        return self.live_by_id[i] if i < len(self.ids) and self.ids[i] == doc_id else None

    def text(self) -> Text:
        if self._text is None:
            self._text = Text(self.db, self.t, self.size)
        return self._text

    def keyword(self, field: str) -> Field:
        return self._field(field, "kw")

    def number(self, field: str) -> Field:
        return self._field(field, "num")

    def _field(self, field: str, table: str) -> Field:
        if field not in self._fields:
            self._fields[field] = Field(self.db.execute(
                f'SELECT value, group_concat(rid) FROM "{self.t}_{table}" WHERE field = ? GROUP BY value '
                'ORDER BY value', (field,)), self.size, self.live_by_id, text=table == "kw")
        return self._fields[field]
