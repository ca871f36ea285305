#!/usr/bin/env python3
"""Benchmark: every command's `--help` against `python3 -c pass` (the interpreter alone) and a
bare `argparse` `--help` (the floor any argparse-based command pays), timed in the same run as
fresh processes, median of several rounds. Goal (issue 10): any --help <= 2x `python3 -c pass`.
    .venv/bin/python bench/command_help.py
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
ROUNDS = 15


def median_seconds(command):
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main():
    interpreter = median_seconds([sys.executable, "-c", "pass"])
    bare = median_seconds([sys.executable, "-c", "import argparse; argparse.ArgumentParser().parse_args(['--help'])"])
    print(f"python3 -c pass: {interpreter * 1000:.1f} ms")
    print(f"bare argparse --help: {bare * 1000:.1f} ms, ratio {bare / interpreter:.2f} (the floor for argparse)")
    ratios = {}
    for script in sorted(path for path in BIN.iterdir() if not path.is_symlink()):
        ratios[script.name] = median_seconds([sys.executable, str(script), "--help"]) / interpreter
    worst = max(ratios, key=ratios.get)
    print(f"commands: {len(ratios)}, median ratio {statistics.median(ratios.values()):.2f}, "
          f"worst {worst} {ratios[worst]:.2f} (target <= 2.0: {'met' if ratios[worst] <= 2.0 else 'MISSED'})")


if __name__ == "__main__":
    main()
