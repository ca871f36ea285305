"""A parsed-config cache, so an ordinary command skips importing PyYAML and parsing the file.

The cache is the validated raw mapping of resource-limits.yaml rendered as JSON, in a file
beside the config (`.resource-limits.yaml.cache.json`). It is used only when all of these hold,
and otherwise ignored (the command parses the YAML as before):
- it names the same config file, and that file's device, inode, size, mtime and ctime, and the
  same validating code (SCHEMA_SOURCES by size and mtime: an upgrade may judge a file anew);
- it is a regular file, opened without following links, owned by root (or, in a development
  checkout, by the developer running it), with no group/other write bit, in a directory that
  is owned likewise and has no group/other write bit either. The group-writable state dir
  would not do: a docker-group user could plant a cache there that lifts their own quota.

Only root writes it (or the developer in a checkout), whenever its run finds it missing or
stale: the cron job refreshes it every few minutes. It gets the config's group and read bits, so
whoever may not read the config may not read its cache either. A config changed within the last
RACY_SECONDS is never cached (as git does for racily clean files): a later edit that kept the
size could otherwise land in the same timestamp tick and read as unchanged. Writing is
best-effort; any failure leaves the file to the next run.
"""

from __future__ import annotations

import json
import os
import stat

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

FORMAT = 1
RACY_SECONDS = 2
_LIBRARY_DIR = os.path.dirname(os.path.abspath(__file__))
# What validates a config: a cache written under other versions of these is not trusted.
SCHEMA_SOURCES = tuple(os.path.join(_LIBRARY_DIR, name) for name in ("config_schema.py", "config.py", "units.py"))


def cache_path(config_file: str) -> str:
    """Where the cache of `config_file` lives: beside it, hidden."""
    directory, name = os.path.split(os.path.abspath(config_file))
    return os.path.join(directory, f".{name}.cache.json")


def file_key(info: os.stat_result) -> list[int]:
    """What identifies one version of the config file."""
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _schema_key() -> list[int]:
    key = []
    for source in SCHEMA_SOURCES:
        try:
            info = os.stat(source)
        except OSError:
            key += [-1, -1]
        else:
            key += [info.st_size, info.st_mtime_ns]
    return key


def trusted_owners() -> tuple[int, ...]:
    """Root; in a development checkout also the developer, who may point DS01_CONFIG anywhere."""
    from . import paths

    uid = os.getuid()
    return (0, uid) if paths.environment_trusted() and uid != 0 else (0,)


def may_write() -> bool:
    """Root writes the cache; so does the developer in a checkout (see `trusted_owners`)."""
    return os.getuid() in trusted_owners()


def _owned_safely(info: os.stat_result, owners: tuple[int, ...]) -> bool:
    return info.st_uid in owners and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _key(config_file: str, info: os.stat_result) -> dict[str, Any]:
    return {"format": FORMAT, "config": os.path.abspath(config_file), "file": file_key(info),
            "schema": _schema_key()}


def lookup(config_file: str, owners: tuple[int, ...] | None = None) -> dict[str, Any] | None:
    """The cached raw mapping of `config_file` when the cache is fresh and trusted, else None."""
    owners = trusted_owners() if owners is None else owners
    target = cache_path(config_file)
    try:
        info = os.stat(config_file)
        if not _owned_safely(os.stat(os.path.dirname(target)), owners):
            return None
        descriptor = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        cache_info = os.fstat(descriptor)
        if not stat.S_ISREG(cache_info.st_mode) or not _owned_safely(cache_info, owners):
            return None
        with os.fdopen(descriptor, "rb") as handle:
            descriptor = -1
            document = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    if not isinstance(document, dict) or document.get("key") != _key(config_file, info):
        return None
    raw = document.get("raw")
    return raw if isinstance(raw, dict) else None


def json_exact(value: Any) -> bool:
    """Whether JSON gives `value` back unchanged, types included (YAML dates, int keys: not)."""
    if value is None or type(value) in (str, int, float, bool):
        return True
    if type(value) is list:
        return all(json_exact(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and json_exact(item) for key, item in value.items())
    return False


def store(config_file: str, info: os.stat_result, raw: dict[str, Any], now_ns: int | None = None) -> bool:
    """Write the cache of `raw`, read from `config_file` when it had stat `info`; whether it did.

    `now_ns` (time.time_ns() when None) decides whether the file changed too recently to cache.
    """
    if not may_write() or not json_exact(raw):
        return False
    if now_ns is None:
        import time

        now_ns = time.time_ns()
    if max(info.st_mtime_ns, info.st_ctime_ns) > now_ns - RACY_SECONDS * 1_000_000_000:
        return False
    target = cache_path(config_file)
    directory = os.path.dirname(target)
    temporary = f"{target}.{os.getpid()}.tmp"
    try:
        if not _owned_safely(os.stat(directory), trusted_owners()):
            return False
        text = json.dumps({"key": _key(config_file, info), "raw": raw}, sort_keys=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            # Readable by exactly whom the config is (a config closed to users keeps its cache
            # closed too), written by nobody else, whatever the umask.
            if os.getuid() == 0:
                os.fchown(descriptor, -1, info.st_gid)
            os.fchmod(descriptor, stat.S_IMODE(info.st_mode) & 0o644)
            handle.write(text.encode())
        os.replace(temporary, target)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False
    return True
