"""Create a container for a project (created, not started); see container-deploy to also start it.

The image is --image, else your project image ds01-<you>/NAME:latest (build one with
image-create NAME). One GPU slot by default (--gpus N, --full-gpu, --cpu-only); your limits
(memory, CPUs, shm, processes) apply. ~/workspace/NAME is mounted at /workspace.
"""

from .. import cli


def build_parser():
    from .. import container_cli

    parser = cli.parser(__doc__)
    container_cli.add_name(parser, "container / project name")
    container_cli.add_create_options(parser)
    cli.add_user_option(parser)
    cli.add_json_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import container_cli, containers

    context = cli.Context(user_option=args.user)
    result = containers.create(context.docker, context.config, context.user, args.name,
                               state_dir=context.state_dir, log_dir=context.log_dir,
                               **container_cli.create_kwargs(args))
    if result.get("notice"):
        cli.log.warning(result["notice"])
    if args.json:
        cli.print_json(result)
        return 0
    print("\n".join(container_cli.created_lines(result)))
    print(f"Start it with `container-start {args.name}`, or enter it with `container-run {args.name}`.")
    return 0
