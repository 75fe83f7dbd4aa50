"""An index's spec is checked when it is declared, cannot be changed afterwards, and compares by what is
stored of it (its upgrade is code, not part of the spec). A search query is likewise a record checked as it is made."""

import pytest

from affiliate_matrix.search import IndexSpec

FIELDS = {"id": "keyword", "name": "text"}


def test_a_bad_name_or_an_id_field_that_is_not_a_keyword_is_refused_when_declared():
    with pytest.raises(ValueError, match="'Bad-Name' must match"):
        IndexSpec("Bad-Name", 1, FIELDS)
    with pytest.raises(ValueError, match="'na me' must match"):
        IndexSpec("things", 1, {**FIELDS, "na me": "text"})
    with pytest.raises(ValueError, match="id field 'name' must be declared as keyword"):
        IndexSpec("things", 1, FIELDS, id_field="name")


@pytest.mark.parametrize("name", ["things\n", "", "9lives", "a" * 42, "thïngs", "things.raw", 5])
def test_a_name_is_one_of_lower_case_letters_digits_and_underscores_and_nothing_after_it(name):
    """A regular expression's `$` also matched before a final line feed: "things\n" was a name."""
    with pytest.raises(ValueError, match="must match"):
        IndexSpec(name, 1, FIELDS)
    with pytest.raises(ValueError, match="must match"):
        IndexSpec("things", 1, {**FIELDS, name: "keyword"})


def test_the_longest_name_is_taken():
    assert IndexSpec("a" * 41, 1, {**FIELDS, "b_2" * 13 + "c_": "keyword"}).name == "a" * 41


def test_a_spec_is_immutable_and_equal_to_its_stored_form_whatever_its_upgrade():
    spec = IndexSpec("things", 2, FIELDS, upgrade=lambda doc: {**doc, "name": str(doc.get("name"))})
    with pytest.raises(AttributeError):
        spec.version = 3
    assert IndexSpec.from_json(spec.to_json()) == spec and not IndexSpec.from_json(spec.to_json()) != spec
    assert IndexSpec("things", 3, FIELDS) != spec
    assert "upgrade" not in repr(spec) and "version=2" in repr(spec)


def test_the_statuses_a_search_offers_are_every_status_a_program_has():
    from typing import get_args

    from affiliate_matrix.models import Program
    from affiliate_matrix.codes import STATUSES
    from affiliate_matrix.program_index import OPEN_STATUSES

    assert sorted(STATUSES) == sorted(get_args(Program.model_fields["status"].annotation))
    assert set(OPEN_STATUSES) < set(STATUSES)


def test_a_flat_term_keeps_its_currency_and_its_amount_to_the_cent():
    """flat_amounts holds each flat term as one number (program_index.flat_key): a minimum in one currency is never met
    by another currency's amount, however large, and amounts a cent apart stay apart at the largest key."""
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.program_index import FLAT_SPAN, flat_key, flat_minimum

    (eur,) = flat_minimum(["EUR"], 40)
    assert not eur.gte <= flat_key("USD", 5000) <= eur.lte and not eur.gte <= flat_key("EUR", 39.99) <= eur.lte
    assert eur.gte <= flat_key("EUR", 40) <= eur.lte and eur.gte <= flat_key("EUR", 10**12) <= eur.lte
    assert flat_key("ZZZ", FLAT_SPAN - 1.01) < flat_key("ZZZ", FLAT_SPAN - 1) < flat_key("ZZZ", 10**15) + 1
    assert flat_key("AAB", 0) - flat_key("AAA", 10**15) == 1  # the largest amount of a currency is below the next one
    for code in ("eur", "EURO", "€", ""):
        try:
            flat_key(code, 1)
        except InvalidInput as exc:
            assert "flat_currency" in str(exc)
        else:
            raise AssertionError(f"{code!r} was taken for a currency")


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"text": "x" * 501}, "text must be text of at most 500"),
    ({"cursor": "c" * 2001}, "cursor must be text of at most 2000"),
    ({"size": 1001}, "size must be a whole number from 0 to 1000"), ({"offset": -1}, "offset must be a whole number"),
    ({"facet_size": 0}, "facet_size must be a whole number from 1 to 200"), ({"size": True}, "size must be a whole"),
    ({"filters": {"rank": [object()]}}, "a filter's value of rank is a number or text"),
])
def test_a_search_query_refuses_what_a_caller_may_bring_naming_it(fields, fragment):
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.search import SearchQuery

    with pytest.raises(InvalidInput, match=fragment):
        SearchQuery(**fields)
    with pytest.raises(InvalidInput, match=fragment):  # a changed copy is checked as a new query is
        SearchQuery().replaced(**fields)


def test_a_search_query_is_immutable_holds_its_own_containers_and_numbers_as_floats():
    from affiliate_matrix.errors import InvalidInput
    from affiliate_matrix.search import Range, SearchQuery, SortKey

    given = {"rank": [5, True, "a"]}
    query = SearchQuery(filters=given, ranges={"rank": Range(gte=2)}, sort=[SortKey(field="rank", within=Range(lte=9))])
    given["rank"].append("b")
    assert query.filters == {"rank": [5.0, True, "a"]} and isinstance(query.filters["rank"][0], float)
    assert query.ranges["rank"].gte == 2.0 and isinstance(query.sort[0].within.lte, float)
    assert SearchQuery().filters is not SearchQuery().filters  # no default shared between queries
    with pytest.raises(AttributeError):
        query.size = 5
    assert query.replaced(size=5).size == 5 and query.size == 20
    assert query.fingerprint() == query.replaced(size=5, cursor="c", facets=["rank"]).fingerprint()  # paging aside
    assert query.fingerprint() != query.replaced(text="x").fingerprint()
    with pytest.raises(InvalidInput, match="asc or desc"):
        SortKey(field="rank", order="up")
