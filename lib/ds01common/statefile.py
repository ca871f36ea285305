"""Lock-protected JSON state files: lock, read, change, write a temp file, os.replace.

The lock is a separate `<file>.lock` taken with filelock (fcntl on Linux), so a process
killed mid-update frees it and leaves the previous content in place. Files are created
0660 whatever the umask because every DS01 user (the docker group) writes them.
"""

import contextlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from .errors import Ds01Error, LockTimeout, StateCorrupt

log = logging.getLogger("ds01")
FILE_MODE = 0o660
DEFAULT_LOCK_TIMEOUT = 300.0
# filelock polls every 50 ms by default; locks here are held for milliseconds.
POLL_SECONDS = 0.005


def _lock_timeout():
    try:
        return float(os.environ.get("DS01_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    except ValueError:  # a typo in the environment must not crash every command
        return DEFAULT_LOCK_TIMEOUT


def _ensure_file_mode(path):
    """Create `path` if missing with mode 0660 regardless of umask; fix a too-narrow mode we own."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except PermissionError:
        raise Ds01Error(f"cannot open {path}: permission denied (are you in the docker group?)") from None
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(path, timeout=None):
    """Hold the exclusive lock for `path`; says 'waiting for lock' when another holds it."""
    import filelock  # lazy: only state-touching commands need it

    lock_path = f"{path}.lock"
    try:
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise Ds01Error(f"cannot create the state dir {Path(lock_path).parent}: {error.strerror}") from None
    _ensure_file_mode(lock_path)
    lock = filelock.FileLock(lock_path, mode=FILE_MODE)
    timeout = _lock_timeout() if timeout is None else timeout
    try:
        lock.acquire(timeout=0.2, poll_interval=POLL_SECONDS)
    except filelock.Timeout:
        log.warning("waiting for lock %s …", lock_path)
        started = time.monotonic()
        try:
            lock.acquire(timeout=timeout, poll_interval=POLL_SECONDS)
        except filelock.Timeout:
            raise LockTimeout(f"gave up waiting for lock {lock_path} after {timeout:.0f}s; "
                              "another DS01 command holds it") from None
        log.debug("got lock %s after %.1fs", lock_path, time.monotonic() - started)
    try:
        yield
    finally:
        lock.release()


def read(path, default=None):
    """The parsed content, `default` when the file is missing or empty; StateCorrupt if unparsable."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return default
    except PermissionError:
        raise Ds01Error(f"cannot read {path}: permission denied (are you in the docker group?)") from None
    if not text.strip():
        return default
    try:
        return json.loads(text)
    except ValueError as error:
        raise StateCorrupt(f"{path} is not valid JSON: {error}") from None


def write(path, data):
    """Atomically replace `path` with `data` as JSON (temp file in the same dir + os.replace)."""
    path = Path(path)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except PermissionError:
        raise Ds01Error(f"cannot write in {path.parent}: permission denied (are you in the docker group?)") from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            # One dumps() call without indent uses the C encoder: ~10x faster on big ledgers.
            handle.write(json.dumps(data, sort_keys=True))
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


class StateFile:
    """One JSON state document with a `schema_version`.

    `transaction()` yields the content under the lock and writes it back when the block
    ends without an exception; an exception leaves the file as it was.
    """

    def __init__(self, path, schema_version=1, empty=None):
        self.path = Path(path)
        self.schema_version = schema_version
        self._empty = empty or (lambda: {})

    def empty(self):
        data = self._empty()
        data["schema_version"] = self.schema_version
        return data

    def read(self, recover=True):
        """Unlocked read (atomic thanks to os.replace). A corrupt file is StateCorrupt unless `recover`."""
        try:
            # A wrong schema_version is as unreadable as bad JSON: recovered alike, not a crash.
            data = read(self.path)
            return self.empty() if data is None else self._upgrade(data)
        except StateCorrupt as error:
            if not recover:
                raise
            log.warning("%s; treating it as empty", error)
            return self.empty()

    def _upgrade(self, data):
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != self.schema_version:
            raise StateCorrupt(f"{self.path} has schema_version {version!r}, expected {self.schema_version}")
        return data

    @contextlib.contextmanager
    def transaction(self, timeout=None):
        """Lock, read (a corrupt file is kept aside and replaced by an empty one), yield, write."""
        with locked(self.path, timeout):
            try:
                data = self._upgrade(read(self.path)) if self.path.exists() else None
            except StateCorrupt as error:
                kept = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                with contextlib.suppress(OSError):
                    os.replace(self.path, kept)
                log.warning("%s; kept it as %s and started afresh", error, kept)
                data = None
            if data is None:
                data = self.empty()
                data["_rebuilt"] = True
            yield data
            data.pop("_rebuilt", None)
            data["schema_version"] = self.schema_version
            write(self.path, data)
