"""The real pages the discovery judge is measured on (`tests/data/discovery-pages/`, its README says how they were
found, labelled and split): their files, their half, and each as the page it came from."""

import hashlib
import html
import json
from pathlib import Path

PAGES_DIR = Path(__file__).parents[1] / "data" / "discovery-pages"
PAGES = sorted(PAGES_DIR.glob("*.json"))


def split_of(page_id: str) -> str:
    return "dev" if int(hashlib.sha256(page_id.encode()).hexdigest()[:8], 16) % 2 == 0 else "held_back"


def as_html(page: dict) -> str:
    """The stored passage as the page it came from: title, heading, text, and the links the passage shows."""
    links = "".join(f'<a href="{html.escape(link["href"])}">{html.escape(link["label"])}</a>' for link in page["links"])
    return (f"<html><head><title>{html.escape(page['title'])}</title></head><body>"
            f"<h1>{html.escape(page['heading'])}</h1><p>{html.escape(page['text'])}</p>{links}</body></html>")


def judged(page_id: str):
    """A stored page and the discovery judge's verdict on it, as the page it came from (as_html) at its address."""
    from affiliate_matrix.discovery.validate import classify

    page = json.loads((PAGES_DIR / f"{page_id}.json").read_text())
    return page, classify(as_html(page), page["source"])
