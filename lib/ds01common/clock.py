"""Time as DS01 reads it: one Clock passed down from the command's context.

Library code that needs "now", a deadline or a pause takes a `clock` argument (default: the
system clock) instead of calling the time module itself, so tests drive time with a fake
clock (tests/fakes/clock.py) instead of sleeping.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Protocol

    class Clock(Protocol):
        def time(self) -> float:
            """Wall-clock seconds since the epoch (for timestamps that are stored or shown)."""
            ...

        def monotonic(self) -> float:
            """Seconds on a clock that never goes back (for deadlines and durations)."""
            ...

        def sleep(self, seconds: float) -> None:
            """Pause for `seconds`."""
            ...
else:
    Clock = object  # the protocol matters to type checkers only; annotations are never evaluated


class SystemClock:
    """The real clock: the time module."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM = SystemClock()
