"""GPU allocation on the real engine with real processes: a 24-way race for 12 simulated slots,
a creator killed mid-create, a container removed behind DS01's back, release and the queue."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import ROOT, TEST_IMAGE, run_command, write_config

CREATOR = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, os.environ["DS01_TEST_LIB"])
    from ds01common import allocator, config, dockerapi, errors, identity, names, paths

    # Exits on SIGTERM within a second, so stopping it does not wait out Docker's grace period.
    SHELL = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    name, mode = sys.argv[1], sys.argv[2]
    wait = float(sys.argv[3]) if len(sys.argv) > 3 else None
    try:
        cfg = config.load()
        user = identity.current_user()
        docker = dockerapi.connect()
        docker_name = names.docker_name(name, user.uid)
        request = allocator.GpuRequest(count=1, explicit=True, wait=wait)
        with allocator.reserve(docker, cfg, user, cfg.limits_for(user.login), docker_name, request,
                               state_dir=paths.state_dir(), log_dir=paths.log_dir()) as allocation:
            if mode == "hang":
                print("reserved", allocation.labels["ds01.gpu.slots"], flush=True)
                time.sleep(120)
            labels = {"ds01.managed": "true", "ds01.user": user.name, "ds01.uid": str(user.uid),
                      "ds01.project": name, "ds01.created_at": "2026-01-01T00:00:00Z",
                      "ds01.workspace": os.environ["DS01_TEST_WORKSPACE"], **allocation.labels}
            with dockerapi.errors(f"container {name}"):
                container = docker.containers.create(os.environ["DS01_TEST_IMAGE"], command=SHELL,
                                                     name=docker_name, labels=labels,
                                                     environment=allocation.environment)
            allocation.confirm(container.id)
        print("created", allocation.labels["ds01.gpu.slots"], flush=True)
    except errors.Ds01Error as error:
        print(error, file=sys.stderr, flush=True)
        sys.exit(error.exit_code)
""")

UNLIMITED = {"max_mig_instances": None, "max_gpus_per_container": 1, "allow_full_gpu": True,
             "max_containers_per_user": None, "max_cpus": 1, "memory": "256m", "shm_size": "64m"}
# Other suites share the engine and label their containers with low slot ids ("0", "0:0"); every
# DS01 container on an engine is real to the ledger, so our GPUs start at a random index FIRST
# (the GPUs before it are in MIG mode with no instances and offer nothing).
FIRST = random.randrange(20, 400)
OFFSET = [{"memory": "80g", "mig": []}] * FIRST
FULL = {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}
MIG = {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]}
TWELVE_SLOTS = OFFSET + [FULL] * 8 + [MIG]
ONE_SLOT = OFFSET + [FULL]


@pytest.fixture
def alloc_env(docker_env, tmp_path):
    script = tmp_path / "creator.py"
    script.write_text(CREATOR)
    docker_env["script"] = script
    docker_env["process_env"] = {**os.environ, "DS01_TEST_LIB": str(ROOT / "lib"), "DS01_TEST_IMAGE": TEST_IMAGE,
                                 "DS01_TEST_WORKSPACE": str(docker_env["root"] / "workspaces" / "w"),
                                 "DS01_CONFIG": str(docker_env["config"]), "DS01_STATE_DIR": str(docker_env["state"]),
                                 "DS01_LOG_DIR": str(docker_env["log"])}
    return docker_env


def configure(env, gpus):
    write_config(env, {"defaults": UNLIMITED, "gpus": {"simulate": gpus}})


def spawn(env, name, mode="create", wait=None):
    args = [sys.executable, str(env["script"]), name, mode] + ([str(wait)] if wait is not None else [])
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env["process_env"])


def status(env):
    result = run_command("gpu-allocator", "status", "--json", env=env["process_env"])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["slots"]  # contract section 9, nothing more
    return {row["id"]: row for row in document["slots"]}


def mine(env):
    return [container for container in env["docker"].containers.list(all=True, filters={"label": "ds01.managed=true"})
            if container.labels.get("ds01.workspace", "").startswith(str(env["root"]))]


def test_24_processes_racing_for_12_slots_give_12_distinct_holders_and_12_exit_3(alloc_env, unique):
    configure(alloc_env, TWELVE_SLOTS)
    children = [spawn(alloc_env, f"race{unique}-{index}") for index in range(24)]
    results = [(child.wait(timeout=90), child.stderr.read()) for child in children]
    codes = sorted(code for code, _ in results)
    assert codes == [0] * 12 + [3] * 12, [result for result in results if result[0] not in (0, 3)]
    assert all("no GPU free" in err for code, err in results if code == 3)
    containers = mine(alloc_env)
    labelled = [container.labels["ds01.gpu.slots"] for container in containers]
    assert len(containers) == 12 and len(set(labelled)) == 12 and all(labelled)
    rows = status(alloc_env)
    assert all(list(row) == ["id", "gpu", "uuid", "profile", "weight", "user", "container", "docker_name"]
               for row in rows.values())
    assert {row["id"]: (row["container"], row["docker_name"]) for row in rows.values() if row["container"]} == {
        container.labels["ds01.gpu.slots"]: (container.name.split("._.")[0], container.name)
        for container in containers}


def test_a_creator_killed_between_reservation_and_create_leaves_the_slot_free(alloc_env, unique):
    configure(alloc_env, ONE_SLOT)
    child = spawn(alloc_env, f"kill{unique}", mode="hang")
    assert child.stdout.readline().startswith(f"reserved {FIRST}")
    blocked = spawn(alloc_env, f"blocked{unique}")
    assert blocked.wait(timeout=30) == 3  # the reservation holds the slot while its creator lives
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert status(alloc_env)[str(FIRST)]["user"] is None
    after = spawn(alloc_env, f"after{unique}")
    assert after.wait(timeout=30) == 0, after.stderr.read()


def test_docker_rm_behind_ds01s_back_frees_the_slot_at_the_next_command(alloc_env, unique):
    configure(alloc_env, ONE_SLOT)
    assert spawn(alloc_env, f"gone{unique}").wait(timeout=30) == 0
    assert status(alloc_env)[str(FIRST)]["container"] == f"gone{unique}"
    subprocess.run(["docker", "rm", "-f", f"gone{unique}._.{os.getuid()}"], check=True, capture_output=True)
    assert status(alloc_env)[str(FIRST)]["user"] is None


def test_release_refuses_a_running_containers_slot_without_force_and_stops_it_with_force(alloc_env, unique):
    configure(alloc_env, ONE_SLOT)
    assert spawn(alloc_env, f"run{unique}").wait(timeout=30) == 0
    container = mine(alloc_env)[0]
    container.start()
    refused = run_command("gpu-allocator", "release", str(FIRST), env=alloc_env["process_env"])
    assert refused.returncode == 1 and "stop it first" in refused.stderr and "--force" in refused.stderr
    forced = run_command("gpu-allocator", "release", str(FIRST), "--force", env=alloc_env["process_env"])
    assert forced.returncode == 0, forced.stderr
    assert "container stopped" in forced.stdout
    container.reload()
    assert container.status == "exited"
    assert status(alloc_env)[str(FIRST)]["user"] is None  # its labels do not bring the slot back
    # The freed slot may be someone else's by now: starting it again would share one GPU.
    restarted = run_command("container-start", f"run{unique}", env=alloc_env["process_env"])
    assert restarted.returncode == 3 and "container-retire" in restarted.stderr, restarted.stderr
    container.reload()
    assert container.status == "exited"


def test_a_waiter_is_listed_with_its_position_and_can_cancel(alloc_env, unique):
    configure(alloc_env, ONE_SLOT)
    assert spawn(alloc_env, f"holder{unique}").wait(timeout=30) == 0
    waiter = spawn(alloc_env, f"waiter{unique}", wait=60)
    deadline = time.monotonic() + 20
    queue = []
    while time.monotonic() < deadline and not queue:
        listed = run_command("gpu-queue", "--json", env=alloc_env["process_env"])
        queue = json.loads(listed.stdout)
        time.sleep(0.2)
    assert [(row["position"], row["container"]) for row in queue] == [(1, f"waiter{unique}")]
    refused = spawn(alloc_env, f"late{unique}")
    assert refused.wait(timeout=30) == 3 and "1 waiting" in refused.stderr.read()
    cancelled = run_command("gpu-queue", "cancel", env=alloc_env["process_env"])
    assert cancelled.returncode == 0, cancelled.stderr
    assert waiter.wait(timeout=10) == 3
    assert "cancelled" in waiter.stderr.read()


def test_gpu_status_shows_gpus_slots_owners_and_usage_against_quota(alloc_env, unique):
    write_config(alloc_env, {"defaults": dict(UNLIMITED, max_mig_instances=50),
                             "gpus": {"simulate": OFFSET + [FULL, MIG]}})
    assert spawn(alloc_env, f"st{unique}").wait(timeout=30) == 0
    result = run_command("gpu-status", env=alloc_env["process_env"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"GPU {FIRST}  NVIDIA A100-SXM4-80GB  80g  full GPU (simulated)" in text
    assert f"GPU {FIRST + 1}  NVIDIA A100-SXM4-80GB  80g  MIG (simulated)" in text
    holder = next(line for line in text.splitlines() if f"st{unique}" in line)
    assert holder.split()[:2] == [f"{FIRST + 1}:2", "1g.10gb"]
    assert "1 of 5 slots in use" in text
    import pwd
    me = pwd.getpwuid(os.getuid()).pw_name
    usage = next(line for line in text.splitlines() if line.startswith(me + " ")).split()
    # Other suites' containers of this user may hold slots too; the quota column is ours.
    assert usage[1].endswith("/50") and int(usage[1].split("/")[0]) >= 1 and usage[-1].endswith("/-")
    reconcile = run_command("gpu-allocator", "reconcile", env=alloc_env["process_env"])
    assert reconcile.returncode == 0 and "ledger already matches Docker" in reconcile.stdout
