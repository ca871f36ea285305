"""The `cluster` config section: absent means this one server; `scheduler: slurm` means every
container is a Slurm job. Parsed into a frozen record the Slurm backend and exporters read.

Kept apart from config.py so the single-server path pays one dict lookup for it, nothing more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .records import Limits


@dataclass(frozen=True)
class ClusterSettings:
    scheduler: str
    partition: str | None = None
    full_gpu_type: str | None = None
    mig_type: str | None = None
    account: str = "ds01"
    slurm_conf: str | None = None
    start_timeout: float = 120.0


def settings(config: Any) -> ClusterSettings | None:
    """The config's cluster settings, or None for a single server (no section, or no scheduler)."""
    given = config.raw.get("cluster") or {}
    if not given.get("scheduler"):
        return None
    values = config.section("cluster")
    return ClusterSettings(scheduler=values["scheduler"], partition=values["partition"],
                           full_gpu_type=values["full_gpu_type"], mig_type=values["mig_type"],
                           account=values["account"], slurm_conf=values["slurm_conf"],
                           start_timeout=_seconds(values["start_timeout"]))


def _seconds(value: Any) -> float:
    """A duration as Config.section gives it: parsed to seconds, the table's default included."""
    return float(value or 120)


def gpu_type_for(cluster: ClusterSettings | None, full_gpu: bool) -> str | None:
    """The GRES type a request asks for: the full-GPU type for --full-gpu, else the MIG type."""
    if cluster is None:
        return None
    return cluster.full_gpu_type if full_gpu else cluster.mig_type


@dataclass(frozen=True)
class JobSize:
    """A user's per-container limits in the whole units Slurm takes (CPUs, MiB, minutes), rounded
    up; None where the limit is unlimited. The job request and the QoS both ask for these."""

    cpus: int | None
    memory_mb: int | None
    minutes: int | None


def job_size(limits: Limits) -> JobSize:
    return JobSize(cpus=math.ceil(limits.max_cpus) if limits.max_cpus else None,
                   memory_mb=math.ceil(limits.memory / 2**20) if limits.memory else None,
                   minutes=math.ceil(limits.max_runtime / 60) if limits.max_runtime else None)
