"""GPU use per container for container-stats: memory and utilisation of the container's processes.

NVML lists the compute processes of each GPU (or MIG device); each process is mapped to its
container through /proc/PID/cgroup, as the lifecycle pass does (activity.py). Utilisation is a
whole-GPU figure: for a full GPU it is shown, for a MIG slot NVML has none, and that is said
rather than invented.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from . import activity

MIG_UTILISATION_NOTE = "NVML gives no utilisation per MIG instance"
# Tests point this at a fake /proc tree (tests/fakes/fake_pynvml.py: fake_process).
PROC_ROOT = "/proc"

ProcessList = Callable[[], list[dict[str, Any]]]
Utilisation = Callable[[int], float | None]


@dataclass
class GpuProcess:
    pid: int
    memory: int  # bytes
    gpu_uuid: str | None


@dataclass
class GpuUse:
    """What one container's processes do on its GPU slots."""

    slots: list[str]
    memory: int = 0  # bytes, all its processes together
    utilization: float | None = None  # percent of its busiest full GPU; None for MIG slots or unknown
    note: str | None = None
    processes: list[GpuProcess] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return asdict(self)


def measure(containers: Iterable[Mapping[str, Any]], gpu_processes: ProcessList | None = None,
            gpu_utilization: Utilisation | None = None, proc_root: str | None = None) -> dict[str, GpuUse]:
    """{container id: GpuUse} for containers ({"id", "gpus": [slot ids], "status"}) holding GPU slots.

    NVML is asked only when one of them runs with a slot (no GPU, no NVML call)."""
    holding = [item for item in containers if item.get("gpus")]
    running = [item for item in holding if item.get("status") == "running"]
    processes = (gpu_processes or activity.default_gpu_processes)() if running else []
    by_container = activity.gpu_use_by_container(processes, proc_root or PROC_ROOT)
    pids_of = _process_details(processes)
    result: dict[str, GpuUse] = {}
    for item in holding:
        slots = list(item["gpus"])
        use = GpuUse(slots=slots)
        if item.get("status") == "running":
            found = by_container.get(item["id"])
            if found:
                use.memory = int(found["memory"])
                use.processes = [pids_of[pid] for pid in dict.fromkeys(found["pids"]) if pid in pids_of]
            whole = [int(slot) for slot in slots if slot.isdigit()]
            if whole:
                values = [value for value in map(gpu_utilization or activity.default_gpu_utilization, whole)
                          if value is not None]
                use.utilization = max(values) if values else None
            if any(":" in slot for slot in slots):
                use.note = MIG_UTILISATION_NOTE
        result[item["id"]] = use
    return result


def _process_details(processes: Iterable[Mapping[str, Any]]) -> dict[int, GpuProcess]:
    details: dict[int, GpuProcess] = {}
    for process in processes:
        pid = process.get("pid")
        if pid is None:
            continue
        entry = details.setdefault(int(pid), GpuProcess(pid=int(pid), memory=0, gpu_uuid=process.get("gpu_uuid")))
        entry.memory += int(process.get("used_memory") or 0)
    return details
