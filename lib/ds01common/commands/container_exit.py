"""How to leave a container shell, and what then happens to the container.

--guided asks which container you are leaving and whether to keep it running, stop it
(container-stop) or retire it (container-retire), and does that.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("--guided", action="store_true",
                                   help="ask what should happen to a container, and do it"))


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import container_cli

    if args.guided:
        return _guided()
    limits = None
    try:
        context = cli.Context()
        limits = context.config.limits_for(context.caller.login)
    except Exception:  # noqa: BLE001 - the advice is useful even without a readable config
        pass
    print("\n".join(container_cli.exit_help(limits)))
    return 0


def _guided() -> int:
    """The same commands the flags would run: container-stop NAME or container-retire NAME --yes."""
    from .. import container_listing, guided_modules

    guided_modules.start("container-exit")
    context = cli.Context()
    running = [item["name"] for item in container_listing.list_containers(context.docker, context.user)]
    name, action = guided_modules.ask_exit(running)
    if name is None:
        print("you have no containers")
        return 0
    if action == "stop":
        from .container_stop import main as stop
        return stop([name])
    if action == "retire":
        from .container_retire import main as retire
        return retire([name, "--yes"])
    print(f"{name} keeps running; enter it again with `container-run {name}`")
    return 0
