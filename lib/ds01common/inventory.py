"""What GPU slots this host offers: from NVML (nvml.py) or from the config's `gpus.simulate`.

A slot is one full GPU (id "0") or one MIG instance (id "1:0"). Its weight is in
GPU-equivalents: 1.0 for a full GPU, compute slices / 7 for a MIG instance. A GPU with MIG
mode on offers only its MIG instances, none when it has none. Slots are always ordered
numerically (never "10" before "2").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .units import parse_size

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from . import nvml

MIG_SLICES_PER_GPU = 7
_PROFILE_RE = re.compile(r"^(\d+)g\.(\d+)gb\Z")
# Fixed namespace so a simulated host always gets the same UUIDs (name-based, as uuid.uuid5).
_SIMULATION_NAMESPACE = "5f0c1e0e-57a1-4d5b-9d01-d5010000beef"


@dataclass(frozen=True)
class Slot:
    id: str                 # "0" or "1:0"
    gpu: int                # index of the physical GPU
    uuid: str               # GPU-… or MIG-…; what CUDA_VISIBLE_DEVICES and device_requests take
    profile: str | None     # MIG profile such as "3g.40gb"; None for a full GPU
    weight: float           # GPU-equivalents
    memory: int = 0         # bytes
    model: str = ""

    @property
    def is_mig(self) -> bool:
        return self.profile is not None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "gpu": self.gpu, "uuid": self.uuid, "profile": self.profile,
                "weight": round(self.weight, 4)}


@dataclass(frozen=True)
class Gpu:
    index: int
    uuid: str
    model: str
    memory: int
    mig_enabled: bool = False
    slots: tuple[Slot, ...] = ()


@dataclass
class Inventory:
    gpus: list[Gpu] = field(default_factory=list)
    reason: str | None = None      # why there are no GPUs (NVML failure), for messages
    problems: list[str] = field(default_factory=list)   # per-GPU failures that did not hide the others
    simulated: bool = False

    @functools.cached_property
    def slots(self) -> list[Slot]:
        return sorted((slot for gpu in self.gpus for slot in gpu.slots), key=lambda slot: slot_sort_key(slot.id))

    @property
    def weights(self) -> dict[str, float]:
        """{slot id: GPU-equivalents}: what the ledger needs to weigh adopted slots."""
        return {slot.id: slot.weight for slot in self.slots}

    def slot(self, slot_id: str) -> Slot | None:
        for candidate in self.slots:
            if candidate.id == slot_id:
                return candidate
        return None

    def describe_emptiness(self) -> str:
        if self.reason:
            return f"this host has no GPU slots ({self.reason})"
        if self.gpus:
            return "this host has no GPU slots (its GPUs are in MIG mode with no instances)"
        return "this host has no GPU slots"


def slot_sort_key(slot_id: object) -> tuple[int | str, ...]:
    """Numeric order of slot ids: "2" < "10", "1:2" < "1:10"; odd ids sort last, stably."""
    parts = str(slot_id).split(":")
    try:
        return (0,) + tuple(int(part) for part in parts)
    except ValueError:
        return (1, str(slot_id))


def sort_slot_ids(slot_ids: Iterable[str]) -> list[str]:
    return sorted(slot_ids, key=slot_sort_key)


def profile_slices(profile: str | None) -> int | None:
    """Compute slices of a MIG profile ("3g.40gb" -> 3); None if unparsable."""
    match = _PROFILE_RE.match(profile or "")
    return int(match.group(1)) if match else None


def profile_weight(profile: str | None) -> float:
    slices = profile_slices(profile)
    if slices is None:
        return 1.0
    return min(slices, MIG_SLICES_PER_GPU) / MIG_SLICES_PER_GPU


def profile_memory(profile: str | None) -> int:
    match = _PROFILE_RE.match(profile or "")
    return int(match.group(2)) * 1024 ** 3 if match else 0


def simulated_uuid(gpu_index: int, mig_index: int | None = None) -> str:
    if mig_index is None:
        return f"GPU-{_name_uuid(f'gpu-{gpu_index}')}"
    return f"MIG-{_name_uuid(f'mig-{gpu_index}-{mig_index}')}"


def _name_uuid(name: str) -> str:
    """str(uuid.uuid5(simulation namespace, name)), spelled out: the uuid module imports
    `platform`, and hashlib loads OpenSSL, which together cost a simulated host's every command
    more than the rest of its inventory (tests check it equals uuid5)."""
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]  # CPython's own SHA-1, no OpenSSL
    except ImportError:
        from hashlib import sha1
    digest = bytearray(sha1(bytes.fromhex(_SIMULATION_NAMESPACE.replace("-", "")) + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5 (name-based, SHA-1)
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def simulated(spec: list[dict[str, Any]] | None) -> Inventory:
    """The inventory described by `gpus.simulate` (a list of {model, memory, mig}); no NVML call."""
    gpus = []
    for index, entry in enumerate(spec or []):
        model = entry.get("model", "NVIDIA simulated GPU")
        memory = parse_size(entry.get("memory", "80g")) or 0
        gpu_uuid = simulated_uuid(index)
        mig = entry.get("mig")
        slots: tuple[Slot, ...]
        if mig is None:
            slots = (Slot(str(index), index, gpu_uuid, None, 1.0, memory, model),)
        else:
            slots = tuple(Slot(f"{index}:{position}", index, simulated_uuid(index, position), profile,
                               profile_weight(profile), profile_memory(profile), model)
                          for position, profile in enumerate(mig))
        gpus.append(Gpu(index, gpu_uuid, model, memory, mig is not None, slots))
    return Inventory(gpus=gpus, simulated=True)


def from_nvml(found: nvml.Discovery) -> Inventory:
    """Turn nvml.discover()'s result into an Inventory."""
    gpus = []
    for info in found.gpus:
        if info.mig_enabled:
            slots = tuple(Slot(f"{info.index}:{mig.index}", info.index, mig.uuid, mig.profile,
                               min(mig.slices, MIG_SLICES_PER_GPU) / MIG_SLICES_PER_GPU, mig.memory, info.model)
                          for mig in info.instances)
        else:
            slots = (Slot(str(info.index), info.index, info.uuid, None, 1.0, info.memory, info.model),)
        gpus.append(Gpu(info.index, info.uuid, info.model, info.memory, info.mig_enabled, slots))
    return Inventory(gpus=gpus, reason=found.reason, problems=list(found.problems))


def discover(config: Any, nvml_module: Any = None) -> Inventory:
    """The host's inventory: simulated when the config says so, else from NVML."""
    spec = config.simulated_gpus if config is not None else None
    if spec is not None:
        return simulated(spec)
    from . import nvml
    return from_nvml(nvml.discover(nvml_module))
