#!/usr/bin/env python3
"""Benchmark: `container-list --json` against `docker ps -a` with 200 DS01 containers.

Both are timed as commands (a fresh process each, as a user types them), in the same run,
median of several rounds. Goal (issue 10): ratio <= 2. Run as root on a host with the test image:
    .venv/bin/python bench/container_list.py [COUNT]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import command_against_docker  # noqa: E402

if __name__ == "__main__":
    command_against_docker("list", "bl", 200, ["container-list", "--json"], ["ps", "-a"], target=2.0)
