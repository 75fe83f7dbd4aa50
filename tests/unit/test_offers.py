"""Several records of one source for one program (one merchant's offers, each listed apart) are one sighting of it
(merge.combined) that keeps what every record says, the same whatever order they come in; a later run without one
of them takes only its share away."""

from datetime import timedelta
from decimal import Decimal
from itertools import permutations

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.merge import combined, merge
from affiliate_matrix.models import CommissionTerm, CommissionTier, RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.pipeline import index_batch
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.search import SearchQuery
from affiliate_matrix.terms import merged_terms
from tests.support.factories import NOW, make_record

OFFERS = {  # one advertiser's offers on one landing domain, each on a page of its own, fetched an hour apart
    "Acme - US - SOI": dict(commission_text="$2.50 per lead", countries=["US"], cookie_text="30 days",
                            categories=["Dating"]),
    "Acme - UK - CC submit": dict(commission_text="€40 per sale", countries=["GB"], cookie_text="60 days",
                                  payout_text="Paid monthly via PayPal"),
    "Acme - Mobile app install": dict(commission_text="$1.10 per install", countries=["US", "CA"],
                                      payout_text="Paid weekly via Payoneer", description="Install the app."),
}


def records(names=tuple(OFFERS)):
    return [RawRecord.model_validate(make_record(name, f"https://www.acme.com/{i}", **OFFERS[name]).model_dump() | {
        "fetched_at": NOW + timedelta(hours=i), "url": f"https://dir.example.org/offer/{i}"})
        for i, name in enumerate(OFFERS) if name in names]


def test_one_sources_offers_of_one_merchant_are_one_sighting_keeping_each_ones_terms_in_any_order():
    programs = [normalize(r) for r in records()]
    one = combined(programs)
    assert all(combined(list(order)) == one for order in permutations(programs))
    assert [r.record_key for r in one.records] == ["acme---mobile-app-install", "acme---uk---cc-submit",
                                                   "acme---us---soi"]
    assert one.name == "Acme - Mobile app install"  # the first record's by the source's own id
    assert one.aliases == ["Acme - UK - CC submit", "Acme - US - SOI"]
    # one flat range per currency, as the terms extractor merges a text's
    assert [(t.type, t.currency, t.value_min, t.value_max) for t in one.commission] == [
        ("flat", "USD", Decimal("1.1"), Decimal("2.5")), ("flat", "EUR", 40, None)]
    assert one.commission_text == "$1.10 per install; €40 per sale; $2.50 per lead"
    assert one.countries == ["CA", "GB", "US"] and one.categories == programs[0].categories
    assert one.cookie_days == 60  # the widest
    assert (one.payout.methods, one.payout.frequency) == (["payoneer", "paypal"], "weekly")
    assert one.description == "Install the app."
    # one claim a field, the source's, as of the run's latest fetch: a sighting merge replaces whole
    assert {len(claims) for claims in one.provenance.values()} == {1}
    assert {c.fetched_at for claims in one.provenance.values() for c in claims} == {NOW + timedelta(hours=2)}
    assert one.provenance["commission"][0].value == [t.model_dump(mode="json") for t in one.commission]


def test_a_later_sighting_without_an_offer_takes_only_that_offers_share():
    both = combined([normalize(r) for r in records()])
    later = [normalize(r.model_copy(update={"fetched_at": r.fetched_at + timedelta(days=1)}))
             for r in records(("Acme - US - SOI", "Acme - Mobile app install"))]
    after = merge(both, combined(later))
    assert [t.currency for t in after.commission] == ["USD"] and after.countries == ["CA", "US"]
    assert after.cookie_days == 30 and after.payout.methods == ["payoneer"]
    assert [r.record_key for r in after.records] == ["acme---mobile-app-install", "acme---us---soi"]


def test_the_source_closes_the_program_only_when_it_says_so_of_every_offer():
    us, uk = records(("Acme - US - SOI", "Acme - UK - CC submit"))
    closed_uk = normalize(uk.model_copy(update={"closed": "Expired"}))
    one_closed = combined([normalize(us), closed_uk])
    assert one_closed.status == "active" and "status" not in one_closed.provenance
    both_closed = combined([normalize(us.model_copy(update={"closed": "Paused"})), closed_uk])
    assert both_closed.status == "closed_suspected"
    assert both_closed.provenance["status"][0].evidence == ["Expired", "Paused"]  # by record key
    found = [normalize(r.model_copy(update={"source": "discovery", "connection_id": "discovery", "extra": {
        "confidence": "0.8", "query": "q", "provider": "brave"}})) for r in (us, uk)]
    assert combined(found).status == "discovered"  # two pages a search found: still only found


def test_offers_terms_merge_as_the_extractor_merges_a_texts():
    tiered = CommissionTerm(type="flat", value_min=10, currency="USD",
                            tiers=[CommissionTier(threshold="50+", value=12)])
    terms = [CommissionTerm(type="percent", value_min=30, recurring=True), CommissionTerm(type="percent", value_min=50,
             recurring=False), tiered, CommissionTerm(type="percent", value_min=5, value_max=8, recurring=False)]
    assert merged_terms(terms) == [CommissionTerm(type="percent", value_min=30, recurring=True),
                                   CommissionTerm(type="percent", value_min=5, value_max=50, recurring=False),
                                   tiered]  # recurring apart from one-time; a lone term keeps its tiers
    assert merged_terms([CommissionTerm(type="percent", value_max=40), CommissionTerm(type="percent", value_min=20)]) \
        == [CommissionTerm(type="percent", value_min=20, value_max=40)]


@pytest.mark.parametrize("order", list(permutations(range(3))), ids=str)
def test_the_pipeline_indexes_one_program_with_every_offers_terms_whatever_the_batchs_order(tmp_path, order):
    listed = records()
    rt = Runtime("test", Settings(data_dir=tmp_path))
    batch = "\n".join(listed[i].model_dump_json() for i in order).encode()
    report = index_batch(rt, rt.store.put_content_addressed("batches/test", batch, suffix=".jsonl"))
    assert (report.created, report.errors) == (1, [])
    (hit,) = rt.index.search(PROGRAMS_INDEX.name, SearchQuery()).hits
    program = from_document(hit.doc)
    assert program == combined([normalize(r) for r in listed]).model_copy(
        update={"last_changed_at": program.last_changed_at})
