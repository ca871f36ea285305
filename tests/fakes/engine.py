"""One in-memory fake of the Docker engine, as DS01 reaches it through the docker SDK client.

It stands in for `docker.DockerClient` in unit tests: `containers` (list / get / create),
`images` (get / pull / remove), the low-level `api` (containers / inspect_container / stats /
images, and the by-id calls dockerapi acts through: start / stop / kill / remove_container /
commit) and `info` / `ping`. Inspect answers carry what the real engine's do for DS01's fields
(State with Pid, ExitCode and times; Config.Image; Image; bind Mounts from `volumes`). It raises
the SDK's own exceptions (NotFound, ImageNotFound, APIError with the engine's status codes), so
the library's error translation runs as it does against a real engine. tests/contract/ runs the
same scenarios against this fake and a real engine, so the two cannot drift apart unnoticed.

Test helpers, not part of the engine's surface: `add(name, labels, status=...)` and
`api.add(name, labels, created=, started=, finished=, cpu=)` (a container that already exists,
with its times and CPU use), `add_image(...)`, `add_container(...)` (a container of an image),
`calls` (engine calls by kind, to check that a listing is one call, not one per container),
`fail_create` / `fail_start` (errors to raise), `samples` (stats documents by container id),
`api.failing_stats`, `api.stats_calls`, `stop_timeouts`, `builds` / `build_output`.
"""

from __future__ import annotations

import collections
import datetime
import itertools
import threading
import uuid
from typing import Any

import docker.errors
from ds01common import labels as label
from ds01common.clock import SYSTEM, Clock

DEFAULT_IMAGE = "ds01-test/busybox:latest"
SYSTEM_TICK = 1_000_000_000  # one second of system CPU time per stats frame, in ns
ZERO_TIME = "0001-01-01T00:00:00Z"  # what the engine shows for "never"
NO_SUCH_PID = 1 << 22  # above Linux's largest pid_max: a started fake's "Pid" is never a real process
_serial = itertools.count(1)


def docker_time(epoch: float | None) -> str:
    """An epoch as the engine writes times: RFC 3339 with nanoseconds; the zero time for None."""
    if epoch is None:
        return ZERO_TIME
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class _Response:
    """Just enough of a requests.Response for docker.errors.APIError.status_code."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.reason = "error"

    def raise_for_status(self) -> None:
        pass


def _api_error(status_code: int, explanation: str) -> docker.errors.APIError:
    return docker.errors.APIError(explanation, response=_Response(status_code), explanation=explanation)


def _not_found(what: str) -> docker.errors.NotFound:
    return docker.errors.NotFound(what, response=_Response(404), explanation=what)


def _mounts(volumes: Any) -> list[dict[str, Any]]:
    """The inspect's Mounts for `volumes={source: {"bind": target, "mode": mode}}`, as the engine
    shows bind mounts."""
    return [{"Type": "bind", "Source": source, "Destination": target["bind"], "Mode": target.get("mode") or "rw",
             "RW": (target.get("mode") or "rw") != "ro", "Propagation": "rprivate"}
            for source, target in (volumes or {}).items() if isinstance(target, dict)]


def _now_iso(serial: int) -> str:
    # Distinct, increasing creation times, as the engine's are.
    moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=serial)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


class FakeContainer:
    """A container as `client.containers.get()` returns it: id, name, labels, status, attrs."""

    def __init__(self, engine: FakeEngine, name: str, image: str, labels: dict[str, str] | None,
                 options: dict[str, Any]) -> None:
        self._engine = engine
        self.serial = next(_serial)
        self.id = uuid.uuid4().hex + uuid.uuid4().hex
        self.image_name = image
        self.image_id = engine.image_id_of(image)
        self.options = options  # every create option, for tests to check
        self.cpu: float | None = None  # % of one core, for stats frames (None: `samples` decide)
        self.created_epoch: float | None = None
        self.committed: list[tuple[Any, Any, Any]] = []
        self.attrs: dict[str, Any] = {
            "Id": self.id, "Name": f"/{name}", "Created": _now_iso(self.serial), "Image": self.image_id,
            "State": {"Status": "created", "Running": False, "OOMKilled": False, "ExitCode": 0,
                      "StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z", "Pid": 0},
            "Config": {"Labels": dict(labels or {}), "Image": image}, "Mounts": _mounts(options.get("volumes"))}

    @property
    def name(self) -> str:
        return str(self.attrs["Name"]).lstrip("/")

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = self.attrs["Config"]["Labels"]
        return labels

    @property
    def status(self) -> str:
        return str(self.attrs["State"]["Status"])

    @status.setter
    def status(self, status: str) -> None:
        """Test helper: put the container in `status` without the engine's transitions."""
        self._set(status)

    def _set(self, status: str) -> None:
        self.attrs["State"]["Status"] = status
        self.attrs["State"]["Running"] = status == "running"

    def start(self) -> None:
        self._engine.calls["start"] += 1
        if self._engine.fail_start:
            raise _api_error(500, self._engine.fail_start)
        if self.status != "running":
            self.attrs["State"].update(StartedAt=docker_time(self._engine.clock.time()), Pid=NO_SUCH_PID + self.serial)
        self._set("running")

    def reload(self) -> None:
        self._engine.calls["inspect"] += 1
        if self.id not in self._engine.by_id:
            raise _not_found(f"No such container: {self.id}")

    def stop(self, timeout: int = 10) -> None:
        self._engine.calls["stop"] += 1
        self._engine.stop_timeouts.append(timeout)
        if self.status in ("running", "paused"):
            # The test image's `sleep` ignores SIGTERM as PID 1: the engine kills it at the timeout.
            self.attrs["State"].update(FinishedAt=docker_time(self._engine.clock.time()), ExitCode=137, Pid=0)
            self._set("exited")

    def kill(self) -> None:
        self._engine.calls["kill"] += 1
        if self.status != "running":
            raise _api_error(409, f"Cannot kill container: {self.id}: container {self.id} is not running")
        self.attrs["State"].update(FinishedAt=docker_time(self._engine.clock.time()), ExitCode=137, Pid=0)
        self._set("exited")

    def remove(self, force: bool = False) -> None:
        self._engine.calls["remove"] += 1
        if self.id not in self._engine.by_id:
            raise _not_found(f"No such container: {self.id}")
        if self.status == "running" and not force:
            raise _api_error(409, f'cannot remove container "/{self.name}": container is running: stop the '
                                  "container before removing or force remove")
        self._engine._forget(self)

    def commit(self, repository: str | None = None, tag: str | None = None, conf: Any = None) -> None:
        self.committed.append((repository, tag, conf))
        self._engine.add_image(f"{repository}:{tag}", labels=(conf or {}).get("Labels"), conf=conf)

    def list_entry(self) -> dict[str, Any]:
        """This container as the engine's list call shows it."""
        created = int(self.created_epoch) if self.created_epoch is not None else 1_767_225_600 + self.serial
        return {"Id": self.id, "Names": [f"/{self.name}"], "Image": self.image_name, "ImageID": self.image_id,
                "State": self.status, "Labels": dict(self.labels), "Created": created}


class SparseContainer:
    """A container from `containers.list(sparse=True)`: only the list call's fields in `attrs`."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.attrs = entry
        self.id = entry["Id"]


def _label_filters(filters: dict[str, Any] | None) -> list[str]:
    labels = (filters or {}).get("label") or []
    return [labels] if isinstance(labels, str) else list(labels)


def _matches(container: FakeContainer, filters: dict[str, Any] | None, all_states: bool) -> bool:
    if not all_states and container.status != "running":
        return False
    for wanted in _label_filters(filters):
        key, has_value, value = wanted.partition("=")
        if key not in container.labels or (has_value and container.labels[key] != value):
            return False
    names = (filters or {}).get("name") or []
    for name in [names] if isinstance(names, str) else names:
        if name not in container.name:
            return False
    return True


class FakeContainers:
    def __init__(self, engine: FakeEngine) -> None:
        self._engine = engine

    @property
    def list_calls(self) -> int:
        return self._engine.calls["list"]

    @property
    def _by_id(self) -> _ById:
        return self._engine.by_id

    def list(self, all: bool = False, filters: dict[str, Any] | None = None,  # noqa: A002 - the SDK's name
             sparse: bool = False, ignore_removed: bool = False, **_options: Any) -> list[Any]:
        self._engine.calls["list"] += 1
        found = [container for container in self._engine.by_id.values() if _matches(container, filters, all)]
        if sparse:
            return [SparseContainer(container.list_entry()) for container in found]
        return found

    def get(self, key: str) -> FakeContainer:
        self._engine.calls["inspect"] += 1
        for container in self._engine.by_id.values():
            if key in (container.id, container.name) or (len(key) >= 12 and container.id.startswith(key)):
                return container
        raise _not_found(f"No such container: {key}")

    def create(self, image: str | None = None, command: Any = None, name: str | None = None,
               labels: dict[str, str] | None = None, **options: Any) -> FakeContainer:
        self._engine.calls["create"] += 1
        if self._engine.fail_create:
            raise self._engine.fail_create
        image = image or DEFAULT_IMAGE
        if image not in self._engine.image_store:
            raise docker.errors.ImageNotFound(f"No such image: {image}", response=_Response(404),
                                              explanation=f"No such image: {image}")
        name = name or f"fake_{next(_serial)}"
        existing = self._engine.by_name.get(name)
        if existing is not None:
            raise _api_error(409, f'Conflict. The container name "/{name}" is already in use by container '
                                  f'"{existing.id}". You have to remove (or rename) that container to be able '
                                  "to reuse that name.")
        container = FakeContainer(self._engine, name, image, labels, dict(options, image=image, command=command))
        self._engine._remember(container)
        return container

    def add(self, name: str, labels: dict[str, str], status: str = "running") -> FakeContainer:
        """Test helper: a container that already exists (made outside this test's code)."""
        return self._engine.add(name, labels, status)


class FakeImage:
    """An image as `client.images.get()` returns it."""

    def __init__(self, image_id: str, tags: list[str], labels: dict[str, str] | None = None, size: int = 1024) -> None:
        self.id = image_id
        self.tags = list(tags)
        self.labels = dict(labels or {})
        self.attrs = {"Id": self.id, "RepoTags": self.tags, "Size": size, "Created": "2026-01-01T00:00:00Z",
                      "Config": {"Labels": self.labels}}


class FakeImages:
    def __init__(self, engine: FakeEngine) -> None:
        self._engine = engine
        self.removed: list[str] = []

    def get(self, reference: str) -> FakeImage:
        self._engine.calls["image_inspect"] += 1
        image = self._engine.images_by_reference.get(reference)
        if image is None:
            raise docker.errors.ImageNotFound(f"No such image: {reference}", response=_Response(404),
                                              explanation=f"No such image: {reference}")
        return image

    def pull(self, reference: str, **_options: Any) -> FakeImage:
        # No registry is reachable from a unit test, as on an offline server.
        raise _api_error(404, f"pull access denied for {reference}, repository does not exist or may require "
                              "'docker login'")

    def remove(self, reference: str, **_options: Any) -> None:
        image = self.get(reference)
        image.tags.remove(reference)  # untag; the image goes with its last tag
        del self._engine.images_by_reference[reference]
        dict.pop(self._engine.image_store, reference, None)
        self.removed.append(reference)


class FakeApi:
    """The SDK's low-level APIClient, as far as DS01 uses it."""

    def __init__(self, engine: FakeEngine) -> None:
        self._engine = engine
        self.api_version = "1.43"
        self.failing_stats: set[str] = set()
        self.stats_calls: list[tuple[str, bool, bool | None]] = []
        self._lock = threading.Lock()  # stats are sampled from many threads at once

    def add(self, name: str, labels: dict[str, str], status: str = "running", created: float | None = None,
            started: float | None = None, finished: float | None = None, cpu: float = 0.0) -> str:
        """Test helper: a container with its times (epoch seconds) and CPU use; returns its id."""
        container = self._engine.add(name, labels, status)
        container.cpu = cpu
        container.created_epoch = created
        container.attrs["Created"] = docker_time(created)
        container.attrs["State"].update(StartedAt=docker_time(started), FinishedAt=docker_time(finished))
        return container.id

    def containers(self, quiet: bool = False, all: bool = False,  # noqa: A002 - the SDK's name
                   filters: dict[str, Any] | None = None, **_options: Any) -> list[dict[str, Any]]:
        self._engine.calls["list"] += 1
        return [container.list_entry() for container in self._engine.by_id.values()
                if _matches(container, filters, all)]

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        container = self._engine.containers.get(container_id)
        return container.attrs

    # By-id calls, as the SDK's APIClient names them (dockerapi acts on containers through these).
    def _by_id(self, container_id: str) -> FakeContainer:
        container = self._engine.by_id.get(container_id)
        if container is None:
            raise _not_found(f"No such container: {container_id}")
        return container

    def start(self, container_id: str) -> None:
        self._by_id(container_id).start()

    def stop(self, container_id: str, timeout: int | None = None) -> None:
        self._by_id(container_id).stop(timeout=10 if timeout is None else timeout)

    def kill(self, container_id: str, signal: str | int | None = None) -> None:
        self._by_id(container_id).kill()

    def remove_container(self, container_id: str, v: bool = False, link: bool = False, force: bool = False) -> None:
        self._by_id(container_id).remove(force=force)

    def commit(self, container_id: str, repository: str | None = None, tag: str | None = None,
               conf: Any = None, **_options: Any) -> dict[str, str]:
        self._by_id(container_id).commit(repository, tag, conf)
        return {"Id": self._engine.image_id_of(f"{repository}:{tag}")}

    def stats(self, container_id: str, stream: bool = True, one_shot: bool | None = None) -> dict[str, Any]:
        with self._lock:
            self._engine.calls["stats"] += 1
            self.stats_calls.append((container_id, stream, one_shot))
        if container_id in self.failing_stats:
            raise ConnectionError("engine went away")
        container = self._engine.by_id.get(container_id)
        if container is None:
            raise _not_found(f"No such container: {container_id}")
        if container.cpu is None:
            sample: dict[str, Any] = self._engine.samples.get(container_id, {})
            return sample
        # Two frames one second of system time apart, so the real CPU arithmetic runs on them.
        cpus = self._engine.cpus
        used = int(container.cpu / 100 * SYSTEM_TICK / cpus)
        return {"precpu_stats": {"cpu_usage": {"total_usage": 5_000}, "system_cpu_usage": 10 * SYSTEM_TICK,
                                 "online_cpus": cpus},
                "cpu_stats": {"cpu_usage": {"total_usage": 5_000 + used}, "system_cpu_usage": 11 * SYSTEM_TICK,
                              "online_cpus": cpus}}

    def build(self, **options: Any) -> Any:
        self._engine.builds.append(options)
        return iter(self._engine.build_output)

    def images(self, **_options: Any) -> list[dict[str, Any]]:
        return [{"Id": image.id, "RepoTags": list(image.tags), "Labels": image.labels,
                 "Size": image.attrs["Size"], "Created": 1_767_225_600}
                for image in {id(image): image for image in self._engine.images_by_reference.values()}.values()]


class FakeEngine:
    """The client: `FakeEngine()` where the library expects `docker.from_env()`."""

    def __init__(self, images: tuple[str, ...] = (DEFAULT_IMAGE,), nvidia: bool = False, cpus: int = 4,
                 clock: Clock = SYSTEM) -> None:
        self.by_name: dict[str, FakeContainer] = {}  # the store: the engine keys containers by name too
        self.images_by_reference: dict[str, FakeImage] = {}
        self.image_store: dict[str, Any] = _ImageStore(self)
        self.calls: collections.Counter[str] = collections.Counter()
        self.nvidia = nvidia
        self.fail_create: BaseException | None = None
        self.fail_start: str | None = None
        self.samples: dict[str, dict[str, Any]] = {}
        self.stop_timeouts: list[int] = []
        self.cpus = cpus
        self.clock = clock  # what start and stop stamp StartedAt / FinishedAt with
        self.builds: list[dict[str, Any]] = []
        self.build_output: list[dict[str, Any]] = []
        self.containers = FakeContainers(self)
        self.images = FakeImages(self)
        self.api = FakeApi(self)
        for reference in images:
            self.add_image(reference)

    @property
    def by_id(self) -> _ById:
        """Containers by id; `pop(id)` is a `docker rm` behind DS01's back."""
        return _ById(self)

    def _remember(self, container: FakeContainer) -> None:
        self.by_name[container.name] = container

    def _forget(self, container: FakeContainer) -> None:
        if self.by_name.get(container.name) is container:
            del self.by_name[container.name]

    def ping(self) -> bool:
        return True

    def info(self) -> dict[str, Any]:
        return {"Runtimes": {"runc": {}, **({"nvidia": {}} if self.nvidia else {})}}

    def add(self, name: str, labels: dict[str, str], status: str = "running",
            image: str = DEFAULT_IMAGE) -> FakeContainer:
        """Test helper: a container that already exists, in `status`."""
        container = FakeContainer(self, name, image, labels, {})
        container._set(status)
        self._remember(container)
        return container

    def add_image(self, reference: str, tags: list[str] | None = None, labels: dict[str, str] | None = None,
                  size: int = 1024, conf: Any = None) -> FakeImage:
        """Test helper: an image that already exists: `add_image("repo:tag")`, or
        `add_image("sha256:...", ["repo:tag", ...], labels)` for one image with several tags."""
        if tags is None:
            image_id, tags = "sha256:" + uuid.uuid5(uuid.NAMESPACE_URL, reference).hex * 2, [reference]
        else:
            image_id = reference
        image = FakeImage(image_id, tags, labels, size)
        for tag in tags:
            self.images_by_reference[tag] = image
            dict.__setitem__(self.image_store, tag, conf if conf is not None else {})
        return image

    def image_id_of(self, reference: str) -> str:
        image = self.images_by_reference.get(reference)
        return image.id if image is not None else ""

    def add_container(self, name: str, uid: int, user: str, image_id: str, managed: bool = True) -> FakeContainer:
        """Test helper: a stopped container `<name>._.<uid>` of the image `image_id`."""
        labels = {label.MANAGED: label.MANAGED_VALUE, label.USER: user, label.UID: str(uid),
                  label.PROJECT: name} if managed else {}
        reference = next((tag for tag, image in self.images_by_reference.items() if image.id == image_id), image_id)
        container = self.add(f"{name}._.{uid}", labels, status="exited", image=reference)
        container.image_id = container.attrs["Image"] = image_id
        return container


class _ById:
    """A by-id view of the engine's containers (the store itself is by name)."""

    def __init__(self, engine: FakeEngine) -> None:
        self._engine = engine

    def _all(self) -> dict[str, FakeContainer]:
        return {container.id: container for container in self._engine.by_name.values()}

    def values(self) -> list[FakeContainer]:
        return list(self._engine.by_name.values())

    def items(self) -> list[tuple[str, FakeContainer]]:
        return list(self._all().items())

    def get(self, container_id: str, default: FakeContainer | None = None) -> FakeContainer | None:
        return self._all().get(container_id, default)

    def __contains__(self, container_id: object) -> bool:
        return container_id in self._all()

    def __iter__(self) -> Any:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._engine.by_name)

    def pop(self, container_id: str, default: FakeContainer | None = None) -> FakeContainer | None:
        container = self._all().get(container_id)
        if container is None:
            return default
        self._engine._forget(container)
        return container


class _ImageStore(dict[str, Any]):
    """`engine.image_store[ref] = conf` adds an image (as the older fakes let tests do)."""

    def __init__(self, engine: FakeEngine) -> None:
        super().__init__()
        self._engine = engine

    def __setitem__(self, reference: str, conf: Any) -> None:
        self._engine.add_image(reference, conf=conf)


def ds01_labels(user: str, slots: str = "", uuids: str = "", project: str = "p") -> dict[str, str]:
    """The labels DS01 puts on a container of `user` (for containers a test adds by hand)."""
    return {label.MANAGED: label.MANAGED_VALUE, label.USER: user, label.UID: "1000", label.PROJECT: project,
            label.CREATED_AT: "2026-01-01T00:00:00Z", label.GPU_SLOTS: slots, label.GPU_UUIDS: uuids,
            label.WORKSPACE: "/tmp/ws"}
