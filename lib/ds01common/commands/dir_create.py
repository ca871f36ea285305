"""Create a project's workspace folders: data/, models/, notebooks/, src/, results/.

The project lives in <workspace_root>/<project> (default ~/workspace/<project>) and is
mounted at /workspace in its containers. Existing folders and files are left alone.
"""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("project", metavar="PROJECT", help="project name")
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import onboarding

    context = cli.Context(user_option=args.user)
    workspace, made = onboarding.create_dirs(context.config, context.user, args.project)
    print(f"workspace {workspace}")
    for directory in onboarding.PROJECT_DIRS:
        state = "made" if workspace / directory in made else "already there"
        print(f"  {directory + '/':<11} {state}")
    return 0
