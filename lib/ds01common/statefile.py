"""Lock-protected JSON state files: lock, read, change, write a temp file, os.replace.

The lock is a separate `<file>.lock` held with flock(2), so a process killed mid-update frees
it and leaves the previous content in place. Files are created 0660 whatever the umask because
every DS01 user (the docker group) writes them in docker-group mode.

Nothing planted in the state dir is followed: the lock file and the state file are opened with
O_NOFOLLOW, a link or directory in their place is moved aside, a lock whose file was swapped
while we waited is taken again, and a state file that cannot be read as the expected JSON
(binary, a directory, too deeply nested, NaN, the wrong shape) is kept aside and rebuilt.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from . import log, paths, security
from .errors import Ds01Error, LockTimeout, StateCorrupt

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from .records import StrPath

FILE_MODE = 0o660
DEFAULT_LOCK_TIMEOUT = 300.0
POLL_SECONDS = 0.005
# A temp file of a state file older than this, found under its lock, was left by a killed writer.
ORPHAN_SECONDS = 60.0
MAX_STATE_BYTES = 256 * 1024 * 1024


def _lock_timeout() -> float:
    try:
        return float(paths.trusted_environ("DS01_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT)
    except ValueError:  # a typo in the environment must not crash every command
        return DEFAULT_LOCK_TIMEOUT


def _os_failure(directory: StrPath, error: OSError) -> Ds01Error:
    """One line naming the state dir for a full, read-only or closed one (exit 1, never a traceback)."""
    if error.errno in (errno.EACCES, errno.EPERM):
        return Ds01Error(f"cannot write in {directory}: permission denied (are you in the docker group?)")
    if error.errno == errno.ENOSPC:
        return Ds01Error(f"cannot write in {directory}: the disk is full")
    if error.errno == errno.EROFS:
        return Ds01Error(f"cannot write in {directory}: it is on a read-only file system")
    return Ds01Error(f"cannot write in {directory}: {error.strerror}")


def _open_lock(lock_path: str) -> int:
    """The lock file's fd: a regular file (a planted link or directory is moved aside), 0660."""
    try:
        fd = security.open_regular(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as error:
        raise _os_failure(Path(lock_path).parent, error) from None
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, FILE_MODE)
    except OSError:
        pass
    return fd


def _still_at(fd: int, lock_path: str) -> bool:
    """Whether the locked fd is still the file at lock_path (it was not moved aside meanwhile)."""
    try:
        here = os.lstat(lock_path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return stat.S_ISREG(here.st_mode) and (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _try_lock(lock_path: str) -> int | None:
    """A locked fd for lock_path, or None when another process holds it."""
    fd = _open_lock(lock_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        raise
    if _still_at(fd, lock_path):
        return fd
    os.close(fd)  # swapped while we took it: take the new one
    return None


@contextlib.contextmanager
def locked(path: StrPath, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock for `path`; says 'waiting for lock' when another holds it."""
    lock_path = f"{path}.lock"
    directory = Path(lock_path).parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise Ds01Error(f"cannot create the state dir {directory}: {error.strerror}") from None
    timeout = _lock_timeout() if timeout is None else timeout
    started = time.monotonic()
    warned = False
    delay = POLL_SECONDS
    fd = _try_lock(lock_path)
    while fd is None:
        waited = time.monotonic() - started
        if waited > timeout:
            raise LockTimeout(f"gave up waiting for lock {lock_path} after {timeout:.0f}s; "
                              "another DS01 command holds it")
        if not warned and waited > 0.2:
            log.warning("waiting for lock %s …", lock_path)
            warned = True
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)
        fd = _try_lock(lock_path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number DS01 writes")


def _open_walking(path: StrPath) -> int:
    """The file opened with no link at any component (security.open_nofollow's openat walk from /)."""
    from .security import LinkRefused, open_nofollow

    try:
        return open_nofollow(os.path.abspath(path), os.O_RDONLY | os.O_NONBLOCK)
    except LinkRefused:
        raise StateCorrupt(f"{path} runs through a symlink (not followed)") from None


def read(path: StrPath, default: Any = None, *, walk: bool = False) -> Any:
    """The parsed content, `default` when the file is missing or empty; StateCorrupt when it is
    not a regular file, not UTF-8, not JSON, holds NaN/Infinity, or is nested too deeply.
    The last component is never followed if a link; with `walk`, no component of the path is."""
    try:
        if walk:
            fd = _open_walking(path)
        else:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return default
    except PermissionError:
        raise Ds01Error(f"cannot read {path}: permission denied (are you in the docker group?)") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise StateCorrupt(f"{path} is a symlink") from None
        raise StateCorrupt(f"{path} cannot be opened: {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StateCorrupt(f"{path} is not a regular file")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_STATE_BYTES:
                raise StateCorrupt(f"{path} is larger than any state DS01 writes")
    except OSError as error:
        raise StateCorrupt(f"{path} cannot be read: {error.strerror}") from None
    finally:
        os.close(fd)
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise StateCorrupt(f"{path} is not text (binary content)") from None
    if not text.strip():
        return default
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise StateCorrupt(f"{path} is nested too deeply") from None
    except ValueError as error:
        raise StateCorrupt(f"{path} is not valid JSON: {error}") from None


def write(path: StrPath, data: Any) -> None:
    """Atomically replace `path` with `data` as JSON (temp file in the same dir + os.replace)."""
    _write_text(path, _serialised(data))


def _write_text(path: StrPath, text: str) -> None:
    """Atomically replace `path` with `text`, a document as `_serialised` spells it."""
    import tempfile  # here: a transaction that changes nothing never writes, nor pays for tempfile

    path = Path(path)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _os_failure(path.parent, error) from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise _os_failure(path.parent, error) from None
        raise


def remove_orphans(path: StrPath, now: float | None = None, older_than: float = ORPHAN_SECONDS) -> int:
    """Delete temp files of `path` (`.<name>.*.tmp`) left by killed writers; returns how many.

    Called under the file's lock, where no live writer of this file can be mid-write; the age
    guard also spares a writer of `write()` used without the lock."""
    path = Path(path)
    now = time.time() if now is None else now
    removed = 0
    try:
        candidates = [entry for entry in os.scandir(path.parent)
                      if entry.name.startswith(f".{path.name}.") and entry.name.endswith(".tmp")]
    except OSError:
        return 0
    for entry in candidates:
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(entry.path)
                removed += 1
    return removed


class StateFile:
    """One JSON state document with a `schema_version`.

    `transaction()` yields the content under the lock and writes it back when the block
    ends without an exception and changed it; an exception leaves the file as it was.
    """

    def __init__(self, path: StrPath, schema_version: int = 1,
                 empty: Callable[[], dict[str, Any]] | None = None) -> None:
        self.path = Path(path)
        self.schema_version = schema_version
        self._empty: Callable[[], dict[str, Any]] = empty or dict

    def empty(self) -> dict[str, Any]:
        data = self._empty()
        data["schema_version"] = self.schema_version
        return data

    def read(self, recover: bool = True, walk: bool = False) -> dict[str, Any]:
        """Unlocked read (atomic thanks to os.replace). A corrupt file is StateCorrupt unless `recover`
        (then: a warning and the empty document). `walk`: see `read` (no link at any component)."""
        try:
            # A wrong schema_version is as unreadable as bad JSON: recovered alike, not a crash.
            data = read(self.path, walk=walk)
            return self.empty() if data is None else self._upgrade(data)
        except StateCorrupt as error:
            if not recover:
                raise
            log.warning("%s; treating it as empty", error)
            return self.empty()

    def _upgrade(self, data: Any) -> dict[str, Any]:
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != self.schema_version:
            raise StateCorrupt(f"{self.path} has schema_version {version!r}, expected {self.schema_version}")
        # The shape every DS01 state file shares: a table the empty document starts as a mapping
        # is a mapping (else the file is corrupt), and an entry in it that is not one is dropped.
        for key, template in self._empty().items():
            if isinstance(template, dict) and key in data:
                if not isinstance(data[key], dict):
                    raise StateCorrupt(f"{self.path}: {key!r} is not a table of entries")
                for entry_id in [entry_id for entry_id, entry in data[key].items() if not isinstance(entry, dict)]:
                    log.warning("%s: dropped the %s entry %r, which is not a mapping", self.path, key, entry_id)
                    del data[key][entry_id]
        document: dict[str, Any] = data
        return document

    @contextlib.contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Lock, read (a corrupt file is kept aside and replaced by an empty one), yield, write
        (unless the block changed nothing: a status look then costs no rewrite and no fsync)."""
        with locked(self.path, timeout):
            remove_orphans(self.path)
            as_read = None
            try:
                data = read(self.path)
                as_read = None if data is None else _serialised(data)  # before _upgrade may repair it
                data = None if data is None else self._upgrade(data)
            except StateCorrupt as error:
                kept = self.path.with_name(f"{self.path.name}.corrupt-{time.time_ns()}")
                try:
                    os.rename(self.path, kept)
                except OSError as move_error:
                    raise _os_failure(self.path.parent, move_error) from None
                log.warning("%s; kept it as %s and started afresh", error, kept)
                data = None
            if data is None:
                as_read = None
                data = self.empty()
                data["_rebuilt"] = True
            yield data
            data.pop("_rebuilt", None)
            data["schema_version"] = self.schema_version
            text = _serialised(data)  # once: compared with the file as read, then written
            if text == as_read and _has_file_mode(self.path):
                return
            _write_text(self.path, text)


def _serialised(data: Any) -> str:
    # One dumps() call without indent uses the C encoder: ~10x faster on big ledgers.
    return json.dumps(data, sort_keys=True, allow_nan=False)


def _has_file_mode(path: Path) -> bool:
    """Whether the file already has the mode `write` would give it (a rewrite repairs it)."""
    try:
        return stat.S_IMODE(os.lstat(path).st_mode) == FILE_MODE
    except OSError:
        return False
