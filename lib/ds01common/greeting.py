"""The login greeting (/etc/profile.d/ds01.sh runs it): your limits, your containers, warnings.

It must cost a login under 100 ms, so it imports only the standard library's small modules:
the limits come from ~/.ds01-limits (every DS01 command keeps it true), the containers from one
engine query over the Docker socket (no Docker SDK), idle times from the lifecycle pass's state
file when the user may read it. Anything missing is skipped in silence: a greeting never fails
a login. Run as `python -I -S -c` by the profile script, with the library dir as argv[1].
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time

TYPE_CHECKING = False  # typing's own flag would import typing, which a login would pay for
if TYPE_CHECKING:
    from collections.abc import Mapping

LIMITS_FILE = ".ds01-limits"
KEEP_ALIVE_FILE = ".keep-alive"
ENGINE_TIMEOUT_SECONDS = 0.25
# When to warn, as the lifecycle pass does by default (idle_warn_fraction, first runtime warning).
IDLE_WARN_FRACTION = 0.8
RUNTIME_WARN_FRACTION = 0.75
SHOWN_LIMITS = ("GPU slots", "Max Containers", "Idle timeout", "Max runtime")
_DURATION_PART_RE = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def parse_limits(text: str) -> dict[str, str]:
    """{label: value} of a ~/.ds01-limits text (limits.as_text writes it)."""
    values = {}
    for line in text.splitlines():
        label, separator, value = line.partition(": ")
        if separator and not line.startswith("#"):
            values[label] = value.strip()
    return values


def seconds(text: str | None) -> int | None:
    """Seconds of a duration as ~/.ds01-limits writes it ("48h", "1h30m"); None for never/unlimited."""
    parts = _DURATION_PART_RE.findall(text or "")
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


def short_duration(value: float) -> str:
    value = int(max(0, value))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size:
            return f"{value // size}{unit}"
    return f"{value}s"


def _quote(text: str) -> str:
    return "".join(char if char in _UNRESERVED else "".join(f"%{byte:02X}" for byte in char.encode())
                   for char in text)


def engine_socket(environment: Mapping[str, str]) -> str | None:
    host = environment.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return host[len("unix://"):] if host.startswith("unix://") else None


def query_containers(socket_path: str, uid: int, timeout: float = ENGINE_TIMEOUT_SECONDS) -> list[dict[str, object]]:
    """The user's DS01 containers (one GET /containers/json over the engine's unix socket)."""
    filters = json.dumps({"label": ["ds01.managed=true", f"ds01.uid={uid}"]}, separators=(",", ":"))
    request = (f"GET /containers/json?all=1&filters={_quote(filters)} HTTP/1.0\r\n"
               "Host: docker\r\n\r\n").encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(socket_path)
        connection.sendall(request)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        return []
    listed = json.loads(body)
    return listed if isinstance(listed, list) else []


def lifecycle_entries(state_dir: str) -> dict[str, dict[str, object]]:
    try:
        with open(os.path.join(state_dir, "lifecycle.json")) as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return {}
    entries = document.get("containers") if isinstance(document, dict) else None
    return entries if isinstance(entries, dict) else {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def warnings_for(container: dict[str, object], entry: dict[str, object], limits: dict[str, str],
                 now: float) -> list[str]:
    """Idle and runtime warnings for one running container, as the next cleanup pass would see it."""
    labels = container.get("Labels") if isinstance(container.get("Labels"), dict) else {}
    name = str(labels.get("ds01.project") or "") if isinstance(labels, dict) else ""
    names = container.get("Names")
    if isinstance(names, list) and names:
        name = str(names[0]).lstrip("/").rpartition("._.")[0] or name
    found = []
    idle_limit = seconds(limits.get("Idle timeout"))
    idle = _number(entry.get("idle_seconds"))
    measured = _number(entry.get("measured_at"))
    if idle_limit and idle is not None and measured is not None:
        idle_now = idle + max(0.0, now - measured) if idle > 0 else idle
        if idle_now >= IDLE_WARN_FRACTION * idle_limit:
            workspace = labels.get("ds01.workspace") if isinstance(labels, dict) else None
            keep_alive = os.path.join(str(workspace), KEEP_ALIVE_FILE) if workspace else "its .keep-alive"
            found.append(f"{name} has been idle {short_duration(idle_now)}; it is retired after "
                         f"{limits['Idle timeout']} idle (use it, or `touch {keep_alive}`)")
    runtime_limit = seconds(limits.get("Max runtime"))
    started = _number(entry.get("started")) or _number(container.get("Created"))
    if runtime_limit and started is not None and now - started >= RUNTIME_WARN_FRACTION * runtime_limit:
        found.append(f"{name} has run {short_duration(now - started)} of its {limits['Max runtime']} limit; "
                     f"it is retired in {short_duration(runtime_limit - (now - started))}")
    return found


def render(login: str, limits: dict[str, str], containers: list[dict[str, object]] | None,
           entries: dict[str, dict[str, object]], now: float) -> str:
    shown = " · ".join(f"{label} {limits[label]}" for label in SHOWN_LIMITS if label in limits)
    lines = [f"DS01 · {login} (group {limits.get('Group', '?')}): {shown}   (all limits: ~/{LIMITS_FILE})"]
    if containers is None:
        lines.append("  your containers: `container-list`")
        return "\n".join(lines) + "\n"
    if not containers:
        lines.append("  no containers: `project-launch PROJECT` starts one")
        return "\n".join(lines) + "\n"
    limit = limits.get("Max Containers")
    lines.append(f"  your containers ({len(containers)}{f' of {limit}' if limit and limit != 'unlimited' else ''}):")
    warnings = []
    for container in sorted(containers, key=lambda item: str((item.get("Names") or ["/"])[0])):  # type: ignore[index]
        names = container.get("Names")
        docker_name = str(names[0]).lstrip("/") if isinstance(names, list) and names else "?"
        name = docker_name.rpartition("._.")[0] or docker_name
        labels = container.get("Labels") if isinstance(container.get("Labels"), dict) else {}
        slots = str(labels.get("ds01.gpu.slots") or "") if isinstance(labels, dict) else ""
        gpu = f"GPU {slots}" if slots else "CPU only"
        state = str(container.get("State") or "?")
        lines.append(f"    {name:<24} {state:<9} {gpu:<12} {container.get('Status') or ''}")
        if container.get("State") == "running":
            warnings += warnings_for(container, entries.get(str(container.get("Id"))) or {}, limits, now)
    lines += [f"  ! {warning}" for warning in warnings]
    return "\n".join(lines) + "\n"


def greeting_for(uid: int, environment: Mapping[str, str], now: float) -> str:
    """The greeting for user `uid` at `now`, with this login's `environment` (HOME, DOCKER_HOST);
    "" when there is nothing to say (no ~/.ds01-limits: not a DS01 user)."""
    import pwd

    def account_field(name: str) -> str:
        try:
            return str(getattr(pwd.getpwuid(uid), name))
        except KeyError:
            return ""

    # A user database lookup only when needed: HOME is nearly always set at login.
    home = environment.get("HOME") or account_field("pw_dir")
    if not home:
        return ""  # not a relative ~/.ds01-limits in whatever directory this runs in
    try:
        with open(os.path.join(home, LIMITS_FILE)) as handle:
            limits = parse_limits(handle.read())
    except OSError:
        return ""
    if not limits:
        return ""
    login = account_field("pw_name") or str(uid)
    containers: list[dict[str, object]] | None
    path = engine_socket(environment)
    try:
        containers = query_containers(path, uid) if path else None
    except (OSError, ValueError):
        containers = None  # no access to the engine (locked mode) or it is down
    entries: dict[str, dict[str, object]] = {}
    if containers:
        from . import paths  # only now: it costs a pathlib import

        entries = lifecycle_entries(str(paths.state_dir()))
    return render(login, limits, containers, entries, now)


def main(argv: list[str] | None = None) -> int:
    """Print the greeting for the real uid; silent (exit 0) when there is nothing to say. The
    profile script's entry point: it reads the environment and the clock, and nothing below does."""
    sys.stdout.write(greeting_for(os.getuid(), os.environ, time.time()))
    return 0
