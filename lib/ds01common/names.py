"""Project and container names, their Docker names, and image names."""

import re

from .errors import Ds01Error

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DOCKER_SEPARATOR = "._."
NAME_RULE = ("1-40 characters: lowercase letters, digits, '-' and '_', "
             "starting with a letter or digit")


def validate_name(name, what="container"):
    """Return `name` if allowed; otherwise raise a one-line error saying what is allowed."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise Ds01Error(f"invalid {what} name {name!r}: use {NAME_RULE}")
    return name


def docker_name(name, uid):
    """The engine-side container name: `<name>._.<uid>`, unique per user."""
    return f"{validate_name(name)}{DOCKER_SEPARATOR}{uid}"


def split_docker_name(docker_container_name):
    """(name, uid) from `<name>._.<uid>`, or (the name, None) for a foreign container."""
    name = docker_container_name.lstrip("/")
    base, separator, uid = name.rpartition(DOCKER_SEPARATOR)
    if separator and uid.isdigit():
        return base, int(uid)
    return name, None


def image_repository(username, project):
    """`ds01-<user>/<project>`: the user's image for a project (no tag)."""
    return f"ds01-{username}/{validate_name(project, 'project')}"


def image_name(username, project, tag="latest"):
    return f"{image_repository(username, project)}:{tag}"


def short_name(docker_container_name):
    """What users see and type: `<name>` of `<name>._.<uid>`; None stays None."""
    return split_docker_name(docker_container_name)[0] if docker_container_name else None
