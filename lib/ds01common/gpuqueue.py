"""The GPU wait queue ($DS01_STATE_DIR/gpu-queue.json): who waits for a slot, in what order.

Waiters are served by priority (higher first), then arrival. A waiter (or a newcomer without
--wait) may take a slot only if, after every waiter ahead of it whose request can be met
right now is given its slots, a slot is still left for it. Entries of dead processes are
dropped. Lock order: the ledger lock may be held while this file's lock is taken, never the
other way round.

A waiter is a `QueueEntry`; on disk (waiters: {token: entry}) an entry is
  {user, login, container, request: {count, full_gpu}, limits: {quota keys}, priority, arrival,
   pid, pid_start}
and JSON is read and written only here, at the file's boundary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .clock import SYSTEM, Clock
from .errors import NotFound, PermissionDenied
from .ledger import process_alive, process_start_time
from .records import Limits
from .statefile import StateFile

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from .allocator import GpuRequest
    from .identity import User
    from .inventory import Slot
    from .policy import Choice, Holdings, Refusal, Request
    from .records import StrPath


QUEUE_FILE = "gpu-queue.json"
SCHEMA_VERSION = 1
QUOTA_KEYS = ("max_mig_instances", "max_gpus_per_container", "max_gpu_equivalents", "allow_full_gpu",
              "max_containers_per_user", "priority")


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One waiter: who, for which container, what it asked for, its quota when it joined."""

    token: str
    user: str
    login: str
    container: str                 # the docker container name it waits to create
    count: int                     # GPU slots asked for
    full_gpu: bool
    limits: Mapping[str, Any]      # the quota keys as stored when it joined (missing: unlimited)
    priority: int
    arrival: float | None          # epoch seconds; None for a hand-made entry without one
    pid: int | None
    pid_start: str | None

    @classmethod
    def from_json(cls, token: str, entry: Mapping[str, Any]) -> QueueEntry:
        """The entry stored under `token`; ValueError or TypeError for one of the wrong shape."""
        request = entry.get("request") or {}
        limits = entry.get("limits")
        arrival = entry.get("arrival")
        pid = entry.get("pid")
        pid_start = entry.get("pid_start")
        return cls(str(token), str(entry.get("user") or ""), str(entry.get("login") or ""),
                   str(entry.get("container") or ""), int(request.get("count", 1)), bool(request.get("full_gpu")),
                   dict(limits) if isinstance(limits, dict) else {}, int(entry.get("priority") or 0),
                   float(arrival) if arrival else None, pid if isinstance(pid, int) else None,
                   pid_start if isinstance(pid_start, str) else None)

    def to_json(self) -> dict[str, Any]:
        """The stored form (keyed by token in the file, so without it)."""
        return {"user": self.user, "login": self.login, "container": self.container,
                "request": {"count": self.count, "full_gpu": self.full_gpu}, "limits": dict(self.limits),
                "priority": self.priority, "arrival": self.arrival, "pid": self.pid, "pid_start": self.pid_start}

    @property
    def order_key(self) -> tuple[int, float, str]:
        """Service order: higher priority first, then earlier arrival (none counts as earliest)."""
        return (-self.priority, self.arrival or 0.0, self.token)

    @property
    def stored_limits(self) -> Limits:
        """The waiter's quota limits as stored when it joined; keys it lacks mean unlimited."""
        return Limits.from_mapping({key: value for key, value in self.limits.items() if key in QUOTA_KEYS})

    def alive(self) -> bool:
        return process_alive(self.pid, self.pid_start)


def queue_file(state_dir: StrPath) -> StateFile:
    return StateFile(Path(state_dir) / QUEUE_FILE, SCHEMA_VERSION, lambda: {"waiters": {}})


def _entries(data: Mapping[str, Any]) -> dict[str, QueueEntry]:
    waiters = data.get("waiters")
    if not isinstance(waiters, dict):
        return {}
    entries = {}
    for token, stored in waiters.items():
        # A hand-edited waiter of the wrong shape is dropped rather than crashing every GPU command.
        try:
            if isinstance(stored, dict):
                entries[str(token)] = QueueEntry.from_json(str(token), stored)
        except (TypeError, ValueError, AttributeError):
            continue
    return entries


def _store(data: dict[str, Any], entries: dict[str, QueueEntry]) -> None:
    data["waiters"] = {token: entry.to_json() for token, entry in entries.items()}


def waiters(state_dir: StrPath, walk: bool = False) -> list[QueueEntry]:
    """Live waiters in service order (unlocked read; dead ones are skipped, pruned on the next write).
    `walk`: no link at any component of the path is followed (statefile.read)."""
    data = queue_file(state_dir).read(walk=walk)
    return sorted((entry for entry in _entries(data).values() if entry.alive()), key=lambda entry: entry.order_key)


def prune(state_dir: StrPath) -> int:
    """Drop waiters whose process is gone; returns how many."""
    if not (Path(state_dir) / QUEUE_FILE).exists():
        return 0
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        dead = [token for token, entry in entries.items() if not entry.alive()]
        for token in dead:
            del entries[token]
        _store(data, entries)
    return len(dead)


def join(state_dir: StrPath, user: User, container: str, request: Request | GpuRequest, limits: Limits,
         pid: int | None = None, clock: Clock = SYSTEM) -> QueueEntry:
    """Add a waiter; returns its entry."""
    pid = os.getpid() if pid is None else pid
    import uuid  # lazy: only a waiter needs a token

    entry = QueueEntry(uuid.uuid4().hex[:12], user.name, user.login, container, request.count,
                       bool(request.full_gpu), {key: limits.value(key) for key in QUOTA_KEYS}, limits.priority,
                       clock.time(), pid, process_start_time(pid))
    with queue_file(state_dir).transaction() as data:
        entries = {token: existing for token, existing in _entries(data).items() if existing.alive()}
        entries[entry.token] = entry
        _store(data, entries)
    return entry


def leave(state_dir: StrPath, token: str) -> bool:
    """Remove a waiter; True if it was there."""
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        found = entries.pop(token, None) is not None
        _store(data, entries)
    return found


def present(state_dir: StrPath, token: str) -> bool:
    return token in _entries(queue_file(state_dir).read())


def cancel(state_dir: StrPath, user: User, token: str | None = None, is_admin: bool = False) -> list[QueueEntry]:
    """Cancel the user's waits, or one by token or by the user's own container NAME (another
    user's container of that name is not theirs to see); an admin may cancel anyone's by token.
    Returns the entries removed."""
    from .names import short_name

    removed = []
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        for key, entry in list(entries.items()):
            by_name = token not in entries and entry.user == user.name and short_name(entry.container) == token
            if token is not None and key != token and not by_name:
                continue
            if entry.user != user.name:
                if token is None:
                    continue
                if not is_admin:
                    raise PermissionDenied(f"permission denied: queue entry {token} belongs to {entry.user}")
            removed.append(entries.pop(key))
        _store(data, entries)
    if token is not None and not removed:
        raise NotFound(f"no queue entry {token} (an ID or one of your container names; see `gpu-queue`)")
    if token is None and not removed:
        raise NotFound(f"{user.name} has no entry in the GPU queue")
    return removed


def ahead_of(all_waiters: Iterable[QueueEntry], priority: int | None, arrival: float | None,
             token: str | None = None) -> list[QueueEntry]:
    """The waiters served before someone with this priority and arrival (excluding `token`)."""
    mine = (-int(priority or 0), float(arrival or 0), token or "")
    return [entry for entry in all_waiters if entry.token != token and entry.order_key < mine]


def serve_ahead(ahead: Iterable[QueueEntry], state: Any, slots: Sequence[Slot],
                decide: Callable[[Sequence[Slot], Holdings, Limits, Request], Choice | Refusal],
                request_type: Callable[[int, bool], Request],
                holdings_for: Callable[[str | None, set[str]], Holdings]) -> tuple[set[str], int]:
    """Give every satisfiable waiter ahead its slots, virtually; returns (taken set, how many served).

    `decide(slots, holdings, limits, request)` is policy.decide; `holdings_for(user, taken)` builds
    that waiter's holdings against the virtually taken set.
    """
    taken = set(state.taken())
    served = 0
    virtual: dict[str | None, list[str]] = {}
    for entry in ahead:
        holdings = holdings_for(entry.user, taken)
        holdings.user_slots.extend(virtual.get(entry.user, []))
        holdings.user_weight += sum(slot.weight for slot in slots if slot.id in virtual.get(entry.user, []))
        decision = decide(slots, holdings, entry.stored_limits, request_type(entry.count, entry.full_gpu))
        if decision.ok:
            served += 1
            chosen = [slot.id for slot in decision.slots]
            taken.update(chosen)
            virtual.setdefault(entry.user, []).extend(chosen)
    return taken, served


def listing(state_dir: StrPath) -> list[dict[str, Any]]:
    """The queue in serving order, one row per waiter, with its 1-based position (for gpu-queue)."""
    from .names import short_name
    from .units import iso_utc

    rows = []
    for position, entry in enumerate(waiters(state_dir), start=1):
        rows.append({"position": position, "id": entry.token, "user": entry.user,
                     "container": short_name(entry.container), "count": entry.count,
                     "full_gpu": entry.full_gpu, "priority": entry.priority,
                     "since": iso_utc(entry.arrival) if entry.arrival else None})
    return rows
