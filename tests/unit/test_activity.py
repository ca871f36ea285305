"""Measuring activity: container ids from cgroups, CPU % from stats, GPU use per container."""

import os
import time

from ds01common import activity
from fakes.engine import FakeEngine

CID = "a" * 64
OTHER = "b" * 64


def test_a_cgroup_v1_docker_path_names_the_container():
    text = f"12:memory:/docker/{CID}\n11:cpu,cpuacct:/docker/{CID}\n0::/\n"
    assert activity.container_id_from_cgroup(text) == CID


def test_a_cgroup_v2_systemd_scope_names_the_container():
    assert activity.container_id_from_cgroup(f"0::/system.slice/docker-{CID}.scope\n") == CID


def test_a_container_under_a_ds01_slice_is_still_found():
    text = f"0::/ds01.slice/ds01-student.slice/ds01-student-alice.slice/docker-{CID}.scope/init\n"
    assert activity.container_id_from_cgroup(text) == CID


def test_a_host_process_belongs_to_no_container():
    assert activity.container_id_from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n") is None
    assert activity.container_id_from_cgroup("4:memory:/process_api/be675afe71bf\n") is None


def _proc(tmp_path, pid, cgroup_text):
    directory = tmp_path / str(pid)
    directory.mkdir()
    (directory / "cgroup").write_text(cgroup_text)


def test_gpu_processes_are_summed_per_container_and_host_processes_ignored(tmp_path):
    _proc(tmp_path, 10, f"0::/docker/{CID}\n")
    _proc(tmp_path, 11, f"0::/docker/{CID}\n")
    _proc(tmp_path, 12, "0::/user.slice\n")
    _proc(tmp_path, 13, f"0::/system.slice/docker-{OTHER}.scope\n")
    processes = [{"pid": 10, "used_memory": 100, "gpu_uuid": "GPU-1"},
                 {"pid": 11, "used_memory": 50, "gpu_uuid": "MIG-2"},
                 {"pid": 12, "used_memory": 9999, "gpu_uuid": "GPU-1"},
                 {"pid": 13, "used_memory": 7, "gpu_uuid": "GPU-3"},
                 {"pid": 99, "used_memory": 5, "gpu_uuid": "GPU-1"}]  # exited meanwhile
    usage = activity.gpu_use_by_container(processes, proc_root=tmp_path)
    assert set(usage) == {CID, OTHER}
    assert usage[CID]["memory"] == 150 and usage[CID]["gpus"] == {"GPU-1", "MIG-2"}
    assert usage[OTHER]["memory"] == 7


def test_cpu_percent_is_docker_stats_arithmetic_one_core_is_100():
    before = {"cpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": 4}}
    after = {"cpu_stats": {"cpu_usage": {"total_usage": 250}, "system_cpu_usage": 1000, "online_cpus": 4}}
    assert activity.cpu_percent(before, after) == 100.0


def test_cpu_percent_without_a_system_delta_is_unknown():
    frame = {"cpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 10, "online_cpus": 2}}
    assert activity.cpu_percent(frame, frame) is None
    assert activity.cpu_percent({}, frame) is None


def test_docker_times_parse_with_nanoseconds_and_the_zero_time_is_none():
    assert activity.parse_docker_time("2026-11-22T21:28:03.123456789Z") == 1795382883.123456
    assert activity.parse_docker_time("0001-01-01T00:00:00Z") is None
    assert activity.iso(1795382883.4) == "2026-11-22T21:28:03Z"


def test_all_running_containers_are_sampled_at_once_and_a_failure_is_skipped():
    docker = FakeEngine()
    busy = docker.api.add("busy._.1", {"ds01.managed": "true"}, cpu=150.0)
    idle = docker.api.add("idle._.1", {"ds01.managed": "true"}, cpu=0.0)
    broken = docker.api.add("broken._.1", {"ds01.managed": "true"})
    docker.api.failing_stats.add(broken)
    result = activity.sample_cpu(docker, [busy, idle, broken], sample_seconds=1.0)
    assert result == {busy: 150.0, idle: 0.0}
    assert all(stream is False for _, stream, _ in docker.api.stats_calls)


def test_a_longer_sample_takes_two_one_shot_rounds():
    docker = FakeEngine()
    cid = docker.api.add("c._.1", {"ds01.managed": "true"})
    activity.sample_cpu(docker, [cid], sample_seconds=1.05)
    assert [call[2] for call in docker.api.stats_calls] == [True, True]


def test_observe_sees_only_ds01_containers_with_their_labels_times_and_keep_alive(tmp_path):
    docker = FakeEngine()
    workspace = tmp_path / "proj"
    workspace.mkdir()
    (workspace / ".keep-alive").touch()
    now = time.time()
    labels = {"ds01.managed": "true", "ds01.user": "alice", "ds01.uid": "1001", "ds01.workspace": str(workspace),
              "ds01.gpu.slots": "1:0,1:1"}
    docker.api.add("proj._.1001", labels, created=now - 100, started=now - 90, cpu=3.0)
    docker.api.add("foreign", {"ds01.user": "alice"}, cpu=50.0)
    docker.api.add("stopped._.1001", dict(labels, **{"ds01.gpu.slots": ""}), status="exited",
                   created=now - 100, started=now - 90, finished=now - 50)
    seen = {o.name: o for o in activity.observe(docker, gpu_processes=list)}
    assert set(seen) == {"proj", "stopped"}
    running = seen["proj"]
    assert running.user == "alice" and running.uid == 1001 and running.gpu_slots == ["1:0", "1:1"]
    assert running.cpu_percent == 3.0 and abs(running.started - (now - 90)) < 1
    assert abs(running.keep_alive - os.stat(workspace / ".keep-alive").st_mtime) < 0.01
    assert seen["stopped"].cpu_percent is None and abs(seen["stopped"].finished - (now - 50)) < 1


def test_observe_can_be_limited_to_workspaces_under_a_directory(tmp_path):
    docker = FakeEngine()
    docker.api.add("in._.1", {"ds01.managed": "true", "ds01.workspace": str(tmp_path / "a" / "p")})
    docker.api.add("out._.1", {"ds01.managed": "true", "ds01.workspace": str(tmp_path / "ab")})
    seen = activity.observe(docker, gpu_processes=list, workspace_under=str(tmp_path / "a"))
    assert [o.name for o in seen] == ["in"]


def test_whole_gpu_utilisation_is_read_only_for_containers_with_gpu_processes(tmp_path):
    docker = FakeEngine()
    cid = docker.api.add("g._.1", {"ds01.managed": "true", "ds01.gpu.slots": "0"})
    docker.api.add("h._.1", {"ds01.managed": "true", "ds01.gpu.slots": "1"})
    _proc(tmp_path, 40, f"0::/docker/{cid}\n")
    asked = []

    def utilisation(index):
        asked.append(index)
        return 80.0

    seen = {o.name: o for o in activity.observe(
        docker, gpu_processes=lambda: [{"pid": 40, "used_memory": 1 << 20, "gpu_uuid": "GPU-0"}],
        gpu_utilization=utilisation, proc_root=tmp_path)}
    assert seen["g"].gpu_memory == 1 << 20 and seen["g"].gpu_utilization == 80.0
    assert seen["h"].gpu_utilization is None and asked == [0]
