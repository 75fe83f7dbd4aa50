"""The one polite client behind page fetches and API syncs: what the fetcher always did, an API sync now
does too (shared per-host limits, both forms of Retry-After, the SSRF guard, size caps, counted retries).
Real HTTP on loopback (FaultServer); only time is faked, so nothing sleeps and nothing is timed."""

import asyncio
import threading
from email.utils import parsedate_to_datetime

import pytest

from affiliate_matrix.errors import FetchError
from affiliate_matrix.fetch import Fetcher
from affiliate_matrix.netguard import RefusedAddress
from affiliate_matrix.polite import (HOSTS, MAX_HOSTS, HostLimits, PoliteClient, WaitBudget, WaitsSpent,
                                    retry_after_seconds)
from affiliate_matrix.sources import ApiSource
from affiliate_matrix.storage.local import LocalObjectStore
from affiliate_matrix.sync import Api
from affiliate_matrix.observability.telemetry import RETRIES
from tests.support.clock import FakeTime
from tests.support.fault_server import LARGE, FaultServer
from tests.support.loopback import Loopback

# FaultServer's /limited-until answers 429 with this HTTP date once, then JSON.
LIMITED_UNTIL = parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()


class Plain(ApiSource):
    """An API whose answers are taken as they come (FaultServer speaks HTML on most paths)."""

    name, title, max_rate_per_s = "plain", "Plain API", 50.0

    def decode(self, body: bytes):
        return body


class Bounded(Plain):
    """An API whose real answers are known to be bigger than the fetcher's cap (as ClickBank's feed is)."""

    max_response_bytes = 32 * 1024 * 1024


@pytest.fixture
def server():
    s = FaultServer()
    yield s
    s.close()


def api(server, tmp_path, time: FakeTime, hosts: HostLimits, *, source=Plain, **options) -> Api:
    options = {"rate_limit_per_s": 50, "allow_loopback": True, **options}
    return Api(source(server.url), LocalObjectStore(tmp_path), {}, **options, **time.options(hosts))


def call(api: Api, path: str):
    async def run():
        try:
            return await api.get(path)
        finally:
            await api.aclose()

    return asyncio.run(run())


def fetcher(time: FakeTime, hosts: HostLimits, **options) -> Fetcher:
    options = {"allow_loopback": True, "rate_limit_per_s": 50, "attempts": 3, **options}
    return Fetcher("AffiliateMatrixBot/test", **options, **time.options(hosts))


def test_retry_after_as_an_http_date_is_read_against_the_wall_clock():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: LIMITED_UNTIL - 90) == 90.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: LIMITED_UNTIL + 90) == 0.0


@pytest.mark.parametrize("caller", ["page", "api"])
@pytest.mark.parametrize("path,wait", [("/limited", 1.0), ("/limited-until", 20.0)])  # "1"; a date 20 s ahead
def test_retry_after_is_waited_for_exactly_in_either_form(server, tmp_path, caller, path, wait):
    time = FakeTime(LIMITED_UNTIL - 20)
    if caller == "page":
        response = fetcher(time, HostLimits()).get(f"{server.url}{path}")
        assert (response.status, response.attempts) == (200, 2)
    else:
        assert call(api(server, tmp_path, time, HostLimits()), path).status == 200
    assert wait in time.sleeps and len(server.hits[path]) == 2


def test_a_page_fetch_and_an_api_call_to_one_host_share_its_rate_limit(server, tmp_path):
    time, hosts = FakeTime(LIMITED_UNTIL - 20), HostLimits()
    page = fetcher(time, hosts, rate_limit_per_s=1.0)
    assert page.get(f"{server.url}/ok").status == 200  # robots.txt, then the page a second later
    assert time.sleeps == [pytest.approx(1.02)]
    call(api(server, tmp_path, time, hosts, rate_limit_per_s=1.0), "/page/1")  # another client, the same host
    assert time.sleeps == [pytest.approx(1.02)] * 2  # it waited its turn after the page
    other = FaultServer()  # another host (another port) has its own turns
    try:
        call(Api(Plain(other.url), LocalObjectStore(tmp_path), {}, rate_limit_per_s=1.0, allow_loopback=True,
                 **time.options(hosts)), "/page/1")
    finally:
        other.close()
    assert len(time.sleeps) == 2


class Quota(Plain):
    """An API whose documented quota is one call in two seconds (OfferVault's)."""

    max_rate_per_s = 0.5


@pytest.mark.parametrize("host,interval", [("localhost", 2.0), ("127.0.0.1", 1 / 50)])
def test_the_providers_quota_caps_the_rate_unless_the_api_is_a_copy_on_a_loopback_address(
        server, tmp_path, host, interval):
    """The quota guards the provider's account, so a host name (as a provider's is) keeps it whatever it resolves
    to; a recorded copy served on a loopback address, as the demo's are, is asked at the connection's rate (the
    demo waited some 28 s on its recorded APIs at their providers' quotas)."""
    time = FakeTime()
    quota = Api(Quota(server.url.replace("127.0.0.1", host)), LocalObjectStore(tmp_path), {}, rate_limit_per_s=50,
                allow_loopback=True, **time.options(HostLimits()))

    async def twice():
        try:
            return [(await quota.get(path)).status for path in ("/page/1", "/page/2")]
        finally:
            await quota.aclose()

    assert asyncio.run(twice()) == [200, 200]
    assert time.sleeps == [pytest.approx(interval * 1.02)]


def test_pages_and_apis_share_one_registry_of_hosts_by_default(server, tmp_path):
    page = Fetcher("AffiliateMatrixBot/test")
    sync_api = Api(Plain(server.url), LocalObjectStore(tmp_path), {}, rate_limit_per_s=1.0, allow_loopback=False)
    assert page.client.hosts is HOSTS and sync_api.client.hosts is HOSTS
    page.close()
    asyncio.run(sync_api.aclose())


def test_a_host_has_no_more_requests_in_flight_than_the_cap_counting_every_client():
    hosts, time, order = HostLimits(), FakeTime(LIMITED_UNTIL - 20), []
    holding, release = threading.Event(), threading.Event()

    def first():
        with hosts.turn(("shop.test", 80), 0.0, 1, time.clock, time.sleep):
            order.append("first in")
            holding.set()
            release.wait()
            order.append("first out")

    def second():
        with hosts.turn(("shop.test", 80), 0.0, 1, time.clock, time.sleep):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    holding.wait()
    threads[1].start()  # blocks on the one slot until the first lets go
    release.set()
    for thread in threads:
        thread.join()
    assert order == ["first in", "first out", "second in"]


@pytest.mark.parametrize("caller", ["page", "api"])
def test_a_loopback_address_is_refused_unless_allowed_for_that_very_site(server, tmp_path, caller):
    time = FakeTime(LIMITED_UNTIL - 20)
    with pytest.raises(RefusedAddress, match=r"127.0.0.1 resolves to a non-public address \(loopback\)"):
        if caller == "page":
            fetcher(time, HostLimits(), allow_loopback=False).get(f"{server.url}/ok")
        else:
            call(api(server, tmp_path, time, HostLimits(), allow_loopback=False), "/ok")
    assert server.hits == {}  # refused before connecting


@pytest.mark.parametrize("elsewhere", ["http://127.0.0.1:9/admin",  # another service on this machine
                                       "https://{host}/next?page=2",      # the API's host, but another scheme
                                       "http://api.example.com/next?page=2"])
def test_an_api_naming_a_url_off_its_origin_is_not_asked_with_the_credentials(server, tmp_path, elsewhere):
    """A plugin follows the next-page URL an API answers with (Impact's @nextpageuri): an absolute one on another
    origin went there with the connection's Authorization header (httpx keeps the client's headers for any host)."""
    host = server.url.removeprefix("http://")
    with pytest.raises(FetchError, match=f"not on {server.url}: the API's credentials go only there"):
        call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits()), elsewhere.format(host=host))
    assert server.hits == {}


def test_an_api_request_is_built_once_and_the_one_checked_is_the_one_sent(server, tmp_path, monkeypatch):
    """Api.item built each request to check its origin, and the client built it again to send it (its headers checked
    twice): the request sent was not the one checked. Now the one built is checked and sent."""
    built, sent = [], []
    build, send = PoliteClient.build, PoliteClient.send

    def building(self, *args, **options):
        built.append(build(self, *args, **options))
        return built[-1]

    def sending(self, request, **options):
        sent.append(request)
        return send(self, request, **options)

    monkeypatch.setattr(PoliteClient, "build", building)
    monkeypatch.setattr(PoliteClient, "send", sending)
    assert call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits()), "/ok").status == 200
    assert len(built) == 1 and sent == built


@pytest.mark.parametrize("path,problem", [("/huge-declared", "declares 52428800 bytes"),
                                          ("/bomb", "exceeds 5242880 bytes \\(after decompression\\)")])
def test_an_api_answer_is_capped_like_a_page(server, tmp_path, path, problem):
    with pytest.raises(FetchError, match=problem):
        call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits()), path)


@pytest.mark.parametrize("path,problem", [("/huge-declared", "declares 52428800 bytes, more than the 33554432"),
                                          ("/bomb", "exceeds 33554432 bytes \\(after decompression\\)")])
def test_an_api_declaring_a_bigger_bound_is_still_capped_at_it(server, tmp_path, path, problem):
    with pytest.raises(FetchError, match=problem):
        call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits(), source=Bounded), path)


def test_an_answer_past_5_mb_is_taken_by_an_api_that_declares_room_for_it_and_held_once(server, tmp_path):
    import tracemalloc

    with pytest.raises(FetchError, match="declares 12582912 bytes, more than the 5242880 we take"):
        call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits()), "/large")
    tracemalloc.start()
    try:
        response = call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits(), source=Bounded), "/large")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(response.data) == LARGE and response.data == b"x" * LARGE
    assert peak < 1.5 * LARGE  # gathered in place and handed over: a copy of the body would make it 2x


def test_a_paged_api_holds_one_answer_at_a_time_not_every_page_it_read(server, tmp_path):
    """Before, the Api kept every answer's data to list the raw copies at the end: an API paging 1,000 times (as
    Impact's walk allows) held all of it at once."""
    import tracemalloc

    sync_api = api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits(), source=Bounded)

    async def walk(pages: int) -> None:
        try:
            for _ in range(pages):
                assert len((await sync_api.get("/large")).data) == LARGE  # read, then let go, as a plugin does
        finally:
            await sync_api.aclose()

    tracemalloc.start()
    try:
        asyncio.run(walk(4))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * LARGE, f"{peak} bytes held for 4 pages of {LARGE}"
    assert [fetched.url for fetched in sync_api.fetched] == [f"{server.url}/large"] * 4  # what the sync reports


def test_api_retries_back_off_and_are_counted_like_page_retries(server, tmp_path):
    time, before = FakeTime(LIMITED_UNTIL - 20), RETRIES.values.get(("sync",), 0.0)
    response = call(api(server, tmp_path, time, HostLimits()), "/flaky")  # 503, 503, then the page
    assert response.status == 200 and len(server.hits["/flaky"]) == 3
    assert RETRIES.values.get(("sync",), 0.0) - before == 2
    backoffs = [s for s in time.sleeps if s >= 0.5]  # the rate limit's own short turns aside
    assert len(backoffs) == 2 and 0.5 <= backoffs[0] <= 1.0 and 1.0 <= backoffs[1] <= 1.5


def test_an_api_asking_to_wait_beyond_the_cap_is_an_error_not_a_wait(server, tmp_path):
    time = FakeTime(LIMITED_UNTIL - 20)
    with pytest.raises(FetchError, match="asked to wait 3600 s"):
        call(api(server, tmp_path, time, HostLimits(), max_retry_after=60), "/go-away")
    assert time.sleeps == [] and len(server.hits["/go-away"]) == 1


def test_a_server_that_stays_down_ends_an_api_call_as_it_ends_a_page(server, tmp_path):
    with pytest.raises(FetchError, match="HTTP 503 after 3 attempts"):
        call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits(), attempts=3), "/down")
    assert len(server.hits["/down"]) == 3


def test_one_attempt_is_said_as_one(server, tmp_path):
    """A connection test asks once: its failure read "HTTP 503 after 1 attempts"."""
    with pytest.raises(FetchError) as raised:
        call(api(server, tmp_path, FakeTime(LIMITED_UNTIL - 20), HostLimits(), attempts=1), "/down")
    assert str(raised.value).endswith("HTTP 503 after 1 attempt"), str(raised.value)


def test_a_retry_after_holds_every_request_to_the_host_not_only_the_one_retried(tmp_path):
    """RFC 9110 10.2.3: a 429's or 503's Retry-After is the server's word on when to be asked again. Only the request
    it answered waited: the crawl's other fetches, an API sync of the same host, went on asking at the rate limit,
    each earning a 429 of its own. Every request to the host now waits for it, and is charged the wait."""
    time, hosts, asked_at = FakeTime(), HostLimits(), {}

    def answer(request):
        asked_at.setdefault(request.path, []).append(time.now)
        if request.path == "/busy" and len(asked_at["/busy"]) == 1:
            return 429, {"Retry-After": "30"}, b""
        return (404, {}, b"") if request.path == "/robots.txt" else (200, {}, b"<p>fine</p>")

    with Loopback(answer) as site:
        budget = WaitBudget(100)
        other = fetcher(time, hosts, wait_budget=budget)  # another thread's fetches, asked while the first waits

        def sleep(seconds):
            if seconds == 30 and "/other" not in asked_at:
                assert other.get(f"{site.url}/other").status == 200
            time.sleep(seconds)

        first = Fetcher("AffiliateMatrixBot/test", allow_loopback=True, rate_limit_per_s=50,
                        **{**time.options(hosts), "sleep": sleep})
        assert first.get(f"{site.url}/busy").status == 200
    assert asked_at["/other"][0] - asked_at["/busy"][0] >= 30  # held until the Retry-After ended
    assert 100 - budget.left() >= 30  # the wait charged to the run that made it


def test_crawl_delay_spaces_the_host_without_a_real_wait():
    server = FaultServer(robots=b"User-agent: *\nCrawl-delay: 5\n")
    try:
        time = FakeTime(LIMITED_UNTIL - 20)
        pages = fetcher(time, HostLimits())
        for i in range(3):
            pages.get(f"{server.url}/page/{i}")
        assert time.sleeps == [pytest.approx(5.1)] * 3  # after robots.txt, each page 5 s (and 2%) after the last
    finally:
        server.close()


def test_a_wait_budget_refuses_the_request_or_retry_whose_wait_would_pass_it(server):
    """A run's waits are charged before they are made (each request its spacing, each retry its Retry-After): the one
    that would pass the budget is not made, and says so. robots.txt is charged too, and its refusal is no "robots.txt
    unreachable": nothing was asked."""
    time = FakeTime(LIMITED_UNTIL - 20)
    pages = fetcher(time, HostLimits(), rate_limit_per_s=1, wait_budget=WaitBudget(2.5))
    with pytest.raises(WaitsSpent, match=r"HTTP 429: not asked: its wait of 1 s would pass the run's 2 s of waits"):
        pages.get(f"{server.url}/limited")  # robots.txt 1 s, the page 1 s, its retry 1 s more
    with pytest.raises(WaitsSpent):
        pages.get(f"{server.url}/ok")
    assert (len(server.hits["/robots.txt"]), len(server.hits["/limited"]), len(server.hits["/ok"])) == (1, 1, 0)
    with pytest.raises(WaitsSpent):
        fetcher(time, HostLimits(), rate_limit_per_s=1, wait_budget=WaitBudget(0.5)).get(f"{server.url}/ok")
    assert len(server.hits["/robots.txt"]) == 1 and sum(time.sleeps) <= 2.5


def test_a_wait_budget_counted_each_thread_lets_each_thread_wait_its_whole_budget():
    """verify's workers each ask their hosts' pages in turn, side by side: a worker's waits add up, the workers' do
    not. A crawl's threads share one count."""
    for each_thread, other_thread_refused in ((True, False), (False, True)):
        budget, refused = WaitBudget(10, each_thread=each_thread), []
        budget.charge(10, "a page")
        with pytest.raises(WaitsSpent, match="a page: not asked: its wait of 1 s would pass the run's 10 s"):
            budget.charge(1, "a page")

        def other_worker():
            try:
                budget.charge(10, "another host's page")
            except WaitsSpent:
                refused.append(True)

        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join()
        assert bool(refused) == other_thread_refused


def test_the_host_table_stays_bounded_and_keeps_the_hosts_in_use():
    hosts, time = HostLimits(), FakeTime()
    busy, recent = ("busy.test", 443), ("recent.test", 443)
    with hosts.turn(recent, 10_000.0, 1, time.clock, time.sleep):
        pass
    with hosts.turn(busy, 0.0, 1, time.clock, time.sleep):  # a request in flight all along
        for n in range(3 * MAX_HOSTS):  # a long process asks many hosts once each, one a second
            with hosts.turn((f"once-{n}.test", 443), 1.0, 2, time.clock, time.sleep):
                pass
            time.now += 1.0
        assert len(hosts) <= MAX_HOSTS and busy in hosts
    assert time.sleeps == []
    with hosts.turn(recent, 10_000.0, 1, time.clock, time.sleep):  # still spaced from its request 3072 s ago
        pass
    assert time.sleeps == [pytest.approx(10_000.0 * 1.02 - 3 * MAX_HOSTS)]


def test_a_server_trickling_its_headers_is_given_up_at_the_deadline_and_not_asked_again(server):
    # A header byte every 50 ms forever: each read is well within its timeout, only the request's deadline ends it.
    with pytest.raises(FetchError, match="still sending after 1 s"):
        fetcher(FakeTime(LIMITED_UNTIL - 20), HostLimits(), deadline=1.0).get(f"{server.url}/trickle-headers")
    assert len(server.hits["/trickle-headers"]) == 1


def test_a_slow_body_is_read_within_what_is_left_of_the_wait_budget_and_spends_it():
    """A server sending its headers at once and its body a byte a second kept a request going up to its 60 s deadline
    whatever the run had left, and that time was not counted: a run's pages could each trickle past its time limit.
    A body's time past its spacing is spent from the budget, and its read ends where the budget does: 20 s of 30 s,
    then a body cut at the 10 s left ("body too slow"), then nothing more is asked. The server moves the clock."""
    time = FakeTime(LIMITED_UNTIL - 20)
    server, budget = FaultServer(time=time), WaitBudget(30)
    client = PoliteClient("fetch", allow_loopback=lambda host, port: True, rate_limit_per_s=50, wait_budget=budget,
                          **time.options(HostLimits()))
    try:
        assert client.request("GET", f"{server.url}/slow-body/20").body == b" " * 20
        # (the limit is 10 s; once, in a whole-suite CI run under load, it read 9 s: not explained, and not what this
        # test is for: a body cut by what the budget has left, not by the request's 60 s)
        with pytest.raises(FetchError, match=r"body too slow: still sending after (9|10) s \(all that was left of the "
                                             r"run's time budget\)"):
            client.request("GET", f"{server.url}/slow-body/20")
        with pytest.raises(WaitsSpent):
            client.request("GET", f"{server.url}/ok")
    finally:
        client.close()
        server.close()
    assert [len(server.hits[path]) for path in ("/slow-body/20", "/ok")] == [2, 0]


def test_an_operator_endpoint_trickling_its_headers_is_given_up_at_the_deadline_too(server):
    # guard=False (a search provider the operator configured, maybe in-cluster) skips the address check, not the deadline.
    client = PoliteClient("discovery", guard=False, deadline=1.0, rate_limit_per_s=50,
                          **FakeTime(LIMITED_UNTIL - 20).options(HostLimits()))
    with pytest.raises(FetchError, match="still sending after 1 s"):
        client.request("GET", f"{server.url}/trickle-headers")
    assert len(server.hits["/trickle-headers"]) == 1


@pytest.mark.parametrize("path,problem,kept,unanswered", [
    ("/truncated", "peer closed connection", False, True),  # no answer: cut mid-body
    ("/down", "HTTP 503 after 4 attempts", True, True),  # a retry status after the retries
    ("/gone", "HTTP 404", True, False),  # an answer the API means: it is up
    # answers it cannot use, which asking again would not change: the API is up all the same
    ("/to-malformed", "redirects to a malformed Location", False, False),
    ("/not-gzip", "body cannot be decoded", False, False),
    ("/huge-declared", "declares 52428800 bytes", False, False),
    ("/coded/br", "coded as 'br'", True, False)])  # kept as it came
def test_a_request_for_one_item_hands_back_its_failure_where_a_listings_request_raises(server, tmp_path, path,
                                                                                      problem, kept, unanswered):
    """`Api.item` (a programme's details): the failure names the request and its kept answer, for the plugin to
    yield as that item's; `Api.get` (a listing's page) raises it, as the listing cannot be read on."""
    from affiliate_matrix.sources import ItemFailed

    time = FakeTime(LIMITED_UNTIL - 20)
    with pytest.raises(FetchError, match=problem):
        call(api(server, tmp_path / "listing", time, HostLimits()), path)

    async def item(api):
        try:
            return await api.item("GET", path)
        finally:
            await api.aclose()

    failed = asyncio.run(item(api(server, tmp_path / "item", time, HostLimits())))
    assert isinstance(failed, ItemFailed) and failed.stage == "fetch" and problem in str(failed)
    assert failed.url == f"{server.url}{path}" and (failed.raw_key is not None) == kept
    assert failed.unanswered == unanswered


def test_a_request_with_a_total_time_is_not_retried_past_it(monkeypatch):
    """A connect error is retried after a backoff of 0.5 s or more; with 0.1 s left of the request's total (on the
    clock request deadlines are kept on, which only the test moves), the retry is not made, and the error says why."""
    from types import SimpleNamespace

    from affiliate_matrix import netguard
    from tests.support.clock import ManualClock

    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=ManualClock()))
    time = FakeTime()
    client = PoliteClient("webhook", allow_loopback=lambda host, port: True, total=0.1, **time.options(HostLimits()))
    with pytest.raises(FetchError, match=r"ConnectError: .*, not asked again: the wait of \d+ s before it would pass "
                                         r"the request's time limit"):
        client.request("GET", "http://127.0.0.1:9/")  # the discard port: nothing listens there
    client.close()
    assert time.sleeps == []  # no wait before a retry either


class ItemsOnly(Plain):
    """An API read an item at a time (each a request of its own), with a bearer key."""

    credential_keys = ("api_token",)

    def auth_headers(self, credentials):
        return {"Authorization": f"Bearer {credentials['api_token']}"}

    async def listings(self, api, credentials):
        for _ in range(8):
            answer = await api.item("GET", "/gone")
            yield (None, answer) if isinstance(answer, Exception) else (answer, answer.data)


@pytest.mark.parametrize("token,allow_loopback,said", [
    # a key pasted with its trailing newline: h11 refused each request, five "unanswered" took the API for down
    ("s3cr3t\n", True, "the request header 'Authorization' is not a valid HTTP header value"),
    # the API's host resolving to an address the policy refuses (its DNS changed under the sync): retried as no answer
    ("s3cr3t", False, "resolves to a non-public address (loopback); refused by the address policy"),
])
def test_a_request_we_refuse_to_make_ends_the_sync_at_once_saying_whose_refusal_it_is(server, tmp_path, token,
                                                                                      allow_loopback, said):
    """Our own refusals were counted as requests nobody answered: the sync asked five times, then said the API was down.
    They are the same for every request: the sync ends at the first, saying what refused it, never the key."""
    from affiliate_matrix.connections import Connection
    from affiliate_matrix.sync import sync

    connection = Connection(id="items", source="awin", base_url=server.url, rate_limit_per_s=50)
    (failure,) = sync(ItemsOnly(server.url), connection, {"api_token": token}, LocalObjectStore(tmp_path),
                      allow_loopback, time_limit_s=60)
    assert failure.stage == "fetch" and said in failure.reason, failure.reason
    assert "in a row got no answer" not in failure.reason and "s3cr3t" not in failure.reason
    assert not server.hits  # nothing was asked


class CodedListing(Plain):
    """An API whose listing answers in brotli, though the sync asks for gzip or deflate; named as a registered one, as
    a replay reads its answers' copies within that API's cap (StoredAnswers)."""

    name = "awin"

    async def listings(self, api, credentials):
        answer = await api.get("/coded/br")
        yield answer, answer.data


def test_an_answer_in_a_coding_not_asked_for_fails_its_replay_in_the_syncs_words_with_its_copy(server, tmp_path):
    """The sync failed it as a fetch and kept its body as it came; the answer kept said nothing of the coding, so the
    replay handed those bytes to the plugin, to fail as a parse failure of a layout it did not know. The coding is kept
    with the answer, and the replay refuses it as the sync did."""
    import json

    from affiliate_matrix.connections import Connection, answers_key, created, save_connection
    from affiliate_matrix.crawl import Failure
    from affiliate_matrix.sync import StoredAnswers, sync

    connection = created(Connection(id="coded", source="awin", base_url=server.url, rate_limit_per_s=50))
    store = LocalObjectStore(tmp_path)
    save_connection(store, connection, create=True)  # a sync keeps answers only for a connection stored

    def failures(**replay) -> list[Failure]:
        items = sync(CodedListing(server.url), connection, {}, store, True, time_limit_s=60, **replay)
        return [item for item in items if isinstance(item, Failure)]

    (synced,) = failures()
    assert synced.stage == "fetch" and synced.raw_key is not None
    assert synced.reason.startswith(f"{server.url}/coded/br: its body is coded as 'br' (its Content-Encoding)")
    (kept,) = json.loads(store.get(answers_key("coded")).data)["answers"].values()
    assert kept["coding_not_asked_for"] == "br" and kept["raw_key"] == synced.raw_key
    asked = len(server.hits["/coded/br"])
    (replayed,) = failures(replaying=StoredAnswers(store, connection))
    assert (replayed.stage, replayed.reason, replayed.raw_key) == (synced.stage, synced.reason, synced.raw_key)
    assert len(server.hits["/coded/br"]) == asked  # no network


def test_an_answer_that_cannot_be_used_is_one_kind_of_error_whatever_was_wrong_with_it(server, tmp_path):
    """The server answered, unusably: one class says so (the sync counts it as answered), for a body in a coding not
    asked for as for the rest."""
    from affiliate_matrix.polite import Undecoded, UnusableAnswer

    for path, kind in (("/to-malformed", UnusableAnswer), ("/not-gzip", UnusableAnswer),
                       ("/huge-declared", UnusableAnswer), ("/coded/br", Undecoded)):
        with pytest.raises(kind) as caught:
            call(api(server, tmp_path, FakeTime(), HostLimits()), path)
        assert isinstance(caught.value, UnusableAnswer)


def test_no_answer_is_one_kind_of_error_and_an_answer_that_cannot_be_used_is_not_it(server, tmp_path):
    """That asking again may get an answer was an attribute (`retriable`) set on a plain FetchError, read with
    getattr by whoever knew of it: a class now, caught as one, as UnusableAnswer is."""
    from affiliate_matrix.polite import NoAnswer, UnusableAnswer

    with pytest.raises(NoAnswer, match="peer closed connection"):
        call(api(server, tmp_path, FakeTime(), HostLimits()), "/truncated")
    with pytest.raises(UnusableAnswer) as caught:
        call(api(server, tmp_path, FakeTime(), HostLimits()), "/to-malformed")
    assert not isinstance(caught.value, NoAnswer)
