"""Stems, the programs index's second way to match a word (search.document_stems, stem_of), and the category names a
shopper types in other languages (taxonomy.CATEGORY_NAMES)."""

import pytest

from affiliate_matrix.codes import CATEGORIES
from affiliate_matrix.search import IndexSpec, document_stems, stem_of
from affiliate_matrix.taxonomy import CATEGORY_NAMES, category_words


def test_a_query_word_s_stem_is_the_stem_its_document_words_are_held_by():
    held = document_stems(["Web Hosting & domains", "HostGator hosts sites"]).split()
    assert {stem_of("hosts"), stem_of("hosting"), stem_of("HOST".lower()), stem_of("domain")} <= set(held)
    assert len(held) == len(set(held))  # each stem once


@pytest.mark.parametrize("word", ["ab", "café", "1800flowers", "楽天", "hosting2"])
def test_a_word_that_is_not_ascii_letters_or_is_short_has_no_stem(word):
    """The English stemmer is for English words: another script's, a word with digits or accents, and a word of two
    letters or fewer are searched as today (their term and typos), and nothing of them is held as a stem."""
    assert stem_of(word) is None
    assert document_stems([word]) == ""


def test_a_spec_without_stems_is_stored_as_before_them_and_one_with_them_says_so():
    """An index of a version written before stems reads back unstemmed (its writes hold no stems field, which its
    mapping would refuse); a stemmed spec keeps the flag through its stored JSON."""
    plain = IndexSpec("things", 1, {"id": "keyword", "name": "text"})
    assert "stemmed" not in plain.to_json() and IndexSpec.from_json(plain.to_json()).stemmed is False
    stemmed = plain._replace(stemmed=True)
    assert IndexSpec.from_json(stemmed.to_json()) == stemmed and stemmed != plain


@pytest.mark.parametrize("category", [c for c in CATEGORIES if c != "other"])
def test_every_category_has_names_in_each_shopper_language(category):
    assert {"de", "fr", "es", "nl", "pt", "it"} <= set(CATEGORY_NAMES[category]) <= {"en", "de", "fr", "es", "nl",
                                                                                       "pt", "it"}
    assert all(names.strip() for names in CATEGORY_NAMES[category].values())


def test_category_names_are_the_taxonomy_s_and_searched_with_the_keys():
    assert set(CATEGORY_NAMES) == set(CATEGORIES)
    words = " ".join(category_words(["apparel", "travel"]))
    assert words.startswith("apparel travel") and "Schuhe" in words and "chaussures" in words and "Gepäck" in words
