"""Resource use of your containers (or one): CPU %, memory used / limit, processes, GPU slots and use.

GPU MEM is the GPU memory your container's processes hold; GPU UTIL is the busy percentage of
its full GPU (NVML gives none per MIG instance). --json adds each container's GPU processes.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("name", nargs="?", metavar="NAME", help="only this container"),
                      cli.ALL_USERS, cli.add_json_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import backend, container_cli, container_stats

    if backend.is_cluster(context.config):  # Slurm cluster: read squeue/scontrol/sinfo
        from ..backend import cli_slurm
        return cli_slurm.stats(context, args.name)
    if args.all:
        context.require_admin("--all")
    user = None if args.all and not args.name else context.user
    stats = container_stats.collect(context.docker, user, args.name)
    cli.print_listing(args.json, stats, lambda: container_cli.stats_rows(stats, show_user=user is None),
                      empty="no containers")
    if not args.json and any((item.get("gpu") or {}).get("note") for item in stats if item["status"] == "running"):
        from ..gpu_use import MIG_UTILISATION_NOTE

        print(f"* {MIG_UTILISATION_NOTE}: GPU MEM is what its processes hold on the instance")
    return 0
