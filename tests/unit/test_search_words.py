"""A query's words are the words the embedded index holds: search.words (then unaccented, as the typo expansion reads
a word) against FTS5's own tokenizer as the index is made with it (sqlite.TOKENIZE), for every combining mark there is.
OpenSearch's analyzer gives the same words on a real node (tests/contract/test_search_index.py, slow)."""

import sqlite3
import sys
import unicodedata

from affiliate_matrix.search import lone, narrowed, paired, phrases, unaccented, words
from affiliate_matrix.search.sqlite import TOKENIZE


def fts5_words(texts: list[str]) -> list[list[str]]:
    """Each text's terms as an FTS5 table made with TOKENIZE holds them (its text narrowed and paired, as the index
    writes it)."""
    db = sqlite3.connect(":memory:")
    db.execute(f'CREATE VIRTUAL TABLE t USING fts5(x, tokenize="{TOKENIZE}")')
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)",
                   [(i, paired(narrowed(text))) for i, text in enumerate(texts)])
    found: list[list[str]] = [[] for _ in texts]
    for term, row in db.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
        found[row].append(term)
    return found


def test_every_combining_mark_is_in_its_word_as_the_embedded_index_holds_it():
    # Before, FTS5 took a vowel sign or a virama for a break and kept an accent it drops inside the word, while a
    # query split at every mark: "q" U+0301 "z" was one term there and two words here.
    marks = [chr(c) for c in range(sys.maxunicode + 1)
             if unicodedata.category(chr(c)).startswith("M") and c != 0x345]  # U+0345: FTS5 case-folds it to ι
    texts = [f"q{mark}z {mark}" for mark in marks]
    expected = [[unaccented(word) for word in words(text)] for text in texts]
    assert [(text, terms) for text, terms, want in zip(texts, fts5_words(texts), expected) if terms != want] == []


def test_an_indic_word_is_one_term_and_one_query_word():
    texts = ["हिन्दी समाचार", "தமிழ்நாடு", "বাংলাদেশ", "کتاب\u200cفروشی", "Tie\u0302\u0301ng Vie\u0323\u0302t"]
    assert fts5_words(texts) == [[unaccented(word) for word in words(text)] for text in texts] == [
        ["हिन्दी", "समाचार"], ["தமிழ்நாடு"], ["বাংলাদেশ"], ["کتابفروشی"], ["tieng", "viet"]]


def test_a_run_of_a_script_without_spaces_is_its_pairs_of_characters_as_terms_and_query_words():
    # A character is a letter with its marks (a Thai tone mark is its consonant's); one standing alone is itself; a
    # run ends at a letter of another script, not at a zero-width space (Thai writes one between words: a run's pairs
    # cross it, as they cross words written without one, so "ไทยออนไลน์" typed without it finds it). The index holds
    # a run's last character after its pairs (every character of a run begins a term); a query asks for the pairs
    # alone, side by side (phrases)
    texts = ["ลาซาด้า", "楽天市場abc", "楽 ｶﾀｶﾅ", "ខ្មែរ", "ไทย\u200bออนไลน์", "한국어 단어"]
    assert [[unaccented(word) for word in words(text)] for text in texts] == [
        ["ลา", "าซ", "ซา", "าด้", "ด้า"], ["楽天", "天市", "市場", "abc"], ["楽", "カタ", "タカ", "カナ"], ["ខ្មែ", "មែរ"],
        ["ไท", "ทย", "ยอ", "ออ", "อน", "นไ", "ไล", "ลน์"], ["한국어", "단어"]]
    assert fts5_words(texts) == [
        ["ลา", "าซ", "ซา", "าด้", "ด้า", "า"], ["楽天", "天市", "市場", "場", "abc"], ["楽", "カタ", "タカ", "カナ", "ナ"],
        ["ខ្មែ", "មែរ", "រ"], ["ไท", "ทย", "ยอ", "ออ", "อน", "นไ", "ไล", "ลน์", "น์"], ["한국어", "단어"]]
    assert [phrases(text) for text in ("楽天市場 abc", "楽 天", "ไทยxyz")] == [
        [["楽天", "天市", "市場"], ["abc"]], [["楽"], ["天"]], [["ไท", "ทย"], ["xyz"]]]
    assert [lone(word) for word in ("楽", "ด้", "楽天", "a", "한")] == [True, True, False, False, False]


def test_a_zero_width_space_pasted_inside_a_word_is_no_break():
    # It was kept as a break, so "Booking" copied from a page that wrote a zero-width space in it (a line-break hint)
    # was the two words "book" and "ing", and found no "Booking"; a Thai name written with one between its words was
    # not found by the name typed without it (the pair across it was missing). Dropped as the other invisible
    # characters are (characters.INVISIBLE_FORMAT), from a query's words and from what the index holds alike.
    texts = ["Book\u200bing", "ภาษา\u200bไทย"]
    assert [phrases(text) for text in texts] == [[["booking"]], phrases("ภาษาไทย")]
    assert fts5_words(texts) == fts5_words(["Booking", "ภาษาไทย"])
