"""NVML discovery against a fake pynvml: one test per scenario, plus the lifecycle helpers."""

import sys

from ds01common import inventory, nvml
from fakes.fake_pynvml import FakeGpu, FakeMig, make_module, scenario


def test_no_nvml_library_means_zero_gpus_with_the_reason_kept():
    found = nvml.discover(scenario("no_library"))
    assert found.gpus == []
    assert "Library Not Found" in found.reason


def test_driver_not_loaded_means_zero_gpus_with_the_reason_kept():
    found = nvml.discover(scenario("driver_not_loaded"))
    assert found.gpus == []
    assert "Driver Not Loaded" in found.reason
    assert "Driver Not Loaded" in inventory.from_nvml(found).describe_emptiness()


def test_two_full_gpus_give_two_whole_gpu_slots_with_their_uuids_and_memory():
    found = nvml.discover(scenario("two_full_gpus"))
    assert found.reason is None
    assert [(gpu.index, gpu.uuid, gpu.mig_enabled) for gpu in found.gpus] == [
        (0, "GPU-0000-full", False), (1, "GPU-1111-full", False)]
    assert found.gpus[0].memory == 80 * 1024 ** 3
    slots = inventory.from_nvml(found).slots
    assert [(slot.id, slot.uuid, slot.weight, slot.profile) for slot in slots] == [
        ("0", "GPU-0000-full", 1.0, None), ("1", "GPU-1111-full", 1.0, None)]


def test_mig_gpu_with_four_instances_offers_exactly_those_with_profile_slices_and_memory():
    found = nvml.discover(scenario("mig_four_instances"))
    gpu = found.gpus[0]
    assert gpu.mig_enabled
    assert [(mig.index, mig.uuid, mig.profile, mig.slices) for mig in gpu.instances] == [
        (0, "MIG-aaaa-0", "3g.40gb", 3), (1, "MIG-aaaa-1", "2g.20gb", 2),
        (2, "MIG-aaaa-2", "1g.10gb", 1), (3, "MIG-aaaa-3", "1g.10gb", 1)]
    assert gpu.instances[0].memory == 40192 * 1024 ** 2
    slots = inventory.from_nvml(found).slots
    assert [slot.id for slot in slots] == ["0:0", "0:1", "0:2", "0:3"]
    assert [round(slot.weight * 7) for slot in slots] == [3, 2, 1, 1]
    assert "0" not in [slot.id for slot in slots]  # the parent GPU is not a slot


def test_mig_gpu_without_instances_offers_nothing():
    found = nvml.discover(scenario("mig_no_instances"))
    assert found.gpus[0].mig_enabled and found.gpus[0].instances == ()
    inv = inventory.from_nvml(found)
    assert inv.slots == []
    assert "MIG mode with no instances" in inv.describe_emptiness()


def test_one_gpu_raising_does_not_hide_the_others():
    found = nvml.discover(scenario("one_gpu_raising"))
    assert [gpu.index for gpu in found.gpus] == [0, 2]
    assert len(found.problems) == 1 and "GPU 1" in found.problems[0] and "lost" in found.problems[0]
    assert found.reason is None


def test_missing_pynvml_package_through_sys_modules_is_zero_gpus_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    found = nvml.discover()
    assert found.gpus == [] and "not installed" in found.reason


def test_a_fake_in_sys_modules_is_used_when_no_module_is_passed(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", scenario("two_full_gpus"))
    assert len(nvml.discover().gpus) == 2


def test_mig_profile_comes_from_attributes_when_the_name_lacks_it():
    module = make_module([FakeGpu("GPU-x", mig=[FakeMig("MIG-x", "1g.10gb", 1, 9728)])])
    module.nvmlDeviceGetName = lambda handle: "NVIDIA A100"  # an older driver's name
    instance = nvml.discover(module).gpus[0].instances[0]
    assert (instance.profile, instance.slices) == ("1g.10gb", 1)


def test_nvml_is_shut_down_after_discovery():
    module = scenario("two_full_gpus")
    nvml.discover(module)
    assert module.state["initialised"] == 0


def test_gpu_processes_lists_pids_memory_and_the_mig_device_uuid():
    module = make_module([FakeGpu("GPU-full", processes=[(101, 2048)]),
                          FakeGpu("GPU-mig", mig=[FakeMig("MIG-a", "3g.40gb", 3, 40192, processes=[(202, None)]),
                                                  FakeMig("MIG-b", "1g.10gb", 1, 9728, processes=[(303, 4096)])])])
    assert nvml.gpu_processes(module) == [
        {"pid": 101, "used_memory": 2048, "gpu_uuid": "GPU-full"},
        {"pid": 202, "used_memory": 0, "gpu_uuid": "MIG-a"},
        {"pid": 303, "used_memory": 4096, "gpu_uuid": "MIG-b"}]


def test_gpu_processes_is_empty_without_nvml():
    assert nvml.gpu_processes(scenario("driver_not_loaded")) == []


def test_gpu_utilization_is_a_percentage_or_none():
    module = make_module([FakeGpu("GPU-a", utilization=37)])
    assert nvml.gpu_utilization(0, module) == 37.0
    assert nvml.gpu_utilization(5, module) is None
    assert nvml.gpu_utilization(0, scenario("no_library")) is None


def test_importing_the_library_does_not_import_pynvml():
    import subprocess

    from helpers import ROOT
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'lib')!r}); "
            "from ds01common import allocator, nvml, inventory; print('pynvml' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
