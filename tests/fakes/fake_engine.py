"""An in-memory Docker engine for the container commands' unit tests.

It raises the docker SDK's own exception types (NotFound, ImageNotFound, APIError) so the
library's translation is exercised, and counts engine calls so tests can check that a
listing is one call, not one per container."""

import collections
import itertools
import uuid

import docker.errors

_serial = itertools.count(1)


class FakeContainer:
    def __init__(self, engine, name, image, labels, options):
        self._engine = engine
        self.name = name
        self.id = uuid.uuid4().hex * 2
        self.image_name = image
        self.labels = dict(labels or {})
        self.options = options
        self.status = "created"
        self.attrs = {"State": {"Status": "created", "OOMKilled": False, "ExitCode": 0},
                      "Config": {"Labels": self.labels}}
        self.committed = []

    def _set(self, status):
        self.status = status
        self.attrs["State"]["Status"] = status

    def start(self):
        self._engine.calls["start"] += 1
        if self._engine.fail_start:
            raise docker.errors.APIError("start failed", explanation=self._engine.fail_start)
        self._set("running")

    def reload(self):
        self._engine.calls["inspect"] += 1

    def stop(self, timeout=10):
        self._engine.calls["stop"] += 1
        self._engine.stop_timeouts.append(timeout)
        self._set("exited")

    def remove(self, force=False):
        self._engine.calls["remove"] += 1
        if self.status == "running" and not force:
            raise docker.errors.APIError("conflict", explanation="You cannot remove a running container")
        self._engine.by_name.pop(self.name, None)

    def commit(self, repository=None, tag=None, conf=None):
        self.committed.append((repository, tag, conf))
        self._engine.image_store[f"{repository}:{tag}"] = conf

    def list_entry(self):
        return {"Id": self.id, "Names": [f"/{self.name}"], "Image": self.image_name, "State": self.status,
                "Labels": self.labels}


class FakeContainers:
    def __init__(self, engine):
        self._engine = engine

    def get(self, key):
        self._engine.calls["inspect"] += 1
        for container in self._engine.by_name.values():
            if key in (container.id, container.name) or len(key) >= 12 and container.id.startswith(key):
                return container  # like Docker: a name, the id, or an id prefix
        raise docker.errors.NotFound(f"No such container: {key}")

    def create(self, image=None, name=None, labels=None, **options):
        self._engine.calls["create"] += 1
        if self._engine.fail_create:
            raise self._engine.fail_create
        if name in self._engine.by_name:
            raise docker.errors.APIError("409", response=_Response(409),
                                         explanation=f'Conflict. The container name "/{name}" is already in use')
        container = FakeContainer(self._engine, name, image, labels, dict(options, image=image))
        self._engine.by_name[name] = container
        return container


class _Response:
    def __init__(self, status_code):
        self.status_code = status_code
        self.reason = "error"

    def raise_for_status(self):
        pass


class FakeImages:
    def __init__(self, engine):
        self._engine = engine

    def get(self, name):
        if name not in self._engine.image_store:
            raise docker.errors.ImageNotFound(f"No such image: {name}")
        return name

    def pull(self, name):
        raise docker.errors.APIError("pull", explanation=f"pull access denied for {name}")


def _label_filters(filters):
    labels = (filters or {}).get("label") or []
    return [labels] if isinstance(labels, str) else list(labels)


class FakeApi:
    def __init__(self, engine):
        self._engine = engine

    def containers(self, quiet=False, filters=None, **options):
        self._engine.calls["list"] += 1
        found = []
        wanted = _label_filters(filters)
        for container in self._engine.by_name.values():
            if not options.get("all") and container.status != "running":
                continue
            if all(self._has(container, label) for label in wanted):
                found.append(container.list_entry())
        return found

    @staticmethod
    def _has(container, label):
        key, _, value = label.partition("=")
        return key in container.labels and (not value or container.labels[key] == value)

    def stats(self, container_id, stream=False):
        self._engine.calls["stats"] += 1
        return self._engine.samples.get(container_id, {})


class FakeEngine:
    def __init__(self, images=("ds01-test/busybox:latest",), nvidia=False):
        self.by_name = {}
        self.image_store = {name: {} for name in images}
        self.images = FakeImages(self)
        self.calls = collections.Counter()
        self.nvidia = nvidia
        self.fail_create = None
        self.fail_start = None
        self.samples = {}
        self.stop_timeouts = []
        self.containers = FakeContainers(self)
        self.api = FakeApi(self)

    def info(self):
        return {"Runtimes": {"runc": {}, **({"nvidia": {}} if self.nvidia else {})}}

    def add(self, name, labels, status="running", image="ds01-test/busybox:latest"):
        container = FakeContainer(self, name, image, labels, {})
        container._set(status)
        self.by_name[name] = container
        return container

