"""Object store in a local directory: the embedded default.

Writes and deletes go under an exclusive flock on the key's lock file (one of 256, chosen by a
hash of the key), so comparing the ETag and acting on it is one step for every thread and every
process on the directory (`amx up` runs each function as its own process). Data goes to a
temporary file, synced, renamed into place, so a reader never sees half a file, nor a crash an empty one.
An object is two files, its bytes and its metadata (`.<name>.meta`: content type, key), renamed one after the other;
the metadata goes first and describes the bytes before the put and the bytes after, each by its ETag, and a reader
takes the content type of the bytes it read: renaming the bytes publishes the put, so a reader between the two
renames, or after a crash there, sees the old object whole (or none, if there was none).

A staged file is named after its writer, `.tmp-<pid>@<host>~…` (the host with its pid namespace, where /proc says it):
a writer killed between its write and its rename leaves it, and the first put into a folder by each opened store
removes those there whose writer is a process of this host no longer running (never a running writer's, nor another
host's or container's, whose processes it cannot see). One named
otherwise (`.tmp-…`, staged by a version before writers were named) is kept: its writer cannot be told.

A key's capital letters are written "+" and the small letter in its file names (`Summer` is `+summer`): on a file
system that folds case (macOS's APFS, Windows' NTFS, by default) `Summer` and `summer` were one file, so two
campaigns, or two keys' records, whose names differed only by case overwrote each other, where S3 keeps both.
"""

import fcntl
import hashlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from affiliate_matrix.errors import ConflictError, NotFoundError, ObjectTooLarge
from affiliate_matrix.storage import (MAX_DOCUMENT_BYTES, ObjectStore, StoredObject, check_conditional_delete,
                                      check_key, etag_of)


_NAME_MAX = 255  # bytes in a file name, on every common file system
_OBJECT_NAME_MAX = _NAME_MAX - len("..meta")  # an object's own: its metadata file is named ".<name>.meta"
# compiled by re on first use (the functions that start on this store name no file before a request)
_CAPITAL = "[A-Z]"
_MARKED = r"\+([a-z])"
# Written once every file name in the store is as _file_name names it now (earlier versions named a part as it is).
CASE_SAFE = ".case-safe-names"
# A staged file's name: its writer's pid and host, then mkstemp's letters (no host name holds "@" or "~")
_STAGED = r"\.tmp-([1-9][0-9]{0,6})@([^@~/]+)~"  # a Linux pid is at most 4194304


def _file_name(part: str, limit: int) -> str:
    """The file name of a key's part: its capitals written "+" and the small letter, so that no two names differ
    only by case (no key has "+": check_key), and a file system that folds case keeps every key apart. S3 takes a
    key of up to 1,024 bytes in one part; a file name is at most 255 bytes. A longer name is the part's start and
    its hash, joined by "~", which no key has either, so it is no other key's name (the hash tells two parts apart
    whatever their case); the listing reads the key back from the object's metadata."""
    name = re.sub(_CAPITAL, lambda capital: "+" + capital[0].lower(), part)
    if len(name) <= limit:
        return name
    return f"{part[:100]}~{hashlib.sha256(part.encode()).hexdigest()}"


def _key_part(name: str) -> str:
    """The key's part a file name that is no hash stands for (_file_name's reverse)."""
    return re.sub(_MARKED, lambda marked: marked[1].upper(), name)


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path):
        self.root = Path(root)
        self._locks = self.root / ".locks"
        self._swept: set[Path] = set()  # folders whose dead writers' staged files this store removed (_sweep)
        _make_folders(self._locks)
        if not (self.root / CASE_SAFE).exists():
            self._rename_to_case_safe_names()

    def _rename_to_case_safe_names(self) -> None:
        """A store written before names were case-safe has its files renamed, once: each rename is atomic and the
        marker is written after the last, so a start cut short (Ctrl-C, a crash) leaves every object at its old name
        or its new one, and the next start finishes the work. Under a lock, so that two processes starting at once
        do not both rename. A new name is free: no old one has "+", and one with a hash is the hash of its key."""
        with open(self._locks / "names", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # let go of when the file is closed
            if (self.root / CASE_SAFE).exists():
                return  # renamed by the process that held the lock before
            _rename_capitals(self.root, [])
            os.close(os.open(self.root / CASE_SAFE, os.O_CREAT | os.O_WRONLY, 0o600))
            _sync_folder(self.root)

    @contextmanager
    def _locked(self, key: str):
        """flock, not fcntl record locks: those belong to the process, so two threads would share one."""
        stripe = hashlib.sha256(key.encode()).hexdigest()[:2]
        with open(self._locks / stripe, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def path_of(self, key: str) -> Path:
        """The file holding the object at `key` (what a person is shown to open it)."""
        *folders, name = check_key(key).split("/")
        return self._folder(folders) / _file_name(name, _OBJECT_NAME_MAX)

    def _folder(self, parts: list[str]) -> Path:
        return self.root.joinpath(*(_file_name(part, _NAME_MAX) for part in parts))

    def _meta_path(self, key: str) -> Path:
        path = self.path_of(key)
        return path.with_name(f".{path.name}.meta")

    def put(self, key, data, *, content_type="application/octet-stream", if_match=None, if_none_match=False):
        path = self.path_of(key)
        etag = etag_of(data)
        with self._locked(key):
            current = self._etag(key)
            if if_none_match and current is not None:
                raise ConflictError(f"object {key!r} already exists")
            if if_match is not None and current != if_match.strip('"'):
                raise ConflictError(f"object {key!r} changed: ETag {current!r} is not {if_match!r}")
            _make_folders(path.parent)
            self._sweep(path.parent)
            # Both files are written whole before either is renamed into place: a write that fails (a full disk)
            # changes neither, where the content type renamed first would have been served with the old bytes.
            record = {"etag": etag, "content_type": content_type, "key": key}
            previous = None if current in (None, etag) else _content_type(self._meta(key), current)
            if previous is not None:  # still the object's until the bytes' rename below
                record["previous"] = {"etag": current, "content_type": previous}
            meta = self._staged(path, json.dumps(record).encode())
            try:
                staged = self._staged(path, data)
            except BaseException:
                os.unlink(meta)
                raise
            os.replace(meta, self._meta_path(key))
            os.replace(staged, path)
            _sync_folder(path.parent)
        return etag

    def _sweep(self, folder: Path) -> None:
        """Remove the staged files in `folder` whose writer is gone (a process of this host no longer running: killed
        between its write and its rename), once per folder and opened store: a scan of the folder at each put would
        make a folder of many objects slow to fill. Listed before each writer is looked at, so a process that took a
        dead writer's pid since has staged no file listed."""
        if folder in self._swept:
            return
        self._swept.add(folder)
        host = _host()
        for entry in list(os.scandir(folder)):
            writer = re.match(_STAGED, entry.name)
            if writer and writer[2] == host and not _running(int(writer[1])):
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass  # removed meanwhile by another store's sweep

    @staticmethod
    def _staged(path: Path, data: bytes) -> str:
        """`data` in a temporary file beside `path`, to be renamed onto it; none is left when the write fails.
        Its bytes are on the disk before it is renamed: else a crash could leave the rename done and the bytes not,
        publishing an empty file. Named after its writer (_STAGED), for a sweep to tell a dead writer's."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{os.getpid()}@{_host()}~")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    def _etag(self, key: str) -> str | None:
        try:  # not is_file() then read: a delete between the two raised FileNotFoundError out of a HEAD
            with open(self.path_of(key), "rb") as f:
                return _etag_of_file(f)
        except (FileNotFoundError, IsADirectoryError):
            return None

    def _meta(self, key: str) -> dict:
        try:
            record = json.loads(self._meta_path(key).read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _read(self, key: str, max_bytes: int) -> StoredObject:
        try:
            with open(self.path_of(key), "rb") as f:  # a put renames another file into place: this one stays whole
                if (size := os.fstat(f.fileno()).st_size) > max_bytes:
                    raise ObjectTooLarge(key, size, max_bytes, _etag_of_file(f))
                data = f.read(max_bytes + 1)
        except (FileNotFoundError, IsADirectoryError):
            raise NotFoundError(f"object {key!r} not found") from None
        if len(data) > max_bytes:  # written to in place since its size was read (by hand: no put does)
            raise ObjectTooLarge(key, None, max_bytes, None)
        etag = etag_of(data)
        return StoredObject(key, data, etag, _content_type(self._meta(key), etag))

    def get(self, key, *, max_bytes=MAX_DOCUMENT_BYTES):
        read = self._read(key, max_bytes)
        if read.content_type is None:  # a put or two renamed between the two reads: again, where none renames
            with self._locked(key):
                read = self._read(key, max_bytes)
        # none, or not of these bytes: a metadata lost, or left by a put cut short before this version kept both
        return read if read.content_type is not None else read._replace(content_type="application/octet-stream")

    def head(self, key):
        return self._etag(key)

    def written_at(self, key):
        try:
            return datetime.fromtimestamp(self.path_of(key).stat().st_mtime, UTC)  # its last put, as remove_before reads
        except (FileNotFoundError, IsADirectoryError):
            return None

    def list(self, prefix="") -> Iterator[str]:
        keys = []
        *folders, _ = prefix.split("/")  # walked from the prefix's folder: not the whole store for rules/ on every event
        try:
            start = self._folder(check_key("/".join(folders)).split("/")) if folders else self.root
        except ValueError:  # no key has such a folder
            return iter(())
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = os.path.relpath(dirpath, self.root)
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                # a long part's file name: the key is in its metadata
                key = self._key_of(Path(dirpath) / name) if "~" in key else _key_part(key)
                if key is not None and key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    @staticmethod
    def _key_of(path: Path) -> str | None:
        try:
            return json.loads(path.with_name(f".{path.name}.meta").read_bytes())["key"]
        except (FileNotFoundError, ValueError, KeyError):  # put writes the metadata first: a put under way
            return None

    def remove_before(self, prefix, before):
        """By each file's modification time (its last put), checked again under the key's lock."""
        removed = 0
        for key in self.list(prefix):
            with self._locked(key):
                try:
                    if self.path_of(key).stat().st_mtime >= before.timestamp():
                        continue
                except FileNotFoundError:
                    continue  # deleted meanwhile
                for path in (self.path_of(key), self._meta_path(key)):
                    path.unlink(missing_ok=True)
            removed += 1
        return removed

    def delete(self, key, *, if_match=None):
        check_key(key)
        if if_match is not None:
            check_conditional_delete(key)  # as on S3, where it leaves a tombstone only the sweep of those removes
        with self._locked(key):
            if if_match is not None:
                current = self._etag(key)
                if current is None:
                    raise NotFoundError(f"object {key!r} not found")
                if current != if_match.strip('"'):
                    raise ConflictError(f"object {key!r} changed: ETag {current!r} is not {if_match!r}")
            for path in (self.path_of(key), self._meta_path(key)):
                path.unlink(missing_ok=True)


def _etag_of_file(f) -> str:
    """etag_of the file's bytes from where `f` is, read a piece at a time (a HEAD, or a get refusing a large object,
    holds no more of it)."""
    return hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def _content_type(record: dict, etag: str) -> str | None:
    """The content type `record` (an object's metadata) gives the bytes whose ETag is `etag`: the last put's, or
    those it replaces, which stay published until the put renames its bytes into place."""
    for version in (record, record.get("previous")):
        if isinstance(version, dict) and version.get("etag") == etag and isinstance(version.get("content_type"), str):
            return version["content_type"]
    return None


def _rename_capitals(folder: Path, parts: list[str] | None, hashed_above: bool = False) -> None:
    """Every file and folder under `folder` named as earlier versions named a key's part (as it is) given its
    case-safe name (_file_name), the metadata file beside its object's. `parts`: the key's parts down to `folder`,
    None under a long part's folder (whose objects' metadata holds their keys); `hashed_above`: a folder above is
    named by its hash now, so the metadata under it must hold its object's key (the listing reads it there)."""
    renamed = False
    for entry in list(os.scandir(folder)):  # read whole first: renames while reading may show or hide a name
        is_meta = entry.name.startswith(".") and entry.name.endswith(".meta")
        if entry.name.startswith(".") and not is_meta:
            continue  # the locks, a put's staged file, the marker: no key's
        part = entry.name[1:-len(".meta")] if is_meta else entry.name
        is_folder = entry.is_dir(follow_symlinks=False)
        # a long part's name (its hash tells it apart) stays as it is
        name = part if "~" in part else _file_name(part, _NAME_MAX if is_folder else _OBJECT_NAME_MAX)
        if is_folder:
            _rename_capitals(Path(entry.path), None if parts is None or "~" in part else [*parts, part],
                             hashed_above or "~" in name)
        if is_meta and parts is not None and "~" not in part and (hashed_above or "~" in name):
            _keep_key(Path(entry.path), "/".join([*parts, part]), folder / f".{name}.meta")
        elif name != part:
            os.rename(entry.path, folder / (f".{name}.meta" if is_meta else name))
        else:
            continue
        renamed = True
    if renamed:
        _sync_folder(folder)


def _keep_key(meta: Path, key: str, renamed: Path) -> None:
    """The metadata of an object now named by its hash, or under a folder that is (a part that fit a file name but not
    with its capitals marked), at `renamed` with its key, which the listing reads: written before keys were kept
    in it, it had none."""
    try:
        record = json.loads(meta.read_bytes())
    except ValueError:
        record = None
    if not isinstance(record, dict):
        record = {}  # damaged: what is read of it is its content type, and that falls back to the default
    os.replace(LocalObjectStore._staged(renamed, json.dumps({**record, "key": key}).encode()), renamed)
    if renamed != meta:
        os.unlink(meta)


def _host() -> str:
    """This host as a staged file names it: its name (as it is when it is a host name's letters, else its digest) and,
    where /proc says it, the pid namespace whose processes its pids are (two containers of one host name sharing the
    store see each other's processes only in one)."""
    host = socket.gethostname()
    host = host if re.fullmatch(r"[A-Za-z0-9.-]{1,64}", host) else hashlib.sha256(host.encode()).hexdigest()[:16]
    try:
        return f"{host}+{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:  # no /proc (macOS)
        return host


def _running(pid: int) -> bool:
    """Whether a process of this host has `pid` (one of another user's too: signal 0 is refused it, not sent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _make_folders(folder: Path) -> None:
    """`folder` and the parents it lacks, 0700: made with mkdir's default mode, under umask 0 they were 0777, and
    anyone holding one open could swap the documents in it."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by a concurrent put


def _sync_folder(folder: Path) -> None:
    """The folder's entries on the disk: the renames into it survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
