"""Events delivered to handlers in this process, with Knative's semantics kept: at least once,
retried on failure, then parked in a dead-letter list instead of being lost."""

from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from affiliate_matrix.events import Event, EventBus, rule_chain
from affiliate_matrix.observability import get_logger

log = get_logger()
# The newest events published, and dead letters, a bus keeps for a reader (a command's summary, a test): a function
# served alone on the embedded defaults runs for weeks, and every event kept grew it for good.
KEPT = 1_000


class InProcessBus(EventBus):
    def __init__(self, attempts: int = 3):
        self.attempts = attempts
        self.handlers: dict[str, list[Callable[[Event], None]]] = defaultdict(list)
        self.published: deque[Event] = deque(maxlen=KEPT)
        self.dead_letters: deque[tuple[Event, str]] = deque(maxlen=KEPT)
        self._recording: list[list[Event]] = []

    def subscribe(self, event_type: str, handler: Callable[[Event], None]) -> None:
        self.handlers[event_type].append(handler)

    def delivers(self, event_type: str) -> bool:
        return bool(self.handlers.get(event_type))

    @contextmanager
    def recorded(self) -> Iterator[list[Event]]:
        """Every event published while the block runs (its work's own too), however many: what a command announced."""
        events: list[Event] = []
        self._recording.append(events)
        try:
            yield events
        finally:
            self._recording.remove(events)

    def publish(self, event: Event) -> None:
        self.published.append(event)
        for events in self._recording:
            events.append(event)
        for handler in self.handlers.get(event.type, []):
            for attempt in range(1, self.attempts + 1):
                try:
                    with rule_chain(event.rulechain):  # as `receive` runs an event's work: it publishes the chain on
                        handler(event)
                    break
                except Exception as exc:  # a handler's failure must not stop delivery to the others
                    log.warning("event.handler_failed", event_id=event.id, type=event.type, attempt=attempt,
                                error=f"{type(exc).__name__}: {exc}")
                    if attempt == self.attempts:
                        self.dead_letters.append((event, f"{type(exc).__name__}: {exc}"))
