"""Keeping ~/.ds01-limits true: every DS01 command checks it on its way out (cli.run).

The check is a few stat calls: the file is fresh when it is newer than the config (its mtime or
ctime, so even a copy that kept an old mtime counts as an edit) and than limits.py (an upgrade
may change the format). Only a stale file costs a config load, and it is rewritten only when
its content changed (otherwise just touched).
"""

from __future__ import annotations

import os

# Not `from typing import TYPE_CHECKING`: every command passes here, and importing typing costs
# more than the whole check; mypy treats any name TYPE_CHECKING as true all the same.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

LIMITS_FILE = ".ds01-limits"  # the same name as limits.LIMITS_FILE, without importing the schema
FORMAT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "limits.py")


def _changed_at(path: str) -> int | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return max(info.st_mtime_ns, info.st_ctime_ns)


def is_fresh(limits_file: str, sources: list[str]) -> bool:
    """Whether `limits_file` exists and is newer than every source that exists."""
    try:
        written = os.stat(limits_file).st_mtime_ns
    except OSError:
        return False
    return all(changed is None or changed <= written for changed in map(_changed_at, sources))


def refresh_for_caller() -> None:
    """Rewrite the calling user's ~/.ds01-limits if their resolved limits changed; root has none."""
    from . import paths
    from .identity import current_user

    user = current_user()
    if user.uid == 0 or not user.home or not os.path.isdir(user.home):
        return
    target = os.path.join(user.home, LIMITS_FILE)
    config_file = str(paths.config_path())
    if is_fresh(target, [config_file, FORMAT_SOURCE]) or not os.access(user.home, os.W_OK):
        return
    from . import config as config_module
    from . import limits

    load: Callable[[str], Any] = config_module.load
    limits.write_limits_file(user, load(config_file).limits_for(user.login))
