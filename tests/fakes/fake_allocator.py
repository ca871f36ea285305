"""A stand-in for ds01common.allocator with the documented API, recording what it was asked.

It hands out slots from a fixed list and keeps them in memory; tests check that a failed
create gives its reservation back and that removal releases."""

import contextlib
from dataclasses import dataclass, field

from ds01common.errors import ResourcesUnavailable


@dataclass
class GpuRequest:
    count: int = 1
    full_gpu: bool = False
    explicit: bool = False
    wait: float = None


@dataclass
class Slot:
    id: str
    gpu: int
    uuid: str
    profile: str = "1g.10gb"
    weight: float = 1 / 7


@dataclass
class Allocation:
    slots: list
    notice: str = None
    confirmed: str = None
    calls: list = field(default_factory=list)

    @property
    def labels(self):
        return {"ds01.gpu.slots": ",".join(slot.id for slot in self.slots),
                "ds01.gpu.uuids": ",".join(slot.uuid for slot in self.slots)}

    @property
    def environment(self):
        visible = ",".join(slot.uuid for slot in self.slots) or "void"
        return {"CUDA_VISIBLE_DEVICES": visible, "NVIDIA_VISIBLE_DEVICES": visible}

    def device_requests(self, nvidia_runtime):
        return [] if not nvidia_runtime or not self.slots else ["device-request"]

    def confirm(self, container_id):
        self.confirmed = container_id


class FakeAllocator:
    GpuRequest = GpuRequest

    def __init__(self, free=("0", "1:0")):
        self.free = [Slot(slot_id, int(slot_id.split(":")[0]), f"GPU-fake-{slot_id}") for slot_id in free]
        self.held = {}          # docker container name -> [Slot]
        self.requests = []
        self.released = []
        self.release_reasons = []
        self.rolled_back = []

    @contextlib.contextmanager
    def reserve(self, docker, config, user, limits, docker_container_name, request, state_dir=None, log_dir=None,
                clock=None):
        self.requests.append((docker_container_name, request))
        if request.count > len(self.free):
            raise ResourcesUnavailable(f"no GPU free: asked for {request.count}")
        slots, self.free = self.free[:request.count], self.free[request.count:]
        allocation = Allocation(slots, notice=None)
        try:
            yield allocation
        except BaseException:
            self.free = slots + self.free
            self.rolled_back.append(docker_container_name)
            raise
        if allocation.confirmed is None:
            self.free = slots + self.free
        else:
            self.held[docker_container_name] = slots

    def release_container(self, docker, docker_container_name, state_dir=None, log_dir=None, by=None, reason=None):
        self.released.append(docker_container_name)
        self.release_reasons.append(reason)
        self.free.extend(self.held.pop(docker_container_name, []))


def install(monkeypatch, free=("0", "1:0")):
    """A FakeAllocator handing out `free`, put in place of ds01common.allocator for one test
    (as the package attribute and in sys.modules, so lazy `from . import allocator` finds it)."""
    import sys

    import ds01common

    fake = FakeAllocator(free=free)
    monkeypatch.setattr(ds01common, "allocator", fake, raising=False)
    monkeypatch.setitem(sys.modules, "ds01common.allocator", fake)
    return fake
