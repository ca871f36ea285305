"""The GPU ledger's entries as typed records, and their JSON form in gpu-state.json.

ledger.py works on these records only; JSON is read and written at the file's boundary
(`LedgerDocument.from_json` / `to_json`), in the shape documented in ledger.py, so ledgers
written before these records existed load unchanged. An entry of the wrong shape (a hand
edit) is dropped on reading, and reconcile re-adopts whatever Docker's labels still show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any, TypeVar

    Entry = TypeVar("Entry")


class _Malformed(ValueError):
    """An entry of the wrong shape; it is dropped, not left to crash every command."""


def _number(entry: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or value is None and key in entry:
        raise _Malformed(key)
    try:
        return float(value if value is not None else default)
    except (TypeError, ValueError):
        raise _Malformed(key) from None


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _optional_text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _slot_ids(entry: Mapping[str, Any]) -> list[str]:
    slots = entry.get("slots", [])
    if not isinstance(slots, list) or not all(isinstance(slot_id, str) for slot_id in slots):
        raise _Malformed("slots")
    return list(slots)


@dataclass(slots=True)
class Assignment:
    """A slot held by a container that exists (or was confirmed after the last listing began).

    `confirmed`: when the holder was last made sure of (a confirm, or the listing that adopted
    it); a transaction whose listing began earlier and lacks the container keeps the entry."""

    user: str
    container: str           # the docker container name, NAME._.UID
    container_id: str
    weight: float = 1.0      # GPU-equivalents of the slot
    since: str | None = None  # ISO time the container got the slot
    confirmed: float = 0.0

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Assignment:
        return cls(_text(entry, "user"), _text(entry, "container"), _text(entry, "container_id"),
                   _number(entry, "weight", 1.0), _optional_text(entry, "since"), _number(entry, "confirmed"))

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "container": self.container, "container_id": self.container_id,
                "weight": self.weight, "since": self.since, "confirmed": self.confirmed}


@dataclass(slots=True)
class SlotReservation:
    """A create in progress: its slots are taken until its container is confirmed, its process
    (pid, start time in clock ticks) is gone, or it is older than the reservation timeout."""

    user: str
    container: str                     # the docker container name being created
    slots: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    pid: int | None = None
    pid_start: str | None = None
    time: float = 0.0                  # epoch seconds it was made
    since: str | None = None           # the same, as ISO text for listings

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> SlotReservation:
        weights = entry.get("weights") or {}
        if not isinstance(weights, dict):
            raise _Malformed("weights")
        pid = entry.get("pid")
        return cls(_text(entry, "user"), _text(entry, "container"), _slot_ids(entry),
                   {str(slot_id): _number(weights, slot_id, 1.0) for slot_id in weights},
                   pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                   _optional_text(entry, "pid_start"), _number(entry, "time"), _optional_text(entry, "since"))

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "container": self.container, "slots": list(self.slots),
                "weights": dict(self.weights), "pid": self.pid, "pid_start": self.pid_start,
                "time": self.time, "since": self.since}

    def weight(self, slot_id: str) -> float:
        return float(self.weights.get(slot_id, 1.0))


@dataclass(slots=True)
class Revocation:
    """Slots an admin took back from a container that still exists (its labels still name them)."""

    slots: list[str] = field(default_factory=list)
    time: float = 0.0

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Revocation:
        return cls(_slot_ids(entry), _number(entry, "time"))

    def to_json(self) -> dict[str, Any]:
        return {"slots": list(self.slots), "time": self.time}


@dataclass(slots=True)
class RecentCreate:
    """A create confirmed lately: counted for its user by a transaction whose listing predates it."""

    user: str
    time: float

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> RecentCreate:
        return cls(_text(entry, "user"), _number(entry, "time"))

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "time": self.time}


@dataclass(slots=True)
class LedgerDocument:
    """gpu-state.json as records (schema_version is the state file's business)."""

    assignments: dict[str, Assignment] = field(default_factory=dict)   # slot id -> holder
    reservations: dict[str, SlotReservation] = field(default_factory=dict)  # token -> create
    revoked: dict[str, Revocation] = field(default_factory=dict)        # container id -> slots
    recent: dict[str, RecentCreate] = field(default_factory=dict)       # docker name -> create

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> tuple[LedgerDocument, bool]:
        """(document, repaired): `repaired` when a table or an entry had the wrong shape."""
        repaired = [False]
        document = cls(_table(data, "assignments", Assignment.from_json, repaired),
                       _table(data, "reservations", SlotReservation.from_json, repaired),
                       _table(data, "revoked", Revocation.from_json, repaired),
                       _table(data, "recent", RecentCreate.from_json, repaired))
        return document, repaired[0]

    def to_json(self) -> dict[str, Any]:
        return {"assignments": {key: entry.to_json() for key, entry in self.assignments.items()},
                "reservations": {key: entry.to_json() for key, entry in self.reservations.items()},
                "revoked": {key: entry.to_json() for key, entry in self.revoked.items()},
                "recent": {key: entry.to_json() for key, entry in self.recent.items()}}

    def reserved_by_slot(self) -> dict[str, SlotReservation]:
        """slot id -> the reservation that holds it."""
        return {slot_id: entry for entry in self.reservations.values() for slot_id in entry.slots}

    def revoked_slots(self, container_id: str) -> list[str]:
        entry = self.revoked.get(container_id)
        return entry.slots if entry is not None else []


def _table(data: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any]], Entry],
           repaired: list[bool]) -> dict[str, Entry]:
    table = data.get(key)
    if not isinstance(table, dict):
        repaired[0] = repaired[0] or key in data
        return {}
    entries = {}
    for name, entry in table.items():
        try:
            if not isinstance(entry, dict):
                raise _Malformed(key)
            entries[str(name)] = parse(entry)
        except _Malformed:
            repaired[0] = True
    return entries
