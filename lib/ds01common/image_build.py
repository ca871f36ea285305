"""What DS01 adds to a project's Dockerfile when it builds it, and what it says when a build fails.

The project's Dockerfile is the user's alone: DS01 never writes its user step into it. At build
time the engine gets a copy with DS01's step (config/templates/user.fragment: an account with
the user's uid/gid and a home, WORKDIR /workspace, USER uid:gid) appended after the user's last
line. So lines a user appends run as root, as in any Dockerfile, and the image still ends as the
user. The copy keeps the user's line numbers, so a failing step can be named by its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# What render() writes where the templates say {{USER_SETUP}}.
USER_STEP_NOTE = ("# DS01 adds your user (your uid/gid, a home, WORKDIR /workspace) after the last line when it\n"
                  "# builds: lines you add below run as root, like in any Dockerfile; the container runs as you.")
# The engine's own name for root: no passwd lookup, so even an image without /etc/passwd takes it.
AS_ROOT = "USER 0:0"
# Round-1 Dockerfiles carry the user step themselves, from this comment to the USER line.
_EMBEDDED_START = "# Your own user inside the image"
_EMBEDDED_END_RE = re.compile(r"^\s*USER\s+\$\{?DS01_UID\}?:\$\{?DS01_GID\}?\s*$")
_STEP_RE = re.compile(r"^Step (\d+)/(\d+) : ")
_COLOUR_RE = re.compile(r"\x1b\[[0-9;]*m")
# The classic builder's bookkeeping lines, not the step's own output.
_NOISE = (" ---> ", "Removing intermediate container ", "Successfully ")
OUTPUT_TAIL_LINES = 12


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: the line it starts on (1-based) and its text, continuations joined."""

    line: int
    text: str


@dataclass(frozen=True)
class BuildDockerfile:
    """The Dockerfile the engine builds: lines 1..user_lines are the project's own, numbered alike."""

    text: str
    user_lines: int


def instructions(text: str) -> list[Instruction]:
    """The instructions in Dockerfile order (the classic builder's Step numbers count these)."""
    found: list[Instruction] = []
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not parts and (not stripped or stripped.startswith("#")):
            continue
        if parts and stripped.startswith("#"):
            continue  # a comment inside a continued instruction is dropped, as the engine does
        if not parts:
            start = number
        continued = stripped.endswith("\\")
        parts.append(stripped[:-1].strip() if continued else stripped)
        if not continued:
            found.append(Instruction(start, " ".join(part for part in parts if part)))
            parts = []
    if parts:
        found.append(Instruction(start, " ".join(part for part in parts if part)))
    return found


def without_embedded_user_step(text: str) -> str:
    """`text` with a round-1 embedded user step turned into comments (same line count), so the
    step DS01 appends is the only one and lines after the old block run as root."""
    lines = text.splitlines()
    for first, line in enumerate(lines):
        if not line.startswith(_EMBEDDED_START):
            continue
        for last in range(first, len(lines)):
            if _EMBEDDED_END_RE.match(lines[last]):
                replaced = ["# (DS01's user step: now added at build time)"] + ["#"] * (last - first)
                lines[first:last + 1] = replaced
                return "\n".join(lines) + "\n"
        break
    return text


def compose(user_text: str, user_step: str) -> BuildDockerfile:
    """The project's Dockerfile followed by DS01's user step, run as root whatever USER the file left."""
    body = without_embedded_user_step(user_text)
    if body and not body.endswith("\n"):
        body += "\n"
    user_lines = body.count("\n")
    return BuildDockerfile(f"{body}{AS_ROOT}\n{user_step.rstrip()}\n", user_lines)


def failing_instruction(built: BuildDockerfile, output: list[str]) -> Instruction | None:
    """The instruction whose step the engine was running when it failed (from its `Step N/M :` lines)."""
    step = None
    for chunk in output:
        for line in chunk.splitlines():
            match = _STEP_RE.match(line)
            if match:
                step = int(match.group(1))
    listed = instructions(built.text)
    if step is None or not 1 <= step <= len(listed):
        return None
    return listed[step - 1]


def failure_message(reference: str, project: str, dockerfile: Path, built: BuildDockerfile,
                    output: list[str], engine_message: str, *, shown: bool) -> str:
    """What went wrong, where, and how to fix it; `shown`: the output already went to the terminal."""
    failing = failing_instruction(built, output)
    lines: list[str] = []
    if failing is None:
        lines.append(f"image build failed for {reference}")
    elif failing.line <= built.user_lines:
        lines.append(f"image build failed for {reference} at line {failing.line} of {dockerfile}:")
        lines.append(f"  {failing.line} | {_shorten(failing.text)}")
    else:
        lines.append(f"image build failed for {reference} in the user step DS01 adds after your Dockerfile:")
        lines.append(f"  {_shorten(failing.text)}")
    if not shown:
        tail = [line for chunk in output for line in _COLOUR_RE.sub("", chunk).rstrip("\n").splitlines()
                if line.strip() and not _STEP_RE.match(line) and not line.startswith(_NOISE)]
        if tail:
            lines.append("last output:")
            lines += [f"  {line}" for line in tail[-OUTPUT_TAIL_LINES:]]
    lines.append(f"docker: {' '.join(engine_message.split())}")
    if failing is not None and failing.line > built.user_lines:
        lines.append(f"fix: DS01's user step needs a Linux base image with /bin/sh and awk: choose another "
                     f"base (`image-create {project} --regenerate --base IMAGE`)")
    elif failing is not None:
        lines.append(f"fix: edit line {failing.line} of {dockerfile} and run `image-update {project}`, or start "
                     f"again from a blank Dockerfile: `image-create {project} --regenerate --template custom`")
    else:
        lines.append(f"fix: edit {dockerfile} and run `image-update {project}`, or start again from a blank "
                     f"Dockerfile: `image-create {project} --regenerate --template custom`")
    return "\n".join(lines)


def _shorten(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
