"""resource-limits.yaml: loaded, validated as a whole, and resolved into one user's limits.

Validation collects every problem (file, key path, what is wrong) before raising one
ConfigError, so an admin fixes the file in one go. Limits resolve in three layers:
`defaults` <- the user's group <- `user_overrides.<user>`, each replacing only the keys it sets.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import paths
from .config_schema import (
    DURATION_KEYS,
    EXEMPTION_WHAT,
    LIMIT_KEYS,
    LIMITS,
    SCALARS,
    SECTIONS,
    SIZE_KEYS,
    TOP_LEVEL_KEYS,
    SettingProblems,
    names,
    section,
    text,
)
from .errors import ConfigError
from .records import Limits

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from .records import StrPath

    Report = Callable[[str, str], None]  # (key path, problem)
    Parser = Callable[[Any], Any]

__all__ = ["DURATION_KEYS", "EXEMPTION_WHAT", "LIMIT_KEYS", "SIZE_KEYS", "TOP_LEVEL_KEYS", "Config", "load",
           "validate"]

# The schema table (config_schema.SETTINGS) is the one source; these views serve the code below.
LIMIT_PARSERS = {setting.name: setting.parse for setting in LIMITS}
BUILTIN_DEFAULTS = {setting.name: setting.default for setting in LIMITS}


class Config:
    """A validated config. `raw` is the file's mapping; accessors return parsed values."""

    def __init__(self, raw: dict[str, Any], path: StrPath) -> None:
        self.raw = raw
        self.path = Path(path)

    # A default is written as the file would say it ("256m", "1h"), so it is parsed like a value
    # from the file: once, here (parsing a parsed value again would read 3600 seconds as hours).
    def setting(self, path: str) -> Any:
        """The parsed value of a non-layered key ("images.base", "admin_group"), or its default."""
        section_name, _, name = path.rpartition(".")
        container = (self.raw.get(section_name) or {}) if section_name else self.raw
        spec = section(section_name)[name]
        return spec.parse(container[name] if name in container else spec.default)

    def section(self, name: str) -> dict[str, Any]:
        """{key: parsed value} of a whole top-level section, defaults filled in."""
        given = self.raw.get(name) or {}
        return {key: spec.parse(given[key] if key in given else spec.default) for key, spec in section(name).items()}

    @property
    def default_group(self) -> str | None:
        group: str | None = self.setting("default_group")
        return group

    @property
    def admin_group(self) -> str:
        group: str = self.setting("admin_group")
        return group

    @property
    def workspace_root(self) -> str:
        root: str = self.setting("workspace_root")
        return root

    def workspace_dir(self, home: StrPath) -> Path:
        """The user's workspace root: `~` in workspace_root means that user's home."""
        root = self.workspace_root
        if root == "~" or root.startswith("~/"):
            return Path(home) / root[2:] if len(root) > 1 else Path(home)
        return Path(root)

    @property
    def groups(self) -> dict[str, Any]:
        return self.raw.get("groups") or {}

    @property
    def simulated_gpus(self) -> list[dict[str, Any]] | None:
        """The `gpus.simulate` list, or None when GPUs come from NVML."""
        simulated: list[dict[str, Any]] | None = self.setting("gpus.simulate")
        return simulated

    @property
    def avoid_busy_gpus(self) -> bool:
        """gpus.avoid_busy: keep slots whose GPU runs processes outside DS01 from being handed out."""
        return bool(self.setting("gpus.avoid_busy"))

    @property
    def base_image(self) -> str:
        image: str = self.setting("images.base")
        return image

    @property
    def default_image(self) -> str:
        """What a container without its own project image runs: images.default, else images.base."""
        return self.setting("images.default") or self.base_image

    @property
    def frameworks(self) -> dict[str, str]:
        return dict(self.setting("images.frameworks"))

    @property
    def lifecycle(self) -> dict[str, Any]:
        return self.section("lifecycle")

    @property
    def slices(self) -> dict[str, Any]:
        return self.section("slices")

    def group_of(self, username: str) -> str | None:
        """First group in file order whose members list the user, else default_group."""
        for name, group in self.groups.items():
            if username in ((group or {}).get("members") or []):
                return name
        return self.default_group

    def limits_for(self, username: str) -> Limits:
        """The user's resolved limits: every LIMIT_KEY parsed, plus 'group' and 'reason'."""
        override = (self.raw.get("user_overrides") or {}).get(username) or {}
        return self._layered(self.group_of(username), override)

    def group_limits(self, group: str) -> Limits:
        """A group's own limits (built-in defaults <- defaults <- the group), whoever its members are."""
        return self._layered(group, {})

    def _layered(self, group: str | None, override: dict[str, Any]) -> Limits:
        merged = dict(BUILTIN_DEFAULTS)
        merged.update(_limit_items(self.raw.get("defaults")))
        merged.update(_limit_items(self.groups.get(group) if group is not None else None))
        merged.update(_limit_items(override))
        parsed = {key: LIMIT_PARSERS[key](merged[key]) for key in LIMIT_KEYS}
        return Limits(**parsed, group=group, reason=override.get("reason"))


def _limit_items(layer: dict[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (layer or {}).items() if key in LIMIT_PARSERS}


def load(path: StrPath | None = None) -> Config:
    """Read and validate the config; raises ConfigError listing every problem."""
    path = Path(path) if path else paths.config_path()
    from . import config_cache

    cached = config_cache.lookup(str(path))
    if cached is not None:
        return Config(cached, path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())  # before reading: a cache keyed by a later stat could lie
            content = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (set DS01_CONFIG or run `make install`)"]) from None
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from None
    except UnicodeDecodeError as error:
        raise ConfigError([f"{path}: not valid UTF-8 text (byte {error.start})"]) from None
    import yaml  # lazy: --help and config-free commands never pay for it

    try:
        # libyaml's C loader when PyYAML has it: the same safe subset, several times faster.
        raw = yaml.load(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{path}:{where}: not valid YAML: {problem}"]) from None
    raw = {} if raw is None else raw
    problems = validate(raw, path)
    if problems:
        raise ConfigError(problems)
    config_cache.store(str(path), info, raw)
    return Config(raw, path)


def validate(raw: Any, path: StrPath) -> list[str]:
    """Every problem in the config, each 'file: key.path: problem', driven by the schema table."""
    problems = []

    def report(keypath: str, problem: str) -> None:
        problems.append(f"{path}: {keypath}: {problem}")

    if not isinstance(raw, dict):
        return [f"{path}: top level: expected a mapping of keys, got {type(raw).__name__}"]
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            report(key, f"unknown key (known: {', '.join(TOP_LEVEL_KEYS)})")
    scalars = section("")
    for key in SCALARS:
        if key in raw:
            _check(report, key, raw[key], scalars[key].parse)
    _check_layers(report, raw)
    for name in SECTIONS:
        _check_section(report, name, raw.get(name))
    return problems


# Keys where 0 reaches Docker as "no limit" (memory, pids) or its default (shm): refused, so a
# typo never silently lifts a limit; null is how a config says "unlimited".
ZERO_IS_NOT_A_LIMIT = ("memory", "shm_size", "pids_limit")


def _check(report: Report, keypath: str, value: Any, parser: Parser) -> None:
    try:
        parsed = parser(value)
    except SettingProblems as error:
        for suffix, problem in error.problems:
            report(f"{keypath}{suffix}", problem)
    except (ValueError, OverflowError) as error:
        report(keypath, str(error))
    else:
        if parsed == 0 and keypath.rpartition(".")[2] in ZERO_IS_NOT_A_LIMIT:
            report(keypath, f"0 would mean no limit at all to Docker; write null for unlimited, got {value!r}")


def _check_layers(report: Report, raw: dict[str, Any]) -> None:
    _check_layer(report, "defaults", raw.get("defaults"), allow=())
    groups = _check_named_layers(report, raw, "groups", "group name", "members", names)
    default_group = raw.get("default_group")
    if isinstance(default_group, str) and groups is not None and default_group not in groups:
        report("default_group", f"names group {default_group!r}, which is not under groups")
    _check_named_layers(report, raw, "user_overrides", "user name", "reason", text)


def _check_named_layers(report: Report, raw: dict[str, Any], section: str, named_by: str, extra: str,
                        parse_extra: Parser) -> dict[str, Any] | None:
    """Check `section` (groups, user_overrides): a mapping of names to limit layers, each of which
    may also hold `extra` (members, reason). Returns the mapping ({} when it is not one), or None."""
    layers = raw.get(section)
    if layers is not None and not isinstance(layers, dict):
        report(section, f"expected a mapping of {named_by} to limits")
        layers = {}
    for name, layer in (layers or {}).items():
        _check_layer(report, f"{section}.{name}", layer, allow=(extra,))
        if isinstance(layer, dict) and extra in layer:
            _check(report, f"{section}.{name}.{extra}", layer[extra], parse_extra)
    return layers


def _check_layer(report: Report, keypath: str, layer: Any, allow: Iterable[str]) -> None:
    if layer is None:
        return
    if not isinstance(layer, dict):
        report(keypath, "expected a mapping of limit keys")
        return
    for key, value in layer.items():
        if key in allow:
            continue
        if key not in LIMIT_PARSERS:
            report(f"{keypath}.{key}", "unknown key")
        else:
            _check(report, f"{keypath}.{key}", value, LIMIT_PARSERS[key])


def _check_section(report: Report, name: str, given: Any) -> None:
    if given is None:
        return
    if not isinstance(given, dict):
        report(name, "expected a mapping")
        return
    known = section(name)
    for key, value in given.items():
        if key not in known:
            report(f"{name}.{key}", f"unknown key (known: {', '.join(known)})")
        else:
            _check(report, f"{name}.{key}", value, known[key].parse)
