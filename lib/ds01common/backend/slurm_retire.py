"""Retirement of a job-backed container by the idle cleanup on a node (cron, as root): the
same policy as on one server decides, and the action goes through Slurm (scancel)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import identity
from ..cluster import settings
from ..errors import Ds01Error
from .slurm import for_context


def retire(config: Any, user: identity.User, name: str, *, environment: Mapping[str, str], actor: str | None = None,
           reason: str = "idle", **_ignored: Any) -> dict[str, Any]:
    """End the job holding `user`'s container `name`; NotFound when it has no job any more.
    `environment`: the cleanup command's, for the Slurm tools (PATH)."""
    cluster = settings(config)
    if cluster is None:  # pragma: no cover - the caller checks
        raise Ds01Error("no cluster configured")
    return for_context(config, cluster, user, None, environment).retire(name, actor=actor, reason=reason)
