#!/usr/bin/env python3
"""Benchmark: `container-stats --json` against `docker stats --no-stream` with 50 running containers.

    .venv/bin/python bench/container_stats.py [COUNT]
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from container_list import bench_env, ds01, make_containers, remove_containers, report, timed  # noqa: E402


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-stats-"))
    env = bench_env(root)
    try:
        began = time.perf_counter()
        make_containers(env, "bs", count)
        print(f"made {count} running containers in {time.perf_counter() - began:.1f}s")
        ours = timed(lambda: ds01(env, "container-stats", "--json"), rounds=3)
        docker = timed(lambda: subprocess.run(["docker", "stats", "--no-stream"], capture_output=True, check=True),
                       rounds=3)
        report(f"container-stats --json vs docker stats --no-stream ({count} containers)", ours, docker)
    finally:
        remove_containers(root / "workspaces")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
