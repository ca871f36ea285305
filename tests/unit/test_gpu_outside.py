"""GPU processes outside DS01 (fake NVML + a fake /proc): found with their user, shown by the
status views, and kept out of allocation when gpus.avoid_busy is on."""

import json
import pwd
import sys

import pytest
from ds01common import allocator, allocator_admin, gpu_outside, inventory, nvml
from ds01common.errors import ResourcesUnavailable
from ds01common.identity import User
from ds01common.records import Limits
from fakes.engine import FakeEngine, ds01_labels
from fakes.fake_config import SimConfig
from fakes.fake_pynvml import (
    HOST_PID,
    OTHER_CONTAINER,
    OTHER_CONTAINER_PID,
    FakeGpu,
    fake_process,
    make_module,
    scenario,
)

ALICE = User("alice", "alice", 1000, 1000, "/home/alice")
FULL_GPUS = Limits(max_mig_instances=2, max_gpus_per_container=2, allow_full_gpu=True,
                   max_containers_per_user=5, priority=10)
ROOT_LOGIN = pwd.getpwuid(0).pw_name


@pytest.fixture
def busy(tmp_path, monkeypatch):
    """The busy_outside scenario: GPU 0 runs root's host job, GPU 1 another container's process."""
    module = scenario("busy_outside")
    monkeypatch.setitem(sys.modules, "pynvml", module)
    proc = tmp_path / "proc"
    fake_process(proc, HOST_PID, 0, command="train.py")
    fake_process(proc, OTHER_CONTAINER_PID, 4_000_001, container_id=OTHER_CONTAINER)
    monkeypatch.setattr(gpu_outside, "PROC_ROOT", str(proc))
    return {"module": module, "proc": proc, "inventory": inventory.from_nvml(nvml.discover(module)),
            "docker": FakeEngine(), "state": tmp_path / "state"}


def reserve_one(busy, config, name, count=1):
    docker_name = f"{name}._.{ALICE.uid}"
    with allocator.reserve(busy["docker"], config, ALICE, FULL_GPUS, docker_name, allocator.GpuRequest(count=count),
                           state_dir=busy["state"], log_dir=busy["state"], inventory_=busy["inventory"],
                           gpu_processes=lambda: nvml.gpu_processes(busy["module"])) as allocation:
        container = busy["docker"].containers.create(name=docker_name, labels={
            **ds01_labels(ALICE.name), **allocation.labels})
        allocation.confirm(container.id)
    return allocation.slot_ids


def test_a_host_process_and_another_containers_process_are_outside_with_their_owners(busy):
    found = gpu_outside.find(nvml.gpu_processes(busy["module"]), busy["inventory"].slots, set())
    assert [(item.slot, item.pid, item.user, item.container, item.command) for item in found] == [
        ("0", HOST_PID, ROOT_LOGIN, None, "train.py"),
        ("1", OTHER_CONTAINER_PID, "4000001", OTHER_CONTAINER[:12], "python3")]
    assert found[0].used_memory == 6 * 1024 ** 3
    assert gpu_outside.busy_slot_ids(found) == {"0", "1"}


def test_a_process_inside_a_ds01_container_is_not_outside(busy):
    ours = busy["docker"].containers.create(name="job._.1000", labels=ds01_labels("alice", slots="2"))
    fake_process(busy["proc"], 5151, 1000, container_id=ours.id)
    processes = [{"pid": 5151, "used_memory": 1, "gpu_uuid": "GPU-2222-free"}]
    assert gpu_outside.find(processes, busy["inventory"].slots, {ours.id}) == []
    assert len(gpu_outside.find(processes, busy["inventory"].slots, set())) == 1


def test_a_process_that_ended_meanwhile_is_shown_with_an_unknown_user(busy):
    (found,) = gpu_outside.find([{"pid": 999_999, "used_memory": 0, "gpu_uuid": "GPU-0000-busy"}],
                                busy["inventory"].slots, set())
    assert (found.user, found.command, found.slot) == ("?", "?", "0")


def test_with_avoid_busy_the_allocator_skips_slots_busy_outside_ds01(busy):
    assert reserve_one(busy, SimConfig(None, avoid_busy=True), "a") == ["2"]


def test_without_avoid_busy_a_busy_slot_is_still_handed_out(busy):
    assert reserve_one(busy, SimConfig(None, avoid_busy=False), "a") == ["0"]


def test_when_only_busy_slots_are_left_the_refusal_says_why_and_can_be_waited_for(busy):
    config = SimConfig(None, avoid_busy=True)
    reserve_one(busy, config, "a")
    with pytest.raises(ResourcesUnavailable, match=r"busy with processes outside DS01 \(gpus.avoid_busy\)") as raised:
        reserve_one(busy, config, "b")
    assert "--wait" in str(raised.value)


def test_avoid_busy_on_simulated_gpus_never_asks_nvml(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # any NVML call would say "not installed"
    config = SimConfig([{"model": "A100", "memory": "80g"}], avoid_busy=True)
    docker = FakeEngine()
    with allocator.reserve(docker, config, ALICE, FULL_GPUS, "a._.1000", allocator.GpuRequest(),
                           state_dir=tmp_path, log_dir=tmp_path) as allocation:
        assert allocation.slot_ids == ["0"]


def test_gpu_status_document_lists_outside_processes_with_their_user(busy):
    document = allocator_admin.status(busy["docker"], SimConfig(None), state_dir=busy["state"], log_dir=busy["state"])
    rows = gpu_outside.rows(document["outside_processes"])
    assert rows[0] == ("0", HOST_PID, ROOT_LOGIN, "6g", "host", "train.py")
    assert rows[1][4] == f"container {OTHER_CONTAINER[:12]}"


def test_simulated_gpus_have_no_outside_processes(tmp_path):
    document = allocator_admin.status(FakeEngine(), SimConfig([{"model": "A100", "memory": "80g"}]),
                                      state_dir=tmp_path, log_dir=tmp_path)
    assert document["outside_processes"] == []


def test_the_scenarios_before_busy_outside_are_unchanged():
    module = make_module([FakeGpu("GPU-a", utilization=37)])
    assert nvml.gpu_utilization(0, module) == 37.0
    assert [usage.memory_used for usage in nvml.device_usage(scenario("two_full_gpus"))] == [0, 0]


def test_device_usage_gives_memory_and_utilisation_per_device_none_for_mig():
    usage = nvml.device_usage(scenario("busy_outside"))
    assert [(item.uuid, item.memory_used, item.utilization) for item in usage][:2] == [
        ("GPU-0000-busy", 6 * 1024 ** 3, 87.0), ("GPU-1111-other", 2 * 1024 ** 3, 12.0)]
    (mig,) = [item for item in nvml.device_usage(scenario("mig_four_instances")) if item.uuid == "MIG-aaaa-0"]
    assert mig.utilization is None and mig.memory_total == 40192 * 1024 ** 2


def test_gpu_status_prints_the_outside_processes_with_their_user(busy, ds01_env, monkeypatch, capsys):
    from ds01common import cli
    from ds01common.commands import gpu_status
    from helpers import write_config

    write_config(ds01_env, {"gpus": {"avoid_busy": True}})  # no simulation: the fake NVML is asked
    monkeypatch.setattr(cli.Context, "docker", property(lambda self: busy["docker"]))
    assert gpu_status.main([]) == 0
    printed = capsys.readouterr().out
    assert "GPU processes outside DS01" in printed
    (host_row,) = [line for line in printed.splitlines() if str(HOST_PID) in line]
    assert ROOT_LOGIN in host_row and "host" in host_row and "train.py" in host_row
    assert gpu_status.main(["--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(item["pid"], item["user"], item["slot"]) for item in document["outside_processes"]] == [
        (HOST_PID, ROOT_LOGIN, "0"), (OTHER_CONTAINER_PID, "4000001", "1")]


def test_ds01_status_document_carries_the_outside_processes(tmp_path):
    from ds01common import adminviews
    from fakes.engine import FakeEngine

    outside = [{"pid": HOST_PID, "user": "carol", "gpu_uuid": "GPU-0", "slot": "0", "used_memory": 0,
                "container": None, "command": "train.py"}]
    document = adminviews.status(FakeEngine(), SimConfig(None), state_dir=tmp_path, log_dir=tmp_path, allocator_status={
        "gpus": [], "slots": [], "queue": [], "reason": None, "outside_processes": outside})
    assert document["outside_processes"] == outside
