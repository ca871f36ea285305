"""Measuring what DS01 containers are doing: CPU from Docker stats, GPU from NVML processes.

Everything here observes; nothing decides or acts (that is lifecycle.py). One pass lists the
DS01 containers (label ds01.managed=true, never anything else), inspects and samples them
in parallel, and maps GPU processes to containers through /proc/PID/cgroup.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dockerapi, log
from . import labels as label
from .container_stats import cpu_percent_between as cpu_percent
from .container_stats import precpu_percent
from .units import iso_utc

MANAGED_FILTER = label.MANAGED_FILTER
KEEP_ALIVE_FILE = ".keep-alive"
# Every running container is sampled at once (see sample_cpu); beyond this many, in rounds.
MAX_WORKERS = 128
INSPECT_WORKERS = 16
ENGINE_SAMPLE_SECONDS = 1.0
RUNNING_STATES = ("running", "paused")
# cgroup v1 (cgroupfs driver): /docker/<id>; v2 or the systemd driver: .../docker-<id>.scope.
_CGROUP_ID_RE = re.compile(r"(?:/docker/|docker-)([0-9a-f]{64})(?:\.scope)?(?:/|$)")


@dataclass
class Observation:
    """One DS01 container as seen in this pass. Times are epoch seconds (None when unknown)."""

    id: str
    docker_name: str
    name: str
    user: str
    uid: int | None
    status: str
    workspace: str | None
    gpu_slots: list[str]
    created: float | None
    started: float | None = None
    finished: float | None = None
    cpu_percent: float | None = None
    gpu_memory: int = 0
    gpu_utilization: float | None = None
    keep_alive: float | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """Up (a paused container counts: it holds its GPU and does nothing, so it can idle out)."""
        return self.status in RUNNING_STATES


# --- times ---

def parse_docker_time(text: str | None) -> float | None:
    """Epoch seconds from Docker's RFC 3339 times (nanoseconds, 'Z'); None for the zero time."""
    if not text or text.startswith("0001-01-01"):
        return None
    text = text.strip().replace("Z", "+00:00")
    # Python wants at most 6 fractional digits.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else iso_utc(epoch)


# --- CPU ---

def _one_stats(docker: Any, container_id: str, one_shot: bool) -> Any:
    return dockerapi.container_stats_once(docker, container_id, one_shot=one_shot)


def sample_cpu(docker: Any, container_ids: Iterable[str], sample_seconds: float = 1.0,
               workers: int = MAX_WORKERS) -> dict[str, float | None]:
    """{id: cpu %} for running containers, all sampled at the same time.

    The engine's stats collector ticks once a second for every subscribed container, so
    concurrent non-streaming requests (two frames each, precpu-based) finish together in
    about 1-2 s however many containers there are. A `sample_seconds` longer than that
    window takes two one-shot samples that far apart instead (a longer average).
    A container that vanished or errs is simply missing from the result.
    """
    container_ids = list(container_ids)
    if not container_ids:
        return {}
    import logging

    # Threads beyond the SDK's 10 pooled connections open their own; urllib3 would warn.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(workers, len(container_ids)))) as pool:
        def round_of_samples(one_shot: bool) -> dict[str, Any]:
            futures = {container_id: pool.submit(_one_stats, docker, container_id, one_shot)
                       for container_id in container_ids}
            results: dict[str, Any] = {}
            for container_id, future in futures.items():
                try:
                    results[container_id] = future.result()
                except Exception as error:  # noqa: BLE001 - one container's failure must not stop the pass
                    log.debug("stats for %s failed: %s", container_id[:12], error)
            return results

        if sample_seconds <= ENGINE_SAMPLE_SECONDS or not _supports_one_shot(docker):
            return {container_id: precpu_percent(stats)
                    for container_id, stats in round_of_samples(one_shot=False).items()}
        first = round_of_samples(one_shot=True)
        time.sleep(sample_seconds)
        second = round_of_samples(one_shot=True)
    return {container_id: cpu_percent(first[container_id], second[container_id])
            for container_id in second if container_id in first}


def _supports_one_shot(docker: Any) -> bool:
    version = getattr(getattr(docker, "api", None), "api_version", "1.41")
    try:
        major, minor = (int(part) for part in str(version).split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= (1, 41)


# --- GPU ---

def container_id_from_cgroup(text: str) -> str | None:
    """The Docker container id in a /proc/PID/cgroup text, or None (a host process)."""
    for line in text.splitlines():
        match = _CGROUP_ID_RE.search(line.split(":", 2)[-1])
        if match:
            return match.group(1)
    return None


def container_of_pid(pid: int | None, proc_root: str = "/proc") -> str | None:
    try:
        text = Path(proc_root, str(pid), "cgroup").read_text()
    except OSError:
        return None
    return container_id_from_cgroup(text)


def gpu_use_by_container(processes: Iterable[dict[str, Any]], proc_root: str = "/proc") -> dict[str, dict[str, Any]]:
    """{container id: {"memory": bytes, "gpus": {uuid, ...}, "pids": [..]}} from NVML's process list.

    Processes outside containers are ignored: DS01 never acts on them.
    """
    usage: dict[str, dict[str, Any]] = {}
    for process in processes or []:
        container_id = container_of_pid(process.get("pid"), proc_root)
        if container_id is None:
            continue
        entry = usage.setdefault(container_id, {"memory": 0, "gpus": set(), "pids": []})
        entry["memory"] += int(process.get("used_memory") or 0)
        if process.get("gpu_uuid"):
            entry["gpus"].add(process["gpu_uuid"])
        entry["pids"].append(process.get("pid"))
    return usage


def default_gpu_processes() -> list[dict[str, Any]]:
    """NVML's compute processes; [] (with a debug note) on a host without NVML."""
    from . import nvml
    try:
        return nvml.gpu_processes()
    except Exception as error:  # noqa: BLE001 - no NVML means no GPU activity to see
        log.debug("no GPU process list: %s", error)
        return []


def default_gpu_utilization(index: int) -> float | None:
    from . import nvml
    try:
        return nvml.gpu_utilization(index)
    except Exception as error:  # noqa: BLE001
        log.debug("no utilisation for GPU %s: %s", index, error)
        return None


# --- workspace ---

def keep_alive_time(workspace: str | None) -> float | None:
    """mtime of <workspace>/.keep-alive, or None."""
    if not workspace:
        return None
    try:
        return os.stat(Path(workspace) / KEEP_ALIVE_FILE).st_mtime
    except OSError:
        return None


# --- one observation pass ---

def _uid(labels: dict[str, str]) -> int | None:
    value = labels.get(label.UID) or ""
    return int(value) if value.isdigit() else None


def list_managed(docker: Any) -> list[dict[str, Any]]:
    """Summaries of every DS01 container (running, stopped and never started)."""
    return dockerapi.container_summaries(docker, MANAGED_FILTER)


def _inspect(docker: Any, container_id: str) -> dict[str, Any]:
    return dockerapi.inspect_container_json(docker, container_id)


def observe(docker: Any, *, sample_seconds: float = 1.0,
            gpu_processes: Callable[[], list[dict[str, Any]]] | None = None,
            gpu_utilization: Callable[[int], float | None] | None = None,
            proc_root: str = "/proc", workers: int = MAX_WORKERS,
            workspace_under: str | None = None) -> list[Observation]:
    """[Observation] for every DS01 container, with CPU, GPU and .keep-alive measured.

    `workspace_under` limits the pass to containers whose workspace lies under that dir.
    """
    from . import names

    summaries = [summary for summary in list_managed(docker)
                 if label.is_managed(summary.get("Labels"))
                 and workspace_is_under((summary.get("Labels") or {}).get(label.WORKSPACE), workspace_under)]
    ids = [summary["Id"] for summary in summaries]
    running_ids = [summary["Id"] for summary in summaries if summary.get("State") in RUNNING_STATES]
    # The CPU sample waits on the engine's collector; inspect and ask NVML meanwhile.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
        cpu_future = background.submit(sample_cpu, docker, running_ids, sample_seconds, workers)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(INSPECT_WORKERS, len(ids) or 1))) as pool:
            inspections = dict(zip(ids, pool.map(lambda cid: _safe(_inspect, docker, cid), ids)))
        processes = (gpu_processes or default_gpu_processes)() if running_ids else []
        cpu = cpu_future.result()
    observations = []
    for summary in summaries:
        details = inspections.get(summary["Id"])
        if details is None:  # removed while we looked
            continue
        labels = summary.get("Labels") or {}
        state = details.get("State") or {}
        docker_name = (summary.get("Names") or [details.get("Name", "")])[0].lstrip("/")
        short_name, _ = names.split_docker_name(docker_name)
        observations.append(Observation(
            id=summary["Id"], docker_name=docker_name, name=short_name,
            user=labels.get(label.USER, ""), uid=_uid(labels), status=state.get("Status") or summary.get("State", ""),
            workspace=labels.get(label.WORKSPACE), gpu_slots=label.slot_ids(labels),
            created=parse_docker_time(details.get("Created")) or summary.get("Created"),
            started=parse_docker_time(state.get("StartedAt")), finished=parse_docker_time(state.get("FinishedAt")),
            keep_alive=keep_alive_time(labels.get(label.WORKSPACE)), labels=labels))
    running = [observation for observation in observations if observation.running]
    usage = gpu_use_by_container(processes, proc_root)
    for observation in running:
        observation.cpu_percent = cpu.get(observation.id)
        use = usage.get(observation.id)
        if use:
            observation.gpu_memory = use["memory"]
            observation.gpu_utilization = _full_gpu_utilization(observation, gpu_utilization)
    return observations


def _full_gpu_utilization(observation: Observation,
                          gpu_utilization: Callable[[int], float | None] | None) -> float | None:
    """Highest utilisation of the whole GPUs this container holds (NVML has none per MIG device)."""
    whole = [slot for slot in observation.gpu_slots if ":" not in slot and slot.isdigit()]
    measure = gpu_utilization or default_gpu_utilization
    values = [value for value in (measure(int(slot)) for slot in whole) if value is not None]
    return max(values) if values else None


def workspace_is_under(path: str | None, directory: str | None) -> bool:
    if directory is None:
        return True
    if not path:
        return False
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == os.path.abspath(directory)


def _safe(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - a vanished container is skipped, not fatal
        log.debug("%s failed: %s", function.__name__, error)
        return None
