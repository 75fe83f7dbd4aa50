"""The SQLite index's in-memory columns stay true to its tables through updates and deletes, from this
connection or another one on the same file, and its bm25 over postings is FTS5's own."""

import random
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.search import IndexSpec, Range, SearchQuery, SortKey, encode_cursor
from affiliate_matrix.search.rowsets import rows_of
from affiliate_matrix.search.fts import fts_clauses, fts_match, near
from affiliate_matrix.search.sqlite import SqliteSearchIndex

SPEC = IndexSpec("things", 1, {"id": "keyword", "name": "text", "category": "keyword", "rank": "number",
                               "active": "bool"})
WORDS = ["alpha", "bravo", "charlie", "delta", "echo"]
CATEGORIES = ["travel", "finance", "software", "pets"]


def make_docs(rng, n=300):
    return [{"id": f"d{i:04d}", "name": " ".join(rng.choices(WORDS, k=rng.randint(1, 4))),
             "category": rng.sample(CATEGORIES, rng.randint(1, 2)), "rank": rng.choice([None, *range(20)]),
             "active": rng.random() < 0.5} for i in range(n)]


def expected(docs, word, category):
    hits = [d for d in docs if word in d["name"].split() and category in d["category"]]
    facets = Counter(c for d in hits for c in d["category"])
    return len(hits), sorted(facets.items(), key=lambda kv: (-kv[1], kv[0])), Counter(d["active"] for d in hits)


def check(index, docs):
    for word in WORDS[:3]:
        for category in CATEGORIES[:2]:
            result = index.search("things", SearchQuery(text=word, filters={"category": [category]},
                                                        facets=["category", "active"], size=1000))
            total, facets, active = expected(docs, word, category)
            assert result.total == total
            assert result.facets["category"] == facets
            assert dict(result.facets["active"]) == {k: v for k, v in active.items() if v}
            assert {h.id for h in result.hits} == {d["id"] for d in docs
                                                   if word in d["name"].split() and category in d["category"]}


@pytest.fixture
def index(tmp_path):
    idx = SqliteSearchIndex(tmp_path / "search.sqlite3", prefix="t")
    idx.ensure_index(SPEC)
    return idx


def test_facets_follow_updates_and_deletes(index):
    rng = random.Random(11)
    docs = {d["id"]: d for d in make_docs(rng)}
    index.bulk_upsert("things", docs.values())
    check(index, list(docs.values()))  # the columns are now in memory
    for doc_id in rng.sample(sorted(docs), 60):  # new words and categories for some, others gone
        if rng.random() < 0.5:
            docs[doc_id] = {**docs[doc_id], "name": rng.choice(WORDS), "category": [rng.choice(CATEGORIES)]}
            index.bulk_upsert("things", [docs[doc_id]])
        else:
            assert index.delete("things", doc_id)
            del docs[doc_id]
    check(index, list(docs.values()))


def test_writes_through_another_connection_are_seen(index, tmp_path):
    rng = random.Random(12)
    docs = {d["id"]: d for d in make_docs(rng)}
    index.bulk_upsert("things", docs.values())
    check(index, list(docs.values()))
    other = SqliteSearchIndex(tmp_path / "search.sqlite3", prefix="t")  # as another process would
    gone = sorted(docs)[:40]
    for doc_id in gone:
        other.delete("things", doc_id)
        del docs[doc_id]
    added = make_docs(random.Random(13), n=350)[300:]
    other.bulk_upsert("things", added)
    docs.update({d["id"]: d for d in added})
    check(index, list(docs.values()))


def test_sort_after_update_uses_the_new_values(index):
    index.bulk_upsert("things", [{"id": "a", "name": "alpha", "rank": 1}, {"id": "b", "name": "alpha", "rank": 2}])
    by_rank = SearchQuery(text="alpha", sort=[SortKey(field="rank", order="desc")])
    assert [h.id for h in index.search("things", by_rank).hits] == ["b", "a"]
    index.bulk_upsert("things", [{"id": "a", "name": "alpha", "rank": 3}])
    assert [h.id for h in index.search("things", by_rank).hits] == ["a", "b"]


@pytest.mark.parametrize("words", [["alpha"], ["bravo", "delta"], ["chralie"], ["echo", "echo"]])
def test_bm25_over_postings_is_fts5s(index, words):
    index.bulk_upsert("things", make_docs(random.Random(14)))
    t = "t_things_v1"
    index.db.execute("BEGIN")
    try:
        columns = index._columns_of(t)
        groups = [near(w, index._vocabulary(t)) for w in words]
        matched = columns.text().match(groups)
        scores = columns.text().scores(groups, matched)
        page_scores = columns.text().scores_of(groups, rows_of(matched)[::7])  # as a page sorted by a field has them
        fts_matched, fts = fts_match(index.db, t, fts_clauses([[w] for w in words], groups), columns.size)
    finally:
        index.db.execute("COMMIT")
    assert matched  # a set of row ids as an int: some rows match
    assert matched == fts_matched
    assert scores == fts.all  # bit for bit: ties break the same way
    assert page_scores == {row: fts.all[row] for row in rows_of(matched)[::7]}


@pytest.mark.parametrize("after", [["x", "a"], [1.0, 2], [True, "a"], [None]])
def test_a_cursor_with_values_of_the_wrong_kind_is_invalid_input(index, after):
    index.bulk_upsert("things", [{"id": "a", "name": "alpha", "rank": 1}, {"id": "b", "name": "alpha", "rank": 2}])
    query = SearchQuery(sort=[SortKey(field="rank", order="desc")], size=1)
    with pytest.raises(InvalidInput, match="cursor is malformed"):
        index.search("things", query.replaced(cursor=encode_cursor(query, after)))


def brute_order(docs, sort):
    """Docs in the order of `sort` ((field, order) pairs): a list field by its smallest value ascending or
    its largest descending, missing values last, ties by id."""
    distinct = {field: sorted({v for d in docs for v in _values(d, field)}) for field, _ in sort}

    def key(doc):
        parts = []
        for field, order in sort:
            values = _values(doc, field)
            if not values:
                parts.append((1, 0))
            else:
                position = distinct[field].index(min(values) if order == "asc" else max(values))
                parts.append((0, position if order == "asc" else -position))
        return (*parts, doc["id"])
    return key


def _values(doc, field):
    value = doc.get(field)
    return value if isinstance(value, list) else [] if value is None else [value]


@pytest.mark.parametrize("sort", [[("category", "asc"), ("rank", "desc")], [("rank", "asc"), ("category", "desc")],
                                  [("category", "desc")], [("rank", "desc")]])
def test_cursor_pages_follow_the_sort_even_when_the_cursors_values_are_deleted(index, sort):
    rng = random.Random(15)
    docs = {d["id"]: d for d in make_docs(rng, n=200)}
    index.bulk_upsert("things", docs.values())
    query = SearchQuery(filters={"active": [True]}, sort=[SortKey(field=f, order=o) for f, o in sort], size=7)
    key = brute_order(list(docs.values()), sort)
    first = index.search("things", query)
    wanted = sorted((d for d in docs.values() if d["active"]), key=key)
    assert [h.id for h in first.hits] == [d["id"] for d in wanted[:7]]
    last = docs[first.hits[-1].id]
    for doc in [d for d in docs.values() if key(d)[0] == key(last)[0]]:  # the cursor's first value leaves the columns
        index.delete("things", docs.pop(doc["id"])["id"])
    second = index.search("things", query.replaced(cursor=first.next_cursor))
    after = [d for d in sorted((d for d in docs.values() if d["active"]), key=key) if key(d) > key(last)]
    assert [h.id for h in second.hits] == [d["id"] for d in after[:7]]
    assert second.total == len([d for d in docs.values() if d["active"]])


@pytest.mark.parametrize("pets", [False, True])  # walking the first key's order back; sorting the few matches
@pytest.mark.parametrize("sort", [[("category", "asc"), ("rank", "desc")], [("rank", "asc"), ("category", "desc")],
                                  [("category", "desc")], [("rank", "desc")]])
def test_previous_cursor_pages_follow_the_sort_even_when_the_cursors_values_are_deleted(index, sort, pets):
    """A backward cursor's page is the hits just before its place in the sort, a list field by the same value of its
    own as forward, missing values last; the place holds when its values have left the columns."""
    rng = random.Random(16)
    docs = {d["id"]: d for d in make_docs(rng, n=200)}
    index.bulk_upsert("things", docs.values())
    filters = {"active": [True], **({"category": ["pets"]} if pets else {})}
    query = SearchQuery(filters=filters, sort=[SortKey(field=f, order=o) for f, o in sort], size=5)
    key = brute_order(list(docs.values()), sort)

    def matched() -> list[dict]:
        return sorted((d for d in docs.values() if d["active"] and (not pets or "pets" in d["category"])), key=key)

    third = index.search("things", query.replaced(offset=10))
    assert [h.id for h in third.hits] == [d["id"] for d in matched()[10:15]]
    back = index.search("things", query.replaced(cursor=third.previous_cursor))
    assert [h.id for h in back.hits] == [d["id"] for d in matched()[5:10]] and back.previous_cursor
    first = docs[third.hits[0].id]
    for doc in [d for d in docs.values() if key(d)[0] == key(first)[0]]:  # the cursor's first value leaves the columns
        index.delete("things", docs.pop(doc["id"])["id"])
    back = index.search("things", query.replaced(cursor=third.previous_cursor))
    assert [h.id for h in back.hits] == [d["id"] for d in matched() if key(d) < key(first)][-5:]
    assert back.total == len(matched())


def test_a_range_bound_that_is_not_a_number_matches_nothing(index):
    index.bulk_upsert("things", [{"id": "a", "name": "alpha", "rank": 1}, {"id": "b", "name": "alpha", "rank": 2}])
    for bounds in ({"gte": float("nan")}, {"lte": float("nan")}, {"gte": 1, "lte": float("nan")}):
        assert index.search("things", SearchQuery(ranges={"rank": Range(**bounds)})).total == 0
    assert [h.id for h in index.search("things", SearchQuery(ranges={"rank": Range(gte=2)})).hits] == ["b"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("az09_AZ-é ."), max_size=6))
def test_a_plain_word_is_one_fts5_keeps_unchanged_as_the_pattern_says(word):
    from affiliate_matrix.search.fts import plain

    assert plain(word) == bool(re.fullmatch(r"[a-z0-9]+", word))


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=300)))
def test_the_rows_of_a_set_are_its_bits_ascending(rows):
    assert rows_of(sum(1 << row for row in rows)) == sorted(rows)
