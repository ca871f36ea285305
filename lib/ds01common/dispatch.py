"""Dispatchers: `image create ...` runs `image-create ...`, `project init ...` runs `project-init ...`."""

import os
from pathlib import Path

from . import catalog, paths
from .errors import UsageError


def subcommands(prefix, bin_dir=None):
    """{sub: description} for every `<prefix>-<sub>` command next to the dispatcher."""
    found = {}
    directory = Path(bin_dir or paths.bin_dir())
    for path in sorted(directory.glob(f"{prefix}-*")):
        if path.is_file() and os.access(path, os.X_OK) and not path.is_symlink():
            found[path.name[len(prefix) + 1:]] = catalog.describe(path.resolve())[1]
    return found


def describe_subcommands(prefix, bin_dir=None):
    entries = subcommands(prefix, bin_dir)
    width = max((len(name) for name in entries), default=0)
    return "subcommands:\n" + "\n".join(f"  {name:<{width}}  {text}" for name, text in entries.items())


def resolve(prefix, sub, bin_dir=None):
    """The script that `<prefix> <sub>` runs, or a usage error listing the choices."""
    entries = subcommands(prefix, bin_dir)
    if sub not in entries:
        raise UsageError(f"unknown subcommand {sub!r}: choose from {', '.join(entries) or 'none installed'}")
    return Path(bin_dir or paths.bin_dir()) / f"{prefix}-{sub}"
