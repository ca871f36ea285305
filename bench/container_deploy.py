#!/usr/bin/env python3
"""Benchmark: `container-deploy NAME --background` against `docker run -d` with the same limits.

Each round deploys one container each way (removal is not timed). Measured on an empty host
and again with 50 DS01 containers present (the GPU ledger reconciles against all of them).
    .venv/bin/python bench/container_deploy.py [ROUNDS]
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from container_list import IMAGE, bench_env, ds01, make_containers, remove_containers, report  # noqa: E402

KEEP_ALIVE = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"


def docker_run(name, workspace, run_label):
    workspace.mkdir(parents=True, exist_ok=True)
    subprocess.run(["docker", "run", "-d", "--name", name, "--init", "-u", f"{os.getuid()}:{os.getgid()}",
                    "--memory", "256m", "--memory-swap", "256m", "--cpus", "1", "--shm-size", "64m",
                    "--pids-limit", "256", "--security-opt", "no-new-privileges", "-e", "HOME=/workspace",
                    "-v", f"{workspace}:/workspace", "-w", "/workspace", "--label", f"ds01bench={run_label}",
                    "--entrypoint", "/bin/sh", IMAGE, "-c", KEEP_ALIVE], capture_output=True, check=True)


def compare(env, root, rounds, tag):
    ours, docker = [], []
    for index in range(rounds):
        name = f"bd{tag}{index}"
        began = time.perf_counter()
        ds01(env, "container-deploy", name, "--background", "--cpu-only", "--image", IMAGE)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        docker_run(f"plain-{root.name}-{name}", root / "plain" / name, root.name)
        docker.append(time.perf_counter() - began)
    ours.sort()
    docker.sort()
    return ours[len(ours) // 2], docker[len(docker) // 2]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-deploy-"))
    env = bench_env(root)
    try:
        ours, docker = compare(env, root, rounds, "a")
        report("container-deploy --background vs docker run -d (empty host)", ours, docker, target=1.3)
        make_containers(env, "bulk", 50 - rounds, start=False)
        ours, docker = compare(env, root, rounds, "b")
        report("container-deploy --background vs docker run -d (50 DS01 containers)", ours, docker, target=1.3)
    finally:
        remove_containers(root / "workspaces")
        plain = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=ds01bench={root.name}"],
                               capture_output=True, text=True).stdout.split()
        if plain:
            subprocess.run(["docker", "rm", "-f", *plain], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
