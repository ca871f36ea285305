"""Where containers run. One server (the default) keeps today's code path in containers.py
and container_exec.py, untouched; `cluster: {scheduler: slurm}` in the config sends the
container commands to backend.slurm, where each container is a Slurm job.

`for_command(context)` returns the Slurm backend, or None for one server, so a command checks
that first and otherwise goes on exactly as before (one dict lookup on the single-server path,
no import of this package's Slurm side).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from .slurm import SlurmBackend


def is_cluster(config: Any) -> bool:
    """True when the config sends containers to a cluster scheduler."""
    return bool((config.raw.get("cluster") or {}).get("scheduler"))


def config_mentions_cluster() -> bool:
    """Whether the config has a top-level `cluster` key, looked at cheaply for commands that avoid
    loading the config on one server (container-list): root's parsed-config cache when it is
    fresh, else a peek at the file's text; never a YAML parse."""
    import re

    from .. import config_cache, paths

    path = paths.config_path()
    cached = config_cache.lookup(str(path))
    if cached is not None:
        return "cluster" in cached
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    return re.search(r"^cluster:", text, re.M) is not None


def for_command(context: Any) -> SlurmBackend | None:
    """The Slurm backend for a command's context (cli.Context), or None on one server."""
    if not is_cluster(context.config):
        return None
    from ..cluster import settings
    from .slurm import for_context

    cluster = settings(context.config)
    assert cluster is not None
    return for_context(context.config, cluster, context.user, context.caller, context.environment,
                       clock=context.clock, log_dir=str(context.log_dir))
