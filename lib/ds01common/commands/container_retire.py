"""Retire one of your containers: stop it, remove it and free its GPU; the workspace is kept.

--save-changes first commits the container to ds01-<you>/NAME:<timestamp> (printed), so
packages installed inside it are not lost.
"""

from __future__ import annotations

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli

    parser = cli.parser(__doc__)
    container_cli.add_name(parser)
    parser.add_argument("--save-changes", action="store_true", help="commit it to an image first")
    cli.add_yes_option(parser)
    cli.add_user_option(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import container_cli, containers, prompts

    context = cli.Context(user_option=args.user)
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.retire(context, args)
    containers.find(context.docker, context.user, args.name)
    if not args.yes and not prompts.confirm(
            f"Stop and remove {args.name}, freeing its GPU? (workspace is kept)", flag="--yes"):
        print("nothing retired")
        return 1
    result = containers.retire(context.docker, context.config, context.user, args.name,
                               state_dir=context.state_dir, log_dir=context.log_dir,
                               save_changes=args.save_changes, actor=context.caller.name)
    print("\n".join(container_cli.retired_lines(result)))
    return 0
