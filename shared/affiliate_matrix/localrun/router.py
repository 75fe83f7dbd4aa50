"""A local Broker: takes CloudEvents on its ingress, delivers each to every Trigger whose type
filter matches, retrying with backoff as the Trigger's delivery spec says, and parks what still
fails in the object store the functions use, under dead-letters/<trigger>/ (where the cluster's dead-letter sink
parks them too, under dead-letters/<type>/), so the retention job removes them after
AMX_RETENTION_DEAD_LETTERS_DAYS as it removes those. Deliveries run on worker threads; the sender gets 202 at once.
A GET on the ingress answers how many deliveries are still outstanding (queued, in flight or
waiting to be retried): zero once every event and whatever it led to has been delivered or parked.
Each delivery carries what `sign` gives it (in `amx up`, the sender's OIDC token, as Knative's). What is published
on the ingress is taken only as `admit` allows it (in `amx up`, the publisher's OIDC token for the Broker and the
EventPolicies of manifests/base, as Knative's Broker checks them); without `admit` the ingress takes nothing: any
process on the machine can reach loopback, and a delivery the router signs is taken by the functions as the
Trigger's own."""

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from affiliate_matrix.content_coding import check_uncoded
from affiliate_matrix.errors import (REFUSED, AccessDenied, BackendUnavailable, InvalidInput, RequestStalled,
                                     error_answer, refusal)
from affiliate_matrix.event_intake import read_event
from affiliate_matrix.events import (DEAD_LETTERS, MAX_EVENT_BYTES, dead_letter, dead_letter_name, refusal_said,
                                    too_large)
from affiliate_matrix.localrun.plan import Route
from affiliate_matrix.observability import bind_request, escaped_for_log, get_logger, raised_at
from affiliate_matrix.storage import ObjectStore

log = get_logger()


@dataclass
class Delivery:
    route: Route
    event: dict          # the structured CloudEvent
    attempt: int = 0
    due: float = 0.0


class Router:
    def __init__(self, routes: list[Route], urls: dict[str, str], dead_letters: ObjectStore, workers: int = 8,
                 sign: Callable[["Delivery"], dict[str, str]] | None = None,
                 admit: Callable[[str | None, dict | None], None] | None = None, read_timeout_s: float = 15.0):
        self.routes, self.urls, self.dead_letters = routes, urls, dead_letters
        self.sign = sign or (lambda delivery: {})
        self.admit = admit or _admit_nothing
        self.queue: queue.PriorityQueue = queue.PriorityQueue()
        self.counter = 0
        self.lock = threading.Lock()
        # Not the polite client: this Broker delivers to the local functions on loopback, with Knative's own
        # retry schedule below; pacing, the address guard and its retries would only get in the way.
        self.client = httpx.Client(timeout=httpx.Timeout(900.0, connect=2.0))
        self.delivered = 0
        self.outstanding = 0  # deliveries not yet delivered or parked; a retry stays outstanding
        router = self

        class Ingress(BaseHTTPRequestHandler):
            # each read of a request waits this long at most (the functions' AMX_REQUEST_READ_TIMEOUT_S): a client
            # that stopped sending held its thread (one a connection) for as long as it kept the connection open; a
            # head that stops coming is closed unanswered (BaseHTTPRequestHandler's), a body answered 408
            timeout = read_timeout_s

            def log_message(self, *args):
                pass

            def do_GET(self):
                with router.lock:
                    body = json.dumps({"outstanding": router.outstanding, "delivered": router.delivered}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def refuse_method(self):
                """A method the Broker takes no event by (it takes POST, and answers GET with its counts): a 405 in
                the functions' error shape, as Knative's broker ingress refuses it (it was http.server's HTML 501)."""
                self.close_connection = True
                self.wfile.write(error_answer(405, "Method Not Allowed", "method_not_allowed", f"{self.command[:20]} "
                                              "is not how an event is sent: POST it", bind_request(None),
                                              {"Allow": "GET, POST"}))

            do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method

            def do_POST(self):
                authorization = self.headers.get("Authorization")
                request_id = bind_request(self.headers.get("X-Request-Id"))  # taken or made as a function does
                try:
                    router.admit(authorization, None)  # who it is, before a byte of the body is read
                    check_uncoded(self.headers.get("Content-Encoding"), "the event")  # then as a function reads it
                    if (coding := self.headers.get("Transfer-Encoding")) is not None:  # its Content-Length is not its
                        # size: read as one, a chunked event was taken without its data
                        raise InvalidInput(f"the event is sent with Transfer-Encoding {coding[:40]!r}, which this "
                                           "Broker does not read: send it with Content-Length")
                    declared = self.headers.get("Content-Length") or "0"
                    if not (declared.isascii() and declared.isdigit()):  # int() reads "-5", " 5" and "٥" too
                        raise InvalidInput(f"Content-Length {declared[:40]!r} is not a number of bytes")
                    if int(declared) > MAX_EVENT_BYTES:  # as a function reads an event: up to its limit
                        raise too_large()
                    # a header given twice joined by a comma, as gunicorn gives it to a function
                    headers = {name: ",".join(self.headers.get_all(name)) for name in self.headers.keys()}
                    event = router.structured(headers, self.rfile.read(int(declared)))
                    router.admit(authorization, event)  # and whether it may publish this
                except REFUSED as exc:  # answered as a function answers them (errors.refusal)
                    status, code, headers = refusal(exc)
                    if status in (401, 403):
                        log.warning("router.refused", status=status, reason=str(exc))
                    self.close_connection = True  # whatever of the body is unread stays so
                    self.wfile.write(error_answer(status, HTTPStatus(status).phrase, code, str(exc), request_id,
                                                  headers))
                    return
                except BackendUnavailable as exc:
                    # the issuer's keys could not be read: the sender is told when to try again, as a function tells
                    # it, where the connection was dropped unanswered
                    log.error("router.unavailable", error=str(exc))
                    self.close_connection = True
                    self.wfile.write(error_answer(503, "Service Unavailable", "unavailable", f"{exc.cause}; retry later",
                                                  request_id, {"Retry-After": str(exc.retry_after)}))
                    return
                except TimeoutError:  # the body stopped coming: answered as a function answers it (handlers.serve)
                    stalled = RequestStalled(read_timeout_s)
                    log.warning("request.stalled", read="body", seconds=stalled.seconds)
                    self.close_connection = True
                    self.wfile.write(error_answer(408, "Request Timeout", "request_timeout", str(stalled), request_id))
                    return
                except Exception as exc:  # noqa: BLE001 - unforeseen: answered, where the connection was dropped
                    self._failed(exc, request_id)
                    return
                try:
                    router.publish(event)
                except Exception as exc:  # noqa: BLE001 - as above: nothing is queued but what was before it raised
                    self._failed(exc, request_id)
                    return
                self.send_response(202)
                self.send_header("X-Request-Id", request_id)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _failed(self, exc: Exception, request_id: str) -> None:
                """A fault no branch foresaw: a 500 in the functions' error shape, its words generic (the fault's may
                quote what it read, a token too), and one log line with the request's id (bound), the fault's type
                and the line that raised it, no traceback (socketserver printed one on amx up's console, and the
                sender got no answer)."""
                log.error("router.failed", error=type(exc).__name__, at=raised_at(exc))
                self.close_connection = True
                self.wfile.write(error_answer(500, "Internal Server Error", "internal_error", "the event could not be "
                                              "taken: an unexpected fault, logged with this request's id", request_id))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Ingress)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        for _ in range(workers):
            threading.Thread(target=self._work, daemon=True).start()

    @staticmethod
    def structured(headers: dict, body: bytes) -> dict:
        """The event sent (binary or structured) as it is delivered, structured: its attributes and data as every
        function reads them; InvalidInput (or UnsupportedMediaType) naming why every function would refuse it, in
        their words, by their own check (event_intake.read_event), so no such event is queued, delivered and parked."""
        cloud_event, event = read_event(headers, body)
        if isinstance(event, InvalidInput):
            raise event
        return {**cloud_event.get_attributes(), "data": cloud_event.data}

    def publish(self, event: dict) -> None:
        matched = [r for r in self.routes if r.matches(event)]
        if not matched:
            log.info("router.unrouted", event_id=escaped_for_log(event["id"]), type=escaped_for_log(event["type"]))
        for route in matched:
            self.submit(Delivery(route, event))

    def submit(self, delivery: Delivery) -> None:
        """A new delivery (an event's, or a PingSource's tick): outstanding until delivered or parked."""
        with self.lock:
            self.outstanding += 1
        self._enqueue(delivery)

    def _enqueue(self, delivery: Delivery) -> None:
        with self.lock:
            self.counter += 1
            self.queue.put((delivery.due, self.counter, delivery))

    def _work(self) -> None:
        while True:
            due, _, delivery = self.queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                self._enqueue(delivery)  # not yet: back in line, and let the others go first
                time.sleep(min(wait, 0.05))
                continue
            try:
                self._deliver(delivery)
            except Exception:  # noqa: BLE001 - one delivery's fault must not stop this worker
                log.exception("router.delivery_failed", event_id=escaped_for_log(delivery.event["id"]))
                self._done()

    def _done(self) -> None:
        with self.lock:
            self.outstanding -= 1

    def _deliver(self, delivery: Delivery) -> None:
        url = self.urls[delivery.route.subscriber]
        try:
            response = self.client.post(url, content=json.dumps(delivery.event),
                                        headers={"Content-Type": "application/cloudevents+json",
                                                 **self.sign(delivery)},
                                        timeout=httpx.Timeout(delivery.route.timeout_s, connect=2.0))
            ok = response.status_code < 300
            reason = f"HTTP {response.status_code}" + ("" if ok else _said(response))
            # as Knative's Broker: a refused event (400, 403, 422, ...) is parked at once, not retried
            retriable = response.status_code >= 500 or response.status_code in (404, 408, 409, 429)
        except httpx.HTTPError as exc:  # the function is not there (stopped, restarting) or did not answer in time
            ok, retriable = False, True
            reason = f"{type(exc).__name__}: no answer from {delivery.route.subscriber} at {url}" + (
                f" ({str(exc)[:200]})" if str(exc) else "")
        if ok:
            with self.lock:
                self.delivered += 1
                self.outstanding -= 1
            return
        if retriable and delivery.attempt < delivery.route.retry:
            delay = delivery.route.backoff_s * (2 ** delivery.attempt if delivery.route.exponential
                                                else delivery.attempt + 1)
            log.warning("router.retry", event_id=escaped_for_log(delivery.event["id"]), to=delivery.route.subscriber,
                        reason=reason, attempt=delivery.attempt + 1, delay_s=delay)
            self._enqueue(Delivery(delivery.route, delivery.event, delivery.attempt + 1, time.monotonic() + delay))
            return
        name = dead_letter_name(delivery.event)
        self.dead_letters.put(f"{DEAD_LETTERS}{delivery.route.name}/{name}.json", dead_letter(
            {"event": delivery.event, "subscriber": delivery.route.subscriber, "reason": reason}),
            content_type="application/json")
        log.error("router.dead_letter", event_id=escaped_for_log(delivery.event["id"]), to=delivery.route.subscriber,
                  reason=reason)
        self._done()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _said(response: httpx.Response) -> str:
    """Why a function refused a delivery, as its error answer says (handlers.error_response's message), for the dead
    letter's reason: an event a function took when it was parked and refuses when re-posted (a check added since)
    was parked again as "HTTP 400" alone, its reason in no file or log line."""
    said = refusal_said(response.content)
    return "" if said is None else f": {said}"


def _admit_nothing(authorization: str | None, event: dict | None) -> None:
    raise AccessDenied("this Broker takes no published events (it was started without a publisher check)")
