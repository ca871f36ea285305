"""Listing DS01 containers: contract section 9's shape from one engine listing (no inspect)."""

from __future__ import annotations

from . import dockerapi, names
from . import labels as label

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from .identity import User


def summary(entry: dict[str, Any]) -> dict[str, Any]:
    """Contract section 9's shape from one entry of Docker's container list."""
    labels = entry.get("Labels") or {}
    docker_container_name = (entry.get("Names") or ["/"])[0].lstrip("/")
    return {
        "name": labels.get(label.PROJECT) or names.split_docker_name(docker_container_name)[0],
        "user": labels.get(label.USER),
        "status": entry.get("State"),
        "image": entry.get("Image"),
        "gpus": label.slot_ids(labels),
        "created": labels.get(label.CREATED_AT),
        "port": label.host_port(labels),
    }


def list_entries(docker: Any, user: User | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Docker's raw list entries for DS01 containers (one engine call), the user's or everyone's.

    `docker`: the command's client (a lazy one lists over the socket, without the SDK); None
    makes one from this process's environment."""
    filters = {"label": [label.MANAGED_FILTER["label"]] + ([f"{label.USER}={user.name}"] if user else [])}
    if status:
        filters["status"] = [status]
    entries = dockerapi.list_containers(filters, client=docker)
    if user is not None:
        entries = [entry for entry in entries if (entry.get("Labels") or {}).get(label.UID) == str(user.uid)]
    return sorted(entries, key=lambda entry: ((entry.get("Labels") or {}).get(label.USER) or "",
                                              (entry.get("Labels") or {}).get(label.PROJECT) or ""))


def list_containers(docker: Any, user: User | None = None) -> list[dict[str, Any]]:
    """[{name, user, status, image, gpus, created}] for the user's (or, with None, every) container."""
    return [summary(entry) for entry in list_entries(docker, user)]


def stopped(docker: Any, user: User) -> list[dict[str, Any]]:
    """The user's containers that are not running (exited, created, dead): cleanup's candidates."""
    return [summary(entry) for entry in list_entries(docker, user)
            if entry.get("State") in ("exited", "created", "dead")]
