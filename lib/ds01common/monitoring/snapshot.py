"""One cheap look at DS01's state, for the exporter: what the metrics are made of.

A snapshot costs one engine listing (DS01 containers, every state, no inspect) and one
unlocked read each of the ledger, the GPU queue and lifecycle.json; it never takes a lock or
writes, and reads those files as security.py's safe opens do: a link at any component of their
path is never followed (the file reads as empty, with a warning). The ledger read is
reconciled with the listing in memory (ledger.reconcile, the same rules every transaction
applies), so the slots it shows are what `gpu-allocator status` would
show, even when no DS01 command has run since a `docker rm`; how many corrections that took
is reported (a non-zero value that lasts means the ledger file is stale). NVML is asked for
memory, utilisation and processes only when the GPUs are real, not simulated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import gpu_outside, gpuqueue, identity, ledger, lifecycle
from .. import labels as label
from ..allocator_admin import limits_of
from ..errors import Ds01Error
from ..inventory import Inventory
from ..names import short_name
from ..records import EngineContainer, Limits

MANAGED_FILTER = label.MANAGED_FILTER
SLOT_STATES = ("free", "assigned", "reserved")
ListContainers = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True)
class SlotView:
    id: str
    gpu: int
    profile: str            # "full" for a whole GPU
    weight: float
    state: str              # one of SLOT_STATES
    user: str | None
    container: str | None   # short name
    memory_used: int | None = None
    memory_total: int | None = None
    utilization: float | None = None   # 0..1


@dataclass(frozen=True)
class ContainerView:
    name: str
    user: str
    state: str              # Docker's: running, exited, created, ...
    gpu_slots: int
    idle_seconds: float | None       # as of the last cleanup pass; None unless running
    idle_timeout: float | None
    idle_measured_at: float | None


@dataclass(frozen=True)
class UserView:
    user: str
    slots: int
    weight: float
    containers: int
    max_slots: int | None
    max_weight: float | None
    max_containers: int | None


@dataclass
class Snapshot:
    taken_at: float
    engine_up: bool = True
    slots: list[SlotView] = field(default_factory=list)
    containers: list[ContainerView] = field(default_factory=list)
    users: list[UserView] = field(default_factory=list)
    queue_length: int = 0
    queue_oldest_wait: float | None = None
    queue_by_user: Counter[str] = field(default_factory=Counter)
    outside: list[gpu_outside.OutsideProcess] = field(default_factory=list)
    pending_corrections: int = 0


def container_info(entry: dict[str, Any]) -> ledger.ContainerInfo | None:
    """A ledger ContainerInfo from one entry of the engine's container list (None if not DS01's)."""
    return ledger.describe(EngineContainer.from_list_entry(entry))


class _Limits:
    """Resolved limits per sanitised user name, looked up once per snapshot."""

    def __init__(self, config: Any, lookup: Callable[[str], Any]) -> None:
        self._config, self._lookup = config, lookup
        self._cache: dict[str, Limits] = {}

    def __call__(self, user: str) -> Limits:
        if user not in self._cache:
            self._cache[user] = limits_of(self._config, user, self._lookup)
        return self._cache[user]


def collect(list_containers: ListContainers, config: Any, inventory: Inventory, state_dir: Path, now: float,
            *, gpu_processes: gpu_outside.GpuProcesses | None = None,
            device_usage: Callable[[], list[Any]] | None = None, proc_root: str | None = None,
            lookup: Callable[[str], Any] = identity.lookup_user) -> Snapshot:
    """The snapshot; see the module docstring. `gpu_processes`/`device_usage` default to NVML's."""
    snapshot = Snapshot(taken_at=now)
    try:
        infos = [info for entry in list_containers() if (info := container_info(entry)) is not None]
    except Ds01Error:
        snapshot.engine_up, infos = False, []
    # walk=True: no link at any component is followed; a planted one reads as empty, with a warning.
    # A fresh document, parsed for this call alone: reconciling it in place touches no one else's.
    data = ledger.read_state(state_dir, walk=True)
    if snapshot.engine_up:
        changes, _conflicts = ledger.reconcile(data, infos, inventory.weights, now=now, listed_at=now)
        snapshot.pending_corrections = len(changes)
    limits = _Limits(config, lookup)
    usage = {} if inventory.simulated else {item.uuid: item for item in (device_usage or _nvml_usage)()}
    snapshot.slots = _slots(inventory, data, usage)
    snapshot.containers = _containers(infos, lifecycle.read_state(state_dir, walk=True).get("containers") or {},
                                      limits)
    waiters = gpuqueue.waiters(state_dir, walk=True)
    snapshot.queue_length = len(waiters)
    arrivals = [entry.arrival for entry in waiters if entry.arrival]
    snapshot.queue_oldest_wait = max(0.0, now - min(arrivals)) if arrivals else None
    snapshot.queue_by_user = Counter(entry.user for entry in waiters)
    if not inventory.simulated:
        processes = (gpu_processes or gpu_outside.nvml_processes)()
        snapshot.outside = gpu_outside.find(processes, inventory.slots, {info.id for info in infos}, proc_root)
    snapshot.users = _users(snapshot, limits)
    return snapshot


def _nvml_usage() -> list[Any]:
    from .. import nvml
    result: list[Any] = nvml.device_usage()
    return result


def _slots(inventory: Inventory, data: ledger.LedgerDocument, usage: dict[str, Any]) -> list[SlotView]:
    assignments = data.assignments
    reserved = data.reserved_by_slot()
    views = []
    for slot in inventory.slots:
        state = "free"
        holder: ledger.Assignment | ledger.SlotReservation | None = None
        if slot.id in assignments:
            state, holder = "assigned", assignments[slot.id]
        elif slot.id in reserved:
            state, holder = "reserved", reserved[slot.id]
        measured = usage.get(slot.uuid)
        utilization = getattr(measured, "utilization", None)
        views.append(SlotView(slot.id, slot.gpu, slot.profile or "full", round(slot.weight, 4), state,
                              holder.user if holder else None, short_name(holder.container if holder else None),
                              getattr(measured, "memory_used", None), getattr(measured, "memory_total", None),
                              None if utilization is None else utilization / 100))
    return views


def _containers(infos: list[ledger.ContainerInfo], idle_state: dict[str, Any],
                limits: Callable[[str], Limits]) -> list[ContainerView]:
    views = []
    for info in infos:
        entry = idle_state.get(info.id) or {}
        running = info.status in ("running", "paused")
        idle = entry.get("idle_seconds") if running else None
        views.append(ContainerView(short_name(info.name) or info.name, info.user or "?", info.status or "unknown",
                                   len(info.slots), None if idle is None else float(idle),
                                   limits(info.user).idle_timeout if info.user else None,
                                   entry.get("measured_at") if running else None))
    return sorted(views, key=lambda view: (view.user, view.name))


def _users(snapshot: Snapshot, limits: Callable[[str], Limits]) -> list[UserView]:
    held: dict[str, list[float]] = {}
    for slot in snapshot.slots:
        if slot.user:
            entry = held.setdefault(slot.user, [0, 0.0])
            entry[0] += 1
            entry[1] += slot.weight
    containers = Counter(view.user for view in snapshot.containers)
    names = sorted(set(held) | set(containers) | set(snapshot.queue_by_user))
    views = []
    for user in names:
        user_limits = limits(user)
        count, weight = held.get(user, [0, 0.0])
        views.append(UserView(user, int(count), round(weight, 4), containers.get(user, 0),
                              user_limits.max_mig_instances, user_limits.max_gpu_equivalents,
                              user_limits.max_containers_per_user))
    return views
