"""The programs function's answer cache is shared by gunicorn's request threads and the warm-up
thread: a hit in one thread while another evicts must still answer, and answer the right body."""

import sys
import threading

from werkzeug.test import EnvironBuilder

from affiliate_matrix.config import Settings
from affiliate_matrix.deltas import DELTAS_INDEX
from affiliate_matrix.handlers import programs as handler
from affiliate_matrix.handlers.answer_cache import AnswerCache
from affiliate_matrix.runtime import Runtime

THREADS, ROUNDS, KEYS = 8, 1500, 6


def test_threads_hitting_and_evicting_one_cache_each_get_their_own_answer(tmp_path, monkeypatch):
    rt = Runtime("test", Settings(data_dir=tmp_path))
    rt.index.ensure_index(DELTAS_INDEX)  # the change feed's index: its answers start no warm-up thread
    # Fewer places than keys, so hits, reorderings and evictions interleave across the threads.
    monkeypatch.setattr(handler, "answers", AnswerCache(size=KEYS // 2))
    requests = [EnvironBuilder(path="/changes", query_string={"limit": str(n + 1)}).get_request() for n in range(KEYS)]
    barrier, failures, computed = threading.Barrier(THREADS), [], []
    # Each answer is a stand-in naming its request: the race is in the cache, and a real search on
    # every miss would slow the rounds too much for the threads to meet inside it.

    def hammer(offset: int) -> None:
        barrier.wait()  # every thread starts at once
        for i in range(ROUNDS):
            n = (i * (offset + 1)) % KEYS
            try:
                body, status, _ = handler.cached(rt, requests[n], DELTAS_INDEX.name, lambda: computed.append(n) or {"n": n})
                if status != 200 or body != {"n": n}:  # the dispatcher encodes it
                    failures.append(f"request {n} answered {status} {body}")
            except Exception as exc:  # noqa: BLE001 - any exception here is what a request would have turned into a 500
                failures.append(repr(exc))

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can: races show up in a few rounds
    try:
        threads = [threading.Thread(target=hammer, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert failures == []
    assert KEYS <= len(computed) < THREADS * ROUNDS  # every answer was computed once at least, and many were hits
