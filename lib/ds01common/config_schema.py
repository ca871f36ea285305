"""The config schema as data: every key of resource-limits.yaml once, with its type, default,
unit, allowed values and description.

This one table drives validation (config.validate), the built-in defaults (Config accessors and
limits resolution), the descriptions `get-resource-limits` prints, and the configuration
reference in README.md and docs/config.md (`reference_markdown`, checked by a test so the docs
cannot drift). To add a key: add a `Setting` line below; nothing else needs to know about it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .units import format_duration, format_size, parse_duration, parse_size

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    Parser = Callable[[Any], Any]


class SettingProblems(ValueError):
    """Several problems inside one compound value, each (key path suffix, problem)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(problem for _, problem in problems))
        self.problems = problems


class _Problems:
    """Collects every problem of one compound value, so an admin sees them all at once."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, where: str, problem: str) -> None:
        self.found.append((where, problem))

    def check(self, where: str, value: Any, parser: Parser) -> None:
        """Parse `value`; a ValueError becomes a problem at `where`."""
        try:
            parser(value)
        except ValueError as error:
            self.add(where, str(error))

    def mappings(self, items: list[Any], expected: str, known: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
        """("[index]", item) for each mapping of a list; an item that is no mapping (`expected` says
        what it should be) or a key not in `known` is a problem."""
        for index, item in enumerate(items):
            where = f"[{index}]"
            if not isinstance(item, dict):
                self.add(where, expected)
                continue
            for key in item:
                if key not in known:
                    self.add(f"{where}.{key}", f"unknown key (known: {', '.join(known)})")
            yield where, item

    def raise_any(self) -> None:
        if self.found:
            raise SettingProblems(self.found)


# --- value parsers: each returns the parsed value or raises ValueError(problem) ---

def optional(parser: Parser) -> Parser:
    def parse(value: Any) -> Any:
        return None if value is None else parser(value)
    return parse


def _real_number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return value


def count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"must not be negative, got {value}")
    return value


def positive_number(value: Any) -> int | float:
    number: int | float = _real_number(value)
    if number <= 0:
        raise ValueError(f"must be positive, got {number}")
    return number


def fraction(value: Any) -> int | float:
    number = positive_number(value)
    if number > 1:
        raise ValueError(f"expected a fraction between 0 and 1, got {number}")
    return number


def percent(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {value!r}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def priority(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"expected a whole number from 1 to 100, got {value!r}")
    return value


def names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"expected a list of user names, got {value!r}")
    return value


def date(value: Any) -> Any:
    import datetime

    if isinstance(value, (datetime.date, datetime.datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date like 2026-12-31, got {value!r}")


def fraction_list(value: Any) -> list[float]:
    if not isinstance(value, list):
        raise ValueError("expected a list of fractions like [0.75, 0.9]")
    problems = _Problems()
    for index, item in enumerate(value):
        problems.check(f"[{index}]", item, fraction)
    problems.raise_any()
    return value


MIG_PROFILE_RE = re.compile(r"([1-7])g\.(\d+)gb")
SIMULATED_GPU_KEYS = ("model", "memory", "mig")


def simulated_gpus(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValueError("expected a list of GPUs")
    problems = _Problems()
    for where, gpu in problems.mappings(value, "expected a mapping with model, memory and optionally mig",
                                        SIMULATED_GPU_KEYS):
        problems.check(f"{where}.model", gpu.get("model", "NVIDIA simulated GPU"), text)
        problems.check(f"{where}.memory", gpu.get("memory", "80g"), parse_size)
        mig = gpu.get("mig")
        if mig is None:
            continue
        if not isinstance(mig, list):
            problems.add(f"{where}.mig", "expected a list of MIG profiles like 3g.40gb")
            continue
        total_slices = 0
        for position, profile in enumerate(mig):
            match = MIG_PROFILE_RE.fullmatch(profile) if isinstance(profile, str) else None
            if not match:
                problems.add(f"{where}.mig[{position}]",
                             f"expected a MIG profile like '1g.10gb' or '3g.40gb', got {profile!r}")
            else:
                total_slices += int(match.group(1))
        if total_slices > 7:
            problems.add(f"{where}.mig", f"the profiles use {total_slices} compute slices; a GPU has 7")
    problems.raise_any()
    return value


def framework_images(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of '<framework>-<version>' to an image")
    problems = _Problems()
    for pair, image in value.items():
        if not isinstance(pair, str) or "-" not in pair:
            problems.add(f".{pair}", "expected a key '<framework>-<version>'")
        problems.check(f".{pair}", image, text)
    problems.raise_any()
    return value


def port_range(value: Any) -> str:
    """`"FIRST-LAST"` host ports within 1024-65535."""
    first, separator, last = str(value).partition("-") if isinstance(value, str) else ("", "", "")
    if not (separator and first.isdigit() and last.isdigit() and 1024 <= int(first) <= int(last) <= 65535):
        raise ValueError(f"expected FIRST-LAST host ports within 1024-65535 like 20000-29999, got {value!r}")
    return str(value)


def keep_alive_duration(value: Any) -> int:
    """A duration that must end: a `.keep-alive` may not count for ever."""
    if value is None:
        raise ValueError("expected a duration like '24h'; null is not allowed (a keep-alive must expire)")
    seconds = parse_duration(value)
    assert seconds is not None  # only None parses to None
    return seconds


ACCESS_MODES = ("docker-group", "ds01-only")


def scheduler(value: Any) -> str:
    if value != "slurm":
        raise ValueError(f"expected slurm (or no cluster section for one server), got {value!r}")
    return "slurm"


def access_mode(value: Any) -> str:
    if value not in ACCESS_MODES:
        raise ValueError(f"expected one of {', '.join(ACCESS_MODES)}, got {value!r}")
    return str(value)


def image_patterns(value: Any) -> list[str]:
    """Image names or shell-style patterns (`lab/*:*`); whitespace or an empty one is refused."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() and item == item.strip()
                                              and not any(char.isspace() for char in item) for item in value):
        raise ValueError(f"expected a list of image names or patterns like 'lab/*', got {value!r}")
    return value


def absolute_directories(value: Any) -> list[str]:
    """Absolute directory paths, written plainly (no `..`, not `/` itself: that would approve everything)."""
    if not isinstance(value, list):
        raise ValueError(f"expected a list of absolute directory paths like /srv/datasets, got {value!r}")
    for item in value:
        if (not isinstance(item, str) or not item.startswith("/") or item.rstrip("/") == ""
                or ".." in item.split("/") or any(char.isspace() or char == "\0" for char in item)):
            raise ValueError(f"expected an absolute directory path other than / (no '..'), got {item!r}")
    return value


EXEMPTION_KEYS = ("user", "what", "until", "reason")
EXEMPTION_WHAT = ("idle", "max_runtime", "gpu_hold", "never_started", "all")


def exemptions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValueError("expected a list of {user, what, until, reason}")
    problems = _Problems()
    for where, exemption in problems.mappings(value, "expected a mapping with user, what, until, reason",
                                              EXEMPTION_KEYS):
        for key in ("user", "reason"):
            problems.check(f"{where}.{key}", exemption.get(key), text)
        what = exemption.get("what")
        if what is None:
            # An entry without `what` used to exempt from everything: an admin must say so.
            problems.add(f"{where}.what", f"missing: say what it exempts from ({', '.join(EXEMPTION_WHAT)})")
        elif what not in EXEMPTION_WHAT:
            problems.add(f"{where}.what", f"expected one of {', '.join(EXEMPTION_WHAT)}, got {what!r}")
        if exemption.get("until") is not None:
            problems.check(f"{where}.until", exemption["until"], date)
    problems.raise_any()
    return value


# --- the table ---

@dataclass(frozen=True)
class Setting:
    """One config key. `section` is "limits" for the per-user keys that layer (defaults <- group
    <- user_overrides), "" for a top-level scalar, else the top-level mapping it lives in."""

    section: str
    name: str
    parse: Parser
    default: Any
    kind: str
    description: str
    label: str = ""  # short human name, for `~/.ds01-limits` and greetings (limits only)

    @property
    def path(self) -> str:
        if self.section in ("", "limits"):
            return self.name
        return f"{self.section}.{self.name}"


SETTINGS: tuple[Setting, ...] = (
    # top-level scalars
    Setting("", "default_group", optional(text), None, "group name",
            "group for users listed in no group's `members`; must name a group under `groups`"),
    Setting("", "admin_group", text, "ds01-admin", "group name",
            "members (and root) may use `--user` and the admin commands"),
    Setting("", "workspace_root", text, "~/workspace", "path",
            "where projects live (`~` is each user's home); `<root>/<project>` is mounted at /workspace"),
    Setting("", "data_roots", absolute_directories, [], "list of paths",
            "admin-approved shared data directories: `-d/--data` and mlc `-m` may also name a directory "
            "under one of them that the user can read (owned by anyone; no symlink below the root)"),
    # per-user limits, layered
    Setting("limits", "max_mig_instances", optional(count), 1, "count or null",
            "GPU slots (full GPUs or MIG instances) held in total, across all containers, running or stopped",
            "GPU slots"),
    Setting("limits", "max_gpus_per_container", optional(count), 1, "count or null",
            "GPU slots one container may ask for", "GPU slots per container"),
    Setting("limits", "max_gpu_equivalents", optional(positive_number), None, "number or null",
            "optional quota in GPU-equivalents (full GPU 1.0, MIG instance = slices/7)", "GPU-equivalents"),
    Setting("limits", "allow_full_gpu", boolean, False, "boolean",
            "may take a whole, unpartitioned GPU (`--full-gpu`)", "Full GPU allowed"),
    Setting("limits", "max_cpus", optional(positive_number), 8, "number or null",
            "CPUs per container", "CPUs per container"),
    Setting("limits", "memory", parse_size, "32g", "size or null",
            "memory per container (swap is held to the same figure)", "Memory per container"),
    Setting("limits", "shm_size", parse_size, "8g", "size or null",
            "`/dev/shm` per container (data loaders need plenty)", "Shared memory"),
    Setting("limits", "pids_limit", optional(count), 4096, "count or null",
            "processes per container", "Processes per container"),
    Setting("limits", "max_containers_per_user", optional(count), 3, "count or null",
            "containers at once, running or stopped", "Max Containers"),
    Setting("limits", "idle_timeout", parse_duration, "48h", "duration or null",
            "idle time before a container is retired (workspace kept)", "Idle timeout"),
    Setting("limits", "max_runtime", parse_duration, None, "duration or null",
            "longest a container may run before it is retired (null: as long as it is busy)", "Max runtime"),
    Setting("limits", "gpu_hold_after_stop", parse_duration, "1h", "duration or null",
            "how long a stopped container keeps its GPU slot", "GPU held after stop"),
    Setting("limits", "priority", priority, 10, "1-100",
            "place in the GPU queue: higher is served first", "Queue priority"),
    # gpus
    Setting("gpus", "simulate", optional(simulated_gpus), None, "list of GPUs",
            "a simulated inventory (`{model, memory, mig: [profiles]}` per GPU); NVML is then never called"),
    Setting("gpus", "avoid_busy", boolean, False, "boolean",
            "do not hand out a slot whose GPU runs processes of no DS01 container (bare-metal jobs, other "
            "containers); gpu-status shows them either way"),
    # images
    Setting("images", "base", text, "ubuntu:22.04", "image",
            "FROM line of the image-create templates"),
    Setting("images", "frameworks", framework_images, {}, "mapping",
            "`\"<Framework>-<version>\": image` (AIME spellings, e.g. `Pytorch-2.8.0`; names match in any case) "
            "for `mlc create` and `image-create --framework`"),
    Setting("images", "allowed", image_patterns, [], "list of patterns",
            "further images anyone may run with `--image` (shell patterns like `lab/*`); a user's own, "
            "the framework, base and default images are always allowed"),
    Setting("images", "default", optional(text), None, "image or null",
            "image for a container whose project has no image of its own (default: images.base)"),
    # lifecycle (cleanup-idle-containers)
    Setting("lifecycle", "cpu_idle_percent", percent, 2.0, "percent",
            "a container below this CPU % (and below the GPU thresholds) is idle"),
    Setting("lifecycle", "gpu_idle_percent", percent, 5.0, "percent",
            "GPU utilisation % under which a full GPU counts as idle"),
    Setting("lifecycle", "gpu_idle_memory", parse_size, "256m", "size",
            "GPU memory a container's processes must hold to count as busy"),
    Setting("lifecycle", "idle_warn_fraction", fraction, 0.8, "fraction",
            "warn the owner when this fraction of idle_timeout has passed"),
    Setting("lifecycle", "runtime_warn_fractions", fraction_list, [0.75, 0.9], "list of fractions",
            "warn the owner at these fractions of max_runtime"),
    Setting("lifecycle", "never_started_timeout", parse_duration, "1h", "duration",
            "a container created but never started is removed after this"),
    Setting("lifecycle", "keep_alive_max", keep_alive_duration, "24h", "duration",
            "a `.keep-alive` in a workspace counts as activity for at most this long after it is touched "
            "(a future date counts from when DS01 first sees it)"),
    Setting("lifecycle", "stats_sample_seconds", positive_number, 1.0, "seconds",
            "how long one CPU sample of a container lasts"),
    Setting("lifecycle", "exemptions", exemptions, [], "list",
            "`{user, what, until, reason}` entries: what (idle, max_runtime, gpu_hold, never_started, all)"
            " the user's containers are exempt from, until a date"),
    # slices
    Setting("slices", "enabled", boolean, False, "boolean",
            "put containers under per-group and per-user systemd slices"),
    Setting("slices", "parent", text, "ds01.slice", "slice name",
            "the slice all DS01 slices live under"),
    # connect (reaching containers from a laptop)
    Setting("connect", "host", optional(text), None, "host name",
            "the name laptops reach this server by (vscode-setup, container-jupyter); default: its full name"),
    Setting("connect", "ports", port_range, "20000-29999", "FIRST-LAST",
            "127.0.0.1 host ports, one per container, forwarded to port 8888 inside"),
    # who may use DS01, and how (README: "Two trust models")
    Setting("", "access", access_mode, "docker-group", "docker-group | ds01-only",
            "`docker-group`: users are in the docker group (root-equivalent); `ds01-only`: users are in "
            "`users_group` only and DS01 commands run through sudo (locked mode)"),
    Setting("", "users_group", text, "ds01-users", "group name",
            "locked mode: members may run the DS01 commands (match `make install USERS_GROUP=`)"),
    # cluster: absent = this one server; `scheduler: slurm` = containers run as Slurm jobs (issue 14)
    Setting("cluster", "scheduler", optional(scheduler), None, "slurm or null",
            "`slurm`: containers run as Slurm jobs on the cluster's nodes; absent: this one server"),
    Setting("cluster", "partition", optional(text), None, "partition name",
            "the Slurm partition DS01 submits to (default: the cluster's default partition)"),
    Setting("cluster", "full_gpu_type", optional(text), None, "GRES type",
            "GRES type of a whole GPU (`--full-gpu`), e.g. a100; null: untyped `gpu:N`"),
    Setting("cluster", "mig_type", optional(text), None, "GRES type",
            "GRES type of the MIG instance a default request gets, e.g. 1g.10gb; null: untyped `gpu:N`"),
    Setting("cluster", "account", text, "ds01", "account name",
            "the Slurm account setup-slurm-limits puts DS01's users under"),
    Setting("cluster", "slurm_conf", optional(text), None, "path",
            "the slurm.conf Slurm's tools read (default: Slurm's own, /etc/slurm/slurm.conf)"),
    Setting("cluster", "start_timeout", parse_duration, "2m", "duration",
            "how long container-create waits for a started job's container to run"),
)

LAYERS = ("defaults", "groups", "user_overrides")
LIMITS: tuple[Setting, ...] = tuple(setting for setting in SETTINGS if setting.section == "limits")
LIMIT_KEYS: tuple[str, ...] = tuple(setting.name for setting in LIMITS)
SIZE_KEYS: tuple[str, ...] = tuple(setting.name for setting in LIMITS if setting.parse is parse_size)
DURATION_KEYS: tuple[str, ...] = tuple(setting.name for setting in LIMITS if setting.parse is parse_duration)
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(s.section for s in SETTINGS if s.section not in ("", "limits")))
SCALARS: tuple[str, ...] = tuple(setting.name for setting in SETTINGS if setting.section == "")
TOP_LEVEL_KEYS: tuple[str, ...] = SCALARS[:3] + LAYERS + SECTIONS + SCALARS[3:]


def section(name: str) -> dict[str, Setting]:
    """{key: setting} of one top-level section ("limits" for the layered per-user keys)."""
    return {setting.name: setting for setting in SETTINGS if setting.section == name}


def lookup(path: str) -> Setting:
    """The setting at a dotted key path ("images.base", "max_cpus"); KeyError if unknown."""
    for setting in SETTINGS:
        if setting.path == path:
            return setting
    raise KeyError(path)


# --- the reference in the docs ---

def _default_text(setting: Setting) -> str:
    value = setting.default
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if setting.parse is parse_size or setting.kind.startswith("size"):
        return format_size(parse_size(value))
    if setting.parse is parse_duration or setting.kind.startswith("duration"):
        return format_duration(parse_duration(value))
    if value in ([], {}):
        return "empty"
    return str(value)


def reference_markdown() -> str:
    """The configuration reference table, as README.md and docs/config.md carry it."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for setting in SETTINGS:
        lines.append(f"| `{setting.path}` | {setting.kind} | `{_default_text(setting)}` | {setting.description} |")
    return "\n".join(lines) + "\n"
