"""List your containers: status, image, GPU slots, creation time (--all: everyone's, admins only)."""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.ALL_USERS, cli.add_json_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import backend, container_cli, container_listing

    if backend.config_mentions_cluster() and backend.is_cluster(context.config):  # Slurm: jobs, not containers
        from ..backend import cli_slurm
        return cli_slurm.list_containers(context, args)
    if args.all:
        context.require_admin("--all")
    # The caller's own list needs neither the config nor the docker SDK (speed: one socket call;
    # the context's client is lazy and lists over the socket).
    user = None if args.all else context.user if args.user else context.caller
    items = container_listing.list_containers(context.docker, user)
    cli.print_listing(args.json, items, lambda: container_cli.list_rows(items, show_user=args.all),
                      empty="no containers (create one with `container-deploy NAME`)")
    return 0
