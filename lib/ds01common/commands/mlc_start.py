"""AIME-style: start a container (mlc-start NAME); mlc-open enters it."""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("name", metavar="NAME", help="container name")
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import containers

    context = cli.Context(user_option=args.user)
    containers.start(context.docker, context.user, args.name, log_dir=context.log_dir, config=context.config,
                     state_dir=context.state_dir)
    print(f"{args.name}: started")
    return 0
