"""The programs function's in-process cache of answers, shared by gunicorn's request threads and
the warm-up thread.

An answer is kept under its ETag, which is derived from the index generation (and the request and
the flags on): a new generation makes new keys, so a kept answer is never stale and needs no
expiry; the least recently used answers make room for new ones. cachetools' LRU cache is not
thread-safe on its own (a hit reorders it), so every access holds one lock.
"""

import threading

from cachetools import LRUCache


class AnswerCache:
    def __init__(self, size: int):
        self._answers: LRUCache[str, dict] = LRUCache(maxsize=size)
        self._lock = threading.Lock()
        self._warmed: str | None = None  # the generation whose warm-up some thread has taken on

    def get(self, etag: str) -> dict | None:
        with self._lock:
            return self._answers.get(etag)

    def put(self, etag: str, body: dict) -> None:
        with self._lock:
            self._answers[etag] = body

    def __contains__(self, etag: str) -> bool:
        with self._lock:
            return etag in self._answers

    def claim_warm_up(self, generation: str) -> bool:
        """True for exactly one caller per new generation: that one replays the warm list."""
        with self._lock:
            if self._warmed == generation:
                return False
            self._warmed = generation
            return True
