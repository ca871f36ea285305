"""Opening files without following links, acting as a user, and what a user may mount or run.

Root (cron, an admin's --user, a locked-mode command run through sudo) often touches files a
user controls: their workspace, their requirements file, a state or log dir they can write in
docker-group mode. A symlink planted there must never send root somewhere else, so:
- `open_nofollow` walks the path from `/` one component at a time (openat with O_NOFOLLOW), so
  no component, not only the last, can be a link; there is no window between a check and the open;
- `as_user` runs a function in a child process that has dropped to the user's uid and groups:
  what it reads is what the user could read (build contexts, requirements files);
- `owned_directory` checks a mount source: a real directory (no link on the way) the user owns,
  under their workspace root or an allowed root;
- `image_allowed` says which images `--image` may name.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import Ds01Error, PermissionDenied

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:  # types only: typing costs a command's start-up more than this module
    from typing import Any, Protocol, TypeVar

    from .records import ImageDetails

    Result = TypeVar("Result")

    class UserLike(Protocol):
        @property
        def login(self) -> str: ...
        @property
        def name(self) -> str: ...
        @property
        def uid(self) -> int: ...
        @property
        def gid(self) -> int: ...


class LinkRefused(PermissionDenied):
    """A path runs through a symlink (or something that is not what it must be)."""


def _components(path: str | os.PathLike[str]) -> list[str]:
    text = os.fspath(path)
    if not os.path.isabs(text):
        raise Ds01Error(f"{text}: an absolute path is needed here")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise LinkRefused(f"permission denied: {text} contains '..'")
    return parts


def _refused(path: str | os.PathLike[str], error: OSError) -> Ds01Error:
    if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return LinkRefused(f"permission denied: {os.fspath(path)} runs through a symlink or a non-directory; "
                           "DS01 does not follow links there")
    if error.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(f"permission denied: {os.fspath(path)}")
    return Ds01Error(f"cannot open {os.fspath(path)}: {error.strerror}")


def _step_down(fd: int, part: str) -> int:
    """The directory `part` inside the directory `fd`, opened without following a link; `fd` is
    closed once the child is open (on an error it stays open for the caller to close)."""
    child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    os.close(fd)
    return child


def open_directory_nofollow(path: str | os.PathLike[str]) -> int:
    """An O_DIRECTORY fd for `path`, reached without following a link at any component."""
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in _components(path):
            try:
                fd = _step_down(fd, part)
            except OSError as error:
                raise _refused(path, error) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_nofollow(path: str | os.PathLike[str], flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """os.open(path, flags) where no component of `path` may be a symlink; a link is LinkRefused.

    FileNotFoundError passes through (callers decide what a missing file means)."""
    parent, name = os.path.split(os.path.normpath(os.fspath(path)))
    if not name:
        raise Ds01Error(f"{os.fspath(path)}: not a file")
    directory = open_directory_nofollow(parent)
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=directory)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise _refused(path, error) from None
    finally:
        os.close(directory)


def read_bytes_nofollow(path: str | os.PathLike[str], limit: int = 16 * 1024 * 1024,
                        owner: int | None = None) -> bytes:
    """The content of a regular file reached without links (at most `limit` bytes); with `owner`,
    only a file that uid owns (PermissionDenied otherwise)."""
    fd = open_nofollow(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LinkRefused(f"permission denied: {os.fspath(path)} is not a regular file")
        if owner is not None and info.st_uid != owner:
            raise PermissionDenied(f"permission denied: {os.fspath(path)} is not the user's to read")
        chunks, size = [], 0
        while size < limit:
            chunk = os.read(fd, min(1 << 20, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def create_exclusive(path: str | os.PathLike[str], mode: int) -> int:
    """A new file made atomically (O_EXCL | O_NOFOLLOW): never an existing file or a planted link."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)


def open_regular(path: str | os.PathLike[str], flags: int, mode: int) -> int:
    """Open (creating if missing) a regular file in a DS01 dir without following a link there.

    A symlink or other non-file planted in its place is moved aside (it is in DS01's own dir,
    where nobody may plant anything) and a fresh file made with O_EXCL; returns the fd."""
    path = os.fspath(path)
    for _attempt in range(3):
        try:
            fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, mode)
        except FileNotFoundError:
            try:
                return create_exclusive(path, mode) if flags & os.O_CREAT else os.open(path, flags | os.O_NOFOLLOW)
            except FileExistsError:
                continue
        except OSError as error:
            if error.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EWOULDBLOCK):
                raise
            set_aside(path)
            continue
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        os.close(fd)
        set_aside(path)
    raise Ds01Error(f"cannot open {path}: something keeps replacing it")


def set_aside(path: str | os.PathLike[str]) -> Path:
    """Rename what stands at `path` (a planted link, a corrupt file, a directory) to `<path>.bad-<n>`."""
    import time

    path = Path(path)
    kept = path.with_name(f"{path.name}.bad-{time.time_ns()}")
    try:
        os.rename(path, kept)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise Ds01Error(f"cannot move {path} aside: {error.strerror}") from None
    return kept


# --- acting as the user ---

def _needs_drop(user: UserLike) -> bool:
    return os.geteuid() == 0 and user.uid != 0


def as_user(user: UserLike, function: Callable[..., Result], *args: Any) -> Result:
    """function(*args) run with the user's uid, gid and groups (in a child when we are root).

    The result (or a Ds01Error/OSError raised) comes back pickled; anything else is a Ds01Error."""
    if not _needs_drop(user):
        return function(*args)
    import pickle  # here, not at module level: most commands never act as another user

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop, run, report, exit without running the parent's cleanups
        os.close(read_end)
        try:
            os.setgroups(os.getgrouplist(user.login, user.gid))
            os.setgid(user.gid)
            os.setuid(user.uid)
            outcome: tuple[bool, Any] = (True, function(*args))
        except (Ds01Error, OSError) as error:
            outcome = (False, error)
        except BaseException as error:  # noqa: BLE001 - reported to the parent as text
            outcome = (False, Ds01Error(f"{type(error).__name__}: {error}"))
        try:
            data = pickle.dumps(outcome)
        except Exception as error:  # noqa: BLE001
            data = pickle.dumps((False, Ds01Error(f"cannot report the result: {error}")))
        with os.fdopen(write_end, "wb") as handle:
            handle.write(data)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    if not data:
        raise Ds01Error(f"acting as {user.login} failed")
    ok, value = pickle.loads(data)  # noqa: S301 - our own child's bytes
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _read_regular(path: str, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PermissionDenied(f"permission denied: {path} is not a regular file")
        return os.read(fd, limit)
    finally:
        os.close(fd)


def read_as_user(user: UserLike, path: str | os.PathLike[str], limit: int = 16 * 1024 * 1024) -> bytes:
    """A regular file's bytes read with the user's own permissions (in a child dropped to their
    uid when we are root): a link to a file they cannot read is refused, as it is for them."""
    from .errors import NotFound

    try:
        try:
            return as_user(user, _read_regular, os.fspath(path), limit)
        except PermissionError:
            if not _needs_drop(user):
                raise PermissionDenied(f"permission denied: {user.login} cannot read {os.fspath(path)}") from None
        # Where the user cannot reach their own file (a directory only root may enter), root reads
        # it itself, but only a regular file the user owns, reached with no link at any component:
        # in locked mode the user names the path, and /etc/shadow must not become their file.
        return read_bytes_nofollow(path, limit, owner=user.uid)
    except FileNotFoundError:
        raise NotFound(f"{os.fspath(path)} does not exist") from None
    except OSError as error:
        raise Ds01Error(f"cannot read {os.fspath(path)}: {error.strerror}") from None


# --- mounts ---

@dataclass(frozen=True)
class CheckedDirectory:
    path: Path
    device: int
    inode: int


def _lexically_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def owned_directory(path: str | os.PathLike[str], user: UserLike, root: str | os.PathLike[str],
                    trusted_base: str | os.PathLike[str] | None = None, what: str = "workspace") -> CheckedDirectory:
    """`path` as a mount source: an existing directory under `root`, owned by `user`, with no
    link between `trusted_base` (an admin-controlled ancestor of `root`, such as the user's home;
    default `root`) and it. Links above the base (a /home that is a link) are the admin's.
    PermissionDenied (exit 4) otherwise; root, acting for itself, may mount anything under `root`."""
    candidate = Path(os.path.normpath(os.fspath(path)))
    root_path = Path(os.path.normpath(os.fspath(root)))
    base = Path(os.path.normpath(os.fspath(trusted_base or root)))
    if not _lexically_under(root_path, base):
        base = root_path
    real_base = Path(os.path.realpath(base))
    if not _lexically_under(candidate, root_path):
        # The same place named through the base's real path (/data/home/x for /home/x) is fine.
        real_root = real_base / root_path.relative_to(base)
        if not _lexically_under(candidate, real_root):
            raise PermissionDenied(f"permission denied: the {what} {candidate} is not under {root_path}")
        candidate = root_path / candidate.relative_to(real_root)
    fd = open_directory_nofollow_below(real_base, candidate.relative_to(base).parts, f"the {what} {candidate}")
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if user.uid != 0 and info.st_uid != user.uid:
        raise PermissionDenied(f"permission denied: the {what} {candidate} is not owned by {user.login}")
    return CheckedDirectory(candidate, info.st_dev, info.st_ino)


def _readable_below(root: str, parts: tuple[str, ...], what: str) -> tuple[int, int]:
    """(device, inode) of root/parts..., opened for reading with no link below `root`: run as the
    user, so success means the user may read that directory (and pass every directory above it)."""
    fd = open_directory_nofollow_below(Path(root), parts, what)
    try:
        info = os.fstat(fd)
        return info.st_dev, info.st_ino
    finally:
        os.close(fd)


def shared_directory(path: Path, user: UserLike, root: Path, what: str = "data directory") -> CheckedDirectory:
    """`path` under an admin-approved data root (config `data_roots`) as a mount source: it need not
    be the user's, but the user must be able to read it, checked by opening it as the user
    (a child dropped to their uid and groups when we are root), walking down from the root with
    O_NOFOLLOW: a symlink anywhere below the root is refused (exit 4), never followed. The root
    itself is the admin's (opened as it is, like a home)."""
    candidate = Path(os.path.normpath(path))
    parts = candidate.relative_to(root).parts
    label = f"the {what} {candidate}"
    try:
        device, inode = as_user(user, _readable_below, os.fspath(root), parts, label)
    except PermissionError:
        raise PermissionDenied(f"permission denied: {user.login} cannot read {label}") from None
    except PermissionDenied as refused:
        if isinstance(refused, LinkRefused):
            raise
        raise PermissionDenied(f"permission denied: {user.login} cannot read {label}") from None
    return CheckedDirectory(candidate, device, inode)


def open_directory_nofollow_below(base: Path, parts: Iterable[str], what: str) -> int:
    """An fd for base/parts..., where `base` is opened normally and no part may be a link."""
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise _refused(base, error) from None
    try:
        for part in parts:
            if part in ("", ".", ".."):
                raise LinkRefused(f"permission denied: {what} contains {part!r}")
            try:
                fd = _step_down(fd, part)
            except FileNotFoundError:
                from .errors import NotFound

                raise NotFound(f"{what} does not exist") from None
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise LinkRefused(f"permission denied: {what} runs through a symlink or a file; "
                                      "DS01 mounts only real directories") from None
                raise _refused(what, error) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


# --- images ---

def _tagged(reference: str) -> str:
    """`reference` with its tag spelled out (`:latest` when it names none)."""
    return reference if ":" in reference.rsplit("/", 1)[-1] else f"{reference}:latest"


def _own_prefix(user: UserLike) -> str:
    from .names import image_user  # the Docker-valid form (`alice_` -> `alice`), contract section 4

    prefix: str = f"ds01-{image_user(user.name, user.uid)}/"
    return prefix


def image_allowed(reference: str, user: UserLike, configured: Iterable[str], patterns: Iterable[str]) -> bool:
    """Whether `reference` is the user's own (ds01-<user>/...), a configured image (framework, base,
    default) or matches an `images.allowed` pattern. An id or digest is never allowed here (the
    caller resolves those to the image's tags first)."""
    if reference.startswith("sha256:") or "@" in reference:
        return False
    if reference.startswith(_own_prefix(user)):
        return True
    with_tag = _tagged(reference)
    if any(with_tag == _tagged(image) for image in configured):
        return True
    return any(fnmatch.fnmatchcase(reference, pattern) or fnmatch.fnmatchcase(with_tag, pattern)
               for pattern in patterns)


def require_image_allowed(reference: str, user: UserLike, configured: Iterable[str], patterns: Iterable[str],
                          tags: Iterable[str] = (), owner: str | None = None) -> None:
    """PermissionDenied (exit 4) unless `reference` (or, for an id, one of its `tags`) is allowed.

    `owner` is the image's ds01.user label: an image another user committed is theirs."""
    configured, patterns = list(configured), list(patterns)
    if owner and owner != user.name and not any(
            image_allowed(tag, user, configured, patterns) and not tag.startswith("ds01-") for tag in tags):
        raise PermissionDenied(f"permission denied: {reference} is {owner}'s private image")
    if image_allowed(reference, user, configured, patterns):
        return
    if any(image_allowed(tag, user, configured, patterns) for tag in tags):
        return
    if reference.startswith("ds01-") and "/" in reference:
        raise PermissionDenied(f"permission denied: {reference} is another user's private image")
    raise PermissionDenied(f"permission denied: {reference} is not an image you may run: use your own "
                           "(image-list), a framework image, or ask an admin to add it to images.allowed")


def check_image(docker: Any, config: Any, user: UserLike, reference: str) -> ImageDetails | None:
    """`--image reference` for `user`: PermissionDenied (exit 4) unless allowed (see
    `require_image_allowed`); an allowed image that is not here is left to the caller to pull,
    and one that is neither here nor allowed is NotFound (DS01 pulls only allowed images).
    Returns the inspect the check made (None: not here), so the caller need not look again."""
    from . import dockerapi
    from . import labels as label
    from .errors import NotFound

    configured = [*config.frameworks.values(), config.base_image, config.default_image]
    patterns = config.setting("images.allowed") or []
    found = dockerapi.inspect_image(docker, reference)
    if found is None:
        if image_allowed(reference, user, configured, patterns) or reference.startswith("ds01-"):
            return None
        raise NotFound(f"image {reference} is not on this server (DS01 pulls only the images in its "
                       "config; see `image-list`)")
    require_image_allowed(reference, user, configured, patterns, tags=found.tags, owner=found.labels.get(label.USER))
    return found


# --- mount sources (workspace, data, models) ---

def expand_user_path(path: str | os.PathLike[str], home: str) -> Path:
    """`~` is the acting user's home (not root's, when root acts for them); relative stays relative."""
    text = os.fspath(path)
    if text == "~" or text.startswith("~/"):
        return Path(home) / text[2:]
    return Path(text)


def mount_roots(config: Any, user: Any) -> list[tuple[Path, Path]]:
    """(root, trusted base) pairs a user's mounts may come from: their workspace root, and their
    home (their own files, whatever the layout); links are refused below each base."""
    workspace_root = Path(config.workspace_dir(user.home))
    home = Path(user.home)
    roots = [(workspace_root, home if _lexically_under(workspace_root, home) else workspace_root)]
    if not _lexically_under(home, workspace_root):
        roots.append((home, home))
    return roots


def data_roots(config: Any) -> list[Path]:
    """The admin-approved shared data roots (config `data_roots`)."""
    return [Path(os.path.normpath(root)) for root in (config.setting("data_roots") or [])]


def mount_source(config: Any, user: Any, path: str | os.PathLike[str], what: str = "workspace",
                 make: Callable[[Path], object] | None = None, shared: bool = False) -> Path:
    """`path` checked as something to bind-mount for `user`: under their workspace root or home,
    a real directory (no link below the home or root) they own; `make(path)` creates it first,
    once the place is known to be allowed. With `shared` (data and models, never a workspace),
    also a directory under an admin-approved data root that the user can read (`shared_directory`).
    Root acting for itself is not limited."""
    candidate = Path(os.path.abspath(path))
    if user.uid == 0:
        if make is not None:
            make(candidate)
        return candidate
    roots = mount_roots(config, user)
    inside = [(root, base) for root, base in roots if _lexically_under(candidate, root)
              or _lexically_under(candidate, Path(os.path.realpath(base)) / root.relative_to(base))]
    approved = data_roots(config) if shared else []
    if not inside:
        shared_root = next((root for root in approved if _lexically_under(candidate, root)), None)
        if shared_root is not None:
            return shared_directory(candidate, user, shared_root, what).path
        places = " or ".join(str(root) for root, _ in roots) + "".join(
            f" or the data root {root}" for root in approved)
        raise PermissionDenied(f"permission denied: the {what} {candidate} is not under {places}; "
                               "DS01 mounts only your own directories" + (" and approved data" if approved else ""))
    if make is not None:
        make(candidate)
    root, base = inside[0]
    return owned_directory(candidate, user, root, base, what).path
