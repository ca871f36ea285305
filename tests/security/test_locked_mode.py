"""Locked mode (`access: ds01-only`) end to end: a user who is NOT in the docker group (raw
`docker ps` fails for them) does the whole daily loop through the installed commands, which
re-run themselves through `sudo -n`; `sudo -l` lists only DS01's commands; a hostile
environment behaves as a clean one; the state and log dirs are root-only; ds01-events shows a
user their own events only; add-user admits a user to `users_group`."""

import grp
import json
import os
import shutil
import stat
import subprocess

import pytest
import yaml
from attack_site import IMAGE
from helpers import ROOT, remove_users_docker_objects, run_command

USERS_GROUP = "ds01t-i11-users"
SUDOERS = "/etc/sudoers.d/ds01-i11-test"


@pytest.fixture(scope="module")
def locked(shared_root, linux_users, docker_client):
    """A real `make install` with its own prefix and dirs, its sudoers drop-in put in place, a
    locked-mode config, and two users of users_group (not of docker)."""
    if shutil.which("sudo") is None:
        pytest.fail("sudo is not installed (tests/prepare.sh installs it)")
    root = shared_root / "locked"
    layout = {"PREFIX": root / "prefix", "CONFDIR": root / "etc", "STATEDIR": root / "var-lib",
              "LOGDIR": root / "var-log", "CRONDIR": root / "cron.d", "SUDOERSDIR": root / "sudoers.d",
              "USERS_GROUP": USERS_GROUP}
    made = subprocess.run(["make", "-s", "install"] + [f"{key}={value}" for key, value in layout.items()],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    config = {"access": "ds01-only", "users_group": USERS_GROUP, "default_group": "student",
              "admin_group": "ds01-admin", "workspace_root": "~/workspace",
              "defaults": {"max_mig_instances": 1, "max_cpus": 1, "memory": "256m", "shm_size": "16m",
                           "pids_limit": 128, "max_containers_per_user": 3},
              "groups": {"student": {"members": []}}, "images": {"base": IMAGE}}
    (layout["CONFDIR"] / "resource-limits.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(layout["SUDOERSDIR"] / "ds01", SUDOERS)
    os.chmod(SUDOERS, 0o440)
    lena = linux_users("i11-lena", groups=(USERS_GROUP,))
    lars = linux_users("i11-lars", groups=(USERS_GROUP,))
    site = {"bin": layout["PREFIX"] / "bin", "layout": layout, "lena": lena, "lars": lars, "docker": docker_client}
    yield site
    os.unlink(SUDOERS)
    logins = {lena.pw_name, lars.pw_name}
    remove_users_docker_objects(docker_client, logins)


def clean_env(user):
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": user.pw_dir, "LANG": "C.UTF-8"}


def ds01(site, who, command, *args, env=None, timeout=180):
    user = site[who]
    variables = [f"{key}={value}" for key, value in (env or clean_env(user)).items()]
    full = ["runuser", "-u", user.pw_name, "--", "env", "-i", *variables,
            str(site["bin"] / command), *map(str, args)]
    return subprocess.run(full, capture_output=True, text=True, timeout=timeout, cwd=user.pw_dir)


def test_the_user_is_not_in_the_docker_group_and_raw_docker_fails_for_them(locked):
    lena = locked["lena"]
    assert lena.pw_name not in grp.getgrnam("docker").gr_mem
    raw = subprocess.run(["runuser", "-u", lena.pw_name, "--", "docker", "ps"], capture_output=True, text=True)
    assert raw.returncode != 0 and "permission denied" in raw.stderr.lower()


def test_sudo_lists_only_ds01_commands_for_a_member(locked):
    listed = subprocess.run(["runuser", "-u", locked["lena"].pw_name, "--", "sudo", "-n", "-l"],
                            capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    rules = listed.stdout.split("may run the following commands", 1)[1]
    commands = [part.strip() for line in rules.splitlines() if "NOPASSWD:" in line
                for part in line.split("NOPASSWD:", 1)[1].split(",")]
    assert commands and all(command.startswith(f"{locked['bin']}/") for command in commands), commands
    assert f"{locked['bin']}/container-create" in commands and "ALL" not in commands


def test_the_daily_loop_runs_through_ds01_alone(locked):
    lena = locked["lena"]
    steps = [("project-init", "loop", "--template", "custom", "--no-build"),
             ("image-create", "loop"),
             ("container-deploy", "loop", "--background", "--cpu-only"),
             ("container-run", "loop", "--", "sh", "-c", "echo hello-from-loop; id -u"),
             ("container-logs", "loop"),
             ("container-list", "--json"),
             ("container-retire", "loop", "--yes")]
    outputs = {}
    for command, *args in steps:
        result = ds01(locked, "lena", command, *args)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        outputs[command] = result.stdout
    assert f"hello-from-loop\n{lena.pw_uid}" in outputs["container-run"]
    [row] = json.loads(outputs["container-list"])
    assert row["name"] == "loop"
    workspace = os.path.join(lena.pw_dir, "workspace", "loop")
    assert os.stat(workspace).st_uid == lena.pw_uid
    assert os.stat(os.path.join(workspace, "Dockerfile")).st_uid == lena.pw_uid
    for directory in (locked["layout"]["STATEDIR"], locked["layout"]["LOGDIR"]):
        info = os.stat(directory)
        assert info.st_uid == 0 and stat.S_IMODE(info.st_mode) == 0o700, directory


def test_a_hostile_environment_behaves_as_a_clean_one(locked, tmp_path):
    lena = locked["lena"]
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran-as"
    (evil / "sitecustomize.py").write_text(f"import os\nopen({str(marker)!r}, 'a').write(str(os.getuid()))\n")
    for name in ("sudo", "docker", "python3"):
        (evil / name).write_text(f"#!/bin/sh\necho {name} >> {marker}\nexit 0\n")
        (evil / name).chmod(0o755)
    mine = tmp_path / "mine.yaml"
    mine.write_text("access: docker-group\nadmin_group: " + lena.pw_name + "\n")
    for path in (tmp_path, evil, marker.parent, mine):
        path.chmod(0o755 if path.is_dir() else 0o644)
    subprocess.run(["chmod", "-R", "a+rwX", str(tmp_path)], check=True)
    hostile = dict(clean_env(lena), PATH=f"{evil}:/usr/local/bin:/usr/bin:/bin", PYTHONPATH=str(evil),
                   PYTHONSTARTUP=str(evil / "sitecustomize.py"), LD_PRELOAD="/lib/x86_64-linux-gnu/libc.so.6",
                   DS01_CONFIG=str(mine), DS01_STATE_DIR=str(tmp_path), DS01_LOG_DIR=str(tmp_path),
                   DS01_TEMPLATES_DIR=str(evil))
    for command in (("get-resource-limits", "--json"), ("container-list", "--json"), ("gpu-status",)):
        clean = ds01(locked, "lena", *command)
        dirty = ds01(locked, "lena", *command, env=hostile)
        assert (dirty.returncode, dirty.stdout) == (clean.returncode, clean.stdout), (command, dirty.stderr)
    refused = ds01(locked, "lena", "container-list", "--user", locked["lars"].pw_name, env=hostile)
    assert refused.returncode == 4
    assert not marker.exists(), marker.read_text()
    assert sorted(os.listdir(tmp_path)) == ["evil", "mine.yaml"]


def test_ds01_events_shows_a_user_their_own_events_only(locked):
    made = ds01(locked, "lars", "container-create", "mine", "--cpu-only", "--image", IMAGE)
    assert made.returncode == 0, made.stderr
    seen = ds01(locked, "lena", "ds01-events", "--json")
    assert seen.returncode == 0, seen.stderr
    users = {entry["user"] for entry in json.loads(seen.stdout)}
    assert users and users <= {locked["lena"].pw_name}
    assert ds01(locked, "lars", "container-remove", "mine", "--yes").returncode == 0


def test_a_user_outside_users_group_is_told_how_to_get_in_and_add_user_admits_them(locked, linux_users):
    outsider = linux_users("i11-out", groups=())
    locked["outsider"] = outsider
    refused = ds01(locked, "outsider", "container-list")
    assert refused.returncode == 4 and f"add-user {outsider.pw_name}" in refused.stderr
    admitted = run_command("add-user", outsider.pw_name, bin_dir=locked["bin"])
    assert admitted.returncode == 0, admitted.stderr
    assert outsider.pw_name in grp.getgrnam(USERS_GROUP).gr_mem
    assert outsider.pw_name not in grp.getgrnam("docker").gr_mem
    welcomed = ds01(locked, "outsider", "container-list")
    assert welcomed.returncode == 0, welcomed.stderr


def test_a_command_running_as_root_for_a_user_never_reads_a_file_they_cannot(locked):
    secret = locked["layout"]["CONFDIR"] / "secret.txt"
    secret.write_text("root only\n")
    secret.chmod(0o600)
    made = ds01(locked, "lena", "project-init", "leak", "--template", "custom", "--no-build", "--no-git")
    assert made.returncode == 0, made.stderr
    for path in (secret, "/etc/shadow"):
        result = ds01(locked, "lena", "image-update", "leak", "--requirements", path, "--no-build")
        assert result.returncode == 4 and "permission denied" in result.stderr, (path, result.stderr)
    assert not os.path.exists(os.path.join(locked["lena"].pw_dir, "workspace", "leak", "requirements.txt"))


def test_admin_commands_never_write_a_users_chosen_file_as_root(locked):
    target = locked["layout"]["CONFDIR"] / "target.txt"
    target.write_text("unchanged\n")
    target.chmod(0o644)
    attempts = [("cleanup-idle-containers", "--dry-run", "--log", target),
                ("ds01-exporter", "--textfile", target),
                ("container-export", "nothing", "--to", "slurm", "-o", target)]
    for command, *args in attempts:
        if not (locked["bin"] / command).exists():
            continue
        result = ds01(locked, "lena", command, *args)
        assert result.returncode != 0, (command, result.stdout)
        assert target.read_text() == "unchanged\n" and stat.S_IMODE(target.stat().st_mode) == 0o644, command
