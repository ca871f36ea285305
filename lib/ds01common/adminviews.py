"""Admin views: the server at a glance (ds01-status), the event log (ds01-events), docker access.

Read-only except `add_user_to_docker`. Each view returns plain data (JSON-ready) plus
helpers that turn it into table rows, so the command scripts stay thin.
"""

from __future__ import annotations

import datetime
import grp
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import activity, events, identity, lifecycle
from . import labels as label
from .errors import UsageError
from .names import short_name
from .units import format_duration, parse_duration

if TYPE_CHECKING:
    from .identity import User
    from .records import StrPath

Document = dict[str, Any]
Row = tuple[Any, ...]
Lookup = Callable[[str], "User"]

DOCKER_GROUP = "docker"


# --- ds01-status ---

def status(docker: Any, config: Any, *, state_dir: StrPath, log_dir: StrPath,
           allocator_status: Document | None = None, lookup: Lookup = identity.lookup_user) -> Document:
    """Everything gpu-status shows (same keys: gpus, slots, users, queue, reason) and more:
    `containers` (every DS01 container with its idle time from the last cleanup pass),
    `unknown_slots`, `problems`, `simulated`, and each user's group."""
    from .allocator_admin import limits_of, user_usage  # the quota views gpu-status shows too

    if allocator_status is None:
        from . import allocator
        allocator_status = allocator.status(docker, config, state_dir=state_dir, log_dir=log_dir)
    gpu = allocator_status
    slots = gpu.get("slots") or []
    idle_state = lifecycle.read_state(state_dir).get("containers") or {}
    containers = []
    counts: dict[str, int] = {}
    for summary in activity.list_managed(docker):
        labels = summary.get("Labels") or {}
        if not label.is_managed(labels):
            continue
        owner = labels.get(label.USER, "?")
        counts[owner] = counts.get(owner, 0) + 1
        entry = idle_state.get(summary.get("Id")) or {}
        running = summary.get("State") in activity.RUNNING_STATES
        containers.append({
            "name": labels.get(label.PROJECT) or (summary.get("Names") or ["/?"])[0].lstrip("/"),
            "docker_name": (summary.get("Names") or ["/?"])[0].lstrip("/"),
            "user": owner, "status": summary.get("State"),
            "gpus": label.slot_ids(labels),
            # As of the last cleanup pass, which measured it at `last_checked`.
            "idle_seconds": entry.get("idle_seconds") if running else None,
            "idle_timeout": limits_of(config, owner, lookup).idle_timeout,
            "cpu_percent": entry.get("cpu_percent") if running else None,
            "last_checked": activity.iso(entry.get("measured_at")) if running else None,
        })
    containers.sort(key=lambda item: (item["user"], item["name"]))
    return {"gpus": gpu.get("gpus") or [], "slots": slots, "unknown_slots": gpu.get("unknown_slots") or [],
            "users": user_usage(slots + (gpu.get("unknown_slots") or []), counts, config, lookup),
            "queue": gpu.get("queue") or [], "reason": gpu.get("reason"), "problems": gpu.get("problems") or [],
            "simulated": bool(gpu.get("simulated")), "containers": containers,
            "outside_processes": gpu.get("outside_processes") or []}


def _quota(used: float, maximum: float | None) -> str:
    return f"{used}/{'∞' if maximum is None else maximum}"


def gpu_lines(document: Document) -> list[str]:
    """One line per GPU, the totals, and any inventory problems (what gpu-status prints)."""
    from .units import format_size
    simulated = " (simulated)" if document["simulated"] else ""
    if not document["gpus"]:
        return [f"no GPUs{simulated}: {document['reason'] or 'none found'}; containers run CPU-only"]
    lines = [f"GPU {gpu['index']}  {gpu['model']}  {format_size(gpu['memory'])}  "
             f"{'MIG' if gpu['mig_enabled'] else 'full GPU'}{simulated}" for gpu in document["gpus"]]
    slots = document["slots"]
    lines.append(f"{sum(1 for row in slots if row.get('user'))} of {len(slots)} slots in use "
                 f"({sum(row['weight'] for row in slots if row.get('user')):.2f} of "
                 f"{sum(row['weight'] for row in slots):.2f} GPU-equivalents)")
    return lines + [f"warning: {problem}" for problem in document["problems"]]


def slot_rows(document: Document) -> list[Row]:
    rows = []
    for slot in document["slots"] + [dict(row, state="vanished") for row in document["unknown_slots"]]:
        container = short_name(slot.get("container"))
        if container and slot.get("container_status"):
            container = f"{container} ({slot['container_status']})"
        rows.append((slot.get("id"), slot.get("profile") or "full", slot.get("weight"),
                     slot.get("state") or ("assigned" if slot.get("user") else "free"),
                     slot.get("user") or "-", container or "-"))
    return rows


def queue_rows(document: Document) -> list[Row]:
    return [(position, entry.get("user"), short_name(entry.get("container")), entry.get("priority"),
             entry.get("count"),
             entry.get("since")) for position, entry in enumerate(document["queue"], 1)]


def container_rows(document: Document) -> list[Row]:
    rows = []
    for item in document["containers"]:
        idle = format_duration(item["idle_seconds"]) if item["idle_seconds"] is not None else "-"
        rows.append((item["user"], item["name"], item["status"], ",".join(item["gpus"]) or "-",
                     "-" if item["cpu_percent"] is None else f"{item['cpu_percent']:.1f}",
                     f"{idle} / {format_duration(item['idle_timeout'])}"))
    return rows


def user_rows(document: Document) -> list[Row]:
    return [(item["user"], item["group"], _quota(item["containers"], item["max_containers"]),
             _quota(item["slots"], item["max_slots"]), _quota(item["weight"], item["max_weight"]))
            for item in document["users"]]


# --- ds01-events ---

def parse_since(text: str, now: float | None = None) -> float:
    """Epoch seconds from a duration ago ('2h', '30m', '7d') or an ISO date/time (UTC if naive)."""
    now = time.time() if now is None else now
    if re.match(r"^\s*\d+(\.\d+)?\s*[smhdw]?\s*$", text or ""):
        return now - (parse_duration(text) or 0)
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise UsageError("--since: expected a duration like 2h or 7d, or a date like 2026-11-01, "
                         f"got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def event_time(entry: events.Event) -> float | None:
    return activity.parse_docker_time(entry.time)


def filter_events(entries: Iterable[events.Event], user: str | None = None, since: float | None = None,
                  event: str | None = None) -> list[events.Event]:
    """Entries matching every filter given; `event` matches a name or its prefix (e.g. 'container.')."""
    chosen = []
    for entry in entries:
        if user is not None and entry.user != user:
            continue
        if event is not None and not entry.event.startswith(event):
            continue
        if since is not None:
            moment = event_time(entry)
            if moment is None or moment < since:
                continue
        chosen.append(entry)
    return chosen


def event_rows(entries: Iterable[events.Event]) -> list[Row]:
    rows = []
    for entry in entries:
        text = " ".join(f"{key}={_short(value)}" for key, value in sorted(entry.details.items())
                        if value not in (None, ""))
        rows.append((entry.time, entry.user, entry.event, text))
    return rows


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "-"
    return str(value)


# --- add-user-to-docker ---

def in_docker_group(user: User, group_name: str = DOCKER_GROUP) -> bool:
    try:
        group = grp.getgrnam(group_name)
    except KeyError:
        return False
    return user.login in group.gr_mem or user.gid == group.gr_gid


def add_user_to_docker(name: str, *, actor: str | None, log_dir: StrPath | None,
                       run: Callable[[list[str]], Any] | None = None,
                       group_name: str = DOCKER_GROUP) -> dict[str, Any]:
    """usermod -aG docker USER; returns {"user", "added"} ("added" False if already a member)."""
    user = identity.lookup_user(name)
    if in_docker_group(user, group_name):
        return {"user": user.login, "added": False}
    from . import process
    (run or process.run)(["usermod", "-aG", group_name, user.login])
    events.record("user.added_to_docker", user.name, log_dir=log_dir, actor=actor, group=group_name)
    return {"user": user.login, "added": True}
