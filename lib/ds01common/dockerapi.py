"""The one module that talks to the Docker engine (docker SDK, imported lazily).

`connect()` returns a pinged client or raises a one-line error; `translate()` and the
`errors()` context manager turn the SDK's exceptions into DS01's typed errors.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping

from .errors import DockerUnavailable, Ds01Error, NotFound, PermissionDenied, ResourcesUnavailable

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    import docker

    from .records import EngineContainer, ImageDetails

DEFAULT_TIMEOUT = 120


def _engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _is_socket_permission_problem(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, PermissionError) or "Permission denied" in text or "EACCES" in text


def connect(timeout: int = DEFAULT_TIMEOUT) -> docker.DockerClient:
    """A docker client that has answered a ping."""
    try:
        import docker
    except ImportError:
        raise Ds01Error("the docker Python package is missing; run `make install`") from None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except Exception as error:  # the SDK raises DockerException, requests and OS errors alike
        raise _connection_error(error) from None


class LazyClient:
    """A docker client made on first use, so a command pays for the SDK only if it needs it.

    Measured: importing the SDK (requests, urllib3) costs more than a status command's engine
    calls together. A sparse listing, which is all that `gpu-status`, `container-list` and the
    ledger's reconcile need, goes straight over the unix socket instead; anything else connects
    the real client (with its ping and one-line errors) and is passed through to it."""

    def __init__(self, timeout: int = DEFAULT_TIMEOUT) -> None:
        self._timeout = timeout
        self._client: docker.DockerClient | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None

    def real(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect(self._timeout)
        return self._client

    @property
    def containers(self) -> _LazyContainers:
        return _LazyContainers(self)

    @property
    def images(self) -> _LazyImages:
        return _LazyImages(self)

    @property
    def api(self) -> Any:
        return _LazyApi(self) if self.raw_socket() else self.real().api

    def raw_socket(self) -> str | None:
        """The unix socket to speak HTTP on directly, while no SDK client was needed (None: use it)."""
        address = _engine_address()
        return address[len("unix://"):] if self._client is None and address.startswith("unix://") else None

    def info(self) -> dict[str, Any]:
        socket_path = self.raw_socket()
        if socket_path:
            from . import engine_http

            found: dict[str, Any] = engine_http.request(socket_path, "GET", "/info")
            return found
        info: dict[str, Any] = self.real().info()
        return info

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class _LazyContainers:
    def __init__(self, owner: LazyClient) -> None:
        self._owner = owner

    def list(self, all: bool = False, filters: Mapping[str, Any] | None = None, sparse: bool = False,  # noqa: A002
             **options: Any) -> list[Any]:
        if sparse and not options and not self._owner.connected and _engine_address().startswith("unix://"):
            normal = {key: [value] if isinstance(value, str) else list(value)
                      for key, value in (filters or {}).items()}
            found = _unix_get_json(_engine_address()[len("unix://"):], "/containers/json",
                                   {"all": "1" if all else "0", "filters": normal})
            return [ListedContainer(item) for item in found]
        return self._owner.real().containers.list(all=all, filters=dict(filters) if filters else None,
                                                  sparse=sparse, **options)

    def get(self, key: str) -> Any:
        socket_path = self._owner.raw_socket()
        if not socket_path:
            return self._owner.real().containers.get(key)
        from . import engine_http

        attrs = engine_http.request(socket_path, "GET", f"/containers/{engine_http.quoted(key)}/json")
        return engine_http.Container(socket_path, attrs, self._sdk_container)

    def create(self, image: Any = None, command: Any = None, **options: Any) -> Any:
        """`containers.create` as the SDK's; DS01's own option set goes over the socket directly."""
        options = dict(options, image=image, command=command)
        socket_path = self._owner.raw_socket()
        from . import engine_http

        body = engine_http.create_body(options) if socket_path else None
        if socket_path is None or body is None:
            client = self._owner.real()
            if options.get("device_requests"):
                options["device_requests"] = _sdk_device_requests(list(options["device_requests"]))
            return client.containers.create(**options)
        params = {"name": options["name"]} if options.get("name") else None
        made = engine_http.request(socket_path, "POST", "/containers/create", params, body)
        return self.get(made["Id"])

    def _sdk_container(self, container_id: str) -> Any:
        return self._owner.real().containers.get(container_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.real().containers, name)


class _LazyImages:
    def __init__(self, owner: LazyClient) -> None:
        self._owner = owner

    def get(self, name: str) -> Any:
        socket_path = self._owner.raw_socket()
        if not socket_path:
            return self._owner.real().images.get(name)
        from . import engine_http

        attrs = engine_http.request(socket_path, "GET", f"/images/{engine_http.quoted(name)}/json")
        return engine_http.Image(attrs, lambda image_id: self._owner.real().images.get(image_id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.real().images, name)


class _LazyApi:
    """The low-level API's container list (ports.reserve's); anything else is the SDK's."""

    def __init__(self, owner: LazyClient) -> None:
        self._owner = owner

    def containers(self, all: bool = False, filters: Mapping[str, Any] | None = None,  # noqa: A002
                   **options: Any) -> Any:
        socket_path = self._owner.raw_socket()
        if options or not socket_path:
            return self._owner.real().api.containers(all=all, filters=filters, **options)
        from . import engine_http

        params: dict[str, Any] = {"all": "1" if all else "0"}
        if filters:
            params["filters"] = {key: [value] if isinstance(value, str) else list(value)
                                 for key, value in filters.items()}
        return engine_http.request(socket_path, "GET", "/containers/json", params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.real().api, name)


class ListedContainer:
    """One entry of the engine's container list, shaped as the SDK's sparse Container: `id` and
    the list API's `attrs` (Names, Labels, State, Created, ...)."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        self.attrs = attrs
        self.id: str = attrs.get("Id", "")


def _connection_error(error: BaseException) -> Ds01Error:
    address = _engine_address()
    if _is_socket_permission_problem(error):
        return PermissionDenied(
            f"permission denied on the Docker socket {address}: ask an admin to run "
            "`add-user-to-docker $USER`, then log out and in again")
    return DockerUnavailable(f"cannot reach the Docker engine at {address}: is dockerd running?")


def translate(error: BaseException, what: str | None = None) -> Ds01Error:
    """A DS01 error for a docker SDK exception (`what` names the object, e.g. 'container x')."""
    if isinstance(error, Ds01Error):
        return error
    engine_error = _engine_error_type()
    if engine_error is not None and isinstance(error, engine_error):  # the socket fast path's
        if error.status_code is None:
            if isinstance(error.cause, TimeoutError):
                return Ds01Error("the Docker engine did not answer in time")
            return _connection_error(error.cause or error)
        if error.status_code == 404:
            return NotFound(f"image not found: {what or error.explanation}") if error.image_missing \
                else NotFound(f"{what or 'object'} not found")
        return _api_error(error.status_code, _explanation(error), what)
    import docker.errors as docker_errors
    import requests.exceptions

    explanation = _explanation(error)
    if isinstance(error, docker_errors.ImageNotFound):
        return NotFound(f"image not found: {what or explanation}")
    if isinstance(error, docker_errors.NotFound):
        return NotFound(f"{what or 'object'} not found")
    if isinstance(error, (requests.exceptions.ConnectionError, ConnectionError)) or isinstance(
            error, docker_errors.DockerException) and "Connection" in explanation:
        return _connection_error(error)
    if isinstance(error, docker_errors.APIError):
        return _api_error(getattr(error, "status_code", None), explanation, what)
    if isinstance(error, docker_errors.BuildError):
        return Ds01Error(f"image build failed: {explanation}")
    if isinstance(error, requests.exceptions.ReadTimeout):
        return Ds01Error("the Docker engine did not answer in time")
    return Ds01Error(f"docker: {explanation}")


def _api_error(status: int | None, explanation: str, what: str | None) -> Ds01Error:
    """The engine refused a call (an HTTP error other than 404), through the SDK or the socket."""
    lowered = explanation.lower()
    if status == 409 and "already in use" in lowered:
        return Ds01Error(f"{what or 'the name'} already exists")
    # runc says "container init was OOM-killed (memory limit too low?)" when the limit is
    # below what the container needs to start; the kernel says "cannot allocate memory".
    if any(sign in lowered for sign in ("out of memory", "cannot allocate memory", "oom-kill")) \
            or "oom" in lowered.split():
        return ResourcesUnavailable(f"out of memory: {explanation}")
    return Ds01Error(f"docker: {explanation}")


def _engine_error_type() -> type[Any] | None:
    """engine_http.EngineError once the fast path was used (it alone raises it), else None."""
    import sys

    module = sys.modules.get(f"{__package__}.engine_http")
    return getattr(module, "EngineError", None)


def _explanation(error: BaseException) -> str:
    text = getattr(error, "explanation", None) or getattr(error, "msg", None) or str(error)
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return " ".join(str(text).split())


@contextlib.contextmanager
def errors(what: str | None = None) -> Iterator[None]:
    """Run Docker calls; any SDK exception becomes a typed DS01 error."""
    try:
        yield
    except Ds01Error:
        raise
    except Exception as error:
        module = type(error).__module__
        if module.startswith(("docker", "requests", "urllib3")) or isinstance(error, ConnectionError) \
                or module == f"{__package__}.engine_http":
            raise translate(error, what) from None
        raise


def get_or_none(collection: Any, key: str, what: str | None = None) -> Any:
    """`collection.get(key)` for `client.containers` or `client.images`; None when there is no such object."""
    try:
        with errors(what):
            return collection.get(key)
    except NotFound:  # the engine's 404, translated (the SDK's NotFound and ImageNotFound alike)
        return None


def list_sparse(client: Any, filters: Mapping[str, Any]) -> list[EngineContainer]:
    """Containers matching `filters` in every state, from one list call (no per-container
    inspect: fast, and a container removed meanwhile cannot make it fail), as typed records."""
    from .records import EngineContainer

    with errors("containers"):
        found = client.containers.list(all=True, filters=dict(filters), sparse=True)
    return [EngineContainer.from_list_entry(item.attrs or {"Id": item.id}) for item in found]


def remove_container(client: Any, container_id: str, *, force: bool = False, what: str | None = None) -> None:
    """Remove one container by id (`force`: even while it runs); `what` names it in errors."""
    with errors(what or f"container {container_id[:12]}"):
        client.containers.get(container_id).remove(force=force)


def stop_container(client: Any, container_id: str, *, timeout: int = 10, what: str | None = None) -> None:
    """Stop one container by id, killing it after `timeout` seconds; `what` names it in errors."""
    with errors(what or f"container {container_id[:12]}"):
        client.containers.get(container_id).stop(timeout=timeout)


def gpu_device_requests(uuids: Iterable[str]) -> list[dict[str, Any]]:
    """Device requests naming GPUs by UUID (never a count), for the NVIDIA runtime.

    The SDK's DeviceRequest once the SDK is loaded (its create takes nothing else); before, the
    same keys as a plain dict, which the socket fast path sends as is: a GPU deploy need not
    import the SDK for a value type (LazyClient turns them into DeviceRequests if it falls back)."""
    import sys

    request = {"Driver": "nvidia", "Count": 0, "DeviceIDs": list(uuids), "Capabilities": [["gpu"]], "Options": {}}
    if "docker" not in sys.modules:
        return [request]
    return _sdk_device_requests([request])


def _sdk_device_requests(requests: list[Any]) -> list[dict[str, Any]]:
    """Plain API-shaped device requests as the SDK's DeviceRequest objects (those already are stay)."""
    import docker.types  # a value type only; no engine call happens here

    return [item if isinstance(item, docker.types.DeviceRequest) else docker.types.DeviceRequest(
        driver=item.get("Driver"), count=item.get("Count"), device_ids=item.get("DeviceIDs"),
        capabilities=item.get("Capabilities"), options=item.get("Options")) for item in requests]


def list_containers(filters: Mapping[str, str | Iterable[str]], client: Any = None) -> list[dict[str, Any]]:
    """Docker's container list (every state) as dicts, in one engine call.

    With no client and a local unix socket it speaks HTTP itself: importing the docker SDK
    takes several times longer than the call, and listing is what users run most."""
    normal = {key: [value] if isinstance(value, str) else list(value) for key, value in filters.items()}
    if client is None and _engine_address().startswith("unix://"):
        found: list[dict[str, Any]] = _unix_get_json(_engine_address()[len("unix://"):], "/containers/json",
                                                     {"all": "1", "filters": normal})
        return found
    client = client or connect()
    with errors("containers"):
        listed: list[dict[str, Any]] = client.api.containers(all=True, filters=normal)
        return listed


def _unix_get_json(socket_path: str, path: str, params: dict[str, Any]) -> Any:
    import json
    import socket
    import urllib.parse

    query = urllib.parse.urlencode({key: json.dumps(value) if isinstance(value, dict) else value
                                    for key, value in params.items()})
    # HTTP/1.0: the engine answers unchunked and closes the connection when done.
    request = f"GET {path}?{query} HTTP/1.0\r\nHost: docker\r\n\r\n".encode()
    chunks = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(DEFAULT_TIMEOUT)
            connection.connect(socket_path)
            connection.sendall(request)
            while chunk := connection.recv(1 << 16):
                chunks.append(chunk)
    except OSError as error:
        raise _connection_error(error) from None
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        try:
            message = json.loads(body).get("message")
        except ValueError:
            message = None
        raise Ds01Error(f"docker: {message or b' '.join(status[1:]).decode(errors='replace') or 'no answer'}")
    return json.loads(body)


# --- images, stats, nodes (images.py, activity.py, container_stats.py, projects.py, backend/node.py) ---

def _image_details(image: Any) -> ImageDetails:
    from .records import ImageDetails

    attrs: dict[str, Any] = getattr(image, "attrs", None) or {}
    size = attrs.get("Size")
    created = attrs.get("Created")
    # getattr: the SDK's Image, engine_http's and the tests' stand-ins differ in what they carry
    tags = getattr(image, "tags", None) or attrs.get("RepoTags") or []
    labels = getattr(image, "labels", None) or (attrs.get("Config") or {}).get("Labels") or {}
    return ImageDetails(id=str(getattr(image, "id", None) or attrs.get("Id") or ""),
                        tags=tuple(tag for tag in tags if tag != "<none>:<none>"),
                        labels=dict(labels), size=size if isinstance(size, int) else None,
                        created=str(created) if created else None)


def inspect_image(client: Any, reference: str, what: str | None = None) -> ImageDetails | None:
    """The image `reference` (name:tag or id) as a typed record; None when there is no such image."""
    image = get_or_none(client.images, reference, what or f"image {reference}")
    return None if image is None else _image_details(image)


def get_image(client: Any, reference: str, what: str | None = None) -> ImageDetails:
    """The image `reference` as a typed record; NotFound (translated) when there is no such image."""
    with errors(what or f"image {reference}"):
        image = client.images.get(reference)
    return _image_details(image)


def remove_image(client: Any, reference: str, what: str | None = None) -> None:
    """Remove (untag) the image `reference`; `what` names it in errors."""
    with errors(what or f"image {reference}"):
        client.images.remove(reference)


def container_stats_once(client: Any, container_id: str, *, one_shot: bool = False,
                         what: str | None = None) -> dict[str, Any]:
    """One non-streaming stats sample of a container, as the engine's JSON (`one_shot`: skip
    the engine's second frame, so no precpu-based CPU figure)."""
    with errors(what or f"container {container_id[:12]}"):
        if one_shot:
            sample: dict[str, Any] = client.api.stats(container_id, stream=False, one_shot=True)
        else:
            sample = client.api.stats(container_id, stream=False)
    return sample


def container_summaries(client: Any, filters: Mapping[str, Any], what: str = "containers") -> list[dict[str, Any]]:
    """The engine's container list (every state) matching `filters`, as its JSON entries (one call)."""
    with errors(what):
        entries: list[dict[str, Any]] = client.api.containers(all=True, filters=dict(filters))
    return entries


def inspect_container_json(client: Any, container_id: str, what: str | None = None) -> dict[str, Any]:
    """The engine's inspect JSON of one container."""
    with errors(what or f"container {container_id[:12]}"):
        details: dict[str, Any] = client.api.inspect_container(container_id)
    return details


def image_summaries(client: Any, what: str = "images") -> list[dict[str, Any]]:
    """The engine's image list, as its JSON entries (one call)."""
    with errors(what):
        entries: list[dict[str, Any]] = client.api.images()
    return entries


def build_image(client: Any, what: str, **options: Any) -> Iterator[dict[str, Any]]:
    """Build an image (`options`: the engine's build parameters) and yield its decoded output
    chunks as they come; engine failures while starting or streaming become typed errors."""
    with errors(what):
        yield from client.api.build(decode=True, **options)


def container_image_id(container: Any) -> str | None:
    """The id of the image a held container was created from (from its inspect; no engine call)."""
    image_id = (getattr(container, "attrs", None) or {}).get("Image")
    return str(image_id) if image_id is not None else None


def engine_runtimes(client: Any) -> frozenset[str]:
    """The names of the container runtimes the engine offers (e.g. "runc", "nvidia")."""
    with errors("the Docker engine"):
        runtimes = client.info().get("Runtimes") or {}
    return frozenset(runtimes)


def create_held(client: Any, options: Mapping[str, Any], what: str | None = None) -> Any:
    """Create a container from `containers.create` options and return the engine's handle as
    created (no refresh: a job container is only started, waited on and removed)."""
    with errors(what):
        return client.containers.create(**options)


def start_held(container: Any, what: str | None = None) -> None:
    """Start `container` without refreshing it."""
    with errors(what):
        container.start()


# --- containers (containers.py, ports.py, allocator.py) ---
# Each takes the container handle its caller already holds (from `get_or_none`), so moving a
# call here costs no extra engine round trip; the SDK's exceptions become DS01's typed errors.

def get_container(client: Any, key: str, what: str | None = None) -> Any:
    """The container `key` (a name or an id, inspected once); None when there is no such container."""
    return get_or_none(client.containers, key, what or f"container {key}")


def pull_image(client: Any, reference: str, what: str | None = None) -> None:
    """Pull `reference` from its registry (errors name it as `what`)."""
    with errors(what or f"image {reference}"):
        client.images.pull(reference)


def create_container(client: Any, options: Mapping[str, Any], what: str | None = None) -> Any:
    """Create a container from `containers.create` options and return it freshly inspected
    (the create's own answer lacks the engine's defaults). A container the inspect cannot see
    is removed again, so a failed create leaves nothing behind."""
    with errors(what):
        created = client.containers.create(**options)
    try:
        with errors(what):
            return client.containers.get(created.id)
    except BaseException:
        remove_quietly(created)
        raise


def remove_quietly(container: Any) -> None:
    """Force-remove `container`, ignoring any failure (another error is already on its way)."""
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001 - best effort while another error is on its way
        pass


def start_and_refresh(container: Any, what: str | None = None) -> None:
    """Start `container` and refresh its status and attributes from the engine."""
    with errors(what):
        container.start()
        container.reload()


def stop_and_refresh(container: Any, *, timeout: int = 10, what: str | None = None) -> None:
    """Stop `container` (killed after `timeout` seconds) and refresh its status and attributes."""
    with errors(what):
        container.stop(timeout=timeout)
        container.reload()


def stop_held(container: Any, *, timeout: int = 10, what: str | None = None) -> None:
    """Stop `container` (killed after `timeout` seconds) without refreshing it (it goes next)."""
    with errors(what):
        container.stop(timeout=timeout)


def kill_quietly(container: Any, what: str | None = None) -> None:
    """Kill `container`, ignoring any failure (the caller refuses the start either way)."""
    with contextlib.suppress(Exception), errors(what):
        container.kill()


def remove_held(container: Any, *, force: bool = False, what: str | None = None) -> None:
    """Remove `container` (`force`: even while it runs)."""
    with errors(what):
        container.remove(force=force)


def commit_container(container: Any, repository: str, tag: str, labels: Mapping[str, str],
                     what: str | None = None) -> str:
    """Save `container`'s filesystem as image `repository:tag` with `labels`; returns the reference."""
    with errors(what):
        container.commit(repository=repository, tag=tag, conf={"Labels": dict(labels)})
    return f"{repository}:{tag}"


def list_all_entries(client: Any) -> list[dict[str, Any]]:
    """The engine's container list, every state and every owner, as its JSON entries."""
    with errors("containers"):
        entries: list[dict[str, Any]] = client.api.containers(all=True)
    return entries
