"""Every index the code writes, by name: what `amx index` and the migrate action work on, and what each version's
documents are written with (a change to it is a new version: tests/unit/test_index_versions.py holds each one's
digest)."""

import hashlib
import json
from functools import cache


def index_specs() -> dict:
    from affiliate_matrix.query_log import QUERIES_INDEX
    from affiliate_matrix.budget.mirror import BUDGET_INDEX
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.observability.figures import METRICS_INDEX
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX, ALERTS_INDEX
    from affiliate_matrix.search import MOVED_INDEX

    return {spec.name: spec for spec in (PROGRAMS_INDEX, DELTAS_INDEX, METRICS_INDEX, BUDGET_INDEX,
                                         ACTIVATIONS_INDEX, ALERTS_INDEX, QUERIES_INDEX, MOVED_INDEX)}


def rendered(spec) -> dict:
    """What an index version's documents are written with, on each backend: OpenSearch's settings and mappings (as
    `amx index render` commits them) and, where it has text fields, the SQLite index's tokenizer and the foldings its
    text is written with (search.narrowed and search.paired, its words; search.folded, its whole values, none past
    RAW_IGNORE_ABOVE: programs v12, activations and alerts v4, where the first 256 characters were kept before), and
    a stemmed index's stems (search.document_stems: their language and what the stemmer makes of a sample of words).
    Documents written under another are searched otherwise until `amx index migrate` writes them again, so a change
    here is a new version."""
    from affiliate_matrix.search import RAW_IGNORE_ABOVE
    from affiliate_matrix.search.opensearch import index_body
    from affiliate_matrix.search.sqlite import TOKENIZE

    body = {"opensearch": index_body(spec)}
    if "text" in spec.fields.values():
        body["sqlite"] = {"tokenize": TOKENIZE, "narrowed": _narrowing("narrowed"), "paired": _narrowing("paired"),
                          "raw": _narrowing("folded"), "raw_ignore_above": RAW_IGNORE_ABOVE}
    if spec.stemmed:
        body["stems"] = _stemming()
    return body


def rendered_digest(spec) -> str:
    return hashlib.sha256(json.dumps(rendered(spec), sort_keys=True).encode()).hexdigest()[:16]


@cache
def _narrowing(name: str) -> str:
    """A folding of search's (narrowed and paired: the words; folded: a text field's whole value, <field>.raw) as what
    it makes of every character (a digest): a change to the folding changes it."""
    from affiliate_matrix import search

    every = "".join(map(chr, (*range(0xD800), *range(0xE000, 0x110000))))
    return hashlib.sha256(getattr(search, name)(every).encode()).hexdigest()


# Words whose stems show the stemmer's rules at work (plurals, -ing, -ed, -ly, -ment, -ness, -ational, -ies, y to i):
# another language, or a stemmer release with other rules for them, changes the digest.
_STEMMED_SAMPLE = ("hosts hosting hosted shoes running happily agreement kindness relational ponies cry cries "
                   "generously sensational traditional conditional beautiful electrical hopefulness")


def _stemming() -> dict:
    """A stemmed index's stems: their language, what it makes of _STEMMED_SAMPLE, and the mark the embedded index
    writes them behind (OpenSearch's field is in its mapping)."""
    from affiliate_matrix.search import STEM_LANGUAGE, document_stems
    from affiliate_matrix.search.sqlite import STEM_MARK

    return {"language": STEM_LANGUAGE, "sample": document_stems([_STEMMED_SAMPLE]), "sqlite_mark": STEM_MARK}
