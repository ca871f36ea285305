#!/usr/bin/env python3
"""Benchmark: one ds01-exporter scrape against `docker ps -a`, with 200 real DS01 containers.

Real containers on the real engine (created through the library as container-create does, not
started; 8 hold simulated GPU slots, the rest are CPU-only), a real ledger and event log. Timed
in this one process, median of several rounds:
- the scrape as the exporter does it (one engine listing + one ledger read + the exposition text),
- the same through HTTP from a running `ds01-exporter --listen` (what Prometheus waits for),
- `docker ps -a` (the CLI, a fresh process each time, as an admin types it),
- the engine listing alone, to show what share of a scrape is the engine's.
Run as root on a host with the test image:  .venv/bin/python bench/exporter_scrape.py [COUNT]
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from container_list import IMAGE, ROOT, remove_containers, report, timed

GPUS = 8
ROUNDS = 9


def bench_env(root):
    config = {"default_group": "student", "workspace_root": str(root / "workspaces"),
              "defaults": {"max_mig_instances": None, "max_gpus_per_container": 1, "max_cpus": 1, "memory": "256m",
                           "shm_size": "64m", "pids_limit": 256, "max_containers_per_user": None,
                           "allow_full_gpu": True},
              "groups": {"student": {"members": []}}, "images": {"base": IMAGE},
              "gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}] * GPUS}}
    (root / "resource-limits.yaml").write_text(yaml.safe_dump(config))
    for name in ("state", "log"):
        (root / name).mkdir(exist_ok=True)
    env = {"DS01_CONFIG": str(root / "resource-limits.yaml"), "DS01_STATE_DIR": str(root / "state"),
           "DS01_LOG_DIR": str(root / "log")}
    os.environ.update(env)
    return dict(os.environ, **env)


def make_containers(env, count):
    from ds01common import config as config_module
    from ds01common import containers, dockerapi, identity

    docker = dockerapi.connect()
    config = config_module.load(env["DS01_CONFIG"])
    user = identity.current_user()
    for index in range(count):
        containers.create(docker, config, user, f"ex{index}", image=IMAGE, gpus=1 if index < GPUS else 0,
                          cpu_only=index >= GPUS, state_dir=env["DS01_STATE_DIR"], log_dir=env["DS01_LOG_DIR"])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_scrape(env):
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "bin" / "ds01-exporter"), "--listen", f"127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=5).read()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        return timed(lambda: urllib.request.urlopen(url, timeout=30).read(), ROUNDS)  # noqa: S310
    finally:
        server.terminate()
        server.wait()


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sys.path.insert(0, str(ROOT / "lib"))
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-exporter-"))
    env = bench_env(root)
    try:
        began = time.perf_counter()
        make_containers(env, count)
        print(f"made {count} DS01 containers ({GPUS} with a GPU slot) in {time.perf_counter() - began:.1f}s")
        from ds01common import cli, dockerapi
        from ds01common.commands.ds01_exporter import make_collector
        from ds01common.monitoring import exporter, snapshot

        collector = make_collector(cli.Context())
        text = exporter.exposition(collector)  # the first scrape also reads the whole event log
        listed = len(dockerapi.list_containers(snapshot.MANAGED_FILTER))
        print(f"one scrape: {len(text.splitlines())} lines, {len(text)} bytes; the engine lists {listed} DS01 "
              "containers in all (others' count too on a shared engine)")
        scrape = timed(lambda: exporter.exposition(collector), ROUNDS)
        listing = timed(lambda: dockerapi.list_containers(snapshot.MANAGED_FILTER), ROUNDS)
        docker_ps = timed(lambda: subprocess.run(["docker", "ps", "-a"], capture_output=True, check=True), ROUNDS)
        over_http = http_scrape(env)
        report(f"exporter scrape, in process, vs docker ps -a ({count} containers)", scrape, docker_ps)
        report(f"exporter scrape over HTTP vs docker ps -a ({count} containers)", over_http, docker_ps)
        report(f"engine listing alone vs docker ps -a ({count} containers)", listing, docker_ps)
    finally:
        remove_containers(root / "workspaces")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
