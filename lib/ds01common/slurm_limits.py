"""resource-limits.yaml as Slurm QoS and associations (`setup-slurm-limits`).

One QoS per group (`ds01-<group>`), and one per user whose `user_overrides` change a limit
(`ds01-<group>-<user>`):
  GPU slots per user      max_mig_instances       -> MaxTRESPerUser=gres/gpu=N
  containers at once      max_containers_per_user -> MaxJobsPerUser=N
  runtime                 max_runtime             -> MaxWall (minutes)
  queue priority          priority                -> Priority
  per container           max_cpus, memory, max_gpus_per_container -> MaxTRESPerJob=cpu,mem,gres/gpu
  (Flags=DenyOnLimit: a job above a per-job limit is refused at sbatch, not left pending)
Every user DS01 knows (group members, overrides, `--user`) gets an association under the
cluster's account with that QoS as its only and default QoS. The plan compares the wanted
state with what sacctmgr shows, so a second `--apply` changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .cluster import job_size
from .records import Limits
from .slurm import Slurm

QOS_COLUMNS = ("name", "priority", "maxtrespu", "maxjobspu", "maxwall", "maxtres", "flags")
ASSOCIATION_COLUMNS = ("account", "user", "qos", "defaultqos")
FLAGS = "DenyOnLimit"


@dataclass(frozen=True)
class QosSpec:
    name: str
    priority: int = 0
    gpus_per_user: int | None = None
    jobs_per_user: int | None = None
    wall_minutes: int | None = None
    cpus_per_job: int | None = None
    memory_mb_per_job: int | None = None
    gpus_per_job: int | None = None
    flags: str = FLAGS

    def settings(self) -> list[str]:
        """sacctmgr `set` words; -1 clears a limit, so modifying also removes stale ones."""
        def value(number: int | None) -> str:
            return "-1" if number is None else str(number)

        per_job = [f"cpu={value(self.cpus_per_job)}", f"mem={value(self.memory_mb_per_job)}"
                   + ("M" if self.memory_mb_per_job is not None else ""), f"gres/gpu={value(self.gpus_per_job)}"]
        return [f"Priority={self.priority}", f"MaxTRESPerUser=gres/gpu={value(self.gpus_per_user)}",
                f"MaxJobsPerUser={value(self.jobs_per_user)}", f"MaxWall={value(self.wall_minutes)}",
                f"MaxTRESPerJob={','.join(per_job)}", f"Flags={self.flags}"]


@dataclass(frozen=True)
class UserSpec:
    login: str
    qos: str


@dataclass
class Plan:
    account: str
    qos: list[QosSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # users named in the config with no account here


@dataclass
class Current:
    """What sacctmgr shows now."""

    accounts: set[str] = field(default_factory=set)
    qos: dict[str, QosSpec] = field(default_factory=dict)
    associations: dict[str, tuple[str, str]] = field(default_factory=dict)   # user -> (qos list, default)


def qos_for(name: str, limits: Limits) -> QosSpec:
    size = job_size(limits)
    return QosSpec(name=name, priority=limits.priority, gpus_per_user=limits.max_mig_instances,
                   jobs_per_user=limits.max_containers_per_user, wall_minutes=size.minutes,
                   cpus_per_job=size.cpus, memory_mb_per_job=size.memory_mb,
                   gpus_per_job=limits.max_gpus_per_container)


def qos_name(*parts: str) -> str:
    """Slurm keeps QoS names in lower case; anything but letters, digits, - and _ becomes -."""
    return re.sub(r"[^a-z0-9_-]", "-", "-".join(("ds01",) + parts).lower())


def desired(config: object, account: str, extra_users: Iterable[str] = (),
            user_exists: Callable[[str], bool] = lambda login: True) -> Plan:
    """The QoS and associations the config asks for."""
    from typing import Any, cast

    cfg = cast(Any, config)
    plan = Plan(account=account)
    by_name: dict[str, QosSpec] = {}
    groups = list(cfg.groups) + ([cfg.default_group] if cfg.default_group and cfg.default_group not in cfg.groups
                                 else [])
    logins: list[str] = []
    for group in cfg.groups.values():
        logins += list((group or {}).get("members") or [])
    logins += list((cfg.raw.get("user_overrides") or {}).keys()) + list(extra_users)
    for group in groups:
        by_name[qos_name(group)] = qos_for(qos_name(group), cfg.group_limits(group))
    for login in dict.fromkeys(logins):
        if not user_exists(login):
            plan.skipped.append(login)
            continue
        limits = cfg.limits_for(login)
        name = qos_name(str(limits.group))
        if qos_for(name, limits) != by_name.get(name):
            name = qos_name(str(limits.group), login)
            by_name[name] = qos_for(name, limits)
        plan.users.append(UserSpec(login=login, qos=name))
    plan.qos = list(by_name.values())
    return plan


# --- reading sacctmgr's view ---

def _minutes(text: str) -> int | None:
    """Slurm's [D-]HH:MM:SS (or MM:SS) as minutes."""
    if not text:
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(part) for part in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return (int(days or 0) * 24 + hours) * 60 + minutes + (1 if seconds else 0)


def _tres(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def _megabytes(text: str | None) -> int | None:
    if not text:
        return None
    units = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
    suffix = text[-1].upper()
    if suffix in units:
        return math.ceil(float(text[:-1]) * units[suffix])
    return int(text)


def _number(text: str | None) -> int | None:
    return int(text) if text else None


def qos_from_row(row: dict[str, str]) -> QosSpec:
    per_job = _tres(row.get("maxtres", ""))
    return QosSpec(name=row["name"], priority=int(row.get("priority") or 0),
                   gpus_per_user=_number(_tres(row.get("maxtrespu", "")).get("gres/gpu")),
                   jobs_per_user=_number(row.get("maxjobspu")), wall_minutes=_minutes(row.get("maxwall", "")),
                   cpus_per_job=_number(per_job.get("cpu")), memory_mb_per_job=_megabytes(per_job.get("mem")),
                   gpus_per_job=_number(per_job.get("gres/gpu")), flags=row.get("flags", ""))


def read_current(tools: Slurm, account: str) -> Current:
    current = Current()
    current.accounts = {row["account"] for row in tools.sacctmgr_rows(["account"], ("account",))}
    current.qos = {row["name"]: qos_from_row(row) for row in tools.sacctmgr_rows(["qos"], QOS_COLUMNS)}
    for row in tools.sacctmgr_rows(["association", "where", f"account={account}"], ASSOCIATION_COLUMNS):
        if row["user"]:
            current.associations[row["user"]] = (row["qos"], row["defaultqos"])
    return current


# --- the commands ---

def commands(plan: Plan, current: Current) -> list[list[str]]:
    """sacctmgr argument lists (after `sacctmgr -i`) that take `current` to `plan`; [] when equal."""
    result: list[list[str]] = []
    if plan.account not in current.accounts:
        result.append(["add", "account", plan.account, "Description=DS01 users", "Organization=ds01"])
    for spec in plan.qos:
        have = current.qos.get(spec.name)
        if have is None:
            result.append(["add", "qos", spec.name])
        if have != spec:
            result.append(["modify", "qos", "where", f"name={spec.name}", "set", *spec.settings()])
    for user in plan.users:
        have_association = current.associations.get(user.login)
        if have_association is None:
            result.append(["add", "user", user.login, f"Account={plan.account}", f"QOS={user.qos}",
                           f"DefaultQOS={user.qos}"])
        elif have_association != (user.qos, user.qos):
            result.append(["modify", "user", "where", f"name={user.login}", f"account={plan.account}", "set",
                           f"QOS={user.qos}", f"DefaultQOS={user.qos}"])
    return result


def command_line(arguments: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(word) for word in ["sacctmgr", "-i", *arguments])
