"""Projects: `project-init` (workspace, git, README, image, maybe a container) and `project-launch`.

A project is a directory in the user's workspace with a Dockerfile; its image is built from
that Dockerfile and its containers come and go. Every step reports itself through `on_step`
as soon as it is done, so an interruption can say exactly what was made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import dockerapi, events, image_store, images, names, onboarding
from . import labels as label
from .errors import NotFound

if TYPE_CHECKING:
    from .identity import User
    from .records import StrPath

OnStep = Callable[[str, str], None]
OnOutput = Callable[[str], None]


@dataclass
class ProjectOptions:
    """What project-init does; the flags and the guided questions fill the same fields."""
    name: str | None = None
    template: str | None = None
    base: str | None = None
    packages: list[str] = field(default_factory=list)
    git: bool = True
    build: bool = True
    deploy: bool = False
    regenerate: bool = False


def _say(on_step: OnStep | None, step: str, text: str) -> None:
    if on_step:
        on_step(step, text)


def init(options: ProjectOptions, *, config: Any, user: User, docker: Callable[[], Any] | None = None,
         templates_dir: StrPath | None = None, on_step: OnStep | None = None, on_output: OnOutput | None = None,
         state_dir: StrPath | None = None, log_dir: StrPath | None, gpus: int | None = None,
         cpu_only: bool = False, wait: float | None = None, environment: Mapping[str, str]) -> dict[str, Any]:
    """dir-create -> git-init -> readme-create -> image-create -> (optionally) a container.

    `docker` is a callable returning the client, called only when a step needs the engine
    (so `--no-build` works without Docker); `environment` is the command's, for git.
    Returns {"workspace", "image", "container"}."""
    name = names.validate_name(options.name, "project")
    images.validate_packages(options.packages)
    if options.template:
        images.render(options.template, options.base or config.base_image, options.packages, name,
                      templates_dir)  # a bad template fails here, before anything is made
    workspace, made = onboarding.create_dirs(config, user, name)
    _say(on_step, "dir-create", f"workspace {workspace}" + ("" if made else " (already there)"))
    if options.git:
        result = onboarding.git_init(workspace, user, templates_dir, environment=environment)
        detail = "git repository" + (" made" if result["repository"] else " already there")
        detail += ", .gitignore written" if result["gitignore"] else ", .gitignore kept"
        if result["lfs"]:
            detail += ", git-lfs tracks model files"
        _say(on_step, "git-init", detail)
    readme, written = onboarding.create_readme(config, user, name, templates_dir)
    _say(on_step, "readme-create", f"{readme}" + ("" if written else " (kept)"))
    dockerfile, written = images.write_dockerfile(config, user, name, template=options.template,
                                                  base=options.base, packages=options.packages,
                                                  regenerate=options.regenerate, templates_dir=templates_dir)
    _say(on_step, "image-create", f"{dockerfile}" + (" written" if written else " (kept as it is)"))
    image = None
    if options.build:
        assert docker is not None, "a build needs the engine"
        built = image_store.build(docker(), config, user, name, on_output=on_output, log_dir=log_dir)
        image = built["image"]
        _say(on_step, "image-build", f"image {image}")
    container = None
    if options.deploy:
        assert docker is not None and state_dir is not None, "a deploy needs the engine and the state dir"
        container = launch(docker(), config, user, name, templates_dir=templates_dir, on_output=on_output,
                           state_dir=state_dir, log_dir=log_dir, gpus=gpus, cpu_only=cpu_only, wait=wait)
        _say(on_step, "container", f"container {name} {container['action']}")
    events.record("project.initialised", user.name, log_dir=log_dir, project=name, workspace=str(workspace))
    return {"workspace": str(workspace), "dockerfile": str(dockerfile), "image": image, "container": container}


def launch(docker: Any, config: Any, user: User, name: str, *, state_dir: StrPath,
           templates_dir: StrPath | None = None, on_output: OnOutput | None = None,
           on_step: OnStep | None = None, log_dir: StrPath | None, gpus: int | None = None,
           cpu_only: bool = False, full_gpu: bool = False, wait: float | None = None) -> dict[str, Any]:
    """Build the project's image if it is missing, then start its container (creating it if needed).

    Returns {"name", "image", "built", "action", "notice", "gpus"}."""
    from . import containers

    names.validate_name(name, "project")
    workspace = images.project_dir(config, user, name)
    if not workspace.is_dir():
        raise NotFound(f"no project {name} in {workspace.parent}: create it with `project-init {name}`")
    built = False
    image = names.image_name(user.name, name, uid=user.uid)
    if not image_store.image_exists(docker, user, name):
        path, written = images.write_dockerfile(config, user, name, templates_dir=templates_dir)
        if written:
            _say(on_step, "image-create", f"{path} written")
        image_store.build(docker, config, user, name, on_output=on_output, log_dir=log_dir)
        built = True
        _say(on_step, "image-build", f"image {image}")
    notice = None
    gpu_slots: list[str] = []
    try:
        container = containers.find(docker, user, name)
    except NotFound:
        container = None
    if container is None:
        created = containers.deploy(docker, config, user, name, image=image, gpus=gpus, cpu_only=cpu_only,
                                    full_gpu=full_gpu, wait=wait, state_dir=state_dir, log_dir=log_dir,
                                    workspace=str(workspace))
        notice, gpu_slots = created.get("notice"), created.get("gpus") or []
        action = "created and started"
    else:
        action = "already running" if container.status == "running" else "started"
        current = dockerapi.get_image(docker, image).id
        if container.image_id != current:
            notice = (f"{name} still runs the image it was created with; to use the rebuilt {image}: "
                      f"`container-retire {name}`, then `project-launch {name}`")
        gpu_slots = label.slot_ids(container.labels)
        try:
            containers.start(docker, user, name, log_dir=log_dir, container=container, config=config,
                             state_dir=state_dir)
        except containers.GpuLost as lost:
            if wait is None:
                raise
            # --wait: the container lost its GPU (admin release, vanished slot): re-create it on a free one.
            moved = containers.restart_on_new_gpu(docker, config, user, name, wait=wait, state_dir=state_dir,
                                                  log_dir=log_dir)
            gpu_slots, action = moved.get("gpus") or [], "re-created on a free GPU and started"
            notice = f"{name} lost GPU slot {', '.join(lost.slots)}; the workspace is kept"
    _say(on_step, "container", f"container {name} {action}")
    return {"name": name, "image": image, "built": built, "action": action, "notice": notice, "gpus": gpu_slots}
