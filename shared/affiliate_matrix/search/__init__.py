"""Search index port: the master index, deltas and metrics live behind it.

Adapters: `SqliteSearchIndex` (an FTS5 file, the embedded default) and `OpenSearchIndex`.
An index is declared by an `IndexSpec` (logical name, version, field types); the physical
index is `<prefix>-<name>-v<version>` and callers always address the alias `<prefix>-<name>`.
Both adapters answer the same `SearchQuery` the same way: AND of words over the text fields (the
last one also as the start of a word, with `prefix`), term filters (any of the values), ranges,
term facets counted under the filters, post filters (on the hits and every facet but their own
field's), sort with the id as tiebreak, and opaque cursors that return every hit exactly once (a relevance sort's
across a write between pages too: OpenSearch pages it in a point in time, the embedded index in the first page's
ranking it keeps, views.py); a sort by fields also pages back, by a page's previous_cursor (SearchResult).
"""

from abc import ABC, abstractmethod
import base64
import hashlib
import json
import math
import re
from collections import namedtuple
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, Literal

from pydantic import ValidationError

from affiliate_matrix.characters import BIDI_CONTROLS, INVISIBLE_FORMAT, JOINERS_AND_SELECTORS, characters
from affiliate_matrix.errors import (CURSOR_OF_ITS_QUERY, ConfigError, ConflictError, DamagedData, InvalidInput,
                                    malformed_cursor)

FieldType = Literal["text", "keyword", "number", "date", "bool", "stored"]
FILTERABLE = ("keyword", "number", "date", "bool")
MAX_PAGE = 1000
_FIELD = "^[a-z][a-z0-9_]{0,40}$"  # an index's or a field's name, as its refusal shows it (checked by _is_name)
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _is_name(name) -> bool:
    """Whether `name` is a _FIELD, checked without a regular expression (one compiled at import is paid by every
    start), and so without its `$` that also matched before a final line feed ("name\\n")."""
    return (isinstance(name, str) and 0 < len(name) <= 41 and "a" <= name[0] <= "z"
            and _NAME_CHARACTERS.issuperset(name))


# The records of this port are collections.namedtuple's: immutable, at a fraction of a frozen dataclass's cost to define
# (every start pays it), and of typing.NamedTuple's (which evaluates and checks each field's annotation): their types
# are in comments. An IndexSpec: name (str), version (int), fields (dict[str, FieldType]), id_field (str), upgrade
# (Callable[[dict], dict] | None): how a document of an older version becomes one of this version, as a fresh write
# would make it; None: documents are copied as they are; and combine (Callable[[list[dict]], dict] | None): the one
# document that upgraded documents landing on one id make (an upgrade may move a document to another id), in whatever
# order they come; None: a migration landing two on one id is refused (Landings). Code, not part of the stored spec.
# And stemmed (bool): whether its text fields' words are held with their stems too (document_stems), which a query's
# word then also matches (stem_of); part of the stored spec when true, so an index of a version without stems is
# written and searched without them whatever the code's version (a write of its field there would be refused).
_IndexSpecFields = namedtuple("_IndexSpecFields", "name version fields id_field upgrade combine stemmed",
                              defaults=("id", None, None, False))


class IndexSpec(_IndexSpecFields):
    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls, *args, **kwargs)
        for name in [self.name, *self.fields]:
            if not _is_name(name):
                raise ValueError(f"index or field name {name!r} must match {_FIELD}")
        if self.fields.get(self.id_field) != "keyword":
            raise ValueError(f"id field {self.id_field!r} must be declared as keyword")
        return self

    def __eq__(self, other) -> bool:  # the upgrade and combine are code, not part of the spec
        return isinstance(other, IndexSpec) and self.to_json() == other.to_json()

    def __ne__(self, other) -> bool:  # tuple's own would compare the code too
        return not self == other

    __hash__ = None  # its fields are a dict

    def __repr__(self) -> str:
        return (f"IndexSpec(name={self.name!r}, version={self.version}, fields={self.fields!r}, "
                f"id_field={self.id_field!r}{', stemmed=True' if self.stemmed else ''})")

    def physical(self, prefix: str) -> str:
        return f"{prefix}-{self.name}-v{self.version}"

    def to_json(self) -> dict:
        stemmed = {"stemmed": True} if self.stemmed else {}  # (a spec without stems is stored as before them)
        return {"name": self.name, "version": self.version, "fields": self.fields, "id_field": self.id_field,
                **stemmed}

    @classmethod
    def from_json(cls, data: dict) -> "IndexSpec":
        return cls(data["name"], data["version"], data["fields"], data.get("id_field", "id"),
                   stemmed=data.get("stemmed", False) is True)


# A query and its parts are plain immutable records our code builds (a caller's values reach them checked by the API
# first): pydantic models of them cost a cold start ~10 M instructions to define and build. What a caller's value may
# still bring is checked as they are made (SearchQuery.__new__): the lengths and bounds, and numbers as floats, as JSON
# reads them, so a query's fingerprint is the same whoever made it.
_RangeFields = namedtuple("_RangeFields", "gte lte")  # each float | str | None


class Range(_RangeFields):
    """A number or date field's range: each bound a number or ISO 8601 text, None open."""
    __slots__ = ()

    def __new__(cls, gte: float | str | None = None, lte: float | str | None = None):
        return super().__new__(cls, _scalar(gte, "a range's gte", (str, type(None))),
                               _scalar(lte, "a range's lte", (str, type(None))))

    def as_json(self) -> dict:
        return self._asdict()


def _scalar(value, what: str, kept: tuple[type, ...]):
    """A number as a float (as JSON reads one: 5 and 5.0 are one value), a value of a `kept` type as it is."""
    if isinstance(value, kept):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    raise InvalidInput(f"{what} is a number or text, not {type(value).__name__}")


def ranges_of(value: Range | list[Range]) -> list[Range]:
    """A query's ranges of one field as a list: a value falls in any of them."""
    return value if isinstance(value, list) else [value]


# field (str); order (str): asc or desc; within (Range | None): of a number field, only its values in this range rank a
# hit (the largest, desc, or the smallest); a hit with none ranks last. A program's flat amount in one currency is such
# a range.
_SortKeyFields = namedtuple("_SortKeyFields", "field order within")


class SortKey(_SortKeyFields):
    __slots__ = ()

    def __new__(cls, field: str, order: str = "asc", within: Range | None = None):
        if order not in ("asc", "desc"):
            raise InvalidInput(f"a sort's order is asc or desc, not {str(order)[:20]!r}")
        return super().__new__(cls, field, order, within)

    def replaced(self, **update) -> "SortKey":
        return SortKey(**{**self._asdict(), **update})

    def as_json(self) -> dict:
        return {"field": self.field, "order": self.order, "within": None if self.within is None else
                self.within.as_json()}


# text: str | None
# filters: dict[str, list[str | float | bool]]. A keyword filter matches the value exactly as written, never folded as
#   text is (narrowed): a keyword is an identifier or a code the code writes (an id, a status, a network, a merchant key
#   resolution has folded already), where folding could make two values one, and a facet shows it as stored. Input
#   from people is checked before (the API refuses a value outside a closed list, as country=ＤＥ) rather than folded
#   into a silent match.
# post_filters: dict[str, list[str | float | bool]]. Filters of the hits (and the total) and of every facet but their
#   own field's, whose facet counts its values under everything else the query asks: what each value would find, in
#   the same search (OpenSearch's post_filter).
# ranges: dict[str, Range | list[Range]]: a field's range, or ranges any of which it may fall in (an empty list matches
#   nothing)
# facets: list[str]; facet_size: int, 1 to 200
# sort: list[SortKey]: empty, relevance when there is text, else the id
# exact: list[str]: text fields whose whole value, equal to the text (case and runs of spaces in the text aside), ranks
#   a hit above the others by relevance.
# prefix: bool: the last word (of at least PREFIX_MIN characters) also matches the words it begins ("host" finds
#   Hostinger); that match adds nothing to a hit's score, so hits that have the word whole rank above.
# size: int, 0 to MAX_PAGE; offset: int, 0 to 10,000; cursor: str | None, at most 2,000 characters
# paged: bool: the caller may ask for the pages after this one by its cursor (an API's search, an export), so a relevance
#   sort's pages are read in one view of the index (OpenSearch: a point in time, opensearch.POINT_KEEP_ALIVE; the
#   embedded index: the first page's ranking, views.py); a lookup that reads one page (resolution's candidates) holds
#   none open. Not part of the query (its fingerprint).
_SearchQueryFields = namedtuple("_SearchQueryFields", "text filters post_filters ranges facets facet_size sort exact "
                                                      "prefix size offset cursor paged")


class SearchQuery(_SearchQueryFields):
    """A search of an index, as both adapters answer it (the module's docstring). Its containers are its own copies:
    no query shares one with another."""
    __slots__ = ()

    def __new__(cls, text: str | None = None, filters: dict | None = None, post_filters: dict | None = None,
                ranges: dict | None = None, facets: list[str] | None = None, facet_size: int = 20,
                sort: list[SortKey] | None = None, exact: list[str] | None = None, prefix: bool = False, size: int = 20,
                offset: int = 0, cursor: str | None = None, paged: bool = False):
        _length(text, "text", 500)
        _length(cursor, "cursor", 2_000)
        for value, name, low, high in ((facet_size, "facet_size", 1, 200), (size, "size", 0, MAX_PAGE),
                                       (offset, "offset", 0, 10_000)):
            if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
                raise InvalidInput(f"a search's {name} must be a whole number from {low} to {high}, not {value!r}")
        return super().__new__(cls, text, _filters(filters), _filters(post_filters), dict(ranges or {}),
                               list(facets or []), facet_size, list(sort or []), list(exact or []), prefix,
                               size, offset, cursor, paged)

    def replaced(self, **update) -> "SearchQuery":
        """This query with the fields `update` names changed, checked as a new one is."""
        return SearchQuery(**{**self._asdict(), **update})

    def fingerprint(self) -> str:
        """What a cursor is bound to: the query without its paging. A filter matches any of its values, so their order
        and repeats are not the query's: the programs API caches one answer for `status=a&status=b` and
        `status=b&status=a` (its ETag sorts the parameters), whose cursor the other order refused."""
        basis = {"text": self.text, "exact": self.exact, "prefix": self.prefix,
                 "ranges": {field: [r.as_json() for r in rs] if isinstance(rs, list) else rs.as_json()
                            for field, rs in self.ranges.items()},
                 "sort": [key.as_json() for key in self.sort]}
        for kind in ("filters", "post_filters"):
            basis[kind] = {field: [v for _, v in sorted({json.dumps(v): v for v in values}.items())]
                           for field, values in getattr(self, kind).items()}
        return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


def _length(text: str | None, name: str, most: int) -> None:
    if text is not None and (not isinstance(text, str) or len(text) > most):
        raise InvalidInput(f"a search's {name} must be text of at most {most} characters")


def _filters(given: dict | None) -> dict[str, list[str | float | bool]]:
    """A query's filters, each field's values a list of its own, numbers as floats (_scalar)."""
    return {field: [_scalar(v, f"a filter's value of {field}", (str, bool)) for v in values]
            for field, values in (given or {}).items()}


# The read-only records (namedtuples, as IndexSpec's fields).
Hit = namedtuple("Hit", "id score doc")  # str, float | None, dict[str, Any]
# int, list[Hit], dict[str, list[tuple[Any, int]]], str | None, bool, str | None; view_gone: the cursor named a view (a
# point in time) no longer kept, so the page was read from the live index after its sort values (a write since may have
# moved hits across it: one shown twice or not at all), which a person paging is told (the explorer's notice);
# previous_cursor: of a sort by fields, the cursor of the page before this one (a backward cursor: encode_cursor), None
# on the first page (and of a relevance sort, whose pages are a view's)
SearchResult = namedtuple("SearchResult", "total hits facets next_cursor view_gone previous_cursor",
                          defaults=(None, False, None))
IndexStatus = namedtuple("IndexStatus", "name current versions")  # str, int, list[int]


class BulkResult:
    """What a bulk write did: how many documents it indexed, (id, reason) for each it refused, and the ids a
    conditional write (write_if_unchanged) left because they had changed since read, counted by the adapter as it
    writes. A plain class: a dataclass's generated methods cost every start that imports the port."""
    __slots__ = ("indexed", "errors", "conflicts")

    def __init__(self, indexed: int = 0, errors: list[tuple[str, str]] | None = None,
                 conflicts: list[str] | None = None):
        self.indexed, self.errors = indexed, [] if errors is None else errors
        self.conflicts = [] if conflicts is None else conflicts

    def __repr__(self) -> str:
        return f"BulkResult(indexed={self.indexed}, errors={self.errors!r}, conflicts={self.conflicts!r})"


# A document as read for a conditional write (dict), with its version: opaque (Any), only for write_if_unchanged.
Versioned = namedtuple("Versioned", "doc version")


# The Latin letters and ligatures OpenSearch's asciifolding spells in ASCII that have no compatibility form to be
# (NFKC leaves "ø" and "æ" as they are); FTS5's unicode61 keeps them as they are (it takes off only accents: "é" is
# "e", "ø" stays "ø"). And the combining accents FTS5 takes off wherever they stand (its remove_diacritics:
# U+0300-U+0331 but a few), left after NFKC only where no letter composes with them ("x" and U+0302): asciifolding
# folds whole letters only and kept them, so the two indexes held different words. A Greek word's final sigma is σ, as
# FTS5 folds it (OpenSearch's lowercase keeps "ς", so every Greek word ending in it was another word there).
_DIACRITICS = [*range(0x300, 0x305), *range(0x306, 0x30D), 0x30F, 0x311, 0x31B, *range(0x323, 0x329), 0x32D, 0x32E,
               0x330, 0x331]
_NARROWED = str.maketrans({
    "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ß": "ss",
    "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH", "ħ": "h", "Ħ": "H", "ı": "i", "ŧ": "t", "Ŧ": "T", "ŋ": "n", "Ŋ": "N",
    "ς": "σ", **dict.fromkeys(_DIACRITICS)})
_ACCENTS = frozenset(map(chr, _DIACRITICS))
# Invisible format characters written inside a word, dropped as Unicode's NFKC_Casefold drops them (default
# ignorables), the characters module's classes: the invisible format characters (the soft hyphen, the zero-width space,
# the word joiner, a byte order mark), the bidi controls, and the joiners and selectors (ZWNJ and ZWJ, which Indic and
# Arabic scripts write between letters, the combining grapheme joiner, variation selectors). Either index split the
# word there ("کتاب‌فروشی" was two words, and "کتابفروشی" found nothing). The zero-width space too: it was kept as a
# break (Thai and Khmer write it between words), but a run is searched as its pairs whatever its words, so a break
# there lost the pair across it ("ภาษา​ไทย" was not found by "ภาษาไทย"), and a name pasted with one ("Book​ing") was
# two words that found nothing (the programs index holds no such break: models.clean_text removes it from sources' text).
_INVISIBLE = dict.fromkeys(map(ord, characters(INVISIBLE_FORMAT, BIDI_CONTROLS, JOINERS_AND_SELECTORS)))
# The marks a word is written with or without at will: Arabic harakat (fatha, kasra, damma, sukun, shadda, tanwin, the
# superscript alef) and the tatweel that stretches a word, Hebrew niqqud and cantillation. كِتاب is كتاب and שָׁלוֹם
# שלום, one name written two ways. Not the hamza and madda (U+0653-U+0655), which NFC composes into letters (أ, آ):
# other scripts' marks are their letters' (कोमल is not कमल).
_OPTIONAL = dict.fromkeys([*range(0x591, 0x5BE), 0x5BF, 0x5C1, 0x5C2, 0x5C4, 0x5C5, 0x5C7, 0x640,
                           *range(0x64B, 0x653), *range(0x656, 0x660), 0x670])
_UNWRITTEN = _INVISIBLE | _OPTIONAL
_NARROWED |= _OPTIONAL  # again after NFKC, which spells Hebrew's pointed letters (U+FB1D-U+FB4F) with their points


def unwritten(text: str) -> str:
    """Text without what a word may be written with or without (_INVISIBLE, _OPTIONAL): the one decision of it, for the
    indexes' words (narrowed) and a merchant's name key (word_runs)."""
    return text.translate(_UNWRITTEN)


def narrowed(text: str) -> str:
    """Text as both indexes search it, before their own case and accent folding: in Unicode's compatibility form
    (NFKC: full-width "Ｂｏｏｋｉｎｇ" is "Booking", the ligature in "ﬁnance" "fi", half-width "ｶﾀｶﾅ" "カタカナ",
    "𝐇𝐨𝐬𝐭" "Host", "m²" "m2", and "e" with a combining U+0301 the one letter "é", where OpenSearch split the word at
    the mark), without the invisible characters and optional marks written inside words (unwritten: "كِتاب" is "كتاب"),
    and the Latin letters asciifolding spells in ASCII so ("Øresund" is "Oresund"). The one folding of indexed text and of a query's words: done here,
    before either index sees the text (OpenSearch has no ICU plugin), so both hold the same words. A document keeps its
    text as written; only what is searched is folded."""
    if text.isascii():
        return text
    import unicodedata

    return unicodedata.normalize("NFKC", unwritten(text)).translate(_NARROWED)


# The scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Chinese, Japanese's kana and kanji, with
# the iteration marks 々 〆 〇): their letters, as [first, past the last) code points. Korean is written with spaces.
_UNSPACED = (0x0E00, 0x0F00, 0x1000, 0x10A0, 0x1780, 0x1800, 0x19E0, 0x1A00, 0x3005, 0x3008, 0x3040, 0x3100,
             0x31F0, 0x3200, 0x3400, 0x4DC0, 0x4E00, 0xA000, 0xA9E0, 0xAA00, 0xAA60, 0xAA80, 0xF900, 0xFB00,
             0x20000, 0x40000)


@cache
def _unspaced_letter() -> str:
    """A character class of _UNSPACED (re compiles it on first use, not every start)."""
    return "[" + "".join(f"{chr(a)}-{chr(b - 1)}" for a, b in zip(_UNSPACED[::2], _UNSPACED[1::2])) + "]"


def _unspaced(c: str) -> bool:
    """Whether the character is a letter of a script written without spaces (_UNSPACED)."""
    from bisect import bisect_right

    return bisect_right(_UNSPACED, ord(c)) % 2 == 1


def _runs(text: str) -> list[str | list[str]]:
    """Text cut into its runs of a script written without spaces, each the list of its characters (a letter with the
    marks after it: a Thai vowel sign or tone mark is its consonant's), and the text between them, as it is."""
    import unicodedata

    pieces: list[str | list[str]] = []
    run, start = None, 0  # the run being read, or where the text since the last one starts
    for at, c in enumerate(text):
        kind = unicodedata.category(c)[0]
        if kind == "M" and run:
            run[-1] += c
        elif kind == "L" and _unspaced(c):
            if run is None:
                pieces.append(text[start:at])
                pieces.append(run := [])
            run.append(c)
        elif run is not None:
            run, start = None, at
    if run is None:
        pieces.append(text[start:])
    return pieces


def _pairs(run: list[str]) -> list[str]:
    """A run's overlapping pairs of characters, in order; a character alone, itself."""
    return [a + b for a, b in zip(run, run[1:])] or run


def paired(text: str) -> str:
    """Text as both indexes hold it, each run of a script written without spaces as its overlapping pairs of
    characters between spaces, as Lucene's CJK bigrams make them without a dictionary, and its last character after
    them: "楽天市場" is "楽天 天市 市場 場", so "楽天" and "市場" find it, as "ไทย" finds "ภาษาไทย", and every character of
    a run begins a term, so one character asked alone finds the runs holding it (phrases). A character standing alone
    is itself. The one splitting of indexed text (after narrowed); a query's words are its pairs alone (phrases).
    Other scripts' text is left as it is."""
    if text.isascii() or not re.search(_unspaced_letter(), text):  # most text: not a character of it walked
        return text
    return "".join(piece if isinstance(piece, str) else " " + " ".join(_pairs(piece) + piece[-1:] * (len(piece) > 1))
                   + " " for piece in _runs(text))


# The words a search takes: each is a clause of its own, fuzzy on every text field (see expansions); more are refused
# (they were dropped without a word, so a long query matched on its first 20 only).
MAX_WORDS = 20


def phrases(text: str | None) -> list[list[str]]:
    """The words of a free-text query (words), as they must be found: a run of a script written without spaces is its
    pairs of characters in order and side by side (a phrase: "東京都" asks for "東京 京都", which "京都 東京" does not
    hold), a run of one character that character wherever it stands in a run (lone: "楽" finds "楽天市場"), and every
    other word itself."""
    text = lowered(narrowed(text or "").replace("İ", "i"))
    if text.isascii():
        return [[word] for word in re.findall(r"[a-z0-9]+", text)]
    found = []
    for piece in _runs(text):
        if isinstance(piece, str):
            found += [[word] for word in word_runs(piece)]
        else:
            found.append(_pairs(piece))
    return found


def lone(word: str) -> bool:
    """Whether a query's word is one character of a script written without spaces (a run of one: phrases), which
    matches every term it begins: each character of an indexed run begins one (paired)."""
    import unicodedata

    return bool(word) and _unspaced(word[0]) and all(unicodedata.category(c)[0] == "M" for c in word[1:])


def words(text: str | None) -> list[str]:
    """The words of a free-text query, runs of letters, marks and digits as both indexes split text into words (so
    "foo_bar" is two, as "Booking.com" is, and "हिन्दी" one with its vowel signs and virama), narrowed as indexed text
    is (NFKC: full-width letters are ASCII ones, a mark typed apart, "e" and U+0300, is composed with its letter);
    everything else (operators, quotes, syntax) is dropped. İ is lowercased as both indexes do, to "i" (Python's "i"
    and U+0307 split "İstanbul" in two). A run of a script written without spaces is its pairs of characters
    (phrases): "楽天市場" asks for "楽天", "天市" and "市場", each a word."""
    return [word for phrase in phrases(text) for word in phrase]


def joined_words(phrases: list[list[str]]) -> list[list[str]]:
    """Each word of a query's phrases (in words' order) the terms it and a word beside it make written together, its
    accents off as the indexes hold terms: a name or a domain written as one word is typed as two, "nord vpn" for
    NordVPN, "1800 flowers" for 1800flowers.com, "blue host" for Bluehost, and every word had to match a term of its
    own, so they found nothing. A word matches its term or one such join (exactly: no typo), on both indexes. A run's
    pairs (a script written without spaces) join nothing: they are searched side by side already."""
    alone = [phrase[0] if len(phrase) == 1 and not _unspaced(phrase[0][0]) else None for phrase in phrases]
    joins = []
    for at, (phrase, word) in enumerate(zip(phrases, alone)):
        if word is None:
            joins += [[] for _ in phrase]
            continue
        beside = [alone[at - 1] + word if at and alone[at - 1] else None,
                  word + alone[at + 1] if at + 1 < len(alone) and alone[at + 1] else None]
        joins.append([unaccented(join) for join in beside if join])
    return joins


def word_runs(text: str) -> list[str]:
    """The runs of letters, marks and digits in text, as both indexes split it into words (a vowel sign or a virama is
    its word's: "हिन्दी" is one word, not "ह", "न" and "द"), everything else a break; without what a word is written
    with or without (unwritten: "كِتاب" is "كتاب", and "کتاب‌فروشی" one word, its joiner dropped, as narrowed drops them
    from what the indexes hold). The one definition of a word, for the indexes and for a merchant's name key
    (resolve.script_words)."""
    import unicodedata

    return "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in unwritten(text)).split()


def searched_words(text: str | None, name: str = "the search text") -> list[str]:
    """The words a search looks for; text with none (only punctuation) or more than MAX_WORDS is refused, named as
    its caller calls it (the API's q, a command's argument)."""
    return [word for phrase in searched_phrases(text, name) for word in phrase]


# A site as people paste it from a browser: its scheme or its www. label, then its host, then a port, a path, a query
# (https://www.bluehost.com/hosting?ref=1). Only its host is a program's words: "https", "www" and "hosting" are in
# no program's domain, so the search found nothing where "bluehost.com" finds Bluehost.
_PASTED_SITE = r"(?<!\S)(?:[a-z][a-z0-9+.-]*://(?:[^\s/?#@]*@)?(?:www\d{0,3}\.)?|www\d{0,3}\.)([^\s/?#:@]+)\S*"


# A possessive's "'s" ("NordVPN's"): split off as a word "s" that every word must match, it found only names holding
# an "s" of their own ("Macy's"); the name alone is what is meant, and finds those too
_POSSESSIVE = r"(?<=\w)['’]s\b"

# "and" between two words, as brands write "&" ("Ben & Jerry's", "Crate & Barrel"): the index holds no word for "&",
# so "ben and jerry" found nothing, every word must match. Either way it is searched as the words around it (a merchant's
# key reads "and" as "&" too: resolve); "and" alone, first or last is a word like any other.
_AND = r"(?<=\S)\s+and\s+(?=\S)"


def _as_meant(text: str) -> str:
    """A search's text with a site pasted whole as its host (_PASTED_SITE), a possessive as its name (_POSSESSIVE),
    an "and" between words as the "&" the index holds no word for (_AND). Each pattern is compiled by re on the first
    text that can hold it: not by every start, nor by programs' first search (_PASTED_SITE's case-folded classes cost
    ~4 M instructions, 0.4% of a cold start)."""
    if "://" in text or "www" in text.lower():
        text = re.sub(_PASTED_SITE, r"\1", text, flags=re.I)
    if "'" in text or "’" in text:
        text = re.sub(_POSSESSIVE, "", text, flags=re.I)
    if "and" in text.lower().split():
        text = re.sub(_AND, " ", text, flags=re.I)
    return text


def searched_phrases(text: str | None, name: str = "the search text") -> list[list[str]]:
    """The words a search looks for as phrases groups them, refused as searched_words says (each pair of a run
    counts as a word); a site pasted whole searched as its host, a possessive as its name (_as_meant)."""
    found = phrases(_as_meant(text) if text else text)
    count = sum(map(len, found))
    if text is not None and text.strip() and not count:
        raise InvalidInput(f"{name} has no searchable words")
    if count > MAX_WORDS:
        raise InvalidInput(f"{name} has {count} words; a search takes at most {MAX_WORDS}")
    return found


# What a hit whose exact field is the text adds to its score: past any bm25 score of a query's words (each word's share
# is at most its idf, ~ln(documents), times 2.2), so it ranks first by relevance on both adapters.
EXACT_BOOST = 1000.0


def unaccented(text: str) -> str:
    """Text with its accents taken off, as FTS5's remove_diacritics and OpenSearch's asciifolding take them off
    ("café" is "cafe", "Việt" "Viet"), composed again (a Hangul syllable's NFD is letters, jamo, that are not marks):
    the accents of a Latin letter, one whose decomposed form is an ASCII letter and marks, which is all either index
    takes off. Another script's marks are its letters' (a Devanagari virama, a Greek tonos): both indexes keep them,
    and taking them off "हिन्दुस्ता" began no indexed word."""
    if text.isascii():
        return text
    import unicodedata

    kept = []
    for c in unicodedata.normalize("NFD", text):
        if not (kept and kept[-1].isascii() and c in _ACCENTS):  # an accent is dropped after its ASCII letter
            kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept))


def lowered(text: str) -> str:
    """Text in small letters as both indexes lower it: a capital sigma is σ wherever it stands (Python writes ς at a
    word's end, where the indexes hold σ: narrowed)."""
    return text.lower().replace("ς", "σ")


def folded(text: str) -> str:
    """Text lowercased, its accents off and its full-width and Latin letters in ASCII as a query's words are: "Café",
    "cafe" and "ＣＡＦＥ" are one text, as OpenSearch's lowercase and asciifolding make them."""
    return unaccented(lowered(narrowed(text)))


# The longest value a text field's whole value (`<field>.raw`) is kept for, as OpenSearch's ignore_above counted it
# (the value as written, in Java's UTF-16 code units). A longer one has no whole value on either index: it sorts after
# every other (as a missing value) and never matches exactly.
RAW_IGNORE_ABOVE = 256


def whole_value(value) -> str | None:
    """A text field's whole value as `<field>.raw` holds it on both indexes, for an exact match and a sort: folded;
    None past RAW_IGNORE_ABOVE (the embedded index kept the first 256 characters, so such a name sorted by its start
    there and last on OpenSearch). Only values that short are folded (a description may be kilobytes, written in every
    write)."""
    text = str(value)
    if len(text) > RAW_IGNORE_ABOVE or len(text.encode("utf-16-le")) // 2 > RAW_IGNORE_ABOVE:
        return None
    return folded(text)


def exact_value(text: str | None) -> str:
    """The text as an exact field's whole value is compared with it: folded as `<field>.raw` is, its runs of spaces
    one space (whatever its length: OpenSearch compares the whole of it)."""
    return folded(" ".join((text or "").split()))


PREFIX_MIN = 2  # a one-letter start would match a good share of every word there is


def begun_word(query: "SearchQuery", words: list[str]) -> str | None:
    """The word a prefix query matches as the start of words, as both indexes hold their terms (accents off);
    None when the query matches whole words only."""
    if not (query.prefix and words and len(words[-1]) >= PREFIX_MIN) or _unspaced(words[-1][0]):
        return None  # (a run's pairs are found inside longer runs anyway, its one character at the start of any: lone)
    return unaccented(words[-1])


def begun_join(query: "SearchQuery", phrases: list[list[str]]) -> str | None:
    """The last two words of a prefix query written together (joined_words) as the start of a term, which both match
    beside their own: "nord v" and "nord vp" begin NordVPN, as "nord" and "nord vpn" find it, where the words typed so
    far found nothing (the last one alone began no term, a letter alone none). None when the query matches whole
    words only, or its last two are not words of their own (a run's pairs)."""
    if not (query.prefix and len(phrases) > 1 and len(phrases[-1]) == len(phrases[-2]) == 1):
        return None
    before, last = phrases[-2][0], phrases[-1][0]
    return None if _unspaced(before[0]) or _unspaced(last[0]) else unaccented(before + last)


def typo_allowance(word: str) -> int:
    """Edits a word may be off by and still match: OpenSearch's fuzziness AUTO (0 / 1 / 2)."""
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2


# Stems: a query's word also matches a document's word of the same stem ("hosts" finds "hosting", "shoes" "shoe"), on
# both indexes alike because both are computed here, in Python, at index time and query time (stems_of, stem_of), and
# held in a field of their own beside the words (opensearch.STEMS, sqlite.STEM_MARK), so a word's own term and its typos
# are searched as before and a stem's match adds less than an exact word's. A program says nothing of its text's
# language, and most sources write English: the English stemmer alone, since a second language's rules applied to every
# word would join English words that English's keep apart (more hits that are not what was asked); other languages'
# shoppers' words for a category are the taxonomy's names in them (taxonomy.CATEGORY_NAMES). Only ASCII words of letters are stemmed (what an
# English stemmer is for); a name's stem changes nothing of how it is found by itself (its term, its exact boost).
STEM_LANGUAGE = "english"


def _stemmed(word: str) -> bool:
    """Whether a word has a stem to match: ASCII letters only, three or more (a shorter one is its own stem)."""
    return len(word) > 2 and word.isascii() and word.isalpha()


def stem_of(word: str) -> str | None:
    """A query's word's stem (as stems_of gives a document's), None for a word not stemmed (_stemmed)."""
    return stems_of([word])[0] if _stemmed(word) else None


def stems_of(words: list[str]) -> list[str]:
    """The stems of words (lower case, accents off, as words gives them) that are stemmed (_stemmed), in order."""
    return [_stem(word) for word in words if _stemmed(word)]


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """A word's stem, kept for the next time (the stemmer is pure Python, ~25 µs a word, and a program's words are
    mostly those of the others'). The stemmer is loaded on first use (snowballstemmer's package loads its 30-odd
    languages: ~15 ms no start pays), and one is made per word (~0.3 µs): a stemmer keeps the word it works on, so
    threads cannot share one."""
    from snowballstemmer import stemmer

    return stemmer(STEM_LANGUAGE).stemWord(word)


def document_stems(values: list[str]) -> str:
    """The distinct stems of a document's text fields' values (each its words as a query's are: words), as both
    indexes hold them in their stems field: space-separated, in the order first met."""
    found = [word for value in values for word in words(value)]
    return " ".join(dict.fromkeys(stems_of(found))) if any(map(_stemmed, found)) else ""


def expansions(words: int, text_fields: int) -> int:
    """How many indexed terms a word's typos may stand for (max_expansions): 50, fewer when there are so many
    words that their terms over every text field would pass the 1,024 clauses OpenSearch allows a query
    (counted over all its parts: 20 words with 50 terms each over 2 fields failed the search with a 500)."""
    return max(1, min(50, 800 // max(1, words * text_fields) - 1))


def previous_version(status: IndexStatus) -> int:
    older = [v for v in status.versions if v < status.current]
    if not older:
        raise InvalidInput(f"index {status.name!r} has no version older than v{status.current} to roll back to")
    return max(older)


def check_migration(status: IndexStatus, spec: IndexSpec) -> None:
    if spec.version <= status.current:
        raise InvalidInput(f"index {spec.name!r} is at v{status.current}; migrating needs a higher version, "
                           f"not v{spec.version}")


def lease_holder(doing: str, version: int) -> dict:
    """What an index's lease says of its holder, for one refused beside it: what it does ("migration", to `version`;
    "rollback", back to `version`), the host and process, and when it began (shown, never compared)."""
    import os
    import socket

    return {"doing": doing, "version": version, "by": f"{socket.gethostname()} pid {os.getpid()}",
            "since": datetime.now(UTC).isoformat(timespec="seconds")}


class MigrationRunning(ConflictError):
    """A migration or rollback refused because another holds the index's lease: not a failure of this one's work."""


def lease_taken(name: str, holder: dict | None, remedy: str = "") -> MigrationRunning:
    """Why a migration or rollback is refused while another holds the index's lease (two migrations at once both copied
    and both swapped the alias; a rollback beside a migration swapped the alias under its copy and put back the move
    records it was writing), naming the other as its lease does (a lease without "doing" is a migration's)."""
    if not isinstance(holder, dict):  # taken but not written yet, or ended since
        return MigrationRunning(f"a migration or rollback of {name!r} is running: wait for it to end{remedy}")
    return MigrationRunning(f"a {holder.get('doing', 'migration')} of {name!r} to v{holder.get('version')} by "
                            f"{holder.get('by')} since {holder.get('since')} is running: wait for it to end{remedy}")


def finishing_command(name: str, holder: dict | None) -> str:
    """The command that finishes what the holder of `name`'s lease was doing, once its lease is cleared (unlock)."""
    doing = holder.get("doing", "migration") if isinstance(holder, dict) else "migration"
    return f"amx index {'rollback' if doing == 'rollback' else 'migrate'} {name}"


def upgraded(spec: IndexSpec, docs: Iterable[dict], result: BulkResult) -> Iterator[dict]:
    """`docs` of an older version as `spec` holds them; one spec.upgrade cannot read (a stored record
    damaged or of an unknown shape) is left out and added to result.errors, which aborts a migration."""
    for doc in docs:
        if spec.upgrade is None:
            yield doc
            continue
        try:
            yield spec.upgrade(doc)
        except (KeyError, TypeError, ValueError, DamagedData) as exc:  # a pydantic ValidationError is a ValueError
            doc_id = doc.get(spec.id_field) if isinstance(doc, dict) else None
            if isinstance(exc, ValidationError):  # its first error, without pydantic's banner and links
                first = exc.errors(include_url=False)[0]
                reason = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
            elif isinstance(exc, DamagedData):  # a stored program not of its shape (program_index.from_document)
                reason = exc.problem
            else:
                reason = f"{type(exc).__name__}: {exc}"
            result.errors.append((str(doc_id), f"cannot be upgraded to v{spec.version} ({reason})"))


class Landings:
    """Where a migration's copy lands each document of the old version in the new one. An upgrade may move a document
    to another id (programs v16 re-keys a program), and two landing on one id were one written over the other, lost,
    with the migration reporting success. The first to land on an id is written; each later one is kept here, to be
    combined with it once the copy is whole (together)."""

    def __init__(self, spec: IndexSpec):
        self.spec = spec
        self.ids: set[str] = set()
        self.moved: dict[str, str] = {}  # new id -> the old id of the first document landing there, where it differs
        self.later: dict[str, list[tuple[str, dict]]] = {}  # new id -> (old id, document) of each that landed later

    def first(self, old_id: str, doc: dict) -> bool:
        """Whether `doc` (upgraded from the document `old_id`) is the first to land on its id: written now."""
        new_id = doc.get(self.spec.id_field) if isinstance(doc, dict) else None
        if not isinstance(new_id, str) or new_id not in self.ids:
            if isinstance(new_id, str):  # (one with no id is the adapter's to refuse)
                self.ids.add(new_id)
                if new_id != old_id:
                    self.moved[new_id] = old_id
            return True
        self.later.setdefault(new_id, []).append((old_id, doc))
        return False

    def moves(self) -> dict[str, str]:
        """Old id -> new id of each document the copy landed on another id than its own (recorded: MOVED_INDEX)."""
        firsts = {old_id: new_id for new_id, old_id in self.moved.items()}
        return firsts | {old_id: new_id for new_id, later in self.later.items() for old_id, _ in later
                         if old_id != new_id}

    def combined(self) -> int:
        """How many documents landed on an id another had landed on first."""
        return sum(map(len, self.later.values()))

    def together(self, stored, result: BulkResult) -> list[dict]:
        """Each id several documents landed on as one document, spec.combine of them all (`stored(id)`: the first's,
        as written); one combine cannot make is added to result.errors, which aborts the migration. A spec with no
        combine refuses the migration, naming the documents: which of them holds what is its code's to say."""
        if not self.later:
            return []
        name, version = self.spec.name, self.spec.version
        landed = {new_id: [self.moved.get(new_id, new_id), *(old_id for old_id, _ in later)]
                  for new_id, later in self.later.items()}
        if self.spec.combine is None:
            new_id, old_ids = next(iter(landed.items()))
            more = f" ({len(landed) - 1} more ids alike)" if len(landed) > 1 else ""
            raise InvalidInput(f"migration of {name!r} to v{version} aborted before the swap: documents "
                               f"{', '.join(old_ids)} all become {new_id}, one written over another{more}")
        from affiliate_matrix.observability import get_logger

        together = []
        for new_id, later in self.later.items():
            try:
                one = self.spec.combine([stored(new_id), *(doc for _, doc in later)])
                if one.get(self.spec.id_field) != new_id:
                    raise ValueError(f"combined under another id, {str(one.get(self.spec.id_field))[:100]!r}")
            except (KeyError, TypeError, ValueError) as exc:
                result.errors.append((new_id, f"documents {', '.join(landed[new_id])} land on it and cannot be "
                                              f"combined ({type(exc).__name__}: {exc})"[:500]))
                continue
            together.append(one)
            get_logger().warning("index.migration_combined", index=name, version=version, id=new_id,
                                 documents=landed[new_id])
        return together


# The ids documents moved from: a migration whose upgrade gives a document another id (programs v16 re-keyed a name in
# another script), or an import of a file exported before it, records old id -> new id in the step that moves it, so
# what names the old id (a link, a feed's earlier entries, a campaign) still finds the document (moves.py reads them).
# A record's id is "<index>:<old id>"; one a migration replaced (ended, or wrote over) is kept as
# "<index>@v<version>:<old id>" for its rollback (set_aside); and while a rollback of an index is under way,
# "<index>@rollback" says from which version (old) to which (to) (begin_rollback). No reader follows either.
MOVED_INDEX = IndexSpec("moved", 1, {"id": "keyword", "index": "keyword", "old": "keyword", "to": "keyword",
                                     "at": "date", "by": "keyword"})


def move_records(name: str, moves: dict[str, str], by: str) -> tuple[list[dict], list[str]]:
    """The records of `moves` (old id -> new id, of index `name`), and the ids of the records they end: a new id is a
    document's now, so a record of that id moving on is stale and goes, and no chain of moves can come back to itself
    (each record written leaves its target none)."""
    at = datetime.now(UTC).isoformat()  # when, for people: no decision reads it
    records = [{"id": f"{name}:{old}", "index": name, "old": old, "to": new, "at": at, "by": by}
               for old, new in moves.items() if old != new]
    return records, [f"{name}:{new}" for new in set(moves.values()) - set(moves)]


def migration_label(name: str, version: int) -> str:
    """The `by` of the records the migration of `name` to `version` writes: how its end and its rollback find them."""
    return f"migration of {name} to v{version}"


def set_aside(record: dict, version: int) -> dict:
    """A record the migration to `version` replaced, kept for its rollback (restored) under the index
    `<name>@v<version>`, which no reader follows (moves.py reads the records of the programs index alone)."""
    kept = f"{record['index']}@v{version}"
    return {**record, "id": f"{kept}:{record['old']}", "index": kept}


def kept_for_rollback(name: str, version: int, replaced: dict[str, dict]) -> list[dict]:
    """The copies (set_aside) the migration of `name` to `version` keeps of the records it replaces: those it ends and
    those it writes over (an id it moves that had a record already, a stale one: its id was a program's). Not its own
    (the same migration run again after a stop): their copy holds the record before it."""
    return [set_aside(record, version) for record in replaced.values()
            if record.get("by") != migration_label(name, version)]


def restored(record: dict, name: str) -> dict:
    """A record of index `name` set aside (set_aside) as it was before the migration replaced it."""
    return {**record, "id": f"{name}:{record['old']}", "index": name}


def _records(index: "SearchIndex", filters: dict[str, list]) -> list[dict]:
    """Every move record matching `filters`, page after page (none before any id has moved)."""
    from affiliate_matrix.errors import NotFoundError

    query, found = SearchQuery(filters=filters, size=MAX_PAGE), []
    while True:
        try:
            result = index.search(MOVED_INDEX.name, query)
        except NotFoundError:
            return found
        found += [hit.doc for hit in result.hits]
        if not result.next_cursor:
            return found
        query = query.replaced(cursor=result.next_cursor)


def _write_records(index: "SearchIndex", records: list[dict], failed: str) -> None:
    if records:
        result = index.bulk_upsert(MOVED_INDEX.name, records, refresh=True)
        if result.errors:
            raise InvalidInput(f"{failed}: {result.errors[0]}")


def record_moves(index: "SearchIndex", name: str, moves: dict[str, str], by: str, *, end: bool = True,
                 kept_for: int | None = None) -> None:
    """`moves` recorded (move_records) through the port, for a writer that has no transaction around its move: an
    import once it has written the programs (a record never names one not written). With end=False, only written:
    a migration on OpenSearch writes them before its alias swap (a record whose old id is still held is not followed:
    moves.py) and ends the records they make stale only after it (end_moves); with kept_for (its version), the records
    they write over are set aside for its rollback first (kept_for_rollback)."""
    records, _ = move_records(name, moves, by)
    if not records:
        return
    index.ensure_index(MOVED_INDEX)
    if kept_for is not None:
        over = index.get_many(MOVED_INDEX.name, [record["id"] for record in records])
        _write_records(index, kept_for_rollback(name, kept_for, over), f"the moves of {name} could not be set aside")
    _write_records(index, records, f"the moves of {name} could not be recorded")
    if end:
        end_moves(index, name, moves)


def end_moves(index: "SearchIndex", name: str, moves: dict[str, str], *, kept_for: int | None = None) -> int:
    """End the records `moves` make stale (move_records: a new id's own record of moving on): once the new ids are
    documents', never before, or a move that stopped short would leave a new id no document's and its move gone.
    A migration's (kept_for: its version) are set aside for its rollback (kept_for_rollback) before they go; an
    import's just go. Idempotent; how many it ended."""
    _, ended = move_records(name, moves, "")
    stale = index.get_many(MOVED_INDEX.name, ended) if ended else {}  # (some id moved: MOVED_INDEX is made)
    if stale and kept_for is not None:
        _write_records(index, kept_for_rollback(name, kept_for, stale), f"the moves of {name} could not be set aside")
    for record_id in stale:
        index.delete(MOVED_INDEX.name, record_id, refresh=True)
    return len(stale)


def migration_moves(index: "SearchIndex", name: str, version: int) -> dict[str, str]:
    """The moves (old id -> new id) the migration of `name` to `version` recorded, read back from its records."""
    return {r["old"]: r["to"] for r in _records(index, {"index": [name], "by": [migration_label(name, version)]})}


def restore_moves(index: "SearchIndex", name: str, version: int, *, swapped: bool) -> None:
    """The records the migration to `version` replaced put back from their copies (set_aside), each only where the
    record now is the one that migration left. Before a rollback's alias swap, those it ended (none is there now):
    their old ids are held until the swap, so none is followed before it. After the swap (swapped), also those it
    wrote over (its own record is there now): before the swap their old ids had moved, and the migration's record of
    that move was followed. A record an import wrote since is kept (SearchIndex.rollback)."""
    kept = _records(index, {"index": [f"{name}@v{version}"]})
    if not kept:
        return
    now = index.get_many(MOVED_INDEX.name, [f"{name}:{record['old']}" for record in kept])
    label = migration_label(name, version)
    _write_records(index, [restored(record, name) for record in kept
                           if (there := now.get(f"{name}:{record['old']}")) is None
                           or (swapped and there.get("by") == label)], f"the moves of {name} could not be restored")


def forget_moves(index: "SearchIndex", name: str, version: int) -> None:
    """A rollback's last step, after its alias swap: the records the migration to `version` wrote over put back
    (restore_moves), the rest of its own go (their old ids are held again, so none was followed since the swap), then
    the copies it kept (set_aside). Each step again finishes one a stop cut short."""
    restore_moves(index, name, version, swapped=True)
    for record in _records(index, {"index": [name], "by": [migration_label(name, version)]}):
        index.delete(MOVED_INDEX.name, record["id"], refresh=True)
    for record in _records(index, {"index": [f"{name}@v{version}"]}):
        index.delete(MOVED_INDEX.name, record["id"], refresh=True)


def drop_lost_copies(index: "SearchIndex", name: str) -> int:
    """The copies kept for rollbacks (set_aside) that no rollback can read any more, deleted: those of a version no
    longer kept, or with none below it left to roll back to (OpenSearch's retention policy deletes a version the alias
    left 30 days on). How many."""
    from affiliate_matrix.errors import NotFoundError
    from affiliate_matrix.observability import get_logger

    try:
        kept = index.search(MOVED_INDEX.name, SearchQuery(facets=["index"], facet_size=200, size=0)).facets["index"]
    except NotFoundError:
        return 0
    versions, prefix = index.status(name).versions, f"{name}@v"
    kept_for = {value: int(value[len(prefix):]) for value, _ in kept
                if value.startswith(prefix) and value[len(prefix):].isdigit()}
    lost = [value for value, version in kept_for.items() if version not in versions or version <= min(versions)]
    gone = _records(index, {"index": lost}) if lost else []
    for record in gone:
        index.delete(MOVED_INDEX.name, record["id"], refresh=True)
    if gone:
        get_logger().info("index.rollback_copies_dropped", index=name, versions=sorted(kept_for[v] for v in lost),
                          records=len(gone), reason="no rollback from those versions is left to read them")
    return len(gone)


def begin_rollback(index: "SearchIndex", name: str, start: int, version: int) -> None:
    """Record that a rollback of `name` from `start` to `version` is under way, before its first step: one stopped
    part-way (after its alias swap, the index is at `version` and a rollback run again took it one version further
    back) is finished by the next (SearchIndex.finish_rollback), which rolls back no further."""
    index.ensure_index(MOVED_INDEX)
    marker = {"id": f"{name}@rollback", "index": f"{name}@rollback", "old": str(start), "to": str(version),
              "at": datetime.now(UTC).isoformat(), "by": f"rollback of {name} from v{start} to v{version}"}
    _write_records(index, [marker], f"the rollback of {name} could not be recorded")


def rollback_begun(index: "SearchIndex", name: str) -> tuple[int, int] | None:
    """The rollback of `name` begun and not finished (begin_rollback): (the version it rolls back from, the one it rolls
    back to); None when there is none."""
    from affiliate_matrix.errors import NotFoundError

    try:
        marker = index.get(MOVED_INDEX.name, f"{name}@rollback")
    except NotFoundError:  # no id has moved, nor any rollback begun
        return None
    return None if marker is None else (int(marker["old"]), int(marker["to"]))


def rollback_target(index: "SearchIndex", name: str) -> tuple[int, int]:
    """(from, to) of the rollback of `name`: the one begun and not finished, else from the live version to the newest
    kept below it (previous_version)."""
    if (begun := rollback_begun(index, name)) is not None:
        return begun
    status = index.status(name)
    return status.current, previous_version(status)


def rollback_can_finish(status: IndexStatus, version: int) -> bool:
    """Whether a rollback to `version` begun on the index `status` describes can finish: the version is kept (or live
    already, its swap done); one deleted before its swap can only be given up (SearchIndex.abandon_rollback)."""
    return status.current == version or version in status.versions


def rollback_left(index: "SearchIndex", name: str) -> tuple[str, str] | None:
    """A rollback of `name` begun and not finished (running, or stopped part-way): the command that finishes it, or
    gives it up when it cannot finish, and what it is in words; None when there is none (`amx index status`)."""
    if (begun := rollback_begun(index, name)) is None:
        return None
    start, version = begun
    if rollback_can_finish(index.status(name), version):
        return (f"amx index rollback {name}", f"the rollback from v{start} to v{version} is running or stopped "
                                              "part-way: run again, the command finishes it")
    return (f"amx index rollback {name} --abandon", f"the rollback from v{start} to v{version} cannot finish "
                                                    f"(v{version} was deleted): the command gives it up, the index "
                                                    f"staying at v{start}")


def end_rollback(index: "SearchIndex", name: str) -> None:
    index.delete(MOVED_INDEX.name, f"{name}@rollback", refresh=True)


def utc_time(value) -> datetime:
    """A date field's value as both indexes read a document's: ISO 8601 text (or a date or datetime), a bare date at
    its midnight UTC and a time without a zone in UTC, as OpenSearch reads them (SQLite's reading took the
    machine's zone)."""
    from affiliate_matrix.model_types import in_utc

    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value.isoformat() if isinstance(value, date) else str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else in_utc(value)


# A date as a document holds it and a query asks it: ISO 8601 text in its extended form (dashes, and a T before a
# time), as OpenSearch's date mapping reads it (strict_date_optional_time; other text it reads as epoch milliseconds).
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:T|$)"  # compiled by re on first use (writes, time ranges): not by every start


def iso_time(value) -> datetime:
    """ISO 8601 text as the datetime it names (a bare date at its midnight; the zone as written, or none), read by the
    one rule for a date a document holds, a query asks and an API takes (_ISO_DATE): a ValueError for any other value,
    or a day or time that does not exist. Python's own reader also takes a space before the time, week and
    basic-form dates ("2026-W49-1", "20261201T1200Z"), which OpenSearch's date mapping does not."""
    if not isinstance(value, str) or not re.match(_ISO_DATE, value):
        raise ValueError("not ISO 8601 text in its extended form")
    return datetime.fromisoformat(value)


def document_times(spec: IndexSpec, doc: dict) -> list[tuple[str, datetime]]:
    """Each value of the document's date fields as (field, the instant both indexes read: utc_time). A value that is
    not a date, a datetime or ISO 8601 text with dashes is refused (ValueError naming the field) before either index
    sees it: SQLite read a number as seconds since 1970 and OpenSearch as milliseconds, and text of digits alone
    ("20240101") as a date and as milliseconds."""
    found = []
    for field, kind in spec.fields.items():
        if kind != "date" or doc.get(field) is None:
            continue
        for value in doc[field] if isinstance(doc[field], list) else [doc[field]]:
            if value is None:
                continue
            try:
                found.append((field, utc_time(value if isinstance(value, date) else iso_time(value))))
            except ValueError:  # not the shape above, or no such day or time ("2026-02-30")
                shown = value[:40] if isinstance(value, str) else value
                raise ValueError(f"field {field!r} is a date: ISO 8601 text such as 2026-06-01T12:00:00Z, "
                                 f"not {shown!r}") from None
    return found


def query_time(value, name: str) -> str:
    """A date a search compares with (a range's bound, a filter's value) as ISO 8601 in UTC, to the microsecond, which
    both indexes read as the same instant. A bare date is its midnight UTC (OpenSearch took one as a range's upper
    bound for its last millisecond). A time must say its zone: SQLite read one without in the machine's zone and
    OpenSearch in UTC, so one without is refused, naming `name`."""
    shown = value[:40] if isinstance(value, str) else value
    not_a_date = InvalidInput(f"{name} {shown!r} is not an ISO 8601 date or time such as 2026-06-01T12:00:00Z")
    try:  # a number is refused too: seconds to SQLite, milliseconds to OpenSearch
        when = iso_time(value)
    except ValueError:
        raise not_a_date from None
    if when.tzinfo is None and "T" in value:
        raise InvalidInput(f"{name} {value[:40]!r} has no time zone: end it with Z (UTC) or an offset such as +02:00")
    if when.tzinfo is None:  # a bare date: its midnight in UTC
        return when.replace(tzinfo=UTC).isoformat()
    from affiliate_matrix.model_types import in_utc

    try:
        return in_utc(when).isoformat()
    except ValueError as exc:
        raise InvalidInput(f"{name} {exc}") from None


def _in_utc(spec: IndexSpec, query: SearchQuery) -> SearchQuery:
    """The query with every date it compares with as query_time gives it, before either index reads one."""
    def filters(given: dict) -> dict:
        return {field: [query_time(v, field) for v in values] if spec.fields[field] == "date" else values
                for field, values in given.items()}

    def bounds(rng: Range, field: str) -> Range:
        return Range(gte=None if rng.gte is None else query_time(rng.gte, field),
                     lte=None if rng.lte is None else query_time(rng.lte, field))

    if not any(spec.fields[field] == "date" for field in (*query.filters, *query.post_filters, *query.ranges)):
        return query
    ranges = {field: ([bounds(r, field) for r in rs] if isinstance(rs, list) else bounds(rs, field))
              if spec.fields[field] == "date" else rs for field, rs in query.ranges.items()}
    return query.replaced(filters=filters(query.filters), post_filters=filters(query.post_filters), ranges=ranges)


class IndexBehind(ConfigError):
    """A query naming a field the live index lacks: the index is behind the code (a version not migrated to yet)."""
    shown = True  # its words name the index and the command to run, no setting's value: an operator reads them


def migrate_first(name: str, live: int, wanted: int) -> str:
    """What is refused before an index's migration says: the version it is at, the one the code needs, and the command
    that brings it there."""
    return f"{name} is at v{live} but this code needs v{wanted}: run `amx index migrate {name}` first"


def validate_query(spec: IndexSpec, query: SearchQuery) -> SearchQuery:
    """Reject fields the index does not have, or cannot filter, facet or sort on, by name. Every caller names fields
    from the code, never from a request (the API checks its parameters first), so a field the live index lacks is
    the index behind the code, a version not migrated to yet (or rolled back from): a ConfigError naming the
    migration (503: the caller is not at fault), where a field of the wrong kind stays InvalidInput. A facet the live
    index lacks is left out instead, the rest answered: a count changes no hit, and a facet a version adds (programs
    v21's deeplinks, asked by every search) made every search a 503 until the migration. Returns the query with its
    dates in UTC (_in_utc) and only the facets it holds: what the index is asked."""
    if any(name not in spec.fields for name in query.facets):
        query = query.replaced(facets=[name for name in query.facets if name in spec.fields])
    asked = [*query.filters, *query.post_filters, *query.ranges, *query.facets, *query.exact,
             *(key.field for key in query.sort)]
    if missing := sorted({name for name in asked if name not in spec.fields}):
        raise IndexBehind("index", f"{spec.name} (v{spec.version}) has no field {', '.join(map(repr, missing))}: "
                                   f"if this code is newer than the index, run `amx index migrate {spec.name}`")
    for name in [*query.filters, *query.post_filters]:
        if spec.fields.get(name) not in FILTERABLE:
            raise InvalidInput(f"cannot filter on {name!r}: not a filterable field of {spec.name}")
    for name in query.ranges:
        if spec.fields.get(name) not in ("number", "date"):
            raise InvalidInput(f"cannot range-filter on {name!r}: not a number or date field of {spec.name}")
    for name in query.facets:
        if spec.fields.get(name) not in ("keyword", "bool"):
            raise InvalidInput(f"cannot facet on {name!r}: not a keyword field of {spec.name}")
    for name in query.exact:
        if spec.fields.get(name) != "text":
            raise InvalidInput(f"cannot match {name!r} exactly: not a text field of {spec.name}")
    for key in query.sort:
        if spec.fields.get(key.field) in (None, "stored"):
            raise InvalidInput(f"cannot sort on {key.field!r}: not a sortable field of {spec.name}")
        if key.within is not None and (spec.fields[key.field] != "number" or any(
                isinstance(bound, str) for bound in (key.within.gte, key.within.lte))):
            raise InvalidInput(f"cannot sort on {key.field!r} within a range: not a number field of {spec.name}, "
                               "or not a range of numbers")
    if query.cursor and query.offset:
        raise InvalidInput("use either cursor or offset, not both")
    return _in_utc(spec, query)


# A cursor is a position, not a credential: a forged one can only ask for a page of the caller's own
# query, which the caller may ask for anyway. So it is not signed (no key to share and rotate); it is
# read strictly: exactly this shape, the sort values as scalars a backend takes, one per sort key (the
# adapters check the count; decode_cursor bounds it by the query's keys: a score, its sort, the id).
def _sort_value(value):
    """Null, a bool, a 64-bit int, a finite float, or a string of at most 1000 characters of Unicode text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= 1000:
        value.encode("utf-8")  # a lone surrogate ("\ud800" in JSON) cannot be bound
        return value
    raise ValueError(f"not a sort value ({type(value).__name__})")


@cache
def _cursor_shape():
    """A cursor's model, defined when the first cursor is read: most starts never page."""
    from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

    class Cursor(BaseModel):
        model_config = ConfigDict(extra="forbid")
        q: StrictStr = Field(pattern=r"^[0-9a-f]{16}$")
        a: list[Annotated[Any, AfterValidator(_sort_value)]]
        # the view a relevance sort pages in (OpenSearch's PIT id, base64; the embedded index's, views.py), absent
        # where none was opened
        p: StrictStr | None = Field(None, max_length=1000, pattern=r"^[A-Za-z0-9+/=_-]+$")
        # a backward cursor: the page is the hits just before `a` (a previous_cursor), absent for the hits after it
        b: Literal[True] | None = None

    return Cursor


def encode_cursor(query: SearchQuery, after: list, point: str | None = None, backward: bool = False) -> str:
    """The cursor of the page after the hit whose sort values are `after` (before it, `backward`)."""
    # UTF-8, not ASCII escapes: a CJK character is 3 bytes, not 6, so a cursor past a 256-character name stays within
    # the 2,000 characters a cursor may be passed back in (indexed text is UTF-8, so every value encodes)
    cursor = {"q": query.fingerprint(), "a": after, **({"p": point} if point else {}),
              **({"b": True} if backward else {})}
    raw = json.dumps(cursor, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: SearchQuery) -> list | None:
    """The sort values a cursor pages after (None: the first page)."""
    cursor = _read_cursor(query)
    return None if cursor is None else cursor.a


def cursor_backward(query: SearchQuery) -> bool:
    """Whether a query's cursor asks for the page before its sort values (a previous_cursor), not after them. Only a
    sort by fields gives one: the adapters refuse a relevance sort's as malformed (its pages are a view's, forward)."""
    cursor = _read_cursor(query)
    return cursor is not None and bool(cursor.b)


def cursor_point(query: SearchQuery) -> str | None:
    """The view (a point in time) a query's cursor pages in (encode_cursor's `point`), None when it names none."""
    cursor = _read_cursor(query)
    return None if cursor is None else cursor.p


def _read_cursor(query: SearchQuery):
    if not query.cursor:
        return None
    try:  # the standard library's JSON keeps 2**70 an int, which the bounds then refuse
        raw = base64.urlsafe_b64decode(query.cursor + "=" * (-len(query.cursor) % 4))
        cursor = _cursor_shape().model_validate(json.loads(raw))
        # a commission sort has a key per flat currency asked: a bound of 10 refused the cursor of 9 or more
        if len(cursor.a) > len(query.sort) + 2:
            raise ValueError("more sort values than the query has keys")
        # its last value is its hit's id, every sort's last key (ties broken by it), which every document has: a null
        # there (a field's "missing", sorting last, read as a place past every hit) is no cursor a page gave
        if not cursor.a or not isinstance(cursor.a[-1], str):
            raise ValueError("no hit's id last")
    except (ValueError, ValidationError, RecursionError):  # not base64, not JSON, or not exactly a cursor's shape
        raise malformed_cursor() from None
    if cursor.q != query.fingerprint():
        # (said of every paged route: the change feed has no q nor sort)
        raise InvalidInput(f"cursor belongs to a different query: {CURSOR_OF_ITS_QUERY}")
    return cursor


class SearchIndex(ABC):
    """The port."""

    @abstractmethod
    def ensure_index(self, spec: IndexSpec) -> str:
        """Create the spec's physical index if missing and point the alias at it when the alias is new."""
        ...

    @abstractmethod
    def bulk_upsert(self, name: str, docs: Iterable[dict], *, refresh: bool = False) -> BulkResult:
        """Index documents by their id; the same batch twice leaves the same index. Per-item errors are returned."""
        ...

    @abstractmethod
    def get(self, name: str, doc_id: str) -> dict | None:
        ...

    @abstractmethod
    def get_many(self, name: str, doc_ids: Iterable[str]) -> dict[str, dict]:
        """The documents of these ids that exist, by id, in one request per MAX_PAGE ids (not one per id: a page
        naming its programs made 20 round trips to OpenSearch)."""
        ...

    @abstractmethod
    def get_versioned(self, name: str, doc_ids: Iterable[str]) -> dict[str, Versioned]:
        """As get_many, each document with its version, for write_if_unchanged."""
        ...

    @abstractmethod
    def write_if_unchanged(self, name: str, docs: Iterable[tuple[dict, Any]], *, refresh: bool = False) -> BulkResult:
        """Index each document (with the version get_versioned read it at, None when it was absent) only if it is
        still as read: unchanged since, or still absent. One changed (or created) since is not written and is
        listed in result.conflicts, not errors: the caller reads it again and retries. Each document is checked
        and written on its own (two run at once each win some)."""
        ...

    @abstractmethod
    def delete(self, name: str, doc_id: str, *, refresh: bool = False) -> bool:
        """Delete one document; whether it was there. With refresh, the next search no longer finds it (OpenSearch
        shows a delete at its next refresh, a second later by default; the embedded index at once)."""
        ...

    @abstractmethod
    def search(self, name: str, query: SearchQuery) -> SearchResult:
        ...

    @abstractmethod
    def documents(self, name: str) -> Iterator[dict]:
        """Every document of the live version as written, read as a migration reads the version it copies (a page at a
        time, memory flat): what a backup holds (index_backup.py). Written since it began: in it or not."""
        ...

    @abstractmethod
    def live_spec(self, name: str) -> IndexSpec:
        """The spec the live version was made with, as stored with it (older than the code's until a migration)."""
        ...

    def refresh(self, name: str) -> None:
        """Make recent writes searchable."""

    def delete_before(self, name: str, field: str, before: str, batch: int = 500) -> int:
        """Delete every document whose date `field` is at or before `before` (retention); returns how many.
        Built on search and delete, so both adapters behave the same way."""
        query, deleted = SearchQuery(ranges={field: Range(lte=before)}, size=batch), 0
        while True:
            hits = self.search(name, query).hits
            if not hits:
                return deleted
            for hit in hits:
                deleted += self.delete(name, hit.id)
            self.refresh(name)

    @abstractmethod
    def generation(self, name: str) -> str:
        """Changes whenever the index's content or version changes: the key for caches and ETags."""
        ...

    @abstractmethod
    def status(self, name: str) -> IndexStatus:
        """Which versions exist and which one the alias points at."""
        ...

    def migrate(self, spec: IndexSpec) -> int:
        """Zero-downtime move to spec.version: create it, copy every document (as spec.upgrade makes it,
        when the spec has one), swap the alias in one step, keep the old version for rollback. Reads never
        stop; a document the upgrade or the new mapping refuses aborts the migration before the swap.
        One at a time per index: a migration holds the index's lease throughout, and one begun beside it, or a rollback,
        is refused (lease_taken). A rollback of the index a stop left part-way is finished first (finish_rollback): the
        migration builds on the version it rolled back to. Returns the number of documents copied."""
        with self._lease(spec.name, lease_holder("migration", spec.version)):
            self._finish_rollback(spec.name)
            return self._migrate(spec)

    @abstractmethod
    def _migrate(self, spec: IndexSpec) -> int:
        """migrate's copy and alias swap, under the index's lease."""
        ...

    def finish_migration(self, spec: IndexSpec) -> int:
        """What the migration to the live version `spec` left undone, done: one stopped after its alias swap (on
        OpenSearch, a separate step) left the records its moves made stale, which it ends (end_moves) as it would have.
        `amx index migrate` runs it for an index at the code's version, as a deploy does every time; a rollback a stop
        left part-way is finished first (finish_rollback). Under the migration's lease; idempotent; how many records it
        ended (0 for a version not live). The copies no rollback can read any more go too (drop_lost_copies)."""
        with self._lease(spec.name, lease_holder("migration", spec.version)):
            self._finish_rollback(spec.name)
            if self.status(spec.name).current != spec.version:
                return 0
            ended = end_moves(self, spec.name, migration_moves(self, spec.name, spec.version), kept_for=spec.version)
            drop_lost_copies(self, spec.name)
            return ended

    @abstractmethod
    def _lease(self, name: str, holder: dict):
        """The index's lease, a context manager: one migration or rollback of an index (or its finish) at a time, the
        holder saying what it is (lease_holder); one begun beside it is refused (lease_taken)."""
        ...

    def unlock(self, name: str) -> dict | None:
        """Clear the lease of a migration or rollback whose process died (what it said of itself, None when none was
        held), and what that migration left blocked. Only for one known not to run any more."""
        return None

    def rollback(self, name: str) -> int:
        """Point the alias back at the newest version below the current one; returns that version. The move records
        are as they were before the migration to the current one: those it ended put back before the swap, those it
        wrote over after it (restore_moves), and the rest of those it wrote gone (forget_moves); in between, each names
        an id the index holds, so none is followed (moves.py). A record an import wrote since is kept, as the programs
        it wrote are not. A rollback that stopped part-way (begin_rollback records each before its first step) is
        finished by the next, which rolls back no further: it returns the version that one rolled back to. Under the
        index's lease, as a migration: one beside it is refused (its alias swap and move records under the other's)."""
        _, version = rollback_target(self, name)  # for its lease's holder; read again under the lease
        with self._lease(name, lease_holder("rollback", version)):
            if rollback_begun(self, name) is None:
                begin_rollback(self, name, *rollback_target(self, name))
            return self._finish_rollback(name)

    def finish_rollback(self, name: str) -> int | None:
        """The rollback of `name` begun (begin_rollback) and not finished, finished under the index's lease: the version
        it rolled back to, None when none was begun."""
        if (begun := rollback_begun(self, name)) is None:
            return None
        with self._lease(name, lease_holder("rollback", begun[1])):
            return self._finish_rollback(name)

    def _finish_rollback(self, name: str) -> int | None:
        """finish_rollback, under the lease. Every step is idempotent, so one run again after a stop at any of them does
        only what is left: the records put back, the alias swap (unless done), the migration's records and copies
        gone. One whose version was deleted before its swap (the retention policy) can never finish: refused before any
        step, the alias left where it is (abandon_rollback gives it up)."""
        begun = rollback_begun(self, name)
        if begun is None:
            return None
        start, version = begun
        status = self.status(name)
        if not rollback_can_finish(status, version):
            raise ConflictError(
                f"the rollback of {name!r} from v{start} to v{version} cannot finish: v{version} was deleted since it "
                f"began (the retention policy deletes a version 30 days after the alias left it), and {name!r} is "
                f"still at v{status.current}; run `amx index rollback {name} --abandon` to give it up (the index "
                f"stays at v{status.current}), then `amx index rollback {name}` for a rollback to a version still kept")
        restore_moves(self, name, start, swapped=False)
        if status.current != version:
            self._point_back(name, version)
        forget_moves(self, name, start)
        end_rollback(self, name)
        from affiliate_matrix.observability import get_logger

        get_logger().info("index.rolled_back", index=name, version=version, rolled_back_from=start)
        return version

    def abandon_rollback(self, name: str) -> tuple[int, int] | None:
        """Give up the rollback of `name` that cannot finish (its version deleted before its swap: _finish_rollback),
        under the index's lease: its record goes, the alias stays on the version it never left, and the move records are
        as the migration to that version left them (those a first attempt put back ended again). (from, to) of the
        rollback given up, None when none was begun; one that can still finish is refused (giving it up after its
        alias swap would leave the index at the older version with the newer one's records)."""
        if (begun := rollback_begun(self, name)) is None:
            return None
        with self._lease(name, lease_holder("rollback", begun[1])):
            if (begun := rollback_begun(self, name)) is None:
                return None
            start, version = begun
            status = self.status(name)
            if rollback_can_finish(status, version):
                raise InvalidInput(f"the rollback of {name!r} from v{start} to v{version} can still finish (v{version} "
                                   f"is kept): run `amx index rollback {name}` to finish it")
            end_moves(self, name, migration_moves(self, name, start), kept_for=start)
            end_rollback(self, name)
        from affiliate_matrix.observability import get_logger

        get_logger().warning("index.rollback_abandoned", index=name, version=version, rolled_back_from=start,
                             reason=f"v{version} was deleted before the rollback's alias swap; the index stays at "
                                    f"v{status.current}")
        return start, version

    @abstractmethod
    def _point_back(self, name: str, version: int) -> None:
        """A rollback's alias swap: the alias of `name` onto its kept `version`."""
        ...

    def check(self) -> None:
        """Raise ConfigError naming the setting when the index backend is unusable."""
