#!/usr/bin/env python3
"""Benchmark: N `container-deploy NAME --background --cpu-only` commands at once against N
`docker run -d` at once with the same limits (container_deploy.py's), as a user's script would
start them: fresh processes, in the same run. Prints wall-clock and the children's CPU time
(the CLI's own CPU; dockerd's work is the same on both sides). Goal (issue 10): ratio <= 1.5.
    .venv/bin/python bench/parallel_deploy.py [N] [ROUNDS]
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from container_deploy import KEEP_ALIVE  # noqa: E402
from container_list import BIN, IMAGE, bench_env, remove_containers, report  # noqa: E402


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def all_at_once(commands, env=None):
    """(wall seconds, CPU seconds of the processes) for running `commands` in parallel."""
    cpu = children_cpu()
    began = time.perf_counter()
    running = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for command in commands]
    for process, command in zip(running, commands):
        _, error = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {error.decode().strip()}")
    return time.perf_counter() - began, children_cpu() - cpu


def docker_run_command(name, workspace, run_label):
    workspace.mkdir(parents=True, exist_ok=True)
    return ["docker", "run", "-d", "--name", name, "--init", "-u", f"{os.getuid()}:{os.getgid()}",
            "--memory", "256m", "--memory-swap", "256m", "--cpus", "1", "--shm-size", "64m",
            "--pids-limit", "256", "--security-opt", "no-new-privileges", "-e", "HOME=/workspace",
            "-v", f"{workspace}:/workspace", "-w", "/workspace", "--label", f"ds01bench={run_label}",
            "--entrypoint", "/bin/sh", IMAGE, "-c", KEEP_ALIVE]


def remove_plain(run_label):
    plain = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=ds01bench={run_label}"],
                           capture_output=True, text=True).stdout.split()
    if plain:
        subprocess.run(["docker", "rm", "-f", *plain], capture_output=True)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    root = Path(tempfile.mkdtemp(prefix="ds01-bench-pdeploy-"))
    env = bench_env(root)
    ours, docker, ours_cpu, docker_cpu = [], [], [], []
    try:
        for round_index in range(rounds):
            deploys = [[sys.executable, str(BIN / "container-deploy"), f"pd{round_index}x{index}", "--background",
                        "--cpu-only", "--image", IMAGE] for index in range(count)]
            wall, cpu = all_at_once(deploys, env)
            ours.append(wall)
            ours_cpu.append(cpu)
            runs = [docker_run_command(f"plain-{root.name}-{round_index}-{index}", root / "plain" / str(index),
                                       root.name) for index in range(count)]
            wall, cpu = all_at_once(runs)
            docker.append(wall)
            docker_cpu.append(cpu)
            remove_containers(root / "workspaces")
            remove_plain(root.name)
        report(f"{count} parallel container-deploy --background vs {count} parallel docker run -d (median of "
               f"{rounds})", statistics.median(ours), statistics.median(docker), target=1.5)
        print(f"CPU time of the commands: ours {statistics.median(ours_cpu):.2f} s, "
              f"docker CLI {statistics.median(docker_cpu):.2f} s")
    finally:
        remove_containers(root / "workspaces")
        remove_plain(root.name)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
