"""A service-account issuer for `amx up` and the tests: what the cluster's API server is to Knative's
sender identity. An RSA key made at start and kept in memory only; its OIDC discovery document and
key set written to a folder that the functions are pointed at (AMX_EVENTS_OIDC_DISCOVERY_URL, a
file:// URL); tokens signed as the API server signs one for a Trigger's or a PingSource's service
account (RS256 with a kid; iss, aud, sub, iat, nbf, exp), that account named as Knative names it
(events/identity.py oidc_service_account, carried by each route of the plan). So a local delivery goes through the very
check a cluster delivery does (events/identity.py)."""

import json
import os
import secrets
import time
from pathlib import Path

class LocalIssuer:
    NAME = "https://issuer.amx-up.local"

    def __init__(self, folder: Path, name: str = NAME):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the signing keys: private whatever the umask
        self.folder, self.name = folder.resolve(), name
        self._keys: list[tuple[str, object]] = []  # (kid, private key), newest last
        self.rotate()

    @property
    def discovery_url(self) -> str:
        return (self.folder / "openid-configuration.json").as_uri()

    def rotate(self) -> str:
        """A new signing key, published beside the old ones (as the API server keeps publishing a key
        while tokens it signed are alive); later tokens are signed with it. Its kid is returned."""
        from cryptography.hazmat.primitives.asymmetric import rsa

        kid = secrets.token_hex(8)
        self._keys.append((kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)))
        self._publish()
        return kid

    def retire_oldest(self) -> None:
        self._keys.pop(0)
        self._publish()

    def _publish(self) -> None:
        from jwt.algorithms import RSAAlgorithm

        keys = [{**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig", "alg": "RS256"}
                for kid, key in self._keys]
        jwks = self.folder / "jwks.json"
        _write(jwks, {"keys": keys})
        _write(self.folder / "openid-configuration.json", {
            "issuer": self.name, "jwks_uri": jwks.as_uri(), "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"]})

    def token(self, audience: str, subject: str, lifetime_s: int = 600) -> str:
        now = int(time.time())  # a token's own validity window is wall-clock time by definition
        return self.sign({"iss": self.name, "aud": [audience], "sub": subject, "iat": now, "nbf": now,
                          "exp": now + lifetime_s})

    def sign(self, claims: dict, headers: dict | None = None) -> str:
        """`claims` signed with the newest key, as the API server signs (tests forge with this too)."""
        import jwt

        kid, key = self._keys[-1]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, **(headers or {})})

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._keys[-1][1].public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def kid(self) -> str:
        return self._keys[-1][0]


def _write(path: Path, document: dict) -> None:
    """Whole or not at all: a function reading the keys mid-rotation sees the old file or the new one."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(document, indent=1))
    partial.replace(path)
