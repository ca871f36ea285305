"""The daily loop for a whole lab at once (issue 9), as real Linux users through the installed
commands on the real engine: everyone's `my-thesis`, names that are each user's own,
queueing with --wait, and deploying a project image's tag on the project's own files.

The tests run in file order and share one site: three users launch, wait, retire."""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, remove_users_docker_objects, run_command

BASE = "ds01-test/busybox:latest"
# Three MIG slots fill the host. They sit on simulated GPU 5: other test sites on this engine
# simulate GPUs 0.. and their labelled containers are seen by every ledger; whole GPUs 0-4 are
# never given to these users (allow_full_gpu is false).
FULL = {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}
GPUS = [FULL] * 5 + [dict(FULL, mig=["1g.10gb", "1g.10gb", "1g.10gb"])]


@pytest.fixture(scope="module")
def site(shared_root, linux_users, docker_client):
    """Its own `make install` with this site's config, state and log dirs baked in (an installed
    DS01 takes no DS01_* locations from a user's environment), and three real users."""
    root = shared_root / "daily-loop-site"
    shutil.rmtree(root, ignore_errors=True)
    layout = {"PREFIX": root / "prefix", "CONFDIR": root / "etc", "STATEDIR": root / "state", "LOGDIR": root / "log",
              "CRONDIR": root / "cron.d", "LOGROTATEDIR": root / "logrotate.d", "SYSTEMDDIR": root / "systemd",
              "SUDOERSDIR": root / "sudoers.d"}
    users = {short: linux_users(f"i9a-{short}") for short in ("ann", "ben", "cal")}
    config = {
        "default_group": "student", "admin_group": "ds01-admin", "workspace_root": "~/workspace",
        "defaults": {"max_cpus": 1, "memory": "256m", "shm_size": "32m", "pids_limit": 128,
                     "max_containers_per_user": 4, "max_mig_instances": 2},
        "groups": {"student": {"members": []}},
        "images": {"base": BASE, "default": BASE, "frameworks": {"busybox-1.36": BASE}},
        "gpus": {"simulate": GPUS},
    }
    layout["CONFDIR"].mkdir(parents=True)
    (layout["CONFDIR"] / "resource-limits.yaml").write_text(yaml.safe_dump(config))
    made = subprocess.run(["make", "-s", "install"] + [f"{key}={value}" for key, value in layout.items()],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    (layout["CONFDIR"] / "resource-limits.yaml").chmod(0o644)
    env = {"DS01_CONFIG": layout["CONFDIR"] / "resource-limits.yaml", "DS01_STATE_DIR": layout["STATEDIR"],
           "DS01_LOG_DIR": layout["LOGDIR"]}  # the same places, for root's commands
    yield {"env": env, "bin": layout["PREFIX"] / "bin", "docker": docker_client, "config": config, **users}
    logins = {user.pw_name for user in users.values()}
    remove_users_docker_objects(docker_client, logins)


def ds01(site, who, command, *args):
    return run_command(command, *args, user=site[who].pw_name, bin_dir=site["bin"], env=site["env"], timeout=120)


def started(site, who, command, *args):
    """A command left running (one that waits in the GPU queue)."""
    environment = {**__import__("os").environ, **{key: str(value) for key, value in site["env"].items()}}
    return subprocess.Popen(["runuser", "-u", site[who].pw_name, "--", str(site["bin"] / command), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def container_of(site, who, name):
    return site["docker"].containers.get(f"{name}._.{site[who].pw_uid}")


def queue_length(site):
    listed = run_command("gpu-queue", "--json", bin_dir=site["bin"], env=site["env"])
    return len(json.loads(listed.stdout))


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_three_students_each_init_and_launch_their_own_my_thesis(site):
    for who in ("ann", "ben", "cal"):
        ok(ds01(site, who, "project-init", "my-thesis", "--template", "custom", "--no-git"))
        launched = ok(ds01(site, who, "project-launch", "my-thesis", "--background"))
        assert "is simulated" in launched and "DS01_GPU_SIMULATED=1" in launched
    slots = set()
    for who in ("ann", "ben", "cal"):
        container = container_of(site, who, "my-thesis")
        workspace = Path(site[who].pw_dir) / "workspace" / "my-thesis"
        assert container.status == "running" and container.labels["ds01.user"] == site[who].pw_name
        assert container.labels["ds01.workspace"] == str(workspace) and workspace.is_dir()
        slots.add(container.labels["ds01.gpu.slots"])
        inside = ok(ds01(site, who, "container-run", "my-thesis", "--", "sh", "-c", "id -u; echo $DS01_GPU_SIMULATED"))
        assert inside.split()[:2] == [str(site[who].pw_uid), "1"]
    assert slots == {"5:0", "5:1", "5:2"}
    listed = json.loads(ds01(site, "ann", "container-list", "--json").stdout)
    assert [(item["name"], item["user"]) for item in listed] == [("my-thesis", site["ann"].pw_name)]


def test_the_same_name_means_each_users_own_on_every_command(site):
    for who in ("ann", "ben"):
        stats = json.loads(ok(ds01(site, who, "container-stats", "my-thesis", "--json")).strip())
        assert [(item["name"], item["user"]) for item in stats] == [("my-thesis", site[who].pw_name)]
    ok(ds01(site, "ben", "container-create", "only-ben", "--cpu-only", "--image", BASE))


# (command, arguments after NAME): every command that takes a container NAME.
NAME_COMMANDS = [
    ("container-start", ()), ("container-stop", ()), ("container-run", ("--", "true")), ("container-attach", ()),
    ("container-stats", ()), ("container-remove", ("--yes", "--force")), ("container-retire", ("--yes",)),
    ("container-jupyter", ()), ("mlc-open", ()), ("mlc-start", ()), ("mlc-stop", ()), ("mlc-stats", ()),
    ("mlc-remove", ("--yes",)),
]


@pytest.mark.parametrize(("command", "args"), NAME_COMMANDS, ids=[entry[0] for entry in NAME_COMMANDS])
def test_another_users_name_is_not_found_and_their_docker_name_is_permission_denied(site, command, args):
    unseen = ds01(site, "ann", command, "only-ben", *args)
    assert unseen.returncode == 1, (command, unseen.stderr)
    assert "no container named only-ben: see `container-list`" in unseen.stderr
    assert "belongs to" not in unseen.stderr and unseen.stderr.count("\n") == 1
    explicit = ds01(site, "ann", command, f"only-ben._.{site['ben'].pw_uid}", *args)
    assert explicit.returncode == 4, (command, explicit.stderr)
    assert f"belongs to {site['ben'].pw_name}" in explicit.stderr


def test_projects_images_and_the_queue_are_per_user_too(site):
    assert "no project only-ben" in ds01(site, "ann", "project-launch", "only-ben", "--background").stderr
    theirs = f"ds01-{site['ben'].pw_name}/my-thesis:latest"
    for command, args in (("image-delete", (theirs, "--yes")), ("image-update", (theirs, "--no-build"))):
        refused = ds01(site, "ann", command, *args)
        assert refused.returncode == 4 and f"belongs to {site['ben'].pw_name}" in refused.stderr, refused.stderr
    assert ds01(site, "ann", "gpu-queue", "cancel", "only-ben").returncode == 1
    assert container_of(site, "ben", "only-ben").status == "created"  # nothing above touched it
    ok(ds01(site, "ben", "container-remove", "only-ben", "--yes"))


def test_launch_and_mlc_create_with_wait_are_served_as_slots_free(site):
    ok(ds01(site, "ann", "project-init", "second", "--template", "custom", "--no-git"))
    refused = ds01(site, "ann", "project-launch", "second", "--background")
    assert refused.returncode == 3 and "use --wait to queue" in refused.stderr
    launch = started(site, "ann", "project-launch", "second", "--background", "--wait", "90")
    wait_until(lambda: queue_length(site) == 1)
    mlc = started(site, "cal", "mlc-create", "waiter", "busybox", "1.36", "--wait", "90")
    wait_until(lambda: queue_length(site) == 2)
    retired = ok(ds01(site, "ben", "container-retire", "my-thesis", "--yes"))
    assert "freed" in retired
    assert launch.wait(timeout=90) == 0, launch.stderr
    assert container_of(site, "ann", "second").status == "running"
    assert mlc.poll() is None  # still waiting: the one free slot went to ann, who came first
    ok(ds01(site, "cal", "container-retire", "my-thesis", "--yes"))
    assert mlc.wait(timeout=90) == 0, mlc.stderr
    assert container_of(site, "cal", "waiter").labels["ds01.gpu.slots"]
    log = Path(site["env"]["DS01_LOG_DIR"]) / "events.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    mine = [entry for entry in events if entry["user"] in {site[who].pw_name for who in ("ann", "ben", "cal")}]
    [release] = [entry["details"] for entry in mine
                 if entry["event"] == "gpu.release" and entry["user"] == site["ben"].pw_name]
    assert (release["container"], release["by"], release["reason"]) == ("my-thesis", site["ben"].pw_name, "retired")
    gpu_events = [entry["details"].get("container") for entry in mine if entry["event"].startswith("gpu.")]
    assert len(gpu_events) >= 8 and not any("._." in (name or "") for name in gpu_events)
    for who, name in (("ann", "second"), ("cal", "waiter")):
        ok(ds01(site, who, "container-retire", name, "--yes"))


def test_deploy_of_a_project_image_tag_without_name_runs_on_the_projects_workspace(site):
    ok(ds01(site, "ann", "container-retire", "my-thesis", "--yes"))
    image = site["docker"].images.get(f"ds01-{site['ann'].pw_name}/my-thesis:latest")
    tagged = f"ds01-{site['ann'].pw_name}/my-thesis:experiment-42"
    image.tag(tagged)
    deployed = ok(ds01(site, "ann", "container-deploy", "--image", tagged, "--background"))
    assert "my-thesis is running in the background" in deployed
    container = container_of(site, "ann", "my-thesis")
    assert container.labels["ds01.workspace"] == str(Path(site["ann"].pw_dir) / "workspace" / "my-thesis")
    assert container.attrs["Config"]["Image"] == tagged
    assert ds01(site, "ann", "container-deploy", "--image", f"ds01-{site['ben'].pw_name}/my-thesis:latest",
                "--background").returncode == 4


def test_a_container_whose_gpu_vanished_refuses_to_start_and_status_shows_it(site):
    ok(ds01(site, "ann", "container-stop", "my-thesis"))
    slot = container_of(site, "ann", "my-thesis").labels["ds01.gpu.slots"]
    config_path = Path(site["env"]["DS01_CONFIG"])
    # MIG switched off on GPU 5: the slots 5:N are gone, whole GPUs are there (and allowed now).
    repartitioned = dict(site["config"], gpus={"simulate": [FULL] * 6},
                         defaults=dict(site["config"]["defaults"], allow_full_gpu=True))
    config_path.write_text(yaml.safe_dump(repartitioned))
    try:
        refused = ds01(site, "ann", "container-start", "my-thesis")
        assert refused.returncode == 3 and f"GPU slot {slot}, which is no longer on this host" in refused.stderr
        status = run_command("gpu-allocator", "status", bin_dir=site["bin"], env=site["env"])
        assert f"slot {slot} vanished" in status.stdout and "my-thesis" in status.stdout
        moved = ok(ds01(site, "ann", "container-start", "my-thesis", "--wait", "30"))
        assert "my-thesis is running" in moved and f"my-thesis lost GPU slot {slot}" in moved
        assert container_of(site, "ann", "my-thesis").labels["ds01.gpu.slots"] in {"0", "1", "2", "3", "4", "5"}
    finally:
        config_path.write_text(yaml.safe_dump(site["config"]))
    ok(ds01(site, "ann", "container-retire", "my-thesis", "--yes"))
