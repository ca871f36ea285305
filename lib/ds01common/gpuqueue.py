"""The GPU wait queue ($DS01_STATE_DIR/gpu-queue.json): who waits for a slot, in what order.

Waiters are served by priority (higher first), then arrival. A waiter (or a newcomer without
--wait) may take a slot only if, after every waiter ahead of it whose request can be met
right now is given its slots, a slot is still left for it. Entries of dead processes are
dropped. Lock order: the ledger lock may be held while this file's lock is taken, never the
other way round.

Entry: {token, user, login, container, request: {count, full_gpu}, limits: {quota keys},
        priority, arrival, pid, pid_start}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
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

    Entry = dict[str, Any]  # one waiter, as stored (see the module docstring)


QUEUE_FILE = "gpu-queue.json"
SCHEMA_VERSION = 1
QUOTA_KEYS = ("max_mig_instances", "max_gpus_per_container", "max_gpu_equivalents", "allow_full_gpu",
              "max_containers_per_user", "priority")


def queue_file(state_dir: StrPath) -> StateFile:
    return StateFile(Path(state_dir) / QUEUE_FILE, SCHEMA_VERSION, lambda: {"waiters": {}})


def order_key(entry: Entry) -> tuple[int, float, str]:
    return (-int(entry.get("priority") or 0), float(entry.get("arrival") or 0), entry.get("token", ""))


def _alive(entry: Entry) -> bool:
    return process_alive(entry.get("pid"), entry.get("pid_start"))


def _entries(data: dict[str, Any]) -> dict[str, Entry]:
    waiters = data.get("waiters")
    if not isinstance(waiters, dict):
        return {}
    # A hand-edited waiter of the wrong shape is dropped rather than crashing every GPU command.
    for token, entry in list(waiters.items()):
        try:
            order_key(dict(entry, token=str(token)))
        except (TypeError, ValueError):
            del waiters[token]
    return waiters


def waiters(state_dir: StrPath, walk: bool = False) -> list[Entry]:
    """Live waiters in service order (unlocked read; dead ones are skipped, pruned on the next write).
    `walk`: no link at any component of the path is followed (statefile.read)."""
    data = queue_file(state_dir).read(walk=walk)
    live = [dict(entry, token=token) for token, entry in _entries(data).items() if _alive(entry)]
    return sorted(live, key=order_key)


def prune(state_dir: StrPath) -> int:
    """Drop waiters whose process is gone; returns how many."""
    if not (Path(state_dir) / QUEUE_FILE).exists():
        return 0
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        dead = [token for token, entry in entries.items() if not _alive(entry)]
        for token in dead:
            del entries[token]
        data["waiters"] = entries
    return len(dead)


def join(state_dir: StrPath, user: User, container: str, request: Request | GpuRequest, limits: Limits,
         pid: int | None = None, clock: Clock = SYSTEM) -> Entry:
    """Add a waiter; returns its entry (with token)."""
    pid = os.getpid() if pid is None else pid
    import uuid  # lazy: only a waiter needs a token

    token = uuid.uuid4().hex[:12]
    entry = {"user": user.name, "login": user.login, "container": container,
             "request": {"count": request.count, "full_gpu": bool(request.full_gpu)},
             "limits": {key: limits.value(key) for key in QUOTA_KEYS},
             "priority": limits.priority, "arrival": clock.time(),
             "pid": pid, "pid_start": process_start_time(pid)}
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        for other, existing in list(entries.items()):
            if not _alive(existing):
                del entries[other]
        entries[token] = entry
        data["waiters"] = entries
    return dict(entry, token=token)


def leave(state_dir: StrPath, token: str) -> bool:
    """Remove a waiter; True if it was there."""
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        found = entries.pop(token, None) is not None
        data["waiters"] = entries
    return found


def present(state_dir: StrPath, token: str) -> bool:
    return token in _entries(queue_file(state_dir).read())


def cancel(state_dir: StrPath, user: User, token: str | None = None, is_admin: bool = False) -> list[Entry]:
    """Cancel the user's waits, or one by token or by the user's own container NAME (another
    user's container of that name is not theirs to see); an admin may cancel anyone's by token.
    Returns the entries removed."""
    from .names import short_name

    removed = []
    with queue_file(state_dir).transaction() as data:
        entries = _entries(data)
        for key, entry in list(entries.items()):
            by_name = token not in entries and entry.get("user") == user.name \
                and short_name(entry.get("container")) == token
            if token is not None and key != token and not by_name:
                continue
            if entry.get("user") != user.name:
                if token is None:
                    continue
                if not is_admin:
                    raise PermissionDenied(f"permission denied: queue entry {token} belongs to {entry.get('user')}")
            removed.append(dict(entries.pop(key), token=key))
        data["waiters"] = entries
    if token is not None and not removed:
        raise NotFound(f"no queue entry {token} (an ID or one of your container names; see `gpu-queue`)")
    if token is None and not removed:
        raise NotFound(f"{user.name} has no entry in the GPU queue")
    return removed


def ahead_of(all_waiters: Iterable[Entry], priority: int | None, arrival: float,
             token: str | None = None) -> list[Entry]:
    """The waiters served before someone with this priority and arrival (excluding `token`)."""
    mine = (-int(priority or 0), float(arrival), token or "")
    return [entry for entry in all_waiters if entry.get("token") != token and order_key(entry) < mine]


def serve_ahead(ahead: Iterable[Entry], state: Any, slots: Sequence[Slot],
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
        holdings = holdings_for(entry.get("user"), taken)
        holdings.user_slots.extend(virtual.get(entry.get("user"), []))
        holdings.user_weight += sum(slot.weight for slot in slots if slot.id in virtual.get(entry.get("user"), []))
        wanted = entry.get("request") or {}
        decision = decide(slots, holdings, _stored_limits(entry),
                          request_type(int(wanted.get("count", 1)), bool(wanted.get("full_gpu"))))
        if decision.ok:
            served += 1
            chosen = [slot.id for slot in decision.slots]
            taken.update(chosen)
            virtual.setdefault(entry.get("user"), []).extend(chosen)
    return taken, served


def _stored_limits(entry: Entry) -> Limits:
    """A waiter's quota limits as stored when it joined; keys it lacks mean unlimited."""
    stored = entry.get("limits")
    return Limits.from_mapping({key: value for key, value in stored.items() if key in QUOTA_KEYS}
                               if isinstance(stored, dict) else {})


def listing(state_dir: StrPath) -> list[dict[str, Any]]:
    """The queue in serving order, one row per waiter, with its 1-based position (for gpu-queue)."""
    from .names import short_name
    from .units import iso_utc

    rows = []
    for position, entry in enumerate(waiters(state_dir), start=1):
        request = entry.get("request") or {}
        rows.append({"position": position, "id": entry["token"], "user": entry["user"],
                     "container": short_name(entry["container"]), "count": request.get("count"),
                     "full_gpu": request.get("full_gpu"), "priority": entry.get("priority"),
                     "since": iso_utc(entry["arrival"]) if entry.get("arrival") else None})
    return rows
