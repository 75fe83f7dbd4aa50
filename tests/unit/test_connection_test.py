"""A connection test against a provider that asks to be asked later (429, 503, a source's throttle status): the host
answered, so it is reachable; the credentials (or the page) are not judged, and the answer says when to test again.
A provider refusing the key is still answered as refused. A test's requests share its time. Every provider here is a
local server."""

import json
import re
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from affiliate_matrix import netguard
from affiliate_matrix.config import Settings
from affiliate_matrix.connection_test import check
from affiliate_matrix.connections import Connection
from affiliate_matrix.runtime import Runtime
from tests.support.clock import ManualClock
from tests.support.loopback import Loopback

SECRET = "impact-token-not-to-be-shown-4242"
WALL = datetime(2026, 12, 5, 12, 55, tzinfo=UTC)  # the wall clock the test gives check()


@pytest.fixture
def rt(tmp_path):
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    rt.secrets.write("connections/impact", {"account_sid": "AS1", "auth_token": SECRET})
    rt.secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    return rt


def answer_of(rt, source: str, status: int, headers: dict[str, str] | None = None, *, robots: bool = False,
           credentials_path: str | None = None) -> tuple[dict, list]:
    """The test's answer for a provider answering every request (robots.txt only, with `robots`) with `status`, and
    the paths it was asked."""

    def answer(request):
        if robots or request.path != "/robots.txt":
            return status, headers or {}, b"{}"
        return 404, {}, b""

    with Loopback(answer) as site:
        connection = Connection(id="c", source=source, base_url=site.url, rate_limit_per_s=50,
                                credentials_path=credentials_path)
        result = check(rt, connection, wall_clock=WALL.timestamp)
    assert SECRET not in str(result)
    return result, [request.path for request in site.requests]


def named(result: dict) -> list[tuple]:
    return [(c["name"], c["ok"]) for c in result["checks"]]


@pytest.mark.parametrize("retry_after,seconds,when", [
    ("120", 120, "test again in 120 s (its Retry-After)"),
    (None, None, "test again later: it did not say when (no Retry-After)"),
    ("soon", None, "test again later: it did not say when (no Retry-After)"),  # unreadable: as good as none
])
def test_a_rate_limited_provider_is_reachable_and_its_credentials_not_judged(rt, retry_after, seconds, when):
    """A 429 read as "reachable: failed" (the provider unreachable), though the host had answered."""
    result, asked = answer_of(rt, "impact", 429, {"Retry-After": retry_after} if retry_after else {},
                           credentials_path="connections/impact")
    assert result["ok"] is False and result["retry_after_s"] == seconds
    assert named(result) == [("reachable", True), ("credentials accepted", None)]
    reachable, credentials = (c["detail"] for c in result["checks"])
    assert reachable.endswith("/Mediapartners/AS1/Campaigns?PageSize=100 answered HTTP 429 (rate limited)")
    assert credentials == f"the provider asked to be asked later, before judging them; {when}"
    assert len(asked) == 1  # asked once: a test is one cheap request


def test_a_503_with_an_http_date_says_when_as_given_and_in_seconds(rt):
    later = format_datetime(datetime(2026, 12, 5, 13, 0, tzinfo=UTC), usegmt=True)  # 300 s after WALL
    result, _ = answer_of(rt, "impact", 503, {"Retry-After": later}, credentials_path="connections/impact")
    assert named(result) == [("reachable", True), ("credentials accepted", None)]
    assert result["checks"][0]["detail"].endswith("answered HTTP 503 (unavailable for now)")
    assert result["checks"][1]["detail"].endswith(
        "test again after 2026-12-05 13:00:00 UTC (its Retry-After; in 300 s by this machine's clock)")
    assert (result["ok"], result["retry_after_s"]) == (False, 300)


def test_a_status_the_provider_answers_for_its_rate_limit_is_said_as_that(rt):
    result, _ = answer_of(rt, "awin", 403, {"Retry-After": "60"}, credentials_path="connections/awin")
    assert named(result) == [("reachable", True), ("credentials accepted", None)]
    assert result["checks"][0]["detail"].endswith("HTTP 403, which Awin publisher API answers when its rate limit "
                                                  "is hit")
    assert result["retry_after_s"] == 60


def test_a_key_the_provider_refuses_is_answered_as_refused_as_a_missing_one_is(rt):
    """A 401 is the provider judging the key: refused, nothing to wait for, and in the words a missing secret gets
    (the test tells no one which secret paths exist)."""
    refused, asked = answer_of(rt, "impact", 401, {"Retry-After": "120"}, credentials_path="connections/impact")
    missing, not_asked = answer_of(rt, "impact", 401, credentials_path="connections/missing")
    assert named(refused) == [("credentials accepted", False)] and refused["retry_after_s"] is None
    assert "were refused, or are missing or incomplete" in refused["checks"][0]["detail"]
    assert refused == missing and len(asked) == 1 and not_asked == []


def test_a_key_no_request_can_carry_is_said_to_be_ours_not_the_providers_unreachability(rt):
    """A key kept with its trailing newline: no request is sent (h11 refuses the header), which the test answered as
    "reachable: failed", the provider's fault. It names the header (not the key) as what this end must fix."""
    rt.secrets.write("connections/awin", {"api_token": SECRET + "\n", "publisher_id": "123456"})
    result, asked = answer_of(rt, "awin", 200, credentials_path="connections/awin")
    assert named(result) == [("request sent", False)] and asked == []
    assert "the request header 'Authorization' is not a valid HTTP header value" in result["checks"][0]["detail"]
    assert "configuration" in result["checks"][0]["detail"]


@pytest.mark.parametrize("robots", [False, True], ids=["page", "robots.txt"])
def test_a_site_asking_to_be_asked_later_is_reachable_and_its_page_not_judged(rt, robots):
    """A directory: its first page, or its robots.txt (which keeps every page unfetched while it says so)."""
    result, _ = answer_of(rt, "affiliateprograms", 429, {"Retry-After": "30"}, robots=robots)
    assert named(result) == [("reachable", True), ("read", None)] and result["retry_after_s"] == 30
    assert result["checks"][0]["detail"].endswith(("/robots.txt" if robots else "/categories/software/")
                                                  + " answered HTTP 429 (rate limited)")
    assert result["checks"][1]["detail"] == ("the site asked to be asked later: nothing came to read; test again "
                                             "in 30 s (its Retry-After)")


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_provider_answering_a_server_error_is_reachable_and_its_credentials_not_judged(rt, status):
    """A 500, 502 or 504 read as "reachable: failed", though the host had answered: the error is the provider's."""
    result, _ = answer_of(rt, "impact", status, credentials_path="connections/impact")
    assert named(result) == [("reachable", True), ("credentials accepted", None)] and result["retry_after_s"] is None
    assert result["checks"][0]["detail"].endswith(f"answered HTTP {status} (an error at the provider's end)")
    assert result["checks"][1]["detail"] == ("the provider answered with an error of its own, before judging them; "
                                             "test again later: it did not say when (no Retry-After)")


@pytest.mark.parametrize("status", [500, 504])
def test_a_site_answering_a_server_error_is_reachable_and_its_page_not_judged(rt, status):
    result, _ = answer_of(rt, "affiliateprograms", status, {"Retry-After": "60"})
    assert named(result) == [("reachable", True), ("read", None)] and result["retry_after_s"] == 60
    assert result["checks"][0]["detail"].endswith(f"/categories/software/ answered HTTP {status} (an error at the "
                                                  "provider's end)")
    assert result["checks"][1]["detail"] == ("the site answered with an error of its own: nothing came to read; test "
                                             "again in 60 s (its Retry-After)")


@pytest.fixture
def deadline_clock(monkeypatch):
    """The clock request deadlines are kept on (netguard's), moved only by the test: a provider's answer "takes" the
    time the test says."""
    clock = ManualClock()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=clock))
    return clock


def held(clock: ManualClock, release: threading.Event):
    """A body that "takes" 6 s, then never comes (until the test ends): past the test's 15 s after 10 s spent before
    it, within a request's own 15 s."""
    clock.advance(6)
    release.wait(120)
    yield b"{}"


def test_a_directorys_requests_share_the_tests_time_in_all(rt, deadline_clock):
    """Each request of a test had a deadline of its own (60 s: robots.txt, the page, up to five redirects of each): a
    slow site held POST /connections/{id}/test for minutes, past the 30 s the connections function has to answer."""
    release = threading.Event()

    def slow(request):
        if request.path == "/robots.txt":
            deadline_clock.advance(10)
            return 200, {}, b"User-agent: *\nAllow: /\n"
        return 200, {"Content-Type": "text/html", "Content-Length": "100"}, held(deadline_clock, release)

    with Loopback(slow) as site:
        try:
            result = check(rt, Connection(id="c", source="affiliateprograms", base_url=site.url, rate_limit_per_s=50))
        finally:
            release.set()
    assert named(result) == [("reachable", False)]
    detail = result["checks"][0]["detail"]  # the headers or the body, whichever was being read when time was up
    assert "/categories/software/: " in detail
    assert detail.endswith("still sending after 15 s (the request's time limit)")


def test_an_apis_requests_share_the_tests_time_in_all(rt, deadline_clock):
    """The API's requests run on worker threads: the test's deadline goes with them."""
    release = threading.Event()

    def slow(request):
        if "Page" not in request.query:
            deadline_clock.advance(10)
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"@total": "0", "Campaigns": [], "@nextpageuri": "/Mediapartners/AS1/Campaigns?Page=2"}).encode()
        return 200, {"Content-Type": "application/json", "Content-Length": "100"}, held(deadline_clock, release)

    with Loopback(slow) as provider:
        try:
            result = check(rt, Connection(id="c", source="impact", base_url=provider.url, rate_limit_per_s=50,
                                          credentials_path="connections/impact"))
        finally:
            release.set()
    assert len(provider.requests) == 2 and named(result) == [("reachable", False)]
    detail = result["checks"][0]["detail"]
    assert "Page=2: " in detail and detail.endswith("still sending after 15 s (the request's time limit)")


@pytest.mark.parametrize("status, why", [
    (404, "no page at this address: check the connection's base_url, or whether the directory moved its listings"),
    (403, "the site refused the crawl (it may block robots)"), (418, "no page to read")])
def test_a_site_answering_its_start_page_with_another_status_is_reachable_and_its_page_unread(rt, status, why):
    """A directory's start page answering 404 (its listings moved) read "reachable: failed", sending the user after
    their network, though the host had answered: it is the page that is wrong."""
    result, _ = answer_of(rt, "affiliateprograms", status)
    assert named(result) == [("reachable", True), ("read", False)] and result["ok"] is False
    assert result["checks"][1]["detail"].endswith(f"/categories/software/ answered HTTP {status}: {why}")



def test_a_provider_quoting_the_key_in_its_answer_is_not_echoed_by_the_test(rt):
    """The test's answer quotes what the provider answered where the plugin cannot read it (a programme without an
    id, quoted whole): a provider that echoed the key it was sent (an error object in the listing) had the key shown
    in the answer. The key's values are now blanked out of what the test says."""
    with Loopback(lambda request: (200, {}, json.dumps([{"note": f"token {SECRET} refused"}]).encode())) as site:
        connection = Connection(id="c", source="awin", base_url=site.url, rate_limit_per_s=50,
                                credentials_path="connections/awin")
        result = check(rt, connection, wall_clock=WALL.timestamp)
    assert named(result) == [("credentials accepted", True), ("read", False)]
    assert SECRET not in str(result) and "token [redacted] refused" in result["checks"][1]["detail"]


def test_a_directorys_first_page_read_says_its_listings_and_links_apart(rt):
    """The read check said "N item(s) read", counting a page's links to follow with its listings."""
    from affiliate_matrix.sources import get_source

    page = (get_source("affiliateprograms").recorded_dir() / "categories/software/index.html").read_bytes()

    def answer(request):
        if request.path == "/robots.txt":
            return 404, {}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    with Loopback(answer) as site:
        result = check(rt, Connection(id="c", source="affiliateprograms", base_url=site.url, rate_limit_per_s=50),
                       wall_clock=WALL.timestamp)
    assert named(result) == [("reachable", True), ("read", True)], result
    assert re.search(r"/categories/software/: 0 listings and [2-9]\d* links to follow read$",
                     result["checks"][1]["detail"]), result


@pytest.mark.parametrize("source", ["affiliateprograms", "awin"])
def test_a_loopback_base_url_where_loopback_is_not_allowed_names_the_setting(tmp_path, source):
    """A connection added with AMX_ALLOW_LOOPBACK_FETCH (a recorded site), tested where it is not set, failed as
    "refused 127.0.0.1:PORT: 127.0.0.1 resolves to a non-public address (loopback)", naming neither the base_url nor
    the setting that allows it, which its write names. The test says it as the write does, asking nothing."""
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.secrets.write("connections/awin", {"api_token": SECRET, "publisher_id": "123456"})
    with Loopback(lambda request: (200, {}, b"{}")) as site:
        result = check(rt, Connection(id="c", source=source, base_url=site.url, rate_limit_per_s=50,
                                      credentials_path="connections/awin" if source == "awin" else None),
                       wall_clock=WALL.timestamp)
    assert named(result) == [("reachable", False)] and site.requests == [], result
    assert result["checks"][0]["detail"] == (
        "base_url: its host is a non-public address (loopback), which a sync never fetches from; "
        "AMX_ALLOW_LOOPBACK_FETCH=true where syncs run allows a loopback one"), result


@pytest.fixture
def names(monkeypatch):
    """Names under inside. resolve to a private address, those under nowhere. to none; every other name as it does."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host.startswith("nowhere."):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real("10.1.2.3" if host.startswith("inside.") else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# an API's credentials go to its own domain alone, and its requests follow no redirect off it. `redirected`: the
# directory's robots.txt and page redirect to the host, or its page alone (its robots.txt answering none)
@pytest.mark.parametrize("source,domain,redirected", [("affiliateprograms", "test", ""),
                                                      ("affiliateprograms", "test", "robots.txt and page"),
                                                      ("affiliateprograms", "test", "page"), ("awin", "awin.com", "")])
def test_a_name_that_does_not_resolve_and_one_resolving_to_a_private_address_read_the_same(rt, names, source, domain,
                                                                                           redirected):
    """The test said "cannot resolve 'x'" of one and "x resolves to a non-public address (private …)" of the other: an
    admin could learn by it which internal names exist. Both are said one way, naming both and the setting for a
    loopback one, the page's host or a redirect's target alike, told by the error's type (netguard.NameUnreached) on
    every way it takes (its own request, robots.txt's, a redirect's); the reason is logged. amx (say_why) is told
    it."""
    from structlog.testing import capture_logs

    from affiliate_matrix.netguard import unreached_said

    def tested(host: str, **options) -> dict:
        def answer(request):
            if request.path == "/robots.txt" and redirected == "page":
                return 404, {}, b""
            return 302, {"Location": f"http://{host}/p/"}, b""

        with Loopback(answer) as site:
            return check(rt, Connection(id="c", source=source, base_url=site.url if redirected else f"https://{host}/",
                                        rate_limit_per_s=50, credentials_path="connections/awin"
                                        if source == "awin" else None), wall_clock=WALL.timestamp, **options)

    unresolved, private = f"nowhere.{domain}", f"inside.{domain}"
    with capture_logs() as logs:
        answers = {host: tested(host) for host in (unresolved, private)}
    for host, result in answers.items():
        (failed,) = [c for c in result["checks"] if c["ok"] is False]
        assert failed == {"name": "reachable", "ok": False, "detail": unreached_said(host)}, result
    assert json.dumps(answers[unresolved]) == json.dumps(answers[private]).replace(private, unresolved)
    reasons = [line["reason"] for line in logs if line["event"] == "connection_test.name_unreached"]
    assert len(reasons) == 2 and f"cannot resolve '{unresolved}'" in reasons[0], logs
    assert f"{private} resolves to a non-public address (private" in reasons[1] and "10.1.2.3" not in reasons[1]
    for host, reason in ((unresolved, f"cannot resolve '{unresolved}'"),
                         (private, f"{private} resolves to a non-public address (private")):
        said = tested(host, say_why=True)
        assert any(reason in c["detail"] for c in said["checks"]), said
