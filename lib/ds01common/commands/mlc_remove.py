"""AIME-style: remove a container (stopping it first) and free its GPU; the workspace is kept."""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("name", metavar="NAME", help="container name")
    cli.add_yes_option(parser)
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import container_cli, containers, prompts

    context = cli.Context(user_option=args.user)
    containers.find(context.docker, context.user, args.name)
    if not args.yes and not prompts.confirm(f"Remove {args.name}? (workspace is kept)", flag="--yes"):
        print("nothing removed")
        return 1
    result = containers.retire(context.docker, context.config, context.user, args.name,
                               state_dir=context.state_dir, log_dir=context.log_dir, actor=context.caller.name)
    print("\n".join(container_cli.retired_lines(result)))
    return 0
