"""Files and directories made on a user's behalf: owned by that user even when root (an
admin's --user) makes them, and written so that an interruption never leaves half a file."""

import os
from pathlib import Path

from .errors import Ds01Error


def give_to(path, user):
    """Root acting for someone (an admin's --user): what we write is theirs, not root's."""
    if os.geteuid() == 0 and user.uid != 0:
        try:
            os.chown(path, user.uid, user.gid)
        except OSError:
            pass


def write_text(path, text, user, mode=0o644):
    """Write through a temp file in the same dir, so an interruption never leaves half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.ds01-tmp")
    try:
        temporary.write_text(text)
        os.chmod(temporary, mode)
        give_to(temporary, user)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise Ds01Error(f"cannot write {path}: {error.strerror}") from None
    return path


def make_directory(path, user, mode=0o755):
    """mkdir -p that hands every directory it made to `user`; returns the ones made, outermost first."""
    path = Path(path)
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
