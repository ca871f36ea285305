"""`make demo` keeps to itself: it passes while other users' containers hold the very GPU
slots its simulated server has, and neither side sees the other's containers."""

import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

IMAGE = "ds01-test/busybox:latest"  # what scripts/demo.sh runs


def test_the_demo_passes_while_someone_else_holds_the_slots_it_simulates(docker_client, unique):
    labels = {"ds01.managed": "true", "ds01.user": f"someone{unique}", "ds01.uid": "4242",
              "ds01.project": "busy", "ds01.gpu.slots": "0,1:0,1:1,1:2,1:3", "ds01.gpu.uuids": "",
              "ds01.workspace": f"/tmp/nowhere-{unique}", "ds01.created_at": "2026-01-01T00:00:00Z"}
    squatter = docker_client.containers.create(IMAGE, ["sleep", "60"], name=f"busy-{unique}._.4242",
                                               labels=labels)
    try:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("DS01_")}
        environment["PATH"] = f"{Path(sys.executable).parent}:{environment.get('PATH', '')}"
        demo = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, capture_output=True, text=True,
                              env=environment, timeout=300)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        assert f"busy-{unique}" not in demo.stdout and f"someone{unique}" not in demo.stdout
        assert "the quota of 2 slots is reached" in demo.stdout  # its own quota, not the squatter's slots
        docker_client.containers.get(squatter.id)  # the demo's cleanup left others' containers alone
    finally:
        squatter.remove(force=True)
