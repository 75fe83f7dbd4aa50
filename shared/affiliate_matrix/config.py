"""Settings, from AMX_* environment variables (see .env.example). The embedded defaults need none."""

import os
from decimal import Decimal
from pathlib import Path
from functools import cache
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from affiliate_matrix.errors import ConfigError


@cache
def _amount():
    """A daily total as AMX_BUDGET_DAILY_TOTAL takes it, alone or per currency: whole cents, as the allocation takes
    them, so a total it would refuse is refused at start (built when the setting is set, not at every start)."""
    from pydantic import TypeAdapter

    from affiliate_matrix.budget.model_types import Cents

    return TypeAdapter(Cents)


def _daily_totals(value):
    """One amount (in AMX_BUDGET_CURRENCY), or a total per currency: `USD=500.00,EUR=300.00`."""
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str) or "=" not in value:
        return _amount().validate_python(value)
    from affiliate_matrix.codes import CURRENCIES

    totals: dict[str, Decimal] = {}
    for entry in value.split(","):
        code, _, amount = (part.strip() for part in entry.partition("="))
        if not _:
            raise ValueError(f"{entry.strip()!r} is not CURRENCY=AMOUNT (USD=500.00,EUR=300.00)")
        if code not in CURRENCIES:
            raise ValueError(f"{entry.strip()!r}: {code!r} is not an ISO-4217 currency code")
        if code in totals:
            raise ValueError(f"{entry.strip()!r}: {code} is given twice")
        try:
            totals[code] = _amount().validate_python(amount)
        except ValidationError as exc:
            raise ValueError(f"{entry.strip()!r}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        _whole_units(code, totals[code], repr(entry.strip()))
    return totals


def _whole_units(currency: str, amount: Decimal, where: str) -> None:
    """A total with cents in a currency that has none (JPY) is refused at start, not by every run."""
    from affiliate_matrix.budget.model_types import whole_units

    whole_units(currency, {where: amount})


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

    events: Literal["inprocess", "http"] = "inprocess"
    broker_url: str | None = Field(None, description="Knative Broker ingress, for AMX_EVENTS=http.")
    broker_token_path: Path | None = Field(None, description="A token file for the Broker's audience (a projected service-account token), sent with every event published.")
    events_oidc_discovery_url: str | None = Field(None, description="OIDC discovery document of the issuer whose tokens events must carry (in a cluster the API server's service-account issuer; file:// for a local one). Unset: every event is refused.")
    events_routes: Path = Field(Path("manifests/base"), description="The Triggers and PingSources saying which event types each function takes.")
    namespace: str = Field("affiliate-matrix", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                           description="The functions' Kubernetes namespace: event tokens must be for its Services and from its service accounts.")

    # NoDecode: a total per currency is read from its own spelling, not as JSON
    budget_daily_total: Annotated[Decimal | dict[str, Decimal] | None, NoDecode, BeforeValidator(_daily_totals)] = Field(
        None, description="What the daily budget run shares out: one amount in AMX_BUDGET_CURRENCY, or a total per "
                          "currency (USD=500.00,EUR=300.00); unset, it refuses to run.")
    # None when not set (read as USD): a default judged as if given refused every total per currency without USD
    budget_currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="The currency of a lone daily total "
                                                                                 "(USD unless set).")
    budget_strategy: Literal["equal", "proportional", "pareto", "exploratory", "optimal"] = "optimal"
    budget_metric: Literal["revenue", "roas", "conversions"] = Field("revenue", description="For proportional and pareto.")
    budget_history_days: int = Field(90, ge=7, le=1000, description="How much history the daily run allocates on.")
    budget_pacing_tolerance: float = Field(0.2, gt=0, le=10, description="Spend off its allocation by more than this share raises budget.pacing.")
    budget_max_campaigns: int = Field(20_000, ge=1, le=1_000_000, description="How many campaigns may be stored: one "
                                      "more is refused (409), since every daily run reads them all.")

    discovery_providers: str = Field("searxng,brave,google", pattern=r"^(google|brave|searxng)(,(google|brave|searxng))*$",
                                     description="Search providers in the order they are tried.")
    discovery_quotas: str = Field("google=100,brave=60,searxng=1000", pattern=r"^([a-z]+=\d+)(,[a-z]+=\d+)*$",
                                  description="Queries per provider per day.")
    discovery_niches: str = Field("", description="Comma-separated niches the cron run searches.")
    # the languages dorks.TEMPLATES has templates in (a test holds the two together): spelt here, as the providers
    # above, since importing the discovery package to check them would cost every function's start ~10 M instructions
    discovery_languages: str = Field("en", pattern=r"^(en|de|fr|es|nl|pt|it)(,(en|de|fr|es|nl|pt|it))*$",
                                     description="Languages the cron run searches in, comma-separated: en, de, fr, es, "
                                     "nl, pt, it (those with dork templates).")
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
    crawl_time_limit_s: int = Field(900, ge=1, le=86400, description="The time limit of the functions that crawl "
                                     "pages or sync APIs (scrape, sync, verify: their Knative timeoutSeconds): a crawl, "
                                     "an API sync and each verify worker ask while the waits they are told to make "
                                     "(the host's spacing, retries' Retry-After) fit in it, less a tenth for the rest "
                                     "of the run.")
    user_agent: str = "AffiliateMatrixBot/0.1 (+https://affiliate-matrix.dev/bot)"

    @field_validator("budget_currency")
    @classmethod
    def _a_lone_totals_currency(cls, currency: str | None, info: ValidationInfo) -> str:
        """Set beside a total per currency it names none of them: refused, not silently left unused."""
        totals = info.data.get("budget_daily_total")
        if isinstance(totals, dict) and currency is not None and currency not in totals:
            raise ValueError(f"{currency} has no total in AMX_BUDGET_DAILY_TOTAL, which names each total's currency "
                             f"({', '.join(totals)}); AMX_BUDGET_CURRENCY is a lone amount's: unset it")
        currency = currency or "USD"
        if isinstance(totals, Decimal):
            _whole_units(currency, totals, f"AMX_BUDGET_DAILY_TOTAL {totals}")
        return currency

    @property
    def budget_totals(self) -> dict[str, Decimal] | None:
        """Each currency's daily total: AMX_BUDGET_DAILY_TOTAL's per currency, or its lone amount in
        AMX_BUDGET_CURRENCY; None when unset."""
        total = self.budget_daily_total
        return total if total is None or isinstance(total, dict) else {self.budget_currency: total}

    def __init__(self, **values):
        # Arguments, then the AMX_* variables (_Variables); no .env file or secrets directory is configured. The model
        # is validated directly: pydantic-settings' own __init__ builds its environment, .env and secrets sources for
        # every field before it is told which to ask, about 2.5 M instructions of every start (a tenth of the model).
        super(BaseSettings, self).__init__(**{**_Variables(type(self))(), **values})


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
        raise ConfigError(f"AMX_{field.upper()}", f"{err['msg'].removeprefix('Value error, ')}{shown}") from None
