"""Give USER access to Docker, and so to DS01 (admins only): adds them to the docker group.

Runs `usermod -aG docker USER`. The user must log out and in again (or run `newgrp
docker`) before the new group applies. Membership of the docker group is equivalent to
root on this host: grant it only to people who may use the GPU server.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    parser.add_argument("user", metavar="USER", help="login name of the user to add")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import adminviews

    context = cli.Context()
    context.require_admin("add-user-to-docker")
    result = adminviews.add_user_to_docker(args.user, actor=context.caller.name, log_dir=context.log_dir)
    if not result["added"]:
        print(f"{result['user']} is already in the docker group")
        return 0
    print(f"added {result['user']} to the docker group; they must log out and in again "
          "(or run `newgrp docker`) before DS01 commands work for them")
    return 0
