"""The event log as its readers see it: every rotated file, followed live, counted.

logrotate (config/logrotate.ds01) renames `events.jsonl` to `events.jsonl.1`, compresses older
ones to `events.jsonl.N.gz`, and the next `events.record` creates a fresh `events.jsonl`
(writers open the file for each line, so nobody keeps writing to the renamed one for long).
Readers therefore read `events.jsonl.N.gz ... events.jsonl.1, events.jsonl`, oldest first.

`Follower` reads what is appended to `events.jsonl` from where it stands: when the name comes
to mean a new file (a rotation), it finishes the old file through its open handle and starts
the new one from its first line; a file that shrank (copytruncate) is read again from its start.

The log dir is group-writable, and root (ds01-events) or the exporter reads it: a link or a
non-file planted under a log name is not read at all (a link to /dev/zero would never end).
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import PermissionDenied

# Re-exported: readers of the log need only this module.
from ..events import EVENTS_FILE as EVENTS_FILE
from ..events import Event as Event
from ..events import parse_line as parse_line

Entry = Event  # what every reader here returns

# lifecycle event -> (action, reason when the details do not say)
LIFECYCLE_ACTIONS = {
    "lifecycle.retire": ("retired", None),
    "lifecycle.idle_warning": ("warned", "idle"),
    "lifecycle.runtime_warning": ("warned", "max_runtime"),
    "lifecycle.exempt": ("exempted", None),
}
# Reconcile corrections (ledger.py records them with by=reconcile) -> kind
CORRECTION_KINDS = {"gpu.release": "dropped", "gpu.adopt": "adopted", "gpu.unreserve": "unreserved"}


def _rotation_number(path: Path, name: str) -> int | None:
    match = re.fullmatch(rf"{re.escape(name)}\.(\d+)(?:\.gz)?", path.name)
    return int(match.group(1)) if match else None


def log_files(log_dir: Path, name: str = EVENTS_FILE) -> list[Path]:
    """The rotated files (highest number = oldest first) and then the current one, those that exist."""
    try:
        children = list(Path(log_dir).iterdir())
    except FileNotFoundError:
        return []
    except PermissionError:
        raise _unreadable(Path(log_dir)) from None
    numbered = [(number, child) for child in children
                if (number := _rotation_number(child, name)) is not None]
    files = [child for _number, child in sorted(numbered, key=lambda item: -item[0])]
    current = Path(log_dir) / name
    return files + ([current] if current.exists() else [])


def _unreadable(path: Path) -> PermissionDenied:
    return PermissionDenied(f"permission denied: cannot read {path} (the event log is for the docker group)")


def open_log(path: Path) -> IO[bytes] | None:
    """`path` opened for reading if it is a regular file (no link followed); None if missing or not one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except PermissionError:
        raise _unreadable(path) from None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            return None  # a planted link, socket or directory: nothing of DS01's to read
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None  # a FIFO or device: reading it could block or never end
    return os.fdopen(fd, "rb")


def _lines(path: Path) -> Iterator[bytes]:
    handle = open_log(path)
    if handle is None:
        return  # rotated away while we looked: its lines are in the next file we read
    try:
        with gzip.open(handle, "rb") if path.suffix == ".gz" else handle as lines:
            yield from lines
    except (OSError, EOFError):
        return  # a truncated .gz (being compressed right now) is read as far as it goes
    finally:
        handle.close()


def read_all(log_dir: Path, since: float | None = None, name: str = EVENTS_FILE) -> list[Entry]:
    """Every event in the current and the rotated files, oldest first.

    With `since` (epoch seconds), rotated files last written before it are not opened: none of
    their events can be that recent. (Entries are still filtered by time by the caller.)"""
    entries: list[Entry] = []
    for path in log_files(log_dir, name):
        if since is not None and path.name != name:
            try:
                if path.stat().st_mtime < since:
                    continue
            except FileNotFoundError:
                continue
        entries.extend(entry for line in _lines(path) if (entry := parse_line(line)) is not None)
    return entries


class Follower:
    """Reads events appended to one file from where it stands, across rotations; see the module doc."""

    def __init__(self, path: Path, from_start: bool = False) -> None:
        self.path = Path(path)
        self._handle: IO[bytes] | None = None
        self._identity: tuple[int, int] | None = None
        self._partial = b""
        self._open(from_start)

    def _open(self, from_start: bool) -> None:
        handle = open_log(self.path)  # kept open between polls on purpose
        if handle is None:
            return  # not there yet: when it appears, all of it is new
        status = os.fstat(handle.fileno())
        self._handle, self._identity, self._partial = handle, (status.st_dev, status.st_ino), b""
        if not from_start:
            handle.seek(0, os.SEEK_END)

    def holds(self, path: Path) -> bool:
        """True when `path` is the file this follower has open (e.g. it was just rotated)."""
        try:
            status = os.lstat(path)
        except OSError:
            return False
        return self._identity == (status.st_dev, status.st_ino)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _drain(self) -> list[Entry]:
        if self._handle is None:
            return []
        data = self._partial + self._handle.read()
        complete, _, self._partial = data.rpartition(b"\n")
        if not complete:
            return []
        return [entry for line in complete.split(b"\n") if (entry := parse_line(line)) is not None]

    def poll(self) -> list[Entry]:
        """The events written since the last poll (possibly none)."""
        if self._handle is None:
            self._open(from_start=True)
            return self._drain()
        entries = self._drain()
        try:
            status = os.lstat(self.path)
        except FileNotFoundError:
            return entries  # rotated, the new file not created yet: keep the old handle for now
        if (status.st_dev, status.st_ino) != self._identity:
            entries += self._drain()  # written to the old file between the read and the rename
            self.close()
            self._open(from_start=True)
            entries += self._drain()
        elif self._handle is not None and status.st_size < self._handle.tell():
            self._handle.seek(0)  # truncated in place (copytruncate): its content is all new
            self._partial = b""
            entries += self._drain()
        return entries


# --- counting ---

def short_container(value: object) -> str:
    """`name` of a `name._.uid` Docker name (events record either form)."""
    text = str(value or "")
    return text.split("._.", 1)[0]


def matches_container(entry: Entry, name: str) -> bool:
    container = entry.details.get("container")
    return container is not None and (str(container) == name or short_container(container) == name)


@dataclass
class Summary:
    """Counts of events by name, by user, and by both."""

    total: int = 0
    by_event: Counter[str] = field(default_factory=Counter)
    by_user: Counter[str] = field(default_factory=Counter)
    by_user_event: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, entries: Iterable[Entry]) -> Summary:
        for entry in entries:
            event, user = entry.event, entry.user or "-"
            self.total += 1
            self.by_event[event] += 1
            self.by_user[user] += 1
            self.by_user_event[(user, event)] += 1
        return self

    def as_dict(self) -> dict[str, Any]:
        per_user: dict[str, dict[str, int]] = {}
        for (user, event), count in sorted(self.by_user_event.items()):
            per_user.setdefault(user, {})[event] = count
        return {"total": self.total, "by_event": dict(sorted(self.by_event.items())),
                "by_user": dict(sorted(self.by_user.items())), "by_user_event": per_user}


@dataclass
class Tally:
    """What the exporter counts from the log: every event by name, lifecycle actions, corrections."""

    events: Counter[str] = field(default_factory=Counter)
    lifecycle: Counter[tuple[str, str]] = field(default_factory=Counter)   # (action, reason)
    corrections: Counter[str] = field(default_factory=Counter)             # kind

    def add(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            name = entry.event
            details = entry.details
            self.events[name] += 1
            action = LIFECYCLE_ACTIONS.get(name)
            if action is not None:
                self.lifecycle[(action[0], str(details.get("reason") or action[1] or "unknown"))] += 1
            if details.get("by") == "reconcile" and name in CORRECTION_KINDS:
                self.corrections[CORRECTION_KINDS[name]] += 1


class LiveTally:
    """A Tally kept current by reading only what was appended since the last update.

    The first update reads the rotated files and the current one; later ones follow the current
    file (across rotations), so a long-running exporter's scrape reads a few new lines at most."""

    def __init__(self, log_dir: Path, name: str = EVENTS_FILE) -> None:
        self.log_dir = Path(log_dir)
        self.name = name
        self.tally = Tally()
        self._follower: Follower | None = None

    def update(self) -> Tally:
        if self._follower is None:
            # Open the current file first: a rotation while the older files are read is then
            # finished through this handle, and no line is counted twice or missed.
            follower = Follower(self.log_dir / self.name, from_start=True)
            for path in log_files(self.log_dir, self.name):
                if path.name != self.name and not follower.holds(path):
                    self.tally.add(entry for line in _lines(path) if (entry := parse_line(line)) is not None)
            self._follower = follower
        self.tally.add(self._follower.poll())
        return self.tally

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()
