"""Looking at and repairing GPU allocations: status, reconcile, an admin's release of one slot.

`release_slot` semantics: a reserved slot (a create in progress) or a slot of a stopped
container is freed at once; a slot of a running container is refused unless `force`, which
first stops the container (so no two containers ever use one GPU) and then frees the slot.
Freeing a slot from a container that still exists records it under `revoked` in the ledger,
so reconciling does not hand it back to that container because of its labels.
"""

from __future__ import annotations

import re

from . import dockerapi, events, gpuqueue, inventory, ledger
from .clock import SYSTEM, Clock
from .errors import Ds01Error, NotFound
from .names import short_name
from .units import iso_utc

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .identity import User
    from .records import Limits, StrPath

    Document = dict[str, Any]  # the status document (see `status`)

_SLOT_ID_RE = re.compile(r"^\d+(:\d+)?\Z")


def status(docker: Any, config: Any, *, state_dir: StrPath, log_dir: StrPath,
           inventory_: inventory.Inventory | None = None) -> Document:
    """Every slot with its holder after reconciling, the GPUs, the queue, and the reason for no GPUs."""
    inv = inventory_ or inventory.discover(config)
    with ledger.transaction(docker, state_dir, weights=inv.weights, log_dir=log_dir) as state:
        assignments = dict(state.assignments)
        reserved = state.data.reserved_by_slot()
        statuses: dict[str | None, str] = {container.name: container.status for container in state.containers}
        ds01_ids = {container.id for container in state.containers}
        containers_per_user: dict[str, int] = {}
        for container in state.containers:
            containers_per_user[container.user] = containers_per_user.get(container.user, 0) + 1
    slots = []
    for slot in inv.slots:
        row = dict(slot.as_dict(), user=None, **_names(None), since=None, state="free", container_status=None)
        holder = assignments.pop(slot.id, None)
        if holder is not None:
            row.update(user=holder.user, **_names(holder.container), since=holder.since,
                       state="assigned", container_status=statuses.get(holder.container))
        elif slot.id in reserved:
            entry = reserved[slot.id]
            row.update(user=entry.user, **_names(entry.container), since=entry.since, state="reserved")
        slots.append(row)
    # Slots held by containers but absent from this host's inventory (e.g. the simulation changed).
    unknown = [{"id": slot_id, "user": entry.user, **_names(entry.container),
                "since": entry.since, "weight": entry.weight}
               for slot_id, entry in sorted(assignments.items(), key=lambda item: inventory.slot_sort_key(item[0]))]
    queue = [{"position": position, "token": entry.token, "user": entry.user, **_names(entry.container),
              "count": entry.count, "full_gpu": entry.full_gpu, "priority": entry.priority, "since": _since(entry)}
             for position, entry in enumerate(gpuqueue.waiters(state_dir), start=1)]
    return {"slots": slots, "unknown_slots": unknown, "queue": queue,
            "gpus": [{"index": gpu.index, "uuid": gpu.uuid, "model": gpu.model, "memory": gpu.memory,
                      "mig_enabled": gpu.mig_enabled} for gpu in inv.gpus],
            "reason": inv.reason, "problems": inv.problems, "simulated": inv.simulated,
            "containers_per_user": containers_per_user, "outside_processes": _outside(inv, ds01_ids)}


def _names(docker_name: str | None) -> dict[str, str | None]:
    """A container as listings show it: `container` is the short name users type (like events),
    `docker_name` the engine's `NAME._.UID` beside it for scripts that talk to Docker."""
    return {"container": short_name(docker_name), "docker_name": docker_name}


def _outside(inv: inventory.Inventory, ds01_ids: set[str]) -> list[dict[str, Any]]:
    """GPU processes in no DS01 container (gpu_outside.py); none to look for on simulated GPUs."""
    if inv.simulated or not inv.slots:
        return []
    from . import gpu_outside
    return [process.as_dict() for process in gpu_outside.find(gpu_outside.nvml_processes(), inv.slots, ds01_ids)]


def _since(entry: gpuqueue.QueueEntry) -> str | None:
    """When a waiter joined; None (shown as "-") for a hand-made entry without an arrival time."""
    return iso_utc(entry.arrival) if entry.arrival else None


def usage(document: Document, config: Any) -> list[dict[str, Any]]:
    """Per user: slots and GPU-equivalents held against their quota (for gpu-status)."""
    from .identity import lookup_user
    # A hand-made container without a ds01.user label counts for nobody.
    counts = {user: count for user, count in document.get("containers_per_user", {}).items() if user}
    return [{key: value for key, value in row.items() if key != "group"}
            for row in user_usage(document["slots"] + document["unknown_slots"], counts, config, lookup_user)]


def user_usage(slot_rows: list[dict[str, Any]], container_counts: dict[str, int], config: Any,
               lookup: Callable[[str], User]) -> list[dict[str, Any]]:
    """Per user holding a slot (status rows) or a container: slots and GPU-equivalents held, containers,
    each against the quota, and the user's group; gpu-status and ds01-status show these."""
    held: dict[str, list[float]] = {}
    for row in slot_rows:
        if row.get("user"):
            entry = held.setdefault(row["user"], [0, 0.0])
            entry[0] += 1
            entry[1] += float(row.get("weight") or 0)
    users = []
    for user in sorted(set(held) | set(container_counts)):
        limits = limits_of(config, user, lookup)
        count, weight = held.get(user, (0, 0.0))
        users.append({"user": user, "group": limits.group, "slots": count,
                      "max_slots": limits.max_mig_instances, "weight": round(weight, 4),
                      "max_weight": limits.max_gpu_equivalents,
                      "containers": container_counts.get(user, 0),
                      "max_containers": limits.max_containers_per_user})
    return users


def limits_of(config: Any, sanitised: str, lookup: Callable[[str], User]) -> Limits:
    """The quota of the user named `sanitised` (as labels and the ledger spell it), by their login."""
    try:
        login = lookup(sanitised).login
    except Ds01Error:
        login = sanitised
    limits: Limits = config.limits_for(login)
    return limits


def reconcile(docker: Any, config: Any, *, state_dir: StrPath,
              log_dir: StrPath) -> tuple[list[ledger.Change], list[ledger.Conflict]]:
    """Run one reconciling transaction; returns (changes, conflicts) for the admin to read."""
    inv = inventory.discover(config)
    with ledger.transaction(docker, state_dir, weights=inv.weights, log_dir=log_dir) as state:
        return list(state.changes), list(state.conflicts)


def validate_slot_id(slot_id: str) -> None:
    """Ds01Error (exit 1) unless `slot_id` has a slot id's form: "0" or "1:0"."""
    if not _SLOT_ID_RE.match(slot_id or ""):
        raise Ds01Error(f"{slot_id!r} is not a GPU slot id: use a GPU index (\"0\") or GPU:MIG (\"1:0\")")


def release_slot(docker: Any, config: Any, slot_id: str, *, force: bool = False, actor: str | None = None,
                 state_dir: StrPath, log_dir: StrPath, clock: Clock = SYSTEM) -> dict[str, Any]:
    """Free one slot (admin); see the module docstring. Returns a dict describing what was done."""
    validate_slot_id(slot_id)
    try:
        holder = _find_holder(docker, slot_id, state_dir, log_dir)
    except NotFound:
        inv = inventory.discover(config)
        if inv.slot(slot_id) is None:
            known = ", ".join(slot.id for slot in inv.slots) or "none"
            raise NotFound(f"there is no GPU slot {slot_id} on this host (its slots: {known})") from None
        raise
    if holder["kind"] == "container" and holder["status"] == "running":
        if not force:
            raise Ds01Error(f"GPU slot {slot_id} belongs to running container {holder['container']} of "
                            f"{holder['user']}; stop it first, or use --force to stop it and free the slot")
        dockerapi.stop_container(docker, holder["container_id"], timeout=10, what=f"container {holder['container']}")
    stopped = holder["kind"] == "container" and holder["status"] == "running"
    with ledger.transaction(docker, state_dir, log_dir=log_dir) as state:
        entry = state.assignments.pop(slot_id, None)
        if entry is not None and entry.container_id:
            revoked = state.data.revoked.setdefault(entry.container_id, ledger.Revocation())
            revoked.time = clock.time()
            if slot_id not in revoked.slots:
                revoked.slots.append(slot_id)
        for reservation in state.reservations.values():
            if slot_id in reservation.slots:
                reservation.slots = [other for other in reservation.slots if other != slot_id]
    events.record("gpu.release", holder.get("user"), log_dir, container=short_name(holder.get("container")),
                  slots=[slot_id],
                  by=actor, reason="admin release" + (" (container stopped)" if stopped else ""))
    return dict(holder, stopped=stopped)


def _find_holder(docker: Any, slot_id: str, state_dir: StrPath, log_dir: StrPath) -> dict[str, Any]:
    with ledger.transaction(docker, state_dir, log_dir=log_dir) as state:
        entry = state.assignments.get(slot_id)
        if entry is not None:
            container = next((item for item in state.containers if item.name == entry.container), None)
            return {"kind": "container", "user": entry.user, "container": entry.container,
                    "container_id": entry.container_id, "status": container.status if container else None}
        reservation = state.data.reserved_by_slot().get(slot_id)
        if reservation is not None:
            return {"kind": "reservation", "user": reservation.user, "container": reservation.container,
                    "status": None}
    raise NotFound(f"GPU slot {slot_id} is not held by anyone")


def contract_status(document: Document) -> dict[str, Any]:
    """`gpu-allocator status --json`: contract section 9's shape (container by its short name) plus
    `docker_name`, the engine's name of that container."""
    return {"slots": [{key: row[key] for key in ("id", "gpu", "uuid", "profile", "weight", "user", "container",
                                                 "docker_name")} for row in document["slots"]]}


def totals(document: Document) -> tuple[int, int, float, float]:
    """(slots in use, slots, GPU-equivalents in use, GPU-equivalents) over the whole host."""
    slots = document["slots"]
    held = [row for row in slots if row["user"]]
    return (len(held), len(slots), sum(row["weight"] for row in held), sum(row["weight"] for row in slots))
