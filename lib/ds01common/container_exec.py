"""Running things inside a user's container: a command, or an interactive shell.

Both go through the docker command-line client (via process.py) because it alone carries a
terminal, stdin and signals end to end; its exit status is the command's own exit status.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import container_spec, containers, process
from .errors import Ds01Error, UsageError

if TYPE_CHECKING:
    from .identity import User
    from .records import ContainerDetails, StrPath

# bash where the image has it (distro images), else sh (busybox, alpine).
SHELL = ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"]


def _docker_cli() -> str:
    program = process.which("docker")
    if program is None:
        raise Ds01Error("the docker command-line client is not installed; ask an admin to install docker.io")
    return program


def terminal_attached() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _stdin_has_data_source() -> bool:
    """Whether stdin is a pipe or a file worth forwarding (never an inherited terminal)."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def exec_command(user: User, container: ContainerDetails, command: Sequence[str],
                 terminal: bool | None = None) -> list[str]:
    """The docker CLI line that runs `command` as the user in /workspace of `container`."""
    terminal = terminal_attached() if terminal is None else terminal
    flags: list[str] = []
    if terminal:
        flags = ["-i", "-t"]
    elif _stdin_has_data_source():
        flags = ["-i"]
    # HOME is the container's own (container_spec.create_options): a per-container home, never /workspace.
    return [_docker_cli(), "exec", *flags, "-u", f"{user.uid}:{user.gid}",
            "-w", container_spec.CONTAINER_WORKSPACE, container.name, *command]


def run(docker: Any, user: User, name: str, command: Sequence[str], *, state_dir: StrPath,
        log_dir: StrPath | None, config: Any = None) -> int:
    """Start the container if needed, run `command` in it; returns the command's exit status."""
    container = containers.start(docker, user, name, log_dir=log_dir, config=config, state_dir=state_dir)
    result = process.run(exec_command(user, container, list(command)), check=False, capture=False)
    return result.returncode


def shell(docker: Any, user: User, name: str, start: bool = True, *, state_dir: StrPath,
          log_dir: StrPath | None, config: Any = None) -> int:
    """An interactive shell (needs a terminal); returns the shell's exit status.

    Existence and ownership are checked before the terminal, so someone else's container is
    exit 4 (and a missing one exit 1) whether or not the caller sits at a terminal; nothing is
    started for a caller who has no terminal."""
    container = containers.find(docker, user, name)
    if not start and container.status != "running":
        raise Ds01Error(f"{name} is not running: use `container-run {name}` to start it and enter")
    if not terminal_attached():
        raise UsageError(f"a shell needs a terminal; to run one command use `container-run {name} -- CMD`")
    if start:
        container = containers.start(docker, user, name, log_dir=log_dir, container=container, config=config,
                                     state_dir=state_dir)
    result = process.run(exec_command(user, container, SHELL, terminal=True), check=False, capture=False)
    return result.returncode
