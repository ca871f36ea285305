"""Start one of your containers (its main process just keeps it alive; enter with container-run)."""

from .. import cli


def build_parser():
    from .. import container_cli

    parser = cli.parser(__doc__)
    container_cli.add_name(parser)
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import containers

    context = cli.Context(user_option=args.user)
    containers.start(context.docker, context.user, args.name, log_dir=context.log_dir)
    print(f"{args.name} is running; enter it with `container-run {args.name}`")
    return 0
