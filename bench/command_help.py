#!/usr/bin/env python3
"""Benchmark: every command's `--help` against `python3 -c pass` (the interpreter alone) and a
bare `argparse` `--help` (the floor any argparse-based command pays), timed in the same run as
fresh processes, median of several rounds. Goal (issue 10): any --help <= 2x `python3 -c pass`.

Measured twice: the checkout's bin/ (argparse every time) and, as root, an installed copy
(`make install` into a temporary DESTDIR, run by its own venv with -I as its shebang does),
where a lone --help prints the text `make install` rendered (commands/rendered_help.py).
    .venv/bin/python bench/command_help.py
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
ROUNDS = 11
INTERPRETER = [sys.executable, "-c", "pass"]
# Python may write .pyc files: with PYTHONDONTWRITEBYTECODE, every run of a checkout recompiles
# each module edited since its .pyc was written, which no installed command ever does.
ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def seconds(command):
    began = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRONMENT, check=False)
    return time.perf_counter() - began


def median_ratio(command, reference):
    """Median of `command`'s time over `reference`'s, each round timing both back to back: the
    CPUs are shared, and a reference timed once at the start would drift from the rest."""
    ours, theirs = [], []
    for _ in range(ROUNDS):
        theirs.append(seconds(reference))
        ours.append(seconds(command))
    return statistics.median(ours) / statistics.median(theirs)


def help_ratios(label, python_command, bin_dir):
    ratios = {}
    for script in sorted(path for path in bin_dir.iterdir() if not path.is_symlink()):
        ratios[script.name] = median_ratio([*python_command, str(script), "--help"], INTERPRETER)
    worst = max(ratios, key=ratios.get)
    print(f"{label}: {len(ratios)} commands, median ratio {statistics.median(ratios.values()):.2f}, "
          f"worst {worst} {ratios[worst]:.2f} (target <= 2.0: {'met' if ratios[worst] <= 2.0 else 'MISSED'})")


def install_copy(destdir):
    """`make install` into destdir (PREFIX=/usr/local there); its bin dir and venv python."""
    subprocess.run(["make", "-s", "install", f"DESTDIR={destdir}", "PREFIX=/usr/local"], cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return destdir / "usr/local/bin", destdir / "usr/local/lib/ds01/venv/bin/python"


def main():
    interpreter = statistics.median(seconds(INTERPRETER) for _ in range(ROUNDS))
    bare = median_ratio([sys.executable, "-c", "import argparse; argparse.ArgumentParser().parse_args(['--help'])"],
                        INTERPRETER)
    print(f"python3 -c pass: {interpreter * 1000:.1f} ms")
    print(f"bare argparse --help: ratio {bare:.2f} (the floor for argparse)")
    help_ratios("checkout bin/ (argparse)", [sys.executable], BIN)
    if os.getuid() != 0:
        print("installed copy: skipped (make install needs root)")
        return
    destdir = Path(tempfile.mkdtemp(prefix="ds01-bench-help-"))
    try:
        bin_dir, python = install_copy(destdir)
        help_ratios("installed copy (rendered help)", [str(python), "-I"], bin_dir)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


if __name__ == "__main__":
    main()
