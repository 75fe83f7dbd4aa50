"""Dork queries: every language discovery judges pages in is searched in its own words, and a language with no
templates is refused naming the supported ones, not run as a search of nothing; a niche is searched as the words it
is, one a search engine would read operators in named with the place."""

import json
import unicodedata
from pathlib import Path

import pytest

from affiliate_matrix.discovery.dorks import NICHE_RULE, TEMPLATES, dorks, niche_problem

PAGES = (Path(__file__).parents[1] / "data" / "discovery-pages").glob("*.json")


def test_every_language_of_the_labelled_program_pages_has_dorks():
    """The judge reads program pages in nl, pt and it, but no query searched in them."""
    languages = {json.loads(path.read_text())["lang"] for path in PAGES}
    assert languages and all(dorks(["pet food"], [language]) for language in languages)


@pytest.mark.parametrize("language, wording", [
    ("nl", ['"partnerprogramma" pet food', "inurl:partnerprogramma pet food", '"affiliate programma" pet food']),
    ("pt", ['"programa de afiliados" pet food', "inurl:afiliados pet food", '"programa de indicação" pet food']),
    ("it", ['"programma di affiliazione" pet food', "inurl:affiliazione pet food",
            '"programma affiliazione" pet food'])])
def test_a_language_is_searched_in_the_words_its_program_pages_use(language, wording):
    found = dorks(["pet  food"], [language])
    assert [dork.text for dork in found] == wording
    assert {(dork.niche, dork.language) for dork in found} == {("pet  food", language)}


def test_a_language_without_templates_is_refused_naming_the_supported_ones():
    with pytest.raises(ValueError) as refused:
        dorks(["pets"], ["en", "xx"])
    assert str(refused.value) == f"no dork templates for language(s) xx; supported: {', '.join(TEMPLATES)}"


@pytest.mark.parametrize("niche, problem", [
    ("shoes site:evil.example", "':' at character 11 makes the word before it a search operator (as site:, inurl:)"),
    ("-inurl:affiliate", "'-' at character 1 excludes the word after it from the search"),
    ("pet food -cats", "'-' at character 10 excludes the word after it from the search"),
    ('pet "food', "'\"' at character 5 quotes a phrase, breaking the dork's own quotes"),
    ("pets OR casinos", "'OR' at character 6 is a search operator (write it in lower case to search the word)"),
    ("pets (cheap)", "'(' at character 6 is not a letter, digit or space"),
    ("size 10..100", "'.' at character 8 is not between two letters or digits of a word"),
    ("smart-", "'-' at character 6 is not between two letters or digits of a word"),
    # a combining mark counted as a letter wherever it stood: one before a hyphen made `-affiliate` a hyphen inside
    ("shoes \u0301-affiliate", "'\u0301' at character 7 is a combining mark on no letter or digit"),
    ("e-\u0301bikes", "'-' at character 2 is not between two letters or digits of a word"),
    ("shoes \u0338", "'\u0338' at character 7 is a combining mark on no letter or digit"),
    ("shoes site\uff1aevil.example", "'\uff1a' at character 11 is not a letter, digit or space"),
    ("shoes\u200dsite", "'\\u200d' at character 6 is not a letter, digit or space"),
])
def test_a_niche_a_search_engine_would_read_operators_in_is_named_with_the_place(niche, problem):
    """A niche went into every dork as written: `shoes site:evil.example` or `-inurl:affiliate` changed what each
    dork asked, and a quote broke the dork's own quoting. What is read as an operator is named, with its place."""
    assert niche_problem(niche) == f"{problem}; {NICHE_RULE}"


@pytest.mark.parametrize("niche", ["pets", "web  hosting", "e-bikes", "men's shoes", "node.js hosting", "pets or cats",
                                   "Hundefutter für Welpen", unicodedata.normalize("NFD", "programa de indicação"),
                                   "日本 旅行", "3d printing"])
def test_a_niche_of_words_is_searched_as_written(niche):
    assert niche_problem(niche) is None
    assert dorks([niche], ["en"])[0].text == f'"affiliate program" {" ".join(niche.split())}'
