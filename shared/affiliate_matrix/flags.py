"""Feature flags at run time: every HTTP function evaluates them per request for the caller and
reads the document (flags/flags.json, see flag_config.py) as it is stored now: the first flag a
request asks checks the document's ETag (one HEAD request) and reads it again only when it
changed, so a change is live at the next request, without a restart and without trusting a copy
for a while. In the cluster each overlay ships its flags as the amx-flags ConfigMap
(manifests/overlays/<env>/flags.json, mounted at AMX_FLAGS_FILE); it seeds the document when the
store has none, so an environment starts with its own flags.

A boolean flag is on or off; a percentage flag is on for that share of subjects, bucketed by a
hash of (flag, subject) so the same token always gets the same answer. An allow-list of token
or connection ids turns a flag on for them whatever else it says. Evaluation reads plain JSON
(the document is validated when written), so no model is built on a request's path.
"""

import hashlib
import json
import threading
from contextvars import ContextVar
from collections.abc import Callable

from affiliate_matrix.errors import NotFoundError

FLAGS_KEY = "flags/flags.json"
# The flags the code reads, and what they do.
KNOWN = {
    "quality_ranking": "GET /programs without words or a sort ranks by quality score instead of id.",
}


def bucket(name: str, subject: str) -> float:
    """Where a subject falls for a flag, in [0, 100): deterministic, independent across flags."""
    digest = hashlib.sha256(f"{name}\x00{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def is_on(config: dict, name: str, subject: str | None) -> bool:
    """`config` is the document as JSON: {"flags": {name: {kind, enabled, percentage, allow}}}."""
    flag = config.get("flags", {}).get(name)
    if flag is None:
        return False
    if subject is not None and subject in flag.get("allow", ()):
        return True
    if not flag.get("enabled", False):
        return False
    return flag.get("kind", "boolean") == "boolean" or (
        subject is not None and bucket(name, subject) < flag.get("percentage", 0.0))


class FlagReader:
    """The document as stored now, from the store `open_store` gives (called on the first read, so a request that
    reads no flag, a /healthz, does not open the store on a cold start): each read asks the store for the document's
    ETag and reads the document again only when it changed. A copy is never trusted for a while: a flag set by any
    process is seen by the next request that asks one (as rules are: rules.store.current_rules)."""

    def __init__(self, open_store, seed: Callable[[object], None] | None = None):
        """seed(store) runs once before the first read (the caller's: the validated document is flag_config's)."""
        self.open_store, self.seed = open_store, seed
        self._read: tuple[str | None, dict] = (None, {})  # (ETag, document) last read; replaced whole, never edited
        self._lock = threading.Lock()

    def config(self) -> dict:
        if self.seed is not None:
            with self._lock:
                if self.seed is not None:
                    self.seed(self.open_store())
                    self.seed = None
        store = self.open_store()
        etag = store.head(FLAGS_KEY)
        known, config = self._read
        if etag == known:
            return config
        found = None
        if etag is not None:
            try:
                found = store.get(FLAGS_KEY)
            except NotFoundError:  # deleted since the HEAD
                pass
        self._read = (found.etag, json.loads(found.data)) if found else (None, {})  # none: no flag on
        return self._read[1]


class RequestFlags:
    """What a handler asks: is this flag on for this request's subject? The document is read (its ETag checked) when
    the request asks its first flag, once for the request: a request that asks none costs no request to the store."""

    def __init__(self, read: Callable[[], dict], subject: str | None):
        self.read, self.subject, self._config = read, subject, None

    def on(self, name: str) -> bool:
        if name not in KNOWN:
            raise KeyError(f"unknown flag {name!r}: declare it in flags.KNOWN")
        if self._config is None:
            self._config = self.read()
        return is_on(self._config, name, self.subject)


_current: ContextVar[RequestFlags] = ContextVar("flags", default=RequestFlags(dict, None))


def bind(read: Callable[[], dict], subject: str | None) -> RequestFlags:
    """The request's flags for `subject`, from `read` (FlagReader.config; `dict` for none on)."""
    flags = RequestFlags(read, subject)
    _current.set(flags)
    return flags


def current() -> RequestFlags:
    return _current.get()
