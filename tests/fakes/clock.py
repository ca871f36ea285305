"""A fake Clock (ds01common.clock.Clock) for unit tests: time moves only when the test says so.

`sleep(seconds)` advances the clock instead of waiting, then calls `on_sleep` (if given), so a
test can make something happen "while" the code under test waits."""

from __future__ import annotations

from collections.abc import Callable


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0, on_sleep: Callable[[FakeClock], None] | None = None) -> None:
        self.now = start
        self.monotonic_now = 1000.0
        self.on_sleep = on_sleep
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.monotonic_now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.monotonic_now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        if self.on_sleep is not None:
            self.on_sleep(self)
