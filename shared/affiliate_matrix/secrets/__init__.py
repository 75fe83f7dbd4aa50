"""Secrets port: API keys and tokens, versioned, with check-and-set writes.

Adapters: `LocalSecretStore` (a 0600 JSON file plus read-only AMX_SECRET__* variables) and
`VaultSecretStore` (KV v2 through hvac, token or Kubernetes auth, renewal before expiry).
Both keep Vault's KV v2 semantics: every write makes a new version; `cas=0` means create-only,
`cas=N` means "only if the current version is N". Secret values never appear in errors.
"""

from abc import ABC, abstractmethod
import re
from typing import NamedTuple

# compiled by re on first use
_PATH = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$"  # fullmatch: "$" alone also takes a final "\n"


def check_path(path: str) -> str:
    if len(path) > 200 or not re.fullmatch(_PATH, path):
        raise ValueError(f"secret path {path!r} must be /-separated segments of [A-Za-z0-9_-]")
    return path


def check_custom_metadata(custom: dict[str, str]) -> dict[str, str]:
    """Vault's limits on custom metadata, which Vault enforces and the local file keeps too: at most 64
    keys, each key up to 128 bytes, each value 1 to 512 bytes."""
    if len(custom) > 64:
        raise ValueError(f"custom metadata has {len(custom)} keys; at most 64")
    for key, value in custom.items():
        if not 0 < len(str(key).encode()) <= 128 or not 0 < len(str(value).encode()) <= 512:
            raise ValueError(f"custom metadata {key!r}: keys must be 1-128 bytes and values 1-512 bytes")
    return {str(k): str(v) for k, v in custom.items()}


# Records, immutable: a NamedTuple costs a function's start ~0.5 ms less than a dataclass (which compiles its methods).
class Secret(NamedTuple):
    path: str
    data: dict[str, str]
    version: int

    def __repr__(self) -> str:  # never print the values
        return f"Secret(path={self.path!r}, version={self.version}, keys={sorted(self.data)})"


class SecretMetadata(NamedTuple):
    current_version: int
    versions: dict[int, dict]
    custom_metadata: dict[str, str]


class SecretStore(ABC):
    """The port."""

    @abstractmethod
    def read(self, path: str, version: int | None = None, *, outage_copy: bool = True) -> Secret:
        """The current (or given) version. NotFoundError when absent or destroyed. outage_copy=False
        refuses a copy kept for a backend outage (a token check must see a revocation)."""
        ...

    @abstractmethod
    def write(self, path: str, data: dict[str, str], *, cas: int | None = None) -> int:
        """Write a new version and return its number. ConflictError when cas does not match."""
        ...

    @abstractmethod
    def metadata(self, path: str) -> SecretMetadata:
        ...

    @abstractmethod
    def set_custom_metadata(self, path: str, custom: dict[str, str]) -> None:
        ...

    @abstractmethod
    def destroy(self, path: str, versions: list[int]) -> None:
        """Destroy versions for good (revocation)."""
        ...

    @abstractmethod
    def remove(self, path: str) -> None:
        """Remove the secret for good, every version and its metadata, so it is listed no more; removing one that is
        not there is fine. For records that end (a web session), not for revocation, which keeps the metadata."""
        ...

    @abstractmethod  # last: inside the class body, `list` is this method from here on
    def list(self, folder: str) -> list[str]:
        """The names directly under folder (sub-folders end in /), sorted; [] when there are none."""
        ...

    def check(self) -> None:
        """Raise ConfigError naming the setting when the store is unusable."""
