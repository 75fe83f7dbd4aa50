"""Two pieces of work interleaved at a chosen point, coordinated by events (no sleeps): the index race tests' and the
embedded index's write-beside-a-migration tests', and two key rotations one inside the other (second_held_at)."""

import threading
from collections.abc import Callable
from contextlib import contextmanager


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


@contextmanager
def second_held_at(monkeypatch, owner, name: str, second: Callable, held_at: tuple[object, str] | None = None):
    """`owner.name`, a step two runs of the same work each call, patched: the run in this thread, at the step, starts
    `second` in a thread and waits for it to reach the step too (or the step `held_at`, (owner, name), when given: one
    the second reaches later than this run's), where it is held until the block ends (this run going on meanwhile),
    then finishes. Yields a dict whose "second" is what `second` returned or raised, once the block is left, or once
    its "finish" is called within the block (the second run let go on and waited for there: an order in which the
    second ends before this run's later steps); the steps are themselves again from then on."""
    this, reached, go_on, outcome, runs = threading.current_thread(), threading.Event(), threading.Event(), {}, {}
    hold_owner, hold_name = held_at or (owner, name)
    steps = getattr(owner, name), getattr(hold_owner, hold_name)

    def run():
        try:
            outcome["second"] = second()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it, in its own thread
            outcome["second"] = exc

    def holding(step):
        def held(*args, **kwargs):
            if threading.current_thread() is not this:
                reached.set()
                assert go_on.wait(60)
            return step(*args, **kwargs)
        return held

    def starting(step):
        def start(*args, **kwargs):
            if threading.current_thread() is this and not runs:  # once: called again, this run calls the step alone
                runs["second"] = threading.Thread(target=run)
                runs["second"].start()
                assert reached.wait(60), "the second run did not reach the step"
            return step(*args, **kwargs)
        return start

    def finish():
        go_on.set()
        if "second" in runs:
            runs["second"].join(60)

    monkeypatch.setattr(hold_owner, hold_name, holding(steps[1]))
    monkeypatch.setattr(owner, name, starting(getattr(owner, name)))  # over the holding one when it is the same step
    outcome["finish"] = finish
    try:
        yield outcome
    finally:
        finish()
        monkeypatch.setattr(owner, name, steps[0])
        monkeypatch.setattr(hold_owner, hold_name, steps[1])
