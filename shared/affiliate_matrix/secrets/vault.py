"""Secrets in Vault's KV v2 engine through hvac.

In the cluster a function logs in with its service-account JWT (Kubernetes auth, one role per
function); locally it uses a token. Tokens get short TTLs and are renewed once a third of the
TTL is left; when renewal fails the store logs in again (Kubernetes auth) or fails closed.
"""

import io
import os
import ssl
import threading
import time

import httpx
import hvac
import hvac.exceptions as hv
import requests
from cachetools import TTLCache
from requests.adapters import BaseAdapter

from affiliate_matrix.errors import (AccessDenied, BackendUnavailable, ConfigError, ConflictError, NotFoundError,
                                    tls_reason, without_credentials)
from affiliate_matrix.netguard import UNANSWERED, bounded_client, deadline, unanswered_as
from affiliate_matrix.observability import get_logger
from affiliate_matrix.secrets import Secret, SecretMetadata, SecretStore, check_custom_metadata, check_path

log = get_logger()

# Vault not reachable, or not answering in time (the client's timeout), or answering that it cannot serve.
UNREACHABLE = (requests.ConnectionError, requests.Timeout)
UNAVAILABLE = (*UNREACHABLE, hv.VaultDown, hv.InternalServerError, hv.BadGateway)


# How long one store call to Vault may take in all: a secret, a token's lookup or renewal, a login are small, and a
# healthy Vault answers them in milliseconds. A store call makes one request, and the token's lookup, renewal (once a
# third of its TTL is left) or login before it shares its bound: they took one each, 10 s of a caller waiting.
REQUEST_TIMEOUT_S = 5


class _BoundedAdapter(BaseAdapter):
    """requests' transport for hvac, on netguard's bounded client: a request ends within its timeout in all (its lookup,
    connect and every read), where requests' own timeouts bound each read only, so a Vault trickling its answer held
    the caller for good. hvac's TLS trust (VAULT_CACERT, VAULT_CAPATH) comes as `verify`; no proxy from the
    environment (Vault is the cluster's own)."""

    def __init__(self):
        super().__init__()
        self._clients: dict[tuple, httpx.Client] = {}  # by (verify, cert)

    def _client(self, verify, cert) -> httpx.Client:
        key = (verify, cert if not isinstance(cert, list) else tuple(cert))
        if key not in self._clients:
            trusted = None
            if verify is False:
                trusted = httpx.create_ssl_context(verify=False)
            elif isinstance(verify, str):
                trusted = ssl.create_default_context(**{"capath" if os.path.isdir(verify) else "cafile": verify})
            if cert:
                trusted = trusted or ssl.create_default_context()
                trusted.load_cert_chain(*((cert,) if isinstance(cert, str) else cert))
            self._clients[key] = bounded_client(trusted)
        return self._clients[key]

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        try:
            with deadline(timeout):
                answer = self._client(verify, cert).request(request.method, request.url, headers=request.headers,
                                                            content=request.body, timeout=timeout)
        except UNANSWERED as exc:
            kind = unanswered_as(exc, tls=requests.exceptions.SSLError, timeout=requests.Timeout,
                                 unreachable=requests.ConnectionError)
            raise kind(f"{type(exc).__name__}: {exc}", request=request) from exc
        response = requests.Response()
        response.status_code, response.reason, response.url = answer.status_code, answer.reason_phrase, request.url
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.raw, response.request = io.BytesIO(answer.content), request  # read whole, within the deadline
        return response

    def close(self):
        for client in self._clients.values():
            client.close()


class Unreachable(BackendUnavailable):
    """Nothing answered at Vault's address (refused, timed out): at a start, a wrong address or a server not up yet,
    where an answer saying sealed or failing (503, 500, 502) is a server that is there and will be back."""


def unavailable(what: str, exc: Exception) -> BackendUnavailable | ConfigError:
    if isinstance(exc, requests.exceptions.SSLError):  # a ConnectionError, but only a setting helps, not waiting
        return ConfigError("VAULT_CACERT", f"{what}: Vault has a certificate we do not trust ({tls_reason(exc)}): the "
                                           "variable names the CA that signed it, and it must be for the address's host")
    kind = Unreachable if isinstance(exc, UNREACHABLE) else BackendUnavailable
    return kind(f"{what}: Vault unavailable ({type(exc).__name__})", cause="the secret store is unavailable")


class VaultSecretStore(SecretStore):
    def __init__(self, client: hvac.Client, mount: str, *, role: str | None = None, jwt_path=None,
                 token_ttl_s: int = 3600, cache_ttl_s: int = 300):
        self.client = client
        self.clock = time.monotonic  # for token lifetimes and outage copies; tests set a hand-moved one
        self.mount = mount
        self.role = role
        self.jwt_path = jwt_path
        self.token_ttl_s = token_ttl_s
        self._expires_at: float | None = None  # on self.clock; None: not known yet or never expires
        self._known = False
        self.cache_ttl_s = cache_ttl_s
        # (path, version) -> the copy last read, for an outage; memory only, never disk. Request
        # threads share it, hence the lock.
        self._copies: TTLCache[tuple[str, int | None], Secret] = TTLCache(maxsize=4096, ttl=cache_ttl_s,
                                                                            timer=lambda: self.clock())
        self._copies_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> "VaultSecretStore":
        token = settings.vault_token.get_secret_value() if settings.vault_token else None
        if token is None and settings.vault_role is None:
            raise ConfigError("AMX_VAULT_TOKEN", "set a token, or AMX_VAULT_ROLE for Kubernetes auth")
        client = hvac.Client(url=settings.vault_addr, token=token, timeout=REQUEST_TIMEOUT_S)
        # given none, hvac takes VAULT_TOKEN or ~/.vault-token (an operator's `bao login`): a role logs in as itself
        client.token = token
        bounded = _BoundedAdapter()
        for scheme in ("http://", "https://"):
            client.adapter.session.mount(scheme, bounded)
        return cls(client, settings.vault_kv_mount, role=settings.vault_role, jwt_path=settings.vault_jwt_path,
                   token_ttl_s=settings.vault_token_ttl_s, cache_ttl_s=settings.secret_cache_ttl_s)

    # -- authentication ----------------------------------------------------------------------

    def login(self) -> None:
        """Kubernetes auth: post the service-account JWT and the function's role."""
        try:
            jwt = open(self.jwt_path).read().strip()
        except OSError as exc:
            raise ConfigError("AMX_VAULT_JWT_PATH", f"cannot read the service-account token: {exc.strerror}") from None
        try:
            auth = self.client.auth.kubernetes.login(role=self.role, jwt=jwt)["auth"]
        except hv.Forbidden:
            raise AccessDenied(f"Vault refused Kubernetes login for role {self.role!r}") from None
        except UNAVAILABLE as exc:
            raise unavailable("Vault login", exc) from None
        self._expires_at = self.clock() + auth["lease_duration"]
        self._known = True
        log.info("vault.login", role=self.role, ttl_s=auth["lease_duration"])

    def _ensure_token(self) -> None:
        if self.client.token is None:
            self.login()
            return
        if not self._known:
            ttl = self._call(lambda: self.client.auth.token.lookup_self(), "token lookup")["data"]["ttl"]
            self._expires_at = None if ttl == 0 else self.clock() + ttl
            self._known = True
        if self._expires_at is None:
            return
        if self._expires_at - self.clock() > self.token_ttl_s / 3:
            return
        try:
            auth = self.client.auth.token.renew_self(increment=f"{self.token_ttl_s}s")["auth"]
            self._expires_at = self.clock() + auth["lease_duration"]
            log.info("vault.token_renewed", ttl_s=auth["lease_duration"])
        except (hv.Forbidden, hv.InvalidRequest):
            if not self.role:
                raise AccessDenied("Vault token expired and could not be renewed; no AMX_VAULT_ROLE to log in again") from None
            self.login()
        except UNAVAILABLE as exc:
            raise unavailable("Vault token renewal", exc) from None

    def _call(self, fn, what: str):
        try:
            return fn()
        except hv.InvalidPath:
            raise NotFoundError(f"{what}: not found") from None
        except hv.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise ConflictError(f"{what}: check-and-set version did not match") from None
            raise
        except hv.Forbidden:
            raise AccessDenied(f"{what}: permission denied") from None
        except UNAVAILABLE as exc:
            raise unavailable(what, exc) from None

    def _op(self, fn, what: str):
        with deadline(REQUEST_TIMEOUT_S):  # within the caller's when it ends sooner (netguard.deadline)
            self._ensure_token()
            return self._call(fn, what)

    def check(self) -> None:
        """A ConfigError naming the setting when nothing answers at the address (with a retry_after: a wrong address,
        or a server not up yet) or Vault refuses the token. A Vault that answers sealed or failing is no
        misconfiguration: BackendUnavailable, so a function starts on it and answers 503 until it is back."""
        try:
            self._ensure_token()
        except Unreachable:
            shown = without_credentials(self.client.url, self.client.url)
            raise ConfigError("AMX_VAULT_ADDR", f"cannot reach Vault at {shown}", retry_after=30) from None
        except AccessDenied as exc:
            raise ConfigError("AMX_VAULT_TOKEN", str(exc)) from None

    # -- KV v2 -------------------------------------------------------------------------------

    def read(self, path, version=None, *, outage_copy=True):
        """From Vault; while Vault is down, the last copy read within the cache TTL (unless outage_copy is
        False), then fail closed. Every answer Vault gives leaves the copy as it says: a read refusing copies
        refreshes one kept (a function checking whether its key was rotated away), and "not found" (revoked,
        destroyed, removed) drops it, so an outage after it never serves the key it replaced or withdrew."""
        check_path(path)
        try:
            response = self._op(lambda: self.client.secrets.kv.v2.read_secret_version(
                path=path, version=version, mount_point=self.mount, raise_on_deleted_version=True),
                f"secret {path!r}")
        except NotFoundError:
            with self._copies_lock:
                self._copies.pop((path, version), None)
            raise
        except BackendUnavailable:
            with self._copies_lock:
                copy = self._copies.get((path, version)) if outage_copy else None
            if copy is not None:
                log.warning("vault.unavailable_serving_cache", secret_path=path)
                return copy
            raise BackendUnavailable(f"secret {path!r}: Vault is unavailable and no copy read in the last "
                                     f"{self.cache_ttl_s} s remains; failing closed",
                                     cause="the secret store is unavailable") from None
        secret = Secret(path, dict(response["data"]["data"]), response["data"]["metadata"]["version"])
        with self._copies_lock:
            if outage_copy or (path, version) in self._copies:  # no copy made of what a token check reads
                self._copies[(path, version)] = secret
        return secret

    def _forget_copies(self, path: str) -> None:
        with self._copies_lock:
            for key in [key for key in self._copies if key[0] == path]:
                self._copies.pop(key, None)

    def list(self, folder):
        folder = check_path(folder.rstrip("/"))
        try:
            response = self._op(lambda: self.client.secrets.kv.v2.list_secrets(path=folder, mount_point=self.mount),
                                f"secrets under {folder!r}")
        except NotFoundError:  # Vault answers 404 for a folder with nothing in it
            return []
        return sorted(response["data"]["keys"])

    def write(self, path, data, *, cas=None):
        """Never faked while Vault is down: the caller gets BackendUnavailable and retries later."""
        check_path(path)
        self._forget_copies(path)
        response = self._op(lambda: self.client.secrets.kv.v2.create_or_update_secret(
            path=path, secret=data, cas=cas, mount_point=self.mount), f"secret {path!r}")
        return response["data"]["version"]

    def metadata(self, path):
        check_path(path)
        data = self._op(lambda: self.client.secrets.kv.v2.read_secret_metadata(
            path=path, mount_point=self.mount), f"secret {path!r} metadata")["data"]
        versions = {int(n): {"created_time": m["created_time"], "destroyed": m["destroyed"]}
                    for n, m in data["versions"].items()}
        return SecretMetadata(data["current_version"], versions, dict(data.get("custom_metadata") or {}))

    def set_custom_metadata(self, path, custom):
        check_path(path)
        custom = check_custom_metadata(custom)
        self._op(lambda: self.client.secrets.kv.v2.update_metadata(
            path=path, custom_metadata=custom, mount_point=self.mount), f"secret {path!r} metadata")

    def remove(self, path):
        check_path(path)
        self._forget_copies(path)
        self._op(lambda: self.client.secrets.kv.v2.delete_metadata_and_all_versions(
            path=path, mount_point=self.mount), f"secret {path!r} remove")  # Vault answers 204 for one not there

    def destroy(self, path, versions):
        check_path(path)
        self._forget_copies(path)
        if not versions:  # nothing to destroy (a revocation run again): hvac refuses an empty list, the file store not
            return
        self._op(lambda: self.client.secrets.kv.v2.destroy_secret_versions(
            path=path, versions=versions, mount_point=self.mount), f"secret {path!r} destroy")
