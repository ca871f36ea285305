"""Project images, the files side: the Dockerfile blueprint in the project's workspace and the
names of the images built from it.

The Dockerfile lives with the project (and in its git repository); images are built from it
as `ds01-<user>/<project>:latest` (image_store builds, lists and removes them). Deleting an image
never touches the Dockerfile, so the environment can always be rebuilt.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from . import image_build, log, names, paths
from .errors import Ds01Error, NotFound, PermissionDenied, UsageError
from .userfiles import make_directory, write_text

TYPE_CHECKING = False  # not typing's: importing typing would cost every command
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from .identity import User
    from .records import StrPath


TEMPLATES = ("general", "cv", "nlp", "rl", "custom")
DEFAULT_TEMPLATE = "general"
TEMPLATE_DESCRIPTIONS = {
    "general": "default ML stack: numpy, pandas, scikit-learn, PyTorch, JupyterLab",
    "cv": "computer vision: PyTorch, torchvision, OpenCV, timm, albumentations",
    "nlp": "language: PyTorch, transformers, datasets, tokenizers, accelerate",
    "rl": "reinforcement learning: PyTorch, gymnasium, stable-baselines3",
    "custom": "a blank start: the base image and your packages only",
}
# The line after this marker holds the extra packages; image-update rewrites only that line.
PACKAGES_MARKER = "# ds01-packages: extra packages (`image-update PROJECT --packages ...` edits the next line)"
NO_PACKAGES = "# (no extra packages)"
PIP_INSTALL = "RUN python3 -m pip install "
PACKAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\],<>=!~+*:/@]*\Z")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")  # Docker's rule for a tag


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
        write_text(path.with_name("Dockerfile.previous"), project_text(user, path), user)
    return write_text(path, text, user), True


def update_dockerfile(config: Any, user: User, project: str, *, packages: Sequence[str] = (),
                      remove: Sequence[str] = ()) -> list[str]:
    """Add (and remove) extra packages in the Dockerfile; returns the new package list."""
    path = dockerfile_path(config, user, project)
    if not path.is_file():
        raise NotFound(f"no Dockerfile at {path}: create it with `image-create {project}`")
    text = project_text(user, path)
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
    original = text = project_text(user, path)
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
    if text != original:
        write_text(path, text, user)
    return packages


def snapshot(config: Any, user: Any, project: str) -> dict[Path, str | None]:
    """The files image-update may change, as they are now ({path: text or None}), for `restore`."""
    directory = project_dir(config, user, project)
    saved: dict[Path, str | None] = {}
    for name in ("Dockerfile", "requirements.txt"):
        path = directory / name
        saved[path] = project_text(user, path) if path.is_file() else None
    return saved


def restore(saved: dict[Path, str | None], user: Any) -> None:
    """Put back what `snapshot` saw: a failed update leaves the project as it was."""
    for path, text in saved.items():
        if text is None:
            path.unlink(missing_ok=True)
        elif not path.is_file() or project_text(user, path) != text:
            write_text(path, text, user)


# --- reading project files as their user ------------------------------------------------

def project_bytes(user: User | None, path: StrPath) -> bytes:
    """A project file's bytes, read as its user and without following links (root builds for
    users: an admin's --user, locked mode), so a link to a root-only file is refused (exit 4)."""
    if user is None:
        return Path(path).read_bytes()
    from . import security

    return security.read_as_user(user, Path(os.path.abspath(path)))


def project_text(user: User | None, path: StrPath) -> str:
    """A project file's text, read as its user (see `project_bytes`): root editing a user's
    Dockerfile must not read a root-only file the user linked it to, and write it back as theirs."""
    return project_bytes(user, path).decode("utf-8", errors="replace")


# --- image references --------------------------------------------------------------------

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
