"""A user's resolved limits as a table, as the contract's JSON, and as ~/.ds01-limits."""

from __future__ import annotations

import os
from pathlib import Path

from . import log
from .config_schema import DURATION_KEYS, LIMIT_KEYS, LIMITS, SIZE_KEYS
from .units import format_duration, format_size

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from .identity import User
    from .records import Limits

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


def file_value(key: str, value: Any) -> str:
    """A limit as ~/.ds01-limits says it: no runtime limit reads "unlimited", not "never"."""
    if key == "max_runtime" and value is None:
        return "unlimited"
    if key in DURATION_KEYS and value and value % 3600 == 0 and value < 3 * 86400:
        return f"{value // 3600}h"  # "Idle timeout: 48h", as the docs say it, not "2d"
    return display_value(key, value)


def as_text(user: str, limits: Limits) -> str:
    """~/.ds01-limits: one `Label: value` line per limit (`Max Containers: 3`, `Idle timeout: 48h`)."""
    lines = [f"# DS01 limits for {user}: every DS01 command keeps this file current "
             "(details: get-resource-limits)", f"Group: {limits.group}"]
    if limits.reason:
        lines.append(f"Override: {limits.reason}")
    lines += [f"{setting.label}: {file_value(setting.name, limits.value(setting.name))}" for setting in LIMITS]
    return "\n".join(lines) + "\n"


def parse_text(text: str) -> dict[str, str]:
    """{label: value} of a ~/.ds01-limits text: the login greeting's own reader (the greeting keeps
    to small standard modules, so the one copy lives there)."""
    from .greeting import parse_limits

    return parse_limits(text)


def write_limits_file(user: User, limits: Limits) -> Path | None:
    """Keep ~/.ds01-limits current for `user`; unchanged content is not rewritten (only its time is
    touched, so a later freshness check passes). Returns the path, or None after a warning."""
    from .errors import Ds01Error
    from .userfiles import write_text

    path = Path(user.home) / LIMITS_FILE
    content = as_text(user.login, limits)
    try:
        if path.is_file() and not path.is_symlink() and path.read_text() == content:
            os.utime(path, follow_symlinks=False)
            return path
        written: Path = write_text(path, content, user)
        return written
    except (OSError, Ds01Error) as error:
        log.warning("could not update %s: %s", path, getattr(error, "strerror", None) or error)
        return None
