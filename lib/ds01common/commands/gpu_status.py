"""GPUs and MIG slots at a glance: who holds what, and each user's usage against their quota.

Also lists GPU processes that run in no DS01 container (bare-metal jobs, other containers) with
their user: a slot they use may be busy (config gpus.avoid_busy: true keeps it from being handed
out). --json: {gpus, slots, users, queue, reason, outside_processes}; a slot or queue row names its
container by the short name you type (`container`) and by Docker's name (`docker_name`).
"""

from __future__ import annotations

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse
    from typing import Any


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.add_json_option)


def _holder(row: dict[str, Any]) -> str:
    if not row["user"]:
        return "free"
    pending = " (being created)" if row["state"] == "reserved" else ""
    status = f", {row['container_status']}" if row.get("container_status") else ""
    from ..names import short_name
    return f"{row['user']}: {short_name(row['container'])}{status}{pending}"


def _of(value: float, limit: float | None, digits: int = 0) -> str:
    shown = f"{value:.{digits}f}"
    return f"{shown}/{'-' if limit is None else (f'{limit:.{digits}f}' if digits else limit)}"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    context = cli.Context()
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: read squeue/scontrol/sinfo
        from ..backend import cli_slurm
        return cli_slurm.gpu_status(context, args.json)
    # allocator_admin, not allocator: status needs the ledger and queue, not the placement policy.
    from .. import allocator_admin
    from ..units import format_size

    document = allocator_admin.status(context.docker, context.config, state_dir=context.state_dir,
                                      log_dir=context.log_dir)
    usage = allocator_admin.usage(document, context.config)
    if args.json:
        cli.print_json({"gpus": document["gpus"], "slots": document["slots"], "users": usage,
                        "queue": document["queue"], "reason": document["reason"],
                        "outside_processes": document.get("outside_processes", [])})
        return 0
    simulated = " (simulated)" if document["simulated"] else ""
    if not document["gpus"]:
        print(f"No GPUs{simulated}: {document['reason'] or 'none found'}. Containers run CPU-only.")
    for gpu in document["gpus"]:
        slots = [row for row in document["slots"] if row["gpu"] == gpu["index"]]
        mode = "MIG" if gpu["mig_enabled"] else "full GPU"
        print(f"GPU {gpu['index']}  {gpu['model']}  {format_size(gpu['memory'])}  {mode}{simulated}")
        if gpu["mig_enabled"] and not slots:
            print("    (MIG mode with no instances: offers nothing)")
        for row in slots:
            label = row["profile"] or "whole GPU"
            print(f"    {row['id']:<6} {label:<10} {_holder(row)}")
    for problem in document["problems"]:
        print(f"warning: {problem}")
    used, total, used_weight, weight = allocator_admin.totals(document)
    if total:
        print(f"\n{used} of {total} slots in use ({used_weight:.2f} of {weight:.2f} GPU-equivalents)")
    if usage:
        print()
        cli.print_table([(row["user"], _of(row["slots"], row["max_slots"]),
                          _of(row["weight"], row["max_weight"], 2), _of(row["containers"], row["max_containers"]))
                         for row in usage], ("USER", "SLOTS", "GPUEQ", "CONTAINERS"))
    if document.get("outside_processes"):
        from .. import gpu_outside
        print("\nGPU processes outside DS01 (not in any DS01 container)")
        cli.print_table(gpu_outside.rows(document["outside_processes"]),
                        ("SLOT", "PID", "USER", "MEMORY", "WHERE", "COMMAND"))
    if document["queue"]:
        print(f"\n{len(document['queue'])} waiting for a GPU (gpu-queue lists them)")
    return 0
