"""AIME-style: open a shell in a container (mlc-open NAME), starting it if needed."""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("name", metavar="NAME", help="container name")
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import container_exec

    context = cli.Context(user_option=args.user)
    return container_exec.shell(context.docker, context.user, args.name, log_dir=context.log_dir,
                                config=context.config, state_dir=context.state_dir)
