"""Structured CloudEvents over HTTP to a Knative Broker's ingress.

Retries what Knative itself would retry (connection errors, 404, 409, 429, 5xx) with
exponential backoff and jitter, honouring Retry-After; other 4xx fail at once with the broker's answer, as
BackendUnavailable: the refused event is this process's own, so the refusal is ours or the broker's, never the
caller's (an InvalidInput would tell an API client its request was bad). With Knative's sender identity on, the
Broker takes an event only with a token for its audience: a projected service-account token, read afresh for every
publish since the kubelet replaces it before it expires. So a 401 is retried too (the next attempt reads the
token the kubelet wrote meanwhile), and a 401 or 403 that stands is this deployment's fault, not the caller's:
BackendUnavailable (503, which Knative retries and an API client may retry), not InvalidInput (400: a caller told
its request was bad, an event parked at once).

A publish ends within its time limit (`total`, its lookups, connects and waits included), well within the shortest
timeout of a function that publishes (30 s): a broker that keeps refusing must not hold the function past its own
request's end, where the event's fate would go unrecorded. Past it, BackendUnavailable as any other refusal.
"""

import time
from pathlib import Path

import httpx
from cloudevents.conversion import to_structured
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from affiliate_matrix.errors import BackendUnavailable, ConfigError, FetchError
from affiliate_matrix.events import Event, EventBus
from affiliate_matrix.netguard import bounded_client, deadline, wait_fits

RETRIABLE = {401, 404, 409, 429, 500, 502, 503, 504}
REFUSED_US = {401, 403}  # the Broker refused this function's identity (its token, or an EventPolicy)


class _Retriable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


_backoff = wait_exponential_jitter(multiplier=0.2, max=5)


def _wait(state) -> float:
    """Retry-After when the broker gave one, else exponential backoff with jitter."""
    exc = state.outcome.exception()
    if isinstance(exc, _Retriable) and exc.retry_after is not None:
        return exc.retry_after
    return _backoff(state)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


class HttpBus(EventBus):
    """Not the polite client (polite.py), on purpose: the Broker's ingress is the cluster's own, at an
    in-cluster address the operator set, so the public-address guard does not apply, and every event of
    the process goes through it, so per-host pacing at an outside party's rate would throttle the event
    path; Knative's own retry rules (404 and 409 too) are kept here. Its requests are bounded by netguard's deadline
    all the same, through the client netguard keeps for the cluster's own services (`bounded_client`)."""

    def __init__(self, broker_url: str, client: httpx.Client | None = None, attempts: int = 5,
                 token_path: Path | None = None, total: float = 10.0):
        self.broker_url = broker_url
        self.client = client or bounded_client(timeout=httpx.Timeout(5.0))
        self.attempts = attempts
        self.total = total
        self.token_path = token_path
        self.sleep = time.sleep  # between attempts; tests record the waits instead of spending them

    @classmethod
    def from_settings(cls, settings) -> "HttpBus":
        if not settings.broker_url:
            raise ConfigError("AMX_BROKER_URL", "required when AMX_EVENTS=http")
        if settings.broker_token_path and not settings.broker_token_path.is_file():
            raise ConfigError("AMX_BROKER_TOKEN_PATH", f"{settings.broker_token_path} is not a file")
        return cls(settings.broker_url, token_path=settings.broker_token_path)

    def publish(self, event: Event) -> None:
        headers, body = to_structured(event.to_cloudevent())

        def within_time_limit(state) -> None:
            """Give up, unretried, when the wait before the next attempt would end past the publish's time limit."""
            if not wait_fits(state.upcoming_sleep):
                raise BackendUnavailable(f"broker did not accept event {event.id}: {state.outcome.exception()}, not "
                                         f"tried again: waiting {state.upcoming_sleep:.4g} s more would pass the "
                                         f"publish's {self.total:.4g} s time limit")

        send = retry(retry=retry_if_exception(lambda e: isinstance(e, _Retriable)),
                     stop=stop_after_attempt(self.attempts), wait=_wait, sleep=self.sleep,
                     before_sleep=within_time_limit, reraise=True)(self._send)
        try:
            with deadline(self.total):
                send(headers, body, event)
        except _Retriable as exc:
            raise BackendUnavailable(f"broker did not accept event {event.id}: {exc}") from None

    def _send(self, headers, body, event: Event) -> None:
        if self.token_path:
            headers = {**headers, "Authorization": f"Bearer {self.token_path.read_text().strip()}"}
        try:
            response = self.client.post(self.broker_url, headers=headers, content=body)
        except httpx.TransportError as exc:
            raise _Retriable(type(exc).__name__) from None
        except FetchError as exc:  # its name did not resolve (in time)
            raise _Retriable(str(exc)) from None
        if response.status_code in RETRIABLE:
            raise _Retriable(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code in REFUSED_US:
            raise BackendUnavailable(f"broker refused this function's identity for event {event.id} ({event.type}): "
                                     f"HTTP {response.status_code} {response.text[:200]}")
        if response.status_code >= 400:
            raise BackendUnavailable(f"broker refused event {event.id} ({event.type}): HTTP {response.status_code} "
                                     f"{response.text[:200]}",
                                     cause=f"the event broker refused an event: HTTP {response.status_code}")
