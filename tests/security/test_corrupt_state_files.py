"""Attack (and accident): a state file of the wrong shape (binary, a directory, deeply nested,
NaN, wrong types, a link) was never rebuilt: every command and cron failed until someone
deleted it. Each is now set aside with a warning and rebuilt; the next command succeeds."""

import json
import os
import shutil

import pytest
from attack_site import IMAGE, as_user, ds01, fingerprint, remove_containers_of
from ds01common import gpuqueue
from ds01common.identity import lookup_user
from ds01common.records import Limits

FILES = {"gpu-state.json": "assignments", "gpu-queue.json": "waiters", "lifecycle.json": "containers"}
SHAPES = ("binary", "directory", "nested", "nan", "wrong types", "wrong entry types", "link")


def plant(site, name, shape):
    """mallory (docker group: the state dir is writable to her) leaves `name` in `shape`."""
    path = site["state"] / name
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    table = FILES[name]
    contents = {"binary": "printf '\\377\\376\\000\\001binary'", "nested": "python3 -c \"print('[' * 200000)\"",
                "nan": f"echo '{{\"schema_version\": 1, \"{table}\": {{\"x\": {{\"time\": NaN}}}}}}'",
                "wrong types": f"echo '{{\"schema_version\": 1, \"{table}\": [1, 2, 3]}}'",
                "wrong entry types": f"echo '{{\"schema_version\": 1, \"{table}\": {{\"a\": 5, \"b\": \"x\"}}}}'"}
    if shape == "directory":
        script = f"mkdir '{path}'"
    elif shape == "link":
        script = f"ln -s '{site['secret']}' '{path}'"
    else:
        script = f"{contents[shape]} > '{path}'"
    result = as_user(site, "mallory", script)
    assert result.returncode == 0, result.stderr
    return path


def next_command(site, name, tmp_path):
    if name == "gpu-state.json":
        result = ds01(site, "mallory", "container-create", "after", "--cpu-only", "--image", IMAGE)
        remove_containers_of(site, "mallory")
    elif name == "lifecycle.json":
        result = ds01(site, "root", "cleanup-idle-containers", "--workspace-under", tmp_path)
    else:
        result = ds01(site, "mallory", "gpu-queue")
        # the next write of the queue (a waiting create) rebuilds it
        user = lookup_user(site["mallory"].pw_name)
        limits = Limits(max_mig_instances=1, max_gpus_per_container=1, max_gpu_equivalents=None,
                        allow_full_gpu=False, max_containers_per_user=3, priority=10)
        entry = gpuqueue.join(site["state"], user, "q._.1", request_like(), limits)
        gpuqueue.leave(site["state"], entry.token)
    return result


def request_like():
    from ds01common.allocator import GpuRequest

    return GpuRequest(count=1, full_gpu=False, explicit=True)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_corrupt_shape_is_set_aside_and_rebuilt_and_the_next_command_succeeds(site, name, tmp_path):
    before = fingerprint(site["secret"])
    for shape in SHAPES:
        path = plant(site, name, shape)
        result = next_command(site, name, tmp_path)
        assert result.returncode == 0, (shape, result.stderr)
        assert "Traceback" not in result.stderr
        assert os.path.isfile(path) and not os.path.islink(path), shape
        document = json.loads(path.read_text())
        assert isinstance(document[FILES[name]], dict), shape
        assert fingerprint(site["secret"]) == before, shape
    kept = [entry for entry in os.listdir(site["state"]) if entry.startswith(f"{name}.corrupt-")]
    assert len(kept) >= len(SHAPES) - 1  # every shape but the bad-entries one was kept aside
