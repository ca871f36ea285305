"""Durations and sizes: parsed here and nowhere else.

Durations: "45s", "30m", "48h", "7d", a plain number (hours), or None (never / unlimited).
Sizes: Docker style, "512m", "32g", "1t", plain integers are bytes, None is unlimited.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_duration(value: Any) -> int | None:
    """Seconds (int) from a duration value; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '30m', '48h' or '7d', got {value!r}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):  # NaN, Infinity: never a duration
            raise ValueError(f"expected a finite duration, got {value!r}")
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return int(round(value * 3600))
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            number, unit = match.groups()
            return int(round(float(number) * _DURATION_UNITS[unit or "h"]))
    raise ValueError(f"expected a duration like '45s', '30m', '48h', '7d' or a number of hours, got {value!r}")


def parse_size(value: Any) -> int | None:
    """Bytes (int) from a Docker-style size; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a size like '32g', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size cannot be negative, got {value!r}")
        return value
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            number, unit = match.groups()
            return int(float(number) * _SIZE_UNITS[unit.lower()])
    raise ValueError(f"expected a size like '512m', '32g' or '1t', got {value!r}")


def format_duration(seconds: float | None) -> str:
    """A short human form: 45s, 30m, 2h30m, 7d; None is 'never'."""
    if seconds is None:
        return "never"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])


def format_size(size: int | None) -> str:
    """Bytes as 1.5g / 512m / 10k; None is 'unlimited'."""
    if size is None:
        return "unlimited"
    for unit, factor in (("t", 1024 ** 4), ("g", 1024 ** 3), ("m", 1024 ** 2), ("k", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return f"{size}b"


def iso_utc(epoch: float | None = None) -> str:
    """A moment (seconds since the epoch; now when omitted) as '2026-11-22T21:57:30Z'."""
    import datetime
    import time

    moment = datetime.datetime.fromtimestamp(time.time() if epoch is None else float(epoch), datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
