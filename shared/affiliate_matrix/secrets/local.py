"""Secrets in a local JSON file (mode 0600), with Vault's versioning and check-and-set.

For quick local use a secret can also come from the environment, read-only, as version 0:
AMX_SECRET__CONNECTIONS__AWIN='{"api_token": "…"}' is the secret at path connections/awin. A variable
stands for one path only: a path of lowercase letters and digits, single hyphens between them (`-` is
written `_`, `/` is `__`). Any other path (`aw_x`, `Aw-x`, `aw--x`) would share its variable with another
(`aw-x`'s, `aw/x`'s), so one connection could read another's secret: for those, a set variable is refused.
"""

import fcntl
import json
import os
import re
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from affiliate_matrix.config import SECRET_ENV_PREFIX
from affiliate_matrix.errors import ConflictError, DamagedData, InvalidInput, NotFoundError
from affiliate_matrix.secrets import Secret, SecretMetadata, SecretStore, check_custom_metadata, check_path


# The paths an environment variable can name one-to-one (see the module's docstring).
_ENV_PATH = r"[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*"  # compiled by re when a variable holds a secret


class LocalSecretStore(SecretStore):
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _locked(self):
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict:
        try:
            state = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError as exc:  # truncated or hand-edited: never guess, never overwrite it
            raise DamagedData(f"the secrets file {self.path}", str(exc), self._REMEDY) from None
        if not isinstance(state, dict) or not all(
                isinstance(entry, dict) and isinstance(entry.get("versions"), dict) and "current_version" in entry
                for entry in state.values()):
            raise DamagedData(f"the secrets file {self.path}", "not a mapping of secret paths to their versions",
                              self._REMEDY)
        return state

    _REMEDY = ("restore it from a backup; or move it aside to start with no secrets (API tokens and stored "
               "credentials are then lost: create them again with amx tokens create and amx keys add)")

    def check(self) -> None:
        self._load()  # a damaged file stops the command or function at start, with one line

    def _save(self, state: dict) -> None:
        """Whole or not at all. A write that fails (a full disk) removes its partial copy: it holds every secret,
        and left behind it would keep the disk full. The bytes are synced before the rename and the folder after
        it, so a power loss leaves the old file or the new one, never an empty one."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".secrets-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(state, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    @staticmethod
    def _from_env(path: str) -> dict | None:
        name = SECRET_ENV_PREFIX + path.upper().replace("/", "__").replace("-", "_")
        raw = os.environ.get(name)
        if raw is None:
            return None
        if not re.fullmatch(_ENV_PATH, path):
            raise InvalidInput(f"{name} cannot hold the secret {path!r}: it would name other paths too; an environment "
                               "variable holds only a path of lowercase letters and digits with single hyphens "
                               "between them (connections/awin-main); store this one in the secret file")
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise InvalidInput(f"environment secret for {path!r} must be a JSON object of strings")
        return {str(k): str(v) for k, v in data.items()}

    def read(self, path, version=None, *, outage_copy=True):  # a local file keeps no copies
        check_path(path)
        entry = self._load().get(path)
        if entry is None:
            env = self._from_env(path)
            if env is not None and version in (None, 0):
                return Secret(path, env, 0)
            raise NotFoundError(f"secret {path!r} not found")
        version = version or entry["current_version"]
        meta = entry["versions"].get(str(version))
        if meta is None or meta["destroyed"]:
            raise NotFoundError(f"secret {path!r} version {version} not found or destroyed")
        return Secret(path, dict(meta["data"]), version)

    def write(self, path, data, *, cas=None):
        check_path(path)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise InvalidInput(f"secret {path!r} must be a mapping of strings")
        with self._locked():
            state = self._load()
            entry = state.get(path, {"current_version": 0, "versions": {}, "custom_metadata": {}})
            if cas is not None and cas != entry["current_version"]:
                raise ConflictError(f"secret {path!r} is at version {entry['current_version']}, not {cas}")
            version = entry["current_version"] + 1
            entry["versions"][str(version)] = {"data": data, "created_time": datetime.now(UTC).isoformat(),
                                               "destroyed": False}
            entry["current_version"] = version
            state[path] = entry
            self._save(state)
        return version

    def list(self, folder):
        prefix = check_path(folder.rstrip("/")) + "/"
        names = {p[len(prefix):].split("/")[0] + ("/" if "/" in p[len(prefix):] else "")
                 for p in self._load() if p.startswith(prefix)}
        return sorted(names)

    def metadata(self, path):
        entry = self._load().get(check_path(path))
        if entry is None:
            raise NotFoundError(f"secret {path!r} not found")
        versions = {int(n): {"created_time": m["created_time"], "destroyed": m["destroyed"]}
                    for n, m in entry["versions"].items()}
        return SecretMetadata(entry["current_version"], versions, dict(entry["custom_metadata"]))

    def set_custom_metadata(self, path, custom):
        with self._locked():
            state = self._load()
            entry = state.setdefault(check_path(path), {"current_version": 0, "versions": {}, "custom_metadata": {}})
            entry["custom_metadata"] = check_custom_metadata(custom)
            self._save(state)

    def remove(self, path):
        with self._locked():
            state = self._load()
            if state.pop(check_path(path), None) is not None:
                self._save(state)

    def destroy(self, path, versions):
        with self._locked():
            state = self._load()
            entry = state.get(check_path(path))
            for n in versions:
                if entry and str(n) in entry["versions"]:
                    entry["versions"][str(n)].update(destroyed=True, data={})
            self._save(state)
