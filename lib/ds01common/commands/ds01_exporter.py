"""Prometheus metrics of DS01: GPU slots, users' holdings and quotas, containers, queue, lifecycle.

--listen ADDR:PORT serves /metrics (e.g. 127.0.0.1:9401; the systemd unit ds01-exporter runs
this); --textfile PATH writes one snapshot atomically for node_exporter's textfile collector
(the commented line in /etc/cron.d/ds01). Every metric is named ds01_*: slots by state with
gpu/slot/profile labels, ds01_user_gpu_slots{user} and GPU-equivalents per user, quota limits,
containers by user and state, the GPU queue, idle seconds per running container, lifecycle
actions and ledger corrections counted from the event log (rotated files included), GPU
memory and utilisation per slot and GPU processes outside DS01 where NVML gives them.
A scrape costs one engine listing and one ledger read; it never locks or writes DS01 state.
docs/monitoring.md lists every metric, the alert rules and the Grafana dashboard.
"""

from __future__ import annotations

import argparse
import time

from .. import cli, log

TYPE_CHECKING = False  # typing's own flag would import typing, which this command's --help would pay for
if TYPE_CHECKING:
    from typing import Any

INVENTORY_SECONDS = 300.0


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.exclusive(
        cli.Argument("--listen", metavar="ADDR:PORT", help="serve /metrics here (e.g. 127.0.0.1:9401)"),
        cli.Argument("--textfile", metavar="PATH", help="write one snapshot to PATH (atomically) and exit"),
        required=True))


def make_collector(context: cli.Context) -> Any:
    """The exporter's collector over this host's DS01 (config re-read at each scrape)."""
    from .. import config as config_module
    from .. import dockerapi, inventory
    from ..errors import ConfigError
    from ..monitoring import eventlog, exporter, snapshot

    last_config: list[Any] = [context.config]
    tally = eventlog.LiveTally(context.log_dir)

    def current_config() -> Any:
        try:
            last_config[0] = config_module.load()
        except ConfigError as error:
            log.warning("config unreadable, using the last good one: %s", str(error).splitlines()[0])
        return last_config[0]

    found: dict[str, Any] = {}

    def host_inventory(config: Any) -> Any:
        """Discovered again every INVENTORY_SECONDS or when gpus.simulate changes: NVML's
        init is the slow part of discovery, and GPUs or MIG layouts rarely change."""
        key = repr(config.simulated_gpus)
        if found.get("key") != key or time.monotonic() - found.get("at", 0.0) > INVENTORY_SECONDS:
            found.update(key=key, at=time.monotonic(), inventory=inventory.discover(config))
        return found["inventory"]

    def source() -> snapshot.Snapshot:
        config = current_config()
        return snapshot.collect(lambda: dockerapi.list_containers(snapshot.MANAGED_FILTER), config,
                                host_inventory(config), context.state_dir, time.time())

    return exporter.Collector(source, tally.update)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from ..errors import Ds01Error, UsageError
    from ..monitoring import exporter

    context = cli.Context()
    collector = make_collector(context)
    if args.textfile:
        try:
            exporter.write_textfile(collector, args.textfile)
        except OSError as error:
            raise Ds01Error(f"cannot write {args.textfile}: {error.strerror or error}") from None
        return 0
    try:
        host, port = exporter.parse_listen(args.listen)
    except ValueError as error:
        raise UsageError(str(error)) from None

    def ready(bound_host: str, bound_port: int) -> None:
        log.info("serving DS01 metrics on http://%s:%d/metrics", bound_host, bound_port)

    try:
        exporter.serve(collector, host, port, ready)
    except OSError as error:
        raise Ds01Error(f"cannot listen on {args.listen}: {error.strerror or error}") from None
    return 0

