"""LazyClient: a docker client made on first use, with a raw-socket fast path for the calls
DS01 makes most (engine_http.py), so a command pays for the SDK only if it needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .client import DEFAULT_TIMEOUT, connect, engine_address, errors

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    import docker


class LazyClient:
    """A docker client made on first use, so a command pays for the SDK only if it needs it.

    Measured: importing the SDK (requests, urllib3) costs more than a status command's engine
    calls together. A sparse listing, which is all that `gpu-status`, `container-list` and the
    ledger's reconcile need, and the by-id calls of a deploy or a start (inspect, start, stop,
    kill, remove) go straight over the unix socket instead; anything else connects the real
    client (with its ping and one-line errors) and is passed through to it."""

    def __init__(self, timeout: int = DEFAULT_TIMEOUT, environment: Mapping[str, str] | None = None) -> None:
        self._timeout = timeout
        self._client: docker.DockerClient | None = None
        self.environment = environment  # the command's, for DOCKER_HOST (None: this process's)

    @property
    def connected(self) -> bool:
        return self._client is not None

    def real(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect(self._timeout, self.environment)
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
        address = engine_address(self.environment)
        return address[len("unix://"):] if self._client is None and address.startswith("unix://") else None

    def info(self) -> dict[str, Any]:
        socket_path = self.raw_socket()
        if socket_path:
            from .. import engine_http

            found: dict[str, Any] = engine_http.request(socket_path, "GET", "/info")
            return found
        info: dict[str, Any] = self.real().info()
        return info

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class _LazyContainers:
    """The sparse listing and the create over the socket; anything else is the SDK's."""

    def __init__(self, owner: LazyClient) -> None:
        self._owner = owner

    def list(self, all: bool = False, filters: Mapping[str, Any] | None = None, sparse: bool = False,  # noqa: A002
             **options: Any) -> list[Any]:
        address = engine_address(self._owner.environment)
        if sparse and not options and not self._owner.connected and address.startswith("unix://"):
            found = unix_get_json(address[len("unix://"):], "/containers/json",
                                  {"all": "1" if all else "0", "filters": list_filters(filters or {})})
            return [ListedContainer(item) for item in found]
        return self._owner.real().containers.list(all=all, filters=dict(filters) if filters else None,
                                                  sparse=sparse, **options)

    def create_id(self, options: Mapping[str, Any]) -> str:
        """Create a container from `containers.create` options; only its id (no inspect, where
        the socket serves: the caller inspects it once, when it wants to)."""
        made = self._create_over_socket(dict(options))
        return made if made is not None else str(self._create_with_sdk(dict(options)).id)

    def _create_over_socket(self, options: dict[str, Any]) -> str | None:
        """The id of the container made over the socket; None when the SDK has to make it."""
        socket_path = self._owner.raw_socket()
        if socket_path is None:
            return None
        from .. import engine_http

        body = engine_http.create_body(options)
        if body is None:
            return None
        params = {"name": options["name"]} if options.get("name") else None
        made = engine_http.request(socket_path, "POST", "/containers/create", params, body)
        return str(made["Id"])

    def _create_with_sdk(self, options: dict[str, Any]) -> Any:
        client = self._owner.real()
        if options.get("device_requests"):
            options["device_requests"] = sdk_device_requests(list(options["device_requests"]))
        return client.containers.create(**options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.real().containers, name)


class _LazyImages:
    def __init__(self, owner: LazyClient) -> None:
        self._owner = owner

    def get(self, name: str) -> Any:
        socket_path = self._owner.raw_socket()
        if not socket_path:
            return self._owner.real().images.get(name)
        from .. import engine_http

        attrs = engine_http.request(socket_path, "GET", f"/images/{engine_http.quoted(name)}/json")
        return engine_http.Image(attrs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.real().images, name)


class _LazyApi:
    """The low-level API's calls DS01 makes by container id (as the SDK's APIClient names and
    answers them), over the socket; anything else is the SDK's."""

    def __init__(self, owner: LazyClient) -> None:
        self._owner = owner

    def _request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> Any:
        socket_path = self._owner.raw_socket()
        assert socket_path is not None, "LazyClient.api is the SDK's once the SDK client is made"
        from .. import engine_http

        return engine_http.request(socket_path, method, path, params, timeout=timeout)

    def containers(self, all: bool = False, filters: Mapping[str, Any] | None = None,  # noqa: A002
                   **options: Any) -> Any:
        if options or not self._owner.raw_socket():
            return self._owner.real().api.containers(all=all, filters=filters, **options)
        params: dict[str, Any] = {"all": "1" if all else "0"}
        if filters:
            params["filters"] = list_filters(filters)
        return self._request("GET", "/containers/json", params)

    @staticmethod
    def _path(container: str, action: str = "") -> str:
        from .. import engine_http

        return f"/containers/{engine_http.quoted(container)}{action}"

    def inspect_container(self, container: str) -> Any:
        return self._request("GET", self._path(container, "/json"))

    def start(self, container: str) -> None:
        self._request("POST", self._path(container, "/start"))

    def stop(self, container: str, timeout: int | None = None) -> None:
        params = {} if timeout is None else {"t": timeout}
        # The engine answers once the container stopped: up to `timeout` seconds, then a kill.
        self._request("POST", self._path(container, "/stop"), params, timeout=DEFAULT_TIMEOUT + (timeout or 10))

    def kill(self, container: str, signal: str | int | None = None) -> None:
        self._request("POST", self._path(container, "/kill"), {} if signal is None else {"signal": signal})

    def remove_container(self, container: str, v: bool = False, link: bool = False, force: bool = False) -> None:
        self._request("DELETE", self._path(container), {"v": int(v), "link": int(link), "force": int(force)})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner.real().api, name)


class ListedContainer:
    """One entry of the engine's container list, shaped as the SDK's sparse Container: `id` and
    the list API's `attrs` (Names, Labels, State, Created, ...)."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        self.attrs = attrs
        self.id: str = attrs.get("Id", "")


def unix_get_json(socket_path: str, path: str, params: dict[str, Any]) -> Any:
    """GET `path` over the engine's unix socket; its decoded JSON, or a one-line typed error."""
    from .. import engine_http

    with errors("containers"):
        return engine_http.request(socket_path, "GET", path, params)


def list_filters(filters: Mapping[str, Any]) -> dict[str, list[str]]:
    """A listing's filters as the Engine API takes them: every value a list ("label=x" alone too)."""
    return {key: [value] if isinstance(value, str) else list(value) for key, value in filters.items()}


def gpu_device_requests(uuids: Iterable[str]) -> list[dict[str, Any]]:
    """Device requests naming GPUs by UUID (never a count), for the NVIDIA runtime.

    The SDK's DeviceRequest once the SDK is loaded (its create takes nothing else); before, the
    same keys as a plain dict, which the socket fast path sends as is: a GPU deploy need not
    import the SDK for a value type (LazyClient turns them into DeviceRequests if it falls back)."""
    import sys

    request = {"Driver": "nvidia", "Count": 0, "DeviceIDs": list(uuids), "Capabilities": [["gpu"]], "Options": {}}
    if "docker" not in sys.modules:
        return [request]
    return sdk_device_requests([request])


def sdk_device_requests(requests: list[Any]) -> list[dict[str, Any]]:
    """Plain API-shaped device requests as the SDK's DeviceRequest objects (those already are stay)."""
    import docker.types  # a value type only; no engine call happens here

    return [item if isinstance(item, docker.types.DeviceRequest) else docker.types.DeviceRequest(
        driver=item.get("Driver"), count=item.get("Count"), device_ids=item.get("DeviceIDs"),
        capabilities=item.get("Capabilities"), options=item.get("Options")) for item in requests]
