"""The feature flags document, validated: FeatureFlagConfig (its JSON Schema is published in
infra/flags/), and reading and writing flags/flags.json with conditional writes. Evaluation
(flags.py) reads the same document as plain JSON, so a request never builds these models."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from affiliate_matrix.errors import ConflictError, NotFoundError
from affiliate_matrix.flags import FLAGS_KEY


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid")
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


class FeatureFlagConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flags: dict[str, Flag] = Field(default_factory=dict)
    updated_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _names(self):
        import re

        for name in self.flags:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
                raise ValueError(f"flag name {name!r} must be lower_snake_case")
        return self


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
