"""Files and directories made on a user's behalf: owned by that user even when root (an
admin's --user, or cron) makes them, and written so that an interruption never leaves half a file.

Root acting for a user never follows a symlink that user owns: the user could point it at
/etc and have root write or chown there. Such a path is refused (PermissionDenied), files are
opened with O_NOFOLLOW, and ownership is handed over with lchown / fchown.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from .errors import Ds01Error, PermissionDenied

if TYPE_CHECKING:
    from .identity import User

PathLike = str | os.PathLike[str]


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
    path = Path(path)
    refuse_user_symlinks(path, user)
    temporary = path.with_name(f".{path.name}.ds01-tmp")
    try:
        temporary.unlink(missing_ok=True)  # a leftover, or something planted: never written through
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
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
    """Append one line to a file in the user's space (created theirs, never through a symlink)."""
    path = Path(path)
    refuse_user_symlinks(path, user)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
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
