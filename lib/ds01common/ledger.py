"""The GPU-state ledger ($DS01_STATE_DIR/gpu-state.json) and its reconciliation with Docker.

Every transaction holds the file's exclusive lock, lists DS01 containers and reconciles
first (contract section 10). Container labels are the truth for containers that exist:
- an assignment whose container is gone, or whose labels no longer list the slot, is dropped;
- a labelled container whose slot the ledger does not know is adopted;
- a reservation (a create in progress: pid, process start time, time) is dropped when its
  process is dead, its pid was reused, or it is older than the reservation timeout.
A slot that is assigned or reserved is never handed out again, so a slot has one holder.

Document shape (schema_version 1):
  assignments: {slot_id: {user, container, container_id, weight, since}}
  reservations: {token: {user, container, slots, weights, pid, pid_start, time}}
  revoked: {container_id: {slots, time}}   slots an admin took back from an existing container
  recent: {container: {user, time}}         creates confirmed lately (a listing may predate them)

The Docker listing is taken just before the lock, so users are not serialised behind
Docker calls; entries confirmed after the listing started are kept. When a reservation must
be dropped (its creator died or timed out) the listing is retaken under the lock, so a
container its creator made before dying is adopted rather than its slot handed out again.

Why confirm (and a release with no slots) skips the listing, against contract section 10's
"every transaction first reconciles". The invariant: each DS01 container whose create has
finished has its labelled slots in the ledger as its assignment (a creator labels only slots
it reserved; a container that lost its claim is removed by its own creator). Deciding is the
only step that hands slots out, and it always reconciles first. Confirm only moves its own
reservation's slots to its own container:
- never twice: while the reservation stands, nobody else can be given its slots (they are
  taken for every other decision). If it lapsed (its creator took longer than the timeout),
  confirm keeps a slot only when no assignment of another container and no other
  reservation holds it; otherwise it removes its container and fails. A reconcile that saw
  the container meanwhile and adopted its slot made it ours, which confirm accepts.
- never for nobody: the assignment carries `confirmed`; a later transaction whose listing
  started after it and lacks the container drops it (a `docker rm` between create and
  confirm frees the slot at the next command, as for any other container).
Release of a reservation with slots does list, after the failure: a create that raised may
still have made the container (client timeout, Ctrl-C), and freeing its slots then would
hand them out twice. Such a container (ours by name and by a label naming one of our slots)
keeps them, or is removed when its lapsed slots went to another create meanwhile. If Docker
cannot be asked, the reservation is left to lapse with its process; the reconcile that drops
it retakes the listing under the lock, as above. tests/unit/test_allocator_protocol.py
drives random interleavings of all this.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import dockerapi, events, log, paths
from . import labels as label
from .clock import SYSTEM, Clock
from .inventory import sort_slot_ids

# The entries' records, re-exported: callers name them ledger.Assignment etc.
from .ledger_records import Assignment as Assignment
from .ledger_records import LedgerDocument as LedgerDocument
from .ledger_records import RecentCreate as RecentCreate
from .ledger_records import Revocation as Revocation
from .ledger_records import SlotReservation as SlotReservation
from .statefile import StateFile
from .units import iso_utc

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from .records import EngineContainer, StrPath

# A reconcile change: (kind, slot ids joined by commas, docker container name, why, user).
Change = tuple[str, str, str, str, str | None]
# A conflict: (slot id, the container claiming it by label, the container holding it).
Conflict = tuple[str, str, str]


LEDGER_FILE = "gpu-state.json"
SCHEMA_VERSION = 1
DEFAULT_RESERVATION_TIMEOUT = 300.0
# A listing taken before the lock is used only if the lock came within this many seconds.
LISTING_FRESH_SECONDS = 10.0
# Confirmed creates are remembered this long, for container counts against an older listing.
RECENT_SECONDS = 120.0
MANAGED_FILTER = label.MANAGED_FILTER


def reservation_timeout() -> float:
    """Seconds a reservation may wait for its container; env DS01_RESERVATION_TIMEOUT overrides."""
    try:
        # Root and development only: a user shortening it would see everyone's creates as stale.
        return float(paths.trusted_environ("DS01_RESERVATION_TIMEOUT") or DEFAULT_RESERVATION_TIMEOUT)
    except ValueError:
        return DEFAULT_RESERVATION_TIMEOUT


def _empty() -> dict[str, Any]:
    return {"assignments": {}, "reservations": {}, "revoked": {}}


def state_file(state_dir: StrPath) -> StateFile:
    return StateFile(Path(state_dir) / LEDGER_FILE, SCHEMA_VERSION, _empty)


@dataclass(slots=True)
class ContainerInfo:
    name: str
    id: str
    user: str
    slots: list[str]
    status: str
    created: str = ""


def list_containers(docker: Any) -> list[ContainerInfo]:
    """Every DS01 container (running or stopped) with its user and labelled slots.

    One sparse listing (no per-container inspect): fast, and a container removed meanwhile
    cannot make it fail."""
    return [info for info in map(describe, dockerapi.list_sparse(docker, MANAGED_FILTER)) if info is not None]


def describe(container: EngineContainer) -> ContainerInfo | None:
    """The container as the ledger sees it; None when DS01 did not make it."""
    labels = container.labels
    if not label.is_managed(labels):
        return None
    created = labels.get(label.CREATED_AT) or _iso(container.created)
    return ContainerInfo(container.name, container.id, labels.get(label.USER, ""),
                         label.slot_ids(labels), container.state, created)


def _iso(created: object) -> str:
    return iso_utc(created) if isinstance(created, (int, float)) else str(created or "")


# --- processes: is a reservation's creator still alive? ---

def process_start_time(pid: int | None) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return fields[19]
    except IndexError:
        return None


def process_alive(pid: object, start_time: str | None = None) -> bool:
    """True while `pid` runs and is the same process (start time matches when we recorded it)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    if start_time is not None:
        current = process_start_time(pid)
        if current is not None and current != start_time:
            return False  # the pid was reused by a newer process
    return True


# --- reconciliation ---

def _stale_reservations(data: LedgerDocument, now: float) -> Iterator[tuple[str, SlotReservation, str]]:
    """(token, entry, why) for reservations whose process is gone or which are too old."""
    timeout = reservation_timeout()
    for token, entry in data.reservations.items():
        if now - entry.time > timeout:
            yield token, entry, f"it is older than {timeout:.0f}s"
        elif not process_alive(entry.pid, entry.pid_start):
            yield token, entry, f"its process {entry.pid} is gone"


def reconcile(data: LedgerDocument, containers: Iterable[ContainerInfo], weights: dict[str, float] | None = None,
              now: float | None = None, listed_at: float | None = None) -> tuple[list[Change], list[Conflict]]:
    """Bring `data` in line with `containers` (listed at `listed_at`); returns (changes, conflicts).

    The listing may be a moment older than the lock: anything confirmed after it started is
    kept, since its absence from the listing proves nothing."""
    now = time.time() if now is None else now
    listed_at = now if listed_at is None else listed_at
    weights = weights or {}
    by_id = {container.id: container for container in containers}
    by_name = {container.name: container for container in containers}
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    revoked = data.revoked
    for container_id, revocation in list(revoked.items()):
        if container_id not in by_id and revocation.time < listed_at:
            del revoked[container_id]
    # Kept by age only, even when this listing shows the container: a transaction whose own
    # listing predates the create must still count it (the container cap under parallel creates).
    for name, recent in list(data.recent.items()):
        if not now - RECENT_SECONDS <= recent.time <= now + RECENT_SECONDS:
            del data.recent[name]

    assignments = data.assignments
    for slot_id, entry in list(assignments.items()):
        container = by_id.get(entry.container_id) or by_name.get(entry.container)
        if container is None:
            if entry.confirmed >= listed_at:
                continue  # confirmed after the listing started
            del assignments[slot_id]
            changes.append(("dropped", slot_id, entry.container, "its container is gone", entry.user))
        elif slot_id not in container.slots or revoked and slot_id in data.revoked_slots(container.id):
            del assignments[slot_id]
            changes.append(("dropped", slot_id, container.name, "the container's labels do not list it",
                            entry.user))
        elif entry.container_id != container.id:
            entry.container_id = container.id

    reservations = data.reservations
    for token, reservation, why in list(_stale_reservations(data, now)):
        del reservations[token]
        changes.append(("unreserved", ",".join(reservation.slots), reservation.container,
                        f"reservation dropped: {why}", reservation.user))

    reserved_by = data.reserved_by_slot()
    # Only containers with a slot not already assigned to themselves need a look (nearly always
    # none: skipping the rest keeps a 1,000-container reconcile cheap). Oldest first, so when two
    # containers claim one slot the earlier one keeps it.
    unsettled = [container for container in containers if container.slots and any(
        _holder_name(assignments.get(slot_id)) != container.name for slot_id in container.slots)]
    for container in sorted(unsettled, key=lambda item: (item.created, item.name)):
        for slot_id in container.slots:
            if revoked and slot_id in data.revoked_slots(container.id):
                continue
            holder = assignments.get(slot_id)
            if holder is not None:
                if holder.container != container.name:
                    conflicts.append((slot_id, container.name, holder.container))
                continue
            pending = reserved_by.get(slot_id)
            if pending is not None:
                # Its creator is alive and will confirm; a different container loses the claim.
                if pending.container != container.name:
                    conflicts.append((slot_id, container.name, pending.container))
                continue
            assignments[slot_id] = Assignment(container.user, container.name, container.id,
                                              weights.get(slot_id, 1.0), container.created or iso_utc(now),
                                              listed_at)
            changes.append(("adopted", slot_id, container.name, "labelled container", container.user))
    return changes, conflicts


def _holder_name(entry: Assignment | None) -> str | None:
    return entry.container if entry is not None else None


@dataclass
class State:
    """A reconciled ledger inside a transaction, with the container listing it was checked against."""
    data: LedgerDocument
    containers: list[ContainerInfo]
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    listed_at: float = 0.0
    clock: Clock = SYSTEM

    @property
    def assignments(self) -> dict[str, Assignment]:
        return self.data.assignments

    @property
    def reservations(self) -> dict[str, SlotReservation]:
        return self.data.reservations

    def taken(self) -> set[str]:
        taken = set(self.assignments)
        for entry in self.reservations.values():
            taken.update(entry.slots)
        return taken

    def holders(self) -> Iterator[tuple[str, str | None, float]]:
        """(slot_id, user, weight) for every assigned or reserved slot."""
        for slot_id, entry in self.assignments.items():
            yield slot_id, entry.user, entry.weight
        for reservation in self.reservations.values():
            for slot_id in reservation.slots:
                yield slot_id, reservation.user, reservation.weight(slot_id)

    def user_containers(self, user: str | None, excluding: str | None = None) -> set[str]:
        """Names of the user's DS01 containers, including creates in progress."""
        names = {container.name for container in self.containers if container.user == user}
        names.update(entry.container for entry in self.reservations.values() if entry.user == user)
        # A create confirmed after this listing started is not in it: counted from `recent`, which
        # reconcile prunes by age only (never because a newer listing shows the container), so a
        # transaction holding an older listing still sees every create confirmed since.
        names.update(name for name, entry in self.data.recent.items()
                     if entry.user == user and entry.time >= self.listed_at)
        if excluding is not None:
            names.discard(excluding)
        return names

    def remember_confirmed(self, container_name: str, user: str) -> None:
        """A create just confirmed: counted for its user even by a transaction whose listing predates it."""
        self.data.recent[container_name] = RecentCreate(user, self.clock.time())

    def slots_of(self, container_name: str) -> list[str]:
        return sort_slot_ids(slot_id for slot_id, entry in self.assignments.items()
                             if entry.container == container_name)


@contextlib.contextmanager
def transaction(docker: Any, state_dir: StrPath, *, log_dir: StrPath | None, weights: dict[str, float] | None = None,
                timeout: float | None = None, reconciled: bool = True,
                explained: dict[str, tuple[str, str]] | None = None, clock: Clock = SYSTEM) -> Iterator[State]:
    """Lock the ledger, reconcile it with Docker, yield a State; written back when the block ends.

    `log_dir`: the command's event log dir, where reconcile's corrections are recorded (None:
    not recorded; events.record says when that is right).

    `reconciled=False` skips Docker entirely: for confirming one's own reservation, or dropping
    one that holds no slots (the module docstring says why that is safe). What reconciling
    changed is logged as events (gpu.release/adopt/unreserve)."""
    ledger = state_file(state_dir)
    listed_at = clock.time()
    containers = list_containers(docker) if reconciled else []
    with ledger.transaction(timeout=timeout) as stored:
        rebuilt = bool(stored.pop("_rebuilt", False))
        data, repaired = LedgerDocument.from_json(stored)
        rebuilt = rebuilt or repaired
        changes: list[Change] = []
        conflicts: list[Conflict] = []
        if reconciled:
            now = clock.time()
            if now - listed_at > LISTING_FRESH_SECONDS or any(_stale_reservations(data, now)):
                listed_at = now = clock.time()
                containers = list_containers(docker)
            changes, conflicts = reconcile(data, containers, weights, now=now, listed_at=listed_at)
        adopted = [change for change in changes if change[0] == "adopted"]
        if rebuilt and adopted:
            log.warning("%s was missing or unreadable; rebuilt it from Docker labels (%d slot(s) adopted)",
                        ledger.path, len(adopted))
        for slot_id, claimant, holder in conflicts:
            log.warning("container %s is labelled with GPU slot %s, which %s holds; it does not get it",
                        claimant, slot_id, holder)
        yield State(data, containers, changes, conflicts, listed_at, clock)
        # The JSON form exists only at the file's boundary: the state file writes `stored` back.
        stored.clear()
        stored.update(data.to_json())
    _record_changes(changes, log_dir, explained)


_CHANGE_EVENTS = {"dropped": "gpu.release", "adopted": "gpu.adopt", "unreserved": "gpu.unreserve"}


def _record_changes(changes: Iterable[Change], log_dir: StrPath | None,
                    explained: dict[str, tuple[str, str]] | None = None) -> None:
    """Events for what reconciling changed; `explained` {docker name: (by, reason)} names a known cause
    (a retire or remove that just happened) instead of "reconcile"."""
    from .names import short_name

    for kind, slot_id, container, why, user in changes:
        by, reason = (explained or {}).get(container, ("reconcile", why)) if kind == "dropped" else ("reconcile", why)
        events.record(_CHANGE_EVENTS[kind], user, log_dir, container=short_name(container),
                      slots=[part for part in slot_id.split(",") if part], reason=reason, by=by)


def read_state(state_dir: StrPath, walk: bool = False) -> LedgerDocument:
    """Unlocked snapshot (no reconcile): for display only. `walk`: no link at any component of the
    path is followed (statefile.read); a planted one reads as an empty ledger, with a warning."""
    return LedgerDocument.from_json(state_file(state_dir).read(walk=walk))[0]
