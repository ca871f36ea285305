"""Show the resource limits that apply to you (or, for admins, to USER).

Limits come from resource-limits.yaml: defaults, then your group, then any override
for you. Running it also refreshes ~/.ds01-limits, a plain-text copy of your limits.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("who", nargs="?", metavar="USER", help="whose limits (others' for admins only)"),
                      cli.add_user_option, cli.add_json_option)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import limits as limits_view

    context = cli.Context(user_option=args.who or args.user)
    user = context.user
    limits = context.config.limits_for(user.login)
    if user == context.caller:
        limits_view.write_limits_file(user, limits)
    if args.json:
        cli.print_json(limits_view.as_json(limits))
        return 0
    print(f"Limits for {user.login} (group: {limits.group})")
    if limits.reason:
        print(f"Override reason: {limits.reason}")
    cli.print_table(limits_view.as_rows(limits), ("LIMIT", "VALUE", "MEANING"))
    return 0
