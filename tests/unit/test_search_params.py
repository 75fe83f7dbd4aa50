"""A search's query string checked by search_params.fast, which spares a start the model (program_params.SearchParams):
whatever it takes, the model takes as the same parameters; whatever it leaves, the model judges (so every 400 is the
model's own)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.program_params import SearchParams
from affiliate_matrix.handlers.search_params import DEFAULTS, SearchParameters, fast
from affiliate_matrix.program_index import FILTERS

# Values near the edges of each rule: right ones, and ones a rule refuses or the model reads otherwise.
TEXT = st.sampled_from(["x", "", " ", "web hosting", "a" * 500, "a" * 501, "cafe*", "--", "name: vpn", "…", "café",
                        "ｈｏｓｔ", "\ud800", "\x00", " ".join(["w"] * 21), "!!", "relevance", "commission", "7d",
                        "90d", "Relevance", "0", "1", "20", "100", "101", "020", " 5", "5 ", "1_0", "５", "²", "2.5",
                        ".5", "5.", "1e3", "-1", "nan", "inf", "9" * 31, "10000", "10001", "active", "closed_suspected",
                        "Active", "vpn_security", "hosting", "DE", "de", "worldwide", "EUR", "eur", "USD", "cj",
                        "CJ", "awin", "AWIN", "percent", "flat", "paypal", "program", "offer"])
NAMES = st.sampled_from(sorted(DEFAULTS))


@st.composite
def query_strings(draw):
    names = draw(st.lists(NAMES, max_size=6, unique=True))
    return {name: draw(st.lists(TEXT, min_size=1, max_size=3)) if name in FILTERS else draw(TEXT) for name in names}


def as_model_gives(values: dict):
    """The parameters the model gives for `values`, as (fields, fields set), or the error it raises."""
    try:
        params = SearchParams.model_validate(values)
    except (ValueError, InvalidInput) as exc:  # a ValidationError, or its paging check's InvalidInput
        return type(exc)
    return {name: getattr(params, name) for name in DEFAULTS}, params.model_fields_set


@settings(max_examples=500, deadline=None)
@given(query_strings())
def test_what_the_fast_path_takes_the_model_takes_as_the_same_parameters(values):
    params = fast(values)
    if params is not None:
        assert as_model_gives(values) == ({name: getattr(params, name) for name in DEFAULTS}, params.model_fields_set)


@pytest.mark.parametrize("values", [
    {"q": "x"}, {"q": "web hosting", "limit": "50", "page": "3"}, {"sort": "commission", "flat_currency": ["EUR"],
                                                                    "min_commission_flat": "40"},
    {"status": ["active", "discovered"], "category": ["vpn_security"], "country": ["DE", "worldwide"]},
    {"epc_window": "90d", "epc_currency": ["USD"], "min_epc": "1.5", "cursor": "abc"}, {"min_cookie_days": "030"},
])
def test_a_plain_search_is_checked_without_the_model(values):
    assert fast(values) is not None
    assert as_model_gives(values) == ({name: getattr(fast(values), name) for name in DEFAULTS}, set(values))


@pytest.mark.parametrize("values", [
    {"q": "a" * 501}, {"q": "cafe*"}, {"q": "café"}, {"network": ["cj"]}, {"source": ["awin"]}, {"kind": ["ofer"]},
    {"limit": "101"}, {"limit": "５"}, {"min_epc": ".5"}, {"page": "2", "cursor": "abc"},
    {"page": "200", "limit": "100"},
])
def test_any_other_value_is_left_to_the_model(values):
    assert fast(values) is None
    model_gives = as_model_gives(values)
    try:
        params = SearchParameters.model_validate(values)
    except (ValueError, InvalidInput) as exc:
        assert model_gives is type(exc)
    else:
        assert model_gives == ({name: getattr(params, name) for name in DEFAULTS}, params.model_fields_set)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", " ", "-", "OR", "NOT", *"/*?^~{}[]\\;=<>|:&'\".()\x00\x1f\x7f"]),
                max_size=8).map("".join))
def test_the_query_syntax_named_is_the_first_the_pattern_finds(text):
    import re

    from affiliate_matrix.handlers.program_shapes import query_syntax

    found = re.search(r"[\x00-\x1f*?^~{}\[\]\\;=<>|]|--|/\*|\*/|(?<!\S)-(?=[^\W_])|(?<=\s)(?:OR|NOT)(?=\s+\S)", text)
    assert query_syntax(text) == (found.group() if found else None)


@pytest.mark.parametrize("text,operator", [("hosting -bluehost", "-"), ("-bluehost", "-"), ("bluehost OR hostgator", "OR"),
                                           ("hosting NOT bluehost", "NOT"), ("1-800-Flowers", None),
                                           ("Crate - Barrel", None), ("bluehost or hostgator", None),
                                           ("OR Tools", None), ("Tools OR", None), ("ORACLE NOTION", None)])
def test_a_web_search_s_operators_are_refused_as_query_syntax_and_a_name_s_hyphen_is_not(text, operator):
    """No index here reads them: "hosting -bluehost" found Bluehost alone, the program meant to be left out, and
    "bluehost OR hostgator" nothing (every word must match). Refused naming them, as `host*` is."""
    from affiliate_matrix.handlers.program_shapes import query_syntax, searchable

    assert query_syntax(text) == operator
    if operator:
        with pytest.raises(InvalidInput, match=f"q contains query syntax \\('{operator}'\\); search for plain words"):
            searchable(text, "q")
