"""The characters that are no text (affiliate_matrix.characters), as each place that meets them treats them: a search's
parameter refuses them (program_shapes.without_controls) and a sign-in does not follow a path holding one
(render.local_path), a console log line escapes them (observability), a name a person writes refuses them
(model_types.check_name), text a source gives is cleaned of them (models.clean_text). Each class is read from the one
module, so a character added to a class is checked here in every place that uses it."""

import pytest

from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, CARRIAGE_RETURN, DELETE_AND_C1_CONTROLS,
                                         INVISIBLE_FORMAT, LINE_FEED, LINE_SEPARATORS, TAB)
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.program_shapes import without_controls
from affiliate_matrix.model_types import check_name
from affiliate_matrix.models import clean_text
from affiliate_matrix.observability import escape_controls
from affiliate_matrix.web.render import local_path


def refused_in_a_search(text: str) -> bool:
    try:
        without_controls(text, "q")
    except Exception as exc:  # the API's 400 (routes.refuse)
        return f"q holds U+{ord(text[1]):04X}" in str(exc)
    return False


def refused_in_a_name(text: str, *, lines: bool = False) -> bool:
    try:
        check_name(text, "name", lines=lines)
    except InvalidInput as exc:
        return f"name: holds U+{ord(text[1]):04X}" in str(exc)
    return False


def escaped_in_a_console_line(text: str) -> bool:
    shown = escape_controls(None, None, {"path": text})["path"]
    return text[1] not in shown and f"{ord(text[1]):02x}" in shown


def not_followed_after_signing_in(text: str) -> bool:
    return local_path(f"/{text}") == "/programs" and local_path("/ab") == "/ab"


def removed_from_a_sources_text(text: str) -> bool:
    return clean_text(text) == "ab"


@pytest.mark.parametrize("codes", [
    [c for c in C0_CONTROLS if c not in (TAB, LINE_FEED, CARRIAGE_RETURN)], DELETE_AND_C1_CONTROLS, BIDI_CONTROLS],
    ids=["C0 but tab and line breaks", "DEL and C1", "bidi"])
def test_controls_are_refused_escaped_or_removed_in_every_place(codes):
    for text in (f"a{chr(code)}b" for code in codes):
        assert refused_in_a_search(text) and not_followed_after_signing_in(text), repr(text)
        assert escaped_in_a_console_line(text), repr(text)
        assert refused_in_a_name(text) and refused_in_a_name(text, lines=True), repr(text)
        assert removed_from_a_sources_text(text), repr(text)


@pytest.mark.parametrize("code", LINE_SEPARATORS)
def test_a_line_separator_is_a_line_break_in_every_place(code):
    """U+2028 and U+2029 break a line as LF does. A name took them (check_name's class lacked them, while a search's
    parameter refused them and a console line escaped them): a name shown on two lines, a description broken
    otherwise than by its own line feeds."""
    text = f"a{chr(code)}b"
    assert refused_in_a_search(text) and not_followed_after_signing_in(text)
    assert escaped_in_a_console_line(text)
    assert refused_in_a_name(text) and refused_in_a_name(text, lines=True)
    assert clean_text(text) == text  # a source's text keeps its line breaks, this one as LF


@pytest.mark.parametrize("code", INVISIBLE_FORMAT)
def test_an_invisible_format_character_makes_no_name_and_no_search_refused(code):
    """Refused in a name (one name as two) and removed from a source's text; a search's words and a console line keep
    it on purpose: a word is searched without it, and a terminal acts on none of them."""
    text = f"a{chr(code)}b"
    assert refused_in_a_name(text) and refused_in_a_name(text, lines=True)
    assert removed_from_a_sources_text(text)
    assert not refused_in_a_search(text)
    assert escape_controls(None, None, {"path": text})["path"] == text


def test_tab_and_line_breaks_are_a_texts_own_where_it_has_lines():
    for code in (TAB, LINE_FEED, CARRIAGE_RETURN):
        text = f"a{chr(code)}b"
        assert refused_in_a_search(text) and refused_in_a_name(text), repr(text)
        assert clean_text(text) == text, repr(text)  # a terms text's lines
    for code in (TAB, LINE_FEED):  # a description's lines; a traceback's in a console line
        assert not refused_in_a_name(f"a{chr(code)}b", lines=True)
        assert escape_controls(None, None, {"path": f"a{chr(code)}b"})["path"] == f"a{chr(code)}b"
    assert refused_in_a_name("a\rb", lines=True)  # over its own line in a terminal
    assert escaped_in_a_console_line("a\rb")
