"""AIME-style: resource use of your containers (or one): CPU %, memory, processes, GPU slots."""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("name", nargs="?", metavar="NAME", help="only this container")
    cli.add_json_option(parser)
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import container_cli, container_stats

    context = cli.Context(user_option=args.user)
    stats = container_stats.collect(context.docker, context.user, args.name)
    if args.json:
        cli.print_json(stats)
        return 0
    rows, headers = container_cli.stats_rows(stats)
    cli.print_table(rows, headers, empty="no containers")
    return 0
