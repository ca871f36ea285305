"""Write a project's README.md: where its files live and the daily workflow.

The daily workflow: `project-launch NAME` to start, `container-retire NAME` when done.
An existing README.md is kept unless --force.
"""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("project", metavar="PROJECT", help="project name")
    parser.add_argument("--force", action="store_true", help="replace an existing README.md")
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import onboarding

    context = cli.Context(user_option=args.user)
    path, written = onboarding.create_readme(context.config, context.user, args.project, force=args.force)
    print(f"{'wrote' if written else 'kept existing'} {path}")
    return 0
