"""Admin views: the server at a glance (ds01-status), the event log (ds01-events), docker access.

Read-only except `add_user_to_docker`. Each view returns plain data (JSON-ready) plus
helpers that turn it into table rows, so the command scripts stay thin.
"""

import datetime
import grp
import logging
import re
import time

from . import activity, events, identity, lifecycle
from .errors import Ds01Error, UsageError
from .units import format_duration, parse_duration

log = logging.getLogger("ds01")
DOCKER_GROUP = "docker"


# --- ds01-status ---

def _slots_from_allocator(docker, config, state_dir):
    """allocator.status() when it can answer, else None (the view then uses labels alone)."""
    try:
        from . import allocator
        return allocator.status(docker, config, state_dir=state_dir)
    except (ImportError, AttributeError) as error:
        log.debug("allocator status unavailable: %s", error)
        return None


def status(docker, config, *, state_dir, allocator_status=None, lookup=identity.lookup_user):
    """{"slots", "queue", "containers", "users"}: GPUs and holders, the queue, every DS01
    container with its idle time, and each user's usage against their quota."""
    summaries = activity.list_managed(docker)
    gpu = allocator_status if allocator_status is not None else _slots_from_allocator(docker, config, state_dir)
    gpu = gpu or {"slots": [], "queue": []}
    weights = {slot.get("id"): slot.get("weight") for slot in gpu.get("slots") or []}
    idle_state = (lifecycle.read_state(state_dir).get("containers") or {})
    containers = []
    users = {}
    for summary in summaries:
        labels = summary.get("Labels") or {}
        if labels.get("ds01.managed") != "true":
            continue
        owner = labels.get("ds01.user", "?")
        slots = [slot for slot in (labels.get("ds01.gpu.slots") or "").split(",") if slot]
        login = _login_of(owner, lookup)
        limits = config.limits_for(login)
        entry = idle_state.get(summary.get("Id")) or {}
        running = summary.get("State") in ("running", "paused")
        containers.append({
            "name": labels.get("ds01.project") or (summary.get("Names") or ["/?"])[0].lstrip("/"),
            "user": owner, "status": summary.get("State"), "gpus": slots,
            # As of the last cleanup pass, which measured it (`last_checked`).
            "idle_seconds": entry.get("idle_seconds") if running else None,
            "idle_timeout": limits.get("idle_timeout"),
            "cpu_percent": entry.get("cpu_percent") if running else None,
            "last_checked": activity.iso(entry.get("measured_at")) if running else None,
        })
        usage = users.setdefault(owner, {
            "user": owner, "group": limits.get("group"), "containers": 0,
            "max_containers": limits.get("max_containers_per_user"), "gpu_slots": 0,
            "max_gpu_slots": limits.get("max_mig_instances"), "gpu_equivalents": 0.0,
            "max_gpu_equivalents": limits.get("max_gpu_equivalents")})
        usage["containers"] += 1
        usage["gpu_slots"] += len(slots)
        usage["gpu_equivalents"] = round(usage["gpu_equivalents"] + sum(weights.get(slot) or 0 for slot in slots), 3)
    containers.sort(key=lambda item: (item["user"], item["name"]))
    return {"slots": gpu.get("slots") or [], "queue": gpu.get("queue") or [], "gpus": gpu.get("gpus") or [],
            "gpu_note": gpu.get("reason"), "containers": containers,
            "users": [users[name] for name in sorted(users)]}


def _login_of(sanitised, lookup):
    try:
        return lookup(sanitised).login
    except Ds01Error:
        return sanitised


def _quota(used, maximum):
    return f"{used}/{'∞' if maximum is None else maximum}"


def slot_rows(document):
    return [(slot.get("id"), slot.get("profile") or "full", slot.get("weight"), slot.get("state") or
             ("assigned" if slot.get("user") else "free"), slot.get("user") or "-", slot.get("container") or "-")
            for slot in document["slots"]]


def queue_rows(document):
    rows = []
    for position, entry in enumerate(document["queue"], 1):
        request = entry.get("request")
        count = entry.get("count", request.get("count") if isinstance(request, dict) else request)
        rows.append((position, entry.get("user"), entry.get("container"), entry.get("priority"), count,
                     entry.get("arrival") or entry.get("since")))
    return rows


def container_rows(document):
    rows = []
    for item in document["containers"]:
        idle = format_duration(item["idle_seconds"]) if item["idle_seconds"] is not None else "-"
        rows.append((item["user"], item["name"], item["status"], ",".join(item["gpus"]) or "-",
                     "-" if item["cpu_percent"] is None else f"{item['cpu_percent']:.1f}",
                     f"{idle} / {format_duration(item['idle_timeout'])}"))
    return rows


def user_rows(document):
    return [(item["user"], item["group"], _quota(item["containers"], item["max_containers"]),
             _quota(item["gpu_slots"], item["max_gpu_slots"]),
             _quota(item["gpu_equivalents"], item["max_gpu_equivalents"])) for item in document["users"]]


# --- ds01-events ---

def parse_since(text, now=None):
    """Epoch seconds from a duration ago ('2h', '30m', '7d') or an ISO date/time (UTC if naive)."""
    now = time.time() if now is None else now
    if re.match(r"^\s*\d+(\.\d+)?\s*[smhdw]?\s*$", text or ""):
        return now - parse_duration(text)
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise UsageError("--since: expected a duration like 2h or 7d, or a date like 2026-11-01, "
                         f"got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def event_time(entry):
    return activity.parse_docker_time(entry.get("time") or "")


def filter_events(entries, user=None, since=None, event=None):
    """Entries matching every filter given; `event` matches a name or its prefix (e.g. 'container.')."""
    chosen = []
    for entry in entries:
        if user is not None and entry.get("user") != user:
            continue
        if event is not None and not str(entry.get("event", "")).startswith(event):
            continue
        if since is not None:
            moment = event_time(entry)
            if moment is None or moment < since:
                continue
        chosen.append(entry)
    return chosen


def read_events(log_dir, user=None, since=None, event=None):
    return filter_events(events.read(log_dir), user, since, event)


def event_rows(entries):
    rows = []
    for entry in entries:
        details = entry.get("details") or {}
        text = " ".join(f"{key}={_short(value)}" for key, value in sorted(details.items()) if value not in (None, ""))
        rows.append((entry.get("time"), entry.get("user"), entry.get("event"), text))
    return rows


def _short(value):
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "-"
    return str(value)


# --- add-user-to-docker ---

def in_docker_group(user, group_name=DOCKER_GROUP):
    try:
        group = grp.getgrnam(group_name)
    except KeyError:
        return False
    return user.login in group.gr_mem or user.gid == group.gr_gid


def add_user_to_docker(name, *, actor, log_dir=None, run=None, group_name=DOCKER_GROUP):
    """usermod -aG docker USER; returns {"user", "added"} ("added" False if already a member)."""
    user = identity.lookup_user(name)
    if in_docker_group(user, group_name):
        return {"user": user.login, "added": False}
    from . import process
    (run or process.run)(["usermod", "-aG", group_name, user.login])
    events.record("user.added_to_docker", user.name, log_dir=log_dir, actor=actor, group=group_name)
    return {"user": user.login, "added": True}
