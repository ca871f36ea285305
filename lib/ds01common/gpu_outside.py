"""GPU processes that belong to no DS01 container: bare-metal jobs and other people's containers.

NVML lists the compute processes on each GPU and MIG device (nvml.gpu_processes); the
process's cgroup says which container it runs in (activity.container_of_pid). A process in no
container, or in a container DS01 did not make, is "outside": gpu-status and ds01-status show
it with its user, the exporter counts it per slot, and with `gpus.avoid_busy: true` the
allocator does not hand out a slot whose device such a process is using (a slot DS01 gives
away must not land on someone's running job). DS01 never acts on these processes.
"""

from __future__ import annotations

import pwd
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from .activity import container_of_pid

# Tests point this at a fake /proc tree (tests/fakes/fake_pynvml.py: fake_process).
PROC_ROOT = "/proc"
GpuProcesses = Callable[[], list[dict[str, Any]]]


class HasSlotIdentity(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def uuid(self) -> str: ...


@dataclass(frozen=True)
class OutsideProcess:
    pid: int
    user: str                # login of the process's real uid (the number when it has no name)
    gpu_uuid: str            # the GPU's, or the MIG device's
    slot: str | None         # the DS01 slot on that device; None when DS01 offers no slot there
    used_memory: int         # bytes (0 when NVML does not say)
    container: str | None    # short id of the non-DS01 container it runs in; None on the host
    command: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def process_owner(pid: int, proc_root: str | None = None) -> str:
    """Login of the process's real uid, the uid itself when unnamed, '?' when it is gone."""
    try:
        text = Path(proc_root or PROC_ROOT, str(pid), "status").read_text()
    except OSError:
        return "?"
    for line in text.splitlines():
        if line.startswith("Uid:"):
            fields = line.split()
            if len(fields) > 1 and fields[1].isdigit():
                try:
                    return pwd.getpwuid(int(fields[1])).pw_name
                except KeyError:
                    return fields[1]
    return "?"


def process_command(pid: int, proc_root: str | None = None) -> str:
    try:
        return Path(proc_root or PROC_ROOT, str(pid), "comm").read_text().strip() or "?"
    except OSError:
        return "?"


def find(processes: Iterable[dict[str, Any]], slots: Iterable[HasSlotIdentity], ds01_container_ids: Iterable[str],
         proc_root: str | None = None) -> list[OutsideProcess]:
    """The processes of `processes` (nvml.gpu_processes' shape) that run in no DS01 container."""
    slot_by_uuid = {slot.uuid: slot.id for slot in slots}
    ours = set(ds01_container_ids)
    found = []
    for process in processes:
        pid = int(process.get("pid") or 0)
        container = container_of_pid(pid, proc_root or PROC_ROOT)
        if container is not None and container in ours:
            continue
        uuid = str(process.get("gpu_uuid") or "")
        found.append(OutsideProcess(pid, process_owner(pid, proc_root), uuid, slot_by_uuid.get(uuid),
                                    int(process.get("used_memory") or 0), container[:12] if container else None,
                                    process_command(pid, proc_root)))
    return sorted(found, key=lambda item: (item.gpu_uuid, item.pid))


def busy_slot_ids(outside: Iterable[OutsideProcess]) -> set[str]:
    return {process.slot for process in outside if process.slot is not None}


def nvml_processes() -> list[dict[str, Any]]:
    """NVML's compute processes, [] when NVML cannot be used."""
    from . import nvml
    result: list[dict[str, Any]] = nvml.gpu_processes()
    return result


def rows(outside: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Table rows (SLOT, PID, USER, MEMORY, WHERE, COMMAND) for gpu-status and ds01-status."""
    from .units import format_size
    return [(item.get("slot") or item.get("gpu_uuid"), item.get("pid"), item.get("user"),
             format_size(int(item.get("used_memory") or 0)),
             f"container {item['container']}" if item.get("container") else "host", item.get("command"))
            for item in outside]
