#!/usr/bin/env python3
"""N parallel creates through DS01's reserve+create+confirm against N parallel plain `docker create`.

Prints wall-clock ratios (target <= 1.5):
  threads   DS01 reserve + SDK create + confirm, N threads in one process   vs N `docker create` CLIs
  sdk       the same DS01 path                                              vs N plain SDK creates (threads)
  processes N Python processes each doing the DS01 path (interpreter start included) vs N CLIs
Uses simulated GPUs (N slots) and the offline test image; removes what it creates.
Usage: bench/parallel_create.py [N] [ROUNDS]"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))

from ds01common import allocator, config, dockerapi, identity  # noqa: E402
from ds01common.records import Limits  # noqa: E402

IMAGE = os.environ.get("DS01_TEST_IMAGE", "ds01-test/busybox:latest")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 12
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
LIMITS = Limits(max_mig_instances=None, max_gpus_per_container=1, max_gpu_equivalents=None,
                allow_full_gpu=True, max_containers_per_user=None, priority=10)
CHILD = """
import sys; sys.path.insert(0, sys.argv[1])
from ds01common import allocator, config, dockerapi, identity
cfg = config.load(); user = identity.current_user(); docker = dockerapi.connect()
name = sys.argv[2]
with allocator.reserve(docker, cfg, user, cfg.limits_for(user.login), name, allocator.GpuRequest(),
                       state_dir=sys.argv[3], log_dir=sys.argv[3]) as allocation:
    labels = {"ds01.managed": "true", "ds01.user": user.name, "ds01.bench": "1", **allocation.labels}
    container = docker.containers.create(sys.argv[4], name=name, labels=labels, environment=allocation.environment)
    allocation.confirm(container.id)
"""


def run_parallel(work):
    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def cleanup(docker):
    for container in docker.containers.list(all=True, filters={"label": "ds01.bench=1"}, sparse=True):
        subprocess.run(["docker", "rm", "-f", container.id], capture_output=True)


def main():
    work = Path(tempfile.mkdtemp(prefix="ds01-bench-"))
    atexit.register(shutil.rmtree, work, True)  # removed even when a round fails
    (work / "config.yaml").write_text("gpus:\n  simulate:\n" + "    - {memory: 80g}\n" * N +
                                      "defaults: {max_mig_instances: null, allow_full_gpu: true, "
                                      "max_containers_per_user: null}\n")
    os.environ.update(DS01_CONFIG=str(work / "config.yaml"), DS01_STATE_DIR=str(work), DS01_LOG_DIR=str(work))
    cfg = config.load()
    docker = dockerapi.connect()
    user = identity.current_user()
    results = {"cli": [], "sdk": [], "threads": [], "processes": []}
    for _ in range(ROUNDS):
        tag = uuid.uuid4().hex[:6]

        def cli(index, tag=tag):
            subprocess.run(["docker", "create", "--label", "ds01.bench=1", "--name", f"cli{tag}{index}", IMAGE],
                           check=True, capture_output=True)

        def sdk(index, tag=tag):
            docker.containers.create(IMAGE, name=f"sdk{tag}{index}", labels={"ds01.bench": "1"})

        def ds01(index, tag=tag):
            name = f"ds{tag}{index}._.{user.uid}"
            with allocator.reserve(docker, cfg, user, LIMITS, name, allocator.GpuRequest(),
                                   state_dir=work, log_dir=work) as allocation:
                labels = {"ds01.managed": "true", "ds01.user": user.name, "ds01.bench": "1", **allocation.labels}
                container = docker.containers.create(IMAGE, name=name, labels=labels,
                                                     environment=allocation.environment)
                allocation.confirm(container.id)

        def process(index, tag=tag):
            subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "lib"), f"pr{tag}{index}._.{user.uid}",
                            str(work), IMAGE], check=True, capture_output=True)

        for key, work_function in (("cli", cli), ("sdk", sdk), ("threads", ds01)):
            results[key].append(run_parallel(work_function))
            cleanup(docker)
        results["processes"].append(run_parallel(process))
        cleanup(docker)
    best = {key: min(values) for key, values in results.items()}
    print(f"N={N} parallel creates, best of {ROUNDS} rounds (seconds): " +
          ", ".join(f"{key} {value:.2f}" for key, value in best.items()))
    print(f"ratio DS01 threads / docker CLI: {best['threads'] / best['cli']:.2f}  (target <= 1.5)")
    print(f"ratio DS01 threads / plain SDK:  {best['threads'] / best['sdk']:.2f}")
    print(f"ratio DS01 processes / docker CLI: {best['processes'] / best['cli']:.2f}  (Python start-up included)")


if __name__ == "__main__":
    main()
