"""Dispatchers: `image create ...` runs `image-create ...`, `project init ...` runs `project-init ...`."""

from __future__ import annotations

from .commands import registry
from .errors import UsageError


def subcommands(prefix: str) -> dict[str, str]:
    """{sub: one-line summary} for every `<prefix>-<sub>` command in the registry."""
    return {sub: command.summary() for sub, command in registry.family(prefix).items()}


def describe_subcommands(prefix: str) -> str:
    entries = subcommands(prefix)
    width = max((len(name) for name in entries), default=0)
    return "subcommands:\n" + "\n".join(f"  {name:<{width}}  {text}" for name, text in entries.items())


def resolve(prefix: str, sub: str) -> str:
    """The command name that `<prefix> <sub>` runs, or a usage error listing the choices."""
    entries = registry.family(prefix)
    if sub not in entries:
        raise UsageError(f"unknown subcommand {sub!r}: choose from {', '.join(entries) or 'none'}")
    return entries[sub].name
