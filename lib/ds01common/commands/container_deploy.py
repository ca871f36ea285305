"""Create and start a container for a project, then open a shell in it (or leave it running).

  --open        open a shell in it (needs a terminal)
  --background  leave it running; enter later with container-run NAME
Without either: a shell when you are at a terminal, else in the background.
Options as for container-create: --image, --project P, --gpus N | --cpu-only, --full-gpu, --wait.

  container-deploy --image ds01-<you>/thesis:experiment-42   NAME left out: the container and its
                       workspace are the image's project (thesis), so the tag runs on thesis's files
  container-deploy scratch                                   no image for scratch: runs images.default
"""

from __future__ import annotations

import argparse
import sys

from .. import cli, log


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli

    return cli.parser(__doc__,
                      cli.Argument("name", metavar="NAME", nargs="?",
                                   help="container / project name (default: the project of --image "
                                   "ds01-<you>/PROJECT:TAG)"),
                      cli.exclusive(cli.Argument("--open", action="store_true", help="open a shell in it"),
                                    cli.Argument("--background", action="store_true",
                                                 help="leave it running in the background")),
                      container_cli.add_create_options, cli.GUIDED_CHOICES, cli.add_user_option)


def _terminal_attached() -> bool:
    from .. import container_exec  # it brings subprocess along, which a --background deploy never needs

    return container_exec.terminal_attached()


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import container_cli, containers

    if args.guided:
        from .. import guided_modules
        guided_modules.ask_container("container-deploy", args,
                                     guided_modules.existing_projects(context.config, context.user),
                                     max_gpus=context.config.limits_for(context.user.login).max_gpus_per_container,
                                     deploy=True)
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.create(context, args, deploy=True)
    open_shell = args.open or (not args.background and _terminal_attached())
    if args.open and not _terminal_attached():
        build_parser().error("--open needs a terminal; use --background")
    result = containers.deploy(context.docker, context.config, context.user, args.name,
                               state_dir=context.state_dir, log_dir=context.log_dir, clock=context.clock,
                               **container_cli.create_kwargs(args))
    args.name = result["name"]
    if result.get("notice"):
        log.warning(result["notice"])
    print("\n".join(container_cli.created_lines(result)))
    if not open_shell:
        print(f"{args.name} is running in the background; enter it with `container-run {args.name}`")
        return 0
    print(f"Opening a shell in {args.name}; `exit` leaves it running (see container-exit)")
    sys.stdout.flush()
    from .. import container_exec

    return container_exec.shell(context.docker, context.user, args.name, state_dir=context.state_dir,
                                log_dir=context.log_dir, config=context.config)
