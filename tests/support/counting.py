"""What a piece of work costs, counted, not timed: a store that records what is asked of it (requests to the object
store), a pattern that records how much text it is handed to read."""

import re

from affiliate_matrix.storage import ObjectStore


class CountingStore(ObjectStore):
    """Wraps a store; each call of the port is recorded as (operation, key) in `asked`, then passed on. A call is one
    request on the local directory; on S3 a put may make more (a create where a tombstone stands: storage/s3.py)."""

    def __init__(self, store: ObjectStore):
        self.store, self.asked = store, []

    def _asked(self, operation: str, key: str) -> None:
        self.asked.append((operation, key))

    def put(self, key, data, *, content_type="application/octet-stream", if_match=None, if_none_match=False):
        self._asked("put", key)
        return self.store.put(key, data, content_type=content_type, if_match=if_match, if_none_match=if_none_match)

    def get(self, key, **bound):
        self._asked("get", key)
        return self.store.get(key, **bound)

    def head(self, key):
        self._asked("head", key)
        return self.store.head(key)

    def written_at(self, key):
        self._asked("written_at", key)
        return self.store.written_at(key)

    def list(self, prefix=""):
        self._asked("list", prefix)
        return self.store.list(prefix)

    def listed(self, prefix=""):
        self._asked("listed", prefix)
        return self.store.listed(prefix)

    def delete(self, key, *, if_match=None):
        self._asked("delete", key)
        return self.store.delete(key, if_match=if_match)

    def remove_before(self, prefix, before):
        self._asked("remove_before", prefix)
        return self.store.remove_before(prefix, before)

    def remove_tombstones(self, before):
        self._asked("remove_tombstones", "")
        return self.store.remove_tombstones(before)

    def counted(self) -> int:
        """How many requests were asked, and forget them."""
        count, self.asked = len(self.asked), []
        return count


class CountedPattern:
    """Wraps a compiled pattern: the length of each text its search, match or fullmatch is handed is added to
    `handed` (the test's list, shared by the patterns it wraps), then the pattern reads it. Any other use of it fails
    here, so no reading goes uncounted."""

    def __init__(self, pattern: re.Pattern, handed: list[int]):
        self.pattern, self.handed = pattern, handed

    def search(self, text, *bounds):
        self.handed.append(len(text))
        return self.pattern.search(text, *bounds)

    def match(self, text, *bounds):
        self.handed.append(len(text))
        return self.pattern.match(text, *bounds)

    def fullmatch(self, text, *bounds):
        self.handed.append(len(text))
        return self.pattern.fullmatch(text, *bounds)
