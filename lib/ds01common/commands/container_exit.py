"""How to leave a container shell, and what then happens to the container."""

from .. import cli


def build_parser():
    return cli.parser(__doc__)


def main(argv):
    build_parser().parse_args(argv)
    from .. import container_cli

    limits = None
    try:
        context = cli.Context()
        limits = context.config.limits_for(context.caller.login)
    except Exception:  # noqa: BLE001 - the advice is useful even without a readable config
        pass
    print("\n".join(container_cli.exit_help(limits)))
    return 0
