"""What a DS01 container asks of a cluster, and the texts made from it: the #SBATCH lines, the
batch script that runs the container as a Slurm job, and the docker run line of an export.

Pure functions of a `JobRequest`, so tests check every line without Slurm or Docker.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass

from .. import labels as label
from .. import names
from ..cluster import ClusterSettings, gpu_type_for, job_size
from ..errors import PermissionDenied, ResourcesUnavailable, UsageError
from ..inside import FOREIGN_HOME
from ..records import Limits

JOB_NAME_PREFIX = "ds01-"
READY_MARK = "DS01-READY"
FAILED_MARK = "DS01-FAILED"
CONTAINER_WORKSPACE = "/workspace"


@dataclass(frozen=True)
class JobRequest:
    """One container as a job: who, what image, which workspace, and the resources to ask for."""

    name: str
    login: str
    user: str            # the sanitised name DS01 labels carry
    uid: int
    gid: int
    image: str
    workspace: str
    gpu_count: int = 0
    gpu_type: str | None = None
    full_gpu: bool = False
    cpus: int | None = None
    memory_mb: int | None = None
    minutes: int | None = None
    partition: str | None = None
    account: str | None = None
    shm_size: int | None = None
    pids_limit: int | None = None
    # HOME inside, as on one server (inside.py): the image's `ds01.home` where DS01 built it, else
    # /tmp; never the workspace, which stays /workspace and the working directory.
    home: str = FOREIGN_HOME

    @property
    def job_name(self) -> str:
        return job_name(self.name)

    @property
    def gres(self) -> str | None:
        return gres_text(self.gpu_count, self.gpu_type)

    @property
    def docker_name(self) -> str:
        return str(names.docker_name(self.name, self.uid))


def job_name(name: str) -> str:
    return JOB_NAME_PREFIX + name


def ds01_name(job_name_text: str) -> str | None:
    """The DS01 container name a job name carries, or None for a job DS01 did not submit."""
    if not job_name_text.startswith(JOB_NAME_PREFIX):
        return None
    return job_name_text[len(JOB_NAME_PREFIX):] or None


def gres_text(count: int, gpu_type: str | None) -> str | None:
    if count <= 0:
        return None
    return f"gpu:{gpu_type}:{count}" if gpu_type else f"gpu:{count}"


def build_request(*, name: str, login: str, user: str, uid: int, gid: int, image: str, workspace: str,
                  limits: Limits, cluster: ClusterSettings | None, gpus: int | None = None,
                  cpu_only: bool = False, full_gpu: bool = False, home: str | None = None) -> JobRequest:
    """The job for a create/deploy/export request under the user's limits (checked here, so a
    request Slurm could never grant is refused at once with DS01's words, not left pending)."""
    if cpu_only and (gpus or full_gpu):
        raise UsageError("--cpu-only cannot be combined with --gpus or --full-gpu")
    if gpus is not None and gpus < 0:
        raise UsageError("--gpus must be 0 or more")
    count = 0 if cpu_only else (1 if gpus is None else gpus)
    if full_gpu and not limits.allow_full_gpu:
        raise PermissionDenied(f"permission denied: your group ({limits.group}) may not take a full GPU; "
                               "drop --full-gpu to get a MIG instance")
    per_container = limits.max_gpus_per_container
    if per_container is not None and count > per_container:
        raise ResourcesUnavailable(f"{count} GPUs asked for, but one container may have at most {per_container}")
    size = job_size(limits)
    return JobRequest(name=name, login=login, user=user, uid=uid, gid=gid, image=image, workspace=workspace,
                      gpu_count=count, gpu_type=gpu_type_for(cluster, full_gpu) if count else None,
                      full_gpu=full_gpu, cpus=size.cpus, memory_mb=size.memory_mb, minutes=size.minutes,
                      partition=cluster.partition if cluster else None,
                      account=cluster.account if cluster else None, shm_size=limits.shm_size,
                      pids_limit=limits.pids_limit, home=home or FOREIGN_HOME)


def sbatch_options(request: JobRequest) -> list[str]:
    """The resource options, as `--key=value` words (for #SBATCH lines and sbatch alike)."""
    options = [f"--job-name={request.job_name}", "--nodes=1", "--ntasks=1"]
    # What is not asked for (None, 0) is left to the cluster's defaults.
    optional: tuple[tuple[str, object, str], ...] = (
        ("partition", request.partition, ""), ("account", request.account, ""), ("gres", request.gres, ""),
        ("cpus-per-task", request.cpus, ""), ("mem", request.memory_mb, "M"), ("time", request.minutes, ""))
    options += [f"--{option}={value}{unit}" for option, value, unit in optional if value]
    return options


def sbatch_header(request: JobRequest, extra: list[str] | None = None) -> list[str]:
    return ["#!/bin/sh"] + [f"#SBATCH {option}" for option in sbatch_options(request) + (extra or [])]


def job_script(request: JobRequest, *, python: str, lib_dir: str, output: str) -> str:
    """The batch script DS01 submits: the node-side runner (backend.node) reads the request
    from the here-document, starts the container with the job's GPUs and holds it until the
    job ends (scancel, time limit), when it removes the container. The workspace stays."""
    extra = [f"--output={output}", "--open-mode=append", f"--chdir={request.workspace}",
             f"--comment={request.image}"]
    spec = json.dumps(asdict(request), sort_keys=True)
    lines = sbatch_header(request, extra) + [
        "# DS01 container job: the container runs as long as this job; `container-retire` ends both.",
        f"exec env PYTHONPATH={shlex.quote(lib_dir)} {shlex.quote(python)} -m ds01common.backend.node job <<'DS01_JOB'",
        spec,
        "DS01_JOB",
    ]
    return "\n".join(lines) + "\n"


def request_from_json(text: str) -> JobRequest:
    return JobRequest(**json.loads(text))


def docker_run_words(request: JobRequest, command: list[str]) -> list[str]:
    """`docker run` for an exported batch job: same uid, limits, workspace; GPUs from Slurm."""
    words = ["docker", "run", "--rm", "--init", "--name", f"{request.docker_name}-$SLURM_JOB_ID",
             "--user", f"{request.uid}:{request.gid}", "--workdir", CONTAINER_WORKSPACE,
             "--volume", f"{request.workspace}:{CONTAINER_WORKSPACE}", "--security-opt", "no-new-privileges",
             "--env", f"HOME={request.home}", "--env", f"USER={request.user}",
             "--label", f"{label.MANAGED}={label.MANAGED_VALUE}", "--label", f"{label.USER}={request.user}",
             "--label", f"{label.UID}={request.uid}", "--label", f"{label.PROJECT}={request.name}"]
    if request.cpus:
        words += ["--cpus", str(request.cpus)]
    if request.memory_mb:
        words += ["--memory", f"{request.memory_mb}m", "--memory-swap", f"{request.memory_mb}m"]
    if request.shm_size:
        words += ["--shm-size", str(request.shm_size)]
    if request.pids_limit:
        words += ["--pids-limit", str(request.pids_limit)]
    return words + [request.image] + command


def export_script(request: JobRequest, command: list[str]) -> str:
    """A standalone batch script for `sbatch`: the #SBATCH lines and the container run."""
    run = " ".join(shlex.quote(word) for word in docker_run_words(request, command))
    # $SLURM_JOB_ID and the GPU variables must expand in the job, not be quoted away.
    run = run.replace(shlex.quote(f"{request.docker_name}-$SLURM_JOB_ID"), f"{request.docker_name}-\"$SLURM_JOB_ID\"")
    lines = sbatch_header(request, [f"--chdir={request.workspace}"]) + [
        f"# Exported by DS01 from {request.user}'s container {request.name}.",
        "set -eu",
    ]
    if request.gres:
        lines += [
            "# Slurm chose the GPUs: hand exactly those to the container.",
            'gpu_options="--env CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-}"',
            'if docker info --format "{{json .Runtimes}}" 2>/dev/null | grep -q nvidia; then',
            "  # Only Slurm's GPUs exist in the container (the node's numbering), each one visible there.",
            '  gpu_options="--runtime nvidia --env '
            'NVIDIA_VISIBLE_DEVICES=${SLURM_JOB_GPUS:-${CUDA_VISIBLE_DEVICES:-none}}"',
            "fi",
            f"exec {run.replace('docker run ', 'docker run $gpu_options ', 1)}",
        ]
    else:
        lines.append(f"exec {run}")
    return "\n".join(lines) + "\n"
