"""The steps `image-update` writes into a project's Dockerfile besides pip packages: system
packages (`--apt`) and a requirements file (`--requirements`), each under a marker line it
can find again. Lines the user wrote are never rewritten; a missing block is inserted before the
pip packages line (apt) or after it (requirements), or appended where the file has no such line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import Ds01Error

APT_MARKER = "# ds01-apt: system packages (`image-update PROJECT --apt ...` edits the next line)"
NO_APT = "# (no extra system packages)"
APT_INSTALL = "RUN apt-get update && apt-get install -y --no-install-recommends "
APT_CLEANUP = " && rm -rf /var/lib/apt/lists/*"
# Debian package names (policy 5.6.1), optionally pinned: name=version.
APT_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?\Z")

REQUIREMENTS_FILE = "requirements.txt"
REQUIREMENTS_MARKER = ("# ds01-requirements: requirements.txt beside this Dockerfile "
                       "(`image-update PROJECT --requirements FILE`)")
REQUIREMENTS_STEPS = ("COPY requirements.txt /tmp/ds01-requirements.txt",
                      "RUN python3 -m pip install -r /tmp/ds01-requirements.txt")
PACKAGES_MARKER_PREFIX = "# ds01-packages:"


def validate_apt(packages: Sequence[str]) -> list[str]:
    """The package names as given, or an error naming the first that is not a Debian package name."""
    checked: list[str] = []
    for word in packages:
        for name in str(word).replace(",", " ").split():
            if not APT_PACKAGE_RE.match(name):
                raise Ds01Error(f"invalid apt package {name!r}: use Debian package names such as "
                                "libgl1 or ffmpeg, optionally pinned as name=version")
            checked.append(name)
    return checked


def apt_line(packages: list[str]) -> str:
    if not packages:
        return NO_APT
    return APT_INSTALL + " ".join(packages) + APT_CLEANUP


def read_apt(text: str) -> list[str]:
    """The system packages of the Dockerfile's apt block ([] when it has none)."""
    lines = text.splitlines()
    index = _marker_index(lines, "# ds01-apt:")
    following = lines[index + 1].strip() if index is not None and index + 1 < len(lines) else ""
    if following.startswith(APT_INSTALL) and following.endswith(APT_CLEANUP):
        return following[len(APT_INSTALL):-len(APT_CLEANUP)].split()
    return []


def _marker_index(lines: list[str], prefix: str) -> int | None:
    for index, line in enumerate(lines):
        if line.strip().startswith(prefix):
            return index
    return None


def _finish(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def with_apt(text: str, added: Sequence[str], removed: Sequence[str] = ()) -> tuple[str, list[str]]:
    """(new text, packages): the apt block with `added` (and without `removed`), created if missing."""
    added, removed = validate_apt(list(added)), validate_apt(list(removed))

    def name(package: str) -> str:
        return package.split("=", 1)[0]

    dropped = {name(package) for package in removed + added}
    packages = [package for package in read_apt(text) if name(package) not in dropped]
    packages += [package for package in added if name(package) not in {name(item) for item in removed}]
    lines = text.splitlines()
    index = _marker_index(lines, "# ds01-apt:")
    if index is not None and index + 1 < len(lines):
        lines[index + 1] = apt_line(packages)
        return _finish(lines), packages
    block = [APT_MARKER, apt_line(packages)]
    packages_at = _marker_index(lines, PACKAGES_MARKER_PREFIX)
    if packages_at is None:
        lines += ["", *block]
    else:
        lines[packages_at:packages_at] = [*block, ""]
    return _finish(lines), packages


def has_requirements_step(text: str) -> bool:
    return _marker_index(text.splitlines(), "# ds01-requirements:") is not None


def with_requirements(text: str) -> str:
    """The text with the steps installing requirements.txt (after the pip packages line, else at the end)."""
    if has_requirements_step(text):
        return text
    lines = text.splitlines()
    block = [REQUIREMENTS_MARKER, *REQUIREMENTS_STEPS]
    packages_at = _marker_index(lines, PACKAGES_MARKER_PREFIX)
    if packages_at is None or packages_at + 1 >= len(lines):
        lines += ["", *block]
    else:
        lines[packages_at + 2:packages_at + 2] = ["", *block]
    return _finish(lines)
