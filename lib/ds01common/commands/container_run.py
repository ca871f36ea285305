"""Enter one of your containers (a shell), or run one command in it; starts it if needed.

  container-run NAME                 a shell in /workspace (bash if the image has it, else sh)
  container-run NAME -- CMD ARG...   run CMD as you in /workspace; exits with CMD's exit code
  container-run --guided             explains, then asks which container and what to run
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("name", nargs="?", metavar="NAME", help="container name (asked with --guided)"),
                      cli.GUIDED_CHOICES,
                      cli.Argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARG...",
                                   help="the command to run (after --)"), cli.add_user_option)


def main(argv: list[str]) -> int:
    # Everything after `--` is the command, even words that look like our options.
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    args = build_parser().parse_args(own)
    if args.command:
        build_parser().error("put the command after --, e.g. container-run NAME -- python train.py")
    from .. import container_exec

    context = cli.Context(user_option=args.user)
    if args.guided:
        from .. import container_listing, guided_modules
        guided_modules.start("container-run")  # before the engine is asked for the list
        names = [item["name"] for item in container_listing.list_containers(context.docker, context.user)]
        command = guided_modules.ask_run(command, args, names)
    elif not args.name:
        build_parser().error("NAME is required (or use --guided to be asked)")
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.run(context, args.name, command)
    if command:
        return container_exec.run(context.docker, context.user, args.name, command, log_dir=context.log_dir,
                                  config=context.config, state_dir=context.state_dir)
    return container_exec.shell(context.docker, context.user, args.name, log_dir=context.log_dir,
                                config=context.config, state_dir=context.state_dir)
