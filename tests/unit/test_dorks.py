"""Dork queries: every language discovery judges pages in is searched in its own words, and a language with no
templates is refused naming the supported ones, not run as a search of nothing."""

import json
from pathlib import Path

import pytest

from affiliate_matrix.discovery.dorks import TEMPLATES, dorks

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
