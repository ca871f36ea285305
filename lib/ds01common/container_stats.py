"""Resource use of DS01 containers: CPU %, memory used / limit, processes, GPU slots.

One list call finds the containers; the running ones are sampled in parallel (each sample
takes the engine about a second, so sampling one after another would not scale).
"""

from __future__ import annotations

import concurrent.futures
import logging
from typing import TYPE_CHECKING, Any

from . import container_listing, containers, dockerapi

if TYPE_CHECKING:
    from .identity import User

MAX_WORKERS = 64


def cpu_percent_between(before: dict[str, Any], after: dict[str, Any]) -> float | None:
    """CPU % (100 = one full core, as `docker stats` shows it) between two stats documents;
    None when they cannot tell (no system time passed, fields missing)."""
    try:
        cpu_delta = after["cpu_stats"]["cpu_usage"]["total_usage"] - before["cpu_stats"]["cpu_usage"]["total_usage"]
        system_delta = after["cpu_stats"]["system_cpu_usage"] - before["cpu_stats"]["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    if system_delta <= 0 or cpu_delta < 0:
        return 0.0 if system_delta > 0 else None
    cpu = after["cpu_stats"]
    online = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or []) or 1
    return round(float(cpu_delta / system_delta * online * 100.0), 2)


def precpu_percent(sample: dict[str, Any]) -> float | None:
    """CPU % from one non-one-shot stats document (the engine filled precpu_stats), or None."""
    return cpu_percent_between({"cpu_stats": sample.get("precpu_stats") or {}}, sample)


def cpu_percent(sample: dict[str, Any]) -> float:
    """CPU % for display: a sample without a previous reading (or unmeasurable) shows as 0."""
    if not (sample.get("precpu_stats") or {}).get("system_cpu_usage"):
        return 0.0
    return precpu_percent(sample) or 0.0


def memory_used(sample: dict[str, Any]) -> int:
    """Memory in use without the page cache (cgroup v1 `cache`, v2 `inactive_file`)."""
    memory = sample.get("memory_stats") or {}
    usage = memory.get("usage") or 0
    details = memory.get("stats") or {}
    cache = details.get("total_inactive_file", details.get("inactive_file", details.get("cache", 0))) or 0
    return max(usage - cache, 0)


def from_sample(item: dict[str, Any], sample: dict[str, Any] | None) -> dict[str, Any]:
    memory = (sample or {}).get("memory_stats") or {}
    return dict(item, cpu_percent=cpu_percent(sample or {}), memory_used=memory_used(sample or {}),
                memory_limit=memory.get("limit"), pids=((sample or {}).get("pids_stats") or {}).get("current"))


def _sample(docker: Any, container_id: str) -> dict[str, Any]:
    return dockerapi.container_stats_once(docker, container_id, what="container stats")


def collect(docker: Any, user: User | None = None, name: str | None = None, *,
            gpu_processes: Any = None, gpu_utilization: Any = None) -> list[dict[str, Any]]:
    """Stats for the user's containers (or every DS01 container with user None), or one by name.

    Each entry's "gpu" holds its slots' use (gpu_use.py; None without slots); `gpu_processes`
    and `gpu_utilization` replace the NVML calls (tests)."""
    from . import gpu_use

    if name is not None:
        assert user is not None, "a container name is looked up among one user's containers"
        container = containers.find(docker, user, name)
        entries = [entry for entry in container_listing.list_entries(docker, user) if entry.get("Id") == container.id]
    else:
        entries = container_listing.list_entries(docker, user)
    results = [dict(container_listing.summary(entry), id=entry["Id"]) for entry in entries]
    running = [item for item in results if item["status"] == "running"]
    samples: dict[str, dict[str, Any] | None] = {}
    if running:
        # More threads than the client's connection pool: urllib3 opens extra connections and
        # warns when it closes them afterwards; that is expected here, not worth a line.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        workers = min(MAX_WORKERS, len(running))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_sample, docker, item["id"]): item["id"] for item in running}
            for future in concurrent.futures.as_completed(futures):
                try:
                    samples[futures[future]] = future.result()
                except Exception:  # noqa: BLE001 - a container that stopped meanwhile has no sample
                    samples[futures[future]] = None
    use = gpu_use.measure(results, gpu_processes, gpu_utilization)
    stats = []
    for item in results:
        sample = samples.get(item["id"])
        entry = from_sample(item, sample)
        entry["gpu"] = use[item["id"]].document() if item["id"] in use else None
        entry.pop("id")
        stats.append(entry)
    return stats
