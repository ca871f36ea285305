"""The exporter reads the ledger, the GPU queue and lifecycle.json as security.py's safe opens do
(issue 13/11): a symlink at any component of their path, planted in the state dir or standing
for it, is never followed: the file reads as empty, with a warning."""

import logging
import os

import pytest
from ds01common import config as config_module
from ds01common import gpuqueue, inventory, ledger, lifecycle
from ds01common.monitoring import snapshot
from helpers import write_config

NOW = 1_900_000_000.0


@pytest.fixture
def planted(ds01_env, tmp_path):
    """A state dir elsewhere holding a waiter, a ledger entry and an idle record: what a link would show."""
    write_config(ds01_env, {"gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}]}})
    config = config_module.load(ds01_env["config"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pid = os.getpid()
    with gpuqueue.queue_file(elsewhere).transaction() as data:
        data["waiters"] = {"t1": {"user": "i13eve", "login": "i13eve", "container": "x._.1", "limits": {},
                                  "request": {"count": 1, "full_gpu": False}, "priority": 10, "arrival": NOW - 60,
                                  "pid": pid, "pid_start": ledger.process_start_time(pid)}}
    with ledger.state_file(elsewhere).transaction() as data:
        data["assignments"] = {"0": {"user": "i13eve", "container": "x._.1", "container_id": "f" * 64,
                                     "since": "2030-01-01T00:00:00Z", "weight": 1.0}}
    with lifecycle.state_file(elsewhere).transaction() as data:
        data["containers"] = {"f" * 64: {"idle_seconds": 99}}
    return {"config": config, "inventory": inventory.discover(config), "elsewhere": elsewhere,
            "state": ds01_env["state"]}


def take(planted, state_dir):
    # The engine is down: the snapshot shows the files as read, with no reconcile from labels.
    def engine_down():
        from ds01common.errors import Ds01Error
        raise Ds01Error("cannot reach the Docker engine")

    return snapshot.collect(engine_down, planted["config"], planted["inventory"], state_dir, NOW)


def test_the_planted_files_would_show_a_waiter_and_a_held_slot(planted):
    seen = take(planted, planted["elsewhere"])
    assert seen.queue_length == 1 and [slot.user for slot in seen.slots] == ["i13eve"]


def test_links_planted_for_the_state_files_are_ignored_with_a_warning(planted, caplog):
    for name in (gpuqueue.QUEUE_FILE, ledger.LEDGER_FILE, lifecycle.STATE_FILE):
        os.symlink(planted["elsewhere"] / name, planted["state"] / name)
    with caplog.at_level(logging.WARNING, logger="ds01"):
        seen = take(planted, planted["state"])
    assert seen.queue_length == 0 and [slot.user for slot in seen.slots] == [None]
    assert sum("symlink" in record.getMessage() for record in caplog.records) == 3


def test_a_state_dir_reached_through_a_link_is_not_followed_either(planted, tmp_path, caplog):
    through = tmp_path / "through"
    os.symlink(planted["elsewhere"], through)
    with caplog.at_level(logging.WARNING, logger="ds01"):
        seen = take(planted, through)
    assert seen.queue_length == 0 and [slot.user for slot in seen.slots] == [None]
    assert sum("symlink" in record.getMessage() for record in caplog.records) == 3
