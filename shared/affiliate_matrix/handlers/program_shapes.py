"""What the programs API's route table (handlers/programs.py) names at a start: the check of a search's words, the
merchant key's form, and functions naming the models of its answers, each built on first use. The models of its
parameters are in program_params.py (a search's are checked by search_params.py's fast path first), the merchants'
answers in merchant_shapes.py, the search's in program_page.py."""

from functools import cache

from affiliate_matrix.characters import (BIDI_CONTROLS, C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS,
                                         characters)
from affiliate_matrix.errors import InvalidInput
from affiliate_matrix.handlers.routes import TOTAL, refuse
from affiliate_matrix.search import searched_words

# Query-language syntax has no place in a name search; brand punctuation (& + ' " . - ( )) does, and so does a colon,
# which program names and titles carry ("Hosting: VPS plans"): only words reach an index, so `name:` filters nothing.
# The characters, then the pairs (a comment's "*/" begins with one of the characters); no regular expression, whose
# compile every start would pay.
SYNTAX_CHARACTERS = frozenset(map(chr, range(0x20))) | frozenset("*?^~{}[]\\;=<>|")
SYNTAX_PAIRS = ("--", "/*")
# The operators a user types into a web search, which the index does not read: a "-" before a word (to leave it out:
# "hosting -bluehost" found Bluehost alone, the one program meant not to be shown) and OR or NOT in capitals between two
# words ("bluehost OR hostgator" found nothing, every word having to match). A hyphen inside a name ("1-800-Flowers") or
# between spaces, and "or" or "not" in small letters, are a name's.
OPERATOR_WORDS = ("OR", "NOT")
# What no word, network or source is written with and the index would drop unseen (search._INVISIBLE,
# models.clean_text): the C0 controls (NUL, tab and LF among them), DEL, the C1 controls, the line and paragraph
# separators (line breaks, as LF is) and the bidi controls (marks, embeddings, overrides, isolates). A value holding one
# is a link or a form mangled, refused naming its parameter, not searched as another value; a sign-in's `next` holding
# one is not followed (render.local_path). The invisible format characters (a soft hyphen, a word joiner), which a name
# refuses (model_types.check_name), are let through on purpose: a word is searched without them (search.unwritten), and
# a merchant's key is read so.
CONTROL_CHARACTERS = characters(C0_CONTROLS, DELETE_AND_C1_CONTROLS, LINE_SEPARATORS, BIDI_CONTROLS)
# A merchant's key (normalize): its domain, or its name's words joined by "-", in the name's own script when that is not
# Latin ("магазин-книг", "日本語ショップ"; ASCII keys alone made such a merchant's view a 400).
# at most MERCHANT_KEY_MAX characters (a name's are); a pattern, compiled on first use (a merchant's view), not by every
# start, by pydantic's engine (Rust's regex, whose \w takes a name's marks, "कोमल"'s vowel sign: Python's re does not)
_MERCHANT_KEY = r"^[^\W_](?:[^\W_]|[.-])*$"
MERCHANT_KEY_MAX = 1000
WORDS_MAX_LENGTH, CURSOR_MAX_LENGTH = 500, 2000  # the longest q and cursor a request may send


def query_syntax(text: str) -> str | None:
    """The first query syntax in `text` (a character, a pair or an operator), None when it has none."""
    if (SYNTAX_CHARACTERS.isdisjoint(text) and not any(pair in text for pair in SYNTAX_PAIRS) and "-" not in text
            and not any(word in text for word in OPERATOR_WORDS)):
        return None
    for at, character in enumerate(text):
        if character in SYNTAX_CHARACTERS:
            return character
        if text[at:at + 2] in SYNTAX_PAIRS:
            return text[at:at + 2]
        if operator := _operator_at(text, at):
            return operator
    return None


def _operator_at(text: str, at: int) -> str | None:
    """The operator (OPERATOR_WORDS, or a "-" before a word) that begins a word of `text` at `at`, else None."""
    if at and not text[at - 1].isspace():
        return None
    if text[at] == "-":
        return "-" if text[at + 1:at + 2].isalnum() else None
    for word in OPERATOR_WORDS:
        end = at + len(word)
        if at and text.startswith(word, at) and text[end:end + 1].isspace() and text[end:].strip():
            return word
    return None


def without_controls(text: str, name: str) -> str:
    """`text`, the value of parameter `name`, when it holds no CONTROL_CHARACTERS; else refused naming both."""
    if said := controls_in(text, name):
        raise refuse(said)
    return text


def controls_in(text: str, name: str) -> str | None:
    """Why `text`, the value of parameter `name`, is refused for a control character it holds; None when it holds
    none."""
    if CONTROL_CHARACTERS.isdisjoint(text):
        return None
    found = next(character for character in text if character in CONTROL_CHARACTERS)
    return (f"{name} holds U+{ord(found):04X}, a control character (C0 or C1, a line separator or a bidi control); "
            "give the value without it")


def searchable(text: str | None, name: str) -> str | None:
    """Words to search for as the API's q takes them, else InvalidInput naming them `name` (the API's q, a command's
    argument): at most WORDS_MAX_LENGTH characters, no control character, no query syntax, and words, not too many
    (search.searched_words). A command checks its words here before it searches: the index drops what is not a
    word, so `host*` was searched as host."""
    if text is not None and len(text) > WORDS_MAX_LENGTH:
        raise InvalidInput(f"{name} has {len(text):,} characters; a search takes at most {WORDS_MAX_LENGTH}")
    if said := controls_in(text or "", name):
        raise InvalidInput(said)
    if syntax := query_syntax(text or ""):
        raise InvalidInput(f"{name} contains query syntax ({syntax!r}); search for plain words")
    searched_words(text, name)
    return text


def plain_words(text: str | None) -> str | None:
    try:
        return searchable(text, "q")
    except InvalidInput as exc:
        raise refuse(str(exc)) from None


def program_page():  # a search's answer: its model is the document's and the tests', never built by a start
    from affiliate_matrix.handlers.program_page import ProgramPage

    return ProgramPage


def merchants_answer():  # the merchants' answers: not built by a start or a first search
    from affiliate_matrix.handlers.merchant_shapes import Merchants

    return Merchants


def merchant_answer():
    from affiliate_matrix.handlers.merchant_shapes import MerchantView

    return MerchantView


def program_answer():  # the models module loads with the first route that answers with one
    from affiliate_matrix.models import Program

    return Program


FEED = ("Newest first by when each change was recorded (recorded_at, then id); `since` filters on recorded_at. "
        "To resume, poll since the newest recorded_at you have read: a change recorded after it is in the answer, "
        "however early it was observed (at). At least once: a re-run that records the same change again (same id) "
        "moves its recorded_at and shows it again, so deduplicate by id.")


@cache
def change_item():
    from pydantic import Field, create_model

    from affiliate_matrix.models import DeltaChange, UtcDatetime

    return create_model("ChangeItem", __base__=DeltaChange, __doc__=DeltaChange.__doc__, recorded_at=(
        UtcDatetime, Field(description="When the change was recorded in the index (at: when it was observed). The "
                                       "feed's order and what `since` filters on.")))


def changes_answer():
    from typing import Any

    from pydantic import Field, create_model

    return create_model("ChangePage", __doc__=FEED, total=(int, Field(..., description=TOTAL.format(what="changes"))),
                        items=(list[change_item()], ...),
                        next_cursor=(str | None, ...), previous_cursor=(str | None, Field(None, description=(
                            "The cursor of the page before this one (the newer changes just before these), passed "
                            "back as `cursor` with the same parameters as next_cursor is; null on the first page."))),
                        errors=(list[dict[str, Any]] | None, Field(None, description=(
                            "The changes of this page left out as damaged (not of a change's shape): each one's id "
                            "(key) and what is wrong (error); also counted in X-Damaged-Items."))))
