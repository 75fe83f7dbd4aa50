"""The characters that are no text, in named classes, held once: each place that refuses, escapes or strips such
characters (program_shapes.CONTROL_CHARACTERS, observability's console escapes, model_types.check_name,
models.clean_text) composes what it needs from these names, so a character added to a class reaches every place
using it. Code points, not patterns: nothing is compiled at import (every function's start imports this)."""

TAB, LINE_FEED, CARRIAGE_RETURN = 0x09, 0x0A, 0x0D
# NUL to US: ESC among them, and the tab and line breaks, which a text of several lines may keep (see the places).
C0_CONTROLS = tuple(range(0x20))
# DEL and the C1 controls (NEL, CSI among them).
DELETE_AND_C1_CONTROLS = tuple(range(0x7F, 0xA0))
# What reorders the text after it: the Arabic letter mark, the left-to-right and right-to-left marks, the embeddings
# and overrides with their pop (U+202A-U+202E) and the isolates with theirs (U+2066-U+2069).
BIDI_CONTROLS = (0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
# The line and paragraph separators: line breaks, as LF is.
LINE_SEPARATORS = (0x2028, 0x2029)
# What shows nothing and changes no word, but makes one name two: the soft hyphen, the zero-width space, the word
# joiner and the invisible operators (U+2060-U+2064), the byte order mark. Not the zero-width joiner and non-joiner:
# some scripts and emoji are written with them.
INVISIBLE_FORMAT = (0xAD, 0x200B, *range(0x2060, 0x2065), 0xFEFF)
# What shows nothing and joins or shapes the letters around it, which a name may be written with (so not refused nor
# cleaned) and a word is searched without (search.unwritten): the zero-width non-joiner and joiner Indic and Arabic
# scripts write between letters, the combining grapheme joiner, the deprecated format characters (U+206A-U+206F) and
# the variation selectors.
JOINERS_AND_SELECTORS = (0x34F, 0x200C, 0x200D, *range(0x206A, 0x2070), *range(0xFE00, 0xFE10))


def characters(*classes: tuple[int, ...], but: tuple[int, ...] = ()) -> frozenset[str]:
    """The characters of `classes`, less those of `but`."""
    return frozenset(chr(code) for codes in classes for code in codes if code not in but)
