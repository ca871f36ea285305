#!/usr/bin/env python3
"""Benchmark: N `container-deploy NAME --background --cpu-only` commands at once against N
`docker run -d` at once with the same limits (measure.plain_run_command), as a user's script would
start them: fresh processes, in the same run. Prints wall-clock and the children's CPU time
(the CLI's own CPU; dockerd's work is the same on both sides). Goal (issue 10): ratio <= 1.5.
    .venv/bin/python bench/parallel_deploy.py [N] [ROUNDS]
"""

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import (  # noqa: E402
    BIN,
    IMAGE,
    number_argument,
    plain_run_command,
    remove_containers,
    remove_plain,
    report,
    throwaway_host,
)


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


def main():
    count = number_argument(1, 20)
    rounds = number_argument(2, 3)
    ours, docker, ours_cpu, docker_cpu = [], [], [], []
    with throwaway_host("pdeploy") as (root, env):
        for round_index in range(rounds):
            deploys = [[sys.executable, str(BIN / "container-deploy"), f"pd{round_index}x{index}", "--background",
                        "--cpu-only", "--image", IMAGE] for index in range(count)]
            wall, cpu = all_at_once(deploys, env)
            ours.append(wall)
            ours_cpu.append(cpu)
            runs = [plain_run_command(f"plain-{root.name}-{round_index}-{index}", root / "plain" / str(index),
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


if __name__ == "__main__":
    main()
