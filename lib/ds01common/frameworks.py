"""The framework table: AIME-style FRAMEWORK VERSION pairs naming the images an admin provides.

The config's `images.frameworks` maps `"<Framework>-<version>"` to an image, e.g.
`Pytorch-2.8.0: pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime`. Framework names are matched
whatever their case (AIME writes `Pytorch`, people type `pytorch`); a version matches with or
without trailing `.0` parts (`2.8` finds `2.8.0` and the other way round), so AIME's example
commands work against the table as written. `mlc-create` runs these images; `image-create
--framework` builds a project's Dockerfile FROM them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Ds01Error, NotFound

FROM_LINE_RE = re.compile(r"^(\s*FROM\s+)(\S+)(.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Framework:
    """One row of the table: how the admin spelled it, and the image it names."""

    name: str
    version: str
    image: str

    @property
    def key(self) -> str:
        """The label value and config key: `<framework>-<version>`, framework in lower case."""
        return f"{self.name.lower()}-{self.version}"

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class FrameworkRow:
    """A table row as `--list-frameworks` and `mlc create --info` show it."""

    framework: str
    version: str
    image: str
    present: bool


def _version_key(version: str) -> str:
    """`2.8.0` and `2.8` compare equal; `2.8.1` and `2.8.0-aime` stay themselves."""
    text = version.strip().lower()
    while text.endswith(".0") and text.count(".") > 0:
        text = text[:-2]
    return text


def table(entries: Mapping[str, str]) -> list[Framework]:
    """The config's `images.frameworks` as rows, sorted by framework, then newest version first."""
    rows = []
    for key, image in entries.items():
        name, _, version = str(key).partition("-")
        rows.append(Framework(name.strip(), version.strip(), str(image)))

    def order(row: Framework) -> tuple[str, list[tuple[int, str]]]:
        parts = [(-int(part), "") if part.isdigit() else (0, part) for part in re.split(r"[.\-]", row.version)]
        return row.name.lower(), parts

    return sorted(rows, key=order)


def resolve(entries: Mapping[str, str], framework: str, version: str) -> Framework:
    """The row for FRAMEWORK VERSION; NotFound naming every configured pair otherwise."""
    rows = table(entries)
    wanted_name = framework.strip().lower()
    same_name = [row for row in rows if row.name.lower() == wanted_name]
    for row in same_name:
        if row.version.lower() == version.strip().lower():
            return row
    close = [row for row in same_name if _version_key(row.version) == _version_key(version)]
    if len(close) == 1:
        return close[0]
    known = ", ".join(row.title for row in rows) or "none configured"
    raise NotFound(f"no image for framework {framework} {version}; available: {known} "
                   "(admins map more under images.frameworks in resource-limits.yaml)")


def rows_with_presence(entries: Mapping[str, str], image_present: Callable[[str], bool]) -> list[FrameworkRow]:
    """The table with, for each image, whether it is on this server now (no pulls)."""
    return [FrameworkRow(row.name, row.version, row.image, image_present(row.image)) for row in table(entries)]


def rows_on_server(config: Any, docker: Any) -> list[FrameworkRow]:
    """The config's table with, for each image, whether the engine has it (for --list-frameworks,
    `mlc create --info` and the guided image builder)."""
    from . import dockerapi

    def present(image: str) -> bool:
        return dockerapi.inspect_image(docker, image) is not None
    return rows_with_presence(config.frameworks, present)


def format_rows(rows: Iterable[FrameworkRow]) -> tuple[list[list[str]], tuple[str, ...]]:
    """Table cells and headers for cli.print_table."""
    cells = [[row.framework, row.version, row.image, "yes" if row.present else "no (pulled on first use)"]
             for row in rows]
    return cells, ("FRAMEWORK", "VERSION", "IMAGE", "ON THIS SERVER")


def with_base_image(dockerfile_text: str, image: str) -> str:
    """The Dockerfile with its first FROM naming `image`; the rest (the blueprint) unchanged."""
    if not image or any(char.isspace() for char in image):
        raise Ds01Error(f"invalid base image {image!r}")
    match = FROM_LINE_RE.search(dockerfile_text)
    if match is None:
        raise Ds01Error("the Dockerfile has no FROM line to put the framework image in")
    return dockerfile_text[:match.start(2)] + image + dockerfile_text[match.end(2):]


def set_dockerfile_base(path: Path, image: str, user: Any) -> bool:
    """Point an existing Dockerfile's FROM at `image`, keeping the rest of the blueprint (and the
    old file as Dockerfile.previous); False when it already names `image`."""
    from .images import project_text
    from .userfiles import write_text

    text = project_text(user, path)  # as the user: never through their link
    changed = with_base_image(text, image)
    if changed == text:
        return False
    write_text(path.with_name("Dockerfile.previous"), text, user)
    write_text(path, changed, user)
    return True
