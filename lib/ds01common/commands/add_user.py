"""Admit USER to DS01 under the current access mode (admins only).

docker-group mode (the default): adds USER to the docker group, as `add-user-to-docker` does
(root-equivalent on this host). Locked mode (`access: ds01-only`): adds USER to the config's
`users_group`, whose members run the DS01 commands through sudo and nothing else of Docker.
The user must log out and in again before the new group applies.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    parser.add_argument("user", metavar="USER", help="login name of the user to admit")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import adminviews

    context = cli.Context()
    context.require_admin("add-user")
    locked = context.config.setting("access") == "ds01-only"
    group = str(context.config.setting("users_group")) if locked else adminviews.DOCKER_GROUP
    result = adminviews.add_user_to_docker(args.user, actor=context.caller.name, log_dir=context.log_dir,
                                           group_name=group)
    if not result["added"]:
        print(f"{result['user']} is already in {group}")
        return 0
    mode = "locked mode: DS01 commands only" if locked else "docker-group mode: root-equivalent on this host"
    print(f"added {result['user']} to {group} ({mode}); they must log out and in again before it applies")
    return 0
