"""GPU allocation for the container commands: the one API they use (contract sections 5, 6, 10).

    from ds01common import allocator
    request = allocator.GpuRequest(count=1, full_gpu=False, explicit=False, wait=None)
    with allocator.reserve(docker, config, user, limits, docker_container_name, request,
                           state_dir=..., log_dir=...) as allocation:
        allocation.slots          # [inventory.Slot(id, gpu, uuid, profile, weight, ...)]
        allocation.notice         # str | None: one line to show (e.g. "no GPU on this host: CPU-only")
        allocation.labels         # {"ds01.gpu.slots": "0,1:0", "ds01.gpu.uuids": "GPU-…,MIG-…"}
        allocation.environment    # {"CUDA_VISIBLE_DEVICES": …, "NVIDIA_VISIBLE_DEVICES": …}
        allocation.device_requests(nvidia_runtime)   # [docker.types.DeviceRequest] or []
        container = dockerapi.create_container(docker, {..., "labels": {**mine, **allocation.labels}})
        allocation.confirm(container.id)

- `request.count` 0 means CPU-only (still checked against max_containers_per_user).
- `request.explicit` (the user typed --gpus/--full-gpu): on a host with no GPU slots that is
  ResourcesUnavailable (exit 3) with the reason; a default request there gives a CPU-only
  allocation with `notice` set.
- `request.wait`: None (no waiting: a full server is ResourcesUnavailable naming how many
  wait), seconds, or float('inf'). Quota refusals never wait.
- `user` is identity.User (`user.name` is the owner, as in the ds01.user label); `limits` is
  config.limits_for(user.login).
- An exception inside the block, or leaving it without confirm(), drops the reservation.
- confirm() raises ResourcesUnavailable if the reservation was lost (e.g. timed out) and
  someone else took a slot meanwhile; it then removes the container itself. Never two holders.

Freeing: `release_container(docker, docker_container_name, state_dir=..., log_dir=...)` after
removing a container (reconcile would notice on the next transaction anyway).
`status(docker, config, state_dir=...)` -> {"slots": [...], "queue": [...], ...}.
`reserve(..., inventory_=inv)` takes an already discovered inventory (tests, benchmarks).

Protocol (ledger.py): reserve = one locked transaction (reconcile with Docker, decide, record
a reservation with pid, process start time and time); the lock is not held while Docker
creates the container; confirm = one locked transaction turning the reservation into an
assignment (no listing needed); giving a reservation back after a failed create lists
containers first, since the engine may have made the container anyway. A crashed creator's
reservation is dropped once its process is gone. ledger.py's docstring has the argument.
A CPU-only create of a user without a container cap takes no transaction at all (`_needs_ledger`).

Why confirm stays a transaction of its own (measured at ~1 ms of a ~290 ms deploy): dropping it
would leave the reservation standing until its creator's process ends, and then
- a reservation that lapsed while the engine was still creating (older than the timeout) may
  have had its slots handed out meanwhile; something must see that after the create and remove
  the container, else two containers run on one GPU. That check needs the lock (an unlocked
  read cannot tell: a transaction holding the lock may be dropping the reservation, from a
  listing that predates the container, while we read the file it has not yet replaced), and a
  locked read costs most of what confirm's locked read-and-write costs;
- a container removed in the same process before it ends (deploy whose start fails, tests,
  benchmarks) would keep its slots reserved until the process ends or the timeout, since a
  standing reservation of a live creator is never dropped;
- the container cap would count the create only through the reservation, which a reconcile
  that sees the container must then turn into an assignment and stamp into `recent`: a second
  place that hands slots out. Keeping confirm keeps "only a reconciled decision hands slots out".
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from . import dockerapi, events, log, names
from . import labels as label
from .clock import SYSTEM, Clock
from .errors import ResourcesUnavailable, UsageError
from .units import iso_utc

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    # Imported where used at run time: a CPU-only create that needs no ledger (_needs_ledger)
    # does not pay for the ledger, the queue, the policy and the inventory (~10 ms of a deploy).
    from . import gpuqueue, inventory, ledger, policy
    from .identity import User
    from .inventory import Slot
    from .records import Limits, StrPath


POLL_SECONDS = 0.5


@dataclass(frozen=True)
class GpuRequest:
    count: int = 1
    full_gpu: bool = False
    explicit: bool = False
    wait: float | None = None


@dataclass
class Reservation:
    """What one reserve() call shares with its Allocation and its helpers."""

    docker: Any
    user: User
    limits: Limits
    container: str                # the docker container name being created
    state_dir: StrPath
    log_dir: StrPath | None
    weights: dict[str, float]     # slot id -> GPU-equivalents, for adopting labelled slots
    clock: Clock
    held: int = 0                 # slots the user held when the reservation was made
    waiting_total: int = 0        # waiters in the GPU queue at the last attempt
    outside_probe: Callable[[], list[Any]] | None = None  # NVML's processes (gpus.avoid_busy)


class Allocation:
    """Slots reserved for one container being created; see the module docstring."""

    def __init__(self, slots: Iterable[Slot], notice: str | None, token: str | None, context: Reservation) -> None:
        self.slots = list(slots)
        self.notice = notice
        self.token = token
        self.confirmed = False
        self.simulated = False  # slots from config gpus.simulate: no device behind them
        self._context = context

    @property
    def slot_ids(self) -> list[str]:
        return [slot.id for slot in self.slots]

    @property
    def labels(self) -> dict[str, str]:
        return {label.GPU_SLOTS: ",".join(self.slot_ids),
                label.GPU_UUIDS: ",".join(slot.uuid for slot in self.slots)}

    @property
    def environment(self) -> dict[str, str]:
        if not self.slots:
            # "void" makes the NVIDIA runtime behave like runc even when the image sets "all".
            return {"CUDA_VISIBLE_DEVICES": "", "NVIDIA_VISIBLE_DEVICES": "void"}
        uuids = ",".join(slot.uuid for slot in self.slots)
        environment = {"CUDA_VISIBLE_DEVICES": uuids, "NVIDIA_VISIBLE_DEVICES": uuids}
        if self.simulated:
            environment["DS01_GPU_SIMULATED"] = "1"  # so nobody takes the UUIDs for real devices
        return environment

    def device_requests(self, nvidia_runtime: bool) -> list[Any]:
        """Device requests naming the slot UUIDs (never a count); none without the NVIDIA runtime."""
        if not nvidia_runtime or not self.slots:
            return []
        requests: list[Any] = dockerapi.gpu_device_requests(slot.uuid for slot in self.slots)
        return requests

    def confirm(self, container_id: str) -> None:
        """Turn the reservation into an assignment held by `container_id`."""
        if self.token is None:  # a CPU-only create that needs no ledger entry (_needs_ledger)
            self.confirmed = True
            return
        from .ledger import Assignment

        context = self._context
        with _transaction(context, reconciled=False) as state:
            reservation = state.reservations.pop(self.token, None)
            lost = _held_elsewhere(state, self.slots, context.container, container_id)
            if not lost:
                since = reservation.since if reservation is not None else None
                for slot in self.slots:
                    state.assignments[slot.id] = Assignment(
                        context.user.name, context.container, container_id, slot.weight,
                        since or iso_utc(context.clock.time()), context.clock.time())
                state.remember_confirmed(context.container, context.user.name)
        if lost:
            self.confirmed = True  # nothing left to release
            _remove_container(context.docker, container_id)
            raise ResourcesUnavailable(f"GPU slot(s) {', '.join(lost)} went to another container while this one "
                                       "was being created (its reservation expired); nothing was created, try again")
        self.confirmed = True
        if self.slots:
            events.record("gpu.allocate", context.user.name, context.log_dir,
                          container=names.short_name(context.container),
                          container_id=container_id, slots=self.slot_ids,
                          uuids=[slot.uuid for slot in self.slots],
                          weight=round(sum(slot.weight for slot in self.slots), 4),
                          held_slots=context.held + len(self.slots),
                          max_mig_instances=context.limits.max_mig_instances)

    def release(self) -> None:
        """Drop the reservation (the create failed or was abandoned).

        A create that raised may still have made the container (a client timeout or Ctrl-C while
        the engine works), so with slots at stake this transaction lists containers, after the
        failure: a container of ours labelled with the slots keeps them (ledger.py explains why).
        If Docker or the lock cannot be had, the reservation stays until this process ends."""
        if self.confirmed or self.token is None:
            return
        from .ledger import Assignment

        context = self._context
        made = None
        try:
            with _transaction(context, reconciled=bool(self.slots)) as state:
                state.reservations.pop(self.token, None)
                made = next((item for item in state.containers if item.name == context.container
                             and set(item.slots) & set(self.slot_ids)), None)  # made by this create
                if made is not None and not _held_elsewhere(state, self.slots, made.name, made.id):
                    for slot in self.slots:
                        if slot.id in made.slots:
                            state.assignments[slot.id] = Assignment(
                                context.user.name, made.name, made.id, slot.weight,
                                made.created or iso_utc(context.clock.time()), state.listed_at)
                    made = None
        except Exception as error:  # noqa: BLE001 - runs while another exception is on its way out
            log.warning("could not give back the GPU reservation of %s (%s); it lapses when this process ends",
                        context.container, error)
            return
        self.confirmed = True
        if made is not None:
            # Its reservation lapsed and another container holds a slot it is labelled with: it
            # must not run with that GPU. The create failed anyway, so it goes.
            _remove_container(context.docker, made.id)


def _held_elsewhere(state: ledger.State, slots: Iterable[Slot], container_name: str, container_id: str) -> list[str]:
    """Ids of `slots` assigned to another container or reserved by another create."""
    lost = []
    for slot in slots:
        holder = state.assignments.get(slot.id)
        mine = holder is not None and (holder.container == container_name or holder.container_id == container_id)
        reserved_elsewhere = any(slot.id in entry.slots for entry in state.reservations.values())
        if holder is not None and not mine or holder is None and reserved_elsewhere:
            lost.append(slot.id)
    return lost


def _transaction(context: Reservation, reconciled: bool = True) -> contextlib.AbstractContextManager[ledger.State]:
    from . import ledger

    return ledger.transaction(context.docker, context.state_dir, weights=context.weights, log_dir=context.log_dir,
                              reconciled=reconciled, clock=context.clock)


def _remove_container(docker: Any, container_id: str) -> None:
    with contextlib.suppress(Exception):
        dockerapi.remove_container(docker, container_id, force=True)


def _holdings_for(state: ledger.State) -> Callable[[str | None, set[str] | None], policy.Holdings]:
    from . import policy

    def holdings_for(user_name: str | None, taken: set[str] | None = None) -> policy.Holdings:
        holdings = policy.user_holdings(state.holders(), user_name)
        if taken is not None:
            holdings.taken = set(taken)
        holdings.user_containers = len(state.user_containers(user_name))
        return holdings
    return holdings_for


def _decide(state: ledger.State, slots: Sequence[Slot], user: User, limits: Limits, container: str,
            request: GpuRequest, queue_position: Callable[[], list[gpuqueue.QueueEntry]],
            outside: list[Any] | None = None) -> tuple[policy.Choice | policy.Refusal, int]:
    """(decision, slots the user holds): the policy's answer after every waiter ahead (by
    priority, then arrival) is virtually served. `outside`: NVML's processes when
    gpus.avoid_busy is on; slots busy with processes of no DS01 container count as taken."""
    from . import gpuqueue, inventory, policy

    holdings = policy.user_holdings(state.holders(), user.name)
    holdings.user_containers = len(state.user_containers(user.name, excluding=container))
    wanted = policy.Request(request.count, request.full_gpu)
    held = len(holdings.user_slots)
    quota = policy.check_quotas(holdings, limits, wanted)
    if quota:
        return quota, held
    ahead = queue_position() if request.count > 0 else []
    if ahead:
        holdings.taken, _served = gpuqueue.serve_ahead(ahead, state, slots, policy.decide, policy.Request,
                                                       _holdings_for(state))
    busy = _busy_outside(state, slots, outside)
    holdings.taken = set(holdings.taken) | busy
    decision = policy.decide(slots, holdings, limits, wanted)
    if busy and not decision.ok and decision.waitable:
        decision = policy.Refusal(f"{decision.reason}; GPU slot(s) {', '.join(inventory.sort_slot_ids(busy))} "
                                  "are busy with processes outside DS01 (gpus.avoid_busy)", decision.kind)
    return decision, held


def _busy_outside(state: ledger.State, slots: Sequence[Slot], processes: list[Any] | None) -> set[str]:
    if not processes:
        return set()
    from . import gpu_outside
    ours = {container.id for container in state.containers}
    return gpu_outside.busy_slot_ids(gpu_outside.find(processes, slots, ours))


def _attempt(context: Reservation, slots: Sequence[Slot], request: GpuRequest, arrival: float | None,
             my_token: str | None = None) -> tuple[Allocation | None, policy.Refusal | None, int]:
    """One ledger transaction: reconcile, decide, reserve. Returns (Allocation | None, refusal, waiting)."""
    from . import gpuqueue, ledger

    user, limits, container = context.user, context.limits, context.container

    def queue_position() -> list[gpuqueue.QueueEntry]:
        everyone = gpuqueue.waiters(context.state_dir)
        context.waiting_total = len(everyone)
        return gpuqueue.ahead_of(everyone, limits.priority, arrival, my_token)

    probe = context.outside_probe
    outside = probe() if probe is not None and request.count > 0 else None  # NVML, outside the lock
    with _transaction(context) as state:
        context.waiting_total = 0
        decision, held = _decide(state, slots, user, limits, container, request, queue_position, outside)
        if not decision.ok:
            return None, decision, context.waiting_total
        token = os.urandom(16).hex()  # opaque and unique, like uuid4().hex, without uuid's 2 ms import
        pid = os.getpid()
        now = context.clock.time()
        chosen = list(decision.slots)
        state.reservations[token] = ledger.SlotReservation(
            user.name, container, [slot.id for slot in chosen], {slot.id: slot.weight for slot in chosen},
            pid, ledger.process_start_time(pid), now, iso_utc(now))
        context.held = held
    return Allocation(chosen, None, token, context), None, context.waiting_total


def _unavailable(refusal: policy.Refusal, waiting: int) -> ResourcesUnavailable:
    text = refusal.reason
    if refusal.waitable:
        text += f"; {waiting} waiting in the GPU queue" if waiting else "; nobody is waiting"
        text += " (use --wait to queue)"
    return ResourcesUnavailable(text)


def _wait_for_slot(context: Reservation, slots: Sequence[Slot], request: GpuRequest,
                   first_refusal: policy.Refusal) -> Allocation:
    """Queue up and poll until a slot is ours, the wait runs out, or the entry is cancelled."""
    from . import gpuqueue

    user = context.user
    clock = context.clock
    entry = gpuqueue.join(context.state_dir, user, context.container, request, context.limits,
                          clock=clock)
    token = entry.token
    assert request.wait is not None  # reserve() queues only a request that may wait
    deadline = clock.monotonic() + request.wait
    events.record("gpu.queue.join", user.name, context.log_dir, container=names.short_name(context.container),
                  count=request.count, priority=entry.priority, reason=first_refusal.reason)
    last_position = None
    try:
        while True:
            if not gpuqueue.present(context.state_dir, token):
                raise ResourcesUnavailable("your place in the GPU queue was cancelled")
            allocation, refusal, _waiting = _attempt(context, slots, request, entry.arrival, token)
            if allocation is not None:
                return allocation
            assert refusal is not None  # no allocation comes with its refusal
            if not refusal.waitable:
                raise ResourcesUnavailable(refusal.reason)
            everyone = gpuqueue.waiters(context.state_dir)
            position = 1 + len(gpuqueue.ahead_of(everyone, entry.priority, entry.arrival, token))
            if position != last_position:
                log.info("waiting for a GPU slot: position %d of %d in the queue (%s)", position,
                         len(everyone), refusal.reason)
                last_position = position
            if clock.monotonic() >= deadline:
                raise ResourcesUnavailable(f"no GPU slot became free within {request.wait:.0f}s: {refusal.reason}")
            clock.sleep(min(POLL_SECONDS, max(0.0, deadline - clock.monotonic())))
    finally:
        gpuqueue.leave(context.state_dir, token)


@contextlib.contextmanager
def reserve(docker: Any, config: Any, user: User, limits: Limits, docker_container_name: str,
            request: GpuRequest | None = None, *, state_dir: StrPath,
            log_dir: StrPath | None, inventory_: inventory.Inventory | None = None,
            gpu_processes: Callable[[], list[Any]] | None = None, clock: Clock = SYSTEM) -> Iterator[Allocation]:
    """Reserve GPU slots for a container about to be created; see the module docstring."""
    request = request or GpuRequest()
    if request.wait is not None and not request.wait >= 0:  # negative, or NaN: never a deadline
        raise UsageError(f"--wait takes a number of seconds, 0 or more (got {request.wait})")
    if request.count < 0:
        request = GpuRequest(0, False, request.explicit, request.wait)
    if not _needs_ledger(request, limits):
        # Neither the GPU inventory nor the ledger is asked (see _needs_ledger).
        yield from _unrecorded(Reservation(docker, user, limits, docker_container_name, state_dir, log_dir, {},
                                           clock), None)
        return
    from . import inventory

    inv = inventory_ or inventory.discover(config)
    slots = inv.slots
    notice = None
    if request.count > 0 and not slots:
        if request.explicit or request.full_gpu:
            raise ResourcesUnavailable(f"{inv.describe_emptiness()}; use --cpu-only for a container without GPU")
        notice = f"{inv.describe_emptiness()}: the container is CPU-only"
        request = GpuRequest(0, False, False, None)
    context = Reservation(docker, user, limits, docker_container_name, state_dir, log_dir, inv.weights, clock)
    if not _needs_ledger(request, limits):
        yield from _unrecorded(context, notice)
        return
    if config is not None and config.avoid_busy_gpus and slots:
        # Simulated GPUs have no processes: NVML is asked only for real ones (or a test's fake).
        from . import gpu_outside
        context.outside_probe = gpu_processes or (None if inv.simulated else gpu_outside.nvml_processes)
    arrival = clock.time()
    allocation, refusal, waiting = _attempt(context, slots, request, arrival)
    if allocation is None:
        assert refusal is not None  # no allocation comes with its refusal
        if request.wait is None or request.wait <= 0 or not refusal.waitable:
            events.record("gpu.refuse", user.name, log_dir, container=names.short_name(docker_container_name),
                          count=request.count,
                          reason=refusal.reason, waiting=waiting)
            raise _unavailable(refusal, waiting)
        allocation = _wait_for_slot(context, slots, request, refusal)
    allocation.notice = notice
    if inv.simulated and allocation.slots:
        allocation.simulated = True
        allocation.notice = (f"GPU {', '.join(allocation.slot_ids)} is simulated (config gpus.simulate): "
                             "no real device behind it; the container sees DS01_GPU_SIMULATED=1")
    try:
        yield allocation
    except BaseException:
        allocation.release()
        raise
    if not allocation.confirmed:
        allocation.release()


def _needs_ledger(request: GpuRequest, limits: Limits) -> bool:
    """Whether this create takes a ledger transaction at all.

    A create without GPU slots hands nothing out, so what its reservation is for is the container
    cap alone: a create in progress counts against max_containers_per_user in everyone else's
    transaction (and `recent` counts it once confirmed). With no cap for this user nobody counts
    it, so neither the reservation nor its confirm has anything to protect. (A cap added to the
    config during the create is not applied to it, as to a create that finished a moment before.)"""
    return request.count > 0 or limits.max_containers_per_user is not None


def _unrecorded(context: Reservation, notice: str | None) -> Iterator[Allocation]:
    """The CPU-only allocation that `_needs_ledger` says needs no ledger entry: nothing to confirm or give back."""
    allocation = Allocation([], notice, None, context)
    yield allocation
    allocation.confirmed = True


def release_container(docker: Any, docker_container_name: str, *, state_dir: StrPath,
                      log_dir: StrPath | None, by: str | None = None, reason: str | None = None) -> list[str]:
    """Free the slots of a removed container now (events are recorded); returns the slot ids freed.

    A container that still exists keeps its slots: its labels are the truth until it is removed.
    `by`/`reason` (e.g. the user, "retired") are what the gpu.release event says instead of reconcile's guess."""
    from . import inventory, ledger

    explained = {docker_container_name: (by, reason)} if by and reason else None
    with ledger.transaction(docker, state_dir, log_dir=log_dir, explained=explained) as state:
        freed = [change[1] for change in state.changes
                 if change[0] == "dropped" and change[2] == docker_container_name]
        if not any(container.name == docker_container_name for container in state.containers):
            state.data.recent.pop(docker_container_name, None)
    return inventory.sort_slot_ids(freed)


def status(docker: Any, config: Any, *, state_dir: StrPath, log_dir: StrPath,
           inventory_: inventory.Inventory | None = None) -> dict[str, Any]:
    """Every slot with its holder (after reconciling), plus the queue: contract section 9 and more."""
    from .allocator_admin import status as build_status
    return build_status(docker, config, state_dir=state_dir, log_dir=log_dir, inventory_=inventory_)
