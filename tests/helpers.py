"""Helpers for tests: run a DS01 command as a subprocess, write a test config."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"

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
