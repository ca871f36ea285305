"""The daily loop as real users live it (issue 9): ~/.ds01-limits always true, the login greeting,
images whose Dockerfile is the user's own, failed builds that say why, and logins Docker can't spell.

Real Linux users (ds01t-i9b-*, plus `alice_` and `a..b`) run the checkout's commands against the
real engine on a server-like site (state and logs root:docker 2770, the config world-readable).
"""

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, run_command, server_site

IMAGE = "ds01-test/busybox:latest"
CONFIG = {
    "default_group": "student", "admin_group": "ds01-admin", "workspace_root": "~/workspace",
    "defaults": {"max_mig_instances": 1, "max_gpus_per_container": 1, "max_cpus": 1, "memory": "256m",
                 "shm_size": "32m", "pids_limit": 128, "max_containers_per_user": 3},
    "groups": {"student": {"members": []}},
    "images": {"base": IMAGE},
}
GREETING_CONTAINERS = 20
GREETING_BUDGET_SECONDS = 0.100


@pytest.fixture(scope="module")
def site(shared_root, linux_users, docker_client):
    env = server_site(shared_root / "i9b-site", CONFIG)
    yield {"env": env, "root": shared_root / "i9b-site", "docker": docker_client, "users": linux_users}


def as_user(site, user, *command, **options):
    return run_command(*command, env=site["env"], user=user.pw_name, **options)


def write_site_config(site, changes):
    document = dict(CONFIG, **changes)
    path = Path(site["env"]["DS01_CONFIG"])
    path.write_text(yaml.safe_dump(document))
    path.chmod(0o644)


def remove_images(docker, repository):
    for image in docker.images.list(name=repository):
        for tag in image.tags:
            try:
                docker.images.remove(tag, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


# --- ~/.ds01-limits ---

def test_the_limits_file_is_true_after_an_admin_edits_the_config_and_the_user_runs_any_command(site):
    user = site["users"]("i9b-lim")
    limits_file = Path(user.pw_dir) / ".ds01-limits"
    result = as_user(site, user, "container-list")
    assert result.returncode == 0, result.stderr
    assert "Max Containers: 3" in limits_file.read_text().splitlines()
    assert "Idle timeout: 48h" in limits_file.read_text().splitlines()
    assert os.stat(limits_file).st_uid == user.pw_uid
    first = os.stat(limits_file).st_ino
    as_user(site, user, "image-list")
    assert os.stat(limits_file).st_ino == first  # nothing changed: compared, not rewritten
    try:
        write_site_config(site, {"defaults": dict(CONFIG["defaults"], max_containers_per_user=7,
                                                  idle_timeout="12h")})
        result = as_user(site, user, "alias-list")  # any command, even one that needs no config
        assert result.returncode == 0, result.stderr
        lines = limits_file.read_text().splitlines()
        assert "Max Containers: 7" in lines and "Idle timeout: 12h" in lines
    finally:
        write_site_config(site, {})


# --- the login greeting ---

def render_profile(directory):
    script = Path(directory) / "ds01.sh"
    text = (ROOT / "config" / "ds01-profile.sh").read_text()
    script.write_text(text.replace("@PYTHON@", sys.executable).replace("@LIBDIR@", str(ROOT / "lib")))
    script.chmod(0o644)
    return script


def login_shell(user, script, interactive=True, env=None):
    """`bash -i` sourcing the profile script as `user`; returns (output, seconds the sourcing took)."""
    flags = ["--norc", "--noprofile"] + (["-i"] if interactive else [])
    body = f"TIMEFORMAT=%R; time . {script}"
    result = subprocess.run(["runuser", "-u", user.pw_name, "--", "env", f"HOME={user.pw_dir}",
                             f"USER={user.pw_name}", *(env or []), "bash", *flags, "-c", body],
                            capture_output=True, text=True, timeout=60)
    seconds = float(result.stderr.strip().splitlines()[-1])
    return result.stdout, seconds


def test_the_login_greeting_shows_limits_and_20_containers_in_under_100_ms(site, unique):
    user = site["users"]("i9b-greet")
    assert as_user(site, user, "get-resource-limits").returncode == 0  # a DS01 user: has ~/.ds01-limits
    script = render_profile(site["root"])
    made = []
    try:
        for index in range(GREETING_CONTAINERS):
            name = f"g{unique}{index:02d}"
            container = site["docker"].containers.create(
                IMAGE, ["sleep", "300"], name=f"{name}._.{user.pw_uid}",
                labels={"ds01.managed": "true", "ds01.user": user.pw_name, "ds01.uid": str(user.pw_uid),
                        "ds01.project": name, "ds01.gpu.slots": "",
                        "ds01.workspace": f"{user.pw_dir}/workspace/{name}"})
            made.append(container)
        output, _ = login_shell(user, script)
        assert output.splitlines()[0].startswith(f"DS01 · {user.pw_name} (group student): GPU slots 1")
        assert "Idle timeout 48h" in output and "Max runtime unlimited" in output
        assert sum(1 for line in output.splitlines() if f"g{unique}" in line) == GREETING_CONTAINERS
        timings = [login_shell(user, script)[1] for _ in range(5)]
        # Other work on this host only adds time: the best run is the greeting's own cost.
        assert min(timings) < GREETING_BUDGET_SECONDS, timings
    finally:
        for container in made:
            container.remove(force=True)


def test_the_greeting_is_silent_in_non_interactive_shells_and_for_non_ds01_users(site):
    user = site["users"]("i9b-quiet")
    script = render_profile(site["root"])
    assert login_shell(user, script)[0] == ""  # never ran a DS01 command: no ~/.ds01-limits
    assert as_user(site, user, "get-resource-limits").returncode == 0
    assert login_shell(user, script, interactive=False)[0] == ""
    assert login_shell(user, script, env=["DS01_NO_GREETING=1"])[0] == ""
    assert login_shell(user, script)[0].startswith("DS01 · ")


# --- images ---

def run_image(docker, reference, command):
    return docker.containers.run(reference, ["sh", "-c", command], remove=True).decode()


@pytest.fixture(scope="module")
def builder(site):
    user = site["users"]("i9b-img")
    result = as_user(site, user, "image-create", "proj", "--template", "custom")
    assert result.returncode == 0, result.stdout + result.stderr
    yield user
    remove_images(site["docker"], f"ds01-{user.pw_name}/proj")


def test_a_dockerfile_with_a_root_line_appended_builds_and_the_container_runs_as_the_user(site, builder):
    dockerfile = Path(builder.pw_dir) / "workspace" / "proj" / "Dockerfile"
    assert "DS01_UID" not in dockerfile.read_text()  # the user step is added at build time
    with open(dockerfile, "a") as handle:
        # /opt is root's (the busybox test image has none yet): only a root step can write there.
        handle.write("RUN mkdir -p /opt && chmod 755 /opt\nRUN mkdir /opt/x\n")
    result = as_user(site, builder, "image-update", "proj")
    assert result.returncode == 0, result.stdout + result.stderr
    output = run_image(site["docker"], f"ds01-{builder.pw_name}/proj:latest",
                       'id -u; test -d /opt/x && echo made; test -w "$HOME" && echo "home $HOME"; pwd')
    lines = output.split()
    assert lines[:2] == [str(builder.pw_uid), "made"]
    assert "home" in lines and lines[-1] == "/workspace"


def test_a_failed_update_names_the_line_and_leaves_the_dockerfile_as_it_was(site, builder):
    dockerfile = Path(builder.pw_dir) / "workspace" / "proj" / "Dockerfile"
    before = dockerfile.read_text()
    result = as_user(site, builder, "image-update", "proj", "--packages", "no-such-package-i9b")
    assert result.returncode == 1
    assert "returned a non-zero code" in result.stderr and "line " in result.stderr
    assert "python3 -m pip install no-such-package-i9b" in result.stderr  # the failing line, quoted
    assert "fix: edit line" in result.stderr and "--template custom" in result.stderr
    assert "Traceback" not in result.stderr
    assert dockerfile.read_text() == before
    assert "is back as it was" in result.stderr


def test_apt_and_requirements_steps_are_written_for_the_build(site, builder):
    requirements = Path(builder.pw_dir) / "reqs.txt"
    requirements.write_text("numpy==1.26.4\n")
    os.chown(requirements, builder.pw_uid, builder.pw_gid)
    dockerfile = Path(builder.pw_dir) / "workspace" / "proj" / "Dockerfile"
    before = dockerfile.read_text()
    result = as_user(site, builder, "image-update", "proj", "--apt", "ffmpeg", "--requirements",
                     str(requirements), "--no-build")
    assert result.returncode == 0, result.stderr
    text = dockerfile.read_text()
    assert "apt-get install -y --no-install-recommends ffmpeg" in text
    assert "RUN python3 -m pip install -r /tmp/ds01-requirements.txt" in text
    assert (dockerfile.parent / "requirements.txt").read_text() == "numpy==1.26.4\n"
    dockerfile.write_text(before)
    (dockerfile.parent / "requirements.txt").unlink()


def test_image_delete_project_tag_deletes_that_tag_only(site, builder):
    repository = f"ds01-{builder.pw_name}/proj"
    site["docker"].images.get(f"{repository}:latest").tag(repository, "exp1")
    result = as_user(site, builder, "image-delete", "proj:exp1", "--yes")
    assert result.returncode == 0, result.stderr
    tags = {tag for image in site["docker"].images.list(name=repository) for tag in image.tags}
    assert f"{repository}:exp1" not in tags and f"{repository}:latest" in tags


# --- logins Docker can't spell ---

@pytest.fixture(scope="module")
def odd_users(site):
    made = []
    homes = site["root"].parent / "home"
    for login in ("alice_", "a..b"):
        subprocess.run(["userdel", "-r", login], capture_output=True)
        result = subprocess.run(["useradd", "--badname", "-m", "-d", str(homes / login), "-s", "/bin/sh",
                                 "-G", "docker", login], capture_output=True, text=True)
        if result.returncode != 0:  # an older useradd without --badname takes these names as they are
            subprocess.run(["useradd", "-m", "-d", str(homes / login), "-s", "/bin/sh", "-G", "docker", login],
                           check=True, capture_output=True)
        made.append(pwd.getpwnam(login))
    yield made
    for user in made:
        subprocess.run(["userdel", "-r", user.pw_name], capture_output=True)


@pytest.mark.parametrize(("index", "repository"), [(0, "ds01-alice/proj"), (1, "ds01-a.b/proj")])
def test_logins_docker_cannot_spell_get_working_images(site, odd_users, index, repository):
    user = odd_users[index]
    try:
        result = as_user(site, user, "image-create", "proj", "--template", "custom")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"built {repository}:latest" in result.stdout
        listed = as_user(site, user, "image-list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert f"{repository}:latest" in listed.stdout
        assert run_image(site["docker"], f"{repository}:latest", "id -u").split() == [str(user.pw_uid)]
    finally:
        remove_images(site["docker"], repository)


# --- the shipped lifecycle defaults on the real engine (clock injected, no sleeps) ---

def lifecycle_container(site, user, name, command, workspace):
    workspace.mkdir(parents=True, exist_ok=True)
    return site["docker"].containers.run(
        IMAGE, ["sh", "-c", command], name=f"{name}._.{user.pw_uid}", detach=True,
        labels={"ds01.managed": "true", "ds01.user": user.pw_name, "ds01.uid": str(user.pw_uid),
                "ds01.project": name, "ds01.gpu.slots": "", "ds01.workspace": str(workspace)})


def shipped_pass(site, workspaces, state, now):
    sys.path.insert(0, str(ROOT / "lib"))
    from ds01common import config as config_module
    from ds01common import lifecycle

    retired = []
    config = config_module.load(ROOT / "config" / "resource-limits.yaml")
    result = lifecycle.run_pass(site["docker"], config, state_dir=state, log_dir=state, now=now,
                                retire=lambda docker, config, owner, name, **options: retired.append(name),
                                notify=lambda owner, observation, message: None, workspace_under=str(workspaces))
    return result, retired


def test_with_the_shipped_config_a_busy_container_runs_past_48_hours_and_a_future_keep_alive_expires(
        site, unique, tmp_path):
    import time

    user = site["users"]("i9b-busy")
    workspaces = site["root"] / f"lifecycle-{unique}"
    busy = lifecycle_container(site, user, f"busy{unique}", "while :; do :; done", workspaces / "busy")
    idle_workspace = workspaces / "idle"
    idle = lifecycle_container(site, user, f"idle{unique}", "sleep 300", idle_workspace)
    (idle_workspace / ".keep-alive").touch()
    far_future = time.time() + 10 * 365 * 86400
    os.utime(idle_workspace / ".keep-alive", (far_future, far_future))
    try:
        now = time.time()
        _, retired = shipped_pass(site, workspaces, tmp_path, now)
        assert retired == []
        result, retired = shipped_pass(site, workspaces, tmp_path, now + 50 * 3600)
        assert f"busy{unique}" not in retired  # busy for 50 h of simulated time: kept
        assert retired == [f"idle{unique}"]  # the keep-alive counted 24 h, then its 50 h of idleness showed
        reasons = {action["container"]: action["reason"] for action in result["actions"]}
        assert reasons == {f"idle{unique}": "idle"}
        measured = {entry["name"]: entry for entry in result["containers"]}
        assert measured[f"busy{unique}"]["cpu_percent"] > 2.0  # measured busy, not merely unmeasured
        assert measured[f"busy{unique}"]["idle_seconds"] == 0
    finally:
        busy.remove(force=True)
        idle.remove(force=True)


def test_make_install_puts_the_greeting_in_profile_d_running_the_installed_library(site, installed):
    script = Path(installed["PROFILEDIR"]) / "ds01.sh"
    text = script.read_text()
    assert "@" not in text.replace("$@", "")
    assert f"{installed['PREFIX']}/lib/ds01/venv/bin/python" in text and f"{installed['PREFIX']}/lib/ds01" in text
    user = site["users"]("i9b-inst")
    result = run_command("get-resource-limits", user=user.pw_name, bin_dir=installed["bin"])
    assert result.returncode == 0, result.stderr
    output, _ = login_shell(user, script)
    assert output.startswith(f"DS01 · {user.pw_name} (group ")
