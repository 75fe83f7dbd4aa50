"""The discovery judge on real pages in the languages its dorks search (`tests/data/discovery-pages/`).

The pages were split once, by a hash of their id, into a dev half (the vocabulary was tuned on it) and a
held-back half (never looked at while tuning). Each half is judged as a run would judge it (accepted,
review, rejected); the dev figures are held as a floor, and the held-back ones must not fall below what
the judge did there before the multilingual vocabulary."""

import hashlib
import html
import json
from collections import Counter
from pathlib import Path

import pytest

from affiliate_matrix.discovery.run import ACCEPT, REVIEW
from affiliate_matrix.discovery.validate import classify

PAGES = sorted((Path(__file__).parents[1] / "data" / "discovery-pages").glob("*.json"))


def split_of(page_id: str) -> str:
    return "dev" if int(hashlib.sha256(page_id.encode()).hexdigest()[:8], 16) % 2 == 0 else "held_back"


def as_html(page: dict) -> str:
    """The stored passage as the page it came from: title, heading, text, and the links the passage shows."""
    links = "".join(f'<a href="{html.escape(link["href"])}">{html.escape(link["label"])}</a>' for link in page["links"])
    return (f"<html><head><title>{html.escape(page['title'])}</title></head><body>"
            f"<h1>{html.escape(page['heading'])}</h1><p>{html.escape(page['text'])}</p>{links}</body></html>")


def outcome(confidence: float) -> str:
    return "accepted" if confidence >= ACCEPT else "review" if confidence >= REVIEW else "rejected"


def figures(split: str) -> Counter:
    """How many program pages were accepted, reviewed, rejected, and how many other pages were accepted or
    reviewed, on one half."""
    counts = Counter()
    for path in PAGES:
        page = json.loads(path.read_text())
        if split_of(page["id"]) == split:
            counts[f"{page['label']} {outcome(classify(as_html(page), page['source']).confidence)}"] += 1
    return counts


def test_the_pages_are_labelled_and_split():
    pages = [json.loads(path.read_text()) for path in PAGES]
    assert all(page["label"] in ("program", "not_program") and page["lang"] in ("de", "fr", "es", "nl", "pt", "it")
               and page["source"].startswith("http") for page in pages)
    assert {split_of(page["id"]) for page in pages} == {"dev", "held_back"}
