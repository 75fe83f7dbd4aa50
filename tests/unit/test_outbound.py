"""Rule webhooks and search providers now go through the polite client: what they lacked before (a 429's
Retry-After waited for, per-host turns shared with every other client of the process, a provider's
throttling waited out while a spent quota is not asked again) and what they keep (the webhook's
address guard and error mapping, the providers' operator-set URLs, no secret in a message).
Real HTTP on loopback (a scripted server); only time is faked, so nothing sleeps and nothing is timed."""

import json
from types import SimpleNamespace

import pytest
from structlog.testing import capture_logs

from affiliate_matrix.config import Settings
from affiliate_matrix.discovery.dorks import Dork
from affiliate_matrix.discovery.providers import BraveSearch, GoogleProgrammableSearch, ProviderError, QuotaExhausted, \
    SearxngSearch
from affiliate_matrix.errors import BackendUnavailable, FetchError, InvalidInput
from affiliate_matrix.polite import HostLimits, PoliteClient
from affiliate_matrix.rules.actions import notify
from tests.support.clock import FakeTime
from tests.support.loopback import Loopback

ACTIVATION = "a_0123456789abcdef01234567"
DORK = Dork("inurl:affiliates pets", "pets", "en")


@pytest.fixture
def server():
    """Answers with the (status, headers, body) the test puts in `server.answers`, in turn, then 200 {}."""
    def answer(request):
        status, headers, body = scripted.answers.pop(0) if scripted.answers else (200, {}, b"{}")
        return status, {"Content-Type": "application/json", **headers}, body

    with Loopback(answer) as scripted:
        scripted.answers = []
        yield scripted


def runtime(allow_loopback: bool = True):
    """notify reads only the settings (no store, index or bus is touched on this path)."""
    return SimpleNamespace(settings=Settings(allow_loopback_fetch=allow_loopback))


def post(server, time, hosts, *, path="/services/T0/B0/s3cr3t", activation=ACTIVATION, allow_loopback=True):
    data = {"rule_id": "r1", "inputs": {"event_type": "program.delta"}} | (
        {"activation_id": activation} if activation else {})
    return notify(runtime(allow_loopback), {"webhook_url": server.url + path, "text": "hi"}, data,
                  **time.options(hosts))


# -- rule webhooks ------------------------------------------------------------------------------------

def test_a_webhook_answering_429_is_posted_again_after_its_retry_after_with_the_same_idempotency_key(server):
    server.answers = [(429, {"Retry-After": "7"}, b""), (200, {}, b"ok")]
    time = FakeTime()
    assert post(server, time, HostLimits()) == "posted (200)"
    assert 7.0 in time.sleeps  # waited as asked, on the injected sleep
    first, second = server.requests
    assert first.body == second.body and json.loads(first.body)["text"] == "hi"
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == ACTIVATION


def test_a_webhook_without_an_idempotency_key_is_posted_once_and_its_503_left_to_the_bus(server):
    server.answers = [(503, {}, b""), (200, {}, b"ok")]
    with pytest.raises(BackendUnavailable, match="HTTP 503"):
        post(server, FakeTime(), HostLimits(), activation=None)
    assert len(server.requests) == 1 and "idempotency-key" not in server.requests[0].headers


def test_a_webhook_still_failing_is_backend_unavailable_and_no_message_or_log_shows_its_secret_path(server):
    server.answers = [(503, {}, b"")] * 3
    time = FakeTime()
    with capture_logs() as logs, pytest.raises(BackendUnavailable, match="HTTP 503") as raised:
        post(server, time, HostLimits())
    assert len(server.requests) == 3 and len(time.sleeps) >= 2
    retries = [entry for entry in logs if entry["event"] == "http.retry"]
    assert len(retries) == 2 and all(entry["what"] == "webhook" for entry in retries)
    assert "s3cr3t" not in str(raised.value) + repr(logs)


def test_a_webhook_asking_to_wait_longer_than_we_wait_is_left_to_the_bus_not_recorded_as_failed(server):
    """Slack answers a rate-limited webhook 429 with Retry-After (api.slack.com/docs/rate-limits). One asking for more
    than the 30 s we wait raised a plain FetchError, taken for a URL we can never post to: the activation was recorded
    as failed and the message never sent."""
    server.answers = [(429, {"Retry-After": "120"}, b"")]
    time = FakeTime()
    with pytest.raises(BackendUnavailable, match="HTTP 429"):
        post(server, time, HostLimits())
    assert len(server.requests) == 1 and 120.0 not in time.sleeps


@pytest.mark.parametrize("status, body, said", [
    (404, b"no_service", "HTTP 404 (no_service)"),  # the webhook was removed or disabled
    (400, b"invalid_payload", "HTTP 400 (invalid_payload)"),
    (404, b"channel_not_found", "HTTP 404 (channel_not_found)"),
    (410, b"channel_is_archived", "HTTP 410 (channel_is_archived)"),
    (404, b"<html><body>Not Found</body></html>", "HTTP 404"),  # not Slack's word: not repeated
    (403, b"see https://evil.example/x", "HTTP 403"),
])
def test_a_webhook_refused_says_slacks_reason_and_nothing_else_a_receiver_answers(server, status, body, said):
    """Slack's incoming webhooks answer an error as one plain-text word (api.slack.com/changelog/2016-05-17-changes-to-
    errors-for-incoming-webhooks): the outcome said only "HTTP 404", whether the webhook was removed (no_service) or
    its channel deleted."""
    server.answers = [(status, {"Content-Type": "text/plain"}, body)]
    with pytest.raises(InvalidInput) as raised:
        post(server, FakeTime(), HostLimits())
    assert str(raised.value) == f"webhook answered {said}"


def test_a_webhooks_attempts_and_waits_stay_within_its_90_s_in_all(monkeypatch):
    """Each attempt had its 30 s and each wait its 30 s, 150 s in all, past the triggers function's 120 s: stopped
    there, the post's outcome was never recorded. A retry whose wait would end past 90 s is not made: the 503 is left
    to the bus. Each answer takes 20 s on the test's clock, which request deadlines are kept on too."""
    from affiliate_matrix import netguard

    time = FakeTime()
    monkeypatch.setattr(netguard, "time", SimpleNamespace(monotonic=time.clock))

    def slow_503(request):
        time.now += 20
        return 503, {"Retry-After": "30"}, b""

    with Loopback(slow_503) as server, pytest.raises(BackendUnavailable, match="HTTP 503"):
        post(server, time, HostLimits())
    assert len(server.requests) == 2  # at 70 s, a wait of 30 s would end past 90 s
    assert time.sleeps.count(30.0) == 1


def test_webhook_posts_share_per_host_turns_with_every_other_client(server):
    hosts, time = HostLimits(), FakeTime()
    PoliteClient("fetch", allow_loopback=lambda h, p: True, rate_limit_per_s=0.5, **time.options(hosts)) \
        .request("GET", server.url + "/page")  # another caller asked this host just now
    post(server, time, hosts)
    assert time.sleeps == [pytest.approx(1.02)]  # the webhook's turn (1 a second) counted from that request


def test_a_webhook_on_a_private_address_is_still_refused_and_recorded_as_invalid(server):
    with pytest.raises(InvalidInput, match=r"127.0.0.1 resolves to a non-public address \(loopback\)"):
        post(server, FakeTime(), HostLimits(), allow_loopback=False)
    assert server.requests == []


def test_a_value_from_outside_data_cannot_ping_a_channel_or_hide_a_link_in_the_message(server):
    """A program's name comes from a scraped page: "<!channel>" in it pinged everyone in the channel, and
    "<https://evil.example|Open>" showed as a link named Open. Slack's mrkdwn reads only &, < and > as control
    characters (its escaping rule); the rule's own text keeps them, so its author may still write <!here>."""
    data = {"rule_id": "r1", "activation_id": ACTIVATION,
            "inputs": {"program_name": "Shop <!channel> & <https://evil.example|Open>"}}
    notify(runtime(), {"webhook_url": server.url + "/services/T0/B0/x", "text": "<!here> {program_name} changed"},
           data, **FakeTime().options(HostLimits()))
    sent = json.loads(server.requests[0].body)
    expected = "<!here> Shop &lt;!channel&gt; &amp; &lt;https://evil.example|Open&gt; changed"
    assert sent["text"] == expected and sent["blocks"][0]["text"]["text"] == expected


def test_a_notification_asks_slack_not_to_unfurl_the_links_a_scraped_value_carries(server):
    """A placeholder may carry a scraped URL (a program's join URL): Slack unfurled it, its servers fetching the page
    and the page choosing the preview shown to the team. Slack's unfurl_links and unfurl_media say not to."""
    data = {"rule_id": "r1", "activation_id": ACTIVATION, "inputs": {"join_url": "https://evil.example/join"}}
    notify(runtime(), {"webhook_url": server.url + "/services/T0/B0/x", "text": "Join at {join_url}"}, data,
           **FakeTime().options(HostLimits()))
    sent = json.loads(server.requests[0].body)
    assert (sent["unfurl_links"], sent["unfurl_media"]) == (False, False)
    assert sent["text"] == "Join at https://evil.example/join"


def test_a_schedule_rules_notification_without_a_text_says_what_set_it_off(server):
    """A notify action with no text is sent "Rule {rule_id} fired on {event_type}": a schedule rule's activation
    holds no event type, so it said "Rule r1 fired on " and stopped there."""
    for inputs, expected in (({}, "Rule r1 fired on its schedule"),
                             ({"event_type": "dev.affiliatematrix.key.expiring"},
                              "Rule r1 fired on dev.affiliatematrix.key.expiring")):
        notify(runtime(), {"webhook_url": server.url + "/services/T0/B0/x"},
               {"rule_id": "r1", "activation_id": ACTIVATION, "inputs": inputs}, **FakeTime().options(HostLimits()))
        assert json.loads(server.requests[-1].body)["text"] == expected


# -- search providers ---------------------------------------------------------------------------------

def provider(kind, server, time, hosts, credentials=None):
    return kind(server.url, credentials or {}, "AffiliateMatrixBot/test", **time.options(hosts))


BRAVE_RESULTS = json.dumps({"web": {"results": [{"url": "https://pawsome.example/affiliates", "title": "P"}]}}).encode()


def test_a_provider_throttling_with_retry_after_is_waited_for_and_answers(server):
    server.answers = [(429, {"Retry-After": "4", "X-RateLimit-Remaining": "0, 1999"},
                       b'{"error": {"code": "RATE_LIMITED"}}'), (200, {}, BRAVE_RESULTS)]
    time = FakeTime()
    brave = provider(BraveSearch, server, time, HostLimits(), {"api_token": "tok"})
    try:
        (result,) = brave.search(DORK)
    finally:
        brave.close()
    assert result.url == "https://pawsome.example/affiliates" and 4.0 in time.sleeps
    assert [r.headers["x-subscription-token"] for r in server.requests] == ["tok", "tok"]


def test_a_brave_reset_past_the_clients_cap_is_not_waited_for(server):
    """X-RateLimit-Reset is waited like a Retry-After, so like one it is capped (30 s for a provider): a 429 whose
    spent window says it resets in a day (a header gone wrong) ends the query at once instead of holding the run."""
    server.answers = [(429, {"X-RateLimit-Remaining": "0, 1000", "X-RateLimit-Reset": "86400, 1419704"},
                       b'{"error": {"code": "RATE_LIMITED"}}')] * 3
    time = FakeTime()
    brave = provider(BraveSearch, server, time, HostLimits())
    try:
        with pytest.raises(ProviderError, match="brave: HTTP 429 RATE_LIMITED"):
            brave.search(DORK)
    finally:
        brave.close()
    assert len(server.requests) == 1 and time.sleeps == []


def test_a_spent_quota_is_not_asked_again(server):
    server.answers = [(429, {"X-RateLimit-Remaining": "0, 0"}, b'{"error": {"code": "QUOTA_LIMITED"}}')]
    time = FakeTime()
    brave = provider(BraveSearch, server, time, HostLimits())
    with pytest.raises(QuotaExhausted):
        brave.search(DORK)
    assert len(server.requests) == 1 and time.sleeps == []


def test_googles_daily_quota_is_final_and_its_key_never_reaches_a_message_or_log(server):
    daily = json.dumps({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                  "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'"}})
    server.answers = [(429, {}, daily.encode())]
    google = provider(GoogleProgrammableSearch, server, FakeTime(), HostLimits(), {"api_key": "k3y", "cx": "cx"})
    with pytest.raises(QuotaExhausted):
        google.search(DORK)
    assert len(server.requests) == 1 and server.requests[0].query["key"] == ["k3y"]
    server.answers = [(503, {}, b"{}")] * 3
    with capture_logs() as logs, pytest.raises(ProviderError, match="google: HTTP 503") as raised:
        google.search(DORK)
    assert len(server.requests) == 4  # a 503 is retried, unlike the spent quota
    assert "k3y" not in str(raised.value) + repr(logs)


@pytest.mark.parametrize("token", ["t0k3n-from-a-file\n", "t0k3n-from-a-file\r\nX-Injected: 1",
                                   "t0k3n-from-a-file\x00", "t0k3n\u00a0pasted-from-a-page", "t0k3n\u2019s"])
def test_a_credential_that_cannot_be_a_header_value_is_never_quoted_nor_retried(server, token):
    """A key kept with the line break of the file it came from: h11 refuses the header quoting its value
    (LocalProtocolError: Illegal header value b'...'), which was retried as a network error, logged on each
    retry and handed on in the provider's error (and, for an API, the connection test's answer). A key pasted with a
    non-breaking space or a typographic quote, which httpx cannot encode, was "not a valid URL"."""
    brave = provider(BraveSearch, server, FakeTime(), HostLimits(), {"api_token": token})
    try:
        with capture_logs() as logs, pytest.raises(ProviderError, match="not a valid HTTP header value") as raised:
            brave.search(DORK)
    finally:
        brave.close()
    assert "t0k3n" not in str(raised.value) + repr(logs)
    assert server.requests == [] and not [entry for entry in logs if entry["event"] == "http.retry"]


def test_providers_share_per_host_turns_and_keep_reaching_the_operators_private_urls(server):
    """The provider URL is loopback here and no loopback was allowed: as before, it is the operator's setting."""
    hosts, time = HostLimits(), FakeTime()
    searxng = provider(SearxngSearch, server, time, hosts)
    try:
        assert searxng.search(DORK) == [] and searxng.search(DORK) == []
    finally:
        searxng.close()
    assert time.sleeps == [pytest.approx(1.02 / SearxngSearch.rate_limit_per_s)]


def test_a_redacted_request_is_named_by_scheme_host_and_port_only():
    """Port 1 on loopback: nothing listens there, so the connection is refused and the error names the request."""
    client = PoliteClient("webhook", allow_loopback=lambda host, port: True, redact=True, attempts=1)
    try:
        with pytest.raises(FetchError) as raised:
            client.request("POST", "http://user:pa55@127.0.0.1:1/hooks/s3cr3t?token=t0k")
    finally:
        client.close()
    assert "http://127.0.0.1:1/…" in str(raised.value)
    assert not {"pa55", "s3cr3t", "t0k", "user"} & set(str(raised.value).replace("/", " ").replace(":", " ").split())


GOOD = {"url": "https://pawsome.example/affiliates", "title": "Pawsome", "snippet": "Join"}


@pytest.mark.parametrize("kind, status, headers, body", [
    (GoogleProgrammableSearch, 200, {}, {"items": 5}),
    (GoogleProgrammableSearch, 200, {}, {"items": [{"link": 7}, {"link": GOOD["url"], "title": {"a": 1}}]}),
    (GoogleProgrammableSearch, 200, {}, {"error": "a string, not an object", "items": []}),
    (GoogleProgrammableSearch, 429, {}, {"error": ["a list"]}),
    (BraveSearch, 200, {}, {"web": {"results": 5}}),
    (BraveSearch, 200, {}, {"web": {"results": [{"url": ["x"]}, {"url": GOOD["url"], "description": 3}]}}),
    (BraveSearch, 429, {"X-RateLimit-Remaining": "0, 0"}, {"error": "a string"}),
    (SearxngSearch, 200, {}, {"results": "not a list"}),
    (SearxngSearch, 200, {}, {"results": [{"url": {"u": 1}}, {"url": GOOD["url"], "content": None}]}),
])
def test_a_providers_answer_of_the_wrong_shape_gives_what_is_well_formed_or_a_provider_error(server, kind, status,
                                                                                            headers, body):
    """Each raised TypeError or AttributeError out of the discovery run (a number where a list belongs, a
    string where an object does), or handed a non-string URL on to the run, where it raised."""
    server.answers = [(status, headers, json.dumps(body).encode())] * 3
    searcher = provider(kind, server, FakeTime(), HostLimits(), {"api_key": "k", "cx": "c", "api_token": "t"})
    try:
        found = searcher.search(DORK)
    except (ProviderError, QuotaExhausted) as exc:
        assert str(exc)
        return
    finally:
        searcher.close()
    assert all(isinstance(r.url, str) and isinstance(r.title, str) and isinstance(r.snippet, str) for r in found)
    assert [r.url for r in found] in ([], [GOOD["url"]])


def test_searxngs_engines_are_asked_once_a_run_and_unknown_ones_leave_an_empty_failed_page_an_error(server):
    """Whether an engine beside the failed ones answered is read from its /config, once a run and only when an
    answer needs it; when /config does not say (an instance without it, a proxy in front), the empty page with
    failed engines stays a failure, saying why, rather than passing for "nothing found"."""
    failed = json.dumps({"results": [], "unresponsive_engines": [["google", "timeout"]]}).encode()
    server.answers = [(200, {}, failed), (404, {}, b"{}"), (200, {}, failed)]
    searxng = provider(SearxngSearch, server, FakeTime(), HostLimits())
    try:
        for _ in range(2):
            with pytest.raises(ProviderError, match=r"google \(timeout\) \(its /config does not list its engines"):
                searxng.search(DORK)
    finally:
        searxng.close()
    assert [request.path for request in server.requests] == ["/search", "/config", "/search"]
    assert server.requests[0].query["categories"] == ["general"]


@pytest.mark.parametrize("detail", ["The provided subscription token is invalid.",
                                    "Token t0k3n-wrong is not a subscription token."])
def test_a_token_brave_refuses_is_an_error_saying_so_without_quoting_the_token(server, detail):
    """Brave answers a token it does not take 422 SUBSCRIPTION_TOKEN_INVALID (its ErrorResponse body): the error said
    "brave: HTTP 422 SUBSCRIPTION_TOKEN_INVALID" with no word of where the token is kept, and nothing of what Brave
    said. What it says is quoted now, any credential in it left out."""
    body = {"type": "ErrorResponse", "error": {"id": "x", "status": 422, "code": "SUBSCRIPTION_TOKEN_INVALID",
                                               "detail": detail, "meta": {}}}
    server.answers = [(422, {}, json.dumps(body).encode())]
    brave = provider(BraveSearch, server, FakeTime(), HostLimits(), {"api_token": "t0k3n-wrong"})
    try:
        with capture_logs() as logs, pytest.raises(ProviderError) as raised:
            brave.search(DORK)
    finally:
        brave.close()
    assert str(raised.value).startswith("brave: HTTP 422 SUBSCRIPTION_TOKEN_INVALID: ")
    assert str(raised.value).endswith(" (check its key, discovery/brave in the secret store)")
    assert "t0k3n" not in str(raised.value) + repr(logs) and len(server.requests) == 1
