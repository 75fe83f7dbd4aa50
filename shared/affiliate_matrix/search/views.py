"""A relevance sort's ranking kept for its later pages on the embedded index (sqlite.py): its view, as OpenSearch's
point in time is the node's.

A score is the index's statistics of the moment (bm25: the documents there are, their length), so a write between two
pages moved every score, and the live index's page after a cursor's score skipped hits that rose above it or repeated
some that sank below it. A `paged` relevance search whose first page has a next one keeps its ranking (ids and scores,
the first VIEW_DEPTH hits) in the table amx_view under a random id its cursors carry (`"p"`); the pages after it read
the next ids from there and their documents as they are now. Only the newest VIEWS_KEPT views are kept (by the order
they were made in, not by time): a cursor naming one dropped since, or none, pages the live index, as an expired point
in time does on OpenSearch.
"""

import json
import os
import sys
from array import array
from bisect import bisect_right
from collections import namedtuple

from affiliate_matrix.errors import malformed_cursor

VIEW_DEPTH = 10_000  # hits a view keeps, as a search's offset reaches: past them the live index after the last
VIEWS_KEPT = 100  # views kept, the newest: one made drops the oldest
VIEW_WAIT_MS = 2_000  # how long a view waits for another write's lock (a migration holds it for its whole copy)

# ids, best first, ties by id, and their scores (an array of doubles); whole: whether they are every hit the search had
View = namedtuple("View", "id ids scores whole")


def _doubles(scores) -> array:
    """Scores as an array of doubles in little-endian order, as a view keeps them: JSON wrote floats ~15× slower."""
    doubles = array("d", scores)
    if sys.byteorder == "big":
        doubles.byteswap()
    return doubles


def keep(db, name: str, t: str, fingerprint: str, ids: list[str], scores: list[float], whole: bool) -> str:
    """Keep a ranking (inside the caller's write transaction) and drop the views past the newest VIEWS_KEPT; its id."""
    view = os.urandom(12).hex()
    n = db.execute("INSERT INTO amx_view(view, name, tbl, query, ids, scores, whole) VALUES (?, ?, ?, ?, ?, ?, ?) "
                   "RETURNING n", (view, name, t, fingerprint, json.dumps(ids, ensure_ascii=False),
                                   _doubles(scores).tobytes(), int(whole))).fetchone()[0]
    db.execute("DELETE FROM amx_view WHERE n <= ?", (n - VIEWS_KEPT,))
    return view


def read(db, view: str, name: str, t: str, fingerprint: str) -> View | None:
    """The view a cursor names, None if it is gone (dropped, or of another version of the index). One of
    another index or query (a cursor is not signed: encode_cursor) is refused, not read: its hits are not this one's;
    so is an id of another shape than keep's, which no search made (as OpenSearch refuses a point in time it cannot
    read, and reads one of its shape that is gone as the live index)."""
    if len(view) != 24 or view.strip("0123456789abcdef"):
        raise malformed_cursor()
    row = db.execute("SELECT name, tbl, query, ids, scores, whole FROM amx_view WHERE view = ?", (view,)).fetchone()
    if row is None:
        return None
    if (row[0], row[2]) != (name, fingerprint):
        raise malformed_cursor()
    if row[1] != t:
        return None
    scores = array("d")
    scores.frombytes(row[4])
    return View(view, json.loads(row[3]), _doubles(scores), bool(row[5]))


def page(view: View, after: list, live, size: int) -> tuple[list[tuple[str, float]], bool]:
    """The view's next `size` hits (id, score) after the cursor's score and id that `live` (an id) still holds, and
    whether another follows them."""
    if (len(after) != 2 or isinstance(after[0], bool) or not isinstance(after[0], (int, float))
            or not isinstance(after[1], str)):
        raise malformed_cursor()
    ids, scores = view.ids, view.scores
    start = bisect_right(range(len(ids)), (-after[0], after[1]), key=lambda i: (-scores[i], ids[i]))
    taken = []
    for i in range(start, len(ids)):
        if live(ids[i]):
            if len(taken) == size:
                return taken, True
            taken.append((ids[i], scores[i]))
    return taken, False
