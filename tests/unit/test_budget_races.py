"""Campaigns written beside each other: each race held at its point by events (tests/support/interleave.py), the
other writer run whole meanwhile, on the embedded store."""

import threading

import pytest
from typer.testing import CliRunner

from affiliate_matrix.auth import create_token
from affiliate_matrix.budget.campaigns import (CAMPAIGNS, Campaign, campaign_key, campaign_keys, history, parse_days,
                                               record_days, save_campaign, sweep_days)
from affiliate_matrix.cli import app as cli
from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.storage.local import LocalObjectStore
from tests.support.apps import function_client
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



def added(rt, how: str, name: str) -> tuple[bool, str | None]:
    """Campaign `name` added over HTTP (POST /campaigns, as an admin) or by `amx budget campaigns add`: whether it
    was, and the error's message."""
    if how == "http":
        reply = function_client("budget").post("/campaigns", json={
            "id": name, "name": name, "channel": "search", "currency": "USD"}, headers={
            "Authorization": f"Bearer {create_token(rt.secrets, 'admin')}"})
        return reply.status_code == 201, (reply.json.get("error") or {}).get("message")
    run = CliRunner().invoke(cli, ["budget", "campaigns", "add", name, "--name", name, "--channel", "search",
                                   "--currency", "USD"])
    return run.exit_code == 0, None if run.exception is None else str(run.exception)


@pytest.mark.parametrize("held, meanwhile", [("http", "cli"), ("cli", "http")])
def test_creations_racing_for_the_last_campaign_place_let_one_in(rt, monkeypatch, held, meanwhile):
    """AMX_BUDGET_MAX_CAMPAIGNS was checked by counting the campaigns, then creating: two creations counting before
    either was stored each got in, past the limit. Each counts again once stored, and the later of the two, seeing
    both, undoes its own and is refused naming the limit."""
    monkeypatch.setenv("AMX_BUDGET_MAX_CAMPAIGNS", "3")
    for name in ("first", "second"):
        save_campaign(rt.store, Campaign(id=name, name=name, channel="search", currency="USD"), create=True)
    listing, here, once = LocalObjectStore.list, threading.current_thread(), threading.Lock()

    def hold(reached, go_on):
        def held_list(store, prefix=""):  # the held creation stops once it has counted the campaigns, before its create
            keys = list(listing(store, prefix))
            if prefix == CAMPAIGNS and threading.current_thread() is not here and once.acquire(blocking=False):
                reached.set()
                go_on.wait(60)
            return iter(keys)

        monkeypatch.setattr(LocalObjectStore, "list", held_list)

    (third_added, refused), (fourth_added, _) = interleaved(hold, lambda: added(rt, held, "third"),
                                                            lambda: added(rt, meanwhile, "fourth"))
    assert fourth_added and not third_added
    assert "'third': not added" in refused and "AMX_BUDGET_MAX_CAMPAIGNS=3" in refused
    assert sorted(campaign_keys(rt.store)) == [campaign_key(name) for name in ("first", "fourth", "second")]
