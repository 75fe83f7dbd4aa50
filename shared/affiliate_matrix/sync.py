"""Reading a network or aggregator API (an ApiSource) the way crawl.py reads a directory:
every response is kept raw in the object store before the plugin looks at it; requests are
spaced by the connection's rate limit (capped by the API's documented quota), retried on 429,
5xx and the provider's own rate-limit statuses honouring Retry-After, and refused credentials
(the statuses the provider uses for that, 401 unless it says otherwise) end the sync with a
clear error that names no secret. An item the plugin cannot read, or any fault of the plugin,
is a parse failure recorded beside the response it was reading, as crawl.py does for pages."""

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from affiliate_matrix.crawl import Failure, Fetched, error_key, fault_reason, record_parse_failures
from affiliate_matrix.fetch import MAX_BYTES, RETRY_STATUSES, FetchError, retry_after_seconds
from affiliate_matrix.netguard import guarded_async_client, origin_policy, target_of
from affiliate_matrix.models import Connection, RawRecord
from affiliate_matrix.observability import get_logger
from affiliate_matrix.sources import ApiSource, ParseError
from affiliate_matrix.storage import ObjectStore

log = get_logger()


class CredentialsRefused(FetchError):
    """The API answered a status its provider uses for refused credentials (wrong, expired, revoked)."""


@dataclass
class ApiResponse:
    url: str
    status: int
    data: Any
    raw_key: str
    fetched_at: datetime


class Api:
    """What an ApiSource talks to: one API, politely."""

    def __init__(self, source: ApiSource, store: ObjectStore, headers: dict, rate_limit_per_s: float,
                 allow_loopback: bool, attempts: int = 4, max_retry_after: float = 60.0, timeout: float = 20.0):
        self.source = source
        self.store = store
        self.interval = 1.0 / min(rate_limit_per_s, source.max_rate_per_s)
        self.attempts = attempts
        self.max_retry_after = max_retry_after
        # Loopback only for the API's own host (a recorded API on this machine), never for a URL it names.
        self.client = guarded_async_client(origin_policy(source.base_url, allow_loopback), base_url=source.base_url,
                                           headers=headers, timeout=timeout)
        self.responses: list[ApiResponse] = []
        self.last_stored: tuple[str, str] | None = None  # (url, raw_key) of the last body kept
        self._lock = asyncio.Lock()
        self._next_at = 0.0

    async def get(self, path: str, params: dict | None = None) -> ApiResponse:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: dict) -> ApiResponse:
        return await self.request("POST", path, json=body)

    async def request(self, method: str, path: str, *, secret: bool = False, **kwargs) -> ApiResponse:
        """One request, politely. A `secret` one (a token exchange) answers with a credential: its
        body is neither kept raw nor listed as evidence."""
        try:
            url = str(self.client.build_request(method, path, **kwargs).url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"{method} {str(path)[:200]}: not a valid URL ({exc})") from None
        target_of(url)  # a well-formed http(s) URL; its address is checked when the connection is made
        for attempt in range(1, self.attempts + 1):
            async with self._lock:  # one turn at a time, spaced by the rate limit
                delay = self._next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._next_at = time.monotonic() + self.interval * 1.02
            fetched_at = datetime.now(UTC)
            try:
                status, headers, body = await self._send(method, path, **kwargs)
            except (httpx.InvalidURL, UnicodeError) as exc:  # httpx reads a redirect's Location even unfollowed
                raise FetchError(f"{method} {url}: a malformed URL, or a redirect to one ({exc})") from None
            except httpx.HTTPError as exc:
                if attempt == self.attempts:
                    raise FetchError(f"{method} {url}: {type(exc).__name__}") from None
                await asyncio.sleep(min(30.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.0))
                continue
            if status in self.source.refused_statuses and self.source.credential_keys:
                raise CredentialsRefused(f"{method} {url}: HTTP {status}, the connection's credentials were refused")
            throttled = status in self.source.throttle_statuses
            if (status in RETRY_STATUSES or throttled) and attempt < self.attempts:
                wait = retry_after_seconds(headers.get("retry-after")) or min(30.0, 0.5 * 2 ** attempt)
                if wait > self.max_retry_after:
                    raise FetchError(f"{method} {url}: HTTP {status}, asked to wait {wait:.0f} s")
                await asyncio.sleep(wait)
                continue
            raw_key = "" if secret else self.store.put_content_addressed(
                f"raw/{self.source.name}", body, suffix=self.source.raw_suffix,
                content_type=headers.get("content-type", "application/json"))
            if not secret:
                self.last_stored = (url, raw_key)
            if status != 200:
                raise FetchError(f"{method} {url}: HTTP {status}" + (
                    f" after {attempt} attempt(s); {self.source.title} answers {status} when its rate limit is hit, "
                    "so this alone does not say the credentials are wrong" if throttled else ""))
            try:
                data = self.source.decode(body)
            except ValueError as exc:
                raise ParseError(f"{method} {url}: {exc}") from None
            response = ApiResponse(url, status, data, raw_key, fetched_at)
            if not secret:
                self.responses.append(response)
            return response
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, **kwargs) -> tuple[int, dict, bytes]:
        async with self.client.stream(method, path, **kwargs) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FetchError(f"{method} {path}: body exceeds {MAX_BYTES} bytes")
            return response.status_code, {k.lower(): v for k, v in response.headers.items()}, bytes(body)


async def _sync(source: ApiSource, connection: Connection, credentials: dict, store: ObjectStore,
                allow_loopback: bool) -> list:
    api = Api(source, store, source.auth_headers(credentials), connection.rate_limit_per_s, allow_loopback)
    items: list = []
    try:
        async for response, listing in source.listings(api, credentials):
            items.append(listing_record(source, connection, response, listing))
    except FetchError as exc:  # the API cannot be read on: refused, unreachable, an error status
        items.append(Failure(connection.id, "fetch", str(exc)))
    except Exception as exc:  # noqa: BLE001 - not JSON, or a fault in the plugin's walk: the pages after are unknown
        url, raw_key = api.last_stored or (connection.id, None)
        items.append(Failure(url, "parse", _reason(source, url, exc), raw_key))
    finally:
        await api.client.aclose()
    _keep_parse_failures(store, api, items)
    return [Fetched(r.url, r.raw_key, False) for r in api.responses] + items


def listing_record(source: ApiSource, connection: Connection, response: ApiResponse, listing) -> RawRecord | Failure:
    """A listing as a RawRecord; what the plugin could not read (an exception it handed over, data that
    does not fit a record) as a parse failure of that response."""
    if isinstance(listing, Exception):
        return Failure(response.url, "parse", _reason(source, response.url, listing), response.raw_key)
    try:
        return RawRecord(source=source.name, connection_id=connection.id, url=response.url,
                         fetched_at=response.fetched_at, raw_key=response.raw_key, **vars(listing))
    except ValidationError as exc:  # the API sent data that does not fit a listing
        first = exc.errors(include_url=False)[0]
        return Failure(response.url, "parse", f"{'.'.join(map(str, first['loc']))}: {first['msg']}", response.raw_key)


def _reason(source: ApiSource, url: str, exc: Exception) -> str:
    if isinstance(exc, ParseError):
        return str(exc)
    reason = fault_reason(exc)
    log.warning("sync.plugin_fault", source=source.name, url=url, reason=reason, exc_info=exc)
    return reason


def _keep_parse_failures(store: ObjectStore, api: Api, items: list) -> None:
    """Each response's parse failures beside its raw copy; a response read cleanly now loses its old ones."""
    failed: dict[str, list[Failure]] = {}
    for item in items:
        if isinstance(item, Failure) and item.stage == "parse" and item.raw_key:
            failed.setdefault(item.raw_key, []).append(item)
    for raw_key, failures in failed.items():
        record_parse_failures(store, failures[0].url, raw_key, [f.reason for f in failures], datetime.now(UTC))
    for response in api.responses:
        if response.raw_key not in failed:
            store.delete(error_key(response.raw_key))


def sync(source: ApiSource, connection: Connection, credentials: dict, store: ObjectStore,
         allow_loopback: bool = False) -> list:
    """RawRecords, Fetched and Failure items, like crawl() yields them."""
    return asyncio.run(_sync(source, connection, credentials, store, allow_loopback))
