"""The programs function's in-process cache of answers, shared by gunicorn's request threads and
the warm-up thread.

An answer is kept under its ETag, which is derived from the index generation (and the request and
the flags on): a new generation makes new keys, so a kept answer is never stale and needs no
expiry; the least recently used answers make room for new ones. The answers are kept in an
OrderedDict in the order they were last used (a few lines here: cachetools' LRUCache, which did the
same, cost every start of the programs function 4 M instructions to import). A hit reorders it, so
every access holds one lock.
"""

import threading
from collections import OrderedDict


class AnswerCache:
    def __init__(self, size: int):
        self._answers: OrderedDict[str, dict] = OrderedDict()  # the least recently used first
        self._size = size
        self._lock = threading.Lock()
        self._warmed: str | None = None  # the generation whose warm-up some thread has taken on

    def get(self, etag: str) -> dict | None:
        with self._lock:
            body = self._answers.get(etag)
            if body is not None:
                self._answers.move_to_end(etag)
            return body

    def put(self, etag: str, body: dict) -> None:
        with self._lock:
            self._answers[etag] = body
            self._answers.move_to_end(etag)
            if len(self._answers) > self._size:
                self._answers.popitem(last=False)

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
