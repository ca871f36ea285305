#!/usr/bin/env python3
"""Benchmark: the login greeting (/etc/profile.d/ds01.sh) with 20 DS01 containers, against
`python3 -c pass`. The greeting must stay under 100 ms.

The profile script is rendered from config/ds01-profile.sh for this checkout and sourced by an
interactive `bash --norc --noprofile -i -c`, as a login would; the caller's containers (labelled
with their uid, 3 of them running) are made directly on the engine and removed afterwards.
Run as a user who can reach the engine, on a host with the test image:
    .venv/bin/python bench/login_greeting.py [COUNT]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "ds01-test/busybox:latest"
ROUNDS = 15
RUNNING = 3


def render_profile(directory):
    text = (ROOT / "config" / "ds01-profile.sh").read_text()
    script = Path(directory) / "ds01.sh"
    script.write_text(text.replace("@PYTHON@", sys.executable).replace("@LIBDIR@", str(ROOT / "lib")))
    return script


def median_ms(command, env, rounds=ROUNDS):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    sys.path.insert(0, str(ROOT / "lib"))
    from ds01common import config as config_module
    from ds01common import dockerapi, limits

    docker = dockerapi.connect()
    token = uuid.uuid4().hex[:6]
    made = []
    with tempfile.TemporaryDirectory(prefix="ds01-bench-greeting-") as home:
        config = config_module.load(ROOT / "config" / "resource-limits.yaml")
        Path(home, ".ds01-limits").write_text(limits.as_text("bench", config.limits_for("bench")))
        script = render_profile(home)
        try:
            for index in range(count):
                container = docker.containers.create(
                    IMAGE, ["sleep", "600"], name=f"greet{token}{index}._.{os.getuid()}",
                    labels={"ds01.managed": "true", "ds01.uid": str(os.getuid()), "ds01.user": "bench",
                            "ds01.gpu.slots": "", "ds01.project": f"greet{token}{index}"})
                made.append(container)
                if index < RUNNING:
                    container.start()
            env = dict(os.environ, HOME=home)
            shown = subprocess.run(["bash", "--norc", "--noprofile", "-i", "-c", f". {script}"], env=env,
                                   capture_output=True, text=True).stdout
            listed = sum(1 for line in shown.splitlines() if f"greet{token}" in line)
            greeting = median_ms(["bash", "--norc", "--noprofile", "-i", "-c", f". {script}"], env)
            bash_only = median_ms(["bash", "--norc", "--noprofile", "-i", "-c", ":"], env)
            # The interpreter DS01 runs on (a shell's `python3` may be a slow pyenv shim).
            python = median_ms([sys.executable, "-c", "pass"], env)
        finally:
            for container in made:
                container.remove(force=True)
    print(f"containers listed: {listed} of {count}")
    print(f"login greeting (bash -i sourcing ds01.sh): {greeting:.1f} ms (bash alone {bash_only:.1f} ms)")
    print(f"python3 -c pass ({sys.executable}): {python:.1f} ms")
    print(f"ratio greeting / python3 -c pass: {greeting / python:.2f}")
    print(f"budget: {'OK' if greeting < 100 else 'OVER'} (< 100 ms)")
    return 0 if greeting < 100 and listed == count else 1


if __name__ == "__main__":
    sys.exit(main())
