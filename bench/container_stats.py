#!/usr/bin/env python3
"""Benchmark: `container-stats --json` against `docker stats --no-stream` with 50 running containers.

    .venv/bin/python bench/container_stats.py [COUNT]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import command_against_docker  # noqa: E402

if __name__ == "__main__":
    command_against_docker("stats", "bs", 50, ["container-stats", "--json"], ["stats", "--no-stream"], rounds=3)
