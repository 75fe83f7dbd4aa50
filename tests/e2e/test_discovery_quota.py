"""A provider's daily quota holds across discovery runs sharing the day (the discover function on a rule's
action and on HTTP at once): a query is counted before it is sent, by a conditional write on the day's
usage, so a run that read the usage before another counted cannot send past the quota. Real object store."""

import json
from datetime import UTC, datetime

import pytest

from affiliate_matrix.discovery.providers import Usage
from affiliate_matrix.errors import DamagedData
from affiliate_matrix.storage.local import LocalObjectStore

DAY = "2026-11-22"


def test_runs_that_read_the_usage_at_once_send_no_more_queries_than_the_quota_between_them(tmp_path):
    store = LocalObjectStore(tmp_path)
    first, second = (Usage(store, {"google": 2}, day=DAY) for _ in range(2))  # both read before either counts
    sent = [run.reserve("google", 0.005) for run in (first, second, second, first)]
    assert sent == [True, True, False, False]
    assert json.loads(store.get(f"discovery/usage/{DAY}.json").data)["google"] == {
        "queries": 2, "cost_usd": 0.01, "exhausted": False}


def test_a_query_the_provider_did_not_answer_is_given_back_and_a_spent_quota_is_kept(tmp_path):
    store = LocalObjectStore(tmp_path)
    first, second = (Usage(store, {"google": 5}, day=DAY) for _ in range(2))
    assert first.reserve("google", 0.005) and second.reserve("google", 0.005)
    second.unanswered("google", 0.005, exhausted=True)  # the provider said its quota is spent
    assert not first.reserve("google", 0.005)  # the other run learns it at its next query
    assert json.loads(store.get(f"discovery/usage/{DAY}.json").data)["google"] == {
        "queries": 1, "cost_usd": 0.005, "exhausted": True}


@pytest.mark.parametrize("stored", [b'{"google": {"queries": 1', b'["not", "a", "mapping"]',
                                    b'{"google": {"queries": "many"}}'])
def test_a_damaged_usage_document_stops_the_run_naming_it_and_is_left_as_it_is(tmp_path, stored):
    """It raised ValueError, KeyError or TypeError out of the run (a 500, redelivered); overwritten, the
    day's count would start again from 0, past the quota."""
    store = LocalObjectStore(tmp_path)
    key = f"discovery/usage/{DAY}.json"
    store.put(key, stored, content_type="application/json")
    with pytest.raises(DamagedData, match=f"{key} is damaged"):
        Usage(store, {"google": 2}, day=DAY).reserve("google", 0.005)
    assert store.get(key).data == stored


def test_googles_queries_count_on_its_own_day_which_ends_at_midnight_pacific_time(tmp_path):
    """Google's daily quota resets at midnight Pacific time. Counted per UTC day, a run between 00:00 and 08:00 UTC
    found Google spent until UTC midnight, hours after its quota had come back; and a run after UTC midnight
    counted on a fresh day while Google still held the old one's queries against it."""
    store = LocalObjectStore(tmp_path)
    evening_in_california = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 19:00 on the 22nd, Pacific time
    store.put("discovery/usage/2026-11-22.json", json.dumps({"google": {
        "queries": 2, "cost_usd": 0.01, "exhausted": True}}).encode(), content_type="application/json")
    usage = Usage(store, {"google": 2, "brave": 2}, started=evening_in_california)
    assert not usage.reserve("google", 0.005)  # still the 22nd for Google: spent
    assert usage.reserve("brave", 0.005)  # Brave counts UTC days: the 23rd
    assert json.loads(store.get("discovery/usage/2026-11-23.json").data) == {
        "brave": {"queries": 1, "cost_usd": 0.005, "exhausted": False}}

    after_midnight_in_california = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 00:30 on the 23rd, Pacific time
    assert Usage(store, {"google": 2, "brave": 2}, started=after_midnight_in_california).reserve("google", 0.005)
    assert json.loads(store.get("discovery/usage/2026-11-23.json").data)["google"] == {
        "queries": 1, "cost_usd": 0.005, "exhausted": False}
