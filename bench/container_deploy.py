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

PUBLISHED_PORT = 39100  # the plain containers' published ports: PUBLISHED_PORT + round
KEEP_ALIVE = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"


def docker_run(name, workspace, run_label, port=None):
    """`port`: also publish 127.0.0.1:port -> 8888, as DS01 does for every container (ports.py)."""
    workspace.mkdir(parents=True, exist_ok=True)
    publish = ["-p", f"127.0.0.1:{port}:8888"] if port else []
    subprocess.run(["docker", "run", "-d", "--name", name, "--init", "-u", f"{os.getuid()}:{os.getgid()}", *publish,
                    "--memory", "256m", "--memory-swap", "256m", "--cpus", "1", "--shm-size", "64m",
                    "--pids-limit", "256", "--security-opt", "no-new-privileges", "-e", "HOME=/workspace",
                    "-v", f"{workspace}:/workspace", "-w", "/workspace", "--label", f"ds01bench={run_label}",
                    "--entrypoint", "/bin/sh", IMAGE, "-c", KEEP_ALIVE], capture_output=True, check=True)


def compare(env, root, rounds, tag):
    ours, docker, published = [], [], []
    for index in range(rounds):
        name = f"bd{tag}{index}"
        began = time.perf_counter()
        ds01(env, "container-deploy", name, "--background", "--cpu-only", "--image", IMAGE)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        docker_run(f"plain-{root.name}-{name}", root / "plain" / name, root.name)
        docker.append(time.perf_counter() - began)
        began = time.perf_counter()
        port = PUBLISHED_PORT + 100 * (tag == "b") + index
        docker_run(f"plainp-{root.name}-{name}", root / "plainp" / name, root.name, port=port)
        published.append(time.perf_counter() - began)
    return tuple(sorted(samples)[len(samples) // 2] for samples in (ours, docker, published))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-deploy-"))
    env = bench_env(root)
    try:
        for tag, label in (("a", "empty host"), ("b", "50 DS01 containers")):
            if tag == "b":
                make_containers(env, "bulk", 50 - rounds, start=False)
            ours, docker, published = compare(env, root, rounds, tag)
            report(f"container-deploy --background vs docker run -d ({label})", ours, docker, target=1.3)
            report(f"  the same, docker run -d also publishing a port as DS01 does ({label})", ours, published,
                   target=1.3)
    finally:
        remove_containers(root / "workspaces")
        plain = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=ds01bench={root.name}"],
                               capture_output=True, text=True).stdout.split()
        if plain:
            subprocess.run(["docker", "rm", "-f", *plain], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
