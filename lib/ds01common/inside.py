"""What the inside of a container looks like to its user: the home directory and pip.

Images DS01 builds carry the label `ds01.home`: the user's home inside, made by DS01's user step
at build time and owned by the user. It lives in the container's own layer, so what `pip install`
puts there (pip falls back to `~/.local` when the system's site-packages are not writable) is gone
when the container is retired, as the docs teach; nothing lands in /workspace unless the user puts
it there. Other images get HOME=/tmp, writable by anyone and just as temporary, with a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import labels as label

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

FOREIGN_HOME = "/tmp"


@dataclass(frozen=True)
class Inside:
    """HOME for the container, and a notice when the image is not one DS01 built for the user."""

    home: str
    notice: str | None = None


def image_labels(image: Any) -> Mapping[str, str]:
    """The labels of a docker Image (an empty mapping for anything without them)."""
    labels = getattr(image, "labels", None)
    return labels if isinstance(labels, Mapping) else {}


def for_image(reference: str, labels: Mapping[str, str]) -> Inside:
    """Where HOME is for a container of image `reference` with these image labels."""
    home = labels.get(label.HOME) or ""
    if home.startswith("/") and home.rstrip("/") not in ("", "/workspace"):
        return Inside(home=home)
    if label.is_managed(labels):
        project = labels.get(label.PROJECT) or "PROJECT"
        return Inside(home=FOREIGN_HOME, notice=(
            f"{reference} was built before DS01 gave containers a home: HOME is {FOREIGN_HOME} inside "
            f"(temporary); rebuild it with `image-update {project}` for your own home and user pip installs"))
    return Inside(home=FOREIGN_HOME, notice=(
        f"{reference} was not built by DS01 for you: HOME is {FOREIGN_HOME} inside (temporary) and "
        "`pip install` works only if the image lets your user install; `image-create PROJECT --base "
        f"{reference}` builds one with your own home and user pip installs"))
