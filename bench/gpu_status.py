#!/usr/bin/env python3
"""Benchmark: `gpu-status --json` against `docker ps` with 100 running DS01 containers.

The host is simulated (2 GPUs split into 7 MIG slots each); 14 containers hold a slot, the rest
run CPU-only, so the ledger reconciles against every one of them. Both are timed as commands (a
fresh process each), in the same run, median of several rounds. Goal (issue 10): ratio <= 3.
Run as root on a host with the test image:
    .venv/bin/python bench/gpu_status.py [COUNT]
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from container_list import IMAGE, ROOT, bench_env, ds01, remove_containers, report, timed  # noqa: E402

SLOTS_PER_GPU = 7


def simulated_host(root):
    """bench_env's DS01 with a simulated MIG host and no per-user GPU quota; returns the environment."""
    env = bench_env(root)
    path = Path(env["DS01_CONFIG"])
    config = yaml.safe_load(path.read_text())
    config["gpus"] = {"simulate": [{"memory": "80g", "mig": ["1g.10gb"] * SLOTS_PER_GPU}] * 2}
    config["defaults"].update(max_mig_instances=None, max_gpus_per_container=1, max_gpu_equivalents=None)
    path.write_text(yaml.safe_dump(config))
    return env


def make_containers(env, count, gpu_holders):
    sys.path.insert(0, str(ROOT / "lib"))
    from ds01common import config as config_module
    from ds01common import containers, dockerapi, identity

    docker = dockerapi.connect()
    config = config_module.load(env["DS01_CONFIG"])
    user = identity.current_user()
    for index in range(count):
        gpu = {"gpus": 1} if index < gpu_holders else {"cpu_only": True}
        containers.deploy(docker, config, user, f"gs{index}", image=IMAGE, state_dir=env["DS01_STATE_DIR"],
                          log_dir=env["DS01_LOG_DIR"], **gpu)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-gpu-status-"))
    env = simulated_host(root)
    try:
        began = time.perf_counter()
        make_containers(env, count, gpu_holders=min(count, 2 * SLOTS_PER_GPU))
        print(f"made {count} running containers in {time.perf_counter() - began:.1f}s")
        ours = timed(lambda: ds01(env, "gpu-status", "--json"))
        docker = timed(lambda: subprocess.run(["docker", "ps"], capture_output=True, check=True))
        report(f"gpu-status --json vs docker ps ({count} containers)", ours, docker, target=3.0)
    finally:
        remove_containers(root / "workspaces")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
