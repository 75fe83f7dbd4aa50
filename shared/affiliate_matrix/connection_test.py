"""`POST /connections/{id}/test`: is the source reachable, are the credentials there and accepted,
and can the plugin read what the source answers? One cheap request, answered in words.

A secret that is missing, lacks a field or is refused by the source gets one and the same answer, so
the test tells nobody which secret paths exist or what they hold (the reason is logged for operators); asked `say_why`
(amx and a rotation, which read the secrets themselves), the answer says the reason instead, and its log line
(REASON_LOGGED) is one the command lists itself.

A directory answering its start page with another status (404, 403, …) is reachable, and its page unread, saying
why. An answer asking to be asked later (429, a 503, a source's throttle status), or a server error (another 5xx: the
provider's own fault), says the host is reachable and judges nothing else: the credentials (or the reading) are "not
judged" (`ok` null), and the answer says when to test again (its Retry-After, `retry_after_s`)."""

import asyncio
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from affiliate_matrix.connections import Connection, address_problem, credentials_for, key_owner_problem
from affiliate_matrix.errors import AmxError, InvalidInput, NotFoundError
from affiliate_matrix.fetch import Fetcher, FetchError
from affiliate_matrix.netguard import NameUnreached, deadline, unreached_said
from affiliate_matrix.observability import get_logger, keys_unlogged, secret_values, without_values
from affiliate_matrix.polite import GaveUp, Response, UnsendableHeader, retry_after_seconds
from affiliate_matrix.sources import ApiSource, Page, get_source

log = get_logger()
# The network time a test takes, in all (every lookup, connection, read and write: robots.txt, the page and their
# redirects, or the API's requests): the connections function answers within 30 s
TIMEOUT_S = 15
# The log events of a reason an answer asked `say_why` says itself
REASON_LOGGED = ("connection_test.credentials_unusable", "connection_test.credentials_refused")
LATER = {429: "rate limited", 503: "unavailable for now"}  # answers asking to be asked later, in a word
# A directory's start page answered, but not with the page: what the user can do about it
PAGE_NOT_SERVED = {
    404: "no page at this address: check the connection's base_url, or whether the directory moved its listings",
    410: "no page at this address: check the connection's base_url, or whether the directory moved its listings",
    401: "the site asks for a login the crawl does not have", 403: "the site refused the crawl (it may block robots)"}


def check(rt, connection: Connection, *, say_why: bool = False, wall_clock: Callable[[], float] = time.time) -> dict:
    """`say_why`: unusable credentials are said to be revoked (when), refused by the provider (its HTTP status),
    missing or incomplete, not in the API's one answer for all. `wall_clock`: what a Retry-After given as an HTTP date
    is counted from, for the seconds it says (tests pass a fixed one); nothing is decided by it."""
    source = get_source(connection.source)(str(connection.base_url) if connection.base_url else None)
    checks, retry_after, credentials = _checks(rt, source, connection, say_why, wall_clock)
    return {"ok": bool(checks) and all(ok is True for _, ok, _ in checks),
            # a provider's answer quoted in a detail may quote the key it was sent
            "checks": [{"name": name, "ok": ok, "detail": without_values(detail, secret_values(credentials or {}))}
                       for name, ok, detail in checks],
            "retry_after_s": retry_after}


def unreached_check(connection: Connection, exc: NameUnreached, say_why: bool) -> tuple[str, bool, str]:
    """The failed check of a host found at no address to connect to: said one way whether its name did not resolve or
    resolves to a non-public address (unreached_said), the reason logged; `say_why`: the reason."""
    if say_why:
        return ("reachable", False, str(exc))
    log.warning("connection_test.name_unreached", connection_id=connection.id, reason=str(exc))
    return ("reachable", False, unreached_said(exc.host))


def _checks(rt, source, connection: Connection, say_why: bool,
            wall_clock: Callable[[], float]) -> tuple[list[tuple], int | None, dict | None]:
    """check's checks, the seconds to wait before testing again (None: not said) and the credentials read (None:
    none)."""
    checks, retry_after, credentials = [], None, None
    if problem := address_problem(connection, rt.settings.allow_loopback_fetch):
        # as a write of it is told, naming the setting where that is what stops it; the request's refusal named neither
        checks.append(("reachable", False, f"base_url: {problem}"))
    elif isinstance(source, ApiSource):
        if source.credential_keys and not connection.credentials_path:
            checks.append(("credentials accepted", False, f"{source.name} needs credentials "
                           f"({', '.join(source.credential_keys)}) but the connection has no credentials_path"))
        elif source.credential_keys and (problem := key_owner_problem(rt.store, connection)):
            checks.append(("credentials accepted", False, problem))  # what a write of it is told: no secret
        elif source.credential_keys:
            try:
                credentials = credentials_for(rt, connection, source)
            except (NotFoundError, InvalidInput) as exc:
                log.warning("connection_test.credentials_unusable", connection_id=connection.id, reason=str(exc))
                checks.append(unusable(source, connection, str(exc) if say_why else None))
            except AmxError as exc:  # the secret store is down: says nothing about the path
                checks.append(("credentials accepted", False, str(exc)))
        if credentials is not None or not source.credential_keys:
            try:
                with keys_unlogged(secret_values(credentials or {})):  # a plugin's fault may quote the key echoed
                    checks += _first_response(rt, source, connection, credentials or {}, say_why)
            except GaveUp as exc:
                found, retry_after = _failed(exc, source, wall_clock)
                checks += found
    else:
        fetcher = Fetcher(rt.settings.user_agent, allow_loopback=rt.settings.allow_loopback_fetch, attempts=1,
                          rate_limit_per_s=connection.rate_limit_per_s, timeout=TIMEOUT_S, deadline=TIMEOUT_S)
        request = next(source.start_requests())
        try:
            with deadline(TIMEOUT_S):  # each request had 60 s, and a test up to 12 of them (redirects)
                response = fetcher.get(request.url)
            checks.append(("reachable", True, f"GET {request.url}: HTTP {response.status}"))
            if response.status == 200:
                checks.append(_read_page(source, connection, Page(response.url, 200, response.text, "unstored"),
                                         request.callback))
            else:  # the host answered: what is wrong is the page, not the way to it
                checks.append(("read", False, f"{response.url} answered HTTP {response.status}: "
                               f"{PAGE_NOT_SERVED.get(response.status, 'no page to read')}"))
        except NameUnreached as exc:
            checks.append(unreached_check(connection, exc, say_why))
        except FetchError as exc:
            found, retry_after = _failed(exc, source, wall_clock)
            checks += found
        finally:
            fetcher.close()
    return checks, retry_after, credentials


def _failed(exc: FetchError, source, wall_clock: Callable[[], float]) -> tuple[list[tuple], int | None]:
    """The checks for a request that got no usable answer, and the seconds to wait before testing again when the
    answer says (None: it did not). An answer asking to be asked later (LATER, or a status the source answers when its
    rate limit is hit) or a server error says the host is reachable; what it would have said of the credentials, or of
    the page, is not known. Anything else (no answer, a refused address, another error status) says it is not
    reachable."""
    response: Response | None = getattr(exc, "response", None)  # GaveUp's
    status = response.status if response is not None else None
    why = "asked to be asked later"
    if status in LATER:
        said = f"HTTP {status} ({LATER[status]})"
    elif status in getattr(source, "throttle_statuses", ()):
        said = f"HTTP {status}, which {source.title} answers when its rate limit is hit"
    elif status is not None and 500 <= status <= 599:
        said, why = f"HTTP {status} (an error at the provider's end)", "answered with an error of its own"
    else:
        return [("reachable", False, str(exc))], None
    header = response.headers.get("retry-after")
    seconds = retry_after_seconds(header, wall_clock)
    if seconds is None:
        when, wait = "later: it did not say when (no Retry-After)", None
    elif header.strip().isdigit():
        wait = math.ceil(seconds)
        when = f"in {wait} s (its Retry-After)"
    else:  # an HTTP date: said as given, the seconds to it counted on this machine's clock
        from email.utils import parsedate_to_datetime

        wait = math.ceil(seconds)
        at = parsedate_to_datetime(header)
        at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)  # "-0000": UTC, its zone unsaid (RFC 5322)
        when = f"after {at:%Y-%m-%d %H:%M:%S} UTC (its Retry-After; in {wait} s by this machine's clock)"
    if getattr(source, "credential_keys", ()):  # ok None: not judged, as the CLI marks it
        not_judged = ("credentials accepted", None,
                      f"the provider {why}, before judging them; test again {when}")
    else:
        not_judged = ("read", None, f"the site {why}: nothing came to read; test again {when}")
    return [("reachable", True, f"{response.url} answered {said}"), not_judged], wait


def _read_page(source, connection: Connection, page: Page, callback: str) -> tuple[str, bool, str]:
    """The plugin on the first page, as the crawl would read it."""
    from affiliate_matrix.crawl import fault_reason, records_of
    from affiliate_matrix.models import RawRecord
    from affiliate_matrix.sources import ParseError

    try:
        items = records_of(source, connection, page, callback, datetime.now(UTC))
    except ParseError as exc:
        return ("read", False, str(exc))
    except Exception as exc:  # noqa: BLE001 - a fault in the plugin is this check's answer
        return ("read", False, fault_reason(exc))
    # listings and links apart: "0 item(s) read" of a real forum feed whose threads announce no program read as an
    # empty feed
    listings = sum(isinstance(item, RawRecord) for item in items)
    links = len(items) - listings
    if not items:
        return ("read", True, f"{page.url}: read, with no listing on it and no link the plugin follows")
    return ("read", True, f"{page.url}: {listings} listing{'' if listings == 1 else 's'} and {links} "
                          f"link{'' if links == 1 else 's'} to follow read")


def _first_response(rt, source: ApiSource, connection: Connection, credentials: dict,
                    say_why: bool) -> list[tuple[str, bool, str]]:
    """The API's first answer and the plugin's reading of its first item."""
    from affiliate_matrix.crawl import Failure, fault_reason
    from affiliate_matrix.sources import ParseError
    from affiliate_matrix.sync import Api, CredentialsRefused, listing_record

    answered = "credentials accepted" if source.credential_keys else "reachable"
    api = None

    async def first():
        nonlocal api
        api = Api(source, rt.store, source.auth_headers(credentials), connection.rate_limit_per_s,
                  rt.settings.allow_loopback_fetch, attempts=1, timeout=TIMEOUT_S,
                  deadline=TIMEOUT_S)
        try:
            return await asyncio.wait_for(anext(source.listings(api, credentials), None), TIMEOUT_S)
        finally:
            await api.aclose()

    try:
        with deadline(TIMEOUT_S):  # every request's, on the threads it runs on too (to_thread copies the context)
            item = asyncio.run(first())
    except CredentialsRefused as exc:
        # its source: the request it quotes named as a reader is shown it (observability.name_requests)
        log.warning("connection_test.credentials_refused", connection_id=connection.id, source=source.name,
                    reason=str(exc))
        # said without its request, whose URL may name the account (Impact's SID): a rotation's error is logged
        why = f"{source.name}: HTTP {exc.status}, the connection's credentials were refused by the provider"
        return [unusable(source, connection, why if say_why else None)]
    except GaveUp:
        raise  # an answer, maybe one asking to be asked later: check() says which
    except UnsendableHeader as exc:  # nothing was sent: whether the provider is reachable is not known
        return [("request sent", False, str(exc))]
    except NameUnreached as exc:
        return [unreached_check(connection, exc, say_why)]
    except (FetchError, AmxError, TimeoutError) as exc:
        return [("reachable", False, str(exc) or f"no answer within {TIMEOUT_S} s")]
    except Exception as exc:  # noqa: BLE001 - the API answered, the plugin could not read it
        url = api.last_stored[0] if api and api.last_stored else source.base_url
        # reached, but whether the credentials were accepted it cannot tell: a login page, or an error object ("Not
        # Authenticated") answered with a 200, is no acceptance
        return [("reachable", True, f"{url} answered"),
                ("read", False, str(exc) if isinstance(exc, ParseError) else fault_reason(exc))]
    if item is None:
        url = api.fetched[-1].url if api.fetched else source.base_url
        return [(answered, True, f"{url} answered"), ("read", True, "the answer lists nothing to read")]
    response, listing = item
    read = listing_record(source, connection, response, listing)
    return [(answered, True, f"{response.url} answered"),
            ("read", False, read.reason) if isinstance(read, Failure) else ("read", True, f"read {read.name!r}")]


def unusable(source: ApiSource, connection: Connection, why: str | None = None) -> tuple[str, bool, str]:
    """The failed check of credentials that cannot be used: `why` (check's say_why), else the same words whatever the
    reason."""
    return ("credentials accepted", False, why or f"{source.name}: the connection's credentials were refused, "
            "or are missing or incomplete")
