#!/usr/bin/env python3
"""Benchmark: `container-deploy NAME --background` against `docker run -d` with the same limits.

Each round deploys one container each way (removal is not timed). Measured on an empty host
and again with 50 DS01 containers present (the GPU ledger reconciles against all of them).
    .venv/bin/python bench/container_deploy.py [ROUNDS]
"""

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import IMAGE, ds01, make_containers, number_argument, plain_run_command, report, throwaway_host  # noqa: E402

PUBLISHED_PORT = 39100  # the plain containers' published ports: PUBLISHED_PORT + round


def docker_run(name, workspace, run_label, port=None):
    subprocess.run(plain_run_command(name, workspace, run_label, port), capture_output=True, check=True)


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
    rounds = number_argument(1, 7)
    with throwaway_host("deploy") as (root, env):
        for tag, label in (("a", "empty host"), ("b", "50 DS01 containers")):
            if tag == "b":
                make_containers(env, "bulk", 50 - rounds, start=False)
            ours, docker, published = compare(env, root, rounds, tag)
            report(f"container-deploy --background vs docker run -d ({label})", ours, docker, target=1.3)
            report(f"  the same, docker run -d also publishing a port as DS01 does ({label})", ours, published,
                   target=1.3)


if __name__ == "__main__":
    main()
