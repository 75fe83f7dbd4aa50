"""The search providers read the answers their documentation says they give, recorded in discovery/recorded/ (its
README names the page each follows) and served over real HTTP on loopback by the recorded-sources server."""

from pathlib import Path

import pytest
from structlog.testing import capture_logs

import affiliate_matrix.discovery as discovery_package
from affiliate_matrix.config import Settings
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.discovery import DiscoveryReport
from affiliate_matrix.discovery.dorks import Dork
from affiliate_matrix.discovery.providers import (BraveSearch, GoogleProgrammableSearch, ProviderError, Result,
                                                  SearxngSearch)
from affiliate_matrix.discovery.run import seen_key, validate
from affiliate_matrix.polite import HostLimits
from affiliate_matrix.runtime import Runtime
from tests.support.clock import FakeTime

RECORDED = Path(discovery_package.__file__).parent / "recorded"


@pytest.fixture(scope="module")
def urls():
    directories = {name: RECORDED / name for name in ("google", "brave", "searxng")} | {"woofbox": RECORDED / "sites" / "woofbox"}
    with recorded_sites(*directories, directories=directories) as served:
        yield served


def search(kind, url: str, dork: Dork, credentials: dict | None = None, time: FakeTime | None = None):
    provider = kind(url, credentials or {}, "AffiliateMatrixBot/test", **(time or FakeTime()).options(HostLimits()))
    try:
        return provider.search(dork)
    finally:
        provider.close()


def test_braves_per_second_limit_is_waited_out_as_long_as_its_reset_header_says(urls):
    """Brave answers its per-second limit 429 with no Retry-After and says in X-RateLimit-Reset how long until each
    window resets (here the second's, 1 s): the retry waited the client's own backoff (0.5 to 1 s, then 1 to 1.5 s),
    asking again before the window had reset."""
    time = FakeTime()
    found = search(BraveSearch, urls["brave"], Dork("inurl:affiliates limited", "limited", "en"),
                   {"api_token": "test-brave-token"}, time)
    assert found and found[0].provider == "brave"
    assert time.sleeps[0] == 1.0  # the reset, then only what is left of the host's spacing
    assert sum(time.sleeps[1:]) < 0.1


def test_googles_per_minute_limit_is_not_taken_for_its_daily_quota(urls):
    """A 429 naming 'Queries per minute' (another run on the project's quota), still there after the retries, was read
    as the daily quota: Google was marked spent for the rest of the day, its remaining queries never sent."""
    with pytest.raises(ProviderError, match="google: HTTP 429 RESOURCE_EXHAUSTED"):
        search(GoogleProgrammableSearch, urls["google"], Dork('"affiliate program" garden', "garden", "en"),
               {"api_key": "test-google-key", "cx": "test-cx"})


def test_a_key_google_refuses_is_an_error_quoting_it_and_naming_where_the_key_is(urls):
    """Google answers a key it does not take 400 INVALID_ARGUMENT, "API key not valid": the error said only
    "google: HTTP 400 INVALID_ARGUMENT", which does not tell a wrong key from a wrong query."""
    with pytest.raises(ProviderError) as raised:
        search(GoogleProgrammableSearch, urls["google"], Dork('"affiliate program" pets', "pets", "en"),
               {"api_key": "wrong-google-key", "cx": "test-cx"})
    assert str(raised.value) == ("google: HTTP 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key. "
                                 "(check its key, discovery/google in the secret store)")


def test_a_file_google_names_by_its_mime_is_not_taken_for_its_sites_page(urls):
    """Google gives a result that is a file its `mime` and `fileFormat` (a PDF of a program's terms): the best-ranked
    URL of its site, it was the site's one candidate, fetched and judged as a page, and the site's own program page
    below it never looked at."""
    found = search(GoogleProgrammableSearch, urls["google"], Dork('"affiliate program" aquarium', "aquarium", "en"),
                   {"api_key": "test-google-key", "cx": "test-cx"})
    assert [(r.url, r.rank) for r in found] == [(urls["woofbox"] + "/partners/", 1)]


def test_a_result_that_is_not_a_web_page_is_a_failure_for_its_url_and_its_site_is_not_remembered(urls, tmp_path):
    """A PDF (from a provider that does not say so) was read as a page, rejected, and its site remembered as judged:
    no later run looked at the site's program page again."""
    rt = Runtime("test", Settings(data_dir=tmp_path, allow_loopback_fetch=True))
    pdf = urls["woofbox"] + "/affiliate-agreement.pdf"
    report = DiscoveryReport()
    validate(rt, [Result(pdf, "Woofbox affiliate agreement", "", 1, "brave", "q")], report,
             **FakeTime().options(HostLimits()))
    assert report.failures == [(pdf, "not a web page (application/pdf)")]
    assert report.rejected == report.review == report.discovered == []
    assert rt.store.head(seen_key("127.0.0.1")) is None


def test_a_searxng_page_empty_because_its_engines_failed_is_an_error_naming_them(urls):
    """Every engine failing (a CAPTCHA, a timeout, suspended) answers 200 with no results and the engines listed in
    unresponsive_engines: read as an empty page, the query counted as answered and never went to the next provider."""
    with pytest.raises(ProviderError) as raised:
        search(SearxngSearch, urls["searxng"], Dork('intitle:"partner program" garden', "garden", "en"))
    assert str(raised.value) == ("searxng: no results, and its engines did not answer: google (CAPTCHA), "
                                 "duckduckgo (timeout), brave (Suspended: too many requests)")


def test_a_searxng_page_empty_while_some_engines_failed_and_others_answered_is_no_results(urls):
    """One engine failing (a CAPTCHA) beside others that answered and found nothing was an error for the run, the
    query handed on as unanswered: the engines its /config lists as enabled for `general` and not among
    unresponsive_engines answered, and nothing found is their answer. The failure is logged, naming the engine."""
    with capture_logs() as logs:
        found = search(SearxngSearch, urls["searxng"], Dork('intitle:"partner program" aquarium', "aquarium", "en"))
    assert found == []
    [warning] = [entry for entry in logs if entry["event"] == "discover.searxng_engines_failed"]
    assert warning["engines"] == "google (CAPTCHA)" and warning["answered"] == ["brave", "duckduckgo"]


def test_an_empty_searxng_page_with_every_engine_answering_is_no_results(urls):
    assert search(SearxngSearch, urls["searxng"], Dork('intitle:"partner program" nothing', "nothing", "en")) == []


def test_searxngs_limiter_refusing_the_json_api_is_an_error_saying_so(urls):
    """An instance with its limiter on (many docker setups turn it on) answers the JSON API 429 "Too Many Requests"
    past 4 queries an hour from one address (its botdetection's API_MAX): the error said only "HTTP 429", which reads as an engine
    throttling, not the instance's own setting to change."""
    with pytest.raises(ProviderError, match=r"HTTP 429 \(is its limiter on\? turn server.limiter off"):
        search(SearxngSearch, urls["searxng"], Dork('intitle:"partner program" limited', "limited", "en"))
