"""Stop one of your containers; it keeps its GPU slot until it is removed (container-retire frees it)."""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__, container_cli.add_name,
                      cli.Argument("-t", "--time", type=int, default=10, metavar="SECONDS",
                                   help="seconds to wait for it to stop before killing it (default 10)"),
                      cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import containers

    if not 0 <= args.time <= 86400:  # beyond a day the client's timeout overflows
        build_parser().error("-t must be 0 to 86400 seconds")
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.stop(context, args.name)
    containers.stop(context.docker, context.user, args.name, timeout=args.time, log_dir=context.log_dir)
    print(f"{args.name} stopped; `container-start {args.name}` starts it again, "
          f"`container-retire {args.name}` removes it and frees its GPU")
    return 0
