"""Container lifecycle: create, start, stop, remove, retire, find, cleanup (what a new container is
made of is container_spec.py; listings are container_listing.py).

Containers are temporary, workspaces permanent: nothing here ever deletes or changes a
workspace once made. Every container DS01 creates carries the contract's labels, which are
how ownership is checked and how GPU state is rebuilt after a crash.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

from . import container_listing as listing
from . import container_spec as spec
from . import dockerapi, events, log, names
from . import labels as label
from .clock import SYSTEM
from .errors import Ds01Error, NotFound, PermissionDenied, ResourcesUnavailable

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .clock import Clock
    from .identity import User
    from .records import ContainerDetails, StrPath



# What `docker ps` shows as an id (or more of it): only these are tried as ids by find().
CONTAINER_ID_RE = re.compile(r"^[0-9a-f]{12,64}\Z")
LONGEST_NAME = 40  # names.NAME_RE: anything longer can only be an id


def _what(name: str) -> str:
    return f"container {name}"


# --- ownership -------------------------------------------------------------------------

def owner_of(labels: Mapping[str, str] | None) -> str | None:
    """The DS01 owner of a container from its labels, or None for a non-DS01 container."""
    labels = labels or {}
    if not label.is_managed(labels):
        return None
    return labels.get(label.USER)


def check_owner(user: User, name: str, labels: Mapping[str, str] | None) -> None:
    """PermissionDenied unless the labels say `user` owns this container."""
    owner = owner_of(labels)
    if owner is None or labels is None:
        raise PermissionDenied(f"permission denied: {name} is not a DS01 container")
    if owner != user.name or labels.get(label.UID) not in (None, str(user.uid)):
        raise PermissionDenied(f"permission denied: {name} belongs to {owner}")


def find(docker: Any, user: User, name: str) -> ContainerDetails:
    """The user's container `name`, as the engine inspected it now.

    Names are per user: another user's container of the same name is invisible (NotFound,
    exit 1). Only addressing someone else's container explicitly, by its Docker name
    `NAME._.UID` or its id, is PermissionDenied (exit 4)."""
    short, uid = names.split_docker_name(name or "")
    if uid is not None and uid != user.uid:
        return _find_explicit(docker, user, name)
    if CONTAINER_ID_RE.match(short) and len(short) > LONGEST_NAME:
        return _find_explicit(docker, user, short)  # a full id: never a name
    name = names.validate_name(short)
    container = dockerapi.get_container(docker, names.docker_name(name, user.uid), _what(name))
    if container is not None:
        check_owner(user, name, container.labels)
        return container
    if CONTAINER_ID_RE.match(name):
        found = dockerapi.get_container(docker, name, _what(name))
        if found is not None and found.id.startswith(name):
            check_owner(user, name, found.labels)
            return found
    raise NotFound(f"no container named {name}: see `container-list`")


def _find_explicit(docker: Any, user: Any, key: str) -> ContainerDetails:
    """A container named by its Docker name or its id: the user's own, else exit 4 (or not found)."""
    container = dockerapi.get_container(docker, key, _what(key))
    if container is None or CONTAINER_ID_RE.match(key) and not container.id.startswith(key):
        raise NotFound(f"no container named {key}: see `container-list`")
    check_owner(user, key, container.labels)
    return container


# --- create (what a container is made of: container_spec.py) -----------------------------

def create(docker: Any, config: Any, user: User, name: str, *, state_dir: StrPath, log_dir: StrPath | None,
           **options: Any) -> dict[str, Any]:
    """Create (not start) the user's container `name`; returns its summary dict.

    Options: image, gpus, cpu_only, full_gpu, wait, workspace, data_dir, models_dir, extra_labels.
    The GPU reservation wraps the create: any failure inside it gives the slots back."""
    return _create(docker, config, user, name, state_dir=state_dir, log_dir=log_dir, **options)[0]


def _create(docker: Any, config: Any, user: User, name: str, *, image: str | None = None, gpus: int | None = None,
            cpu_only: bool = False, full_gpu: bool = False, wait: float | None = None, state_dir: StrPath,
            log_dir: StrPath | None, workspace: StrPath | None = None, data_dir: StrPath | None = None,
            extra_labels: dict[str, str] | None = None, models_dir: StrPath | None = None,
            project: str | None = None, default_image: bool = False,
            clock: Clock | None = None) -> tuple[dict[str, Any], ContainerDetails]:
    """create()'s work; also returns the container as created, so deploy need not look it up again."""
    from . import allocator, inside, ports

    names.validate_name(name)
    limits = config.limits_for(user.login)
    docker_container_name = names.docker_name(name, user.uid)
    request = spec.gpu_request(gpus, cpu_only, full_gpu, wait)
    if project is not None and workspace is None:
        workspace = str(spec.project_workspace(config, user, project))
    chosen_image, image_notice, image_details = spec.choose_image(docker, config, user, name, image, project,
                                                                  default_image)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise NotFound(f"data directory {data_dir} does not exist")
    from .security import mount_source

    for extra_mount, what in ((data_dir, "data directory"), (models_dir, "models directory")):
        if extra_mount is not None:
            mount_source(config, user, extra_mount, what, shared=True)  # data roots allowed, see security.py
    view = inside.for_image(chosen_image, inside.image_labels(image_details))
    with allocator.reserve(docker, config, user, limits, docker_container_name, request,
                           state_dir=state_dir, log_dir=log_dir, clock=clock or SYSTEM) as allocation:
        # Made only once the reservation stands: a create refused by quota leaves nothing behind.
        workspace_path = spec.prepare_workspace(config, user, name, workspace)
        labels = spec.labels_for(user, name, workspace_path, allocation.labels)
        labels.update(extra_labels or {})
        engine = spec.EngineFacts(docker)
        nvidia = bool(allocation.slots) and engine.has_nvidia_runtime
        # The port is chosen and the container labelled with it under one lock (ports.py).
        with ports.reserve(docker, state_dir, ports.parse_range(config.setting("connect.ports"))) as port:
            options = spec.create_options(user, name, chosen_image, workspace_path, limits, labels,
                                     allocation.environment, allocation.device_requests(nvidia),
                                     data_dir=data_dir, cgroup_parent=spec.cgroup_parent(config, user, engine),
                                     home=view.home, port=port, models_dir=models_dir)
            container = dockerapi.create_container(docker, options, _what(name))
        try:
            allocation.confirm(container.id)
        except BaseException:
            dockerapi.remove_quietly(docker, container.id)
            raise
        slots = [slot.id for slot in allocation.slots]
        notice = "\n".join(text for text in (image_notice, allocation.notice, view.notice) if text) or None
    events.record("container.created", user.name, log_dir=log_dir, container=name, image=chosen_image,
                  gpus=slots, workspace=str(workspace_path))
    return {"name": name, "docker_name": docker_container_name, "id": container.id, "user": user.name,
            "image": chosen_image, "gpus": slots, "workspace": str(workspace_path),
            "status": container.status, "notice": notice, "port": port, "home": view.home}, container


def deploy(docker: Any, config: Any, user: User, name: str | None, *, state_dir: StrPath, log_dir: StrPath | None,
           **create_arguments: Any) -> dict[str, Any]:
    """Create and start; a container that cannot start is removed again, so its slot is not held.

    `name` None: the name (and workspace) is the project of --image `ds01-<you>/<project>:<tag>`.
    Without --image and without a project image, the config's images.default runs (with a notice)."""
    if name is None:
        name = spec.name_from_image(user, create_arguments.get("image"))
        create_arguments.setdefault("project", name)
    create_arguments.setdefault("default_image", True)
    result, container = _create(docker, config, user, name, state_dir=state_dir, log_dir=log_dir,
                                **create_arguments)
    try:
        # With config: the mounts are checked again at this start too (Docker resolves them anew).
        container = start(docker, user, name, state_dir=state_dir, log_dir=log_dir, container=container,
                          config=config, fresh=True)
    except BaseException:
        try:
            remove(docker, user, name, force=True, state_dir=state_dir, log_dir=log_dir, reason="start failed")
        except Exception:  # noqa: BLE001 - the start error is the one to report
            log.debug("could not remove %s after a failed start", name, exc_info=True)
        raise
    result["status"] = container.status
    return result


# --- start / stop / remove / retire ----------------------------------------------------

def start(docker: Any, user: User, name: str, *, state_dir: StrPath, log_dir: StrPath | None,
          container: ContainerDetails | None = None, config: Any = None, fresh: bool = False) -> ContainerDetails:
    """Start the user's container (a no-op when it runs); `container`: already found by the caller.

    With `config` (every command passes it; tests of the engine alone may not), its bind mounts
    are checked again (`_refuse_swapped_mounts`), and a container whose GPU slot is no longer in
    the host's inventory (the GPU failed, MIG was re-partitioned) is refused, as one whose slot
    an admin released is. `fresh`: created a moment ago (deploy), its slots just handed out, so
    the inventory is not read again; the mounts still are. Returns the container as it is after
    the start."""
    if container is None:
        container = find(docker, user, name)
    if container.status == "running":
        return container
    _refuse_revoked(container, name, state_dir)
    checked_mounts: dict[str, tuple[int, int]] = {}
    if config is not None:
        if not fresh:
            _refuse_vanished(container, name, config)
        checked_mounts = _refuse_swapped_mounts(container, user, config)
    container = dockerapi.start_and_inspect(docker, container.id, _what(name))
    _refuse_mounts_swapped_during_start(docker, container, name, checked_mounts)
    if container.status != "running":
        if container.oom_killed:
            raise ResourcesUnavailable(f"{name} ran out of memory on start")
        raise Ds01Error(f"{name} stopped right after starting (exit {container.exit_code}): "
                        f"{container.error or 'see docker logs'}")
    events.record("container.started", user.name, log_dir=log_dir, container=name)
    return container


def _refuse_swapped_mounts(container: ContainerDetails, user: User, config: Any) -> dict[str, tuple[int, int]]:
    """Docker resolves a bind mount's source again at every start: a workspace the user replaced
    by a link since the create (to / or another user's home) must not be mounted (exit 4).
    Returns {destination: (device, inode)} of what was checked, for the check after the start."""
    from .security import mount_source

    checked = {}
    for mount in container.mounts:
        if mount.type == "bind" and mount.source and mount.destination:
            source = mount_source(config, user, mount.source, f"mount {mount.destination}",
                                  shared=mount.destination != spec.CONTAINER_WORKSPACE)
            info = os.lstat(source)
            checked[mount.destination] = (info.st_dev, info.st_ino)
    return checked


def _refuse_mounts_swapped_during_start(docker: Any, container: ContainerDetails, name: str,
                                        checked: dict[str, tuple[int, int]]) -> None:
    """The directory mounted must be the one checked: a swap between the check and Docker's own
    resolution is caught by looking at the mount through /proc/PID/root (where we may: root, or
    the container's own uid); the container is stopped and the start refused (exit 4)."""
    pid = container.pid
    if not checked or not pid:
        return
    for destination, expected in checked.items():
        try:
            info = os.stat(f"/proc/{pid}/root{destination}")
        except OSError:
            continue  # not ours to look into; the check before the start stands
        if (info.st_dev, info.st_ino) != expected:
            dockerapi.kill_quietly(docker, container.id, _what(name))
            raise PermissionDenied(f"permission denied: {name}'s {destination} was swapped for another "
                                   "directory while it started; it was stopped")


class GpuLost(ResourcesUnavailable):
    """A stopped container's GPU slot was released by an admin or vanished from the inventory."""

    def __init__(self, message: str, slots: list[str]) -> None:
        super().__init__(message)
        self.slots = slots


def _lost_gpu_advice(name: str) -> str:
    return (f"`container-start {name} --wait` re-creates it on a free GPU (the workspace is kept, changes "
            f"outside it are not), or retire it (`container-retire {name}`)")


def restart_on_new_gpu(docker: Any, config: Any, user: Any, name: str, *, wait: float | None, state_dir: Any,
                       log_dir: Any) -> dict[str, Any]:
    """Replace a container that lost its GPU by a new one of the same name, image, workspace and
    GPU count, queueing (`wait` seconds, inf: until served) for the slots. Returns deploy's summary."""
    container = find(docker, user, name)
    labels = dict(container.labels)
    image = container.image or container.image_id
    count = len(label.slot_ids(labels))
    data_mount = container.mount_at(spec.CONTAINER_DATA)
    data_dir = data_mount.source if data_mount is not None else None
    extra = {key: value for key, value in labels.items() if key == label.MLC_FRAMEWORK}
    retire(docker, config, user, name, state_dir=state_dir, log_dir=log_dir, reason="lost its GPU")
    result: dict[str, Any] = deploy(docker, config, user, name, state_dir=state_dir, log_dir=log_dir, image=image,
                                    gpus=count, wait=wait, workspace=labels.get(label.WORKSPACE), data_dir=data_dir,
                                    extra_labels=extra)
    return result


def _refuse_revoked(container: ContainerDetails, name: str, state_dir: StrPath) -> None:
    """An admin freed this stopped container's slot (`gpu-allocator release`), which may be
    someone else's by now: starting it would put two containers on one GPU."""
    slots = label.slot_ids(container.labels)
    if not slots:
        return
    from . import ledger

    revoked = ledger.read_state(state_dir).revoked_slots(container.id)
    taken = [slot for slot in slots if slot in revoked]
    if taken:
        raise GpuLost(f"{name} lost GPU {', '.join(taken)} to an admin's release and cannot start: "
                      + _lost_gpu_advice(name), taken)


def _refuse_vanished(container: ContainerDetails, name: str, config: Any) -> None:
    """The slot the container was made with is gone from the inventory: there is no such GPU."""
    slots = label.slot_ids(container.labels)
    if not slots:
        return
    from . import inventory

    known = {slot.id for slot in inventory.discover(config).slots}
    vanished = [slot for slot in slots if slot not in known]
    if vanished:
        raise GpuLost(f"{name} was made with GPU slot {', '.join(vanished)}, which is no longer on "
                      "this host (the GPU failed or was re-partitioned), so it cannot start: "
                      + _lost_gpu_advice(name), vanished)


def stop(docker: Any, user: User, name: str, *, timeout: int = 10, log_dir: StrPath | None) -> ContainerDetails:
    """Stop the user's container (a no-op when it is not running); returns it as it is then."""
    container = find(docker, user, name)
    if container.status not in ("running", "restarting", "paused"):
        return container
    container = dockerapi.stop_and_inspect(docker, container.id, timeout=timeout, what=_what(name))
    events.record("container.stopped", user.name, log_dir=log_dir, container=name)
    return container


def remove(docker: Any, user: User, name: str, *, force: bool = False, state_dir: StrPath, log_dir: StrPath | None,
           container: ContainerDetails | None = None, actor: str | None = None, reason: str = "manual",
           action: str = "removed") -> dict[str, Any]:
    """Remove the container and free its GPU slots; the workspace stays. `action` ("removed",
    "retired") is what the gpu.release event says happened."""
    from . import allocator

    container = container or find(docker, user, name)
    if container.status in ("running", "restarting", "paused") and not force:
        raise Ds01Error(f"{name} is running: stop it first (`container-stop {name}`), "
                        "or use --force, or `container-retire`")
    labels = container.labels
    dockerapi.remove_container(docker, container.id, force=force, what=_what(name))
    allocator.release_container(docker, container.name, state_dir=state_dir, log_dir=log_dir,
                                by=actor or user.name, reason=action if reason == "manual" else f"{action}: {reason}")
    events.record("container.removed", user.name, log_dir=log_dir, container=name,
                  actor=actor or user.name, reason=reason, gpus=label.slot_ids(labels))
    return {"name": name, "gpus": label.slot_ids(labels),
            "workspace": labels.get(label.WORKSPACE)}


def commit_tag() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")


def retire(docker: Any, config: Any, user: User, name: str, *, state_dir: StrPath, log_dir: StrPath | None,
           save_changes: bool = False, actor: str | None = None, reason: str = "manual",
           timeout: int = 10) -> dict[str, Any]:
    """Stop + remove + free GPU (optionally committing it first); the workspace is kept."""
    container = find(docker, user, name)
    image = None
    if save_changes:
        repository = names.image_repository(user.name, name, uid=user.uid)
        tag = commit_tag()
        image = dockerapi.commit_container(docker, container.id, repository, tag,
                                           {label.USER: user.name, label.PROJECT: name}, _what(name))
    if container.status in ("running", "restarting", "paused"):
        dockerapi.stop_container(docker, container.id, timeout=timeout, what=_what(name))
    result = remove(docker, user, name, force=True, state_dir=state_dir, log_dir=log_dir,
                    container=container, actor=actor, reason=reason, action="retired")
    events.record("container.retired", user.name, log_dir=log_dir, container=name,
                  actor=actor or user.name, reason=reason, image=image)
    result["image"] = image
    return result


# --- cleanup (the listings are in container_listing.py) ------------------------------

def cleanup(docker: Any, user: User, *, state_dir: StrPath, log_dir: StrPath | None,
            dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove the user's stopped containers (freeing their slots); returns what was (or would be) removed."""
    candidates = listing.stopped(docker, user)
    if dry_run:
        return candidates
    removed = []
    for item in candidates:
        try:
            remove(docker, user, item["name"], force=False, state_dir=state_dir, log_dir=log_dir,
                   reason="cleanup")
        except NotFound:
            continue  # removed meanwhile by someone else
        removed.append(item)
    return removed
