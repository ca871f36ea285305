"""The cleanup pass on the real engine with timeouts of a few seconds: idle, busy and
keep-alive containers, --dry-run, warnings, max_runtime, GPU hold, never started, exemptions.

Every pass is limited to this test's workspaces (--workspace-under) so containers of tests
running beside it are never touched."""

import json
import time

import pytest
from ds01common import activity, allocator, containers, events, identity, lifecycle
from ds01common import config as config_module
from helpers import run_command, write_config

IMAGE = "ds01-test/busybox:latest"


def configure(env, defaults=None, lifecycle_section=None, simulate=False):
    # No container or slot quota: tests beside this one create root's containers on the same engine.
    base = {"max_mig_instances": None, "max_gpus_per_container": 1, "max_cpus": 1, "memory": "256m",
            "shm_size": "16m", "pids_limit": 128, "max_containers_per_user": None,
            "idle_timeout": None, "max_runtime": None, "gpu_hold_after_stop": None}
    overrides = {"defaults": dict(base, **(defaults or {})), "groups": {"student": {"members": []}},
                 "lifecycle": dict({"stats_sample_seconds": 0.5}, **(lifecycle_section or {}))}
    if simulate:
        overrides["gpus"] = {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g",
                                           "mig": ["1g.10gb"] * 7}]}
    write_config(env, overrides)
    return config_module.load(env["config"])


def launch(env, config, name, start=True, **options):
    user = identity.current_user()
    options.setdefault("cpu_only", True)
    created = containers.create(env["docker"], config, user, name, image=IMAGE, state_dir=env["state"],
                                log_dir=env["log"], **options)
    if start:
        containers.start(env["docker"], user, name, state_dir=env["state"], log_dir=env["log"])
    return created


def exists(env, created):
    return bool(env["docker"].api.containers(all=True, filters={"id": created["id"]}))


def cleanup_command(env, *args):
    return run_command("cleanup-idle-containers", "--workspace-under", env["workspace_root"], *args, timeout=60)


def lifecycle_events(env):
    return [entry for entry in events.read(env["log"])
            if entry.event.startswith("lifecycle.")]


def holder_of(env, config, slot_id):
    document = allocator.status(env["docker"], config, state_dir=env["state"], log_dir=env["log"])
    (slot,) = [slot for slot in document["slots"]
               if slot["id"] == slot_id]
    return slot["docker_name"]


def passes(env, config, **options):
    return lifecycle.run_pass(env["docker"], config, state_dir=env["state"], log_dir=env["log"],
                              workspace_under=str(env["workspace_root"]), **options)


def started_at(env, created):
    state = env["docker"].api.inspect_container(created["id"])["State"]
    return activity.parse_docker_time(state["StartedAt"])


@pytest.fixture
def lookalike(docker_env, unique):
    """An idle running container with DS01's labels except ds01.managed=true (a hand-made one)."""
    workspace = docker_env["workspace_root"] / f"hand-{unique}"
    workspace.mkdir(parents=True)
    container = docker_env["docker"].containers.run(
        IMAGE, ["sleep", "300"], name=f"hand-{unique}._.0", detach=True,
        labels={"ds01.user": "root", "ds01.uid": "0", "ds01.project": f"hand-{unique}",
                "ds01.workspace": str(workspace), "ds01.gpu.slots": ""})
    yield container
    container.remove(force=True)


def test_idle_is_warned_then_retired_while_busy_and_keep_alive_stay(docker_env, unique, lookalike):
    env = docker_env
    config = configure(env, {"idle_timeout": "10s"}, {"idle_warn_fraction": 0.3})
    idle = launch(env, config, f"idle-{unique}")
    busy = launch(env, config, f"busy-{unique}")
    kept = launch(env, config, f"kept-{unique}")
    env["docker"].containers.get(busy["id"]).exec_run(["sh", "-c", "while :; do :; done"], detach=True)
    last_start = max(started_at(env, created) for created in (idle, busy, kept))

    # The warning pass judges as at 4 s after the last start (each idle 4-10 s, whatever the load).
    first = passes(env, config, now=last_start + 4)
    warned = {action["container"] for action in first["actions"] if action["action"] == "warn"}
    assert warned == {idle["name"], kept["name"]}, first
    assert [entry.event for entry in lifecycle_events(env)] == ["lifecycle.idle_warning", "lifecycle.idle_warning"]
    assert "retired after 10s idle" in (env["workspace_root"] / idle["name"] / ".ds01-alerts").read_text()

    time.sleep(max(0.0, last_start + 10.5 - time.time()))
    (env["workspace_root"] / kept["name"] / ".keep-alive").touch()
    state_before = (env["state"] / "lifecycle.json").read_text()
    events_before = events.read(env["log"])
    alerts = env["workspace_root"] / idle["name"] / ".ds01-alerts"
    alerts_before = alerts.read_text()
    dry = cleanup_command(env, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would retire root/{idle['name']} [idle]" in dry.stdout
    # kept may be warned again (idle a few seconds since the touch on a loaded machine), never retired.
    assert f"root/{busy['name']}" not in dry.stdout and f"retire root/{kept['name']}" not in dry.stdout, dry.stdout
    assert exists(env, idle)
    assert (env["state"] / "lifecycle.json").read_text() == state_before
    assert events.read(env["log"]) == events_before and alerts.read_text() == alerts_before

    (env["workspace_root"] / kept["name"] / ".keep-alive").touch()  # fresh again: the dry run took seconds
    real = cleanup_command(env)
    assert real.returncode == 0, real.stderr
    assert f"retired root/{idle['name']} [idle]" in real.stdout
    assert not exists(env, idle) and exists(env, busy) and exists(env, kept)
    # Never a container DS01 did not create, however idle.
    lookalike.reload()
    assert lookalike.status == "running" and lookalike.name not in dry.stdout + real.stdout
    assert all(line[:4].isdigit() and "\x1b" not in line for line in real.stdout.splitlines()), real.stdout
    assert (env["workspace_root"] / idle["name"]).is_dir()
    (retired,) = [entry for entry in lifecycle_events(env) if entry.event == "lifecycle.retire"]
    assert retired.details["container"] == idle["name"] and retired.details["reason"] == "idle"
    assert retired.details["idle_seconds"] >= 10 and retired.details["threshold_seconds"] == 10
    assert retired.details["cpu_percent"] < 2
    state = json.loads((env["state"] / "lifecycle.json").read_text())["containers"]
    assert state[busy["id"]]["cpu_percent"] > 2 and idle["id"] not in state


def test_max_runtime_warns_then_retires_even_a_busy_container(docker_env, unique):
    env = docker_env
    config = configure(env, {"max_runtime": "60s"}, {"runtime_warn_fractions": [0.5]})
    long_run = launch(env, config, f"long-{unique}")
    env["docker"].containers.get(long_run["id"]).exec_run(["sh", "-c", "while :; do :; done"], detach=True)
    start = started_at(env, long_run)
    first = passes(env, config, now=start + 35)
    assert [(a["action"], a["reason"]) for a in first["actions"]] == [("warn", "max_runtime")]
    assert passes(env, config, now=start + 40)["actions"] == []
    second = passes(env, config, now=start + 61)
    assert [(a["action"], a["reason"]) for a in second["actions"]] == [("retire", "max_runtime")]
    assert not exists(env, long_run)
    assert [entry.event for entry in lifecycle_events(env)] == ["lifecycle.runtime_warning", "lifecycle.retire"]
    assert lifecycle_events(env)[1].details["runtime_seconds"] == 61
    assert lifecycle_events(env)[1].details["cpu_percent"] > 2


def test_a_stopped_gpu_holder_frees_its_slot_after_the_hold_and_a_never_started_one_goes(docker_env, unique):
    env = docker_env
    config = configure(env, {"gpu_hold_after_stop": "30s"}, {"never_started_timeout": "30s"}, simulate=True)
    holder = launch(env, config, f"hold-{unique}", cpu_only=False, gpus=1)
    (slot_id,) = holder["gpus"]
    containers.stop(env["docker"], identity.current_user(), holder["name"], log_dir=env["log"])
    never = launch(env, config, f"never-{unique}", start=False)
    assert holder_of(env, config, slot_id) == holder["docker_name"]
    assert_ds01_status_is_a_superset_of_gpu_status(holder, slot_id)
    early = passes(env, config)
    assert early["actions"] == [] and exists(env, holder)
    report = passes(env, config, now=time.time() + 31)
    assert sorted((a["container"], a["reason"]) for a in report["actions"]) == [
        (holder["name"], "gpu_hold"), (never["name"], "never_started")]
    assert not exists(env, holder) and not exists(env, never)
    assert holder_of(env, config, slot_id) != holder["docker_name"]
    assert (env["workspace_root"] / holder["name"]).is_dir()
    assert sorted(entry.details["reason"] for entry in lifecycle_events(env)) == ["gpu_hold", "never_started"]
    released = [entry.details["slots"] for entry in events.read(env["log"])
                if entry.event == "gpu.release" and entry.details["container"] == holder["name"]]  # short name
    assert released == [[slot_id]]


def assert_ds01_status_is_a_superset_of_gpu_status(holder, slot_id):
    status, gpu = (run_command(command, "--json") for command in ("ds01-status", "gpu-status"))
    assert status.returncode == 0 and gpu.returncode == 0, status.stderr + gpu.stderr
    status, gpu = json.loads(status.stdout), json.loads(gpu.stdout)
    assert set(gpu) <= set(status) and status["gpus"] == gpu["gpus"] and status["reason"] == gpu["reason"]
    assert [row["id"] for row in status["slots"]] == [row["id"] for row in gpu["slots"]]
    (row,) = [row for row in status["slots"] if row["id"] == slot_id]
    assert row in gpu["slots"] and row["container_status"] == "exited"
    assert (row["container"], row["docker_name"]) == (holder["name"], holder["docker_name"])  # short name, like events
    (mine,) = [user for user in status["users"] if user["user"] == "root"]
    assert mine["slots"] >= 1 and set(gpu["users"][0]) < set(mine)
    (container,) = [item for item in status["containers"] if item["name"] == holder["name"]]
    assert container["gpus"] == [slot_id] and container["status"] == "exited"
    text = run_command("ds01-status").stdout
    assert "NVIDIA A100-SXM4-80GB" in text and f"{holder['name']} (exited)" in text


def test_an_exempt_user_is_kept_and_told_once(docker_env, unique):
    env = docker_env
    config = configure(env, {"idle_timeout": "2s"}, {"exemptions": [
        {"user": "root", "what": "idle", "until": "2099-12-31", "reason": "benchmark week"}]})
    kept = launch(env, config, f"exempt-{unique}")
    first = passes(env, config, now=time.time() + 5)
    second = passes(env, config, now=time.time() + 10)
    assert [(a["action"], a["reason"]) for a in first["actions"]] == [("exempt", "idle")]
    assert second["actions"] == [] and exists(env, kept)
    assert [entry.event for entry in lifecycle_events(env)] == ["lifecycle.exempt"]
    alerts = (env["workspace_root"] / kept["name"] / ".ds01-alerts").read_text().splitlines()
    assert len(alerts) == 1 and "benchmark week" in alerts[0]
