"""A user's resolved limits as a table, as the contract's JSON, and as ~/.ds01-limits."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config_schema import DURATION_KEYS, LIMIT_KEYS, LIMITS, SIZE_KEYS
from .units import format_duration, format_size

if TYPE_CHECKING:
    from .identity import User
    from .records import Limits

log = logging.getLogger("ds01")
LIMITS_FILE = ".ds01-limits"

# The schema table holds every limit's meaning once.
DESCRIPTIONS = {setting.name: setting.description for setting in LIMITS}


def as_json(limits: Limits) -> dict[str, Any]:
    """Every section-7 key plus 'group' and 'reason': bytes, seconds, null for unlimited."""
    document = {key: limits.value(key) for key in LIMIT_KEYS}
    document["group"] = limits.group
    document["reason"] = limits.reason
    return document


def display_value(key: str, value: Any) -> str:
    if key in SIZE_KEYS:
        return format_size(value)
    if key in DURATION_KEYS:
        return format_duration(value)
    if value is None:
        return "unlimited"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def as_rows(limits: Limits) -> list[tuple[str, str, str]]:
    return [(key, display_value(key, limits.value(key)), DESCRIPTIONS[key]) for key in LIMIT_KEYS]


def as_text(user: str, limits: Limits) -> str:
    lines = [f"DS01 limits for {user} (group {limits.group})"]
    if limits.reason:
        lines.append(f"override: {limits.reason}")
    width = max(len(key) for key in LIMIT_KEYS)
    lines += [f"  {key.ljust(width)}  {value}" for key, value, _ in as_rows(limits)]
    return "\n".join(lines) + "\n"


def write_limits_file(user: User, limits: Limits) -> Path | None:
    """Keep ~/.ds01-limits current for the caller; a failure is only a warning."""
    path = Path(user.home) / LIMITS_FILE
    content = as_text(user.login, limits)
    try:
        if path.exists() and path.read_text() == content:
            return path
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".ds01-limits.")
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
        return path
    except OSError as error:
        log.warning("could not update %s: %s", path, error.strerror)
        return None
