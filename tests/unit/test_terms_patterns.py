"""The terms extractor's patterns (affiliate_matrix/terms/text.py `Pattern`): a text holding nothing every match of a
pattern needs is not scanned, and that skips only scans that would find nothing; while one text is read, a pattern's
result on a string is computed once."""

import importlib
import pkgutil
import re
import sys

import pytest
from hypothesis import given, settings, strategies as st

from affiliate_matrix import terms
from affiliate_matrix.terms import text as terms_text
from affiliate_matrix.terms.text import Pattern, reading
from tests.support.terms_corpus import load, split


def _patterns() -> list[Pattern]:
    """Every pattern of the extractor's modules, those kept in dicts and tuples too."""
    found = {}
    for module in pkgutil.iter_modules(terms.__path__):
        for value in vars(importlib.import_module(f"affiliate_matrix.terms.{module.name}")).values():
            for item in (value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else [value]):
                if isinstance(item, Pattern):
                    found[id(item)] = item
    return list(found.values())


def _cased_characters() -> str:
    """Every character whose case maps, or that the engine holds equal to another (ſ, ı, K)."""
    extra = {chr(c) for c in re._casefix._EXTRA_CASES}
    return "".join(c for c in map(chr, range(sys.maxunicode + 1))
                   if not 0xD800 <= ord(c) < 0xE000 and (c.lower() != c or c.upper() != c or c in extra))


def test_folding_compares_characters_as_a_case_insensitive_pattern_does():
    literals = {character for pattern in _patterns() for character in pattern.pattern if character.isalpha()}
    cased = _cased_characters()
    assert len(terms_text._folded(cased)) == len(cased)  # one folded character for each: "İ" too
    wrong = [(literal, found.group()) for literal in sorted(literals)
             for found in re.finditer(re.escape(literal), cased, re.I)
             if terms_text._folded(found.group()) != terms_text._folded(literal)]
    assert wrong == []


def test_a_text_without_what_a_pattern_needs_is_not_scanned(monkeypatch):
    cue = Pattern(r"\b(?:commission|provision)s?\b|revenue share", re.I)
    figure = Pattern(r"(?<![\d.])\d+(?:[.,]\d+)?\s*%", re.I)
    assert cue.may_match("Our COMMISSIONS are paid monthly") and cue.search("Die Provıſion: 5 %") is not None
    assert not cue.may_match("Payouts are monthly via PayPal") and cue.search("Payouts are monthly via PayPal") is None
    assert figure.may_match("٣٠ %") and figure.search("٣٠ %") is not None  # any decimal digit, Arabic-Indic too
    assert not figure.may_match("thirty percent") and figure.sub("X", "thirty percent") == "thirty percent"
    assert figure.split("no figure") == ["no figure"] and list(figure.finditer("none")) == []
    # A pattern whose every match needs only a character in nearly every text is always scanned.
    assert Pattern(r"\bu\b|you", re.I).may_match("no such word")


# Parts a match need not hold (a negative lookaround, an optional part, a repeat of none, an empty branch, a
# back-reference) beside parts it must (a positive lookaround, a repeat at least once, an atomic group): a change in
# the private parser `_needed` reads that counted the words of one of the first as needed would skip texts that match.
_CONSTRUCTS = (r"(?<!pre)fix", r"fix(?!ed)", r"(?!never)\w+ing", r"(?<!\bno )pay", r"(?<=pay)out", r"(?=pay)\w+",
               r"(?:bonus )?rate", r"x(?:abc){0,2}y", r"(?:cash|)back", r"(?:net)*work", r"(?:net)+work",
               r"(pay|fix)\s\1", r"(?>never|pre)fix", r"[kſ]ing|state", r"\d+ days?", r"(?:up to )??\d")
_PIECES = ("pre", "fix", "ed", "never", "ing", "no ", "pay", "out", "bonus ", "rate", "x", "abc", "y", "cash", "back",
           "net", "work", "state", "\u017fing", "KING", "\u212aing", "30", " days", "up to ", " ", "İ")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_CONSTRUCTS), st.lists(st.sampled_from(_PIECES), max_size=6).map("".join), st.booleans())
def test_a_text_is_skipped_only_where_the_engine_finds_no_match(pattern, text, ignoring_case):
    flags = re.I if ignoring_case else 0
    assert Pattern(pattern, flags).may_match(text) or re.search(pattern, text, flags) is None


# What the engine holds equal to a letter in a case-insensitive pattern, written otherwise: a text's every word in
# capitals, a dotted capital I, a long s and a Kelvin sign for k.
_VARIANTS = (str.upper, lambda t: t.replace("i", "\u0130"), lambda t: t.replace("s", "\u017f").replace("k", "\u212a"))


@pytest.mark.parametrize("variant", [lambda t: t, *_VARIANTS],
                         ids=["as written", "capitals", "dotted capital I", "long s and Kelvin sign"])
def test_every_scan_the_extractor_skips_would_have_found_nothing(variant, monkeypatch):
    dev, _ = split(load())
    skipped, checked = [0], []
    for name in ("search", "match", "finditer", "findall", "split", "sub"):
        original = getattr(Pattern, name)

        def verified(self, *args, _original=original, _name=name, **kwargs):
            text = args[1] if _name == "sub" else args[0]
            if not self.may_match(text):
                skipped[0] += 1
                checked.append((self.pattern[:60], text[:60]) if self.compiled.search(text) else None)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Pattern, name, verified)
    for item in dev[:8]:
        terms.extract(variant(item["text"]))
    assert skipped[0] > 100  # the check ran on the scans the extractor skips
    assert [found for found in checked if found] == []


def test_while_a_text_is_read_a_result_is_computed_once(monkeypatch):
    scanned = []
    pattern = Pattern(r"commission", re.I)
    monkeypatch.setattr(Pattern, "may_match", lambda self, text: scanned.append(text) or True)
    with reading():
        first, again = pattern.search("Commission: 20%"), pattern.search("Commission: 20%")
    assert first is again and scanned == ["Commission: 20%"]
    pattern.search("Commission: 20%")
    pattern.search("Commission: 20%")
    assert len(scanned) == 3  # outside a reading nothing is kept


def test_a_reading_keeps_at_most_its_bound_of_results(monkeypatch):
    monkeypatch.setattr(terms_text, "KEPT", 3)
    scanned = []
    pattern = Pattern(r"commission", re.I)
    monkeypatch.setattr(Pattern, "may_match", lambda self, text: scanned.append(text) or True)
    with reading():
        for text in ("a", "b", "c", "d", "a", "d"):
            pattern.search(text)
    assert scanned == ["a", "b", "c", "d", "d"]  # "a" was kept, "d" came past the bound
