"""Show DS01's event log: allocations, releases, warnings, retirements, with their numbers.

Reads events.jsonl in $DS01_LOG_DIR. Filters combine: --user NAME (the sanitised user
name), --since 2h / 7d / 2026-11-01T09:00, --event NAME (a name or its prefix, e.g.
`lifecycle.` or `container.`). Oldest first; --json prints the matching entries.
"""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("--user", metavar="NAME", help="only this user's events")
    parser.add_argument("--since", metavar="WHEN", help="a duration ago (30m, 2h, 7d) or an ISO date/time")
    parser.add_argument("--event", metavar="NAME", help="only events with this name (or prefix)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the last N matching events")
    cli.add_json_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import adminviews

    context = cli.Context()
    since = adminviews.parse_since(args.since) if args.since else None
    entries = adminviews.read_events(context.log_dir, user=args.user, since=since, event=args.event)
    if args.limit is not None:
        entries = entries[-args.limit:] if args.limit > 0 else []
    if args.json:
        cli.print_json(entries)
        return 0
    cli.print_table(adminviews.event_rows(entries), ("TIME", "USER", "EVENT", "DETAILS"), empty="no matching events")
    return 0
