"""Where config, state and logs live: from the environment, else installed or checkout defaults."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# In a checkout the package sits at <root>/lib/ds01common; installed it sits at
# $(PREFIX)/lib/ds01/ds01common, where no config/ directory stands beside lib/.
_CANDIDATE_ROOT = PACKAGE_DIR.parent.parent


def checkout_root():
    """The checkout this library runs from, or None when it is installed."""
    root = _CANDIDATE_ROOT
    if (root / "bin").is_dir() and (root / "config" / "resource-limits.yaml").is_file():
        return root
    return None


def _default(installed, in_checkout):
    root = checkout_root()
    return Path(installed) if root is None else root / in_checkout


def config_path():
    return Path(os.environ.get("DS01_CONFIG") or _default("/etc/ds01/resource-limits.yaml",
                                                          "config/resource-limits.yaml"))


def state_dir():
    return Path(os.environ.get("DS01_STATE_DIR") or _default("/var/lib/ds01", "state"))


def log_dir():
    return Path(os.environ.get("DS01_LOG_DIR") or _default("/var/log/ds01", "state/log"))


def templates_dir():
    """Dockerfile templates: config/templates in a checkout, /etc/ds01/templates installed."""
    env = os.environ.get("DS01_TEMPLATES_DIR")
    if env:
        return Path(env)
    root = checkout_root()
    if root is not None:
        return root / "config" / "templates"
    return config_path().parent / "templates"


def bin_dir():
    """Directory holding the DS01 commands (used by dispatchers and alias-list)."""
    root = checkout_root()
    if root is not None:
        return root / "bin"
    # installed: $(PREFIX)/lib/ds01/ds01common -> $(PREFIX)/bin
    return PACKAGE_DIR.parent.parent.parent / "bin"
