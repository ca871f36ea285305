"""dockerapi's fast path: the Engine API calls a deploy, a start or a listing makes, spoken as
plain HTTP over the local unix socket (answers as the engine's JSON; an image lookup's shaped
as the SDK's Image).

Measured (issue 10): importing the SDK (requests, urllib3) costs a deploy about as much as
everything but the engine's own work together. Only dockerapi (its LazyClient) uses this module;
it falls back to the real SDK for anything not here (an unknown create option, a method these
objects lack, an engine not on a unix socket), so the SDK stays the reference: `create_body`
writes the JSON the SDK would send for DS01's fixed option set, and tests/contract checks both
give the same container.
"""

from __future__ import annotations

import json
import socket
import urllib.parse

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

DEFAULT_TIMEOUT = 120

# docker.errors.create_api_error_from_http_exception's signs of a missing image in a 404.
_IMAGE_MISSING = ("No such image", "not found: does not exist or no pull access", "repository does not exist")


class EngineError(Exception):
    """The engine answered with an HTTP error (`status_code`), or could not be reached (None:
    `cause` is the OSError). dockerapi.translate() maps it as it maps the SDK's errors."""

    def __init__(self, status_code: int | None, explanation: str, cause: OSError | None = None) -> None:
        super().__init__(explanation)
        self.status_code = status_code
        self.explanation = explanation
        self.cause = cause

    @property
    def image_missing(self) -> bool:
        return self.status_code == 404 and any(sign in self.explanation for sign in _IMAGE_MISSING)


def request(socket_path: str, method: str, path: str, params: Mapping[str, Any] | None = None,
            body: Any = None, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """One call; the decoded JSON answer (None when empty), or EngineError."""
    query = urllib.parse.urlencode({key: json.dumps(value) if isinstance(value, dict) else value
                                    for key, value in (params or {}).items()})
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path}{'?' + query if query else ''} HTTP/1.0\r\nHost: docker\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    chunks = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(socket_path)
            # HTTP/1.0: the engine answers unchunked and closes the connection when done.
            connection.sendall(head.encode() + b"\r\n" + payload)
            while chunk := connection.recv(1 << 16):
                chunks.append(chunk)
    except OSError as error:
        raise EngineError(None, str(error), error) from None
    header, _, answer = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    if status < 200 or status >= 400:
        try:
            message = json.loads(answer).get("message")
        except (ValueError, AttributeError):
            message = answer.decode(errors="replace").strip()
        raise EngineError(status, message or b" ".join(status_line[1:]).decode(errors="replace") or "no answer")
    return json.loads(answer) if answer.strip() else None


def quoted(key: str) -> str:
    return urllib.parse.quote(key, safe="/:")  # as the SDK builds its URLs


# --- containers.create: DS01's options as the Engine API's JSON --------------------------

def _bytes(value: Any) -> int | None:
    """An int byte count as is; anything else (a "256m" string) is left to the SDK's parser."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _binds(volumes: Any) -> list[str] | None:
    if not isinstance(volumes, dict):
        return None  # a list of "src:dst" strings: the SDK's form
    binds = []
    for source, target in volumes.items():
        if not (isinstance(target, dict) and set(target) <= {"bind", "mode"} and "bind" in target):
            return None
        binds.append(f"{source}:{target['bind']}:{target.get('mode') or 'rw'}")
    return binds


def _port_bindings(ports: Any) -> dict[str, list[dict[str, str]]] | None:
    if not isinstance(ports, dict):
        return None
    bindings = {}
    for container_port, host in ports.items():
        if not (isinstance(host, tuple) and len(host) == 2):
            return None
        key = container_port if "/" in str(container_port) else f"{container_port}/tcp"
        bindings[key] = [{"HostIp": str(host[0]), "HostPort": str(host[1])}]
    return bindings


def _host_config(options: Mapping[str, Any]) -> dict[str, Any] | None:
    host: dict[str, Any] = {"NetworkMode": options.get("network_mode") or "default"}
    for option, key in (("mem_limit", "Memory"), ("memswap_limit", "MemorySwap"), ("shm_size", "ShmSize")):
        if options.get(option) is not None:
            size = _bytes(options[option])
            if size is None:
                return None
            host[key] = size
    for option, key in (("nano_cpus", "NanoCpus"), ("pids_limit", "PidsLimit"), ("init", "Init"),
                        ("security_opt", "SecurityOpt"), ("cgroup_parent", "CgroupParent")):
        if options.get(option) is not None:
            host[key] = options[option]
    if options.get("privileged"):
        host["Privileged"] = True
    if options.get("volumes"):
        binds = _binds(options["volumes"])
        if binds is None:
            return None
        host["Binds"] = binds
    if options.get("ports"):
        bindings = _port_bindings(options["ports"])
        if bindings is None:
            return None
        host["PortBindings"] = bindings
    requests = options.get("device_requests")
    if requests is not None:
        # docker.types.DeviceRequest is a dict already in the API's shape; anything else: the SDK.
        if not isinstance(requests, list) or not all(isinstance(item, dict) and "Driver" in item for item in requests):
            return None
        host["DeviceRequests"] = [dict(item) for item in requests]
    return host


KNOWN_OPTIONS = frozenset((
    "image", "name", "command", "entrypoint", "user", "working_dir", "environment", "labels", "volumes",
    "hostname", "init", "detach", "tty", "stdin_open", "privileged", "network_mode", "security_opt",
    "mem_limit", "memswap_limit", "nano_cpus", "shm_size", "pids_limit", "ports", "device_requests",
    "cgroup_parent"))


def create_body(options: Mapping[str, Any]) -> dict[str, Any] | None:
    """The body of POST /containers/create for `containers.create(**options)`, as the SDK writes
    it; None when an option (or a form of one) is not DS01's, so the caller uses the SDK."""
    if not set(options) <= KNOWN_OPTIONS or not isinstance(options.get("image"), str):
        return None
    for key in ("command", "entrypoint"):
        if options.get(key) is not None and not isinstance(options[key], list):
            return None  # the SDK splits strings shell-style
    environment = options.get("environment")
    labels = options.get("labels")
    if not isinstance(environment, (dict, type(None))) or not isinstance(labels, (dict, type(None))):
        return None
    host = _host_config(options)
    if host is None:
        return None
    detach = bool(options.get("detach"))
    stdin_open = bool(options.get("stdin_open"))
    user = options.get("user")
    body: dict[str, Any] = {
        "Hostname": options.get("hostname"),
        "User": str(user) if user is not None else None,
        "Tty": bool(options.get("tty")),
        "OpenStdin": stdin_open,
        "StdinOnce": not detach and stdin_open,
        "AttachStdin": not detach and stdin_open,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
        "Env": [f"{key}={value}" for key, value in environment.items()] if environment is not None else None,
        "Cmd": options.get("command"),
        "Image": options["image"],
        "NetworkDisabled": False,
        "Entrypoint": options.get("entrypoint"),
        "WorkingDir": options.get("working_dir"),
        "HostConfig": host,
        "Labels": labels,
    }
    if options.get("volumes"):
        body["Volumes"] = {target["bind"]: {} for target in options["volumes"].values()}
    if host.get("PortBindings"):
        body["ExposedPorts"] = {key: {} for key in sorted(host["PortBindings"])}
    return {key: value for key, value in body.items() if value is not None}


# --- an SDK-shaped image ------------------------------------------------------------------

class Image:
    """An image as the SDK's Image, as far as dockerapi's image lookups read one: id, short_id,
    tags, labels, attrs (they turn it into a records.ImageDetails at once)."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        self.attrs = attrs

    @property
    def id(self) -> str:
        identifier: str = self.attrs.get("Id", "")
        return identifier

    @property
    def short_id(self) -> str:
        return self.id[:19] if self.id.startswith("sha256:") else self.id[:12]

    @property
    def labels(self) -> dict[str, str]:
        found: dict[str, str] = (self.attrs.get("Config") or {}).get("Labels") or {}
        return found

    @property
    def tags(self) -> list[str]:
        return [tag for tag in self.attrs.get("RepoTags") or [] if tag != "<none>:<none>"]
