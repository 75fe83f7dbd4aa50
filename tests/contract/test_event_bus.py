"""The event bus: in-process delivery, and structured CloudEvents over HTTP to a local receiver."""

import socket
import threading
from types import SimpleNamespace

import httpx
import pytest

from affiliate_matrix import netguard
from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, ConfigError
from affiliate_matrix.events import RAW_BATCH_STORED, Event
from affiliate_matrix.events.http import HttpBus
from affiliate_matrix.runtime import open_event_bus
from tests.support.clock import ManualClock
from tests.support.loopback import stalled
from tests.support.receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def http_bus(receiver):
    return open_event_bus(Settings(events="http", broker_url=receiver.url))


def test_keyed_events_have_stable_ids():
    a = Event.make(RAW_BATCH_STORED, "/scrape/demo", {"n": 1}, key="demo|2026-11-21T03")
    b = Event.make(RAW_BATCH_STORED, "/scrape/demo", {"n": 1}, key="demo|2026-11-21T03")
    c = Event.make(RAW_BATCH_STORED, "/scrape/demo", {"n": 1}, key="demo|2026-11-21T04")
    assert a.id == b.id != c.id


def test_cloudevent_roundtrip_keeps_every_attribute():
    event = Event.make(RAW_BATCH_STORED, "/scrape/x", {"keys": ["a", "b"]}, key="k", subject="conn-1")
    assert Event.from_cloudevent(event.to_cloudevent()) == event


def test_inprocess_delivers_to_subscribers_of_the_type_only():
    bus = open_event_bus(Settings())
    got, other = [], []
    bus.subscribe(RAW_BATCH_STORED, got.append)
    bus.subscribe("dev.affiliatematrix.other", other.append)
    event = Event.make(RAW_BATCH_STORED, "/t", {"x": 1})
    bus.publish(event)
    assert got == [event] and other == []


def test_each_bus_says_whether_an_event_type_reaches_work(receiver):
    """The in-process bus reaches only the handlers subscribed in this process (a function served alone has none
    for a sync's request: sync_requests.undelivered says so); a Broker routes every type on by its Triggers."""
    bus = open_event_bus(Settings())
    assert not bus.delivers(RAW_BATCH_STORED)
    bus.subscribe(RAW_BATCH_STORED, lambda event: None)
    assert bus.delivers(RAW_BATCH_STORED) and not bus.delivers("dev.affiliatematrix.other")
    assert http_bus(receiver).delivers(RAW_BATCH_STORED)


def test_inprocess_retries_then_dead_letters_without_starving_other_handlers():
    bus = open_event_bus(Settings())
    calls, good = [], []

    def flaky(event):
        calls.append(event.id)
        raise RuntimeError("boom")

    bus.subscribe(RAW_BATCH_STORED, flaky)
    bus.subscribe(RAW_BATCH_STORED, good.append)
    event = Event.make(RAW_BATCH_STORED, "/t", {})
    bus.publish(event)
    assert len(calls) == 3 and good == [event]
    assert list(bus.dead_letters) == [(event, "RuntimeError: boom")]


def test_http_posts_a_structured_cloudevent(receiver):
    event = Event.make(RAW_BATCH_STORED, "/scrape/demo", {"raw_keys": ["raw/1"]}, key="k1", subject="demo")
    http_bus(receiver).publish(event)
    (request,) = receiver.requests
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    body = receiver.json_bodies()[0]
    assert body["specversion"] == "1.0"
    assert (body["id"], body["source"], body["type"], body["subject"]) == (event.id, "/scrape/demo", RAW_BATCH_STORED, "demo")
    assert body["data"] == {"raw_keys": ["raw/1"]}


def test_http_retries_retriable_statuses_honouring_retry_after():
    receiver = Receiver(statuses=[503, 429, 202], headers={"Retry-After": "0.3"})
    try:
        bus = http_bus(receiver)
        waits: list[float] = []
        bus.sleep = waits.append
        bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert len(receiver.requests) == 3
        assert waits == [0.3, 0.3]  # what the broker asked for, not the backoff's own schedule
        assert len({r.body for r in receiver.requests}) == 1  # the same event each time
    finally:
        receiver.close()


@pytest.fixture
def clock(monkeypatch):
    """The deadlines' clock, moved only by the bus's waits (which it records instead of spending)."""
    clock = ManualClock()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=clock))
    return clock


@pytest.mark.parametrize("retry_after, waited", [("4", [4.0, 4.0]), ("3600", [])])
def test_http_gives_up_before_a_wait_that_would_pass_the_publish_s_time_limit(clock, retry_after, waited):
    """Five attempts with waits of up to 30 s each held a function publishing an event for two minutes, past its own
    Knative timeout (30 s for the shortest), and the event's fate went unrecorded. A publish now ends within its time
    limit, as BackendUnavailable, which its caller records as it records any publish failing."""
    receiver = Receiver(statuses=[503] * 10, headers={"Retry-After": retry_after})
    try:
        bus = HttpBus(receiver.url, total=10.0)
        waits: list[float] = []
        bus.sleep = lambda seconds: (waits.append(seconds), clock.advance(seconds))
        with pytest.raises(BackendUnavailable, match=rf"HTTP 503, not tried again: waiting {retry_after} s more "
                                                     r"would pass the publish's 10 s time limit$"):
            bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert waits == waited and len(receiver.requests) == len(waited) + 1
    finally:
        receiver.close()


def test_http_looks_the_broker_up_within_the_publish_s_time_limit(clock, monkeypatch):
    """The broker's name was looked up by the socket itself, unbounded by anything: a silent name server held the
    publish (and the function) for as long as the resolver kept trying."""
    asked, release = threading.Event(), threading.Event()

    def silent(host, *args, **kwargs):
        asked.set()
        release.wait(120)  # set when the test ends; the cap only keeps a lookup nothing bounds from hanging the run
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", silent)
    try:
        # the clock stands still: what is left is what was set
        bus = HttpBus("http://broker.silent.test/ns/default", total=0.002)
        with pytest.raises(BackendUnavailable, match=r"cannot resolve 'broker.silent.test': its name did not "
                                                     r"resolve in time"):
            bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert asked.wait(120)
    finally:
        release.set()


def test_http_gives_up_on_a_broker_that_never_answers_at_the_publish_s_time_limit():
    """A broker that took the event and never answered held the publish for httpx's read timeout at each of five
    attempts. With no per-operation timeout at all, the publish's time limit alone ends it, after that one attempt.
    The broker holds its answer until the test ends, so a publish that outlived the limit would be answered 202."""
    with stalled(202) as (broker, asked):
        bus = HttpBus(f"{broker.url}/", total=1.0)
        bus.client.timeout = httpx.Timeout(None)
        with pytest.raises(BackendUnavailable, match=r"not tried again: waiting .* s more would pass the "
                                                     r"publish's 1 s time limit$"):
            bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert asked.wait(120) and len(broker.requests) == 1


def test_http_gives_up_as_backend_unavailable():
    receiver = Receiver(statuses=[503] * 10)
    try:
        bus = http_bus(receiver)
        bus.attempts = 3
        with pytest.raises(BackendUnavailable, match="HTTP 503"):
            bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert len(receiver.requests) == 3
    finally:
        receiver.close()


def test_http_does_not_retry_a_client_error_and_answers_it_as_the_brokers_not_the_callers():
    """A broker refusing an event (a 4xx) was an InvalidInput: a caller publishing in an API request answered 400, as
    if ITS request were wrong, and an event handler's incoming event was parked. The event is this process's own:
    now it is BackendUnavailable (a 503) naming the broker's answer."""
    receiver = Receiver(statuses=[400])
    try:
        with pytest.raises(BackendUnavailable, match="HTTP 400") as refused:
            http_bus(receiver).publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert refused.value.cause == "the event broker refused an event: HTTP 400"
        assert len(receiver.requests) == 1
    finally:
        receiver.close()


def test_http_bus_needs_a_broker_url():
    with pytest.raises(ConfigError, match="AMX_BROKER_URL"):
        open_event_bus(Settings(events="http"))


def test_http_sends_the_broker_token_from_its_file_as_it_is_now(receiver, tmp_path):
    """The kubelet replaces a projected token before it expires: each publish reads the file."""
    token = tmp_path / "token"
    token.write_text("first-token\n")
    bus = open_event_bus(Settings(events="http", broker_url=receiver.url, broker_token_path=token))
    bus.publish(Event.make(RAW_BATCH_STORED, "/t", {"n": 1}))
    token.write_text("renewed-token")
    bus.publish(Event.make(RAW_BATCH_STORED, "/t", {"n": 2}))
    assert [r.headers["authorization"] for r in receiver.requests] == ["Bearer first-token", "Bearer renewed-token"]
    with pytest.raises(ConfigError, match="AMX_BROKER_TOKEN_PATH"):
        open_event_bus(Settings(events="http", broker_url=receiver.url, broker_token_path=tmp_path / "missing"))


def test_a_broker_refusing_this_functions_identity_is_no_fault_of_the_caller(tmp_path):
    # A 401 or 403 from the Broker was an InvalidInput: a 400 telling an API caller its request was bad, and an
    # incoming event parked at once. A 401 is retried with the token read afresh (the kubelet replaces it); one that
    # stands, and a 403 (an EventPolicy), is BackendUnavailable: a 503 Knative retries.
    token = tmp_path / "token"
    token.write_text("expired")
    renewed = Receiver(statuses=[401, 202])
    try:
        bus = HttpBus(renewed.url, token_path=token)
        bus.sleep = lambda seconds: token.write_text("renewed")  # the kubelet's new token, between two attempts
        bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
        assert [r.headers["authorization"] for r in renewed.requests] == ["Bearer expired", "Bearer renewed"]
    finally:
        renewed.close()
    for statuses, tries in (([401] * 5, 3), ([403], 1)):
        refused = Receiver(statuses=statuses)
        try:
            bus = HttpBus(refused.url, token_path=token, attempts=3)
            bus.sleep = lambda seconds: None
            with pytest.raises(BackendUnavailable, match=f"HTTP {statuses[0]}"):
                bus.publish(Event.make(RAW_BATCH_STORED, "/t", {}))
            assert len(refused.requests) == tries
        finally:
            refused.close()
