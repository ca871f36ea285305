"""Reaching the engine and DS01's view of its failures: `connect()` returns a pinged SDK client
or raises a one-line error; `translate()` and the `errors()` context manager turn the SDK's
(and the socket fast path's) exceptions into DS01's typed errors.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from ..errors import DockerUnavailable, Ds01Error, NotFound, PermissionDenied, ResourcesUnavailable

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    import docker

DEFAULT_TIMEOUT = 120
# The module whose EngineError the socket fast path raises (imported only when used).
_ENGINE_HTTP = "ds01common.engine_http"


def engine_address(environment: Mapping[str, str] | None = None) -> str:
    """Where the engine listens: DOCKER_HOST as the docker CLI and SDK read it, else the local socket.
    `environment`: the command's (context.environment); None: this process's, as the SDK reads it."""
    return (os.environ if environment is None else environment).get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _is_socket_permission_problem(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, PermissionError) or "Permission denied" in text or "EACCES" in text


def connect(timeout: int = DEFAULT_TIMEOUT, environment: Mapping[str, str] | None = None) -> docker.DockerClient:
    """A docker client that has answered a ping (DOCKER_HOST and the like from `environment`)."""
    try:
        import docker
    except ImportError:
        raise Ds01Error("the docker Python package is missing; run `make install`") from None
    try:
        client = docker.from_env(timeout=timeout, environment=environment)
        client.ping()
        return client
    except Exception as error:  # the SDK raises DockerException, requests and OS errors alike
        raise connection_error(error, environment) from None


def connection_error(error: BaseException, environment: Mapping[str, str] | None = None) -> Ds01Error:
    """The one-line error for an engine that could not be reached (or not by this user)."""
    address = engine_address(environment)
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
            return connection_error(error.cause or error)
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
        return connection_error(error)
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

    module = sys.modules.get(_ENGINE_HTTP)
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
                or module == _ENGINE_HTTP:
            raise translate(error, what) from None
        raise


def get_or_none(collection: Any, key: str, what: str | None = None) -> Any:
    """`collection.get(key)` for `client.containers` or `client.images`; None when there is no such object."""
    try:
        with errors(what):
            return collection.get(key)
    except NotFound:  # the engine's 404, translated (the SDK's NotFound and ImageNotFound alike)
        return None
