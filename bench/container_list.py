#!/usr/bin/env python3
"""Benchmark: `container-list --json` against `docker ps -a` with 200 DS01 containers.

Both are timed as commands (a fresh process each, as a user types them), in the same run,
median of several rounds. Goal (issue 10): ratio <= 2. Run as root on a host with the test image:
    .venv/bin/python bench/container_list.py [COUNT]
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
IMAGE = "ds01-test/busybox:latest"
ROUNDS = 7


def bench_env(root):
    """A throwaway DS01 (config, state, logs, workspaces) under `root`; returns the environment."""
    config = {
        "default_group": "student", "workspace_root": str(root / "workspaces"),
        "defaults": {"max_mig_instances": 1, "max_cpus": 1, "memory": "256m", "shm_size": "64m",
                     "pids_limit": 256, "max_containers_per_user": None},
        "groups": {"student": {"members": []}},
        "images": {"base": IMAGE},  # a configured image anyone may run
    }
    (root / "resource-limits.yaml").write_text(yaml.safe_dump(config))
    for name in ("state", "log"):
        (root / name).mkdir(exist_ok=True)
    return dict(os.environ, DS01_CONFIG=str(root / "resource-limits.yaml"), DS01_STATE_DIR=str(root / "state"),
                DS01_LOG_DIR=str(root / "log"))


def ds01(env, command, *args, check=True):
    result = subprocess.run([sys.executable, str(BIN / command), *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"{command} {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def make_containers(env, prefix, count, start=True):
    """`count` DS01 containers made through the library (as container-create would)."""
    sys.path.insert(0, str(ROOT / "lib"))
    from ds01common import config as config_module
    from ds01common import containers, dockerapi, identity

    docker = dockerapi.connect()
    config = config_module.load(env["DS01_CONFIG"])
    user = identity.current_user()
    names = []
    for index in range(count):
        name = f"{prefix}{index}"
        create = containers.deploy if start else containers.create
        create(docker, config, user, name, image=IMAGE, cpu_only=True,
               state_dir=env["DS01_STATE_DIR"], log_dir=env["DS01_LOG_DIR"])
        names.append(name)
    return names


def remove_containers(workspace_root):
    listed = subprocess.run(["docker", "ps", "-aq", "--filter", "label=ds01.managed=true"],
                            capture_output=True, text=True).stdout.split()
    mine = []
    for container_id in listed:
        label = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "ds01.workspace"}}', container_id],
                               capture_output=True, text=True).stdout.strip()
        if label.startswith(str(workspace_root)):
            mine.append(container_id)
    if mine:
        subprocess.run(["docker", "rm", "-f", *mine], capture_output=True)


def timed(function, rounds=ROUNDS):
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def report(label, ours, docker, target=None):
    ratio = ours / docker
    verdict = "" if target is None else f"  (target <= {target:.1f}: {'met' if ratio <= target else 'MISSED'})"
    print(f"{label}: ours {ours * 1000:.0f} ms, docker {docker * 1000:.0f} ms, ratio {ratio:.2f}{verdict}")
    return ratio


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-list-"))
    env = bench_env(root)
    try:
        began = time.perf_counter()
        make_containers(env, "bl", count)
        print(f"made {count} running containers in {time.perf_counter() - began:.1f}s")
        ours = timed(lambda: ds01(env, "container-list", "--json"))
        docker = timed(lambda: subprocess.run(["docker", "ps", "-a"], capture_output=True, check=True))
        report(f"container-list --json vs docker ps -a ({count} containers)", ours, docker, target=2.0)
    finally:
        remove_containers(root / "workspaces")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
