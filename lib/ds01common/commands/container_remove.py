"""Remove one of your stopped containers and free its GPU; the workspace is kept.

A running container is removed only with --force (or use container-retire).
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__, container_cli.add_name,
                      cli.Argument("-f", "--force", action="store_true", help="remove it even if it is running"),
                      cli.add_yes_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import backend, containers

    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.retire(context, args, verb="Removed")
    container = containers.find(context.docker, context.user, args.name)
    if not cli.confirmed(args.yes, f"Remove container {args.name}? (workspace is kept)", "nothing removed"):
        return 1
    result = containers.remove(context.docker, context.user, args.name, force=args.force,
                               container=container, state_dir=context.state_dir, log_dir=context.log_dir)
    freed = f", GPU {', '.join(result['gpus'])} freed" if result["gpus"] else ""
    print(f"Removed {args.name}{freed}; workspace {result['workspace']} kept")
    return 0
