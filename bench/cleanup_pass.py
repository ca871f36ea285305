#!/usr/bin/env python3
"""One cleanup-idle-containers pass over 100 running DS01 containers, against 100 sequential
`docker stats --no-stream` calls (the way a one-at-a-time sampler would do it).

The sequential baseline runs SEQUENTIAL_CALLS real calls (default 10) and extrapolates to 100,
since each call costs the engine's ~2 s two-frame sample; set DS01_BENCH_SEQUENTIAL=100 to run
them all. The containers are plain busybox sleepers labelled as DS01 containers, with their
workspaces in a temp dir; the pass is limited to that dir and removed afterwards.
Usage: .venv/bin/python bench/cleanup_pass.py [COUNT]
"""

import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))

import docker  # noqa: E402
import yaml  # noqa: E402
from ds01common import config as config_module  # noqa: E402
from ds01common import identity, lifecycle  # noqa: E402

IMAGE = os.environ.get("DS01_TEST_IMAGE", "ds01-test/busybox:latest")
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SEQUENTIAL_CALLS = int(os.environ.get("DS01_BENCH_SEQUENTIAL", "10"))
TARGET_SECONDS = 5.0


def start_containers(client, root, count):
    user = identity.current_user()

    def one(index):
        workspace = root / "workspaces" / f"bench{index}"
        workspace.mkdir(parents=True)
        labels = {"ds01.managed": "true", "ds01.user": user.name, "ds01.uid": str(user.uid),
                  "ds01.project": f"bench{index}", "ds01.gpu.slots": "", "ds01.workspace": str(workspace)}
        return client.containers.run(IMAGE, ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"],
                                     name=f"bench{index}-{os.getpid()}._.{user.uid}", labels=labels, detach=True,
                                     init=True)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def remove_containers(containers):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda container: container.remove(force=True), containers))


def main():
    client = docker.from_env(timeout=300)
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-cleanup-"))
    for name in ("state", "log"):
        (root / name).mkdir()
    (root / "limits.yaml").write_text(yaml.safe_dump({
        "workspace_root": str(root / "workspaces"), "defaults": {"idle_timeout": "2h", "max_runtime": "48h"}}))
    config = config_module.load(root / "limits.yaml")
    print(f"starting {COUNT} containers …", flush=True)
    containers = start_containers(client, root, COUNT)
    try:
        started = time.perf_counter()
        report = lifecycle.run_pass(client, config, state_dir=root / "state", log_dir=root / "log",
                                    workspace_under=str(root / "workspaces"))
        pass_seconds = time.perf_counter() - started
        measured = sum(1 for item in report["containers"] if item["cpu_percent"] is not None)
        print(f"one pass: {report['checked']} containers checked, {measured} CPU-sampled, "
              f"{len(report['actions'])} actions, {pass_seconds:.2f} s "
              f"({'within' if pass_seconds < TARGET_SECONDS else 'OVER'} the {TARGET_SECONDS:.0f} s target)")
        calls = min(SEQUENTIAL_CALLS, len(containers))
        started = time.perf_counter()
        for container in containers[:calls]:
            subprocess.run(["docker", "stats", "--no-stream", container.id], check=True, capture_output=True)
        per_call = (time.perf_counter() - started) / calls
        sequential = per_call * COUNT
        note = "" if calls == COUNT else f" (extrapolated from {calls} calls)"
        print(f"{COUNT} sequential `docker stats --no-stream`: {sequential:.1f} s{note}, {per_call:.2f} s each")
        print(f"ratio: the pass is {sequential / pass_seconds:.1f}x faster than sequential docker stats")
    finally:
        remove_containers(containers)
        subprocess.run(["rm", "-rf", str(root)], check=False)


if __name__ == "__main__":
    main()
