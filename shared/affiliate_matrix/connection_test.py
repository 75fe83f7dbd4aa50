"""`POST /connections/{id}/test`: is the source reachable, and are the credentials accepted? One
cheap request, answered in words.

A secret that is missing, lacks a field or is refused by the source gets one and the same answer, so
the test tells nobody which secret paths exist or what they hold (the reason is logged for operators)."""

import asyncio

from affiliate_matrix.errors import AmxError, InvalidInput, NotFoundError
from affiliate_matrix.fetch import Fetcher, FetchError
from affiliate_matrix.models import Connection
from affiliate_matrix.observability import get_logger
from affiliate_matrix.sources import ApiSource, get_source

log = get_logger()
TIMEOUT_S = 15


def check(rt, connection: Connection) -> dict:
    source = get_source(connection.source)(str(connection.base_url) if connection.base_url else None)
    checks = []
    if isinstance(source, ApiSource):
        credentials = None
        if source.credential_keys and not connection.credentials_path:
            checks.append(("credentials accepted", False, f"{source.name} needs credentials "
                           f"({', '.join(source.credential_keys)}) but the connection has no credentials_path"))
        elif source.credential_keys:
            from affiliate_matrix.pipeline import credentials_for

            try:
                credentials = credentials_for(rt, connection, source)
            except (NotFoundError, InvalidInput) as exc:
                log.warning("connection_test.credentials_unusable", connection_id=connection.id, reason=str(exc))
                checks.append(unusable(source, connection))
            except AmxError as exc:  # the secret store is down: says nothing about the path
                checks.append(("credentials accepted", False, str(exc)))
        if credentials is not None or not source.credential_keys:
            checks.append(_first_response(rt, source, connection, credentials or {}))
    else:
        fetcher = Fetcher(rt.settings.user_agent, allow_loopback=rt.settings.allow_loopback_fetch, attempts=1,
                          timeout=TIMEOUT_S)
        url = next(source.start_requests()).url
        try:
            response = fetcher.get(url)
            checks.append(("reachable", response.status == 200, f"GET {url}: HTTP {response.status}"))
        except FetchError as exc:
            checks.append(("reachable", False, str(exc)))
        finally:
            fetcher.close()
    return {"ok": bool(checks) and all(ok for _, ok, _ in checks),
            "checks": [{"name": name, "ok": ok, "detail": detail} for name, ok, detail in checks]}


def _first_response(rt, source: ApiSource, connection: Connection, credentials: dict) -> tuple[str, bool, str]:
    from affiliate_matrix.sync import Api, CredentialsRefused

    async def first():
        api = Api(source, rt.store, source.auth_headers(credentials), connection.rate_limit_per_s,
                  rt.settings.allow_loopback_fetch, attempts=1)
        try:
            await asyncio.wait_for(anext(source.listings(api, credentials), None), TIMEOUT_S)
            return api.responses[-1].url if api.responses else source.base_url
        finally:
            await api.client.aclose()

    try:
        url = asyncio.run(first())
        return ("credentials accepted" if source.credential_keys else "reachable", True, f"{url} answered")
    except CredentialsRefused as exc:
        log.warning("connection_test.credentials_refused", connection_id=connection.id, reason=str(exc))
        return unusable(source, connection)
    except (FetchError, AmxError, TimeoutError) as exc:
        return ("reachable", False, str(exc) or f"no answer within {TIMEOUT_S} s")


def unusable(source: ApiSource, connection: Connection) -> tuple[str, bool, str]:
    return ("credentials accepted", False, f"{source.name}: the connection's credentials were refused, "
            "or are missing or incomplete")
