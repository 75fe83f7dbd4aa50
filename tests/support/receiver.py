"""A local HTTP receiver that records what it is sent and answers with scripted status codes."""

import json

from tests.support.loopback import Loopback


class Receiver(Loopback):
    def __init__(self, statuses: list[int] | None = None, headers: dict[str, str] | None = None):
        """Answers `statuses` in turn, then 202, each with `headers` and no body."""
        self.statuses = list(statuses or [])
        reply_headers = headers or {}
        super().__init__(lambda request: (self.statuses.pop(0) if self.statuses else 202, reply_headers, b""))
        self.url += "/"

    def json_bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests]
