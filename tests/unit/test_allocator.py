"""The allocation API the container commands use, against a fake Docker and simulated GPUs."""

import json
import threading
from dataclasses import replace

import pytest
from ds01common import allocator, gpuqueue, ledger
from ds01common.clock import SYSTEM
from ds01common.errors import DockerUnavailable, ResourcesUnavailable, UsageError
from ds01common.identity import User
from ds01common.records import Limits
from fakes.clock import FakeClock
from fakes.engine import FakeEngine, ds01_labels
from fakes.fake_config import SimConfig

ALICE = User("alice", "alice", 1000, 1000, "/home/alice")
BOB = User("bob", "bob", 1001, 1001, "/home/bob")
MIXED = [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"},
         {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]}]
STUDENT = Limits(max_mig_instances=1, max_gpus_per_container=1, max_gpu_equivalents=None,
                 allow_full_gpu=False, max_containers_per_user=3, priority=10)
UNLIMITED = Limits(max_mig_instances=None, max_gpus_per_container=None, max_gpu_equivalents=None,
                   allow_full_gpu=True, max_containers_per_user=None, priority=10)


@pytest.fixture
def env(tmp_path):
    return {"docker": FakeEngine(), "config": SimConfig(MIXED), "state_dir": tmp_path, "log_dir": tmp_path}


def create(env, user, name, request=None, limits=STUDENT, confirm=True, clock=SYSTEM):
    """What container-create does: reserve, create with the labels, confirm."""
    docker_name = f"{name}._.{user.uid}"
    with allocator.reserve(env["docker"], env["config"], user, limits, docker_name, request or allocator.GpuRequest(),
                           state_dir=env["state_dir"], log_dir=env["log_dir"], clock=clock) as allocation:
        container = env["docker"].containers.create(
            name=docker_name, labels={**ds01_labels(user.name), **allocation.labels},
            environment=allocation.environment)
        if confirm:
            allocation.confirm(container.id)
    return allocation, container


def held(env):
    return {slot_id: entry.container for slot_id, entry in ledger.read_state(env["state_dir"]).assignments.items()}


def test_default_request_gets_one_slice_with_labels_and_environment(env):
    allocation, container = create(env, ALICE, "a")
    assert allocation.slot_ids == ["1:2"]
    assert allocation.labels["ds01.gpu.slots"] == "1:2"
    assert allocation.labels["ds01.gpu.uuids"].startswith("MIG-")
    assert allocation.environment["CUDA_VISIBLE_DEVICES"] == allocation.labels["ds01.gpu.uuids"]
    assert allocation.environment["NVIDIA_VISIBLE_DEVICES"] == allocation.labels["ds01.gpu.uuids"]
    assert held(env) == {"1:2": "a._.1000"}
    # A simulated inventory says so, to the user and inside the container.
    assert "GPU 1:2 is simulated" in allocation.notice
    assert allocation.environment["DS01_GPU_SIMULATED"] == "1"


def test_device_requests_name_uuids_never_a_count(env):
    allocation, _ = create(env, ALICE, "a")
    assert allocation.device_requests(False) == []
    request = allocation.device_requests(True)[0]
    assert request["DeviceIDs"] == [allocation.slots[0].uuid] and request["Count"] in (None, 0)


def test_second_container_of_a_student_is_refused_with_the_numbers(env):
    create(env, ALICE, "a")
    with pytest.raises(ResourcesUnavailable, match=r"you hold 1 of 1 GPU slots allowed \(max_mig_instances = 1\)"):
        create(env, ALICE, "b")
    assert held(env) == {"1:2": "a._.1000"}


def test_an_error_inside_the_block_gives_the_reservation_back(env):
    with pytest.raises(RuntimeError):
        with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "a._.1000", allocator.GpuRequest(),
                               state_dir=env["state_dir"], log_dir=env["log_dir"]):
            raise RuntimeError("docker create failed")
    data = ledger.read_state(env["state_dir"])
    assert data.reservations == {} and data.assignments == {}


def test_leaving_the_block_without_confirm_gives_the_reservation_back(env):
    create(env, ALICE, "a", confirm=False)
    assert ledger.read_state(env["state_dir"]).reservations == {}


def test_cpu_only_request_takes_no_slot_and_sets_no_gpu(env):
    allocation, _ = create(env, ALICE, "a", allocator.GpuRequest(count=0, explicit=True))
    assert allocation.slots == [] and allocation.labels["ds01.gpu.slots"] == ""
    assert allocation.environment["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert held(env) == {}


def test_default_request_on_a_host_without_gpus_is_cpu_only_with_a_notice(env):
    env["config"] = SimConfig([])
    allocation, _ = create(env, ALICE, "a")
    assert allocation.slots == [] and "no GPU slots" in allocation.notice and "CPU-only" in allocation.notice


def test_explicit_gpu_request_on_a_host_without_gpus_is_exit_3_with_the_reason(env):
    env["config"] = SimConfig([{"memory": "80g", "mig": []}])
    with pytest.raises(ResourcesUnavailable, match="MIG mode with no instances") as caught:
        create(env, ALICE, "a", allocator.GpuRequest(count=1, explicit=True))
    assert caught.value.exit_code == 3


def test_container_limit_counts_cpu_only_containers_too(env):
    for name in ("a", "b", "c"):
        create(env, ALICE, name, allocator.GpuRequest(count=0))
    with pytest.raises(ResourcesUnavailable, match=r"you have 3 containers, the most allowed"):
        create(env, ALICE, "d", allocator.GpuRequest(count=0))


def test_full_server_is_exit_3_and_says_how_many_wait(env):
    for index in range(5):
        create(env, BOB, f"b{index}", limits=UNLIMITED)
    gpuqueue.join(env["state_dir"], ALICE, "w._.1000", allocator.GpuRequest(), STUDENT)
    with pytest.raises(ResourcesUnavailable, match="1 waiting in the GPU queue"):
        create(env, ALICE, "a")


def test_a_newcomer_does_not_jump_a_waiter_who_can_use_the_free_slot(env):
    for index in range(4):
        create(env, BOB, f"b{index}", limits=UNLIMITED)
    gpuqueue.join(env["state_dir"], BOB, "w._.1001", allocator.GpuRequest(), replace(UNLIMITED, priority=10))
    with pytest.raises(ResourcesUnavailable, match="1 waiting"):
        create(env, ALICE, "a", limits=replace(UNLIMITED, priority=10))
    # A higher-priority newcomer goes first.
    allocation, _ = create(env, ALICE, "a", limits=replace(UNLIMITED, priority=50))
    assert len(allocation.slots) == 1


def test_a_waiter_gets_the_slot_as_soon_as_it_is_freed(env):
    containers = [create(env, BOB, f"b{index}", limits=UNLIMITED)[1] for index in range(5)]

    def free_one_on_the_second_poll(clock):
        if len(clock.sleeps) == 2:
            containers[3].remove(force=True)

    clock = FakeClock(on_sleep=free_one_on_the_second_poll)
    allocation, _ = create(env, ALICE, "a", allocator.GpuRequest(wait=10), clock=clock)
    assert allocation.slot_ids == [containers[3].labels["ds01.gpu.slots"]]
    assert len(clock.sleeps) == 2  # served on the poll right after the slot came free
    assert gpuqueue.waiters(env["state_dir"]) == []


def test_waiting_runs_out_with_exit_3(env):
    for index in range(5):
        create(env, BOB, f"b{index}", limits=UNLIMITED)
    clock = FakeClock()
    with pytest.raises(ResourcesUnavailable, match="within 30s"):
        create(env, ALICE, "a", allocator.GpuRequest(wait=30), clock=clock)
    assert sum(clock.sleeps) == pytest.approx(30)  # polled until the deadline, not a moment longer
    assert gpuqueue.waiters(env["state_dir"]) == []


def test_quota_refusals_do_not_wait(env):
    create(env, ALICE, "a")
    clock = FakeClock()
    with pytest.raises(ResourcesUnavailable, match="max_mig_instances"):
        create(env, ALICE, "b", allocator.GpuRequest(wait=30), clock=clock)
    assert clock.sleeps == []


def test_confirm_after_a_lost_reservation_removes_the_container_and_fails(env):
    clock = FakeClock()
    with pytest.raises(ResourcesUnavailable, match="went to another container"):
        with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "slow._.1000", allocator.GpuRequest(),
                               state_dir=env["state_dir"], log_dir=env["log_dir"], clock=clock) as allocation:
            clock.advance(ledger.DEFAULT_RESERVATION_TIMEOUT + 1)  # the reservation expires; bob gets the slot
            create(env, BOB, "fast", limits=STUDENT, clock=clock)
            container = env["docker"].containers.create(name="slow._.1000",
                                                        labels={**ds01_labels("alice"), **allocation.labels})
            allocation.confirm(container.id)
    assert held(env) == {"1:2": "fast._.1001"}
    assert [item.name for item in env["docker"].containers.list(all=True)] == ["fast._.1001"]


def test_confirm_after_an_expired_reservation_still_works_if_nobody_took_the_slot(env):
    clock = FakeClock()
    with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "slow._.1000", allocator.GpuRequest(),
                           state_dir=env["state_dir"], log_dir=env["log_dir"], clock=clock) as allocation:
        clock.advance(ledger.DEFAULT_RESERVATION_TIMEOUT + 1)
        container = env["docker"].containers.create(name="slow._.1000",
                                                    labels={**ds01_labels("alice"), **allocation.labels})
        allocation.confirm(container.id)
    assert held(env) == {"1:2": "slow._.1000"}


def test_release_container_frees_the_slots_of_a_removed_container(env):
    _, container = create(env, ALICE, "a")
    assert allocator.release_container(env["docker"], "a._.1000", state_dir=env["state_dir"],
                                       log_dir=env["log_dir"]) == []  # still exists: keeps its slot
    container.remove(force=True)
    assert allocator.release_container(env["docker"], "a._.1000", state_dir=env["state_dir"],
                                       log_dir=env["log_dir"]) == ["1:2"]
    assert held(env) == {}


def test_allocations_and_releases_are_events_with_numbers(env):
    _, container = create(env, ALICE, "a")
    container.remove(force=True)
    allocator.release_container(env["docker"], "a._.1000", state_dir=env["state_dir"], log_dir=env["log_dir"])
    lines = [json.loads(line) for line in (env["log_dir"] / "events.jsonl").read_text().splitlines()]
    allocate = next(line for line in lines if line["event"] == "gpu.allocate")
    assert allocate["details"]["slots"] == ["1:2"] and allocate["details"]["held_slots"] == 1
    assert allocate["details"]["max_mig_instances"] == 1 and allocate["details"]["weight"] == round(1 / 7, 4)
    assert any(line["event"] == "gpu.release" and line["details"]["slots"] == ["1:2"] for line in lines)


def test_status_lists_every_slot_with_its_holder(env):
    create(env, ALICE, "a")
    document = allocator.status(env["docker"], env["config"], state_dir=env["state_dir"], log_dir=env["log_dir"])
    rows = {row["id"]: row for row in document["slots"]}
    assert list(rows) == ["0", "1:0", "1:1", "1:2", "1:3"]
    assert rows["1:2"]["user"] == "alice" and rows["1:2"]["since"]
    assert (rows["1:2"]["container"], rows["1:2"]["docker_name"]) == ("a", "a._.1000")  # short name, like events
    assert rows["0"]["user"] is None and rows["0"]["container"] is None and rows["0"]["docker_name"] is None
    assert set(rows["0"]) >= {"id", "gpu", "uuid", "profile", "weight", "user", "container", "docker_name"}
    assert document["queue"] == []


def test_a_create_that_raised_after_docker_made_the_container_keeps_its_slot_even_against_an_older_listing(env):
    """Bob lists containers before Alice's container exists and takes the lock after her failed
    create let go of its reservation: her container still keeps its slot, Bob gets another."""
    real_list = env["docker"].containers.list
    bob_listed, alice_done = threading.Event(), threading.Event()
    result = {}

    def listing(**kwargs):
        found = real_list(**kwargs)
        if threading.current_thread().name == "bob" and not bob_listed.is_set():
            bob_listed.set()
            alice_done.wait(10)  # Bob's listing is now older than Alice's container
        return found

    def bob():
        result["bob"] = create(env, BOB, "b")[0].slot_ids

    env["docker"].containers.list = listing
    with pytest.raises(TimeoutError):
        with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "a._.1000", allocator.GpuRequest(),
                               state_dir=env["state_dir"], log_dir=env["log_dir"]) as allocation:
            thread = threading.Thread(target=bob, name="bob")
            thread.start()
            assert bob_listed.wait(10)
            env["docker"].containers.create(name="a._.1000", labels={**ds01_labels("alice"), **allocation.labels})
            raise TimeoutError("the engine answered too late")  # a client timeout after the engine acted
    alice_done.set()
    thread.join(10)
    assert result["bob"] == ["1:3"]  # never the slot Alice's surviving container is labelled with
    assert held(env) == {"1:2": "a._.1000", "1:3": "b._.1001"}


def test_a_failed_create_whose_release_cannot_ask_docker_keeps_the_slot_reserved_until_the_process_ends(env):
    def unreachable(**_kwargs):
        raise DockerUnavailable("cannot reach the Docker engine")

    with pytest.raises(RuntimeError):
        with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "a._.1000", allocator.GpuRequest(),
                               state_dir=env["state_dir"], log_dir=env["log_dir"]):
            env["docker"].containers.list = unreachable
            raise RuntimeError("docker create failed")
    reservations = ledger.read_state(env["state_dir"]).reservations
    assert [entry.slots for entry in reservations.values()] == [["1:2"]]


def test_a_container_removed_before_its_confirm_holds_its_slot_only_until_the_next_command(env):
    clock = FakeClock()
    with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "a._.1000", allocator.GpuRequest(),
                           state_dir=env["state_dir"], log_dir=env["log_dir"], clock=clock) as allocation:
        container = env["docker"].containers.create(name="a._.1000",
                                                    labels={**ds01_labels("alice"), **allocation.labels})
        container.remove(force=True)  # someone's `docker rm -f` between create and confirm
        allocation.confirm(container.id)
    assert held(env) == {"1:2": "a._.1000"}
    clock.advance(1)  # the next command lists after the confirm
    allocation, _ = create(env, BOB, "b", clock=clock)
    assert allocation.slot_ids == ["1:2"] and held(env) == {"1:2": "b._.1001"}


def test_confirm_takes_no_listing_and_release_of_a_cpu_only_reservation_takes_none_either(env):
    create(env, ALICE, "a")
    before = env["docker"].containers.list_calls
    with allocator.reserve(env["docker"], env["config"], BOB, STUDENT, "b._.1001", allocator.GpuRequest(),
                           state_dir=env["state_dir"], log_dir=env["log_dir"]) as allocation:
        container = env["docker"].containers.create(name="b._.1001", labels={**ds01_labels("bob"),
                                                                            **allocation.labels})
        allocation.confirm(container.id)
    assert env["docker"].containers.list_calls - before == 1  # the reserve's reconcile only
    before = env["docker"].containers.list_calls
    create(env, BOB, "c", allocator.GpuRequest(count=0), confirm=False)
    assert env["docker"].containers.list_calls - before == 1


@pytest.mark.parametrize("wait", [-1.0, float("nan")])
def test_a_wait_that_is_not_a_number_of_seconds_is_a_usage_error(env, wait):
    with pytest.raises(UsageError, match="--wait takes a number of seconds") as caught:
        create(env, ALICE, "a", allocator.GpuRequest(wait=wait))
    assert caught.value.exit_code == 2
    assert ledger.read_state(env["state_dir"]).reservations == {}


def test_a_failed_create_whose_lapsed_slot_went_to_another_removes_its_container(env):
    clock = FakeClock()
    with pytest.raises(TimeoutError):
        with allocator.reserve(env["docker"], env["config"], ALICE, STUDENT, "slow._.1000", allocator.GpuRequest(),
                               state_dir=env["state_dir"], log_dir=env["log_dir"], clock=clock) as allocation:
            # The reservation lapses; bob reserves the same slot and is still creating.
            clock.advance(ledger.DEFAULT_RESERVATION_TIMEOUT + 1)
            bob = allocator.reserve(env["docker"], env["config"], BOB, STUDENT, "fast._.1001",
                                    allocator.GpuRequest(), state_dir=env["state_dir"], log_dir=env["log_dir"],
                                    clock=clock)
            assert bob.__enter__().slot_ids == allocation.slot_ids
            env["docker"].containers.create(name="slow._.1000", labels={**ds01_labels("alice"), **allocation.labels})
            raise TimeoutError("the engine answered too late, having made the container")
    assert env["docker"].containers.list(all=True) == []  # never two containers labelled with one slot
    reservations = ledger.read_state(env["state_dir"]).reservations
    assert [(entry.container, entry.slots) for entry in reservations.values()] == [("fast._.1001", ["1:2"])]
    assert held(env) == {}
    bob.__exit__(None, None, None)


def test_max_mig_instances_counts_the_slots_of_stopped_containers_too(env):
    env["docker"].containers.add("old._.1000", ds01_labels("alice", "1:0"), status="exited")
    with pytest.raises(ResourcesUnavailable, match=r"you hold 1 of 1 GPU slots allowed \(max_mig_instances = 1\)"):
        create(env, ALICE, "a")
    assert held(env) == {"1:0": "old._.1000"}


def _engine_unreachable(**_kwargs):
    raise DockerUnavailable("cannot reach the Docker engine")


def test_a_cpu_only_create_of_a_user_without_a_container_cap_takes_no_ledger_transaction(env):
    env["docker"].containers.list = _engine_unreachable  # any listing (a reconcile) would fail the create
    allocation, container = create(env, ALICE, "a", allocator.GpuRequest(count=0), limits=UNLIMITED)
    assert allocation.slots == [] and allocation.confirmed and allocation.environment["CUDA_VISIBLE_DEVICES"] == ""
    assert not (env["state_dir"] / ledger.LEDGER_FILE).exists()  # nothing locked, read or written
    assert not (env["state_dir"] / "events.jsonl").exists()


def test_a_default_request_on_a_host_without_gpus_and_without_a_cap_is_cpu_only_without_a_transaction(env):
    env["config"] = SimConfig([])
    env["docker"].containers.list = _engine_unreachable
    allocation, _container = create(env, ALICE, "a", limits=UNLIMITED)
    assert allocation.slots == [] and "CPU-only" in allocation.notice
    assert not (env["state_dir"] / ledger.LEDGER_FILE).exists()


def test_a_cpu_only_create_under_a_container_cap_still_takes_one_transaction_and_is_counted(env):
    capped = replace(UNLIMITED, max_containers_per_user=2)
    before = env["docker"].containers.list_calls
    create(env, ALICE, "a", allocator.GpuRequest(count=0), limits=capped)
    assert env["docker"].containers.list_calls - before == 1  # the reserve's reconcile; confirm lists nothing
    assert list(ledger.read_state(env["state_dir"]).recent) == ["a._.1000"]
    create(env, ALICE, "b", allocator.GpuRequest(count=0), limits=capped)
    with pytest.raises(ResourcesUnavailable, match="max_containers_per_user"):
        create(env, ALICE, "c", allocator.GpuRequest(count=0), limits=capped)


def test_a_gpu_create_without_a_container_cap_still_reserves_and_confirms_through_the_ledger(env):
    allocation, _container = create(env, ALICE, "a", limits=UNLIMITED)
    assert allocation.slot_ids and held(env) == dict.fromkeys(allocation.slot_ids, "a._.1000")


def test_the_allocator_takes_its_log_dir_from_the_caller_not_the_environment(env, tmp_path, monkeypatch):
    import inspect

    monkeypatch.setenv("DS01_LOG_DIR", str(tmp_path / "env-log"))
    create(env, ALICE, "a")
    assert (env["log_dir"] / "events.jsonl").exists() and not (tmp_path / "env-log").exists()
    for function in (allocator.reserve, allocator.release_container, allocator.status, ledger.transaction):
        assert inspect.signature(function).parameters["log_dir"].default is inspect.Parameter.empty, function
