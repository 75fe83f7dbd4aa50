"""A provider's daily quota holds across discovery runs sharing the day (the discover function on a rule's
action and on HTTP at once): a query is counted before it is sent, by a conditional write on the day's
usage, so a run that read the usage before another counted cannot send past the quota. Real object store."""

import json

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
