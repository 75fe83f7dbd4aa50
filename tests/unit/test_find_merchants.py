"""Merchants whose programs match a search (merchants.find_merchants, GET /merchants, the /merchants page)."""

import pytest

from affiliate_matrix import merchants
from affiliate_matrix.merchants import find_merchants
from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
from affiliate_matrix.search.sqlite import SqliteSearchIndex
from tests.support.factories import make_program


@pytest.fixture
def index(tmp_path):
    index = SqliteSearchIndex(tmp_path / "index.db")
    index.ensure_index(PROGRAMS_INDEX)
    return index


def fill(index, names: list[str]) -> None:
    programs = [make_program(name, f"https://{name.lower().replace(' ', '')}.com") for name in names]
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(p) for p in programs], refresh=True)


def test_the_start_of_a_name_finds_it_below_the_names_with_the_whole_word(index):
    """q=host found no Hostinger: merchant search matched whole words only."""
    fill(index, ["Hostinger", "HostGator", "Host Papa", "Shopify"])
    found = find_merchants(index, "host")
    names = [m["merchant"] for m in found["items"]]
    assert names[0] == "Host Papa" and sorted(names[1:]) == ["HostGator", "Hostinger"]
    assert found["more"] is False and found["cut"] is False


def test_every_matching_program_is_counted_not_only_the_first_hundred(index):
    """Only the first 100 programs found were read: a merchant whose programs all came after them was missing, and
    the counts of the others were short."""
    acme, zeta = make_program("Acme", "https://acme.com"), make_program("Zeta", "https://zeta.com")
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(acme.model_copy(update={"id": f"p_{i:016x}"}))
                                            for i in range(120)], refresh=True)
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(zeta.model_copy(update={"id": "p_ffffffffffffffff"}))],
                      refresh=True)
    found = find_merchants(index, None)  # without words, by program id: Acme's 120 first
    assert [(m["merchant_key"], m["programs"]) for m in found["items"]] == [("acme.com", 120), ("zeta.com", 1)]
    assert found["more"] is False and found["cut"] is False
    assert [(m["merchant_key"], m["programs"]) for m in find_merchants(index, None, limit=1)["items"]] == [
        ("acme.com", 120)]
    assert find_merchants(index, None, limit=1)["more"] is True


def test_the_answer_says_when_the_scan_bound_cut_it(index, monkeypatch):
    monkeypatch.setattr(merchants, "MAX_PAGE", 10)
    monkeypatch.setattr(merchants, "MERCHANT_SCAN", 50)
    acme, zeta = make_program("Acme", "https://acme.com"), make_program("Zeta", "https://zeta.com")
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(acme.model_copy(update={"id": f"p_{i:016x}"}))
                                            for i in range(120)], refresh=True)
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(zeta.model_copy(update={"id": "p_ffffffffffffffff"}))],
                      refresh=True)
    found = find_merchants(index, None)  # Acme's 120 first: the bound stops the scan before Zeta
    assert [(m["merchant_key"], m["programs"]) for m in found["items"]] == [("acme.com", 50)]
    assert found["cut"] is True and found["more"] is False
    fill(index, [f"Shop {i}" for i in range(7)])
    found = find_merchants(index, "shop", limit=3)  # seven merchants of one program each: nothing cut
    assert len(found["items"]) == 3 and found["more"] is True and found["cut"] is False
    assert all(m["programs"] == 1 for m in found["items"])


def test_two_accounts_of_one_network_that_disagree_are_flagged(index):
    """Two connections of one source (an Awin account and an agency's) are two rows of the comparison, each with its
    own terms, but the disagreements were keyed by source alone: one account's claim overwrote the other's, and
    accounts paid 10% and 12% showed no disagreement at all. A source with one connection is still named alone."""
    from affiliate_matrix.merchants import merchant_view

    program = make_program("Acme", "https://acme.com", commission_text="10% per sale", cookie_text="30 days")
    (claim,) = program.provenance["commission"]
    agency = claim.model_copy(update={"connection_id": "awin-agency", "value": [{**claim.value[0], "value_min": "12"}]})
    (cookie,) = program.provenance["cookie_days"]
    other = cookie.model_copy(update={"source": "cj", "connection_id": "cj", "value": 45})
    program = program.model_copy(update={"provenance": {**program.provenance, "commission": [claim, agency],
                                                        "cookie_days": [cookie, other]}})
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program)], refresh=True)
    view = merchant_view(index, "acme.com")
    assert [(row["source"], row["connection_id"]) for row in view["rows"]] == [("test", "c"), ("test", "awin-agency"),
                                                                              ("cj", "cj")]
    said = view["conflicts"][program.id]
    assert {name: value[0]["value_min"] for name, value in said["commission"].items()} == {
        "test (c)": "10", "test (awin-agency)": "12"}
    assert said["cookie_days"] == {"test": 30, "cj": 45}


def test_claims_one_figure_written_two_ways_are_no_conflict(index):
    """The conflicts compared each claim's JSON as stored: a figure stored as 130.0 by one source and "130" by
    another, or a term stored without its empty tiers, was a disagreement the user reads as none."""
    from affiliate_matrix.merchants import merchant_view

    program = make_program("Acme", "https://acme.com", commission_text="USD 65 to USD 130 per sale")
    (claim,) = program.provenance["commission"]
    written = {k: v for k, v in claim.value[0].items() if k != "tiers"} | {"value_min": 65.0, "value_max": "130.00"}
    other = claim.model_copy(update={"source": "cj", "connection_id": "cj", "value": [written]})
    lower = claim.model_copy(update={"source": "rakuten", "connection_id": "rakuten",
                                     "value": [{**claim.value[0], "value_max": "100"}]})
    program = program.model_copy(update={"provenance": {**program.provenance, "commission": [claim, other]}})
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program)], refresh=True)
    assert merchant_view(index, "acme.com")["conflicts"] == {}
    program.provenance["commission"].append(lower)
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program)], refresh=True)
    assert set(merchant_view(index, "acme.com")["conflicts"][program.id]["commission"]) == {"test", "cj", "rakuten"}


def untitled(program):
    """`program` as indexed before listings kept their network's title: none in its listing nor its claim."""
    (listing,) = program.networks
    (claim,) = program.provenance["networks"]
    return program.model_copy(update={
        "networks": [listing.model_copy(update={"title": None})],
        "provenance": {**program.provenance, "networks": [claim.model_copy(update={
            "value": [{**claim.value[0], "title": None}]})]}})


def test_merchants_name_each_network_as_people_read_it_beside_its_key(index):
    """The merchants list gave each merchant's networks by the index's key (maxbounty): beside it now, the name a
    person reads, a known network's proper name (CJ), another's as its source wrote it."""
    programs = [make_program("Keto Burn", "https://keto.com", network="MaxBounty"),
                make_program("Bluehost", "https://bluehost.com", network="cj"),
                make_program("Lone", "https://lone.com", network="nonameads")]
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(programs[0]), to_document(programs[1]),
                                            to_document(untitled(programs[2]))], refresh=True)
    found = {m["merchant_key"]: (m["networks"], m["network_titles"]) for m in find_merchants(index, None)["items"]}
    assert found == {"keto.com": (["maxbounty"], {"maxbounty": "MaxBounty"}), "bluehost.com": (["cj"], {"cj": "CJ"}),
                     "lone.com": (["nonameads"], {"nonameads": "nonameads"})}  # none titles it: its key


def test_a_merchants_row_whose_claim_has_no_title_is_named_as_the_index_titles_its_network(index):
    """A row names its network as its own claim wrote it; one claimed before titles were kept, as the program first
    seen titling that network holds it (program_index.network_titles_of), not by its key; with none titling it, by
    its key."""
    from datetime import timedelta

    from affiliate_matrix.merchants import merchant_view

    titled = make_program("Keto Burn", "https://keto.com", network="MaxBounty")
    bare = untitled(make_program("VPN Shield", "https://vpnshield.com", network="MaxBounty"))
    bare = bare.model_copy(update={"first_seen_at": titled.first_seen_at + timedelta(days=1)})
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(titled), to_document(bare)], refresh=True)
    assert [(row["network"], row["network_title"]) for row in merchant_view(index, "vpnshield.com")["rows"]] == [
        ("maxbounty", "MaxBounty")]
    index.delete(PROGRAMS_INDEX.name, titled.id, refresh=True)
    assert [(row["network"], row["network_title"]) for row in merchant_view(index, "vpnshield.com")["rows"]] == [
        ("maxbounty", "maxbounty")]


def test_a_network_whose_programs_came_after_another_networks_many_is_titled_still(index):
    """The titles' one search reads 5 programs a network, first seen first, across all of them: 12 MaxBounty programs
    first seen before ClickDealer's only one took every place, and ClickDealer was shown by its key. A network that
    search leaves untitled is asked for alone."""
    from datetime import timedelta

    from affiliate_matrix.program_index import network_titles_of

    first = make_program("Offer 0", "https://offer0.com", network="MaxBounty")
    many = [make_program(f"Offer {n}", f"https://offer{n}.com", network="MaxBounty").model_copy(
        update={"first_seen_at": first.first_seen_at + timedelta(hours=n)}) for n in range(12)]
    lone = make_program("Dealer", "https://dealer.com", network="ClickDealer").model_copy(
        update={"first_seen_at": first.first_seen_at + timedelta(days=2)})
    index.bulk_upsert(PROGRAMS_INDEX.name, [to_document(program) for program in [*many, lone]], refresh=True)
    assert network_titles_of(index, ["maxbounty", "clickdealer"]) == {"maxbounty": "MaxBounty",
                                                                      "clickdealer": "ClickDealer"}
