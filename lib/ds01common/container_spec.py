"""What a new container is made of: its image, workspace, labels, limits and docker create
options. Pure or read-only (image lookups, one `docker info`); containers.py does the creating.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import dockerapi, names
from . import labels as label
from .errors import Ds01Error, NotFound, UsageError
from .units import iso_utc

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .allocator import GpuRequest
    from .identity import User
    from .records import ImageDetails, Limits, StrPath

CONTAINER_WORKSPACE = "/workspace"
CONTAINER_DATA = "/data"
CONTAINER_MODELS = "/models"  # AIME's `mlc create -m DIR`: a models directory

# PID 1 is docker-init (init=True), which forwards SIGTERM to this loop and reaps orphans.
# The loop keeps an idle container alive without a terminal and leaves at once on SIGTERM,
# so `docker stop` never has to wait for its timeout. Plain POSIX sh: busybox and distros.
KEEP_ALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]


def pull_if_missing(docker: Any, image: str) -> ImageDetails | None:
    """The image `image` as inspected here, pulled first when it is not here (NotFound, saying
    how to find one, when it cannot be pulled)."""
    found = dockerapi.inspect_image(docker, image, f"image {image}")
    if found is None:
        try:
            dockerapi.pull_image(docker, image, f"image {image}")
        except Ds01Error as error:
            raise NotFound(f"image {image} is not on this server and could not be pulled "
                           f"({error}); see `image-list`") from None
        found = dockerapi.inspect_image(docker, image, f"image {image}")
    return found


def choose_image(docker: Any, config: Any, user: Any, name: str, image: str | None = None,
                 project: str | None = None, use_default: bool = False) -> tuple[str, str | None, ImageDetails | None]:
    """(image, notice, its inspect): --image (another user's DS01 image is exit 4), else the
    project's own image (`project`, else `name`), else with `use_default` the config's
    images.default, saying so. The inspect is the one the choice made, so the caller need not
    look the image up again."""
    if image:
        from .security import check_image

        found = check_image(docker, config, user, image)  # own, configured or images.allowed only (exit 4)
        return image, None, found if found is not None else pull_if_missing(docker, image)
    own_project = project or name
    own = names.image_name(user.name, own_project, uid=user.uid)
    found = dockerapi.inspect_image(docker, own, f"image {own}")
    if found is not None:
        return own, None, found
    if not use_default:
        raise NotFound(f"no image for {own_project}: build one with `image-create {own_project}`, "
                       "or pass --image IMAGE")
    fallback = config.default_image
    return fallback, (f"{own_project} has no image of its own ({own}): running the default image {fallback} "
                      f"(images.default); `image-create {own_project}` builds one for the project"), \
        pull_if_missing(docker, fallback)


def name_from_image(user: Any, image: str | None) -> str:
    """The container name for `container-deploy --image ds01-<you>/<project>:<tag>` without NAME."""
    from . import images

    if not image or not image.startswith("ds01-") or "/" not in image.split(":")[0]:
        raise UsageError("NAME is required unless --image is one of your project images "
                         "(ds01-<you>/<project>:<tag>, see `image-list`)")
    project: str = images.resolve_reference(user, image)[1]
    return project


def project_workspace(config: Any, user: Any, project: str) -> Path:
    """An existing project's workspace, for `--project P` (which never makes one)."""
    path: Path = config.workspace_dir(user.home) / names.validate_name(project, "project")
    if not path.is_dir():
        raise NotFound(f"no project {project} in {path.parent}: create it with `project-init {project}`")
    return path


def prepare_workspace(config: Any, user: User, name: str, workspace: StrPath | None = None) -> Path:
    """Make the workspace directory (owned by the user) and return its host path; never empties it."""
    from .security import expand_user_path, mount_source
    from .userfiles import make_directory

    path = expand_user_path(workspace, user.home) if workspace else config.workspace_dir(user.home) / name
    if not path.is_absolute():
        path = Path.cwd() / path
    # Only a real directory of the user's, under their workspace root or home (exit 4 otherwise):
    # root's cron writes .ds01-alerts there, and Docker follows links in a mount source.
    return mount_source(config, user, path, "workspace", make=lambda where: make_directory(where, user))


def labels_for(user: User, name: str, workspace: StrPath, allocation_labels: Mapping[str, str] | None = None,
               created_at: str | None = None) -> dict[str, str]:
    labels = {
        label.MANAGED: label.MANAGED_VALUE,
        label.USER: user.name,
        label.UID: str(user.uid),
        label.PROJECT: name,
        label.CREATED_AT: created_at or iso_utc(),
        label.GPU_SLOTS: "",
        label.GPU_UUIDS: "",
        label.WORKSPACE: str(workspace),
    }
    labels.update(allocation_labels or {})
    return labels


def host_config_options(limits: Limits) -> dict[str, Any]:
    """Docker create options for the user's resolved limits (swap held to the memory figure)."""
    options = {}
    if limits.memory:
        options["mem_limit"] = limits.memory
        options["memswap_limit"] = limits.memory
    if limits.max_cpus:
        # Docker refuses more CPUs than the host has; a limit above that means "all of them".
        cpus = min(limits.max_cpus, os.cpu_count() or limits.max_cpus)
        options["nano_cpus"] = int(cpus * 1_000_000_000)
    if limits.shm_size:
        options["shm_size"] = limits.shm_size
    if limits.pids_limit:
        options["pids_limit"] = limits.pids_limit
    return options


def create_options(user: User, name: str, image: str, workspace: StrPath, limits: Limits, labels: dict[str, str],
                   environment: dict[str, str] | None = None, device_requests: list[Any] | None = None,
                   data_dir: StrPath | None = None, cgroup_parent: str | None = None, home: str | None = None,
                   port: int | None = None, models_dir: StrPath | None = None) -> dict[str, Any]:
    """Everything `docker.containers.create` gets; pure, so tests can check it without Docker.

    `home`: HOME inside (inside.py; never the workspace); `port`: the host port for ports.py."""
    from . import inside, ports

    volumes = {str(workspace): {"bind": CONTAINER_WORKSPACE, "mode": "rw"}}
    if data_dir:
        volumes[str(data_dir)] = {"bind": CONTAINER_DATA, "mode": "rw"}
    if models_dir:
        volumes[str(models_dir)] = {"bind": CONTAINER_MODELS, "mode": "rw"}
    env = {"HOME": home or inside.FOREIGN_HOME, "USER": user.name, "DS01_CONTAINER": name}
    env.update(environment or {})
    options = dict(
        image=image,
        name=names.docker_name(name, user.uid),
        entrypoint=KEEP_ALIVE[:1],
        command=KEEP_ALIVE[1:],
        user=f"{user.uid}:{user.gid}",
        working_dir=CONTAINER_WORKSPACE,
        environment=env,
        labels=labels,
        volumes=volumes,
        hostname=name,
        init=True,
        detach=True,
        tty=False,
        stdin_open=False,
        privileged=False,
        network_mode="bridge",
        security_opt=["no-new-privileges"],
    )
    options.update(host_config_options(limits))
    if port is not None:
        options.update(ports.publish_options(port))
        options["labels"] = dict(labels, **{label.PORT: str(port)})
    if device_requests:
        options["device_requests"] = device_requests
    if cgroup_parent:
        options["cgroup_parent"] = cgroup_parent
    return options


class EngineFacts:
    """`docker info`, asked at most once per create and only when a GPU or a slice needs it."""

    def __init__(self, docker: Any) -> None:
        self._docker = docker
        self._info: dict[str, Any] | None = None

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = dockerapi.engine_info(self._docker)
        return self._info

    @property
    def has_nvidia_runtime(self) -> bool:
        return "nvidia" in (self.info.get("Runtimes") or {})

    @property
    def cgroup_driver(self) -> str:
        return self.info.get("CgroupDriver") or "cgroupfs"


def cgroup_parent(config: Any, user: User, engine: EngineFacts) -> str | None:
    """The user's systemd slice as cgroup parent when slices are enabled in the config."""
    if not config.slices.get("enabled"):
        return None
    from . import slices

    return slices.cgroup_parent(config, user, driver=engine.cgroup_driver)


def gpu_request(gpus: int | None = None, cpu_only: bool = False, full_gpu: bool = False,
                wait: float | None = None) -> GpuRequest:
    from . import allocator

    if cpu_only and (gpus or full_gpu):
        raise UsageError("--cpu-only cannot be combined with --gpus or --full-gpu")
    if cpu_only:
        return allocator.GpuRequest(count=0, full_gpu=False, explicit=True, wait=wait)
    if gpus is not None and gpus < 0:
        raise UsageError("--gpus must be 0 or more")
    return allocator.GpuRequest(count=1 if gpus is None else gpus, full_gpu=full_gpu,
                                explicit=gpus is not None or full_gpu, wait=wait)
