"""Feature flags: one FeatureFlagConfig document in the object store (flags/flags.json, written
with If-Match), read by every function through a short cache so a change is live within
AMX_FLAGS_TTL_S without a restart. In the cluster each overlay ships its flags as the amx-flags
ConfigMap (manifests/overlays/<env>/flags.json, mounted at AMX_FLAGS_FILE); it seeds the
document when the store has none, so an environment starts with its own flags.

A boolean flag is on or off; a percentage flag is on for that share of subjects, bucketed by a
hash of (flag, subject) so the same token always gets the same answer. An allow-list of token
or connection ids turns a flag on for them whatever else it says.
"""

import hashlib
import json
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from affiliate_matrix.errors import ConflictError, NotFoundError
from affiliate_matrix.models import Model, UtcDatetime

FLAGS_KEY = "flags/flags.json"
# The flags the code reads, and what they do.
KNOWN = {
    "quality_ranking": "GET /programs without words or a sort ranks by quality score instead of id.",
}


class Flag(Model):
    kind: Literal["boolean", "percentage"] = "boolean"
    enabled: bool = False
    percentage: float = Field(0.0, ge=0, le=100, description="For percentage flags: the share of subjects it is on for.")
    allow: list[str] = Field(default_factory=list, max_length=1000, description="Token or connection ids it is always on for.")
    description: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "boolean" and self.percentage not in (0, 100):
            raise ValueError("a boolean flag has no percentage; use kind: percentage")
        return self


class FeatureFlagConfig(Model):
    flags: dict[str, Flag] = Field(default_factory=dict)
    updated_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _names(self):
        import re

        for name in self.flags:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
                raise ValueError(f"flag name {name!r} must be lower_snake_case")
        return self


def bucket(name: str, subject: str) -> float:
    """Where a subject falls for a flag, in [0, 100): deterministic, independent across flags."""
    digest = hashlib.sha256(f"{name}\x00{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def is_on(config: FeatureFlagConfig, name: str, subject: str | None) -> bool:
    flag = config.flags.get(name)
    if flag is None:
        return False
    if subject is not None and subject in flag.allow:
        return True
    if not flag.enabled:
        return False
    return flag.kind == "boolean" or (subject is not None and bucket(name, subject) < flag.percentage)


# --- the document --------------------------------------------------------------------------------

def load(store) -> tuple[FeatureFlagConfig, str | None]:
    try:
        stored = store.get(FLAGS_KEY)
    except NotFoundError:
        return FeatureFlagConfig(), None
    return FeatureFlagConfig.model_validate_json(stored.data), stored.etag


def save(store, config: FeatureFlagConfig, etag: str | None) -> str:
    config.updated_at = datetime.now(UTC)
    return store.put(FLAGS_KEY, config.model_dump_json(indent=2).encode(), content_type="application/json",
                     if_match=etag, if_none_match=etag is None)


def update(store, name: str, change) -> FeatureFlagConfig:
    """Apply change(flag or None) -> flag to one flag under a conditional write, retrying a lost race."""
    for _ in range(5):
        config, etag = load(store)
        config.flags[name] = change(config.flags.get(name))
        config = FeatureFlagConfig.model_validate(config.model_dump())
        try:
            save(store, config, etag)
            return config
        except ConflictError:
            continue
    raise ConflictError("the flags kept changing; try again")


def seed_from_file(store, path: Path) -> None:
    """The environment's flags (the mounted ConfigMap) become the document when there is none yet."""
    if store.head(FLAGS_KEY) is not None or not path.is_file():
        return
    config = FeatureFlagConfig.model_validate(json.loads(path.read_text()))
    try:
        save(store, config, None)
    except ConflictError:
        pass  # another function seeded it first


# --- per request ---------------------------------------------------------------------------------

class FlagReader:
    """The document, re-read at most every ttl seconds."""

    def __init__(self, store, ttl: float, seed: Path | None = None):
        self.store, self.ttl, self.seed = store, ttl, seed
        self._config, self._until = FeatureFlagConfig(), 0.0
        self._lock = threading.Lock()

    def config(self) -> FeatureFlagConfig:
        now = time.monotonic()
        if now >= self._until:
            with self._lock:
                if now >= self._until:
                    if self.seed is not None:
                        seed_from_file(self.store, self.seed)
                        self.seed = None
                    self._config, _ = load(self.store)
                    self._until = now + self.ttl
        return self._config


class RequestFlags:
    """What a handler asks: is this flag on for this request's subject?"""

    def __init__(self, config: FeatureFlagConfig, subject: str | None):
        self.config, self.subject = config, subject

    def on(self, name: str) -> bool:
        if name not in KNOWN:
            raise KeyError(f"unknown flag {name!r}: declare it in flags.KNOWN")
        return is_on(self.config, name, self.subject)


_current: ContextVar[RequestFlags] = ContextVar("flags", default=RequestFlags(FeatureFlagConfig(), None))


def bind(config: FeatureFlagConfig, subject: str | None) -> RequestFlags:
    flags = RequestFlags(config, subject)
    _current.set(flags)
    return flags


def current() -> RequestFlags:
    return _current.get()
