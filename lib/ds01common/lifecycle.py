"""Lifecycle decisions and actions: idle retirement, max runtime, GPU hold, never-started, exemptions.

One pass (`run_pass`, run by cron every five minutes through cleanup-idle-containers):
observe every DS01 container (activity.py), decide against the owner's limits and the
`lifecycle` config (`plan`, a pure function), then warn, retire and record, keeping per
container state in $DS01_STATE_DIR/lifecycle.json under its lock. It only ever acts on
containers labelled ds01.managed=true and retires them through containers.retire (stop,
remove, free the GPU; the workspace is kept).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import activity, events, identity, log, statefile, userfiles
from .errors import Ds01Error, NotFound
from .units import format_duration

TYPE_CHECKING = False  # not typing's: importing typing would cost every command
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from .identity import User
    from .records import Limits, StrPath

    # (reason, warn or retire, message, details): one thing a check found due.
    Candidate = tuple[str, str, str, dict[str, Any]]

STATE_FILE = "lifecycle.json"
SCHEMA_VERSION = 1
ALERTS_FILE = ".ds01-alerts"
ACTOR = "cleanup-idle-containers"
# Order matters: when several reasons apply at once, the first not exempted is the one acted on.
RETIRE_REASONS = ("max_runtime", "idle", "gpu_hold", "never_started")
REASON_WORDS = {"max_runtime": "max-runtime", "idle": "idle", "gpu_hold": "GPU-hold",
                "never_started": "never-started"}


def state_file(state_dir: StrPath) -> statefile.StateFile:
    return statefile.StateFile(Path(state_dir) / STATE_FILE, SCHEMA_VERSION, lambda: {"containers": {}})


def read_state(state_dir: StrPath, walk: bool = False) -> dict[str, Any]:
    """lifecycle.json without the lock (for views); an unreadable file reads as empty.
    `walk`: no link at any component of the path is followed (statefile.read)."""
    try:
        return state_file(state_dir).read(walk=walk)
    except Ds01Error:
        return state_file(state_dir).empty()


@dataclass
class Action:
    """One thing the pass does (or, with --dry-run, would do) to one container."""

    kind: str          # "warn", "retire" or "exempt"
    reason: str        # idle, max_runtime, gpu_hold, never_started
    observation: activity.Observation
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.kind, "reason": self.reason, "container": self.observation.name,
                "user": self.observation.user, "message": self.message, **self.details}


# --- exemptions ---

def _until_epoch(until: Any) -> float | None:
    """A date is good through the end of that day (UTC); a datetime until that moment."""
    if until is None:
        return None
    if isinstance(until, str):
        try:
            until = datetime.date.fromisoformat(until)
        except ValueError:
            until = datetime.datetime.fromisoformat(until)
    if isinstance(until, datetime.datetime):
        if until.tzinfo is None:
            until = until.replace(tzinfo=datetime.UTC)
        return float(until.timestamp())
    end_of_day = datetime.datetime.combine(until, datetime.time.max, tzinfo=datetime.UTC)
    return end_of_day.timestamp()


def exemption_for(config: Any, owner: User, reason: str, now: float) -> dict[str, Any] | None:
    """The first exemption in config covering `owner` (a User) for `reason` at `now`, or None."""
    exemptions: list[dict[str, Any]] = config.lifecycle.get("exemptions") or []
    for exemption in exemptions:
        if exemption.get("user") not in (owner.login, owner.name):
            continue
        if exemption.get("what") not in (reason, "all"):  # config validation makes `what` required
            continue
        until = _until_epoch(exemption.get("until"))
        if until is not None and now > until:
            continue
        return exemption
    return None


# --- owners ---

def owner_of(observation: activity.Observation, lookup: Callable[[str], User] = identity.lookup_user) -> User:
    """The container's owner as a User; from the labels alone when the account is gone."""
    try:
        user = lookup(observation.user)
        if observation.uid is None or user.uid == observation.uid:
            return user
    except NotFound:
        pass
    uid = observation.uid if observation.uid is not None else -1
    return identity.User(observation.user, observation.user, uid, uid, "")


# --- the decision (pure) ---

def is_active(observation: activity.Observation, thresholds: dict[str, Any]) -> tuple[bool | None, str]:
    """(active, why) from this pass's measurements; (None, why) when they are missing."""
    if observation.cpu_percent is None:
        return None, "cpu not measured"
    if observation.cpu_percent >= thresholds["cpu_idle_percent"]:
        return True, f"cpu {observation.cpu_percent:.1f}%"
    if observation.gpu_memory and observation.gpu_memory >= thresholds["gpu_idle_memory"]:
        return True, f"gpu memory {observation.gpu_memory} bytes"
    if observation.gpu_utilization is not None and observation.gpu_utilization >= thresholds["gpu_idle_percent"]:
        return True, f"gpu {observation.gpu_utilization:.0f}%"
    return False, "idle"


def plan(observations: Iterable[activity.Observation], state: dict[str, Any], config: Any, now: float,
         owners: Callable[[activity.Observation], User], limits: Callable[[User], Limits],
         ) -> tuple[list[Action], dict[str, Any]]:
    """The actions for this pass and the new per-container state.

    `owners` maps an observation to its User, `limits` a User to resolved limits; `state`
    is lifecycle.json's content (left untouched; the new content is returned).
    """
    thresholds = config.lifecycle
    previous = state.get("containers") or {}
    new_entries = {}
    actions = []
    for observation in observations:
        owner = owners(observation)
        user_limits = limits(owner)
        entry = dict(previous.get(observation.id) or {})
        entry.update(name=observation.name, user=observation.user, status=observation.status,
                     workspace=observation.workspace)
        candidates = []  # (reason, kind, message, details)
        if observation.running:
            candidates += _running_checks(observation, entry, thresholds, user_limits, now)
        elif observation.status in ("exited", "dead") and observation.gpu_slots:
            candidates += _gpu_hold_check(observation, user_limits, now)
        elif observation.status == "created" and observation.started is None:
            candidates += _never_started_check(observation, thresholds, now)
        actions += _resolve(observation, owner, entry, candidates, config, now)
        new_entries[observation.id] = entry
    return actions, {"containers": new_entries}


def _running_checks(observation: activity.Observation, entry: dict[str, Any], thresholds: dict[str, Any],
                    user_limits: Limits, now: float) -> list[Candidate]:
    started = observation.started or observation.created or now
    if entry.get("started") != started:  # a new start: earlier warnings no longer apply
        entry.update(started=started, runtime_warned=[], idle_warned_for=None, last_active=None)
    active, why = is_active(observation, thresholds)
    entry.update(cpu_percent=observation.cpu_percent, gpu_memory=observation.gpu_memory, measured_at=now)
    # Real activity is remembered; a .keep-alive is weighed afresh each pass, so it stops counting
    # once it is older than keep_alive_max instead of living on in the stored last_active.
    real_last_active = max(value for value in (started, entry.get("last_active")) if value is not None)
    if active:
        real_last_active = now
    entry["last_active"] = real_last_active
    touched = effective_keep_alive(observation.keep_alive, entry, now)
    keep_alive_counts = touched is not None and now - touched < thresholds["keep_alive_max"]
    last_active = max(real_last_active, touched) if keep_alive_counts and touched is not None else real_last_active
    entry["idle_since"] = last_active
    entry["last_active_iso"] = activity.iso(last_active)
    idle_seconds = max(0.0, now - last_active)
    entry["idle_seconds"] = round(idle_seconds) if active is not None else None
    numbers: dict[str, Any] = {"cpu_percent": observation.cpu_percent, "gpu_memory": observation.gpu_memory,
               "gpu_utilization": observation.gpu_utilization, "keep_alive": activity.iso(observation.keep_alive),
               "last_active": activity.iso(last_active)}
    candidates = []
    runtime_limit = user_limits.max_runtime
    runtime = now - started
    if runtime_limit:
        details = dict(numbers, runtime_seconds=round(runtime), threshold_seconds=runtime_limit)
        if runtime >= runtime_limit:
            candidates.append(("max_runtime", "retire",
                               f"{observation.name} has run {format_duration(runtime)}, the limit is "
                               f"{format_duration(runtime_limit)}", details))
        else:
            due = [fraction for fraction in sorted(thresholds["runtime_warn_fractions"])
                   if runtime >= fraction * runtime_limit and fraction not in (entry.get("runtime_warned") or [])]
            if due:
                left = runtime_limit - runtime
                candidates.append(("max_runtime", "warn",
                                   f"{observation.name} has run {format_duration(runtime)} of its "
                                   f"{format_duration(runtime_limit)} limit; it will be retired in "
                                   f"{format_duration(left)} (save your work; the workspace is kept)",
                                   dict(details, fraction=due[-1], fractions=due)))
    idle_limit = user_limits.idle_timeout
    if idle_limit and active is not None:
        details = dict(numbers, idle_seconds=round(idle_seconds), threshold_seconds=idle_limit,
                       cpu_threshold=thresholds["cpu_idle_percent"])
        if idle_seconds >= idle_limit:
            candidates.append(("idle", "retire",
                               f"{observation.name} has been idle for {format_duration(idle_seconds)}, "
                               f"the limit is {format_duration(idle_limit)}", details))
        elif idle_seconds >= thresholds["idle_warn_fraction"] * idle_limit and \
                entry.get("idle_warned_for") != last_active:
            keep_alive = Path(observation.workspace or "~/workspace/<project>") / activity.KEEP_ALIVE_FILE
            candidates.append(("idle", "warn",
                               f"{observation.name} has been idle for {format_duration(idle_seconds)}; it will be "
                               f"retired after {format_duration(idle_limit)} idle (in "
                               f"{format_duration(idle_limit - idle_seconds)}). Use it, or `touch {keep_alive}` "
                               "to keep it (a touch counts for up to "
                               f"{format_duration(thresholds['keep_alive_max'])}); "
                               "the workspace is always kept", details))
    return candidates


def effective_keep_alive(mtime: float | None, entry: dict[str, Any], now: float) -> float | None:
    """When a .keep-alive counts as touched: its mtime, but a future mtime counts from the pass
    that first saw it (remembered in `entry`), so `touch -d 2099-01-01` cannot keep a container for ever."""
    if mtime is None:
        entry.pop("keep_alive_seen", None)
        return None
    seen = entry.get("keep_alive_seen") or {}
    if seen.get("mtime") != mtime:
        seen = {"mtime": mtime, "at": now}
        entry["keep_alive_seen"] = seen
    return min(mtime, float(seen["at"]))


def _gpu_hold_check(observation: activity.Observation, user_limits: Limits, now: float) -> list[Candidate]:
    hold = user_limits.gpu_hold_after_stop
    stopped_at = observation.finished or observation.created
    if hold is None or stopped_at is None:
        return []
    stopped_for = now - stopped_at
    if stopped_for < hold:
        return []
    slots = ",".join(observation.gpu_slots)
    return [("gpu_hold", "retire",
             f"{observation.name} has been stopped for {format_duration(stopped_for)} holding GPU slot(s) "
             f"{slots}; the hold is {format_duration(hold)}",
             {"stopped_seconds": round(stopped_for), "threshold_seconds": hold, "gpu_slots": observation.gpu_slots,
              "finished_at": activity.iso(observation.finished)})]


def _never_started_check(observation: activity.Observation, thresholds: dict[str, Any],
                         now: float) -> list[Candidate]:
    timeout = thresholds.get("never_started_timeout")
    if timeout is None or observation.created is None:
        return []
    age = now - observation.created
    if age < timeout:
        return []
    return [("never_started", "retire",
             f"{observation.name} was created {format_duration(age)} ago and never started; "
             f"the limit is {format_duration(timeout)}",
             {"age_seconds": round(age), "threshold_seconds": timeout, "gpu_slots": observation.gpu_slots})]


def _resolve(observation: activity.Observation, owner: User, entry: dict[str, Any], candidates: list[Candidate],
             config: Any, now: float) -> list[Action]:
    """Exemptions applied: at most one retirement, else the warnings due; exemptions told once."""
    actions = []
    reported = set(entry.get("exempt_reported") or [])
    retire_done = False
    for reason in RETIRE_REASONS:
        for candidate_reason, kind, message, details in candidates:
            if candidate_reason != reason or (kind == "retire" and retire_done):
                continue
            exemption = exemption_for(config, owner, reason, now)
            if exemption is not None:
                if reason not in reported:
                    reported.add(reason)
                    until = exemption.get("until")
                    actions.append(Action("exempt", reason, observation,
                                          f"{observation.name} is kept: you are exempt from {REASON_WORDS[reason]} "
                                          f"retirement{f' until {until}' if until else ''} "
                                          f"({exemption.get('reason')}). Without it: {message.split('; ')[0]}",
                                          dict(details, exemption_reason=exemption.get("reason"),
                                               until=str(until) if until else None)))
                continue
            if kind == "retire":
                retire_done = True
                actions = [action for action in actions if action.kind != "warn"]
                actions.append(Action("retire", reason, observation, message + "; retired (workspace kept)",
                                      details))
            elif not retire_done:
                actions.append(Action("warn", reason, observation, message, details))
                if reason == "idle":
                    entry["idle_warned_for"] = entry.get("idle_since")
                else:
                    entry["runtime_warned"] = sorted(set(entry.get("runtime_warned") or [])
                                                     | set(details.get("fractions") or []))
    entry["exempt_reported"] = sorted(reported)
    return actions


# --- the pass ---

def _cached(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def lookup(key: Any) -> Any:
        if key not in cache:
            cache[key] = function(key)
        return cache[key]
    return lookup


def run_pass(docker: Any, config: Any, *, state_dir: StrPath, log_dir: StrPath | None, dry_run: bool = False,
             now: float | None = None, retire: Callable[..., Any] | None = None,
             notify: Callable[[User, activity.Observation, str], None] | None = None,
             gpu_processes: Callable[[], list[dict[str, Any]]] | None = None,
             gpu_utilization: Callable[[int], float | None] | None = None,
             lookup: Callable[[str], User] = identity.lookup_user, proc_root: str = "/proc",
             workspace_under: str | None = None, environment: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Observe, decide, act. Returns {"checked", "actions": [...], "containers": [...], "dry_run"}.

    `retire` defaults to containers.retire, `notify(owner, observation, message)` to terminal
    messages plus the workspace's .ds01-alerts; tests pass fakes for both and for the GPU
    process list. With `dry_run`, nothing is written, recorded, sent or retired.
    `workspace_under` limits the pass to containers with a workspace under that dir; the
    state of containers outside it is left as it was. `environment` (the command's) is what the
    Slurm tools run with when a cluster's job-backed containers are retired.
    """
    if retire is None:
        import functools

        retire = functools.partial(_default_retire, environment=environment)
    if config.simulated_gpus is not None and gpu_processes is None:
        gpu_processes = list  # simulated GPUs have no processes; NVML is never called
    observations = activity.observe(docker, sample_seconds=config.lifecycle["stats_sample_seconds"],
                                    gpu_processes=gpu_processes, gpu_utilization=gpu_utilization,
                                    proc_root=proc_root, workspace_under=workspace_under)
    observed_ids = {observation.id for observation in observations}
    owners = _cached_owners(lookup)
    limits = _cached(lambda user: config.limits_for(user.login))

    def decide(state: dict[str, Any]) -> tuple[list[Action], dict[str, Any]]:
        return plan(observations, state, config, time.time() if now is None else now,
                    owners, limits)

    if dry_run:
        actions, new_state = decide(read_state(state_dir))
    else:
        with state_file(state_dir).transaction() as state:
            actions, new_state = decide(state)
            failed = _act(docker, config, actions, owners, state_dir=state_dir, log_dir=log_dir,
                          retire=retire, notify=notify or notify_owner)
            for action in actions:
                if action.kind == "retire" and action.observation.id not in failed:
                    new_state["containers"].pop(action.observation.id, None)
            if workspace_under is not None:
                outside = {key: value for key, value in (state.get("containers") or {}).items()
                           if key not in observed_ids and not _entry_under(value, workspace_under)}
                new_state["containers"].update(outside)
            state.clear()
            state.update(new_state)
    return {"dry_run": dry_run, "checked": len(observations),
            "actions": [action.as_dict() for action in actions],
            "containers": [_summary(observation, new_state["containers"].get(observation.id))
                           for observation in observations]}


def _entry_under(entry: dict[str, Any], directory: str) -> bool:
    return activity.workspace_is_under(entry.get("workspace"), directory)


def _cached_owners(lookup: Callable[[str], User]) -> Callable[[activity.Observation], User]:
    cache: dict[Any, User] = {}

    def owners(observation: activity.Observation) -> User:
        key = (observation.user, observation.uid)
        if key not in cache:
            cache[key] = owner_of(observation, lookup)
        return cache[key]
    return owners


def _summary(observation: activity.Observation, entry: dict[str, Any] | None) -> dict[str, Any]:
    entry = entry or {}
    return {"name": observation.name, "user": observation.user, "status": observation.status,
            "cpu_percent": observation.cpu_percent, "gpu_memory": observation.gpu_memory,
            "gpus": observation.gpu_slots, "idle_seconds": entry.get("idle_seconds")}


def _act(docker: Any, config: Any, actions: list[Action], owners: Callable[[activity.Observation], User], *,
         state_dir: StrPath, log_dir: StrPath | None, retire: Callable[..., Any],
         notify: Callable[[User, activity.Observation, str], None]) -> set[str]:
    """Carry out the actions; returns the ids whose retirement failed (their state is kept)."""
    failed = set()
    for action in actions:
        observation = action.observation
        owner = owners(observation)
        details = dict(action.details, container=observation.name, reason=action.reason, actor=ACTOR)
        if action.kind == "retire":
            try:
                retire(docker, config, owner, observation.name, state_dir=state_dir, log_dir=log_dir, actor=ACTOR,
                       reason=action.reason)
            except NotFound:
                log.info("%s/%s was already gone", observation.user, observation.name)
                continue
            except Ds01Error as error:
                failed.add(observation.id)
                log.warning("could not retire %s/%s: %s", observation.user, observation.name, error)
                events.record("lifecycle.error", observation.user, log_dir=log_dir, error=str(error), **details)
                continue
            events.record("lifecycle.retire", observation.user, log_dir=log_dir, **details)
        else:
            events.record("lifecycle.idle_warning" if action.reason == "idle" and action.kind == "warn" else
                          "lifecycle.runtime_warning" if action.kind == "warn" else "lifecycle.exempt",
                          observation.user, log_dir=log_dir, **details)
        notify(owner, observation, action.message)
    return failed


def _default_retire(docker: Any, config: Any, user: User, name: str, *, environment: Mapping[str, str] | None,
                    **options: Any) -> Any:
    from . import backend
    if backend.is_cluster(config):
        # On a Slurm node the container belongs to a job: end the job (its runner removes the
        # container), or Slurm would keep the GPUs allocated to an empty job.
        from .backend import slurm_retire
        if environment is None:
            raise Ds01Error("retiring a job-backed container needs the command's environment for Slurm's tools")
        return slurm_retire.retire(config, user, name, environment=environment, **options)
    from . import containers
    return containers.retire(docker, config, user, name, **options)


# --- telling the owner ---

def notify_owner(owner: User, observation: activity.Observation, message: str,
                 run: Callable[..., Any] | None = None) -> None:
    """Best effort: a line in the project's .ds01-alerts and a message on the owner's terminals."""
    text = f"DS01: {message}"
    append_alert(observation.workspace, text, owner)
    for tty in user_terminals(owner.login, run):
        try:
            (run or _process_run)(["write", owner.login, tty], check=False, input=text + "\n", timeout=5)
        except Ds01Error as error:
            log.debug("write to %s on %s failed: %s", owner.login, tty, error)


def append_alert(workspace: str | None, text: str, owner: User | None = None) -> None:
    if not workspace or not Path(workspace).is_dir():
        return
    path = Path(workspace) / ALERTS_FILE
    try:
        # cron runs this as root inside a user's workspace: never through a symlink they own.
        userfiles.append_line(path, f"{activity.iso(time.time())} {text}", owner)
    except Ds01Error as error:
        log.debug("cannot write %s: %s", path, error)


def user_terminals(login: str, run: Callable[..., Any] | None = None) -> list[str]:
    """The ttys `who` lists for `login`."""
    try:
        result = (run or _process_run)(["who"], check=False, timeout=5)
    except Ds01Error:
        return []
    ttys = []
    for line in (result.stdout or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == login and fields[1] not in ttys:
            ttys.append(fields[1])
    return ttys


def _process_run(command: list[str], **options: Any) -> Any:
    from . import process
    return process.run(command, **options)
