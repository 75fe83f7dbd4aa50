"""Entity resolution: quality on generated data with known duplicates, time from 10k to 100k,
peak memory at 100k (in a child process), and the speed-up over naive all-pairs matching."""

import resource
import subprocess
import sys
import time

from affiliate_matrix.resolve import NAME_MATCH, compact_name, resolve
from tests.support.synthetic import generate, pairwise_precision_recall


def timed(n: int) -> tuple[float, list, list]:
    candidates, truth = generate(n)
    started = time.perf_counter()
    keys = resolve(candidates)
    return time.perf_counter() - started, keys, truth


def all_pairs_seconds(n: int) -> float:
    """The naive baseline: every pair of names scored by rapidfuzz (vectorised cdist), then joined."""
    import numpy as np
    from rapidfuzz.fuzz import ratio
    from rapidfuzz.process import cdist

    candidates, _ = generate(n)
    names = [compact_name(c.name) for c in candidates]
    started = time.perf_counter()
    scores = cdist(names, names, scorer=ratio, score_cutoff=NAME_MATCH, dtype=np.uint8, workers=1)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(scores)):
        if i < j:
            parent[find(j)] = find(i)
    return time.perf_counter() - started


def peak_rss_mb(n: int) -> float:
    code = ("from tests.support.synthetic import generate; from affiliate_matrix.resolve import resolve; "
            f"resolve(generate({n})[0])")
    subprocess.run([sys.executable, "-c", code], check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run() -> None:
    timed(1_000)  # warm-up, uncounted
    seconds_10k, keys, truth = timed(10_000)
    precision, recall = pairwise_precision_recall(keys, truth)
    seconds_100k, _, _ = timed(100_000)
    print(f"BENCH resolve_precision {precision:.4f} ratio")
    print(f"BENCH resolve_recall {recall:.4f} ratio")
    print(f"BENCH resolve_100k_s {seconds_100k:.2f} s")
    print(f"BENCH resolve_peak_rss_mb {peak_rss_mb(100_000):.0f} MB")
    print(f"BENCH resolve_time_ratio_100k_over_10k {seconds_100k / seconds_10k:.1f} x")
    print(f"BENCH resolve_speedup_vs_allpairs_10k {all_pairs_seconds(10_000) / seconds_10k:.1f} x")
