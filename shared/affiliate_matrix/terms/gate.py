"""A second opinion on the rules: a small logistic regression that says how likely a figure in a sentence is
the field's value ("30 days" after "cookie" is, "30 days" after "refund" is not), from the words and
character n-grams around it. The rules find candidates; a value whose candidates the model doubts is left
out (precision before recall), and a value the rules missed is taken only when the model is sure.

The weights (`gate.json`) are trained on the dev split of the labelled corpus by
`python -m tests.support.terms_corpus train` (tests/support/terms_corpus.py says how candidates are
labelled); reading them needs nothing but the standard library, and they load on the first use only.
"""

import json
import math
import re
import zlib
from functools import cache
from pathlib import Path

WEIGHTS = Path(__file__).with_name("gate.json")
DIMENSIONS = 1 << 16
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]+|#|%|€|\$|£")


def features(text: str, start: int, end: int, heading: str = "", topic: str | None = None,
             cues: tuple[str, ...] = ()) -> list[int]:
    """Hashed features of the figure at `start`..`end` of a unit's `text`: the words before and after it
    (near ones by position), character n-grams of its window, the words of its part of the unit, its heading
    and section, and
    which of the rules' cues fire around it (`cues`, their names)."""
    before = _DIGITS.sub("0", text[max(0, start - 80):start].lower())
    after = _DIGITS.sub("0", text[end:end + 50].lower())
    figure = _DIGITS.sub("0", text[start:end].lower())
    names = [f"f:{figure}", f"t:{topic}", *(f"r:{cue}" for cue in cues)]
    words_before, words_after = _WORD.findall(before), _WORD.findall(after)
    names += [f"b{min(i, 4)}:{w}" for i, w in enumerate(reversed(words_before))]
    names += [f"a{min(i, 3)}:{w}" for i, w in enumerate(words_after)]
    names += [f"bb:{a}_{b}" for a, b in zip(words_before[-4:], words_before[-3:])]
    names += [f"w:{w}" for w in _WORD.findall(text[max(0, start - 300):end + 300].lower())]  # bounded on long units
    names += [f"h:{w}" for w in _WORD.findall(heading.lower())]
    window = f"{before[-30:]}<{figure}>{after[:20]}"
    names += [f"c:{window[i:i + n]}" for n in (3, 4, 5) for i in range(len(window) - n + 1)]
    return sorted({zlib.crc32(name.encode()) % DIMENSIONS for name in names})


def candidates(doc, topics: list[str | None], field: str) -> list[tuple[int, object, list[int]]]:
    """Every figure of the field's kind in the text, as (unit index, the value it would be, its features):
    durations for the cookie, amounts for the minimum, schedules for the frequency, rates and amounts for
    commission (each in the text the commission rules read)."""
    from affiliate_matrix.terms import payout
    from affiliate_matrix.terms.text import DURATION, MONEY, before_example, currency_of, duration_days, money_values

    found = []
    for i, unit in enumerate(doc.units):
        heading = doc.units[i - 1].text if i and unit.first_in_line and doc.units[i - 1].heading else ""
        text, cues = unit.norm, (lambda text, match: ())
        if field == "cookie_days":
            from affiliate_matrix.terms.cookie import cookie_cues

            matches, cues = [(m, duration_days(m)) for m in DURATION.finditer(text)], cookie_cues
        elif field == "min_payout":
            matches = [(m, (money_values(m)[0], currency_of(m, doc.dollar))) for m in MONEY.finditer(text)]
            cues = payout.minimum_cues
        elif field == "payout_frequency":  # what is not a schedule ("monthly plans", "20% every month") is no candidate
            text = payout._NOT_THE_SCHEDULE.sub("", text)
            matches = payout.schedules(text, topics[i] == "payout")
        else:
            from affiliate_matrix.terms.commission import commission_cues, commission_text, figures

            text, cues = commission_text(unit), commission_cues
            matches = list(figures(text, doc.dollar))
        found += [(i, value, features(text, m.start(), m.end(), heading, topics[i], cues(text, m)))
                  for m, value in matches]
    # What the whole text says of a value: how often it comes, whether first, its own prior.
    counts = {}
    for _, value, _ in found:
        counts[value] = counts.get(value, 0) + 1
    seen = set()
    for n, (_, value, ids) in enumerate(found):
        kind = value[:2] if field == "commission" else value[1] if field == "min_payout" else value
        extra = [f"n:{min(counts[value], 3)}", f"first:{value not in seen}", f"at:{min(n, 3)}", f"v:{kind}"]
        seen.add(value)
        ids += [zlib.crc32(name.encode()) % DIMENSIONS for name in extra]
    return found


# A rules' value the model gives TRUSTED stands. Below that, a candidate the model gives SURE takes its place (or
# fills in where the rules found nothing), and failing one, the rules' value stands unless the model gives it
# less than DOUBTED. Where the model alone did better on the dev folds it did not see than the rules on the
# held-back split (frequency 0.88/0.82 against 0.67/0.64, minimum 0.84/0.77 against 0.85/0.69) it is SURE from
# 0.5; the cookie model alone (0.67/0.80) is worse than the rules (0.88/0.78) and only vetoes. A commission
# figure is the affiliate's from TAKEN on (commission.py).
TRUSTED = {"cookie_days": 0.15, "min_payout": 0.5, "payout_frequency": 0.5}
SURE = {"cookie_days": 2.0, "min_payout": 0.5, "payout_frequency": 0.5}
DOUBTED = {"cookie_days": 0.15, "min_payout": 0.15, "payout_frequency": 0.15}
TAKEN = 0.5


def judged(doc, topics: list[str | None], field: str, value, evidence: str | None):
    """The rules' (value, evidence) for a one-value field as the model lets it stand (see TRUSTED). The
    model judges a value by the candidates that say it in its evidence; without a model, or with no such
    candidate, the rules stand."""
    if (override if override is not None else _model()).get(field) is None:
        return value, evidence
    found = candidates(doc, topics, field)
    said = [probability(field, ids) for i, v, ids in found if v == value and doc.units[i].raw in (evidence or "")]
    if value is not None and (not said or max(said) >= TRUSTED[field]):
        return value, evidence
    scored = [(probability(field, ids), i, v) for i, v, ids in found if v is not None and None not in (
        v if isinstance(v, tuple) else (v,))]
    best = max(scored, default=None, key=lambda s: s[0])
    if best and best[0] >= SURE[field]:
        return best[2], doc.units[best[1]].raw
    return (value, evidence) if value is not None and max(said) >= DOUBTED[field] else (None, None)


# Set by the corpus's cross-validation to score a fold with weights trained without it.
override: dict | None = None


@cache
def _model() -> dict[str, tuple[float, dict[int, float]]]:
    if not WEIGHTS.exists():
        return {}
    return loaded(json.loads(WEIGHTS.read_text(encoding="utf-8")))


def loaded(stored: dict) -> dict[str, tuple[float, dict[int, float]]]:
    return {name: (m["bias"], {int(k): v for k, v in m["weights"].items()}) for name, m in stored.items()}


def probability(field: str, ids: list[int]) -> float | None:
    """How likely the candidate is the field's value; None when no model for the field is shipped."""
    model = (override if override is not None else _model()).get(field)
    if model is None:
        return None
    bias, weights = model
    score = bias + sum(weights.get(i, 0.0) for i in ids)
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, score))))


def train(samples: list[tuple[list[int], bool]], l2: float = 1.0, steps: int = 400) -> dict:
    """A logistic regression on the samples' hashed features (full-batch Adam, L2, positives weighted up to
    the negatives' total); numpy is imported here only, the extractor never needs it."""
    import numpy as np

    labels = np.array([1.0 if positive else 0.0 for _, positive in samples])
    rows = np.repeat(np.arange(len(samples)), [len(ids) for ids, _ in samples])
    cols = np.concatenate([np.array(ids, dtype=np.int64) for ids, _ in samples])
    used, cols = np.unique(cols, return_inverse=True)
    positives = max(labels.sum(), 1.0)
    sample_weight = np.where(labels > 0, (len(labels) - positives) / positives, 1.0)
    sample_weight /= sample_weight.mean()
    w, bias = np.zeros(len(used)), 0.0
    moments = [np.zeros(len(used) + 1), np.zeros(len(used) + 1)]
    for step in range(1, steps + 1):
        scores = np.bincount(rows, weights=w[cols], minlength=len(samples)) + bias
        error = (1 / (1 + np.exp(-scores)) - labels) * sample_weight / len(samples)
        gradient = np.append(np.bincount(cols, weights=error[rows], minlength=len(used)) + l2 * w / len(samples),
                             error.sum())
        moments[0] = 0.9 * moments[0] + 0.1 * gradient
        moments[1] = 0.999 * moments[1] + 0.001 * gradient ** 2
        update = 0.05 * (moments[0] / (1 - 0.9 ** step)) / (np.sqrt(moments[1] / (1 - 0.999 ** step)) + 1e-8)
        w, bias = w - update[:-1], bias - update[-1]
    return {"bias": round(float(bias), 4),
            "weights": {str(int(k)): round(float(v), 3) for k, v in zip(used, w) if abs(v) >= 0.02}}
