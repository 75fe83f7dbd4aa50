"""The documents of the search-index contract tests (tests/contract/test_search_index.py and
test_index_lifecycle.py): a generated "things" index whose right answers the tests compute by brute
force, and the two adapters to run them on."""

import functools
import random
import uuid

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.runtime import open_search_index
from affiliate_matrix.search import IndexSpec

SPEC = IndexSpec("things", 1, {
    "id": "keyword", "name": "text", "description": "text", "category": "keyword", "network": "keyword",
    "commission": "number", "cookie_days": "number", "updated": "date", "active": "bool", "payload": "stored",
})
CATEGORIES = ["travel", "finance", "software", "pets", "beauty"]
NETWORKS = ["awin", "cj", "impact", "shareasale"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def make_docs(n=1200, seed=7):
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        docs.append({
            "id": f"doc-{i:05d}",
            "name": f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i}",
            "description": " ".join(rng.choices(WORDS, k=4)),
            "category": rng.sample(CATEGORIES, rng.randint(1, 2)),
            "network": rng.choice(NETWORKS),
            "commission": rng.choice([None, *range(1, 60)]),
            "cookie_days": rng.choice([-1, 0, 7, 30, 30, 60, 90]),
            "updated": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z",
            "active": rng.random() < 0.8,
            "payload": {"nested": [i, "x"]},
        })
    docs.append({"id": "doc-cafe", "name": "Café Crème Partners", "description": "coffee", "category": ["food"],
                 "network": "awin", "commission": 12.5, "cookie_days": 30, "updated": "2026-06-01T00:00:00Z",
                 "active": True, "payload": None})
    return docs


@functools.cache
def docs() -> list[dict]:
    """make_docs() once per session: 1,201 documents the tests only read."""
    return make_docs()


def open_index(kind, tmp_path, request):
    if kind == "sqlite":
        return open_search_index(Settings(data_dir=tmp_path, index_prefix="t"))
    node = request.getfixturevalue("opensearch_node")
    return open_search_index(Settings(search="opensearch", opensearch_url=node.url,
                                      index_prefix=f"t{uuid.uuid4().hex[:10]}"))


BACKENDS = ["sqlite", pytest.param("opensearch", marks=pytest.mark.slow)]
