"""Words in the SQLite search index: the typo expansion over FTS5's vocabulary, and FTS5's own
matching for words the in-memory text column (columns.py) cannot match as they are."""

import re

from affiliate_matrix.search import typo_allowance

PLAIN = re.compile(r"[a-z0-9]+")  # a word FTS5's unicode61 tokenizer keeps as one unchanged token


def near(word: str, vocabulary: dict[str, list[str]]) -> list[str]:
    """The word and the indexed terms within its typo allowance, counting a transposition as one edit
    and keeping the first letter, as OpenSearch's fuzziness AUTO with prefix_length=1 does."""
    allowance = typo_allowance(word)
    if not allowance:
        return [word]
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    found = extract(word, vocabulary.get(word[:1], []), scorer=OSA.distance,
                    score_cutoff=allowance, limit=50)
    return sorted({word, *(term for term, _, _ in found)})


def read_vocabulary(db, t: str) -> dict[str, list[str]]:
    """The indexed terms of table t's FTS5 index, by first letter."""
    db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS temp."{t}_vocab" USING fts5vocab(main, "{t}_fts", row)')
    terms: dict[str, list[str]] = {}
    for (term,) in db.execute(f'SELECT term FROM temp."{t}_vocab"'):
        terms.setdefault(term[:1], []).append(term)
    return terms


def fts_match(db, t: str, groups: list[list[str]], size: int):
    """FTS5's own match and bm25 scores (negated: higher is better), as arrays over row ids."""
    import numpy as np

    expression = " AND ".join("(" + " OR ".join(f'"{v}"' for v in group) + ")" for group in groups)
    found = db.execute(f'SELECT rowid, -bm25("{t}_fts") FROM "{t}_fts" WHERE "{t}_fts" MATCH ?',
                       (expression,)).fetchall()
    pairs = np.array(found, dtype=np.float64).reshape(-1, 2)
    rids = pairs[:, 0].astype(np.int64)
    scores = np.full(size, np.nan)
    scores[rids] = pairs[:, 1]
    matched = np.zeros(size, bool)
    matched[rids] = True
    return matched, scores
