"""Words in the SQLite search index: the typo expansion over FTS5's vocabulary, and FTS5's own
matching for words the in-memory postings (postings.py) cannot match as they are."""

from affiliate_matrix.search import lone, typo_allowance, unaccented
from affiliate_matrix.search.rowsets import bits_of, flags_of


def plain(word: str) -> bool:
    """Whether FTS5's unicode61 tokenizer keeps `word` as one unchanged token: lower-case ASCII letters and digits
    (checked without a regular expression: one compiled at import is paid by every start)."""
    return word.isascii() and word.isalnum() and word.lower() == word


def near(word: str, vocabulary: dict[str, list[str]], most: int = 50) -> list[str]:
    """The word and the indexed terms within its typo allowance, counting a transposition as one edit
    and keeping the first letter, as OpenSearch's fuzziness AUTO with prefix_length=1 does, at most `most`
    of them (search.expansions: OpenSearch's max_expansions). The word's accents are taken off first, as
    FTS5 took them off the terms (remove_diacritics) and OpenSearch off both before counting edits:
    "cafés" is one edit from "cafe", not two."""
    word = unaccented(word)
    allowance = typo_allowance(word)
    if not allowance:
        return [word]
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    found = extract(word, vocabulary.get(word[:1], []), scorer=OSA.distance,
                    score_cutoff=allowance, limit=most)
    return sorted({word, *(term for term, _, _ in found)})


def read_vocabulary(db, t: str) -> dict[str, list[str]]:
    """The indexed terms of table t's FTS5 index, by first letter."""
    db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS temp."{t}_vocab" USING fts5vocab(main, "{t}_fts", row)')
    terms: dict[str, list[str]] = {}
    for (term,) in db.execute(f'SELECT term FROM temp."{t}_vocab"'):
        terms.setdefault(term[:1], []).append(term)
    return terms


def fts_clauses(phrases: list[list[str]], groups: list[list[str]], begun: str | None = None,
                starts: bool = True, joined: str | None = None) -> list[str]:
    """The FTS5 expression of each of a query's phrases (search.phrases; `groups`: each word's alternatives, near, in
    the phrases' order), all of which a row must match: a word any of its alternatives; a run's pairs side by side,
    as written (a phrase has no typo allowance, as on OpenSearch); one character of such a run (lone) also any term
    it begins, with `begun` the last word any term it begins, and with `joined` (search.begun_join) the last two
    any term it begins, unless `starts` is False (what is scored: a start matched adds nothing)."""
    clauses, at = [], 0
    for phrase in phrases:
        if len(phrase) > 1:
            clauses.append("(" + " + ".join(f'"{word}"' for word in phrase) + ")")
        else:
            alternatives = [f'"{v}"' for v in groups[at]]
            if starts and lone(phrase[0]):
                alternatives.append(f'"{phrase[0]}"*')
            clauses.append(alternatives)
        at += len(phrase)
    if starts and begun is not None:  # (begun_word: never a run's)
        clauses[-1].append(f'"{begun}"*')
    if starts and joined is not None:  # (begun_join: two words', never a run's)
        clauses[-2].append(f'"{joined}"*')
        clauses[-1].append(f'"{joined}"*')
    return [clause if isinstance(clause, str) else "(" + " OR ".join(clause) + ")" for clause in clauses]


def fts_match(db, t: str, clauses: list[str], size: int) -> tuple[int, "FtsScores"]:
    """FTS5's own match of rows matching every clause (fts_clauses), as a set of row ids (rowsets.py), and its bm25
    scores (negated: higher is better)."""
    scores = dict(db.execute(f'SELECT rowid, -bm25("{t}_fts") FROM "{t}_fts" WHERE "{t}_fts" MATCH ?',
                             (" AND ".join(clauses),)))
    return bits_of(scores, size), FtsScores(scores, size)


class FtsScores:
    """FTS5's scores of its whole match, given out as the in-memory postings (postings.Text) give their own."""

    def __init__(self, scores: dict[int, float], size: int):
        self.all, self.size = scores, size

    def scores(self, groups, rows: int) -> dict[int, float]:
        flags = flags_of(rows, self.size)
        return {row: score for row, score in self.all.items() if flags[row]}

    def scores_of(self, groups, rows: list[int]) -> dict[int, float]:
        return {row: self.all.get(row, 0.0) for row in rows}  # 0: a row matched only by a word's start
