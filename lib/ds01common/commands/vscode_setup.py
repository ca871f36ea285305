"""Show how to connect VS Code (Remote-SSH) from your laptop to this server.

Prints the host entry for your laptop's ~/.ssh/config (this server's name, your user, the
identity file) and the steps. Nothing is changed on the server.
"""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("--hostname", metavar="HOST", help="the name laptops reach this server by "
                        "(default: DS01_SSH_HOST, else this machine's full name)")
    parser.add_argument("--alias", metavar="NAME", help="the short name to use in VS Code")
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import config, identity, onboarding

    user = identity.current_user()
    try:
        workspace = config.load().workspace_root
    except Exception:  # noqa: BLE001 - the instructions are still right with the default
        workspace = "~/workspace"
    print("\n".join(onboarding.vscode_instructions(user, args.hostname, args.alias, workspace)))
    return 0
