"""Files and directories made on a user's behalf: owned by that user even when root (an
admin's --user, or cron) makes them, and written so that an interruption never leaves half a file.

Root acting for a user does the writing AS the user (security.as_user: a child process with the
user's uid and groups), so a link the user planted, even one swapped in between a check and the
open, leads only where the user could write anyway. Where the user cannot write (a workspace
root only root may create in), root makes the directory itself, refusing any symlink the user
owns on the way and handing ownership over with lchown.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from .errors import Ds01Error, PermissionDenied

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import TypeGuard, TypeVar

    from .identity import User

    Result = TypeVar("Result")

PathLike = str | os.PathLike[str]


def _open_for(user: User | None, path: PathLike, flags: int, mode: int) -> int:
    """os.open with O_NOFOLLOW; for root acting for a user, at every component (no check-then-open race)."""
    if _acting_for(user):
        from .security import open_nofollow

        return open_nofollow(os.path.abspath(path), flags, mode)
    return os.open(path, flags | os.O_NOFOLLOW, mode)


def _acting_for(user: User | None) -> TypeGuard[User]:
    return os.geteuid() == 0 and user is not None and user.uid != 0


def refuse_user_symlinks(path: PathLike, user: User | None) -> None:
    """PermissionDenied when root acts for `user` and the path runs through a symlink that user owns."""
    if not _acting_for(user):
        return
    path = Path(os.path.abspath(path))
    for candidate in (path, *path.parents):
        try:
            info = os.lstat(candidate)
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode) and info.st_uid == user.uid:
            raise PermissionDenied(f"permission denied: {candidate} is a symlink owned by {user.login}; "
                                   "DS01 does not follow it while acting for them")


def give_to(path: PathLike, user: User | None) -> None:
    """Root acting for someone: what we write is theirs, not root's (the link itself, never its target)."""
    if _acting_for(user):
        try:
            os.chown(path, user.uid, user.gid, follow_symlinks=False)
        except OSError:
            pass


def write_text(path: PathLike, text: str, user: User | None, mode: int = 0o644) -> Path:
    """Write through a temp file in the same dir, so an interruption never leaves half a file."""
    if _acting_for(user):
        done = _try_as(user, _write_text, path, text, None, mode)
        if done is not None:
            return done
        _require_own_directory(path, user)
    return _write_text(path, text, user, mode)


def _require_own_directory(path: PathLike, user: User) -> None:
    """In locked mode (root runs the user's own command through sudo, so the user chose the path:
    `container-export -o FILE`), root writes what it could not write as the user only into a
    directory the user owns, reached with no link: never /etc/cron.d/x. (Cron and an admin's
    --user choose their paths themselves.)"""
    from . import identity
    from .security import open_directory_nofollow

    if identity.sudo_caller_uid() is None:
        return

    directory = os.path.dirname(os.path.abspath(path))
    fd = open_directory_nofollow(directory)
    try:
        owner = os.fstat(fd).st_uid
    finally:
        os.close(fd)
    if owner != user.uid:
        raise PermissionDenied(f"permission denied: {user.login} may not write in {directory}")


def _try_as(user: User, function: Callable[..., Result], *args: object) -> Result | None:
    """function(*args) as the user; None when they may not (root then does it, refusing links)."""
    from .security import as_user

    try:
        return as_user(user, function, *args)
    except (Ds01Error, OSError):
        return None


def _write_text(path: PathLike, text: str, user: User | None, mode: int) -> Path:
    path = Path(path)
    refuse_user_symlinks(path, user)
    temporary = path.with_name(f".{path.name}.ds01-tmp")
    try:
        temporary.unlink(missing_ok=True)  # a leftover, or something planted: never written through
        fd = _open_for(user, temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
            if _acting_for(user):
                os.fchown(handle.fileno(), user.uid, user.gid)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise Ds01Error(f"cannot write {path}: {error.strerror}") from None
    return path


def append_line(path: PathLike, line: str, user: User | None) -> Path:
    """Append one line to a file in the user's space (as the user when root acts for them)."""
    if _acting_for(user):
        done = _try_as(user, _append_line, path, line, None)
        if done is not None:
            return done
        _require_own_directory(path, user)
    return _append_line(path, line, user)


def _append_line(path: PathLike, line: str, user: User | None) -> Path:
    """Append one line to a file in the user's space (created theirs, never through a symlink)."""
    path = Path(path)
    refuse_user_symlinks(path, user)
    try:
        fd = _open_for(user, path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as error:
        raise Ds01Error(f"cannot write {path}: {error.strerror}") from None
    try:
        if _acting_for(user) and os.fstat(fd).st_uid == 0:
            os.fchown(fd, user.uid, user.gid)
        os.write(fd, (line.rstrip("\n") + "\n").encode())
    finally:
        os.close(fd)
    return path


def make_directory(path: PathLike, user: User | None, mode: int = 0o755) -> list[Path]:
    """mkdir -p as the user (root acting for them); where only root may create, root does it."""
    if _acting_for(user):
        made = _try_as(user, _make_directory, path, None, mode)
        if made is not None:
            return made
    return _make_directory(path, user, mode)


def _make_directory(path: PathLike, user: User | None, mode: int = 0o755) -> list[Path]:
    """mkdir -p that hands every directory it made to `user`; returns the ones made, outermost first."""
    path = Path(path)
    refuse_user_symlinks(path, user)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=mode)
            give_to(directory, user)
    except FileExistsError:
        pass
    except OSError as error:
        raise Ds01Error(f"cannot create {path}: {error.strerror}") from None
    if not path.is_dir():
        raise Ds01Error(f"{path} exists and is not a directory")
    return list(reversed(missing))
