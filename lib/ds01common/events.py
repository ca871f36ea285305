"""The event log: one JSON line per event in $DS01_LOG_DIR/events.jsonl.

A line is {"time": ISO UTC, "user": name or null, "event": name, "details": {...}}; readers get
it as an `Event` (monitoring/eventlog.py reads the rotated files and follows the log too).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import log
from .clock import SYSTEM, Clock
from .units import iso_utc

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from .records import StrPath

EVENTS_FILE = "events.jsonl"


@dataclass(frozen=True, slots=True)
class Event:
    """One event as written: when (ISO UTC text), by or for whom, what, and its numbers."""

    time: str
    user: str | None
    event: str
    details: dict[str, Any]

    @classmethod
    def from_json(cls, entry: object) -> Event | None:
        """The event of one parsed line, or None for a line of another shape (hand-written, foreign)."""
        if not isinstance(entry, dict):
            return None
        time, name, details, user = entry.get("time"), entry.get("event"), entry.get("details", {}), entry.get("user")
        if not isinstance(time, str) or not isinstance(name, str) or not isinstance(details, dict):
            return None
        return cls(time, None if user is None else str(user), name, details)

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "user": self.user, "event": self.event, "details": self.details}


def utc_now_iso() -> str:
    return iso_utc()


def record(event: str, user: str | None, log_dir: StrPath | None, *,
           clock: Clock = SYSTEM, **details: Any) -> Event:
    """Append one event (stamped with `clock`'s time); a log that cannot be written is a warning,
    never a failed command. `log_dir` is the command's (its context's `log_dir`): it is never
    guessed from the environment here. None (a library caller that was given no log dir, e.g.
    a test of the engine alone) writes nothing."""
    entry = Event(iso_utc(clock.time()), user, event, details)
    if log_dir is None:
        log.debug("event %s not written: no event log dir given", event)
        return entry
    path = Path(log_dir) / EVENTS_FILE
    line = json.dumps(entry.to_json(), sort_keys=True, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from .security import open_regular

        # Never through a link planted in the log dir: root would append to its target.
        fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o660)
        try:
            if os.fstat(fd).st_uid == os.geteuid():
                os.fchmod(fd, 0o660)
            # One write call per line: O_APPEND keeps concurrent writers' lines whole.
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError as error:
        log.warning("could not write event log %s: %s", path, error.strerror)
    except Exception as error:  # noqa: BLE001 - a Ds01Error from moving a planted file aside
        log.warning("could not write event log %s: %s", path, error)
    return entry


def read(log_dir: StrPath) -> list[Event]:
    """Every event, oldest first; unparsable lines are skipped."""
    path = Path(log_dir) / EVENTS_FILE
    try:
        # errors="replace": a line of stray bytes is skipped below, not a crash of every reader.
        with open(path, errors="replace") as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        return []
    except PermissionError:
        from .errors import PermissionDenied

        raise PermissionDenied(f"permission denied: cannot read {path} (the event log is for the "
                               "docker group)") from None
    return [entry for line in lines if (entry := parse_line(line)) is not None]


def parse_line(line: str | bytes) -> Event | None:
    """One event from one line, or None for a torn, foreign or unparsable line."""
    if isinstance(line, bytes):
        line = line.decode(errors="replace")
    try:
        return Event.from_json(json.loads(line))
    except ValueError:
        return None
