"""Two pieces of work interleaved at a chosen point, coordinated by events (no sleeps): the index race tests' and the
embedded index's write-beside-a-migration tests'."""

import threading
from collections.abc import Callable


def interleaved(hold: Callable[[threading.Event, threading.Event], None], held: Callable, meanwhile: Callable):
    """`held` (in a thread) up to the point `hold` installs (which sets its first event there, then waits for its
    second), then `meanwhile` whole on this thread, then the rest of `held`: what each returned."""
    reached, go_on, outcome = threading.Event(), threading.Event(), {}
    hold(reached, go_on)

    def run():
        try:
            outcome["held"] = held()
        except BaseException as exc:  # reported below, in the test's own thread
            outcome["held"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert reached.wait(60), "the held work did not reach its hold"
        done = meanwhile()
    finally:
        go_on.set()
        thread.join(60)
    assert not isinstance(outcome["held"], BaseException), outcome["held"]
    return outcome["held"], done
