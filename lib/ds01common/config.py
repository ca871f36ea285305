"""resource-limits.yaml: loaded, validated as a whole, and resolved into one user's limits.

Validation collects every problem (file, key path, what is wrong) before raising one
ConfigError, so an admin fixes the file in one go. Limits resolve in three layers:
`defaults` <- the user's group <- `user_overrides.<user>`, each replacing only the keys it sets.
"""

import re
from pathlib import Path

from . import paths
from .errors import ConfigError
from .units import parse_duration, parse_size

MIG_PROFILE_RE = re.compile(r"^([1-7])g\.(\d+)gb$")


# --- value parsers: each returns the parsed value or raises ValueError(problem) ---

def _optional(parser):
    def parse(value):
        return None if value is None else parser(value)
    return parse


def _count(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"must not be negative, got {value}")
    return value


def _positive_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    if value <= 0:
        raise ValueError(f"must be positive, got {value}")
    return value


def _fraction(value):
    value = _positive_number(value)
    if value > 1:
        raise ValueError(f"expected a fraction between 0 and 1, got {value}")
    return value


def _percent(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {value!r}")
    return value


def _boolean(value):
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _text(value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _priority(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"expected a whole number from 1 to 100, got {value!r}")
    return value


def _names(value):
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"expected a list of user names, got {value!r}")
    return value


LIMIT_PARSERS = {
    "max_mig_instances": _optional(_count),
    "max_gpus_per_container": _optional(_count),
    "max_gpu_equivalents": _optional(_positive_number),
    "allow_full_gpu": _boolean,
    "max_cpus": _optional(_positive_number),
    "memory": parse_size,
    "shm_size": parse_size,
    "pids_limit": _optional(_count),
    "max_containers_per_user": _optional(_count),
    "idle_timeout": parse_duration,
    "max_runtime": parse_duration,
    "gpu_hold_after_stop": parse_duration,
    "priority": _priority,
}
LIMIT_KEYS = tuple(LIMIT_PARSERS)
SIZE_KEYS = ("memory", "shm_size")
DURATION_KEYS = ("idle_timeout", "max_runtime", "gpu_hold_after_stop")

# Used for any key the file's `defaults` leaves out, so every user has every limit.
BUILTIN_DEFAULTS = {
    "max_mig_instances": 1,
    "max_gpus_per_container": 1,
    "max_gpu_equivalents": None,
    "allow_full_gpu": False,
    "max_cpus": 8,
    "memory": "32g",
    "shm_size": "8g",
    "pids_limit": 4096,
    "max_containers_per_user": 3,
    "idle_timeout": "2h",
    "max_runtime": "48h",
    "gpu_hold_after_stop": "1h",
    "priority": 10,
}

# Lifecycle thresholds (cleanup-idle-containers) and their documented defaults.
LIFECYCLE_PARSERS = {
    "cpu_idle_percent": _percent,
    "gpu_idle_percent": _percent,
    "gpu_idle_memory": parse_size,
    "idle_warn_fraction": _fraction,
    "runtime_warn_fractions": None,  # list of fractions, checked below
    "never_started_timeout": parse_duration,
    "stats_sample_seconds": _positive_number,
    "exemptions": None,  # list of {user, what, until, reason}, checked below
}
LIFECYCLE_DEFAULTS = {
    "cpu_idle_percent": 2.0,
    "gpu_idle_percent": 5.0,
    "gpu_idle_memory": "256m",
    "idle_warn_fraction": 0.8,
    "runtime_warn_fractions": [0.75, 0.9],
    "never_started_timeout": "1h",
    "stats_sample_seconds": 1.0,
    "exemptions": [],
}
EXEMPTION_WHAT = ("idle", "max_runtime", "gpu_hold", "never_started", "all")

SLICES_PARSERS = {"enabled": _boolean, "parent": _text}
SLICES_DEFAULTS = {"enabled": False, "parent": "ds01.slice"}

TOP_LEVEL_KEYS = ("default_group", "admin_group", "workspace_root", "defaults", "groups",
                  "user_overrides", "gpus", "images", "lifecycle", "slices")


class Config:
    """A validated config. `raw` is the file's mapping; accessors return parsed values."""

    def __init__(self, raw, path):
        self.raw = raw
        self.path = Path(path)

    @property
    def default_group(self):
        return self.raw.get("default_group")

    @property
    def admin_group(self):
        return self.raw.get("admin_group", "ds01-admin")

    @property
    def workspace_root(self):
        return self.raw.get("workspace_root", "~/workspace")

    def workspace_dir(self, home):
        """The user's workspace root: `~` in workspace_root means that user's home."""
        root = self.workspace_root
        if root == "~" or root.startswith("~/"):
            return Path(home) / root[2:] if len(root) > 1 else Path(home)
        return Path(root)

    @property
    def groups(self):
        return self.raw.get("groups") or {}

    @property
    def simulated_gpus(self):
        """The `gpus.simulate` list, or None when GPUs come from NVML."""
        return (self.raw.get("gpus") or {}).get("simulate")

    @property
    def base_image(self):
        return (self.raw.get("images") or {}).get("base", "ubuntu:22.04")

    @property
    def frameworks(self):
        return dict((self.raw.get("images") or {}).get("frameworks") or {})

    @property
    def lifecycle(self):
        merged = dict(LIFECYCLE_DEFAULTS, **(self.raw.get("lifecycle") or {}))
        for key in ("gpu_idle_memory",):
            merged[key] = parse_size(merged[key])
        merged["never_started_timeout"] = parse_duration(merged["never_started_timeout"])
        return merged

    @property
    def slices(self):
        return dict(SLICES_DEFAULTS, **(self.raw.get("slices") or {}))

    def group_of(self, username):
        """First group in file order whose members list the user, else default_group."""
        for name, group in self.groups.items():
            if username in ((group or {}).get("members") or []):
                return name
        return self.default_group

    def limits_for(self, username):
        """The user's resolved limits: every LIMIT_KEY parsed, plus 'group' and 'reason'."""
        group = self.group_of(username)
        merged = dict(BUILTIN_DEFAULTS)
        merged.update(_limit_items(self.raw.get("defaults")))
        merged.update(_limit_items(self.groups.get(group)))
        override = (self.raw.get("user_overrides") or {}).get(username) or {}
        merged.update(_limit_items(override))
        limits = {key: LIMIT_PARSERS[key](merged[key]) for key in LIMIT_KEYS}
        limits["group"] = group
        limits["reason"] = override.get("reason")
        return limits


def _limit_items(layer):
    return {key: value for key, value in (layer or {}).items() if key in LIMIT_PARSERS}


def load(path=None):
    """Read and validate the config; raises ConfigError listing every problem."""
    path = Path(path) if path else paths.config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (set DS01_CONFIG or run `make install`)"]) from None
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from None
    except UnicodeDecodeError as error:
        raise ConfigError([f"{path}: not valid UTF-8 text (byte {error.start})"]) from None
    import yaml  # lazy: --help and config-free commands never pay for it

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{path}:{where}: not valid YAML: {problem}"]) from None
    raw = {} if raw is None else raw
    problems = validate(raw, path)
    if problems:
        raise ConfigError(problems)
    return Config(raw, path)


def validate(raw, path):
    """Every problem in the config, each 'file: key.path: problem'."""
    problems = []

    def report(keypath, problem):
        problems.append(f"{path}: {keypath}: {problem}")

    if not isinstance(raw, dict):
        return [f"{path}: top level: expected a mapping of keys, got {type(raw).__name__}"]
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            report(key, f"unknown key (known: {', '.join(TOP_LEVEL_KEYS)})")
    for key in ("default_group", "admin_group", "workspace_root"):
        if key in raw:
            _check(report, key, raw[key], _text)
    _check_layer(report, "defaults", raw.get("defaults"), allow=())
    groups = raw.get("groups")
    if groups is not None and not isinstance(groups, dict):
        report("groups", "expected a mapping of group name to limits")
        groups = {}
    for name, group in (groups or {}).items():
        _check_layer(report, f"groups.{name}", group, allow=("members",))
        if isinstance(group, dict) and "members" in group:
            _check(report, f"groups.{name}.members", group["members"], _names)
    default_group = raw.get("default_group")
    if isinstance(default_group, str) and groups is not None and default_group not in (groups or {}):
        report("default_group", f"names group {default_group!r}, which is not under groups")
    overrides = raw.get("user_overrides")
    if overrides is not None and not isinstance(overrides, dict):
        report("user_overrides", "expected a mapping of user name to limits")
        overrides = {}
    for user, override in (overrides or {}).items():
        _check_layer(report, f"user_overrides.{user}", override, allow=("reason",))
        if isinstance(override, dict) and "reason" in override:
            _check(report, f"user_overrides.{user}.reason", override["reason"], _text)
    _check_gpus(report, raw.get("gpus"))
    _check_images(report, raw.get("images"))
    _check_section(report, "lifecycle", raw.get("lifecycle"), LIFECYCLE_PARSERS)
    lifecycle = raw.get("lifecycle")
    if isinstance(lifecycle, dict):
        _check_lifecycle_lists(report, lifecycle)
    _check_section(report, "slices", raw.get("slices"), SLICES_PARSERS)
    return problems


def _check(report, keypath, value, parser):
    try:
        parser(value)
    except ValueError as error:
        report(keypath, str(error))


def _check_layer(report, keypath, layer, allow):
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


def _check_section(report, name, section, parsers):
    if section is None:
        return
    if not isinstance(section, dict):
        report(name, "expected a mapping")
        return
    for key, value in section.items():
        if key not in parsers:
            report(f"{name}.{key}", f"unknown key (known: {', '.join(parsers)})")
        elif parsers[key] is not None:
            _check(report, f"{name}.{key}", value, parsers[key])


def _check_gpus(report, gpus):
    if gpus is None:
        return
    if not isinstance(gpus, dict):
        report("gpus", "expected a mapping")
        return
    for key in gpus:
        if key != "simulate":
            report(f"gpus.{key}", "unknown key (known: simulate)")
    simulate = gpus.get("simulate")
    if simulate is None:
        return
    if not isinstance(simulate, list):
        report("gpus.simulate", "expected a list of GPUs")
        return
    for index, gpu in enumerate(simulate):
        where = f"gpus.simulate[{index}]"
        if not isinstance(gpu, dict):
            report(where, "expected a mapping with model, memory and optionally mig")
            continue
        for key in gpu:
            if key not in ("model", "memory", "mig"):
                report(f"{where}.{key}", "unknown key (known: model, memory, mig)")
        _check(report, f"{where}.model", gpu.get("model", "NVIDIA simulated GPU"), _text)
        _check(report, f"{where}.memory", gpu.get("memory", "80g"), parse_size)
        mig = gpu.get("mig")
        if mig is None:
            continue
        if not isinstance(mig, list):
            report(f"{where}.mig", "expected a list of MIG profiles like 3g.40gb")
            continue
        total_slices = 0
        for position, profile in enumerate(mig):
            match = MIG_PROFILE_RE.match(profile) if isinstance(profile, str) else None
            if not match:
                report(f"{where}.mig[{position}]",
                       f"expected a MIG profile like '1g.10gb' or '3g.40gb', got {profile!r}")
            else:
                total_slices += int(match.group(1))
        if total_slices > 7:
            report(f"{where}.mig", f"the profiles use {total_slices} compute slices; a GPU has 7")


def _check_images(report, images):
    if images is None:
        return
    if not isinstance(images, dict):
        report("images", "expected a mapping")
        return
    for key, value in images.items():
        if key == "base":
            _check(report, "images.base", value, _text)
        elif key == "frameworks":
            if not isinstance(value, dict):
                report("images.frameworks", "expected a mapping of '<framework>-<version>' to an image")
                continue
            for pair, image in value.items():
                if not isinstance(pair, str) or "-" not in pair:
                    report(f"images.frameworks.{pair}", "expected a key '<framework>-<version>'")
                _check(report, f"images.frameworks.{pair}", image, _text)
        else:
            report(f"images.{key}", "unknown key (known: base, frameworks)")


def _check_lifecycle_lists(report, lifecycle):
    fractions = lifecycle.get("runtime_warn_fractions")
    if fractions is not None:
        if not isinstance(fractions, list):
            report("lifecycle.runtime_warn_fractions", "expected a list of fractions like [0.75, 0.9]")
        else:
            for index, value in enumerate(fractions):
                _check(report, f"lifecycle.runtime_warn_fractions[{index}]", value, _fraction)
    exemptions = lifecycle.get("exemptions")
    if exemptions is None:
        return
    if not isinstance(exemptions, list):
        report("lifecycle.exemptions", "expected a list of {user, what, until, reason}")
        return
    for index, exemption in enumerate(exemptions):
        where = f"lifecycle.exemptions[{index}]"
        if not isinstance(exemption, dict):
            report(where, "expected a mapping with user, what, until, reason")
            continue
        for key in exemption:
            if key not in ("user", "what", "until", "reason"):
                report(f"{where}.{key}", "unknown key (known: user, what, until, reason)")
        _check(report, f"{where}.user", exemption.get("user"), _text)
        _check(report, f"{where}.reason", exemption.get("reason"), _text)
        what = exemption.get("what", "all")
        if what not in EXEMPTION_WHAT:
            report(f"{where}.what", f"expected one of {', '.join(EXEMPTION_WHAT)}, got {what!r}")
        until = exemption.get("until")
        if until is not None:
            _check(report, f"{where}.until", until, _date)


def _date(value):
    import datetime

    if isinstance(value, (datetime.date, datetime.datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date like 2026-12-31, got {value!r}")
