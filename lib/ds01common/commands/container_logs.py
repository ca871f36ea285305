"""Show the output (stdout and stderr) of one of your containers; -f keeps following it.

In locked mode this is how a user reads their container's logs: `docker logs` is closed to them.
"""

from __future__ import annotations

import argparse
import sys

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("name", metavar="NAME", help="the container"),
                      cli.Argument("-f", "--follow", action="store_true", help="keep printing new output until Ctrl-C"),
                      cli.Argument("--tail", metavar="N", type=int, help="only the last N lines"), cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import backend, containers, dockerapi

    if backend.is_cluster(context.config):  # Slurm cluster: the logs are on the job's node
        from ..backend import cli_slurm
        return cli_slurm.logs(context, args.name, args.follow, args.tail)
    container = containers.find(context.docker, context.user, args.name)
    tail = "all" if args.tail is None else max(args.tail, 0)
    what = f"container {args.name}"
    if args.follow:
        for chunk in dockerapi.follow_logs(context.docker, container.id, tail=tail, what=what):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
    else:
        sys.stdout.buffer.write(dockerapi.container_logs(context.docker, container.id, tail=tail, what=what))
    sys.stdout.flush()
    return 0
