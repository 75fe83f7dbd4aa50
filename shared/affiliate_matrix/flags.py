"""Feature flags at run time: every HTTP function evaluates them per request for the caller and
reads the document (flags/flags.json, see flag_config.py) through a short cache, so a change is
live within AMX_FLAGS_TTL_S without a restart. In the cluster each overlay ships its flags as the
amx-flags ConfigMap (manifests/overlays/<env>/flags.json, mounted at AMX_FLAGS_FILE); it seeds
the document when the store has none, so an environment starts with its own flags.

A boolean flag is on or off; a percentage flag is on for that share of subjects, bucketed by a
hash of (flag, subject) so the same token always gets the same answer. An allow-list of token
or connection ids turns a flag on for them whatever else it says. Evaluation reads plain JSON
(the document is validated when written), so no model is built on a request's path.
"""

import hashlib
import json
import threading
import time
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
    """The document, re-read at most every ttl seconds, from the store `open_store` gives: it is called on the
    first read, so a request that reads no flag (a /healthz) does not open the store on a cold start."""

    def __init__(self, open_store, ttl: float, seed: Callable[[object], None] | None = None):
        """seed(store) runs once before the first read (the caller's: the validated document is flag_config's)."""
        self.open_store, self.ttl, self.seed = open_store, ttl, seed
        self._config, self._until = {}, 0.0
        self._lock = threading.Lock()

    def config(self) -> dict:
        now = time.monotonic()
        if now >= self._until:
            with self._lock:
                if now >= self._until:
                    store = self.open_store()
                    if self.seed is not None:
                        self.seed(store)
                        self.seed = None
                    try:
                        self._config = json.loads(store.get(FLAGS_KEY).data)
                    except NotFoundError:
                        self._config = {}
                    self._until = now + self.ttl
        return self._config


class RequestFlags:
    """What a handler asks: is this flag on for this request's subject?"""

    def __init__(self, config: dict, subject: str | None):
        self.config, self.subject = config, subject

    def on(self, name: str) -> bool:
        if name not in KNOWN:
            raise KeyError(f"unknown flag {name!r}: declare it in flags.KNOWN")
        return is_on(self.config, name, self.subject)


_current: ContextVar[RequestFlags] = ContextVar("flags", default=RequestFlags({}, None))


def bind(config: dict, subject: str | None) -> RequestFlags:
    flags = RequestFlags(config, subject)
    _current.set(flags)
    return flags


def current() -> RequestFlags:
    return _current.get()
