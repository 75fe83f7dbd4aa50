"""Which indexed program a new listing joins: the listings of a batch look up the index by their names' words and, in
one search for the whole batch, by their sites and network programs (program_index.match_keys), on each backend."""

import pytest
from structlog.testing import capture_logs

from affiliate_matrix import pipeline
from affiliate_matrix.normalize import normalize
from affiliate_matrix.program_index import PROGRAMS_INDEX
from affiliate_matrix.search import IndexSpec, SearchQuery
from tests.support.indexing import BACKENDS, Index, on_backend, record


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path, monkeypatch):
    on_backend(request, tmp_path, monkeypatch)
    return Index(tmp_path)


def test_a_listing_joins_the_program_holding_its_network_program_whatever_its_name(index):
    """'Acme DE' with Awin id 1234 looked up the index by 'acme de' alone, which 'Acme' lacks, so it became a program
    of its own though 'Acme' holds Awin id 1234: a network program id is decisive, as within one batch."""
    index.batch(record("netx", "Acme", "https://acme.com/", network="awin", network_program_id="1234",
                       commission_text="10% per sale"))
    index.batch(record("nety", "Acme DE", "https://acme.de/", network="awin", network_program_id="1234",
                       commission_text="10% per sale"))
    (program,) = index.programs()
    assert (program["merchant_key"], program["domains"]) == ("acme.com", ["acme.com", "acme.de"])
    assert {c["source"] for c in program["provenance"]["name"]} == {"netx", "nety"}


def test_a_listing_joins_the_program_holding_its_site_whatever_its_name(index):
    """A program holding acme.de among its domains (a network program tied it to acme.com) did not take a directory's
    'Acme Deutschland' at acme.de: its name's words did not find 'Acme', so acme.de became a second program."""
    index.batch(record("netx", "Acme", "https://acme.com/", network="awin", network_program_id="7"))
    index.batch(record("nety", "Acme", "https://acme.de/", network="awin", network_program_id="7"))
    index.batch(record("dirc", "Acme Deutschland", "https://www.acme.de/shop"))
    (program,) = index.programs()
    assert program["merchant_key"] == "acme.com"
    assert {c["source"] for c in program["provenance"]["name"]} == {"netx", "nety", "dirc"}


def test_a_batch_looks_up_its_sites_and_network_programs_in_one_search(index, monkeypatch):
    """Not one search per key or per listing: a batch's keys are one filter of one search (per MAX_PAGE keys)."""
    index.batch(*(record("netx", f"Shop {n}", f"https://shop{n}.com/", network="awin", network_program_id=str(n))
                  for n in range(6)))
    listings = [normalize(record("nety", f"Laden {n}", f"https://shop{n}.de/", network="awin",
                                 network_program_id=str(n), key=f"laden-{n}")) for n in range(6)]
    searches, search = [], index.rt.index.search
    monkeypatch.setattr(index.rt.index, "search", lambda name, query: searches.append(query) or search(name, query))
    resolved = pipeline.resolved(index.rt, listings)
    by_keys = [q for q in searches if "match_keys" in q.filters]
    assert len(by_keys) == 1 and len(by_keys[0].filters["match_keys"]) == 12  # 6 sites, 6 network programs
    assert len(searches) == len(listings) + 1  # each listing's name, and the batch's keys
    assert [p.merchant_key for p in resolved] == [f"shop{n}.com" for n in range(6)]


def test_an_index_not_migrated_to_the_keys_is_looked_up_by_names_meanwhile(index):
    """Until `amx index migrate programs`, the live index has no match_keys: indexing goes on by names, saying so."""
    old = IndexSpec(PROGRAMS_INDEX.name, PROGRAMS_INDEX.version - 1,
                    {f: kind for f, kind in PROGRAMS_INDEX.fields.items() if f != "match_keys"})
    index.rt.index.ensure_index(old)
    index.rt.index.bulk_upsert(PROGRAMS_INDEX.name, [{k: v for k, v in doc.items() if k != "match_keys"} for doc in [
        pipeline.to_document(normalize(record("netx", "Acme", "https://acme.com/")))]], refresh=True)
    with capture_logs() as logs:
        (program,) = pipeline.resolved(index.rt, [normalize(record("dira", "Acme", network="awin", network_program_id="9"))])
    assert program.merchant_key == "acme.com"  # found by its name's words
    (warning,) = [e for e in logs if e["event"] == "index.looked_up_by_name_only"]
    assert "match_keys" in warning["problem"] and "amx index migrate programs" in warning["problem"]


def test_a_network_program_id_too_long_to_be_a_key_is_kept_out_of_the_keys_alone(index):
    """OpenSearch refuses a keyword term over 32 KB, which would have refused the whole program: an id that long is no
    network's, so it is no key (program_index.MAX_MATCH_KEY), and the program is indexed with its site's key."""
    index.batch(record("netx", "Acme", "https://acme.com/", network="awin", network_program_id="9" * 40_000))
    (program,) = index.programs()
    (doc,) = index.rt.index.search(PROGRAMS_INDEX.name, SearchQuery(filters={"match_keys": ["d:acme.com"]})).hits
    assert doc.id == program["id"] and doc.doc["match_keys"] == ["d:acme.com"]
