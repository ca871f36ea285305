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
    return cli.parser(__doc__, cli.Argument("user", metavar="USER", help="login name of the user to admit"))


def main(argv: list[str]) -> int:
    return admit(build_parser().parse_args(argv).user, "add-user", docker_group_only=False)


def admit(login: str, command: str, docker_group_only: bool) -> int:
    """Add `login` to the group that admits them and say so: the docker group for
    add-user-to-docker and in docker-group mode, the config's users_group in locked mode."""
    from .. import adminviews

    context = cli.Context()
    context.require_admin(command)
    locked = not docker_group_only and context.config.setting("access") == "ds01-only"
    group = str(context.config.setting("users_group")) if locked else adminviews.DOCKER_GROUP
    if docker_group_only:
        group_words = "the docker group"
        afterwards = "; they must log out and in again (or run `newgrp docker`) before DS01 commands work for them"
    else:
        group_words = group
        mode = "locked mode: DS01 commands only" if locked else "docker-group mode: root-equivalent on this host"
        afterwards = f" ({mode}); they must log out and in again before it applies"
    result = adminviews.add_user_to_docker(login, actor=context.caller.name, log_dir=context.log_dir,
                                           group_name=group)
    if not result["added"]:
        print(f"{result['user']} is already in {group_words}")
        return 0
    print(f"added {result['user']} to {group_words}{afterwards}")
    return 0
