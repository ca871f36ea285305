"""The Slurm backend, login-node side: each DS01 container is a Slurm job.

create submits the job (GRES, CPUs, memory, time from the user's limits) and waits until the
node-side runner (backend.node) reports the container running, or, while the job pends,
either waits (`--wait`) or cancels it and answers exit 3 with Slurm's reason in words.
run/attach/stats/stop/start/logs reach the container through `srun --jobid J --overlap`;
retire/remove cancel the job, and the runner removes the container (the workspace stays).
Slurm holds the queue and the quotas (QoS from `setup-slurm-limits`), not DS01's ledger.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import events, identity, names, slurm
from ..clock import SYSTEM, Clock
from ..cluster import ClusterSettings
from ..errors import Ds01Error, NotFound, ResourcesUnavailable
from .jobspec import FAILED_MARK, READY_MARK, JobRequest, build_request, ds01_name, job_name, job_script

ENDED_STATES = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
                "BOOT_FAIL", "DEADLINE")
POLL_SECONDS = 0.5
RETIRE_TIMEOUT = 60.0


def lib_dir() -> str:
    """The directory holding ds01common: the same path on every node (one install, shared or copied)."""
    return str(Path(__file__).resolve().parent.parent.parent)


@dataclass
class SlurmBackend:
    """Containers as Slurm jobs for `user` (an identity.User), under `config` and `cluster`."""

    config: Any
    cluster: ClusterSettings
    user: identity.User
    tools: slurm.Slurm
    log_dir: str | None = None
    acting_as_other: bool = False     # root or an admin acting with --user: run tools as the user
    clock: Clock = SYSTEM             # waits poll Slurm on it (tests pass a fake one)
    python: str = field(default_factory=lambda: sys.executable)

    # --- helpers ---

    @property
    def _as_user(self) -> int | None:
        return self.user.uid if self.acting_as_other else None

    def output_path(self, name: str) -> Path:
        return Path(self.user.home) / ".ds01" / "slurm" / f"{name}-%j.out"

    def _output_of(self, name: str, job_id: int) -> str:
        path = Path(str(self.output_path(name)).replace("%j", str(job_id)))
        try:
            return path.read_text(errors="replace")
        except OSError:
            return ""

    def job_for(self, name: str) -> slurm.Job:
        """The user's active job for container `name`; NotFound (exit 1) when there is none."""
        names.validate_name(name)
        jobs = self.tools.jobs(user=self.user.login, name=job_name(name))
        if not jobs:
            raise NotFound(f"no container named {name}: see `container-list`")
        return jobs[0]

    def _running_job(self, name: str) -> slurm.Job:
        job = self.job_for(name)
        if not job.running:
            raise Ds01Error(f"{name} is waiting in Slurm's queue ({slurm.reason_in_words(job.reason)}); "
                            "it has no container yet")
        return job

    def _node_command(self, verb: str, name: str, command: list[str] | None = None) -> list[str]:
        return ["env", f"PYTHONPATH={lib_dir()}", self.python, "-m", "ds01common.backend.node", verb, name,
                *(["--", *command] if command else [])]

    # --- create ---

    def create(self, name: str, *, image: str, gpus: int | None = None, cpu_only: bool = False,
               full_gpu: bool = False, wait: float | None = None, workspace: str | None = None,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Submit the job and return once its container runs; see the module docstring."""
        from .. import container_spec, userfiles

        names.validate_name(name)
        if self.tools.jobs(user=self.user.login, name=job_name(name)):
            raise Ds01Error(f"{name} exists already: see `container-list`, or retire it first")
        limits = self.config.limits_for(self.user.login)
        workspace_path = container_spec.prepare_workspace(self.config, self.user, name, workspace)
        request = build_request(name=name, login=self.user.login, user=self.user.name, uid=self.user.uid,
                                gid=self.user.gid, image=image, workspace=str(workspace_path), limits=limits,
                                cluster=self.cluster, gpus=gpus, cpu_only=cpu_only, full_gpu=full_gpu)
        output = self.output_path(name)
        userfiles.make_directory(output.parent, self.user)
        script = job_script(request, python=self.python, lib_dir=lib_dir(), output=str(output))
        job_id = self.tools.submit(script, user=self._as_user)
        events.record("container.submitted", self.user.name, log_dir=self.log_dir, container=name,
                      slurm_job=job_id, gres=request.gres or "")
        try:
            self._wait_until_running(request, job_id, wait, progress)
        except BaseException:
            self._cancel_quietly(job_id)
            raise
        return {"name": name, "docker_name": request.docker_name, "id": str(job_id), "job": job_id,
                "user": self.user.name, "image": request.image, "gpus": [request.gres] if request.gres else [],
                "workspace": str(workspace_path), "status": "running", "notice": None}

    def _wait_until_running(self, request: JobRequest, job_id: int, wait: float | None,
                            progress: Callable[[str], None] | None) -> None:
        started = self.clock.monotonic()
        running_since: float | None = None
        last_said = ""
        while True:
            record = self.tools.job(job_id) or {}
            state = record.get("JobState", "")
            reason = record.get("Reason", "")
            now = self.clock.monotonic()
            if state == "PENDING":
                if reason not in slurm.TRANSIENT_REASONS:
                    words = slurm.reason_in_words(reason)
                    if wait is None:
                        raise ResourcesUnavailable(f"Slurm will not start {request.name} now: {words} ({reason}); "
                                                   "use --wait to queue for it")
                    if now - started > wait:
                        raise ResourcesUnavailable(f"{request.name} waited {wait:.0f}s in Slurm's queue and was not "
                                                   f"served: {words} ({reason})")
                    position = self.queue_position(job_id)
                    said = f"queued in Slurm as job {job_id}, position {position}: {words}"
                    if progress and said != last_said:
                        progress(said)
                        last_said = said
            elif state == "RUNNING":
                running_since = now if running_since is None else running_since
                output = self._output_of(request.name, job_id)
                if READY_MARK in output:
                    return
                if FAILED_MARK in output:
                    raise Ds01Error(f"{request.name} could not start on its node: {_failure(output)}")
                if now - running_since > self.cluster.start_timeout:
                    raise Ds01Error(f"{request.name}'s job {job_id} runs but its container did not start "
                                    f"within {self.cluster.start_timeout:.0f}s")
            elif state in ENDED_STATES or not record:
                output = self._output_of(request.name, job_id)
                detail = _failure(output) if FAILED_MARK in output else (output.strip().splitlines() or [state])[-1]
                raise Ds01Error(f"{request.name}'s job {job_id} ended before its container ran: {detail}")
            self.clock.sleep(POLL_SECONDS)

    def queue_position(self, job_id: int) -> int:
        """1 + the pending jobs ahead of this one in its partition (higher priority first)."""
        pending = [job for job in self.tools.jobs() if job.pending]
        pending.sort(key=lambda job: (-job.priority, job.job_id))
        for index, job in enumerate(pending):
            if job.job_id == job_id:
                return index + 1
        return 1

    def _cancel_quietly(self, job_id: int) -> None:
        try:
            self.tools.cancel(job_id, user=self._as_user)
        except Ds01Error:
            pass

    # --- the verbs that reach the container through the job ---

    def run_step(self, name: str, verb: str, command: list[str] | None = None, terminal: bool = False) -> int:
        job = self._running_job(name)
        result = self.tools.step(job.job_id, self._node_command(verb, name, command), user=self._as_user,
                                 terminal=terminal)
        return result.returncode

    def exec(self, name: str, command: list[str], terminal: bool = False) -> int:
        return self.run_step(name, "exec", command, terminal=terminal)

    def shell(self, name: str) -> int:
        return self.run_step(name, "shell", terminal=True)

    def start(self, name: str) -> int:
        return self.run_step(name, "start")

    def stop(self, name: str) -> int:
        return self.run_step(name, "stop")

    def logs(self, name: str, follow: bool = False, tail: int | None = None) -> int:
        options = (["--follow"] if follow else []) + (["--tail", str(max(tail, 0))] if tail is not None else [])
        return self.run_step(name, "logs", options or None)

    def stats(self, name: str) -> int:
        return self.run_step(name, "stats")

    # --- retire / list ---

    def retire(self, name: str, *, actor: str | None = None, reason: str = "manual") -> dict[str, Any]:
        """scancel the job; its runner removes the container. Returns once the job is gone."""
        job = self.job_for(name)
        record = self.tools.job(job.job_id) or {}
        self.tools.cancel(job.job_id, user=self._as_user)
        deadline = self.clock.monotonic() + RETIRE_TIMEOUT
        while self.clock.monotonic() < deadline:
            if not [item for item in self.tools.jobs(job_id=job.job_id) if item.state in slurm.ACTIVE_STATES]:
                break
            self.clock.sleep(POLL_SECONDS)
        events.record("container.retired", self.user.name, log_dir=self.log_dir, container=name,
                      actor=actor or self.user.name, reason=reason, slurm_job=job.job_id)
        return {"name": name, "gpus": [job.gres] if job.gres else [], "workspace": record.get("WorkDir"),
                "image": None, "job": job.job_id}

    def list(self, everyone: bool = False) -> list[dict[str, Any]]:
        """Contract section 9's shape, from squeue: the user's (or everyone's) DS01 jobs."""
        jobs = self.tools.jobs(user=None if everyone else self.user.login)
        return [summary(job) for job in jobs if ds01_name(job.name)]


def summary(job: slurm.Job) -> dict[str, Any]:
    status = "running" if job.running else f"queued ({job.reason})" if job.pending else job.state.lower()
    return {"name": ds01_name(job.name), "user": identity.sanitise(job.user), "status": status,
            "image": job.comment, "gpus": [job.gres] if job.gres else [], "created": job.submitted,
            "job": job.job_id, "node": job.nodes if job.running else ""}


def _failure(output: str) -> str:
    for line in reversed(output.splitlines()):
        if line.startswith(FAILED_MARK):
            return line[len(FAILED_MARK):].strip()
    return "see the job's output"


def for_context(config: Any, cluster: ClusterSettings, user: identity.User, caller: identity.User | None,
                environment: Mapping[str, str], clock: Clock = SYSTEM, log_dir: str | None = None) -> SlurmBackend:
    """The backend for a command: the tools get the command's `environment` (PATH, the user's)."""
    tools = slurm.from_settings(cluster.slurm_conf, environment)
    return SlurmBackend(config=config, cluster=cluster, user=user, tools=tools, log_dir=log_dir,
                        acting_as_other=caller is not None and caller.uid != user.uid, clock=clock)
