"""Who is acting: the real uid, its sanitised name, admin rights, and `--user` for admins."""

import grp
import os
import pwd
import re
from collections import namedtuple

from .errors import NotFound, PermissionDenied

# login: the password-database name (config keys use it); name: sanitised for Docker names,
# labels and image names. A namedtuple rather than a dataclass: every command builds one,
# and importing dataclasses costs more than the rest of this module.
User = namedtuple("User", "login name uid gid home")


def sanitise(login: str) -> str:
    """Lowercase, '@domain' dropped, anything outside [a-z0-9_.-] becomes '_'."""
    name = login.split("@", 1)[0].lower()
    name = re.sub(r"[^a-z0-9_.-]", "_", name)
    return name or "_"


def _from_pwd(entry: pwd.struct_passwd) -> User:
    return User(entry.pw_name, sanitise(entry.pw_name), entry.pw_uid, entry.pw_gid, entry.pw_dir)


# Locked mode: the user who ran this command through sudo (set by access.enter, only when this
# process runs as root under sudo in `access: ds01-only`); None: the real uid acts.
_sudo_caller_uid: int | None = None


def act_for_sudo_caller(uid: int) -> None:
    """From now on `current_user()` is `uid` (the locked-mode boundary calls this, nothing else)."""
    global _sudo_caller_uid
    _sudo_caller_uid = uid


def sudo_caller_uid() -> int | None:
    """The locked-mode sudo caller's uid, or None when the real uid acts."""
    return _sudo_caller_uid


def current_user() -> User:
    """The real uid's user (not the effective one: a setuid wrapper must not change who acts);
    in locked mode, the user on whose behalf sudo runs this command."""
    uid = os.getuid() if _sudo_caller_uid is None else _sudo_caller_uid
    try:
        return _from_pwd(pwd.getpwuid(uid))
    except KeyError:
        raise NotFound(f"uid {uid} has no entry in the password database") from None


def lookup_user(name: str) -> User:
    """A user by login name, by sanitised name, or by uid given as digits."""
    try:
        if name.isdigit():
            return _from_pwd(pwd.getpwuid(int(name)))
        return _from_pwd(pwd.getpwnam(name))
    except KeyError:
        for entry in pwd.getpwall():
            if sanitise(entry.pw_name) == name:
                return _from_pwd(entry)
    raise NotFound(f"no such user: {name}")


def is_admin(user: User, admin_group: str) -> bool:
    """uid 0, or a member (primary or supplementary) of the admin group."""
    if user.uid == 0:
        return True
    try:
        group = grp.getgrnam(admin_group)
    except KeyError:
        return False
    return user.login in group.gr_mem or user.gid == group.gr_gid


def acting_user(requested: str | None, admin_group: str, caller: User | None = None) -> User:
    """The user a command acts for: the caller, or `requested` when the caller is an admin."""
    caller = caller or current_user()
    if not requested or requested in (caller.login, caller.name):
        return caller
    if not is_admin(caller, admin_group):
        raise PermissionDenied(f"permission denied: --user is for members of {admin_group} only")
    return lookup_user(requested)
