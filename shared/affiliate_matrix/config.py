"""Settings, from AMX_* environment variables (see .env.example). The embedded defaults need none."""

import os
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from affiliate_matrix.errors import ConfigError


# What every settings class is read with: the AMX_* variable naming a field (any case), an empty one ignored.
VARIABLES = SettingsConfigDict(env_prefix="AMX_", extra="forbid", env_ignore_empty=True)


def from_variables(settings: BaseSettings, values: dict) -> None:
    """A settings class's __init__: arguments, then the AMX_* variables (_Variables); no .env file or secrets directory
    is configured. The model is validated directly: pydantic-settings' own __init__ builds its environment, .env and
    secrets sources for every field before it is told which to ask, about 2.5 M instructions of every start."""
    super(BaseSettings, settings).__init__(**{**_Variables(type(settings))(), **values})


# AMX_INDEX_PREFIX: the indices are <prefix>-<name>; the Dashboards saved objects are rendered for it too.
INDEX_PREFIX = r"^[a-z][a-z0-9_-]{0,30}$"


class Settings(BaseSettings):
    """The settings every function reads; those of one concern are a class of their own that it holds and reads
    through its attributes (HELD)."""
    model_config = VARIABLES

    data_dir: Path = Field(Path(".amx"), description="Where the embedded backends keep their files.")
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    request_read_timeout_s: float = Field(15, gt=0, description="How long a read of a request's head or body waits for "
                                          "a byte before the request is answered 408; a head must come whole within "
                                          "twice it (amx-function, server.py).")
    request_body_min_rate: float = Field(500, gt=0, description="The bytes a second a request's body must average once "
                                         "its reads have waited request_read_timeout_s in all (each byte received "
                                         "gives its reads 1/rate s more), or it is answered 408 (amx-function, "
                                         "server.py; Apache mod_reqtimeout's body MinRate).")
    response_send_timeout_s: float = Field(60, gt=0, description="How long a write of an answer waits for the client "
                                           "to take a byte before the connection is closed, the answer cut "
                                           "(amx-function, server.py; nginx's send_timeout).")

    object_store: Literal["local", "s3"] = "local"
    search: Literal["sqlite", "opensearch"] = "sqlite"
    index_prefix: str = Field("amx", pattern=INDEX_PREFIX)
    secrets: Literal["local", "vault"] = "local"
    flags_file: Path | None = Field(None, description="The environment's flags (the mounted amx-flags ConfigMap); seeds the flags document.")
    _held: dict[str, BaseSettings]  # the parts of it (HELD) built so far, by class name

    def __init__(self, **values):
        """A part (HELD) is built now when one of its settings is given or its variable set, so that a bad value
        stops the start naming it; else by the first read of one of its settings."""
        from_variables(self, {name: value for name, value in values.items() if name not in _HOLDER})
        given = {*values, *_variables()}
        self._held = {}
        for part in dict.fromkeys(_HOLDER[name] for name in given if name in _HOLDER):
            self._held[part] = _part_class(part)(**{name: value for name, value in values.items()
                                                    if _HOLDER.get(name) == part})

    def __copy__(self):
        """model_copy: the copy owns its table of parts (pydantic copies the private attributes' dict, not their
        values, so a part either built later was the other's too); those built so far are shared, never changed."""
        copied = super().__copy__()
        copied._held = dict(self._held)
        return copied

    def __getattr__(self, name: str):
        part = _HOLDER.get(name)
        if part is None:
            return super().__getattr__(name)
        if part not in self._held:
            self._held[part] = _part_class(part)()
        return getattr(self._held[part], name)


SECRET_ENV_PREFIX = "AMX_SECRET__"  # read-only secrets for the local secret store, see secrets/local.py


class _Variables(PydanticBaseSettingsSource):
    """The AMX_* variables naming a setting, as pydantic-settings' own environment source reads them for
    these settings (the prefix and the name in any case, an empty value ignored), at under a third of its cost
    to every start: that source asks each field in turn how it may be spelt and parsed (aliases, nested or
    JSON-encoded values), and every setting here is one scalar, parsed by the model from its string."""

    def get_field_value(self, field, field_name):  # abstract in the base; __call__ below does the reading
        raise NotImplementedError

    def __call__(self) -> dict[str, str]:
        fields = self.settings_cls.model_fields
        return {name: value for name, value in _variables().items() if name in fields}


def _variables() -> dict[str, str]:
    """Every AMX_* variable set, by the name of the setting it would be (lower case, without the prefix)."""
    return {name.lower()[4:]: value for name, value in os.environ.items()
            if name.lower().startswith("amx_") and value != ""}


def variable_set(setting: str) -> bool:
    """Whether an AMX_* variable gives `setting` a value, as Settings reads them: any case, an empty one unset."""
    return setting in _variables()


def variable(setting: str) -> str | None:
    """The value an AMX_* variable gives `setting`, as Settings reads it, unchecked (None: unset)."""
    return _variables().get(setting)


# Settings there were, and why they are gone: set, they are refused with the reason, not ignored.
RETIRED = {"AMX_FLAGS_TTL_S": "no longer a setting: every request checks the flags document's ETag and sees a change "
                              "at once (nothing is cached for a while); remove it"}


# The settings of one concern (a backend, a kind of work), each a class of its own defined where the concern lives,
# that Settings holds and reads through its attributes (settings.s3_bucket, settings.budget_strategy): a start defines
# Settings alone (~0.6 M instructions a field), and a class is defined by the first read of one of its settings, or at
# start when one of its variables is set or it is given one, so that a bad value still stops the start naming it
# (Settings.__init__). Listed here by name, as every field of each (a test holds the two together, and each name to
# one class), so that a start need not define a class to know it is none of its own.
HELD = {
    "affiliate_matrix.storage.settings.S3Settings": (
        "s3_endpoint_url", "s3_bucket", "s3_region", "s3_access_key_id", "s3_secret_access_key"),
    "affiliate_matrix.search.settings.OpenSearchSettings": (
        "opensearch_url", "opensearch_username", "opensearch_password", "opensearch_ca_file"),
    "affiliate_matrix.secrets.settings.VaultSettings": (
        "vault_addr", "vault_token", "vault_kv_mount", "vault_role", "vault_jwt_path", "vault_token_ttl_s",
        "secret_cache_ttl_s"),
    "affiliate_matrix.retention_settings.RetentionSettings": (
        "retention_days", "retention_dead_letters_days", "retention_discovery_seen_days"),
    "affiliate_matrix.fetch_settings.FetchSettings": ("allow_loopback_fetch", "crawl_time_limit_s", "user_agent"),
    "affiliate_matrix.budget.settings.BudgetSettings": (
        "budget_daily_total", "budget_currency", "budget_strategy", "budget_metric", "budget_history_days",
        "budget_pacing_tolerance", "budget_max_campaigns"),
    "affiliate_matrix.discovery.settings.DiscoverySettings": (
        "discovery_providers", "discovery_quotas", "discovery_niches", "discovery_languages", "google_cse_url",
        "brave_search_url", "searxng_url"),
    "affiliate_matrix.events.settings.EventSettings": (
        "events", "broker_url", "broker_token_path", "events_oidc_discovery_url", "events_routes", "namespace"),
}
_HOLDER = {name: part for part, names in HELD.items() for name in names}  # each held setting's class


def _part_class(part: str) -> type[BaseSettings]:
    module, _, name = part.rpartition(".")
    return getattr(import_module(module), name)


def held() -> Iterator[type[BaseSettings]]:
    """Each class Settings holds (HELD), imported (so defined)."""
    for part in HELD:
        yield _part_class(part)


def _reject_unknown_variables() -> None:
    """ConfigError for a variable that names no setting, or one that is no longer one (RETIRED)."""
    fields = Settings.model_fields
    for variable in os.environ:
        if variable.upper() in RETIRED:
            raise ConfigError(variable, RETIRED[variable.upper()])
        # a setting is spelt AMX_ and capitals; one in another case is read as it is (_variables), never refused
        name = variable[4:].lower()
        if not variable.startswith("AMX_") or variable.startswith(SECRET_ENV_PREFIX) or (
                (name in fields or name in _HOLDER) and variable[4:] == name.upper()):
            continue
        import difflib  # only to name a likely typo: every start pays for an import at module level

        known = {f"AMX_{name.upper()}" for name in (*fields, *_HOLDER)}
        guess = difflib.get_close_matches(variable, known, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        raise ConfigError(variable, f"unknown setting{hint} (every setting is listed in .env.example)")


def load_settings(**overrides) -> Settings:
    """Settings from the environment and `overrides`, as a start reads them (each class Settings holds built now when
    one of its variables is set or it is overridden); or one ConfigError naming the first bad setting."""
    _reject_unknown_variables()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "settings"
        value = err.get("input")
        shown = "" if field.endswith(("key", "password", "token")) else f" (got {value!r})"
        raise ConfigError(f"AMX_{field.upper()}", f"{err['msg'].removeprefix('Value error, ')}{shown}") from None
