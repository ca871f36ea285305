"""A fake pynvml module with named scenarios, for nvml.py's tests.

`scenario(name)` returns a module-like object to pass as `module=` (or to put in
sys.modules["pynvml"]). Scenarios: "no_library", "driver_not_loaded", "two_full_gpus",
"mig_four_instances", "mig_no_instances", "one_gpu_raising", "busy_outside" (GPU 0 runs host
process 4242 and GPU 1 a process of container `OTHER_CONTAINER`, with memory and utilisation;
`fake_process` writes the matching /proc entries under a fake proc root), "busy_in_containers"
(GPU 0 whole and busy with two processes of `FULL_CONTAINER`, GPU 1 in MIG mode with a process of
`MIG_CONTAINER` on instance 1:0; `busy_in_containers_processes` writes their /proc entries).
"""

import types
from dataclasses import dataclass, field
from pathlib import Path

NVML_DEVICE_MIG_ENABLE = 1
NVML_DEVICE_MIG_DISABLE = 0
GIB = 1024 ** 3


class NVMLError(Exception):
    def __init__(self, value, text):
        super().__init__(text)
        self.value = value


def _nvml_error(name, value, text):
    """One of pynvml's NVMLError_* classes: raised without arguments, carrying pynvml's value."""
    def __init__(self):
        NVMLError.__init__(self, value, text)

    return type(name, (NVMLError,), {"__init__": __init__})


NVMLError_LibraryNotFound = _nvml_error("NVMLError_LibraryNotFound", 12, "NVML Shared Library Not Found")
NVMLError_DriverNotLoaded = _nvml_error("NVMLError_DriverNotLoaded", 9, "Driver Not Loaded")
NVMLError_NotFound = _nvml_error("NVMLError_NotFound", 6, "Not Found")
NVMLError_NotSupported = _nvml_error("NVMLError_NotSupported", 3, "Not Supported")
NVMLError_GpuIsLost = _nvml_error("NVMLError_GpuIsLost", 15, "GPU is lost")


@dataclass
class FakeMig:
    uuid: str
    profile: str
    slices: int
    memory_mb: int
    processes: list = field(default_factory=list)
    memory_used_mb: int = 0


@dataclass
class FakeGpu:
    uuid: str
    name: str = "NVIDIA A100-SXM4-80GB"
    memory: int = 80 * GIB
    mig: list = None                 # None: MIG mode off; a list (maybe empty): MIG mode on
    broken: bool = False             # every query raises GPU-is-lost
    processes: list = field(default_factory=list)
    utilization: int = 0
    memory_used: int = 0


class _Memory:
    def __init__(self, total, used=0):
        self.total = total
        self.used = used
        self.free = total - used


def make_module(gpus, init_error=None):
    """A pynvml-like module over `gpus` (list of FakeGpu); `init_error` is raised by nvmlInit."""
    module = types.ModuleType("pynvml")
    state = {"initialised": 0, "calls": []}
    module.state = state
    for name, value in globals().items():
        if name.startswith(("NVMLError", "NVML_")):
            setattr(module, name, value)

    def record(name):
        state["calls"].append(name)

    def nvmlInit():  # noqa: N802
        record("nvmlInit")
        if init_error is not None:
            raise init_error()
        state["initialised"] += 1

    def nvmlShutdown():  # noqa: N802
        state["initialised"] -= 1

    def _gpu(handle):
        if isinstance(handle, FakeGpu) and handle.broken:
            raise NVMLError_GpuIsLost()
        return handle

    def nvmlDeviceGetCount():  # noqa: N802
        return len(gpus)

    def nvmlDeviceGetHandleByIndex(index):  # noqa: N802
        if index >= len(gpus):
            raise NVMLError(2, "Invalid Argument")
        return gpus[index]

    def nvmlDeviceGetName(handle):  # noqa: N802
        handle = _gpu(handle)
        if isinstance(handle, FakeMig):
            return f"NVIDIA A100-SXM4-80GB MIG {handle.profile}"
        return handle.name

    def nvmlDeviceGetUUID(handle):  # noqa: N802
        return _gpu(handle).uuid

    def nvmlDeviceGetMemoryInfo(handle):  # noqa: N802
        handle = _gpu(handle)
        if isinstance(handle, FakeMig):
            return _Memory(handle.memory_mb * 1024 ** 2, handle.memory_used_mb * 1024 ** 2)
        return _Memory(handle.memory, handle.memory_used)

    def nvmlDeviceGetMigMode(handle):  # noqa: N802
        handle = _gpu(handle)
        if handle.mig is None:
            return [NVML_DEVICE_MIG_DISABLE, NVML_DEVICE_MIG_DISABLE]
        return [NVML_DEVICE_MIG_ENABLE, NVML_DEVICE_MIG_ENABLE]

    def nvmlDeviceGetMaxMigDeviceCount(handle):  # noqa: N802
        return 7 if _gpu(handle).mig is not None else 0

    def nvmlDeviceGetMigDeviceHandleByIndex(handle, index):  # noqa: N802
        instances = _gpu(handle).mig or []
        if index >= len(instances) or instances[index] is None:
            raise NVMLError_NotFound()
        return instances[index]

    def nvmlDeviceGetAttributes(handle):  # noqa: N802
        return types.SimpleNamespace(gpuInstanceSliceCount=handle.slices, computeInstanceSliceCount=handle.slices,
                                     memorySizeMB=handle.memory_mb)

    def nvmlDeviceGetComputeRunningProcesses(handle):  # noqa: N802
        return [types.SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in _gpu(handle).processes]

    def nvmlDeviceGetUtilizationRates(handle):  # noqa: N802
        if isinstance(handle, FakeMig):
            raise NVMLError_NotSupported()
        return types.SimpleNamespace(gpu=_gpu(handle).utilization, memory=0)

    for function in (nvmlInit, nvmlShutdown, nvmlDeviceGetCount, nvmlDeviceGetHandleByIndex, nvmlDeviceGetName,
                     nvmlDeviceGetUUID, nvmlDeviceGetMemoryInfo, nvmlDeviceGetMigMode,
                     nvmlDeviceGetMaxMigDeviceCount, nvmlDeviceGetMigDeviceHandleByIndex, nvmlDeviceGetAttributes,
                     nvmlDeviceGetComputeRunningProcesses, nvmlDeviceGetUtilizationRates):
        setattr(module, function.__name__, function)
    return module


def _four_instances():
    return [FakeMig("MIG-aaaa-0", "3g.40gb", 3, 40192), FakeMig("MIG-aaaa-1", "2g.20gb", 2, 19968),
            FakeMig("MIG-aaaa-2", "1g.10gb", 1, 9728), FakeMig("MIG-aaaa-3", "1g.10gb", 1, 9728)]


def scenario(name):
    """A fake pynvml for one named scenario (see the module docstring)."""
    if name == "no_library":
        return make_module([], init_error=NVMLError_LibraryNotFound)
    if name == "driver_not_loaded":
        return make_module([], init_error=NVMLError_DriverNotLoaded)
    if name == "two_full_gpus":
        return make_module([FakeGpu("GPU-0000-full"), FakeGpu("GPU-1111-full")])
    if name == "mig_four_instances":
        return make_module([FakeGpu("GPU-aaaa", mig=_four_instances())])
    if name == "mig_no_instances":
        return make_module([FakeGpu("GPU-bbbb", mig=[])])
    if name == "one_gpu_raising":
        return make_module([FakeGpu("GPU-0000"), FakeGpu("GPU-1111", broken=True), FakeGpu("GPU-2222")])
    if name == "busy_outside":
        return make_module([FakeGpu("GPU-0000-busy", processes=[(HOST_PID, 6 * GIB)], utilization=87,
                                    memory_used=6 * GIB),
                            FakeGpu("GPU-1111-other", processes=[(OTHER_CONTAINER_PID, 2 * GIB)], utilization=12,
                                    memory_used=2 * GIB),
                            FakeGpu("GPU-2222-free")])
    if name == "busy_in_containers":
        return _busy_in_containers()
    raise KeyError(name)


# --- processes for the "busy_outside" scenario, and a fake /proc to find their owners ---

HOST_PID = 4242
OTHER_CONTAINER_PID = 4343
OTHER_CONTAINER = "f" * 64


def fake_process(proc_root, pid, uid, container_id=None, command="python3"):
    """/proc/PID/{status,cgroup,comm} under `proc_root` for a process of `uid`, in `container_id`'s
    cgroup (a Docker container under the systemd driver) or on the host when None."""
    directory = Path(proc_root) / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "status").write_text(f"Name:\t{command}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    cgroup = f"0::/system.slice/docker-{container_id}.scope\n" if container_id else "0::/user.slice/session-1.scope\n"
    (directory / "cgroup").write_text(cgroup)
    (directory / "comm").write_text(command + "\n")
    return pid


# --- the "busy_in_containers" scenario (container-stats): GPU 0 whole, GPU 1 split by MIG ---
# GPU 0 (full, 64 % busy) runs FULL_CONTAINER's two processes; MIG instance 1:0 runs MIG_CONTAINER's
# process; GPU 0 also runs a host process, which belongs to no container.

FULL_CONTAINER = "c" * 64
MIG_CONTAINER = "d" * 64
FULL_PIDS = (5151, 5152)
MIG_PID = 5252


def _busy_in_containers():
    return make_module([
        FakeGpu("GPU-0000-full", processes=[(FULL_PIDS[0], 3 * GIB), (FULL_PIDS[1], 1 * GIB), (HOST_PID, 2 * GIB)],
                utilization=64, memory_used=6 * GIB),
        FakeGpu("GPU-1111-mig", mig=[FakeMig("MIG-eeee-0", "3g.40gb", 3, 40192, processes=[(MIG_PID, 5 * GIB)]),
                                     FakeMig("MIG-eeee-1", "3g.40gb", 3, 40192)]),
    ])


def busy_in_containers_processes(proc_root, uid):
    """The /proc entries of the "busy_in_containers" scenario's processes, owned by `uid`."""
    for pid in FULL_PIDS:
        fake_process(proc_root, pid, uid, FULL_CONTAINER)
    fake_process(proc_root, MIG_PID, uid, MIG_CONTAINER)
    fake_process(proc_root, HOST_PID, uid)
