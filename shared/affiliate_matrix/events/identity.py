"""Who may deliver a CloudEvent: Knative Eventing's sender identity (the `authentication-oidc`
feature). The Broker (for each Trigger) and each PingSource send `Authorization: Bearer <JWT>`, a
token the cluster's service-account issuer signs for its own service account, with the receiving
function's audience. It is checked here against the issuer's published keys (OIDC discovery, then
its JWKS); anything else is refused with 401.

Knative names an addressable's audience `<group>/<kind>/<namespace>/<name>`, lowercased; a Knative
Service does not announce one, so the manifests give each Trigger and PingSource exactly that for
its subscriber (`audience()` below), and a token naming other audiences besides is refused. Each Trigger and PingSource sends with a service account of its
own, which Knative names after it (`oidc_service_account()`), so a token proves which route sent
the event: the handler takes an event only from the route that sends it there (handlers/events.py).
PyJWT is imported here only, on the event path: it and `cryptography` cost a cold start ~50 ms that
the HTTP functions never pay.
"""

import hashlib
import json
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from affiliate_matrix.content_coding import ACCEPT_ENCODING, BodyTooLarge, BoundedDecoder, Undecodable
from affiliate_matrix.errors import BackendUnavailable, Unauthorized

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
API_SERVER_HOSTS = frozenset({"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
SIGNING_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})  # asymmetric only: a shared secret proves nothing about a sender
REFETCH_INTERVAL_S = 10.0  # at most one key refetch per interval, however many unknown key ids arrive
LEEWAY_S = 30              # clock skew allowed on exp / iat / nbf
# Knative asks the API server for one-hour tokens (knative/eventing pkg/auth/token_provider.go,
# TokenExpirationTime = time.Hour); the API server grants that or less (--service-account-max-token-expiration).
# Twice that leaves a clear margin for a release that asks for a little more, and still refuses the long-lived
# tokens no sender needs: a pod's own projected token, which the API server extends to a year
# (--service-account-extend-token-expiration), or a TokenRequest someone made for days.
MAX_TOKEN_LIFETIME_S = 2 * 3600
TRIGGER = ("eventing.knative.dev", "Trigger")        # (group, Kind) as Knative names a resource's OIDC identity
PINGSOURCE = ("sources.knative.dev", "PingSource")
MAX_DOCUMENT = 1024 * 1024  # bytes; read no further: an issuer's documents are a few KB
READ_TIMEOUT_S = 5.0        # each connect, write and read of an issuer's document
FETCH_DEADLINE_S = 15.0     # the whole fetch, connect to last byte: a server that sends a byte now and then,
                            # each within READ_TIMEOUT_S, would otherwise hold the event (and its worker) for days


def audience(namespace: str, function: str) -> str:
    """The audience Knative would give the Knative Service `function` in `namespace`."""
    return f"serving.knative.dev/service/{namespace}/{function}".lower()


def broker_audience(namespace: str, broker: str = "default") -> str:
    """The audience of a Broker's ingress: a publisher's token must be for it (Knative's `<group>/<kind>/<namespace>/
    <name>`, as in the Broker's status.address.audience)."""
    return f"eventing.knative.dev/broker/{namespace}/{broker}".lower()


def oidc_service_account(group_kind: tuple[str, str], name: str) -> str:
    """The service account Knative's `authentication-oidc` sends the resource `name`'s events with (and publishes in
    its status.auth.serviceAccountName): knative/eventing pkg/auth/serviceaccount.go
    GetOIDCServiceAccountNameForResource, lower(kmeta.ChildName(name, "-oidc-<group>-<Kind>")). The hyphen is in
    the suffix since knative/eventing#7521 (Dec 2023), older than the CRDs in ../shared/schemas/knative (they
    have status.auth.serviceAccountNames, 2024); the release just before it had none."""
    group, kind = group_kind
    return child_name(name, f"-oidc-{group}-{kind}").lower()


def child_name(parent: str, suffix: str) -> str:
    """knative/pkg kmeta.ChildName: `parent + suffix`, or, past Kubernetes' 63 characters, a prefix of the parent
    and an MD5 of it; a suffix of 31 characters or more (every OIDC one) hashes parent and suffix together, keeps 31
    characters of the parent and what of the suffix still fits, and drops trailing non-alphanumerics. Checked on
    knative/pkg kmeta/names_test.go's vectors (tests/unit/test_event_identity.py)."""
    longest, head = 63, 63 - 32
    if len(parent) <= longest - len(suffix):
        return parent + suffix
    if head - len(suffix) <= 0:
        name = parent[:head] + hashlib.md5((parent + suffix).encode()).hexdigest()
        return re.sub(r"[^A-Za-z0-9]+$", "", name + suffix[:max(longest - len(name), 0)])
    return parent[:head - len(suffix)] + hashlib.md5(parent.encode()).hexdigest() + suffix


def subject(namespace: str, service_account: str) -> str:
    """The `sub` of a token the API server signs for `service_account`."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def fetch_json(url: str, deadline_s: float = FETCH_DEADLINE_S) -> dict:
    """A discovery document or key set: a file:// URL (a local issuer), or HTTP(S) read in full within `deadline_s`."""
    parsed = urlparse(url)
    try:
        if parsed.scheme == "file":
            with open(parsed.path, "rb") as file:
                raw = file.read(MAX_DOCUMENT + 1)
        else:
            raw = _get(url, deadline_s)
    except OSError as exc:
        raise BackendUnavailable(f"the event issuer's {url} could not be read: {type(exc).__name__}") from None
    if len(raw) > MAX_DOCUMENT:
        raise too_large(url)
    try:
        document = json.loads(raw)
    except ValueError:
        raise BackendUnavailable(f"the event issuer's {url} is not JSON") from None
    if not isinstance(document, dict):
        raise BackendUnavailable(f"the event issuer's {url} is not a JSON object")
    return document


def too_large(url: str) -> BackendUnavailable:
    return BackendUnavailable(f"the event issuer's {url} is larger than the {MAX_DOCUMENT}-byte cap; not read further")


def _get(url: str, deadline_s: float) -> bytes:
    """Not the polite client (polite.py), on purpose: the issuer is the operator's setting and often the API
    server on a private address with the pod's CA (the address guard would refuse it, and its pool takes no
    CA); the Issuer spaces refetches itself (REFETCH_INTERVAL_S) and a failure is left to the sender's retry.
    The cluster's API server serves its issuer documents to service accounts only, so for it the
    pod's own token and CA go along; no other host ever sees that token.

    httpx's timeouts bound each read, not the fetch: the deadline is asyncio's (a monotonic clock), which
    cancels the fetch wherever it waits, connecting, in the headers or in the body."""
    import asyncio

    import httpx

    api_server = urlparse(url).hostname in API_SERVER_HOSTS and (SERVICE_ACCOUNT / "token").exists()
    headers = {"Authorization": f"Bearer {(SERVICE_ACCOUNT / 'token').read_text().strip()}"} if api_server else {}
    verify = str(SERVICE_ACCOUNT / "ca.crt") if api_server else True

    async def read() -> bytes:
        body = bytearray()
        async with asyncio.timeout(deadline_s), httpx.AsyncClient(timeout=READ_TIMEOUT_S, verify=verify) as client, \
                client.stream("GET", url, headers={"Accept-Encoding": ACCEPT_ENCODING, **headers}) as response:
            if response.status_code != 200:
                raise BackendUnavailable(f"the event issuer's {url} answered HTTP {response.status_code}")
            decoder = BoundedDecoder(response.headers.get("content-encoding", ""), MAX_DOCUMENT)
            async for chunk in response.aiter_raw():  # decoded within the cap: a gzip bomb stops at it
                body += decoder.decode(chunk)  # past the cap, leaving the stream unread closes the connection
            body += decoder.flush()
        return bytes(body)

    try:
        return asyncio.run(read())  # the event handlers are synchronous: no loop runs in this thread
    except BodyTooLarge:
        raise too_large(url) from None
    except Undecodable as exc:
        raise BackendUnavailable(f"the event issuer's {url} cannot be decoded: {exc}") from None
    except TimeoutError:
        raise BackendUnavailable(f"the event issuer's {url} did not answer in full within the {deadline_s:g} s "
                                 "deadline") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL (a host IDNA refuses) is no HTTPError
        raise BackendUnavailable(f"the event issuer's {url[:200]} is unreachable: {type(exc).__name__}") from None


class Issuer:
    """An issuer's name and signing keys, read through its discovery document on first use and again
    only when a token names a key not held (the issuer rotated keys), at most once per
    REFETCH_INTERVAL_S. Keys have no time-to-live: what makes a token valid is its signature and its
    own exp, so no clock decides a key's validity; a refetch replaces the set, dropping retired keys."""

    def __init__(self, discovery_url: str, fetch=fetch_json, clock=time.monotonic):
        self.discovery_url, self._fetch, self._clock = discovery_url, fetch, clock
        self._lock = threading.Lock()
        self.name: str | None = None
        self.keys: dict = {}  # kid -> jwt.PyJWK
        self._attempted_at: float | None = None
        self.fetches = 0

    def key(self, kid: str):
        """The key `kid` names, or None when the issuer does not publish it (a refetch just now does not hold it).
        A key id not held while a refetch is not yet due is BackendUnavailable, for the sender to retry: it may be
        a key the issuer rotated in moments ago, and made-up key ids sent by anyone must not use up the refetch
        so that a real event signed with it is refused for good (a 401 is not retried)."""
        known = self.keys.get(kid)  # without the lock: a refetch a made-up kid caused must not hold up a known key
        if known is not None:
            return known
        with self._lock:
            if kid not in self.keys:
                if self._attempted_at is not None and self._clock() - self._attempted_at < REFETCH_INTERVAL_S:
                    raise BackendUnavailable(f"the event's signing key is not among the issuer's keys fetched "
                                             f"moments ago; they are fetched again within {REFETCH_INTERVAL_S:.0f} s",
                                             cause="the event's signing key is not known yet",
                                             retry_after=int(REFETCH_INTERVAL_S))
                self._attempted_at = self._clock()
                self._refresh()
            return self.keys.get(kid)

    def _refresh(self) -> None:
        import jwt

        self.fetches += 1
        discovery = self._fetch(self.discovery_url)
        name, jwks_uri = discovery.get("issuer"), discovery.get("jwks_uri")
        if not isinstance(name, str) or not name or not isinstance(jwks_uri, str):
            raise BackendUnavailable(f"{self.discovery_url} names no issuer and jwks_uri")
        try:
            scheme = urlparse(jwks_uri).scheme
        except ValueError:  # an unclosed IPv6 bracket
            scheme = None
        if scheme not in ("https", "http") and not (scheme == "file" and urlparse(self.discovery_url).scheme == "file"):
            raise BackendUnavailable(f"{self.discovery_url} points at keys in {jwks_uri[:200]!r}")
        published = self._fetch(jwks_uri).get("keys")
        if not isinstance(published, list):
            raise BackendUnavailable(f"the event issuer's {jwks_uri[:200]} holds no list of keys")
        keys = {}
        for jwk in published:
            if not isinstance(jwk, dict) or jwk.get("kty") not in SIGNING_KEY_TYPES or \
                    not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except (jwt.PyJWTError, NotImplementedError, TypeError):  # PyJWK's for "alg": "none", for a list
                continue  # a curve or algorithm this build does not verify
        self.name, self.keys = name, keys


_issuers: dict[str, Issuer] = {}
_issuers_lock = threading.Lock()


def issuer_for(discovery_url: str) -> Issuer:
    """One Issuer (so one key cache) per discovery document per process."""
    with _issuers_lock:
        return _issuers.setdefault(discovery_url, Issuer(discovery_url))


def verify(authorization: str | None, issuer: Issuer, expected_audience: str, namespace: str) -> dict:
    """The claims of the event's token when it is signed by `issuer`, unexpired, for `expected_audience`
    and from a service account of `namespace` (whether it is the account of a route sending the event here,
    the handler checks once the event is read); Unauthorized naming what is wrong otherwise."""
    import jwt

    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an event needs Authorization: Bearer <the sender's OIDC token>")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("the event's token is not a JWT") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("the event's token names no signing key (kid)")
    key = issuer.key(kid)
    if key is None:
        raise Unauthorized("the event's token is signed with a key its issuer does not publish")
    try:
        # Only the algorithm of the key the token names: `none`, or HS256 keyed with the public
        # key, never verify.
        claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=expected_audience,
                            issuer=issuer.name, leeway=LEEWAY_S,
                            options={"require": ["exp", "iat", "iss", "aud", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the event's token has expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized(f"the event's token is not for {expected_audience}") from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("the event's token is from another issuer") from None
    except jwt.InvalidAlgorithmError:
        raise Unauthorized(f"the event's token is not signed with {key.algorithm_name}") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"the event's token is not valid: {exc}") from None
    # RFC 7519 lets `aud` list several, and PyJWT takes a list holding ours; but every token made here names one:
    # Knative's token provider asks the API server for the subscriber's audience alone (TokenRequest, one audience), the
    # manifests project the Broker's token for its audience alone, and amx up's issuer does the same. A token made for
    # several services is one each of them could replay to us (Kubernetes: "implies a high degree of trust between the
    # target audiences").
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1:
        raise Unauthorized(f"the event's token is for {len(claims['aud'])} audiences: a sender's token is for "
                           f"{expected_audience} alone, as Knative makes it")
    lifetime = int(claims["exp"]) - int(claims["iat"])  # both read as integers: PyJWT checked exactly that
    if lifetime > MAX_TOKEN_LIFETIME_S:  # however far its exp: a stolen long-lived token stays refused
        raise Unauthorized(f"the event's token lives {lifetime} s, longer than the {MAX_TOKEN_LIFETIME_S} s a "
                           "sender's token may")
    if not isinstance(claims["sub"], str) or not claims["sub"].startswith(f"system:serviceaccount:{namespace}:"):
        raise Unauthorized(f"the event's sender is not a service account of namespace {namespace}")
    return claims
