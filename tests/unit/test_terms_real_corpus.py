"""The real-text terms corpus (tests/data/terms/README.md): every item follows the label
conventions, the merged corpus is big and multilingual enough, and the extractor holds its figures
on the held-back split (and, once it gets there, its targets). The failure messages give only
aggregate figures: the held-back texts are not for tuning. The fresh set (tests/data/terms/fresh/) is only
checked for form here: no floor is asserted on it, so no test run looks at what the extractor does there."""

import re
import shutil
from collections import Counter
from functools import cache

import pytest

from affiliate_matrix.codes import CURRENCIES
from tests.support.terms_corpus import FIELDS, ITEMS, TARGETS, _dev_report, fold, fresh_dirs, load, score, split

LANGS = {"en", "de", "es", "fr", "nl", "pt", "it"}
KINDS = {"merchant_page", "faq", "network_page"}
METHODS = {"paypal", "check", "bank_transfer", "payoneer", "ach", "wire", "store_credit", "crypto", "other"}
FREQUENCIES = {"monthly", "weekly", "biweekly", "quarterly", "net30", "net60", "on_request"}
RESTRICTIONS = {"ppc_brand_bidding", "trademark_domains", "coupon_sites", "email_spam", "social_ads", "incentivized",
                "adult", "self_referral"}
ENTRY_KEYS = {"type", "value_min", "value_max", "currency", "recurring"}
UNFOLDED = re.compile(r"[ \t]{2,}|[\t\r\f\v]|\n\s*\n|^\s|\s$")  # lines are kept, blank runs are not


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _commission_problems(entries) -> list[str]:
    if not isinstance(entries, list):
        return ["commission is not a list"]
    problems = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
            problems.append(f"commission entry {entry!r} does not have exactly {sorted(ENTRY_KEYS)}")
            continue
        low, high = entry["value_min"], entry["value_max"]
        if entry["type"] not in ("percent", "flat"):
            problems.append(f"commission type {entry['type']!r}")
        if entry["type"] == "percent" and entry["currency"] is not None:
            problems.append("a percent entry with a currency")
        if entry["type"] == "flat" and entry["currency"] not in CURRENCIES:
            problems.append(f"a flat entry's currency {entry['currency']!r} is not an ISO code")
        if (low, high) == (None, None) or any(v is not None and not _number(v) for v in (low, high)):
            problems.append(f"commission range {low!r}..{high!r}")
        elif None not in (low, high) and high <= low:
            problems.append(f"value_max {high} is not above value_min {low}")
        if entry["recurring"] not in (True, False, None):
            problems.append(f"recurring {entry['recurring']!r}")
    return problems


def _label_problems(labels) -> list[str]:
    if not isinstance(labels, dict) or set(labels) != set(FIELDS):
        return [f"labels must have exactly {list(FIELDS)}"]
    problems = _commission_problems(labels["commission"])
    cookie = labels["cookie_days"]
    if cookie is not None and (not isinstance(cookie, int) or isinstance(cookie, bool) or cookie < -1):
        problems.append(f"cookie_days {cookie!r}")
    for name, allowed in (("payout_methods", METHODS), ("restrictions", RESTRICTIONS)):
        value = labels[name]
        if not isinstance(value, list) or not set(value) <= allowed or len(set(value)) != len(value):
            problems.append(f"{name} {value!r} is not a list of distinct values from the closed set")
    if labels["payout_frequency"] not in FREQUENCIES | {None}:
        problems.append(f"payout_frequency {labels['payout_frequency']!r}")
    minimum = labels["min_payout"]
    if minimum is not None and (not isinstance(minimum, dict) or set(minimum) != {"amount", "currency"}
                                or not _number(minimum["amount"]) or minimum["currency"] not in CURRENCIES):
        problems.append(f"min_payout {minimum!r}")
    return problems


def _evidence_problems(item) -> list[str]:
    evidence, labels, text = item.get("evidence"), item["labels"], item["text"]
    if not isinstance(evidence, dict) or not set(evidence) <= set(FIELDS):
        return ["evidence must map label fields to sentences"]
    problems = []
    for name, value in labels.items():
        if value not in (None, []) and not evidence.get(name):
            problems.append(f"{name} is labelled but has no evidence")
    for name, quoted in evidence.items():
        if name == "commission" and (not isinstance(quoted, list) or len(quoted) != len(labels["commission"])):
            problems.append("commission evidence must be a list, one sentence per entry")
        for sentence in quoted if isinstance(quoted, list) else [quoted]:
            if not isinstance(sentence, str) or sentence not in text:
                problems.append(f"{name} evidence {sentence!r} is not in the text")
    return problems


def problems_of(item) -> list[str]:
    required = {"id", "source", "lang", "kind", "text", "labels", "evidence"}
    if not required <= set(item):
        return [f"missing {sorted(required - set(item))}"]
    extra = set(item) - required - {"notes", "_path"}
    problems = [f"unknown keys {sorted(extra)}"] if extra else []
    if item["_path"].name != f"{item['id']}.json":
        problems.append(f"the file is named {item['_path'].name}, not after the id")
    if item["lang"] not in LANGS or not str(item["id"]).startswith(f"{item['lang']}-"):
        problems.append(f"lang {item['lang']!r} (the id starts with the language)")
    if item["kind"] not in KINDS:
        problems.append(f"kind {item['kind']!r}")
    if not re.match(r"^https?://", str(item["source"])):
        problems.append(f"source {item['source']!r} is not a URL")
    if not isinstance(item["text"], str) or not item["text"].strip() or UNFOLDED.search(item["text"]):
        problems.append("the text is empty or its whitespace is not folded")
        return problems
    return problems + _label_problems(item["labels"]) + (
        _evidence_problems(item) if not problems and isinstance(item["labels"], dict) else [])


def _problems_by_file(items: list[dict]) -> dict[str, list[str]]:
    found = {f"{item['_path'].parent.name}/{item['_path'].name}": problems_of(item) for item in items}
    return {path: p for path, p in found.items() if p}


def _repeated(values) -> list:
    return [value for value, n in Counter(values).items() if n > 1]


def test_every_item_follows_the_conventions():
    items = load()
    assert _problems_by_file(items) == {}
    assert _repeated(item["id"] for item in items) == []


def test_every_fresh_item_follows_the_conventions_and_is_new():
    fresh = load(fresh_dirs())
    assert fresh, f"no fresh items in {fresh_dirs()}"
    assert _problems_by_file(fresh) == {}
    corpus = load()
    # A fresh text already in the corpus has been read while tuning: it would not be fresh.
    assert _repeated([item["id"] for item in corpus + fresh]) == []
    assert sorted({item["source"] for item in fresh} & {item["source"] for item in corpus}) == []


def test_the_merged_corpus_is_big_and_speaks_six_languages():
    items = load([ITEMS])  # the merged directory itself, whatever AMX_TERMS_CORPUS_DIRS says
    assert len(items) >= 150
    assert {"en", "de", "es", "fr", "nl", "pt"} <= {item["lang"] for item in items}


# What this version reaches on the held-back split (759 texts since the corpus grew on 2026-12-05; the README's look
# 37, which reset every floor to it): falling below it is a regression.
FLOORS = {"cookie_days": (0.92, 0.83), "commission": (0.66, 0.58), "payout_methods": (0.90, 0.78),
          "payout_frequency": (0.84, 0.74), "min_payout": (0.94, 0.82), "restrictions": (0.88, 0.67)}


@cache  # the floor and the target read one scoring (~20 s)
def held_back_figures() -> tuple[int, dict[str, tuple[float, float]]]:
    _, held = split(load())
    assert held, "no held-back items: the corpus has not landed"
    result = score(held)
    return len(held), {name: (round(result.fields[name].precision, 3), round(result.fields[name].recall, 3))
                       for name in FIELDS}


def below(figures: dict, wanted: dict) -> list[str]:
    """Which figures fall short, named without their values: a failing run must not be a look at held-back
    (a helper read one that way; tests/data/terms/README.md counts the looks)."""
    return [f"{name} {part}" for name, floor in wanted.items()
            for part, got, least in zip(("precision", "recall"), figures[name], floor) if got < least]


def test_the_extractor_does_not_fall_below_its_held_back_figures():
    count, figures = held_back_figures()
    assert below(figures, FLOORS) == [], f"below the floor on {count} held-back items (python -m tests.bench terms is a look)"


@pytest.mark.xfail(strict=True, reason="the targets are not met yet (README, terms_* figures)")
def test_the_extractor_reaches_its_targets_on_the_held_back_split():
    count, figures = held_back_figures()
    assert below(figures, TARGETS) == [], f"below the target on {count} held-back items"


def test_the_dev_report_prints_nothing_of_a_fold_it_was_not_asked_for(capsys, tmp_path, monkeypatch):
    # Fold C is the check of a pass written reading A and B: a report that printed its figures spent it. Forty texts of
    # each fold and some held back, not all 2,196: what is printed depends on the folds, not on how many.
    dev, held = split(load())
    for item in [*(i for name in "ABC" for i in [i for i in dev if fold(i["id"]) == name][:40]), *held[:20]]:
        shutil.copy(item["_path"], tmp_path)
    monkeypatch.setenv("AMX_TERMS_CORPUS_DIRS", str(tmp_path))
    _dev_report("AB")
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if " items): " in line][-1].startswith("AB (80 items): ")
    assert [line.split(" (")[0] for line in lines if " items): " in line] == ["A", "B", "AB"]
    missed = [line.split()[1] for line in lines if line.startswith("- ")]
    assert missed and {fold(item_id) for item_id in missed} <= {"A", "B"}
