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

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import DEFAULT_LIMITS, ROOT, docker_cli, make_containers, number_argument, report, throwaway_host, timed  # noqa: E402

GPUS = 8
ROUNDS = 9
# Whole simulated GPUs, a slot each for the first GPUS containers.
SIMULATED_HOST = {"gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}] * GPUS},
                  "defaults": dict(DEFAULT_LIMITS, max_mig_instances=None, max_gpus_per_container=1,
                                   allow_full_gpu=True)}


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
    count = number_argument(1, 200)
    sys.path.insert(0, str(ROOT / "lib"))
    with throwaway_host("exporter", SIMULATED_HOST, made=f"{count} DS01 containers ({GPUS} with a GPU slot)",
                        make=lambda env: make_containers(env, "ex", count, start=False, gpu_holders=GPUS),
                        in_process=True) as (_, env):
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
        docker_ps = timed(docker_cli("ps", "-a"), ROUNDS)
        over_http = http_scrape(env)
        report(f"exporter scrape, in process, vs docker ps -a ({count} containers)", scrape, docker_ps)
        report(f"exporter scrape over HTTP vs docker ps -a ({count} containers)", over_http, docker_ps)
        report(f"engine listing alone vs docker ps -a ({count} containers)", listing, docker_ps)


if __name__ == "__main__":
    main()
