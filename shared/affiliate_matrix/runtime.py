"""The ports one process uses, built from settings on first use and checked as they are built.

A function's start (`start`) loads and validates its settings, so a bad setting fails at start-up
with one line naming it, and builds only the ports its first request uses (the programs function's
index and token store, say): scaled to zero, every start is paid by whoever is waiting, and an
event-only function's first request is Knative's readiness probe. Its other ports (the S3, Vault or
OpenSearch clients, the Broker) are built by the first work that uses them; a backend that is
misconfigured or unreachable then fails that request with the same ConfigError naming the setting. A backend
that answers overloaded or not ready (BackendUnavailable) is no misconfiguration: at start it is logged and the
function starts all the same; each request that uses it builds it again, answered 503 with Retry-After until then."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from affiliate_matrix.config import Settings, load_settings, variable
from affiliate_matrix.errors import BackendUnavailable, ConfigError, DamagedData
from affiliate_matrix.observability import configure_logging, get_logger

if TYPE_CHECKING:  # each port loads when it is first used
    from affiliate_matrix.events import EventBus
    from affiliate_matrix.search import SearchIndex
    from affiliate_matrix.secrets import SecretStore
    from affiliate_matrix.storage import ObjectStore


class Runtime:
    def __init__(self, function: str, settings: Settings | None = None):
        self.function = function
        self.settings = load_settings() if settings is None else settings  # None: a start, read and checked now
        configure_logging(function, fmt=self.settings.log_format, level=self.settings.log_level)

    @cached_property
    def store(self):
        store = open_object_store(self.settings)
        store.check()
        return store

    @cached_property
    def index(self):
        index = open_search_index(self.settings)
        index.check()
        return index

    @cached_property
    def secrets(self):
        secrets = open_secret_store(self.settings)
        secrets.check()
        return secrets

    @cached_property
    def flags(self):
        from affiliate_matrix.flags import FlagReader

        seed = None
        if self.settings.flags_file is not None:
            def seed(store):  # the environment's flags become the document when there is none; validated, so loaded late
                from affiliate_matrix.flag_config import seed_from_file

                seed_from_file(store, self.settings.flags_file)

        return FlagReader(lambda: self.store, seed=seed)

    @cached_property
    def bus(self):
        return open_event_bus(self.settings)


def start(function: str, *ports: str) -> Runtime:
    """For a function module's import: load its settings and build and check the ports its first request uses,
    or exit with one clear line."""
    try:
        runtime = Runtime(function)
        for port in ports:
            try:
                getattr(runtime, port)
            except BackendUnavailable as exc:  # overloaded or not ready: it passes, so the function starts, and
                # the port is built again by the next request that uses it (a 503 with Retry-After until then)
                get_logger().warning("start.backend_unavailable", port=port, error=str(exc))
    except ConfigError as exc:
        if variable("log_format") == "json":  # read as the settings read it: they may be what failed to load
            configure_logging(function, fmt="json")  # (its lines carry `function`)
            get_logger().error("start.configuration_error", error=str(exc))
        else:
            print(f"{function}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except DamagedData as exc:
        print(f"{function}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return runtime  # frozen for the worker's fork by amx-function (server.py), which imported this


# The work the request being served leaves for after its answer: the HTTP layer (handlers.serve) sets a fresh list
# for each request and runs what it holds once the answer is sent; None when no request is being served.
AFTER_ANSWER: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_answer", default=None)


def after_answer(work: Callable[[], None]) -> None:
    """Run `work` once the answer to the request being served has been sent, so the caller does not wait for it;
    at once when no request is being served (the CLI, an event's work, a test calling the domain code)."""
    pending = AFTER_ANSWER.get()
    if pending is None:
        work()
    else:
        pending.append(work)


# The folders the embedded backends and `amx up` make in the data dir: the tree of ours that is made private.
OUR_FOLDERS = ("objects", "logs", "oidc", "dead-letters")
TREE_REPAIRED = ".folders-0700"  # written once every folder of ours in the data dir is made 0700


def data_dir(settings) -> Path:
    """The embedded backends' folder, made 0700 whatever the umask, and so is every folder made for it: it holds
    secrets.json (the API tokens' records), and in a folder another user may write to they could rename any file
    and put their own in its place."""
    path = Path(settings.data_dir)
    for folder in reversed([p for p in (path, *path.parents) if not p.exists()]):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile, by another process: its maker's to set
        except OSError as exc:
            raise ConfigError("AMX_DATA_DIR", f"{path} cannot be made: {folder}: {exc.strerror}") from None
        folder.chmod(0o700)  # mkdir's mode goes through the umask
    if not path.is_dir():
        raise ConfigError("AMX_DATA_DIR", f"{path} is not a folder")
    if _repair(path):
        _repair_tree(path)
    return path


def _repair(path: Path) -> bool:
    """A data dir an older version made under umask 0 is 0777: made 0700 when opened. Only one of ours that
    others may write to: not a shared folder with the sticky bit (/tmp), nor one of another user's. True when the
    data dir is ours (so is the tree of it _repair_tree repairs)."""
    mode = path.stat()
    if mode.st_uid != os.geteuid() or mode.st_mode & stat.S_ISVTX:
        return False
    if mode.st_mode & 0o022:
        path.chmod(0o700)
    return True


def _repair_tree(path: Path) -> None:
    """The folders of ours in the data dir (OUR_FOLDERS and everything under them) an older version made 0777 under
    umask 0 are made 0700, once: TREE_REPAIRED records it, so a start does not walk every raw page's folder again
    (folders made since are made 0700). Each folder is changed through its own descriptor, and symbolic links are
    not followed, so nothing outside the tree is touched; a folder of another user's is named in the log and left."""
    marker = path / TREE_REPAIRED
    if marker.exists():
        return
    problems: list[str] = []

    def unreadable(error: OSError) -> None:
        if not isinstance(error, FileNotFoundError):  # removed while walked: nothing to repair
            problems.append(f"{error.filename}: {error.strerror}")

    for name in OUR_FOLDERS:
        try:
            for folder, _, _, fd in os.fwalk(path / name, onerror=unreadable):
                mode = os.fstat(fd)
                if mode.st_uid != os.geteuid():
                    problems.append(f"{folder}: owned by user {mode.st_uid}")
                elif mode.st_mode & 0o022:
                    os.fchmod(fd, 0o700)
        except FileNotFoundError:
            continue  # not made (yet): nothing to repair
    if problems:  # repaired as far as it could be; tried again at the next open
        from affiliate_matrix.observability import get_logger

        get_logger().warning("data_dir.folders_not_private", problems=problems[:20],
                             remedy="remove or chown them: they are in the data dir, and not ours")
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
    except OSError:
        pass  # a read-only data dir: walked again at the next open


# Which adapter each port gets: the port packages define the interface, the adapters implement it,
# and only this module knows both (each adapter is imported when chosen, so no function pays for another's).
def open_object_store(settings) -> ObjectStore:
    if settings.object_store == "s3":
        from affiliate_matrix.storage.s3 import S3ObjectStore

        return S3ObjectStore.from_settings(settings)
    from affiliate_matrix.storage.local import LocalObjectStore

    return LocalObjectStore(data_dir(settings) / "objects")


def open_search_index(settings) -> SearchIndex:
    if settings.search == "opensearch":
        from affiliate_matrix.search.opensearch import OpenSearchIndex

        return OpenSearchIndex.from_settings(settings)
    from affiliate_matrix.search.sqlite import SqliteSearchIndex

    return SqliteSearchIndex(data_dir(settings) / "search.sqlite3", prefix=settings.index_prefix)


def open_secret_store(settings) -> SecretStore:
    if settings.secrets == "vault":
        from affiliate_matrix.secrets.vault import VaultSecretStore

        return VaultSecretStore.from_settings(settings)
    from affiliate_matrix.secrets.local import LocalSecretStore

    return LocalSecretStore(data_dir(settings) / "secrets.json")


def open_event_bus(settings) -> EventBus:
    if settings.events == "http":
        from affiliate_matrix.events.http import HttpBus

        return HttpBus.from_settings(settings)
    from affiliate_matrix.events.inprocess import InProcessBus

    return InProcessBus()
