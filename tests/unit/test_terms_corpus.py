"""The terms extractor against the first, synthetic corpus (tests/data/terms_corpus.jsonl, written
beside the extractor, labels updated to the conventions of tests/data/terms/README.md): a regression
check, precision per field at least 0.95, recall reported. The real measure is the real-text corpus
(tests/unit/test_terms_real_corpus.py, `python -m tests.bench terms`)."""

import json
from collections import Counter

from affiliate_matrix.terms import extract
from tests.support.processes import ROOT

FIELDS = ("cookie_days", "commission", "payout_methods", "payout_frequency", "min_payout", "restrictions")
EMPTY = (None, [], {})


def corpus():
    return [json.loads(line) for line in (ROOT / "tests/data/terms_corpus.jsonl").read_text().splitlines() if line]


def canonical(field, value):
    if field == "commission":
        return sorted(json.dumps(v, sort_keys=True) for v in value)
    return value


def score():
    extracted, correct, labelled, misses = Counter(), Counter(), Counter(), []
    for item in corpus():
        got = extract(item["text"]).as_json()
        for field in FIELDS:
            want = item.get(field, [] if field in ("commission", "payout_methods", "restrictions") else None)
            ok = canonical(field, got[field]) == canonical(field, want)
            extracted[field] += got[field] not in EMPTY
            labelled[field] += want not in EMPTY
            correct[field] += ok and want not in EMPTY
            if not ok:
                misses.append((field, item["text"], got[field], want))
    return extracted, correct, labelled, misses


def test_the_corpus_is_big_and_varied_enough():
    items = corpus()
    assert len(items) >= 60
    assert sum(all(item.get(f) in (None, []) for f in FIELDS) for item in items) >= 5  # texts with no terms


def test_precision_per_field_is_at_least_095_and_recall_is_reported():
    extracted, correct, labelled, misses = score()
    for field in FIELDS:
        wrong_extractions = sum(1 for f, _, got, _ in misses if f == field and got not in EMPTY)
        precision = (extracted[field] - wrong_extractions) / extracted[field] if extracted[field] else 1.0
        recall = correct[field] / labelled[field] if labelled[field] else 1.0
        print(f"terms {field}: precision {precision:.3f} recall {recall:.3f} (labelled {labelled[field]})")
        assert precision >= 0.95, [m for m in misses if m[0] == field]
