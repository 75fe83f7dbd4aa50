"""Reading a network or aggregator API (an ApiSource) the way crawl.py reads a directory:
every response is kept raw in the object store before the plugin looks at it; requests are
spaced by the connection's rate limit (capped by the API's documented quota), retried on 429
and 5xx honouring Retry-After, and refused credentials end the sync with a clear error that
names no secret."""

import asyncio
import json
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from affiliate_matrix.crawl import Failure, Fetched
from affiliate_matrix.fetch import MAX_BYTES, RETRY_STATUSES, FetchError
from affiliate_matrix.netguard import guarded_async_client, origin_policy, target_of
from affiliate_matrix.models import Connection, RawRecord
from affiliate_matrix.sources import ApiSource, ParseError
from affiliate_matrix.storage import ObjectStore


class CredentialsRefused(FetchError):
    """The API answered 401/403: the connection's credentials are wrong, expired or revoked."""


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
        self._lock = asyncio.Lock()
        self._next_at = 0.0

    async def get(self, path: str, params: dict | None = None) -> ApiResponse:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: dict) -> ApiResponse:
        return await self.request("POST", path, json=body)

    async def request(self, method: str, path: str, **kwargs) -> ApiResponse:
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
            if status in (401, 403):
                raise CredentialsRefused(f"{method} {url}: HTTP {status}, the connection's credentials were refused")
            if status in RETRY_STATUSES and attempt < self.attempts:
                after = headers.get("retry-after", "").strip()
                wait = (float(after) if re.fullmatch(r"[0-9]{1,6}", after) else 0) or min(30.0, 0.5 * 2 ** attempt)
                if wait > self.max_retry_after:
                    raise FetchError(f"{method} {url}: HTTP {status}, asked to wait {wait:.0f} s")
                await asyncio.sleep(wait)
                continue
            raw_key = self.store.put_content_addressed(f"raw/{self.source.name}", body, suffix=".json",
                                                       content_type=headers.get("content-type", "application/json"))
            if status != 200:
                raise FetchError(f"{method} {url}: HTTP {status}")
            try:
                data = json.loads(body)
            except ValueError:
                raise ParseError(f"{method} {url}: the response is not JSON") from None
            response = ApiResponse(url, status, data, raw_key, fetched_at)
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
            items.append(RawRecord(source=source.name, connection_id=connection.id, url=response.url,
                                   fetched_at=response.fetched_at, raw_key=response.raw_key, **vars(listing)))
    except (FetchError, ParseError) as exc:
        items.append(Failure(connection.id, "fetch" if isinstance(exc, FetchError) else "parse", str(exc)))
    except ValidationError as exc:  # the API sent data that does not fit a listing
        first = exc.errors()[0]
        items.append(Failure(connection.id, "parse", f"{'.'.join(map(str, first['loc']))}: {first['msg']}"))
    finally:
        await api.client.aclose()
    return [Fetched(r.url, r.raw_key, False) for r in api.responses] + items


def sync(source: ApiSource, connection: Connection, credentials: dict, store: ObjectStore,
         allow_loopback: bool = False) -> list:
    """RawRecords, Fetched and Failure items, like crawl() yields them."""
    return asyncio.run(_sync(source, connection, credentials, store, allow_loopback))
