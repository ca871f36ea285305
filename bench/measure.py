"""What the benchmarks share: a throwaway DS01 on the real engine with DS01 containers made
through the library, commands timed as fresh processes (median of several rounds), plain
`docker run -d` with DS01's limits to compare with, and the printed ratio.

Not a benchmark itself: the others import it (`sys.path` holds bench/ when one of them runs).
"""

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin"
IMAGE = "ds01-test/busybox:latest"
ROUNDS = 7
KEEP_ALIVE = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"
DS01_DIRS = ("DS01_CONFIG", "DS01_STATE_DIR", "DS01_LOG_DIR")
# Small limits, so that hundreds of containers fit on one host; `bench_env`'s `defaults`.
DEFAULT_LIMITS = {"max_mig_instances": 1, "max_cpus": 1, "memory": "256m", "shm_size": "64m", "pids_limit": 256,
                  "max_containers_per_user": None}


def number_argument(position, default):
    """The whole number given as argument `position` on the command line, else `default`."""
    return int(sys.argv[position]) if len(sys.argv) > position else default


def bench_env(root, config=None):
    """A throwaway DS01 (config, state, logs, workspaces) under `root`; returns the environment.

    `config` (a mapping) replaces top-level keys of the small default config."""
    document = {
        "default_group": "student", "workspace_root": str(root / "workspaces"),
        "defaults": dict(DEFAULT_LIMITS),
        "groups": {"student": {"members": []}},
        "images": {"base": IMAGE},  # a configured image anyone may run
    }
    document.update(config or {})
    (root / "resource-limits.yaml").write_text(yaml.safe_dump(document))
    for name in ("state", "log"):
        (root / name).mkdir(exist_ok=True)
    environment = dict(os.environ, DS01_CONFIG=str(root / "resource-limits.yaml"), DS01_STATE_DIR=str(root / "state"),
                       DS01_LOG_DIR=str(root / "log"))
    # Commands read their compiled modules as an installed copy does (make install compiles them);
    # with this set, every run would recompile each module edited since its .pyc was written.
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def ds01(env, command, *args, check=True):
    result = subprocess.run([sys.executable, str(BIN / command), *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"{command} {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def docker_cli(*args):
    """A function that runs `docker ARGS...` (a fresh process, as an admin types it), for `timed`."""
    return lambda: subprocess.run(["docker", *args], capture_output=True, check=True)


def make_containers(env, prefix, count, *, start=True, gpu_holders=0):
    """`count` DS01 containers made through the library, as container-deploy (`start`) or
    container-create would; the first `gpu_holders` hold a GPU slot, the others run CPU-only."""
    sys.path.insert(0, str(ROOT / "lib"))
    from ds01common import config as config_module
    from ds01common import containers, dockerapi, identity

    docker = dockerapi.connect()
    config = config_module.load(env["DS01_CONFIG"])
    user = identity.current_user()
    names = []
    for index in range(count):
        name = f"{prefix}{index}"
        create = containers.deploy if start else containers.create
        gpu = {"gpus": 1} if index < gpu_holders else {"cpu_only": True}
        create(docker, config, user, name, image=IMAGE, state_dir=env["DS01_STATE_DIR"], log_dir=env["DS01_LOG_DIR"],
               **gpu)
        names.append(name)
    return names


def remove_containers(workspace_root):
    """Remove the DS01 containers whose workspace lies under `workspace_root` (this run's only)."""
    listed = subprocess.run(["docker", "ps", "-aq", "--filter", "label=ds01.managed=true"],
                            capture_output=True, text=True).stdout.split()
    mine = []
    for container_id in listed:
        label = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "ds01.workspace"}}', container_id],
                               capture_output=True, text=True).stdout.strip()
        if label.startswith(str(workspace_root)):
            mine.append(container_id)
    if mine:
        subprocess.run(["docker", "rm", "-f", *mine], capture_output=True)


@contextlib.contextmanager
def throwaway_host(name, config=None, make=None, made="", in_process=False):
    """(root, environment) of a throwaway DS01 (`bench_env`); `make(env)`, when given, fills it
    and the time it took is printed as "made `made` in ...". `in_process`: this process's DS01_*
    variables name it too (a benchmark that runs DS01 in process). Its containers, and the plain
    containers labelled with its run label (root.name), go afterwards, and its files."""
    root = Path(tempfile.mkdtemp(prefix=f"ds01-bench-{name}-"))
    env = bench_env(root, config)
    settle_config(env)
    if in_process:
        os.environ.update({variable: env[variable] for variable in DS01_DIRS})
    try:
        if make is not None:
            began = time.perf_counter()
            make(env)
            print(f"made {made} in {time.perf_counter() - began:.1f}s")
        yield root, env
    finally:
        remove_containers(root / "workspaces")
        remove_plain(root.name)
        shutil.rmtree(root, ignore_errors=True)


def settle_config(env):
    """Let the fresh config age past the parsed-config cache's racy window and have one command
    write the cache, as on a lab's server, where the config was not written a moment ago: else
    the first rounds would parse YAML (config_cache.py) and time the bench's set-up, not DS01."""
    if str(ROOT / "lib") not in sys.path:
        sys.path.insert(0, str(ROOT / "lib"))
    from ds01common import config_cache

    time.sleep(config_cache.RACY_SECONDS + 0.2)
    ds01(env, "get-resource-limits")


def plain_run_command(name, workspace, run_label, port=None):
    """`docker run -d` of a container with the limits DS01 gives one (`port`: also publish
    127.0.0.1:port -> 8888, as DS01 does for every container, ports.py)."""
    workspace.mkdir(parents=True, exist_ok=True)
    publish = ["-p", f"127.0.0.1:{port}:8888"] if port else []
    return ["docker", "run", "-d", "--name", name, "--init", "-u", f"{os.getuid()}:{os.getgid()}", *publish,
            "--memory", "256m", "--memory-swap", "256m", "--cpus", "1", "--shm-size", "64m",
            "--pids-limit", "256", "--security-opt", "no-new-privileges", "-e", "HOME=/workspace",
            "-v", f"{workspace}:/workspace", "-w", "/workspace", "--label", f"ds01bench={run_label}",
            "--entrypoint", "/bin/sh", IMAGE, "-c", KEEP_ALIVE]


def remove_plain(run_label):
    """Remove the plain `docker run` containers of one run."""
    plain = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=ds01bench={run_label}"],
                           capture_output=True, text=True).stdout.split()
    if plain:
        subprocess.run(["docker", "rm", "-f", *plain], capture_output=True)


def timed(function, rounds=ROUNDS):
    """The median wall-clock seconds of `rounds` calls of `function`."""
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def report(label, ours, docker, target=None):
    ratio = ours / docker
    verdict = "" if target is None else f"  (target <= {target:.1f}: {'met' if ratio <= target else 'MISSED'})"
    print(f"{label}: ours {ours * 1000:.0f} ms, docker {docker * 1000:.0f} ms, ratio {ratio:.2f}{verdict}")
    return ratio


def command_against_docker(name, prefix, default_count, ours, docker, *, target=None, rounds=ROUNDS, config=None,
                           gpu_holders=0):
    """The benchmark of container_list.py and its like: the DS01 command `ours` (name and arguments)
    against `docker` (the docker CLI's arguments), each timed as a fresh process, on a throwaway
    DS01 with COUNT (the first argument, else `default_count`) running containers named
    `prefix`N, the first `gpu_holders` of them holding a GPU slot."""
    count = number_argument(1, default_count)
    holders = min(count, gpu_holders)
    with throwaway_host(name, config, make=lambda env: make_containers(env, prefix, count, gpu_holders=holders),
                        made=f"{count} running containers") as (_, env):
        ours_seconds = timed(lambda: ds01(env, *ours), rounds)
        docker_seconds = timed(docker_cli(*docker), rounds)
        report(f"{' '.join(ours)} vs docker {' '.join(docker)} ({count} containers)", ours_seconds, docker_seconds,
               target)
