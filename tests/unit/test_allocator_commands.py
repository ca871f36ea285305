"""The GPU commands' permission checks and answers that need no Docker engine."""

import os

import pytest
import yaml
from helpers import run_command


@pytest.fixture
def open_env(shared_root, unique):
    """Config, state and log dirs that another Linux user can read and write."""
    if os.getuid() != 0:
        pytest.skip("running a command as another user needs root")
    root = shared_root / f"gpucmd-{unique}"
    for directory in (root, root / "state", root / "log"):
        directory.mkdir()
        directory.chmod(0o777)
    config = root / "resource-limits.yaml"
    config.write_text(yaml.safe_dump({"gpus": {"simulate": [{"memory": "80g"}]}}))
    config.chmod(0o644)
    return {"DS01_CONFIG": config, "DS01_STATE_DIR": root / "state", "DS01_LOG_DIR": root / "log",
            "DOCKER_HOST": "unix:///nonexistent.sock"}


def test_release_by_a_non_admin_is_permission_denied_exit_4(open_env):
    result = run_command("gpu-allocator", "release", "0", env=open_env, user="nobody")
    assert result.returncode == 4, result.stderr
    assert "permission denied" in result.stderr and "ds01-admin" in result.stderr


def test_queue_listing_with_nobody_waiting_says_so(open_env):
    result = run_command("gpu-queue", env=open_env, user="nobody")
    assert result.returncode == 0, result.stderr
    assert "Nobody is waiting" in result.stdout


def test_cancelling_without_a_queue_entry_is_exit_1_with_a_clear_line(open_env):
    result = run_command("gpu-queue", "cancel", env=open_env, user="nobody")
    assert result.returncode == 1 and "no entry in the GPU queue" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_without_docker_is_one_clear_line(open_env):
    result = run_command("gpu-allocator", "status", env=open_env)
    assert result.returncode == 1 and "cannot reach the Docker engine" in result.stderr


def test_releasing_something_that_is_not_a_slot_id_is_exit_1_naming_the_forms_allowed(open_env):
    result = run_command("gpu-allocator", "release", "../0", env=open_env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == ("gpu-allocator: '../0' is not a GPU slot id: use a GPU index (\"0\") "
                                     "or GPU:MIG (\"1:0\")")


def test_the_contract_status_and_totals_come_from_the_slot_rows():
    from ds01common import allocator_admin

    document = {"slots": [
        {"id": "0", "gpu": 0, "uuid": "GPU-a", "profile": None, "weight": 1.0, "user": "alice",
         "container": "train", "docker_name": "train._.1001", "since": "x", "state": "assigned"},
        {"id": "1:0", "gpu": 1, "uuid": "MIG-b", "profile": "3g.40gb", "weight": 3 / 7, "user": None,
         "container": None, "docker_name": None, "since": None, "state": None}]}
    status = allocator_admin.contract_status(document)
    assert status == {"slots": [
        {"id": "0", "gpu": 0, "uuid": "GPU-a", "profile": None, "weight": 1.0, "user": "alice", "container": "train",
         "docker_name": "train._.1001"},
        {"id": "1:0", "gpu": 1, "uuid": "MIG-b", "profile": "3g.40gb", "weight": 3 / 7, "user": None,
         "container": None, "docker_name": None}]}
    assert allocator_admin.totals(document) == (1, 2, 1.0, 1.0 + 3 / 7)
