"""Remove all your stopped containers and free their GPU slots; workspaces are kept."""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("-n", "--dry-run", action="store_true", help="only show what would be removed"),
                      cli.add_yes_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import container_listing, containers

    candidates = container_listing.stopped(context.docker, context.user)
    if not candidates:
        print("no stopped containers")
        return 0
    listing = ", ".join(item["name"] + (f" (GPU {','.join(item['gpus'])})" if item["gpus"] else "")
                        for item in candidates)
    if args.dry_run:
        print(f"would remove: {listing}")
        return 0
    if not cli.confirmed(args.yes, f"Remove {listing}? (workspaces are kept)", "nothing removed"):
        return 1
    removed = containers.cleanup(context.docker, context.user, state_dir=context.state_dir,
                                 log_dir=context.log_dir)
    print(f"removed {len(removed)}: {', '.join(item['name'] for item in removed) or '-'}; workspaces kept")
    return 0
