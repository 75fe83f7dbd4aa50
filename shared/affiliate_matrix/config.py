"""Settings, from AMX_* environment variables (see .env.example). The embedded defaults need none."""

import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from affiliate_matrix.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMX_", extra="forbid", env_ignore_empty=True)

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
    index_prefix: str = Field("amx", pattern=r"^[a-z][a-z0-9_-]{0,30}$")

    secrets: Literal["local", "vault"] = "local"
    vault_addr: str = "http://127.0.0.1:8200"
    vault_token: SecretStr | None = None
    vault_kv_mount: str = "secret"
    vault_role: str | None = Field(None, description="Kubernetes auth role; when set, log in with the service-account JWT.")
    vault_jwt_path: Path = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
    vault_token_ttl_s: int = Field(3600, gt=0, description="TTL asked for on renewal.")
    secret_cache_ttl_s: int = Field(300, ge=0, description="How long a secret read stays usable if Vault goes down.")

    events: Literal["inprocess", "http"] = "inprocess"
    broker_url: str | None = Field(None, description="Knative Broker ingress, for AMX_EVENTS=http.")
    broker_token_path: Path | None = Field(None, description="A token file for the Broker's audience (a projected service-account token), sent with every event published.")
    events_oidc_discovery_url: str | None = Field(None, description="OIDC discovery document of the issuer whose tokens events must carry (in a cluster the API server's service-account issuer; file:// for a local one). Unset: every event is refused.")
    events_routes: Path = Field(Path("manifests/base"), description="The Triggers and PingSources saying which event types each function takes.")
    namespace: str = Field("affiliate-matrix", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                           description="The functions' Kubernetes namespace: event tokens must be for its Services and from its service accounts.")

    budget_daily_total: Decimal | None = Field(None, ge=0, decimal_places=2,
                                               description="What the daily budget run shares out; unset, it refuses to run.")
    budget_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    budget_strategy: Literal["equal", "proportional", "pareto", "exploratory", "optimal"] = "optimal"
    budget_metric: Literal["revenue", "roas", "conversions"] = Field("revenue", description="For proportional and pareto.")
    budget_history_days: int = Field(90, ge=7, le=1000, description="How much history the daily run allocates on.")
    budget_pacing_tolerance: float = Field(0.2, gt=0, le=10, description="Spend off its allocation by more than this share raises budget.pacing.")

    discovery_providers: str = Field("searxng,brave,google", pattern=r"^(google|brave|searxng)(,(google|brave|searxng))*$",
                                     description="Search providers in the order they are tried.")
    discovery_quotas: str = Field("google=100,brave=60,searxng=1000", pattern=r"^([a-z]+=\d+)(,[a-z]+=\d+)*$",
                                  description="Queries per provider per day.")
    discovery_niches: str = Field("", description="Comma-separated niches the cron run searches.")
    discovery_languages: str = Field("en", pattern=r"^[a-z]{2}(,[a-z]{2})*$")
    google_cse_url: str = "https://www.googleapis.com"
    brave_search_url: str = "https://api.search.brave.com"
    searxng_url: str | None = Field(None, description="A SearXNG instance with the json format enabled.")

    retention_days: str = Field("deltas=400,metrics=400,activations=90,queries=30",
                                pattern=r"^([a-z]+=\d+)(,[a-z]+=\d+)*$",
                                description="Days each time-stamped index keeps a document (the daily retention job).")
    retention_dead_letters_days: int = Field(30, ge=1, le=3650,
                                             description="Days a dead letter (dead-letters/ in the store, up to 4 MB "
                                                         "each) is kept, from when it was parked (the daily retention job).")
    flags_file: Path | None = Field(None, description="The environment's flags (the mounted amx-flags ConfigMap); seeds the flags document.")

    allow_loopback_fetch: bool = Field(False, description="Let the fetcher reach loopback addresses (recorded sites).")
    user_agent: str = "AffiliateMatrixBot/0.1 (+https://affiliate-matrix.dev/bot)"

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Arguments and AMX_* variables only: no .env file or secrets directory is configured, and
        # asking those sources anyway costs every cold start a few milliseconds.
        return init_settings, _Variables(settings_cls)


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


def _reject_unknown_variables() -> None:
    known = {f"AMX_{name.upper()}" for name in Settings.model_fields}
    for variable in os.environ:
        if variable.upper() in RETIRED:
            raise ConfigError(variable, RETIRED[variable.upper()])
        if variable.startswith("AMX_") and variable not in known and not variable.startswith(SECRET_ENV_PREFIX):
            import difflib  # only to name a likely typo: every start pays for an import at module level

            guess = difflib.get_close_matches(variable, known, n=1)
            hint = f"; did you mean {guess[0]}?" if guess else ""
            raise ConfigError(variable, f"unknown setting{hint} (every setting is listed in .env.example)")


def load_settings(**overrides) -> Settings:
    """Settings from the environment, or one ConfigError naming the first bad setting."""
    _reject_unknown_variables()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "settings"
        value = err.get("input")
        shown = "" if field.endswith(("key", "password", "token")) else f" (got {value!r})"
        raise ConfigError(f"AMX_{field.upper()}", f"{err['msg']}{shown}") from None
