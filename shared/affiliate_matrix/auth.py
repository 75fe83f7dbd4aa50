"""API bearer tokens: minted once, stored only as a SHA-256 hash through the secrets port,
verified in constant time. A token is `amx_<id>_<secret>`; the id locates its record."""

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime

from affiliate_matrix.errors import AccessDenied, NotFoundError, Unauthorized

ROLES = ("read", "admin")
CACHE_SECONDS = 60
_TOKEN = re.compile(r"^amx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_verified: dict[str, tuple[str, str, float]] = {}  # id -> (hash, role, until)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id(header: str | None) -> str | None:
    """The id part of a bearer token, unverified: enough to bucket a caller for feature flags."""
    scheme, _, token = (header or "").partition(" ")
    match = _TOKEN.match(token.strip()) if scheme.lower() == "bearer" else None
    return match.group(1) if match else None


def create_token(secret_store, role: str) -> str:
    """A new token for `role`; the only place it is ever shown is the return value."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    secret_store.write(f"api-tokens/{token_id}", {"sha256": _hash(secret), "role": role,
                                                   "created_at": datetime.now(UTC).isoformat()}, cas=0)
    return f"amx_{token_id}_{secret}"


def authorize(secret_store, header: str | None, needed: str = "read") -> str:
    """The caller's role from an `Authorization: Bearer …` header; Unauthorized or AccessDenied otherwise."""
    scheme, _, token = (header or "").partition(" ")
    match = _TOKEN.match(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise Unauthorized("send Authorization: Bearer <token> (create one with `amx tokens create`)")
    token_id, secret = match.groups()
    cached = _verified.get(token_id)
    if cached is None or cached[2] < time.monotonic():
        try:
            record = secret_store.read(f"api-tokens/{token_id}").data
        except NotFoundError:
            raise Unauthorized("the token is not valid") from None
        cached = _verified[token_id] = (record["sha256"], record["role"], time.monotonic() + CACHE_SECONDS)
    if not hmac.compare_digest(cached[0], _hash(secret)):
        raise Unauthorized("the token is not valid")
    if needed == "admin" and cached[1] != "admin":
        raise AccessDenied("this needs an admin token")
    return cached[1]
