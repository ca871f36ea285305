"""A small in-memory stand-in for the docker SDK client: enough for the allocator's unit tests.

`containers.list(all=True, filters={"label": "k=v"})`, `containers.get(id or name)`,
`containers.create(image, name=, labels=)`; containers have .name .id .labels .status .attrs,
.remove(force=) and .stop(timeout=)."""

import itertools
import uuid

_counter = itertools.count(1)


class NotFoundError(Exception):
    """Raised like docker.errors.NotFound (module name is not docker's: callers see it raw)."""


class FakeContainer:
    def __init__(self, engine, name, labels=None, status="created"):
        self._engine = engine
        self.name = name
        self.id = uuid.uuid4().hex + uuid.uuid4().hex
        self.labels = dict(labels or {})
        self.status = status
        self.attrs = {"Created": f"2026-01-01T00:00:{next(_counter) % 60:02d}Z", "Config": {"Labels": self.labels}}

    def remove(self, force=False):
        if self.status == "running" and not force:
            raise RuntimeError("container is running")
        self._engine.pop(self.id, None)

    def stop(self, timeout=10):
        self.status = "exited"

    def start(self):
        self.status = "running"


def _matches(container, filters):
    labels = (filters or {}).get("label") or []
    if isinstance(labels, str):
        labels = [labels]
    for label in labels:
        key, _, value = label.partition("=")
        if key not in container.labels or (value and container.labels[key] != value):
            return False
    name = (filters or {}).get("name")
    return not name or name in container.name


class FakeContainers:
    def __init__(self):
        self._by_id = {}
        self.list_calls = 0

    def list(self, all=False, filters=None, sparse=False, ignore_removed=False):  # noqa: A002 - the SDK's names
        self.list_calls += 1
        return [container for container in self._by_id.values()
                if _matches(container, filters) and (all or container.status == "running")]

    def get(self, key):
        for container in self._by_id.values():
            if key in (container.id, container.name):
                return container
        raise NotFoundError(key)

    def create(self, image=None, name=None, labels=None, **_options):
        container = FakeContainer(self._by_id, name or f"c{next(_counter)}", labels)
        self._by_id[container.id] = container
        return container

    def add(self, name, labels, status="running"):
        """Test helper: a container that already exists."""
        container = self.create(name=name, labels=labels)
        container.status = status
        return container


class FakeDocker:
    def __init__(self):
        self.containers = FakeContainers()

    def info(self):
        return {"Runtimes": {"runc": {}}}


def ds01_labels(user, slots="", uuids="", project="p"):
    return {"ds01.managed": "true", "ds01.user": user, "ds01.uid": "1000", "ds01.project": project,
            "ds01.created_at": "2026-01-01T00:00:00Z", "ds01.gpu.slots": slots, "ds01.gpu.uuids": uuids,
            "ds01.workspace": "/tmp/ws"}
