"""The event log: one JSON line per event in $DS01_LOG_DIR/events.jsonl."""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import log, paths
from .clock import SYSTEM, Clock
from .units import iso_utc

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

EVENTS_FILE = "events.jsonl"


def utc_now_iso() -> str:
    return iso_utc()


def record(event: str, user: str | None, log_dir: str | os.PathLike[str] | None = None, *,
           clock: Clock = SYSTEM, **details: Any) -> dict[str, Any]:
    """Append one event (stamped with `clock`'s time); a log that cannot be written is a warning,
    never a failed command."""
    entry = {"time": iso_utc(clock.time()), "user": user, "event": event, "details": details}
    path = Path(log_dir or paths.log_dir()) / EVENTS_FILE
    line = json.dumps(entry, sort_keys=True, default=str) + "\n"
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


def read(log_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every event, oldest first; unparsable lines are skipped."""
    path = Path(log_dir or paths.log_dir()) / EVENTS_FILE
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
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("details", {}), dict) \
                and isinstance(entry.get("time"), str) and isinstance(entry.get("event"), str):
            entries.append(entry)
    return entries
