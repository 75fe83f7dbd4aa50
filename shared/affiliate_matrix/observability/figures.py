"""Figures for the dashboards, as documents in the `metrics` index: a name, labels, a value and a
time. Ids derive from name, labels and the period, so a rerun overwrites instead of adding."""

import hashlib
from datetime import datetime

from affiliate_matrix.search import IndexSpec

METRICS_INDEX = IndexSpec("metrics", 1, {
    "id": "keyword", "name": "keyword", "labels": "keyword", "value": "number", "at": "date", "period": "keyword",
})


def metric(name: str, value: float, labels: dict[str, str], at: datetime, period: str) -> dict:
    tags = sorted(f"{k}={v}" for k, v in labels.items())
    basis = f"{name}|{'|'.join(tags)}|{period}"
    return {"id": "m_" + hashlib.sha256(basis.encode()).hexdigest()[:24], "name": name, "labels": tags,
            "value": float(value), "at": at.isoformat(), "period": period}


def emit(rt, documents: list[dict]) -> None:
    rt.index.ensure_index(METRICS_INDEX)
    rt.index.bulk_upsert(METRICS_INDEX.name, documents, refresh=True)
