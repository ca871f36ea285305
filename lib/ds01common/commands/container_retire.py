"""Retire one of your containers: stop it, remove it and free its GPU; the workspace is kept.

--save-changes first commits the container to ds01-<you>/NAME:<timestamp> (printed), so
packages installed inside it are not lost.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__, container_cli.add_name,
                      cli.Argument("--save-changes", action="store_true", help="commit it to an image first"),
                      cli.add_yes_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import backend, container_cli, containers

    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.retire(context, args)
    containers.find(context.docker, context.user, args.name)
    if not cli.confirmed(args.yes, f"Stop and remove {args.name}, freeing its GPU? (workspace is kept)",
                         "nothing retired"):
        return 1
    result = containers.retire(context.docker, context.config, context.user, args.name,
                               state_dir=context.state_dir, log_dir=context.log_dir,
                               save_changes=args.save_changes, actor=context.caller.name)
    print("\n".join(container_cli.retired_lines(result)))
    return 0
