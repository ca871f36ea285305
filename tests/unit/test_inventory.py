"""Slots: ids, weights, numeric order, and the simulated inventory (deterministic, no NVML)."""

import sys

from ds01common import inventory
from fakes.fake_config import SimConfig
from fakes.fake_pynvml import scenario

MIXED = [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"},
         {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]}]


def test_simulated_inventory_has_full_and_mig_slots_with_contract_weights():
    slots = inventory.simulated(MIXED).slots
    assert [(slot.id, slot.profile, slot.weight) for slot in slots] == [
        ("0", None, 1.0), ("1:0", "3g.40gb", 3 / 7), ("1:1", "2g.20gb", 2 / 7),
        ("1:2", "1g.10gb", 1 / 7), ("1:3", "1g.10gb", 1 / 7)]
    assert slots[0].memory == 80 * 1024 ** 3 and slots[1].memory == 40 * 1024 ** 3


def test_simulated_uuids_are_deterministic_and_distinct():
    first = [slot.uuid for slot in inventory.simulated(MIXED).slots]
    second = [slot.uuid for slot in inventory.simulated(MIXED).slots]
    assert first == second
    assert len(set(first)) == len(first)
    assert first[0].startswith("GPU-") and all(uuid.startswith("MIG-") for uuid in first[1:])


def test_simulated_uuids_are_the_name_based_uuids_they_always_were():
    import uuid

    namespace = uuid.UUID("5f0c1e0e-57a1-4d5b-9d01-d5010000beef")
    for gpu_index in range(3):
        assert inventory.simulated_uuid(gpu_index) == f"GPU-{uuid.uuid5(namespace, f'gpu-{gpu_index}')}"
        for mig_index in range(8):
            assert inventory.simulated_uuid(gpu_index, mig_index) == \
                f"MIG-{uuid.uuid5(namespace, f'mig-{gpu_index}-{mig_index}')}"


def test_seven_slice_profile_weighs_one_full_gpu():
    assert inventory.profile_weight("7g.80gb") == 1.0
    assert inventory.profile_weight("4g.40gb") == 4 / 7


def test_slots_are_ordered_numerically_never_ten_before_two():
    slots = inventory.simulated([{"memory": "80g"}] * 12).slots
    assert [slot.id for slot in slots] == [str(index) for index in range(12)]
    assert inventory.sort_slot_ids(["10", "2", "1:10", "1:2", "0"]) == ["0", "1:2", "1:10", "2", "10"]


def test_a_simulated_mig_gpu_with_no_instances_offers_nothing():
    inv = inventory.simulated([{"memory": "80g", "mig": []}, {"memory": "80g"}])
    assert [slot.id for slot in inv.slots] == ["1"]


def test_simulation_makes_no_nvml_call(monkeypatch):
    module = scenario("two_full_gpus")
    monkeypatch.setitem(sys.modules, "pynvml", module)
    inv = inventory.discover(SimConfig(MIXED))
    assert inv.simulated and len(inv.slots) == 5
    assert module.state["calls"] == []


def test_without_simulation_the_inventory_comes_from_nvml():
    inv = inventory.discover(SimConfig(None), nvml_module=scenario("two_full_gpus"))
    assert [slot.uuid for slot in inv.slots] == ["GPU-0000-full", "GPU-1111-full"]
    empty = inventory.discover(SimConfig(None), nvml_module=scenario("driver_not_loaded"))
    assert empty.slots == [] and "Driver Not Loaded" in empty.reason
