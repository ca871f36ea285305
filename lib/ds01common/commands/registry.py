"""Every DS01 command, once: name, tier, the module holding its logic, its aliases.

This table drives the bin/ wrappers (each calls `launch(name)`), the dispatchers, `alias-list`,
`make install` (through bin/), the README command table and the --help test. A command's help
text and one-line summary are its module's docstring, read without importing the module.
"""

from __future__ import annotations

import os
from collections import namedtuple

TIERS = ("wizard", "orchestrator", "atomic", "admin", "dispatcher")
TIER_TITLES = {
    "wizard": "Wizards: guided, multi-step set-up",
    "orchestrator": "Orchestrators: several steps in one command",
    "atomic": "Atomic commands: one thing each",
    "admin": "Admin, status and cron tools",
    "dispatcher": "Dispatchers: `container SUB` = `container-SUB` (likewise image, mlc, project, user)",
}

# A namedtuple, not a dataclass: every command start imports this table, and the dataclasses
# machinery (inspect, re-compiled annotations) would cost more than the rest of the lookup.
_CommandFields = namedtuple("_CommandFields", "name tier module aliases prefix", defaults=("", (), None))


class Command(_CommandFields):
    """name, tier, module ("" = name with - as _), aliases, prefix (dispatchers: `<prefix> SUB`)."""

    __slots__ = ()
    name: str
    tier: str
    module: str
    aliases: tuple[str, ...]
    prefix: str | None

    @property
    def module_name(self) -> str:
        return self.module or self.name.replace("-", "_")

    @property
    def module_path(self) -> str:
        return os.path.join(os.path.dirname(__file__), self.module_name + ".py")

    def summary(self) -> str:
        """First line of the module's docstring (for a dispatcher: its family's description)."""
        if self.prefix:
            return dispatcher_summary(self.prefix)
        quick = _summary_line(self.module_path)
        if quick is not None:
            return quick
        lines = docstring(self.module_path).strip().splitlines()
        return lines[0] if lines else ""


def dispatcher_summary(prefix: str) -> str:
    """A dispatcher's one-line description: its --help and the command lists share it."""
    return f"Run a {prefix} command: `{prefix} SUB ARGS...` is the same as `{prefix}-SUB ARGS...`."


COMMANDS: tuple[Command, ...] = (
    Command("add-user", "admin"),
    Command("add-user-to-docker", "admin"),
    Command("alias-list", "admin"),
    Command("cleanup-idle-containers", "admin"),
    Command("container", "dispatcher", module="dispatcher", prefix="container"),
    Command("container-attach", "atomic"),
    Command("container-cleanup", "atomic"),
    Command("container-create", "atomic"),
    Command("container-deploy", "orchestrator"),
    Command("container-exit", "atomic"),
    Command("container-export", "atomic"),
    Command("container-jupyter", "atomic"),
    Command("container-list", "atomic"),
    Command("container-logs", "atomic"),
    Command("container-remove", "atomic"),
    Command("container-retire", "orchestrator"),
    Command("container-run", "atomic"),
    Command("container-start", "atomic"),
    Command("container-stats", "atomic"),
    Command("container-stop", "atomic"),
    Command("dir-create", "atomic"),
    Command("ds01-events", "admin"),
    Command("ds01-exporter", "admin"),
    Command("ds01-status", "admin"),
    Command("get-resource-limits", "admin", aliases=("check-limits",)),
    Command("git-init", "atomic"),
    Command("gpu-allocator", "admin"),
    Command("gpu-queue", "atomic"),
    Command("gpu-status", "atomic"),
    Command("image", "dispatcher", module="dispatcher", prefix="image"),
    Command("image-create", "atomic"),
    Command("image-delete", "atomic"),
    Command("image-list", "atomic"),
    Command("image-update", "atomic"),
    Command("mlc", "dispatcher", module="dispatcher", prefix="mlc"),
    Command("mlc-create", "atomic"),
    Command("mlc-list", "atomic"),
    Command("mlc-open", "atomic"),
    Command("mlc-remove", "atomic"),
    Command("mlc-start", "atomic"),
    Command("mlc-stats", "atomic"),
    Command("mlc-stop", "atomic"),
    Command("mlc-update-sys", "atomic"),
    Command("project", "dispatcher", module="dispatcher", prefix="project"),
    Command("project-init", "orchestrator", aliases=("new-project",)),
    Command("project-launch", "orchestrator"),
    Command("readme-create", "atomic"),
    Command("setup-resource-slices", "admin"),
    Command("setup-slurm-limits", "admin"),
    Command("ssh-setup", "atomic"),
    Command("user", "dispatcher", module="dispatcher", prefix="user"),
    Command("user-setup", "wizard", aliases=("new-user",)),
    Command("vscode-setup", "atomic"),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}
ALIASES: dict[str, str] = {alias: command.name for command in COMMANDS for alias in command.aliases}


def find(name: str) -> Command:
    """The command called `name` (an alias resolves to its command); KeyError if unknown."""
    return BY_NAME[ALIASES.get(name, name)]


def family(prefix: str) -> dict[str, Command]:
    """{sub: command} for every `<prefix>-<sub>` command, in name order."""
    start = prefix + "-"
    return {command.name[len(start):]: command for command in COMMANDS if command.name.startswith(start)}


def _summary_line(path: str) -> str | None:
    """The docstring's first line read as text, when the module starts the plain way (`\"\"\"Summary`,
    no backslash): a dispatcher's --help lists a dozen of these, and `ast` (which imports inspect)
    would cost that --help more than the rest of it. None: ask `docstring` instead."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    quote = '"' * 3
    body = head.removeprefix("\ufeff")
    if not body.startswith(quote):
        return None
    first = body[3:].split("\n", 1)[0]
    line = first.split(quote, 1)[0].strip()
    if "\\" in line or not line or "\n" not in body[3:]:
        return None
    return line


def docstring(path: str) -> str:
    """A module's docstring, read without importing (and so without running) the module."""
    import ast

    try:
        with open(path, encoding="utf-8") as handle:
            return ast.get_docstring(ast.parse(handle.read())) or ""
    except (OSError, SyntaxError, ValueError):
        return ""


def commands_markdown() -> str:
    """The README's commands-by-tier table (every command, aliases in parentheses)."""
    lines = ["| tier | commands |", "|---|---|"]
    for tier in TIERS:
        cells = []
        for command in COMMANDS:
            if command.tier != tier:
                continue
            alias_text = f" (`{'`, `'.join(command.aliases)}`)" if command.aliases else ""
            cells.append(f"`{command.name} SUB`" if command.prefix else f"`{command.name}`{alias_text}")
        if cells:
            lines.append(f"| {tier} | {', '.join(cells)} |")
    return "\n".join(lines) + "\n"
