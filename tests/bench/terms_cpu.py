"""The terms extractor's CPU cost (`terms.extract`, run on every scraped description and every discovered page): CPU
microseconds per character on dev texts of the corpus, on a 50,000-character page made of them, and on two degenerate
texts, each also as a ratio to a baseline measured in the same command on the same text.

The baseline is one case-insensitive scan of the text by a fixed alternation of common words (`_BASELINE`, not one
of the extractor's patterns, so it does not move when they do): the extractor's own work is such scans, so the ratio
reads "extract costs as much as N scans of its text" and holds across machines and loads where microseconds do not.
Dev texts only: the held-back split and the fresh set are not read (tests/data/terms/README.md)."""

import re
import time

from affiliate_matrix import terms
from tests.support.terms_corpus import load, split

_BASELINE = re.compile(r"\b(?:the|and|for|with|that|this|from|your|will|have|are|not|all|can|our|more|when|which|"
                       r"each|other|into)\b", re.I)
DEV_TEXTS = 300  # the first dev texts by id: about 400,000 characters, a few seconds
PAGE = 50_000


def _cpu(work, texts: list[str]) -> float:
    started = time.process_time()
    for text in texts:
        work(text)
    return time.process_time() - started


def _baseline(texts: list[str]) -> float:
    """The CPU time of one scan of the texts: the least disturbed of five rounds, each of passes enough for 0.1 s
    (a single pass over a page is a few milliseconds, at the mercy of the machine's other work)."""
    passes = max(1, round(0.1 / max(_cpu(_BASELINE.findall, texts), 1e-6)))
    return min(_cpu(lambda _: [_BASELINE.findall(t) for t in texts], range(passes)) / passes for _ in range(5))


def _measure(name: str, texts: list[str]) -> None:
    characters = sum(map(len, texts))
    baseline = _baseline(texts)
    extract = _cpu(terms.extract, texts)
    print(f"BENCH terms_cpu_{name}_us_per_char {extract / characters * 1e6:.2f} us/char")
    print(f"BENCH terms_cpu_{name}_ratio_to_scan {extract / baseline:.0f} x")


def run() -> None:
    dev, _ = split(load())
    texts = [item["text"] for item in dev[:DEV_TEXTS]]
    page = ""
    for text in (item["text"] for item in dev):
        if len(page) >= PAGE:
            break
        page += text + "\n\n"
    terms.extract("Commission: 20% per sale, a 30-day cookie, paid monthly via PayPal from $50.")  # compiled once
    _measure("dev", texts)
    _measure("page", [page[:PAGE]])
    _measure("dots", ["a. " * 20_000])  # one sentence of 60,000 characters
    _measure("figures", ["$1 " * 5_000])  # figures up to the extractor's bound (MAX_FIGURES)
