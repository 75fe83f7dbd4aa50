"""A clock that moves only when a test moves it, for code that takes a `clock` (seconds, like
time.monotonic): a lifetime runs out because the test said so, not because the machine was slow."""

from datetime import datetime, timedelta


class ManualClock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ManualWallClock:
    """A UTC wall clock (datetimes) that moves only when a test moves it, for code that records when it did
    something (deltas.clock)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class FakeTime:
    """For the polite client: a monotonic clock that moves only when slept on (each sleep recorded), and a
    wall clock that stands still at `wall`."""

    def __init__(self, wall: float = 0.0):
        self.now, self.wall, self.sleeps = 1000.0, wall, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def options(self, hosts) -> dict:
        return {"hosts": hosts, "clock": self.clock, "sleep": self.sleep, "wall_clock": lambda: self.wall}
