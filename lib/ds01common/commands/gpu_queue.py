"""List the queue of containers waiting for a GPU slot, or cancel your own place in it.

  gpu-queue [--json]       waiters in service order: priority first, then arrival
  gpu-queue cancel [ID|NAME]  leave the queue (all your entries, the one with ID, or your container NAME's)
"""

from __future__ import annotations

import argparse

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    cli.add_json_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("list", help="list the queue (the default)")
    cancel = commands.add_parser("cancel", help="cancel your place in the queue")
    cancel.add_argument("token", nargs="?", metavar="ID|NAME",
                        help="one entry's id (see the list), or the name of your container that waits")
    cli.add_user_option(cancel)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import gpuqueue, names

    context = cli.Context(user_option=getattr(args, "user", None))
    if args.command == "cancel":
        removed = gpuqueue.cancel(context.state_dir, context.user, args.token, is_admin=context.is_admin)
        for entry in removed:
            print(f"cancelled {entry.token}: {names.short_name(entry.container)} of {entry.user}")
        return 0
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: Slurm's queue is the queue
        from ..backend import cli_slurm
        return cli_slurm.gpu_queue(context, args.json)
    rows = gpuqueue.listing(context.state_dir)
    cli.print_listing(args.json, rows, lambda: queue_table(rows), empty="Nobody is waiting for a GPU.")
    return 0


def queue_table(rows: list[dict[str, Any]]) -> cli.Table:
    return ([(row["position"], row["id"], row["user"], row["container"],
              f"{row['count']}{' full' if row['full_gpu'] else ''}", row["priority"], row["since"]) for row in rows],
            ("POS", "ID", "USER", "CONTAINER", "GPUS", "PRIORITY", "WAITING SINCE"))
