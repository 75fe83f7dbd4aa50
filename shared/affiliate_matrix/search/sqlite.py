"""Search index in one SQLite file with FTS5: the embedded default.

Per physical index: a documents table, an FTS5 table over the text fields, and two narrow
tables of (doc, field, value) for keyword and numeric values, all written in one transaction.
Searches read those tables into memory once per index generation (`columns.py`) and filter, count
facets, score and sort there; `fts.py` expands typos and lets FTS5 match words the in-memory text column cannot.
Aliases and specs live in two small tables beside them.

Each process uses a connection it opened itself: SQLite's locks are a process's own, and a connection carried across
fork() into a child reads and writes there holding none of them (SQLite's How To Corrupt, §2.6:
https://www.sqlite.org/howtocorrupt.html#_carrying_an_open_database_connection_across_a_fork_). A connection is
closed before a fork (gunicorn's master opens the index when it imports the function, to check it at start, then forks
the worker) and at exit, and the next use opens one.
"""

import atexit
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from affiliate_matrix.errors import BackendUnavailable, DamagedData, InvalidInput, NotFoundError, malformed_cursor
from affiliate_matrix.search import (
    EXACT_BOOST, MAX_PAGE, MOVED_INDEX, BulkResult, Hit, IndexSpec, IndexStatus, Landings, SearchIndex, SearchQuery,
    SearchResult, Versioned, begun_join, begun_word, check_migration, cursor_backward, cursor_point, decode_cursor, document_times,
    encode_cursor, exact_value, expansions, kept_for_rollback, lease_taken, migration_label, move_records, narrowed,
    document_stems, joined_words, paired, ranges_of, searched_phrases, stem_of, upgraded, utc_time, validate_query,
    whole_value,
)
from affiliate_matrix.search.columns import Columns, ScoreKey, sorted_page, walked_page, walked_page_before
from affiliate_matrix.search.fts import fts_clauses, fts_match, near, plain, read_vocabulary

_CHUNK = 1000


# How FTS5 splits and folds an index's text into terms (with search.narrowed, what a document's text is written as):
# part of what an index version's documents are written with (indices.rendered). A word is a run of letters, marks and
# digits, as OpenSearch's pattern and search.words have it: by default unicode61 cut a word at its vowel signs and
# viramas ("हिन्दी" was "ह", "न" and "द").
TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* M* N*'"


# A stemmed index's stems (search.document_stems) go in an FTS5 column of their own (STEMS_COLUMN, not a spec field's
# name: those have no "-"), each behind STEM_MARK, so a stem is a term no word is: a query's word matches its own
# term and typos as before, and its stem as the one term STEM_MARK + stem. Its bm25 share is added to a word's own, so
# a document holding the word exactly scores above one holding only its stem. The mark is a letter narrowed spells in
# ASCII ("þ" is "th"), so no indexed or query word holds it, and one FTS5 keeps as it is (no accent, lower case).
STEMS_COLUMN = '"word-stems"'
STEM_MARK = "þ"


def marked_stem(word: str) -> list[str]:
    """The FTS5 term of a query's word's stem, as a list of it (none for a word not stemmed: search.stem_of)."""
    stem = stem_of(word)
    return [] if stem is None else [STEM_MARK + stem]


def _table(physical: str) -> str:
    return physical.replace("-", "_")


def _epoch(value) -> float:
    """A date a query compares with (as validate_query gives it: ISO 8601 in UTC) in seconds, as dates are stored."""
    return utc_time(value).timestamp()


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@contextmanager
def _damage_named(path: str):
    try:
        yield
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            # the write lock held past BUSY_TIMEOUT_S (a migration's copy holds it whole): a retry later will do
            raise BackendUnavailable(f"the search index {path} is busy: {exc}", cause="the search index is busy "
                                     "with another write (a migration?)", retry_after=30) from None
        if code not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            raise
        raise DamagedData(f"the search index {path}", str(exc),
                          "stop what has it open (`amx down`: a running function keeps reading the file it opened, "
                          "moved or not), move it aside (keep it: the change feed, the rules' activations and "
                          "alerts, the redirects of moved ids, the metrics and the query analytics are only in it and "
                          "in a backup), then `amx index restore --key NAME` the newest backup `amx index backup` took "
                          "(`amx index restore` alone names those stored, newest first; `--from DIR` for one in a "
                          "directory), and `amx replay --all` to bring the programs up to "
                          "date from the stored pages, API answers and discovery batches, with no network; with no "
                          "backup, the replay rebuilds the programs alone and the rest starts empty") from None


def _rows_with(columns, kind: str, field: str, values: list) -> int:
    """The rows (a set, columns.py) whose field holds any of the values."""
    if kind in ("number", "date"):
        return columns.number(field).rows_with([_epoch(v) if kind == "date" else float(v) for v in values])
    return columns.keyword(field).rows_with([("true" if v else "false") if isinstance(v, bool) else str(v)
                                             for v in values])


def _boosted(scores: dict[int, float], exact: int) -> dict[int, float]:
    """The scores with EXACT_BOOST added to those of the rows in `exact` (a set of row ids)."""
    if exact:
        from affiliate_matrix.search.rowsets import rows_of

        for row in rows_of(exact):
            if row in scores:
                scores[row] += EXACT_BOOST
    return scores


class _Connection(sqlite3.Connection):
    """Corruption of the file (SQLITE_CORRUPT, SQLITE_NOTADB) surfaces as DamagedData naming it, and a write lock held
    past BUSY_TIMEOUT_S (SQLITE_BUSY) as BackendUnavailable: a 503 with a Retry-After, an event delivered again."""

    path = ""

    def execute(self, *args):
        with _damage_named(self.path):
            return super().execute(*args)

    def executemany(self, *args):
        with _damage_named(self.path):
            return super().executemany(*args)


_OPENED: weakref.WeakSet = weakref.WeakSet()  # the indexes this process has made


def _close_each() -> None:
    for index in list(_OPENED):
        index.close()


# Before a fork, so that the child opens its own connection: one the parent still held open there (even unused)
# made SQLite in the child count the parent's locks as the child's, and its own connection then took none. At exit,
# so that the last process out checkpoints the WAL into the file and removes it, as SQLite does on the last close: a
# process that ends does not reliably free its objects (a function's are frozen before the fork, server.py), and one
# that ended with its connection open left its writes in the WAL for the next start to read whole and checkpoint.
# Registered at import, it runs after what registers later (atexit's order), such as the query log's last write.
os.register_at_fork(before=_close_each)
atexit.register(_close_each)


class SqliteSearchIndex(SearchIndex):
    BUSY_TIMEOUT_S = 30  # how long a write waits for another's lock before it is BackendUnavailable

    def __init__(self, path: Path, prefix: str = "amx"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self._lock = threading.RLock()
        self._db: _Connection | None = None
        self._columns: dict = {}
        _OPENED.add(self)
        self.db.execute("PRAGMA journal_mode=WAL")  # kept in the file: every later connection is in WAL mode
        self.db.execute("CREATE TABLE IF NOT EXISTS amx_index(physical TEXT PRIMARY KEY, spec TEXT NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS amx_alias(alias TEXT PRIMARY KEY, physical TEXT NOT NULL)")
        # A counter per physical index, bumped by every write: caches key on it.
        self.db.execute("CREATE TABLE IF NOT EXISTS amx_generation(tbl TEXT PRIMARY KEY, generation INTEGER NOT NULL)")
        # Which file this is, drawn when it is made: a file made again at the path (a damaged one moved aside and
        # rebuilt) counts its generations from 0 again, past the ETags and facet snapshots kept of the old one.
        self.db.execute("CREATE TABLE IF NOT EXISTS amx_file(incarnation TEXT NOT NULL)")
        # A relevance sort's ranking kept for its later pages (views.py): n orders them, oldest first.
        self.db.execute("CREATE TABLE IF NOT EXISTS amx_view(n INTEGER PRIMARY KEY AUTOINCREMENT, "
                        "view TEXT NOT NULL UNIQUE, name TEXT NOT NULL, tbl TEXT NOT NULL, query TEXT NOT NULL, "
                        "ids TEXT NOT NULL, scores BLOB NOT NULL, whole INTEGER NOT NULL)")
        self.incarnation = self._incarnation()
        self._vocab: dict[str, tuple] = {}

    @property
    def db(self) -> _Connection:
        """This process's connection to the file, opened by the first use after a fork or close()."""
        db = self._db
        if db is None:
            with self._lock:
                if self._db is None:
                    self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                               timeout=self.BUSY_TIMEOUT_S, factory=_Connection)
                    self._db.path = str(self.path)
                    self._db.execute("PRAGMA synchronous=NORMAL")
                db = self._db
        return db

    def close(self) -> None:
        """Close the connection (the next use opens another). The last connection to the file to close checkpoints
        the WAL into it and removes it."""
        with self._lock:
            db, self._db = self._db, None
            self._columns = {}  # they read through the connection they were made with
            if db is not None:
                db.close()

    def _incarnation(self) -> str:
        """The file's id, drawn by the first to open it: a write only then (an insert waits for the write lock, which
        a migration holds for its whole copy)."""
        read = "SELECT incarnation FROM amx_file ORDER BY rowid LIMIT 1"
        row = self.db.execute(read).fetchone()
        if row is None:
            self.db.execute("INSERT INTO amx_file SELECT ? WHERE NOT EXISTS (SELECT 1 FROM amx_file)",
                            (os.urandom(16).hex(),))
            row = self.db.execute(read).fetchone()
        return row[0]

    # -- lifecycle -------------------------------------------------------------------------

    def ensure_index(self, spec: IndexSpec) -> str:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                physical = self._ensure(spec)
                self.db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        return physical

    def _ensure(self, spec: IndexSpec) -> str:
        """ensure_index inside the caller's transaction."""
        current = self.db.execute("SELECT physical FROM amx_alias WHERE alias = ?",
                                  (f"{self.prefix}-{spec.name}",)).fetchone()
        if current is not None:  # another version is live: moving to this one is migrate()'s job
            return current[0]
        self._create(spec)
        self.db.execute("INSERT OR IGNORE INTO amx_alias VALUES (?, ?)",
                        (f"{self.prefix}-{spec.name}", spec.physical(self.prefix)))
        return spec.physical(self.prefix)

    def _roll_back(self) -> None:
        """What a failed write began, if it is still open: SQLite has rolled back by itself on a full disk
        (SQLITE_FULL), an I/O error or an interrupt, and a ROLLBACK then would raise in place of the real error."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _create(self, spec: IndexSpec) -> None:
        """The tables of one physical index (inside the caller's transaction)."""
        physical = spec.physical(self.prefix)
        t = _table(physical)
        text_fields = [f for f, kind in spec.fields.items() if kind == "text"]
        self.db.execute(f'CREATE TABLE IF NOT EXISTS "{t}_docs"(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)')
        self.db.execute(f'CREATE TABLE IF NOT EXISTS "{t}_kw"(rid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL)')
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_kw_fv" ON "{t}_kw"(field, value, rid)')
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_kw_r" ON "{t}_kw"(rid, field)')
        self.db.execute(f'CREATE TABLE IF NOT EXISTS "{t}_num"(rid INTEGER NOT NULL, field TEXT NOT NULL, value REAL NOT NULL)')
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_num_fv" ON "{t}_num"(field, value, rid)')
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_num_r" ON "{t}_num"(rid, field)')
        if text_fields:
            columns = ", ".join(text_fields + [STEMS_COLUMN] * spec.stemmed)
            self.db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{t}_fts" USING fts5({columns}, '
                            f"tokenize=\"{TOKENIZE}\")")
        self.db.execute("INSERT OR IGNORE INTO amx_index VALUES (?, ?)", (physical, json.dumps(spec.to_json())))

    def _drop(self, spec: IndexSpec) -> None:
        """The tables of the spec's physical index, if any (inside the caller's transaction). Its generation is kept:
        the next write bumps it on, so no cache keyed on it takes a new document set for one it saw before."""
        t = _table(spec.physical(self.prefix))
        for table in ("docs", "kw", "num", "fts"):
            self.db.execute(f'DROP TABLE IF EXISTS "{t}_{table}"')
        self.db.execute("DELETE FROM amx_view WHERE tbl = ?", (t,))
        self.db.execute("DELETE FROM amx_index WHERE physical = ?", (spec.physical(self.prefix),))

    def generation(self, name):
        t, _ = self._resolve(name)
        row = self.db.execute("SELECT generation FROM amx_generation WHERE tbl = ?", (t,)).fetchone()
        return f"{self.incarnation}:{t}:{row[0] if row else 0}"

    def status(self, name):
        _, spec = self._resolve(name)
        rows = self.db.execute("SELECT spec FROM amx_index").fetchall()
        versions = sorted(IndexSpec.from_json(json.loads(r[0])).version for r in rows
                          if json.loads(r[0])["name"] == name)
        return IndexStatus(name, spec.version, versions)

    @contextmanager
    def _lease(self, name: str, holder: dict):
        """The index's lease: an exclusive flock on a file beside the index file, taken without waiting (a migration
        waiting for the write lock another holds for its whole copy would wait past SQLite's timeout), and released by
        the system when its process ends, however it ends: no stale lease to clear. The file holds what the holder
        says of itself (lease_holder), for one refused. (Its name is a migration's: one of code before rollbacks took
        it, in a rolling update, takes the same.)"""
        import fcntl

        with open(f"{self.path}.migrate-{name}.lock", "a+") as lease:
            try:
                fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lease.seek(0)
                try:
                    held = json.loads(lease.read())
                except ValueError:  # taken but not written yet
                    held = None
                raise lease_taken(name, held) from None
            try:
                lease.truncate(0)
                lease.write(json.dumps(holder))
                lease.flush()
                yield
            finally:
                fcntl.flock(lease, fcntl.LOCK_UN)

    def _migrate(self, spec: IndexSpec) -> int:
        new_t = _table(spec.physical(self.prefix))
        result = BulkResult()
        with self._lock:
            # One write transaction: readers keep reading the old version (WAL), writers wait for the swap.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # What is live looked up under the write lock: a migration another process finished meanwhile is seen
                check_migration(self.status(spec.name), spec)
                old_t, _ = self._resolve(spec.name)
                self._drop(spec)  # a version a rollback left: its documents are not the live ones any more
                self._create(spec)
                landings = Landings(spec)
                for rows in self._stored(old_t):
                    self._write_docs(new_t, spec, [doc for old_id, stored in rows
                                                   for doc in upgraded(spec, [json.loads(stored)], result)
                                                   if landings.first(old_id, doc)], result)
                if not result.errors:  # documents an upgrade landed on one id, combined over the first one written
                    together = landings.together(lambda doc_id: json.loads(self.db.execute(
                        f'SELECT doc FROM "{new_t}_docs" WHERE id = ?', (doc_id,)).fetchone()[0]), result)
                    self._write_docs(new_t, spec, together, BulkResult(errors=result.errors))  # copied already
                    result.indexed += landings.combined()
                if result.errors:
                    raise InvalidInput(f"migration of {spec.name!r} to v{spec.version} aborted before the swap: "
                                       f"{len(result.errors)} documents do not fit, e.g. {result.errors[0]}")
                self._record_moves(spec, landings.moves())  # in the swap's transaction: both, or neither
                self._bump(new_t)
                self.db.execute("UPDATE amx_alias SET physical = ? WHERE alias = ?",
                                (spec.physical(self.prefix), f"{self.prefix}-{spec.name}"))
                self.db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        return result.indexed

    def _stored(self, t: str) -> Iterator[list[tuple[str, str]]]:
        """Every document of the physical index `t`, _CHUNK at a time in the order written: (id, its stored JSON)."""
        last = 0
        while rows := self.db.execute(f'SELECT rid, id, doc FROM "{t}_docs" WHERE rid > ? ORDER BY rid LIMIT ?',
                                      (last, _CHUNK)).fetchall():
            last = rows[-1][0]
            yield [(doc_id, stored) for _, doc_id, stored in rows]

    def documents(self, name):
        t, _ = self._resolve(name)
        for rows in self._stored(t):
            yield from (json.loads(stored) for _, stored in rows)

    def live_spec(self, name):
        return self._resolve(name)[1]

    def _record_moves(self, spec: IndexSpec, moved: dict[str, str]) -> None:
        """The ids a migration moved, recorded in MOVED_INDEX (search.move_records) inside the caller's transaction."""
        records, ended = move_records(spec.name, moved, migration_label(spec.name, spec.version))
        if not records:
            return
        self._ensure(MOVED_INDEX)
        t, moves_spec = self._resolve(MOVED_INDEX.name)
        # The records they end, and those they write over, kept for a rollback (kept_for_rollback); the ended then gone
        replaced = self.get_many(MOVED_INDEX.name, [*ended, *(record["id"] for record in records)])
        written = BulkResult()
        self._write_docs(t, moves_spec, kept_for_rollback(spec.name, spec.version, replaced), written)
        for record_id in set(ended) & set(replaced):
            self._delete_doc(t, moves_spec, record_id)
        self._write_docs(t, moves_spec, records, written)
        if written.errors:
            raise InvalidInput(f"migration of {spec.name!r} to v{spec.version} aborted before the swap: its moved "
                               f"ids could not be recorded, e.g. {written.errors[0]}")
        self._bump(t)

    def _point_back(self, name, version):
        with self._lock:
            self.db.execute("UPDATE amx_alias SET physical = ? WHERE alias = ?",
                            (f"{self.prefix}-{name}-v{version}", f"{self.prefix}-{name}"))

    def _resolve(self, name: str) -> tuple[str, IndexSpec]:
        alias = f"{self.prefix}-{name}"
        row = self.db.execute("SELECT a.physical, i.spec FROM amx_alias a JOIN amx_index i USING (physical) "
                              "WHERE a.alias = ?", (alias,)).fetchone()
        if row is None:
            raise NotFoundError(f"index {name!r} does not exist (alias {alias!r})")
        return _table(row[0]), IndexSpec.from_json(json.loads(row[1]))

    # -- writes ----------------------------------------------------------------------------

    def bulk_upsert(self, name, docs, *, refresh=False) -> BulkResult:
        return self._write(name, ((doc, None) for doc in docs), conditional=False)

    def write_if_unchanged(self, name, docs, *, refresh=False) -> BulkResult:
        return self._write(name, docs, conditional=True)

    def _write(self, name: str, docs, conditional: bool) -> BulkResult:
        """(document, version) pairs written _CHUNK at a time, each chunk in a transaction of its own."""
        result, chunk, written = BulkResult(), [], False
        for pair in docs:
            chunk.append(pair)
            if len(chunk) == _CHUNK:
                self._write_chunk(name, chunk, result, conditional)
                chunk, written = [], True
        if chunk:
            self._write_chunk(name, chunk, result, conditional)
        elif not written:
            self._resolve(name)  # nothing to write: an index that does not exist is refused all the same
        return result

    def _write_chunk(self, name: str, docs: list, result: BulkResult, conditional: bool) -> None:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # The alias's table looked up under the write lock: a migration swapping the alias (another process)
                # is wholly before this write, which goes to the new table, or wholly after, which copies it.
                t, spec = self._resolve(name)
                # (document, version): the version is the stored text read, compared under the lock
                docs = [doc for doc, version in docs
                        if not conditional or self._unchanged(t, spec, doc, version, result)]
                self._write_docs(t, spec, docs, result)
                self._bump(t)
                self.db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise

    def _write_docs(self, t: str, spec: IndexSpec, docs: list[dict], result: BulkResult) -> None:
        text_fields = [f for f, kind in spec.fields.items() if kind == "text"]
        columns = ", ".join(text_fields + [STEMS_COLUMN] * spec.stemmed)
        for doc in docs:
            doc_id = doc.get(spec.id_field) if isinstance(doc, dict) else None
            try:
                kw, num = self.index_values(spec, doc)
            except (TypeError, ValueError) as exc:
                result.errors.append((str(doc_id), str(exc)))
                continue
            rid = self.db.execute(
                f'INSERT INTO "{t}_docs"(id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc '
                "RETURNING rid", (doc_id, json.dumps(doc, default=str))).fetchone()[0]
            self.db.execute(f'DELETE FROM "{t}_kw" WHERE rid = ?', (rid,))
            self.db.execute(f'DELETE FROM "{t}_num" WHERE rid = ?', (rid,))
            self.db.executemany(f'INSERT INTO "{t}_kw" VALUES (?, ?, ?)', [(rid, f, v) for f, v in kw])
            self.db.executemany(f'INSERT INTO "{t}_num" VALUES (?, ?, ?)', [(rid, f, v) for f, v in num])
            if text_fields:
                self.db.execute(f'DELETE FROM "{t}_fts" WHERE rowid = ?', (rid,))
                texts = [" ".join(map(str, _as_list(doc.get(f) or []))) for f in text_fields]
                values = [paired(narrowed(text)) for text in texts]
                if spec.stemmed:
                    values.append(" ".join(STEM_MARK + stem for stem in document_stems(texts).split()))
                marks = ", ".join("?" * (len(values) + 1))
                self.db.execute(f'INSERT INTO "{t}_fts"(rowid, {columns}) VALUES ({marks})', (rid, *values))
            result.indexed += 1

    def _unchanged(self, t: str, spec: IndexSpec, doc, version: str | None, result: BulkResult) -> bool:
        """Whether `doc` is stored as read (its text then, None: absent); if not, it is a conflict."""
        doc_id = doc.get(spec.id_field) if isinstance(doc, dict) else None
        row = self.db.execute(f'SELECT doc FROM "{t}_docs" WHERE id = ?', (doc_id,)).fetchone()
        if (row[0] if row else None) == version:
            return True
        result.conflicts.append(str(doc_id))
        return False

    def _bump(self, t: str) -> None:
        self.db.execute("INSERT INTO amx_generation VALUES (?, 1) "
                        "ON CONFLICT(tbl) DO UPDATE SET generation = generation + 1", (t,))

    @staticmethod
    def index_values(spec: IndexSpec, doc) -> tuple[set, set]:
        """The (field, value) pairs to index; raises like a strict mapping would on a bad document (a TypeError or a
        ValueError naming the field): also how a backup's documents are checked before any is restored."""
        if not isinstance(doc, dict) or not isinstance(doc.get(spec.id_field), str) or not doc[spec.id_field]:
            raise ValueError(f"document has no string {spec.id_field!r}")
        unknown = set(doc) - set(spec.fields)
        if unknown:
            raise ValueError(f"fields not in the {spec.name} mapping: {sorted(unknown)}")
        kw, num = set(), {(field, when.timestamp()) for field, when in document_times(spec, doc)}
        for field, kind in spec.fields.items():
            if doc.get(field) is None or kind == "stored":
                continue
            for value in _as_list(doc[field]):
                if value is None:
                    continue
                if kind == "keyword":
                    if isinstance(value, (dict, list)):
                        raise TypeError(f"field {field!r} is keyword, got {type(value).__name__}")
                    kw.add((field, str(value)))
                elif kind == "bool":
                    if not isinstance(value, bool):
                        raise TypeError(f"field {field!r} is bool, got {value!r}")
                    kw.add((field, "true" if value else "false"))
                elif kind == "number":
                    if isinstance(value, bool):
                        raise TypeError(f"field {field!r} is a number, got {value!r}")
                    num.add((field, float(value)))
                elif kind == "text" and (whole := whole_value(value)) is not None:
                    kw.add((f"{field}.raw", whole))
        return kw, num

    def get(self, name, doc_id):
        t, _ = self._resolve(name)
        row = self.db.execute(f'SELECT doc FROM "{t}_docs" WHERE id = ?', (doc_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, name, doc_ids):
        t, _ = self._resolve(name)
        ids, found = list(dict.fromkeys(doc_ids)), {}
        for start in range(0, len(ids), MAX_PAGE):
            found |= self._docs(t, ids[start:start + MAX_PAGE])
        return found

    def get_versioned(self, name, doc_ids):
        t, _ = self._resolve(name)
        ids, found = list(dict.fromkeys(doc_ids)), {}
        for start in range(0, len(ids), MAX_PAGE):
            page = ids[start:start + MAX_PAGE]
            rows = self.db.execute(f'SELECT id, doc FROM "{t}_docs" WHERE id IN ({", ".join("?" * len(page))})', page)
            found |= {i: Versioned(json.loads(d), d) for i, d in rows}  # the stored text is the version
        return found

    def delete(self, name, doc_id, *, refresh=False):  # seen by the next search whatever `refresh` says
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                t, spec = self._resolve(name)  # under the write lock, as a write's (_write_chunk)
                deleted = self._delete_doc(t, spec, doc_id)
                if deleted:
                    self._bump(t)
                self.db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        return deleted

    def _delete_doc(self, t: str, spec: IndexSpec, doc_id: str) -> bool:
        """Delete one document inside the caller's transaction; whether it was there."""
        row = self.db.execute(f'DELETE FROM "{t}_docs" WHERE id = ? RETURNING rid', (doc_id,)).fetchone()
        if row:
            for table in ("kw", "num"):
                self.db.execute(f'DELETE FROM "{t}_{table}" WHERE rid = ?', row)
            if "text" in spec.fields.values():
                self.db.execute(f'DELETE FROM "{t}_fts" WHERE rowid = ?', row)
        return row is not None

    # -- reads -----------------------------------------------------------------------------

    def search(self, name, query: SearchQuery) -> SearchResult:
        t, spec = self._resolve(name)
        query = validate_query(spec, query)
        after = decode_cursor(query)
        phrases = searched_phrases(query.text)
        if phrases and "text" not in spec.fields.values():
            raise InvalidInput(f"index {name!r} has no text fields to search")
        with self._lock:  # one read snapshot: the columns, the matches, the view and the page's documents agree
            self.db.execute("BEGIN")
            try:
                result, ranking = self._search(name, t, spec, query, phrases, after)
            finally:
                self.db.execute("COMMIT")
            if ranking is not None and (view := self._keep_view(name, t, query, *ranking)):
                last = result.hits[-1]
                result = result._replace(next_cursor=encode_cursor(query, [last.score, last.id], view))
        return result

    def _keep_view(self, name: str, t: str, query: SearchQuery, ids: list, scores: list, whole: bool) -> str | None:
        """Keep a relevance sort's ranking for its later pages (views.py): its id, None where the index is busy
        with another write past VIEW_WAIT_MS (a migration's copy), whose pages then read the live index."""
        from affiliate_matrix.search.views import VIEW_WAIT_MS, keep

        self.db.execute(f"PRAGMA busy_timeout = {VIEW_WAIT_MS}")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                view = keep(self.db, name, t, query.fingerprint(), ids, scores, whole)
                self.db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        except BackendUnavailable:
            from affiliate_matrix.observability import get_logger

            get_logger().warning("search.no_point_in_time", index=name, reason="the index is busy with another write")
            return None
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {self.BUSY_TIMEOUT_S * 1000}")
        return view

    def _search(self, name, t, spec, query, phrases, after) -> tuple[SearchResult, tuple | None]:
        """The answer, and the ranking to keep as a view (views.py) when it is a paged relevance sort's first page
        with a next one: its ids and scores (the first VIEW_DEPTH), whether they are every hit."""
        text_words = [word for phrase in phrases for word in phrase]
        columns = self._columns_of(t)
        match = columns.live  # a set of row ids (columns.py): `&` intersects
        scorer = None  # the text's bm25 scores of matched rows
        started = False  # whether a word also matches the terms it begins (a start scores nothing)
        if text_words:
            vocabulary = self._vocabulary(t)
            most = expansions(len(text_words), sum(kind == "text" for kind in spec.fields.values()))
            groups = [sorted({*near(w, vocabulary, most), *joins, *(marked_stem(w) if spec.stemmed else [])})
                      for w, joins in zip(text_words, joined_words(phrases))]
            plainly = all(map(plain, text_words))  # (so no run of a script written without spaces: no phrase)
            begun, joined = begun_word(query, text_words), begun_join(query, phrases)
            if plainly and begun is None and joined is None:
                scorer = columns.text()
                match &= scorer.match(groups)
            else:  # a word FTS5's tokenizer would change (accents, joined words), a phrase, or a start: FTS5 matches
                wanted = fts_clauses(phrases, groups, begun, joined=joined)
                matched, scorer = fts_match(self.db, t, wanted, columns.size)
                match &= matched
                if started := wanted != (whole := fts_clauses(phrases, groups, begun, starts=False)):
                    # a start matched scores nothing: the scores are the whole words' alone
                    scorer = columns.text() if plainly else fts_match(self.db, t, [" OR ".join(whole)],
                                                                      columns.size)[1]
        for field, values in query.filters.items():
            match &= _rows_with(columns, spec.fields[field], field, values)
        for field, ranges in query.ranges.items():
            convert, column, within = _epoch if spec.fields[field] == "date" else float, columns.number(field), 0
            for rng in ranges_of(ranges):
                within |= column.rows_between(None if rng.gte is None else convert(rng.gte),
                                              None if rng.lte is None else convert(rng.lte))
            match &= within
        unposted = match  # before the post filters: a post-filtered field's facet is counted under the others
        posted = {field: _rows_with(columns, spec.fields[field], field, values)
                  for field, values in query.post_filters.items()}
        for rows in posted.values():
            match &= rows

        exact = 0  # matched rows whose exact field is the text: their scores are raised by EXACT_BOOST
        if text_words and query.exact:  # a few rows, looked up by the (field, value) index: no column is loaded
            from affiliate_matrix.search.rowsets import bits_of

            fields = [f"{field}.raw" for field in query.exact]
            found = self.db.execute(f'SELECT rid FROM "{t}_kw" WHERE field IN ({", ".join("?" * len(fields))}) '
                                    "AND value = ?", (*fields, exact_value(query.text)))
            exact = bits_of([rid for (rid,) in found], columns.size) & match
        total = match.bit_count()
        relevance = not query.sort and text_words and query.size
        backward = after is not None and cursor_backward(query)  # the page before the cursor's hit
        if backward and relevance:  # no search gives one: a relevance sort's pages are a view's, paged forward
            raise malformed_cursor()
        need, viewed, view, point = query.size, [], None, None  # viewed: the hits (id, score) the view gives this page
        if relevance and after is not None and (point := cursor_point(query)):
            from affiliate_matrix.search.views import page, read

            view = read(self.db, point, name, t, query.fingerprint())
        if view is not None:  # the hits it ranked that are here and match still, their documents as they are now
            def matched(doc_id: str) -> bool:
                row = columns.row_of(doc_id)
                return row is not None and (match >> row) & 1 == 1

            viewed, more = page(view, after, matched, query.size)
            if len(viewed) < need and not view.whole:  # past the VIEW_DEPTH hits it kept: the live index's after
                need, after = need - len(viewed), [view.scores[-1], view.ids[-1]]
            else:
                need = 0
        keys, scores = [], None
        if relevance and need:  # ranked by score: every match is scored (a count, none)
            scores = scorer.scores(groups, match)
            if started:  # a hit that only begins a word holds none of its terms: scored without it
                from affiliate_matrix.search.rowsets import rows_of

                scores = dict.fromkeys(rows_of(match), 0.0) | scores
            scores = _boosted(scores, exact)
            keys.append(ScoreKey(scores))
        for key in query.sort:
            kind, agg, descending = spec.fields[key.field], "min" if key.order == "asc" else "max", key.order == "desc"
            if kind in ("number", "date"):
                keys.append(columns.number(key.field).sort_key(agg, descending, key.within))
            else:
                column = columns.keyword(f"{key.field}.raw" if kind == "text" else key.field)
                keys.append(column.sort_key(agg, descending))
        keys.append(columns.by_id)
        ranking = None
        # a cursor's page reads one hit more: whether another page follows (the total counts the hits before it too,
        # so a last page that was full gave a cursor to an empty one)
        past = 1 if after is not None else 0
        if not need:
            shown = []
        elif backward:  # one hit more: whether another page comes before this one
            shown = walked_page_before(match, total, columns.size, keys, after, need + 1)
        elif isinstance(keys[0], ScoreKey):
            if query.paged and after is None and not query.offset and total > need:  # a next page: keep a view
                from affiliate_matrix.search.views import VIEW_DEPTH

                ranked = sorted_page(list(scores), keys, None, 0, VIEW_DEPTH)
                ids = list(map(columns.ids.__getitem__, map(columns.by_id.rank.__getitem__, ranked)))  # (id_of's)
                ranking = ids, list(map(scores.__getitem__, ranked)), len(ranked) == total
                shown = ranked[:need]
            else:  # (past a view's hits: none it gave this page again)
                given = {i for i, _ in viewed}
                shown = [r for r in sorted_page(list(scores), keys, after, query.offset, need + past + len(viewed))
                         if columns.id_of(r) not in given][:need + past]
        else:
            shown = walked_page(match, total, columns.size, keys, after, query.offset, need + past)
        if backward:  # (the cursor's hit follows it)
            precedes, follows, shown = len(shown) > need, True, shown[-need:] if need else []
        else:
            precedes = after is not None or query.offset > 0
            follows = len(shown) > need if past else query.offset + query.size < total
            shown = shown[:need]
        if scorer is not None and scores is None and shown:  # sorted by fields: only the page's hits are scored
            scores = _boosted(scorer.scores_of(groups, shown), exact)
        ids = [columns.id_of(r) for r in shown]
        docs = self._docs(t, [i for i, _ in viewed] + ids)
        hits = [Hit(i, score, docs[i]) for i, score in viewed]
        hits += [Hit(i, None if scores is None else scores[r], docs[i]) for i, r in zip(ids, shown)]
        next_cursor = None
        if view is not None and not need:  # the page is the view's
            if len(viewed) == query.size and (more or not view.whole):
                next_cursor = encode_cursor(query, [viewed[-1][1], viewed[-1][0]], view.id)
        elif shown and (backward or len(shown) == need and follows):
            next_cursor = encode_cursor(query, [key.cursor_value(shown[-1]) for key in keys])
        previous_cursor = None
        if shown and precedes and not relevance:
            previous_cursor = encode_cursor(query, [key.cursor_value(shown[0]) for key in keys], backward=True)
        facets = {}
        for field in query.facets:
            under = match
            if field in posted:
                under = unposted
                for other, rows in posted.items():
                    if other != field:
                        under &= rows
            counts = columns.keyword(field).counts(under, query.facet_size)
            facets[field] = [(v == "true", n) for v, n in counts] if spec.fields[field] == "bool" else counts
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor,
                            view_gone=bool(relevance and after is not None and point and view is None),
                            previous_cursor=previous_cursor), ranking

    def _columns_of(self, t: str):
        """The index's columns in memory, rebuilt when its generation has moved (a write, by any process)."""
        generation = self.db.execute("SELECT generation FROM amx_generation WHERE tbl = ?", (t,)).fetchone()
        cached = self._columns.get(t)
        if cached is None or cached.generation != generation:
            cached = self._columns[t] = Columns(self.db, t, generation)
        return cached

    def _vocabulary(self, t: str) -> dict[str, list[str]]:
        """The indexed terms by first letter, cached until the next write (the generation changes)."""
        generation = self.db.execute("SELECT generation FROM amx_generation WHERE tbl = ?", (t,)).fetchone()
        cached = self._vocab.get(t)
        if cached is None or cached[0] != generation:
            cached = self._vocab[t] = (generation, read_vocabulary(self.db, t))
        return cached[1]

    def _docs(self, t: str, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        rows = self.db.execute(f'SELECT id, doc FROM "{t}_docs" WHERE id IN ({", ".join("?" * len(ids))})', ids)
        return {i: json.loads(d) for i, d in rows}
