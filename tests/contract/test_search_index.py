"""One contract, two adapters: SQLite FTS5 and a real OpenSearch node.

Expected answers are computed by brute force in Python from the same generated documents,
so every assertion here can fail if an adapter filters, counts, sorts or pages wrongly.
"""

import uuid
from collections import Counter

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.errors import BackendUnavailable, ConfigError, InvalidInput, NotFoundError
from affiliate_matrix.runtime import open_search_index
from affiliate_matrix.search import Range, SearchQuery, SortKey
from tests.support.overloaded import OverloadedNode
from tests.support.things import BACKENDS, SPEC, docs, make_docs, open_index


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path):
    idx = open_index(request.param, tmp_path, request)
    idx.ensure_index(SPEC)
    return idx


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, tmp_path_factory):
    idx = open_index(request.param, tmp_path_factory.mktemp("search"), request)
    idx.ensure_index(SPEC)
    result = idx.bulk_upsert("things", docs(), refresh=True)
    assert result.errors == [] and result.indexed == len(docs())
    return idx


def all_pages(idx, query):
    seen, pages = [], 0
    while True:
        result = idx.search("things", query)
        seen += [h.id for h in result.hits]
        pages += 1
        if not result.next_cursor:
            return seen, pages, result.total
        query = query.replaced(cursor=result.next_cursor)


# -- lifecycle and writes ------------------------------------------------------------------

@pytest.mark.parametrize("doc_id", [".", ".."])
def test_a_document_whose_id_is_a_dot_segment_is_a_document_like_any_other(index, doc_id):
    """httpx drops a URL path's dot segments: on OpenSearch a GET of document '..' was a GET of the index (its
    settings, no _source: a KeyError, so a program.delta naming program '..' was a 500 at the triggers function), its
    DELETE a DELETE of the index, refused only for the refresh parameter it carried."""
    assert index.get("things", doc_id) is None
    assert index.delete("things", doc_id) is False
    assert index.bulk_upsert("things", [{**docs()[0], "id": doc_id}], refresh=True).errors == []
    assert index.get("things", doc_id)["id"] == doc_id
    assert index.delete("things", doc_id, refresh=True) is True
    assert index.get("things", doc_id) is None


def test_ensure_index_is_idempotent(index):
    assert index.ensure_index(SPEC) == index.ensure_index(SPEC)


def test_a_delete_with_refresh_is_gone_from_the_next_search(index):
    """The change feed drops a delta whose program could not be written: on OpenSearch the delete showed until the
    index's next refresh, so the feed listed a change that never happened."""
    index.bulk_upsert("things", docs()[:3], refresh=True)
    assert index.delete("things", "doc-00001", refresh=True) is True
    assert sorted(hit.id for hit in index.search("things", SearchQuery(size=10)).hits) == ["doc-00000", "doc-00002"]


def test_a_search_after_reading_the_generation_sees_every_write_the_generation_counts(index):
    """Answers and their ETags are cached by generation: one computed after reading it must hold what it stands for.
    OpenSearch's counted a write as the node took it, before a refresh showed it to searches (a second later, or at
    the writer's refresh), so an answer computed in between was cached under the new generation without the write,
    and served (a 304 to its ETag) until the next write."""
    index.bulk_upsert("things", docs()[:2], refresh=True)
    before = index.generation("things")
    index.bulk_upsert("things", docs()[2:3])  # not refreshed: on OpenSearch, not searchable yet
    now = index.generation("things")
    seen = index.search("things", SearchQuery(size=0)).total
    assert seen == 3 or now == before, (before, now, seen)
    index.refresh("things")
    assert index.generation("things") != before and index.search("things", SearchQuery(size=0)).total == 3


def test_an_embedded_index_made_again_at_its_path_does_not_repeat_a_generation(tmp_path):
    """A damaged index file is moved aside and rebuilt at the same path: its counts of writes started from 0 again,
    so its generations were the old file's, and ETags clients held and facet snapshots kept matched other documents."""
    def lived(network: str) -> set[str]:
        idx = open_index("sqlite", tmp_path, None)
        idx.ensure_index(SPEC)
        seen = set()
        for doc in docs()[:3]:
            idx.bulk_upsert("things", [{**doc, "network": network}], refresh=True)
            seen.add(idx.generation("things"))
        idx.db.close()
        return seen

    before = lived("awin")
    for path in tmp_path.rglob("*.sqlite*"):
        path.unlink()
    assert lived("cj").isdisjoint(before)


@pytest.mark.slow
def test_the_generation_does_not_repeat_when_the_index_s_shards_start_anew(request, tmp_path):
    """The generation counted the refreshes of the primary shard, a count the node keeps in memory: when the shard
    starts anew (a node restarted; here the index closed and opened, which starts its shards the same way) it counts
    from 0 again, so the generations after it repeated those before, over other documents, and answers kept from
    before were served for them."""
    idx = open_index("opensearch", tmp_path, request)
    idx.ensure_index(SPEC)

    def lived(network: str) -> set[str]:
        seen = set()
        for doc in docs()[:3]:
            idx.bulk_upsert("things", [{**doc, "network": network}], refresh=True)
            seen.add(idx.generation("things"))
        return seen

    before = lived("awin")
    physical = SPEC.physical(idx.prefix)
    idx.client.indices.close(index=physical)
    idx.client.indices.open(index=physical, wait_for_active_shards="all")
    assert lived("cj").isdisjoint(before)


@pytest.mark.slow
def test_an_index_and_its_migration_keep_the_copies_the_cluster_s_template_asks_for(request, tmp_path):
    """How many replicas an index has is its cluster operator's (terraform/opensearch.tf's template asks 1): the
    settings the code created every index with said 0, which overrode any template, so a production cluster kept no
    copy of the master index. (One node allocates no replica; the setting is what is read.)"""
    from affiliate_matrix.search import IndexSpec

    idx = open_index("opensearch", tmp_path, request)
    idx.client.indices.put_index_template(name=f"{idx.prefix}-copies", body={
        "index_patterns": [f"{idx.prefix}-*"], "priority": 50, "template": {"settings": {"number_of_replicas": 2}}})
    try:
        idx.ensure_index(SPEC)
        idx.migrate(IndexSpec(SPEC.name, SPEC.version + 1, SPEC.fields, SPEC.id_field))

        def replicas(version: int) -> str:
            physical = f"{idx.prefix}-{SPEC.name}-v{version}"
            return idx.client.indices.get_settings(index=physical)[physical]["settings"]["index"]["number_of_replicas"]

        assert (replicas(SPEC.version), replicas(SPEC.version + 1)) == ("2", "2")
    finally:
        idx.client.indices.delete_index_template(name=f"{idx.prefix}-copies")


@pytest.mark.slow
def test_a_search_of_an_index_given_a_replica_is_answered_by_the_copy_the_generation_counts(request, tmp_path):
    """An operator may give an index replicas (the Terraform index template asks for one). The generation counts the
    primary's refreshes; a search went to any copy, and a replica not refreshed yet answered without a write the
    generation counted, cached under it. A search now asks for the primary: the node takes that preference and
    answers it with the replica unallocated (one node holds no replica beside its primary, so the lagging replica
    itself is modelled in tests/unit/test_search_copies.py)."""
    idx = open_index("opensearch", tmp_path, request)
    idx.ensure_index(SPEC)
    idx.client.indices.put_settings(index=SPEC.physical(idx.prefix), body={"index": {"number_of_replicas": 1}})
    idx.bulk_upsert("things", docs()[:2], refresh=True)
    before = idx.generation("things")
    idx.bulk_upsert("things", docs()[2:3], refresh=True)
    now = idx.generation("things")
    result = idx.search("things", SearchQuery(size=10, facets=["network"]))
    assert now != before and [hit.id for hit in result.hits] == [doc["id"] for doc in docs()[:3]]
    assert dict(result.facets["network"]) == Counter(doc["network"] for doc in docs()[:3])


def test_upsert_get_delete(index):
    index.bulk_upsert("things", docs()[:3], refresh=True)
    assert index.get("things", "doc-00001") == docs()[1]
    changed = {**docs()[1], "network": "cj"}
    index.bulk_upsert("things", [changed], refresh=True)
    assert index.get("things", "doc-00001")["network"] == "cj"
    assert index.delete("things", "doc-00001") is True
    assert index.delete("things", "doc-00001") is False
    index.refresh("things")
    assert index.get("things", "doc-00001") is None
    assert index.search("things", SearchQuery(size=10)).total == 2


def test_get_many_gives_the_documents_that_exist_by_id(index):
    index.bulk_upsert("things", docs()[:3], refresh=True)
    found = index.get_many("things", ["doc-00002", "doc-00009", "doc-00000", "doc-00002"])
    assert found == {"doc-00000": docs()[0], "doc-00002": docs()[2]}
    assert index.get_many("things", []) == {}
    with pytest.raises(NotFoundError):
        index.get_many("nothings", ["doc-00000"])


def test_a_conditional_write_lands_only_on_documents_unchanged_since_read(index):
    """Two index runs at once each read a program, merged their claims into it and wrote it back: the one writing
    second wrote its merge of the old document, and the other's claims were gone. A conditional write refuses a
    document changed since read (a conflict, not an error), and writes the others of the batch."""
    index.bulk_upsert("things", docs()[:3], refresh=True)
    read = index.get_versioned("things", ["doc-00000", "doc-00001", "doc-00009"])
    assert {doc_id: versioned.doc for doc_id, versioned in read.items()} == {"doc-00000": docs()[0],
                                                                              "doc-00001": docs()[1]}
    index.bulk_upsert("things", [{**docs()[1], "network": "awin"}], refresh=True)  # another run's write
    result = index.write_if_unchanged("things", [({**docs()[0], "network": "cj"}, read["doc-00000"].version),
                                                 ({**docs()[1], "network": "cj"}, read["doc-00001"].version)],
                                      refresh=True)
    assert (result.indexed, result.errors, result.conflicts) == (1, [], ["doc-00001"])
    assert index.get("things", "doc-00000")["network"] == "cj"
    assert index.get("things", "doc-00001")["network"] == "awin"  # the other run's write stands
    again = index.get_versioned("things", ["doc-00001"])["doc-00001"]
    result = index.write_if_unchanged("things", [({**docs()[1], "network": "cj"}, again.version)], refresh=True)
    assert (result.indexed, result.conflicts) == (1, [])
    assert index.get("things", "doc-00001")["network"] == "cj"


def test_a_conditional_write_of_a_document_read_absent_only_creates_it(index):
    """A program two runs both found new: the second to write must not replace the first's."""
    index.write_if_unchanged("things", [(docs()[0], None)], refresh=True)
    result = index.write_if_unchanged("things", [({**docs()[0], "network": "cj"}, None), (docs()[1], None)],
                                      refresh=True)
    assert (result.indexed, result.errors, result.conflicts) == (1, [], ["doc-00000"])
    assert index.get("things", "doc-00000") == docs()[0] and index.get("things", "doc-00001") == docs()[1]


def test_a_document_deleted_since_read_is_a_conflict(index):
    index.bulk_upsert("things", docs()[:1], refresh=True)
    read = index.get_versioned("things", ["doc-00000"])["doc-00000"]
    index.delete("things", "doc-00000", refresh=True)
    result = index.write_if_unchanged("things", [(docs()[0], read.version)], refresh=True)
    assert (result.indexed, result.conflicts) == (0, ["doc-00000"])
    assert index.get("things", "doc-00000") is None


def test_same_batch_twice_gives_the_same_index(index):
    batch = docs()[:300]
    index.bulk_upsert("things", batch, refresh=True)
    first = index.search("things", SearchQuery(size=1000, facets=["network"]))
    index.bulk_upsert("things", batch, refresh=True)
    second = index.search("things", SearchQuery(size=1000, facets=["network"]))
    assert first.total == second.total == 300
    assert [h.doc for h in first.hits] == [h.doc for h in second.hits]
    assert first.facets == second.facets


def test_bad_documents_are_per_item_errors_and_the_rest_lands(index):
    batch = [docs()[0], {**docs()[1], "unknown_field": 1}, docs()[2], {"name": "no id"}]
    result = index.bulk_upsert("things", batch, refresh=True)
    assert result.indexed == 2
    failed = dict(result.errors)
    assert set(failed) == {"doc-00001", "None"}
    assert "unknown_field" in failed["doc-00001"]
    assert index.search("things", SearchQuery(size=10)).total == 2


# -- queries -------------------------------------------------------------------------------

def test_text_query_is_an_and_of_words_over_all_text_fields(loaded):
    expected = {d["id"] for d in docs() if {"alpha", "bravo"} <= set(f"{d['name']} {d['description']}".lower().split())}
    result = loaded.search("things", SearchQuery(text="ALPHA bravo", size=1000))
    assert {h.id for h in result.hits} == expected and result.total == len(expected)


BRANDS = {"b": "Booking.com Partners", "h": "Hotels.com", "a": "Amazon.de PartnerNet", "m": "Macy's",
          "d": "Dick’s Sporting Goods", "u": "foo_bar tools", "v": "3.5 stars"}


@pytest.mark.parametrize("q,expected", [
    ("booking", ["b"]), ("Booking.com", ["b"]), ("hotels", ["h"]), ("hotels.com", ["h"]), ("amazon", ["a"]),
    ("Amazon.de", ["a"]), ("macy", ["m"]), ("Macy's", ["m"]), ("dick", ["d"]), ("Dick’s sporting", ["d"]),
    ("Dick's", ["d"]), ("foo", ["u"]), ("foo_bar", ["u"]), ("bar", ["u"]), ("3.5", ["v"]), ("stars", ["v"])])
def test_a_name_joined_by_dots_apostrophes_or_underscores_is_found_by_its_words(index, q, expected):
    # OpenSearch's standard tokenizer kept "booking.com", "macy's" and "foo_bar" whole, where the SQLite index
    # and the query split them into words: on OpenSearch neither "booking" nor "Booking.com" found Booking.com
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in BRANDS.items()], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == expected

@pytest.mark.parametrize("q,expected", [("Hotels.com's", ["h"]), ("Booking.com’s partners", ["b"]),
                                        ("Macy's", ["m"]), ("amazon's", ["a"])])
def test_a_possessive_is_searched_as_its_name(index, q, expected):
    """"NordVPN's" found nothing: its "'s" was a word "s" every word must match, held only by names with an "s" of
    their own. A possessive is searched as the name."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in BRANDS.items()], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == expected


@pytest.mark.parametrize("q,expected", [("ben and jerry's", ["bj"]), ("Crate AND Barrel", ["cb"]),
                                        ("ben & jerry", ["bj"]), ("and", ["oo"]), ("odds and", ["oo"])])
def test_and_between_words_finds_a_name_written_with_an_ampersand(index, q, expected):
    """"ben and jerry's" found nothing: every word must match, and "Ben & Jerry's" holds no word "and" ("&" is none).
    Between two words "and" is searched as the "&" brands write; alone or at an end it is a word."""
    names = {"bj": "Ben & Jerry's", "cb": "Crate & Barrel", "oo": "Odds and Ends"}
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in names.items()], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == expected


@pytest.mark.parametrize("q,expected", [("nord vpn", ["n", "s"]), ("NORD VPN deals", ["n"]), ("1800 flowers", ["f"]),
                                        ("blue host reviews", ["b"]), ("Blue Hóst", ["b"]), ("nord stage", ["s"]),
                                        ("vpn nord", ["s"])])
def test_a_name_written_as_one_word_is_found_by_its_words_typed_apart(index, q, expected):
    """"nord vpn" found nothing: every word had to match a term of its own, and NordVPN is one. Two words side by side
    also match the term they make written together, exactly, on both indexes."""
    names = {"n": "NordVPN deals", "f": "Gifts at 1800flowers.com", "b": "Bluehost Reviews", "s": "Nord Stage VPN"}
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in names.items()], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == expected


@pytest.mark.parametrize("q", ["https://www.hotels.com/deals?ref=1", "hotels.com", "www.hotels.com",
                               "http://hotels.com:8080/", "HTTPS://WWW2.Hotels.com"])
def test_a_site_pasted_whole_is_searched_as_its_host(index, q):
    """A site pasted from a browser found nothing: "https", "www" and the path's words are in no name, and every word
    must match. Its host is what is searched, as typing the domain is."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in BRANDS.items()], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == ["h"]


WIDE = "\uff22\uff4f\uff4f\uff4b\uff49\uff4e\uff47"  # Ｂｏｏｋｉｎｇ


@pytest.mark.parametrize("q,expected", [("booking", ["wide", "narrow"]), (WIDE, ["wide", "narrow"]),
                                        ("hotels", ["wide"]), ("ｓｈｏｐ２４７", ["digits"]), ("shop247", ["digits"]),
                                        ("bookng", ["wide", "narrow"])])
def test_full_width_letters_and_digits_are_their_ascii_ones(index, q, expected):
    # OpenSearch's asciifolding folds full-width forms (U+FF10-FF5A) to ASCII; FTS5's unicode61 kept them as they
    # were, so on SQLite "booking" did not find "Ｂｏｏｋｉｎｇ" and "Ｂｏｏｋｉｎｇ" not "Booking"
    index.bulk_upsert("things", [{"id": "wide", "name": f"{WIDE}．ｃｏｍ Hotels"},
                                 {"id": "narrow", "name": "Booking"}, {"id": "digits", "name": "Ｓｈｏｐ２４７"}],
                      refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == sorted(expected)


FOLDED = {"ae": "Æther Labs", "oe": "Œuvre Ðesign", "o": "Øresund Bikes", "l": "Łódź Deals", "ss": "Straße Shop",
          "th": "Þór Ħotel", "fi": "ﬁnance Hub", "st": "ﬆar ſupply"}


@pytest.mark.parametrize("q,expected", [("aether", ["ae"]), ("Æther", ["ae"]), ("oeuvre design", ["oe"]),
                                        ("oresund", ["o"]), ("Øresund", ["o"]), ("lodz", ["l"]), ("strasse", ["ss"]),
                                        ("straße", ["ss"]), ("thor hotel", ["th"]), ("finance", ["fi"]),
                                        ("ﬁnance", ["fi"]), ("star supply", ["st"])])
def test_latin_letters_without_accents_are_folded_as_asciifolding_spells_them(index, q, expected):
    # OpenSearch's asciifolding spells æ, ø, ł, ß, œ, þ and the ligatures in ASCII; FTS5's unicode61 takes off
    # accents only, so on SQLite "oresund" did not find "Øresund", nor "finance" "ﬁnance"
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in FOLDED.items()], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == expected


def test_text_query_folds_case_and_accents(loaded):
    result = loaded.search("things", SearchQuery(text="cafe creme"))
    assert [h.id for h in result.hits] == ["doc-cafe"]


@pytest.mark.parametrize("q,expected", [("Cre\u0300me", ["doc-cafe"]), ("Mu\u0308nchen", ["muc"]),
                                        ("İstanbul", ["ist"]), ("I\u0307STANBUL", ["ist"])])
def test_a_decomposed_or_dotted_capital_word_is_found_as_its_composed_one(index, q, expected):
    # Words were split at every combining mark: "Crème" typed decomposed (e, U+0300: macOS file names, some input
    # methods) was "cre" and "me", and "İstanbul" lowercased by Python (i, U+0307) "i" and "stanbul", so neither
    # found anything on either index, which hold "creme" and "istanbul" (documents are NFC; both fold İ to i).
    index.bulk_upsert("things", [docs()[-1], {"id": "muc", "name": "München Reisen"},
                                 {"id": "ist", "name": "İstanbul Tours"}], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == expected


BOLD = "\U0001d407\U0001d428\U0001d42c\U0001d42d\U0001d422\U0001d427\U0001d420"  # 𝐇𝐨𝐬𝐭𝐢𝐧𝐠 (mathematical bold)
HALF_KANA = "\uff76\uff80\uff76\uff85"  # ｶﾀｶﾅ (half-width katakana)
TRAVEL = "\uff54\uff52\uff41\uff56\uff45\uff4c"  # ｔｒａｖｅｌ
COMPATIBLE = {"bold": f"{BOLD} Deals", "wide": "\uff48\uff4f\uff53\uff54\uff49\uff4e\uff47 Plus",  # ｈｏｓｔｉｎｇ
              "kana": f"{HALF_KANA} Shop", "sup": "Area m\u00b2 Tools", "lig": "\ufb01nance Hub",
              "marks": "Re\u0301sume\u0301 Writers"}


@pytest.mark.parametrize("q,expected", [
    ("hosting", ["bold", "wide"]), (BOLD, ["bold", "wide"]), ("hostng", ["bold", "wide"]), ("カタカナ", ["kana"]),
    (HALF_KANA, ["kana"]), ("m2", ["sup"]), ("finance", ["lig"]), ("\ufb01nance", ["lig"]),
    ("resume writers", ["marks"]), ("résumé", ["marks"]), ("Re\u0301sume\u0301", ["marks"]), ("resumee", ["marks"])])
def test_text_in_a_compatibility_form_is_found_by_its_plain_words_on_both_indexes(index, q, expected):
    """Both indexes search text in Unicode's compatibility form (NFKC), the document's and the query's alike: the
    embedded index kept "𝐇𝐨𝐬𝐭𝐢𝐧𝐠", half-width "ｶﾀｶﾅ" and "m²" as they came (OpenSearch's asciifolding spells "m²" as
    "m2", so the two answered differently), and OpenSearch split "résumé" written with combining accents (macOS, some
    CMSs) into "re" and "sume", which "resume" did not find."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in COMPATIBLE.items()], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == sorted(expected)


@pytest.mark.parametrize("q", ["hos", "\uff48\uff4f\uff53", "\U0001d421\U0001d428\U0001d42c"])
def test_the_start_of_a_word_in_a_compatibility_form_is_matched_as_its_plain_start(index, q):
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in COMPATIBLE.items()], refresh=True)
    hits = index.search("things", SearchQuery(text=q, prefix=True, size=10)).hits
    assert sorted(h.id for h in hits) == ["bold", "wide"]


def test_a_document_found_by_its_folded_words_reads_back_as_written(index):
    """Only what is searched is folded: the stored document, a hit's document and a keyword's facet value keep the
    text as the source wrote it (on OpenSearch the folded text is indexed beside the document, not in it)."""
    doc = {"id": "x", "name": f"{BOLD} {HALF_KANA}", "description": ["Re\u0301sume\u0301", "\ufb01nance"],
           "category": TRAVEL, "network": "cafe\u0301"}
    index.bulk_upsert("things", [doc, {"id": "y", "name": "other"}], refresh=True)
    result = index.search("things", SearchQuery(text="hosting カタカナ resume finance", facets=["category"]))
    assert [(h.id, h.doc) for h in result.hits] == [("x", doc)]
    assert result.facets["category"] == [(TRAVEL, 1)]
    assert index.get("things", "x") == doc and index.get_many("things", ["x"]) == {"x": doc}
    assert index.get_versioned("things", ["x"])["x"].doc == doc


@pytest.mark.parametrize("field,written,asked", [
    ("category", TRAVEL, "travel"), ("category", "travel", TRAVEL), ("network", "cafe\u0301", "caf\u00e9"),
    ("network", "caf\u00e9", "cafe\u0301")])
def test_a_keyword_filter_matches_the_value_exactly_as_written(index, field, written, asked):
    """A keyword is an identifier or a code the code writes (a network, a category, a merchant key already folded
    by resolve.folded_name), never folded: a value in another form is another value, on both indexes alike (see
    SearchQuery.filters)."""
    index.bulk_upsert("things", [{"id": "x", field: written}], refresh=True)
    assert index.search("things", SearchQuery(filters={field: [asked]})).total == 0
    assert [h.id for h in index.search("things", SearchQuery(filters={field: [written]})).hits] == ["x"]


def test_a_text_field_s_name_in_a_compatibility_form_sorts_as_its_plain_name(index):
    index.bulk_upsert("things", [{"id": "d", "name": "De\u0301lta"}, {"id": "b", "name": "Bravo"},
                                 {"id": "a", "name": "\U0001d400\U0001d425\U0001d429\U0001d421\U0001d41a"},  # 𝐀𝐥𝐩𝐡𝐚
                                 {"id": "c", "name": "\uff43\uff48\uff41\uff52\uff4c\uff49\uff45"}], refresh=True)
    hits = index.search("things", SearchQuery(sort=[SortKey(field="name")])).hits
    assert [h.id for h in hits] == ["a", "b", "c", "d"]


def test_a_document_saying_how_it_is_searched_is_refused(index):
    """The folded text OpenSearch searches is sent beside the document under opensearch.FOLDED: a document of its
    own under that name would be searched by what it says there, not by its text. Refused as any field not in the
    spec is, on both indexes."""
    from affiliate_matrix.search.opensearch import FOLDED

    result = index.bulk_upsert("things", [{"id": "x", "name": "plain", FOLDED: {"name": "hidden"}}], refresh=True)
    assert [doc_id for doc_id, _ in result.errors] == ["x"] and FOLDED in result.errors[0][1]
    assert index.search("things", SearchQuery(text="hidden")).total == 0 and index.get("things", "x") is None


def test_filters_and_ranges_match_brute_force(loaded):
    query = SearchQuery(filters={"network": ["awin", "cj"], "category": ["travel"], "active": [True]},
                        ranges={"commission": Range(gte=10, lte=40), "updated": Range(gte="2026-03-01T00:00:00Z")},
                        size=1000)
    expected = {d["id"] for d in docs() if d["network"] in ("awin", "cj") and "travel" in d["category"]
                and d["active"] and d["commission"] is not None and 10 <= d["commission"] <= 40
                and d["updated"] >= "2026-03-01"}
    result = loaded.search("things", query)
    assert result.total == len(expected) > 10
    assert {h.id for h in result.hits} == expected


def test_a_field_given_several_ranges_matches_any_of_them(loaded):
    """A flat minimum in two currencies is two ranges of one field (program_index.flat_minimum): a document falls in
    either; no range at all matches nothing."""
    spans = [Range(gte=5, lte=10), Range(gte=50), Range(lte=1)]
    ranges = {"commission": spans, "updated": [Range(lte="2026-06-15T12:00:00Z")]}
    result = loaded.search("things", SearchQuery(ranges=ranges, filters={"network": ["cj"]}, size=1000))
    expected = {d["id"] for d in docs() if d["network"] == "cj" and d["commission"] is not None
                and (5 <= d["commission"] <= 10 or d["commission"] >= 50 or d["commission"] <= 1)
                and d["updated"] <= "2026-06-15T12"}
    assert result.total == len(expected) > 10
    assert {h.id for h in result.hits} == expected
    assert loaded.search("things", SearchQuery(ranges={"commission": []})).total == 0


@pytest.mark.parametrize("field", ["ranges", "filters", "post_filters"])
def test_a_time_without_a_zone_is_refused_naming_the_field(index, field, in_tokyo):
    """SQLite read a time without a zone in the machine's zone, OpenSearch in UTC: the same search found other
    documents on each (here hours apart, in Tokyo). Neither guesses: the search is refused, saying a zone is needed."""
    index.bulk_upsert("things", [{"id": "a", "updated": "2026-06-01T00:00:00Z"}], refresh=True)
    value = {"ranges": Range(gte="2026-06-01T00:00:00"), "filters": ["2026-06-01T00:00:00"],
             "post_filters": ["2026-06-01T00:00:00"]}[field]
    with pytest.raises(InvalidInput, match=r"updated '2026-06-01T00:00:00' has no time zone: end it with Z"):
        index.search("things", SearchQuery(**{field: {"updated": value}}))
    with pytest.raises(InvalidInput, match=r"updated 'June 1st' is not an ISO 8601 date or time"):
        index.search("things", SearchQuery(ranges={"updated": Range(lte="June 1st")}))


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_whose_utc_instant_no_datetime_holds_is_refused_naming_the_field(index, value):
    """Valid in its own zone, in UTC the year 10000 or 0: astimezone's OverflowError was a 500 (GET /changes?since)."""
    index.bulk_upsert("things", [{"id": "a", "updated": "2026-06-01T00:00:00Z"}], refresh=True)
    with pytest.raises(InvalidInput, match=r"updated '.*' is outside the years 1 to 9999 in UTC"):
        index.search("things", SearchQuery(ranges={"updated": Range(gte=value)}))


def test_dates_a_search_compares_with_are_the_same_instants_on_both_indexes(index, in_tokyo):
    """A bare date is its midnight UTC (SQLite took the machine's midnight; OpenSearch took one as an upper bound for
    its last millisecond, so lte="2026-06-01" took in the whole day); a time with an offset is that instant."""
    at = {"eve": "2026-05-31T23:00:00Z", "midnight": "2026-06-01T00:00:00Z", "noon": "2026-06-01T12:00:00Z"}
    index.bulk_upsert("things", [{"id": i, "updated": when} for i, when in at.items()], refresh=True)

    def found(**ranges) -> list[str]:
        return sorted(h.id for h in index.search("things", SearchQuery(ranges={"updated": Range(**ranges)})).hits)

    assert found(gte="2026-06-01") == ["midnight", "noon"]
    assert found(lte="2026-06-01") == ["eve", "midnight"]
    assert found(gte="2026-06-01T02:00:00+02:00", lte="2026-06-01T13:00:00+01:00") == ["midnight", "noon"]
    hits = index.search("things", SearchQuery(filters={"updated": ["2026-06-01"]})).hits
    assert [h.id for h in hits] == ["midnight"]


def test_a_document_s_date_without_a_zone_is_read_in_utc_on_both_indexes(index, in_tokyo):
    """A document's date field is written by the code, never a caller: one without a zone (a budget day's bare date)
    was in the machine's zone on SQLite and in UTC on OpenSearch, whose mapping reads it so."""
    written = [{"id": "day", "updated": "2026-06-01"}, {"id": "naive", "updated": "2026-06-01T12:00"}]
    index.bulk_upsert("things", written, refresh=True)
    query = SearchQuery(ranges={"updated": Range(gte="2026-06-01T00:00:00Z", lte="2026-06-01T12:00:00Z")})
    assert sorted(h.id for h in index.search("things", query).hits) == ["day", "naive"]


@pytest.mark.parametrize("value", [1780315200, 1780315200000.0, "20260601", "1780315200", "2026-06-01 12:00:00Z",
                                   "2026-02-30", True, {"at": "2026-06-01"},
                                   "9999-12-31T23:59:59-14:00"])  # in UTC, the year 10000: an OverflowError before
def test_a_date_that_is_not_iso_8601_text_is_refused_naming_the_field_on_both_indexes(index, value):
    """SQLite read a number in a date field as seconds since 1970 and OpenSearch as milliseconds (1780315200 was June
    2026 on one and January 1970 on the other), and text of digits alone as a date and as milliseconds: a document
    holding one is refused by both, naming the field, and the rest of its batch is written. A search asking one is
    refused too."""
    result = index.bulk_upsert("things", [{"id": "bad", "updated": ["2026-06-01T00:00:00Z", value]},
                                          {"id": "good", "updated": "2026-06-01T12:00:00+02:00"}], refresh=True)
    assert result.indexed == 1 and [doc_id for doc_id, _ in result.errors] == ["bad"], result
    assert "field 'updated' is a date: ISO 8601 text" in result.errors[0][1]
    assert index.get("things", "bad") is None
    assert [h.id for h in index.search("things", SearchQuery(ranges={"updated": Range(lte="2026-06-01T10:00:00Z")})
                                       ).hits] == ["good"]
    if not isinstance(value, dict):
        with pytest.raises(InvalidInput, match=r"^updated "):
            index.search("things", SearchQuery(ranges={"updated": Range(gte=value)}))


def test_facets_count_under_filters(loaded):
    query = SearchQuery(filters={"network": ["impact"]}, facets=["category", "active"], size=0)
    matching = [d for d in docs() if d["network"] == "impact"]
    result = loaded.search("things", query)
    assert dict(result.facets["category"]) == dict(Counter(c for d in matching for c in d["category"]))
    assert dict(result.facets["active"]) == dict(Counter(d["active"] for d in matching))
    counts = [n for _, n in result.facets["category"]]
    assert counts == sorted(counts, reverse=True)


def test_post_filters_filter_the_hits_and_every_facet_but_their_own(loaded):
    """A search that lists open programs only counted its status facet over every status with a second search (a
    second request to OpenSearch). A post filter narrows the hits and the other facets, not its own field's facet,
    which counts what each value would find, in the same search."""
    query = SearchQuery(text="alpha", filters={"network": ["impact", "cj"]}, facets=["category", "active", "network"],
                        post_filters={"active": [True], "network": ["cj"]}, size=1000)
    worded = [d for d in docs() if "alpha" in f"{d['name']} {d['description']}".lower().split()
              and d["network"] in ("impact", "cj")]
    hits = [d for d in worded if d["active"] and d["network"] == "cj"]
    result = loaded.search("things", query)
    assert result.total == len(hits) > 10 and {h.id for h in result.hits} == {d["id"] for d in hits}
    assert dict(result.facets["category"]) == dict(Counter(c for d in hits for c in d["category"]))
    assert dict(result.facets["active"]) == dict(Counter(d["active"] for d in worded if d["network"] == "cj"))
    assert dict(result.facets["network"]) == dict(Counter(d["network"] for d in worded if d["active"]))
    paged, _, total = all_pages(loaded, query.replaced(size=7, sort=[SortKey(field="name")]))
    assert total == len(hits) and sorted(paged) == sorted(d["id"] for d in hits)  # each hit once
    with pytest.raises(InvalidInput, match="cannot filter on 'description'"):
        loaded.search("things", SearchQuery(post_filters={"description": ["alpha"]}))


def test_sort_by_number_desc_puts_missing_last_and_breaks_ties_by_id(loaded):
    result = loaded.search("things", SearchQuery(sort=[SortKey(field="commission", order="desc")], size=1000))
    expected = sorted(docs(), key=lambda d: (d["commission"] is None, -(d["commission"] or 0), d["id"]))[:1000]
    assert [h.id for h in result.hits] == [d["id"] for d in expected]


def test_programs_by_commission_compare_percentages_and_each_currency_only_among_themselves(index):
    """sort=commission ranked by the best percentage, then by the best flat amount as a bare number: $100 came after
    ¥5000 (about $33) and a 30% program's flat tie-break put $100 before €50 for being the larger number. Flat
    amounts are now compared within their currency only (currencies in code order: no exchange rates), after
    every percentage (a rate and an amount are never compared)."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, SORTS, to_document
    from tests.support.factories import make_program

    terms = {"pct30": "30% per sale", "pct30-usd100": "30% per sale or $100 per lead",
             "pct30-eur50": "30% per sale or €50 per lead", "pct5": "5% per sale", "usd100": "$100 per sale",
             "usd20": "$20 per sale", "jpy5000": "¥5000 per sale", "eur50": "€50 per sale", "none": None}
    batch = [to_document(make_program(name, f"https://{name}.com", commission_text=text))
             for name, text in terms.items()]
    documents = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []
    found = index.search("programs", SearchQuery(sort=SORTS["commission"], size=20))
    assert [documents[hit.id] for hit in found.hits] == [
        "pct30-eur50", "pct30-usd100", "pct30", "pct5", "eur50", "jpy5000", "usd100", "usd20", "none"]
    first = index.search("programs", SearchQuery(sort=SORTS["commission"], size=4))  # the cursor carries the order
    rest = index.search("programs", SearchQuery(sort=SORTS["commission"], size=20, cursor=first.next_cursor))
    assert [hit.id for hit in first.hits + rest.hits] == [hit.id for hit in found.hits]
    usd = index.search("programs", SearchQuery(sort=SORTS["commission"], size=20,
                                               filters={"commission_flat_currency": ["USD"]}))
    assert [documents[hit.id] for hit in usd.hits] == ["pct30-usd100", "usd100", "usd20"]


def test_programs_by_commission_in_a_currency_rank_by_their_highest_flat_term_in_it(index):
    """sort=commission&flat_currency=EUR ranked a program paying $10 or €80 by its first flat term's currency and
    amount, USD 10: after every program paying euros first, €20 among them. With flat currencies asked, a program's
    flat amount is its highest flat term in each of them (in code order), those with none in one ranked after."""
    from affiliate_matrix.handlers.program_params import SearchParams
    from affiliate_matrix.handlers.programs import query_of
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    terms = {"usd10-eur80": "$10 per sale or €80 per lead", "eur50": "€50 per sale",
             "eur20-usd500": "€20 per sale or $500 per lead", "pct10-eur5": "10% per sale or €5 per lead",
             "usd100": "$100 per sale", "jpy9000-usd1": "¥9000 per sale or $1 per lead", "pct20": "20% per sale"}
    batch = [to_document(make_program(name, f"https://{name}.com", commission_text=text))
             for name, text in terms.items()]
    names = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []

    def ranked(size=20, **params):
        query = query_of(SearchParams(sort="commission", **params)).replaced(size=size)
        found = index.search("programs", query)
        listed = [hit.id for hit in found.hits]
        while found.next_cursor:  # the cursor carries the order
            found = index.search("programs", query.replaced(cursor=found.next_cursor))
            listed += [hit.id for hit in found.hits]
        return [names[i] for i in listed]

    assert ranked(flat_currency=["EUR"]) == ["pct10-eur5", "usd10-eur80", "eur50", "eur20-usd500"]
    assert ranked(size=2, flat_currency=["EUR"]) == ["pct10-eur5", "usd10-eur80", "eur50", "eur20-usd500"]
    assert ranked(flat_currency=["USD"]) == ["eur20-usd500", "usd100", "usd10-eur80", "jpy9000-usd1"]
    # each currency apart, in code order: a program with none in the first ranks by the next
    assert ranked(size=3, flat_currency=["USD", "EUR"]) == [
        "pct10-eur5", "usd10-eur80", "eur50", "eur20-usd500", "usd100", "jpy9000-usd1"]
    with pytest.raises(InvalidInput, match="not a number field"):
        index.search("programs", SearchQuery(sort=[SortKey(field="status", within=Range(gte=1))]))


def test_a_program_paying_flat_amounts_in_several_currencies_is_found_by_each_and_bounded_in_one(index):
    """A program paying $50 and ¥5000 was indexed as JPY 5000 (the larger bare number): flat_currency=USD missed it,
    and min_commission_flat compared its 5000 with any currency's minimum. Its document lists every currency it pays
    flat amounts in (the filter and the facet), and a minimum (which needs flat_currency) compares every flat term in
    those currencies."""
    from affiliate_matrix.handlers.program_params import SearchParams
    from affiliate_matrix.handlers.programs import query_of
    from affiliate_matrix.program_index import FACETS, PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    terms = {"usd50-jpy5000": "$50 per sale or ¥5000 per lead", "jpy5000-usd50": "¥5000 per sale or $50 per lead",
             "usd20": "$20 per sale", "jpy900": "¥900 per sale", "pct10": "10% per sale"}
    batch = [to_document(make_program(name, f"https://{name}.com", commission_text=text))
             for name, text in terms.items()]
    names = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []

    def search(**params):
        query = query_of(SearchParams(**params)).replaced(size=20, facets=FACETS)
        result = index.search("programs", query)
        return sorted(names[hit.id] for hit in result.hits), dict(result.facets["commission_flat_currencies"])

    assert search() == (sorted(terms), {"JPY": 3, "USD": 3})
    assert search(flat_currency=["USD"])[0] == ["jpy5000-usd50", "usd20", "usd50-jpy5000"]
    assert search(flat_currency=["JPY"])[0] == ["jpy5000-usd50", "jpy900", "usd50-jpy5000"]
    # each flat term in its own currency: $50 per lead is the second term of jpy5000-usd50; never ¥5000 for $40
    assert search(flat_currency=["USD"], min_commission_flat=40)[0] == ["jpy5000-usd50", "usd50-jpy5000"]
    assert search(flat_currency=["USD"], min_commission_flat=60)[0] == []
    assert search(flat_currency=["JPY"], min_commission_flat=1000)[0] == ["jpy5000-usd50", "usd50-jpy5000"]
    assert search(flat_currency=["USD", "JPY"], min_commission_flat=40)[0] == [
        "jpy5000-usd50", "jpy900", "usd50-jpy5000"]
    with pytest.raises(InvalidInput, match="min_commission_flat needs flat_currency"):  # no exchange rates
        search(min_commission_flat=100)


def test_a_program_a_source_says_pays_in_a_currency_is_found_by_it_though_another_figure_is_shown(index):
    """A directory says €50, two say $55: the program shows $55 (the vote), and flat_currency=EUR did not find it, nor
    did the currency facet count it under EUR, though a source says it pays €50. The currency filter, its facet and
    min_commission_flat read every source's flat figure (the program's current claims); the figure shown stays the
    vote's."""
    from datetime import timedelta

    from affiliate_matrix.handlers.program_params import SearchParams
    from affiliate_matrix.handlers.programs import query_of
    from affiliate_matrix.merge import merge
    from affiliate_matrix.normalize import normalize
    from affiliate_matrix.program_index import FACETS, PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program, make_record

    def said(source, day, amount, currency):
        record = make_record("Shop", "https://shop.com", commission=[
            {"type": "flat", "value_min": amount, "currency": currency}])
        return normalize(record.model_copy(update={"source": source, "connection_id": source,
                                                   "fetched_at": record.fetched_at + timedelta(days=day)}))

    shop = merge(merge(said("dir_a", 0, 50, "EUR"), said("dir_b", 1, 55, "USD")), said("dir_c", 2, 55, "USD"))
    assert [(t.value_min, t.currency) for t in shop.commission] == [(55, "USD")]  # the vote's figure, shown
    batch = [to_document(shop), to_document(make_program("Other", "https://other.com", commission_text="$30 per sale"))]
    assert batch[0]["commission_flat_currency"] == "USD" and batch[0]["commission_flat_max"] == 55
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []

    def search(**params):
        query = query_of(SearchParams(**params)).replaced(size=20, facets=FACETS)
        result = index.search("programs", query)
        return sorted(hit.doc["name"] for hit in result.hits), dict(result.facets["commission_flat_currencies"])

    assert search() == (["Other", "Shop"], {"EUR": 1, "USD": 2})
    assert search(flat_currency=["EUR"]) == (["Shop"], {"EUR": 1, "USD": 1})
    assert search(flat_currency=["EUR"], min_commission_flat=40)[0] == ["Shop"]
    assert search(flat_currency=["EUR"], min_commission_flat=51)[0] == []  # €50 is EUR's figure, never the $55
    assert search(flat_currency=["USD"], min_commission_flat=40)[0] == ["Shop"]


def test_programs_by_epc_compare_earnings_per_click_within_their_currency_only(index):
    """sort=epc ranked epc_7d, an amount of money, as a bare number whatever its currency: ¥150 a click came before
    €2 and €2 before $1.50, and £0.80 after $0.90. EPCs are now ranked within their currency only (currencies in
    code order: no exchange rates), programs reporting none last."""
    from affiliate_matrix.models import Money
    from affiliate_matrix.program_index import PROGRAMS_INDEX, SORTS, to_document
    from tests.support.factories import make_program

    epcs = {"usd150": ("1.50", "USD"), "eur200": ("2.00", "EUR"), "gbp080": ("0.80", "GBP"),
            "jpy150": ("150", "JPY"), "usd090": ("0.90", "USD"), "none": None}
    batch = []
    for name, epc in epcs.items():
        program = make_program(name, f"https://{name}.com")
        program.epc_7d = Money(amount=epc[0], currency=epc[1]) if epc else None
        batch.append(to_document(program))
    documents = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []
    found = index.search("programs", SearchQuery(sort=SORTS["epc"], size=20))
    assert [documents[hit.id] for hit in found.hits] == ["eur200", "gbp080", "jpy150", "usd150", "usd090", "none"]
    first = index.search("programs", SearchQuery(sort=SORTS["epc"], size=2))  # the cursor carries the order
    rest = index.search("programs", SearchQuery(sort=SORTS["epc"], size=20, cursor=first.next_cursor))
    assert [hit.id for hit in first.hits + rest.hits] == [hit.id for hit in found.hits]


def test_earnings_per_click_are_filtered_by_currency_and_bounded_within_it(index):
    """"EPC at least 1.50 USD" could not be asked: there was no epc_currency filter nor any minimum of EPC. Now
    epc_currency filters, and min_epc asked with it compares only EPCs in a currency asked for (¥150 a click is
    never over a minimum meant in dollars); min_epc alone is refused, naming epc_currency."""
    from affiliate_matrix.handlers.program_params import SearchParams
    from affiliate_matrix.handlers.programs import query_of
    from affiliate_matrix.models import Money
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    epcs = {"usd150": ("1.50", "USD"), "usd090": ("0.90", "USD"), "jpy150": ("150", "JPY"),
            "eur200": ("2.00", "EUR"), "none": None}
    batch = []
    for name, epc in epcs.items():
        program = make_program(name, f"https://{name}.com")
        program.epc_7d = Money(amount=epc[0], currency=epc[1]) if epc else None
        batch.append(to_document(program))
    names = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []

    def search(**params):
        query = query_of(SearchParams(**params)).replaced(size=20)
        return [names[hit.id] for hit in index.search("programs", query).hits]

    assert sorted(search(epc_currency=["USD"])) == ["usd090", "usd150"]
    assert search(epc_currency=["USD"], sort="epc") == ["usd150", "usd090"]
    assert search(epc_currency=["USD"], min_epc=1.5) == ["usd150"]  # never ¥150
    assert search(epc_currency=["JPY"], min_epc=1.5) == ["jpy150"]
    assert search(epc_currency=["USD", "EUR"], min_epc=1.5, sort="epc") == ["eur200", "usd150"]
    with pytest.raises(InvalidInput, match="min_epc needs epc_currency"):  # €2.00 and ¥150 met it: no exchange rates
        search(min_epc=1.5, sort="epc")
    assert search(epc_currency=["GBP"]) == []


def test_average_payment_days_bound_and_deep_links_filter_and_count_programs_alike_on_both_indexes(index):
    """max_payment_days is a maximum: a program with no figure meets none (a range over a field it lacks), on both
    indexes; deeplinks= filters the word a program's deeplinks_allowed is indexed as, and its facet counts them."""
    from decimal import Decimal

    from affiliate_matrix.handlers.program_params import SearchParams
    from affiliate_matrix.handlers.programs import query_of
    from affiliate_matrix.program_index import PROGRAMS_INDEX, facets_asked, facets_of, to_document
    from tests.support.factories import make_program

    said = {"quick": (Decimal("20"), True), "month": (Decimal("30"), False), "slow": (Decimal("44.5"), None),
            "unsaid": (None, True), "silent": (None, None)}
    batch = []
    for name, (days, allowed) in said.items():
        program = make_program(name, f"https://{name}.com")
        program.average_payment_days, program.deeplinks_allowed = days, allowed
        batch.append(to_document(program))
    names = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []

    def search(**params):
        result = index.search("programs", query_of(SearchParams(**params)).replaced(size=20, **facets_asked()))
        return sorted(names[hit.id] for hit in result.hits), dict(facets_of(result.facets).get("deeplinks", []))

    assert search(max_payment_days=30) == (["month", "quick"], {"allowed": 1, "not_allowed": 1})
    assert search(max_payment_days=0)[0] == []
    assert search(max_payment_days=1000)[0] == ["month", "quick", "slow"]
    assert search(deeplinks=["allowed"]) == (["quick", "unsaid"], {"allowed": 2})
    assert search(deeplinks=["not_allowed"], max_payment_days=30)[0] == ["month"]
    assert search() == (sorted(said), {"allowed": 2, "not_allowed": 1})


def test_the_three_month_epc_is_filtered_bounded_sorted_and_counted_with_epc_window(index):
    """epc_currency, min_epc and sort=epc read the 7-day EPC only: an Awin programme (only a 3-month EPC) was never
    found nor ranked by EPC, and a CJ user could not ask for the steadier 3-month figure. epc_window=90d reads the
    3-month EPC in its own currency (a program's two EPCs may come from two sources), its currencies the facet's."""
    from affiliate_matrix.handlers.program_params import SearchParams
    from affiliate_matrix.handlers.programs import query_of
    from affiliate_matrix.models import Money
    from affiliate_matrix.program_index import PROGRAMS_INDEX, facets_asked, facets_of, to_document
    from tests.support.factories import make_program

    epcs = {"awin-gbp080": (None, ("0.80", "GBP")), "awin-gbp150": (None, ("1.50", "GBP")),
            "cj-usd": (("3.00", "USD"), ("1.20", "USD")), "cj-usd-low": (("0.50", "USD"), ("2.50", "USD")),
            "cj-usd-awin-eur": (("1.00", "USD"), ("2.00", "EUR")), "none": (None, None)}
    batch = []
    for name, (week, quarter) in epcs.items():
        program = make_program(name, f"https://{name}.com")
        program.epc_7d = Money(amount=week[0], currency=week[1]) if week else None
        program.epc_90d = Money(amount=quarter[0], currency=quarter[1]) if quarter else None
        batch.append(to_document(program))
    names = {document["id"]: document["name"] for document in batch}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", batch, refresh=True).errors == []

    def search(epc_window: str = "7d", **params):
        query = query_of(SearchParams(epc_window=epc_window, **params)).replaced(size=20, **facets_asked(epc_window))
        result = index.search("programs", query)
        return [names[hit.id] for hit in result.hits], dict(facets_of(result.facets, epc_window)["epc_currency"])

    assert search("90d", sort="epc") == (["cj-usd-awin-eur", "awin-gbp150", "awin-gbp080", "cj-usd-low", "cj-usd",
                                          "none"], {"GBP": 2, "USD": 2, "EUR": 1})
    unranked = sorted(["awin-gbp080", "awin-gbp150", "none"], key={name: id for id, name in names.items()}.get)
    assert search(sort="epc") == (["cj-usd", "cj-usd-awin-eur", "cj-usd-low", *unranked], {"USD": 3})  # none: by id
    assert search("90d", epc_currency=["GBP"], min_epc=1)[0] == ["awin-gbp150"]
    assert search("90d", epc_currency=["USD"], min_epc=2, sort="epc")[0] == ["cj-usd-low"]
    assert search("90d", epc_currency=["USD", "EUR"], min_epc=1.5, sort="epc")[0] == ["cj-usd-awin-eur", "cj-usd-low"]
    assert search(epc_currency=["USD"], min_epc=2, sort="epc")[0] == ["cj-usd"]
    assert search(epc_currency=["GBP"])[0] == []  # Awin's programmes have no 7-day EPC
    with pytest.raises(InvalidInput, match="min_epc needs epc_currency"):
        search("90d", min_epc=1.5)


def test_sort_by_text_field_is_case_insensitive(loaded):
    result = loaded.search("things", SearchQuery(sort=[SortKey(field="name")], size=50))
    expected = sorted(docs(), key=lambda d: (d["name"].lower(), d["id"]))[:50]
    assert [h.id for h in result.hits] == [d["id"] for d in expected]


def test_a_name_longer_than_a_whole_value_holds_sorts_after_the_others_on_both_indexes(index):
    """OpenSearch keeps no whole value (<field>.raw) for a text longer than 256 characters as Java counts them (UTF-16
    code units: an emoji is two), so such a name sorted after every other there, either way; the embedded index kept
    its first 256 characters and sorted it among the a's. Both now keep none, so it sorts last and never matches
    exactly (a name of 256 units still does, however long its folded form: "ﬃ" is "ffi")."""
    index.bulk_upsert("things", [{"id": "long", "name": "A" * 257}, {"id": "emoji", "name": "a" * 255 + "\U0001f600"},
                                 {"id": "edge", "name": "\ufb03" * 256}, {"id": "b", "name": "Bravo"},
                                 {"id": "c", "name": "Charlie"}], refresh=True)

    def ordered(order: str) -> list[str]:
        return [h.id for h in index.search("things", SearchQuery(sort=[SortKey(field="name", order=order)])).hits]

    assert ordered("asc") == ["b", "c", "edge", "emoji", "long"]
    assert ordered("desc") == ["edge", "c", "b", "emoji", "long"]
    for name, found in (("A" * 257, []), ("\ufb03" * 256, ["edge"]), ("ffi" * 100, [])):
        query = SearchQuery(text=name[:500], exact=["name"], size=1)
        best = index.search("things", query).hits
        assert [h.id for h in best if h.score >= 1000] == found, name[:10]


@pytest.mark.parametrize("sort", [[], [SortKey(field="cookie_days", order="desc"), SortKey(field="network")],
                                  [SortKey(field="commission")]])
def test_cursor_pages_return_every_hit_exactly_once(loaded, sort):
    query = SearchQuery(sort=sort, size=97)
    seen, pages, total = all_pages(loaded, query)
    assert total == len(docs()) >= 1000
    assert len(seen) == len(set(seen)) == len(docs())
    assert pages == -(-len(docs()) // 97)
    one_page = loaded.search("things", query.replaced(size=1000)).hits
    assert seen[:1000] == [h.id for h in one_page]


@pytest.mark.parametrize("sort", [[], [SortKey(field="name")]])
def test_a_last_cursor_page_that_is_full_names_no_page_after_it(index, sort):
    """A cursor page gave a next cursor whenever it was full and the total was larger than one page (the total counts
    the hits before the cursor too), so when the hits ended on a page's last row the next page was empty: the
    explorer's Next led nowhere. A cursor page now reads one hit more to know."""
    assert index.bulk_upsert("things", docs()[:6], refresh=True).errors == []
    # six by name, two a page; by relevance, the two matching "delta", one a page
    query = SearchQuery(sort=sort, size=2) if sort else SearchQuery(text="delta", size=1, paged=True)
    seen, pages, total = all_pages(index, query)
    assert total == (6 if sort else 2) and len(seen) == len(set(seen)) == total
    assert pages == total // query.size


def test_cursor_pages_with_text_and_relevance(loaded):
    query = SearchQuery(text="echo", size=25)
    seen, _, total = all_pages(loaded, query)
    assert len(seen) == len(set(seen)) == total > 25


def test_offset_pages_for_small_pages(loaded):
    first = loaded.search("things", SearchQuery(size=10, sort=[SortKey(field="name")]))
    second = loaded.search("things", SearchQuery(size=10, offset=10, sort=[SortKey(field="name")]))
    both = loaded.search("things", SearchQuery(size=20, sort=[SortKey(field="name")]))
    assert [h.id for h in first.hits + second.hits] == [h.id for h in both.hits]


@pytest.mark.parametrize("cursor", ["not-base64!!", "eyJhIjpbXX0", "e30"])
def test_malformed_cursor_is_invalid_input(loaded, cursor):
    with pytest.raises(InvalidInput, match="cursor"):
        loaded.search("things", SearchQuery(cursor=cursor))


def test_cursor_from_another_query_is_refused(loaded):
    cursor = loaded.search("things", SearchQuery(size=5)).next_cursor
    with pytest.raises(InvalidInput, match="different query"):
        loaded.search("things", SearchQuery(size=5, cursor=cursor, filters={"network": ["cj"]}))


@pytest.mark.parametrize("field,order", [("commission", "desc"), ("commission", "asc"), ("updated", "asc"),
                                         ("updated", "desc"), ("active", "asc")])
def test_a_cursor_holding_null_for_a_value_is_a_place_among_the_missing(loaded, field, order):
    # null is where a field's missing values sort (last): OpenSearch took it for a value and failed the search
    # with a 500 (a NullPointerException on the node) for every number, date and bool sort
    from affiliate_matrix.search import encode_cursor

    query = SearchQuery(sort=[SortKey(field=field, order=order)], size=1000)
    result = loaded.search("things", query.replaced(cursor=encode_cursor(query, [None, "doc-00500"])))
    assert [h.id for h in result.hits] == sorted(d["id"] for d in docs() if d[field] is None and d["id"] > "doc-00500")


@pytest.mark.parametrize("sort", [[], [SortKey(field="commission")]])
def test_a_cursor_holding_null_or_no_string_for_the_hits_id_is_malformed(loaded, sort):
    """`"a": [null]` for the default sort answered an empty page, as if past every hit: null is a field's missing value
    (above), but a cursor's last value is its hit's id, which every document has, so no page gives one so."""
    from affiliate_matrix.search import encode_cursor

    query = SearchQuery(sort=sort, size=5)
    given = loaded.search("things", query).next_cursor  # (a page's own cursor ends with its last hit's id)
    assert loaded.search("things", query.replaced(cursor=given)).hits
    for forged in ([None] * (len(sort) + 1), [*([None] * len(sort)), 5]):
        with pytest.raises(InvalidInput, match="cursor is malformed"):
            loaded.search("things", query.replaced(cursor=encode_cursor(query, forged)))


def test_a_cursor_holding_null_for_a_score_is_malformed(loaded):
    from affiliate_matrix.search import encode_cursor

    query = SearchQuery(text="echo", size=5)
    with pytest.raises(InvalidInput, match="cursor is malformed"):
        loaded.search("things", query.replaced(cursor=encode_cursor(query, [None, "doc-00500"])))


@pytest.mark.parametrize("backward", [False, True])
def test_a_cursor_holding_null_for_a_sort_within_a_range_is_read_or_malformed_not_a_node_error(loaded, backward):
    """OpenSearch ranks a hit with no value in the range by its script's number past every other, never null: a forged
    null (forward or backward) failed the search with a 500, said as the index unavailable. The embedded index reads it
    as its own cursors hold it."""
    from affiliate_matrix.search import encode_cursor

    query = SearchQuery(sort=[SortKey(field="commission", order="desc", within=Range(gte=10, lte=40))], size=5)
    forged = query.replaced(cursor=encode_cursor(query, [None, "doc-00500"], backward=backward))
    try:
        assert loaded.search("things", forged).total
    except InvalidInput as refused:
        assert "cursor is malformed" in str(refused)

@pytest.mark.parametrize("sort,filters", [
    ([], {}), ([SortKey(field="cookie_days", order="desc"), SortKey(field="network")], {}),
    ([SortKey(field="commission")], {}), ([SortKey(field="commission", order="desc")], {"network": ["cj"]}),
    ([SortKey(field="category", order="desc"), SortKey(field="updated")], {}),  # of several values; then a date
    ([SortKey(field="name", order="desc")], {"category": ["pets"]}),
    ([SortKey(field="active", order="desc"), SortKey(field="updated", order="desc")], {}),
    ([SortKey(field="commission", order="desc", within=Range(gte=10, lte=40))], {})])
def test_previous_cursors_page_back_from_the_last_page_to_the_first_each_page_as_it_was(loaded, sort, filters):
    """A page's previous_cursor reads the page before it (backwards from its first hit, then turned round): from the
    last page back to the first, every page holds exactly the hits it held paged forward, missing values, fields of
    several values and a sort within a range too; the first page has none, and each page's next_cursor pages on."""
    query = SearchQuery(sort=sort, filters=filters, size=97)
    forward = [loaded.search("things", query)]
    while forward[-1].next_cursor:
        forward.append(loaded.search("things", query.replaced(cursor=forward[-1].next_cursor)))
    assert len(forward) > 2 and forward[0].previous_cursor is None
    page = forward[-1]
    for before in reversed(forward[:-1]):
        following = page
        page = loaded.search("things", query.replaced(cursor=page.previous_cursor))
        assert [h.id for h in page.hits] == [h.id for h in before.hits] and page.total == before.total
        again = loaded.search("things", query.replaced(cursor=page.next_cursor))
        assert [h.id for h in again.hits] == [h.id for h in following.hits]
    assert page.previous_cursor is None


def test_a_previous_cursor_reaches_the_changes_written_since_the_first_page(index):
    """Paging back from deep in a feed newest first, changes written since it was paged forward come before its first
    page: Previous goes on to them, and only the page holding the newest has none."""
    index.bulk_upsert("things", docs()[:9], refresh=True)
    query = SearchQuery(sort=[SortKey(field="id", order="desc")], size=3)
    second = index.search("things", query.replaced(cursor=index.search("things", query).next_cursor))
    index.bulk_upsert("things", [{**docs()[0], "id": "doc-99999"}], refresh=True)
    first = index.search("things", query.replaced(cursor=second.previous_cursor))
    assert [h.id for h in first.hits] == ["doc-00008", "doc-00007", "doc-00006"]
    newest = index.search("things", query.replaced(cursor=first.previous_cursor))
    assert [h.id for h in newest.hits] == ["doc-99999"] and newest.previous_cursor is None


def test_a_backward_cursor_of_a_relevance_sort_is_malformed(loaded):
    """A relevance sort's pages are a view's, paged forward: it gives no previous_cursor, and one forged is refused."""
    from affiliate_matrix.search import encode_cursor

    query = SearchQuery(text="echo", size=5, paged=True)
    second = loaded.search("things", query.replaced(cursor=loaded.search("things", query).next_cursor))
    assert second.previous_cursor is None
    with pytest.raises(InvalidInput, match="cursor is malformed"):
        loaded.search("things", query.replaced(cursor=encode_cursor(query, [1.0, "doc-00500"], backward=True)))


@pytest.mark.parametrize("q", ['") OR 1=1 --', 'name:* OR "', "alpha' ; DROP TABLE x", "NEAR(alpha bravo)", "*"])
def test_hostile_text_is_only_words(loaded, q):
    if not any(c.isalnum() for c in q):
        with pytest.raises(InvalidInput, match="no searchable words"):
            loaded.search("things", SearchQuery(text=q))
        return
    result = loaded.search("things", SearchQuery(text=q, size=5))
    assert result.total >= 0


def test_text_of_more_words_than_a_search_takes_is_refused_naming_the_limit(loaded):
    """Words after the 20th were dropped without a word: a long query matched on its first 20 only. It is refused,
    naming the limit; 20 words are searched as before."""
    from affiliate_matrix.search import MAX_WORDS

    first = " ".join(["echo"] * MAX_WORDS)
    assert loaded.search("things", SearchQuery(text=first, size=5)).total >= 0
    with pytest.raises(InvalidInput, match=rf"has {MAX_WORDS + 1} words; a search takes at most {MAX_WORDS}"):
        loaded.search("things", SearchQuery(text=first + " zzzunmatched"))


def test_a_field_the_index_lacks_is_the_index_behind_the_code_naming_the_migration(loaded):
    """Callers name fields from the code, so an index lacking one is an index not migrated yet: before, a 400
    (the caller's fault) for every search of a programs index one version behind, until `amx index migrate`."""
    with pytest.raises(ConfigError, match=r"things \(v1\) has no field 'nope', 'zz': .*run `amx index migrate things`"):
        loaded.search("things", SearchQuery(filters={"nope": ["x"]}, sort=[SortKey(field="zz")], facets=["yy"]))


def test_a_facet_the_index_lacks_is_left_out_and_the_rest_answered(loaded):
    """A count changes no hit: a facet of a field a later version adds (programs v21's deeplinks, which every search
    of the programs counts) is left out of the answer until the migration, not the whole search refused with it."""
    asked = SearchQuery(filters={"network": ["awin"]}, facets=["network"], size=100)
    answered = loaded.search("things", asked.replaced(facets=["network", "not_yet"]))
    plain = loaded.search("things", asked)
    assert answered.total == plain.total > 0 and [h.id for h in answered.hits] == [h.id for h in plain.hits]
    assert answered.facets == plain.facets and "not_yet" not in answered.facets


@pytest.mark.parametrize("query,problem", [
    (SearchQuery(filters={"name": ["x"]}), "cannot filter on 'name'"),
    (SearchQuery(facets=["commission"]), "cannot facet on 'commission'"),
    (SearchQuery(sort=[SortKey(field="payload")]), "cannot sort on 'payload'"),
    (SearchQuery(ranges={"network": Range(gte=1)}), "cannot range-filter on 'network'"),
    (SearchQuery(text="golf", exact=["network"]), "cannot match 'network' exactly"),
])
def test_unknown_or_unfit_fields_are_named(loaded, query, problem):
    with pytest.raises(InvalidInput, match=problem):
        loaded.search("things", query)


def test_unreachable_opensearch_fails_naming_the_setting():
    idx = open_search_index(Settings(search="opensearch", opensearch_url="http://127.0.0.1:9"))
    with pytest.raises(ConfigError, match="AMX_OPENSEARCH_URL"):
        idx.check()


def test_unreachable_opensearch_is_a_config_error_worth_retrying():
    """Nothing listens at the address: a wrong address or a node not up yet. A ConfigError (at start the function
    exits naming the setting), with a retry_after, since a node that is starting will answer (the HTTP layer's
    Retry-After when a request is the first to use the index)."""
    idx = open_search_index(Settings(search="opensearch", opensearch_url="http://127.0.0.1:9"))
    with pytest.raises(ConfigError) as caught:
        idx.check()
    assert caught.value.retry_after and caught.value.retry_after > 0


@pytest.mark.parametrize("status,how", [(429, "overloaded"), (503, "unavailable"), (502, "unavailable")])
def test_an_opensearch_overloaded_at_start_is_unavailable_not_misconfigured(status, how):
    """The node answers its first call (GET /, the check a function's start makes) with a 429 or a 5xx: overloaded
    or not ready, which passes. BackendUnavailable (retry), not ConfigError (a function exits at start on it, and
    Knative crash-loops it over an overload); its words hold neither the node's address nor its credentials."""
    node = OverloadedNode(status, at_start=True)
    try:
        idx = open_search_index(Settings(search="opensearch", opensearch_url=node.url("amx:hunter2@")))
        with pytest.raises(BackendUnavailable) as caught:
            idx.check()
    finally:
        node.stop()
    error = caught.value
    assert f"is {how} (it answered HTTP {status})" in error.cause and error.retry_after > 0
    port = str(node.server.server_address[1])
    assert not any(secret in text for secret in ("hunter2", "amx:", port) for text in (error.cause, str(error)))


@pytest.mark.parametrize("status", [401, 403, 404])
def test_an_opensearch_refusing_the_credentials_or_the_address_at_start_is_misconfigured(status):
    """Refused credentials (401, 403) or no node at that path (404): only a change of setting helps, so a
    ConfigError naming the setting, with no retry_after."""
    node = OverloadedNode(status, at_start=True)
    try:
        idx = open_search_index(Settings(search="opensearch", opensearch_url=node.url("amx:hunter2@")))
        with pytest.raises(ConfigError, match=f"AMX_OPENSEARCH_URL.*answered {status}") as caught:
            idx.check()
    finally:
        node.stop()
    assert caught.value.retry_after is None and "hunter2" not in str(caught.value)


@pytest.mark.parametrize("status,how", [(429, "overloaded"), (503, "unavailable"), (502, "unavailable")])
def test_an_overloaded_opensearch_is_unavailable_naming_the_cause_not_its_url(status, how):
    """A node answering 429 (its queues full) or a 5xx: a retriable BackendUnavailable (the HTTP layer's 503 with
    Retry-After) saying so, whose words hold neither the node's address nor the credentials in its URL."""
    node = OverloadedNode(status)
    try:
        idx = open_search_index(Settings(search="opensearch", opensearch_url=node.url("amx:hunter2@")))
        idx.check()  # GET / answers as a node does
        for call in (lambda: idx.search("things", SearchQuery(text="alpha")), lambda: idx.generation("things"),
                     lambda: idx.get("things", "doc-00001")):
            with pytest.raises(BackendUnavailable) as caught:
                call()
            error = caught.value
            assert f"is {how} (it answered HTTP {status})" in error.cause and error.retry_after > 0
            port = str(node.server.server_address[1])
            assert not any(secret in text for secret in ("hunter2", "amx:", port) for text in (error.cause, str(error)))
    finally:
        node.stop()


@pytest.mark.parametrize("status", [503, None])
def test_a_bulk_write_the_node_does_not_take_is_unavailable_not_each_documents_failure(monkeypatch, status):
    """A node answering a bulk write 5xx, or not at all, failed every document of it as if each were refused (a
    mapping error): the index run recorded them all as the batch's errors and acknowledged its event, so nothing was
    written and nothing redelivered. The node's failure is BackendUnavailable, retried, as the write block's is."""
    node = OverloadedNode(status or 503)
    url = node.url("amx:hunter2@")
    if status is None:
        node.stop()  # nothing answers there any more
    try:
        idx = open_search_index(Settings(search="opensearch", opensearch_url=url))
        monkeypatch.setattr(idx, "_spec", lambda name: SPEC)  # read before the node failed
        with pytest.raises(BackendUnavailable) as caught:
            idx.bulk_upsert("things", docs()[:3])
    finally:
        if status is not None:
            node.stop()
    assert ("answered HTTP 503" if status else "unreachable") in caught.value.cause and caught.value.retry_after > 0
    assert "hunter2" not in str(caught.value) + caught.value.cause
    assert status or "its address: AMX_OPENSEARCH_URL" in str(caught.value)  # the log line's words: the setting to check


def test_an_unreachable_opensearch_during_a_search_is_unavailable_naming_the_cause():
    idx = open_search_index(Settings(search="opensearch", opensearch_url="http://amx:hunter2@127.0.0.1:9"))
    with pytest.raises(BackendUnavailable) as caught:
        idx.search("things", SearchQuery())
    assert caught.value.cause == "the search index is unreachable" and caught.value.retry_after > 0
    assert "hunter2" not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    # what the log line says (request.backend_unavailable): the setting giving the address, as README's promises
    assert str(caught.value).endswith("the node is unreachable (ConnectionError; its address: AMX_OPENSEARCH_URL)")


@pytest.mark.slow
def test_a_search_no_shard_of_the_index_can_answer_is_unavailable(opensearch_node):
    """A real node's own 503: the index's only shard is not allocated (it may go to no node), so every shard of
    the search fails ('all shards failed'), which is retriable, not the caller's fault."""
    from opensearchpy import OpenSearch

    from affiliate_matrix.search.opensearch import index_body

    prefix = f"t{uuid.uuid4().hex[:10]}"
    client = OpenSearch(hosts=[opensearch_node.url])
    body = index_body(SPEC)
    body["settings"] = {**body["settings"], "index.routing.allocation.require._name": "no-such-node"}
    client.indices.create(index=SPEC.physical(prefix), body=body, wait_for_active_shards=0)
    client.indices.put_alias(index=SPEC.physical(prefix), name=f"{prefix}-things")
    idx = open_search_index(Settings(search="opensearch", opensearch_url=opensearch_node.url, index_prefix=prefix))
    with pytest.raises(BackendUnavailable) as caught:
        idx.search("things", SearchQuery(text="alpha"))
    assert caught.value.cause == "the search index is unavailable (it answered HTTP 503)"


@pytest.mark.slow
def test_an_index_the_functions_create_on_the_local_node_is_green(opensearch_node):
    """README's `./task opensearch` put no index template: on its one node every index the functions create (with no
    number_of_replicas: the cluster's template decides) kept a replica it could not place, yellow for good. Only the
    tests' launcher put a template asking none. The launcher itself puts it now, for both; the tests' node is its."""
    import httpx
    from opensearchpy import OpenSearch

    from affiliate_matrix.search.opensearch import index_body

    name = SPEC.physical(f"t{uuid.uuid4().hex[:10]}")
    client = OpenSearch(hosts=[opensearch_node.url])
    client.indices.create(index=name, body=index_body(SPEC))
    # at most 10 s for the node to allocate it: a yellow one is answered then (its replica has nowhere to go)
    health = httpx.get(f"{opensearch_node.url}/_cluster/health/{name}", timeout=30,
                       params={"wait_for_status": "green", "timeout": "10s"}).json()
    client.indices.delete(index=name)
    assert (health["status"], health["unassigned_shards"]) == ("green", 0), health


@pytest.mark.parametrize("q,expected", [("alpah", "alpha"), ("brovo", "bravo"), ("foxtrott", "foxtrot"),
                                        ("cafe creem", "doc-cafe")])
def test_a_one_typo_query_finds_the_word(loaded, q, expected):
    result = loaded.search("things", SearchQuery(text=q, size=1000))
    if expected.startswith("doc-"):
        assert [h.id for h in result.hits] == [expected]
    else:
        exact = loaded.search("things", SearchQuery(text=expected, size=1000))
        assert exact.total > 0 and {h.id for h in exact.hits} <= {h.id for h in result.hits}


@pytest.mark.parametrize("q", ["cafés", "crémes", "cafe crèmme", "Cafés Crémes"])
def test_a_typo_in_an_accented_word_is_allowed_as_in_its_plain_form(loaded, q):
    # the SQLite index looked for the typo's neighbours by the word as written, accents and all, among its
    # accent-free terms ("cafés" is 2 edits from "cafe"): OpenSearch folds the word first and found it
    assert [h.id for h in loaded.search("things", SearchQuery(text=q, size=1000)).hits] == ["doc-cafe"]


@pytest.mark.parametrize("q", ["한국어", "日本語", "Ærø", "straße"])
def test_a_word_without_accents_to_take_off_is_found_as_written(index, q):
    index.bulk_upsert("things", [{"id": "x", "name": f"{q} partners"}, {"id": "y", "name": "other"}], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text=q)).hits] == ["x"]


# Names in scripts whose words carry vowel signs, viramas and joiners between letters: each is one word, found by
# itself, by a typo where the word allows one, and by its start; a longer word beginning with its letters is another.
SCRIPTS = {"hi": "हिन्दी समाचार", "hindustan": "हिन्दुस्तान टाइम्स", "ta": "தமிழ் புத்தகங்கள்",
           "tn": "தமிழ்நாடு சுற்றுலா", "bn": "বাংলা খবর", "bd": "বাংলাদেশ ভ্রমণ", "th": "ภาษาไทย ออนไลน์",
           "vi": "Tiếng Việt Online",
           "fa": "کتاب\u200cفروشی آنلاین"}  # کتاب‌فروشی: "bookshop", its two parts joined by a ZWNJ


@pytest.mark.parametrize("q,expected", [
    ("हिन्दी", ["hi"]), ("हिन्दि", ["hi"]), ("हिन्दुस्तान", ["hindustan"]), ("தமிழ்", ["ta"]), ("தமிழ", ["ta"]),
    ("தமிழ்நாடு", ["tn"]), ("বাংলা", ["bn"]), ("বংলা", ["bn"]), ("বাংলাদেশ", ["bd"]), ("ภาษาไทย", ["th"]),
    ("ภาษาไท", ["th"]), ("tieng viet", ["vi"]), ("Tiếng Việt", ["vi"]), ("Tie\u0302\u0301ng Vie\u0323\u0302t", ["vi"]),
    ("Tieng Viet onlin", ["vi"]), ("کتابفروشی", ["fa"]), ("کتاب\u200cفروشی", ["fa"])])
def test_a_word_with_vowel_signs_viramas_or_joiners_is_one_word_on_both_indexes(index, q, expected):
    """A word's combining marks (Indic vowel signs and viramas, Thai and Vietnamese marks) belong to it, and a
    joiner written inside it (ZWNJ, ZWJ) neither splits it nor tells it from the word written without: both indexes
    cut "हिन्दी" at its vowel signs into "ह", "न" and "द", so "हिन्दी" found "हिन्दुस्तान" too, "বাংলা" every name with
    "ব" and "ল", and "کتابفروشی" nothing."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in SCRIPTS.items()], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == sorted(expected)


@pytest.mark.parametrize("q,expected", [("हिन्दुस्ता", ["hindustan"]), ("புத்தக", ["ta"]), ("ভ্রম", ["bd"])])
def test_the_start_of_a_word_with_marks_is_matched_with_its_marks(index, q, expected):
    """The start of a word keeps its marks as the indexed words do: a virama (ccc 9) was taken off as an accent, so
    "हिन्दुस्ता" began no indexed word."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in SCRIPTS.items()], refresh=True)
    hits = index.search("things", SearchQuery(text=q, prefix=True, size=10)).hits
    assert sorted(h.id for h in hits) == expected


# Names in scripts written without spaces between words: a run is searched as its pairs of characters (search.paired).
UNSPACED = {"rakuten": "楽天市場", "ichiba": "市場調査", "kana": "カタカナ通販", "th": "ภาษาไทย ออนไลน์",
            "kh": "ខ្មែរ", "lo": "ພາສາລາວ", "my": "မြန်မာ", "zh": "中国银行", "lone": "楽 天 partners",
            "apart": "楽天 の 市場", "cities": "京都 東京", "tokyo": "東京都庁"}


@pytest.mark.parametrize("q,expected", [
    ("楽天", ["apart", "rakuten"]), ("市場", ["apart", "ichiba", "rakuten"]), ("天市", ["rakuten"]),
    ("楽天市場", ["rakuten"]), ("楽天 市場", ["apart", "rakuten"]), ("市場楽天", []), ("調査", ["ichiba"]),
    ("ｶﾀｶﾅ", ["kana"]), ("通販", ["kana"]), ("ไทย", ["th"]), ("ภาษา", ["th"]), ("ภาษาไทย", ["th"]), ("ภาษาจีน", []),
    ("ខ្មែរ", ["kh"]), ("ລາວ", ["lo"]), ("မြန်မာ", ["my"]), ("银行", ["zh"]), ("中国", ["zh"]),
    ("partners", ["lone"]), ("天市場", ["rakuten"]), ("場調", ["ichiba"]), ("市場調", ["ichiba"]),
    ("天 市場", ["apart", "rakuten"]), ("中国银行 银", ["zh"]), ("東京都", ["tokyo"]), ("京都", ["cities", "tokyo"]),
    ("東京 京都", ["cities", "tokyo"])])
def test_a_part_of_a_word_of_a_script_without_spaces_finds_it_on_both_indexes(index, q, expected):
    """Thai, Lao, Khmer, Myanmar, Chinese and Japanese are written without spaces between words, and neither index
    can tell their words without a dictionary: each run was one word, found whole only, so "楽天" found no "楽天市場".
    A run is its overlapping pairs of characters on both indexes and in a query, a query's pairs found side by side
    in order, as the run was typed: "東京都" (Tokyo-to) asks for "東京" then "京都", and no longer finds "京都 東京" (Kyoto,
    Tokyo), which holds both apart (every pair was required, anywhere); "東京 京都", typed as two runs, does."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in UNSPACED.items()], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == expected


@pytest.mark.parametrize("q,expected", [
    ("楽", ["apart", "lone", "rakuten"]), ("天", ["apart", "lone", "rakuten"]), ("場", ["apart", "ichiba", "rakuten"]),
    ("査", ["ichiba"]), ("銀", []), ("银", ["zh"]), ("ナ", ["kana"]), ("ย", ["th"]), ("楽 市", ["apart", "rakuten"]),
    ("の partners", []), ("天 partners", ["lone"])])
def test_one_character_of_a_script_without_spaces_finds_every_run_holding_it(index, q, expected):
    """A character is a word in Chinese and often the start of one in Japanese: asked alone, it found only where it
    stood alone ("楽" found no "楽天市場", "場" no "市場調査"). Each character of a run begins a term (its last written
    after the pairs: search.paired), and one asked alone matches every term it begins, on both indexes."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in UNSPACED.items()], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == expected


@pytest.mark.parametrize("q,expected", [("ก", ["kai", "ko"]), ("ก่", ["kai"]), ("ไก่", ["kai"]), ("ไก", [])])
def test_a_thai_consonant_alone_finds_it_with_or_without_a_tone_mark_and_with_one_only_with_it(index, q, expected):
    """Decided, not a fault: one Thai consonant asked alone matches the terms it begins (search.lone), its marks among
    them, so "ก" finds "ไก่ย่าง" (ก with a tone mark) as "e" finds "é" (a tone mark, like an accent, is what a reader
    leaves out when unsure of it, and one consonant alone asks for a broad match anyway); asked with the mark it finds
    only the mark. A run of more than one character is matched as typed, marks and all: "ไก" is not "ไก่"."""
    index.bulk_upsert("things", [{"id": "kai", "name": "ไก่ย่าง"}, {"id": "ko", "name": "กาแฟ"}], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits) == expected


def test_a_name_pasted_with_a_zero_width_space_inside_finds_it_on_both_indexes(index):
    """A zero-width space was a break: "Book\u200bing" pasted from a page was "book" and "ing", which found no
    "Booking", and "ภาษา\u200bไทย" indexed was not found by "ภาษาไทย" (the pair across it was not held)."""
    index.bulk_upsert("things", [{"id": "booking", "name": "Booking"}, {"id": "th", "name": "ภาษา\u200bไทย"}],
                      refresh=True)
    assert [[h.id for h in index.search("things", SearchQuery(text=q)).hits]
            for q in ("Book\u200bing", "ภาษาไทย", "ภาษา\u200bไทย")] == [["booking"], ["th"], ["th"]]


def test_a_name_that_is_the_unspaced_text_ranks_above_names_holding_its_pairs(index):
    """A name equal to the text asked ranks first (the exact boost), above names holding the same pairs more often;
    so does a name that is the one character asked, and one where it stands alone above one where it is in a run."""
    index.bulk_upsert("things", [
        {"id": "whole", "name": "楽天", "description": "通販"},
        {"id": "part", "name": "楽天市場 楽天トラベル", "description": "楽天 楽天 楽天"},
        {"id": "one", "name": "楽"}, {"id": "alone", "name": "楽 store"}, {"id": "within", "name": "楽しい"}],
        refresh=True)
    hits = index.search("things", SearchQuery(text="楽天", exact=["name"], size=5)).hits
    assert [h.id for h in hits] == ["whole", "part"]
    hits = index.search("things", SearchQuery(text="楽", exact=["name"], size=10)).hits
    assert [h.id for h in hits][:2] == ["one", "alone"]
    assert sorted(h.id for h in hits[2:]) == ["part", "whole", "within"]


def test_a_run_is_found_as_typed_even_at_the_start_of_what_is_typed_next(index):
    """prefix (a page's search as it is typed) leaves a run as it is: its pairs side by side already find it inside
    a longer run, and one character every run holding it."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in UNSPACED.items()], refresh=True)
    found = {q: sorted(h.id for h in index.search("things", SearchQuery(text=q, prefix=True, size=10)).hits)
             for q in ("楽天市", "カタカ", "調", "partners 楽")}
    assert found == {"楽天市": ["rakuten"], "カタカ": ["kana"], "調": ["ichiba"], "partners 楽": ["lone"]}


def test_twenty_words_each_near_many_terms_are_answered(index):
    # every word's typo neighbours are a clause per text field: 20 words with 50 each passed OpenSearch's
    # 1,024 clauses, and the search failed with a 500 (too many nested clauses) that SQLite answered
    import random
    import string

    rng = random.Random(3)
    bases = ["".join(rng.choice("abcdefghij") for _ in range(8)) for _ in range(20)]
    near = {b[:i] + c + b[i + 1:] for b in bases for i in range(1, 8) for c in string.ascii_lowercase} - set(bases)
    near = sorted(near)
    batch = [{"id": f"n{i}", "name": " ".join(near[i:i + 10]), "description": " ".join(near[i:i + 10])}
             for i in range(0, len(near), 10)]
    index.bulk_upsert("things", [*batch, {"id": "all", "name": " ".join(bases)}], refresh=True)
    result = index.search("things", SearchQuery(text=" ".join(bases), size=5))
    assert [h.id for h in result.hits] == ["all"]

def test_short_words_must_match_exactly(loaded):
    assert loaded.search("things", SearchQuery(text="xy")).total == 0


def test_new_writes_are_found_by_typo_queries_too(index):
    index.bulk_upsert("things", docs()[:5], refresh=True)
    assert index.search("things", SearchQuery(text="zanzibar")).total == 0
    index.bulk_upsert("things", [{**docs()[0], "id": "doc-new", "name": "Zanzibar Tours"}], refresh=True)
    assert [h.id for h in index.search("things", SearchQuery(text="zanzibr")).hits] == ["doc-new"]


def test_delete_before_removes_exactly_the_old_documents(index):
    generated = make_docs(300, seed=11)
    index.bulk_upsert("things", generated, refresh=True)
    cutoff = "2026-06-30T00:00:00Z"
    old = {d["id"] for d in generated if d["updated"] <= cutoff}
    assert 0 < len(old) < len(generated)
    assert index.delete_before("things", "updated", cutoff, batch=50) == len(old)
    left = {hit.id for hit in index.search("things", SearchQuery(size=1000)).hits}
    assert left == {d["id"] for d in generated} - old
    assert index.delete_before("things", "updated", cutoff) == 0


def test_a_hit_whose_exact_field_is_the_text_ranks_first_and_pages_on(index):
    index.bulk_upsert("things", [
        {"id": "a", "name": "Golf Club Partners", "description": "golf golf golf for golf clubs"},
        {"id": "b", "name": "Golf Club", "description": "a club"},
        {"id": "c", "name": "Club", "description": "golf club golf club"}], refresh=True)
    query = SearchQuery(text=" golf  CLUB", exact=["name"], size=1)
    first = index.search("things", query)
    rest = index.search("things", query.replaced(cursor=first.next_cursor, size=5))
    assert [h.id for h in first.hits] == ["b"] and sorted(h.id for h in rest.hits) == ["a", "c"]
    assert [h.id for h in index.search("things", query.replaced(exact=[], size=5)).hits][0] != "b"


BOLD_NORDVPN = "\U0001d40d\U0001d428\U0001d42b\U0001d41d\U0001d415\U0001d40f\U0001d40d"  # 𝐍𝐨𝐫𝐝𝐕𝐏𝐍


@pytest.mark.parametrize("named,asked", [("Café", "cafe"), ("Cafe", "CAFÉ"), ("NordVPN", "ＮｏｒｄＶＰＮ"),
                                         ("Øresund Tours", "oresund tours"), ("ＢＯＯＫＩＮＧ", "booking"),
                                         (BOLD_NORDVPN, "nordvpn"),
                                         ("Cafe\u0301", "café")],
                         ids=["accent-named", "accent-asked", "full-width-asked", "latin-letter", "full-width-named",
                              "bold-named", "combining-named"])
def test_a_name_asked_without_its_accents_or_in_full_width_letters_still_ranks_first(index, named, asked):
    """A program named exactly as asked ranked first "case aside" only: q=cafe did not lift "Café" (nor full-width
    "ＮｏｒｄＶＰＮ" NordVPN), while the words matched them (folded). The exact field is folded as the words are."""
    index.bulk_upsert("things", [
        {"id": "a", "name": f"{named} Partners", "description": f"{asked} {asked} {asked} {named} {named}"},
        {"id": "b", "name": named, "description": "a program"},
        {"id": "c", "name": "Other", "description": f"{asked} {named} {asked} {named}"}], refresh=True)
    hits = index.search("things", SearchQuery(text=asked, exact=["name"], size=5)).hits
    assert [h.id for h in hits][:1] == ["b"], [h.id for h in hits]


STARTS = {"whole": "Web Host Pro", "gator": "HostGator", "hostinger": "Hostinger", "accent": "Höstel Partners",
          "ghost": "Ghost Blog", "shop": "Shopify", "words": "Web Hosting Deals"}


@pytest.mark.parametrize("q,expected", [
    ("host", ["whole", "accent", "gator", "hostinger", "words"]),
    ("HÖS", ["whole", "accent", "gator", "hostinger", "words"]),  # "host" one typo away: scored, so first
    ("web ho", ["whole", "words"]), ("web hosting", ["words"]), ("gat", []), ("shopx", []), ("h", [])])
def test_a_prefix_query_finds_words_by_their_start_below_whole_words(index, q, expected):
    """/merchants?q=host found no Hostinger: words matched whole only. With prefix, the last word matches the start of
    a word too; such a match scores nothing, so a hit with the word whole ranks first and the rest go by id."""
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in STARTS.items()], refresh=True)
    query = SearchQuery(text=q, prefix=True, size=10)
    assert [h.id for h in index.search("things", query).hits] == expected
    if q == "host":  # whole words only without it, and as the page's cursor pages on
        assert [h.id for h in index.search("things", SearchQuery(text=q, size=10)).hits] == ["whole"]
        first = index.search("things", query.replaced(size=2))
        rest = index.search("things", query.replaced(size=10, cursor=first.next_cursor))
        assert [h.id for h in first.hits + rest.hits] == expected


@pytest.mark.parametrize("q,expected", [("nord", ["n", "s"]), ("nord v", ["n"]), ("nord vp", ["n", "s"]),
                                        ("Nörd VP", ["n", "s"]),
                                        ("nord vpn", ["n", "s"]), ("nord st", ["s"]), ("vpn nord", ["s"])])
def test_the_last_two_words_of_a_prefix_query_written_together_begin_a_word(index, q, expected):
    """"nord" found NordVPN and "nord vpn" did, but "nord v" and "nord vp", typed between them, did not: "v" began no
    word (one letter begins none) and "vp" none of NordVPN's. Written together, the last two words begin a word too
    (scoring nothing)."""
    names = {"n": "NordVPN deals", "s": "Nord Stage VPN"}
    index.bulk_upsert("things", [{"id": k, "name": name} for k, name in names.items()], refresh=True)
    assert sorted(h.id for h in index.search("things", SearchQuery(text=q, prefix=True, size=10)).hits) == expected
    if q == "nord vp":  # whole words only without a prefix
        assert index.search("things", SearchQuery(text=q, size=10)).hits == []


def test_relevance_pages_with_a_write_between_them_return_every_match_once(index):
    """A relevance cursor is the last hit's score and id, and a score is the index's statistics of the moment (bm25:
    the documents there are, their average length): a write between two pages moved every score, so the hits ranked
    after the cursor here all rose above its score and were never shown (they may as well sink below it and be shown
    again). OpenSearch pages them in one point in time (PIT), the embedded index in the first page's ranking it keeps
    (search/views.py; README: `cursor`)."""
    query = hotels(index)
    first = index.search("things", query)
    moved(index)
    rest, _, _ = all_pages(index, query.replaced(cursor=first.next_cursor))
    assert [h.id for h in first.hits] + rest == HOTELS  # shorter names rank first


HOTELS = [f"h{i}" for i in range(6)]  # hotels()'s matches, best first


def hotels(index, size: int = 2) -> SearchQuery:
    """Six documents "hotel" finds, ranked by their names' length (h0 first), twenty it does not; the paged query."""
    index.bulk_upsert("things", [{"id": f"h{i}", "name": " ".join(["hotel"] + ["word"] * i), "network": "awin"}
                                 for i in range(6)] + [{"id": f"p{i}", "name": "plain"} for i in range(20)],
                      refresh=True)
    return SearchQuery(text="hotel", size=size, paged=True)


def moved(index, n: int = 50) -> None:
    """A write that moves every score: without a view, the hits after a cursor rise above its score (the test above)."""
    index.bulk_upsert("things", [{"id": f"x{i}", "name": "other words " * 10} for i in range(n)], refresh=True)


def viewed(index, query, cursor) -> str | None:
    """The view (a point in time on OpenSearch) a cursor pages in."""
    from affiliate_matrix.search import cursor_point

    return cursor_point(query.replaced(cursor=cursor))


def test_a_document_deleted_between_relevance_pages_is_left_out_on_the_embedded_index_and_the_rest_pages_once(index):
    """A write between pages moves every score, a delete too: the pages after it keep the first page's order, each
    hit once. The embedded index reads the documents there are now, so one deleted since is left out; OpenSearch's
    point in time still holds it (README: `cursor`)."""
    query = hotels(index)
    first = index.search("things", query)
    assert index.delete("things", "h3", refresh=True) is True
    moved(index)
    rest, _, _ = all_pages(index, query.replaced(cursor=first.next_cursor))
    kept = HOTELS if getattr(index, "client", None) else [i for i in HOTELS if i != "h3"]
    assert [h.id for h in first.hits] + rest == kept


def test_a_document_updated_between_relevance_pages_keeps_its_place_and_one_matching_no_more_is_left_out(index):
    """The embedded index shows a program updated since the first page as it is now, in the place the first page's
    ranking gave it, and leaves out one that no longer matches, as a deleted one; OpenSearch's point in time shows
    both as they were (README: `cursor`)."""
    query = hotels(index).replaced(filters={"network": ["awin"]})
    first = index.search("things", query)
    index.bulk_upsert("things", [{"id": "h3", "name": "hotel word word word", "network": "awin",
                                  "description": "updated"},
                                 {"id": "h4", "name": "hotel word word word word", "network": "cj"}], refresh=True)
    moved(index)
    pages = [first]
    while pages[-1].next_cursor:
        pages.append(index.search("things", query.replaced(cursor=pages[-1].next_cursor)))
    hits = {h.id: h.doc for page in pages for h in page.hits}
    assert [h.id for page in pages for h in page.hits] == list(hits)  # each once
    if getattr(index, "client", None):  # OpenSearch: the point in time's documents
        assert list(hits) == HOTELS and "description" not in hits["h3"] and hits["h4"]["network"] == "awin"
    else:
        assert list(hits) == [i for i in HOTELS if i != "h4"] and hits["h3"]["description"] == "updated"


def test_a_cursor_whose_view_is_gone_pages_the_live_index(index, monkeypatch):
    """A view dropped since its first page (the embedded index keeps the newest VIEWS_KEPT; OpenSearch a point in time
    POINT_KEEP_ALIVE past its last read) is not an error: the pages after it read the live index, as before there
    were views, and their cursors name none."""
    from affiliate_matrix.search import views

    monkeypatch.setattr(views, "VIEWS_KEPT", 2)
    query = hotels(index)
    first = index.search("things", query)
    point = viewed(index, query, first.next_cursor)
    assert point
    if getattr(index, "client", None):
        index.client.delete_pit(body={"pit_id": [point]})
    else:  # two views made since drop it
        for text in ("word", "hotel word"):
            made = SearchQuery(text=text, size=1, paged=True)
            assert viewed(index, made, index.search("things", made).next_cursor)
        assert index.db.execute("SELECT count(*) FROM amx_view WHERE view = ?", (point,)).fetchone() == (0,)
    second = index.search("things", query.replaced(cursor=first.next_cursor))
    assert [h.id for h in second.hits] == HOTELS[2:4] and viewed(index, query, second.next_cursor) is None
    assert second.view_gone and not first.view_gone  # said, so a person paging is told (the explorer's notice)
    rest = index.search("things", query.replaced(cursor=second.next_cursor))
    assert [h.id for h in rest.hits] == HOTELS[4:] and not rest.view_gone  # its cursor named no view to lose


def test_a_cursor_naming_a_view_that_is_none_or_another_query_s_is_the_live_index_or_refused(index):
    """A cursor is not signed (encode_cursor): one naming a view no search made pages the live index (as one dropped)
    when the name has the shape a view's has, is refused when not (on both backends), and one naming another query's view is refused on the embedded index, not answered with that query's hits (its
    filters left out); on OpenSearch a point in time is a view of the index only, in which this query is answered."""
    from affiliate_matrix.search import encode_cursor

    query = hotels(index)
    first = index.search("things", query)
    forged = encode_cursor(query, [first.hits[-1].score, first.hits[-1].id], "0" * 24)
    if getattr(index, "client", None):
        with pytest.raises(InvalidInput, match="cursor is malformed"):  # not the node's words
            index.search("things", query.replaced(cursor=forged))
    else:
        assert all_pages(index, query.replaced(cursor=forged))[0] == HOTELS[2:]
    # no view either backend could have made ('AAAA' the node reads as a point in time of no shard), refused alike
    for shape in ("abc", "0" * 23 + "g", "A" * 24, "0" * 25, "AAAA"):
        misshapen = encode_cursor(query, [first.hits[-1].score, first.hits[-1].id], shape)
        with pytest.raises(InvalidInput, match="cursor is malformed"):
            index.search("things", query.replaced(cursor=misshapen))
    other = query.replaced(filters={"id": ["h0", "h1", "h2", "h3", "p0"]})
    theirs = index.search("things", other.replaced(text="hotel word"))
    point = viewed(index, other.replaced(text="hotel word"), theirs.next_cursor)
    assert point
    stolen = encode_cursor(other, [first.hits[-1].score, first.hits[-1].id], point)
    if getattr(index, "client", None):
        assert all_pages(index, other.replaced(cursor=stolen))[0] == ["h2", "h3"]
    else:
        with pytest.raises(InvalidInput, match="cursor is malformed"):
            index.search("things", other.replaced(cursor=stolen))


def test_many_relevance_searches_paged_at_once_each_page_once_and_the_views_kept_are_bounded(index, monkeypatch):
    """Each paged relevance search whose first page has a next one holds a view until it is dropped: the embedded index
    keeps the newest VIEWS_KEPT (by the order they were made in), so the older ones' pages read the live index, and
    OpenSearch closes a point in time at its last page. Searches paged side by side across writes each show every hit
    once, those whose views are kept in their first page's order."""
    from affiliate_matrix.search import views

    monkeypatch.setattr(views, "VIEWS_KEPT", 3)
    query = hotels(index)
    firsts = [index.search("things", query) for _ in range(5)]
    points = [viewed(index, query, first.next_cursor) for first in firsts]
    assert all(points) and len(set(points)) == 5
    if not getattr(index, "client", None):
        assert index.db.execute("SELECT count(*) FROM amx_view").fetchone() == (3,)
    moved(index)
    cursors, seen = [first.next_cursor for first in firsts], [[h.id for h in first.hits] for first in firsts]
    while any(cursors):  # a page of each in turn, a write between the rounds
        for i, cursor in enumerate(cursors):
            if cursor:
                page = index.search("things", query.replaced(cursor=cursor))
                seen[i] += [h.id for h in page.hits]
                cursors[i] = page.next_cursor
        moved(index, 10)
    kept = range(5) if getattr(index, "client", None) else range(2, 5)
    assert [seen[i] for i in kept] == [HOTELS] * len(kept)
    assert all(len(ids) == len(set(ids)) for ids in seen)  # the live index's pages repeat none here either
    if getattr(index, "client", None):
        assert not set(points) & {pit["pit_id"] for pit in index.client.get_all_pits()["pits"]}


def test_a_relevance_sort_past_the_hits_its_view_keeps_pages_on_in_the_live_index(tmp_path, monkeypatch):
    """The embedded index keeps a view's first VIEW_DEPTH hits (as far as a search's offset reaches): the pages give
    those in its order across writes, and the page reaching past them is filled from the live index after the last
    (where a write between pages can skip or repeat hits, as without a view); the cursors after it name no view."""
    from affiliate_matrix.search import views

    monkeypatch.setattr(views, "VIEW_DEPTH", 4)
    index = open_index("sqlite", tmp_path, None)
    index.ensure_index(SPEC)
    query = hotels(index)
    first = index.search("things", query)
    moved(index)
    second = index.search("things", query.replaced(cursor=first.next_cursor))
    assert [h.id for h in second.hits] == HOTELS[2:4] and viewed(index, query, second.next_cursor)
    third = index.search("things", query.replaced(cursor=second.next_cursor))  # the live index's, after h3's score
    assert viewed(index, query, third.next_cursor) is None

    first = index.search("things", query.replaced(size=3))  # a page reaching past the view: h3 from it, then live
    second = index.search("things", query.replaced(size=3, cursor=first.next_cursor))
    assert [h.id for h in first.hits + second.hits] == HOTELS
    assert viewed(index, query, second.next_cursor) is None


def test_a_relevance_first_page_while_another_write_holds_the_index_keeps_no_view_and_pages_the_live_index(
        tmp_path, monkeypatch):
    """Keeping a view is a write: while another holds the write lock (a migration holds it for its whole copy) the
    search waits VIEW_WAIT_MS for it, not the 30 s a write waits, and then answers with a cursor naming no view, whose
    pages read the live index; a write after it waits as long as before."""
    import sqlite3

    from affiliate_matrix.search import views

    monkeypatch.setattr(views, "VIEW_WAIT_MS", 1)
    index = open_index("sqlite", tmp_path, None)
    index.ensure_index(SPEC)
    query = hotels(index)
    holder = sqlite3.connect(index.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        first = index.search("things", query)
        assert [h.id for h in first.hits] == HOTELS[:2] and viewed(index, query, first.next_cursor) is None
        assert index.db.execute("PRAGMA busy_timeout").fetchone() == (index.BUSY_TIMEOUT_S * 1000,)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all_pages(index, query.replaced(cursor=first.next_cursor))[0] == HOTELS[2:]


def test_a_relevance_cursor_from_before_a_migration_pages_the_live_index(tmp_path):
    """A view is of one version's table: after a migration the alias names another, whose rows the view's ids may not
    be, so a cursor naming one pages the live index, as a dropped one (and does not fail on the table it named)."""
    from affiliate_matrix.search import IndexSpec

    index = open_index("sqlite", tmp_path, None)
    index.ensure_index(SPEC)
    query = hotels(index)
    first = index.search("things", query)
    assert viewed(index, query, first.next_cursor)
    index.migrate(IndexSpec("things", 2, {**SPEC.fields, "tags": "keyword"}))
    second = index.search("things", query.replaced(cursor=first.next_cursor))
    assert [h.id for h in second.hits] == HOTELS[2:4] and viewed(index, query, second.next_cursor) is None


@pytest.mark.slow
def test_a_relevance_point_in_time_gone_pages_the_live_index_and_one_of_another_index_is_refused(tmp_path, request):
    """A cursor read after its point in time is gone (POINT_KEEP_ALIVE past, a node restarted) pages the live index as
    before, not an error; the last page closes it (the node keeps at most 300), and a query that is not `paged` (a
    lookup reading one page: resolution's candidates, one per program synced) or whose first page is its last opens
    none; a cursor is not signed, so
    one naming a point in time of another index is refused by the hits it gives, not answered from that index."""
    from affiliate_matrix.search import cursor_point, encode_cursor

    index = open_index("opensearch", tmp_path, request)
    index.ensure_index(SPEC)
    index.bulk_upsert("things", [{"id": f"h{i}", "name": " ".join(["hotel"] + ["word"] * i)} for i in range(6)],
                      refresh=True)
    def points() -> set[str]:
        return {pit["pit_id"] for pit in index.client.get_all_pits()["pits"]}

    before = points()
    assert index.search("things", SearchQuery(text="hotel", size=2)).next_cursor and points() == before
    # a paged search read in one page opens none either: most searches are never paged (two requests more each)
    assert index.search("things", SearchQuery(text="hotel", size=10, paged=True)).next_cursor is None
    assert points() == before

    query = SearchQuery(text="hotel", size=2, paged=True)
    first = index.search("things", query)
    point = cursor_point(query.replaced(cursor=first.next_cursor))
    assert point and point in points()
    index.client.delete_pit(body={"pit_id": [point]})
    seen, _, _ = all_pages(index, query.replaced(cursor=first.next_cursor))
    assert [h.id for h in first.hits] + seen == [f"h{i}" for i in range(6)]

    first = index.search("things", query)
    opened = cursor_point(query.replaced(cursor=first.next_cursor))
    all_pages(index, query.replaced(cursor=first.next_cursor))
    assert opened and opened not in points()

    other = open_index("opensearch", tmp_path, request)  # an index prefix of its own
    other.ensure_index(SPEC)
    other.bulk_upsert("things", [{"id": "secret", "name": "hotel"}, {"id": "s2", "name": "hotel word"}], refresh=True)
    foreign = other.client.create_pit(index=other._alias("things"), params={"keep_alive": "1m"})["pit_id"]
    forged = encode_cursor(query, [100.0, "a"], foreign)
    with pytest.raises(InvalidInput, match="cursor is malformed"):
        index.search("things", query.replaced(cursor=forged))


HOSTING = {"bluehost": ("Bluehost", "https://bluehost.com", "Web hosting for WordPress sites"),
           "gator": ("HostGator", "https://hostgator.com", "Shared hosting and domains"),
           "fast": ("HostFast", "https://hostfast.io", "Hosting plans with a free domain"),
           "named": ("Hosting", "https://hosting.example", "A directory of plans"),
           "pro": ("Sitecraft", "https://sitecraft.example", "Build a site we host for you"),
           "shoes": ("Stride Co", "https://stride.example", "Running shoes and trainers for every season"),
           "books": ("Page Turner", "https://pageturner.example", "Books delivered weekly")}


@pytest.fixture
def hosting(index):
    """The programs index holding HOSTING, each with its source's category label (hosting; the shoes shop apparel, the
    site builder software)."""
    from affiliate_matrix.program_index import PROGRAMS_INDEX, to_document
    from tests.support.factories import make_program

    labels = {"shoes": ["clothing"], "books": ["books"], "pro": ["software"]}
    batch = {key: to_document(make_program(name, url, description=text, categories=labels.get(key, ["hosting"])))
             for key, (name, url, text) in HOSTING.items()}
    index.ensure_index(PROGRAMS_INDEX)
    assert index.bulk_upsert("programs", list(batch.values()), refresh=True).errors == []
    keys = {doc["id"]: key for key, doc in batch.items()}
    return lambda q: [keys[hit.id] for hit in index.search(
        "programs", SearchQuery(text=q, exact=["name", "merchant", "domain_words"], size=10)).hits]


def test_a_word_finds_the_programs_holding_a_word_of_its_stem(hosting):
    """"hosts" found none of Bluehost, HostGator and HostFast: their text says "hosting" and "host…", three edits
    away, past the typo allowance. The programs index holds its words' stems too (search.document_stems), the same
    on both indexes, and a word matches its stem there: "hosts" and "host" find every hosting program."""
    assert sorted(hosting("hosts")) == ["bluehost", "fast", "gator", "named", "pro"]
    assert sorted(hosting("shoe")) == sorted(hosting("shoes")) == ["shoes"]
    assert sorted(hosting("host")) == ["bluehost", "fast", "gator", "named", "pro"]
    assert hosting("hostels") == []  # its stem is "hostel": a stem is a word's, not any word's start


def test_a_word_matched_exactly_ranks_above_its_stem_and_a_name_asked_first(hosting):
    """A stem's match adds less than the word's own: the program named "Hosting" ranks first for "hosting" (its
    exact name), and those whose text holds "hosting" rank above the one holding only another word of its stem
    ("we host")."""
    found = hosting("hosting")
    assert found[0] == "named" and found[-1] == "pro" and sorted(found) == ["bluehost", "fast", "gator", "named", "pro"]


@pytest.mark.parametrize("q,expected", [("Schuhe", ["shoes"]), ("chaussures", ["shoes"]), ("zapatos", ["shoes"]),
                                        ("Hébergement", ["bluehost", "fast", "gator", "named"]),
                                        ("alojamiento", ["bluehost", "fast", "gator", "named"]),
                                        ("Bücher", ["books"]), ("Gepäck", [])])
def test_a_category_s_name_in_a_shopper_s_language_finds_its_programs(hosting, q, expected):
    """Category words were the taxonomy's keys alone (English): "Schuhe", "chaussures" and "Hébergement" found
    nothing, the programs' text being English. Each category's names in German, French, Spanish, Dutch, Portuguese
    and Italian (taxonomy.CATEGORY_NAMES) are searched with its key."""
    assert sorted(hosting(q)) == expected
