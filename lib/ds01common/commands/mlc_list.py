"""AIME-style: list your containers with the framework each was made from."""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    cli.add_json_option(parser)
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import mlc

    context = cli.Context(user_option=args.user)
    # No docker client: listing goes straight to the local socket (no SDK import; see container-list).
    items = mlc.list_rows(None, context.user)
    if args.json:
        cli.print_json(items)
        return 0
    rows = [[item["name"], item["framework"] or "-", item["status"], item["image"], ",".join(item["gpus"]) or "-"]
            for item in items]
    cli.print_table(rows, ("NAME", "FRAMEWORK", "STATUS", "IMAGE", "GPUS"),
                    empty="no containers (create one with `mlc-create NAME FRAMEWORK VERSION`)")
    return 0
