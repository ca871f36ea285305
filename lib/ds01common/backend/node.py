"""The node side of the Slurm backend: what runs inside a DS01 job, on the node Slurm chose.

  python -m ds01common.backend.node job            (the batch script; request on stdin)
  python -m ds01common.backend.node exec NAME -- CMD...
  python -m ds01common.backend.node shell|start|stop|logs|stats NAME

`job` creates the user's container with the GPUs Slurm allocated (CUDA_VISIBLE_DEVICES from
the job's environment, never guessed), with the same labels, uid, limits and workspace as on
one server, prints READY_MARK to the job's output, and holds it until the job ends: scancel
or the time limit send SIGTERM, and the container is removed (the workspace stays). The
other verbs run as steps of that job (`srun --jobid J --overlap`) for container-run & co.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import Any

from .. import dockerapi, events, identity, inside, ports, process
from .. import labels as label
from ..errors import Ds01Error, NotFound
from ..records import ContainerDetails, Limits
from .jobspec import FAILED_MARK, READY_MARK, JobRequest, request_from_json

JOB_LABEL = "ds01.slurm.job"      # the Slurm job id holding this container
GRES_LABEL = "ds01.slurm.gres"    # what the job asked Slurm for ("gpu:1g.10gb:1")


def host_devices(job_environment: Mapping[str, str]) -> str:
    """The node's ids of the GPUs Slurm gave the job. SLURM_JOB_GPUS holds the node's own
    numbering even where cgroups renumber CUDA_VISIBLE_DEVICES from 0 inside the job; the
    Docker daemon lives outside the job's cgroup and needs the node's numbering."""
    return job_environment.get("SLURM_JOB_GPUS") or job_environment.get("CUDA_VISIBLE_DEVICES", "")


def container_environment(job_environment: Mapping[str, str], nvidia_runtime: bool = False) -> dict[str, str]:
    """The GPU variables the container gets: exactly the devices Slurm gave the job, never guessed.

    With the NVIDIA runtime only those GPUs exist in the container, numbered from 0 (UUIDs stay
    as they are); without it (fake GPUs, CPU nodes) the job's own CUDA_VISIBLE_DEVICES is passed on."""
    devices = host_devices(job_environment)
    if not devices:
        return {}
    if not nvidia_runtime:
        visible = job_environment.get("CUDA_VISIBLE_DEVICES") or devices
        return {"CUDA_VISIBLE_DEVICES": visible, "NVIDIA_VISIBLE_DEVICES": devices}
    ids = devices.split(",")
    visible_inside = devices if all(item.startswith(("GPU-", "MIG-")) for item in ids) else ",".join(
        str(number) for number in range(len(ids)))
    return {"CUDA_VISIBLE_DEVICES": visible_inside, "NVIDIA_VISIBLE_DEVICES": devices}


def job_labels(request: JobRequest, job_id: str, devices: str, created_at: str) -> dict[str, str]:
    return {
        label.MANAGED: label.MANAGED_VALUE, label.USER: request.user, label.UID: str(request.uid),
        label.PROJECT: request.name, label.CREATED_AT: created_at, label.WORKSPACE: request.workspace,
        # No DS01 slot ids: Slurm owns the GPUs here, and the ledger must never count them.
        label.GPU_SLOTS: "", label.GPU_UUIDS: devices, JOB_LABEL: job_id, GRES_LABEL: request.gres or "",
    }


def create_options(request: JobRequest, job_id: str, job_environment: Mapping[str, str],
                   created_at: str, nvidia_runtime: bool, home: str | None = None,
                   port: int | None = None) -> dict[str, Any]:
    """docker create options for the job's container, built by container_spec.create_options as on one
    server: HOME `home` (default the request's), the workspace at /workspace as the working
    directory, and with `port` the host port forwarded to the service port (ports.py)."""
    from .. import container_spec

    user = identity.User(request.login, request.user, request.uid, request.gid, "")
    limits = Limits(max_cpus=request.cpus, memory=request.memory_mb * 2**20 if request.memory_mb else None,
                    shm_size=request.shm_size, pids_limit=request.pids_limit)
    environment = container_environment(job_environment, nvidia_runtime)
    devices = host_devices(job_environment)
    requests = dockerapi.gpu_device_requests(devices.split(",")) if devices and nvidia_runtime else None
    return dict(container_spec.create_options(user, request.name, request.image, request.workspace, limits,
                                          job_labels(request, job_id, devices, created_at), environment,
                                          requests, home=home or request.home, port=port))


def run_job(docker: Any, request: JobRequest, job_environment: Mapping[str, str], *, log_dir: str | None,
            stopping: threading.Event, say: Any, config: Any = None, state_dir: str | None = None) -> int:
    """Create, start, hold until `stopping` is set, remove. Returns the job's exit status.

    With `state_dir` (the node's DS01 state dir, for the ports lock) the container gets a host
    port as on one server; HOME is the image's `ds01.home` as this node's engine sees the image."""
    from ..units import iso_utc

    job_id = job_environment.get("SLURM_JOB_ID", "")
    if config is not None:
        from ..security import check_image

        # Same rule as on one server: own images, configured ones and images.allowed only.
        image = check_image(docker, config, identity.current_user(), request.image)
    else:
        image = dockerapi.inspect_image(docker, request.image)
    leftover = dockerapi.get_container(docker, request.docker_name, f"container {request.name}")
    if leftover is not None:
        # A container of an earlier job that died without cleaning up (node crash): its job is gone.
        if leftover.labels.get(JOB_LABEL) == job_id or not label.is_managed(leftover.labels):
            raise Ds01Error(f"a container named {request.docker_name} already exists on this node")
        dockerapi.remove_container(docker, leftover.id, force=True, what=f"container {request.name}")
    nvidia = "nvidia" in dockerapi.engine_runtimes(docker)
    view = inside.for_image(request.image, inside.image_labels(image))
    port_range = ports.parse_range(config.setting("connect.ports") if config is not None else None)
    # The port is chosen and the container labelled with it under one lock, as on one server.
    reserved = ports.reserve(docker, state_dir, port_range) if state_dir else contextlib.nullcontext(None)
    with reserved as port:
        options = create_options(request, job_id, job_environment, iso_utc(), nvidia, home=view.home, port=port)
        container = dockerapi.create_container(docker, options, f"container {request.name}")
    try:
        dockerapi.start_container(docker, container.id, f"container {request.name}")
        events.record("container.started", request.user, log_dir=log_dir, container=request.name,
                      slurm_job=job_id, gpus=options["environment"].get("CUDA_VISIBLE_DEVICES", ""))
        say(f"{READY_MARK} {container.id}")
        stopping.wait()
    finally:
        dockerapi.remove_container(docker, container.id, force=True, what=f"container {request.name}")
        events.record("container.removed", request.user, log_dir=log_dir, container=request.name,
                      slurm_job=job_id, reason="job ended")
    return 0


def find_container(docker: Any, user: identity.User, name: str) -> ContainerDetails:
    from .. import containers

    return containers.find(docker, user, name)


def _docker_cli() -> str:
    program = process.which("docker")
    if program is None:
        raise Ds01Error("the docker command-line client is not installed on this node")
    return program


def step(verb: str, name: str, command: list[str]) -> int:
    """One verb for an existing job's container, as the job's owner, on its node."""
    from .. import container_exec

    user = identity.current_user()
    docker = dockerapi.connect()
    container = find_container(docker, user, name)
    if verb == "attach":
        if container.status != "running":
            raise Ds01Error(f"{name} is not running: use `container-run {name}` to start it and enter")
        verb = "shell"
    if verb in ("exec", "shell", "start") and container.status != "running":
        container = dockerapi.start_and_inspect(docker, container.id, f"container {name}")
    if verb == "start":
        return 0
    if verb == "stop":
        dockerapi.stop_container(docker, container.id, timeout=10, what=f"container {name}")
        return 0
    if verb == "exec":
        return process.run(container_exec.exec_command(user, container, command), check=False,
                           capture=False).returncode
    if verb == "shell":
        return process.run(container_exec.exec_command(user, container, container_exec.SHELL, terminal=True),
                           check=False, capture=False).returncode
    if verb == "logs":
        return process.run([_docker_cli(), "logs", *command, container.name], check=False, capture=False).returncode
    if verb == "stats":
        return process.run([_docker_cli(), "stats", "--no-stream", container.name], check=False,
                           capture=False).returncode
    raise NotFound(f"unknown verb {verb}")


def main(argv: list[str]) -> int:
    environment = dict(os.environ)
    try:
        if argv[:1] == ["job"]:
            request = request_from_json(sys.stdin.read())
            stopping = threading.Event()
            # scancel and the time limit send SIGTERM: leave the wait and remove the container.
            for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(number, lambda *_: stopping.set())

            def say(line: str) -> None:
                print(line, flush=True)

            from .. import config as config_module
            from .. import paths

            return run_job(dockerapi.connect(), request, environment, log_dir=None, stopping=stopping, say=say,
                           config=config_module.load(), state_dir=str(paths.state_dir()))
        if len(argv) >= 2:
            command = argv[argv.index("--") + 1:] if "--" in argv else argv[2:]
            return step(argv[0], argv[1], command)
        print("usage: python -m ds01common.backend.node job | VERB NAME [-- CMD...]", file=sys.stderr)
        return 2
    except Ds01Error as error:
        print(f"{FAILED_MARK} {error}", flush=True)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except subprocess.SubprocessError as error:  # pragma: no cover - a tool vanished mid-run
        print(f"{FAILED_MARK} {error}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
