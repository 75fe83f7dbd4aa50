from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from affiliate_matrix.merge import merge
from affiliate_matrix.normalize import normalize
from affiliate_matrix.sources import Source, register
from tests.support.factories import make_record

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@register
class NetworkApiForTests(Source):
    """A registered plugin with a network API's priority (the real API plugins come with the sources issue)."""

    name = "test_network_api"
    title = "Test network API"
    base_url = "https://api.example.org"
    priority = 3


def observe(source, cookie, days=0, **fields):
    record = make_record("Shop", "https://shop.com", cookie_text=f"{cookie} days", **fields)
    return normalize(record.model_copy(update={"source": source, "fetched_at": T0 + timedelta(days=days)}))


def fold(*programs):
    result = programs[0]
    for p in programs[1:]:
        result = merge(result, p)
    return result


def test_agreement_beats_priority():
    merged = fold(observe("dir_a", 30), observe("dir_b", 30, days=1), observe("test_network_api", 45, days=2))
    assert merged.cookie_days == 30
    claims = merged.provenance["cookie_days"]
    assert [(c.source, c.value) for c in claims] == [("dir_a", 30), ("dir_b", 30), ("test_network_api", 45)]


def test_priority_beats_recency():
    assert fold(observe("test_network_api", 45), observe("dir_a", 30, days=5)).cookie_days == 45


@pytest.mark.parametrize("order", [0, 1])
def test_recency_decides_between_equals_whatever_the_order(order):
    old, new = observe("dir_a", 30), observe("dir_b", 60, days=3)
    assert fold(*((old, new) if order == 0 else (new, old))).cookie_days == 60


def test_a_source_changing_its_mind_replaces_its_own_claim():
    merged = fold(observe("dir_a", 30), observe("dir_b", 60, days=1), observe("dir_a", 60, days=2))
    assert merged.cookie_days == 60
    assert sorted((c.source, c.value) for c in merged.provenance["cookie_days"]) == [("dir_a", 60), ("dir_b", 60)]


def test_a_rescrape_replaces_a_sources_claim_on_a_list_field_rather_than_adding_one():
    merged = fold(*(observe("dir_a", 30, categories=["Software"], days=d) for d in range(3)),
                  observe("dir_b", 30, categories=["Web Hosting"], days=3))
    claims = merged.provenance["categories"]
    assert [(c.source, c.fetched_at) for c in claims] == [("dir_a", T0 + timedelta(days=2)), ("dir_b", T0 + timedelta(days=3))]


def test_lists_are_unions_and_quality_rewards_agreement():
    a = observe("dir_a", 30, categories=["Software"])
    b = observe("dir_b", 30, categories=["Web Hosting"], days=1)
    c = observe("dir_c", 90, categories=["Software"], days=1)
    assert fold(a, b).categories == ["hosting_domains", "software"]
    assert fold(a, b).quality_score > fold(a, c).quality_score


def test_a_discovered_program_is_confirmed_when_a_source_lists_it():
    found = normalize(make_record("Shop", "https://shop.com", extra={"confidence": "0.8", "evidence": "wording",
                                                                     "query": "q", "provider": "brave"})
                      .model_copy(update={"source": "discovery", "fetched_at": T0}))
    assert found.status == "discovered"
    assert merge(found, found).status == "discovered"  # discovery seeing it again confirms nothing
    listed = observe("test", 30, days=1)
    merged = merge(found, listed)
    assert merged.status == "active" and merged.discovery.confidence == 0.8


def test_the_newest_network_figure_stands_and_a_missing_one_erases_nothing():
    older = observe("test_network_api", 30, extra={"epc_7d": "12.50", "epc_currency": "USD", "gravity": "40.1"})
    newer = observe("test_network_api", 30, days=1, extra={"epc_7d": "9.75", "epc_currency": "USD"})
    merged = fold(older, newer)
    assert (merged.epc_7d.amount, merged.epc_7d.currency) == (Decimal("9.75"), "USD")
    assert merged.gravity == Decimal("40.1")  # the newer report says nothing about gravity


def test_a_withdrawal_takes_every_claim_of_its_source_and_only_its_source():
    from affiliate_matrix.merge import withdraw

    both = fold(observe("dir_a", 30), observe("test_network_api", 45, days=1,
                                              extra={"epc_7d": "12.50", "epc_currency": "USD", "gravity": "40.1"}))
    left = withdraw(both, "test_network_api", T0 + timedelta(days=2))
    assert (left.status, left.cookie_days, left.epc_7d, left.gravity) == ("active", 30, None, None)
    assert {c.source for claims in left.provenance.values() for c in claims} == {"dir_a"}
    gone = withdraw(left, "dir_a", T0 + timedelta(days=2))
    assert (gone.status, gone.name, gone.cookie_days, gone.provenance) == ("closed_suspected", "Shop", None, {})
    back = merge(gone, observe("dir_a", 30, days=3))
    assert (back.status, back.id, back.cookie_days) == ("active", both.id, 30)


def test_a_withdrawal_older_than_the_sources_latest_sighting_withdraws_nothing():
    """A complete run's batch indexed again after a newer run listed the program (a redelivered event)."""
    from affiliate_matrix.merge import withdraw

    program = fold(observe("dir_a", 30), observe("dir_a", 30, days=2))
    assert withdraw(program, "dir_a", T0 + timedelta(days=1)) == program
