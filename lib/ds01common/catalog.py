"""The command catalogue, read from the scripts themselves (docstring, TIER, symlink aliases)."""

import ast
import os
from pathlib import Path

TIERS = ("wizard", "orchestrator", "atomic", "admin", "dispatcher")
TIER_TITLES = {
    "wizard": "Wizards: guided, multi-step set-up",
    "orchestrator": "Orchestrators: several steps in one command",
    "atomic": "Atomic commands: one thing each",
    "admin": "Admin, status and cron tools",
    "dispatcher": "Dispatchers: `container SUB` = `container-SUB` (likewise image, project, user)",
}


def describe(script):
    """(tier, first docstring line) of a command script, without running it."""
    try:
        tree = ast.parse(Path(script).read_text())
    except (OSError, SyntaxError, ValueError):
        return None, ""
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    tier = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TIER" for t in node.targets):
            if isinstance(node.value, ast.Constant):
                tier = node.value.value
    return tier, doc[0] if doc else ""


def commands(bin_dir):
    """[{name, tier, description, alias_of}] for every executable in bin_dir, sorted by name."""
    entries = []
    for path in sorted(Path(bin_dir).iterdir()):
        if not path.is_file() or not os.access(path, os.X_OK):
            continue
        alias_of = os.readlink(path) if path.is_symlink() else None
        tier, description = describe(path.resolve())
        if tier is None:
            continue
        entries.append({"name": path.name, "tier": tier, "description": description,
                        "alias_of": os.path.basename(alias_of) if alias_of else None})
    return entries
