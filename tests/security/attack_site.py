"""What the attack modules share: the site's config, running commands as the attacker or the
victim, and checks that nothing changed. A module of its own (not conftest.py): every test folder
has a conftest.py, and `from conftest import` would mean whichever was imported last."""

import os
import stat
import subprocess
from pathlib import Path

from helpers import run_command

IMAGE = "ds01-test/busybox:latest"
SECRET_TEXT = "root-only secret\n"


def base_config():
    return {
        "default_group": "student", "admin_group": "ds01-admin", "workspace_root": "~/workspace",
        "defaults": {"max_mig_instances": 1, "max_gpus_per_container": 1, "max_cpus": 1, "memory": "128m",
                     "shm_size": "16m", "pids_limit": 64, "max_containers_per_user": 3},
        "groups": {"student": {"members": []}},
        "images": {"base": IMAGE, "frameworks": {"busybox-1.36": IMAGE}},
        "gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g", "mig": ["1g.10gb", "1g.10gb"]}]},
    }


def ds01(site, who, command, *args, env=None, timeout=90):
    """Run an installed command as `who` (mallory, victor) or as root (who="root")."""
    login = site[who].pw_name if who != "root" else None
    return run_command(command, *args, user=login, bin_dir=site["bin"], env={**site["env"], **(env or {})},
                       timeout=timeout)


def as_user(site, who, script):
    """A shell snippet run as `who` (planting links, writing files in their home)."""
    return subprocess.run(["runuser", "-u", site[who].pw_name, "--", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60)


def one_line(result):
    """The error: one line (a first command's note that it built the ledger from Docker's labels,
    which other suites' simulated slots on this shared engine cause, aside)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if "rebuilt it from Docker labels" not in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


def fingerprint(path):
    """What must not change about a target file: its content, mode and owner."""
    info = os.lstat(path)
    return Path(path).read_bytes(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def containers_of(site, who):
    login = site[who].pw_name
    return sorted(entry["Names"][0].lstrip("/") for entry in site["docker"].api.containers(
        all=True, filters={"label": ["ds01.managed=true", f"ds01.user={login}"]}))


def remove_containers_of(site, who):
    for name in containers_of(site, who):
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
