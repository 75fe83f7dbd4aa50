"""A clock that moves only when a test moves it, for code that takes a `clock` (seconds, like
time.monotonic): a lifetime runs out because the test said so, not because the machine was slow."""


class ManualClock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
