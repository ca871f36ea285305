"""Typed records that travel between DS01's modules in place of loose dicts.

A misspelt attribute is a mypy error (and an AttributeError), where a misspelt dict key used
to mean "unlimited" without a word.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Limits:
    """One user's resolved limits (config.limits_for): sizes in bytes, durations in seconds,
    None for unlimited; `group` is the user's group, `reason` an override's reason."""

    max_mig_instances: int | None = None
    max_gpus_per_container: int | None = None
    max_gpu_equivalents: float | None = None
    allow_full_gpu: bool = False
    max_cpus: float | None = None
    memory: int | None = None
    shm_size: int | None = None
    pids_limit: int | None = None
    max_containers_per_user: int | None = None
    idle_timeout: int | None = None
    max_runtime: int | None = None
    gpu_hold_after_stop: int | None = None
    priority: int = 0
    group: str | None = None
    reason: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Limits:
        """Limits from already-parsed values (a queue entry's stored quota keys, a test's table).

        Keys it leaves out take the field defaults above; unknown keys are an error, so a
        misspelt key cannot pass for a limit."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"unknown limit keys: {', '.join(unknown)}")
        return cls(**dict(values))

    def as_dict(self) -> dict[str, Any]:
        """Every field by name, in declaration order (the JSON document's order)."""
        return asdict(self)

    def value(self, key: str) -> Any:
        """The limit called `key` (for code that walks the key table); KeyError for an unknown key."""
        if key not in _LIMIT_FIELDS:
            raise KeyError(key)
        return getattr(self, key)


_LIMIT_FIELDS = frozenset(item.name for item in fields(Limits))


# A filesystem path as callers pass it: a string or a Path.
StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class EngineContainer:
    """One container as the engine's list call describes it (dockerapi.list_sparse; no inspect)."""

    id: str
    name: str                    # without the engine's leading "/"
    labels: Mapping[str, str]
    state: str                   # created, running, paused, exited, dead, ...
    created: float | None = None  # epoch seconds
    image: str = ""

    @classmethod
    def from_list_entry(cls, entry: Mapping[str, Any]) -> EngineContainer:
        """From one entry of the engine's container list (its JSON, as the SDK's sparse `attrs`)."""
        container_id = str(entry.get("Id") or "")
        created = entry.get("Created")
        return cls(id=container_id, name=str((entry.get("Names") or [container_id])[0]).lstrip("/"),
                   labels=dict(entry.get("Labels") or {}), state=str(entry.get("State") or ""),
                   created=float(created) if isinstance(created, (int, float)) else None,
                   image=str(entry.get("Image") or ""))


@dataclass(frozen=True)
class ImageDetails:
    """One image as the engine's inspect describes it (dockerapi.inspect_image): the fields DS01 reads."""

    id: str
    tags: tuple[str, ...]          # without the engine's "<none>:<none>" placeholder
    labels: Mapping[str, str]
    size: int | None = None        # bytes
    created: str | None = None     # the engine's ISO timestamp


@dataclass(frozen=True)
class Mount:
    """One mount of a container, as the engine's inspect lists it."""

    type: str                    # bind, volume, tmpfs, ...
    source: str                  # the host path ("" for a tmpfs)
    destination: str             # the path inside the container
    read_write: bool = True
    mode: str = ""


@dataclass(frozen=True)
class ContainerDetails:
    """One container as the engine's inspect describes it (dockerapi.get_container and the
    by-id calls that refresh it): the fields DS01 reads. A snapshot: acting on the container
    goes through dockerapi by `id`, and a refresh is a new record."""

    id: str
    name: str                     # without the engine's leading "/"
    status: str                   # created, running, paused, restarting, exited, dead
    labels: Mapping[str, str]
    image: str = ""               # the reference it was created from (Config.Image)
    image_id: str = ""            # the id of that image ("sha256:...")
    mounts: tuple[Mount, ...] = ()
    pid: int = 0                  # the main process on the host, 0 when not running
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""               # the engine's reason a start failed, if it says one
    created: str | None = None    # the engine's ISO timestamps; None for "never"
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def mount_at(self, destination: str) -> Mount | None:
        """The mount at `destination` inside the container, if any."""
        return next((mount for mount in self.mounts if mount.destination == destination), None)
