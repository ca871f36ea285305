"""Project images: the Dockerfile blueprint in the project's workspace, its build, listing, removal.

The Dockerfile lives with the project (and in its git repository); images are built from it
as `ds01-<user>/<project>:latest`. Deleting an image never touches the Dockerfile, so the
environment can always be rebuilt.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import tarfile
from pathlib import Path

from . import dockerapi, events, image_build, log, names, paths
from . import labels as label
from .errors import Ds01Error, NotFound, PermissionDenied, UsageError
from .units import iso_utc
from .userfiles import make_directory, write_text

TYPE_CHECKING = False  # not typing's: importing typing would cost every command
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from .identity import User
    from .records import ImageDetails, StrPath


TEMPLATES = ("general", "cv", "nlp", "rl", "custom")
DEFAULT_TEMPLATE = "general"
TEMPLATE_DESCRIPTIONS = {
    "general": "default ML stack: numpy, pandas, scikit-learn, PyTorch, JupyterLab",
    "cv": "computer vision: PyTorch, torchvision, OpenCV, timm, albumentations",
    "nlp": "language: PyTorch, transformers, datasets, tokenizers, accelerate",
    "rl": "reinforcement learning: PyTorch, gymnasium, stable-baselines3",
    "custom": "a blank start: the base image and your packages only",
}
USER_FRAGMENT = "user.fragment"
# The line after this marker holds the extra packages; image-update rewrites only that line.
PACKAGES_MARKER = "# ds01-packages: extra packages (`image-update PROJECT --packages ...` edits the next line)"
NO_PACKAGES = "# (no extra packages)"
PIP_INSTALL = "RUN python3 -m pip install "
PACKAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\],<>=!~+*:/@]*\Z")
# Beside the Dockerfile, only these small files go to the build: never data or checkpoints.
CONTEXT_FILES = ("Dockerfile", "requirements.txt", "environment.yml")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")  # Docker's rule for a tag

# Short local names for the label names of labels.py.
LABEL_MANAGED = label.MANAGED
LABEL_USER = label.USER
LABEL_PROJECT = label.PROJECT


# --- the Dockerfile ----------------------------------------------------------------------

def project_dir(config: Any, user: User, project: str) -> Path:
    workspace: Path = config.workspace_dir(user.home)
    return workspace / names.validate_name(project, "project")


def dockerfile_path(config: Any, user: User, project: str) -> Path:
    return project_dir(config, user, project) / "Dockerfile"


def templates_location(given: StrPath | None = None) -> Path:
    """Where the templates are: `given`, else paths.templates_dir(); a DS01_CONFIG moved away from
    the installed config dir still finds the installed templates."""
    if given:
        return Path(given)
    directory = paths.templates_dir()
    if not directory.is_dir() and not paths.templates_override() and paths.checkout_root() is None:
        installed = Path("/etc/ds01/templates")
        if installed.is_dir():
            return installed
    return directory


def available_templates(templates_dir: StrPath | None = None) -> list[str]:
    """The built-in templates plus any Dockerfile.<name> an admin added to the templates dir."""
    found = []
    directory = templates_location(templates_dir)
    if directory.is_dir():
        found = sorted(path.name.split(".", 1)[1] for path in directory.glob("Dockerfile.*"))
    return list(TEMPLATES) + [name for name in found if name not in TEMPLATES]


def split_specs(text: str) -> list[str]:
    """Words of `text` split at spaces and at commas that start a new package: `wandb,einops`
    is two packages, but `torch>=2,<3` and `pkg[a,b]` stay one (their comma is part of the spec)."""
    specs = []
    for word in str(text).split():
        depth, start = 0, 0
        for index, char in enumerate(word):
            depth += {"[": 1, "]": -1}.get(char, 0)
            following = word[index + 1:index + 2]
            if char == "," and depth == 0 and (following.isalnum() or following in ","):  # "" too: a trailing comma
                specs.append(word[start:index])
                start = index + 1
        specs.append(word[start:])
    return [spec for spec in specs if spec]


def validate_packages(packages: Iterable[str] | None) -> list[str]:
    """The package specs as given, or an error naming the first that pip could not take safely."""
    checked = []
    for spec in packages or ():
        if any(char in str(spec) for char in "\r\n\\"):
            raise Ds01Error(f"invalid package {spec!r}: one pip requirement per word, no line breaks")
        for item in split_specs(spec):
            if not PACKAGE_RE.match(item):
                raise Ds01Error(f"invalid package {item!r}: use pip requirement specs such as "
                                "numpy, torch==2.3.1 or 'transformers>=4.40' (no spaces or quotes)")
            checked.append(item)
    return checked


def require_project(project: str | None, packages: Sequence[str] = (), missing: str = "PROJECT is required") -> str:
    """A usage error when PROJECT is missing, saying so when `--packages a b PROJECT` swallowed it."""
    if project:
        return project
    hint = ""
    if packages:
        hint = (f"; --packages took every word after it ({' '.join(packages)}): put the name first, "
                "or write --packages a,b")
    raise UsageError(missing + hint)


def packages_line(packages: Sequence[str]) -> str:
    packages = validate_packages(packages)
    if not packages:
        return NO_PACKAGES
    return PIP_INSTALL + " ".join(shlex.quote(package) for package in packages)


def read_packages(text: str) -> list[str] | None:
    """The extra packages of a DS01 Dockerfile, or None when it has no packages line."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("# ds01-packages:") and index + 1 < len(lines):
            following = lines[index + 1].strip()
            if following.startswith(PIP_INSTALL):
                return shlex.split(following[len(PIP_INSTALL):])
            return []
    return None


def with_packages(text: str, packages: Sequence[str]) -> str:
    """`text` with its packages line replaced; an error when a hand-written file has none."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("# ds01-packages:") and index + 1 < len(lines):
            lines[index + 1] = packages_line(packages)
            return "\n".join(lines) + "\n"
    raise Ds01Error("the Dockerfile has no `# ds01-packages:` line to edit: add the packages to it "
                    "by hand and run `image-update PROJECT`, or rewrite it with "
                    "`image-create PROJECT --regenerate`")


def merge_packages(current: Sequence[str], added: Sequence[str] = (), removed: Sequence[str] = ()) -> list[str]:
    """Current packages plus `added` (a new version of a package replaces the old), minus `removed`."""
    def key(spec: str) -> str:
        return re.split(r"[\[<>=!~ ;@]", spec, maxsplit=1)[0].lower().replace("_", "-")

    removed_keys = {key(spec) for spec in validate_packages(removed)}
    added = validate_packages(added)
    added_keys = {key(spec) for spec in added}
    kept = [spec for spec in current if key(spec) not in removed_keys | added_keys]
    return kept + [spec for spec in added if key(spec) not in removed_keys]


def render(template: str, base_image: str, packages: Sequence[str] = (), project: str = "project",
           templates_dir: StrPath | None = None) -> str:
    """The Dockerfile text of `template` FROM `base_image` with the extra packages."""
    directory = templates_location(templates_dir)
    choices = available_templates(directory)
    if template not in choices:
        raise Ds01Error(f"unknown template {template!r}: choose from {', '.join(choices)}")
    try:
        text = (directory / f"Dockerfile.{template}").read_text()
    except OSError as error:
        raise Ds01Error(f"cannot read the Dockerfile templates in {directory}: {error.strerror} "
                        "(DS01_TEMPLATES_DIR names another folder)") from None
    if not base_image or any(char.isspace() for char in base_image):
        raise Ds01Error(f"invalid base image {base_image!r}")
    replacements = {
        "{{BASE_IMAGE}}": base_image,
        "{{PROJECT}}": project,
        "{{PACKAGES}}": PACKAGES_MARKER + "\n" + packages_line(packages),
        # DS01's user step is added at build time (image_build), never written into the file.
        "{{USER_SETUP}}": image_build.USER_STEP_NOTE,
    }
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def write_dockerfile(config: Any, user: User, project: str, *, template: str | None = None, base: str | None = None,
                     packages: Sequence[str] = (), regenerate: bool = False,
                     templates_dir: StrPath | None = None) -> tuple[Path, bool]:
    """Write the project's Dockerfile unless one exists; returns (path, written).

    An existing Dockerfile is the user's blueprint and is used as it is; with `regenerate`
    it is rewritten from the template and the old one kept as Dockerfile.previous."""
    path = dockerfile_path(config, user, project)
    if path.exists() and not regenerate:
        if template or base or packages:
            log.warning("%s exists and is used as it is (--template/--base/--packages ignored): "
                        "use --regenerate to rewrite it, or `image-update %s --packages ...`", path, project)
        return path, False
    text = render(template or DEFAULT_TEMPLATE, base or config.base_image, packages, project, templates_dir)
    make_directory(path.parent, user)  # image-create may be the first thing run for a project
    if path.exists():
        write_text(path.with_name("Dockerfile.previous"), _project_text(user, path), user)
    return write_text(path, text, user), True


def update_dockerfile(config: Any, user: User, project: str, *, packages: Sequence[str] = (),
                      remove: Sequence[str] = ()) -> list[str]:
    """Add (and remove) extra packages in the Dockerfile; returns the new package list."""
    path = dockerfile_path(config, user, project)
    if not path.is_file():
        raise NotFound(f"no Dockerfile at {path}: create it with `image-create {project}`")
    text = _project_text(user, path)
    current = read_packages(text)
    if current is None:
        with_packages(text, [])  # raises the explanation
    merged = merge_packages(current or [], packages, remove)
    if merged != current:
        write_text(path, with_packages(text, merged), user)
    return merged


def add_build_steps(config: Any, user: Any, project: str, *, apt: Sequence[str] = (),
                    requirements: str | None = None) -> list[str]:
    """Add system packages (`apt`) and/or the install of a requirements file to the Dockerfile.

    `requirements` (a path, read with the user's own permissions) is copied to the project's
    requirements.txt unless it is that file. Returns the Dockerfile's apt packages."""
    from . import image_steps, security

    path = dockerfile_path(config, user, project)
    if not path.is_file():
        raise NotFound(f"no Dockerfile at {path}: create it with `image-create {project}`")
    text = _project_text(user, path)
    packages = image_steps.read_apt(text)
    if apt:
        text, packages = image_steps.with_apt(text, apt)
    if requirements is not None:
        given = Path(os.path.abspath(requirements))
        target = path.parent / image_steps.REQUIREMENTS_FILE
        if given != target:
            try:
                content = security.read_as_user(user, given).decode()
            except UnicodeDecodeError:
                raise Ds01Error(f"{given} is not a text requirements file") from None
            write_text(target, content, user)
        text = image_steps.with_requirements(text)
    if text != _project_text(user, path):
        write_text(path, text, user)
    return packages


def snapshot(config: Any, user: Any, project: str) -> dict[Path, str | None]:
    """The files image-update may change, as they are now ({path: text or None}), for `restore`."""
    directory = project_dir(config, user, project)
    saved: dict[Path, str | None] = {}
    for name in ("Dockerfile", "requirements.txt"):
        path = directory / name
        saved[path] = _project_text(user, path) if path.is_file() else None
    return saved


def restore(saved: dict[Path, str | None], user: Any) -> None:
    """Put back what `snapshot` saw: a failed update leaves the project as it was."""
    for path, text in saved.items():
        if text is None:
            path.unlink(missing_ok=True)
        elif not path.is_file() or _project_text(user, path) != text:
            write_text(path, text, user)


# --- building ----------------------------------------------------------------------------

def user_step(templates_dir: str | Path | None = None) -> str:
    """DS01's user step (the templates' user.fragment), appended to the Dockerfile at build time."""
    directory = templates_location(templates_dir)
    try:
        return (directory / USER_FRAGMENT).read_text()
    except OSError as error:
        raise Ds01Error(f"cannot read DS01's user step {directory / USER_FRAGMENT}: {error.strerror} "
                        "(DS01_TEMPLATES_DIR names another folder)") from None


def _project_bytes(user: User | None, path: StrPath) -> bytes:
    """A project file's bytes, read as its user and without following links (root builds for
    users: an admin's --user, locked mode), so a link to a root-only file is refused (exit 4)."""
    if user is None:
        return Path(path).read_bytes()
    from . import security

    return security.read_as_user(user, Path(os.path.abspath(path)))


def _project_text(user: User | None, path: StrPath) -> str:
    """A project file's text, read as its user (see `_project_bytes`): root editing a user's
    Dockerfile must not read a root-only file the user linked it to, and write it back as theirs."""
    return _project_bytes(user, path).decode("utf-8", errors="replace")


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
                data = _project_bytes(user, path)
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
          on_output: Callable[[str], None] | None = None, log_dir: StrPath | None = None,
          tag: str = "latest") -> dict[str, Any]:
    """Build ds01-<user>/<project>:<tag> from the project's Dockerfile; returns the image summary.

    `on_output(text)` receives the build output as it comes (None: quiet); a failure names
    the step that failed and, when quiet, shows the last lines of the output."""
    path = dockerfile_path(config, user, project)
    if not path.is_file():
        raise NotFound(f"no Dockerfile at {path}: create it with `image-create {project}`")
    reference = names.image_name(user.name, project, tag, uid=user.uid)
    built = image_build.compose(_project_bytes(user, path).decode(errors="replace"), user_step())
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


def resolve_reference(user: User, project_or_image: str, tag: str = "latest") -> tuple[str, str]:
    """(image reference, project) for PROJECT, PROJECT:TAG or a full `ds01-<user>/<project>[:tag]`;
    exit 4 for another user's."""
    text = project_or_image.strip()
    own = names.image_user(user.name, user.uid)
    if "/" in text:
        repository, _, given_tag = text.partition(":")
        owner_part, _, project = repository.partition("/")
        owner = owner_part[len("ds01-"):] if owner_part.startswith("ds01-") else None
        if owner is None:
            raise PermissionDenied(f"permission denied: {text} is not a DS01 project image")
        names.validate_name(project, "project")
        reference = f"ds01-{owner}/{project}:{given_tag or tag}"
        if owner != own:
            raise PermissionDenied(f"permission denied: {reference} belongs to {owner}")
        return reference, project
    project, _, given_tag = text.partition(":")
    if given_tag and not TAG_RE.match(given_tag):
        raise Ds01Error(f"invalid tag {given_tag!r}: use letters, digits, '_', '.' and '-' (at most 128)")
    names.validate_name(project, "project")
    return names.image_name(user.name, project, given_tag or tag, uid=user.uid), project


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
           log_dir: StrPath | None = None) -> dict[str, Any]:
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
