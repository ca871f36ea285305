"""Project images, the engine side: build `ds01-<user>/<project>:<tag>` from the project's
Dockerfile (images.py keeps that file), list the user's images, find and remove them.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from . import dockerapi, events, image_build, log, names
from . import labels as label
from .errors import Ds01Error, NotFound, PermissionDenied
from .images import dockerfile_path, project_bytes, project_text, resolve_reference, templates_location
from .units import iso_utc

TYPE_CHECKING = False  # not typing's: importing typing would cost every command
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from .identity import User
    from .records import ImageDetails, StrPath


USER_FRAGMENT = "user.fragment"
# Beside the Dockerfile, only these small files go to the build: never data or checkpoints.
CONTEXT_FILES = ("Dockerfile", "requirements.txt", "environment.yml")

# Short local names for the label names of labels.py.
LABEL_MANAGED = label.MANAGED
LABEL_USER = label.USER
LABEL_PROJECT = label.PROJECT


# --- building ----------------------------------------------------------------------------

def user_step(templates_dir: str | Path | None = None) -> str:
    """DS01's user step (the templates' user.fragment), appended to the Dockerfile at build time."""
    directory = templates_location(templates_dir)
    try:
        return (directory / USER_FRAGMENT).read_text()
    except OSError as error:
        raise Ds01Error(f"cannot read DS01's user step {directory / USER_FRAGMENT}: {error.strerror} "
                        "(DS01_TEMPLATES_DIR names another folder)") from None


def _context(directory: Path, dockerfile_text: str, user: User | None = None) -> io.BytesIO:
    """An in-memory build context: the Dockerfile to build (`dockerfile_text`) and the project's
    small companions only."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in CONTEXT_FILES:
            path = Path(directory) / name
            if name == "Dockerfile":
                data = dockerfile_text.encode()
            elif os.path.lexists(path):
                data = project_bytes(user, path)
            else:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def image_labels(user: User, project: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_USER: user.name, LABEL_PROJECT: project}


def build_args(user: User) -> dict[str, str]:
    return {"DS01_USER": user.name, "DS01_UID": str(user.uid), "DS01_GID": str(user.gid)}


def build(docker: Any, config: Any, user: User, project: str, *, no_cache: bool = False,
          on_output: Callable[[str], None] | None = None, log_dir: StrPath | None,
          tag: str = "latest") -> dict[str, Any]:
    """Build ds01-<user>/<project>:<tag> from the project's Dockerfile; returns the image summary.

    `on_output(text)` receives the build output as it comes (None: quiet); a failure names
    the step that failed and, when quiet, shows the last lines of the output."""
    path = dockerfile_path(config, user, project)
    if not path.is_file():
        raise NotFound(f"no Dockerfile at {path}: create it with `image-create {project}`")
    reference = names.image_name(user.name, project, tag, uid=user.uid)
    built = image_build.compose(project_text(user, path), user_step())
    previous = _current_id(docker, reference)
    recent: list[str] = []
    image_id = None
    stream = dockerapi.build_image(docker, f"image {reference}", fileobj=_context(path.parent, built.text, user),
                                   custom_context=True, tag=reference, labels=image_labels(user, project),
                                   buildargs=build_args(user), nocache=no_cache, rm=True, forcerm=True)
    for chunk in stream:
        if "error" in chunk:
            detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
            raise Ds01Error(image_build.failure_message(reference, project, path, built, recent, detail,
                                                        shown=on_output is not None))
        text = chunk.get("stream")
        if text is None and chunk.get("status") and not chunk.get("progressDetail"):
            text = f"{chunk['status']} {chunk.get('id', '')}".rstrip() + "\n"
        if text:
            recent = (recent + [text])[-40:]
            if on_output:
                on_output(text)
        image_id = (chunk.get("aux") or {}).get("ID", image_id)
    image = dockerapi.get_image(docker, reference)
    if previous and previous != image.id:
        _drop_if_orphaned(docker, previous)
    events.record("image.built", user.name, log_dir=log_dir, image=reference, project=project,
                  id=image.id, no_cache=no_cache)
    return {"image": reference, "id": image.id or image_id, "size": image.size}


def _current_id(docker: Any, reference: str) -> str | None:
    image = dockerapi.inspect_image(docker, reference)
    return image.id if image is not None else None


def _drop_if_orphaned(docker: Any, image_id: str | None) -> None:
    """A rebuild leaves the old image untagged; remove it unless a container still runs it,
    so repeated image-update runs do not fill the shared disk."""
    try:
        if image_id is None:
            return
        old = dockerapi.get_image(docker, image_id, "images")
        if old.tags or image_id in containers_by_image(docker):
            return
        dockerapi.remove_image(docker, image_id, "images")
    except Exception as error:  # noqa: BLE001 - cleanup only; the build itself succeeded
        log.debug("kept old image %s: %s", image_id, error)


# --- listing and removal -----------------------------------------------------------------

def _owner(labels: Mapping[str, str] | None, repository_tags: Iterable[str]) -> str | None:
    labels = labels or {}
    if labels.get(LABEL_USER):
        return labels[LABEL_USER]
    for tag in repository_tags or ():
        if tag.startswith("ds01-") and "/" in tag:
            return tag[len("ds01-"):].split("/", 1)[0]
    return None


def containers_by_image(docker: Any) -> dict[str, list[str]]:
    """{image id: [container names]} for every DS01 container (one engine call)."""
    entries = dockerapi.container_summaries(docker, label.MANAGED_FILTER)
    using: dict[str, list[str]] = {}
    for entry in entries:
        labels = entry.get("Labels") or {}
        name = labels.get(LABEL_PROJECT) or names.split_docker_name((entry.get("Names") or ["/"])[0])[0]
        owner = labels.get(LABEL_USER)
        using.setdefault(str(entry.get("ImageID") or ""), []).append(name if owner is None else f"{name} ({owner})")
    return using


def list_images(docker: Any, user: User) -> list[dict[str, Any]]:
    """The user's images, one entry per tag: image, project, tag, id, size, created, containers."""

    prefix = f"ds01-{names.image_user(user.name, user.uid)}/"
    entries = dockerapi.image_summaries(docker)
    using = containers_by_image(docker)
    result = []
    for entry in entries:
        tags = [tag for tag in entry.get("RepoTags") or () if tag.startswith(prefix)]
        if not tags or not _is_owner(_owner(entry.get("Labels"), tags), user):
            continue
        created = iso_utc(entry.get("Created") or 0)
        for reference in sorted(tags):
            repository, _, tag = reference.rpartition(":")
            result.append({
                "image": reference, "project": repository[len(prefix):], "tag": tag, "id": entry.get("Id"),
                "size": entry.get("Size"), "created": created,
                "containers": [name.split(" (")[0] for name in using.get(str(entry.get("Id") or ""), [])],
            })
    return sorted(result, key=lambda item: (item["project"], item["tag"] != "latest", item["tag"]))


def _is_owner(owner: str | None, user: User) -> bool:
    """The label names the user; an unlabelled image's repository names their image-name form."""
    return owner is not None and owner in (user.name, names.image_user(user.name, user.uid))


def find_image(docker: Any, user: User, project_or_image: str, tag: str = "latest") -> tuple[ImageDetails, str]:
    """(image record, reference) of the user's image; NotFound, or exit 4 for another's."""
    reference, project = resolve_reference(user, project_or_image, tag)
    image = dockerapi.inspect_image(docker, reference)
    if image is None:
        raise NotFound(f"no image {reference}: build it with `image-create {project}`")
    owner = _owner(image.labels, [reference])
    if not _is_owner(owner, user):
        raise PermissionDenied(f"permission denied: {reference} belongs to {owner}")
    return image, reference


def image_exists(docker: Any, user: User, project: str, tag: str = "latest") -> bool:
    try:
        find_image(docker, user, project, tag)
    except NotFound:
        return False
    return True


def delete(docker: Any, user: User, project_or_image: str, *, tag: str = "latest",
           log_dir: StrPath | None) -> dict[str, Any]:
    """Remove the user's image (the tag); refused while a container uses it. The Dockerfile stays."""
    image, reference = find_image(docker, user, project_or_image, tag)
    users = containers_by_image(docker).get(image.id, [])
    if users:
        listed = ", ".join(users)
        first = users[0].split(" (")[0]
        raise Ds01Error(f"{reference} is used by container(s) {listed}: retire them first "
                        f"(`container-retire {first}`); the image was kept")
    dockerapi.remove_image(docker, reference)
    events.record("image.deleted", user.name, log_dir=log_dir, image=reference, id=image.id)
    return {"image": reference, "id": image.id}
