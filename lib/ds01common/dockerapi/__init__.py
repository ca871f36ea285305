"""The one place that talks to the Docker engine (the docker SDK, imported lazily, and a raw
unix-socket fast path for the calls DS01 makes most).

Callers get typed records (records.ContainerDetails, EngineContainer, ImageDetails) or the
engine's plain JSON, and act on containers by id; no SDK object leaves this package.
`connect()` returns a pinged client or raises a one-line error; `errors()` and `translate()`
turn the engine's failures into DS01's typed errors.

client.py: connecting and errors. lazy.py: LazyClient and the socket fast path.
containers.py, images.py: the calls, by what they act on.
"""

from __future__ import annotations

from .client import DEFAULT_TIMEOUT, connect, engine_address, errors, get_or_none, translate
from .containers import (
    commit_container,
    container_details,
    container_logs,
    container_stats_once,
    container_summaries,
    create_container,
    engine_info,
    engine_runtimes,
    exec_in_container,
    follow_logs,
    get_container,
    inspect_container,
    inspect_container_json,
    kill_quietly,
    list_containers,
    list_sparse,
    remove_container,
    remove_quietly,
    start_and_inspect,
    start_container,
    stop_and_inspect,
    stop_container,
)
from .images import build_image, get_image, image_summaries, inspect_image, pull_image, remove_image
from .lazy import LazyClient, ListedContainer, gpu_device_requests

__all__ = [
    "DEFAULT_TIMEOUT", "LazyClient", "ListedContainer", "build_image", "commit_container", "connect",
    "container_details", "container_logs", "container_stats_once", "container_summaries", "create_container",
    "engine_address", "engine_info", "engine_runtimes", "errors", "exec_in_container", "follow_logs",
    "get_container", "get_image", "get_or_none", "gpu_device_requests", "image_summaries", "inspect_container",
    "inspect_container_json", "inspect_image", "kill_quietly", "list_containers",
    "list_sparse", "pull_image", "remove_container", "remove_image", "remove_quietly", "start_and_inspect",
    "start_container", "stop_and_inspect", "stop_container", "translate",
]
