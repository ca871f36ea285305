"""The server at a glance for admins: GPUs, slots and holders, the queue, containers, quotas.

Shows everything gpu-status shows (each GPU, every slot, whole GPU or MIG instance, with its
user and container, the totals and inventory warnings, each user's usage against their
quota) plus the GPU queue in full, every DS01 container with its GPUs, CPU % and idle time
against idle_timeout (as of the last cleanup-idle-containers pass), and each user's
container count and group, and GPU processes that run in no DS01 container (host jobs,
other containers) with their user. --json: one document with gpu-status's keys (gpus, slots,
users, queue, reason, outside_processes) and unknown_slots, problems, simulated, containers;
containers are named by their short name (`container`, `name`) with Docker's beside it (`docker_name`).
"""

from __future__ import annotations

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.add_json_option)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    context = cli.Context()
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: read squeue/scontrol/sinfo
        from ..backend import cli_slurm
        return cli_slurm.ds01_status(context, args.json)
    from .. import adminviews

    document = adminviews.status(context.docker, context.config, state_dir=context.state_dir,
                                 log_dir=context.log_dir)
    if args.json:
        cli.print_json(document)
        return 0
    print("GPUs")
    for line in adminviews.gpu_lines(document):
        print(f"  {line}")
    if document["slots"] or document["unknown_slots"]:
        print()
        cli.print_table(adminviews.slot_rows(document), ("SLOT", "PROFILE", "WEIGHT", "STATE", "USER", "CONTAINER"))
    print("\nGPU queue")
    cli.print_table(adminviews.queue_rows(document), ("#", "USER", "CONTAINER", "PRIORITY", "GPUS", "SINCE"),
                    empty="  nobody waiting")
    print("\nContainers (CPU and idle time as of the last cleanup pass)")
    cli.print_table(adminviews.container_rows(document), ("USER", "NAME", "STATUS", "GPUS", "CPU%", "IDLE / LIMIT"),
                    empty="  no DS01 containers")
    if document["outside_processes"]:
        from .. import gpu_outside
        print("\nGPU processes outside DS01 (not in any DS01 container)")
        cli.print_table(gpu_outside.rows(document["outside_processes"]),
                        ("SLOT", "PID", "USER", "MEMORY", "WHERE", "COMMAND"))
    print("\nUsers (used/quota)")
    cli.print_table(adminviews.user_rows(document), ("USER", "GROUP", "CONTAINERS", "SLOTS", "GPUEQ"),
                    empty="  nobody holds anything")
    return 0
