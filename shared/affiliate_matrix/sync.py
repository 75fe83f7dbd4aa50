"""Reading a network or aggregator API (an ApiSource) the way crawl.py reads a directory:
every response is kept raw in the object store before the plugin looks at it. Requests go through
the `polite` client the fetcher uses: spaced by the connection's rate limit (capped by the API's
documented quota, unless it is a recorded copy served on this machine) and shared per host with every other request of the process, retried on 429,
5xx and the provider's own rate-limit statuses honouring Retry-After, checked to go to public
addresses, capped in size (the fetcher's 5 MB, or the bound the source declares); refused credentials (the statuses the provider uses for that, 401 unless
it says otherwise) end the sync with a clear error that names no secret. A redirect is not followed (the
credentials go to the API's base_url alone): the request fails naming where it leads and the base_url to set. An item
the plugin cannot read, or any fault of the plugin, is a parse failure recorded beside the response it was reading, as
crawl.py does for pages; a request for one item's details that gets no usable answer (`Api.item`) is that item's
failure, and the sync goes on to the next.

Each sync also keeps how each of its requests was answered (`api-answers/<connection>.json`: the status, the headers
read, the raw copy's key, the time; the coding of a body that came in one not asked for, which the replay refuses
in the sync's words), so a replay (`amx replay`) runs the plugin again on the answers as they came, with
no network: a fixed plugin reads what failed, and an index rebuilt needs no provider. With them is kept which sync read
the API to its end last (its run, keep_answers), so a replay says whose answers it read (StoredAnswers.run), and the
generation of the connection they were kept for: a connection created again under the id replays none of them. And
the key's fields that are no secret (its account ids: key_fields), which the requests were built from: a replay builds
them again from those, its secrets standing as REPLAY_SECRET, so it reads no key (one revoked or removed since replays
too)."""

import asyncio
import hashlib
import json
import re
import uuid
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import httpx
from pydantic import ValidationError

from affiliate_matrix.crawl import (Failure, Fetched, error_key, fault_reason, record_of, record_parse_failures,
                                   time_budget)
from affiliate_matrix.errors import DamagedData, FetchError, InvalidInput, NotFoundError, ObjectTooLarge
from affiliate_matrix.fetch import REDIRECTS
from affiliate_matrix.netguard import RefusedAddress, host_unreached, on_this_machine, origin_policy
from affiliate_matrix.connections import Connection, answers_key, kept_for_another, write_kept
from affiliate_matrix.models import RawRecord
from affiliate_matrix.observability import get_logger, keys_unlogged, secret_field, secret_values, without_values
from affiliate_matrix.polite import (MAX_BYTES, CredentialsRefused, GaveUp, PoliteClient, Response, Undecoded,
                                     UnsendableHeader, UnusableAnswer, WaitBudget, WaitsSpent, request_label,
                                     undecoded)
from affiliate_matrix.sources import ApiSource, ItemFailed, ParseError, get_source
from affiliate_matrix.storage import CLOCK_LEEWAY, MAX_API_ANSWERS_BYTES, ObjectStore

__all__ = ["Api", "ApiResponse", "CredentialsRefused", "StoredAnswers", "listing_record", "sync"]
log = get_logger()
# A sync's run: which sync a batch, its event and the answers kept are of (new_run). An identity, never ordered.
RUN = r"^r_[0-9a-f]{32}$"
# The headers of an answer that the sync reads (its content type, a redirect's Location): what a replay gives back
ANSWER_HEADERS = ("content-type", "location")
# The failures of one sync kept, each named, logged and listed in its record; past them an item the plugin cannot
# read is only counted (per response, in the errors kept beside it, and in one failure saying how many). A 5 MB
# answer holds a list of 2.5 million items: one failure, log line and record entry each was gigabytes.
MAX_FAILURES = 1000
# Item requests (a programme's details) unanswered in a row that end a sync: the API has gone down. Each is retried in
# vain, and at Awin's 20 calls a minute a listing's worth of them ran past the function's 15 minutes, losing the items
# read before; ended here, those are kept (the run incomplete, withdrawing nothing). Answers the API means (a 404) do
# not count, nor answers it cannot use (a redirect to a malformed Location, a body past the cap or not in its
# Content-Encoding: UnusableAnswer): the API is up, and the same items would stop every sync at the same place. Nor do
# our own refusals, which end the sync at once (ENDS_THE_SYNC): a header we cannot send, an address the policy refuses.
ITEMS_UNANSWERED_IN_A_ROW = 5
# What each secret field of the key is in a replay, which sends nothing: blanked from a request's key as the secret was
# when the sync kept it (request_key: 4 characters or more, none a URL or form encodes), so the replay's requests find
# the sync's answers
REPLAY_SECRET = "not-sent-in-a-replay"
# What an error status on a sync's first request most likely means, and what to check: said only there (a 404 on a
# later page, or on one item's details, is that page's or item's, not a wrong address)
# What an item's request raises rather than hand back as that item's failure: every other request would meet it too.
# Refused credentials and a spent wait budget; a request header we cannot send (our configuration's fault); the API's
# host resolving to an address the policy refuses (its DNS changed under the sync: a refusal, not a network failure).
ENDS_THE_SYNC = (CredentialsRefused, WaitsSpent, UnsendableHeader, RefusedAddress)
FIRST_ANSWER_HINTS = {
    403: "the provider refused this account the request: check that the account has access to this API "
         "(its permissions or plan)",
    404: "the API has nothing at this address: check the connection's base_url ({base_url}){key}",
}


@dataclass
class ApiResponse:
    url: str
    status: int
    # Left out of repr: it may be a whole feed, and asyncio.run on Python 3.11 builds its result's repr
    # (twice, cpython#112559), which for ClickBank's list of sites would be a string the size of the feed.
    data: Any = field(repr=False)
    raw_key: str
    fetched_at: datetime


class Api:
    """What an ApiSource talks to: one API, through the polite client pages are fetched with. Its
    requests run on a worker thread each, so the plugin's event loop never waits on a socket or a pause."""

    def __init__(self, source: ApiSource, store: ObjectStore, headers: dict, rate_limit_per_s: float,
                 allow_loopback: bool, attempts: int = 4, max_retry_after: float = 60.0, timeout: float = 20.0,
                 *, key_values=(), replaying: "StoredAnswers | None" = None, **client_options):
        """`key_values`: the key's secret values, blanked from what is kept of each request (request_key). `replaying`:
        the answers of the syncs before, which answer every request instead of the network. `client_options`: more
        for the PoliteClient (a deadline; tests pass a fake clock and sleep)."""
        self.source = source
        self.store = store
        self.key_values = tuple(key_values)
        self.replaying = replaying
        self.answers: dict[str, dict] = {}  # request_key -> how the request was answered, kept for a replay
        # Loopback only for the API's own host (a recorded API on this machine), never for a URL it names. The
        # provider's quota guards its account: a recorded API on this machine is asked at the connection's rate.
        recorded = allow_loopback and on_this_machine(source.base_url)
        self.client = PoliteClient(
            "sync", allow_loopback=origin_policy(source.base_url, allow_loopback),
            rate_limit_per_s=rate_limit_per_s if recorded else min(rate_limit_per_s, source.max_rate_per_s),
            attempts=attempts,
            max_retry_after=max_retry_after, timeout=timeout, throttle_statuses=source.throttle_statuses,
            max_bytes=answer_cap(source),
            refused_statuses=source.refused_statuses if source.credential_keys else (),
            base_url=source.base_url, headers=headers, **client_options)
        base = httpx.URL(source.base_url)
        self.origin = (base.scheme, base.host, base.port)  # a next-page URL the API answers with may point anywhere
        self.fetched: list[Fetched] = []  # each answer's URL and raw copy, not its data: a long paging would pile it up
        self.last_stored: tuple[str, str] | None = None  # (url, raw_key) of the last body kept

    def url_of(self, path: str, params: dict | None = None) -> str:
        """The URL a GET of `path` goes to (the API's base applied), as an answer's `url` names it."""
        return str(self.client.build("GET", path, params=params).url)

    async def get(self, path: str, params: dict | None = None) -> ApiResponse:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: dict) -> ApiResponse:
        return await self.request("POST", path, json=body)

    async def request(self, method: str, path: str, *, secret: bool = False, **kwargs) -> ApiResponse:
        """One request, politely. A `secret` one (a token exchange) answers with a credential: its
        body is neither kept raw nor listed as evidence. No usable answer raises FetchError (ParseError for a
        body it cannot decode): the listing cannot be read on."""
        answer = await self.item(method, path, secret=secret, **kwargs)
        if isinstance(answer, ItemFailed):
            answer.error.raw_key = answer.raw_key  # listed with the failure: what the provider said
            raise answer.error
        return answer

    async def item(self, method: str, path: str, *, secret: bool = False, **kwargs) -> ApiResponse | ItemFailed:
        """A request as `request` makes it, for one item of a listing (a programme's details): no usable answer is
        that item's failure, an ItemFailed naming the request and its raw answer, for the plugin to yield in place
        of the item's listing. Refused credentials, a spent wait budget and our own refusals (ENDS_THE_SYNC) still
        raise: every other request would be refused too."""
        fetched_at = datetime.now(UTC)
        built, raw_key, answered = self.client.build(method, path, **kwargs), None, True
        target = built.url  # the request checked here is the one sent
        try:
            if (target.scheme, target.host, target.port) != self.origin:  # httpx sends the client's headers anywhere
                raise FetchError(f"{method} {str(target)[:200]}: not on {self.source.base_url}: "
                                 "the API's credentials go only there")
            try:
                answered = False
                if self.replaying:
                    response, fetched_at = self.replaying.answer(built, self.key_values)
                else:
                    response = await asyncio.to_thread(self.client.ask, built)
            except GaveUp as exc:  # still a retry status: kept as evidence, and a throttle status said as one
                raw_key = self._keep(built, exc.response, secret, fetched_at)
                throttled = exc.response.status in self.source.throttle_statuses
                raise GaveUp(str(exc) + (  # the answer kept: a connection test reads its status and Retry-After
                    f"; {self.source.title} answers {exc.response.status} when its rate limit is hit, "
                    "so this alone does not say the credentials are wrong" if throttled else ""),
                    exc.response) from None
            except Undecoded as exc:  # a coding not asked for: kept as it came, with it, the request failing
                raw_key = self._keep(built, exc.response, secret, fetched_at, exc.coding)
                raise
            answered = True
            raw_key = self._keep(built, response, secret, fetched_at)
            label = response.url if method == "GET" else f"{method} {response.url}"
            if response.status in REDIRECTS:
                raise FetchError(f"{label}: HTTP {response.status}{self._not_followed(str(target), response)}")
            if response.status != 200:
                raise FetchError(f"{label}: HTTP {response.status}" + (
                    "" if self.fetched else self._first_answer_hint(response.status)))
            try:
                data = self.source.decode(response.body)
            except ValueError as exc:
                raise ParseError(f"{label}: {exc}{_what_came(response)}") from None
        except ENDS_THE_SYNC:
            raise
        except (FetchError, ParseError) as exc:
            return ItemFailed(str(target), exc, raw_key or None,
                              unanswered=not (answered or isinstance(exc, UnusableAnswer)))
        answer = ApiResponse(response.url, response.status, data, raw_key, fetched_at)
        if not secret:
            self.fetched.append(Fetched(answer.url, raw_key, False))
        return answer

    def _first_answer_hint(self, status: int) -> str:
        """What an error status on the sync's first request most likely means (FIRST_ANSWER_HINTS), or nothing."""
        hint = FIRST_ANSWER_HINTS.get(status)
        key = " and the account id in its key" if self.source.credential_keys else ""  # ClickBank's reads none
        return f", {hint.format(base_url=self.source.base_url, key=key)}" if hint else ""

    def _not_followed(self, url: str, response: Response) -> str:
        """Where a redirect leads, and the base_url to set if the API moved there. Not followed: the API's credentials
        (headers the plugin adds to every request) go only to its base_url, and a hop elsewhere would send them on the
        old address's word, or, dropped as browsers drop them, ask the API unauthenticated, to no use."""
        location = response.headers.get("location", "").strip()
        if not location:
            return ", a redirect naming no Location"
        moved = urljoin(url, location)
        base = self.source.base_url.rstrip("/")
        asked = url[len(base):] if url.startswith(base) else ""  # the path and query asked, after the base_url
        new_base = moved[:-len(asked)] if asked and moved.endswith(asked) and moved != url else None
        advice = f"set the connection's base_url to {new_base}" if new_base else \
            "if the API has moved, set the connection's base_url to its new address"
        return (f", redirects to {moved[:300]}: not followed, as the API's credentials are sent to its base_url "
                f"({self.source.base_url}) alone; {advice}")

    def _keep(self, request: httpx.Request, response: Response, secret: bool, fetched_at: datetime,
              coding: str | None = None) -> str:
        """The body, raw, in the object store (not a secret one); its key. How the request was answered is noted for
        a replay: a secret answer (a token) with every text in it blanked, so the plugin reads one of its shape; one
        whose body came in a `coding` not asked for with that coding, so that its replay refuses it as the sync did."""
        raw_key = "" if secret else self.store.put_content_addressed(
            f"raw/{self.source.name}", response.body, suffix=self.source.raw_suffix,
            content_type=response.headers.get("content-type", "application/json"))
        if raw_key:
            self.last_stored = (response.url, raw_key)
        answer = {"url": without_values(response.url, self.key_values), "status": response.status,
                  # a Location may quote the key it was sent (a login page's address, the request echoed)
                  "headers": {name: without_values(response.headers[name], self.key_values) for name in ANSWER_HEADERS
                              if name in response.headers},
                  "fetched_at": fetched_at.isoformat()}
        if coding:
            answer["coding_not_asked_for"] = coding
        if secret:
            answer["body"] = _blanked(response.body)
        else:
            answer["raw_key"] = raw_key
        self.answers[request_key(request, self.key_values)] = answer
        return raw_key

    async def aclose(self) -> None:
        self.client.close()


def answer_cap(source: type[ApiSource] | ApiSource) -> int:
    """The most bytes an answer of the source's API holds, after decompression: what a sync takes, and so what a raw
    copy of one holds."""
    return MAX_BYTES if source.max_response_bytes is None else source.max_response_bytes


def request_key(request: httpx.Request, key_values) -> str:
    """A request as a replay finds its answer: its method, path and query, and body, the key's secret values blanked (a
    key rotated since finds the same answers; its headers, where most keys go, are not part of it). Not its host: every
    request goes to the API's base_url (Api.item), which an operator may set anew (the API moved)."""
    said = f"{request.method} {request.url.raw_path.decode('ascii')}\n{request.content.decode('utf-8', 'replace')}"
    return hashlib.sha256(without_values(said, key_values).encode()).hexdigest()


def _blanked(body: bytes) -> str | None:
    """A secret answer (a token exchange's JSON) with every text in it blanked: its shape, for a replay, and no secret;
    None when it is not JSON (a replay then cannot answer it)."""
    def blank(value):
        if isinstance(value, dict):
            return {key: blank(item) for key, item in value.items()}
        if isinstance(value, list):
            return [blank(item) for item in value]
        return "replayed" if isinstance(value, str) else value

    try:
        return json.dumps(blank(json.loads(body)))
    except (ValueError, RecursionError):
        return None


class StoredAnswers:
    """Stands in for the network in a replay: each request answered as the connection's syncs were last answered, its
    body read from the object store (the answer's raw copy). A request no sync made, or whose answer cannot be read,
    fails as a fetch does, naming it: the replay is then incomplete and withdraws nothing."""

    def __init__(self, store: ObjectStore, connection: Connection):
        """The answers kept for `connection` (its generation: those kept for another are none, kept_for_another). Its
        answers' copies are kept under raw/<its source>/."""
        connection_id = connection.id
        self.store, self.key, self.source = store, answers_key(connection_id), connection.source
        self.most = answer_cap(get_source(connection.source))  # what a raw copy of an answer holds at most
        # a disabled one is enabled first (amx scrape refuses it)
        enable = "" if connection.enabled else f"amx connections edit {connection_id} --enabled, then "
        none_kept = (f"{connection_id} has no API answers kept to replay (syncs keep them since 2026-12-07): "
                     f"{enable}amx scrape {connection_id} syncs it, and a replay reads that sync's answers")
        try:
            kept = json.loads(store.get(self.key, max_bytes=MAX_API_ANSWERS_BYTES).data)
        except NotFoundError:
            raise InvalidInput(none_kept) from None
        except ObjectTooLarge as exc:
            raise DamagedData(self.key, exc.problem, f"amx scrape {connection_id} syncs it again") from None
        except ValueError as exc:
            raise DamagedData(self.key, f"not JSON ({exc})", f"amx scrape {connection_id} syncs it again") from None
        except RecursionError:  # no sync nests so deep: a sync cut short, which adds to these, would end there too
            raise DamagedData(self.key, "JSON nested too deeply to read",
                              f"amx scrape {connection_id} syncs it again") from None
        self.answers = kept.get("answers") if isinstance(kept, dict) else None
        if not isinstance(self.answers, dict) or not all(isinstance(a, dict) for a in self.answers.values()):
            raise DamagedData(self.key, "no answers object", f"amx scrape {connection_id} syncs it again")
        if another := kept_for_another(self.key, kept.get("generation"), connection):
            raise InvalidInput(f"{none_kept} ({another})")
        # The sync that read the API to its end whose answers these are (with those of syncs cut short since added):
        # None when none is said (kept before answers named it, or only syncs cut short kept any)
        self.run = kept.get("run")
        if self.run is not None and not (isinstance(self.run, str) and re.fullmatch(RUN, self.run)):
            raise DamagedData(self.key, f"its run {str(self.run)[:80]!r} is not a sync's (r_ and 32 hex digits)",
                              f"amx scrape {connection_id} syncs it again")
        # The key's fields that are no secret, as the sync that kept these built its requests with (None: kept before
        # syncs kept them)
        self.key_fields = kept.get("key_fields")
        if self.key_fields is not None and not (isinstance(self.key_fields, dict) and all(
                isinstance(value, str) for value in self.key_fields.values())):
            raise DamagedData(self.key, "its key_fields are not an object of texts",
                              f"amx scrape {connection_id} syncs it again")
        self.kept_at = store.written_at(self.key)  # the store's time: no answer kept was fetched after it

    def credentials(self, source: ApiSource) -> dict[str, str] | None:
        """The key as the replay builds its requests with, read from no secret store: the fields kept with the answers,
        each secret field standing as REPLAY_SECRET. None when the answers keep not every field of the key that is no
        secret (kept before syncs kept them): the replay then reads the key."""
        if self.key_fields is None or any(name not in self.key_fields for name in source.credential_keys
                                          if not secret_field(name)):
            return None
        return {name: REPLAY_SECRET if secret_field(name) else self.key_fields[name] for name in source.credential_keys}

    def answer(self, request: httpx.Request, key_values) -> tuple[Response, datetime]:
        said = f"{request.method} {without_values(str(request.url), key_values)[:200]}"
        answer = self.answers.get(request_key(request, key_values))
        if answer is None:
            raise FetchError(f"{said}: no sync kept an answer to this request, so a replay cannot read it "
                             "(a new sync asks the API)")
        try:
            if "body" in answer:
                body = answer["body"].encode()
            else:  # this API's raw answer as kept: not another object of the store, nor one written over since
                body = self.store.get_content_addressed(f"raw/{self.source}", answer["raw_key"], max_bytes=self.most)
            fetched_at = datetime.fromisoformat(answer["fetched_at"])
            if fetched_at.tzinfo is None:
                raise ValueError(f"fetched_at {answer['fetched_at']!r} names no time zone")
            # a sighting dated ahead would outweigh every real one until then (the latest claim wins)
            if self.kept_at is None or fetched_at > self.kept_at + CLOCK_LEEWAY:
                raise ValueError(f"fetched_at {answer['fetched_at']!r} is after the store kept these answers "
                                 f"({self.kept_at.isoformat() if self.kept_at else 'not said'})")
            headers = {name: str(answer["headers"][name]) for name in ANSWER_HEADERS if name in answer["headers"]}
            response = Response(str(answer["url"]), int(answer["status"]), headers, body)
            coding = answer.get("coding_not_asked_for")
        except (KeyError, TypeError, ValueError, AttributeError, NotFoundError, DamagedData) as exc:
            # a damaged copy named with what is wrong with it, not its remedy (cut off at 200 characters, and a sync
            # keeps a copy anew)
            why = f"{exc.where}: {exc.problem}" if isinstance(exc, DamagedData) else str(exc)[:200]
            raise FetchError(f"{said}: its kept answer cannot be read ({type(exc).__name__}: {why})") from None
        if coding:  # the sync's refusal, in its words: its bytes are no text for the plugin
            raise undecoded(request_label(request), str(coding), response)
        return response, fetched_at


def new_run() -> str:
    """A new sync's run (RUN)."""
    return f"r_{uuid.uuid4().hex}"


def key_fields(source: ApiSource, credentials: dict) -> dict[str, str]:
    """The fields of the key the sync's requests are built from that are no secret (secret_field: its account ids,
    Awin's publisher_id, Impact's account_sid), kept with its answers so a replay builds the same requests with no key
    (StoredAnswers.credentials). Never a secret: those are kept nowhere."""
    return {name: credentials[name] for name in source.credential_keys
            if name in credentials and not secret_field(name)}


def keep_answers(store: ObjectStore, connection: Connection, answers: dict[str, dict], complete: bool,
                 run: str | None = None, fields: dict[str, str] | None = None) -> None:
    """How a sync's requests were answered, for the next replay: in place of the syncs' before when the sync read the
    API to its end, else added to theirs (a sync cut short leaves the answers it did not reach as they were, and an
    answer it got no listing from, an error status, leaves the usable one before it: as a run cut short withdraws
    nothing, the last word read stands). Kept with them: the `run` of the last sync read to its end, whose answers
    these are, none older (a replay of them is of that run: pipeline.superseded_runs); and the generation of the
    connection as the sync read it, whose answers they are (a connection deleted while it synced kept them for none
    created again under its id: kept_for_another). And the key's `fields` the sync built its requests with (key_fields):
    a replay builds them again from these (None: none kept, and a replay of these answers reads the key). Written only
    while the connection is stored with that generation (connections.write_kept)."""
    def record() -> bytes:
        kept_answers, kept_run = answers, run
        if not complete:
            try:
                kept = StoredAnswers(store, connection)
                before, kept_run = kept.answers, kept.run
            except (InvalidInput, DamagedData):  # none kept yet (or another generation's), or damaged: this sync's
                before, kept_run = {}, None  # alone, of no complete run
            kept_answers = before | {request: answer for request, answer in answers.items()
                                     if answer["status"] == 200 or before.get(request, {}).get("status") != 200}
        return json.dumps({"answers": kept_answers, "run": kept_run, "generation": connection.generation,
                           "key_fields": fields}).encode()

    write_kept(store, connection, answers_key(connection.id), record)


def _what_came(response: Response) -> str:
    """What an answer the source cannot decode was, where that tells the user more than the decoder's words: nothing,
    or a web page (a maintenance, login or error page served with a 200)."""
    if not response.body.strip():
        return " (the answer is empty)"
    if response.content_type in ("text/html", "application/xhtml+xml"):
        return " (a web page came, not the API's answer: a maintenance, login or error page?)"
    return ""


async def _sync(source: ApiSource, connection: Connection, credentials: dict, store: ObjectStore,
                allow_loopback: bool, time_limit_s: float, replaying: StoredAnswers | None, run: str | None) -> list:
    api = Api(source, store, source.auth_headers(credentials), connection.rate_limit_per_s, allow_loopback,
              key_values=secret_values(credentials), replaying=replaying,
              wait_budget=WaitBudget(time_budget(time_limit_s)))
    items: list = []
    kept, counted = 0, {}  # failures kept; raw_key -> failures past MAX_FAILURES, only counted
    in_a_row = 0  # item requests unanswered since one was last answered
    walked = False  # the plugin read the API to its end, with no fault of its own ending it
    try:
        async with aclosing(source.listings(api, credentials)) as listings:
            async for response, listing in listings:
                item = listing_record(source, connection, response, listing) if (
                    kept < MAX_FAILURES or not isinstance(listing, Exception)) else None
                if item is not None and (not isinstance(item, Failure) or kept < MAX_FAILURES):
                    kept += isinstance(item, Failure)
                    items.append(item)
                else:
                    counted[response.raw_key] = counted.get(response.raw_key, 0) + 1
                in_a_row = in_a_row + 1 if isinstance(listing, ItemFailed) and listing.unanswered else 0
                if in_a_row == ITEMS_UNANSWERED_IN_A_ROW:
                    raise FetchError(f"{in_a_row} item requests in a row got no answer: {source.title} is taken for "
                                     "down, and the rest of the listing is left unread")
        walked = True
    except FetchError as exc:  # the API cannot be read on: refused, unreachable, an error status, no time left
        refused = isinstance(exc, CredentialsRefused)
        reason = str(exc) + (f"; give its key the provider's current values (amx keys rotate "
                             f"{connection.credentials_path}, which tests them) or, once the account is fixed at the "
                             f"provider, test it again (amx connections test {connection.id})" if refused else "")
        if isinstance(exc, RefusedAddress):  # the name's DNS changed under the sync: not retried as a network fault
            reason += ("; refused by the address policy (no request goes to a non-public address), not a network "
                       "failure: the sync ended here, and asking again would not change it while the name resolves so")
        items.append(Failure(connection.id, "fetch", reason, exc.raw_key, refused=refused,
                             out_of_time=isinstance(exc, WaitsSpent), unreached=host_unreached(exc)))
    except Exception as exc:  # noqa: BLE001 - not JSON, or a fault in the plugin's walk: the pages after are unknown
        url, raw_key = api.last_stored or (connection.id, None)
        items.append(Failure(url, "parse", _reason(source, url, exc), raw_key))
    finally:
        await api.aclose()
    # a reason quoting what the provider answered may quote the key it was sent: shown to every read token
    items = [replace(item, reason=without_values(item.reason, secret_values(credentials))) if isinstance(item, Failure)
             else item for item in items]
    if counted:
        items.append(Failure(connection.id, "parse", f"{sum(counted.values())} more items could not be read: only "
                             f"the first {MAX_FAILURES} failures are listed (each response's are kept beside it)"))
    _keep_parse_failures(store, api, items, counted)
    if not replaying:
        keep_answers(store, connection, api.answers,
                     complete=walked and not any(isinstance(item, Failure) and item.stage == "fetch" for item in items),
                     run=run, fields=key_fields(source, credentials))
    return api.fetched + items


def listing_record(source: ApiSource, connection: Connection, response: ApiResponse, listing) -> RawRecord | Failure:
    """A listing as a RawRecord; what the plugin could not read (an exception it handed over, data that
    does not fit a record) as a parse failure of that response."""
    if isinstance(listing, ItemFailed):  # its own request failed: named with that request and its raw answer
        return Failure(listing.url, listing.stage, str(listing), listing.raw_key,
                       unreached=host_unreached(listing.error))
    if isinstance(listing, Exception):
        return Failure(response.url, "parse", _reason(source, response.url, listing), response.raw_key)
    try:
        return record_of(source.name, connection, listing, response.url, response.fetched_at, response.raw_key)
    except ValidationError as exc:  # the API sent data that does not fit a listing
        first = exc.errors(include_url=False)[0]
        return Failure(response.url, "parse", f"{'.'.join(map(str, first['loc']))}: {first['msg']}", response.raw_key)


def _reason(source: ApiSource, url: str, exc: Exception) -> str:
    if isinstance(exc, ParseError):
        return str(exc)
    reason = fault_reason(exc)
    log.warning("sync.plugin_fault", source=source.name, url=url, reason=reason, exc_info=exc)
    return reason


def _keep_parse_failures(store: ObjectStore, api: Api, items: list, counted: dict[str, int]) -> None:
    """Each response's parse failures beside its raw copy (with how many more were only counted); a response read
    cleanly now loses its old ones."""
    failed: dict[str, list[str]] = {}
    more = dict(counted)  # raw_key -> its failures not written out
    urls = {fetched.raw_key: fetched.url for fetched in api.fetched}
    for item in items:
        if isinstance(item, Failure) and item.stage == "parse" and item.raw_key:
            reasons = failed.setdefault(item.raw_key, [])
            urls.setdefault(item.raw_key, item.url)
            if len(reasons) < 99:  # record_parse_failures keeps 100: room for the count of the rest
                reasons.append(item.reason)
            else:
                more[item.raw_key] = more.get(item.raw_key, 0) + 1
    for raw_key, count in more.items():
        failed.setdefault(raw_key, []).append(f"… and {count} more items of this response could not be read")
    for raw_key, reasons in failed.items():
        record_parse_failures(store, urls.get(raw_key, ""), raw_key, reasons, datetime.now(UTC))
    for fetched in api.fetched:
        if fetched.raw_key not in failed:
            store.delete(error_key(fetched.raw_key))


def sync(source: ApiSource, connection: Connection, credentials: dict, store: ObjectStore,
         allow_loopback: bool = False, *, time_limit_s: float, replaying: StoredAnswers | None = None,
         run: str | None = None) -> list:
    """RawRecords, Fetched and Failure items, like crawl() yields them. `replaying`: the answers the syncs before kept,
    which answer every request (a replay), so no request leaves this machine. `run`: the sync's (new_run), kept with
    its answers when it reads the API to its end. The waits its requests are told to make
    (the rate limit's spacing, each retry's Retry-After or backoff) are counted against `time_limit_s`, the sync
    function's time limit, less a tenth (crawl.time_budget): killed at that limit, a sync stores nothing, so the request
    whose wait would pass it is not made, and the sync ends there with what it read (a Failure, out_of_time: the run
    incomplete, withdrawing nothing)."""
    with keys_unlogged(secret_values(credentials)):  # a plugin's fault may quote the provider quoting the key
        return asyncio.run(_sync(source, connection, credentials, store, allow_loopback, time_limit_s, replaying,
                                 run))
