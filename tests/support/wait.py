"""Waiting for something that happens on another thread or process: poll a condition until it holds,
with a deadline generous enough for a busy 2-core machine. The deadline only bounds a failure; a
passing test waits exactly as long as the work takes."""

import time


def wait_until(condition, what: str, timeout: float = 60.0, every: float = 0.02):
    """The first truthy value of `condition()`, or an AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)
    return value
