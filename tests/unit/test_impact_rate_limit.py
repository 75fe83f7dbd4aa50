"""Impact's partner API answers its rate limit 429 with `Retry-After` and `RateLimit-Reset`, in seconds (its own page,
integrations.impact.com/partner-api-reference/readme/rate-limits; `X-RateLimit-Reset` is the brand and agency APIs'):
the sync waits the Retry-After through the client's capped path, and one longer than the cap ends it, naming the wait.
Real HTTP on loopback; only time is faked, so nothing sleeps."""

import asyncio
from pathlib import Path

import pytest

import affiliate_matrix.sources.impact as impact_package
from affiliate_matrix.errors import FetchError
from affiliate_matrix.polite import HostLimits
from affiliate_matrix.sources.impact import Impact
from affiliate_matrix.storage.local import LocalObjectStore
from affiliate_matrix.sync import Api
from tests.support.clock import FakeTime
from tests.support.loopback import Loopback

PAGE = (Path(impact_package.__file__).parent / "recorded" / "campaigns-2.json").read_bytes()  # the last page
CREDENTIALS = {"account_sid": "IRtestSID", "auth_token": "test-impact-token"}


def limited(seconds: str):
    """A 429 with the headers the page documents for it (its example: 700 s to the hour's reset)."""
    return 429, {"Content-Type": "application/json", "X-RateLimit-Limit-hour": "1000",
                 "X-RateLimit-Remaining-hour": "0", "RateLimit-Reset": seconds, "Retry-After": seconds}, b""


def campaigns(answers: list, time: FakeTime, tmp_path) -> tuple[list, int]:
    """The campaigns Impact's listing reads from a server answering `answers` in turn, then the page; and how many
    requests it made."""
    def answer(request):
        return answers.pop(0) if answers else (200, {"Content-Type": "application/json"}, PAGE)

    with Loopback(answer) as server:
        source = Impact(server.url)
        api = Api(source, LocalObjectStore(tmp_path), source.auth_headers(CREDENTIALS), rate_limit_per_s=50,
                  allow_loopback=True, **time.options(HostLimits()))

        async def run():
            try:
                return [listing async for _, listing in source.listings(api, CREDENTIALS)]
            finally:
                await api.aclose()

        return asyncio.run(run()), len(server.requests)


def test_impacts_429_is_asked_again_after_the_retry_after_it_names(tmp_path):
    time = FakeTime()
    listed, asked = campaigns([limited("20")], time, tmp_path)
    assert [listing.name for listing in listed] == ["NordVPN"] and asked == 2
    assert time.sleeps[0] == 20.0  # the wait Impact named, on the injected sleep


def test_impacts_429_asking_to_wait_past_the_cap_ends_the_sync_naming_the_wait(tmp_path):
    time = FakeTime()
    with pytest.raises(FetchError, match=r"HTTP 429, asked to wait 700 s \(more than the 60 s we wait\)"):
        campaigns([limited("700")], time, tmp_path)
    assert 700.0 not in time.sleeps
