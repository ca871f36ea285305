"""Project and container names, their Docker names, and image names."""

import re

from .errors import Ds01Error

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
DOCKER_SEPARATOR = "._."
NAME_RULE = ("1-40 characters: lowercase letters, digits, '-' and '_', "
             "starting with a letter or digit")


def validate_name(name: object, what: str = "container") -> str:
    """Return `name` if allowed; otherwise raise a one-line error saying what is allowed."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise Ds01Error(f"invalid {what} name {name!r}: use {NAME_RULE}")
    return name


def docker_name(name: str, uid: int) -> str:
    """The engine-side container name: `<name>._.<uid>`, unique per user."""
    return f"{validate_name(name)}{DOCKER_SEPARATOR}{uid}"


def split_docker_name(docker_container_name: str) -> tuple[str, int | None]:
    """(name, uid) from `<name>._.<uid>`, or (the name, None) for a foreign container."""
    name = docker_container_name.lstrip("/")
    base, separator, uid = name.rpartition(DOCKER_SEPARATOR)
    if separator and uid.isdigit():
        return base, int(uid)
    return name, None


# Docker allows a separator ('.', '_', '__' or a run of '-') only between letters or digits.
_SEPARATOR_RUN_RE = re.compile(r"[._-]+")


def image_user(username: str, uid: int | None = None) -> str:
    """The image-name form of a sanitised login: runs of separators collapsed to their first one
    (`a..b` -> `a.b`), none at either end (`alice_` -> `alice`, `-x` -> `x`), `u<uid>` if nothing is left."""
    name = _SEPARATOR_RUN_RE.sub(lambda run: run.group(0)[0], username).strip("._-")
    if name:
        return name
    if uid is None:
        raise Ds01Error(f"the login {username!r} has no Docker-valid image name")
    return f"u{uid}"


def image_repository(username: str, project: str, uid: int | None = None) -> str:
    """`ds01-<user>/<project>`: the user's image for a project (no tag); `<user>` made Docker-valid."""
    return f"ds01-{image_user(username, uid)}/{validate_name(project, 'project')}"


def image_name(username: str, project: str, tag: str = "latest", uid: int | None = None) -> str:
    return f"{image_repository(username, project, uid)}:{tag}"


def short_name(docker_container_name: str | None) -> str | None:
    """What users see and type: `<name>` of `<name>._.<uid>`; None stays None."""
    return split_docker_name(docker_container_name)[0] if docker_container_name else None
