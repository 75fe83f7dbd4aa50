"""`amx index backup` and `amx index restore`: every index the code writes (indices.index_specs) as a logical dump, so
what only the index holds (the change feed, the records of moved ids, the rules' activations and alerts, the metrics
and the query analytics) comes back with the programs, on either backend.

A backup is a folder (a local directory, or keys under backups/index/<name>/ in the object store): per index, its
documents as JSON Lines in parts of about PART_BYTES (each part is one put: the object store takes whole bodies), and
manifest.json, written last (a backup without one was cut short), naming each index's live version and its spec, the
digest of what that version's documents are written with (indices.rendered_digest, when it is the code's version), and
each part's documents, size and SHA-256.

A restore checks the whole backup before it writes anything: the manifest's shape, each part's bytes against its
digest, each line as JSON read from outside is (json_input), each document against its index's spec as the embedded
index's strict mapping checks one (SqliteSearchIndex.index_values), no id twice; and for a backup of an older version,
each document as the migration will upgrade it (the code's upgrade, then its mapping, and the documents the upgrade
lands on one id combined: search.upgraded, Landings), so a document the migration would refuse refuses the restore
before any index is written, not after some were. Only then does it write, into indexes that are empty (or, with
replace, whose documents become the backup's). A backup of an older version is restored at that version, then migrated
as `amx index migrate` migrates (SearchIndex.migrate): so only where the index does not exist yet (a new data directory
or index prefix), since no live index can go back to an older version.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from affiliate_matrix.errors import ConflictError, DamagedData, InvalidInput, NotFoundError, ObjectTooLarge
from affiliate_matrix.search import (MOVED_INDEX, BulkResult, FieldType, IndexSpec, Landings, SearchQuery,
                                    rollback_begun, upgraded)
from affiliate_matrix.wording import counted

FORMAT, FORMAT_VERSION = "amx-index-backup", 1
MANIFEST = "manifest.json"
STORE_PREFIX = "backups/index/"
PART_BYTES = 32 * 1024 * 1024  # a part is closed once past this
MAX_LINE = 16 * 1024 * 1024  # a document's line, as an import's (exchange.MAX_LINE)
# What a restore reads of each object, refused unread past it (storage's get, max_bytes): a backup is as large as the
# index, so it is read a part at a time, each part no larger than its manifest says (at most its last line past
# PART_BYTES), and the manifest no larger than any backup writes: each part adds about 175 bytes to it (its name, counts
# and digest), so 4 MiB lists some 24,000 parts, 700 GiB of documents, past what any index of this product holds.
MAX_PART = PART_BYTES + MAX_LINE
MAX_MANIFEST = 4 * 1024 * 1024
BATCH = 1000  # documents written at a time
# A backup's name in the object store: one key segment (no "/", no leading "." or "-": no other folder, no option)
NAME = r"[A-Za-z0-9][A-Za-z0-9_.=-]{0,99}"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}-[0-9]{1,6}\.jsonl$")
    documents: int = Field(ge=0)
    bytes: int = Field(ge=0, le=MAX_PART)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _Index(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    spec: dict
    digest: str | None = Field(pattern=r"^[0-9a-f]{16}$")
    documents: int = Field(ge=0)
    parts: list[_Part] = Field(max_length=100_000)


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    format: Literal["amx-index-backup"]
    format_version: int
    taken_at: str = Field(max_length=40)
    indices: dict[str, _Index] = Field(min_length=1, max_length=100)


# -- where a backup is -------------------------------------------------------------------------------------------------

class Folder:
    """A backup in a local directory: written into a directory beside it, renamed onto it once whole."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.where = str(path)
        self._writing: Path | None = None

    def begin(self) -> None:
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise InvalidInput(f"--to {self.where} exists and is not an empty directory: a backup goes to a new one")
        self._writing = self.path.parent / f".{self.path.name}.{secrets.token_hex(4)}.partial"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writing.mkdir()

    def write(self, name: str, data: bytes) -> None:
        (self._writing / name).write_bytes(data)

    def end(self, whole: bool) -> None:
        if whole:
            os.replace(self._writing, self.path)  # onto an empty directory, or none
        else:
            shutil.rmtree(self._writing, ignore_errors=True)

    def read(self, name: str, most: int) -> bytes:
        try:  # without blocking: a FIFO is refused below, not waited on for ever
            fd = os.open(self.path / name, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            raise NotFoundError(f"{self.where}/{name}") from None
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):  # a FIFO, a device (/dev/zero: size 0, no end), a directory
                raise DamagedData(f"the backup {self.where}", f"{name} is not a file", _RETAKE)
            with open(fd, "rb", closefd=False) as file:
                data = file.read(most + 1)  # read no further than its manifest says it holds
        finally:
            os.close(fd)
        if len(data) > most:
            raise DamagedData(f"the backup {self.where}", f"{name} is {max(status.st_size, len(data)):,} bytes, past "
                                                          f"the {most:,} it may hold", _RETAKE)
        return data


class Stored:
    """A backup in the object store, under backups/index/<name>/: each part put only where none is (never over
    another backup's), the manifest last."""

    def __init__(self, store, name: str, where: str | None = None):
        if not isinstance(name, str) or not re.fullmatch(NAME, name):
            raise InvalidInput(f"--key {str(name)[:120]!r} is not a backup's name: letters, digits and _ . = - (at "
                               "most 100, the first a letter or digit), no '/'")
        self.store, self.name, self.prefix = store, name, f"{STORE_PREFIX}{name}/"
        self.where = where or self.prefix

    def begin(self) -> None:
        if self.store.head(self.prefix + MANIFEST) is not None:
            raise InvalidInput(f"a backup named {self.name} exists already ({self.where}): give another --key")

    def write(self, name: str, data: bytes) -> None:
        content_type = "application/json" if name == MANIFEST else "application/x-ndjson"
        try:
            self.store.put(self.prefix + name, data, content_type=content_type, if_none_match=True)
        except ConflictError:
            raise InvalidInput(f"{self.where}{name} exists already (a backup named {self.name} was cut short there): "
                               "give another --key") from None

    def end(self, whole: bool) -> None:
        pass  # a backup cut short has no manifest: restore refuses it, saying so

    def read(self, name: str, most: int) -> bytes:
        try:
            return self.store.get(self.prefix + name, max_bytes=most).data  # refused unread past `most`
        except ObjectTooLarge as exc:
            size = f"{exc.size:,} bytes, " if exc.size is not None else ""
            raise DamagedData(f"the backup {self.where}", f"{name} is {size}past the {most:,} it may hold",
                              _RETAKE) from None


_RETAKE = "restore another backup, or take one again from the index it was taken from"


# -- backup ------------------------------------------------------------------------------------------------------------

def back_up(index, place) -> dict:
    """Every index's documents into `place` (Folder or Stored), the manifest last; returns the manifest."""
    from affiliate_matrix.indices import index_specs, rendered_digest

    specs = index_specs()
    for name in specs:  # the moved ids are mid-way to another version's: a restore would hold half a rollback
        if (begun := rollback_begun(index, name)) is not None:
            raise InvalidInput(f"a rollback of {name} from v{begun[0]} to v{begun[1]} is under way: run `amx index "
                               f"rollback {name}` to finish it, then take the backup")
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "taken_at": datetime.now(UTC).isoformat(timespec="seconds"), "indices": {}}
    place.begin()
    whole = False
    try:
        for name, code in specs.items():
            index.ensure_index(code)
            spec = index.live_spec(name)
            manifest["indices"][name] = _backed_up(index, place, spec, rendered_digest(code) if spec == code else None)
        written = json.dumps(manifest, indent=1).encode()
        if len(written) > MAX_MANIFEST:  # no index of this product is so large: but no backup is taken unrestorable
            raise InvalidInput(f"the backup's {MANIFEST} would be {len(written):,} bytes, past the {MAX_MANIFEST:,} a "
                               "restore reads: the index is larger than a backup holds")
        place.write(MANIFEST, written)
        whole = True
    finally:
        place.end(whole)
    return manifest


def _backed_up(index, place, spec: IndexSpec, digest: str | None) -> dict:
    entry = {"spec": spec.to_json(), "digest": digest, "documents": 0, "parts": []}
    lines: list[bytes] = []

    def close_part() -> None:
        data = b"".join(lines)
        part = {"name": f"{spec.name}-{len(entry['parts']) + 1}.jsonl", "documents": len(lines), "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
        place.write(part["name"], data)
        entry["parts"].append(part)
        lines.clear()

    size = 0
    for doc in index.documents(spec.name):
        try:
            line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        except UnicodeEncodeError:  # a lone surrogate: no JSON reader of ours takes it back (json_input)
            raise InvalidInput(f"{spec.name} holds document {str(doc.get(spec.id_field))[:100]!r} with a lone "
                               "surrogate, which no restore reads: delete it or write it again first") from None
        if len(line) > MAX_LINE:
            raise InvalidInput(f"{spec.name} holds document {str(doc.get(spec.id_field))[:100]!r} of {len(line):,} "
                               f"bytes, past the {MAX_LINE:,} a backup's line holds: delete it or cut it down first")
        lines.append(line)
        size += len(line)
        entry["documents"] += 1
        if size >= PART_BYTES:
            close_part()
            size = 0
    if lines:
        close_part()
    if index.status(spec.name).current != spec.version:  # its documents may be of either version
        raise InvalidInput(f"{spec.name} was migrated or rolled back while it was backed up: take the backup again")
    return entry


# -- restore -----------------------------------------------------------------------------------------------------------

def restore(index, place, *, replace: bool = False) -> tuple[dict[str, int], list[str]]:
    """The backup in `place` into `index`, checked whole first (nothing written if any of it is refused); the
    documents restored by index, and what was said along the way (migrations, indexes the backup lacks)."""
    from affiliate_matrix.indices import index_specs, rendered_digest

    manifest = read_manifest(place)
    specs = index_specs()
    said = [f"{name}: not in the backup, left as it is" for name in specs if name not in manifest.indices]
    backed = {}  # name -> (the backup's spec, its entry)
    for name, entry in manifest.indices.items():
        spec, code = IndexSpec.from_json(entry.spec), specs[name]
        if spec.version > code.version:
            raise InvalidInput(f"the backup's {name} is v{spec.version}, newer than this code's v{code.version}: "
                               f"restore it with a build whose {name} is at v{spec.version} or later")
        if spec.version == code.version and (spec != code or entry.digest != rendered_digest(code)):
            raise InvalidInput(f"the backup's {name} v{spec.version} was written by a build whose v{spec.version} "
                               f"differs from this one's (its fields or how its text is written): restore it with "
                               "the build that took it")
        backed[name] = spec, entry
    _check_targets(index, backed, replace)
    for name, (spec, entry) in backed.items():
        _check_documents(place, spec, entry, specs[name])
    restored = {}
    for name, (spec, entry) in backed.items():
        restored[name] = _write(index, place, spec, entry, replace)
    for name, (spec, _) in backed.items():
        if spec.version < specs[name].version:  # as `amx index migrate` moves it: the old version kept
            copied = index.migrate(specs[name])
            said.append(f"{name}: restored at v{spec.version}, now v{specs[name].version}, "
                        f"{counted(copied, 'document')} migrated")
    return restored, said


def read_manifest(place) -> _Manifest:
    try:
        raw = place.read(MANIFEST, MAX_MANIFEST)
    except NotFoundError:
        if isinstance(place, Stored) and next(iter(place.store.list(place.prefix)), None) is None:
            raise InvalidInput(f"no backup named {place.name} in the object store ({place.where}): `amx index "
                               "backup` says each one's name as it takes it") from None
        raise DamagedData(f"the backup {place.where}", f"it has no {MANIFEST}, which a backup writes last: not a "
                                                       "backup, or one cut short", _RETAKE) from None
    from affiliate_matrix.indices import index_specs
    from affiliate_matrix.json_input import json_document

    try:
        manifest = _Manifest.model_validate(json_document(raw, MANIFEST))
    except InvalidInput as exc:
        raise DamagedData(f"the backup {place.where}", str(exc), _RETAKE) from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise DamagedData(f"the backup {place.where}", f"{MANIFEST}: {'.'.join(map(str, first['loc']))}: "
                                                       f"{first['msg']}", _RETAKE) from None
    if manifest.format_version != FORMAT_VERSION:
        raise InvalidInput(f"the backup {place.where} is of format {manifest.format_version}, where this build reads "
                           f"{FORMAT_VERSION}: restore it with the build that took it")
    for name, entry in manifest.indices.items():
        problem = _entry_problem(name, entry, index_specs())
        if problem:
            raise DamagedData(f"the backup {place.where}", f"{MANIFEST}: {name}: {problem}", _RETAKE)
    return manifest


def _entry_problem(name: str, entry: _Index, specs: dict) -> str | None:
    if name not in specs:
        return f"not an index this code writes ({', '.join(specs)})"
    try:
        spec = IndexSpec.from_json(entry.spec)
        if not isinstance(spec.fields, dict) or not set(spec.fields.values()) <= set(get_args(FieldType)):
            raise ValueError("its fields are not each of a kind an index has")
        if not (isinstance(spec.version, int) and not isinstance(spec.version, bool) and 0 < spec.version < 10_000):
            raise ValueError(f"version {str(spec.version)[:20]!r} is not a whole number from 1")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"its spec cannot be read ({type(exc).__name__}: {str(exc)[:200]})"
    if spec.name != name:
        return f"its spec is of {str(spec.name)[:50]!r}"
    names = [part.name for part in entry.parts]
    if any(not part.startswith(f"{name}-") for part in names) or len(set(names)) != len(names):
        return "its parts are not named each once after it"
    if sum(part.documents for part in entry.parts) != entry.documents:
        return f"its parts hold other than its {entry.documents:,} documents"
    return None


def _live_version(index, name: str) -> int | None:
    try:
        return index.status(name).current
    except NotFoundError:
        return None


def _check_targets(index, backed: dict, replace: bool) -> None:
    """Each index the backup holds exists nowhere yet, or at the backup's version; and is empty, unless replace."""
    full = []
    for name, (spec, _) in backed.items():
        live = _live_version(index, name)
        if live is None:
            continue
        if live != spec.version:
            raise InvalidInput(f"{name} is at v{live} here and the backup holds v{spec.version}: restore it where "
                               f"{name} does not exist yet (a new data directory, or on OpenSearch a new "
                               f"AMX_INDEX_PREFIX), which restores v{spec.version} and migrates it as `amx index "
                               "migrate` does")
        index.refresh(name)
        if held := index.search(name, SearchQuery(size=0)).total:
            full.append(f"{name} holds {counted(held, 'document')}")
    if full and not replace:
        raise InvalidInput(f"the index is not empty: {', '.join(full)}; nothing was restored. Restore into an empty "
                           "index (a new data directory or index prefix), or give --replace to make those indexes "
                           "the backup's (their documents written over, those the backup lacks deleted)")


def _documents(place, spec: IndexSpec, entry: _Index) -> Iterator[tuple[str, dict]]:
    """The backup's documents of one index, each with where it is ("<part> line <n>"); each part's bytes checked
    against its manifest's digest before any of its lines is read."""
    from affiliate_matrix.json_input import json_document

    for part in entry.parts:
        try:
            data = place.read(part.name, part.bytes)
        except NotFoundError:
            raise DamagedData(f"the backup {place.where}", f"its part {part.name} is missing", _RETAKE) from None
        if len(data) != part.bytes or hashlib.sha256(data).hexdigest() != part.sha256:
            raise DamagedData(f"the backup {place.where}", f"{part.name} is not as its manifest says (its size or "
                                                           "SHA-256 differs): changed or cut short since", _RETAKE)
        lines = data.split(b"\n")
        if lines.pop() != b"" or len(lines) != part.documents:
            raise DamagedData(f"the backup {place.where}", f"{part.name} holds {len(lines):,} lines, where its "
                                                           f"manifest says {part.documents:,} documents", _RETAKE)
        for number, line in enumerate(lines, 1):
            at = f"{part.name} line {number}"
            if len(line) > MAX_LINE:
                raise InvalidInput(f"the backup {place.where}: {at} is {len(line):,} bytes, past the {MAX_LINE:,} a "
                                   "line holds; nothing was restored")
            yield at, json_document(line, f"the backup {place.where}: {at}")


def _check_documents(place, spec: IndexSpec, entry: _Index, code: IndexSpec) -> None:
    """Every document of one index as its spec takes it, each id once, and, the backup's version older than the code's
    (`code`), as the migration after the write will make it (_check_upgrades); the first one not, refused by where it
    is."""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    seen = set()
    landings = Landings(code) if spec.version < code.version else None
    for at, doc in _documents(place, spec, entry):
        try:
            SqliteSearchIndex.index_values(spec, doc)
        except (TypeError, ValueError) as exc:
            shown = doc.get(spec.id_field) if isinstance(doc, dict) else None
            raise InvalidInput(f"the backup {place.where}: {at}: document {str(shown)[:100]!r} does not fit "
                               f"{spec.name} v{spec.version} ({str(exc)[:300]}); nothing was restored") from None
        if (doc_id := doc[spec.id_field]) in seen:
            raise InvalidInput(f"the backup {place.where}: {at}: document {doc_id[:100]!r} is in it twice; nothing "
                               "was restored")
        if spec.name == MOVED_INDEX.name and doc_id.endswith("@rollback"):  # (search.begin_rollback's marker)
            raise InvalidInput(f"the backup {place.where}: {at}: {doc_id[:100]!r} says a rollback is under way, which "
                               "no backup holds (none is taken while one is): nothing was restored")
        seen.add(doc_id)
        if landings is not None:
            for now in _upgraded(place, at, spec, code, doc):
                landings.first(doc_id, now)
    if landings is not None and landings.later:
        _check_combined(place, spec, entry, code, landings)


def _upgraded(place, at: str, spec: IndexSpec, code: IndexSpec, doc: dict) -> list[dict]:
    """`doc` of the backup's older version as the migration to `code` upgrades it (search.upgraded), checked against
    `code`'s mapping; one either refuses is refused, naming the index, the document and why."""
    result = BulkResult()
    made = list(upgraded(code, [doc], result))
    if result.errors:
        raise InvalidInput(f"the backup {place.where}: {at}: {spec.name} document {result.errors[0][0][:100]!r} "
                           f"{result.errors[0][1][:400]}; nothing was restored")
    _fitting(place, code, made, lambda _: f"{at}: {spec.name} document {doc[spec.id_field][:100]!r} upgraded to "
                                          f"v{code.version}")
    return made


def _fitting(place, code: IndexSpec, docs, said) -> None:
    """Each of `docs` fits `code`'s mapping, as the migration's writes must; one that does not is refused, `said(doc)`
    naming it."""
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    for doc in docs:
        try:
            SqliteSearchIndex.index_values(code, doc)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"the backup {place.where}: {said(doc)} does not fit it ({str(exc)[:300]}); nothing was "
                               "restored") from None


def _check_combined(place, spec: IndexSpec, entry: _Index, code: IndexSpec, landings: Landings) -> None:
    """The documents the upgrade lands on one id combined as the migration combines them (Landings.together), each
    fitting `code`'s mapping. The first to land on each such id is read again (the others Landings keeps, as the
    migration does), so no more of the backup is held than the migration holds."""
    firsts = {landings.moved.get(new_id, new_id): new_id for new_id in landings.later}  # old id -> id it lands on
    stored = {}
    for at, doc in _documents(place, spec, entry):
        if doc[spec.id_field] in firsts:
            for now in _upgraded(place, at, spec, code, doc):
                stored[now[code.id_field]] = now
    result = BulkResult()
    try:
        together = landings.together(stored.__getitem__, result)
    except InvalidInput as exc:  # the code's spec combines none
        raise InvalidInput(f"the backup {place.where}: {exc}; nothing was restored") from None
    for doc_id, why in result.errors[:1]:
        raise InvalidInput(f"the backup {place.where}: {spec.name} document {doc_id[:100]!r} upgraded to "
                           f"v{code.version}: {why[:400]}; nothing was restored")
    _fitting(place, code, together, lambda one: f"{spec.name} document {one[code.id_field][:100]!r}, the documents "
                                                f"the upgrade to v{code.version} lands on it combined,")


def _write(index, place, spec: IndexSpec, entry: _Index, replace: bool) -> int:
    """One index's documents written (its version made where it did not exist); with replace, those it held that the
    backup lacks deleted. The documents were checked (_check_documents): an error here is the backend's."""
    index.ensure_index(spec)
    ids, batch, written = set(), [], 0

    def flush() -> int:
        result = index.bulk_upsert(spec.name, batch, refresh=False)
        if result.errors:
            doc_id, why = result.errors[0]
            raise InvalidInput(f"{spec.name}: the index refused document {doc_id[:100]!r} ({why[:300]}) after "
                               f"{counted(written, 'document')} of it were restored: fix the cause, then run the "
                               "restore again with --replace")
        batch.clear()
        return result.indexed

    for _, doc in _documents(place, spec, entry):
        ids.add(doc[spec.id_field])
        batch.append(doc)
        if len(batch) == BATCH:
            written += flush()
    if batch:
        written += flush()
    if replace:  # (the ids alone held: the documents may be gigabytes)
        for doc_id in [doc[spec.id_field] for doc in index.documents(spec.name) if doc[spec.id_field] not in ids]:
            index.delete(spec.name, doc_id)
    index.refresh(spec.name)
    return written
