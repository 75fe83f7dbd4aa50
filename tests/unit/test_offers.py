"""Several records of one source for one program (one merchant's offers, each listed apart) are one sighting of it
(merge.combined) that keeps what every record says, the same whatever order they come in; a later complete run
without one of them takes only its share away, and an API's incomplete one keeps the offers it did not reach, read
back from the batch each was last read from."""

from datetime import timedelta
from decimal import Decimal
from itertools import permutations

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, connection_key, save_connection
from affiliate_matrix.merge import combined, merge
from affiliate_matrix.models import CommissionTerm, CommissionTier, RawRecord
from affiliate_matrix.normalize import normalize
from affiliate_matrix.pipeline import index_batch
from affiliate_matrix.program_index import PROGRAMS_INDEX, from_document, to_document
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
    key = stored(rt, [listed[i] for i in order])
    report = index_batch(rt, key)
    assert (report.created, report.errors) == (1, [])
    program = indexed(rt)
    assert program == combined([normalize(r, key) for r in listed]).model_copy(
        update={"last_changed_at": program.last_changed_at})
    assert {r.batch_key for r in program.records} == {key}  # where each offer was read, to read it back


def stored(rt, listed) -> str:
    """A batch stored as scrape stores it."""
    batch = "\n".join(r.model_dump_json() for r in listed).encode()
    return rt.store.put_content_addressed(f"batches/{listed[0].source}", batch, suffix=".jsonl")


def indexed(rt):
    (hit,) = rt.index.search(PROGRAMS_INDEX.name, SearchQuery()).hits
    return from_document(hit.doc)


def later(listed, days: int, **changed):
    """The records fetched `days` later, with `changed` fields."""
    return [r.model_copy(update={"fetched_at": r.fetched_at + timedelta(days=days), **changed}) for r in listed]


def shown(program) -> dict:
    """What a reader sees of a program's offers."""
    return program.model_dump(mode="json", include={"name", "aliases", "commission", "commission_text", "countries",
                                                    "categories", "cookie_days", "payout", "description"}) | {
        "records": [r.record_key for r in program.records]}


US, UK, APP = "Acme - US - SOI", "Acme - UK - CC submit", "Acme - Mobile app install"


def offers(names=tuple(OFFERS), source="offervault"):
    """The offers as an API lists them (OfferVault's, through connection c): its runs can be complete."""
    return [r.model_copy(update={"source": source}) for r in records(names)]


def api_runtime(tmp_path) -> Runtime:
    """A data directory with the connections the records come through stored (a deleted one's records are left out):
    OfferVault's c, an API's, and affiliateprograms' dir, a directory's."""
    rt = Runtime("test", Settings(data_dir=tmp_path))
    save_connection(rt.store, Connection(id="c", source="offervault"), create=True)
    save_connection(rt.store, Connection(id="dir", source="affiliateprograms"), create=True)
    return rt


def test_an_incomplete_run_keeps_the_offers_it_did_not_reach_and_takes_this_runs_values_for_those_it_did(tmp_path):
    rt = api_runtime(tmp_path)
    first = stored(rt, offers())
    index_batch(rt, first, complete_run_of="c")
    # A run whose page with the UK and app offers failed: it lists the US offer alone, at a new payout
    (us,) = later(offers((US,)), 1, commission_text="$3.00 per lead")
    second = stored(rt, [us])
    report = index_batch(rt, second)  # incomplete: no complete_run_of
    program = indexed(rt)
    uk, app = offers((UK, APP))
    expected = combined([normalize(us, second), normalize(uk, first), normalize(app, first)])
    assert shown(program) == shown(expected)
    assert [r.record_key for r in program.records] == ["acme---mobile-app-install", "acme---uk---cc-submit",
                                                       "acme---us---soi"]
    assert {r.record_key: r.batch_key for r in program.records} == {  # each offer's batch: it is read back from it
        "acme---mobile-app-install": first, "acme---uk---cc-submit": first, "acme---us---soi": second}
    # the change feed has the US offer's new payout, and no offer's terms or countries removed
    (delta,) = report.deltas
    assert {f.field for f in delta.fields} == {"commission", "commission_text"}
    assert [t.value_max for t in program.commission if t.currency == "USD"] == [3]
    # the same batch again (a redelivered event, a replay) changes nothing
    again = index_batch(rt, second)
    assert (again.unchanged, again.deltas, indexed(rt)) == (1, [], program)
    # another incomplete run reaching only the app offer keeps the US one (of the second run) and the UK one (of the
    # first), each read back from its own batch
    third = stored(rt, later(offers((APP,)), 2))
    assert index_batch(rt, third).deltas == []
    assert {r.record_key: r.batch_key for r in indexed(rt).records} == {
        "acme---mobile-app-install": third, "acme---uk---cc-submit": first, "acme---us---soi": second}
    assert shown(indexed(rt)) == shown(program)


def test_a_complete_run_still_takes_the_offers_it_no_longer_lists(tmp_path):
    rt = api_runtime(tmp_path)
    index_batch(rt, stored(rt, offers()))
    index_batch(rt, stored(rt, later(offers((US,)), 1)))  # incomplete: all three kept
    assert len(indexed(rt).records) == 3
    last = stored(rt, later(offers((US,)), 2))
    report = index_batch(rt, last, complete_run_of="c")
    alone = combined([normalize(r, last) for r in later(offers((US,)), 2)])
    assert shown(indexed(rt)) | {"aliases": None} == shown(alone) | {"aliases": None}  # (names once shown stay)
    (delta,) = report.deltas
    assert {f.field for f in delta.fields} >= {"commission", "countries"}


def test_an_incomplete_run_of_a_connection_created_again_does_not_revive_the_old_generations_offers(tmp_path):
    """Its deletion withdraws the old generation's claims; were that withdrawal still to come, the new generation's
    first run, not complete, would bring back offers it never listed."""
    rt = api_runtime(tmp_path)
    for generation, listed in (("g_" + "1" * 32, offers()), ("g_" + "2" * 32, later(offers((US,)), 1))):
        rt.store.delete(connection_key("c"))
        save_connection(rt.store, Connection(id="c", source="offervault", generation=generation), create=True)
        index_batch(rt, stored(rt, [r.model_copy(update={"generation": generation}) for r in listed]))
    assert [r.record_key for r in indexed(rt).records] == ["acme---us---soi"]


def test_the_feed_shows_a_program_gaining_and_losing_a_source_record_and_not_a_record_read_again(tmp_path):
    """A source listing the program now, or an offer dropped, is a change of its `records` (each the source and its own
    id); the batch or page a record was read from is not: an incomplete run reading offers back records nothing."""
    rt = api_runtime(tmp_path)
    index_batch(rt, stored(rt, offers((US, UK))), complete_run_of="c")
    # an incomplete run reaching the US offer alone: the UK one is read back from its batch, the same records
    assert index_batch(rt, stored(rt, later(offers((US,)), 1))).deltas == []
    # a complete run without the UK offer: the offer is gone from the program, and the feed says so
    (delta,) = index_batch(rt, stored(rt, later(offers((US,)), 2)), complete_run_of="c").deltas
    (records_change,) = [f for f in delta.fields if f.field == "records"]
    assert (records_change.old, records_change.new) == (
        [{"source": "offervault", "record_key": "acme---uk---cc-submit"},
         {"source": "offervault", "record_key": "acme---us---soi"}],
        [{"source": "offervault", "record_key": "acme---us---soi"}])
    # a directory lists the US offer as the API does: the program gains a source, and nothing else changes
    (listed,) = later(offers((US,), source="affiliateprograms"), 3, connection_id="dir", record_key="acme-dir")
    (delta,) = index_batch(rt, stored(rt, [listed])).deltas
    assert [(f.field, f.old, f.new) for f in delta.fields] == [("records", records_change.new, [
        {"source": "affiliateprograms", "record_key": "acme-dir"},
        {"source": "offervault", "record_key": "acme---us---soi"}])]


def test_a_program_indexed_before_programs_listed_their_records_gains_them_with_no_change_in_the_feed(tmp_path):
    rt = api_runtime(tmp_path)
    index_batch(rt, stored(rt, offers((US,))), complete_run_of="c")
    before = indexed(rt)  # as an index written before `records` holds it: none
    provenance = {field: claims for field, claims in before.provenance.items() if field != "records"}
    rt.index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(before.model_copy(
        update={"records": [], "provenance": provenance}))], refresh=True)
    assert index_batch(rt, stored(rt, later(offers((US,)), 1)), complete_run_of="c").deltas == []
    assert [r.record_key for r in indexed(rt).records] == ["acme---us---soi"]


def test_an_offer_whose_batch_is_gone_drops_logged_and_the_others_stay(tmp_path):
    from structlog.testing import capture_logs

    rt = api_runtime(tmp_path)
    first = stored(rt, offers((UK, APP)))
    index_batch(rt, first)
    second = stored(rt, later(offers((US,)), 1))
    index_batch(rt, second)  # the UK and app offers kept, read back from the first batch
    third = stored(rt, later(offers((APP,)), 2))
    rt.store.delete(second)
    with capture_logs() as logs:
        report = index_batch(rt, third)
    assert report.errors == [] and [r.record_key for r in indexed(rt).records] == [
        "acme---mobile-app-install", "acme---uk---cc-submit"]
    (lost,) = [e for e in logs if e["event"] == "index.offer_not_kept"]
    assert (lost["record"], lost["batch_key"]) == ("offervault/acme---us---soi", second)


def test_an_older_batch_indexed_again_keeps_no_newer_offer_and_claims_nothing_over_the_newer_sighting(tmp_path):
    """A replay of an older run's batch is incomplete too: were the newer sighting's offers it did not list kept, the
    replay would be as new as that sighting and its older values would stand over the newer ones."""
    rt = api_runtime(tmp_path)
    older = stored(rt, offers((US, UK)))
    index_batch(rt, older)
    (us,) = later(offers((US,)), 1, commission_text="$3.00 per lead")
    index_batch(rt, stored(rt, [us, *later(offers((UK, APP)), 1)]), complete_run_of="c")
    newer = indexed(rt)
    replay = index_batch(rt, older)
    assert (replay.deltas, indexed(rt)) == ([], newer)


def test_a_directory_crawl_keeps_no_offer_it_did_not_list(tmp_path):
    """A directory's crawl is never complete: an offer it kept would never leave. Each crawl's records stand for the
    program it saw, as before."""
    rt = api_runtime(tmp_path)
    listed = [r.model_copy(update={"connection_id": "dir"}) for r in offers(source="affiliateprograms")]
    index_batch(rt, stored(rt, listed))
    index_batch(rt, stored(rt, later(listed[:1], 1)))
    assert [r.record_key for r in indexed(rt).records] == ["acme---us---soi"]


def test_one_offer_two_connections_list_is_one_of_the_programs_records(tmp_path):
    """Each connection's record names its own batch: the program's records still list the offer once."""
    rt = Runtime("test", Settings(data_dir=tmp_path))
    (us,) = records((US,))
    index_batch(rt, stored(rt, [us]))
    index_batch(rt, stored(rt, later([us], 1, connection_id="d")))
    program = indexed(rt)
    assert [r.record_key for r in program.records] == ["acme---us---soi"]
    assert len({r["batch_key"] for claim in program.provenance["records"] for r in claim.value}) == 2


def test_offers_folded_into_one_never_list_the_programs_own_name_as_an_alias():
    # An offer whose aliases held the first offer's name kept it as an alias of the program so named (`-` binds
    # before `|`: only the offers' names were taken off).
    programs = [normalize(r) for r in records()]
    programs[1] = programs[1].model_copy(update={"aliases": ["Acme - Mobile app install"]})
    one = combined(programs)
    assert one.name == "Acme - Mobile app install" and one.name not in one.aliases


def test_one_offer_allowing_deep_links_is_the_programs_answer_whatever_the_order():
    """Any other single value is the first record's that states one; deep links allowed by any offer are allowed
    (merge.YES_FROM_ANY), as across networks: the first offer's no hid them."""
    said = {"Acme - Mobile app install": "false", "Acme - UK - CC submit": "true", "Acme - US - SOI": "false"}
    programs = [normalize(r.model_copy(update={"extra": {"deeplinks_allowed": said[r.name]}})) for r in records()]
    assert {combined(list(order)).deeplinks_allowed for order in permutations(programs)} == {True}
    assert combined([p for p in programs if p.deeplinks_allowed is False]).deeplinks_allowed is False


def test_a_run_older_than_the_complete_run_indexed_is_left_out_counting_its_records_in_words(tmp_path):
    """(It said "1 records of connection c".)"""
    rt = api_runtime(tmp_path)
    index_batch(rt, stored(rt, later(offers(), 1)), complete_run_of="c")
    report = index_batch(rt, stored(rt, offers((US,))))  # an older run's event, retried late
    assert report.skipped.startswith("1 record of connection c, older than its complete run of "), report.skipped
