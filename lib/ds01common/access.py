"""Locked mode (config `access: ds01-only`): DS01 is the only door to Docker.

Users are in `users_group`, not in the docker group. `make install` writes /etc/sudoers.d/ds01,
letting that group run exactly the installed DS01 commands as root without a password. Every
command a user runs passes `enter()` first (in the launch boundary), which:
- as the user: re-executes the same installed command through `sudo -n`, with a scrubbed
  environment (the caller's PATH, PYTHONPATH, LD_PRELOAD and DS01_* never reach root);
- as root under sudo: takes the acting user from SUDO_UID (trusted only there: a user cannot
  be root without sudo's say) and keeps the state and log dirs root-only.
In docker-group mode (the default) and from a checkout, `enter()` does nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import paths
from .errors import Ds01Error, PermissionDenied

TYPE_CHECKING = False  # typing's own flag would import typing, which every command (and --help) would pay for
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .config import Config

LOCKED = "ds01-only"
SUDO = "/usr/bin/sudo"
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What a terminal needs, nothing that steers a program: everything else is dropped before sudo.
KEPT_VARIABLES = ("TERM", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "COLUMNS", "LINES", "TZ")
# Commands that only touch the user's own files, never Docker or DS01's state: run as the user.
USER_SIDE = frozenset({"alias-list", "dir-create", "git-init", "readme-create", "ssh-setup", "vscode-setup"})
# Admin-tier commands a user needs as root (their own events, the server's status, their limits);
# every other admin command runs as root only for admin_group members, as the user otherwise
# (where it can do nothing a user could not: `cleanup-idle-containers --dry-run --log F`,
# `ds01-exporter --textfile F` must not write F as root at a user's say).
ADMIN_TIER_FOR_USERS = frozenset({"ds01-events", "ds01-status", "get-resource-limits", "check-limits"})


def configured_access(config_path: Path | None = None) -> str:
    """`access` from the config, read cheaply: from root's parsed-config cache when it is fresh;
    else from a peek at the text, and without the word ds01-only there the YAML is not parsed."""
    from . import config_cache

    path = config_path or paths.config_path()
    cached = config_cache.lookup(str(path))
    if cached is not None:  # validated already: `access` is absent, docker-group or ds01-only
        return LOCKED if cached.get("access") == LOCKED else "docker-group"
    try:
        text = path.read_text()
    except OSError:
        return "docker-group"
    if LOCKED not in text:
        return "docker-group"
    return str(_load_config(path).setting("access"))


def _load_config(path: Path) -> Config:
    from . import config

    return config.load(path)


def scrubbed_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment handed to sudo: a fixed PATH and the terminal's variables, nothing else."""
    kept = {name: environ[name] for name in KEPT_VARIABLES if name in environ and "\n" not in environ[name]}
    kept["PATH"] = SAFE_PATH
    return kept


def _in_group(group_name: str) -> bool:
    import grp

    try:
        group = grp.getgrnam(group_name)
    except KeyError:
        return False
    return group.gr_gid in os.getgroups() or group.gr_gid == os.getgid()


def _sudo_caller(environ: Mapping[str, str]) -> int | None:
    uid = environ.get("SUDO_UID", "")
    return int(uid) if uid.isdigit() and int(uid) != 0 else None


def root_only(directory: Path) -> None:
    """Make a DS01 dir root-only (0700) if it is root's and wider: locked mode's state and logs."""
    try:
        info = os.lstat(directory)
    except OSError:
        return
    import stat

    if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700, follow_symlinks=False)


def enter(name: str, argv: list[str], environ: Mapping[str, str]) -> None:
    """The locked-mode door for command `name` (see the module docstring); returns to run it here,
    or replaces this process with `sudo -n <the installed command> argv`."""
    if paths.installed_layout() is None:
        return  # a checkout: development, no sudoers entry to go through
    if os.getuid() == 0:
        caller = _sudo_caller(environ)
        if caller is not None and configured_access() == LOCKED:
            from . import identity

            identity.act_for_sudo_caller(caller)
            for directory in (paths.state_dir(), paths.log_dir()):
                root_only(directory)
        return
    if name in USER_SIDE or configured_access() != LOCKED:
        return
    config = _load_config(paths.config_path())  # once: admin_group and users_group both come from it
    if _admin_tier(name) and name not in ADMIN_TIER_FOR_USERS and not _caller_is_admin(config):
        return  # runs as the user, with the user's rights: refused or harmless
    group = str(config.setting("users_group"))
    if not _in_group(group):
        raise PermissionDenied(f"permission denied: DS01 on this server is for members of {group}; "
                               f"ask an admin to run `add-user {_login()}`")
    invoked = Path(sys.argv[0]).name
    script = paths.bin_dir() / (invoked if (paths.bin_dir() / invoked).exists() else name)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(SUDO, [SUDO, "-n", "--", str(script), *argv], scrubbed_environment(environ))
    except OSError as error:
        raise Ds01Error(f"cannot run {SUDO}: {error.strerror} (locked mode needs sudo installed)") from None


def _admin_tier(name: str) -> bool:
    from .commands.registry import find

    try:
        return find(name).tier == "admin"
    except KeyError:
        return False


def _caller_is_admin(config: Config) -> bool:
    from . import identity

    return identity.is_admin(identity.current_user(), str(config.setting("admin_group")))


def _login() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
