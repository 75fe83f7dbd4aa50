"""API bearer tokens: minted once, stored only as a SHA-256 hash through the secrets port,
verified in constant time. A token is `amx_<id>_<secret>`; the id locates its record.

Every token expires (`amx tokens create --ttl`, 90 days by default); the expiry is compared with
the request's time. Every request reads the token's record afresh: no positive cache, and no copy
kept for a Vault outage, so `amx tokens revoke ID` (which destroys the record) refuses the very
next request in every running function. The record's metadata (role, created, expires, revoked)
lives beside it for `amx tokens list`, which never shows a token or its hash. The last use goes to
the object store at most once a minute per token and function instance, once the answer is sent: a
burst of requests costs one write, and the list shows the last use to the minute.
"""

import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from affiliate_matrix.errors import AccessDenied, AmxError, DamagedData, InvalidInput, NotFoundError, Unauthorized
from affiliate_matrix.observability import get_logger
from affiliate_matrix.runtime import after_answer

log = get_logger()
ROLES = ("read", "admin")
FOLDER = "api-tokens"
DEFAULT_TTL = timedelta(days=90)
MAX_TTL = timedelta(days=366)
LAST_USE_EVERY = timedelta(minutes=1)
_TOKEN = r"^amx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$"  # compiled by re when a token is first read
_last_use_written: dict[str, datetime] = {}  # token id -> the last use this process wrote


class TokenInfo(NamedTuple):  # a record; a NamedTuple costs every start that checks a token ~0.5 ms less than a dataclass
    """What `amx tokens list` shows: never the token, never its hash."""
    id: str
    role: str
    created_at: str
    expires_at: str
    revoked_at: str | None
    last_used_at: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id(header: str | None) -> str | None:
    """The id part of a bearer token, unverified: enough to bucket a caller for feature flags."""
    scheme, _, token = (header or "").partition(" ")
    match = re.match(_TOKEN, token.strip()) if scheme.lower() == "bearer" else None
    return match.group(1) if match else None


def parse_ttl(text: str) -> timedelta:
    """`90d`, `12h` or `30m`, at least a minute and at most MAX_TTL."""
    match = re.fullmatch(r"(\d{1,6})([dhm])", text.strip())  # the CLI's: compiled when first used
    if not match:
        raise InvalidInput(f"ttl: {text!r} is not a number of days, hours or minutes (90d, 12h, 30m)")
    unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
    ttl = timedelta(**{unit: int(match.group(1))})
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InvalidInput(f"ttl: {text!r} must be between 1m and {MAX_TTL.days}d")
    return ttl


def create_token(secret_store, role: str, *, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None) -> str:
    """A new token for `role`, valid for `ttl` from `now`; the only place it is ever shown is the return value."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    created = now or datetime.now(UTC)
    public = {"role": role, "created_at": created.isoformat(), "expires_at": (created + ttl).isoformat()}
    path = f"{FOLDER}/{token_id}"
    secret_store.write(path, {"sha256": _hash(secret), **public}, cas=0)
    secret_store.set_custom_metadata(path, public)
    return f"amx_{token_id}_{secret}"


def expires_at(record: dict) -> datetime:
    """Tokens minted before expiry existed carry none: they expire DEFAULT_TTL after creation."""
    if "expires_at" in record:
        return datetime.fromisoformat(record["expires_at"])
    return datetime.fromisoformat(record["created_at"]) + DEFAULT_TTL


def authorize(rt, header: str | None, needed: str = "read", now: datetime | None = None) -> str:
    """The caller's role from an `Authorization: Bearer …` header; Unauthorized or AccessDenied otherwise."""
    _, record = _bearer_record(rt, header, now or datetime.now(UTC))
    return allowed(record, needed)


def allowed(record: dict, needed: str) -> str:
    """The role of a token's record when it may do what needs `needed` (a route's role); AccessDenied otherwise. The
    API's routes and the web's pages alike."""
    if needed == "admin" and record["role"] != "admin":
        raise AccessDenied("this needs an admin token, and this one is a read token: `amx tokens create --role admin` "
                           "mints one")
    return record["role"]


def _bearer_record(rt, header: str | None, now: datetime) -> tuple[str, dict]:
    """The id and live record of the token an `Authorization: Bearer …` header sends; Unauthorized otherwise."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (create one with `amx tokens create`)")
    match = re.match(_TOKEN, token.strip())
    if match is None:  # sent, but not as `amx tokens create` prints one (cut short when copied, say); never echoed
        raise Unauthorized("the token is not one `amx tokens create` printed (amx_, 12 hexadecimal digits, _ and 43 "
                           "characters): was it cut short when copied?")
    token_id, secret = match.groups()
    return token_id, _live_record(rt, token_id, secret, now)


# One answer for a token never minted here, revoked, or not its own secret (which it was is not told); where to look,
# since a token minted in another data dir (the demo's, run elsewhere) or another Vault is refused the same way
NOT_VALID = ("the token is not valid: revoked, or not minted where this runs (its AMX_DATA_DIR or Vault): `amx tokens "
             "list` there shows the tokens it holds, `amx tokens create` mints one")


def _live_record(rt, token_id: str, secret: str | None, now: datetime) -> dict:
    """The token's record, its use noted, if it is minted, not revoked, not expired and (with `secret`) its own."""
    try:
        record = rt.secrets.read(f"{FOLDER}/{token_id}", outage_copy=False).data
    except NotFoundError:  # never minted, or revoked
        raise Unauthorized(NOT_VALID) from None
    until = _checked_token(token_id, record)
    if secret is not None and not hmac.compare_digest(record["sha256"], _hash(secret)):
        raise Unauthorized(NOT_VALID)
    if now >= until:
        raise Unauthorized(f"the token expired at {until.isoformat(timespec='seconds')}; "
                           "create a new one with `amx tokens create`")
    _note_use(rt, token_id, now)
    return record


def _checked_token(token_id: str, record: dict) -> datetime:
    """A token's record as create_token writes it, its expiry; DamagedData when it is not (a hand edit, a store's
    fault): a missing hash or an unreadable expiry raised out of the check, a 500 naming nothing, and an unknown role
    was taken for a read token's."""
    try:
        sha256, role, until = record["sha256"], record["role"], expires_at(record)
        # a hash is ASCII (hmac.compare_digest raises TypeError on other text)
        if not (isinstance(sha256, str) and sha256.isascii() and role in ROLES and until.tzinfo is not None):
            raise TypeError("a field of another type or value")
    except (KeyError, TypeError, ValueError) as exc:
        raise DamagedData(f"the API token record {token_id}", f"not as `amx tokens create` writes it: "
                          f"{type(exc).__name__}", f"revoke it (`amx tokens revoke {token_id}`) and create "
                          "another") from None
    return until


# A browser signed in to the web pages holds a session, not the API token it signed in with: a secret of its own,
# kept hashed under SESSIONS beside the token's id, valid SESSION_TTL and never past the token's own expiry, destroyed
# at sign-out. So a copied cookie is worth hours at most and nothing once its browser signed out, and the API token,
# valid for months, never sits in a cookie jar. Each page checks the session and the token it stands for, so
# revoking the token ends its sessions at their next click.
SESSIONS = "web-sessions"
SESSION_TTL = timedelta(hours=12)
# Records of other sessions each sign-in checks, once its answer is sent, removing those that ended (sweep_sessions).
SWEPT_AT_SIGN_IN = 4
# The sessions one token holds at once (browsers, people sharing a read token): a sign-in past them ends the oldest, so
# signing in in a loop fills no store. A session's id starts with its token's, so a listing counts them.
SESSIONS_PER_TOKEN = 20
# compiled by re on the web pages' first use: not by the APIs'
_SESSION = r"^amxs_([0-9a-f]{12}-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$"


def open_session(rt, token: str, now: datetime | None = None) -> str:
    """A new session for a valid API token (Unauthorized otherwise); the only place it is shown is the return value."""
    now = now or datetime.now(UTC)
    token_id, record = _bearer_record(rt, f"Bearer {token}", now)
    until = min(now + SESSION_TTL, expires_at(record))
    session_id, secret = f"{token_id}-{secrets.token_hex(6)}", secrets.token_urlsafe(32)
    rt.secrets.write(f"{SESSIONS}/{session_id}", {"sha256": _hash(secret), "token_id": token_id,
                                                  "expires_at": until.isoformat()}, cas=0)
    log.info("session.opened", session_id=session_id, token_id=token_id)
    after_answer(lambda: sweep_sessions(rt, session_id, now))
    return f"amxs_{session_id}_{secret}"


def sweep_sessions(rt, opened: str, now: datetime, most: int = SWEPT_AT_SIGN_IN) -> int:
    """Remove the records of the token's sessions past SESSIONS_PER_TOKEN with the one just `opened` (those ending
    first: opened first), then of ended sessions (expired, or closed when sign-out only destroyed their versions) among
    the `most` that follow `opened` in the listing by their random part, wrapping round; how many. Bounded work at each
    sign-in, in the function that owns the records and with no schedule to run: the random parts make these a fair
    sample, and as each sign-in adds one record and removes `most` times the share of ended ones on average, at most
    about 1/`most` of the records kept are of ended sessions. An ended session is one its own expiry says is over; a
    sweep that fails is logged and left to the next sign-in."""
    from bisect import bisect_right

    def random_part(session_id: str) -> str:
        return session_id.rpartition("-")[2]

    def ends(session_id: str) -> datetime:
        try:
            return _session_record(rt, session_id).expires_at
        except (NotFoundError, DamagedData):  # closed before sign-out removed records (only its metadata left), or
            return datetime.min.replace(tzinfo=UTC)  # a record no session can use: ended

    try:
        names = [name for name in rt.secrets.list(SESSIONS) if not name.endswith("/") and name != opened]
        own = [name for name in names if name.startswith(opened.partition("-")[0] + "-")]
        past = sorted(own, key=ends)[:len(own) + 1 - SESSIONS_PER_TOKEN] if len(own) >= SESSIONS_PER_TOKEN else []
        names = sorted((name for name in names if name not in past), key=random_part)
        start = bisect_right([random_part(name) for name in names], random_part(opened))
        checked = (names[(start + i) % len(names)] for i in range(min(most, len(names))))
        removed = past + [name for name in checked if now >= ends(name)]
        for session_id in removed:
            rt.secrets.remove(f"{SESSIONS}/{session_id}")
        if past:
            log.info("sessions.past_bound_ended", token_id=opened.partition("-")[0], ended=len(past))
    except AmxError as exc:
        log.warning("sessions.not_swept", error=type(exc).__name__)
        return 0
    if removed:
        log.info("sessions.swept", removed=len(removed))
    return len(removed)


class _SessionRecord(NamedTuple):
    sha256: str
    token_id: str
    expires_at: datetime


def _session_record(rt, session_id: str) -> _SessionRecord:
    """A session's record as open_session wrote it; NotFoundError when there is none, DamagedData when it is not of
    that shape (a hand edit, a store's fault): every reader of it checks the same fields the same way."""
    data = rt.secrets.read(f"{SESSIONS}/{session_id}", outage_copy=False).data
    try:
        sha256, token, expires_at = data["sha256"], data["token_id"], datetime.fromisoformat(data["expires_at"])
        # a hash is ASCII (hmac.compare_digest raises TypeError on other text, a 500 at the comparison)
        if not (isinstance(sha256, str) and sha256.isascii() and isinstance(token, str)
                and expires_at.tzinfo is not None):
            raise TypeError("a field of another type")
    except (KeyError, TypeError, ValueError) as exc:
        raise DamagedData(f"the web session record {session_id}", f"not as a sign-in writes it: {type(exc).__name__}",
                          "sign in again (the record is left to the sweeps at sign-in)") from None
    return _SessionRecord(sha256, token, expires_at)


def session_token_id(rt, session: str | None, now: datetime | None = None, needed: str = "read") -> str:
    """The id of the API token a live session stands for; Unauthorized when there is none, it expired or was closed,
    or its token was revoked or expired; AccessDenied when the token's role may not do what needs `needed`."""
    match = re.match(_SESSION, session or "")
    if match is None:
        raise Unauthorized("not signed in")
    session_id, secret = match.groups()
    try:
        record = _session_record(rt, session_id)
    except NotFoundError:  # never opened, or signed out
        raise Unauthorized("the session is not valid: sign in again") from None
    except DamagedData as exc:  # the browser is asked to sign in again, as for any session it cannot use
        log.warning("session.damaged", session_id=session_id, problem=exc.problem)
        raise Unauthorized("the session is not valid: sign in again") from None
    if not hmac.compare_digest(record.sha256, _hash(secret)):
        raise Unauthorized("the session is not valid: sign in again")
    now = now or datetime.now(UTC)
    if now >= record.expires_at:
        raise Unauthorized("the session expired: sign in again")
    allowed(_live_record(rt, record.token_id, None, now), needed)
    return record.token_id


def close_session(rt, session: str | None) -> None:
    """Remove the session's record (signing out): its cookie is refused from then on, wherever it was copied to."""
    match = re.match(_SESSION, session or "")
    if match is None:
        return
    path = f"{SESSIONS}/{match.group(1)}"
    try:  # damaged: not removed on the word of a cookie it cannot check (DamagedData)
        stored = _session_record(rt, match.group(1)).sha256
    except NotFoundError:
        return
    if not hmac.compare_digest(stored, _hash(match.group(2))):
        return  # not this browser's to end
    rt.secrets.remove(path)
    log.info("session.closed", session_id=match.group(1))


def close_replaced_session(rt, session: str | None) -> None:
    """close_session of the session a browser held when it signed in again. Failing to (the secrets store's outage, a
    damaged record) is logged with the session's id, never its secret, and its record left to end at its expiry: the
    sign-in stands, the browser holding the new session, rather than failing with the new record left behind."""
    try:
        close_session(rt, session)
    except AmxError as exc:
        log.warning("session.not_closed_at_sign_in", session_id=re.match(_SESSION, session).group(1),
                    error=type(exc).__name__)


def _last_use_key(token_id: str) -> str:
    return f"{FOLDER}/last-used/{token_id}.json"


def _note_use(rt, token_id: str, now: datetime) -> None:
    """Record the last use, at most once per LAST_USE_EVERY per token in this process; never fails a request.

    In a request, the record is written once the answer is sent (runtime.after_answer): the caller does not
    wait for an object store write (an S3 PUT in production) on the first request of each instance. A write
    still fails or succeeds as it did inline; what is new is only that an instance killed between sending the
    answer and closing it loses that one record, as a crash mid-request would lose it before."""
    written = _last_use_written.get(token_id)
    if written is not None and now - written < LAST_USE_EVERY:
        return
    _last_use_written[token_id] = now
    after_answer(lambda: _write_last_use(rt, token_id, now))


def _write_last_use(rt, token_id: str, now: datetime) -> None:
    try:
        rt.store.put(_last_use_key(token_id), json.dumps({"last_used_at": now.isoformat()}).encode(),
                     content_type="application/json")
    except AmxError as exc:
        log.warning("token.last_use_not_recorded", token_id=token_id, error=type(exc).__name__)


def list_tokens(rt) -> list[TokenInfo]:
    """Every token there is or was, from the records' metadata (which outlives a revocation)."""
    tokens = []
    for name in rt.secrets.list(FOLDER):
        if name.endswith("/"):
            continue
        metadata = rt.secrets.metadata(f"{FOLDER}/{name}")
        revoked = all(v["destroyed"] for v in metadata.versions.values())
        public = metadata.custom_metadata
        if not public and not revoked:  # minted before the metadata was kept: the record's public part
            record = rt.secrets.read(f"{FOLDER}/{name}").data
            public = {k: record[k] for k in ("role", "created_at") if k in record}
        try:
            used = json.loads(rt.store.get(_last_use_key(name)).data)["last_used_at"]
        except NotFoundError:
            used = None
        expiry = public.get("expires_at") or (expires_at(public).isoformat() if "created_at" in public else "?")
        tokens.append(TokenInfo(name, public.get("role", "?"), public.get("created_at", "?"), expiry,
                                public.get("revoked_at") or ("(time unknown)" if revoked else None), used))
    return tokens


def revoke_token(rt, token: str, now: datetime | None = None) -> str | None:
    """Destroy the token's record: every function refuses it from its next request. A token revoked already is left
    as it is, and when it was revoked returned (revoking it again wrote a new time over it, and logged it again)."""
    if not re.fullmatch(r"[0-9a-f]{12}", token):
        raise InvalidInput(f"{token!r} is not a token id (12 hex digits, as `amx tokens list` shows)")
    path = f"{FOLDER}/{token}"
    try:
        metadata = rt.secrets.metadata(path)
    except NotFoundError:
        raise NotFoundError(f"there is no token {token} (amx tokens list)") from None
    if earlier := metadata.custom_metadata.get("revoked_at"):
        return earlier
    rt.secrets.destroy(path, [v for v, m in metadata.versions.items() if not m["destroyed"]])
    revoked = (now or datetime.now(UTC)).isoformat()
    rt.secrets.set_custom_metadata(path, {**metadata.custom_metadata, "revoked_at": revoked})
    log.warning("token.revoked", token_id=token)
    _end_sessions_of(rt, token)
    return None


def _end_sessions_of(rt, token_id: str) -> None:
    """Remove the records of a revoked token's sessions (their ids start with its id). Each is refused from the token's
    revocation on anyway; removed here, they hold no place in the store for their 12 hours. Failing is logged only."""
    try:
        ended = [name for name in rt.secrets.list(SESSIONS) if name.startswith(f"{token_id}-")]
        for session_id in ended:
            rt.secrets.remove(f"{SESSIONS}/{session_id}")
    except AmxError as exc:
        log.warning("sessions.not_ended", token_id=token_id, error=type(exc).__name__)
        return
    if ended:
        log.info("sessions.ended_with_token", token_id=token_id, ended=len(ended))
