"""Give USER access to Docker, and so to DS01 (admins only): adds them to the docker group.

Runs `usermod -aG docker USER`. The user must log out and in again (or run `newgrp
docker`) before the new group applies. Membership of the docker group is equivalent to
root on this host: grant it only to people who may use the GPU server.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("user", metavar="USER", help="login name of the user to add"))


def main(argv: list[str]) -> int:
    from .add_user import admit

    return admit(build_parser().parse_args(argv).user, "add-user-to-docker", docker_group_only=True)
