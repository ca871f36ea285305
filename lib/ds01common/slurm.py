"""The one module that runs Slurm's programs (sbatch, srun, squeue, scontrol, sinfo, scancel,
sacctmgr), through process.py, and turns their output into typed records.

Parsers are pure functions of the text Slurm prints, tested on captured output; `Slurm` only
adds the command lines. Slurm's own words (pending reasons) are translated for users here.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import process
from .errors import Ds01Error, NotFound, PermissionDenied, ResourcesUnavailable

# Job states in which a job holds (or waits for) resources: what DS01 counts as "a container".
ACTIVE_STATES = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED")
SQUEUE_FORMAT = "%i|%j|%u|%T|%r|%N|%b|%l|%M|%Q|%V|%k|%C|%m"
FIELD_SEPARATOR = "|"

# Pending reasons, in words; anything not listed is shown as Slurm spells it.
REASON_WORDS = {
    "QOSMaxGRESPerUser": "your GPU quota (QoS MaxTRESPerUser gres/gpu) is in use by your other containers",
    "QOSMaxJobsPerUserLimit": "you have as many running containers as your QoS allows (MaxJobsPerUser)",
    "QOSMaxWallDurationPerJobLimit": "the requested runtime is above your QoS's MaxWall",
    "QOSMaxGRESPerJob": "more GPUs than one container may have (QoS MaxTRESPerJob)",
    "QOSMaxCpuPerJobLimit": "more CPUs than one container may have (QoS MaxTRESPerJob)",
    "QOSMaxMemoryPerJob": "more memory than one container may have (QoS MaxTRESPerJob)",
    "AssocMaxGRESPerUser": "your account's GPU limit is reached",
    "AssocMaxJobsLimit": "your account's job limit is reached",
    "Resources": "no node has the requested GPUs, CPUs and memory free right now",
    "Priority": "other jobs with higher priority are waiting for the same resources",
    "ReqNodeNotAvail": "the nodes that could run it are unavailable (drained or down)",
    "PartitionDown": "the partition is down",
    "InvalidQOS": "your QoS does not allow this job",
    "None": "just submitted: the scheduler has not looked at it yet",
}
# Reasons that mean "the scheduler has not looked yet", not a refusal.
TRANSIENT_REASONS = ("None", "", "BeginTime")


def reason_in_words(reason: str) -> str:
    if reason.startswith("QOS") or reason.startswith("Assoc"):
        return REASON_WORDS.get(reason, f"a Slurm limit ({reason})")
    return REASON_WORDS.get(reason, reason)


# --- records ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One line of squeue."""

    job_id: int
    name: str
    user: str
    state: str
    reason: str
    nodes: str
    gres: str          # "gpu:1g.10gb:1" ("" for none)
    time_limit: str
    elapsed: str
    priority: int
    submitted: str
    comment: str
    cpus: int
    memory: str

    @property
    def pending(self) -> bool:
        return self.state == "PENDING"

    @property
    def running(self) -> bool:
        return self.state == "RUNNING"


@dataclass(frozen=True)
class GresCount:
    name: str          # "gpu"
    type: str          # "h100", "1g.10gb" ("" when untyped)
    total: int
    used: int = 0
    indexes: str = ""  # "1-2" when in use


@dataclass(frozen=True)
class Node:
    name: str
    state: str
    partitions: tuple[str, ...]
    cpus_total: int
    cpus_allocated: int
    memory_mb: int
    memory_allocated_mb: int
    gres: tuple[GresCount, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Partition:
    name: str
    available: str
    nodes: int
    state: str
    gres: str
    default: bool


# --- parsers (pure) --------------------------------------------------------------------

_KEY = re.compile(r"(?:^|\s)([A-Za-z][\w:/.]*)=")


def parse_record(line: str) -> dict[str, str]:
    """One `scontrol show ... -o` line as {key: value}; values may hold spaces (OS=Linux 6.1 #1)."""
    matches = list(_KEY.finditer(line))
    record: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(line)
        record[match.group(1)] = line[match.end():end].strip()
    return record


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def parse_squeue(text: str) -> list[Job]:
    """squeue -h -o SQUEUE_FORMAT output."""
    jobs = []
    for line in text.splitlines():
        parts = line.split(FIELD_SEPARATOR)
        if len(parts) != SQUEUE_FORMAT.count(FIELD_SEPARATOR) + 1:
            continue
        gres = parts[6]
        gres = "" if gres in ("(null)", "N/A") else gres.removeprefix("gres:").replace(",gres:", ",")
        comment = "" if parts[11] == "(null)" else parts[11]
        jobs.append(Job(job_id=_int(parts[0]), name=parts[1], user=parts[2], state=parts[3],
                        reason=parts[4], nodes=parts[5], gres=gres, time_limit=parts[7], elapsed=parts[8],
                        priority=_int(parts[9]), submitted=parts[10], comment=comment,
                        cpus=_int(parts[12]), memory=parts[13]))
    return jobs


_GRES_ITEM = re.compile(r"^(?P<name>[^:(]+)(?::(?P<type>[^:(]+))?:(?P<count>\d+)(?:\((?P<extra>[^)]*)\))?$")


def _split_gres(text: str) -> list[str]:
    """Split "gpu:h100:1,gpu:1g.10gb:2(S:0)" on commas outside parentheses."""
    items, depth, current = [], 0, ""
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += character
    if current:
        items.append(current)
    return items


def parse_gres(configured: str, used: str = "") -> tuple[GresCount, ...]:
    """A node's Gres= and GresUsed= strings as counts per (name, type)."""
    in_use: dict[tuple[str, str], tuple[int, str]] = {}
    for item in _split_gres("" if used in ("", "N/A", "(null)") else used):
        match = _GRES_ITEM.match(item)
        if match:
            extra = match.group("extra") or ""
            indexes = extra.removeprefix("IDX:") if extra.startswith("IDX:") else ""
            in_use[(match.group("name"), match.group("type") or "")] = (
                int(match.group("count")), "" if indexes == "N/A" else indexes)
    counts = []
    for item in _split_gres("" if configured in ("", "(null)") else configured):
        match = _GRES_ITEM.match(item)
        if match:
            key = (match.group("name"), match.group("type") or "")
            used_count, indexes = in_use.get(key, (0, ""))
            counts.append(GresCount(name=key[0], type=key[1], total=int(match.group("count")),
                                    used=used_count, indexes=indexes))
    return tuple(counts)


def parse_nodes(text: str) -> list[Node]:
    """scontrol show node -d -o output (one node per line)."""
    nodes = []
    for line in text.splitlines():
        record = parse_record(line)
        if "NodeName" not in record:
            continue
        nodes.append(Node(
            name=record["NodeName"], state=record.get("State", ""),
            partitions=tuple(part for part in record.get("Partitions", "").split(",") if part),
            cpus_total=_int(record.get("CPUTot", "0")), cpus_allocated=_int(record.get("CPUAlloc", "0")),
            memory_mb=_int(record.get("RealMemory", "0")), memory_allocated_mb=_int(record.get("AllocMem", "0")),
            gres=parse_gres(record.get("Gres", ""), record.get("GresUsed", "")), fields=record))
    return nodes


def parse_sinfo(text: str) -> list[Partition]:
    """sinfo -h -o '%P|%a|%D|%t|%G' output."""
    partitions = []
    for line in text.splitlines():
        parts = line.split(FIELD_SEPARATOR)
        if len(parts) != 5:
            continue
        name = parts[0]
        partitions.append(Partition(name=name.rstrip("*"), available=parts[1], nodes=_int(parts[2]),
                                    state=parts[3], gres=parts[4], default=name.endswith("*")))
    return partitions


def parse_parsable(text: str, columns: Sequence[str]) -> list[dict[str, str]]:
    """sacctmgr -nP output ('|'-separated, no header) as dicts with the given column names."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        values = line.split("|")
        rows.append(dict(zip(columns, values + [""] * (len(columns) - len(values)))))
    return rows


# --- running Slurm's programs ----------------------------------------------------------

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class Slurm:
    """Slurm's command-line tools for one cluster. `conf`: the slurm.conf to use (None: Slurm's
    own default); `environment`: the base environment for the tools (the caller's, passed in)."""

    def __init__(self, conf: str | None = None, environment: Mapping[str, str] | None = None,
                 runner: Runner = process.run,
                 pass_through: Callable[..., int] = process.run_passing_through) -> None:
        self.conf = conf
        self._environment = dict(environment or {})
        self._runner = runner
        self._pass_through = pass_through

    def environment(self) -> dict[str, str]:
        env = dict(self._environment)
        if self.conf:
            env["SLURM_CONF"] = self.conf
        return env

    def run(self, command: list[str], *, check: bool = True, capture: bool = True, input: str | None = None,
            user: int | None = None, timeout: float | None = 60) -> subprocess.CompletedProcess[str]:
        """Run one Slurm tool; a failure becomes one Ds01Error line carrying Slurm's message."""
        result = self._runner(command, check=False, capture=capture, input=input,
                              env=self.environment() or None, user=user, timeout=timeout)
        if check and result.returncode != 0:
            raise slurm_error(command, result)
        return result

    # queries
    def jobs(self, user: str | None = None, name: str | None = None, job_id: int | None = None) -> list[Job]:
        command = ["squeue", "-h", "-t", ",".join(ACTIVE_STATES), "-o", SQUEUE_FORMAT]
        if user:
            command += ["-u", user]
        if name:
            command += ["-n", name]
        if job_id is not None:
            command = ["squeue", "-h", "-j", str(job_id), "-o", SQUEUE_FORMAT]
        result = self.run(command, check=job_id is None)
        return parse_squeue(result.stdout) if result.returncode == 0 else []

    def job(self, job_id: int) -> dict[str, str] | None:
        """`scontrol show job -o` as a record; None once Slurm has forgotten the job."""
        result = self.run(["scontrol", "show", "job", "-o", str(job_id)], check=False)
        if result.returncode != 0:
            return None
        record = parse_record(result.stdout.strip())
        return record or None

    def nodes(self) -> list[Node]:
        return parse_nodes(self.run(["scontrol", "show", "node", "-d", "-o"]).stdout)

    def partitions(self) -> list[Partition]:
        return parse_sinfo(self.run(["sinfo", "-h", "-o", "%P|%a|%D|%t|%G"]).stdout)

    # actions
    def submit(self, script: str, user: int | None = None) -> int:
        """sbatch the script (on stdin); the job id."""
        result = self.run(["sbatch", "--parsable"], input=script, user=user)
        return _int(result.stdout.strip().split(";")[0])

    def cancel(self, job_id: int, user: int | None = None) -> None:
        self.run(["scancel", str(job_id)], user=user)

    def step(self, job_id: int, command: list[str], *, user: int | None = None,
             terminal: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `command` as a step sharing the job's allocation, on its node; never raises on the
        command's own exit status (the caller passes it through)."""
        srun = ["srun", "--jobid", str(job_id), "--overlap", "--quiet", "-N1", "-n1"]
        srun += ["--pty"] if terminal else []
        if terminal:
            return self.run(srun + command, check=False, capture=False, user=user, timeout=None)
        # The command's own output streams through; srun's line about its exit code is dropped
        # (the exit code itself is passed on, as on one server).
        code = self._pass_through(srun + command, _srun_exit_line, env=self.environment() or None, user=user)
        return subprocess.CompletedProcess(srun + command, code, "", "")

    def sacctmgr(self, arguments: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(["sacctmgr", "-i"] + arguments, check=check)

    def sacctmgr_rows(self, what: list[str], columns: Sequence[str]) -> list[dict[str, str]]:
        result = self.run(["sacctmgr", "-nP", "show"] + what + ["format=" + ",".join(columns)])
        return parse_parsable(result.stdout, columns)


_SRUN_EXIT_LINE = re.compile(r"^srun: error: \S+: tasks? [\d,-]+: Exited with exit code \d+$")


def _srun_exit_line(line: str) -> bool:
    return _SRUN_EXIT_LINE.match(line) is not None


def slurm_error(command: Sequence[str], result: subprocess.CompletedProcess[str]) -> Ds01Error:
    """Slurm's refusal as the contract's error: limits -> exit 3, no association -> exit 4."""
    lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
    message = lines[-1] if lines else f"exit status {result.returncode}"
    message = re.sub(r"^(sbatch|srun|squeue|scontrol|sinfo|scancel|sacctmgr): error: ", "", message)
    lowered = message.lower()
    if "invalid account" in lowered or "invalid user" in lowered or "access denied" in lowered:
        return PermissionDenied(f"Slurm refused: {message} (an admin runs `setup-slurm-limits --apply`)")
    if "qos" in lowered or "limit" in lowered or "policy" in lowered:
        return ResourcesUnavailable(f"Slurm refused: {message}")
    if "invalid job id" in lowered:
        return NotFound(f"Slurm: {message}")
    return Ds01Error(f"{command[0]} failed: {message}")


def from_settings(slurm_conf: str | None, environment: Mapping[str, str]) -> Slurm:
    """A Slurm for the config's cluster section; `environment`: the command's (context.environment:
    the tools need PATH and, for sbatch, the user's environment to hand to the job)."""
    return Slurm(conf=slurm_conf, environment=environment)


__all__ = ["Job", "Node", "GresCount", "Partition", "Slurm", "parse_squeue", "parse_nodes", "parse_record",
           "parse_gres", "parse_sinfo", "parse_parsable", "reason_in_words", "slurm_error", "from_settings"]
