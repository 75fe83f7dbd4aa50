"""The errors callers are expected to handle, in one place.

Retriable errors (a backend is down, a rate limit) map to 5xx so Knative redelivers;
fatal ones (bad input, a conflict) map to 4xx or a logged, acknowledged outcome.
"""

import json


class AmxError(Exception):
    """Base of every error this package raises on purpose."""


def error_document(code: str, message: str, request_id: str) -> dict:
    """The body of every error a function answers (handlers.error_response), and of amx-function's own to a head it
    refuses or that stopped coming (server.py), with the id it minted for it as the functions do (bind_request)."""
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def error_answer(status: int, reason: str, code: str, message: str, request_id: str,
                 headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 answer of an error in the functions' shape (error_document), after which the connection is
    closed: amx-function's to a head it refuses (server.py), amx up's Broker's to an event it refuses (localrun.router).
    Written where no framework answers (a function's routes answer through handlers.error_response)."""
    body = json.dumps(error_document(code, message, request_id), separators=(",", ":")).encode()
    more = b"".join(b"%s: %s\r\n" % (name.encode(), value.encode()) for name, value in (headers or {}).items())
    return (b"HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"X-Content-Type-Options: nosniff\r\nX-Request-Id: %s\r\n%sContent-Length: %d\r\n\r\n%s"
            % (status, reason.encode(), request_id.encode(), more, len(body), body))


class ConfigError(AmxError):
    """A setting is missing, malformed or points at something unusable. Names the setting. `retry_after` (seconds)
    when time may cure it: nothing answers at a backend's address, which may be a wrong address or a node not up
    yet; None when only a change of setting will (a malformed value, refused credentials, a missing bucket). A
    request that meets it is a 503 (an event is redelivered) with a Retry-After only in the first case."""

    shown = False  # whether a request's answer may say its words (a setting's value may be a credential)

    def __init__(self, setting: str, problem: str, *, retry_after: int | None = None):
        self.setting = setting
        self.retry_after = retry_after
        super().__init__(f"{setting}: {problem}")


class SettingMissing(ConfigError):
    """A setting the server needs for what was asked, with no default, not set: the operator's to set, not the
    caller's fault (a 503, as any ConfigError), its answer naming the variable (a name, no value)."""

    shown = True

    def __init__(self, setting: str, problem: str):
        super().__init__(setting, f"not set: {problem}")


def without_credentials(text: str, url: str) -> str:
    """`text` (an address, an error naming it) without the user:password@ that `url` may carry: a backend's
    setting may hold them, and a start's error line or a log line must not."""
    from urllib.parse import urlsplit  # only on an error's way out

    userinfo = urlsplit(url).netloc.rpartition("@")[0]
    return text.replace(f"{userinfo}@", "") if userinfo else text


def _chain(exc: BaseException | None):
    """`exc` and the errors down the chain a client wrapped the first one in (raised from, raised while handling, or
    carried as an argument)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = next((e for e in (getattr(exc, "info", None), exc.__cause__, exc.__context__, *exc.args)
                    if isinstance(e, BaseException) and id(e) not in seen), None)


def tls_reason(exc: BaseException | None) -> str:
    """Why the TLS library refused a server's certificate, in its words ("unable to get local issuer certificate",
    "Hostname mismatch, …"), found down the chain of errors the client wrapped it in."""
    import ssl  # only on an error's way out

    return next((e.verify_message for e in _chain(exc) if isinstance(e, ssl.SSLCertVerificationError)),
                "the TLS handshake failed")


def tls_failed(exc: BaseException) -> bool:
    """Whether the TLS library failed the connection (a certificate refused, a handshake failing), anywhere down the
    chain of errors a client wrapped it in."""
    import ssl  # only on an error's way out

    return any(isinstance(e, ssl.SSLError) for e in _chain(exc))


class ConflictError(AmxError):
    """A conditional write lost: the object changed (If-Match) or exists (If-None-Match)."""


class NotFoundError(AmxError):
    """The named object, document or secret does not exist."""


class BackendUnavailable(AmxError):
    """A backend could not be reached or answered with a server error; retrying may help. `cause` says why in
    words fit for a caller (no URL, host or credentials: the message, for the log, may name more), and
    `retry_after` in how many seconds to try again (the HTTP layer's Retry-After)."""

    def __init__(self, message: str, *, cause: str = "a backend is unavailable", retry_after: int = 5):
        self.cause = cause
        self.retry_after = retry_after
        super().__init__(message)


class InvalidInput(AmxError):
    """Input failed validation; the message names the field and the value."""


# What a caller does with a cursor refused, in the API's words (a command says its own: cli.common.as_option)
CURSOR_PASSED_BACK = "pass back next_cursor exactly as it was given"
CURSOR_OF_ITS_QUERY = "keep the other parameters (limit aside) as they were on the page that gave it"


def malformed_cursor() -> InvalidInput:
    """A cursor no page answered (hand-made, cut, of another listing's), refused one way by every listing."""
    return InvalidInput(f"cursor is malformed: {CURSOR_PASSED_BACK}")


class ContentTooLarge(InvalidInput):
    """A request's body larger than its route takes (Route.body_limit): answered 413 (Content Too Large), read no
    further; the message names the limit."""


class ImportIncomplete(AmxError):
    """An import stopped in its write phase (interrupted, a backend failing): some of it is written, the rest not. The
    message says how far it got and that the same import again finishes it (what is written again is harmless)."""


class RequestStalled(AmxError):
    """The client sent nothing more of its request (its head or its body) for `seconds`
    (AMX_REQUEST_READ_TIMEOUT_S), not its whole head within `seconds` of its first byte (`whole_head`, twice that), or
    its body slower than `min_rate` bytes a second once its reads had waited `seconds` (AMX_REQUEST_BODY_MIN_RATE):
    answered 408 where an answer can still be sent, and the connection closed."""

    def __init__(self, seconds: float, whole_head: bool = False, min_rate: float | None = None):
        self.seconds, self.min_rate = seconds, min_rate
        if whole_head:
            message = f"the request's head did not come whole within {seconds:g} s: send it again"
        elif min_rate:
            message = (f"the request's body came slower than {min_rate:g} bytes a second after its first {seconds:g} "
                       "s: send it again, faster")
        else:
            message = f"nothing more of the request came for {seconds:g} s: send it again"
        super().__init__(message)


class UnsupportedMediaType(AmxError):
    """A request body declared as another media type than the route reads."""


class AccessDenied(AmxError):
    """Credentials were refused (a token without the policy, a wrong role)."""


class Unauthorized(AmxError):
    """No credentials, or credentials that are not valid."""


class MethodNotAllowed(AmxError):
    """The route exists but not for this HTTP method."""

    def __init__(self, method: str, allowed: tuple[str, ...]):
        self.allowed = allowed
        super().__init__(f"method {method} is not allowed here; use {', '.join(allowed)}")


class PreconditionRequired(AmxError):
    """A conditional write arrived without If-Match."""


class PreconditionFailed(AmxError):
    """A conditional write's If-Match is no longer the current ETag."""


class DamagedData(AmxError):
    """Stored data cannot be read (a truncated document, a corrupt secrets file, cache entry or index):
    names where it is and what to do about it."""

    def __init__(self, where: str, problem: str, remedy: str):
        self.where, self.problem = where, problem[:300]
        super().__init__(f"{where} is damaged ({problem[:300]}): {remedy}")


class ObjectTooLarge(DamagedData):
    """An object larger than its read takes (ObjectStore.get's max_bytes, storage's MAX_*_BYTES): refused before its body
    is read, as damaged, since the product writes none so large there. `size` None: the store did not say it (its
    body ran past the bound); `etag`: the object's, for a caller that writes over a damaged one If-Match."""

    def __init__(self, key: str, size: int | None, most: int, etag: str | None):
        self.key, self.size, self.most, self.etag = key, size, most, etag
        said = f"{size:,} bytes, more than" if size is not None else "more than"  # None: its body ran past the bound
        super().__init__(f"object {key}", f"too large to read: {said} the {most:,} bytes a read of it takes",
                         "delete it, or put back what was there: nothing this product writes there is so large")


# What event work ends with that a delivery again would not cure: the event's own data is wrong (answered 400, parked),
# or what it is about is gone or damaged (logged and acknowledged). Anything else is retried (handlers/events.receive).
NOT_RETRIED = (InvalidInput, NotFoundError, DamagedData)


class FetchError(Exception):
    """A page or an API could not be fetched (or was refused by the address guard); the message says why
    in words. Not an AmxError: a crawl records it for the page and goes on."""

    # The object-store key of the answer kept, where there was one (an API's error answer): the provider's own words
    raw_key: str | None = None


# How a request refused for what it is (not for a backend) is answered: each kind's status and code, the first that
# fits (a ContentTooLarge is an InvalidInput too), with the headers its status calls for. One table for every
# answering place: a function's routes (handlers.serve) and amx up's Broker (localrun.router).
REFUSALS: tuple[tuple[type[AmxError], int, str], ...] = (
    (ContentTooLarge, 413, "content_too_large"), (InvalidInput, 400, "invalid_request"),
    (Unauthorized, 401, "unauthorized"), (UnsupportedMediaType, 415, "unsupported_media_type"),
    (AccessDenied, 403, "forbidden"), (MethodNotAllowed, 405, "method_not_allowed"), (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"), (PreconditionFailed, 412, "precondition_failed"),
    (PreconditionRequired, 428, "precondition_required"))
REFUSED = tuple(kind for kind, _, _ in REFUSALS)


def refusal(exc: AmxError) -> tuple[int, str, dict[str, str]]:
    """The status, code and headers answering a refused request (`exc` one of REFUSED): a 401 says the scheme to
    authenticate with (RFC 9110 11.6.1), a 405 the methods allowed."""
    status, code = next((status, code) for kind, status, code in REFUSALS if isinstance(exc, kind))
    if status == 401:
        return status, code, {"WWW-Authenticate": 'Bearer realm="affiliate-matrix"'}
    if isinstance(exc, MethodNotAllowed):
        return status, code, {"Allow": ", ".join(exc.allowed)}
    return status, code, {}
