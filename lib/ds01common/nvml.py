"""The one module that talks to NVML (PyPI `nvidia-ml-py`, imported as `pynvml`, lazily).

`discover()` never raises: NVML failing at init (no library, driver not loaded, version
mismatch) gives zero GPUs with the reason kept for messages, and one GPU raising is noted in
`problems` without hiding the others. Every function takes an optional `module` so tests can
pass a fake pynvml; otherwise `sys.modules["pynvml"]` (or a fresh import) is used.

For the lifecycle work: `gpu_processes()` (compute processes on every GPU and MIG device)
and `gpu_utilization(index)`.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    Read = TypeVar("Read")

_MIG_NAME_RE = re.compile(r"(\d+)g\.(\d+)gb")


@dataclass(frozen=True)
class MigInstance:
    index: int          # position under its GPU: slot id "<gpu>:<index>"
    uuid: str
    profile: str        # "3g.40gb"
    slices: int         # compute slices (weight = slices / 7)
    memory: int         # bytes


@dataclass(frozen=True)
class GpuInfo:
    index: int
    uuid: str
    model: str
    memory: int
    mig_enabled: bool = False
    instances: tuple[MigInstance, ...] = ()


@dataclass
class Discovery:
    gpus: list[GpuInfo] = field(default_factory=list)
    reason: str | None = None        # set when NVML could not be used at all
    problems: list[str] = field(default_factory=list)


class Unavailable(Exception):
    """NVML cannot be used; the message says why."""


def _load(module: Any = None) -> Any:
    if module is not None:
        return module
    try:
        return importlib.import_module("pynvml")
    except ImportError:
        raise Unavailable("the NVML Python package (nvidia-ml-py) is not installed") from None


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"NVML: {text}"


@contextlib.contextmanager
def session(module: Any = None) -> Iterator[Any]:
    """nvmlInit/nvmlShutdown around a block; Unavailable (with the reason) when init fails."""
    nvml = _load(module)
    try:
        nvml.nvmlInit()
    except Exception as error:  # NVMLError subclasses, OSError from a broken library alike
        raise Unavailable(_describe(error)) from None
    try:
        yield nvml
    finally:
        with contextlib.suppress(Exception):
            nvml.nvmlShutdown()


def _mig_enabled(nvml: Any, handle: Any) -> bool:
    try:
        current, _pending = nvml.nvmlDeviceGetMigMode(handle)
    except Exception:  # NotSupported on GPUs without MIG; an old library lacks the call
        return False
    return bool(current == getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1))


def _mig_profile(nvml: Any, handle: Any, memory: int) -> tuple[str, int]:
    """(profile, slices) of a MIG device, from its name when it carries one, else its attributes."""
    with contextlib.suppress(Exception):
        match = _MIG_NAME_RE.search(_text(nvml.nvmlDeviceGetName(handle)))
        if match:
            return match.group(0), int(match.group(1))
    attributes = nvml.nvmlDeviceGetAttributes(handle)
    slices = int(getattr(attributes, "gpuInstanceSliceCount", 0) or getattr(attributes, "computeInstanceSliceCount", 1))
    megabytes = getattr(attributes, "memorySizeMB", 0) or memory // 1024 ** 2
    # Profile names round memory up to whole GB: 1g.10gb has about 9.5 GiB usable.
    return f"{slices}g.{math.ceil(megabytes / 1024)}gb", slices


def _mig_instances(nvml: Any, handle: Any) -> tuple[MigInstance, ...]:
    instances = []
    count = nvml.nvmlDeviceGetMaxMigDeviceCount(handle)
    for position in range(count):
        try:
            mig = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, position)
        except Exception:  # NotFound: no instance at this position
            continue
        memory = int(nvml.nvmlDeviceGetMemoryInfo(mig).total)
        profile, slices = _mig_profile(nvml, mig, memory)
        instances.append(MigInstance(position, _text(nvml.nvmlDeviceGetUUID(mig)), profile, slices, memory))
    return tuple(instances)


def _gpu(nvml: Any, index: int) -> GpuInfo:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    uuid = _text(nvml.nvmlDeviceGetUUID(handle))
    model = _text(nvml.nvmlDeviceGetName(handle))
    memory = int(nvml.nvmlDeviceGetMemoryInfo(handle).total)
    mig = _mig_enabled(nvml, handle)
    instances = _mig_instances(nvml, handle) if mig else ()
    return GpuInfo(index, uuid, model, memory, mig, instances)


def discover(module: Any = None) -> Discovery:
    """Full GPUs and MIG instances; never raises (see the module docstring)."""
    found = Discovery()
    try:
        with session(module) as nvml:
            try:
                count = int(nvml.nvmlDeviceGetCount())
            except Exception as error:
                found.reason = _describe(error)
                return found
            for index in range(count):
                try:
                    found.gpus.append(_gpu(nvml, index))
                except Exception as error:
                    found.problems.append(f"GPU {index}: {_describe(error)}")
    except Unavailable as error:
        found.reason = str(error)
    return found


def _devices(nvml: Any) -> Iterator[tuple[Any, str]]:
    """(handle, uuid) of every full GPU, and of every MIG device instead of a MIG-enabled GPU."""
    for index in range(int(nvml.nvmlDeviceGetCount())):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            if _mig_enabled(nvml, handle):
                for position in range(nvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
                    with contextlib.suppress(Exception):
                        mig = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, position)
                        yield mig, _text(nvml.nvmlDeviceGetUUID(mig))
            else:
                yield handle, _text(nvml.nvmlDeviceGetUUID(handle))
        except Exception:  # one broken GPU must not hide the others
            continue


def gpu_processes(module: Any = None) -> list[dict[str, Any]]:
    """[{pid, used_memory (bytes), gpu_uuid (the MIG device's for MIG)}]; [] when NVML is unusable."""
    processes = []
    for uuid, running in _read_devices(module, lambda nvml, handle: nvml.nvmlDeviceGetComputeRunningProcesses(handle)):
        for process in running:
            used = getattr(process, "usedGpuMemory", None)
            processes.append({"pid": int(process.pid), "used_memory": int(used) if used else 0, "gpu_uuid": uuid})
    return processes


def _read_devices(module: Any, read: Callable[[Any, Any], Read]) -> list[tuple[str, Read]]:
    """[(uuid, read(nvml, handle))] for every full GPU and MIG device, in one NVML session; a device
    whose `read` raises is left out (one failing must not hide the others); [] when NVML is unusable."""
    found = []
    try:
        with session(module) as nvml:
            for handle, uuid in _devices(nvml):
                try:
                    found.append((uuid, read(nvml, handle)))
                except Exception:
                    continue
    except Unavailable:
        return []
    return found


def gpu_utilization(index: int, module: Any = None) -> float | None:
    """GPU busy percent of full GPU `index`, or None when unknown (no NVML, MIG, error)."""
    try:
        with session(module) as nvml:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            return float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except Exception:
        return None


@dataclass(frozen=True)
class DeviceUsage:
    uuid: str                   # the full GPU's, or the MIG device's
    memory_used: int            # bytes
    memory_total: int           # bytes
    utilization: float | None   # busy percent; None where NVML does not measure it (MIG devices)


def device_usage(module: Any = None) -> list[DeviceUsage]:
    """[DeviceUsage] for every full GPU and MIG device, in one NVML session; [] when NVML is unusable."""
    return [DeviceUsage(uuid, int(memory.used), int(memory.total), utilization)
            for uuid, (memory, utilization) in _read_devices(module, _memory_and_utilization)]


def _memory_and_utilization(nvml: Any, handle: Any) -> tuple[Any, float | None]:
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)  # raising leaves the device out
    try:
        utilization = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except Exception:  # NotSupported on MIG devices
        utilization = None
    return memory, utilization
