"""DS01's state as Prometheus metrics (prometheus_client), served on /metrics or written as a textfile.

Every metric name starts with `ds01_`; docs/monitoring.md lists them with their labels. A scrape
builds one snapshot (snapshot.py: one engine listing, one ledger read) and adds the counters
kept from the event log (eventlog.LiveTally: after the first scrape, only new lines are read).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import eventlog, snapshot

Metric = Any  # prometheus_client's metric families (the package has no type information)
SnapshotSource = Callable[[], snapshot.Snapshot]
SLOT_LABELS = ("slot", "gpu", "profile")


def _gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Metric:
    from prometheus_client.core import GaugeMetricFamily
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def _counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Metric:
    from prometheus_client.core import CounterMetricFamily
    return CounterMetricFamily(name, documentation, labels=list(labels))


def slot_metrics(state: snapshot.Snapshot) -> Iterator[Metric]:
    states = _gauge("ds01_gpu_slot_state", "1 for the state each GPU slot is in (free, assigned, reserved), "
                    "else 0", SLOT_LABELS + ("state",))
    weight = _gauge("ds01_gpu_slot_weight", "GPU-equivalents of each slot (full GPU 1, MIG slices/7)", SLOT_LABELS)
    holder = _gauge("ds01_gpu_slot_holder", "1 per held slot, naming its user and container",
                    SLOT_LABELS + ("user", "container"))
    memory_used = _gauge("ds01_gpu_slot_memory_used_bytes", "GPU memory in use on the slot's device (NVML)",
                         SLOT_LABELS)
    memory_total = _gauge("ds01_gpu_slot_memory_total_bytes", "GPU memory of the slot's device (NVML)", SLOT_LABELS)
    utilization = _gauge("ds01_gpu_slot_utilization_ratio", "GPU busy fraction of the slot's device, 0-1 (NVML; "
                         "full GPUs only)", SLOT_LABELS)
    for slot in state.slots:
        labels = [slot.id, str(slot.gpu), slot.profile]
        for name in snapshot.SLOT_STATES:
            states.add_metric(labels + [name], 1.0 if slot.state == name else 0.0)
        weight.add_metric(labels, slot.weight)
        if slot.user:
            holder.add_metric(labels + [slot.user, slot.container or ""], 1.0)
        if slot.memory_used is not None:
            memory_used.add_metric(labels, float(slot.memory_used))
        if slot.memory_total is not None:
            memory_total.add_metric(labels, float(slot.memory_total))
        if slot.utilization is not None:
            utilization.add_metric(labels, slot.utilization)
    yield from (states, weight, holder, memory_used, memory_total, utilization)
    processes = _gauge("ds01_gpu_outside_processes", "GPU processes that belong to no DS01 container, per slot "
                       "and process owner", ("slot", "gpu_uuid", "user"))
    memory = _gauge("ds01_gpu_outside_memory_bytes", "GPU memory used by processes outside DS01, per slot and "
                    "process owner", ("slot", "gpu_uuid", "user"))
    grouped: dict[tuple[str, str, str], list[int]] = {}
    for process in state.outside:
        entry = grouped.setdefault((process.slot or "", process.gpu_uuid, process.user), [0, 0])
        entry[0] += 1
        entry[1] += process.used_memory
    for key, (count, used) in sorted(grouped.items()):
        processes.add_metric(list(key), float(count))
        memory.add_metric(list(key), float(used))
    yield from (processes, memory)


def user_metrics(state: snapshot.Snapshot) -> Iterator[Metric]:
    slots = _gauge("ds01_user_gpu_slots", "GPU slots each user holds (assigned or being created)", ("user",))
    weight = _gauge("ds01_user_gpu_equivalents", "GPU-equivalents each user holds", ("user",))
    max_slots = _gauge("ds01_user_max_gpu_slots", "Each user's max_mig_instances (absent: unlimited)", ("user",))
    max_weight = _gauge("ds01_user_max_gpu_equivalents", "Each user's max_gpu_equivalents (absent: unlimited)",
                        ("user",))
    max_containers = _gauge("ds01_user_max_containers", "Each user's max_containers_per_user (absent: unlimited)",
                            ("user",))
    for user in state.users:
        slots.add_metric([user.user], float(user.slots))
        weight.add_metric([user.user], user.weight)
        for family, limit in ((max_slots, user.max_slots), (max_weight, user.max_weight),
                              (max_containers, user.max_containers)):
            if limit is not None:
                family.add_metric([user.user], float(limit))
    yield from (slots, weight, max_slots, max_weight, max_containers)


def container_metrics(state: snapshot.Snapshot) -> Iterator[Metric]:
    counts = _gauge("ds01_containers", "DS01 containers by user and Docker state", ("user", "state"))
    grouped: dict[tuple[str, str], int] = {}
    for container in state.containers:
        grouped[(container.user, container.state)] = grouped.get((container.user, container.state), 0) + 1
    for key, count in sorted(grouped.items()):
        counts.add_metric(list(key), float(count))
    idle = _gauge("ds01_container_idle_seconds", "Seconds each running container has been idle, as of the last "
                  "cleanup-idle-containers pass", ("user", "container"))
    measured = _gauge("ds01_container_idle_measured_timestamp_seconds", "When that idle time was measured "
                      "(epoch seconds)", ("user", "container"))
    timeout = _gauge("ds01_container_idle_timeout_seconds", "The owner's idle_timeout (absent: never)",
                     ("user", "container"))
    gpus = _gauge("ds01_container_gpu_slots", "GPU slots each DS01 container is labelled with", ("user", "container"))
    for container in state.containers:
        labels = [container.user, container.name]
        gpus.add_metric(labels, float(container.gpu_slots))
        if container.idle_seconds is not None:
            idle.add_metric(labels, container.idle_seconds)
            if container.idle_measured_at is not None:
                measured.add_metric(labels, float(container.idle_measured_at))
            if container.idle_timeout is not None:
                timeout.add_metric(labels, float(container.idle_timeout))
    yield from (counts, idle, measured, timeout, gpus)


def queue_metrics(state: snapshot.Snapshot) -> Iterator[Metric]:
    length = _gauge("ds01_gpu_queue_length", "Requests waiting for a GPU slot")
    length.add_metric([], float(state.queue_length))
    oldest = _gauge("ds01_gpu_queue_oldest_wait_seconds", "How long the longest waiter has waited (0: nobody)")
    oldest.add_metric([], state.queue_oldest_wait or 0.0)
    per_user = _gauge("ds01_gpu_queue_waiting", "Requests waiting for a GPU slot, per user", ("user",))
    for user, count in sorted(state.queue_by_user.items()):
        per_user.add_metric([user], float(count))
    yield from (length, oldest, per_user)


def tally_metrics(tally: eventlog.Tally) -> Iterator[Metric]:
    actions = _counter("ds01_lifecycle_actions", "Lifecycle actions from the event log: warned, retired, exempted, "
                       "by reason (idle, max_runtime, gpu_hold, never_started)", ("action", "reason"))
    for (action, reason), count in sorted(tally.lifecycle.items()):
        actions.add_metric([action, reason], float(count))
    corrections = _counter("ds01_ledger_corrections", "Corrections reconciling made to the GPU ledger (dropped, "
                           "adopted, unreserved), from the event log", ("kind",))
    for kind, count in sorted(tally.corrections.items()):
        corrections.add_metric([kind], float(count))
    every = _counter("ds01_events", "Events in the event log by name", ("event",))
    for name, count in sorted(tally.events.items()):
        every.add_metric([name], float(count))
    yield from (actions, corrections, every)


class Collector:
    """A prometheus_client collector: one snapshot and the event counters per collect()."""

    def __init__(self, source: SnapshotSource, tally: Callable[[], eventlog.Tally],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._source, self._tally, self._clock = source, tally, clock

    def collect(self) -> Iterator[Metric]:
        started = self._clock()
        state = self._source()
        tally = self._tally()
        yield from slot_metrics(state)
        yield from user_metrics(state)
        yield from container_metrics(state)
        yield from queue_metrics(state)
        yield from tally_metrics(tally)
        engine = _gauge("ds01_engine_up", "1 when the Docker engine answered this scrape's listing")
        engine.add_metric([], 1.0 if state.engine_up else 0.0)
        pending = _gauge("ds01_ledger_pending_corrections", "Differences between the ledger file and Docker's "
                         "labels that the next DS01 transaction will correct")
        pending.add_metric([], float(state.pending_corrections))
        duration = _gauge("ds01_exporter_scrape_duration_seconds", "Time this scrape took to gather DS01's state")
        duration.add_metric([], max(0.0, self._clock() - started))
        yield from (engine, pending, duration)


def registry(collector: Collector) -> Any:
    from prometheus_client import CollectorRegistry
    result = CollectorRegistry(auto_describe=False)
    result.register(collector)
    return result


def exposition(collector: Collector) -> str:
    """The text format, as /metrics serves it."""
    from prometheus_client import generate_latest
    text: bytes = generate_latest(registry(collector))
    return text.decode()


def write_textfile(collector: Collector, path: Path) -> None:
    """One snapshot written atomically (temp file in the same dir, then rename) for node_exporter."""
    from prometheus_client import write_to_textfile
    write_to_textfile(str(path), registry(collector))


def parse_listen(text: str) -> tuple[str, int]:
    """('127.0.0.1', 9401) from '127.0.0.1:9401', ':9401' (every address) or '[::1]:9401'."""
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen: expected ADDRESS:PORT such as 127.0.0.1:9401, got {text!r}")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - ':PORT' asks for every address
    return host, int(port)


def http_server(collector: Collector, host: str, port: int) -> Any:
    """A WSGI server answering every path with the metrics (port 0: any free port)."""
    import socket
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import make_wsgi_app

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # no line per scrape on stderr

    class Server(WSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    return make_server(host, port, make_wsgi_app(registry(collector)), server_class=Server,
                       handler_class=QuietHandler)


def serve(collector: Collector, host: str, port: int, ready: Callable[[str, int], None] | None = None) -> None:
    """Serve /metrics until interrupted (one scrape at a time: the counters are not shared)."""
    with http_server(collector, host, port) as server:
        if ready is not None:
            ready(host, server.server_port)
        server.serve_forever()
