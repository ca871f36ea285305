#!/usr/bin/env python3
"""Benchmark: `gpu-status --json` against `docker ps` with 100 running DS01 containers.

The host is simulated (2 GPUs split into 7 MIG slots each); 14 containers hold a slot, the rest
run CPU-only, so the ledger reconciles against every one of them. Both are timed as commands (a
fresh process each), in the same run, median of several rounds. Goal (issue 10): ratio <= 3.
Run as root on a host with the test image:
    .venv/bin/python bench/gpu_status.py [COUNT]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import DEFAULT_LIMITS, command_against_docker  # noqa: E402

SLOTS_PER_GPU = 7
# A simulated MIG host (2 GPUs of 7 slots each) and no per-user GPU quota.
SIMULATED_HOST = {"gpus": {"simulate": [{"memory": "80g", "mig": ["1g.10gb"] * SLOTS_PER_GPU}] * 2},
                  "defaults": dict(DEFAULT_LIMITS, max_mig_instances=None, max_gpus_per_container=1,
                                   max_gpu_equivalents=None)}


if __name__ == "__main__":
    command_against_docker("gpu-status", "gs", 100, ["gpu-status", "--json"], ["ps"], target=3.0,
                           config=SIMULATED_HOST, gpu_holders=2 * SLOTS_PER_GPU)
