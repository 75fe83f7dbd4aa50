"""What the HTTP function entry points call: request intake, error mapping, JSON responses.

Retriable failures (a backend down) become 5xx so Knative redelivers; fatal ones (bad input,
an unknown connection) are logged and acknowledged, or answered with a 4xx naming the problem.
"""

import codecs
import io
import json
import time
from collections.abc import Callable, Iterator

from werkzeug.exceptions import HTTPException

from affiliate_matrix.content_coding import check_uncoded
from affiliate_matrix.errors import (
    REFUSED, BackendUnavailable, ConfigError, ContentTooLarge, DamagedData, InvalidInput, RequestStalled,
    UnsupportedMediaType, error_document, refusal,
)
from affiliate_matrix.json_input import json_document, json_media_type
# telemetry (every request's span and counts) and auth (routes.py) are imported with the function, before gunicorn
# forks its worker: what the first request imports costs the worker about three times as much (each page it writes is
# first copied from the master's).
from affiliate_matrix.observability import bind_request, function_name, get_logger, raised_at, telemetry
from affiliate_matrix.runtime import AFTER_ANSWER

# So is the idna codec werkzeug's URL map encodes each request's host with (its module and stringprep's tables): 4.7 M
# instructions of the worker's first request.
codecs.lookup("idna")
log = get_logger()
UNREAD_LIMIT = 64 * 1024  # what is read of a body its route left (serve); past it, the connection is closed


def json_response(body, status: int = 200, headers: dict | None = None):
    return (json.dumps(body, default=str, separators=(",", ":")), status,
            {"Content-Type": "application/json", **(headers or {})})


def query_of(request):
    """The request's query parameters (request.args), refused naming the first parameter whose name or value is not
    UTF-8 once percent-decoded: Werkzeug reads such an escape as its own text, so `network=c%FFj` searched for a
    network 'c%FFj' and found none, as if it had been asked for."""
    utf8_urlencoded(request.query_string)
    return request.args


def names_sent(names) -> str:
    """The names of parameters a request sent, as a refusal lists them: sorted, each escaped as a log line holds it
    (observability.escaped_for_log: a bidi override or a line feed in a name was shown as is, turning the message
    around it), at most 200 characters."""
    from affiliate_matrix.observability import escaped_for_log

    return ", ".join(map(escaped_for_log, sorted(names)))[:200]


def no_parameters(request) -> None:
    """A route that takes no query parameters refuses any, naming them: one misspelt or misplaced is not ignored."""
    if args := query_of(request):
        raise InvalidInput(f"unknown parameter(s): {names_sent(args)}; this takes none")


def utf8_urlencoded(raw: bytes) -> None:
    """InvalidInput naming the first parameter of `raw` (a query string or a form, URL-encoded) whose name or value
    is not UTF-8 once percent-decoded."""
    if b"%" in raw or not raw.isascii():
        from urllib.parse import unquote_to_bytes

        for pair in raw.split(b"&"):
            try:
                unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                name = pair.partition(b"=")[0].decode("latin-1")[:80]
                raise InvalidInput(f"{name!r} is not UTF-8 once percent-decoded: percent-encode the UTF-8 bytes of "
                                   "its name and value") from None


def check_content_coding(request, what: str) -> None:
    """UnsupportedMediaType (415) naming the Content-Encoding of a body in a coding (content_coding.check_uncoded)."""
    check_uncoded(request.headers.get("Content-Encoding"), what)


def body_of(request, limit: int, why: str = "", optional: bool = False) -> dict:
    """The JSON object in a request body, read no further than `limit` bytes (its route's body_limit; a larger one is
    ContentTooLarge, answered 413, saying `why` the limit is what it is). A body without a Content-Type
    is read as JSON; one declared as something else (text/plain, a form: what a page of another site may
    send without a CORS preflight), or in a coding (Content-Encoding), is refused. No body at all is {} when the
    route's body is `optional` (none of its fields required: POST /rules/{id}/enable)."""
    check_content_coding(request, "the body")
    if request.mimetype and not json_media_type(request.mimetype):
        raise UnsupportedMediaType(f"the body is {request.mimetype[:80]}: send the body as Content-Type: "
                                   "application/json")
    too_large = f"the body is larger than {limit} bytes{f' ({why})' if why else ''}: send at most that"
    if (request.content_length or 0) > limit:
        raise ContentTooLarge(too_large)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise ContentTooLarge(too_large)
    if not raw and optional:
        return {}
    body = json_document(raw or b"null")
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def error_response(status: int, code: str, message: str, request_id: str):
    return json_response(error_document(code, message, request_id), status, {"X-Request-Id": request_id})


def serve(rt, request, route: Callable, with_flags: bool = True) -> tuple:
    """Run an HTTP route with a request id and trace context bound to every log line, the feature
    flags evaluated for the caller (its token, else the request), errors shaped as JSON, and the
    request counted; /healthz (no token: Kubernetes' probe) and /metrics (a read token: what it shows, the rules,
    event types and error rates, is nobody else's business) answer for every function. What the route left for
    after its answer (runtime.after_answer) runs once the answer is sent."""
    answer = _served(rt, request, route, rt.flags if with_flags else None)
    _leave_the_rest(request)
    return answer


def entry_point(handle: Callable) -> Callable:
    """A function's entry point (the `handle` of its main.py), an HTTP function for functions-framework, which is sent
    what functions-framework answers itself too: /favicon.ico, /robots.txt and a path holding a line break (which
    Werkzeug's routing takes for none) got Flask's HTML page, not the function's JSON error (or the web's page), with
    none of its headers."""
    import flask
    import functions_framework

    functions_framework.errorhandler(404)(lambda _error: handle(flask.request))
    return functions_framework.http(handle)


def _leave_the_rest(request) -> None:
    """functions-framework reads what a route left of the body, whole and into memory, before it answers (its
    read_request): a body of any size, or one that never ends, with or without a token. What is left is read
    here no further than UNREAD_LIMIT bytes; past that, functions-framework finds the body read, and gunicorn
    (which drains at most 64 KiB of a body left unread) closes the connection after the answer, which says so
    (amx-function). A body declared longer than that is not read at all: the connection is closed after the answer
    whatever comes, and a client that sent a few bytes of a 2 GB Content-Length held the answer for the read's bound."""
    try:
        if (request.content_length or 0) <= UNREAD_LIMIT and not (request.stream.read(UNREAD_LIMIT)
                                                                 and request.stream.read(1)):
            return
    except RequestStalled as exc:  # the answer goes all the same; amx-function closes the connection after it
        log.warning("request.stalled", read="body", seconds=exc.seconds, min_rate=exc.min_rate)
    except InvalidInput:  # a malformed chunk (amx-function): the answer goes all the same; gunicorn closes after it
        log.warning("request.invalid", read="body")
    request.stream = io.BytesIO()  # werkzeug's cached_property may be set


def _metrics(rt, request) -> tuple:
    from affiliate_matrix.auth import authorize

    authorize(rt, request.headers.get("Authorization"))
    no_parameters(request)  # Prometheus sends none unless its scrape config's `params` names some
    body, content_type = telemetry.exposition()
    return body, 200, {"Content-Type": content_type}


def _health(request) -> tuple:
    no_parameters(request)  # Kubernetes' probes send none
    return json_response({"status": "ok", "function": function_name()})


def _served(rt, request, route: Callable, flags) -> tuple:
    if request.path == "/metrics":
        route = lambda request: _metrics(rt, request)  # noqa: E731 - answered and shaped as any route
    elif request.path == "/healthz":  # liveness, for every function, without a token, before any route or flag
        route, flags = _health, None
    request_id = bind_request(request.headers.get("X-Request-Id"), method=request.method, path=request.path)
    traceparent = telemetry.start_span(request.headers.get("traceparent"))
    started = time.perf_counter()
    pending: list[Callable[[], None]] = []
    serving = AFTER_ANSWER.set(pending)
    try:
        if flags is not None:
            from affiliate_matrix import flags as feature_flags
            from affiliate_matrix.auth import token_id

            feature_flags.bind(flags.config, token_id(request.headers.get("Authorization")) or request_id)
        body, status, headers = route(request)
        headers["X-Request-Id"] = request_id
    except RequestStalled as exc:  # the body stopped coming (amx-function's bound on each read); never logs the body
        log.warning("request.stalled", read="body", seconds=exc.seconds, min_rate=exc.min_rate)
        body, status, headers = error_response(408, "request_timeout", str(exc), request_id)
    except REFUSED as exc:
        status, code, more = refusal(exc)
        body, status, headers = error_response(status, code, str(exc), request_id)
        headers |= more
    except DamagedData as exc:  # stored data, not the request: one line naming where and what to do
        log.error("request.damaged_data", where=exc.where, error=str(exc))
        body, status, headers = error_response(500, "damaged_data", str(exc), request_id)
    except ConfigError as exc:  # a backend this request is the first to use is misconfigured (runtime.py)
        log.error("request.misconfigured", setting=exc.setting, error=str(exc))
        if exc.shown:  # an index behind the code: the operator is told the migration to run (search.IndexBehind)
            body, status, headers = error_response(503, "unavailable", f"{exc}; retry once it is done", request_id)
        elif exc.retry_after is None:  # only a new setting cures it: a Retry-After would promise that waiting does
            body, status, headers = error_response(503, "unavailable", "a backend is misconfigured; retry once it "
                                                   "is fixed", request_id)
        else:  # nothing answers at its address: a node not up yet will
            body, status, headers = error_response(503, "unavailable", "a backend is unreachable; retry later",
                                                   request_id)
            headers["Retry-After"] = str(exc.retry_after)
    except BackendUnavailable as exc:  # overloaded or unreachable: the caller is told why and when to try again
        log.error("request.backend_unavailable", error=str(exc))
        body, status, headers = error_response(503, "unavailable", f"{exc.cause}; retry later", request_id)
        headers["Retry-After"] = str(exc.retry_after)
    except HTTPException:  # Werkzeug's own answer to a request it could not read (a client gone mid-body): Flask's
        raise
    except Exception as exc:  # a fault no branch foresaw (a bug): answered and counted as any error, logged once with
        # the request's id, its type and where it was raised; its words and a traceback may quote a credential (it was
        # left to Flask: an HTML 500 without the request's id, its traceback on stderr in lines of its own, unredacted)
        log.error("request.failed", error=type(exc).__name__, at=raised_at(exc))
        body, status, headers = error_response(500, "internal_error", "an unexpected fault: it is logged with this "
                                               "request's id", request_id)
    finally:  # an error no branch answers (a 500) still leaves the work the route left behind
        AFTER_ANSWER.reset(serving)
        if pending:
            _run_once_sent(pending)
    return _answered((body, status, headers), started, traceparent)


def _run_once_sent(pending: list[Callable[[], None]]) -> None:
    """Run the work once the WSGI server has sent the answer: it closes every response, and Werkzeug runs a
    response's close callbacks then, on the same worker thread, before it takes the next request. A route
    called with no web request around it (a test calling the route) has no answer to wait for: it runs now."""
    from flask import after_this_request, has_request_context  # loaded already: the function's framework

    if not has_request_context():
        _run_each(pending)
        return

    @after_this_request
    def run_when_closed(response):
        response.call_on_close(lambda: _run_each(pending))
        return response


def _run_each(pending: list[Callable[[], None]]) -> None:
    for work in pending:
        try:
            work()
        except Exception as exc:  # the answer is sent: a failure here is logged, and the rest still runs
            log.error("request.after_answer_failed", work=getattr(work, "__qualname__", repr(work)),
                      error=type(exc).__name__)


class StreamCut(Exception):
    """A streamed answer (an export) that failed once its 200 was sent: raised in place of the fault, so the server
    cuts the connection (the client sees the file is not whole) and its own log of it quotes this, not the fault's
    words, which may hold a credential."""


def _streamed(chunks, request_id: str):
    """A streamed body, its fault logged once as a route's is (`request.cut`: its type and the places it passed, with
    the request's id), then raised as StreamCut: the server logged it as its own traceback, the fault's words in it."""
    try:
        yield from chunks
    except Exception as exc:  # noqa: BLE001 - any fault: the answer is cut whatever it was
        log.error("request.cut", request_id=request_id, error=type(exc).__name__, at=raised_at(exc))
        raise StreamCut(f"the answer to request {request_id} was cut by a {type(exc).__name__}: see its "
                        "log") from None


def _answered(answer: tuple, started: float, traceparent: str) -> tuple:
    """Log, count and stamp an answer with its trace context and nosniff; a streamed body is cut cleanly
    (_streamed)."""
    body, status, headers = answer
    if isinstance(body, Iterator):  # chunks, sent as they come
        body = _streamed(body, headers.get("X-Request-Id", "?"))
    elapsed = time.perf_counter() - started
    log.info("request.done", status=status, ms=round(elapsed * 1000, 1))
    function = function_name()
    telemetry.REQUESTS.labels(function, str(status)).inc()
    telemetry.LATENCY.labels(function).observe(elapsed)
    if status >= 500:
        telemetry.ERRORS.labels(function, "http_5xx").inc()
    headers["traceparent"] = traceparent
    # an error echoes what was asked, an export holds scraped text: no browser is to read either as anything else
    headers["X-Content-Type-Options"] = "nosniff"
    return body, status, headers
