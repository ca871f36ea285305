"""Containers at the boundary: every call takes a container id (or, for a lookup, a name) and
answers with typed records (records.ContainerDetails, records.EngineContainer) or the engine's
plain JSON; no SDK object leaves this package.

By-id calls go through the low-level API (`client.api`: the SDK's APIClient, LazyClient's
socket fast path, or the tests' fake), so acting on a container costs no lookup first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from .client import errors
from .lazy import LazyClient, list_filters

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from ..records import ContainerDetails, EngineContainer

_NEVER = "0001-01-01T00:00:00Z"  # the engine's time for "never"


def _named(container_id: str, what: str | None) -> str:
    return what or f"container {container_id[:12]}"


def container_details(attrs: Mapping[str, Any]) -> ContainerDetails:
    """A ContainerDetails from the engine's inspect JSON (the one place that reads its keys)."""
    from ..records import ContainerDetails, Mount

    state = attrs.get("State") or {}
    config = attrs.get("Config") or {}
    mounts = tuple(Mount(type=str(item.get("Type") or ""), source=str(item.get("Source") or ""),
                         destination=str(item.get("Destination") or ""), read_write=bool(item.get("RW", True)),
                         mode=str(item.get("Mode") or ""))
                   for item in attrs.get("Mounts") or ())
    pid = state.get("Pid")
    exit_code = state.get("ExitCode")

    def moment(value: Any) -> str | None:
        return str(value) if value and not str(value).startswith(_NEVER[:10]) else None

    return ContainerDetails(
        id=str(attrs.get("Id") or ""), name=str(attrs.get("Name") or "").lstrip("/"),
        status=str(state.get("Status") or ""), labels=dict(config.get("Labels") or {}),
        image=str(config.get("Image") or ""), image_id=str(attrs.get("Image") or ""), mounts=mounts,
        pid=pid if isinstance(pid, int) else 0, exit_code=exit_code if isinstance(exit_code, int) else None,
        oom_killed=bool(state.get("OOMKilled")), error=str(state.get("Error") or ""),
        created=moment(attrs.get("Created")), started_at=moment(state.get("StartedAt")),
        finished_at=moment(state.get("FinishedAt")))


# --- looking containers up -----------------------------------------------------------------

def inspect_container_json(client: Any, container_id: str, what: str | None = None) -> dict[str, Any]:
    """The engine's inspect JSON of one container (a name or an id); NotFound when there is none."""
    with errors(_named(container_id, what)):
        details: dict[str, Any] = client.api.inspect_container(container_id)
    return details


def inspect_container(client: Any, container_id: str, what: str | None = None) -> ContainerDetails:
    """The container `container_id` (or name), inspected now; NotFound when there is none."""
    return container_details(inspect_container_json(client, container_id, what))


def get_container(client: Any, key: str, what: str | None = None) -> ContainerDetails | None:
    """The container `key` (a name or an id, inspected once); None when there is no such container."""
    from ..errors import NotFound

    try:
        return inspect_container(client, key, what or f"container {key}")
    except NotFound:
        return None


def list_sparse(client: Any, filters: Mapping[str, Any]) -> list[EngineContainer]:
    """Containers matching `filters` in every state, from one list call (no per-container
    inspect: fast, and a container removed meanwhile cannot make it fail), as typed records."""
    from ..records import EngineContainer

    with errors("containers"):
        found = client.containers.list(all=True, filters=dict(filters), sparse=True)
    return [EngineContainer.from_list_entry(item.attrs or {"Id": item.id}) for item in found]


def list_containers(filters: Mapping[str, str | Sequence[str]], client: Any = None) -> list[dict[str, Any]]:
    """Docker's container list (every state) as dicts, in one engine call.

    With no client, a LazyClient's: on a local unix socket it speaks HTTP itself, as importing
    the docker SDK takes several times longer than the call, and listing is what users run most."""
    return container_summaries(client or LazyClient(), list_filters(filters))


def container_summaries(client: Any, filters: Mapping[str, Any], what: str = "containers") -> list[dict[str, Any]]:
    """The engine's container list (every state) matching `filters`, as its JSON entries (one call)."""
    with errors(what):
        entries: list[dict[str, Any]] = client.api.containers(all=True, filters=dict(filters))
    return entries


# --- making, starting, stopping, removing --------------------------------------------------

def create_container(client: Any, options: Mapping[str, Any], what: str | None = None) -> ContainerDetails:
    """Create a container from `containers.create` options and return it freshly inspected
    (the create's own answer lacks the engine's defaults). A container the inspect cannot see
    is removed again, so a failed create leaves nothing behind."""
    with errors(what):
        create_id = getattr(client.containers, "create_id", None)  # LazyClient's: no inspect of its own
        container_id = str(create_id(options) if create_id is not None else client.containers.create(**options).id)
    try:
        return inspect_container(client, container_id, what)
    except BaseException:
        remove_quietly(client, container_id)
        raise


def start_container(client: Any, container_id: str, what: str | None = None) -> None:
    """Start the container `container_id` (a no-op for the engine when it runs)."""
    with errors(_named(container_id, what)):
        client.api.start(container_id)


def start_and_inspect(client: Any, container_id: str, what: str | None = None) -> ContainerDetails:
    """Start the container and return it as it is right after the start (it may have exited)."""
    start_container(client, container_id, what)
    return inspect_container(client, container_id, what)


def stop_container(client: Any, container_id: str, *, timeout: int = 10, what: str | None = None) -> None:
    """Stop one container by id, killing it after `timeout` seconds; `what` names it in errors."""
    with errors(_named(container_id, what)):
        client.api.stop(container_id, timeout=timeout)


def stop_and_inspect(client: Any, container_id: str, *, timeout: int = 10,
                     what: str | None = None) -> ContainerDetails:
    """Stop the container (killed after `timeout` seconds) and return it as it is then."""
    stop_container(client, container_id, timeout=timeout, what=what)
    return inspect_container(client, container_id, what)


def kill_quietly(client: Any, container_id: str, what: str | None = None) -> None:
    """Kill the container, ignoring any failure (the caller refuses the start either way)."""
    with contextlib.suppress(Exception), errors(_named(container_id, what)):
        client.api.kill(container_id)


def remove_container(client: Any, container_id: str, *, force: bool = False, what: str | None = None) -> None:
    """Remove one container by id (`force`: even while it runs); `what` names it in errors."""
    with errors(_named(container_id, what)):
        client.api.remove_container(container_id, force=force)


def remove_quietly(client: Any, container_id: str) -> None:
    """Force-remove the container, ignoring any failure (another error is already on its way)."""
    with contextlib.suppress(Exception):
        client.api.remove_container(container_id, force=True)


def commit_container(client: Any, container_id: str, repository: str, tag: str, labels: Mapping[str, str],
                     what: str | None = None) -> str:
    """Save the container's filesystem as image `repository:tag` with `labels`; returns the reference."""
    with errors(_named(container_id, what)):
        client.api.commit(container_id, repository=repository, tag=tag, conf={"Labels": dict(labels)})
    return f"{repository}:{tag}"


# --- inside a container --------------------------------------------------------------------

def exec_in_container(client: Any, container_id: str, command: Sequence[str], *, user: str = "",
                      environment: Mapping[str, str] | None = None, workdir: str | None = None,
                      what: str | None = None) -> tuple[int | None, bytes]:
    """Run `command` in the running container and wait for it: (its exit status, its output)."""
    with errors(_named(container_id, what)):
        made = client.api.exec_create(container_id, list(command), user=user,
                                      environment=dict(environment or {}), workdir=workdir)
        output = client.api.exec_start(made["Id"])
        exit_code = client.api.exec_inspect(made["Id"]).get("ExitCode")
    return exit_code, bytes(output or b"")


def container_logs(client: Any, container_id: str, *, tail: str | int = "all",
                   what: str | None = None) -> bytes:
    """The container's output so far (the last `tail` lines, or "all")."""
    with errors(_named(container_id, what)):
        found = client.api.logs(container_id, stream=False, tail=tail)
    return bytes(found or b"")


def follow_logs(client: Any, container_id: str, *, tail: str | int = "all",
                what: str | None = None) -> Iterator[bytes]:
    """The container's output (the last `tail` lines), then what it writes until it stops."""
    with errors(_named(container_id, what)):
        yield from client.api.logs(container_id, stream=True, follow=True, tail=tail)


def container_stats_once(client: Any, container_id: str, *, one_shot: bool = False,
                         what: str | None = None) -> dict[str, Any]:
    """One non-streaming stats sample of a container, as the engine's JSON (`one_shot`: skip
    the engine's second frame, so no precpu-based CPU figure)."""
    with errors(_named(container_id, what)):
        if one_shot:
            sample: dict[str, Any] = client.api.stats(container_id, stream=False, one_shot=True)
        else:
            sample = client.api.stats(container_id, stream=False)
    return sample


# --- the engine ----------------------------------------------------------------------------

def engine_info(client: Any) -> dict[str, Any]:
    """`docker info`: the engine's runtimes, cgroup driver, ..."""
    with errors("the Docker engine"):
        info: dict[str, Any] = client.info()
    return info


def engine_runtimes(client: Any) -> frozenset[str]:
    """The names of the container runtimes the engine offers (e.g. "runc", "nvidia")."""
    return frozenset(engine_info(client).get("Runtimes") or {})

