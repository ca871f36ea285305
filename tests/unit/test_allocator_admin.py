"""allocator_admin: the GPU status document behind gpu-status, gpu-allocator status and ds01-status."""

import json
import os

from ds01common import allocator_admin, gpuqueue
from ds01common.ledger import process_start_time
from fakes.engine import FakeEngine
from fakes.fake_config import SimConfig

ONE_GPU = [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}]


def _queue_entry_without_arrival(state_dir):
    """A waiter as an older DS01 or a hand edit leaves it: everything but `arrival`."""
    pid = os.getpid()
    with gpuqueue.queue_file(state_dir).transaction() as data:
        data["waiters"] = {"abc123": {"user": "alice", "login": "alice", "container": "train._.1000",
                                      "request": {"count": 1, "full_gpu": False}, "limits": {},
                                      "priority": 10, "pid": pid, "pid_start": process_start_time(pid)}}


def test_status_with_a_waiter_without_arrival_time_shows_its_since_as_unknown(tmp_path):
    _queue_entry_without_arrival(tmp_path)
    document = allocator_admin.status(FakeEngine(), SimConfig(ONE_GPU), state_dir=tmp_path, log_dir=tmp_path)
    assert [(row["user"], row["container"], row["docker_name"], row["since"]) for row in document["queue"]] == \
        [("alice", "train", "train._.1000", None)]


def test_status_gives_a_waiter_its_arrival_as_utc_time(tmp_path):
    _queue_entry_without_arrival(tmp_path)
    with gpuqueue.queue_file(tmp_path).transaction() as data:
        data["waiters"]["abc123"]["arrival"] = 1_800_000_000.0
    document = allocator_admin.status(FakeEngine(), SimConfig(ONE_GPU), state_dir=tmp_path, log_dir=tmp_path)
    assert document["queue"][0]["since"] == "2027-01-15T08:00:00Z"


def test_queue_listing_with_a_waiter_without_arrival_time_shows_its_since_as_unknown(tmp_path):
    _queue_entry_without_arrival(tmp_path)
    assert [(row["id"], row["since"]) for row in gpuqueue.listing(tmp_path)] == [("abc123", None)]


def test_gpu_status_gpu_allocator_status_and_ds01_status_show_a_waiter_without_arrival(ds01_env):
    """The crash this guards against: a waiter without `arrival` made all three 'unexpected error'."""
    from helpers import run_command, write_config

    write_config(ds01_env, {"gpus": {"simulate": ONE_GPU}})
    _queue_entry_without_arrival(ds01_env["state"])
    for command in (("gpu-status",), ("gpu-status", "--json"), ("gpu-allocator", "status"), ("ds01-status",)):
        result = run_command(*command)
        assert result.returncode == 0, (command, result.stderr)
        assert "unexpected error" not in result.stderr
    assert json.loads(run_command("gpu-status", "--json").stdout)["queue"][0]["since"] is None
