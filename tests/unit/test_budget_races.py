"""Campaigns written beside each other: each race held at its point by events (tests/support/interleave.py), the
other writer run whole meanwhile, on the embedded store."""

import threading

import pytest

from affiliate_matrix.budget.campaigns import (Campaign, campaign_key, history, parse_days, record_days, save_campaign,
                                               sweep_days)
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from tests.support.interleave import interleaved


@pytest.fixture
def rt(tmp_path, monkeypatch):
    monkeypatch.setenv("AMX_DATA_DIR", str(tmp_path))
    return Runtime("test", Settings(data_dir=tmp_path))


def held_after_a_head(store, monkeypatch, key: str, found) -> callable:
    """The hold: the held thread stops right after its first HEAD of `key` answering as `found` says, until the
    work done meanwhile is done (the test's own thread passes on)."""
    head, here, once = store.head, threading.current_thread(), threading.Lock()

    def hold(reached, go_on):
        def held_head(asked):
            etag = head(asked)
            if asked == key and found(etag) and threading.current_thread() is not here and once.acquire(blocking=False):
                reached.set()
                go_on.wait(60)
            return etag

        monkeypatch.setattr(store, "head", held_head)
    return hold


def test_the_sweep_of_a_deleted_campaigns_days_keeps_those_of_the_campaign_added_again_meanwhile(rt, monkeypatch):
    """The sweep of a deleted campaign's days (DELETE's last step, or its retry) found the campaign gone, then deleted
    its days unconditionally: the campaign added again under the id in those milliseconds, and its first days written,
    lost them. The sweep deletes only the days it found (their ETag, read before it looked for the campaign)."""
    old = Campaign(id="search-us", name="old", channel="search", currency="USD")
    save_campaign(rt.store, old, create=True)
    record_days(rt, old, parse_days([{"date": "2026-11-01", "spend": 10, "revenue": 20}], "USD"))
    rt.store.delete(campaign_key("search-us"))  # the campaign deleted; its days' sweep comes next

    def added_again():
        again = Campaign(id="search-us", name="again", channel="search", currency="EUR")
        save_campaign(rt.store, again, create=True)  # sweeps the old days itself
        record_days(rt, again, parse_days([{"date": "2026-11-10", "spend": 5, "revenue": 9}], "EUR"))

    interleaved(held_after_a_head(rt.store, monkeypatch, campaign_key("search-us"), lambda etag: etag is None),
                lambda: sweep_days(rt.store, "search-us"), added_again)
    assert [(str(day["date"]), day["spend"]) for day in history(rt.store, "search-us")] == [("2026-11-10", 5.0)]
