"""Object store in a local directory: the embedded default.

Writes and deletes go under an exclusive flock on the key's lock file (one of 256, chosen by a
hash of the key), so comparing the ETag and acting on it is one step for every thread and every
process on the directory (`amx up` runs each function as its own process). Data goes to a
temporary file, synced, renamed into place, so a reader never sees half a file, nor a crash an empty one.
"""

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from affiliate_matrix.errors import ConflictError, NotFoundError
from affiliate_matrix.storage import ObjectStore, StoredObject, check_conditional_delete, check_key, etag_of


_NAME_MAX = 255  # bytes in a file name, on every common file system


def _file_name(part: str, limit: int) -> str:
    """The file name of a key's part. S3 takes a key of up to 1,024 bytes in one part; a file name is at most 255
    bytes (an object's own, 249: its metadata file is named ".<name>.meta"). A longer part is named by its start
    and its hash, joined by "~", which no key has (check_key), so it is no other key's name; the listing reads the
    key back from the object's metadata. Parts that fit keep their names, so the files already written stay."""
    if len(part) <= limit:
        return part
    return f"{part[:100]}~{hashlib.sha256(part.encode()).hexdigest()}"


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path):
        self.root = Path(root)
        self._locks = self.root / ".locks"
        _make_folders(self._locks)

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

    def _path(self, key: str) -> Path:
        *folders, name = check_key(key).split("/")
        return self.root.joinpath(*(_file_name(part, _NAME_MAX) for part in folders),
                                  _file_name(name, _NAME_MAX - len("..meta")))

    def _meta_path(self, key: str) -> Path:
        path = self._path(key)
        return path.with_name(f".{path.name}.meta")

    def put(self, key, data, *, content_type="application/octet-stream", if_match=None, if_none_match=False):
        path = self._path(key)
        etag = etag_of(data)
        with self._locked(key):
            current = self._etag(key)
            if if_none_match and current is not None:
                raise ConflictError(f"object {key!r} already exists")
            if if_match is not None and current != if_match.strip('"'):
                raise ConflictError(f"object {key!r} changed: ETag {current!r} is not {if_match!r}")
            _make_folders(path.parent)
            # Both files are written whole before either is renamed into place: a write that fails (a full disk)
            # changes neither, where the content type renamed first would have been served with the old bytes.
            meta = self._staged(path, json.dumps({"etag": etag, "content_type": content_type, "key": key}).encode())
            try:
                staged = self._staged(path, data)
            except BaseException:
                os.unlink(meta)
                raise
            os.replace(meta, self._meta_path(key))
            os.replace(staged, path)
            _sync_folder(path.parent)
        return etag

    @staticmethod
    def _staged(path: Path, data: bytes) -> str:
        """`data` in a temporary file beside `path`, to be renamed onto it; none is left when the write fails.
        Its bytes are on the disk before it is renamed: else a crash could leave the rename done and the bytes not,
        publishing an empty file."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
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
            return etag_of(self._path(key).read_bytes())
        except (FileNotFoundError, IsADirectoryError):
            return None

    def get(self, key):
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise NotFoundError(f"object {key!r} not found") from None
        try:
            content_type = json.loads(self._meta_path(key).read_bytes())["content_type"]
        except (FileNotFoundError, ValueError, KeyError):
            content_type = "application/octet-stream"
        return StoredObject(key, data, etag_of(data), content_type)

    def head(self, key):
        return self._etag(key)

    def list(self, prefix="") -> Iterator[str]:
        keys = []
        *folders, _ = prefix.split("/")  # walked from the prefix's folder: not the whole store for rules/ on every event
        plain = all(part and not part.startswith(".") and _file_name(part, _NAME_MAX) == part for part in folders)
        for dirpath, dirnames, filenames in os.walk(self.root.joinpath(*folders) if plain else self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = os.path.relpath(dirpath, self.root)
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if "~" in key:  # a long part's file name: the key is in its metadata
                    key = self._key_of(Path(dirpath) / name)
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
                    if self._path(key).stat().st_mtime >= before.timestamp():
                        continue
                except FileNotFoundError:
                    continue  # deleted meanwhile
                for path in (self._path(key), self._meta_path(key)):
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
            for path in (self._path(key), self._meta_path(key)):
                path.unlink(missing_ok=True)


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
