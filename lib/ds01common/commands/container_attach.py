"""Open a shell in one of your running containers (container-run also starts a stopped one)."""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__, container_cli.add_name, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import backend, container_exec

    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.attach(context, args.name)
    return container_exec.shell(context.docker, context.user, args.name, start=False, log_dir=context.log_dir,
                                state_dir=context.state_dir)
