"""A stand-in for the docker SDK's low-level API as the lifecycle pass uses it:
`api.containers(all=, filters=)`, `api.inspect_container(id)`, `api.stats(id, stream=False, one_shot=)`.

Each container has labels, a status, start/finish times and a CPU figure (% of one core)
that the fake turns into two stats frames, so the real CPU arithmetic runs on it."""

import datetime
import threading
import uuid

SYSTEM_TICK = 1_000_000_000  # one second of system CPU time per frame, in ns


def docker_time(epoch):
    if epoch is None:
        return "0001-01-01T00:00:00Z"
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class FakeApi:
    def __init__(self, cpus=4):
        self.cpus = cpus
        self.entries = {}
        self.stats_calls = []
        self.failing_stats = set()
        self.api_version = "1.41"
        self._lock = threading.Lock()

    def add(self, name, labels, status="running", created=None, started=None, finished=None, cpu=0.0):
        container_id = uuid.uuid4().hex + uuid.uuid4().hex
        self.entries[container_id] = {"name": name, "labels": dict(labels), "status": status, "created": created,
                                      "started": started, "finished": finished, "cpu": cpu}
        return container_id

    def containers(self, all=False, filters=None):
        wanted = (filters or {}).get("label")
        key, _, value = (wanted or "=").partition("=")
        return [{"Id": cid, "Names": [f"/{entry['name']}"], "Labels": entry["labels"], "State": entry["status"],
                 "Created": int(entry["created"] or 0)}
                for cid, entry in self.entries.items()
                if not wanted or entry["labels"].get(key) == value]

    def inspect_container(self, container_id):
        entry = self.entries[container_id]
        return {"Id": container_id, "Name": "/" + entry["name"], "Created": docker_time(entry["created"]),
                "State": {"Status": entry["status"], "StartedAt": docker_time(entry["started"]),
                          "FinishedAt": docker_time(entry["finished"]), "Pid": 0}}

    def stats(self, container_id, stream=True, one_shot=None):
        with self._lock:
            self.stats_calls.append((container_id, stream, one_shot))
        if container_id in self.failing_stats:
            raise ConnectionError("engine went away")
        cpu = self.entries[container_id]["cpu"]
        used = int(cpu / 100 * SYSTEM_TICK / self.cpus)
        return {"precpu_stats": {"cpu_usage": {"total_usage": 5_000}, "system_cpu_usage": 10 * SYSTEM_TICK,
                                 "online_cpus": self.cpus},
                "cpu_stats": {"cpu_usage": {"total_usage": 5_000 + used}, "system_cpu_usage": 11 * SYSTEM_TICK,
                              "online_cpus": self.cpus}}


class FakeDocker:
    def __init__(self, cpus=4):
        self.api = FakeApi(cpus)
