"""Vault's settings (AMX_VAULT_*, AMX_SECRET_CACHE_TTL_S): a class Settings holds (config.HELD), defined by the first
read of one of them or at start when one is set, so that a start on the local secret store does not define them."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from affiliate_matrix.config import VARIABLES, from_variables


class VaultSettings(BaseSettings):
    model_config = VARIABLES

    vault_addr: str = "http://127.0.0.1:8200"
    vault_token: SecretStr | None = None
    vault_kv_mount: str = "secret"
    vault_role: str | None = Field(None, description="Kubernetes auth role; when set, log in with the service-account JWT.")
    vault_jwt_path: Path = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
    vault_token_ttl_s: int = Field(3600, gt=0, description="TTL asked for on renewal.")
    secret_cache_ttl_s: int = Field(300, ge=0, description="How long a secret read stays usable if Vault goes down.")

    def __init__(self, **values):
        from_variables(self, values)
