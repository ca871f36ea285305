"""Images at the boundary: lookups answer with records.ImageDetails (or the engine's plain JSON
for listings and build output); no SDK object leaves this package."""

from __future__ import annotations

from collections.abc import Iterator

from .client import errors, get_or_none

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from ..records import ImageDetails


def _image_details(image: Any) -> ImageDetails:
    from ..records import ImageDetails

    attrs: dict[str, Any] = getattr(image, "attrs", None) or {}
    size = attrs.get("Size")
    created = attrs.get("Created")
    # getattr: the SDK's Image, engine_http's and the tests' stand-ins differ in what they carry
    tags = getattr(image, "tags", None) or attrs.get("RepoTags") or []
    labels = getattr(image, "labels", None) or (attrs.get("Config") or {}).get("Labels") or {}
    return ImageDetails(id=str(getattr(image, "id", None) or attrs.get("Id") or ""),
                        tags=tuple(tag for tag in tags if tag != "<none>:<none>"),
                        labels=dict(labels), size=size if isinstance(size, int) else None,
                        created=str(created) if created else None)


def inspect_image(client: Any, reference: str, what: str | None = None) -> ImageDetails | None:
    """The image `reference` (name:tag or id) as a typed record; None when there is no such image."""
    image = get_or_none(client.images, reference, what or f"image {reference}")
    return None if image is None else _image_details(image)


def get_image(client: Any, reference: str, what: str | None = None) -> ImageDetails:
    """The image `reference` as a typed record; NotFound (translated) when there is no such image."""
    with errors(what or f"image {reference}"):
        image = client.images.get(reference)
    return _image_details(image)


def remove_image(client: Any, reference: str, what: str | None = None) -> None:
    """Remove (untag) the image `reference`; `what` names it in errors."""
    with errors(what or f"image {reference}"):
        client.images.remove(reference)


def pull_image(client: Any, reference: str, what: str | None = None) -> None:
    """Pull `reference` from its registry (errors name it as `what`)."""
    with errors(what or f"image {reference}"):
        client.images.pull(reference)


def image_summaries(client: Any, what: str = "images") -> list[dict[str, Any]]:
    """The engine's image list, as its JSON entries (one call)."""
    with errors(what):
        entries: list[dict[str, Any]] = client.api.images()
    return entries


def build_image(client: Any, what: str, **options: Any) -> Iterator[dict[str, Any]]:
    """Build an image (`options`: the engine's build parameters) and yield its decoded output
    chunks as they come; engine failures while starting or streaming become typed errors."""
    with errors(what):
        yield from client.api.build(decode=True, **options)
