"""Settings, from AMX_* environment variables (see .env.example). The embedded defaults need none."""

import os
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from affiliate_matrix.errors import ConfigError


# What every settings class is read with: the AMX_* variable naming a field (any case), an empty one ignored.
VARIABLES = SettingsConfigDict(env_prefix="AMX_", extra="forbid", env_ignore_empty=True)


def from_variables(settings: BaseSettings, values: dict) -> None:
    """A settings class's __init__: arguments, then the AMX_* variables (_Variables); no .env file or secrets directory
    is configured. The model is validated directly: pydantic-settings' own __init__ builds its environment, .env and
    secrets sources for every field before it is told which to ask, about 2.5 M instructions of every start."""
    super(BaseSettings, settings).__init__(**{**_Variables(type(settings))(), **values})


class Settings(BaseSettings):
    """The settings every function reads; those of one concern are a class of their own (PARTS)."""
    model_config = VARIABLES

    data_dir: Path = Field(Path(".amx"), description="Where the embedded backends keep their files.")
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    object_store: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "affiliate-matrix"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None

    search: Literal["sqlite", "opensearch"] = "sqlite"
    opensearch_url: str = "http://127.0.0.1:9200"
    opensearch_username: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_ca_file: Path | None = None
    index_prefix: str = Field("amx", pattern=r"^[a-z][a-z0-9_-]{0,30}$")

    secrets: Literal["local", "vault"] = "local"
    vault_addr: str = "http://127.0.0.1:8200"
    vault_token: SecretStr | None = None
    vault_kv_mount: str = "secret"
    vault_role: str | None = Field(None, description="Kubernetes auth role; when set, log in with the service-account JWT.")
    vault_jwt_path: Path = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
    vault_token_ttl_s: int = Field(3600, gt=0, description="TTL asked for on renewal.")
    secret_cache_ttl_s: int = Field(300, ge=0, description="How long a secret read stays usable if Vault goes down.")

    retention_days: str = Field("deltas=400,metrics=400,activations=90,queries=30",
                                pattern=r"^([a-z]+=\d+)(,[a-z]+=\d+)*$",
                                description="Days each time-stamped index keeps a document (the daily retention job).")
    retention_dead_letters_days: int = Field(30, ge=1, le=3650,
                                             description="Days a dead letter (dead-letters/ in the store, up to 4 MB "
                                                         "each) is kept, from when it was parked (the daily retention job).")
    flags_file: Path | None = Field(None, description="The environment's flags (the mounted amx-flags ConfigMap); seeds the flags document.")

    allow_loopback_fetch: bool = Field(False, description="Let the fetcher reach loopback addresses (recorded sites).")
    crawl_time_limit_s: int = Field(900, ge=1, le=86400, description="The time limit of the functions that crawl "
                                     "pages or sync APIs (scrape, sync, verify, discover: their Knative "
                                     "timeoutSeconds): a crawl, an API sync, a discovery run and each verify worker "
                                     "ask while the waits they are told to make (the host's spacing, retries' "
                                     "Retry-After) fit in it, less a tenth for the rest of the run.")
    user_agent: str = "AffiliateMatrixBot/0.1 (+https://affiliate-matrix.dev/bot)"

    def __init__(self, **values):
        from_variables(self, values)


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
        return {name.lower()[4:]: value for name, value in os.environ.items()
                if name.lower().startswith("amx_") and name.lower()[4:] in fields and value != ""}


# Settings there were, and why they are gone: set, they are refused with the reason, not ignored.
RETIRED = {"AMX_FLAGS_TTL_S": "no longer a setting: every request checks the flags document's ETag and sees a change "
                              "at once (nothing is cached for a while); remove it"}


# The settings of one concern, each a class defined where the concern lives: a start defines Settings alone (~0.6 M
# instructions a field), and a part is built by the first work that reads it (Runtime.part), or at start when one of
# its variables is set, so that a bad value still stops the start naming it (load_settings).
PARTS = ("affiliate_matrix.budget.settings.BudgetSettings", "affiliate_matrix.discovery.settings.DiscoverySettings",
         "affiliate_matrix.events.settings.EventSettings")

Part = TypeVar("Part", bound=BaseSettings)


def parts() -> Iterator[type[BaseSettings]]:
    """Each part's class, imported (so defined) as it is reached."""
    for module, _, name in (part.rpartition(".") for part in PARTS):
        yield getattr(import_module(module), name)


def _reject_unknown_variables() -> list[type[BaseSettings]]:
    """The parts whose variables are set; ConfigError for a variable that names no setting."""
    known = {f"AMX_{name.upper()}" for name in Settings.model_fields}
    set_parts: list[type[BaseSettings]] = []
    for variable in os.environ:
        if variable.upper() in RETIRED:
            raise ConfigError(variable, RETIRED[variable.upper()])
        name = variable.lower().removeprefix("amx_")
        if name == variable.lower() or variable in known or variable.startswith(SECRET_ENV_PREFIX):
            continue
        # a part's, spelt as Settings' must be (AMX_ and capitals) or in a case the check never looked at (as _Variables
        # reads it); an empty value is no setting
        owner = next((part for part in parts() if name in part.model_fields and
                      (variable == f"AMX_{name.upper()}" or not variable.startswith("AMX_"))), None)
        if owner is not None:
            set_parts += [owner] if owner not in set_parts and os.environ[variable] != "" else []
            continue
        if not variable.startswith("AMX_"):
            continue
        import difflib  # only to name a likely typo: every start pays for an import at module level

        names = known | {f"AMX_{name.upper()}" for part in parts() for name in part.model_fields}
        guess = difflib.get_close_matches(variable, names, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        raise ConfigError(variable, f"unknown setting{hint} (every setting is listed in .env.example)")
    return set_parts


def load_settings(**overrides) -> Settings:
    """Settings from the environment, or one ConfigError naming the first bad setting (of a part too, when one of its
    variables is set)."""
    return load_at_start(**overrides)[0]


def load_at_start(**overrides) -> tuple[Settings, list[BaseSettings]]:
    """Settings and the parts one of whose variables is set or overridden, from the environment and `overrides` (each
    to the class that has it), as a start reads them; or one ConfigError naming the first bad setting."""
    read = _reject_unknown_variables()
    owners = {name: next((part for part in parts() if name in part.model_fields), Settings)
              for name in overrides if name not in Settings.model_fields}  # an unknown name: Settings refuses it
    read += [part for part in dict.fromkeys(owners.values()) if part is not Settings and part not in read]
    loaded = [load_part(part, **{name: value for name, value in overrides.items() if owners.get(name) is part})
              for part in read]
    return _validated(Settings, {name: value for name, value in overrides.items()
                                 if owners.get(name, Settings) is Settings}), loaded


def load_part(kind: type[Part], **overrides) -> Part:
    """The settings of one concern (PARTS) from the environment, or one ConfigError naming the first bad setting."""
    return _validated(kind, overrides)


def _validated(kind: type[Part], overrides: dict) -> Part:
    try:
        return kind(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "settings"
        value = err.get("input")
        shown = "" if field.endswith(("key", "password", "token")) else f" (got {value!r})"
        raise ConfigError(f"AMX_{field.upper()}", f"{err['msg'].removeprefix('Value error, ')}{shown}") from None
