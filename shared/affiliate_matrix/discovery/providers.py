"""Search providers behind one interface, each with a daily quota and a cost per query tracked in
the object store (discovery/usage/<day>.json, conditional writes; each provider's row under the day as it counts its
quota: Google's ends at midnight Pacific time, the others' at midnight UTC).

Requests go through the `polite` client (per-host pacing at the provider's documented rate, shared with
every other request of the process; retries on connect errors, timeouts, 429 and 5xx honouring
Retry-After, or the reset a provider's rate-limit headers name where it sends no Retry-After; a size cap). A provider that answers "quota exhausted" is skipped for the rest of the day
(that answer is not retried: asking again will not change it); one that still fails after the retries
(5xx, bad answer, unreachable) is skipped for the rest of the run. Credentials come from the secrets
port and never reach a log line (errors and logs name a provider's host only: Google's key is in the
query). The URLs are the operator's settings (SearXNG usually runs in-cluster), so they are not held to
the public-address rule that guards the pages we fetch.
"""

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from affiliate_matrix.discovery.dorks import Dork
from affiliate_matrix.errors import ConflictError, DamagedData, FetchError, NotFoundError
from affiliate_matrix.observability import get_logger
from affiliate_matrix.polite import GaveUp, PoliteClient, Response, WaitsSpent
from affiliate_matrix.storage import read_json

log = get_logger()
MAX_RESPONSE = 2 * 1024 * 1024
_COUNT = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes '²', which int() refuses


class QuotaExhausted(Exception):
    pass


class ProviderError(Exception):
    pass


@dataclass(frozen=True)
class Result:
    url: str
    title: str
    snippet: str
    rank: int
    provider: str
    query: str


def json_object(body: bytes) -> dict | None:
    """A JSON object answer, or None for anything else (HTML, a list, garbage, JSON nested past the parser's depth,
    whose RecursionError went out of the run as a 500)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def error_of(body: dict | None) -> dict:
    """The answer's error object; {} when there is none or it is not an object."""
    error = (body or {}).get("error")
    return error if isinstance(error, dict) else {}




def _text(value) -> str:
    return value if isinstance(value, str) else ""


class Provider(ABC):
    name: str
    cost_per_query: float  # USD at list price, for the usage figures
    rate_limit_per_s: float  # the provider's documented per-second limit (the lowest plan's)
    page_size: int  # the most results one query asks for: what an answer is read up to

    def __init__(self, base_url: str, credentials: dict, user_agent: str, **pacing):
        """`pacing`: hosts, clock, sleep, wall_clock for the PoliteClient (tests pass fakes)."""
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        # What its answers gave in part (results cut, engines that failed), each with how many queries: the run's
        # report lists them (partial_answers), where only the log said so
        self.notes: dict[str, int] = {}
        self.client = PoliteClient("discovery", guard=False, redact=True, rate_limit_per_s=self.rate_limit_per_s,
                                   concurrency=1, timeout=15.0, max_bytes=MAX_RESPONSE, attempts=3,
                                   max_retry_after=30.0, deadline=30.0, settled=self.quota_spent,
                                   asked_wait=self.reset_wait, headers={"User-Agent": user_agent}, **pacing)

    @abstractmethod
    def search(self, dork: Dork) -> list[Result]:
        ...

    def quota_spent(self, response: Response) -> bool:
        """Whether a retry status says the quota is spent for longer than a run (never retried)."""
        return False

    def reset_wait(self, response: Response) -> float | None:
        """The seconds a retry status without a Retry-After says to wait, in the provider's own headers; None: it
        does not say, and the client backs off on its own."""
        return None

    def get_json(self, path: str, params: dict, headers: dict | None = None) -> tuple[int, dict, dict[str, str]]:
        try:
            response = self.client.request("GET", self.base_url + path, params=params, headers=headers or {})
        except GaveUp as exc:  # still 429 or 5xx after the retries: judged like any other answer
            response = exc.response
        except WaitsSpent:  # the run's time is up, not this provider's fault (run.search)
            raise
        except FetchError as exc:  # unreachable, too large, a malformed redirect
            raise ProviderError(f"{self.name}: {exc}") from None
        body = json_object(response.body)
        if response.status == 200 and body is None:  # a proxy's sign-in page read as no results hid the failure
            raise ProviderError(f"{self.name}: the answer is not a JSON object")
        return response.status, body or {}, response.headers

    def refused(self, status: int, code: str, said, *, key_refused: bool = False) -> ProviderError:
        """The error for an answer that is not a page of results: its status, the provider's code and what it said
        (any credential it quotes left out), and where the key is kept when the answer refuses it."""
        said = " ".join(_text(said).split())[:200]  # one line, whatever it holds
        for value in self.credentials.values():
            if isinstance(value, str) and len(value) >= 4:
                said = said.replace(value, "…")
        message = f"{self.name}: HTTP {status} {code}".strip() + (f": {said}" if said else "")
        if key_refused or status in (401, 403):
            message += f" (check its key, discovery/{self.name} in the secret store)"
        return ProviderError(message)

    def note(self, what: str) -> None:
        self.notes[what] = self.notes.get(what, 0) + 1

    def partial_answers(self) -> list[str]:
        """What its answers gave in part, each once, with how many queries it was said of."""
        return [what + (f" ({count} queries)" if count > 1 else "") for what, count in self.notes.items()]

    def results(self, items, dork: Dork, url: str, snippet: str) -> list[Result]:
        """The answer's results: objects with a text URL, their title and snippet as text (absent: empty), the
        first `page_size` of them; a result list that is not a list is the provider's error. Each is a page to fetch
        and judge, one after another: an answer of 40,000 results (its 2 MB cap holds them) was as many fetches
        for one query."""
        if not isinstance(items, list):
            raise ProviderError(f"{self.name}: the answer's results are not a list")
        if len(items) > self.page_size:
            log.warning("discover.results_cut", provider=self.name, results=len(items), kept=self.page_size)
            self.note(f"{self.name}: an answer held more results than the {self.page_size} a query takes; its first "
                      f"{self.page_size} kept, the rest not looked at")
        return [Result(item[url], _text(item.get("title")), _text(item.get(snippet)), rank, self.name, dork.text)
                for rank, item in enumerate(items[:self.page_size], 1) if isinstance(item, dict) and _text(item.get(url))]

    def close(self) -> None:
        self.client.close()


class GoogleProgrammableSearch(Provider):
    """Custom Search JSON API: 100 queries a day free, then $5 per 1,000; 100 queries a minute."""

    name, cost_per_query, rate_limit_per_s, page_size = "google", 0.005, 1.5, 10

    @staticmethod
    def _daily_limit(status: int, body: dict | None) -> bool:
        return status == 429 and "per day" in str(error_of(body).get("message", ""))

    def quota_spent(self, response: Response) -> bool:
        """The daily limit (a 429 whose message names "per day"); a per-minute one is waited out."""
        return self._daily_limit(response.status, json_object(response.body))

    def search(self, dork: Dork) -> list[Result]:
        status, body, _ = self.get_json("/customsearch/v1", {
            "key": self.credentials.get("api_key", ""), "cx": self.credentials.get("cx", ""), "q": dork.text,
            "lr": f"lang_{dork.language}", "num": self.page_size})
        error = error_of(body)
        # Only the daily limit spends the day: a per-minute one still hit after the retries (another run sharing the
        # project's quota) ends this run's use of Google, as any failure does, and the next run asks again.
        if self._daily_limit(status, body):
            raise QuotaExhausted(str(error.get("message", "quota exhausted")))
        if status != 200:  # a key Google does not take is a 400 INVALID_ARGUMENT saying "API key not valid"
            raise self.refused(status, str(error.get("status", "")), error.get("message"),
                               key_refused="API key" in _text(error.get("message")))
        items = body.get("items", [])
        if isinstance(items, list):  # a file (a PDF of terms, a spreadsheet: Google names its `mime`) is no page
            items = [item for item in items if not isinstance(item, dict) or item.get("mime") in (None, "text/html")]
        return self.results(items, dork, "link", "snippet")


def _windows(headers: dict[str, str], name: str) -> list[int] | None:
    """A rate-limit header's whole numbers, one per window, comma-separated ("1, 1419704"); None when it is absent or
    any of them is not one."""
    values = [value.strip() for value in headers.get(name, "").split(",")]
    return [int(value) for value in values] if all(_COUNT.fullmatch(value) for value in values) else None


class BraveSearch(Provider):
    """Brave Search API: results in web.results; plans bill per query; the free plan takes 1 query a second.
    Its X-RateLimit-* headers give one value per window, the second's first, the month's second
    (api.search.brave.com/app/documentation/web-search/response-headers): a 429 with the month's remaining at 0 (or
    QUOTA_LIMITED) is the quota spent; one with only the second's at 0 (RATE_LIMITED) is waited out, as long as
    X-RateLimit-Reset says that window takes to reset."""

    name, cost_per_query, rate_limit_per_s, page_size = "brave", 0.003, 1.0, 20

    @staticmethod
    def _code(body: dict) -> str:
        return str(error_of(body).get("code", ""))

    def _spent(self, status: int, body: dict, headers: dict[str, str]) -> bool:
        remaining = _windows(headers, "x-ratelimit-remaining")
        return status == 429 and (self._code(body).endswith("QUOTA_LIMITED") or
                                  (remaining is not None and len(remaining) > 1 and remaining[1] == 0))

    def quota_spent(self, response: Response) -> bool:
        return self._spent(response.status, json_object(response.body), response.headers)

    def reset_wait(self, response: Response) -> float | None:
        """A 429's wait until the spent window resets: the longest X-RateLimit-Reset of the windows whose
        X-RateLimit-Remaining is 0 (the second's, a second or so; a spent month is never retried, quota_spent). None
        when the two headers do not pair up."""
        remaining = _windows(response.headers, "x-ratelimit-remaining")
        reset = _windows(response.headers, "x-ratelimit-reset")
        if response.status != 429 or remaining is None or reset is None or len(remaining) != len(reset):
            return None
        spent = [seconds for left, seconds in zip(remaining, reset, strict=True) if left == 0]
        return float(max(spent)) if spent else None

    def search(self, dork: Dork) -> list[Result]:
        status, body, headers = self.get_json("/res/v1/web/search", {"q": dork.text, "search_lang": dork.language,
                                                                     "count": self.page_size},
                                              {"X-Subscription-Token": self.credentials.get("api_token", ""),
                                               "Accept": "application/json"})
        code = self._code(body)
        if self._spent(status, body, headers):
            raise QuotaExhausted(str(error_of(body).get("detail", "quota exhausted")))
        if status != 200:  # a token Brave does not take is a 422 SUBSCRIPTION_TOKEN_INVALID
            raise self.refused(status, code, error_of(body).get("detail"), key_refused="TOKEN" in code)
        web = body.get("web")
        return self.results(web.get("results", []) if isinstance(web, dict) else [], dork, "url", "description")


class SearxngSearch(Provider):
    """A self-hosted SearXNG instance with the JSON format enabled; free, quota as configured. Its own
    instance: paced only so a run does not swamp it (its limiter, when on, answers 429, which is waited out). A page
    is what its engines return together (no count to ask for): read up to 100. It is asked for the `general` category
    by name, so the engines a query goes to are the ones its /config lists as enabled in that category."""

    name, cost_per_query, rate_limit_per_s, page_size = "searxng", 0.0, 5.0, 100
    CATEGORY = "general"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._engines: frozenset[str] | None = None
        self._engines_read = False

    def engines(self) -> frozenset[str] | None:
        """The engines a query goes to: those its /config lists as enabled in CATEGORY; None when /config does not
        say (unreachable, or not that shape). Asked once a run, and only when an answer needs it."""
        if not self._engines_read:
            self._engines_read = True
            try:
                status, body, _ = self.get_json("/config", {})
            except ProviderError:
                status, body = None, {}
            listed = body.get("engines")
            if status == 200 and isinstance(listed, list):
                self._engines = frozenset(
                    engine["name"] for engine in listed if isinstance(engine, dict) and isinstance(
                        engine.get("name"), str) and engine.get("enabled") is True and isinstance(
                        engine.get("categories"), list) and self.CATEGORY in engine["categories"]) or None
        return self._engines

    def search(self, dork: Dork) -> list[Result]:
        status, body, _ = self.get_json("/search", {"q": dork.text, "format": "json", "language": dork.language,
                                                    "categories": self.CATEGORY})
        if status == 403:
            raise ProviderError("searxng: HTTP 403 (is the json format enabled in settings.yml?)")
        if status == 429:  # only its limiter answers 429, and it lets an address ask the JSON API 4 times an hour
            raise ProviderError("searxng: HTTP 429 (is its limiter on? turn server.limiter off in settings.yml, or "
                                "list this address in botdetection.ip_lists.pass_ip in limiter.toml)")
        if status != 200:
            raise ProviderError(f"searxng: HTTP {status}")
        found = self.results(body.get("results", []), dork, "url", "content")
        failed = body.get("unresponsive_engines")
        if found or not failed or not isinstance(failed, list):
            return found
        # No result and engines that failed (a CAPTCHA, a timeout, suspended for too many requests), listed as
        # [engine, reason] pairs. When every engine failed, the empty page is no answer: read as one, the query was
        # never handed to the next provider. When another engine answered, it found nothing: that is the answer.
        named = ", ".join(f"{entry[0]} ({entry[1]})"[:100] if isinstance(entry, list) and len(entry) == 2
                          else str(entry)[:100] for entry in failed[:10])
        engines = self.engines()
        names = {entry[0] for entry in failed if isinstance(entry, list) and entry and isinstance(entry[0], str)}
        answered = engines - names if engines else None
        if answered:
            log.warning("discover.searxng_engines_failed", engines=named, answered=sorted(answered)[:10])
            self.note(f"searxng: its engines {named} did not answer and {', '.join(sorted(answered)[:10])} found "
                      "nothing: read as no results, which the engines that failed may have had")
            return []
        raise ProviderError("searxng: no results, and its engines did not answer: " + named + (
            "" if engines else " (its /config does not list its engines: whether another answered is unknown)"))


PROVIDERS = {p.name: p for p in (GoogleProgrammableSearch, BraveSearch, SearxngSearch)}


# The day a provider's daily quota is counted in, where it is not UTC's: Google's resets at midnight Pacific time.
# ZoneInfo reads the system's zone files: the image's Debian bookworm base has them (tzdata is a required package).
QUOTA_DAY_ZONES = {"google": "America/Los_Angeles"}


def now() -> datetime:
    """The instant a run starts counting at; one name, so tests can fix it."""
    return datetime.now(UTC)


def quota_day(provider: str, at: datetime) -> str:
    """The day `at` falls on as `provider` counts its daily quota."""
    zone = QUOTA_DAY_ZONES.get(provider)
    return at.astimezone(ZoneInfo(zone) if zone else UTC).date().isoformat()


class Usage:
    """Queries and cost per provider per day, and which providers ran out, in the object store: a provider's row is
    in the document of its own quota day (`quota_day`), fixed when the run starts. Each document is read once, when
    a provider first needs it, and kept with its ETag; it is read again only when another run wrote it in between
    (the conditional write says so)."""

    def __init__(self, store, quotas: dict[str, int], day: str | None = None, started: datetime | None = None):
        """`day`: one day for every provider; `started`: the run's start (default: now)."""
        self.store, self.quotas, self.day = store, quotas, day
        self.started = started or now()
        self.documents: dict[str, tuple[dict, str | None]] = {}  # key: the day's usage and its ETag

    def key(self, provider: str) -> str:
        return f"discovery/usage/{self.day or quota_day(provider, self.started)}.json"

    def read(self, key: str) -> tuple[dict, str | None]:
        """The day's usage and its ETag; a document not of that shape is DamagedData, never overwritten (the
        day's count would start again from 0, past the quota)."""
        usage, etag, problem = read_json(self.store, key, lambda usage: isinstance(usage, dict) and all(
            isinstance(row, dict) and type(row.get("queries")) is int and isinstance(row.get("exhausted"), bool)
            and isinstance(row.get("cost_usd"), int | float) for row in usage.values()),
            "not a mapping of providers to their queries, cost and exhaustion")
        if problem is not None:
            raise DamagedData(key, problem, "correct it by hand, or delete it to count the day from 0 again")
        return ({} if usage is None else usage), etag

    def reserve(self, provider: str, cost: float) -> bool:
        """Count one query before it is sent, if the quota has room. The conditional write decides on the
        stored count, so runs sharing the day never send more than the quota between them (a check of each
        run's own copy let every run that read it before another counted send one more)."""
        def take(row: dict) -> bool:
            if row["exhausted"] or row["queries"] >= self.quotas.get(provider, 0):
                return False
            row["queries"] += 1
            row["cost_usd"] = round(row["cost_usd"] + cost, 6)
            return True

        return self._change(provider, take)

    def unanswered(self, provider: str, cost: float, *, exhausted: bool = False) -> None:
        """A reserved query the provider did not answer is not counted; `exhausted`: it said its quota is spent."""
        def give_back(row: dict) -> bool:
            row["queries"] = max(0, row["queries"] - 1)
            row["cost_usd"] = round(max(0.0, row["cost_usd"] - cost), 6)
            row["exhausted"] = row["exhausted"] or exhausted
            return True

        self._change(provider, give_back)

    def _change(self, provider: str, change) -> bool:
        """Apply `change` to the provider's row and write it conditionally, on the latest copy if another run
        wrote in between; False (nothing written) when `change` declines."""
        key = self.key(provider)
        if key not in self.documents:
            self.documents[key] = self.read(key)
        for _ in range(5):
            usage, etag = self.documents[key]
            row = usage.setdefault(provider, {"queries": 0, "cost_usd": 0.0, "exhausted": False})
            if not change(row):
                return False
            try:
                self.documents[key] = usage, self.store.put(
                    key, json.dumps(usage, sort_keys=True).encode(), content_type="application/json",
                    if_match=etag, if_none_match=etag is None)
                return True
            except ConflictError:
                self.documents[key] = self.read(key)  # another run counted too: count on top of it
        raise ConflictError(f"{key} kept changing; usage not recorded")


# Where each provider's URL is set, and the fields of its key (discovery/<provider> in the secret store).
URL_SETTINGS = {"google": "google_cse_url", "brave": "brave_search_url", "searxng": "searxng_url"}
KEY_FIELDS = {"google": ("api_key", "cx"), "brave": ("api_token",)}


def open_providers(rt, unusable: list[str] | None = None, **pacing) -> list[Provider]:
    """The configured providers in the order they are tried, each with its credentials and its own polite
    client (close them when done). `unusable`: why each of the others is left out, appended. `pacing`: fakes for
    the PoliteClient, from tests."""
    settings, unusable = rt.settings, [] if unusable is None else unusable
    providers = []
    for name in settings.discovery_providers.split(","):
        name = name.strip()
        url = getattr(settings, URL_SETTINGS[name])
        if not url:
            log.warning("discovery.provider_unconfigured", provider=name)
            unusable.append(f"{name} has no URL (AMX_{URL_SETTINGS[name].upper()})")
            continue
        credentials = {}
        if name in KEY_FIELDS:
            try:
                credentials = rt.secrets.read(f"discovery/{name}").data
            except NotFoundError:
                log.warning("discovery.provider_without_credentials", provider=name, path=f"discovery/{name}")
                unusable.append(
                    f"{name} has no key (amx keys add discovery/{name} --rotation manual "
                    + " ".join(f"--field {field}" for field in KEY_FIELDS[name]) + ")")
                continue
        providers.append(PROVIDERS[name](url, credentials, rt.settings.user_agent, **pacing))
    return providers
