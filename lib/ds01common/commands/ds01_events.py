"""Show DS01's event log: allocations, releases, warnings, retirements, with their numbers.

Reads events.jsonl in $DS01_LOG_DIR and its rotated files (events.jsonl.1, .2.gz, ...).
Filters combine: --user NAME (the sanitised user name), --container NAME (a container's
events, by its name), --since 2h / 7d / 2026-11-01T09:00, --event NAME (a name or its
prefix, e.g. `lifecycle.` or `container.`). Oldest first; --json prints the matching entries.
--follow prints the matching events, then new ones as they are written (within a second),
across log rotations, until Ctrl-C; with --json, one JSON object per line.
--summary counts the matching events by event and by user (with --since: over that time).
"""

from __future__ import annotations

import argparse
import sys
import time

TYPE_CHECKING = False  # typing's own flag would import typing, which this command's --help would pay for
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ..events import Event

from .. import cli

FOLLOW_BACKLOG = 10
EVENT_HEADERS = ("TIME", "USER", "EVENT", "DETAILS")


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("--user", metavar="NAME", help="only this user's events"),
                      cli.Argument("--container", metavar="NAME", help="only this container's events"),
                      cli.Argument("--since", metavar="WHEN", help="a duration ago (30m, 2h, 7d) or an ISO date/time"),
                      cli.Argument("--event", metavar="NAME", help="only events with this name (or prefix)"),
                      cli.Argument("--limit", type=int, metavar="N", help="only the last N matching events"),
                      cli.exclusive(cli.Argument("-f", "--follow", action="store_true",
                                                 help="keep printing new events as they are written"),
                                    cli.Argument("--summary", action="store_true", help="counts by event and by user")),
                      cli.add_json_option)


def _matching(args: argparse.Namespace, entries: list[Event], since: float | None) -> list[Event]:
    from .. import adminviews
    from ..monitoring import eventlog

    chosen = adminviews.filter_events(entries, args.user, since, args.event)
    if args.container:
        chosen = [entry for entry in chosen if eventlog.matches_container(entry, args.container)]
    return chosen


def _print_entries(entries: list[Event], as_json: bool) -> None:
    from .. import adminviews

    if as_json:
        import json
        for entry in entries:
            sys.stdout.write(json.dumps(entry.to_json(), sort_keys=True, default=str) + "\n")
    else:
        for row in adminviews.event_rows(entries):
            print("  ".join(str(cell) for cell in row))
    sys.stdout.flush()


def _summary(entries: list[Event], args: argparse.Namespace) -> int:
    from ..monitoring import eventlog

    summary = eventlog.Summary().add(entries)
    if args.json:
        cli.print_json(dict(summary.as_dict(), since=args.since))
        return 0
    over = f" since {args.since}" if args.since else ""
    print(f"{summary.total} events{over}")
    if summary.total:
        print()
        cli.print_table(sorted(summary.by_event.items()), ("EVENT", "COUNT"))
        print()
        cli.print_table(sorted(summary.by_user.items()), ("USER", "COUNT"))
        print()
        cli.print_table([(user, event, count) for (user, event), count in sorted(summary.by_user_event.items())],
                        ("USER", "EVENT", "COUNT"))
    return 0


def follow(args: argparse.Namespace, log_dir: Path, since: float | None,
           sleep: Callable[[float], None] = time.sleep, keep_going: Callable[[], bool] = lambda: True) -> int:
    """Print the backlog, then new matching events as they come (see the module docstring)."""
    from ..monitoring import eventlog

    # The follower opens the file before the backlog is read: nothing written between is lost
    # (at worst an event written in that instant is printed twice).
    follower = eventlog.Follower(log_dir / eventlog.EVENTS_FILE)
    try:
        backlog = _matching(args, eventlog.read_all(log_dir, since=since), since)
        limit = FOLLOW_BACKLOG if args.limit is None else max(args.limit, 0)
        _print_entries(backlog[-limit:] if limit else [], args.json)
        while keep_going():
            found = _matching(args, follower.poll(), since)
            if found:
                _print_entries(found, args.json)
            else:
                sleep(0.25)
    finally:
        follower.close()
    return 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import adminviews
    from ..monitoring import eventlog

    context = cli.Context()
    if context.config.setting("access") == "ds01-only" and not context.is_admin:
        args.user = context.caller.name  # locked mode: the log is root's; a user sees their own events
    since = adminviews.parse_since(args.since) if args.since else None
    if args.follow:
        return follow(args, context.log_dir, since)
    entries = _matching(args, eventlog.read_all(context.log_dir, since=since), since)
    if args.summary:
        return _summary(entries, args)
    if args.limit is not None:
        entries = entries[-args.limit:] if args.limit > 0 else []
    cli.print_listing(args.json, [entry.to_json() for entry in entries],
                      lambda: (adminviews.event_rows(entries), EVENT_HEADERS), empty="no matching events")
    return 0
