"""Helpers for tests: run a DS01 command as a subprocess, write a test config."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
# Test modules import these from here, never `from conftest import`: every test folder has a
# conftest.py, and which one the name `conftest` means depends on collection order.
TEST_IMAGE = os.environ.get("DS01_TEST_IMAGE", "ds01-test/busybox:latest")
REQUIRE_DOCKER = os.environ.get("DS01_REQUIRE_DOCKER") == "1"


def missing(reason):
    """Skip, or fail when the suite was asked to run everything (DS01_REQUIRE_DOCKER=1)."""
    import pytest

    if REQUIRE_DOCKER:
        pytest.fail(f"DS01_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)

BASE_CONFIG = {
    "default_group": "student",
    "admin_group": "ds01-admin",
    "defaults": {"max_mig_instances": 1, "max_gpus_per_container": 1, "max_cpus": 2,
                 "memory": "1g", "shm_size": "64m", "pids_limit": 256, "max_containers_per_user": 5},
    "groups": {"student": {"members": []}},
    "images": {"base": "ds01-test/busybox:latest"},
}


def write_config(env, overrides, base=True):
    """Write env['config'] from BASE_CONFIG updated with `overrides` (top-level keys replaced)."""
    document = dict(BASE_CONFIG) if base else {}
    document["workspace_root"] = str(env["workspace_root"])
    document.update(overrides)
    Path(env["config"]).write_text(yaml.safe_dump(document, sort_keys=False))
    return document


def run_command(name, *args, env=None, user=None, bin_dir=None, input=None, timeout=120, python=None):
    """Run a DS01 command; returns CompletedProcess (text). `user` runs it through runuser.

    From the checkout the script runs under this interpreter (the test venv); from an
    installed bin_dir it runs through its own shebang (the install's private venv)."""
    script = Path(bin_dir or BIN) / name
    command = [str(script), *map(str, args)]
    if bin_dir is None:
        command = [python or sys.executable] + command
    if user is not None:
        command = ["runuser", "-u", user, "--"] + command
    full_env = dict(os.environ)
    full_env.update({key: str(value) for key, value in (env or {}).items()})
    return subprocess.run(command, capture_output=True, text=True, input=input, env=full_env, timeout=timeout)


def server_site(root, config, **extra_env):
    """A DS01 site laid out as on a server for real users: state and log dirs root:docker 2770,
    a world-readable config; returns the DS01_* environment for run_command."""
    import grp
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o755)
    docker_gid = grp.getgrnam("docker").gr_gid
    for name in ("state", "log"):
        (root / name).mkdir()
        os.chown(root / name, 0, docker_gid)
        (root / name).chmod(0o2770)
    (root / "resource-limits.yaml").write_text(yaml.safe_dump(config))
    (root / "resource-limits.yaml").chmod(0o644)
    env = {"DS01_CONFIG": root / "resource-limits.yaml", "DS01_STATE_DIR": root / "state",
           "DS01_LOG_DIR": root / "log", "DS01_LOCK_TIMEOUT": "30"}
    env.update(extra_env)
    return env


def installed_site(installed, root, config, **extra_env):
    """A server site run by an installed DS01 whose locations are baked in, as `make install` does
    (an installed DS01 takes them from no user's environment, only root's): the installed
    library copied with an _install.py naming root/resource-limits.yaml, root/state and
    root/log, its bin/ scripts (which run the installed virtualenv) beside it; no second pip run.
    Returns (environment for run_command, bin dir). The DS01_* variables in the environment
    name the same places, for root's commands and for tests that read them."""
    import shutil

    env = server_site(root, config, **extra_env)
    prefix = root / "prefix"
    library = prefix / "lib" / "ds01" / "ds01common"
    shutil.copytree(installed["PREFIX"] / "lib" / "ds01" / "ds01common", library)
    for stale in (library / "__pycache__").glob("_install.*"):
        stale.unlink()
    layout = {"config": root / "resource-limits.yaml", "state_dir": root / "state", "log_dir": root / "log",
              "templates_dir": installed["CONFDIR"] / "templates", "bin_dir": prefix / "bin"}
    (library / "_install.py").write_text(f"LAYOUT = {({key: str(value) for key, value in layout.items()})!r}\n")
    (prefix / "bin").mkdir()
    for script in installed["bin"].iterdir():
        shutil.copy2(script, prefix / "bin" / script.name, follow_symlinks=False)
    subprocess.run(["chmod", "-R", "a+rX", str(prefix)], check=True)
    return env, prefix / "bin"


def need_tool(name):
    """The path of a program tests/prepare.sh installs (promtool, logrotate, ...): a skip when it is
    missing here, a failure under `make test` (DS01_REQUIRE_DOCKER=1), where prepare.sh has run."""
    import shutil

    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (tests/prepare.sh installs it)")
    return path


def remove_users_docker_objects(docker_client, logins):
    """Teardown for a site's real users: their DS01 containers, then their ds01-<login>/ image tags
    (by tag, so an image another tag also names, such as the shared test image, stays; one already
    gone, e.g. removed by the test itself, is fine)."""
    import docker

    prefixes = {f"ds01-{login}" for login in logins}
    for entry in docker_client.api.containers(all=True, filters={"label": "ds01.managed=true"}):
        if (entry.get("Labels") or {}).get("ds01.user") in logins:
            try:
                docker_client.api.remove_container(entry["Id"], force=True)
            except docker.errors.NotFound:
                pass
    for entry in docker_client.api.images():
        for tag in entry["RepoTags"] or []:
            if tag.split("/")[0] in prefixes:
                try:
                    docker_client.api.remove_image(tag, force=True)
                except docker.errors.NotFound:
                    pass
