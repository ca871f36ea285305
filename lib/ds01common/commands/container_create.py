"""Create a container for a project (created, not started); see container-deploy to also start it.

The image is --image, else your project image ds01-<you>/NAME:latest (build one with
image-create NAME). One GPU slot by default (--gpus N, --full-gpu, --cpu-only); your limits
(memory, CPUs, shm, processes) apply. ~/workspace/NAME is mounted at /workspace.
"""

from __future__ import annotations

import argparse

from .. import cli, log


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__,
                      cli.Argument("name", nargs="?", metavar="NAME",
                                   help="container / project name (asked with --guided)"),
                      container_cli.add_create_options, cli.GUIDED_CHOICES, cli.add_user_option, cli.add_json_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import container_cli, containers

    if args.guided:
        from .. import guided_modules
        guided_modules.ask_container("container-create", args,
                                     guided_modules.existing_projects(context.config, context.user),
                                     max_gpus=context.config.limits_for(context.user.login).max_gpus_per_container)
    elif not args.name:
        from ..errors import UsageError
        raise UsageError("NAME is required (or use --guided to be asked)")
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.create(context, args)
    result = containers.create(context.docker, context.config, context.user, args.name,
                               state_dir=context.state_dir, log_dir=context.log_dir, clock=context.clock,
                               **container_cli.create_kwargs(args))
    if result.get("notice"):
        log.warning(result["notice"])
    if args.json:
        cli.print_json(result)
        return 0
    print("\n".join(container_cli.created_lines(result)))
    print(f"Start it with `container-start {args.name}`, or enter it with `container-run {args.name}`.")
    return 0
