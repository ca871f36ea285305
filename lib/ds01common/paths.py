"""Where config, state and logs live: baked in by `make install`, else checkout defaults.

An installed DS01 reads its locations from `_install.py`, which `make install` writes beside
this module. The environment (DS01_CONFIG, DS01_STATE_DIR, DS01_LOG_DIR and the other DS01_*
knobs read through `trusted_environ`) is honoured only for root, and from a checkout for
development: a user who could point DS01 at their own config or state would make themselves
an admin or lift their quotas.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# In a checkout the package sits at <root>/lib/ds01common; installed it sits at
# $(PREFIX)/lib/ds01/ds01common, where no config/ directory stands beside lib/.
_CANDIDATE_ROOT = PACKAGE_DIR.parent.parent

try:
    from . import _install  # type: ignore[attr-defined]  # written by `make install` only
except ImportError:
    _install = None


def installed_layout() -> dict[str, str] | None:
    """What `make install` baked in (config, state_dir, log_dir, templates_dir, bin_dir), or None."""
    return dict(_install.LAYOUT) if _install is not None else None


def checkout_root() -> Path | None:
    """The checkout this library runs from, or None when it is installed."""
    if _install is not None:
        return None
    root = _CANDIDATE_ROOT
    if (root / "bin").is_dir() and (root / "config" / "resource-limits.yaml").is_file():
        return root
    return None


def environment_trusted() -> bool:
    """Whether DS01_* variables may move DS01's files: root, or a development checkout."""
    return _install is None or os.getuid() == 0


def trusted_environ(name: str) -> str | None:
    """os.environ[name] when the environment is trusted (see `environment_trusted`), else None."""
    return os.environ.get(name) or None if environment_trusted() else None


def _default(key: str, installed: str, in_checkout: str) -> Path:
    layout = installed_layout()
    if layout is not None:
        return Path(layout[key])
    root = checkout_root()
    return Path(installed) if root is None else root / in_checkout


def config_path() -> Path:
    return Path(trusted_environ("DS01_CONFIG") or _default("config", "/etc/ds01/resource-limits.yaml",
                                                          "config/resource-limits.yaml"))


def state_dir() -> Path:
    return Path(trusted_environ("DS01_STATE_DIR") or _default("state_dir", "/var/lib/ds01", "state"))


def log_dir() -> Path:
    return Path(trusted_environ("DS01_LOG_DIR") or _default("log_dir", "/var/log/ds01", "state/log"))


def templates_override() -> str | None:
    """DS01_TEMPLATES_DIR when set and trusted (root, or a checkout), like the other DS01_* paths:
    an installed copy builds from the templates the admin installed, not ones a user names."""
    return trusted_environ("DS01_TEMPLATES_DIR")


def ssh_host() -> str | None:
    """DS01_SSH_HOST when set: the name laptops reach this server by, instead of its own idea."""
    return os.environ.get("DS01_SSH_HOST") or None


def assume_tty() -> bool:
    """DS01_ASSUME_TTY=1: act as if a person sat at a terminal (tests drive the prompts so)."""
    return os.environ.get("DS01_ASSUME_TTY") == "1"


def templates_dir() -> Path:
    """Dockerfile templates: config/templates in a checkout, the installed CONFDIR/templates."""
    env = templates_override()
    if env:
        return Path(env)
    layout = installed_layout()
    if layout is not None:
        return Path(layout["templates_dir"])
    root = checkout_root()
    if root is not None:
        return root / "config" / "templates"
    return config_path().parent / "templates"


def bin_dir() -> Path:
    """Directory holding the DS01 commands (used by dispatchers, alias-list and the sudo re-exec)."""
    layout = installed_layout()
    if layout is not None:
        return Path(layout["bin_dir"])
    root = checkout_root()
    if root is not None:
        return root / "bin"
    # installed: $(PREFIX)/lib/ds01/ds01common -> $(PREFIX)/bin
    return PACKAGE_DIR.parent.parent.parent / "bin"
